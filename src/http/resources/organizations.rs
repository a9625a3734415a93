//! `organizations`: anyone signed in may list and read them (billing and gravatar emails only for
//! the organization's admins and global admins); anyone may create one and becomes its admin; its
//! admins and global admins edit and delete it and manage its `users` and `admins`.

use async_trait::async_trait;

use super::attributes::rfc3339;
use super::kind::{
    AttrDef, AttrType, Attributes, Cx, FilterDef, FilterType, LinkedIds, Listing, RelDef, RelOp, ResourceKind, SortDef,
};
use super::{groups, users};
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::store::listing::ListParams;
use crate::store::organizations::{Organization, OrganizationFields};

pub struct Organizations;

const RELATIONSHIPS: &[RelDef] = &[
    RelDef { name: "users", target: "users", to_many: true },
    RelDef { name: "admins", target: "users", to_many: true },
    RelDef { name: "groups", target: "groups", to_many: true },
];
const RELATIONSHIP_NAMES: &[&str] = &["users", "admins", "groups"];

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::writable("name", AttrType::String, "Unique name.").required(),
    AttrDef::writable("public-email", AttrType::String, "Contact address shown to everyone."),
    AttrDef::writable("gravatar-email", AttrType::String, "Shown only to the organization's admins and admins."),
    AttrDef::writable("billing-email", AttrType::String, "Shown only to the organization's admins and admins."),
    AttrDef::writable("description", AttrType::String, "Free text."),
    AttrDef::writable("url", AttrType::String, "Web site."),
    AttrDef::writable("location", AttrType::String, "Free text."),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the organization was created."),
];

/// What the caller is to an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Outsider,
    Member,
    /// An admin of the organization, or a global admin.
    Admin,
}

pub async fn standing(cx: &Cx<'_>, org_id: i64) -> Result<Standing, Error> {
    if cx.caller.is_admin() {
        return Ok(Standing::Admin);
    }
    let Some(user_id) = cx.caller.user_id() else { return Ok(Standing::Outsider) };
    Ok(match cx.state.store.membership(org_id, user_id).await? {
        Some(m) if m.admin => Standing::Admin,
        Some(_) => Standing::Member,
        None => Standing::Outsider,
    })
}

/// An organization as the caller may see it.
pub async fn render(cx: &Cx<'_>, org: &Organization) -> Result<ResourceObject, Error> {
    Ok(render_as(org, standing(cx, org.id).await? == Standing::Admin))
}

/// Organizations as the caller may see them, with one query for the caller's admin memberships
/// rather than one per organization.
pub async fn render_all(cx: &Cx<'_>, orgs: &[Organization]) -> Result<Vec<ResourceObject>, Error> {
    let administered = match cx.caller.user_id() {
        Some(user_id) if !cx.caller.is_admin() => cx.state.store.administered_organization_ids(user_id).await?,
        _ => Vec::new(),
    };
    let admin = cx.caller.is_admin();
    Ok(orgs.iter().map(|org| render_as(org, admin || administered.contains(&org.id))).collect())
}

/// `owner`: the caller administers the organization (or everything), so sees its private emails.
fn render_as(org: &Organization, owner: bool) -> ResourceObject {
    ResourceObject::new("organizations", org.id, RELATIONSHIP_NAMES)
        .attr("name", org.name.clone())
        .attr("public-email", org.public_email.clone())
        .attr_if(owner, "gravatar-email", org.gravatar_email.clone())
        .attr_if(owner, "billing-email", org.billing_email.clone())
        .attr("description", org.description.clone())
        .attr("url", org.url.clone())
        .attr("location", org.location.clone())
        .attr("created-at", rfc3339(org.created_at))
}

pub async fn load(cx: &Cx<'_>, id: i64) -> Result<Organization, Error> {
    cx.state.store.organization_by_id(id).await?.ok_or(Error::NotFound)
}

fn fields_from(attributes: &Attributes, current: OrganizationFields) -> Result<OrganizationFields, Error> {
    let pick = |name: &str, old: Option<String>| attributes.text(name).unwrap_or(old);
    let name = attributes.bounded_text("name", 255)?.unwrap_or(current.name);
    Ok(OrganizationFields {
        name,
        public_email: pick("public-email", current.public_email),
        gravatar_email: pick("gravatar-email", current.gravatar_email),
        billing_email: pick("billing-email", current.billing_email),
        description: pick("description", current.description),
        url: pick("url", current.url),
        location: pick("location", current.location),
    })
}

async fn require_admin(cx: &Cx<'_>, org_id: i64) -> Result<(), Error> {
    match standing(cx, org_id).await? {
        Standing::Admin => Ok(()),
        _ => Err(Error::forbidden("Only the organization's admins and admins may do this")),
    }
}

/// Organizations the caller belongs to (`GET /organizations/mine`).
pub async fn mine(cx: &Cx<'_>) -> Result<Listing, Error> {
    let user = cx.caller.require_user()?;
    let items = render_all(cx, &cx.state.store.organizations_of_user(user.id).await?).await?;
    Ok(Listing { total: items.len() as u64, items })
}

#[async_trait]
impl ResourceKind for Organizations {
    fn name(&self) -> &'static str {
        "organizations"
    }
    fn description(&self) -> &'static str {
        "Groupings of users and groups; members and admins are relationships."
    }
    fn attributes(&self) -> &'static [AttrDef] {
        ATTRIBUTES
    }
    fn relationships(&self) -> &'static [RelDef] {
        RELATIONSHIPS
    }
    fn filters(&self) -> &'static [FilterDef] {
        &[
            FilterDef { name: "name", column: "name", ty: FilterType::Text },
            FilterDef { name: "location", column: "location", ty: FilterType::Text },
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
        let page = cx.state.store.list_organizations(params).await?;
        Ok(Listing { items: render_all(cx, &page.rows).await?, total: page.total })
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        render(cx, &load(cx, id).await?).await
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        let owner = cx.caller.require_user()?.id;
        if !attributes.has("name") {
            return Err(InvalidValue::new("name", "is required").into());
        }
        let fields = fields_from(&attributes, OrganizationFields::default())?;
        let org = cx.state.store.insert_organization(fields, owner, cx.state.now()).await?;
        cx.state.directory.changed();
        render(cx, &org).await
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, attributes: Attributes) -> Result<ResourceObject, Error> {
        let org = load(cx, id).await?;
        require_admin(cx, id).await?;
        let current = OrganizationFields {
            name: org.name.clone(),
            public_email: org.public_email.clone(),
            gravatar_email: org.gravatar_email.clone(),
            billing_email: org.billing_email.clone(),
            description: org.description.clone(),
            url: org.url.clone(),
            location: org.location.clone(),
        };
        let fields = fields_from(&attributes, current)?;
        let org = cx.state.store.update_organization(org, fields, cx.state.now()).await?;
        cx.state.directory.changed();
        render(cx, &org).await
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        load(cx, id).await?;
        require_admin(cx, id).await?;
        cx.state.store.delete_organization(id).await?;
        cx.state.directory.changed();
        Ok(())
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        load(cx, id).await?;
        if standing(cx, id).await? == Standing::Outsider {
            return Err(Error::forbidden("Only members and admins see an organization's members and groups"));
        }
        let store = &cx.state.store;
        match rel.name {
            "users" | "admins" => Ok(store
                .organization_members(id)
                .await?
                .iter()
                .filter(|(_, admin)| rel.name == "users" || *admin)
                .map(|(user, _)| users::render(cx.caller, user))
                .collect()),
            "groups" => Ok(store.groups_of_organization(id).await?.iter().map(groups::render).collect()),
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
        load(cx, id).await?;
        require_admin(cx, id).await?;
        let store = &cx.state.store;
        let now = cx.state.now();
        if rel.name == "groups" {
            return Err(Error::forbidden("Groups belong to one organization; create or delete them instead"));
        }
        if store.users_by_ids(&ids).await?.len() != dedup(&ids).len() {
            return Err(Error::NotFound);
        }
        let admins = rel.name == "admins";
        match (op, admins) {
            (RelOp::Add, _) => store.add_members(id, &ids, admins, now).await?,
            (RelOp::Remove, false) => store.remove_members(id, &ids).await?,
            (RelOp::Remove, true) => store.demote_admins(id, &ids).await?,
            (RelOp::Replace, _) => store.replace_members(id, &ids, admins, now).await?,
        }
        cx.state.directory.changed();
        Ok(())
    }
}

fn dedup(ids: &[i64]) -> Vec<i64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}
