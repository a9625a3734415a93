//! Admin routes next to a user's security state: reset their second factor, lift a lockout.
//! Plain routes under `/admin/` because `/users/*` belongs to the {json:api} engine.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::errors::PlainError;
use crate::service::account::security_admin;
use crate::state::AppState;

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

#[derive(Default)]
pub struct SecurityAdminApi;

#[OpenApi(prefix_path = "/admin/users", tag = "AdminTags::SecurityAdmin")]
impl SecurityAdminApi {
    /// Removes a user's second factor and recovery codes (for a lost device); they can enrol again.
    #[oai(path = "/:id/totp/reset", method = "post")]
    async fn reset_totp(&self, state: Data<&AppState>, req: &Request, id: Path<i64>) -> Result<Done, PlainError> {
        let caller = super::auth::caller(&state, req).await?;
        security_admin::reset_second_factor(&state.directory, &caller, id.0).await?;
        Ok(Done::Done)
    }

    /// Lifts a user's lockout and forgets their failed logins.
    #[oai(path = "/:id/unlock", method = "post")]
    async fn unlock(&self, state: Data<&AppState>, req: &Request, id: Path<i64>) -> Result<Done, PlainError> {
        let caller = super::auth::caller(&state, req).await?;
        security_admin::lift_lockout(&state.directory, &caller, id.0).await?;
        Ok(Done::Done)
    }
}
