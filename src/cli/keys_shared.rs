//! `authify keys rotate` and `authify keys list` against the shared key store
//! (AUTHIFY_KEY_STORE=database, [`crate::service::keys`]): they write to and read the database,
//! and running instances follow within AUTHIFY_KEY_POLL_MS, without a restart.

use serde_json::{Value, json};

use crate::app::{Handles, load_sealing_key, open_key_store};
use crate::config::Settings;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::service::keys::{KeyStore, timestamp};
use crate::store::signing_keys::SigningKeyRow;

/// What was asked of the store.
pub enum Request {
    Rotate { now: bool, retire: Option<String> },
    List { json: bool },
}

pub fn run(settings: &Settings, request: Request) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let handles = Handles::open(settings).await.map_err(|e| e.to_string())?;
        let sealing = std::sync::Arc::new(load_sealing_key(settings).map_err(|e| e.to_string())?);
        let result = match open_key_store(&handles, &sealing).await {
            Ok((shared, _)) => match request {
                Request::Rotate { now: false, .. } => rotate(&handles, &shared.keys).await,
                Request::Rotate { now: true, retire } => rotate_now(&handles, &shared.keys, retire).await,
                Request::List { json } => list(&shared.keys, json).await,
            },
            Err(err) => Err(err.to_string()),
        };
        handles.finish().await;
        let _ = handles.directory.store.close().await;
        result
    })
}

async fn rotate(handles: &Handles, keys: &KeyStore) -> Result<(), String> {
    let (kid, signs_at) = keys.rotate(handles.directory.now()).await.map_err(|e| e.to_string())?;
    let event = AuditEvent::new(Actor::cli(), "keys.rotate")
        .target(format!("kid:{kid}"))
        .detail(json!({"signs_from": timestamp(signs_at), "store": "database"}));
    handles.directory.audit.record(event).await;
    println!("new key {kid}; it signs from {}", timestamp(signs_at));
    println!("every running instance publishes it within AUTHIFY_KEY_POLL_MS; nothing to copy or restart");
    Ok(())
}

async fn rotate_now(handles: &Handles, keys: &KeyStore, retire: Option<String>) -> Result<(), String> {
    let kid = keys.rotate_now(retire.as_deref(), handles.directory.now()).await.map_err(|e| e.to_string())?;
    let audit = &handles.directory.audit;
    let detail = json!({"now": true, "retired": retire, "store": "database"});
    audit.record(AuditEvent::new(Actor::cli(), "keys.rotate").target(format!("kid:{kid}")).detail(detail)).await;
    println!("new key {kid} signs now");
    if let Some(retired) = retire {
        let detail = json!({"reason": "emergency rotation", "replaced_by": kid});
        audit
            .record(AuditEvent::new(Actor::cli(), "keys.retire").target(format!("kid:{retired}")).detail(detail))
            .await;
        println!("{retired} is retired: every instance refuses its tokens within AUTHIFY_KEY_POLL_MS");
    }
    Ok(())
}

async fn list(keys: &KeyStore, as_json: bool) -> Result<(), String> {
    let (rows, _) = keys.load().await.map_err(|e| e.to_string())?;
    if as_json {
        println!("{}", Value::from(rows.iter().map(row_json).collect::<Vec<_>>()));
        return Ok(());
    }
    println!("{:<43}  {:<5}  {:<49}  ORIGIN", "KID", "ALG", "STATE");
    for row in &rows {
        println!("{:<43}  {:<5}  {:<49}  {}", row.kid, row.algorithm, state_text(row), row.origin);
    }
    Ok(())
}

/// What a key does, for people: a retired key says only that.
fn state_text(row: &SigningKeyRow) -> String {
    let at = |t: Option<i64>| t.map(timestamp).unwrap_or_default();
    match row.state.as_str() {
        "next" => format!("published, signing from {}", at(row.signs_at)),
        "signing" => format!("signing since {}", at(row.signing_since)),
        "verifying" => format!("verifying until {}", at(row.verifies_until)),
        other => other.to_owned(),
    }
}

fn row_json(row: &SigningKeyRow) -> Value {
    let at = |t: Option<i64>| t.map(timestamp);
    json!({
        "kid": row.kid, "alg": row.algorithm, "state": row.state, "origin": row.origin,
        "created_at": timestamp(row.created_at), "signs_at": at(row.signs_at),
        "signing_since": at(row.signing_since), "verifying_since": at(row.verifying_since),
        "verifies_until": at(row.verifies_until), "retired_at": at(row.retired_at),
    })
}
