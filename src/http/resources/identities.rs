//! `identities`: a user's logins at other services. Only trusted delegates (and, later, the
//! external-login flow) attach them, so an ordinary user can never claim someone else's external
//! account; delegates and admins list them; the owner and admins read and delete them.

use async_trait::async_trait;

use super::attributes::rfc3339;
use super::kind::{AttrDef, AttrType, Attributes, Cx, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind};
use super::users;
use crate::domain::InvalidValue;
use crate::error::Error;
use crate::http::jsonapi::document::{Identifier, Linkage, ResourceObject};
use crate::service::auth::delegate_auth::scopes_of_delegate;
use crate::service::auth::issue_token::ADMIN_ACCESS;
use crate::store::identities::Identity;
use crate::store::listing::ListParams;

pub struct Identities;

const RELATIONSHIPS: &[RelDef] = &[RelDef { name: "user", target: "users", to_many: false }];

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::on_create("provider", AttrType::String, "The other service, for example `github`.").required(),
    AttrDef::on_create("uid", AttrType::String, "The user's id at that service.").required(),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the identity was linked."),
];

pub fn render(identity: &Identity) -> ResourceObject {
    let mut object = ResourceObject::new("identities", identity.id, &["user"])
        .attr("provider", identity.provider.clone())
        .attr("uid", identity.uid.clone())
        .attr("created-at", rfc3339(identity.created_at));
    object.set_linkage("user", Linkage::ToOne(Some(Identifier::new("users", identity.user_id))));
    object
}

fn may_read(cx: &Cx<'_>, identity: &Identity) -> bool {
    cx.caller.is_self_or_admin(identity.user_id) || cx.caller.is_delegate()
}

async fn load_visible(cx: &Cx<'_>, id: i64) -> Result<Identity, Error> {
    let identity = cx.state.store.identity_by_id(id).await?.ok_or(Error::NotFound)?;
    if may_read(cx, &identity) { Ok(identity) } else { Err(Error::NotFound) }
}

fn required_text(attributes: &Attributes, name: &'static str, max: usize) -> Result<String, Error> {
    attributes.bounded_text(name, max)?.ok_or_else(|| InvalidValue::new(name, "is required").into())
}

#[async_trait]
impl ResourceKind for Identities {
    fn name(&self) -> &'static str {
        "identities"
    }
    fn description(&self) -> &'static str {
        "A user's logins at other services; attached only by trusted delegates."
    }
    fn attributes(&self) -> &'static [AttrDef] {
        ATTRIBUTES
    }
    fn relationships(&self) -> &'static [RelDef] {
        RELATIONSHIPS
    }
    fn creatable_relationships(&self) -> &'static [&'static str] {
        &["user"]
    }
    fn filters(&self) -> &'static [FilterDef] {
        &[
            FilterDef { name: "provider", column: "provider", ty: FilterType::Text },
            FilterDef { name: "uid", column: "uid", ty: FilterType::Text },
            FilterDef { name: "user", column: "user_id", ty: FilterType::Integer },
        ]
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        if !cx.caller.is_admin() && !cx.caller.is_delegate() {
            return Err(Error::forbidden(
                "Only admins and delegates list identities; users see /users/{id}/identities",
            ));
        }
        let page = cx.state.store.list_identities(params).await?;
        Ok(Listing { items: page.rows.iter().map(render).collect(), total: page.total })
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render(&load_visible(cx, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, links: LinkedIds) -> Result<ResourceObject, Error> {
        let Some(delegate) = &cx.caller.delegate else {
            return Err(Error::forbidden("Identities are attached only by trusted delegates"));
        };
        let user_id = match (links.get("user"), cx.caller.user_id()) {
            (Some([id]), _) => *id,
            (None, Some(id)) => id,
            _ => return Err(Error::bad_document("/data/relationships/user", "is required: the user to link")),
        };
        let user = cx.state.store.user_by_id(user_id).await?.ok_or(Error::NotFound)?;
        // An identity login never carries more than the delegate's scopes; linking an admin is
        // still refused to a delegate that is no admin itself, so it cannot even try.
        if user.admin && !scopes_of_delegate(delegate).iter().any(|s| s == ADMIN_ACCESS) {
            return Err(Error::forbidden("A delegate without admin_access cannot link an identity to an admin"));
        }
        let provider = required_text(&attributes, "provider", 64)?;
        let uid = required_text(&attributes, "uid", 255)?;
        let now = cx.state.now();
        let identity = cx.state.store.insert_identity(user_id, Some(delegate.id), &provider, &uid, now).await?;
        Ok(render(&identity))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, _attributes: Attributes) -> Result<ResourceObject, Error> {
        load_visible(cx, id).await?;
        Err(Error::forbidden("Identities cannot be changed; delete and link again"))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        let identity = load_visible(cx, id).await?;
        if !cx.caller.is_self_or_admin(identity.user_id) {
            return Err(Error::forbidden("Only the owner and admins remove an identity"));
        }
        cx.state.store.delete_identity(id).await?;
        Ok(())
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        let identity = load_visible(cx, id).await?;
        if rel.name != "user" {
            return Err(Error::NotFound);
        }
        let user = cx.state.store.user_by_id(identity.user_id).await?.ok_or(Error::NotFound)?;
        Ok(vec![users::render(cx.caller, &user)])
    }
}
