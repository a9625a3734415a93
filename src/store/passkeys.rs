//! The `passkeys` and `passkey_challenges` tables. A challenge is taken by one statement that
//! deletes it, so two finishes racing with one challenge cannot both succeed; a counter moves only
//! forwards, in one conditional statement.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, Condition, QueryFilter, QueryOrder};

use super::entity::passkey::{self, Entity as Passkeys};
use super::entity::passkey_challenge::{self, Entity as Challenges};
use super::listing::{ListParams, Page};
use super::{Store, StoreError};

pub type StoredPasskey = passkey::Model;
pub type PasskeyChallenge = passkey_challenge::Model;

/// A credential to store after a registration ceremony.
pub struct NewPasskey {
    pub user_id: i64,
    pub name: Option<String>,
    pub credential_hash: String,
    pub user_handle: String,
    pub passkey: String,
    pub counter: i64,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub now: i64,
}

/// A ceremony to remember until `expires_at`.
pub struct NewChallenge {
    pub challenge_hash: String,
    pub purpose: &'static str,
    pub user_id: Option<i64>,
    pub state: String,
    pub now: i64,
    pub expires_at: i64,
    /// Whether an earlier ceremony of the same purpose and user is replaced (a registration).
    pub replaces: bool,
}

/// What a sign-in changes in a credential: its counter, backup flags and serialized form.
pub struct PasskeyUse<'a> {
    pub id: i64,
    pub counter: i64,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub passkey: &'a str,
    pub now: i64,
}

impl Store {
    pub async fn insert_passkey(&self, new: NewPasskey) -> Result<StoredPasskey, StoreError> {
        let row = passkey::ActiveModel {
            user_id: Set(new.user_id),
            name: Set(new.name),
            credential_hash: Set(new.credential_hash),
            user_handle: Set(new.user_handle),
            passkey: Set(new.passkey),
            counter: Set(new.counter),
            backup_eligible: Set(new.backup_eligible),
            backup_state: Set(new.backup_state),
            created_at: Set(new.now),
            last_used_at: Set(None),
            ..Default::default()
        };
        row.insert(self.conn()).await.map_err(|err| super::classify(err, &["credential"]))
    }

    pub async fn passkey_by_id(&self, id: i64) -> Result<Option<StoredPasskey>, StoreError> {
        Ok(Passkeys::find_by_id(id).one(self.conn()).await?)
    }

    pub async fn passkey_by_credential(&self, credential_hash: &str) -> Result<Option<StoredPasskey>, StoreError> {
        Ok(Passkeys::find().filter(passkey::Column::CredentialHash.eq(credential_hash)).one(self.conn()).await?)
    }

    pub async fn passkeys_of_user(&self, user_id: i64) -> Result<Vec<StoredPasskey>, StoreError> {
        Ok(Passkeys::find()
            .filter(passkey::Column::UserId.eq(user_id))
            .order_by_asc(passkey::Column::Id)
            .all(self.conn())
            .await?)
    }

    pub async fn list_passkeys(&self, params: &ListParams) -> Result<Page<StoredPasskey>, StoreError> {
        self.fetch_page(Passkeys::find(), passkey::Column::Id, params).await
    }

    /// Writes the name only.
    pub async fn rename_passkey(&self, id: i64, name: Option<String>) -> Result<bool, StoreError> {
        let result = Passkeys::update_many()
            .col_expr(passkey::Column::Name, Expr::value(name))
            .filter(passkey::Column::Id.eq(id))
            .exec(self.conn())
            .await?;
        Ok(result.rows_affected > 0)
    }

    pub async fn delete_passkey(&self, id: i64) -> Result<bool, StoreError> {
        Ok(Passkeys::delete_by_id(id).exec(self.conn()).await?.rows_affected > 0)
    }

    /// Records a sign-in: only when the counter moves forwards (or the authenticator keeps none,
    /// 0); `false` when another sign-in got there first with a counter as high.
    pub async fn record_passkey_use(&self, used: PasskeyUse<'_>) -> Result<bool, StoreError> {
        // An authenticator that keeps no counter (0) leaves nothing to compare.
        let forwards = match used.counter {
            0 => Condition::all(),
            counter => Condition::all().add(passkey::Column::Counter.lt(counter)),
        };
        let result = Passkeys::update_many()
            .col_expr(passkey::Column::Counter, Expr::value(used.counter))
            .col_expr(passkey::Column::BackupEligible, Expr::value(used.backup_eligible))
            .col_expr(passkey::Column::BackupState, Expr::value(used.backup_state))
            .col_expr(passkey::Column::Passkey, Expr::value(used.passkey))
            .col_expr(passkey::Column::LastUsedAt, Expr::value(used.now))
            .filter(passkey::Column::Id.eq(used.id))
            .filter(forwards)
            .exec(self.conn())
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Stores a ceremony; expired ones (of anyone) are swept first, and a registration replaces
    /// the user's earlier one.
    pub async fn put_passkey_challenge(&self, new: NewChallenge) -> Result<(), StoreError> {
        Challenges::delete_many().filter(passkey_challenge::Column::ExpiresAt.lt(new.now)).exec(self.conn()).await?;
        if new.replaces {
            Challenges::delete_many()
                .filter(passkey_challenge::Column::Purpose.eq(new.purpose))
                .filter(passkey_challenge::Column::UserId.eq(new.user_id))
                .exec(self.conn())
                .await?;
        }
        let row = passkey_challenge::ActiveModel {
            challenge_hash: Set(new.challenge_hash),
            purpose: Set(new.purpose.to_owned()),
            user_id: Set(new.user_id),
            state: Set(new.state),
            created_at: Set(new.now),
            expires_at: Set(new.expires_at),
            ..Default::default()
        };
        Challenges::insert(row).exec_without_returning(self.conn()).await?;
        Ok(())
    }

    /// Takes a live ceremony once: found by its hash (or, for a registration, by purpose and
    /// user), deleted, and answered only to the request whose delete removed it.
    pub async fn take_passkey_challenge(
        &self,
        purpose: &str,
        challenge_hash: Option<&str>,
        user_id: Option<i64>,
        now: i64,
    ) -> Result<Option<PasskeyChallenge>, StoreError> {
        let mut select = Challenges::find()
            .filter(passkey_challenge::Column::Purpose.eq(purpose))
            .filter(passkey_challenge::Column::ExpiresAt.gte(now));
        if let Some(hash) = challenge_hash {
            select = select.filter(passkey_challenge::Column::ChallengeHash.eq(hash));
        }
        if let Some(user_id) = user_id {
            select = select.filter(passkey_challenge::Column::UserId.eq(user_id));
        }
        let Some(found) = select.order_by_desc(passkey_challenge::Column::Id).one(self.conn()).await? else {
            return Ok(None);
        };
        let deleted = Challenges::delete_by_id(found.id).exec(self.conn()).await?;
        Ok((deleted.rows_affected == 1).then_some(found))
    }
}
