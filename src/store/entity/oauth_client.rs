use sea_orm::entity::prelude::*;

/// A registered relying party. `redirect_uris` and `post_logout_redirect_uris` are
/// newline-separated; `secret_hash` is NULL for a public client.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    /// Space-separated scopes the client may ask for itself (`client_credentials`).
    pub scopes: String,
    pub public: bool,
    pub first_party: bool,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
