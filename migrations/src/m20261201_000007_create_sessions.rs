//! Sessions: refresh-token families and browser (cookie) sessions, the refresh tokens of each
//! family, and the revocation list that every instance polls.
//!
//! A `sessions` row is one login. `kind` is `refresh` (a login at `/jwt/token`, continued by
//! rotating refresh tokens) or `browser` (a login at `/session`, whose cookie secret's hash is
//! `secret_hash`). Revoking a session sets `revoked_at`; tokens and cookies of a revoked session
//! stop working at once, and its `sid` goes on the revocation list so the JWTs it issued do too.

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
enum Sessions {
    Table,
    Id,
    UserId,
    Kind,
    SecretHash,
    CreatedAt,
    PasswordCheckedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
    ClientIp,
    Actor,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    IssuedAt,
    UsedAt,
    Successor,
}

#[derive(DeriveIden)]
enum Revocations {
    Table,
    Id,
    Kind,
    Value,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(big_pk_auto(Sessions::Id))
                    .col(big_integer(Sessions::UserId))
                    .col(string_len(Sessions::Kind, 16))
                    .col(string_len_null(Sessions::SecretHash, 64).unique_key())
                    .col(big_integer(Sessions::CreatedAt))
                    .col(big_integer(Sessions::PasswordCheckedAt))
                    .col(big_integer(Sessions::LastUsedAt))
                    .col(big_integer(Sessions::ExpiresAt))
                    .col(big_integer_null(Sessions::RevokedAt))
                    .col(string_len_null(Sessions::ClientIp, 64))
                    .col(string_len_null(Sessions::Actor, 255))
                    .foreign_key(
                        ForeignKey::create()
                            .name("sessions_user_fk")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("sessions_user_id_idx").table(Sessions::Table).col(Sessions::UserId).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(big_pk_auto(RefreshTokens::Id))
                    .col(big_integer(RefreshTokens::SessionId))
                    .col(string_len(RefreshTokens::TokenHash, 64).unique_key())
                    .col(big_integer(RefreshTokens::IssuedAt))
                    .col(big_integer_null(RefreshTokens::UsedAt))
                    .col(text_null(RefreshTokens::Successor))
                    .foreign_key(
                        ForeignKey::create()
                            .name("refresh_tokens_session_fk")
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("refresh_tokens_session_id_idx")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SessionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Revocations::Table)
                    .col(big_pk_auto(Revocations::Id))
                    .col(string_len(Revocations::Kind, 8))
                    .col(string_len(Revocations::Value, 64))
                    .col(big_integer(Revocations::CreatedAt))
                    .col(big_integer(Revocations::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("revocations_created_at_idx", Revocations::CreatedAt),
            ("revocations_expires_at_idx", Revocations::ExpiresAt),
        ] {
            manager.create_index(Index::create().name(name).table(Revocations::Table).col(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Revocations::Table.into_iden(), RefreshTokens::Table.into_iden(), Sessions::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
