//! Registration: single-use email tokens (verify / reset / email change, stored as SHA-256; an
//! email-change token carries the address it confirms) and the mail outbox
//! (written in the same transaction as the change that causes a mail, sent after commit by a
//! background sender that claims rows with a conditional UPDATE).

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
enum EmailTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    NewEmail,
    ExpiresAt,
    UsedAt,
    FailedAttempts,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OutboxMails {
    Table,
    Id,
    Recipient,
    ClientIp,
    Subject,
    TextBody,
    HtmlBody,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedBy,
    LeaseUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .col(big_pk_auto(EmailTokens::Id))
                    .col(big_integer(EmailTokens::UserId))
                    .col(string_len(EmailTokens::Purpose, 16))
                    .col(string_len(EmailTokens::TokenHash, 64))
                    .col(string_len_null(EmailTokens::NewEmail, 254))
                    .col(big_integer(EmailTokens::ExpiresAt))
                    .col(big_integer_null(EmailTokens::UsedAt))
                    .col(integer(EmailTokens::FailedAttempts).default(0))
                    .col(big_integer(EmailTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("email_tokens_user_id_fkey")
                            .from(EmailTokens::Table, EmailTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade)
                            .on_update(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let token_index = Index::create()
            .name("email_tokens_token_hash_key")
            .table(EmailTokens::Table)
            .col(EmailTokens::TokenHash)
            .unique()
            .to_owned();
        manager.create_index(token_index).await?;
        let owner_index = Index::create()
            .name("email_tokens_user_id_purpose_idx")
            .table(EmailTokens::Table)
            .col(EmailTokens::UserId)
            .col(EmailTokens::Purpose)
            .to_owned();
        manager.create_index(owner_index).await?;

        manager
            .create_table(
                Table::create()
                    .table(OutboxMails::Table)
                    .col(big_pk_auto(OutboxMails::Id))
                    .col(string_len(OutboxMails::Recipient, 254))
                    .col(string_len_null(OutboxMails::ClientIp, 64))
                    .col(text(OutboxMails::Subject))
                    .col(text(OutboxMails::TextBody))
                    .col(text_null(OutboxMails::HtmlBody))
                    .col(string_len(OutboxMails::Status, 16))
                    .col(integer(OutboxMails::Attempts).default(0))
                    .col(big_integer(OutboxMails::NextAttemptAt))
                    .col(string_len_null(OutboxMails::ClaimedBy, 64))
                    .col(big_integer_null(OutboxMails::LeaseUntil))
                    .col(text_null(OutboxMails::LastError))
                    .col(big_integer(OutboxMails::CreatedAt))
                    .col(big_integer_null(OutboxMails::SentAt))
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, [OutboxMails; 2]); 3] = [
            ("outbox_mails_status_next_idx", [OutboxMails::Status, OutboxMails::NextAttemptAt]),
            ("outbox_mails_recipient_idx", [OutboxMails::Recipient, OutboxMails::CreatedAt]),
            ("outbox_mails_client_ip_idx", [OutboxMails::ClientIp, OutboxMails::CreatedAt]),
        ];
        for (name, [first, second]) in indexes {
            let index = Index::create().name(name).table(OutboxMails::Table).col(first).col(second).to_owned();
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(OutboxMails::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(EmailTokens::Table).to_owned()).await
    }
}
