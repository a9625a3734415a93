use sea_orm::entity::prelude::*;

/// A sign-in through an external OpenID Provider: started, called back, finished with a login code.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "external_logins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 of the `state` sent to the provider.
    pub state_hash: String,
    pub provider: String,
    /// SHA-256 of the `nonce` the ID token must carry.
    pub nonce_hash: String,
    /// Where the login code goes (an API login), from `login_redirect_uris`.
    pub redirect_uri: Option<String>,
    /// The caller's own `state`, given back beside the code.
    pub client_state: Option<String>,
    /// A hosted-page login: the local path to continue at once the browser session is set.
    pub return_to: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub callback_at: Option<i64>,
    pub user_id: Option<i64>,
    /// SHA-256 of the one-time login code.
    pub code_hash: Option<String>,
    pub code_used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
