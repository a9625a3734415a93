//! `authify serve`: run until SIGTERM or Ctrl-C, then shut down gracefully.

use std::sync::Arc;

use crate::app::Application;
use crate::clock::SystemClock;
use crate::config::Settings;

pub async fn run(settings: Settings) -> Result<(), String> {
    // The handlers are installed before the service says it is listening: a SIGTERM sent right after
    // that line must shut down gracefully, not kill the process with the default action.
    let shutdown = shutdown_signal();
    let app = Application::build(settings, Arc::new(SystemClock)).await.map_err(|e| e.to_string())?;
    app.run_until(shutdown).await.map_err(|e| format!("server failed: {e}"))
}

/// Resolves at SIGTERM or Ctrl-C; the signal handlers are registered when this is called.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        match term {
            Some(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            None => {
                let _ = ctrl_c.await;
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down: finishing in-flight requests");
    }
}
