//! The `identities` table: logins a user has at other services (`provider` + `uid`).

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryFilter, QueryOrder};

use super::entity::identity::{ActiveModel, Column, Entity, Model};
use super::{Store, StoreError, classify};

/// A stored external identity.
pub type Identity = Model;

const UNIQUE_FIELDS: &[&str] = &["provider", "uid"];

impl Store {
    /// Links `provider`/`uid` to a user on behalf of `delegate_id` (`None`: a link that names no
    /// delegate, as older ones); a pair already linked gives [`StoreError::Taken`].
    pub async fn insert_identity(
        &self,
        user_id: i64,
        delegate_id: Option<i64>,
        provider: &str,
        uid: &str,
        now: i64,
    ) -> Result<Identity, StoreError> {
        let row = ActiveModel {
            user_id: Set(user_id),
            provider: Set(provider.to_owned()),
            uid: Set(uid.to_owned()),
            created_at: Set(now),
            delegate_id: Set(delegate_id),
            ..Default::default()
        };
        row.insert(self.conn()).await.map_err(|e| classify(e, UNIQUE_FIELDS))
    }

    pub async fn identity_by_provider_uid(&self, provider: &str, uid: &str) -> Result<Option<Identity>, StoreError> {
        Ok(Entity::find().filter(Column::Provider.eq(provider)).filter(Column::Uid.eq(uid)).one(self.conn()).await?)
    }

    pub async fn identity_by_id(&self, id: i64) -> Result<Option<Identity>, StoreError> {
        Ok(Entity::find_by_id(id).one(self.conn()).await?)
    }

    pub async fn identities_of_user(&self, user_id: i64) -> Result<Vec<Identity>, StoreError> {
        Ok(Entity::find().filter(Column::UserId.eq(user_id)).order_by_asc(Column::Id).all(self.conn()).await?)
    }

    pub async fn delete_identity(&self, id: i64) -> Result<bool, StoreError> {
        Ok(Entity::delete_by_id(id).exec(self.conn()).await?.rows_affected > 0)
    }
}

impl Store {
    pub async fn list_identities(
        &self,
        params: &super::listing::ListParams,
    ) -> Result<super::listing::Page<Identity>, StoreError> {
        self.fetch_page(Entity::find(), Column::Id, params).await
    }
}
