//! `apikeys`: a user creates keys for themselves (the secret is in the create response only);
//! the owner and admins read, rename and delete them; only admins list every key. The rules are
//! `service::directory::api_keys`.

use async_trait::async_trait;

use super::kind::{
    AttrDef, AttrType, Attributes, Cx, Declaration, FilterDef, FilterType, LinkedIds, Listing, RelDef, ResourceKind,
};
use super::render;
use crate::error::Error;
use crate::http::jsonapi::document::ResourceObject;
use crate::service::directory::api_keys;
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
    AttrDef::read_only("last-used-at", AttrType::DateTime, "Last login with the key (to the minute).").optional(),
    AttrDef::read_only("created-at", AttrType::DateTime, "When the key was created."),
];

static DECLARATION: Declaration = Declaration {
    name: "apikeys",
    description: "A user's API keys: an access key and a secret that log in at POST /jwt/token.",
    attributes: ATTRIBUTES,
    relationships: RELATIONSHIPS,
    filters: &[
        FilterDef { name: "name", column: "name", ty: FilterType::Text },
        FilterDef { name: "user", column: "user_id", ty: FilterType::Integer },
    ],
    ..Declaration::DEFAULTS
};

#[async_trait]
impl ResourceKind for ApiKeys {
    fn declaration(&self) -> &'static Declaration {
        &DECLARATION
    }

    async fn list(&self, cx: &Cx<'_>, params: &ListParams) -> Result<Listing, Error> {
        Ok(Listing::of(&api_keys::list(&cx.state.directory, cx.caller, params).await?, render::api_key))
    }

    async fn show(&self, cx: &Cx<'_>, id: i64) -> Result<ResourceObject, Error> {
        Ok(render::api_key(&api_keys::show(&cx.state.directory, cx.caller, id).await?))
    }

    async fn create(&self, cx: &Cx<'_>, attributes: Attributes, _links: LinkedIds) -> Result<ResourceObject, Error> {
        let created = api_keys::create(
            &cx.state.directory,
            cx.caller,
            attributes.text("name").flatten(),
            attributes.list("scopes"),
            attributes.time("expires-at").flatten(),
        )
        .await?;
        Ok(render::api_key(&created.key).attr("secret-key", created.secret))
    }

    async fn update(&self, cx: &Cx<'_>, id: i64, attributes: Attributes) -> Result<ResourceObject, Error> {
        let key = api_keys::update(&cx.state.directory, cx.caller, id, attributes.text("name")).await?;
        Ok(render::api_key(&key))
    }

    async fn delete(&self, cx: &Cx<'_>, id: i64) -> Result<(), Error> {
        api_keys::delete(&cx.state.directory, cx.state.sessions(), cx.caller, id).await
    }

    async fn related(&self, cx: &Cx<'_>, id: i64, rel: &RelDef) -> Result<Vec<ResourceObject>, Error> {
        if rel.name != "user" {
            return Err(Error::NotFound);
        }
        Ok(vec![render::user(cx.caller, &api_keys::owner(&cx.state.directory, cx.caller, id).await?)])
    }
}
