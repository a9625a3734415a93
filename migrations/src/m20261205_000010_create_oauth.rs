//! The OpenID Provider (docs/openid-provider.md):
//! - `oauth_clients`: registered relying parties. `secret_hash` is the SHA-256 of a confidential
//!   client's secret (NULL for public clients); redirect URIs are newline-separated and matched
//!   exactly; `scopes` are what a confidential client may ask for itself (`client_credentials`).
//! - `oauth_codes`: authorization codes, stored as SHA-256, single-use (`used_at`), bound to the
//!   client, redirect URI, PKCE challenge and nonce; `session_id` is the session its exchange
//!   opened, ended when the code comes back.
//! - `oauth_consents`: what a user allowed a third-party client, one row per user and client.
//! - `sessions.client_id`, `.scope`, `.auth_time`: a session opened by a code exchange belongs to
//!   one client, carries the granted scope, and remembers when the user signed in.

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
enum OauthClients {
    Table,
    Id,
    ClientId,
    Name,
    SecretHash,
    RedirectUris,
    PostLogoutRedirectUris,
    Scopes,
    Public,
    FirstParty,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    Id,
    CodeHash,
    ClientId,
    UserId,
    RedirectUri,
    Scope,
    Nonce,
    CodeChallenge,
    AuthTime,
    SessionId,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OauthConsents {
    Table,
    Id,
    UserId,
    ClientId,
    Scope,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    ClientId,
    Scope,
    AuthTime,
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
                    .table(OauthClients::Table)
                    .col(big_pk_auto(OauthClients::Id))
                    .col(string_len(OauthClients::ClientId, 64).unique_key())
                    .col(string_len(OauthClients::Name, 255).unique_key())
                    .col(string_len_null(OauthClients::SecretHash, 64))
                    .col(text(OauthClients::RedirectUris))
                    .col(text(OauthClients::PostLogoutRedirectUris))
                    .col(string_len(OauthClients::Scopes, 1024))
                    .col(boolean(OauthClients::Public))
                    .col(boolean(OauthClients::FirstParty))
                    .col(big_integer(OauthClients::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthCodes::Table)
                    .col(big_pk_auto(OauthCodes::Id))
                    .col(string_len(OauthCodes::CodeHash, 64).unique_key())
                    .col(string_len(OauthCodes::ClientId, 64))
                    .col(big_integer(OauthCodes::UserId))
                    .col(text(OauthCodes::RedirectUri))
                    .col(string_len(OauthCodes::Scope, 255))
                    .col(string_len_null(OauthCodes::Nonce, 255))
                    .col(string_len_null(OauthCodes::CodeChallenge, 128))
                    .col(big_integer(OauthCodes::AuthTime))
                    .col(big_integer_null(OauthCodes::SessionId))
                    .col(big_integer(OauthCodes::ExpiresAt))
                    .col(big_integer_null(OauthCodes::UsedAt))
                    .col(big_integer(OauthCodes::CreatedAt))
                    .foreign_key(&mut user_fk(OauthCodes::Table, OauthCodes::UserId, "oauth_codes_user_fk"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthConsents::Table)
                    .col(big_pk_auto(OauthConsents::Id))
                    .col(big_integer(OauthConsents::UserId))
                    .col(string_len(OauthConsents::ClientId, 64))
                    .col(string_len(OauthConsents::Scope, 255))
                    .col(big_integer(OauthConsents::CreatedAt))
                    .foreign_key(&mut user_fk(OauthConsents::Table, OauthConsents::UserId, "oauth_consents_user_fk"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("oauth_consents_user_client_idx")
                    .table(OauthConsents::Table)
                    .col(OauthConsents::UserId)
                    .col(OauthConsents::ClientId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            ColumnDef::new(Sessions::ClientId).string_len(64).null().to_owned(),
            ColumnDef::new(Sessions::Scope).string_len(255).null().to_owned(),
            ColumnDef::new(Sessions::AuthTime).big_integer().null().to_owned(),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(Sessions::Table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Sessions::AuthTime, Sessions::Scope, Sessions::ClientId] {
            manager.alter_table(Table::alter().table(Sessions::Table).drop_column(column).to_owned()).await?;
        }
        for table in [OauthConsents::Table.into_iden(), OauthCodes::Table.into_iden(), OauthClients::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
