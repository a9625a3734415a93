//! What a person does to their own account, and the lockout that guards every secret they present.

pub mod change_password;
pub mod email_change;
pub mod email_tokens;
pub mod lockout;
pub mod mail_sign_in;
pub mod reset_password;
pub mod security_admin;
pub mod signup;
pub mod totp;
pub mod verify_email;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::email::Templates;
use crate::runtime::audit::AuditLog;
use crate::service::auth::Auth;
use crate::store::Store;

/// The account use cases' handle: the sign-in room's handles (accounts sign in at the end of a
/// verification or reset, and end sessions on a new password), plus the mail they queue.
#[derive(Clone)]
pub struct Account {
    pub auth: Auth,
    /// Mail templates, parsed at start-up.
    pub templates: Arc<Templates>,
    /// Wakes this instance's outbox sender after a commit that queued mail.
    pub outbox_wake: Arc<Notify>,
}

impl Account {
    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.auth.now()
    }

    pub fn store(&self) -> &Store {
        self.auth.store()
    }

    pub fn audit(&self) -> &AuditLog {
        self.auth.audit()
    }

    /// Tells the outbox sender that mail was committed (it also polls, so this is only for speed).
    pub fn mail_queued(&self) {
        self.outbox_wake.notify_one();
    }
}
