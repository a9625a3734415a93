//! The hosted sign-in page answers wrong credentials the way `POST /session` does: the same
//! limits and lockout, the same audit event, and an error next to the field it concerns.

use authify::crypto::Algorithm;
use serde_json::Value;

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD};
use crate::support::oidc::{self, Landing, browser, submit_login};

backend_tests!(wrong_passwords_on_the_hosted_page_count_toward_the_lockout_and_are_audited);

async fn wrong_passwords_on_the_hosted_page_count_toward_the_lockout_and_are_audited(backend: Backend) {
    let app = oidc::provider(backend, Algorithm::Es256).await;
    app.insert_user("ada@example.com", true, false).await;
    app.insert_user("admin@example.com", true, true).await;
    let admin = app.token_for("admin@example.com").await;
    let browser = browser();
    let page = browser.get(app.url("/login")).send().await.expect("page").text().await.expect("html");
    let mut statuses = Vec::new();
    for _ in 0..app.settings.lockout_threshold {
        let Landing::Page(status, html) =
            submit_login(&app, &browser, &page, &[("email", "ada@example.com"), ("password", "wrong password")]).await
        else {
            panic!("a wrong password shows the page again");
        };
        assert!(html.contains(r#"id="password-error">Wrong email or password."#), "{html}");
        assert!(html.contains(r#"aria-invalid="true" aria-describedby="password-error""#));
        assert!(html.contains(r#"value="ada@example.com""#), "the email is kept");
        statuses.push(status);
    }
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    let Landing::Page(status, html) =
        submit_login(&app, &browser, &page, &[("email", "ada@example.com"), ("password", PASSWORD)]).await
    else {
        panic!("locked");
    };
    assert_eq!(status, 429, "even the right password waits out the lockout");
    assert!(html.contains("Too many attempts"), "{html}");

    // A form without the CSRF cookie's token is refused before any password is checked.
    let stranger = reqwest::Client::new();
    let forged = stranger
        .post(app.url("/login"))
        .form(&[("csrf", "x"), ("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), 400);

    app.state.audit.flush().await;
    let events: Value = app
        .client
        .get(app.url("/audit-events?filter[action]=login.password"))
        .bearer_auth(&admin)
        .header("accept", "application/vnd.api+json")
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let failures = events["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["attributes"]["details"]["outcome"] == "failure")
        .count();
    assert!(failures >= app.settings.lockout_threshold as usize, "{events}");
}
