//! Values parsed at the edge: once constructed they are valid, so the services need not re-check.

pub mod claims;
mod email;
mod full_name;
mod handle;
mod ids;
mod password;
mod submitted;
mod user;

pub use claims::{Claims, Scope};
pub use email::Email;
pub use full_name::FullName;
pub use handle::Handle;
pub use ids::{ApiKeyId, SessionId, UserId};
pub use password::Password;
pub use submitted::Submitted;
pub use user::User;

/// A value that failed to parse, with the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidValue {
    pub field: &'static str,
    pub problem: String,
}

impl InvalidValue {
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self { field, problem: problem.into() }
    }
}
