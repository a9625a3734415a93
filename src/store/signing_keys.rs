//! The `signing_keys` table: the key store every instance shares (`runtime::shared_keys`). Each
//! change is one conditional statement or one transaction, so when several instances try the same
//! step exactly one performs it: a new key takes the next `seq` (unique), a state change applies
//! only while the key is still in the state it expects.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, QueryOrder};

use super::entity::signing_key::{ActiveModel, Column, Entity, Model};
use super::{Store, StoreError};
use crate::crypto::lifecycle::KeyState;

pub type SigningKeyRow = Model;

/// A key to add to the store.
#[derive(Debug, Clone)]
pub struct NewSigningKey {
    pub seq: i64,
    pub kid: String,
    pub algorithm: String,
    pub state: KeyState,
    pub origin: &'static str,
    pub created_at: i64,
    pub signs_at: Option<i64>,
    pub signing_since: Option<i64>,
    pub verifying_since: Option<i64>,
    pub verifies_until: Option<i64>,
    pub public_pem: String,
    pub sealed_private_key: String,
}

impl NewSigningKey {
    fn active(self) -> ActiveModel {
        ActiveModel {
            seq: Set(self.seq),
            kid: Set(self.kid),
            algorithm: Set(self.algorithm),
            state: Set(self.state.as_str().to_owned()),
            origin: Set(self.origin.to_owned()),
            created_at: Set(self.created_at),
            signs_at: Set(self.signs_at),
            signing_since: Set(self.signing_since),
            verifying_since: Set(self.verifying_since),
            verifies_until: Set(self.verifies_until),
            retired_at: Set(None),
            public_pem: Set(self.public_pem),
            sealed_private_key: Set(self.sealed_private_key),
            ..Default::default()
        }
    }
}

/// Why an emergency rotation was not made.
#[derive(Debug, thiserror::Error)]
pub enum EmergencyError {
    #[error("no key {0} that is not retired yet")]
    UnknownKid(String),
    #[error("the key store changed meanwhile; try again")]
    Raced,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether a write failed only because another instance added the same key or `seq` first.
fn lost_race(result: Result<(), DbErr>) -> Result<bool, StoreError> {
    match result {
        Ok(()) => Ok(true),
        Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

async fn set_state(
    tx: &DatabaseTransaction,
    kid: &str,
    from: &[KeyState],
    to: KeyState,
    times: &[(Column, i64)],
) -> Result<u64, DbErr> {
    let mut update = Entity::update_many().col_expr(Column::State, Expr::value(to.as_str()));
    for (column, value) in times {
        update = update.col_expr(*column, Expr::value(*value));
    }
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    Ok(update.filter(Column::Kid.eq(kid)).filter(Column::State.is_in(from)).exec(tx).await?.rows_affected)
}

impl Store {
    /// Every key, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        Ok(Entity::find().order_by_asc(Column::Seq).all(self.conn()).await?)
    }

    /// Adds keys in one transaction; false (nothing added) when another instance took one of
    /// their `seq` or `kid` first.
    pub async fn insert_signing_keys(&self, keys: Vec<NewSigningKey>) -> Result<bool, StoreError> {
        let (tx, _gate) = self.begin_write().await?;
        let inserted = async {
            for key in keys {
                Entity::insert(key.active()).exec_without_returning(&tx).await?;
            }
            Ok(())
        }
        .await;
        if !lost_race(inserted)? {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The next key `kid` signs from `at`; the key that signed verifies until `old_until`. False
    /// when another instance did it first.
    pub async fn promote_signing_key(&self, kid: &str, at: i64, old_until: i64) -> Result<bool, StoreError> {
        let (tx, _gate) = self.begin_write().await?;
        let old: Vec<String> = Entity::find()
            .filter(Column::State.eq(KeyState::Signing.as_str()))
            .all(&tx)
            .await?
            .into_iter()
            .map(|row| row.kid)
            .collect();
        if set_state(&tx, kid, &[KeyState::Next], KeyState::Signing, &[(Column::SigningSince, at)]).await? == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let times = [(Column::VerifyingSince, at), (Column::VerifiesUntil, old_until)];
        for old in old {
            set_state(&tx, &old, &[KeyState::Signing], KeyState::Verifying, &times).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The verifying key `kid` is retired at `at`; false when another instance did it first.
    pub async fn retire_verifying_key(&self, kid: &str, at: i64) -> Result<bool, StoreError> {
        let (tx, _gate) = self.begin_write().await?;
        let retired =
            set_state(&tx, kid, &[KeyState::Verifying], KeyState::Retired, &[(Column::RetiredAt, at)]).await?;
        tx.commit().await?;
        Ok(retired > 0)
    }

    /// An emergency rotation in one transaction: `new` signs at once (its state must be
    /// `signing`), `retire` (when named) and any waiting next key are retired, and the key that
    /// signed, if not retired, verifies until `old_until`.
    pub async fn emergency_rotation(
        &self,
        new: NewSigningKey,
        retire: Option<&str>,
        now: i64,
        old_until: i64,
    ) -> Result<(), EmergencyError> {
        let (tx, _gate) = self.begin_write().await.map_err(StoreError::from)?;
        let outcome = async {
            let live = [KeyState::Next, KeyState::Signing, KeyState::Verifying];
            if let Some(kid) = retire
                && set_state(&tx, kid, &live, KeyState::Retired, &[(Column::RetiredAt, now)]).await? == 0
            {
                return Ok(Err(EmergencyError::UnknownKid(kid.to_owned())));
            }
            let others = Entity::find().filter(Column::State.is_in(["next", "signing"])).all(&tx).await?;
            for row in others {
                if row.state == KeyState::Next.as_str() {
                    set_state(&tx, &row.kid, &[KeyState::Next], KeyState::Retired, &[(Column::RetiredAt, now)]).await?;
                } else {
                    let times = [(Column::VerifyingSince, now), (Column::VerifiesUntil, old_until)];
                    set_state(&tx, &row.kid, &[KeyState::Signing], KeyState::Verifying, &times).await?;
                }
            }
            let inserted = Entity::insert(new.active()).exec_without_returning(&tx).await.map(|_| ());
            Ok::<_, DbErr>(match lost_race(inserted) {
                Ok(true) => Ok(()),
                Ok(false) => Err(EmergencyError::Raced),
                Err(err) => Err(err.into()),
            })
        }
        .await
        .map_err(StoreError::from)?;
        match outcome {
            Ok(()) => tx.commit().await.map_err(StoreError::from)?,
            Err(_) => tx.rollback().await.map_err(StoreError::from)?,
        }
        outcome
    }
}
