//! The append-only audit trail. Rows are only ever inserted (no route or query updates or deletes
//! them); `occurred_at` is Unix seconds like every other time column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OccurredAt,
    Actor,
    Action,
    Target,
    Detail,
    ClientIp,
    RequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(big_integer(AuditEvents::OccurredAt))
                    .col(string_len(AuditEvents::Actor, 255))
                    .col(string_len(AuditEvents::Action, 64))
                    .col(string_len_null(AuditEvents::Target, 255))
                    .col(text_null(AuditEvents::Detail))
                    .col(string_len_null(AuditEvents::ClientIp, 64))
                    .col(string_len_null(AuditEvents::RequestId, 128))
                    .to_owned(),
            )
            .await?;
        // Reads are "newest first, maybe by actor or action": one index per common filter.
        for (name, column) in [
            ("audit_events_occurred_at_idx", AuditEvents::OccurredAt),
            ("audit_events_actor_idx", AuditEvents::Actor),
            ("audit_events_action_idx", AuditEvents::Action),
        ] {
            manager.create_index(Index::create().name(name).table(AuditEvents::Table).col(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditEvents::Table).to_owned()).await
    }
}
