//! The caller's consents to third-party OAuth clients: `GET /me/consents`,
//! `DELETE /me/consents/{client_id}` (Bearer token or session cookie).

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use super::auth;
use super::client::request_meta;
use super::errors::PlainError;
use crate::service::oauth::consents;
use crate::state::AppState;

#[derive(Tags)]
enum ConsentTags {
    /// What the caller allowed OAuth clients that are not first-party.
    Consents,
}

/// One client the caller allowed.
#[derive(Object)]
struct ConsentView {
    client_id: String,
    /// None when the client has since been removed.
    client_name: Option<String>,
    /// Space-separated scopes.
    scope: String,
    /// Unix seconds.
    created_at: i64,
}

#[derive(ApiResponse)]
enum Withdrawn {
    /// The consent is gone and the caller's sessions with that client ended.
    #[oai(status = 204)]
    Done,
}

#[derive(Default)]
pub struct ConsentApi;

#[OpenApi(tag = "ConsentTags::Consents")]
impl ConsentApi {
    /// The clients the caller allowed, oldest first.
    #[oai(path = "/me/consents", method = "get")]
    async fn list(&self, state: Data<&AppState>, req: &Request) -> Result<Json<Vec<ConsentView>>, PlainError> {
        let caller = auth::caller(&state, req).await?;
        let user = caller.require_user()?;
        let all = consents::list(&state.auth, user.id).await?;
        Ok(Json(
            all.into_iter()
                .map(|c| ConsentView {
                    client_id: c.client_id,
                    client_name: c.client_name,
                    scope: c.scope,
                    created_at: c.created_at,
                })
                .collect(),
        ))
    }

    /// Withdraws the caller's consent to a client: the next authorization asks again, and every
    /// session the caller opened with that client ends. 404 without such a consent.
    #[oai(path = "/me/consents/:client_id", method = "delete")]
    async fn withdraw(
        &self,
        state: Data<&AppState>,
        req: &Request,
        client_id: Path<String>,
    ) -> Result<Withdrawn, PlainError> {
        let caller = auth::caller(&state, req).await?;
        let user = caller.require_user()?;
        consents::withdraw(&state.auth, user.id, &client_id.0, &request_meta(req)).await?;
        Ok(Withdrawn::Done)
    }
}
