use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// `verify`, `reset` or `email_change`.
    pub purpose: String,
    /// Hex SHA-256 of the token mailed to the user.
    pub token_hash: String,
    /// For `email_change`: the address that becomes the user's email once the token is used.
    pub new_email: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub failed_attempts: i32,
    pub created_at: i64,
    /// The address the token was mailed to; it works only while that is the address it confirms.
    pub sent_to: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
