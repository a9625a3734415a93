//! `spawn_app`: the real service on a random loopback port with a fresh database of its own
//! (SQLite in a temp dir always; PostgreSQL / MariaDB when AUTHIFY_TEST_POSTGRES_URL /
//! AUTHIFY_TEST_MYSQL_URL are set), fresh keys and a manual clock.
//!
//! Tests register with [`backend_tests!`] (one test per backend) or [`plain_tests!`]; `#[test]` and
//! `#[tokio::test]` do nothing in this binary (its harness is `harness.rs`). The PostgreSQL and
//! MariaDB variants, and tests registered with `requires_env`, show as **ignored** (not "ok") while
//! their URL variable is unset or blank; `--include-ignored` runs them anyway, and they fail.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;

use authify::app::Application;
use authify::clock::ManualClock;
use authify::config::Settings;
use authify::crypto::Algorithm;
use authify::domain::{Email, Handle};
use authify::state::AppState;
use authify::store::users::{NewUser, User};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery";

/// Declares one test per database backend for each named `async fn name(backend: Backend)` of
/// the module: `name::sqlite`, `name::postgres` and `name::mariadb`, each in its own
/// current-thread runtime. The PostgreSQL and MariaDB variants are ignored while their URL is unset.
#[macro_export]
macro_rules! backend_tests {
    (requires_env = $var:expr; $($name:ident),* $(,)?) => {$(
        ::inventory::submit! {
            $crate::support::harness::Test {
                module: module_path!(),
                name: stringify!($name),
                body: $crate::support::harness::Body::Backends(|backend| ::std::boxed::Box::pin($name(backend))),
                options: $crate::support::harness::Options::new().requires_env($var),
            }
        }
    )*};
    ($($name:ident),* $(,)?) => {$(
        ::inventory::submit! {
            $crate::support::harness::Test {
                module: module_path!(),
                name: stringify!($name),
                body: $crate::support::harness::Body::Backends(|backend| ::std::boxed::Box::pin($name(backend))),
                options: $crate::support::harness::Options::new(),
            }
        }
    )*};
}

/// Declares a test for each named function of the module that takes no backend:
/// - `plain_tests!(a, b)`: `async fn a()`, in a fresh current-thread runtime, as `#[tokio::test]`;
/// - `plain_tests!(flavor = "multi_thread", worker_threads = 2; a)`: as `#[tokio::test(…)]`;
/// - `plain_tests!(requires_env = "VAR"; a)`: ignored while `VAR` is unset or blank;
/// - `plain_tests!(sync; a, b)`: `fn a()`, as `#[test]` (`sync, requires_env = "VAR"; a` too).
#[macro_export]
macro_rules! plain_tests {
    (@register $body:ident, $options:expr; $($name:ident),+) => {$(
        ::inventory::submit! {
            $crate::support::harness::Test {
                module: module_path!(),
                name: stringify!($name),
                body: $crate::plain_tests!(@$body $name),
                options: $options,
            }
        }
    )+};
    (@sync $name:ident) => { $crate::support::harness::Body::Sync($name) };
    (@async $name:ident) => { $crate::support::harness::Body::Async(|| ::std::boxed::Box::pin($name())) };
    (sync $(, $key:ident = $value:expr)*; $($name:ident),+ $(,)?) => {
        $crate::plain_tests!(@register sync, $crate::support::harness::Options::new()$(.$key($value))*; $($name),+);
    };
    ($($key:ident = $value:expr),+; $($name:ident),+ $(,)?) => {
        $crate::plain_tests!(@register async, $crate::support::harness::Options::new()$(.$key($value))+; $($name),+);
    };
    ($($name:ident),+ $(,)?) => {
        $crate::plain_tests!(@register async, $crate::support::harness::Options::new(); $($name),+);
    };
}

/// Where a test's database lives.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A server URL (any database on it); each test creates its own database there.
    Server(String),
}

impl Backend {
    /// The server variants of each backend test: name and the variable with the server's URL.
    pub const SERVERS: [(&str, &str); 2] =
        [("postgres", "AUTHIFY_TEST_POSTGRES_URL"), ("mariadb", "AUTHIFY_TEST_MYSQL_URL")];
}

/// The value of the environment variable `var`, unless it is unset or blank.
pub fn env_url(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|url| !url.trim().is_empty())
}

/// A database created for one test and dropped after it.
pub struct TestDatabase {
    pub url: String,
    server: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create(backend: &Backend, dir: &std::path::Path) -> Self {
        match backend {
            Backend::Sqlite => Self { url: format!("sqlite://{}/authify.db?mode=rwc", dir.display()), server: None },
            Backend::Server(url) => {
                let name = format!(
                    "authify_test_{}",
                    authify::crypto::tokens::random_token(9).to_lowercase().replace(['-', '_'], "x")
                );
                let admin = Database::connect(url.as_str()).await.expect("connect to the test database server");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.expect("close admin connection");
                Self { url: replace_database(url, &name), server: Some((url.clone(), name)) }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(server) = self.server.take() else { return };
        // On a trial's thread the drop waits for the trial's end; elsewhere it happens now.
        let now = DATABASES_TO_DROP.with_borrow_mut(|pending| match pending {
            Some(pending) => {
                pending.push(server);
                None
            }
            None => Some(server),
        });
        if let Some(server) = now {
            drop_database(server);
        }
    }
}

thread_local! {
    /// The server databases of the trial running on this thread, dropped once its runtime is gone.
    static DATABASES_TO_DROP: RefCell<Option<Vec<(String, String)>>> = const { RefCell::new(None) };
}

/// Runs `trial` (which builds and drops its own runtime) and then drops the server databases it
/// created. By then every connection of the trial is closed, so no DROP waits for a lock one of them
/// holds. Dropping a database from the test's runtime thread instead blocked that runtime; a
/// transaction a background task (the audit writer, the outbox sender) had open could then neither
/// finish nor roll back, and MariaDB's DROP waited on its metadata lock (the suite hung once,
/// 2026-12-02).
pub fn dropping_databases_after<T>(trial: impl FnOnce() -> T) -> T {
    DATABASES_TO_DROP.set(Some(Vec::new()));
    let outcome = trial();
    for server in DATABASES_TO_DROP.take().unwrap_or_default() {
        drop_database(server);
    }
    outcome
}

/// Drops the database `name` on the server at `url`, on a thread with a runtime of its own. Its
/// lock waits are bounded: a leftover session can delay the drop, never hang the suite.
fn drop_database((url, name): (String, String)) {
    let _ = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        runtime.block_on(async move {
            let Ok(admin) = Database::connect(url.as_str()).await else { return };
            let statement = if url.starts_with("postgres") {
                let _ = admin.execute_unprepared("SET lock_timeout = '30s'").await;
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            } else {
                let _ = admin.execute_unprepared("SET SESSION lock_wait_timeout = 30").await;
                end_mariadb_sessions(&admin, &name).await;
                format!("DROP DATABASE IF EXISTS {name}")
            };
            let _ = admin.execute_unprepared(&statement).await;
            let _ = admin.close().await;
        });
    })
    .join();
}

/// MariaDB's counterpart of PostgreSQL's `DROP DATABASE … WITH (FORCE)`: ends the sessions still
/// using `name`.
async fn end_mariadb_sessions(admin: &sea_orm::DatabaseConnection, name: &str) {
    let sessions =
        format!("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{name}' AND ID <> CONNECTION_ID()");
    let statement = sea_orm::Statement::from_string(admin.get_database_backend(), sessions);
    for row in admin.query_all_raw(statement).await.unwrap_or_default() {
        if let Ok(id) = row.try_get_by_index::<u64>(0) {
            let _ = admin.execute_unprepared(&format!("KILL {id}")).await;
        }
    }
}

/// `scheme://user@host:port/<name>` from a server URL with or without a database path.
fn replace_database(url: &str, name: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    let after_scheme = without_query.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match without_query[after_scheme..].find('/') {
        Some(slash) => &without_query[..after_scheme + slash],
        None => without_query,
    };
    format!("{base}/{name}")
}

/// Settings for a test instance: loopback port 0, keys and database under `dir`.
pub fn test_settings(dir: &std::path::Path, db_url: &str, algorithm: Algorithm) -> Settings {
    Settings {
        db_url: db_url.to_owned(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        privkey_path: dir.join("keys/private.pem"),
        pubkey_path: dir.join("keys/public.pem"),
        jwt_algorithm: algorithm,
        db_max_connections: 4,
        mail_dir: dir.join("mail"),
        mail_poll_ms: 50,
        mail_retry_seconds: 1,
        ..Settings::default()
    }
}

/// A running instance and a client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    pub clock: ManualClock,
    pub settings: Settings,
    shutdown: Option<oneshot::Sender<()>>,
    // Kept alive for the instance's lifetime; dropped last.
    pub db: Arc<TestDatabase>,
    pub dir: Arc<tempfile::TempDir>,
}

/// Builder for test instances.
pub struct Spawn {
    backend: Backend,
    algorithm: Algorithm,
    tweak: Box<dyn FnOnce(&mut Settings)>,
}

pub fn spawn(backend: Backend) -> Spawn {
    Spawn { backend, algorithm: Algorithm::Es256, tweak: Box::new(|_| {}) }
}

impl Spawn {
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    pub fn settings(mut self, tweak: impl FnOnce(&mut Settings) + 'static) -> Self {
        self.tweak = Box::new(tweak);
        self
    }

    pub async fn start(self) -> TestApp {
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        let db = Arc::new(TestDatabase::create(&self.backend, dir.path()).await);
        let mut settings = test_settings(dir.path(), &db.url, self.algorithm);
        (self.tweak)(&mut settings);
        start_instance(settings, db, dir).await
    }
}

/// Starts an instance with explicit settings, sharing `db` and `dir` (for second instances).
pub async fn start_instance(settings: Settings, db: Arc<TestDatabase>, dir: Arc<tempfile::TempDir>) -> TestApp {
    let clock = ManualClock::new();
    let app = Application::build(settings.clone(), Arc::new(clock.clone())).await.expect("the service starts");
    let addr = app.addr();
    let state = app.state().clone();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = app
            .run_until(async move {
                let _ = rx.await;
            })
            .await;
    });
    TestApp { addr, client: reqwest::Client::new(), state, clock, settings, shutdown: Some(tx), db, dir }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A second instance on the same database and key files, with its own settings tweaks.
    pub async fn second_instance(&self, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        tweak(&mut settings);
        start_instance(settings, self.db.clone(), self.dir.clone()).await
    }

    /// Inserts a user straight into the store.
    pub async fn insert_user(&self, email: &str, verified: bool, admin: bool) -> User {
        let digest = self.state.auth.hasher.hash(PASSWORD).await.expect("hash");
        let email = Email::parse(email).expect("a valid email");
        let new = NewUser {
            email: email.as_str().to_owned(),
            handle: Handle::derive_from(&email).as_str().to_owned(),
            full_name: None,
            password_digest: Some(digest),
            admin,
            verified,
            now: self.clock_now(),
        };
        self.state.store.insert_user(new).await.expect("insert user")
    }

    pub fn clock_now(&self) -> i64 {
        use authify::clock::Clock;
        self.clock.now()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// `POST /jwt/token` with email and password; returns status and body.
    pub async fn login(&self, email: &str, password: &str) -> (u16, Value) {
        let response = self.post_json("/jwt/token", &json!({"email": email, "password": password})).await;
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// A token for a user who can log in, or a panic saying why not.
    pub async fn token_for(&self, email: &str) -> String {
        let (status, body) = self.login(email, PASSWORD).await;
        assert_eq!(status, 200, "login failed: {body}");
        body["jwt"].as_str().expect("jwt").to_owned()
    }

    /// `POST /jwt/verify`; returns the body.
    pub async fn verify(&self, token: &str) -> Value {
        let response = self.post_json("/jwt/verify", &json!({ "token": token })).await;
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.expect("JSON body")
    }

    /// The first error of an invalid token, asserting that it is invalid.
    pub async fn verify_error(&self, token: &str) -> String {
        let body = self.verify(token).await;
        assert_eq!(body["valid"], json!(false), "{body}");
        assert_eq!(body["reason"], json!("Corrupt or invalid JWT"));
        body["errors"][0].as_str().expect("an error").to_owned()
    }

    pub fn private_key_pem(&self) -> String {
        std::fs::read_to_string(&self.settings.privkey_path).expect("private key")
    }

    pub fn public_key_pem(&self) -> String {
        std::fs::read_to_string(&self.settings.pubkey_path).expect("public key")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Decodes one base64url segment of a JWT as JSON.
pub fn jwt_segment(token: &str, index: usize) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(index).expect("segment");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON segment")
}
