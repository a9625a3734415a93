//! Passkeys (WebAuthn, docs/passkeys.md).
//!
//! - `passkeys`: a user's registered credentials. `credential_hash` is the SHA-256 of the
//!   credential id (ids run to 1,023 bytes, too long for a unique index on MariaDB); `passkey` is
//!   webauthn-rs's serialized credential (public key, counter, backup flags: nothing secret);
//!   `user_handle` the random WebAuthn user id the authenticator keeps for the account.
//! - `passkey_challenges`: one ceremony in progress, written at its start and deleted by the one
//!   finish that takes it; `challenge_hash` is the SHA-256 of the id the client holds.
//! - `sessions.amr`, `oauth_codes.amr`: how the user signed in (`hwk user` for a passkey), for the
//!   tokens a session signs and the ID token a code leads to; none for a password.

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
    Amr,
}

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    Amr,
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    Name,
    CredentialHash,
    UserHandle,
    Passkey,
    Counter,
    BackupEligible,
    BackupState,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum PasskeyChallenges {
    Table,
    Id,
    ChallengeHash,
    Purpose,
    UserId,
    State,
    CreatedAt,
    ExpiresAt,
}

fn user_fk(table: impl IntoIden, column: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
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
                    .table(Passkeys::Table)
                    .col(big_pk_auto(Passkeys::Id))
                    .col(big_integer(Passkeys::UserId))
                    .col(string_len_null(Passkeys::Name, 255))
                    .col(string_len(Passkeys::CredentialHash, 64).unique_key())
                    .col(string_len(Passkeys::UserHandle, 36))
                    .col(text(Passkeys::Passkey))
                    .col(big_integer(Passkeys::Counter))
                    .col(boolean(Passkeys::BackupEligible))
                    .col(boolean(Passkeys::BackupState))
                    .col(big_integer(Passkeys::CreatedAt))
                    .col(big_integer_null(Passkeys::LastUsedAt))
                    .foreign_key(&mut user_fk(Passkeys::Table, Passkeys::UserId, "passkeys_user_fk"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("passkeys_user_idx").table(Passkeys::Table).col(Passkeys::UserId).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasskeyChallenges::Table)
                    .col(big_pk_auto(PasskeyChallenges::Id))
                    .col(string_len(PasskeyChallenges::ChallengeHash, 64).unique_key())
                    .col(string_len(PasskeyChallenges::Purpose, 16))
                    .col(big_integer_null(PasskeyChallenges::UserId))
                    .col(text(PasskeyChallenges::State))
                    .col(big_integer(PasskeyChallenges::CreatedAt))
                    .col(big_integer(PasskeyChallenges::ExpiresAt))
                    .foreign_key(&mut user_fk(
                        PasskeyChallenges::Table,
                        PasskeyChallenges::UserId,
                        "passkey_challenges_user_fk",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("passkey_challenges_expires_idx")
                    .table(PasskeyChallenges::Table)
                    .col(PasskeyChallenges::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Sessions::Table).add_column(string_len_null(Sessions::Amr, 32)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(OauthCodes::Table).add_column(string_len_null(OauthCodes::Amr, 32)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(OauthCodes::Table).drop_column(OauthCodes::Amr).to_owned()).await?;
        manager.alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::Amr).to_owned()).await?;
        manager.drop_table(Table::drop().table(PasskeyChallenges::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Passkeys::Table).to_owned()).await
    }
}
