//! The `api_keys` table.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, Condition, QueryFilter, QueryOrder};

use super::entity::api_key::{ActiveModel, Column, Entity, Model};
use super::entity::revocation;
use super::revocations::KIND_API_KEY;
use super::{Store, StoreError, classify};

/// A stored API key (the secret itself is never stored, only its hash).
pub type ApiKey = Model;

/// `last_used_at` is kept to this resolution (seconds), so busy keys cost one write a minute at most.
pub const LAST_USED_RESOLUTION: i64 = 60;

/// What is needed to create an API key; `secret_hash` from `crypto::secret::hash_secret`.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub user_id: i64,
    pub name: Option<String>,
    pub access_key: String,
    pub secret_hash: String,
    /// Space-separated scope names.
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub now: i64,
}

const UNIQUE_FIELDS: &[&str] = &["access_key"];

impl Store {
    /// Stores a key; a taken access key gives [`StoreError::Taken`].
    pub async fn insert_api_key(&self, new: NewApiKey) -> Result<ApiKey, StoreError> {
        let row = ActiveModel {
            user_id: Set(new.user_id),
            name: Set(new.name),
            access_key: Set(new.access_key),
            secret_hash: Set(new.secret_hash),
            scopes: Set(new.scopes),
            expires_at: Set(new.expires_at),
            last_used_at: Set(None),
            created_at: Set(new.now),
            ..Default::default()
        };
        row.insert(self.conn()).await.map_err(|e| classify(e, UNIQUE_FIELDS))
    }

    pub async fn api_key_by_access_key(&self, access_key: &str) -> Result<Option<ApiKey>, StoreError> {
        Ok(Entity::find().filter(Column::AccessKey.eq(access_key)).one(self.conn()).await?)
    }

    pub async fn api_key_by_id(&self, id: i64) -> Result<Option<ApiKey>, StoreError> {
        Ok(Entity::find_by_id(id).one(self.conn()).await?)
    }

    /// The user's keys, oldest first.
    pub async fn api_keys_of_user(&self, user_id: i64) -> Result<Vec<ApiKey>, StoreError> {
        Ok(Entity::find().filter(Column::UserId.eq(user_id)).order_by_asc(Column::Id).all(self.conn()).await?)
    }

    /// Removes a key and, in the same transaction, puts it on the revocation list until
    /// `revoked_until` (an `apikey` entry: its tokens are refused); whether there was one.
    pub async fn delete_api_key(&self, id: i64, revoked_until: i64, now: i64) -> Result<bool, StoreError> {
        let (tx, _gate) = self.begin_write().await?;
        if Entity::delete_by_id(id).exec(&tx).await?.rows_affected == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let entry = revocation::ActiveModel {
            kind: Set(KIND_API_KEY.to_owned()),
            value: Set(id.to_string()),
            created_at: Set(now),
            expires_at: Set(revoked_until),
            ..Default::default()
        };
        revocation::Entity::insert(entry).exec_without_returning(&tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces an imported authify-api digest with `current` (Authify's hash of the same secret),
    /// writing only `secret_hash` and only while it still holds `legacy`: a concurrent first use
    /// writes once, and any other change to the key is kept. Whether it wrote.
    pub async fn upgrade_api_key_secret(&self, id: i64, legacy: &str, current: &str) -> Result<bool, StoreError> {
        let result = Entity::update_many()
            .col_expr(Column::SecretHash, Expr::value(current))
            .filter(Column::Id.eq(id))
            .filter(Column::SecretHash.eq(legacy))
            .exec(self.conn())
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Sets `last_used_at = now` unless it was set less than [`LAST_USED_RESOLUTION`] seconds ago;
    /// whether it wrote. The condition is in the UPDATE, so concurrent logins and other instances
    /// sharing the database still write at most once a minute.
    pub async fn touch_api_key(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let result = Entity::update_many()
            .col_expr(Column::LastUsedAt, Expr::value(now))
            .filter(Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(Column::LastUsedAt.is_null())
                    .add(Column::LastUsedAt.lte(now - LAST_USED_RESOLUTION)),
            )
            .exec(self.conn())
            .await?;
        Ok(result.rows_affected > 0)
    }
}

impl Store {
    pub async fn list_api_keys(
        &self,
        params: &super::listing::ListParams,
    ) -> Result<super::listing::Page<ApiKey>, StoreError> {
        self.fetch_page(Entity::find(), Column::Id, params).await
    }

    pub async fn rename_api_key(&self, key: ApiKey, name: Option<String>) -> Result<ApiKey, StoreError> {
        let mut row: ActiveModel = key.into();
        row.name = Set(name);
        Ok(row.update(self.conn()).await?)
    }
}
