//! Telling "the database cannot be reached" (down, restarting, out of connections) from every other
//! database error: the first is answered 503 with `Retry-After` and logged once a minute, the
//! others are our fault (500, logged each time).

use sea_orm::{DbErr, RuntimeErr};

use crate::runtime::throttled_log::ThrottledLog;

static UNREACHABLE: ThrottledLog = ThrottledLog::new();

/// Whether `err` says the database could not be reached or went away mid-query, rather than that
/// it refused the query.
pub(super) fn is_unreachable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => {
            is_unreachable_sqlx(sqlx)
        }
        _ => false,
    }
}

fn is_unreachable_sqlx(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        Error::Io(_) | Error::Tls(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed => true,
        Error::Database(db) => db.code().is_some_and(|code| is_unreachable_code(&code)),
        _ => false,
    }
}

/// PostgreSQL's SQLSTATE classes 08 (connection exception) and 57P (shutting down, starting up);
/// MariaDB's server shutdown and lost-connection errors; SQLite's busy and locked (another writer
/// held the file past the busy timeout).
fn is_unreachable_code(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P") || matches!(code, "1053" | "2002" | "2006" | "2013" | "5" | "6")
}

/// Logs the outage, once a minute at most.
pub(super) fn note(err: &DbErr) {
    UNREACHABLE.warn(&format!("the database cannot be reached; answering 503 until it can: {err}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_told_from_refused_queries() {
        assert!(is_unreachable(&DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(is_unreachable(&DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(io.into())))));
        let decode = sea_orm::sqlx::Error::ColumnNotFound("x".into());
        assert!(!is_unreachable(&DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(decode)))));
        assert!(!is_unreachable(&DbErr::RecordNotFound("x".into())));
        assert!(is_unreachable_code("57P01") && is_unreachable_code("08006") && is_unreachable_code("2013"));
        assert!(!is_unreachable_code("23505"), "a unique violation is the caller's");
    }
}
