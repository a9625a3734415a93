//! The `organizations` table and its members (`organization_memberships`).

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryFilter, QueryOrder};

use super::entity::organization::{self, ActiveModel, Column, Entity};
use super::entity::organization_membership as membership;
use super::listing::{ListParams, Page};
use super::users::{self, User};
use super::{Store, StoreError, classify};

pub type Organization = organization::Model;
pub type Membership = membership::Model;

/// The editable attributes of an organization.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFields {
    pub name: String,
    pub public_email: Option<String>,
    pub gravatar_email: Option<String>,
    pub billing_email: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub location: Option<String>,
}

const UNIQUE_FIELDS: &[&str] = &["name"];

impl Store {
    /// Creates an organization with `owner` as its first admin, in one transaction.
    pub async fn insert_organization(
        &self,
        fields: OrganizationFields,
        owner: i64,
        now: i64,
    ) -> Result<Organization, StoreError> {
        let (txn, _gate) = self.begin_write().await?;
        let org = ActiveModel {
            name: Set(fields.name),
            public_email: Set(fields.public_email),
            gravatar_email: Set(fields.gravatar_email),
            billing_email: Set(fields.billing_email),
            description: Set(fields.description),
            url: Set(fields.url),
            location: Set(fields.location),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| classify(e, UNIQUE_FIELDS))?;
        membership::ActiveModel {
            organization_id: Set(org.id),
            user_id: Set(owner),
            admin: Set(true),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(org)
    }

    pub async fn organization_by_id(&self, id: i64) -> Result<Option<Organization>, StoreError> {
        Ok(Entity::find_by_id(id).one(self.conn()).await?)
    }

    pub async fn list_organizations(&self, params: &ListParams) -> Result<Page<Organization>, StoreError> {
        self.fetch_page(Entity::find(), Column::Id, params).await
    }

    /// Writes the fields that differ from `org` as read, and only those: a concurrent update of
    /// another field is not put back.
    pub async fn update_organization(
        &self,
        org: Organization,
        fields: OrganizationFields,
        now: i64,
    ) -> Result<Organization, StoreError> {
        let mut row: ActiveModel = org.into();
        row.name.set_if_not_equals(fields.name);
        row.public_email.set_if_not_equals(fields.public_email);
        row.gravatar_email.set_if_not_equals(fields.gravatar_email);
        row.billing_email.set_if_not_equals(fields.billing_email);
        row.description.set_if_not_equals(fields.description);
        row.url.set_if_not_equals(fields.url);
        row.location.set_if_not_equals(fields.location);
        row.updated_at = Set(now);
        row.update(self.conn()).await.map_err(|e| classify(e, UNIQUE_FIELDS))
    }

    /// Deletes an organization; its memberships and groups go with it (foreign keys cascade).
    pub async fn delete_organization(&self, id: i64) -> Result<bool, StoreError> {
        Ok(Entity::delete_by_id(id).exec(self.conn()).await?.rows_affected > 0)
    }

    pub async fn membership(&self, org_id: i64, user_id: i64) -> Result<Option<Membership>, StoreError> {
        Ok(membership::Entity::find()
            .filter(membership::Column::OrganizationId.eq(org_id))
            .filter(membership::Column::UserId.eq(user_id))
            .one(self.conn())
            .await?)
    }

    /// Members of an organization with their admin flag, by user id.
    pub async fn organization_members(&self, org_id: i64) -> Result<Vec<(User, bool)>, StoreError> {
        let memberships = membership::Entity::find()
            .filter(membership::Column::OrganizationId.eq(org_id))
            .order_by_asc(membership::Column::UserId)
            .all(self.conn())
            .await?;
        let ids: Vec<i64> = memberships.iter().map(|m| m.user_id).collect();
        let users = users::Entity::find()
            .filter(users::Column::Id.is_in(ids))
            .order_by_asc(users::Column::Id)
            .all(self.conn())
            .await?;
        Ok(users
            .into_iter()
            .map(|u| {
                let admin = memberships.iter().any(|m| m.user_id == u.id && m.admin);
                (User::from(u), admin)
            })
            .collect())
    }

    /// Ids of the organizations a user is an admin of.
    pub async fn administered_organization_ids(&self, user_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .filter(membership::Column::Admin.eq(true))
            .all(self.conn())
            .await?
            .into_iter()
            .map(|m| m.organization_id)
            .collect())
    }

    /// Organizations a user belongs to.
    pub async fn organizations_of_user(&self, user_id: i64) -> Result<Vec<Organization>, StoreError> {
        let ids: Vec<i64> = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .all(self.conn())
            .await?
            .into_iter()
            .map(|m| m.organization_id)
            .collect();
        Ok(Entity::find().filter(Column::Id.is_in(ids)).order_by_asc(Column::Id).all(self.conn()).await?)
    }

    /// Makes each user a member (keeping existing memberships), and an admin when `admin`.
    pub async fn add_members(&self, org_id: i64, user_ids: &[i64], admin: bool, now: i64) -> Result<(), StoreError> {
        let (txn, _gate) = self.begin_write().await?;
        add_members_in(&txn, org_id, user_ids, admin, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Makes the members (or, with `admins`, the admins) exactly `user_ids`, in one transaction:
    /// others are removed (or demoted), missing ones added (or promoted, joining when needed).
    pub async fn replace_members(
        &self,
        org_id: i64,
        user_ids: &[i64],
        admins: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let (txn, _gate) = self.begin_write().await?;
        let others: Vec<i64> = membership::Entity::find()
            .filter(membership::Column::OrganizationId.eq(org_id))
            .filter(membership::Column::UserId.is_not_in(user_ids.to_vec()))
            .all(&txn)
            .await?
            .into_iter()
            .filter(|m| !admins || m.admin)
            .map(|m| m.user_id)
            .collect();
        if admins {
            demote_in(&txn, org_id, &others).await?;
        } else {
            remove_in(&txn, org_id, &others).await?;
        }
        add_members_in(&txn, org_id, user_ids, admins, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes members (and their group memberships in this organization).
    pub async fn remove_members(&self, org_id: i64, user_ids: &[i64]) -> Result<(), StoreError> {
        let (txn, _gate) = self.begin_write().await?;
        remove_in(&txn, org_id, user_ids).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Clears the admin flag of these members (they stay members).
    pub async fn demote_admins(&self, org_id: i64, user_ids: &[i64]) -> Result<(), StoreError> {
        demote_in(self.conn(), org_id, user_ids).await
    }
}

async fn add_members_in(
    txn: &impl ConnectionTrait,
    org_id: i64,
    user_ids: &[i64],
    admin: bool,
    now: i64,
) -> Result<(), StoreError> {
    for user_id in user_ids {
        let existing = membership::Entity::find()
            .filter(membership::Column::OrganizationId.eq(org_id))
            .filter(membership::Column::UserId.eq(*user_id))
            .one(txn)
            .await?;
        match existing {
            Some(m) if admin && !m.admin => {
                let mut row: membership::ActiveModel = m.into();
                row.admin = Set(true);
                row.update(txn).await?;
            }
            Some(_) => {}
            None => {
                membership::ActiveModel {
                    organization_id: Set(org_id),
                    user_id: Set(*user_id),
                    admin: Set(admin),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
            }
        }
    }
    Ok(())
}

async fn remove_in(txn: &impl ConnectionTrait, org_id: i64, user_ids: &[i64]) -> Result<(), StoreError> {
    let group_ids: Vec<i64> = super::entity::group::Entity::find()
        .filter(super::entity::group::Column::OrganizationId.eq(org_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|g| g.id)
        .collect();
    super::entity::group_membership::Entity::delete_many()
        .filter(super::entity::group_membership::Column::GroupId.is_in(group_ids))
        .filter(super::entity::group_membership::Column::UserId.is_in(user_ids.to_vec()))
        .exec(txn)
        .await?;
    membership::Entity::delete_many()
        .filter(membership::Column::OrganizationId.eq(org_id))
        .filter(membership::Column::UserId.is_in(user_ids.to_vec()))
        .exec(txn)
        .await?;
    Ok(())
}

async fn demote_in(conn: &impl ConnectionTrait, org_id: i64, user_ids: &[i64]) -> Result<(), StoreError> {
    membership::Entity::update_many()
        .col_expr(membership::Column::Admin, sea_orm::sea_query::Expr::value(false))
        .filter(membership::Column::OrganizationId.eq(org_id))
        .filter(membership::Column::UserId.is_in(user_ids.to_vec()))
        .exec(conn)
        .await?;
    Ok(())
}
