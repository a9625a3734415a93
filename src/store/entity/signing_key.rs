use sea_orm::entity::prelude::*;

/// A signing key shared by every instance (see `store::signing_keys`). `state` is `next`,
/// `signing`, `verifying` or `retired`; `sealed_private_key` is the PKCS#8 DER private key sealed
/// with the key-encryption key (`crypto::sealed`), bound to `kid`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub seq: i64,
    pub kid: String,
    pub algorithm: String,
    pub state: String,
    /// `file` (imported from AUTHIFY_PRIVKEY_PATH) or `generated`.
    pub origin: String,
    pub created_at: i64,
    /// When a `next` key starts signing.
    pub signs_at: Option<i64>,
    pub signing_since: Option<i64>,
    pub verifying_since: Option<i64>,
    pub verifies_until: Option<i64>,
    pub retired_at: Option<i64>,
    pub public_pem: String,
    pub sealed_private_key: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
