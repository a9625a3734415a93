//! Delivery behind one small trait: SMTP through lettre (TLS mode and optional AUTH from the
//! settings), or, when no SMTP host is set, lettre's file transport writing one `.eml` per mail
//! under AUTHIFY_MAIL_DIR (the development default: mail is never silently dropped).

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailTls, Settings};
use crate::store::outbox::OutboxMail;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Sends one mail; an `Err` is worth retrying later.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutboxMail) -> Result<(), String>;
    /// Where mail goes, for the start-up log line (no secrets).
    fn describe(&self) -> String;
}

/// A mail transport that cannot be set up; the message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("AUTHIFY_MAIL_FROM: `{0}` is not a mailbox")]
    From(String),
    #[error("AUTHIFY_MAIL_ADDRESS: {0}")]
    Smtp(String),
    #[error("AUTHIFY_MAIL_DIR: cannot create {dir}: {source}")]
    Dir { dir: String, source: std::io::Error },
}

/// Builds the transport the settings ask for.
pub fn from_settings(settings: &Settings) -> Result<Box<dyn Mailer>, TransportError> {
    let from: Mailbox = settings.mail_from.parse().map_err(|_| TransportError::From(settings.mail_from.clone()))?;
    let Some(host) = settings.mail_address.as_deref() else {
        let dir = &settings.mail_dir;
        std::fs::create_dir_all(dir)
            .map_err(|source| TransportError::Dir { dir: dir.display().to_string(), source })?;
        let transport = AsyncFileTransport::<Tokio1Executor>::new(dir);
        return Ok(Box::new(FileMailer { from, transport, dir: dir.display().to_string() }));
    };
    let builder = match settings.mail_tls {
        MailTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        MailTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| TransportError::Smtp(e.to_string()))?,
        MailTls::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| TransportError::Smtp(e.to_string()))?
        }
    };
    let mut builder = builder.port(settings.mail_port).timeout(Some(SMTP_TIMEOUT));
    if let Some(username) = &settings.mail_username {
        let password = settings.mail_password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default();
        builder = builder.credentials(Credentials::new(username.clone(), password));
    }
    let description = format!("smtp://{host}:{} ({:?})", settings.mail_port, settings.mail_tls);
    Ok(Box::new(SmtpMailer { from, transport: builder.build(), description }))
}

/// The lettre message for an outbox row: text only, or text and HTML alternatives.
fn message(from: &Mailbox, mail: &OutboxMail) -> Result<Message, String> {
    let to: Mailbox = mail.recipient.parse().map_err(|e| format!("bad recipient: {e}"))?;
    let builder = Message::builder().from(from.clone()).to(to).subject(mail.subject.clone());
    let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text_body.clone());
    let built = match &mail.html_body {
        Some(html) => builder.multipart(
            MultiPart::alternative()
                .singlepart(text)
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.clone())),
        ),
        None => builder.singlepart(text),
    };
    built.map_err(|e| format!("cannot build the message: {e}"))
}

struct SmtpMailer {
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    description: String,
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutboxMail) -> Result<(), String> {
        let message = message(&self.from, mail)?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

struct FileMailer {
    from: Mailbox,
    transport: AsyncFileTransport<Tokio1Executor>,
    dir: String,
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &OutboxMail) -> Result<(), String> {
        let message = message(&self.from, mail)?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }

    fn describe(&self) -> String {
        format!("files under {}", self.dir)
    }
}
