//! What a token says about a user's organizations: Authify's
//! `organizations: [{name, oid, admin, memberships: [{name, gid}]}]`.

use sea_orm::entity::prelude::*;
use sea_orm::{QueryFilter, QueryOrder};

use super::entity::{group, group_membership, organization, organization_membership};
use super::{Store, StoreError};
pub use crate::domain::claims::{GroupClaim, OrganizationClaim};

impl Store {
    /// The user's organizations and group memberships, ordered by id (three indexed queries).
    pub async fn organization_claims(&self, user_id: i64) -> Result<Vec<OrganizationClaim>, StoreError> {
        let memberships = organization_membership::Entity::find()
            .filter(organization_membership::Column::UserId.eq(user_id))
            .order_by_asc(organization_membership::Column::OrganizationId)
            .all(self.conn())
            .await?;
        if memberships.is_empty() {
            return Ok(Vec::new());
        }
        let org_ids: Vec<i64> = memberships.iter().map(|m| m.organization_id).collect();
        let organizations = organization::Entity::find()
            .filter(organization::Column::Id.is_in(org_ids))
            .order_by_asc(organization::Column::Id)
            .all(self.conn())
            .await?;
        let group_ids: Vec<i64> = group_membership::Entity::find()
            .filter(group_membership::Column::UserId.eq(user_id))
            .all(self.conn())
            .await?
            .into_iter()
            .map(|m| m.group_id)
            .collect();
        let groups = if group_ids.is_empty() {
            Vec::new()
        } else {
            group::Entity::find()
                .filter(group::Column::Id.is_in(group_ids))
                .order_by_asc(group::Column::Id)
                .all(self.conn())
                .await?
        };
        Ok(organizations
            .into_iter()
            .map(|org| OrganizationClaim {
                admin: memberships.iter().any(|m| m.organization_id == org.id && m.admin),
                memberships: groups
                    .iter()
                    .filter(|g| g.organization_id == org.id)
                    .map(|g| GroupClaim { name: g.name.clone(), gid: g.id })
                    .collect(),
                name: org.name,
                oid: org.id,
            })
            .collect())
    }
}
