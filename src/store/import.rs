//! Writing an import (`authify import authify-api`): what the target already holds (to refuse a
//! non-empty database or to merge), and every checked row in one transaction, in multi-row INSERTs
//! of [`CHUNK`] rows, keeping the source's ids.
//!
//! After explicit ids, PostgreSQL's sequences would hand out those ids again, so they are moved
//! past the largest id (`setval`, in the same transaction). SQLite (`AUTOINCREMENT`) and InnoDB
//! move their counters past an explicit id themselves; an `ALTER TABLE … AUTO_INCREMENT` would also
//! commit the transaction on MariaDB, so there is none. (InnoDB does not roll its counters back,
//! so a dry run there can leave a gap in later ids; PostgreSQL's `setval` is skipped on a dry run.)

use std::collections::HashSet;

use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::NotSet, ConnectionTrait, DatabaseTransaction, DbBackend, IntoActiveModel, QuerySelect, Statement,
};

use super::entity::{
    api_key, group, group_membership, identity, organization, organization_membership, trusted_delegate,
};
use super::{Store, StoreError, users};

/// Rows per INSERT: 11 columns × 1000 stays far below every backend's bound-parameter limit.
pub const CHUNK: usize = 1000;

/// Checked rows, ready to insert (membership ids are left to the target).
#[derive(Debug, Default)]
pub struct ImportBatch {
    pub users: Vec<users::Model>,
    pub organizations: Vec<organization::Model>,
    pub organization_memberships: Vec<organization_membership::Model>,
    pub groups: Vec<group::Model>,
    pub group_memberships: Vec<group_membership::Model>,
    pub identities: Vec<identity::Model>,
    pub api_keys: Vec<api_key::Model>,
    pub delegates: Vec<trusted_delegate::Model>,
}

/// The ids and unique values the target holds already.
#[derive(Debug, Default)]
pub struct ExistingKeys {
    pub user_ids: HashSet<i64>,
    pub emails: HashSet<String>,
    pub handles: HashSet<String>,
    pub organization_ids: HashSet<i64>,
    pub organization_names: HashSet<String>,
    pub group_ids: HashSet<i64>,
    pub identity_ids: HashSet<i64>,
    pub identity_keys: HashSet<(String, String)>,
    pub api_key_ids: HashSet<i64>,
    pub access_keys: HashSet<String>,
    pub delegate_ids: HashSet<i64>,
    pub delegate_names: HashSet<String>,
    pub delegate_access_keys: HashSet<String>,
}

impl ExistingKeys {
    /// Whether the target holds anyone: users, organizations or delegates (everything else hangs
    /// off those).
    pub fn is_empty(&self) -> bool {
        self.user_ids.is_empty() && self.organization_ids.is_empty() && self.delegate_ids.is_empty()
    }
}

impl Store {
    pub async fn import_existing_keys(&self) -> Result<ExistingKeys, StoreError> {
        let db = self.conn();
        let mut keys = ExistingKeys::default();
        let rows: Vec<(i64, String, String)> = users::Entity::find()
            .select_only()
            .columns([users::Column::Id, users::Column::Email, users::Column::Handle])
            .into_tuple()
            .all(db)
            .await?;
        for (id, email, handle) in rows {
            keys.user_ids.insert(id);
            keys.emails.insert(email);
            keys.handles.insert(handle);
        }
        let rows: Vec<(i64, String)> = organization::Entity::find()
            .select_only()
            .columns([organization::Column::Id, organization::Column::Name])
            .into_tuple()
            .all(db)
            .await?;
        (keys.organization_ids, keys.organization_names) = rows.into_iter().unzip();
        let rows: Vec<i64> = group::Entity::find().select_only().column(group::Column::Id).into_tuple().all(db).await?;
        keys.group_ids = rows.into_iter().collect();
        let rows: Vec<(i64, String, String)> = identity::Entity::find()
            .select_only()
            .columns([identity::Column::Id, identity::Column::Provider, identity::Column::Uid])
            .into_tuple()
            .all(db)
            .await?;
        for (id, provider, uid) in rows {
            keys.identity_ids.insert(id);
            keys.identity_keys.insert((provider, uid));
        }
        let rows: Vec<(i64, String)> = api_key::Entity::find()
            .select_only()
            .columns([api_key::Column::Id, api_key::Column::AccessKey])
            .into_tuple()
            .all(db)
            .await?;
        (keys.api_key_ids, keys.access_keys) = rows.into_iter().unzip();
        let rows: Vec<(i64, String, String)> = trusted_delegate::Entity::find()
            .select_only()
            .columns([
                trusted_delegate::Column::Id,
                trusted_delegate::Column::Name,
                trusted_delegate::Column::AccessKey,
            ])
            .into_tuple()
            .all(db)
            .await?;
        for (id, name, access_key) in rows {
            keys.delegate_ids.insert(id);
            keys.delegate_names.insert(name);
            keys.delegate_access_keys.insert(access_key);
        }
        Ok(keys)
    }

    /// Inserts every row of `batch` in one transaction, parents first, and commits it when
    /// `commit` (else rolls it back: a dry run that the database itself has checked). Any failure
    /// rolls everything back.
    pub async fn write_import(&self, batch: &ImportBatch, commit: bool) -> Result<(), StoreError> {
        let (tx, _gate) = self.begin_write().await?;
        insert_all(&tx, &batch.users, |m| m).await?;
        insert_all(&tx, &batch.organizations, |m| m).await?;
        insert_all(&tx, &batch.organization_memberships, |mut m: organization_membership::ActiveModel| {
            m.id = NotSet;
            m
        })
        .await?;
        insert_all(&tx, &batch.groups, |m| m).await?;
        insert_all(&tx, &batch.group_memberships, |mut m: group_membership::ActiveModel| {
            m.id = NotSet;
            m
        })
        .await?;
        insert_all(&tx, &batch.identities, |m| m).await?;
        insert_all(&tx, &batch.api_keys, |m| m).await?;
        insert_all(&tx, &batch.delegates, |m| m).await?;
        if !commit {
            tx.rollback().await?;
            return Ok(());
        }
        if tx.get_database_backend() == DbBackend::Postgres {
            for table in ["users", "organizations", "groups", "identities", "api_keys", "trusted_delegates"] {
                reset_sequence(&tx, table).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Inserts `rows` in chunks, every column as given (ids included) except what `adjust` unsets;
/// fails unless every row was written.
async fn insert_all<M, A>(tx: &DatabaseTransaction, rows: &[M], adjust: impl Fn(A) -> A) -> Result<(), StoreError>
where
    M: ModelTrait + IntoActiveModel<A> + Clone,
    A: ActiveModelTrait<Entity = M::Entity> + Send,
{
    for chunk in rows.chunks(CHUNK) {
        let models = chunk.iter().map(|row| {
            // A fresh row: every column is a value to insert (`reset_all` marks them all Set).
            adjust(row.clone().into_active_model().reset_all())
        });
        let written = <M::Entity as EntityTrait>::insert_many(models).exec_without_returning(tx).await?;
        if written != chunk.len() as u64 {
            let table = <M::Entity as Default>::default().table_name().to_owned();
            return Err(DbErr::Custom(format!("{table}: {written} of {} rows written", chunk.len())).into());
        }
    }
    Ok(())
}

/// Moves `table`'s id sequence past its largest id (PostgreSQL).
async fn reset_sequence(tx: &DatabaseTransaction, table: &str) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM \"{table}\"), false)"
    );
    tx.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    Ok(())
}
