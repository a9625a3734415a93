use sea_orm::entity::prelude::*;

/// A user's TOTP secret (encrypted, see `crypto::sealed`); `enabled` is false while enrolment
/// awaits its first code. `last_step` is the RFC 6238 time step of the last accepted code.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub secret_ciphertext: String,
    pub enabled: bool,
    pub last_step: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
