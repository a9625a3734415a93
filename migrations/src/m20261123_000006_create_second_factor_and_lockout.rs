//! Second factors (TOTP secrets and recovery codes) and login lockout counters.
//!
//! `login_lockouts` is keyed by the SHA-256 of the normalised email, not by user id, so an unknown
//! email is counted and locked exactly like a known one (lockout reveals nothing about existence).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TotpFactors {
    Table,
    UserId,
    SecretCiphertext,
    Enabled,
    LastStep,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginLockouts {
    Table,
    AccountKey,
    Failures,
    LockedUntil,
    Lockouts,
    UpdatedAt,
}

fn user_fk(name: &str, table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TotpFactors::Table)
                    .col(big_integer(TotpFactors::UserId).primary_key())
                    .col(text(TotpFactors::SecretCiphertext))
                    .col(boolean(TotpFactors::Enabled).default(false))
                    .col(big_integer_null(TotpFactors::LastStep))
                    .col(big_integer(TotpFactors::CreatedAt))
                    .col(big_integer(TotpFactors::UpdatedAt))
                    .foreign_key(&mut user_fk("totp_factors_user_fk", TotpFactors::Table, TotpFactors::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(big_pk_auto(RecoveryCodes::Id))
                    .col(big_integer(RecoveryCodes::UserId))
                    .col(string_len(RecoveryCodes::CodeHash, 64))
                    .col(big_integer_null(RecoveryCodes::UsedAt))
                    .col(big_integer(RecoveryCodes::CreatedAt))
                    .foreign_key(&mut user_fk("recovery_codes_user_fk", RecoveryCodes::Table, RecoveryCodes::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recovery_codes_user_id_code_hash_key")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .col(RecoveryCodes::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginLockouts::Table)
                    .col(string_len(LoginLockouts::AccountKey, 64).primary_key())
                    .col(integer(LoginLockouts::Failures).default(0))
                    .col(big_integer(LoginLockouts::LockedUntil).default(0))
                    .col(integer(LoginLockouts::Lockouts).default(0))
                    .col(big_integer(LoginLockouts::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [LoginLockouts::Table.into_iden(), RecoveryCodes::Table.into_iden(), TotpFactors::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
