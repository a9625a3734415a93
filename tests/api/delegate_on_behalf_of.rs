//! A trusted delegate acting on a user's behalf (`X-Authify-On-Behalf-Of`, an email or an id): an
//! unknown user answers 404 and a disabled one 403 (never 401 once the delegate's secret is right,
//! never 500), on {json:api} routes and on plain-JSON ones, and every attempt is audited.

use authify::service::directory::users;
use serde_json::{Value, json};

use crate::audit::events;
use crate::backend_tests;
use crate::support::app::{Backend, TestApp, spawn};
use crate::support::jsonapi::As;

backend_tests!(
    a_delegate_acting_for_an_unknown_email_or_id_gets_a_404_error_document,
    a_delegate_acting_for_a_disabled_user_gets_403_account_disabled,
    a_wrong_delegate_secret_stays_401_whoever_it_names,
    plain_json_routes_answer_404_and_403_for_unknown_and_disabled_users,
);

/// The delegate's credentials, acting for `who`.
fn acting_for(delegate: &As, who: &str) -> As {
    let As::Delegate { access, secret, .. } = delegate else { unreachable!("a delegate") };
    As::Delegate { access: access.clone(), secret: secret.clone(), on_behalf_of: Some(who.to_owned()) }
}

/// A plain-JSON request with the delegate headers: status and body.
async fn plain(app: &TestApp, method: reqwest::Method, path: &str, delegate: &As) -> (u16, Value) {
    let As::Delegate { access, secret, on_behalf_of } = delegate else { unreachable!("a delegate") };
    let mut request =
        app.client.request(method, app.url(path)).header("x-authify-access", access).header("x-authify-secret", secret);
    if let Some(who) = on_behalf_of {
        request = request.header("x-authify-on-behalf-of", who);
    }
    let response = request.send().await.expect("request");
    (response.status().as_u16(), response.json().await.expect("a JSON body"))
}

async fn a_delegate_acting_for_an_unknown_email_or_id_gets_a_404_error_document(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let user = app.insert_user("jo@example.com", true, false).await;
    let portal = app.delegate("portal").await;
    let path = format!("/users/{}", user.id);
    let unknown_id = (user.id + 1000).to_string();

    for who in ["ghost@example.com", unknown_id.as_str(), "not an email", "99999999999999999999"] {
        let response = app.api_get(&path, &acting_for(&portal, who)).await;
        let error = response.error(404);
        assert_eq!(error["status"], "404", "{who}");
        assert_eq!(error["code"], "AUTH-0006", "{who}");
        assert_eq!(error["detail"], "Not found", "{who}");
        assert_eq!(response.header("www-authenticate"), None, "not a credential problem: {who}");
        assert_eq!(response.body["jsonapi"]["version"], "1.0");
    }
    // Writes too: nothing is created for a user who is not there.
    let body = json!({"data": {"type": "organizations", "attributes": {"name": "Ghost Inc"}}});
    let create = app.api("POST", "/organizations", &acting_for(&portal, "ghost@example.com"), Some(body)).await;
    assert_eq!(create.error(404)["code"], "AUTH-0006");
    assert_eq!(app.api_get(&path, &acting_for(&portal, "jo@example.com")).await.status, 200);

    let impersonations = events(&app, &admin, "filter[action]=delegate.impersonate&sort=id").await;
    let sent: Vec<&str> = impersonations.iter().map(|e| e["details"]["on_behalf_of"].as_str().expect("sent")).collect();
    assert_eq!(
        sent,
        [
            "ghost@example.com",
            &unknown_id,
            "not an email",
            "99999999999999999999",
            "ghost@example.com",
            "jo@example.com"
        ]
    );
    for event in &impersonations[..5] {
        assert_eq!(event["actor"], "delegate:portal");
        assert_eq!(event["target"], Value::Null);
        assert_eq!(event["details"]["outcome"], "failure");
        assert_eq!(event["details"]["reason"], "Not found");
    }
    assert_eq!(impersonations[5]["target"], format!("users:{}", user.id));
    assert_eq!(impersonations[5]["details"]["outcome"], "success");
}

async fn a_delegate_acting_for_a_disabled_user_gets_403_account_disabled(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let user = app.insert_user("jo@example.com", true, false).await;
    users::set_disabled(&app.state.directory, app.state.sessions(), user.id, true).await.expect("disable");
    let portal = app.delegate("portal").await;
    let path = format!("/users/{}", user.id);

    for who in ["jo@example.com".to_owned(), user.id.to_string()] {
        let response = app.api_get(&path, &acting_for(&portal, &who)).await;
        let error = response.error(403);
        assert_eq!(error["code"], "AUTH-0002", "{who}");
        assert_eq!(error["detail"], "Account disabled", "{who}");
    }
    users::set_disabled(&app.state.directory, app.state.sessions(), user.id, false).await.expect("enable");
    assert_eq!(app.api_get(&path, &acting_for(&portal, "jo@example.com")).await.status, 200);

    let impersonations = events(&app, &admin, "filter[action]=delegate.impersonate&sort=id").await;
    assert_eq!(impersonations.len(), 3, "{impersonations:#?}");
    for event in &impersonations {
        assert_eq!(event["actor"], "delegate:portal");
        assert_eq!(event["target"], format!("users:{}", user.id), "the user was found");
    }
    assert_eq!(
        impersonations[0]["details"],
        json!({"outcome": "failure", "reason": "Account disabled", "on_behalf_of": "jo@example.com"})
    );
    assert_eq!(impersonations[1]["details"]["on_behalf_of"], user.id.to_string());
    assert_eq!(impersonations[1]["details"]["reason"], "Account disabled");
    assert_eq!(impersonations[2]["details"]["outcome"], "success");
}

async fn a_wrong_delegate_secret_stays_401_whoever_it_names(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let user = app.insert_user("jo@example.com", true, false).await;
    let As::Delegate { access, .. } = app.delegate("portal").await else { unreachable!("a delegate") };
    let wrong = As::Delegate { access, secret: "authify_ds_wrong".into(), on_behalf_of: None };
    let path = format!("/users/{}", user.id);

    for who in ["jo@example.com", "ghost@example.com", "424242"] {
        let response = app.api_get(&path, &acting_for(&wrong, who)).await;
        assert_eq!(response.error(401)["code"], "AUTH-0008", "{who}");
        assert!(response.header("www-authenticate").is_some(), "{who}");
    }
    let impersonations = events(&app, &admin, "filter[action]=delegate.impersonate").await;
    assert!(impersonations.is_empty(), "no impersonation without the delegate's secret: {impersonations:#?}");
}

async fn plain_json_routes_answer_404_and_403_for_unknown_and_disabled_users(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let disabled = app.insert_user("jo@example.com", true, false).await;
    users::set_disabled(&app.state.directory, app.state.sessions(), disabled.id, true).await.expect("disable");
    let portal = app.delegate("portal").await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let not_found = (404, json!({"error": "Not found"}));
    let account_disabled = (403, json!({"error": "Account disabled"}));
    let ghost = acting_for(&portal, "ghost@example.com");
    assert_eq!(plain(&app, get.clone(), "/monitoring/info", &ghost).await, not_found);
    assert_eq!(plain(&app, post.clone(), "/me/totp", &ghost).await, not_found);
    let unknown_id = acting_for(&portal, &(disabled.id + 1000).to_string());
    assert_eq!(plain(&app, post.clone(), "/me/totp", &unknown_id).await, not_found);
    let jo = acting_for(&portal, "jo@example.com");
    assert_eq!(plain(&app, get, "/monitoring/info", &jo).await, account_disabled);
    assert_eq!(plain(&app, post, "/me/totp", &jo).await, account_disabled);

    let impersonations = events(&app, &admin, "filter[action]=delegate.impersonate&sort=id").await;
    let reasons: Vec<&str> = impersonations.iter().map(|e| e["details"]["reason"].as_str().expect("reason")).collect();
    assert_eq!(reasons, ["Not found", "Not found", "Not found", "Account disabled", "Account disabled"]);
}
