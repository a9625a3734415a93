//! `GET /account`: the signed-in browser's account page, where its user sees and adds passkeys
//! (the adding is `/assets/passkeys.js` calling `/me/passkeys/register/*`). Without a browser
//! session it sends the browser to sign in.

use chrono::{DateTime, Utc};
use liquid::model::Value as LiquidValue;
use poem::web::Data;
use poem::{Request, Response, handler};

use super::oauth2::{redirect, signed_in};
use super::pages::vars;
use crate::service::directory::passkeys;
use crate::state::AppState;
use crate::store::passkeys::StoredPasskey;

#[handler]
pub async fn account_page(state: Data<&AppState>, req: &Request) -> Response {
    let Some(who) = signed_in(&state, req).await else { return redirect("/login") };
    let listed = match passkeys::of_user(&state.directory, who.user.id).await {
        Ok(listed) => listed,
        Err(err) => {
            tracing::error!(error = ?err, "the account page could not list passkeys");
            let text = "Your passkeys could not be listed. Try again in a moment.";
            return state.pages.message(poem::http::StatusCode::SERVICE_UNAVAILABLE, "Something went wrong", text);
        }
    };
    let mut page = vars(&[("email", &who.user.email), ("passkeys", state.auth.passkeys.page_flag())]);
    page.insert("passkey_list".into(), LiquidValue::Array(listed.iter().map(passkey_item).collect()));
    state.pages.account(page)
}

/// The passkey script of the hosted pages.
#[handler]
pub async fn passkey_script(state: Data<&AppState>) -> Response {
    state.pages.script()
}

fn passkey_item(passkey: &StoredPasskey) -> LiquidValue {
    let day =
        |at: i64| DateTime::<Utc>::from_timestamp(at, 0).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let name = passkey.name.clone().unwrap_or_else(|| "Passkey".to_owned());
    let last_used = passkey.last_used_at.map(day).unwrap_or_default();
    LiquidValue::Object(vars(&[("name", &name), ("created", &day(passkey.created_at)), ("last_used", &last_used)]))
}
