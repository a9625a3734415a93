//! Mail templates: request templates (delegates only, `{base64}`, HTML escaping, parse errors),
//! operator templates from AUTHIFY_TEMPLATES_DIR, and delegate signups with `via`.

use std::sync::Arc;

use authify::app::Application;
use authify::clock::ManualClock;
use base64::Engine;
use serde_json::json;

use crate::backend_tests;
use crate::registration::{post, signup, start_with_sink};
use crate::support::app::{Backend, TestDatabase, spawn, test_settings};
use crate::support::credentials::insert_delegate;

backend_tests!(
    anonymous_request_templates_are_refused_and_no_user_is_created,
    a_delegates_base64_template_is_rendered_with_escaped_html,
    a_request_template_that_does_not_parse_is_422_and_creates_no_user,
    operator_templates_replace_the_built_in_ones_and_unknown_variables_render_empty,
    a_broken_template_stops_start_up_naming_the_file,
    a_delegate_signup_with_via_is_verified_with_the_identity_and_an_act_token,
);

async fn anonymous_request_templates_are_refused_and_no_user_is_created(backend: Backend) {
    let app = spawn(backend).start().await;
    let templates = json!({"email": {"subject": "Hi", "body": "{{token}}"}});
    let body = json!({"email": "anon@example.com", "password": "long enough", "templates": templates});
    let (status, answer) = signup(&app, body).await;
    assert_eq!((status, answer), (403, json!({"error": "Request templates are accepted from trusted delegates only"})));
    assert!(app.state.store.user_by_email("anon@example.com").await.expect("lookup").is_none());
    let forgot = json!({"email": "anon@example.com", "templates": templates});
    assert_eq!(post(&app, "/registration/forgot_password", &[], &forgot).await.0, 403);
}

async fn a_delegates_base64_template_is_rendered_with_escaped_html(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |_| {}).await;
    let (access, secret) = insert_delegate(&app, "portal").await;
    let headers = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];
    let encoded = base64::engine::general_purpose::STANDARD
        .encode("Your code is: '{{token}}' and it is valid until {{valid_until}}.{{ not_a_variable }}");
    let templates = json!({"email": {
        "subject": "Code for {{ name }}",
        "body": format!("{{base64}}{encoded}"),
        "html_body": "<p>Hi {{ name }}, your code is <b>{{ token }}</b></p>",
    }});
    let name = "<script>alert('x')</script> & co";
    let body = json!({"email": "shop@example.com", "password": "long enough", "name": name, "templates": templates});
    let (status, answer) = post(&app, "/registration/signup", &headers, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"], json!(false));

    let mail = sink.wait_for("shop@example.com", 1).await.pop().expect("mail");
    assert_eq!(mail.subject, format!("Code for {name}"));
    let text = mail.text.trim_end();
    let token = text.strip_prefix("Your code is: '").and_then(|t| t.split('\'').next()).expect("token");
    assert!(token.len() >= 43, "{text}");
    assert!(text.ends_with('.') && text.contains("valid until 20"), "{text}");
    let html = mail.html.expect("HTML part");
    assert!(html.contains("Hi &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co, your code is <b>"), "{html}");
    let verified = post(
        &app,
        "/registration/verify",
        &[],
        &json!({"email": "shop@example.com", "password": "long enough", "token": token}),
    )
    .await;
    assert_eq!(verified.0, 200, "{}", verified.1);
}

async fn a_request_template_that_does_not_parse_is_422_and_creates_no_user(backend: Backend) {
    let app = spawn(backend).settings(|s| s.request_templates_for_all = true).start().await;
    let templates = json!({"email": {"body": "{% if token %}never closed"}});
    let body = json!({"email": "broken@example.com", "password": "long enough", "templates": templates});
    let (status, answer) = signup(&app, body).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["error"].as_str().expect("error").starts_with("Invalid template: body: "), "{answer}");
    assert!(app.state.store.user_by_email("broken@example.com").await.expect("lookup").is_none());

    let loops = json!({"email": {"body": "{% for i in (1..100000000) %}{{ token }}{% endfor %}"}});
    let body = json!({"email": "loop@example.com", "password": "long enough", "templates": loops});
    assert_eq!(signup(&app, body).await.0, 422, "loops are not part of the mail dialect");
    let fine = json!({"email": {"subject": "Welcome {{ handle }}"}});
    let body = json!({"email": "fine@example.com", "password": "long enough", "templates": fine});
    assert_eq!(signup(&app, body).await.0, 200, "allowed for everyone by the setting");
}

async fn operator_templates_replace_the_built_in_ones_and_unknown_variables_render_empty(backend: Backend) {
    let templates = tempfile::tempdir().expect("tempdir");
    std::fs::write(templates.path().join("verify.subject.liquid"), "Welcome {{ handle }}{{ company }}!")
        .expect("write");
    std::fs::write(templates.path().join("verify.text.liquid"), "Code: {{ token }}").expect("write");
    let dir = templates.path().to_path_buf();
    let (app, sink) = start_with_sink(backend, move |s| s.templates_dir = Some(dir)).await;
    assert_eq!(signup(&app, json!({"email": "op@example.com", "password": "long enough"})).await.0, 200);
    let mail = sink.wait_for("op@example.com", 1).await.pop().expect("mail");
    assert_eq!(mail.subject, "Welcome op!");
    assert!(mail.text.starts_with("Code: "), "{}", mail.text);
    assert!(mail.html.expect("the built-in HTML body stays").contains("<code>"));
}

async fn a_broken_template_stops_start_up_naming_the_file(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).expect("mkdir");
    std::fs::write(templates.join("reset.html.liquid"), "<p>{{ token </p>").expect("write");
    let db = Arc::new(TestDatabase::create(&backend, dir.path()).await);
    let mut settings = test_settings(dir.path(), &db.url, authify::crypto::Algorithm::Es256);
    settings.templates_dir = Some(templates);
    let result = Application::build(settings, Arc::new(ManualClock::new())).await;
    let message = result.err().expect("start-up fails").to_string();
    assert!(message.starts_with("AUTHIFY_TEMPLATES_DIR: template "), "{message}");
    assert!(message.contains("reset.html.liquid"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
}

async fn a_delegate_signup_with_via_is_verified_with_the_identity_and_an_act_token(backend: Backend) {
    let app = spawn(backend).start().await;
    let (access, secret) = insert_delegate(&app, "portal").await;
    let headers = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];
    let body = json!({"email": "octo@example.com", "via": {"provider": "github", "uid": "583231"}});
    let (status, answer) = post(&app, "/registration/signup", &headers, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"], json!(true));
    let claims = app.verify(answer["jwt"].as_str().expect("jwt")).await;
    assert_eq!(claims["payload"]["act"], json!({"sub": "delegate:portal"}));
    let identity =
        app.state.store.identity_by_provider_uid("github", "583231").await.expect("lookup").expect("identity");
    assert_eq!(json!(identity.user_id), answer["id"]);
    assert!(app.state.store.outbox_for("octo@example.com").await.expect("outbox").is_empty());

    let again = json!({"email": "other@example.com", "via": {"provider": "github", "uid": "583231"}});
    let (status, _) = post(&app, "/registration/signup", &headers, &again).await;
    assert_eq!(status, 422, "an identity links one user");
    assert!(app.state.store.user_by_email("other@example.com").await.expect("lookup").is_none(), "one transaction");

    let anonymous =
        json!({"email": "anon@example.com", "password": "long enough", "via": {"provider": "github", "uid": "1"}});
    let (status, answer) = signup(&app, anonymous).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["verified"], json!(false), "anonymous via is ignored");
    assert!(answer.get("jwt").is_none());
    assert!(app.state.store.identity_by_provider_uid("github", "1").await.expect("lookup").is_none());
    let (status, _) = post(
        &app,
        "/registration/signup",
        &[("X-Authify-Access", access.as_str()), ("X-Authify-Secret", "bad")],
        &json!({"email": "x@example.com"}),
    )
    .await;
    assert_eq!(status, 401, "bad delegate credentials");
}
