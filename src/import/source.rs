//! Reading an authify-api database as its ActiveRecord migrations left it (schema version
//! 20170712103320, restated in ../shared/seeds/authify-api-schema.md): SQLite, PostgreSQL or
//! MariaDB/MySQL. This is the one place outside `store/` that speaks SQL, because the database is
//! not Authify's: plain SELECTs, with every value decoded leniently (Rails wrote booleans as 't'/'f'
//! or 0/1 and times as text on SQLite, and INTEGER ids are 32-bit on PostgreSQL).

use chrono::NaiveDateTime;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, QueryResult, Statement};

use super::ImportError;

/// The tables and columns the import reads; a database without one of them is not authify-api's.
pub const TABLES: &[(&str, &[&str])] = &[
    (
        "users",
        &["id", "email", "password_digest", "full_name", "created_at", "updated_at", "admin", "verified", "handle"],
    ),
    (
        "organizations",
        &[
            "id",
            "name",
            "public_email",
            "gravatar_email",
            "billing_email",
            "description",
            "url",
            "location",
            "created_at",
            "updated_at",
        ],
    ),
    ("organization_memberships", &["id", "organization_id", "user_id", "admin"]),
    ("groups", &["id", "organization_id", "name", "description", "created_at", "updated_at"]),
    ("groups_users", &["group_id", "user_id"]),
    ("identities", &["id", "user_id", "provider", "uid", "created_at"]),
    ("apikeys", &["id", "user_id", "access_key", "secret_key_digest", "created_at"]),
    ("trusted_delegates", &["id", "name", "access_key", "secret_key_digest", "description", "created_at"]),
];

/// One row of a source table, by column name, decoded leniently.
pub struct Row(QueryResult);

impl Row {
    pub fn int(&self, column: &str) -> Option<i64> {
        let r = &self.0;
        r.try_get::<Option<i64>>("", column)
            .or_else(|_| r.try_get::<Option<i32>>("", column).map(|v| v.map(i64::from)))
            .ok()
            .flatten()
            .or_else(|| self.text(column).and_then(|t| t.trim().parse().ok()))
    }

    pub fn text(&self, column: &str) -> Option<String> {
        self.0.try_get::<Option<String>>("", column).ok().flatten()
    }

    /// NULL (and anything unreadable) is `None`; the caller decides what it means.
    pub fn boolean(&self, column: &str) -> Option<bool> {
        let r = &self.0;
        if let Ok(value) = r.try_get::<Option<bool>>("", column) {
            return value;
        }
        if let Some(n) = self.int(column) {
            return Some(n != 0);
        }
        self.text(column).map(|t| matches!(t.trim().to_ascii_lowercase().as_str(), "t" | "true" | "1" | "y" | "yes"))
    }

    /// Unix seconds of a Rails `datetime` (stored in UTC).
    pub fn time(&self, column: &str) -> Option<i64> {
        let r = &self.0;
        if let Ok(Some(t)) = r.try_get::<Option<NaiveDateTime>>("", column) {
            return Some(t.and_utc().timestamp());
        }
        if let Ok(Some(t)) = r.try_get::<Option<chrono::DateTime<chrono::Utc>>>("", column) {
            return Some(t.timestamp());
        }
        let text = self.text(column)?;
        let text = text.trim().trim_end_matches(" UTC");
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f%z"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .map(|t| t.and_utc().timestamp())
            .or_else(|| chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp()))
    }
}

/// `url` with the scheme sqlx knows, and SQLite read-only by default.
fn source_url(url: &str) -> Result<String, ImportError> {
    let unsupported = || ImportError::Source(format!("`{url}` is not a sqlite://, postgres:// or mysql:// URL"));
    let (scheme, rest) = url.trim().split_once("://").ok_or_else(unsupported)?;
    let scheme = match scheme {
        "sqlite" | "sqlite3" => "sqlite",
        "postgres" | "postgresql" => "postgres",
        "mysql" | "mysql2" | "mariadb" => "mysql",
        _ => return Err(unsupported()),
    };
    let mut normalized = format!("{scheme}://{rest}");
    if scheme == "sqlite" && !rest.contains("mode=") {
        normalized.push_str(if rest.contains('?') { "&mode=ro" } else { "?mode=ro" });
    }
    Ok(normalized)
}

/// An open authify-api database.
pub struct Source {
    db: DatabaseConnection,
}

impl Source {
    /// Connects to `url` (authify-api's `sqlite3://` and `mysql2://` spellings too); SQLite is
    /// opened read-only unless the URL names a mode, so a mistyped path is an error rather than a
    /// new empty file.
    pub async fn open(url: &str) -> Result<Self, ImportError> {
        let mut options = ConnectOptions::new(source_url(url)?);
        options.max_connections(1).sqlx_logging(false);
        let db = Database::connect(options).await.map_err(|e| ImportError::Source(e.to_string()))?;
        Ok(Self { db })
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Checks that every table and column the import reads is there; the error names the first
    /// one missing.
    pub async fn check_schema(&self) -> Result<(), ImportError> {
        for (table, columns) in TABLES {
            let present = self.columns_of(table).await?;
            if present.is_empty() {
                return Err(ImportError::NotAuthifyApi(format!("table `{table}` is missing")));
            }
            if let Some(missing) = columns.iter().find(|c| !present.iter().any(|p| p.eq_ignore_ascii_case(c))) {
                return Err(ImportError::NotAuthifyApi(format!("column `{table}.{missing}` is missing")));
            }
        }
        Ok(())
    }

    async fn columns_of(&self, table: &str) -> Result<Vec<String>, ImportError> {
        let (sql, values) = match self.backend() {
            DbBackend::Sqlite => ("SELECT name FROM pragma_table_info(?)", vec![table.into()]),
            DbBackend::Postgres => (
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1",
                vec![table.into()],
            ),
            _ => (
                "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND table_name = ?",
                vec![table.into()],
            ),
        };
        let statement = Statement::from_sql_and_values(self.backend(), sql, values);
        let rows = self.db.query_all_raw(statement).await.map_err(|e| ImportError::Source(e.to_string()))?;
        Ok(rows.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).collect())
    }

    /// Every row of `table` (one of [`TABLES`]), with the columns the import reads, in id order
    /// where there is an id.
    pub async fn rows(&self, table: &str) -> Result<Vec<Row>, ImportError> {
        let columns = TABLES.iter().find(|(t, _)| *t == table).map(|(_, c)| *c).unwrap_or_default();
        let quote = |name: &str| match self.backend() {
            DbBackend::MySql => format!("`{name}`"),
            _ => format!("\"{name}\""),
        };
        let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let order = if columns.contains(&"id") { " ORDER BY \"id\"" } else { "" };
        let order = if self.backend() == DbBackend::MySql { order.replace('"', "`") } else { order.to_owned() };
        let sql = format!("SELECT {} FROM {}{order}", list.join(", "), quote(table));
        let statement = Statement::from_string(self.backend(), sql);
        let rows =
            self.db.query_all_raw(statement).await.map_err(|e| ImportError::Source(format!("reading {table}: {e}")))?;
        Ok(rows.into_iter().map(Row).collect())
    }

    pub async fn close(self) {
        let _ = self.db.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_urls_take_authify_apis_spellings_and_sqlite_opens_read_only() {
        let url = |u: &str| source_url(u).ok();
        assert_eq!(url("sqlite3:///srv/authify.db").as_deref(), Some("sqlite:///srv/authify.db?mode=ro"));
        assert_eq!(url("sqlite://a.db?cache=shared").as_deref(), Some("sqlite://a.db?cache=shared&mode=ro"));
        assert_eq!(url("mysql2://root@db/authify").as_deref(), Some("mysql://root@db/authify"));
        assert_eq!(url("postgresql://pg/authify").as_deref(), Some("postgres://pg/authify"));
        assert!(url("/srv/authify.db").is_none());
        assert!(url("oracle://x").is_none());
    }
}
