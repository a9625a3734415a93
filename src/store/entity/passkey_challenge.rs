use sea_orm::entity::prelude::*;

/// One WebAuthn ceremony in progress: registration, passwordless sign-in or a second factor.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkey_challenges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 (hex) of the challenge id the client holds.
    pub challenge_hash: String,
    /// `register`, `login` or `second-factor`.
    pub purpose: String,
    /// The user a registration or a second factor is for; none for a passwordless sign-in.
    pub user_id: Option<i64>,
    /// webauthn-rs's ceremony state, serialized.
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
