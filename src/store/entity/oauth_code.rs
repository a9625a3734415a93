use sea_orm::entity::prelude::*;

/// An authorization code (its SHA-256), single-use, bound to what the authorization request said.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub code_hash: String,
    pub client_id: String,
    pub user_id: i64,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    /// The PKCE S256 challenge, when the request carried one.
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    /// How the user signed in when not with a password (`hwk user`), for the ID token.
    pub amr: Option<String>,
    /// The session the code's exchange opened.
    pub session_id: Option<i64>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
