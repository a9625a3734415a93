//! Storage: sea-orm entities and the queries over them. Nothing outside this module touches
//! sea-orm, so the rest of the service sees plain structs and [`StoreError`].

pub mod api_keys;
pub mod audit_events;
pub mod claims;
mod code_exchanges;
pub mod delegates;
pub mod email_tokens;
pub mod entity;
pub mod external_logins;
pub mod groups;
pub mod identities;
pub mod import;
pub mod listing;
pub mod lockouts;
pub mod oauth_clients;
pub mod oauth_codes;
pub mod organizations;
pub mod outbox;
pub mod passkeys;
pub mod registration;
pub mod revocations;
pub mod second_factor;
pub mod sessions;
pub mod signing_keys;
mod unavailable;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

/// A failed storage operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; `field` names the column it guards.
    #[error("{field} is already taken")]
    Taken { field: &'static str },
    /// The database cannot be reached (down, restarting, the pool's wait ran out): worth a retry.
    #[error("the database cannot be reached")]
    Unavailable,
    #[error("database error: {0}")]
    Db(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if unavailable::is_unreachable(&err) {
            unavailable::note(&err);
            return StoreError::Unavailable;
        }
        StoreError::Db(err)
    }
}

/// Maps a unique violation to the field named in the constraint (`users_email_key`) or, on SQLite,
/// in the message (`UNIQUE constraint failed: users.email`).
pub(crate) fn classify(err: DbErr, fields: &[&'static str]) -> StoreError {
    if let Some(sea_orm::SqlErr::UniqueConstraintViolation(message)) = err.sql_err()
        && let Some(field) = fields.iter().find(|f| message.contains(*f))
    {
        return StoreError::Taken { field };
    }
    StoreError::from(err)
}

/// Creates the SQLite file of a `mode=rwc` URL, empty and 0600, when it does not exist yet. Left to
/// SQLite, it would be created with the process umask (usually 0644: readable by every local
/// account) while it holds password digests and sessions; SQLite creates the `-wal` and `-shm`
/// files with the mode of the database file. An existing file keeps its mode, with a warning when
/// other accounts may read it.
fn create_private_sqlite_file(url: &str) -> Result<(), DbErr> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    use std::str::FromStr;

    let (database, query) = url.split_once('?').unwrap_or((url, ""));
    let creates = form_urlencoded::parse(query.as_bytes()).any(|(key, value)| key == "mode" && value == "rwc");
    let in_memory = database.ends_with(":memory:");
    if !creates || in_memory {
        return Ok(());
    }
    let options =
        sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(|e| DbErr::Custom(e.to_string()))?;
    let path = options.get_filename();
    let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    match created {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
            if mode & 0o077 != 0 {
                let (path, mode) = (path.display(), format!("{mode:o}"));
                tracing::warn!(%path, mode, "the SQLite database is readable by other accounts: chmod 600 it");
            }
            Ok(())
        }
        Err(err) => Err(DbErr::Custom(format!("cannot create {}: {err}", path.display()))),
    }
}

/// The database behind one Authify instance; cheap to clone (a pool handle).
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite only: one write transaction of this process at a time, queued in order here rather
    /// than in SQLite's busy handler, which sleeps up to 100 ms between tries (the tail latency of
    /// concurrent writes). Other backends lock rows, not the database, and have none.
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
    /// SQLite only: the queue of authorization-code exchanges written together
    /// ([`code_exchanges`]).
    exchanges: Option<tokio::sync::mpsc::Sender<code_exchanges::Job>>,
}

/// Held beside a write transaction until it ends (see [`Store::begin_write`]).
pub(crate) type WriteGuard = Option<tokio::sync::OwnedMutexGuard<()>>;

impl Store {
    /// Connects to `url` (already normalised by the settings) and waits at most a few seconds.
    /// SQLite files run in WAL mode (readers proceed while a writer commits) with
    /// `synchronous = NORMAL`, which syncs at checkpoints rather than at every commit: a commit
    /// survives a crash of the process, and a power loss may undo the last ones but never corrupts
    /// the file. `fsync_every_commit` (AUTHIFY_SQLITE_FSYNC) makes every commit durable instead.
    /// A new SQLite file is created 0600 ([`create_private_sqlite_file`]). A query waits at most
    /// `timeout` for a connection (opening one included), so while the database is down requests
    /// fail within it ([`StoreError::Unavailable`]).
    pub async fn connect(
        url: &str,
        max_connections: u32,
        timeout: Duration,
        fsync_every_commit: bool,
    ) -> Result<Self, DbErr> {
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(timeout)
            .acquire_timeout(timeout)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(move |sqlite| {
                let synchronous = if fsync_every_commit { SqliteSynchronous::Full } else { SqliteSynchronous::Normal };
                sqlite.journal_mode(SqliteJournalMode::Wal).synchronous(synchronous)
            });
        if url.starts_with("sqlite:") {
            create_private_sqlite_file(url)?;
            // A pooled SQLite connection is a file handle on this machine's disk: pinging it before
            // each use (a round trip to its thread) would tell nothing a query does not.
            options.test_before_acquire(false);
        }
        let db = Database::connect(options).await?;
        let sqlite = db.get_database_backend() == DbBackend::Sqlite;
        let mut store = Self { db, write_gate: sqlite.then(Default::default), exchanges: None };
        if sqlite {
            // The writer holds a handle without the queue, so the queue closes with the last store.
            store.exchanges = Some(code_exchanges::start(store.clone()));
        }
        Ok(store)
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.db, None).await
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.db.ping().await
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(self) -> Result<(), DbErr> {
        self.db.close().await
    }

    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// SQLite: waits for this process's turn to write at the write gate; hold the guard until the
    /// write ends. Other backends have no gate and get `None` at once.
    pub(crate) async fn write_turn(&self) -> WriteGuard {
        match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        }
    }

    /// Begins a transaction that will write; keep the guard until it commits or rolls back. On
    /// SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a deferred transaction that reads
    /// first fails with "database is locked" instead of waiting when another connection (for example
    /// the audit writer) commits between its read and its write; and this process's write
    /// transactions queue for the write gate first. Other backends ignore both.
    pub(crate) async fn begin_write(&self) -> Result<(DatabaseTransaction, WriteGuard), DbErr> {
        let guard = self.write_turn().await;
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok((self.db.begin_with_options(options).await?, guard))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_are_not_pinged_before_each_use() {
        let store =
            Store::connect("sqlite::memory:", 2, Duration::from_secs(5), false).await.expect("in-memory SQLite");
        let pool = store.db.get_sqlite_connection_pool();
        assert!(
            !pool.options().get_test_before_acquire(),
            "a ping per acquire is a round trip to the connection's thread"
        );
        store.ping().await.expect("the pool still answers");
    }
}
