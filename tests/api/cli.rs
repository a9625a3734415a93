//! The real `authify` binary, as a new user and an admin run it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::plain_tests;

plain_tests!(
    a_new_user_runs_the_service_creates_a_user_and_gets_a_token_verified_elsewhere,
    a_rotated_key_is_published_first_signs_after_the_delay_and_the_old_one_keeps_verifying,
);
plain_tests!(
    sync;
    user_commands_refuse_duplicates_unknown_users_and_short_passwords,
    bad_settings_stop_start_up_with_one_line_naming_the_setting,
    keys_list_shows_the_kid_the_service_publishes,
    settings_come_from_a_toml_file_under_the_environment,
    migrate_and_openapi_subcommands_work,
    an_idle_server_holds_little_anonymous_memory,
    the_operators_allocator_settings_win_over_the_services,
);

/// `authify <args>` run in `dir` with only the given AUTHIFY_* settings.
fn authify(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_authify"));
    command.current_dir(dir).args(args);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("AUTHIFY_") || k == "RUST_LOG") {
        command.env_remove(key);
    }
    command.envs(env.iter().copied());
    command
}

pub(crate) fn run(dir: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut child = authify(dir, env, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run authify");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait for authify")
}

/// The one `error:` line of a failed run, checking that it failed cleanly.
pub(crate) fn failure_line(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "expected failure, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line: {stderr}");
    errors[0].to_owned()
}

/// A running `authify serve` and the address it reported.
pub(crate) struct Server {
    child: Child,
    addr: String,
    log: mpsc::Receiver<String>,
    first_lines: Vec<String>,
}

impl Server {
    #[allow(clippy::zombie_processes, reason = "Server's Drop kills and reaps the child")]
    pub(crate) fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut env = env.to_vec();
        env.push(("AUTHIFY_LISTEN", "127.0.0.1:0"));
        let mut child =
            authify(dir, &env, &["serve"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().expect("serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut first_lines = Vec::new();
        loop {
            let line = rx.recv_timeout(Duration::from_secs(30)).expect("the server reports its address");
            first_lines.push(line.clone());
            if let Some(at) = line.find("authify is listening addr=") {
                let addr = line[at + "authify is listening addr=".len()..].split_whitespace().next().expect("addr");
                return Server { child, addr: addr.to_owned(), log: rx, first_lines };
            }
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// SIGTERM, and the exit status once in-flight work is done.
    pub(crate) fn terminate(self) -> std::process::ExitStatus {
        self.signal_term();
        self.wait_for_exit()
    }

    /// The exit status once the process ends (after a SIGTERM sent earlier).
    pub(crate) fn wait_for_exit(mut self) -> std::process::ExitStatus {
        let status = self.child.wait().expect("wait");
        // The reader thread ends at EOF, which follows the exit; wait for the last lines it forwards.
        let rest: Vec<String> = std::iter::from_fn(|| self.log.recv_timeout(Duration::from_secs(5)).ok()).collect();
        assert!(rest.iter().any(|l| l.contains("shutting down")), "{rest:?}");
        status
    }
}

impl Server {
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// The process's `RssAnon` (KiB), from /proc.
    pub(crate) fn rss_anon_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        let line = status.lines().find(|l| l.starts_with("RssAnon:")).expect("RssAnon");
        line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("a number of KiB")
    }

    /// Sends SIGTERM without waiting.
    pub(crate) fn signal_term(&self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The token of a password login with the password these tests give every user.
async fn password_login(client: &reqwest::Client, server: &Server, email: &str) -> String {
    let login: Value = client
        .post(server.url("/jwt/token"))
        .json(&json!({"email": email, "password": "a long enough password"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    login["jwt"].as_str().expect("a jwt").to_owned()
}

async fn a_new_user_runs_the_service_creates_a_user_and_gets_a_token_verified_elsewhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = run(dir.path(), &[], &["user", "create", "Admin@Example.com", "--admin"], "a long enough password\n");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let stdout = String::from_utf8_lossy(&created.stdout);
    assert!(stdout.contains("created admin admin@example.com"), "{stdout}");

    let server = Server::start(dir.path(), &[]);
    assert!(server.first_lines.iter().any(|l| l.contains("generated a new one")), "{:?}", server.first_lines);
    let private = dir.path().join("keys/private.pem");
    assert_eq!(std::fs::metadata(&private).expect("private key").permissions().mode() & 0o777, 0o600);
    assert!(dir.path().join("authify.db").exists());

    let client = reqwest::Client::new();
    let meta: Value = client.get(server.url("/jwt/meta")).send().await.expect("meta").json().await.expect("json");
    assert_eq!(meta["algorithm"], "ES512");
    let token = &password_login(&client, &server, "admin@example.com").await;
    let jwks: Value =
        client.get(server.url("/.well-known/jwks.json")).send().await.expect("jwks").json().await.expect("json");
    assert!(crate::discovery::verify_es512_with_openssl(&jwks["keys"][0], token));
    assert!(server.terminate().success(), "graceful shutdown exits 0");

    // A second start reuses the keys and the database.
    let again = Server::start(dir.path(), &[]);
    assert!(!again.first_lines.iter().any(|l| l.contains("generated a new one")));
    let jwks_again: Value =
        client.get(again.url("/.well-known/jwks.json")).send().await.expect("jwks").json().await.expect("json");
    assert_eq!(jwks_again, jwks);
    again.terminate();
}

fn user_commands_refuse_duplicates_unknown_users_and_short_passwords() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(run(dir.path(), &[], &["user", "create", "a@example.com"], "password1\n").status.success());
    let line = failure_line(&run(dir.path(), &[], &["user", "create", "A@example.com"], "password1\n"));
    assert_eq!(line, "error: email is already taken");
    let line = failure_line(&run(dir.path(), &[], &["user", "create", "b@example.com"], "short\n"));
    assert_eq!(line, "error: password: must be at least 8 characters");
    let line = failure_line(&run(dir.path(), &[], &["user", "grant-admin", "nobody@example.com"], ""));
    assert_eq!(line, "error: no user with email nobody@example.com");
    let granted = run(dir.path(), &[], &["user", "grant-admin", "a@example.com"], "");
    assert!(String::from_utf8_lossy(&granted.stdout).contains("a@example.com is now an admin"));
}

fn bad_settings_stop_start_up_with_one_line_naming_the_setting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    let serve = |env: &[(&str, &str)]| failure_line(&run(path, env, &["serve"], ""));

    assert!(serve(&[("AUTHIFY_JWT_ALGORITHM", "ES999")]).starts_with("error: AUTHIFY_JWT_ALGORITHM: "));
    assert!(serve(&[("AUTHIFY_JWT_EXPIRATION", "soon")]).starts_with("error: AUTHIFY_JWT_EXPIRATION: "));
    assert!(serve(&[("AUTHIFY_LISTEN", "not an address")]).starts_with("error: AUTHIFY_LISTEN: "));
    assert!(serve(&[("AUTHIFY_DB_URL", "redis://127.0.0.1")]).starts_with("error: AUTHIFY_DB_URL: "));

    let generated = run(path, &[], &["keys", "generate", "--algorithm", "ES256"], "");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let line = failure_line(&run(path, &[], &["keys", "generate"], ""));
    assert!(line.contains("already exists"), "{line}");
    let line = serve(&[]);
    assert_eq!(line, "error: AUTHIFY_JWT_ALGORITHM: ES512 needs a P-521 key, but keys/private.pem holds a P-256 key");

    let env_es256 = [("AUTHIFY_JWT_ALGORITHM", "ES256")];
    let line = serve(&[env_es256[0], ("AUTHIFY_DB_URL", "postgres://postgres@127.0.0.1:1/none")]);
    assert!(line.starts_with("error: AUTHIFY_DB_URL: cannot connect to the database"), "{line}");

    std::fs::create_dir(path.join("dir.pem")).expect("mkdir");
    let line = serve(&[env_es256[0], ("AUTHIFY_PRIVKEY_PATH", "dir.pem")]);
    assert!(line.starts_with("error: AUTHIFY_PRIVKEY_PATH: cannot read dir.pem"), "{line}");
    std::fs::write(path.join("junk.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        .expect("write");
    let line = serve(&[env_es256[0], ("AUTHIFY_PRIVKEY_PATH", "junk.pem")]);
    assert!(line.starts_with("error: AUTHIFY_PRIVKEY_PATH: junk.pem is not a PEM EC private key"), "{line}");
    let line = serve(&[env_es256[0], ("AUTHIFY_PUBKEY_PATH", "missing.pem")]);
    assert!(line.starts_with("error: AUTHIFY_PUBKEY_PATH: missing.pem is missing"), "{line}");

    let other = tempfile::tempdir().expect("tempdir");
    assert!(run(other.path(), &[], &["keys", "generate", "--algorithm", "ES256"], "").status.success());
    let foreign_public = other.path().join("keys/public.pem");
    let line = serve(&[env_es256[0], ("AUTHIFY_PUBKEY_PATH", foreign_public.to_str().expect("utf-8"))]);
    assert!(line.starts_with("error: AUTHIFY_PUBKEY_PATH: "), "{line}");
    assert!(line.contains("is not the public half of"), "{line}");
}

fn keys_list_shows_the_kid_the_service_publishes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    let es256 = [("AUTHIFY_JWT_ALGORITHM", "ES256")];
    let line = failure_line(&run(path, &es256, &["keys", "list"], ""));
    assert!(line.starts_with("error: AUTHIFY_PRIVKEY_PATH: cannot read keys/private.pem"), "{line}");

    assert!(run(path, &[], &["keys", "generate", "--algorithm", "ES256"], "").status.success());
    let listed = run(path, &es256, &["keys", "list", "--json"], "");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let keys: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let kid = keys[0]["kid"].as_str().expect("kid").to_owned();
    assert_eq!(keys[0]["alg"], "ES256");
    assert_eq!(keys[0]["private_key"], "keys/private.pem");
    assert_eq!(keys.as_array().map(Vec::len), Some(1));
    let table = String::from_utf8(run(path, &es256, &["keys", "list"], "").stdout).expect("utf-8");
    assert!(table.lines().nth(1).is_some_and(|row| row.starts_with(&kid) && row.contains("ES256")), "{table}");

    let server = Server::start(path, &es256);
    let listening = server.first_lines.iter().find(|l| l.contains("authify is listening")).expect("listening line");
    assert!(listening.contains(&format!("kid=\"{kid}\"")), "{listening}");
    drop(server);

    let line = failure_line(&run(path, &[], &["keys", "list"], ""));
    assert!(line.starts_with("error: AUTHIFY_JWT_ALGORITHM: ES512 needs a P-521 key"), "{line}");
}

async fn a_rotated_key_is_published_first_signs_after_the_delay_and_the_old_one_keeps_verifying() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path();
    let env = [("AUTHIFY_JWT_ALGORITHM", "ES256"), ("AUTHIFY_KEY_ROTATION_DELAY", "3")];
    assert!(run(path, &env, &["keys", "generate"], "").status.success());
    assert!(run(path, &env, &["user", "create", "a@example.com"], "a long enough password\n").status.success());
    let rotated = run(path, &env, &["keys", "rotate"], "");
    assert!(rotated.status.success(), "{}", String::from_utf8_lossy(&rotated.stderr));
    let line = failure_line(&run(path, &env, &["keys", "rotate"], ""));
    assert!(line.contains("a rotation is in progress"), "{line}");

    let listed: Value =
        serde_json::from_slice(&run(path, &env, &["keys", "list", "--json"], "").stdout).expect("JSON list");
    let kid = |n: usize| listed[n]["kid"].as_str().expect("kid").to_owned();
    let (old, new) = (kid(0), kid(1));
    assert!(listed[0]["state"].as_str().is_some_and(|s| s.starts_with("signing until")), "{listed}");
    assert!(listed[1]["state"].as_str().is_some_and(|s| s.starts_with("published, signing from")), "{listed}");
    assert_eq!(listed[1]["private_key"], "keys/private.next.pem");

    let server = Server::start(path, &env);
    let client = reqwest::Client::new();
    let jwks: Value =
        client.get(server.url("/.well-known/jwks.json")).send().await.expect("jwks").json().await.expect("json");
    let published: Vec<&str> =
        jwks["keys"].as_array().expect("keys").iter().filter_map(|k| k["kid"].as_str()).collect();
    assert_eq!(published.len(), 2, "{jwks}");
    assert!(published.contains(&old.as_str()) && published.contains(&new.as_str()), "{jwks}");
    let before = password_login(&client, &server, "a@example.com").await;
    assert_eq!(crate::support::app::jwt_segment(&before, 0)["kid"], old.as_str());

    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = password_login(&client, &server, "a@example.com").await;
    assert_eq!(crate::support::app::jwt_segment(&after, 0)["kid"], new.as_str());
    let key: Value = client.get(server.url("/jwt/key")).send().await.expect("key").json().await.expect("json");
    let next_public = std::fs::read_to_string(path.join("keys/public.next.pem")).expect("next public key");
    assert_eq!(key["data"].as_str().map(str::trim), Some(next_public.trim()));
    for token in [&before, &after] {
        let verified: Value = client
            .post(server.url("/jwt/verify"))
            .json(&json!({"token": token}))
            .send()
            .await
            .expect("verify")
            .json()
            .await
            .expect("json");
        assert_eq!(verified["valid"], true, "{verified}");
    }
    drop(server);

    // The next rotation makes the new key the configured one and keeps the old one as the previous.
    assert!(run(path, &env, &["keys", "rotate"], "").status.success());
    let listed: Value =
        serde_json::from_slice(&run(path, &env, &["keys", "list", "--json"], "").stdout).expect("JSON list");
    assert_eq!(listed[0]["kid"], new.as_str());
    assert_eq!(listed[0]["private_key"], "keys/private.pem");
    assert_eq!(listed[2]["kid"], old.as_str());
    assert!(listed[2]["state"].as_str().is_some_and(|s| s.starts_with("verifying until")), "{listed}");
    let line = failure_line(&run(path, &env, &["keys", "rotate"], ""));
    assert!(line.contains("a rotation is in progress"), "{line}");
}

fn settings_come_from_a_toml_file_under_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("authify.toml"), "jwt_algorithm = \"ES384\"\njwt_issuer = \"From File\"\n")
        .expect("write");
    let generated = run(dir.path(), &[], &["--config", "authify.toml", "keys", "generate"], "");
    assert!(String::from_utf8_lossy(&generated.stdout).contains("generated an ES384 key pair"));
    let bad = run(dir.path(), &[("AUTHIFY_CONFIG", "nope.toml")], &["migrate"], "");
    assert!(failure_line(&bad).starts_with("error: AUTHIFY_CONFIG: "));
    std::fs::write(dir.path().join("broken.toml"), "jwt_expiration = \"x\"\n").expect("write");
    let broken = run(dir.path(), &[], &["--config", "broken.toml", "migrate"], "");
    assert!(failure_line(&broken).starts_with("error: AUTHIFY_JWT_EXPIRATION: "));
}

fn migrate_and_openapi_subcommands_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let migrated = run(dir.path(), &[], &["migrate"], "");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    assert!(dir.path().join("authify.db").exists());
    let printed = run(dir.path(), &[], &["openapi"], "");
    let spec: Value = serde_json::from_slice(&printed.stdout).expect("JSON on stdout");
    assert_eq!(spec["info"]["title"], "Authify");
}

/// Idle, the service's heap is small (docs/benchmarks.md: under 8 MiB of anonymous memory). With
/// mimalloc's default options (its first arena committed at once) it holds 16 to 19 MiB.
fn an_idle_server_holds_little_anonymous_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &[]);
    // The start-up dummy password hash holds argon2's memory for a moment after it ends.
    let mut seen = Vec::new();
    for _ in 0..40 {
        seen.push(server.rss_anon_kib());
        if seen.last().is_some_and(|kib| *kib < 8 * 1024) {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("RssAnon stayed at 8 MiB or more for 10 s (KiB): {seen:?}");
}

/// The service sets two of mimalloc's options, unless the operator's environment does.
fn the_operators_allocator_settings_win_over_the_services() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = |env: &[(&str, &str)]| {
        let mut command = authify(dir.path(), &[], &["--version"]);
        // The test's own environment does not count; only the given variables.
        command.env_remove("MIMALLOC_PURGE_DELAY").env_remove("MIMALLOC_ARENA_EAGER_COMMIT");
        command.env("MIMALLOC_VERBOSE", "1").envs(env.iter().copied());
        let output = command.output().expect("run authify");
        assert!(output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let value = |name: &str| {
            let prefix = format!("option '{name}': ");
            stderr.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().to_owned())
        };
        (value("arena_eager_commit"), value("purge_delay"))
    };
    assert_eq!(options(&[]), (Some("0".into()), Some("2".into())));
    assert_eq!(options(&[("MIMALLOC_PURGE_DELAY", "50")]), (Some("0".into()), Some("50".into())));
}
