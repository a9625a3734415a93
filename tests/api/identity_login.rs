//! Delegate identity logins on `POST /jwt/token` (`X-Authify-Access` / `X-Authify-Secret` +
//! `provider` / `uid`), and which credentials are judged when a request carries several kinds.

use serde_json::json;

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::credentials::{create_key, insert_delegate, token_request, verified_claims};

backend_tests!(
    a_delegate_gets_a_token_for_an_identitys_user_with_an_act_claim,
    identity_login_failures_get_the_same_401,
    a_disabled_identity_user_gets_403,
    one_kind_of_credentials_is_judged_with_no_fallback,
);

async fn a_delegate_gets_a_token_for_an_identitys_user_with_an_act_claim(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("octocat@example.com", true, true).await;
    app.state.store.insert_identity(user.id, None, "github", "583231", app.clock_now()).await.expect("identity");
    let (access, secret) = insert_delegate(&app, "portal").await;
    let headers = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];

    let body = json!({"provider": "github", "uid": "583231", "inject": {"via": "portal"}});
    let claims = verified_claims(&app, &token_request(&app, &headers, &body).await).await;
    assert_eq!(claims["act"], json!({"sub": "delegate:portal"}));
    assert_eq!(claims["sub"], json!(user.id.to_string()));
    assert_eq!(claims["user"]["username"], "octocat@example.com");
    assert_eq!(claims["scopes"], json!(["user_access", "admin_access"]));
    assert_eq!(claims["custom"], json!({"via": "portal"}));

    // Header names are case-insensitive, as HTTP says.
    let lower = [("x-authify-access", access.as_str()), ("x-authify-secret", secret.as_str())];
    let body = json!({"provider": "github", "uid": "583231"});
    assert_eq!(token_request(&app, &lower, &body).await.0, 200);
}

async fn identity_login_failures_get_the_same_401(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("octocat@example.com", true, false).await;
    let unverified = app.insert_user("fresh@example.com", false, false).await;
    app.state.store.insert_identity(user.id, None, "github", "1", app.clock_now()).await.expect("identity");
    app.state.store.insert_identity(unverified.id, None, "github", "2", app.clock_now()).await.expect("identity");
    let (access, secret) = insert_delegate(&app, "portal").await;
    let good = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];
    let wrong_secret = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", "0000")];
    let unknown_delegate = [("X-Authify-Access", "ffff"), ("X-Authify-Secret", secret.as_str())];
    let only_access = [("X-Authify-Access", access.as_str())];
    let identity = json!({"provider": "github", "uid": "1"});

    let failures = [
        token_request(&app, &wrong_secret, &identity).await,
        token_request(&app, &unknown_delegate, &identity).await,
        token_request(&app, &only_access, &identity).await,
        token_request(&app, &[], &identity).await,
        token_request(&app, &good, &json!({"provider": "github", "uid": "404"})).await,
        token_request(&app, &good, &json!({"provider": "gitlab", "uid": "1"})).await,
        token_request(&app, &good, &json!({"provider": "github"})).await,
        token_request(&app, &good, &json!({"uid": "1"})).await,
        token_request(&app, &good, &json!({"provider": "github", "uid": "2"})).await,
    ];
    for (status, body) in &failures {
        assert_eq!(*status, 401);
        assert_eq!(*body, json!({"error": "Invalid credentials"}));
    }
    assert_eq!(token_request(&app, &good, &identity).await.0, 200);
}

async fn a_disabled_identity_user_gets_403(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("gone@example.com", true, false).await;
    app.state.store.insert_identity(user.id, None, "github", "7", app.clock_now()).await.expect("identity");
    authify::service::directory::users::set_disabled(&app.state.directory, app.state.sessions(), user.id, true)
        .await
        .expect("disable");
    let (access, secret) = insert_delegate(&app, "portal").await;
    let headers = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];
    let answer = token_request(&app, &headers, &json!({"provider": "github", "uid": "7"})).await;
    assert_eq!(answer, (403, json!({"error": "Account disabled"})));
}

/// The rule of docs/routes.md: `provider`/`uid` → identity login; else an access key → API key; else email
/// and password. A failure of the chosen kind is final.
async fn one_kind_of_credentials_is_judged_with_no_fallback(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = app.insert_user("both@example.com", true, false).await;
    let other = app.insert_user("other@example.com", true, false).await;
    app.state.store.insert_identity(other.id, None, "github", "9", app.clock_now()).await.expect("identity");
    let key = create_key(&app, &user, None, None).await;
    let (access, secret) = insert_delegate(&app, "portal").await;
    let delegate = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];

    // A good key beats a wrong password, and a wrong key is not rescued by a good password.
    let body = json!({"access_key": key.key.access_key, "secret_key": key.secret,
                      "email": "other@example.com", "password": "wrong password"});
    assert_eq!(username(&app, token_request(&app, &[], &body).await).await, "both@example.com");
    let body = json!({"access_key": key.key.access_key, "secret_key": "authify_sk_wrong",
                      "email": "both@example.com", "password": PASSWORD});
    assert_eq!(token_request(&app, &[], &body).await.0, 401);

    // The underscored spelling wins over the dashed one when both are sent.
    let body = json!({"access_key": key.key.access_key, "secret_key": key.secret,
                      "access-key": "0000", "secret-key": "wrong"});
    assert_eq!(token_request(&app, &[], &body).await.0, 200);
    let body = json!({"access_key": "0000", "secret_key": "wrong",
                      "access-key": key.key.access_key, "secret-key": key.secret});
    assert_eq!(token_request(&app, &[], &body).await.0, 401);

    // An identity in the body makes it an identity login: other credentials are not looked at.
    let body = json!({"provider": "github", "uid": "9", "access_key": key.key.access_key, "secret_key": key.secret});
    assert_eq!(username(&app, token_request(&app, &delegate, &body).await).await, "other@example.com");
    assert_eq!(token_request(&app, &[], &body).await.0, 401, "no delegate headers: no fallback to the key");

    // Delegate headers alone do not make an identity login; the body's credentials decide.
    let body = json!({"email": "both@example.com", "password": PASSWORD});
    assert_eq!(username(&app, token_request(&app, &delegate, &body).await).await, "both@example.com");
    assert_eq!(token_request(&app, &delegate, &json!({})).await.0, 401);
}

async fn username(app: &TestApp, answer: (u16, serde_json::Value)) -> serde_json::Value {
    verified_claims(app, &answer).await["user"]["username"].clone()
}
