//! `groups`: belong to one organization. Its admins and global admins create, edit and delete
//! them and manage their `users` (who must be members of the organization); its members read them;
//! only global admins list every group (`/groups`).

use async_trait::async_trait;

use super::attributes::rfc3339;
use super::kind::{
    AttrDef, AttrType, Attributes, Cx, FilterDef, FilterType, LinkedIds, Listing, RelDef, RelOp, ResourceKind, SortDef,
};
use super::organizations::{self, Standing, standing};
use super::users;
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::http::jsonapi::document::Identifier;
use crate::http::jsonapi::document::{Linkage, ResourceObject};
use crate::store::groups::Group;
use crate::store::listing::ListParams;

pub struct Groups;

const RELATIONSHIPS: &[RelDef] = &[
    RelDef { name: "organization", target: "organizations", to_many: false },
    RelDef { name: "users", target: "users", to_many: true },
];
const RELATIONSHIP_NAMES: &[&str] = &["organization", "users"];

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::writable("name", AttrType::String, "Unique within the organization.").required(),
    AttrDef::writable("description", AttrType::String, "Free text."),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the group was created."),
];

/// A group; its organization linkage is always known, so it is always given.
pub fn render(group: &Group) -> ResourceObject {
    let mut object = ResourceObject::new("groups", group.id, RELATIONSHIP_NAMES)
        .attr("name", group.name.clone())
        .attr("description", group.description.clone())
        .attr("created-at", rfc3339(group.created_at));
    object.set_linkage("organization", Linkage::ToOne(Some(Identifier::new("organizations", group.organization_id))));
    object
}

/// Members of the group's organization and admins see a group.
pub async fn visible(cx: &Cx<'_>, group: &Group) -> Result<bool, Error> {
    Ok(standing(cx, group.organization_id).await? != Standing::Outsider)
}

async fn load_visible(cx: &Cx<'_>, id: i64) -> Result<Group, Error> {
    let group = cx.state.store.group_by_id(id).await?.ok_or(Error::NotFound)?;
    if visible(cx, &group).await? { Ok(group) } else { Err(Error::NotFound) }
}

async fn require_org_admin(cx: &Cx<'_>, org_id: i64) -> Result<(), Error> {
    match standing(cx, org_id).await? {
        Standing::Admin => Ok(()),
        _ => Err(Error::forbidden("Only the organization's admins and admins may do this")),
    }
}

#[async_trait]
impl ResourceKind for Groups {
    fn name(&self) -> &'static str {
        "groups"
    }
    fn description(&self) -> &'static str {
        "Sets of an organization's members."
    }
    fn attributes(&self) -> &'static [AttrDef] {
        ATTRIBUTES
    }
    fn relationships(&self) -> &'static [RelDef] {
        RELATIONSHIPS
    }
    fn creatable_relationships(&self) -> &'static [&'static str] {
        &["organization"]
    }
    fn filters(&self) -> &'static [FilterDef] {
        &[
            FilterDef { name: "name", column: "name", ty: FilterType::Text },
            FilterDef { name: "organization", column: "organization_id", ty: FilterType::Integer },
        ]
    }
    fn sorts(&self) -> &'static [SortDef] {
        &[
            SortDef { name: "id", column: "id" },
            SortDef { name: "created-at", column: "created_at" },
            SortDef { name: "name", column: "name" },
        ]
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        if !cx.caller.is_admin() {
            return Err(Error::forbidden("Only admins list every group; members use /organizations/{id}/groups"));
        }
        let page = cx.state.store.list_groups(params).await?;
        Ok(Listing { items: page.rows.iter().map(render).collect(), total: page.total })
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render(&load_visible(cx, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, links: LinkedIds) -> Result<ResourceObject, Error> {
        let org_id = match links.get("organization") {
            Some([id]) => *id,
            _ => {
                return Err(Error::bad_document(
                    "/data/relationships/organization",
                    "is required: the organization the group belongs to",
                ));
            }
        };
        let org = organizations::load(cx, org_id).await?;
        require_org_admin(cx, org.id).await?;
        let name = attributes.bounded_text("name", 255)?.ok_or_else(|| InvalidValue::new("name", "is required"))?;
        let description = attributes.text("description").flatten();
        let group = cx.state.store.insert_group(org.id, name, description, cx.state.now()).await?;
        cx.state.directory.changed();
        Ok(render(&group))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, attributes: Attributes) -> Result<ResourceObject, Error> {
        let group = load_visible(cx, id).await?;
        require_org_admin(cx, group.organization_id).await?;
        let name = attributes.bounded_text("name", 255)?.unwrap_or_else(|| group.name.clone());
        let description = attributes.text("description").unwrap_or_else(|| group.description.clone());
        let group = cx.state.store.update_group(group, name, description, cx.state.now()).await?;
        cx.state.directory.changed();
        Ok(render(&group))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        let group = load_visible(cx, id).await?;
        require_org_admin(cx, group.organization_id).await?;
        cx.state.store.delete_group(id).await?;
        cx.state.directory.changed();
        Ok(())
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        let group = load_visible(cx, id).await?;
        match rel.name {
            "organization" => {
                let org = organizations::load(cx, group.organization_id).await?;
                Ok(vec![organizations::render(cx, &org).await?])
            }
            "users" => {
                Ok(cx.state.store.group_members(id).await?.iter().map(|u| users::render(cx.caller, u)).collect())
            }
            _ => Err(Error::NotFound),
        }
    }

    async fn change_relationship(
        &self,
        cx: &Cx<'_>,
        id: i64,
        rel: &RelDef,
        op: RelOp,
        ids: Vec<i64>,
    ) -> Result<(), Error> {
        let group = load_visible(cx, id).await?;
        if rel.name != "users" {
            return Err(Error::forbidden("A group's organization cannot be changed"));
        }
        require_org_admin(cx, group.organization_id).await?;
        let store = &cx.state.store;
        let members: Vec<i64> =
            store.organization_members(group.organization_id).await?.into_iter().map(|(u, _)| u.id).collect();
        if op != RelOp::Remove && ids.iter().any(|id| !members.contains(id)) {
            return Err(Error::Conflict("Only members of the group's organization can join the group".into()));
        }
        let now = cx.state.now();
        match op {
            RelOp::Add => store.add_group_members(id, &ids, now).await?,
            RelOp::Remove => store.remove_group_members(id, &ids).await?,
            RelOp::Replace => store.replace_group_members(id, &ids, now).await?,
        }
        cx.state.directory.changed();
        Ok(())
    }
}
