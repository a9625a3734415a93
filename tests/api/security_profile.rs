//! Profile updates write only what they change (issue 16, item 3), and the email-change mail is no
//! relay for attacker-written text: names follow one rule everywhere and every such mail counts
//! toward the per-IP and per-user mail limits (item 5).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};
use crate::support::jsonapi::As;

backend_tests!(
    a_profile_update_racing_a_password_change_never_puts_the_old_password_back,
    names_follow_one_rule_on_patch_and_admin_create,
    email_change_mails_count_toward_the_per_user_limit,
    email_change_mails_count_toward_the_per_ip_limit,
);

fn patch(id: i64, attributes: Value) -> Value {
    json!({"data": {"type": "users", "id": id.to_string(), "attributes": attributes}})
}

/// `PATCH /users/{id}` in a loop until `stop`; how many were answered 200.
async fn patch_until(app: Arc<TestApp>, who: As, id: i64, stop: Arc<AtomicBool>) -> usize {
    let mut done = 0;
    for n in 0..400 {
        if stop.load(Ordering::Acquire) {
            break;
        }
        // A new email makes the update check that the address is free before it writes: the
        // widest window between the read and the write that a lost update needs.
        let body = patch(id, json!({"full-name": format!("Al {n}"), "email": format!("al{n}@example.com")}));
        if app.api("PATCH", &format!("/users/{id}"), &who, Some(body)).await.status == 200 {
            done += 1;
        }
    }
    done
}

async fn a_profile_update_racing_a_password_change_never_puts_the_old_password_back(backend: Backend) {
    let app = Arc::new(
        spawn(backend)
            .settings(|s| {
                s.rate_limit_per_ip = 0;
                s.rate_limit_per_account = 0;
                s.mail_limit_per_recipient = 0;
                s.mail_limit_per_ip = 0;
                s.mail_limit_per_user = 0;
            })
            .start()
            .await,
    );
    let (id, al) = app.user_with_token("al@example.com", false).await;
    let mut current = PASSWORD.to_owned();
    for round in 0..12 {
        let next = format!("the password of round {round}");
        let stop = Arc::new(AtomicBool::new(false));
        let patchers: Vec<_> =
            (0..3).map(|_| tokio::spawn(patch_until(app.clone(), al.clone(), id, stop.clone()))).collect();
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let As::Bearer(token) = &al else { unreachable!() };
        let changed = app
            .client
            .post(app.url("/me/password"))
            .bearer_auth(token)
            .json(&json!({"current_password": current, "new_password": next}))
            .send()
            .await
            .expect("request");
        assert_eq!(changed.status().as_u16(), 204);
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        stop.store(true, Ordering::Release);
        for patcher in patchers {
            assert!(patcher.await.expect("patcher") > 0, "the profile updates ran");
        }
        assert_eq!(app.login("al@example.com", &current).await.0, 401, "round {round}: the old password is gone");
        assert_eq!(app.login("al@example.com", &next).await.0, 200, "round {round}: the new password works");
        current = next;
    }
}

async fn names_follow_one_rule_on_patch_and_admin_create(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let (id, al) = app.user_with_token("al@example.com", false).await;
    let phishing = format!("{}\nYour account is locked: https://evil.example/unlock", "A".repeat(5083));
    let path = format!("/users/{id}");
    for name in [phishing.as_str(), "Al\r\nBcc: victim@example.com", &"x".repeat(256)] {
        let response = app.api("PATCH", &path, &al, Some(patch(id, json!({"full-name": name})))).await;
        assert_eq!(response.error(422)["source"]["pointer"], "/data/attributes/full-name", "{}", response.body);
    }
    let fine = app.api("PATCH", &path, &al, Some(patch(id, json!({"full-name": "  Al Jones "})))).await;
    assert_eq!(fine.status, 200, "{}", fine.body);
    assert_eq!(fine.body["data"]["attributes"]["full-name"], "Al Jones");

    let create = json!({"data": {"type": "users", "attributes": {
        "email": "new@example.com", "full-name": "New\nUser", "admin": false, "verified": true, "disabled": false}}});
    let refused = app.api("POST", "/users", &admin, Some(create)).await;
    assert_eq!(refused.error(422)["source"]["pointer"], "/data/attributes/full-name");
}

/// Asks to change the user's email to each of `addresses`; the statuses.
async fn change_email(app: &TestApp, who: &As, id: i64, addresses: &[String]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for address in addresses {
        let body = patch(id, json!({"email": address}));
        statuses.push(app.api("PATCH", &format!("/users/{id}"), who, Some(body)).await.status);
    }
    statuses
}

fn strangers(count: usize) -> Vec<String> {
    (0..count).map(|n| format!("stranger{n}@example.com")).collect()
}

async fn email_change_mails_count_toward_the_per_user_limit(backend: Backend) {
    let app = spawn(backend)
        .settings(|s| {
            s.mail_limit_per_user = 3;
            s.mail_limit_per_ip = 0;
        })
        .start()
        .await;
    let (id, al) = app.user_with_token("al@example.com", false).await;
    assert_eq!(change_email(&app, &al, id, &strangers(4)).await, [200, 200, 200, 429]);
    app.clock.advance(3601);
    let al = As::Bearer(app.token_for("al@example.com").await);
    assert_eq!(change_email(&app, &al, id, &strangers(1)).await, [200], "the window passed");
}

async fn email_change_mails_count_toward_the_per_ip_limit(backend: Backend) {
    let app = spawn(backend)
        .settings(|s| {
            s.mail_limit_per_user = 0;
            s.mail_limit_per_ip = 3;
        })
        .start()
        .await;
    let (al_id, al) = app.user_with_token("al@example.com", false).await;
    let (bo_id, bo) = app.user_with_token("bo@example.com", false).await;
    assert_eq!(change_email(&app, &al, al_id, &strangers(2)).await, [200, 200]);
    let others: Vec<String> = (0..2).map(|n| format!("other{n}@example.com")).collect();
    assert_eq!(change_email(&app, &bo, bo_id, &others).await, [200, 429], "one client address, two accounts");
}
