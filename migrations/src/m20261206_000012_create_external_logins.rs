//! `external_logins`: sign-ins through an external OpenID Provider (docs/external-login.md). A row
//! is written when the browser leaves for the provider, keyed by the SHA-256 of the `state` it
//! carries; the callback claims it once (`callback_at`); a finished login holds the SHA-256 of a
//! one-time login code (`code_hash`), redeemed once (`code_used_at`) before `expires_at`. Nothing
//! secret is kept in plain: the PKCE verifier stays in the browser's cookie, the nonce is hashed.

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
enum ExternalLogins {
    Table,
    Id,
    StateHash,
    Provider,
    NonceHash,
    RedirectUri,
    ClientState,
    ReturnTo,
    CreatedAt,
    ExpiresAt,
    CallbackAt,
    UserId,
    CodeHash,
    CodeUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExternalLogins::Table)
                    .col(big_pk_auto(ExternalLogins::Id))
                    .col(string_len(ExternalLogins::StateHash, 64).unique_key())
                    .col(string_len(ExternalLogins::Provider, 64))
                    .col(string_len(ExternalLogins::NonceHash, 64))
                    .col(text_null(ExternalLogins::RedirectUri))
                    .col(string_len_null(ExternalLogins::ClientState, 512))
                    .col(text_null(ExternalLogins::ReturnTo))
                    .col(big_integer(ExternalLogins::CreatedAt))
                    .col(big_integer(ExternalLogins::ExpiresAt))
                    .col(big_integer_null(ExternalLogins::CallbackAt))
                    .col(big_integer_null(ExternalLogins::UserId))
                    .col(string_len_null(ExternalLogins::CodeHash, 64).unique_key())
                    .col(big_integer_null(ExternalLogins::CodeUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("external_logins_user_fk")
                            .from(ExternalLogins::Table, ExternalLogins::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("external_logins_expires_idx")
                    .table(ExternalLogins::Table)
                    .col(ExternalLogins::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ExternalLogins::Table).to_owned()).await
    }
}
