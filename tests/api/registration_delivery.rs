//! Delivery: the outbox survives an SMTP outage, gives up after the configured attempts, is sent
//! once by several instances, and the file transport writes `.eml` files.

use serde_json::json;

use crate::backend_tests;
use crate::registration::{signup, start_with_sink, wait_for_row};
use crate::support::app::{Backend, spawn};
use crate::support::smtp_sink::{Mail, SmtpSink};

backend_tests!(
    mail_queued_while_smtp_is_down_arrives_once_it_is_up,
    mail_is_given_up_after_the_last_attempt_and_kept,
    two_instances_send_each_mail_once,
    without_an_smtp_host_mail_is_written_as_eml_files,
);

async fn mail_queued_while_smtp_is_down_arrives_once_it_is_up(backend: Backend) {
    let addr = SmtpSink::reserve_addr();
    let app = spawn(backend)
        .settings(move |s| {
            s.mail_address = Some("127.0.0.1".into());
            s.mail_port = addr.port();
            s.mail_retry_seconds = 60;
        })
        .start()
        .await;
    assert_eq!(signup(&app, json!({"email": "patient@example.com", "password": "long enough"})).await.0, 200);
    wait_for_row(&app, "patient@example.com", |row| row.attempts >= 1 && row.last_error.is_some()).await;
    let rows = app.state.store.outbox_for("patient@example.com").await.expect("outbox");
    assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("pending", 1), "waiting for its back-off");

    let sink = SmtpSink::start_on(addr).await;
    app.clock.advance(60);
    let mail = sink.wait_for("patient@example.com", 1).await.pop().expect("mail");
    assert_eq!(mail.subject, "Verify your email address");
    wait_for_row(&app, "patient@example.com", |row| row.status == "sent").await;
}

async fn mail_is_given_up_after_the_last_attempt_and_kept(backend: Backend) {
    let addr = SmtpSink::reserve_addr();
    let app = spawn(backend)
        .settings(move |s| {
            s.mail_address = Some("127.0.0.1".into());
            s.mail_port = addr.port();
            s.mail_retry_seconds = 0;
            s.mail_max_attempts = 3;
        })
        .start()
        .await;
    assert_eq!(signup(&app, json!({"email": "lost@example.com", "password": "long enough"})).await.0, 200);
    wait_for_row(&app, "lost@example.com", |row| row.status == "failed").await;
    let row = app.state.store.outbox_for("lost@example.com").await.expect("outbox").remove(0);
    assert_eq!(row.attempts, 3);
    assert!(row.last_error.is_some());
    assert!(row.text_body.contains("verification code"), "the rendered mail is kept");
}

async fn two_instances_send_each_mail_once(backend: Backend) {
    let (app, sink) = start_with_sink(backend, |s| s.mail_poll_ms = 10).await;
    let other = app.second_instance(|_| {}).await;
    let emails: Vec<String> = (0..6).map(|n| format!("crowd{n}@example.com")).collect();
    for (n, email) in emails.iter().enumerate() {
        let instance = if n % 2 == 0 { &app } else { &other };
        assert_eq!(signup(instance, json!({"email": email, "password": "long enough"})).await.0, 200);
    }
    for email in &emails {
        sink.wait_for(email, 1).await;
        wait_for_row(&app, email, |row| row.status == "sent").await;
    }
    for email in &emails {
        let rows = app.state.store.outbox_for(email).await.expect("outbox");
        assert_eq!(rows[0].attempts, 1, "{rows:?}");
    }
    assert_eq!(sink.mails().len(), emails.len(), "each mail sent once");
}

async fn without_an_smtp_host_mail_is_written_as_eml_files(backend: Backend) {
    let app = spawn(backend).start().await;
    assert_eq!(signup(&app, json!({"email": "files@example.com", "password": "long enough"})).await.0, 200);
    wait_for_row(&app, "files@example.com", |row| row.status == "sent").await;
    let dir = app.settings.mail_dir.clone();
    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the mail directory exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let mail = Mail::parse(&std::fs::read(&files[0]).expect("read"), vec![]);
    assert_eq!(mail.subject, "Verify your email address");
    assert!(mail.raw.contains("To: files@example.com"), "{}", mail.raw);
    assert!(mail.token().len() >= 43);
    // Named after its outbox row, as its Message-ID is: a second send after a crash replaces it.
    let stem = files[0].file_stem().and_then(|s| s.to_str()).expect("a file name").to_owned();
    assert!(stem.starts_with("outbox-"), "{stem}");
    assert!(mail.raw.contains(&format!("Message-ID: <{stem}@")), "{}", mail.raw);
}
