//! The `groups` table and its members (`group_memberships`).

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryFilter, QueryOrder};

use super::entity::group::{self, ActiveModel, Column, Entity};
use super::entity::group_membership as membership;
use super::listing::{ListParams, Page};
use super::users::{self, User};
use super::{Store, StoreError, classify};

pub type Group = group::Model;

const UNIQUE_FIELDS: &[&str] = &["name"];

impl Store {
    pub async fn insert_group(
        &self,
        organization_id: i64,
        name: String,
        description: Option<String>,
        now: i64,
    ) -> Result<Group, StoreError> {
        ActiveModel {
            organization_id: Set(organization_id),
            name: Set(name),
            description: Set(description),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.conn())
        .await
        .map_err(|e| classify(e, UNIQUE_FIELDS))
    }

    pub async fn group_by_id(&self, id: i64) -> Result<Option<Group>, StoreError> {
        Ok(Entity::find_by_id(id).one(self.conn()).await?)
    }

    pub async fn list_groups(&self, params: &ListParams) -> Result<Page<Group>, StoreError> {
        self.fetch_page(Entity::find(), Column::Id, params).await
    }

    pub async fn groups_of_organization(&self, org_id: i64) -> Result<Vec<Group>, StoreError> {
        Ok(Entity::find().filter(Column::OrganizationId.eq(org_id)).order_by_asc(Column::Id).all(self.conn()).await?)
    }

    pub async fn groups_of_user(&self, user_id: i64) -> Result<Vec<Group>, StoreError> {
        let ids: Vec<i64> = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .all(self.conn())
            .await?
            .into_iter()
            .map(|m| m.group_id)
            .collect();
        Ok(Entity::find().filter(Column::Id.is_in(ids)).order_by_asc(Column::Id).all(self.conn()).await?)
    }

    /// Writes the fields that differ from `group` as read, and only those.
    pub async fn update_group(
        &self,
        group: Group,
        name: String,
        description: Option<String>,
        now: i64,
    ) -> Result<Group, StoreError> {
        let mut row: ActiveModel = group.into();
        row.name.set_if_not_equals(name);
        row.description.set_if_not_equals(description);
        row.updated_at = Set(now);
        row.update(self.conn()).await.map_err(|e| classify(e, UNIQUE_FIELDS))
    }

    pub async fn delete_group(&self, id: i64) -> Result<bool, StoreError> {
        Ok(Entity::delete_by_id(id).exec(self.conn()).await?.rows_affected > 0)
    }

    pub async fn group_members(&self, group_id: i64) -> Result<Vec<User>, StoreError> {
        let ids: Vec<i64> = membership::Entity::find()
            .filter(membership::Column::GroupId.eq(group_id))
            .all(self.conn())
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        Ok(users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .order_by_asc(users::Column::Id)
            .all(self.conn())
            .await?
            .into_iter()
            .map(User::from)
            .collect())
    }

    /// Adds members that are not members yet.
    pub async fn add_group_members(&self, group_id: i64, user_ids: &[i64], now: i64) -> Result<(), StoreError> {
        let (txn, _gate) = self.begin_write().await?;
        add_in(&txn, group_id, user_ids, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Makes the members exactly `user_ids`, in one transaction.
    pub async fn replace_group_members(&self, group_id: i64, user_ids: &[i64], now: i64) -> Result<(), StoreError> {
        let (txn, _gate) = self.begin_write().await?;
        membership::Entity::delete_many()
            .filter(membership::Column::GroupId.eq(group_id))
            .filter(membership::Column::UserId.is_not_in(user_ids.to_vec()))
            .exec(&txn)
            .await?;
        add_in(&txn, group_id, user_ids, now).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn remove_group_members(&self, group_id: i64, user_ids: &[i64]) -> Result<(), StoreError> {
        membership::Entity::delete_many()
            .filter(membership::Column::GroupId.eq(group_id))
            .filter(membership::Column::UserId.is_in(user_ids.to_vec()))
            .exec(self.conn())
            .await?;
        Ok(())
    }
}

async fn add_in(txn: &impl ConnectionTrait, group_id: i64, user_ids: &[i64], now: i64) -> Result<(), StoreError> {
    for user_id in user_ids {
        let exists = membership::Entity::find()
            .filter(membership::Column::GroupId.eq(group_id))
            .filter(membership::Column::UserId.eq(*user_id))
            .count(txn)
            .await?
            > 0;
        if !exists {
            membership::ActiveModel {
                group_id: Set(group_id),
                user_id: Set(*user_id),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}
