//! `audit_events.occurrences`: how many identical events a row stands for. The identical events of
//! one second that a machine credential (an OAuth client, an API key, a delegate) causes and the
//! audit writer takes in one batch are one row with their count (docs/operations.md); every other
//! row stands for one event.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Occurrences,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(AuditEvents::Table)
                    .add_column(integer(AuditEvents::Occurrences).default(1))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(AuditEvents::Table).drop_column(AuditEvents::Occurrences).to_owned())
            .await
    }
}
