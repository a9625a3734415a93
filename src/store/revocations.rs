//! The `revocations` table: revoked token ids, sessions, users and API keys, which every instance
//! reads into its in-memory revocation list (see `runtime::revocation_list`).

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, QueryFilter, QueryOrder, QuerySelect};

use super::entity::revocation::{ActiveModel, Column, Entity, Model};
use super::{Store, StoreError};

pub type Revocation = Model;

/// `revocations.kind` of a revoked token (`value` is its `jti`).
pub const KIND_JTI: &str = "jti";
/// `revocations.kind` of a revoked session (`value` is the session id, the tokens' `sid`).
pub const KIND_SID: &str = "sid";
/// `revocations.kind` of an account shut out (disabled or deleted): `value` is the user id, and
/// every token of that user issued at or before `created_at` is refused, API-key tokens too.
pub const KIND_USER: &str = "user";
/// `revocations.kind` of a deleted API key: `value` is the key's id, and every token whose `akid`
/// names it is refused until `expires_at`.
pub const KIND_API_KEY: &str = "apikey";
/// `revocations.kind` of a removed trusted delegate: `value` is its name, and every token minted
/// through it (`act.sub = "delegate:<name>"`) issued at or before `created_at` is refused, so a
/// delegate added later under the same name does not revive them.
pub const KIND_DELEGATE: &str = "delegate";

/// Rows read per poll at most; a poll that fills it polls again at once.
/// A removed OAuth client: `value` is its `client_id`; tokens issued to it up to `created_at` are refused.
pub const KIND_CLIENT: &str = "client";

/// An OAuth client's secret changed: copies of the client read up to `created_at` are stale (no token is refused).
pub const KIND_CLIENT_SECRET: &str = "client-secret";

pub const POLL_BATCH: u64 = 10_000;

impl Store {
    /// Records revocations; `(kind, value, expires_at)`.
    pub async fn insert_revocations(&self, entries: &[(&str, String, i64)], now: i64) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let rows = entries.iter().map(|(kind, value, expires_at)| ActiveModel {
            kind: Set((*kind).to_owned()),
            value: Set(value.clone()),
            created_at: Set(now),
            expires_at: Set(*expires_at),
            ..Default::default()
        });
        Entity::insert_many(rows).exec_without_returning(self.conn()).await?;
        Ok(())
    }

    /// Revocations still in force at `now` with an id above `after_id`, oldest first, at most
    /// [`POLL_BATCH`].
    pub async fn revocations_after(&self, after_id: i64, now: i64) -> Result<Vec<Revocation>, StoreError> {
        Ok(Entity::find()
            .filter(Column::Id.gt(after_id))
            .filter(Column::ExpiresAt.gt(now))
            .order_by_asc(Column::Id)
            .limit(POLL_BATCH)
            .all(self.conn())
            .await?)
    }

    /// Deletes revocations that no longer matter (every token they concern has expired).
    pub async fn prune_revocations(&self, now: i64) -> Result<u64, StoreError> {
        Ok(Entity::delete_many().filter(Column::ExpiresAt.lte(now)).exec(self.conn()).await?.rows_affected)
    }
}
