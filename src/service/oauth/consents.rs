//! What a user allowed third-party clients, and withdrawing it: the consent goes, and every
//! session the user opened with that client ends (its tokens are refused).

use serde_json::json;

use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::runtime::request_context::RequestMeta;
use crate::service::auth::{Auth, revoke};

/// One consent, with the client's name when the client still exists.
#[derive(Debug, Clone)]
pub struct Consent {
    pub client_id: String,
    pub client_name: Option<String>,
    pub scope: String,
    pub created_at: i64,
}

pub async fn list(auth: &Auth, user_id: i64) -> Result<Vec<Consent>, Error> {
    let mut out = Vec::new();
    for consent in auth.store().consents_of(user_id).await? {
        let client = auth.store().client_by_client_id(&consent.client_id).await?;
        out.push(Consent {
            client_name: client.map(|c| c.name),
            client_id: consent.client_id,
            scope: consent.scope,
            created_at: consent.created_at,
        });
    }
    Ok(out)
}

/// Withdraws the user's consent to `client_id` ([`Error::NotFound`] without one) and ends the
/// user's sessions with that client.
pub async fn withdraw(auth: &Auth, user_id: i64, client_id: &str, request: &RequestMeta) -> Result<(), Error> {
    if !auth.store().revoke_consent(user_id, client_id).await? {
        return Err(Error::NotFound);
    }
    let ended = auth.store().client_sessions(client_id, Some(user_id), auth.now()).await?;
    revoke::end_sessions(&auth.sessions, &ended).await?;
    let event = AuditEvent::during(request, Actor::User(user_id), "oauth.consent-revoke")
        .target(format!("users:{user_id}"))
        .detail(json!({"client_id": client_id, "sessions_ended": ended.len()}));
    auth.audit().record(event).await;
    Ok(())
}
