//! Groups belong to one organization. Its admins and global admins create, edit and delete them
//! and manage their members (who must be members of the organization); its members read them; only
//! global admins list every group. A group the caller may not see is `NotFound`.

use super::organizations::{self, OrganizationView, Standing, require_admin, standing};
use super::{Directory, MemberChange, SentText, bounded_text, required_text};
use crate::error::Error;
use crate::service::auth::access::Caller;
use crate::store::groups::Group;
use crate::store::listing::{ListParams, Page};
use crate::store::users::User;

/// Longest group name accepted (the column's size).
const MAX_NAME_BYTES: usize = 255;

/// The relationships of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The organization it belongs to (never changed).
    Organization,
    Users,
}

/// Members of the group's organization and admins see a group.
pub async fn visible(directory: &Directory, caller: &Caller, group: &Group) -> Result<bool, Error> {
    Ok(standing(directory, caller, group.organization_id).await? != Standing::Outsider)
}

async fn load_visible(directory: &Directory, caller: &Caller, id: i64) -> Result<Group, Error> {
    let group = directory.store.group_by_id(id).await?.ok_or(Error::NotFound)?;
    if visible(directory, caller, &group).await? { Ok(group) } else { Err(Error::NotFound) }
}

/// `GET /groups`: every group, for global admins only.
pub async fn list(directory: &Directory, caller: &Caller, params: &ListParams) -> Result<Page<Group>, Error> {
    if !caller.is_admin() {
        return Err(Error::forbidden("Only admins list every group; members use /organizations/{id}/groups"));
    }
    Ok(directory.store.list_groups(params).await?)
}

/// A group the caller may see.
pub async fn show(directory: &Directory, caller: &Caller, id: i64) -> Result<Group, Error> {
    load_visible(directory, caller, id).await
}

/// The groups a user belongs to (`/users/{id}/groups`) that the caller may see.
pub async fn of_user(directory: &Directory, caller: &Caller, user_id: i64) -> Result<Vec<Group>, Error> {
    let user = super::users::load(directory, user_id).await?;
    let mut seen = Vec::new();
    for group in directory.store.groups_of_user(user.id).await? {
        if visible(directory, caller, &group).await? {
            seen.push(group);
        }
    }
    Ok(seen)
}

/// Creates a group in `org_id`; for the organization's admins and global admins.
pub async fn create(
    directory: &Directory,
    caller: &Caller,
    org_id: i64,
    name: SentText,
    description: SentText,
) -> Result<Group, Error> {
    let organization = organizations::load(directory, org_id).await?;
    require_admin(directory, caller, organization.id).await?;
    let name = required_text("name", name, MAX_NAME_BYTES)?;
    let description = description.flatten();
    let group = directory.store.insert_group(organization.id, name, description, directory.now()).await?;
    directory.changed();
    Ok(group)
}

/// Changes the name or description sent; an absent one keeps its value.
pub async fn update(
    directory: &Directory,
    caller: &Caller,
    id: i64,
    name: SentText,
    description: SentText,
) -> Result<Group, Error> {
    let group = load_visible(directory, caller, id).await?;
    require_admin(directory, caller, group.organization_id).await?;
    let name = bounded_text("name", name, MAX_NAME_BYTES)?.unwrap_or_else(|| group.name.clone());
    let description = description.unwrap_or_else(|| group.description.clone());
    let group = directory.store.update_group(group, name, description, directory.now()).await?;
    directory.changed();
    Ok(group)
}

/// Deletes a group; for its organization's admins and global admins.
pub async fn delete(directory: &Directory, caller: &Caller, id: i64) -> Result<(), Error> {
    let group = load_visible(directory, caller, id).await?;
    require_admin(directory, caller, group.organization_id).await?;
    directory.store.delete_group(id).await?;
    directory.changed();
    Ok(())
}

/// The organization of a group the caller may see.
pub async fn organization(directory: &Directory, caller: &Caller, id: i64) -> Result<OrganizationView, Error> {
    let group = load_visible(directory, caller, id).await?;
    organizations::show(directory, caller, group.organization_id).await
}

/// The members of a group the caller may see.
pub async fn members(directory: &Directory, caller: &Caller, id: i64) -> Result<Vec<User>, Error> {
    load_visible(directory, caller, id).await?;
    Ok(directory.store.group_members(id).await?)
}

/// Adds, removes or sets the group's members; only members of its organization can join. The
/// organization is never changed.
pub async fn change_members(
    directory: &Directory,
    caller: &Caller,
    id: i64,
    relation: Relation,
    change: MemberChange,
    ids: Vec<i64>,
) -> Result<(), Error> {
    let group = load_visible(directory, caller, id).await?;
    if relation != Relation::Users {
        return Err(Error::forbidden("A group's organization cannot be changed"));
    }
    require_admin(directory, caller, group.organization_id).await?;
    let store = &directory.store;
    let members: Vec<i64> =
        store.organization_members(group.organization_id).await?.into_iter().map(|(u, _)| u.id).collect();
    if change != MemberChange::Remove && ids.iter().any(|id| !members.contains(id)) {
        return Err(Error::Conflict("Only members of the group's organization can join the group".into()));
    }
    let now = directory.now();
    match change {
        MemberChange::Add => store.add_group_members(id, &ids, now).await?,
        MemberChange::Remove => store.remove_group_members(id, &ids).await?,
        MemberChange::Replace => store.replace_group_members(id, &ids, now).await?,
    }
    directory.changed();
    Ok(())
}
