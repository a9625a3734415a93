//! The HTTP layer's bundle of the handles built once at start-up (`app.rs`) and passed to handlers
//! (never global). Services take the handle they use, never this.

use std::sync::Arc;

use crate::config::Settings;
use crate::http::pages::Pages;
use crate::runtime::audit::AuditLog;
use crate::runtime::monitoring::Monitor;
use crate::runtime::rate_limit::RateLimiter;
use crate::service::account::Account;
use crate::service::auth::external::ExternalLogin;
use crate::service::auth::{Auth, Sessions, Tokens};
use crate::service::directory::Directory;
use crate::store::Store;

/// Cloned for every request (poem's `data`), so it is one shared allocation: a clone is one
/// reference count, not one per handle.
#[derive(Clone)]
pub struct AppState(Arc<HttpHandles>);

impl AppState {
    pub fn new(handles: HttpHandles) -> Self {
        Self(Arc::new(handles))
    }
}

impl std::ops::Deref for AppState {
    type Target = HttpHandles;

    fn deref(&self) -> &HttpHandles {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct HttpHandles {
    pub settings: Arc<Settings>,
    /// Read by the health check.
    pub store: Store,
    /// Sign-in, tokens, sessions.
    pub auth: Auth,
    /// Sign-in through external OpenID Providers.
    pub external: ExternalLogin,
    /// Signup, verification, reset, password and email change, TOTP.
    pub account: Account,
    /// Users, organizations, groups, API keys, identities, delegates.
    pub directory: Directory,
    /// Request counters for rate limits (Redis when configured, else this process).
    pub limiter: Arc<RateLimiter>,
    /// Request, token and per-route counters of this process (see `runtime::monitoring`).
    pub monitor: Arc<Monitor>,
    /// The audit trail's queue (see `runtime::audit`).
    pub audit: AuditLog,
    /// The hosted pages' templates (sign-in, consent).
    pub pages: Arc<Pages>,
}

impl HttpHandles {
    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.directory.now()
    }

    pub fn tokens(&self) -> &Tokens {
        &self.auth.tokens
    }

    pub fn sessions(&self) -> &Sessions {
        &self.auth.sessions
    }
}
