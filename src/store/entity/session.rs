use sea_orm::entity::prelude::*;

/// One login: a refresh-token family (`kind = "refresh"`) or a browser session (`kind = "browser"`,
/// whose cookie secret is stored as `secret_hash`). `password_checked_at` is when the password
/// was last proven for it; a password changed later ends the session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub secret_hash: Option<String>,
    pub created_at: i64,
    pub password_checked_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub client_ip: Option<String>,
    /// `delegate:<name>` when a trusted delegate opened the session for the user (the `act` claim).
    pub actor: Option<String>,
    /// The OAuth client a code exchange opened the session for (`kind = "oauth"`).
    pub client_id: Option<String>,
    /// The scope granted to that client, space-separated.
    pub scope: Option<String>,
    /// When the user signed in for that client (the ID token's `auth_time`).
    pub auth_time: Option<i64>,
    /// How the user signed in when not with a password (`hwk user`: a passkey), space-separated.
    pub amr: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
