//! SMTP over TLS and with AUTH (issue 23 §2): STARTTLS and implicit TLS to a relay whose
//! self-signed certificate is trusted through AUTHIFY_MAIL_CA_FILE, AUTH PLAIN with the configured
//! user; a relay that is not trusted, or refuses the password, gets nothing and the mail waits in
//! the outbox. Mail goes through lettre exactly as in production; only the relay is ours.

use authify::config::MailTls;
use serde_json::json;

use crate::plain_tests;
use crate::registration::{signup, signup_and_mail, wait_for_row};
use crate::support::app::{Backend, TestApp, spawn};
use crate::support::smtp_sink::{SinkSecurity, SinkTls, SmtpSink};
use crate::support::tls_cert::{SelfSigned, self_signed};

plain_tests!(
    mail_goes_over_starttls_with_auth_plain_to_a_relay_trusted_by_the_ca_file,
    mail_goes_over_implicit_tls_to_a_relay_trusted_by_the_ca_file,
    a_relay_whose_certificate_is_not_trusted_gets_no_mail,
    a_relay_that_refuses_the_password_gets_no_mail_and_the_mail_waits,
    a_ca_file_without_tls_or_without_a_certificate_stops_start_up,
);

const LOGIN: (&str, &str) = ("authify-mailer", "relay password");

fn login() -> Option<(String, String)> {
    Some((LOGIN.0.to_owned(), LOGIN.1.to_owned()))
}

/// An instance sending to `sink` with `tls`, trusting `ca` when given, logging in as `password`.
async fn instance(sink: &SmtpSink, tls: MailTls, ca: Option<&SelfSigned>, password: &str) -> TestApp {
    let port = sink.addr.port();
    let password = password.to_owned();
    let ca_pem = ca.map(|ca| ca.pem.clone());
    spawn(Backend::Sqlite)
        .settings(move |s| {
            s.mail_address = Some("127.0.0.1".into());
            s.mail_port = port;
            s.mail_tls = tls;
            s.mail_retry_seconds = 3600;
            s.mail_username = Some(LOGIN.0.to_owned());
            s.mail_password = Some(authify::config::SecretString::new(password));
            if let Some(pem) = ca_pem {
                let file = s.mail_dir.with_file_name("relay-ca.pem");
                std::fs::write(&file, pem).expect("write the CA file");
                s.mail_ca_file = Some(file);
            }
        })
        .start()
        .await
}

async fn mail_goes_over_starttls_with_auth_plain_to_a_relay_trusted_by_the_ca_file() {
    let certificate = self_signed();
    let security = SinkSecurity { tls: SinkTls::Starttls(certificate.server.clone()), login: login() };
    let sink = SmtpSink::start_secured(security).await;
    let app = instance(&sink, MailTls::Starttls, Some(&certificate), LOGIN.1).await;
    let mail = signup_and_mail(&app, &sink, "tls@example.com", "long enough password").await;
    assert_eq!(mail.subject, "Verify your email address");
    assert!(mail.over_tls, "the mail was sent after STARTTLS");
    assert_eq!(mail.user.as_deref(), Some(LOGIN.0), "the relay saw the configured AUTH user");
    assert_eq!((sink.handshake_failures(), sink.auth_failures()), (0, 0));
    wait_for_row(&app, "tls@example.com", |row| row.status == "sent").await;
}

async fn mail_goes_over_implicit_tls_to_a_relay_trusted_by_the_ca_file() {
    let certificate = self_signed();
    let security = SinkSecurity { tls: SinkTls::Implicit(certificate.server.clone()), login: login() };
    let sink = SmtpSink::start_secured(security).await;
    let app = instance(&sink, MailTls::Tls, Some(&certificate), LOGIN.1).await;
    let mail = signup_and_mail(&app, &sink, "wrapped@example.com", "long enough password").await;
    assert!(mail.over_tls, "implicit TLS from the first byte");
    assert_eq!(mail.user.as_deref(), Some(LOGIN.0));
}

async fn a_relay_whose_certificate_is_not_trusted_gets_no_mail() {
    let certificate = self_signed();
    for (tls, sink_tls) in [
        (MailTls::Starttls, SinkTls::Starttls(certificate.server.clone())),
        (MailTls::Tls, SinkTls::Implicit(certificate.server.clone())),
    ] {
        let sink = SmtpSink::start_secured(SinkSecurity { tls: sink_tls, login: login() }).await;
        let other = self_signed();
        let app = instance(&sink, tls, Some(&other), LOGIN.1).await;
        let email = "untrusting@example.com";
        assert_eq!(signup(&app, json!({"email": email, "password": "long enough password"})).await.0, 200);
        sink.wait_until("a refused handshake", |sink| sink.handshake_failures() >= 1).await;
        wait_for_row(&app, email, |row| row.attempts >= 1 && row.status == "pending").await;
        let row = app.state.store.outbox_for(email).await.expect("outbox").remove(0);
        assert!(row.last_error.is_some(), "{tls:?}: the failed send is recorded: {row:?}");
        assert!(sink.mails().is_empty(), "{tls:?}: nothing was sent to an untrusted relay");
    }
}

async fn a_relay_that_refuses_the_password_gets_no_mail_and_the_mail_waits() {
    let certificate = self_signed();
    let security = SinkSecurity { tls: SinkTls::Starttls(certificate.server.clone()), login: login() };
    let sink = SmtpSink::start_secured(security).await;
    let app = instance(&sink, MailTls::Starttls, Some(&certificate), "not the relay password").await;
    let email = "refused@example.com";
    assert_eq!(signup(&app, json!({"email": email, "password": "long enough password"})).await.0, 200);
    sink.wait_until("a refused AUTH", |sink| sink.auth_failures() >= 1).await;
    wait_for_row(&app, email, |row| row.attempts >= 1 && row.status == "pending").await;
    let row = app.state.store.outbox_for(email).await.expect("outbox").remove(0);
    assert!(row.last_error.as_deref().is_some_and(|e| e.contains("535")), "the relay's answer is kept: {row:?}");
    assert!(!row.last_error.as_deref().unwrap_or_default().contains("not the relay password"), "no password in it");
    assert!(sink.mails().is_empty());
}

async fn a_ca_file_without_tls_or_without_a_certificate_stops_start_up() {
    let dir = tempfile::tempdir().expect("dir");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    let binary = env!("CARGO_BIN_EXE_authify");
    for (tls, file, expected) in [
        ("none", empty.clone(), "AUTHIFY_MAIL_CA_FILE: needs AUTHIFY_MAIL_TLS=starttls or tls"),
        ("tls", dir.path().join("missing.pem"), "AUTHIFY_MAIL_CA_FILE: "),
        ("starttls", empty.clone(), "no PEM certificate in it"),
    ] {
        let output = std::process::Command::new(binary)
            .arg("serve")
            .current_dir(dir.path())
            .env("AUTHIFY_LISTEN", "127.0.0.1:0")
            .env("AUTHIFY_DB_URL", format!("sqlite://{}/authify.db", dir.path().display()))
            .env("AUTHIFY_MAIL_ADDRESS", "127.0.0.1")
            .env("AUTHIFY_MAIL_TLS", tls)
            .env("AUTHIFY_MAIL_CA_FILE", &file)
            .output()
            .expect("run authify");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{tls}: start-up must stop: {stderr}");
        assert!(stderr.contains(expected), "{tls}: the error names the setting ({expected}): {stderr}");
    }
}
