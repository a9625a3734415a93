//! A user changing their own email through `PATCH /users/:id`: the new address becomes theirs only
//! after `POST /registration/verify` with the token mailed to it.

use serde_json::json;

use crate::backend_tests;
use crate::registration::{post, start_with_sink, verify};
use crate::support::app::{Backend, PASSWORD};

backend_tests!(a_users_new_email_becomes_theirs_only_after_it_is_verified);

async fn a_users_new_email_becomes_theirs_only_after_it_is_verified(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |_| {}).await;
    let (id, bob) = app.user_with_token("bob@example.com", false).await;
    app.insert_user("taken@example.com", true, false).await;
    let patch =
        |email: &str| Some(json!({"data": {"type": "users", "id": id.to_string(), "attributes": {"email": email}}}));

    let taken = app.api("PATCH", &format!("/users/{id}"), &bob, patch("taken@example.com")).await;
    assert_eq!(taken.status, 409, "{:?}", taken.body);
    let changed = app.api("PATCH", &format!("/users/{id}"), &bob, patch("New.Bob@example.com")).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(changed.body["data"]["attributes"]["email"], json!("bob@example.com"), "pending until verified");
    assert_eq!(app.login("bob@example.com", PASSWORD).await.0, 200);

    let mail = sink.wait_for("new.bob@example.com", 1).await.pop().expect("mail");
    let token = mail.token();
    let failed = (422, json!({"error": "Verification Failed"}));
    assert_eq!(verify(&app, "new.bob@example.com", "wrong password", &token).await, failed);
    let reset = json!({"email": "new.bob@example.com", "token": token, "password": "another password"});
    assert_eq!(post(&app, "/registration/forgot_password", &[], &reset).await, failed, "not a reset token");

    let (status, body) = verify(&app, "new.bob@example.com", PASSWORD, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["id"].clone(), body["email"].clone()), (json!(id), json!("new.bob@example.com")));
    assert_eq!(app.login("new.bob@example.com", PASSWORD).await.0, 200);
    assert_eq!(app.login("bob@example.com", PASSWORD).await.0, 401);
    assert_eq!(verify(&app, "new.bob@example.com", PASSWORD, &token).await, failed, "single use");
}
