//! The audit trail: each audited action leaves exactly the entry expected, readable by admins at
//! `/audit-events` ({json:api}, read-only, filtered, newest first, paginated).

use serde_json::{Value, json};

use authify::runtime::audit::{Actor, AuditEvent};

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::credentials::{create_key, key_login, token_request};
use crate::support::jsonapi::{As, linkage};
use crate::support::oidc;

backend_tests!(
    password_logins_are_audited_with_the_request_id_and_client_address,
    api_key_logins_are_audited_by_access_key,
    delegate_authentication_and_impersonation_by_email_and_by_id_are_audited,
    identity_logins_are_audited_for_the_delegate,
    admin_changes_through_the_api_are_audited_once_each,
    audit_events_filter_by_actor_action_target_and_time_and_paginate_newest_first,
    audit_events_are_read_only_and_for_admins_only,
    a_burst_of_events_is_written_whole_and_in_order,
    a_machines_repeats_are_one_row_with_their_count_and_a_persons_are_not,
);

/// The events matching `query` (for example `filter[action]=login.password`), once the writer has
/// written everything recorded so far.
pub async fn events(app: &TestApp, admin: &As, query: &str) -> Vec<Value> {
    app.state.audit.flush().await;
    let response = app.api_get(&format!("/audit-events?{query}"), admin).await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.body["data"].as_array().expect("data").iter().map(|r| r["attributes"].clone()).collect()
}

/// An admin who logs in by password (which leaves one `login.password` event).
async fn admin(app: &TestApp) -> (i64, As) {
    app.user_with_token("root@example.com", true).await
}

async fn password_logins_are_audited_with_the_request_id_and_client_address(backend: Backend) {
    let app = spawn(backend).start().await;
    let (admin_id, admin) = admin(&app).await;
    let user = app.insert_user("jo@example.com", true, false).await;

    let wrong = app.post_json("/jwt/token", &json!({"email": "jo@example.com", "password": "wrong one"})).await;
    assert_eq!(wrong.status(), 401);
    let request_id = wrong.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert_eq!(wrong.json::<Value>().await.expect("json"), json!({"error": "Invalid credentials"}));
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown, (401, json!({"error": "Invalid credentials"})), "the answer reveals nothing new");
    assert_eq!(app.login("jo@example.com", PASSWORD).await.0, 200);

    let logins = events(&app, &admin, "filter[action]=login.password&sort=id").await;
    assert_eq!(logins.len(), 4, "{logins:#?}");
    assert_eq!(logins[0]["actor"], format!("user:{admin_id}"));
    let failed = &logins[1];
    assert_eq!(failed["actor"], "anonymous");
    assert_eq!(failed["target"], Value::Null);
    assert_eq!(
        failed["details"],
        json!({"outcome": "failure", "reason": "Invalid credentials", "email": "jo@example.com"})
    );
    assert_eq!(failed["request-id"], request_id.as_str());
    assert_eq!(failed["ip"], "127.0.0.1");
    assert!(failed["at"].as_str().expect("time").ends_with('Z'));
    assert_eq!(logins[2]["details"]["email"], "nobody@example.com");
    assert_eq!(logins[3]["actor"], format!("user:{}", user.id));
    assert_eq!(logins[3]["target"], format!("users:{}", user.id));
    assert_eq!(logins[3]["details"]["outcome"], "success");
}

async fn api_key_logins_are_audited_by_access_key(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = admin(&app).await;
    let owner = app.insert_user("bot-owner@example.com", true, false).await;
    let key = create_key(&app, &owner, None, None).await;
    assert_eq!(key_login(&app, &key.key.access_key, &key.secret).await.0, 200);
    assert_eq!(key_login(&app, &key.key.access_key, "authify_sk_wrong").await.0, 401);

    let logins = events(&app, &admin, "filter[action]=login.apikey&sort=id").await;
    assert_eq!(logins.len(), 2, "{logins:#?}");
    for login in &logins {
        assert_eq!(login["actor"], format!("apikey:{}", key.key.access_key));
    }
    assert_eq!(logins[0]["target"], format!("users:{}", owner.id));
    assert_eq!(logins[0]["details"], json!({"outcome": "success"}));
    assert_eq!(logins[1]["target"], Value::Null);
    assert_eq!(logins[1]["details"], json!({"outcome": "failure", "reason": "Invalid credentials"}));
}

async fn delegate_authentication_and_impersonation_by_email_and_by_id_are_audited(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = admin(&app).await;
    let user = app.insert_user("jo@example.com", true, false).await;
    let As::Delegate { access, secret, .. } = app.delegate("portal").await else { unreachable!() };
    let as_jo = |who: String| As::Delegate { access: access.clone(), secret: secret.clone(), on_behalf_of: Some(who) };

    let path = format!("/users/{}", user.id);
    assert_eq!(app.api_get(&path, &as_jo("jo@example.com".into())).await.status, 200);
    assert_eq!(app.api_get(&path, &as_jo(user.id.to_string())).await.status, 200);
    assert_eq!(app.api_get(&path, &as_jo("ghost@example.com".into())).await.status, 404);
    let wrong = As::Delegate { access: access.clone(), secret: "authify_ds_wrong".into(), on_behalf_of: None };
    assert_eq!(app.api_get(&path, &wrong).await.status, 401);

    let impersonations = events(&app, &admin, "filter[action]=delegate.impersonate&sort=id").await;
    assert_eq!(impersonations.len(), 3, "{impersonations:#?}");
    for (event, who) in impersonations.iter().zip(["jo@example.com", &user.id.to_string(), "ghost@example.com"]) {
        assert_eq!(event["actor"], "delegate:portal");
        assert_eq!(event["details"]["on_behalf_of"], who);
    }
    assert_eq!(impersonations[0]["target"], format!("users:{}", user.id));
    assert_eq!(impersonations[1]["target"], format!("users:{}", user.id));
    assert_eq!(impersonations[2]["target"], Value::Null);
    assert_eq!(impersonations[2]["details"]["outcome"], "failure");
    assert_eq!(impersonations[2]["details"]["reason"], "Not found");

    // Identical authentications of the delegate within a second may share a row that counts them.
    let authentications = events(&app, &admin, "filter[action]=delegate.authenticate&sort=id").await;
    let (portal, failed): (Vec<Value>, Vec<Value>) =
        authentications.into_iter().partition(|e| e["actor"] == "delegate:portal");
    assert_eq!(occurrences(&portal), 3, "{portal:#?}");
    assert!(portal.iter().all(|e| e["details"]["outcome"] == "success"));
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["actor"], "anonymous");
    assert_eq!(
        failed[0]["details"],
        json!({"outcome": "failure", "reason": "Invalid credentials", "access_key": access})
    );
}

async fn identity_logins_are_audited_for_the_delegate(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = admin(&app).await;
    let user = app.insert_user("octocat@example.com", true, false).await;
    app.state.store.insert_identity(user.id, None, "github", "583231", app.clock_now()).await.expect("identity");
    let (access, secret) = crate::support::credentials::insert_delegate(&app, "portal").await;
    let headers = [("X-Authify-Access", access.as_str()), ("X-Authify-Secret", secret.as_str())];
    assert_eq!(token_request(&app, &headers, &json!({"provider": "github", "uid": "583231"})).await.0, 200);
    assert_eq!(token_request(&app, &headers, &json!({"provider": "github", "uid": "404"})).await.0, 401);

    let logins = events(&app, &admin, "filter[action]=login.identity&sort=id").await;
    assert_eq!(logins.len(), 2, "{logins:#?}");
    assert_eq!(logins[0]["actor"], "delegate:portal");
    assert_eq!(logins[0]["target"], format!("users:{}", user.id));
    assert_eq!(logins[0]["details"], json!({"outcome": "success", "provider": "github", "uid": "583231"}));
    assert_eq!(logins[1]["details"]["outcome"], "failure");
    // The delegate's two authentications, identical, may be folded into one row that counts both.
    assert_eq!(occurrences(&events(&app, &admin, "filter[action]=delegate.authenticate").await), 2);
}

async fn admin_changes_through_the_api_are_audited_once_each(backend: Backend) {
    let app = spawn(backend).start().await;
    let (admin_id, admin) = admin(&app).await;
    let created = app
        .api(
            "POST",
            "/users",
            &admin,
            Some(json!({"data": {"type": "users", "attributes": {"email": "new@example.com", "password": PASSWORD}}})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    let patch = json!({"data": {"type": "users", "id": id.to_string(), "attributes": {"disabled": true}}});
    assert_eq!(app.api("PATCH", &format!("/users/{id}"), &admin, Some(patch)).await.status, 200);
    let org = app.create_organization(&admin, "Acme").await;
    let members = format!("/organizations/{org}/relationships/users");
    assert_eq!(app.api("POST", &members, &admin, Some(linkage("users", &[id]))).await.status, 204);
    assert_eq!(app.api("DELETE", &format!("/users/{id}"), &admin, None).await.status, 204);

    // Changes are written before they are answered: read without flushing the batched writer.
    let kinds = "users.create,users.update,organizations.create,organizations.relationship.add,users.delete";
    let query = format!("/audit-events?filter[actor]=user:{admin_id}&filter[action]={kinds}&sort=id");
    let changes = app.api_get(&query, &admin).await.body["data"].clone();
    let changes: Vec<Value> = changes.as_array().expect("data").iter().map(|r| r["attributes"].clone()).collect();
    let actions: Vec<&str> = changes.iter().map(|e| e["action"].as_str().expect("action")).collect();
    assert_eq!(actions, kinds.split(',').collect::<Vec<_>>());
    // The login that began it is batched: written by the flush at the latest.
    let logins = events(&app, &admin, &format!("filter[actor]=user:{admin_id}&filter[action]=login.password")).await;
    assert_eq!(logins.len(), 1);
    let target = format!("users:{id}");
    assert_eq!(changes[0]["target"], target.as_str());
    assert_eq!(changes[0]["details"], json!({"attributes": {"email": "new@example.com"}}), "never the password");
    assert_eq!(changes[1]["details"], json!({"attributes": {"disabled": true}}));
    assert_eq!(changes[3]["target"], format!("organizations:{org}"));
    assert_eq!(changes[3]["details"], json!({"relationship": "users", "ids": [id]}));
    assert_eq!(changes[4]["target"], target.as_str());
}

async fn audit_events_filter_by_actor_action_target_and_time_and_paginate_newest_first(backend: Backend) {
    let app = spawn(backend).start().await;
    let (admin_id, admin) = admin(&app).await;
    let start = app.clock_now();
    for _ in 0..3 {
        app.clock.advance(60);
        assert_eq!(app.login("nobody@example.com", "wrong password").await.0, 401);
    }
    let at = |offset: i64| {
        chrono::DateTime::from_timestamp(start + offset, 0)
            .expect("time")
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };

    // Also there: the key pair the instance generated when it started.
    let all = events(&app, &admin, "").await;
    let times: Vec<&str> = all.iter().map(|e| e["at"].as_str().expect("time")).collect();
    assert_eq!(times, [at(180), at(120), at(60), at(0), at(0)], "newest first");
    assert_eq!(all[4]["action"], "keys.generate", "the id breaks ties, newest first too");
    let times_sorted_by = |events: Vec<Value>| -> Vec<String> {
        events.iter().map(|e| e["at"].as_str().expect("time").to_owned()).collect()
    };
    let oldest_first = times_sorted_by(events(&app, &admin, "sort=at").await);
    assert_eq!(oldest_first, [at(0), at(0), at(60), at(120), at(180)]);
    let newest_first = times_sorted_by(events(&app, &admin, "sort=-at").await);
    assert_eq!(newest_first, [at(180), at(120), at(60), at(0), at(0)]);
    assert_eq!(events(&app, &admin, "filter[actor]=anonymous").await.len(), 3);
    assert_eq!(events(&app, &admin, &format!("filter[actor]=anonymous,user:{admin_id}")).await.len(), 4);
    assert_eq!(events(&app, &admin, &format!("filter[target]=users:{admin_id}")).await.len(), 1);
    assert_eq!(events(&app, &admin, "filter[action]=users.delete").await.len(), 0);
    let window = events(&app, &admin, &format!("filter[since]={}&filter[until]={}", at(60), at(120))).await;
    assert_eq!(window.len(), 2);
    // Any offset is accepted (`+` is percent-encoded in a query string).
    let offset = chrono::FixedOffset::east_opt(3600).expect("offset");
    let since = chrono::DateTime::from_timestamp(start + 120, 0).expect("time").with_timezone(&offset).to_rfc3339();
    assert!(since.ends_with("+01:00"), "{since}");
    assert_eq!(events(&app, &admin, &format!("filter[since]={}", since.replace('+', "%2B"))).await.len(), 2);

    let page = app.api_get("/audit-events?page[size]=3&page[number]=2", &admin).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["meta"]["total"], 5);
    assert_eq!(page.body["data"].as_array().expect("data").len(), 2);
    assert_eq!(page.body["data"][0]["attributes"]["at"], at(0).as_str());
    assert!(page.body["links"]["prev"].is_string());

    for bad in ["filter[since]=yesterday", "filter[until]=2026-13-01T00:00:00Z", "filter[since]=a,b"] {
        let response = app.api_get(&format!("/audit-events?{bad}"), &admin).await;
        assert_eq!(response.status, 400, "{bad}");
        let parameter = bad.split('=').next().expect("name");
        assert_eq!(response.error(400)["source"]["parameter"], parameter, "{bad}");
    }
}

async fn audit_events_are_read_only_and_for_admins_only(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = admin(&app).await;
    let (_, user) = app.user_with_token("jo@example.com", false).await;
    assert_eq!(app.api_get("/audit-events", &As::Anonymous).await.status, 401);
    assert_eq!(app.api_get("/audit-events", &user).await.status, 403);
    let first = events(&app, &admin, "sort=id").await;
    let id = app.api_get("/audit-events?sort=id", &admin).await.body["data"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(first[0]["action"], "keys.generate");
    assert_eq!(app.api_get(&format!("/audit-events/{id}"), &user).await.status, 403);
    assert_eq!(app.api_get(&format!("/audit-events/{id}"), &admin).await.status, 200);

    let body = json!({"data": {"type": "audit-events", "attributes": {"action": "forged"}}});
    let post = app.api("POST", "/audit-events", &admin, Some(body.clone())).await;
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET"));
    assert_eq!(app.api("PATCH", &format!("/audit-events/{id}"), &admin, Some(body)).await.status, 405);
    assert_eq!(app.api("DELETE", &format!("/audit-events/{id}"), &admin, None).await.status, 405);
    assert_eq!(events(&app, &admin, "filter[action]=forged").await.len(), 0);
}

/// More events at once than one statement holds (the SQLite writer puts 64 rows in a statement and
/// pads the last one): every event arrives, in the order recorded, with its empty fields empty.
async fn a_burst_of_events_is_written_whole_and_in_order(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = admin(&app).await;
    for n in 0..203 {
        let event = AuditEvent::new(Actor::Client(format!("burst-{n}")), "oauth.token");
        let event = if n % 2 == 0 { event.target(format!("users:{n}")).detail(json!({"n": n})) } else { event };
        app.state.audit.record(event).await;
    }
    let written = events(&app, &admin, "filter[action]=oauth.token&sort=id&page[size]=500").await;
    assert_eq!(written.len(), 203);
    for (n, event) in written.iter().enumerate() {
        assert_eq!(event["actor"], format!("client:burst-{n}"));
        if n % 2 == 0 {
            assert_eq!((&event["target"], &event["details"]), (&json!(format!("users:{n}")), &json!({"n": n})));
        } else {
            assert_eq!((&event["target"], &event["details"]), (&Value::Null, &Value::Null), "{event}");
        }
    }
}

fn occurrences(events: &[Value]) -> i64 {
    events.iter().map(|e| e["occurrences"].as_i64().expect("occurrences")).sum()
}

/// A client asking for tokens many times a second is recorded as one row per second, address and
/// outcome, counting the requests; a person's identical events keep a row each.
async fn a_machines_repeats_are_one_row_with_their_count_and_a_persons_are_not(backend: Backend) {
    let app = oidc::provider(backend, authify::crypto::Algorithm::Es256).await;
    let (_, admin) = admin(&app).await;
    let registered = oidc::register(&app, "Reports", false, true).await;
    let (id, secret) = (registered.client.client_id.clone(), registered.secret.clone().expect("secret"));
    let requests = (0..40).map(|_| {
        app.client
            .post(app.url("/oauth2/token"))
            .basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
    });
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.expect("token").status(), 200);
    }
    let tokens = events(&app, &admin, &format!("filter[actor]=client:{id}&filter[action]=oauth.token")).await;
    assert_eq!(occurrences(&tokens), 40, "every token is counted: {tokens:#?}");
    for row in &tokens {
        assert_eq!(row["details"], json!({"grant_type": "client_credentials", "outcome": "success"}));
        assert_eq!(row["ip"], "127.0.0.1");
    }

    // Recorded back to back they reach the writer in one or two batches (it lingers 20 ms for
    // more), all in one second of the test's clock: a few rows at most, the count exact.
    for _ in 0..100 {
        let detail = json!({"outcome": "success"});
        app.state
            .audit
            .record(AuditEvent::new(Actor::Client("steady".into()), "oauth.introspect").detail(detail))
            .await;
        let detail = json!({"outcome": "failure", "reason": "Invalid credentials"});
        app.state.audit.record(AuditEvent::new(Actor::User(7), "login.password").detail(detail)).await;
    }
    let steady = events(&app, &admin, "filter[actor]=client:steady&page[size]=500").await;
    assert!(steady.len() < 10, "{} rows for one client's identical events", steady.len());
    assert_eq!(occurrences(&steady), 100);
    let person = events(&app, &admin, "filter[actor]=user:7&page[size]=500").await;
    assert_eq!(person.len(), 100, "a person's attempts are never folded");
    assert!(person.iter().all(|e| e["occurrences"] == 1));
}
