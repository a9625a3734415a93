//! Delivery behind one small trait: SMTP through lettre (TLS mode and optional AUTH from the
//! settings), or, when no SMTP host is set, one `.eml` file per mail under AUTHIFY_MAIL_DIR (the
//! development default: mail is never silently dropped).
//!
//! Each message's `Message-ID` is made from its outbox row, so a mail sent again after a crash
//! between sending and recording it (at-least-once delivery) is recognisably the same message; the
//! file transport names the file after it too, so there a second send replaces the first.

use std::path::Path;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

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
    #[error("AUTHIFY_MAIL_CA_FILE: {file}: {problem}")]
    CaFile { file: String, problem: String },
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
        return Ok(Box::new(FileMailer { from, dir: dir.clone() }));
    };
    let builder = match settings.mail_tls {
        MailTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        MailTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .tls(Tls::Required(tls_parameters(host, settings.mail_ca_file.as_deref())?)),
        MailTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .tls(Tls::Wrapper(tls_parameters(host, settings.mail_ca_file.as_deref())?)),
    };
    let mut builder = builder.port(settings.mail_port).timeout(Some(SMTP_TIMEOUT));
    if let Some(username) = &settings.mail_username {
        let password = settings.mail_password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default();
        builder = builder.credentials(Credentials::new(username.clone(), password));
    }
    let description = format!("smtp://{host}:{} ({:?})", settings.mail_port, settings.mail_tls);
    Ok(Box::new(SmtpMailer { from, transport: builder.build(), description }))
}

/// Checks the server's certificate for `host` against the Mozilla roots and the certificates of
/// AUTHIFY_MAIL_CA_FILE.
fn tls_parameters(host: &str, ca_file: Option<&Path>) -> Result<TlsParameters, TransportError> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(file) = ca_file {
        let unusable = |problem: String| TransportError::CaFile { file: file.display().to_string(), problem };
        let pem = std::fs::read(file).map_err(|e| unusable(e.to_string()))?;
        if !pem.windows(17).any(|w| w == b"BEGIN CERTIFICATE") {
            return Err(unusable("no PEM certificate in it".into()));
        }
        let certificate = Certificate::from_pem(&pem).map_err(|e| unusable(e.to_string()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|e| TransportError::Smtp(e.to_string()))
}

/// The lettre message for an outbox row: text only, or text and HTML alternatives.
fn message(from: &Mailbox, mail: &OutboxMail) -> Result<Message, String> {
    let to: Mailbox = mail.recipient.parse().map_err(|e| format!("bad recipient: {e}"))?;
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(message_id(from, mail)));
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

/// `<outbox-<row id>-<queued at>@<the sender's domain>>`: the same for every send of one row,
/// different across rows and databases that reuse ids.
fn message_id(from: &Mailbox, mail: &OutboxMail) -> String {
    format!("<{}@{}>", file_stem(mail), from.email.domain())
}

fn file_stem(mail: &OutboxMail) -> String {
    format!("outbox-{}-{}", mail.id, mail.created_at)
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
    dir: std::path::PathBuf,
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    /// Writes `outbox-<id>-<queued at>.eml` whole (a temporary file renamed into place), so a
    /// reader never sees half a mail and a second send of the row replaces the first.
    async fn send(&self, mail: &OutboxMail) -> Result<(), String> {
        let formatted = message(&self.from, mail)?.formatted();
        let stem = file_stem(mail);
        let partial = self.dir.join(format!(".{stem}.partial"));
        tokio::fs::write(&partial, formatted).await.map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
        let path = self.dir.join(format!("{stem}.eml"));
        tokio::fs::rename(&partial, &path).await.map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn describe(&self) -> String {
        format!("files under {}", self.dir.display())
    }
}
