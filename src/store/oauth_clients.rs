//! The `oauth_clients` and `oauth_consents` tables: registered relying parties and what users
//! allowed the third-party ones.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, QueryFilter, QueryOrder};

use super::entity::oauth_client::{ActiveModel, Column, Entity, Model};
use super::entity::oauth_consent::{self, Entity as Consents};
use super::{Store, StoreError, classify};

/// A stored client.
pub type OauthClient = Model;

/// What is needed to register a client; `secret_hash` from `crypto::secret::hash_secret`.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub client_id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: String,
    pub public: bool,
    pub first_party: bool,
    pub now: i64,
}

const UNIQUE_FIELDS: &[&str] = &["name", "client_id"];

impl Store {
    /// Registers a client; a taken name gives [`StoreError::Taken`].
    pub async fn insert_client(&self, new: NewClient) -> Result<OauthClient, StoreError> {
        let row = ActiveModel {
            client_id: Set(new.client_id),
            name: Set(new.name),
            secret_hash: Set(new.secret_hash),
            redirect_uris: Set(new.redirect_uris.join("\n")),
            post_logout_redirect_uris: Set(new.post_logout_redirect_uris.join("\n")),
            scopes: Set(new.scopes),
            public: Set(new.public),
            first_party: Set(new.first_party),
            created_at: Set(new.now),
            ..Default::default()
        };
        row.insert(self.conn()).await.map_err(|e| classify(e, UNIQUE_FIELDS))
    }

    pub async fn client_by_client_id(&self, client_id: &str) -> Result<Option<OauthClient>, StoreError> {
        Ok(Entity::find().filter(Column::ClientId.eq(client_id)).one(self.conn()).await?)
    }

    pub async fn client_by_id(&self, id: i64) -> Result<Option<OauthClient>, StoreError> {
        Ok(Entity::find_by_id(id).one(self.conn()).await?)
    }

    /// Every client, oldest first.
    pub async fn list_clients(&self) -> Result<Vec<OauthClient>, StoreError> {
        Ok(Entity::find().order_by_asc(Column::Id).all(self.conn()).await?)
    }

    pub async fn list_clients_page(
        &self,
        params: &super::listing::ListParams,
    ) -> Result<super::listing::Page<OauthClient>, StoreError> {
        self.fetch_page(Entity::find(), Column::Id, params).await
    }

    /// Replaces a confidential client's secret hash; whether there was such a client.
    pub async fn set_client_secret(&self, id: i64, secret_hash: &str) -> Result<bool, StoreError> {
        let result = Entity::update_many()
            .col_expr(Column::SecretHash, Expr::value(secret_hash))
            .filter(Column::Id.eq(id))
            .filter(Column::Public.eq(false))
            .exec(self.conn())
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Removes a client and the consents given to it; whether there was one.
    pub async fn delete_client(&self, client: &OauthClient) -> Result<bool, StoreError> {
        let (tx, _gate) = self.begin_write().await?;
        Consents::delete_many().filter(oauth_consent::Column::ClientId.eq(&client.client_id)).exec(&tx).await?;
        let deleted = Entity::delete_by_id(client.id).exec(&tx).await?.rows_affected > 0;
        tx.commit().await?;
        Ok(deleted)
    }

    /// The scope a user allowed a client, if any.
    pub async fn consent(&self, user_id: i64, client_id: &str) -> Result<Option<String>, StoreError> {
        let row = Consents::find()
            .filter(oauth_consent::Column::UserId.eq(user_id))
            .filter(oauth_consent::Column::ClientId.eq(client_id))
            .one(self.conn())
            .await?;
        Ok(row.map(|row| row.scope))
    }

    /// Records (or widens) what a user allowed a client.
    pub async fn save_consent(&self, user_id: i64, client_id: &str, scope: &str, now: i64) -> Result<(), StoreError> {
        let row = oauth_consent::ActiveModel {
            user_id: Set(user_id),
            client_id: Set(client_id.to_owned()),
            scope: Set(scope.to_owned()),
            created_at: Set(now),
            ..Default::default()
        };
        let upsert = OnConflict::columns([oauth_consent::Column::UserId, oauth_consent::Column::ClientId])
            .update_columns([oauth_consent::Column::Scope, oauth_consent::Column::CreatedAt])
            .to_owned();
        Consents::insert(row).on_conflict(upsert).exec_without_returning(self.conn()).await?;
        Ok(())
    }

    /// What a user allowed, by client, oldest first.
    pub async fn consents_of(&self, user_id: i64) -> Result<Vec<oauth_consent::Model>, StoreError> {
        Ok(Consents::find()
            .filter(oauth_consent::Column::UserId.eq(user_id))
            .order_by_asc(oauth_consent::Column::Id)
            .all(self.conn())
            .await?)
    }

    /// Withdraws a user's consent to a client; whether there was one.
    pub async fn revoke_consent(&self, user_id: i64, client_id: &str) -> Result<bool, StoreError> {
        let deleted = Consents::delete_many()
            .filter(oauth_consent::Column::UserId.eq(user_id))
            .filter(oauth_consent::Column::ClientId.eq(client_id))
            .exec(self.conn())
            .await?;
        Ok(deleted.rows_affected > 0)
    }
}
