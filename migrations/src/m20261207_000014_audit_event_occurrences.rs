//! `audit_events.occurrences`: how many identical events a row stands for. A machine credential
//! (an OAuth client, an API key, a delegate) that asks again and again within one second is
//! recorded once with the count (docs/operations.md, "Audit trail"); every other row stands for one.

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
