//! The `audit_events` table: inserted in batches by the audit writer, read by `/audit-events`.
//! Nothing here updates or deletes a row.

use std::sync::LazyLock;

use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::sqlx::query::Query;
use sea_orm::sqlx::sqlite::{Sqlite, SqliteArguments, SqlitePool};
use sea_orm::{DbBackend, RuntimeErr};

use super::entity::audit_event::{ActiveModel, Column, Entity, Model};
use super::listing::{ListParams, Page};
use super::{Store, StoreError};

/// A stored audit event.
pub type StoredAuditEvent = Model;

/// One event to append; texts are already cut to their column sizes by the audit service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub occurred_at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    /// How many identical events this row stands for: 1, or more for a machine's repeats folded
    /// into one row (`runtime::audit_repeats`).
    pub occurrences: i32,
}

impl Store {
    /// Appends events, all or none: on SQLite in prepared statements ([`insert_on_sqlite`]),
    /// elsewhere in one INSERT.
    pub async fn insert_audit_events(&self, events: &[NewAuditEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        if self.conn().get_database_backend() == DbBackend::Sqlite {
            let _turn = self.write_turn().await;
            return insert_on_sqlite(self.conn().get_sqlite_connection_pool(), events)
                .await
                .map_err(|err| StoreError::from(DbErr::Exec(RuntimeErr::SqlxError(err.into()))));
        }
        let rows = events.iter().cloned().map(|e| ActiveModel {
            occurred_at: Set(e.occurred_at),
            actor: Set(e.actor),
            action: Set(e.action),
            target: Set(e.target),
            detail: Set(e.detail),
            client_ip: Set(e.client_ip),
            request_id: Set(e.request_id),
            occurrences: Set(e.occurrences),
            ..Default::default()
        });
        Entity::insert_many(rows).exec_without_returning(self.conn()).await?;
        Ok(())
    }

    pub async fn audit_event_by_id(&self, id: i64) -> Result<Option<StoredAuditEvent>, StoreError> {
        Ok(Entity::find_by_id(id).one(self.conn()).await?)
    }

    /// One page of events, newest first unless `params` sorts otherwise (the id breaks ties).
    pub async fn list_audit_events_page(&self, params: &ListParams) -> Result<Page<StoredAuditEvent>, StoreError> {
        let mut params = params.clone();
        if params.sort.is_empty() {
            params.sort = vec![("occurred_at".to_owned(), true), ("id".to_owned(), true)];
        }
        self.fetch_page(Entity::find(), Column::Id, &params).await
    }
}

/// Rows per statement on SQLite: a batch is written in statements of [`WIDE`] rows, and what is
/// left in one of [`NARROW`] or [`WIDE`] rows padded with NULL rows that its `WHERE` skips. Only
/// two statement texts, so sqlx keeps both prepared on each connection: a batch costs no SQL
/// parsing (a fresh multi-row INSERT was parsed per batch, a tenth of a token's instructions).
const NARROW: usize = 8;
const WIDE: usize = 64;
const COLUMNS: usize = 8;

/// `INSERT … SELECT … FROM (VALUES …) WHERE column1 IS NOT NULL` of `rows` rows, in the order
/// given (the ids follow it).
fn padded_insert(rows: usize) -> String {
    let row = format!("({})", ["?"; COLUMNS].join(","));
    let values = vec![row; rows].join(",");
    format!(
        "INSERT INTO audit_events (occurred_at, actor, action, target, detail, client_ip, request_id, occurrences) \
         SELECT column1, column2, column3, column4, column5, column6, column7, column8 FROM (VALUES {values}) \
         WHERE column1 IS NOT NULL"
    )
}

static NARROW_INSERT: LazyLock<String> = LazyLock::new(|| padded_insert(NARROW));
static WIDE_INSERT: LazyLock<String> = LazyLock::new(|| padded_insert(WIDE));

/// One statement for at most [`WIDE`] events (sqlx copies each text it binds).
fn insert_statement(chunk: &[NewAuditEvent]) -> Query<'static, Sqlite, SqliteArguments> {
    let (sql, width) = if chunk.len() <= NARROW { (&*NARROW_INSERT, NARROW) } else { (&*WIDE_INSERT, WIDE) };
    let mut query = sea_orm::sqlx::query(sql.as_str());
    for e in chunk {
        query = query
            .bind(e.occurred_at)
            .bind(e.actor.as_str())
            .bind(e.action.as_str())
            .bind(e.target.as_deref())
            .bind(e.detail.as_deref())
            .bind(e.client_ip.as_deref())
            .bind(e.request_id.as_deref())
            .bind(e.occurrences);
    }
    for _ in 0..(width - chunk.len()) * COLUMNS {
        query = query.bind(None::<i64>);
    }
    query
}

/// The events in as few statements as [`insert_statement`] allows; more than one statement runs in
/// a transaction.
async fn insert_on_sqlite(pool: &SqlitePool, events: &[NewAuditEvent]) -> Result<(), sea_orm::sqlx::Error> {
    if events.len() <= WIDE {
        insert_statement(events).execute(pool).await?;
        return Ok(());
    }
    let mut transaction = pool.begin().await?;
    for chunk in events.chunks(WIDE) {
        insert_statement(chunk).execute(&mut *transaction).await?;
    }
    transaction.commit().await
}
