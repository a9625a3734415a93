//! Organizations and their members, groups and theirs, API keys, external identities and trusted
//! delegates. Every dependent row has a real foreign key with ON DELETE CASCADE, so deleting a user
//! or an organization removes what hangs off it in the same statement. Unique indexes are named
//! after the column(s) they guard so a violation can be mapped back to a field.

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
enum Organizations {
    Table,
    Id,
    Name,
    PublicEmail,
    GravatarEmail,
    BillingEmail,
    Description,
    Url,
    Location,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrganizationMemberships {
    Table,
    Id,
    OrganizationId,
    UserId,
    Admin,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    OrganizationId,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GroupMemberships {
    Table,
    Id,
    GroupId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    UserId,
    Name,
    AccessKey,
    SecretHash,
    Scopes,
    ExpiresAt,
    LastUsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Identities {
    Table,
    Id,
    UserId,
    Provider,
    Uid,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TrustedDelegates {
    Table,
    Id,
    Name,
    Description,
    AccessKey,
    SecretHash,
    Scopes,
    CreatedAt,
}

fn cascade(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn unique(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.to_owned()).await
}

async fn plain_index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    column: impl IntoIden,
) -> Result<(), DbErr> {
    manager.create_index(Index::create().name(name).table(table).col(column).to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(big_pk_auto(Organizations::Id))
                    .col(string_len(Organizations::Name, 255))
                    .col(string_len_null(Organizations::PublicEmail, 254))
                    .col(string_len_null(Organizations::GravatarEmail, 254))
                    .col(string_len_null(Organizations::BillingEmail, 254))
                    .col(text_null(Organizations::Description))
                    .col(string_len_null(Organizations::Url, 2048))
                    .col(string_len_null(Organizations::Location, 255))
                    .col(big_integer(Organizations::CreatedAt))
                    .col(big_integer(Organizations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        unique(manager, "organizations_name_key", Organizations::Table, vec![Organizations::Name.into_iden()]).await?;

        manager
            .create_table(
                Table::create()
                    .table(OrganizationMemberships::Table)
                    .col(big_pk_auto(OrganizationMemberships::Id))
                    .col(big_integer(OrganizationMemberships::OrganizationId))
                    .col(big_integer(OrganizationMemberships::UserId))
                    .col(boolean(OrganizationMemberships::Admin).default(false))
                    .col(big_integer(OrganizationMemberships::CreatedAt))
                    .foreign_key(&mut cascade(
                        "organization_memberships_organization_fk",
                        (OrganizationMemberships::Table, OrganizationMemberships::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "organization_memberships_user_fk",
                        (OrganizationMemberships::Table, OrganizationMemberships::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "organization_memberships_organization_id_user_id_key",
            OrganizationMemberships::Table,
            vec![OrganizationMemberships::OrganizationId.into_iden(), OrganizationMemberships::UserId.into_iden()],
        )
        .await?;
        plain_index(
            manager,
            "organization_memberships_user_idx",
            OrganizationMemberships::Table,
            OrganizationMemberships::UserId,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(big_pk_auto(Groups::Id))
                    .col(big_integer(Groups::OrganizationId))
                    .col(string_len(Groups::Name, 255))
                    .col(text_null(Groups::Description))
                    .col(big_integer(Groups::CreatedAt))
                    .col(big_integer(Groups::UpdatedAt))
                    .foreign_key(&mut cascade(
                        "groups_organization_fk",
                        (Groups::Table, Groups::OrganizationId),
                        (Organizations::Table, Organizations::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "groups_organization_id_name_key",
            Groups::Table,
            vec![Groups::OrganizationId.into_iden(), Groups::Name.into_iden()],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(GroupMemberships::Table)
                    .col(big_pk_auto(GroupMemberships::Id))
                    .col(big_integer(GroupMemberships::GroupId))
                    .col(big_integer(GroupMemberships::UserId))
                    .col(big_integer(GroupMemberships::CreatedAt))
                    .foreign_key(&mut cascade(
                        "group_memberships_group_fk",
                        (GroupMemberships::Table, GroupMemberships::GroupId),
                        (Groups::Table, Groups::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "group_memberships_user_fk",
                        (GroupMemberships::Table, GroupMemberships::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "group_memberships_group_id_user_id_key",
            GroupMemberships::Table,
            vec![GroupMemberships::GroupId.into_iden(), GroupMemberships::UserId.into_iden()],
        )
        .await?;
        plain_index(manager, "group_memberships_user_idx", GroupMemberships::Table, GroupMemberships::UserId).await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(big_pk_auto(ApiKeys::Id))
                    .col(big_integer(ApiKeys::UserId))
                    .col(string_len_null(ApiKeys::Name, 255))
                    .col(string_len(ApiKeys::AccessKey, 64))
                    .col(string_len(ApiKeys::SecretHash, 64))
                    .col(text(ApiKeys::Scopes))
                    .col(big_integer_null(ApiKeys::ExpiresAt))
                    .col(big_integer_null(ApiKeys::LastUsedAt))
                    .col(big_integer(ApiKeys::CreatedAt))
                    .foreign_key(&mut cascade(
                        "api_keys_user_fk",
                        (ApiKeys::Table, ApiKeys::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(manager, "api_keys_access_key_key", ApiKeys::Table, vec![ApiKeys::AccessKey.into_iden()]).await?;
        plain_index(manager, "api_keys_user_idx", ApiKeys::Table, ApiKeys::UserId).await?;

        manager
            .create_table(
                Table::create()
                    .table(Identities::Table)
                    .col(big_pk_auto(Identities::Id))
                    .col(big_integer(Identities::UserId))
                    .col(string_len(Identities::Provider, 64))
                    .col(string_len(Identities::Uid, 255))
                    .col(big_integer(Identities::CreatedAt))
                    .foreign_key(&mut cascade(
                        "identities_user_fk",
                        (Identities::Table, Identities::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "identities_provider_uid_key",
            Identities::Table,
            vec![Identities::Provider.into_iden(), Identities::Uid.into_iden()],
        )
        .await?;
        plain_index(manager, "identities_user_idx", Identities::Table, Identities::UserId).await?;

        manager
            .create_table(
                Table::create()
                    .table(TrustedDelegates::Table)
                    .col(big_pk_auto(TrustedDelegates::Id))
                    .col(string_len(TrustedDelegates::Name, 64))
                    .col(text_null(TrustedDelegates::Description))
                    .col(string_len(TrustedDelegates::AccessKey, 64))
                    .col(string_len(TrustedDelegates::SecretHash, 64))
                    .col(text(TrustedDelegates::Scopes))
                    .col(big_integer(TrustedDelegates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "trusted_delegates_name_key",
            TrustedDelegates::Table,
            vec![TrustedDelegates::Name.into_iden()],
        )
        .await?;
        unique(
            manager,
            "trusted_delegates_access_key_key",
            TrustedDelegates::Table,
            vec![TrustedDelegates::AccessKey.into_iden()],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TrustedDelegates::Table.into_iden(),
            Identities::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            GroupMemberships::Table.into_iden(),
            Groups::Table.into_iden(),
            OrganizationMemberships::Table.into_iden(),
            Organizations::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
