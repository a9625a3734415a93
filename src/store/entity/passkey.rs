use sea_orm::entity::prelude::*;

/// A user's registered passkey (WebAuthn credential).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// The owner's label for it.
    pub name: Option<String>,
    /// SHA-256 (hex) of the credential id.
    pub credential_hash: String,
    /// The WebAuthn user handle the authenticator keeps (a UUID).
    pub user_handle: String,
    /// webauthn-rs's credential, serialized (public key, counter, backup flags).
    pub passkey: String,
    /// The signature counter last seen (0 for authenticators that keep none).
    pub counter: i64,
    /// Backup flags as of the last sign-in (false until then).
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
