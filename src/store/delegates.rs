//! The `trusted_delegates` table.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, QueryFilter, QueryOrder};

use super::entity::trusted_delegate::{ActiveModel, Column, Entity, Model};
use super::{Store, StoreError, classify};

/// A stored trusted delegate.
pub type Delegate = Model;

/// What is needed to register a delegate; `secret_hash` from `crypto::secret::hash_secret`.
#[derive(Debug, Clone)]
pub struct NewDelegate {
    pub name: String,
    pub description: Option<String>,
    pub access_key: String,
    pub secret_hash: String,
    pub scopes: String,
    pub now: i64,
}

const UNIQUE_FIELDS: &[&str] = &["name", "access_key"];

impl Store {
    /// Registers a delegate; a taken name (or access key) gives [`StoreError::Taken`].
    pub async fn insert_delegate(&self, new: NewDelegate) -> Result<Delegate, StoreError> {
        let row = ActiveModel {
            name: Set(new.name),
            description: Set(new.description),
            access_key: Set(new.access_key),
            secret_hash: Set(new.secret_hash),
            scopes: Set(new.scopes),
            created_at: Set(new.now),
            ..Default::default()
        };
        row.insert(self.conn()).await.map_err(|e| classify(e, UNIQUE_FIELDS))
    }

    pub async fn delegate_by_access_key(&self, access_key: &str) -> Result<Option<Delegate>, StoreError> {
        Ok(Entity::find().filter(Column::AccessKey.eq(access_key)).one(self.conn()).await?)
    }

    pub async fn delegate_by_name(&self, name: &str) -> Result<Option<Delegate>, StoreError> {
        Ok(Entity::find().filter(Column::Name.eq(name)).one(self.conn()).await?)
    }

    pub async fn delegate_by_id(&self, id: i64) -> Result<Option<Delegate>, StoreError> {
        Ok(Entity::find_by_id(id).one(self.conn()).await?)
    }

    /// Every delegate, oldest first.
    pub async fn list_delegates(&self) -> Result<Vec<Delegate>, StoreError> {
        Ok(Entity::find().order_by_asc(Column::Id).all(self.conn()).await?)
    }

    /// Replaces an imported authify-api digest with `current`, as
    /// [`Store::upgrade_api_key_secret`] does for API keys. Whether it wrote.
    pub async fn upgrade_delegate_secret(&self, id: i64, legacy: &str, current: &str) -> Result<bool, StoreError> {
        let result = Entity::update_many()
            .col_expr(Column::SecretHash, Expr::value(current))
            .filter(Column::Id.eq(id))
            .filter(Column::SecretHash.eq(legacy))
            .exec(self.conn())
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Removes a delegate; whether there was one.
    pub async fn delete_delegate(&self, id: i64) -> Result<bool, StoreError> {
        Ok(Entity::delete_by_id(id).exec(self.conn()).await?.rows_affected > 0)
    }
}

impl Store {
    pub async fn list_delegates_page(
        &self,
        params: &super::listing::ListParams,
    ) -> Result<super::listing::Page<Delegate>, StoreError> {
        self.fetch_page(Entity::find(), Column::Id, params).await
    }
}
