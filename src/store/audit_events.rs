//! The `audit_events` table: inserted in batches by the audit writer, read by `/audit-events`.
//! Nothing here updates or deletes a row.

use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::{DbBackend, Statement};

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
}

/// SQLite takes a batch as one JSON array of rows, so the statement is the same whatever the
/// batch's size (prepared once, one parameter), instead of seven parameters per row.
const SQLITE_INSERT_JSON: &str = "INSERT INTO audit_events \
     (occurred_at, actor, action, target, detail, client_ip, request_id) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 \
     FROM json_each(?) ORDER BY key";

impl Store {
    /// Appends events in one statement.
    pub async fn insert_audit_events(&self, events: &[NewAuditEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        if self.conn().get_database_backend() == DbBackend::Sqlite {
            let rows: Vec<_> = events
                .iter()
                .map(|e| (e.occurred_at, &e.actor, &e.action, &e.target, &e.detail, &e.client_ip, &e.request_id))
                .collect();
            let json = serde_json::to_string(&rows).map_err(|err| StoreError::Db(DbErr::Custom(err.to_string())))?;
            let statement = Statement::from_sql_and_values(DbBackend::Sqlite, SQLITE_INSERT_JSON, [json.into()]);
            self.conn().execute_raw(statement).await?;
            return Ok(());
        }
        let rows = events.iter().cloned().map(|e| ActiveModel {
            occurred_at: Set(e.occurred_at),
            actor: Set(e.actor),
            action: Set(e.action),
            target: Set(e.target),
            detail: Set(e.detail),
            client_ip: Set(e.client_ip),
            request_id: Set(e.request_id),
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
