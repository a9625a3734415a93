//! Two columns for the security review of 2026-12-04:
//! - `identities.delegate_id`: the trusted delegate that linked the identity; only it logs in
//!   through it. Rows linked before keep NULL (see docs/delegates.md).
//! - `email_tokens.sent_to`: the address a token was mailed to; a token works only while that is
//!   still the address it confirms. Tokens mailed before keep NULL and no longer work.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Identities {
    Table,
    DelegateId,
}

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    SentTo,
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
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailTokens::Table)
                    .add_column(ColumnDef::new(EmailTokens::SentTo).string_len(255).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(EmailTokens::Table).drop_column(EmailTokens::SentTo).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(Identities::Table).drop_column(Identities::DelegateId).to_owned())
            .await
    }
}
