//! Organizations and who may do what with them: anyone signed in lists and reads them (the billing
//! and gravatar emails only for the organization's admins and global admins); anyone may create one
//! and becomes its admin; its admins and global admins edit and delete it and manage its `users`
//! and `admins`; its members see its members and groups.

use super::{Directory, MemberChange, SentText, bounded_text};
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::service::auth::access::Caller;
use crate::store::groups::Group;
use crate::store::listing::{ListParams, Page};
use crate::store::organizations::{Organization, OrganizationFields};
use crate::store::users::User;

/// What the caller is to an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Outsider,
    Member,
    /// An admin of the organization, or a global admin.
    Admin,
}

/// An organization and whether the caller administers it (or everything), which decides whether
/// they see its private emails.
#[derive(Debug, Clone)]
pub struct OrganizationView {
    pub organization: Organization,
    pub admin: bool,
}

/// The relationships of an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Every member, admins included.
    Users,
    /// The members who administer it.
    Admins,
    /// Its groups (created and deleted as resources, never moved).
    Groups,
}

/// An organization's members or groups, as [`related`] answers them.
#[derive(Debug, Clone)]
pub enum Related {
    Users(Vec<User>),
    Groups(Vec<Group>),
}

/// The editable fields as a request sent them; an absent one keeps its value.
#[derive(Debug, Clone, Default)]
pub struct OrganizationEdit {
    pub name: SentText,
    pub public_email: SentText,
    pub gravatar_email: SentText,
    pub billing_email: SentText,
    pub description: SentText,
    pub url: SentText,
    pub location: SentText,
}

/// Longest organization name accepted (the column's size).
const MAX_NAME_BYTES: usize = 255;

/// What the caller is to the organization: global admins administer every one.
pub async fn standing(directory: &Directory, caller: &Caller, org_id: i64) -> Result<Standing, Error> {
    if caller.is_admin() {
        return Ok(Standing::Admin);
    }
    let Some(user_id) = caller.user_id() else { return Ok(Standing::Outsider) };
    Ok(match directory.store.membership(org_id, user_id).await? {
        Some(m) if m.admin => Standing::Admin,
        Some(_) => Standing::Member,
        None => Standing::Outsider,
    })
}

/// Forbidden unless the caller administers the organization (or everything).
pub async fn require_admin(directory: &Directory, caller: &Caller, org_id: i64) -> Result<(), Error> {
    match standing(directory, caller, org_id).await? {
        Standing::Admin => Ok(()),
        _ => Err(Error::forbidden("Only the organization's admins and admins may do this")),
    }
}

/// The organization, whoever asks; `NotFound` when there is none.
pub async fn load(directory: &Directory, id: i64) -> Result<Organization, Error> {
    directory.store.organization_by_id(id).await?.ok_or(Error::NotFound)
}

/// One organization as the caller may see it.
pub async fn view(
    directory: &Directory,
    caller: &Caller,
    organization: Organization,
) -> Result<OrganizationView, Error> {
    let admin = standing(directory, caller, organization.id).await? == Standing::Admin;
    Ok(OrganizationView { organization, admin })
}

/// Organizations as the caller may see them, with one query for the caller's admin memberships
/// rather than one per organization.
pub async fn views(
    directory: &Directory,
    caller: &Caller,
    organizations: Vec<Organization>,
) -> Result<Vec<OrganizationView>, Error> {
    let administered = match caller.user_id() {
        Some(user_id) if !caller.is_admin() => directory.store.administered_organization_ids(user_id).await?,
        _ => Vec::new(),
    };
    let everything = caller.is_admin();
    Ok(organizations
        .into_iter()
        .map(|organization| {
            let admin = everything || administered.contains(&organization.id);
            OrganizationView { organization, admin }
        })
        .collect())
}

/// `GET /organizations`: one page, for anyone signed in.
pub async fn list(
    directory: &Directory,
    caller: &Caller,
    params: &ListParams,
) -> Result<Page<OrganizationView>, Error> {
    let page = directory.store.list_organizations(params).await?;
    Ok(Page { rows: views(directory, caller, page.rows).await?, total: page.total })
}

/// `GET /organizations/mine`: the organizations the calling user belongs to.
pub async fn mine(directory: &Directory, caller: &Caller) -> Result<Vec<OrganizationView>, Error> {
    let user = caller.require_user()?;
    views(directory, caller, directory.store.organizations_of_user(user.id).await?).await
}

/// The organizations a user belongs to (`/users/{id}/organizations`), as the caller may see them.
pub async fn of_user(directory: &Directory, caller: &Caller, user_id: i64) -> Result<Vec<OrganizationView>, Error> {
    let user = super::users::load(directory, user_id).await?;
    views(directory, caller, directory.store.organizations_of_user(user.id).await?).await
}

/// One organization, for anyone signed in; `NotFound` when there is none.
pub async fn show(directory: &Directory, caller: &Caller, id: i64) -> Result<OrganizationView, Error> {
    view(directory, caller, load(directory, id).await?).await
}

/// Creates an organization with the calling user as its admin; `name` is required.
pub async fn create(directory: &Directory, caller: &Caller, edit: OrganizationEdit) -> Result<OrganizationView, Error> {
    let owner = caller.require_user()?.id;
    if edit.name.is_none() {
        return Err(InvalidValue::new("name", "is required").into());
    }
    let fields = edited(edit, OrganizationFields::default())?;
    let organization = directory.store.insert_organization(fields, owner, directory.now()).await?;
    directory.changed();
    view(directory, caller, organization).await
}

/// Changes the fields sent; for the organization's admins and global admins.
pub async fn update(
    directory: &Directory,
    caller: &Caller,
    id: i64,
    edit: OrganizationEdit,
) -> Result<OrganizationView, Error> {
    let organization = load(directory, id).await?;
    require_admin(directory, caller, id).await?;
    let current = OrganizationFields {
        name: organization.name.clone(),
        public_email: organization.public_email.clone(),
        gravatar_email: organization.gravatar_email.clone(),
        billing_email: organization.billing_email.clone(),
        description: organization.description.clone(),
        url: organization.url.clone(),
        location: organization.location.clone(),
    };
    let fields = edited(edit, current)?;
    let organization = directory.store.update_organization(organization, fields, directory.now()).await?;
    directory.changed();
    view(directory, caller, organization).await
}

/// Deletes an organization, and with it its memberships and groups.
pub async fn delete(directory: &Directory, caller: &Caller, id: i64) -> Result<(), Error> {
    load(directory, id).await?;
    require_admin(directory, caller, id).await?;
    directory.store.delete_organization(id).await?;
    directory.changed();
    Ok(())
}

/// The organization's members, admins or groups: for its members and admins.
pub async fn related(directory: &Directory, caller: &Caller, id: i64, relation: Relation) -> Result<Related, Error> {
    load(directory, id).await?;
    if standing(directory, caller, id).await? == Standing::Outsider {
        return Err(Error::forbidden("Only members and admins see an organization's members and groups"));
    }
    Ok(match relation {
        Relation::Users | Relation::Admins => Related::Users(
            directory
                .store
                .organization_members(id)
                .await?
                .into_iter()
                .filter(|(_, admin)| relation == Relation::Users || *admin)
                .map(|(user, _)| user)
                .collect(),
        ),
        Relation::Groups => Related::Groups(directory.store.groups_of_organization(id).await?),
    })
}

/// Adds, removes or sets the organization's members (`Users`) or admins (`Admins`; removing one
/// leaves them a member). Groups are not moved this way. Every user named must exist.
pub async fn change_members(
    directory: &Directory,
    caller: &Caller,
    id: i64,
    relation: Relation,
    change: MemberChange,
    ids: Vec<i64>,
) -> Result<(), Error> {
    load(directory, id).await?;
    require_admin(directory, caller, id).await?;
    let store = &directory.store;
    let now = directory.now();
    if relation == Relation::Groups {
        return Err(Error::forbidden("Groups belong to one organization; create or delete them instead"));
    }
    if store.users_by_ids(&ids).await?.len() != dedup(&ids).len() {
        return Err(Error::NotFound);
    }
    let admins = relation == Relation::Admins;
    match (change, admins) {
        (MemberChange::Add, _) => store.add_members(id, &ids, admins, now).await?,
        (MemberChange::Remove, false) => store.remove_members(id, &ids).await?,
        (MemberChange::Remove, true) => store.demote_admins(id, &ids).await?,
        (MemberChange::Replace, _) => store.replace_members(id, &ids, admins, now).await?,
    }
    directory.changed();
    Ok(())
}

/// `current` with the fields sent in `edit`.
fn edited(edit: OrganizationEdit, current: OrganizationFields) -> Result<OrganizationFields, Error> {
    let name = bounded_text("name", edit.name, MAX_NAME_BYTES)?.unwrap_or(current.name);
    Ok(OrganizationFields {
        name,
        public_email: edit.public_email.unwrap_or(current.public_email),
        gravatar_email: edit.gravatar_email.unwrap_or(current.gravatar_email),
        billing_email: edit.billing_email.unwrap_or(current.billing_email),
        description: edit.description.unwrap_or(current.description),
        url: edit.url.unwrap_or(current.url),
        location: edit.location.unwrap_or(current.location),
    })
}

fn dedup(ids: &[i64]) -> Vec<i64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}
