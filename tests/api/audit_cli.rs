//! Command-line actions land on the audit trail with actor `cli` (and the OS user when known).

use serde_json::json;

use crate::audit::events;
use crate::cli::run;
use crate::plain_tests;
use crate::support::app::{Backend, TestApp, spawn};

plain_tests!(
    delegate_and_user_commands_are_audited_as_cli,
    key_generation_is_audited_at_first_start_and_from_the_command_line
);

fn authify_ok(app: &TestApp, args: &[&str], stdin: &str) {
    let env = [("AUTHIFY_DB_URL", app.settings.db_url.as_str()), ("USER", "ops")];
    let output = run(app.dir.path(), &env, args, stdin);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

async fn delegate_and_user_commands_are_audited_as_cli() {
    let app = spawn(Backend::Sqlite).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    authify_ok(&app, &["delegate", "add", "portal"], "");
    authify_ok(&app, &["user", "create", "jo@example.com"], "a long enough password\n");
    authify_ok(&app, &["user", "grant-admin", "jo@example.com"], "");
    authify_ok(&app, &["user", "disable", "jo@example.com"], "");
    authify_ok(&app, &["user", "enable", "jo@example.com"], "");
    authify_ok(&app, &["delegate", "remove", "portal"], "");

    let cli = events(&app, &admin, "filter[actor]=cli:ops&sort=id").await;
    let actions: Vec<&str> = cli.iter().map(|e| e["action"].as_str().expect("action")).collect();
    assert_eq!(
        actions,
        [
            "trusted-delegates.create",
            "users.create",
            "users.grant-admin",
            "users.disable",
            "users.enable",
            "trusted-delegates.delete"
        ]
    );
    let jo = app.state.store.user_by_email("jo@example.com").await.expect("read").expect("jo");
    assert!(cli[1..5].iter().all(|e| e["target"] == format!("users:{}", jo.id)));
    assert_eq!(cli[0]["details"], json!({"attributes": {"name": "portal", "description": null}}));
    assert_eq!(cli[0]["target"], cli[5]["target"]);
    assert!(cli.iter().all(|e| e["ip"].is_null() && e["request-id"].is_null()));
}

async fn key_generation_is_audited_at_first_start_and_from_the_command_line() {
    let app = spawn(Backend::Sqlite).start().await;
    let (_, admin) = app.user_with_token("root@example.com", true).await;
    let generated = events(&app, &admin, "filter[action]=keys.generate").await;
    assert_eq!(generated.len(), 1, "the test instance generated its keys at start: {generated:#?}");
    assert_eq!(generated[0]["actor"], "system");
    assert!(generated[0]["target"].as_str().expect("kid").starts_with("kid:"));

    let other = tempfile::tempdir().expect("tempdir");
    let env = [("AUTHIFY_DB_URL", app.settings.db_url.as_str()), ("USER", "ops")];
    let output = run(other.path(), &env, &["keys", "generate", "--algorithm", "ES256"], "");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let generated = events(&app, &admin, "filter[action]=keys.generate").await;
    assert_eq!(generated.len(), 2);
    assert_eq!(generated[0]["actor"], "cli:ops");
    assert_eq!(generated[0]["details"]["algorithm"], "ES256");
}
