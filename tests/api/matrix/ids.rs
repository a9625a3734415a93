//! Ids that are missing, invisible or not numbers answer 404 on every route of every type, for
//! every method, never 400 or 500.

use serde_json::json;

use super::world;
use crate::backend_tests;
use crate::support::app::Backend;

backend_tests!(ids_that_are_missing_or_not_numbers_get_404_on_every_route);

async fn ids_that_are_missing_or_not_numbers_get_404_on_every_route(backend: Backend) {
    let w = world(backend).await;
    let mut ex = w.expect();
    let types = [
        ("users", "organizations"),
        ("organizations", "users"),
        ("groups", "users"),
        ("apikeys", "user"),
        ("identities", "user"),
        ("trusted-delegates", "anything"),
    ];
    for (kind, rel) in types {
        for id in ["999999", "abc", "1.5", "-1", "99999999999999999999", "0x1"] {
            let item = format!("/{kind}/{id}");
            let body = Some(json!({"data": {"type": kind, "id": id, "attributes": {}}}));
            ex.table("GET", &item, None, &[(&w.admin, 404)]).await;
            if kind != "trusted-delegates" {
                ex.table("GET", &item, None, &[(&w.delegate, 404)]).await;
            }
            ex.table("PATCH", &item, body, &[(&w.admin, 404)]).await;
            ex.table("DELETE", &item, None, &[(&w.admin, 404)]).await;
            ex.table("GET", &format!("{item}/{rel}"), None, &[(&w.admin, 404)]).await;
            let relationship = format!("{item}/relationships/{rel}");
            ex.table("GET", &relationship, None, &[(&w.admin, 404)]).await;
            // Read-only relationships refuse every write alike (403), whatever the id.
            if matches!(kind, "organizations" | "groups") {
                ex.table("POST", &relationship, Some(json!({"data": []})), &[(&w.admin, 404)]).await;
            }
        }
        // A relationship the type does not have.
        ex.table("GET", &format!("/{kind}/1/nonsense"), None, &[(&w.admin, 404)]).await;
        ex.table("GET", &format!("/{kind}/1/relationships/nonsense"), None, &[(&w.admin, 404)]).await;
    }
    // An existing id the caller may not see is as missing as one that never existed.
    let key =
        w.app.api("POST", "/apikeys", &w.bob.who, Some(json!({"data": {"type": "apikeys", "attributes": {}}}))).await;
    let hidden = ex.status(&w.carol, "GET", &format!("/apikeys/{}", key.id()), None, 404).await;
    let missing = ex.status(&w.carol, "GET", "/apikeys/999999", None, 404).await;
    for member in ["status", "code", "title"] {
        let (a, b) = (&hidden.body["errors"][0][member], &missing.body["errors"][0][member]);
        ex.check(a == b, format!("an invisible key's 404 {member} matches a missing one's: {a} vs {b}"));
    }
    ex.done();
}
