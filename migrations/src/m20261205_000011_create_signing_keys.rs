//! The signing keys every instance shares (issue 25, docs/key-lifecycle.md). One row per key:
//! `state` moves next → signing → verifying → retired, each step with its time; `seq` is unique
//! and one above the newest key's, so two instances that both try to add the next key cannot
//! both succeed. The private key is stored only sealed (AES-256-GCM under the key-encryption key).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Id,
    Seq,
    Kid,
    Algorithm,
    State,
    Origin,
    CreatedAt,
    SignsAt,
    SigningSince,
    VerifyingSince,
    VerifiesUntil,
    RetiredAt,
    PublicPem,
    SealedPrivateKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(big_pk_auto(SigningKeys::Id))
                    .col(big_integer(SigningKeys::Seq).unique_key())
                    .col(string_len(SigningKeys::Kid, 64).unique_key())
                    .col(string_len(SigningKeys::Algorithm, 8))
                    .col(string_len(SigningKeys::State, 16))
                    .col(string_len(SigningKeys::Origin, 16))
                    .col(big_integer(SigningKeys::CreatedAt))
                    .col(big_integer_null(SigningKeys::SignsAt))
                    .col(big_integer_null(SigningKeys::SigningSince))
                    .col(big_integer_null(SigningKeys::VerifyingSince))
                    .col(big_integer_null(SigningKeys::VerifiesUntil))
                    .col(big_integer_null(SigningKeys::RetiredAt))
                    .col(text(SigningKeys::PublicPem))
                    .col(text(SigningKeys::SealedPrivateKey))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SigningKeys::Table).to_owned()).await
    }
}
