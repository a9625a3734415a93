//! Room for authify-api's digests of API-key and delegate secrets (`authify import authify-api`).
//! `secret_hash` held only Authify's hex SHA-256 (64 characters); an imported key keeps
//! authify-api's `hex(SHA-512(secret + salt)) + salt` (144 characters) until its first successful
//! use replaces it (see `crypto::legacy_digest`). SQLite does not enforce a VARCHAR length (and
//! cannot alter a column), so only PostgreSQL and MariaDB/MySQL change.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    SecretHash,
}

#[derive(DeriveIden)]
enum TrustedDelegates {
    Table,
    SecretHash,
}

async fn set_width(manager: &SchemaManager<'_>, table: DynIden, column: DynIden, width: u32) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Sqlite {
        return Ok(());
    }
    let column = ColumnDef::new(column).string_len(width).not_null().to_owned();
    manager.alter_table(Table::alter().table(table).modify_column(column).to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_width(manager, ApiKeys::Table.into_iden(), ApiKeys::SecretHash.into_iden(), 255).await?;
        set_width(manager, TrustedDelegates::Table.into_iden(), TrustedDelegates::SecretHash.into_iden(), 255).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_width(manager, ApiKeys::Table.into_iden(), ApiKeys::SecretHash.into_iden(), 64).await?;
        set_width(manager, TrustedDelegates::Table.into_iden(), TrustedDelegates::SecretHash.into_iden(), 64).await
    }
}
