//! Mail: Liquid templates (`templates`, with lenient variables in `lenient`), delivery through
//! lettre behind one small trait (`transport`), and the outbox sender (`sender`).

mod lenient;
pub mod sender;
pub mod templates;
pub mod transport;

pub use templates::{MailKind, MailVars, RenderedMail, RequestTemplates, Templates};
pub use transport::Mailer;
