//! `authify delegate …` and `authify user disable|enable`, run as the real binary against the database
//! of a running test instance (SQLite: these test the command line, not the storage).

use std::process::Output;

use authify::crypto::secret::hash_secret;
use authify::store::delegates::Delegate;
use serde_json::Value;

use crate::cli::{failure_line, run};
use crate::plain_tests;
use crate::support::app::{Backend, PASSWORD, TestApp, spawn};

plain_tests!(
    delegate_add_prints_the_access_key_and_secret_once_and_stores_only_the_secret_hash,
    delegate_list_shows_delegates_as_a_table_or_json_without_their_secrets,
    a_duplicate_add_or_unknown_remove_exits_1_with_one_line_and_changes_nothing,
    user_disable_makes_password_login_answer_403_and_enable_reverses_it
);
plain_tests!(sync; help_describes_each_new_subcommand_and_its_arguments);

/// `authify <args>` on the instance's database, checking that it succeeded.
fn authify_ok(app: &TestApp, args: &[&str]) -> String {
    let output = authify_on(app, args);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 stdout")
}

fn authify_on(app: &TestApp, args: &[&str]) -> Output {
    run(app.dir.path(), &[("AUTHIFY_DB_URL", app.settings.db_url.as_str())], args, "")
}

async fn stored(app: &TestApp, name: &str) -> Option<Delegate> {
    app.state.store.delegate_by_name(name).await.expect("read delegate")
}

/// The value after `label` on its line of `stdout`, checking that the line is there exactly once.
fn labelled(stdout: &str, label: &str) -> String {
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with(label)).collect();
    assert_eq!(lines.len(), 1, "one `{label}` line: {stdout}");
    lines[0][label.len()..].trim().to_owned()
}

async fn delegate_add_prints_the_access_key_and_secret_once_and_stores_only_the_secret_hash() {
    let app = spawn(Backend::Sqlite).start().await;
    let stdout = authify_ok(&app, &["delegate", "add", "ci-bot", "--description", "The CI robot"]);
    let access = labelled(&stdout, "access key:");
    let secret = labelled(&stdout, "secret:");
    assert_eq!(stdout.matches(&access).count(), 1, "{stdout}");
    assert_eq!(stdout.matches(&secret).count(), 1, "{stdout}");
    assert!(stdout.contains("cannot be shown again"), "{stdout}");
    assert_eq!(access.len(), 40);
    assert!(access.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{access}");
    let random = secret.strip_prefix("authify_ds_").expect("prefixed secret");
    assert_eq!(random.len(), 64);
    assert!(random.chars().all(|c| c.is_ascii_hexdigit()), "{secret}");

    let delegate = stored(&app, "ci-bot").await.expect("stored");
    assert_eq!(delegate.access_key, access);
    assert_eq!(delegate.secret_hash, hash_secret(&secret));
    assert_ne!(delegate.secret_hash, secret);
    assert_eq!(delegate.description.as_deref(), Some("The CI robot"));
    assert_eq!(delegate.scopes, "user_access admin_access");

    let stdout = authify_ok(&app, &["delegate", "add", "mailer", "--json"]);
    let printed: Value = serde_json::from_str(&stdout).expect("stdout is one JSON document");
    let keys: Vec<&String> = printed.as_object().expect("an object").keys().collect();
    assert_eq!(keys, ["access", "secret"]);
    let delegate = stored(&app, "mailer").await.expect("stored");
    assert_eq!(printed["access"], delegate.access_key.as_str());
    let secret = printed["secret"].as_str().expect("secret");
    assert_eq!(delegate.secret_hash, hash_secret(secret));
    assert_eq!(delegate.description, None);
}

async fn delegate_list_shows_delegates_as_a_table_or_json_without_their_secrets() {
    let app = spawn(Backend::Sqlite).start().await;
    let empty = authify_ok(&app, &["delegate", "list"]);
    assert_eq!(empty.lines().collect::<Vec<_>>().len(), 1, "header only: {empty}");
    assert!(empty.starts_with("NAME") && empty.contains("ACCESS KEY") && empty.contains("CREATED AT"));
    let empty_json: Value = serde_json::from_str(&authify_ok(&app, &["delegate", "list", "--json"])).expect("JSON");
    assert_eq!(empty_json, Value::Array(vec![]));

    let added: Value =
        serde_json::from_str(&authify_ok(&app, &["delegate", "add", "ci-bot", "--json", "--description", "CI"]))
            .expect("JSON");
    let secret = added["secret"].as_str().expect("secret");
    let delegate = stored(&app, "ci-bot").await.expect("stored");
    let created_at = chrono::DateTime::from_timestamp(delegate.created_at, 0).expect("a time");

    let table = authify_ok(&app, &["delegate", "list"]);
    let row: Vec<&str> = table.lines().nth(1).expect("a row").split_whitespace().collect();
    assert_eq!(row, ["ci-bot", delegate.access_key.as_str(), &created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string()]);
    assert!(!table.contains(secret) && !table.contains(&delegate.secret_hash), "{table}");

    let stdout = authify_ok(&app, &["delegate", "list", "--json"]);
    assert!(!stdout.contains(secret) && !stdout.contains(&delegate.secret_hash), "{stdout}");
    let listed: Value = serde_json::from_str(&stdout).expect("JSON");
    let items = listed.as_array().expect("an array");
    assert_eq!(items.len(), 1);
    let mut keys: Vec<&String> = items[0].as_object().expect("an object").keys().collect();
    keys.sort();
    assert_eq!(keys, ["access", "created_at", "description", "name"]);
    assert_eq!(items[0]["name"], "ci-bot");
    assert_eq!(items[0]["access"], delegate.access_key.as_str());
    assert_eq!(items[0]["description"], "CI");
    let listed_at =
        chrono::DateTime::parse_from_rfc3339(items[0]["created_at"].as_str().expect("a string")).expect("RFC 3339");
    assert_eq!(listed_at.timestamp(), delegate.created_at);
    assert!(items[0]["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "UTC");
}

async fn a_duplicate_add_or_unknown_remove_exits_1_with_one_line_and_changes_nothing() {
    let app = spawn(Backend::Sqlite).start().await;
    authify_ok(&app, &["delegate", "add", "ci-bot"]);
    let original = stored(&app, "ci-bot").await.expect("stored");

    let duplicate = authify_on(&app, &["delegate", "add", "ci-bot", "--description", "impostor"]);
    assert_eq!(duplicate.status.code(), Some(1));
    assert_eq!(failure_line(&duplicate), "error: a delegate named ci-bot already exists");
    assert!(duplicate.stdout.is_empty(), "no key or secret is printed for a refused add");
    assert_eq!(stored(&app, "ci-bot").await, Some(original.clone()));
    assert_eq!(app.state.store.list_delegates().await.expect("list").len(), 1);

    let bad_name = authify_on(&app, &["delegate", "add", "has space"]);
    assert!(failure_line(&bad_name).starts_with("error: name: must be 1 to 64 characters"));

    assert_eq!(authify_ok(&app, &["delegate", "remove", "ci-bot"]).trim(), "removed delegate ci-bot");
    assert_eq!(stored(&app, "ci-bot").await, None);
    let again = authify_on(&app, &["delegate", "remove", "ci-bot"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(failure_line(&again), "error: no delegate named ci-bot");
}

async fn user_disable_makes_password_login_answer_403_and_enable_reverses_it() {
    let app = spawn(Backend::Sqlite).start().await;
    app.insert_user("alice@example.com", true, false).await;
    assert_eq!(app.login("alice@example.com", PASSWORD).await.0, 200);

    let stdout = authify_ok(&app, &["user", "disable", "Alice@Example.com"]);
    // The login above opened a session; disabling ends it.
    assert_eq!(stdout.trim(), "alice@example.com is now disabled (1 session ended)");
    let (status, body) = app.login("alice@example.com", PASSWORD).await;
    assert_eq!(status, 403, "{body}");

    let stdout = authify_ok(&app, &["user", "enable", "alice@example.com"]);
    assert_eq!(stdout.trim(), "alice@example.com is now enabled");
    assert_eq!(app.login("alice@example.com", PASSWORD).await.0, 200);

    for command in ["disable", "enable"] {
        let line = failure_line(&authify_on(&app, &["user", command, "nobody@example.com"]));
        assert_eq!(line, "error: no user with email nobody@example.com");
    }
}

fn help_describes_each_new_subcommand_and_its_arguments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let help = |args: &[&str]| {
        let output = run(dir.path(), &[], args, "");
        assert!(output.status.success(), "{args:?}");
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let add = help(&["delegate", "add", "--help"]);
    assert!(add.starts_with("Register a trusted delegate"), "{add}");
    assert!(add.contains("<NAME>") && add.contains("--description <DESCRIPTION>") && add.contains("--json"));
    let list = help(&["delegate", "list", "--help"]);
    assert!(list.starts_with("List trusted delegates") && list.contains("--json"), "{list}");
    let remove = help(&["delegate", "remove", "--help"]);
    assert!(remove.starts_with("Remove a trusted delegate") && remove.contains("<NAME>"), "{remove}");
    assert!(help(&["user", "disable", "--help"]).starts_with("Disable a user's account"));
    assert!(help(&["user", "enable", "--help"]).contains("<EMAIL>"));
}
