//! Liveness and readiness.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, spawn};

backend_tests!(readiness_checks_the_database);

async fn readiness_checks_the_database(backend: Backend) {
    let app = spawn(backend).start().await;
    let live: Value = app.get("/health").await.json().await.expect("json");
    assert_eq!(live, json!({"status": "ok"}));
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status().as_u16(), 200);
    assert_eq!(ready.json::<Value>().await.expect("json"), json!({"status": "ok", "database": "ok"}));

    // With the pool closed the database no longer answers: not ready, but alive.
    app.state.store.clone().close().await.expect("close pool");
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status().as_u16(), 503);
    assert_eq!(ready.json::<Value>().await.expect("json")["status"], "unavailable");
    assert_eq!(app.get("/health").await.status().as_u16(), 200);
}
