//! The authify-api database that `authify import authify-api` reads in the import tests: the
//! fixture in tests/fixtures/authify-api/ (schema per backend, data shared), loaded into a database
//! of the test's own backend, and the real binary run against it.

use std::path::Path;
use std::process::Output;

use sea_orm::{ConnectionTrait, Database};

use crate::cli::run;
use crate::support::app::{Backend, TestApp, TestDatabase};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/authify-api");

/// The fixture's secrets (tests/fixtures/authify-api/data.sql says how its digests were made).
pub const ALICE_PASSWORD: &str = "alice-password-1";
pub const BOB_PASSWORD: &str = "bob-password-22";
pub const ALICE_ACCESS: &str = "5f4abd1c6423ef02d1ec";
pub const ALICE_SECRET: &str = "fb97aa7d4e48f3e4bbb2930161a423fa8308393426c3612940da03f22cf36879";
pub const BOB_ACCESS: &str = "0123456789abcdef0123";
pub const BOB_SECRET: &str = "a3f1ee5085dad87d53ce04a1857a2677c7ffa136c506e8174fef6fa1c962e46f";
pub const DELEGATE_ACCESS: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071";

pub fn delegate_secret() -> String {
    "9f8e7d6c5b4a3928".repeat(6)
}

/// An authify-api database for one test: its URL as the importer is given it.
pub struct Source {
    pub url: String,
    /// Server backends: the database, dropped with the source.
    _db: Option<TestDatabase>,
}

impl Source {
    /// The fixture, schema and rows, on `backend` (SQLite: a file in `dir`).
    pub async fn fixture(backend: &Backend, dir: &Path) -> Self {
        let source = Self::empty(backend, dir).await;
        let dialect = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Server(url) if url.starts_with("postgres") => "postgres",
            Backend::Server(_) => "mysql",
        };
        source.execute_file(&format!("{FIXTURES}/schema.{dialect}.sql")).await;
        source.execute_file(&format!("{FIXTURES}/data.sql")).await;
        source
    }

    /// An empty database on `backend`.
    pub async fn empty(backend: &Backend, dir: &Path) -> Self {
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}/authify-api.db", dir.display());
                let created = Database::connect(format!("{url}?mode=rwc")).await.expect("create the source");
                created.close().await.expect("close");
                Self { url, _db: None }
            }
            Backend::Server(_) => {
                let db = TestDatabase::create(backend, dir).await;
                Self { url: db.url.clone(), _db: Some(db) }
            }
        }
    }

    /// A source at an URL given by the test.
    pub fn at(url: impl Into<String>) -> Self {
        Self { url: url.into(), _db: None }
    }

    fn writable_url(&self) -> String {
        if self.url.starts_with("sqlite:") { format!("{}?mode=rw", self.url) } else { self.url.clone() }
    }

    /// Runs each statement of a file (comment lines dropped; a line ending in `;` ends one).
    pub async fn execute_file(&self, path: &str) {
        let text = std::fs::read_to_string(path).expect("fixture file");
        let sql: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
        let joined = sql.join("\n");
        for statement in joined.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
            self.execute(statement.trim_end_matches(';')).await;
        }
    }

    pub async fn execute(&self, statement: &str) {
        let db = Database::connect(self.writable_url()).await.expect("connect to the source");
        db.execute_unprepared(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
        db.close().await.expect("close");
    }
}

/// `authify import authify-api --from <source> <args>` on the instance's database.
pub fn import(app: &TestApp, source: &Source, args: &[&str]) -> Output {
    let mut all = vec!["import", "authify-api", "--from", source.url.as_str()];
    all.extend_from_slice(args);
    run(app.dir.path(), &[("AUTHIFY_DB_URL", app.settings.db_url.as_str()), ("RUST_LOG", "warn")], &all, "")
}

/// The same, checking that it succeeded; its stdout.
pub fn import_ok(app: &TestApp, source: &Source, args: &[&str]) -> String {
    let output = import(app, source, args);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 stdout")
}
