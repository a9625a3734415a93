//! `authify serve`: run until SIGTERM or Ctrl-C, then shut down gracefully.

use std::sync::Arc;

use crate::app::Application;
use crate::clock::SystemClock;
use crate::config::Settings;

pub async fn run(settings: Settings) -> Result<(), String> {
    let app = Application::build(settings, Arc::new(SystemClock)).await.map_err(|e| e.to_string())?;
    app.run_until(shutdown_signal()).await.map_err(|e| format!("server failed: {e}"))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: finishing in-flight requests");
}
