//! The SQLite database holds password digests, sessions and sealed secrets: its file, and the
//! `-wal` and `-shm` files SQLite keeps beside it, are readable by the service's account only
//! (0600), as the private key is.

use std::os::unix::fs::PermissionsExt;

use crate::plain_tests;
use crate::support::app::{Backend, spawn};

// Only SQLite keeps the data in files of the service's own: a plain test, not one per backend.
plain_tests!(the_sqlite_database_and_its_wal_and_shm_files_are_created_0600);

async fn the_sqlite_database_and_its_wal_and_shm_files_are_created_0600() {
    let app = spawn(Backend::Sqlite).start().await;
    app.insert_user("alice@example.com", true, false).await;
    for name in ["authify.db", "authify.db-wal", "authify.db-shm"] {
        let path = app.dir.path().join(name);
        let mode = std::fs::metadata(&path).expect(name).permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
}
