//! The `audit_events` table: inserted in batches by the audit writer, read by `/audit-events`.
//! Nothing here updates or deletes a row.

use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

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

impl Store {
    /// Appends events in one statement.
    pub async fn insert_audit_events(&self, events: &[NewAuditEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
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
