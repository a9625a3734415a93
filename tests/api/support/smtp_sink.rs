//! A real SMTP server in-process: speaks EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT on a
//! loopback port, keeps every message it accepts, and can be started late on a reserved port to
//! play an SMTP relay that is down and then comes up. Secured, it offers STARTTLS or speaks TLS
//! from the first byte with a self-signed certificate, and can demand AUTH PLAIN or LOGIN.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use data_encoding::BASE64;
use mail_parser::{MessageParser, PartType};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A message as a reader of the mail would see it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    /// The `text/html` part, when there is one.
    pub html: Option<String>,
    pub raw: String,
    /// Whether it came over TLS (implicit or after STARTTLS).
    pub over_tls: bool,
    /// The user name the client authenticated as, if it did.
    pub user: Option<String>,
}

impl Mail {
    pub fn parse(raw: &[u8], to: Vec<String>) -> Mail {
        let message = MessageParser::default().parse(raw).expect("a parsable message");
        let html = message.html_part(0).and_then(|part| match &part.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        });
        Mail {
            to,
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
            html,
            raw: String::from_utf8_lossy(raw).into_owned(),
            over_tls: false,
            user: None,
        }
    }

    /// The token in a mail rendered from the built-in templates (the line indented by four spaces).
    pub fn token(&self) -> String {
        self.text
            .lines()
            .find_map(|l| l.strip_prefix("    "))
            .map(|t| t.trim().to_owned())
            .unwrap_or_else(|| panic!("no token in {}", self.text))
    }
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// How the sink is secured: plain, STARTTLS on the port, or TLS from the first byte; and whether
/// it demands AUTH PLAIN/LOGIN with one user name and password before it takes mail.
#[derive(Clone, Default)]
pub struct SinkSecurity {
    pub tls: SinkTls,
    pub login: Option<(String, String)>,
}

#[derive(Clone, Default)]
pub enum SinkTls {
    #[default]
    None,
    Starttls(Arc<rustls::ServerConfig>),
    Implicit(Arc<rustls::ServerConfig>),
}

#[derive(Default)]
struct Shared {
    security: SinkSecurity,
    mails: Mutex<Vec<Mail>>,
    handshake_failures: AtomicUsize,
    auth_failures: AtomicUsize,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// A sink that speaks TLS (STARTTLS or implicit) and/or demands AUTH.
    pub async fn start_secured(security: SinkSecurity) -> SmtpSink {
        Self::listen(SocketAddr::from(([127, 0, 0, 1], 0)), security).await
    }

    /// A loopback address with nothing listening (yet): for "down, then up".
    pub fn reserve_addr() -> SocketAddr {
        super::ports::unused_addr()
    }

    pub async fn start_on(addr: SocketAddr) -> SmtpSink {
        Self::listen(addr, SinkSecurity::default()).await
    }

    async fn listen(addr: SocketAddr, security: SinkSecurity) -> SmtpSink {
        let listener = TcpListener::bind(addr).await.expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared { security, ..Shared::default() });
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = serving.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, shared).await;
                });
            }
        });
        SmtpSink { addr, shared, task }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.shared.mails.lock().expect("lock").clone()
    }

    /// TLS handshakes that failed (a client that does not trust the certificate hangs up in it).
    pub fn handshake_failures(&self) -> usize {
        self.shared.handshake_failures.load(Ordering::SeqCst)
    }

    /// AUTH attempts refused for a wrong user name or password.
    pub fn auth_failures(&self) -> usize {
        self.shared.auth_failures.load(Ordering::SeqCst)
    }

    /// Waits (up to 15 s) until `seen()` is true.
    pub async fn wait_until(&self, what: &str, seen: impl Fn(&SmtpSink) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while !seen(self) {
            assert!(tokio::time::Instant::now() < deadline, "the SMTP sink never saw {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Mails to `recipient`, waiting (up to 15 s) until there are at least `count`.
    pub async fn wait_for(&self, recipient: &str, count: usize) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let found: Vec<Mail> = self.mails().into_iter().filter(|m| m.to.iter().any(|t| t == recipient)).collect();
            if found.len() >= count {
                return found;
            }
            assert!(tokio::time::Instant::now() < deadline, "expected {count} mail(s) to {recipient}, got {found:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

/// What one SMTP conversation ended with.
enum Ended {
    Quit,
    /// The client asked for STARTTLS and was told to go ahead: the handshake comes next.
    StartTls(Box<dyn Connection>),
}

/// One client: TLS first when implicit, then the conversation, again over TLS after STARTTLS.
async fn serve(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (mut connection, mut secure): (Box<dyn Connection>, bool) = match &shared.security.tls {
        SinkTls::Implicit(config) => (Box::new(handshake(config, stream, &shared).await?), true),
        _ => (Box::new(stream), false),
    };
    loop {
        match conversation(connection, secure, &shared).await? {
            Ended::Quit => return Ok(()),
            Ended::StartTls(plain) => {
                let SinkTls::Starttls(config) = &shared.security.tls else { unreachable!("STARTTLS not offered") };
                connection = Box::new(handshake(config, plain, &shared).await?);
                secure = true;
            }
        }
    }
}

async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    config: &Arc<rustls::ServerConfig>,
    stream: S,
    shared: &Shared,
) -> std::io::Result<tokio_rustls::server::TlsStream<S>> {
    let accepted = tokio_rustls::TlsAcceptor::from(config.clone()).accept(stream).await;
    if accepted.is_err() {
        shared.handshake_failures.fetch_add(1, Ordering::SeqCst);
    }
    accepted
}

async fn conversation(connection: Box<dyn Connection>, secure: bool, shared: &Shared) -> std::io::Result<Ended> {
    let mut connection = BufReader::new(connection);
    let security = &shared.security;
    let offer_starttls = matches!(security.tls, SinkTls::Starttls(_)) && !secure;
    if !secure || matches!(security.tls, SinkTls::Implicit(_)) {
        connection.write_all(b"220 sink ESMTP ready\r\n").await?;
    }
    let mut recipients = Vec::new();
    let mut user = None;
    let mut line = String::new();
    loop {
        line.clear();
        if connection.read_line(&mut line).await? == 0 {
            return Ok(Ended::Quit);
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            let mut reply = String::from("250-sink\r\n250-8BITMIME\r\n");
            if offer_starttls {
                reply.push_str("250-STARTTLS\r\n");
            }
            if security.login.is_some() && !offer_starttls {
                reply.push_str("250-AUTH PLAIN LOGIN\r\n");
            }
            reply.push_str("250 SMTPUTF8\r\n");
            connection.write_all(reply.as_bytes()).await?;
            continue;
        } else if command == "STARTTLS" && offer_starttls {
            connection.write_all(b"220 go ahead\r\n").await?;
            return Ok(Ended::StartTls(connection.into_inner()));
        } else if command.starts_with("AUTH ") && security.login.is_some() && !offer_starttls {
            let answer = authenticate(&mut connection, line.trim_end()).await?;
            if answer.is_some() && answer == security.login {
                user = answer.map(|(name, _)| name);
                b"235 2.7.0 Authentication successful\r\n"
            } else {
                shared.auth_failures.fetch_add(1, Ordering::SeqCst);
                b"535 5.7.8 Authentication credentials invalid\r\n"
            }
        } else if command.starts_with("MAIL FROM") && (offer_starttls || (security.login.is_some() && user.is_none())) {
            b"530 5.7.0 Must issue a STARTTLS command or authenticate first\r\n"
        } else if command.starts_with("HELO") || command.starts_with("MAIL FROM") || command == "NOOP" {
            b"250 OK\r\n"
        } else if command == "RSET" {
            recipients.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..].trim().trim_start_matches('<').trim_end_matches('>').to_owned();
            recipients.push(address.split_whitespace().next().unwrap_or_default().trim_end_matches('>').to_owned());
            b"250 OK\r\n"
        } else if command == "DATA" {
            connection.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let raw = read_data(&mut connection).await?;
            let mut mail = Mail::parse(&raw, std::mem::take(&mut recipients));
            (mail.over_tls, mail.user) = (secure, user.clone());
            shared.mails.lock().expect("lock").push(mail);
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            connection.write_all(b"221 bye\r\n").await?;
            return Ok(Ended::Quit);
        } else {
            b"502 not implemented\r\n"
        };
        connection.write_all(reply).await?;
    }
}

fn owned((user, password): (&str, &str)) -> (String, String) {
    (user.to_owned(), password.to_owned())
}

/// The user name and password of an `AUTH PLAIN [initial response]` or `AUTH LOGIN` exchange.
async fn authenticate<C: AsyncBufRead + AsyncWrite + Unpin>(
    connection: &mut C,
    command: &str,
) -> std::io::Result<Option<(String, String)>> {
    let mut words = command.split_whitespace().skip(1);
    let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
    let initial = words.next().map(str::to_owned);
    let decode = |text: &str| BASE64.decode(text.trim().as_bytes()).ok().and_then(|b| String::from_utf8(b).ok());
    match mechanism.as_str() {
        "PLAIN" => {
            let response = match initial {
                Some(response) => response,
                None => ask(connection, "").await?,
            };
            let Some(decoded) = decode(&response) else { return Ok(None) };
            let mut parts = decoded.split('\0').skip(1);
            Ok(parts.next().zip(parts.next()).map(owned))
        }
        "LOGIN" => {
            let user = match initial {
                Some(user) => user,
                None => ask(connection, "VXNlcm5hbWU6").await?,
            };
            let password = ask(connection, "UGFzc3dvcmQ6").await?;
            Ok(decode(&user).zip(decode(&password)))
        }
        _ => Ok(None),
    }
}

/// Sends a `334` challenge and reads the client's one-line answer.
async fn ask<C: AsyncBufRead + AsyncWrite + Unpin>(connection: &mut C, challenge: &str) -> std::io::Result<String> {
    connection.write_all(format!("334 {challenge}\r\n").as_bytes()).await?;
    let mut line = String::new();
    connection.read_line(&mut line).await?;
    Ok(line.trim_end().to_owned())
}

/// The message up to the lone `.` line, with dot-stuffing undone.
async fn read_data<C: AsyncBufRead + Unpin>(lines: &mut C) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(raw);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(raw);
        }
        let content = if line.starts_with(b"..") { &line[1..] } else { &line[..] };
        raw.extend_from_slice(content);
    }
}
