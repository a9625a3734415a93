//! Mail: Liquid templates (`templates`, in the bounded dialect of `dialect`, with lenient variables
//! in `lenient`), delivery through lettre behind one small trait (`transport`), and the outbox
//! sender (`sender`).

mod dialect;
mod lenient;
pub mod sender;
pub mod templates;
pub mod transport;

pub use templates::{MailKind, MailVars, RenderedMail, RequestTemplates, Templates};
pub use transport::Mailer;
