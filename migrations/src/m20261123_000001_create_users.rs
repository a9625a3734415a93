//! Users. Times are Unix seconds (BIGINT) so they compare the same way on every backend and do not
//! run into MariaDB's 2038 TIMESTAMP limit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Handle,
    FullName,
    PasswordDigest,
    Admin,
    Verified,
    Disabled,
    PasswordChangedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len(Users::Email, 254))
                    .col(string_len(Users::Handle, 64))
                    .col(string_len_null(Users::FullName, 255))
                    .col(text_null(Users::PasswordDigest))
                    .col(boolean(Users::Admin).default(false))
                    .col(boolean(Users::Verified).default(false))
                    .col(boolean(Users::Disabled).default(false))
                    .col(big_integer(Users::PasswordChangedAt))
                    .col(big_integer(Users::CreatedAt))
                    .col(big_integer(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Named so that a unique violation can be mapped to the field by its constraint name.
        for (name, column) in [("users_email_key", Users::Email), ("users_handle_key", Users::Handle)] {
            manager
                .create_index(Index::create().name(name).table(Users::Table).col(column).unique().to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await
    }
}
