//! Identities remember the trusted delegate that linked them (`delegate_id`): only that delegate
//! logs in through the identity. Rows linked before this migration keep NULL (see docs/delegates.md).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Identities {
    Table,
    DelegateId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Identities::Table)
                    .add_column(ColumnDef::new(Identities::DelegateId).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Identities::Table).drop_column(Identities::DelegateId).to_owned())
            .await
    }
}
