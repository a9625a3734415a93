//! A real SMTP server in-process: speaks EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT on a
//! loopback port, keeps every message it accepts, and can be started late on a reserved port to
//! play an SMTP relay that is down and then comes up.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_parser::{MessageParser, PartType};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
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
    mails: Arc<Mutex<Vec<Mail>>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// A loopback address with nothing listening (yet): for "down, then up".
    pub fn reserve_addr() -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    }

    pub async fn start_on(addr: SocketAddr) -> SmtpSink {
        let listener = TcpListener::bind(addr).await.expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("addr");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let store = mails.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(stream, store).await;
                });
            }
        });
        SmtpSink { addr, mails, task }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("lock").clone()
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

async fn session(stream: TcpStream, store: Arc<Mutex<Vec<Mail>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
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
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let raw = read_data(&mut lines).await?;
            store.lock().expect("lock").push(Mail::parse(&raw, std::mem::take(&mut recipients)));
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// The message up to the lone `.` line, with dot-stuffing undone.
async fn read_data(lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<Vec<u8>> {
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
