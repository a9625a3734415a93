//! `apikeys`: a user creates keys for themselves (the secret is in the create response only);
//! the owner and admins read, rename and delete them; only admins list every key.

use async_trait::async_trait;

use super::attributes::rfc3339;
use super::kind::{AttrDef, AttrType, Attributes, Cx, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind};
use super::users;
use crate::error::Error;
use crate::http::jsonapi::document::{Identifier, Linkage, ResourceObject};
use crate::service::directory::api_keys::{self, key_scopes};
use crate::store::api_keys::ApiKey;
use crate::store::listing::ListParams;

pub struct ApiKeys;

const RELATIONSHIPS: &[RelDef] = &[RelDef { name: "user", target: "users", to_many: false }];

const ATTRIBUTES: &[AttrDef] = &[
    AttrDef::writable("name", AttrType::String, "A label for the key."),
    AttrDef::read_only("access-key", AttrType::String, "Identifies the key (20 hex characters); not secret."),
    AttrDef::read_only(
        "secret-key",
        AttrType::String,
        "`authify_sk_` + 64 hex characters; only in the response that creates the key.",
    ),
    AttrDef::on_create("scopes", AttrType::StringList, "Scopes of tokens from this key; a subset of the owner's."),
    AttrDef::on_create("expires-at", AttrType::DateTime, "After this the key no longer logs in."),
    AttrDef::read_only("last-used-at", AttrType::DateTime, "Last login with the key (to the minute)."),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the key was created."),
];

pub fn render(key: &ApiKey) -> ResourceObject {
    let mut object = ResourceObject::new("apikeys", key.id, &["user"])
        .attr("name", key.name.clone())
        .attr("access-key", key.access_key.clone())
        .attr("scopes", key_scopes(key))
        .attr("expires-at", key.expires_at.map(rfc3339))
        .attr("last-used-at", key.last_used_at.map(rfc3339))
        .attr("created-at", rfc3339(key.created_at));
    object.set_linkage("user", Linkage::ToOne(Some(Identifier::new("users", key.user_id))));
    object
}

/// A user's keys (the caller must be the user or an admin; checked by the caller of this).
pub async fn of_user(cx: &Cx<'_>, user_id: i64) -> Result<Vec<ResourceObject>, Error> {
    Ok(cx.state.store.api_keys_of_user(user_id).await?.iter().map(render).collect())
}

async fn load_visible(cx: &Cx<'_>, id: i64) -> Result<ApiKey, Error> {
    let key = cx.state.store.api_key_by_id(id).await?.ok_or(Error::NotFound)?;
    if cx.caller.is_self_or_admin(key.user_id) { Ok(key) } else { Err(Error::NotFound) }
}

#[async_trait]
impl ResourceKind for ApiKeys {
    fn name(&self) -> &'static str {
        "apikeys"
    }
    fn description(&self) -> &'static str {
        "A user's API keys: an access key and a secret that log in at POST /jwt/token."
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
            FilterDef { name: "user", column: "user_id", ty: FilterType::Integer },
        ]
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        if !cx.caller.is_admin() {
            return Err(Error::forbidden("Only admins list every key; users see /users/{id}/apikeys"));
        }
        let page = cx.state.store.list_api_keys(params).await?;
        Ok(Listing { items: page.rows.iter().map(render).collect(), total: page.total })
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render(&load_visible(cx, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        let owner = cx.caller.require_user()?;
        let created = api_keys::create_api_key_within(
            &cx.state.directory,
            owner,
            cx.caller.scopes(),
            attributes.text("name").flatten(),
            attributes.list("scopes"),
            attributes.time("expires-at").flatten(),
        )
        .await?;
        Ok(render(&created.key).attr("secret-key", created.secret))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, attributes: Attributes) -> Result<ResourceObject, Error> {
        let key = load_visible(cx, id).await?;
        let name = attributes.text("name").unwrap_or_else(|| key.name.clone());
        let key = api_keys::rename_api_key(&cx.state.directory, key, name).await?;
        Ok(render(&key))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        load_visible(cx, id).await?;
        api_keys::delete_api_key(&cx.state.directory, cx.state.sessions(), id).await?;
        Ok(())
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        let key = load_visible(cx, id).await?;
        if rel.name != "user" {
            return Err(Error::NotFound);
        }
        let user = cx.state.store.user_by_id(key.user_id).await?.ok_or(Error::NotFound)?;
        Ok(vec![users::render(cx.caller, &user)])
    }
}
