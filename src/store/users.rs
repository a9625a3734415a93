//! The `users` table.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ActiveValue::Unchanged, QueryFilter, TransactionTrait};

use super::{Store, StoreError, classify};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    pub handle: String,
    pub full_name: Option<String>,
    pub password_digest: Option<String>,
    pub admin: bool,
    pub verified: bool,
    pub disabled: bool,
    pub password_changed_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub use crate::domain::User;

impl From<Model> for User {
    fn from(row: Model) -> Self {
        let Model {
            id,
            email,
            handle,
            full_name,
            password_digest,
            admin,
            verified,
            disabled,
            password_changed_at,
            created_at,
            updated_at,
        } = row;
        User {
            id,
            email,
            handle,
            full_name,
            password_digest,
            admin,
            verified,
            disabled,
            password_changed_at,
            created_at,
            updated_at,
        }
    }
}

/// What is needed to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub handle: String,
    pub full_name: Option<String>,
    pub password_digest: Option<String>,
    pub admin: bool,
    pub verified: bool,
    pub now: i64,
}

/// Profile and standing columns a user update may change; `None` leaves a column as it is. The
/// password columns are not here: only the password flows write them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub email: Option<String>,
    pub handle: Option<String>,
    pub full_name: Option<Option<String>>,
    pub admin: Option<bool>,
    pub verified: Option<bool>,
    pub disabled: Option<bool>,
}

const UNIQUE_FIELDS: &[&str] = &["email", "handle"];

impl Store {
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(Entity::find().filter(Column::Email.eq(email)).one(self.conn()).await?.map(User::from))
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        Ok(Entity::find_by_id(id).one(self.conn()).await?.map(User::from))
    }

    /// Inserts a user; a taken email or handle gives [`StoreError::Taken`] naming the field.
    pub async fn insert_user(&self, new: NewUser) -> Result<User, StoreError> {
        let row = ActiveModel {
            email: Set(new.email),
            handle: Set(new.handle),
            full_name: Set(new.full_name),
            password_digest: Set(new.password_digest),
            admin: Set(new.admin),
            verified: Set(new.verified),
            disabled: Set(false),
            password_changed_at: Set(new.now),
            created_at: Set(new.now),
            updated_at: Set(new.now),
            ..Default::default()
        };
        row.insert(self.conn()).await.map(User::from).map_err(|e| classify(e, UNIQUE_FIELDS))
    }

    /// Sets the admin flag; `None` when there is no such user.
    pub async fn set_user_admin(&self, id: i64, admin: bool, now: i64) -> Result<Option<User>, StoreError> {
        self.update_user(id, now, |row| row.admin = Set(admin)).await
    }

    /// Replaces the digest `old` with `new` (a rehash after a login: same password, so the change time
    /// stays); writes only while the stored digest is still `old`, so a password changed meanwhile is
    /// never overwritten. Whether it wrote.
    pub async fn upgrade_password_digest(&self, id: i64, old: &str, new: &str, now: i64) -> Result<bool, StoreError> {
        let result = Entity::update_many()
            .col_expr(Column::PasswordDigest, Expr::value(new))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(id))
            .filter(Column::PasswordDigest.eq(old))
            .exec(self.conn())
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Sets a new password chosen by the user (`password_changed_at = now`, which ends sessions
    /// that proved the old one); `None` when there is no such user.
    pub async fn change_password(&self, id: i64, digest: &str, now: i64) -> Result<Option<User>, StoreError> {
        let digest = digest.to_owned();
        self.update_user(id, now, |row| {
            row.password_digest = Set(Some(digest));
            row.password_changed_at = Set(now);
        })
        .await
    }

    /// Sets the disabled flag; `None` when there is no such user.
    pub async fn set_user_disabled(&self, id: i64, disabled: bool, now: i64) -> Result<Option<User>, StoreError> {
        self.update_user(id, now, |row| row.disabled = Set(disabled)).await
    }

    async fn update_user(
        &self,
        id: i64,
        now: i64,
        change: impl FnOnce(&mut ActiveModel),
    ) -> Result<Option<User>, StoreError> {
        let Some(user) = Entity::find_by_id(id).one(self.conn()).await? else { return Ok(None) };
        let mut row: ActiveModel = user.into();
        change(&mut row);
        row.updated_at = Set(now);
        Ok(Some(row.update(self.conn()).await.map_err(|e| classify(e, UNIQUE_FIELDS))?.into()))
    }

    pub async fn list_users(
        &self,
        params: &super::listing::ListParams,
    ) -> Result<super::listing::Page<User>, StoreError> {
        let page = self.fetch_page(Entity::find(), Column::Id, params).await?;
        Ok(super::listing::Page { rows: page.rows.into_iter().map(User::from).collect(), total: page.total })
    }

    pub async fn users_by_ids(&self, ids: &[i64]) -> Result<Vec<User>, StoreError> {
        Ok(Entity::find()
            .filter(Column::Id.is_in(ids.to_vec()))
            .all(self.conn())
            .await?
            .into_iter()
            .map(User::from)
            .collect())
    }

    /// Writes the columns `changes` names, and only those (a concurrent password change, disable
    /// or demotion is never put back); a taken email or handle gives [`StoreError::Taken`], no
    /// such user `None`.
    pub async fn update_user_fields(
        &self,
        id: i64,
        changes: &UserChanges,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        let mut row = ActiveModel { id: Unchanged(id), updated_at: Set(now), ..Default::default() };
        if let Some(email) = &changes.email {
            row.email = Set(email.clone());
        }
        if let Some(handle) = &changes.handle {
            row.handle = Set(handle.clone());
        }
        if let Some(full_name) = &changes.full_name {
            row.full_name = Set(full_name.clone());
        }
        if let Some(admin) = changes.admin {
            row.admin = Set(admin);
        }
        if let Some(verified) = changes.verified {
            row.verified = Set(verified);
        }
        if let Some(disabled) = changes.disabled {
            row.disabled = Set(disabled);
        }
        // A new address retires every token mailed to the old one, in the same transaction.
        let txn = self.conn().begin().await?;
        let user = match row.update(&txn).await {
            Ok(user) => user,
            Err(DbErr::RecordNotUpdated) => return Ok(None),
            Err(err) => return Err(classify(err, UNIQUE_FIELDS)),
        };
        if changes.email.is_some() {
            super::email_tokens::retire_all_tokens(&txn, id, now).await?;
        }
        txn.commit().await?;
        Ok(Some(user.into()))
    }

    /// Deletes a user; everything hanging off it goes with it (foreign keys cascade).
    pub async fn delete_user(&self, id: i64) -> Result<bool, StoreError> {
        Ok(Entity::delete_by_id(id).exec(self.conn()).await?.rows_affected > 0)
    }

    /// Whether a handle is in use (used to derive a free handle before inserting).
    pub async fn handle_taken(&self, handle: &str) -> Result<bool, StoreError> {
        Ok(Entity::find().filter(Column::Handle.eq(handle)).count(self.conn()).await? > 0)
    }
}
