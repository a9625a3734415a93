//! The {json:api} resources (SPEC §4): one module per type declaring its attributes,
//! relationships, allow-lists and access rules, and one generic engine serving every type at
//! `/{type}`, `/{type}/{id}`, `/{type}/{id}/{relationship}` and
//! `/{type}/{id}/relationships/{relationship}`.

mod apikeys;
mod attributes;
mod audit_events;
mod clients;
mod delegates;
mod engine;
mod groups;
mod identities;
mod includes;
pub mod kind;
mod openapi;
mod organizations;
mod pagination;
mod params;
mod passkeys;
mod render;
mod sessions;
mod trail;
mod users;

use poem::Route;

use engine::{ResourceEndpoint, Shape};
use kind::ResourceKind;

static KINDS: &[&dyn ResourceKind] = &[
    &users::Users,
    &organizations::Organizations,
    &groups::Groups,
    &apikeys::ApiKeys,
    &identities::Identities,
    &passkeys::Passkeys,
    &delegates::TrustedDelegates,
    &clients::Clients,
    &audit_events::AuditEvents,
];

/// Every resource type.
pub fn kinds() -> &'static [&'static dyn ResourceKind] {
    KINDS
}

pub fn kind_named(name: &str) -> Option<&'static dyn ResourceKind> {
    KINDS.iter().copied().find(|k| k.name() == name)
}

/// Every {json:api} route template, as [`routes`] registers them.
pub fn route_templates() -> Vec<String> {
    let mut templates = vec!["/organizations/mine".to_owned(), "/me".to_owned(), "/users/:id/sessions".to_owned()];
    for kind in KINDS {
        let base = format!("/{}", kind.name());
        templates.extend([
            format!("{base}/:id"),
            format!("{base}/:id/:rel"),
            format!("{base}/:id/relationships/:rel"),
            format!("{base}/*rest"),
        ]);
        templates.push(base);
    }
    templates
}

/// Adds every {json:api} route to `route`.
pub fn routes(mut route: Route) -> Route {
    route = route
        .at("/organizations/mine", ResourceEndpoint { kind: &organizations::Organizations, shape: Shape::Mine })
        .at("/me", ResourceEndpoint { kind: &users::Users, shape: Shape::Me })
        .at("/users/:id/sessions", ResourceEndpoint { kind: &users::Users, shape: Shape::Sessions });
    for kind in KINDS.iter().copied() {
        let base = format!("/{}", kind.name());
        route = route
            .at(&base, ResourceEndpoint { kind, shape: Shape::Collection })
            .at(format!("{base}/:id"), ResourceEndpoint { kind, shape: Shape::Item })
            .at(format!("{base}/:id/:rel"), ResourceEndpoint { kind, shape: Shape::Related })
            .at(format!("{base}/:id/relationships/:rel"), ResourceEndpoint { kind, shape: Shape::Relationship })
            .at(format!("{base}/*rest"), ResourceEndpoint { kind, shape: Shape::Unknown });
    }
    route
}

pub use openapi::add_to_spec;

#[cfg(test)]
mod tests {
    use super::*;

    /// `render` lists each type's relationship names apart from the declarations; they must agree.
    #[test]
    fn rendered_relationships_are_the_declared_ones() {
        let rendered: &[(&dyn ResourceKind, &[&str])] = &[
            (&users::Users, render::USER_RELATIONSHIPS),
            (&organizations::Organizations, render::ORGANIZATION_RELATIONSHIPS),
            (&groups::Groups, render::GROUP_RELATIONSHIPS),
            (&apikeys::ApiKeys, render::API_KEY_RELATIONSHIPS),
            (&identities::Identities, render::IDENTITY_RELATIONSHIPS),
            (&passkeys::Passkeys, render::API_KEY_RELATIONSHIPS),
            (&delegates::TrustedDelegates, &[]),
            (&clients::Clients, &[]),
            (&audit_events::AuditEvents, &[]),
        ];
        assert_eq!(rendered.len(), KINDS.len());
        for (kind, names) in rendered {
            let declared: Vec<&str> = kind.relationships().iter().map(|r| r.name).collect();
            assert_eq!(declared, *names, "{}", kind.name());
        }
    }
}
