//! Admin routes next to a user's security state: reset their second factor, lift a lockout.
//! Plain routes under `/admin/` because `/users/*` belongs to the {json:api} engine.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::errors::PlainError;
use crate::error::Error;
use crate::service::account::lockout;
use crate::service::account::totp;
use crate::state::AppState;
use crate::store::users::User;

#[derive(Tags)]
enum AdminTags {
    /// Admin actions on a user's login security (admins only: a Bearer token with `admin_access`).
    SecurityAdmin,
}

#[derive(ApiResponse)]
enum Done {
    /// Done (also when there was nothing to undo).
    #[oai(status = 204)]
    Done,
}

pub struct SecurityAdminApi;

#[OpenApi(prefix_path = "/admin/users", tag = "AdminTags::SecurityAdmin")]
impl SecurityAdminApi {
    /// Removes a user's second factor and recovery codes (for a lost device); they can enrol again.
    #[oai(path = "/:id/totp/reset", method = "post")]
    async fn reset_totp(&self, state: Data<&AppState>, req: &Request, id: Path<i64>) -> Result<Done, PlainError> {
        let user = target_user(&state, req, id.0).await?;
        totp::reset(&state, user.id).await?;
        tracing::info!(user_id = user.id, "an admin reset a user's second factor");
        Ok(Done::Done)
    }

    /// Lifts a user's lockout and forgets their failed logins.
    #[oai(path = "/:id/unlock", method = "post")]
    async fn unlock(&self, state: Data<&AppState>, req: &Request, id: Path<i64>) -> Result<Done, PlainError> {
        let user = target_user(&state, req, id.0).await?;
        lockout::unlock(&state.store, &user.email).await?;
        tracing::info!(user_id = user.id, "an admin unlocked a user");
        Ok(Done::Done)
    }
}

/// The user an admin acts on: 401 without credentials, 403 for non-admins, 404 for unknown ids.
async fn target_user(state: &AppState, req: &Request, id: i64) -> Result<User, Error> {
    let caller = super::totp::caller(state, req).await?;
    if !caller.is_admin() {
        return Err(Error::forbidden("Only admins may do this"));
    }
    state.store.user_by_id(id).await?.ok_or(Error::NotFound)
}
