//! Passwordless sign-in throughput: `POST /passkeys/login/finish` (one WebAuthn assertion checked,
//! the counter stored, a session opened and a token signed; no argon2). An assertion is bound to a
//! challenge and cannot be replayed, so each round first prepares one fresh assertion per user
//! (start + the software authenticator's signature, not timed), then sends all the finishes at
//! once, `CONCURRENCY` at a time, and times them. Distinct users keep each authenticator's counter
//! in order. In-process service on SQLite in a temp dir, release build:
//!
//! `cargo bench --bench passkey_login [-- USERS ROUNDS CONCURRENCY]` (default 200 5 32);
//! figures in docs/benchmarks.md ("Passkey sign-in").

use std::sync::Arc;
use std::time::{Duration, Instant};

use authify::app::Application;
use authify::clock::SystemClock;
use authify::config::Settings;
use authify::runtime::request_context::RequestMeta;
use authify::service::auth::refresh::start_session;
use authify::store::users::NewUser;
use futures::StreamExt;
use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

struct Person {
    key: SoftPasskey,
    credential_id: String,
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let users = args.first().copied().unwrap_or(200);
    let rounds = args.get(1).copied().unwrap_or(5);
    let concurrency = args.get(2).copied().unwrap_or(32);

    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let settings = Settings {
        db_url: format!("sqlite://{}?mode=rwc", dir.path().join("authify.db").display()),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        public_url: format!("http://localhost:{port}"),
        privkey_path: dir.path().join("keys/private.pem"),
        pubkey_path: dir.path().join("keys/public.pem"),
        mail_dir: dir.path().join("mail"),
        rate_limit_per_ip: 0,
        rate_limit_per_account: 0,
        ..Settings::default()
    };
    let origin = Url::parse(&settings.public_url).expect("origin");
    let app = Application::build(settings, Arc::new(SystemClock)).await.expect("the service starts");
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    let mut people = Vec::with_capacity(users);
    for n in 0..users {
        let new = NewUser {
            email: format!("user{n}@example.com"),
            handle: format!("user{n}"),
            full_name: None,
            password_digest: None,
            admin: false,
            verified: true,
            now: chrono::Utc::now().timestamp(),
        };
        let user = state.store.insert_user(new).await.expect("user");
        let token =
            start_session(&state.auth, &user, None, None, None, &RequestMeta::default()).await.expect("token").jwt;
        let mut key = SoftPasskey::new(true);
        let options: Value = http
            .post(format!("{base}/me/passkeys/register/start"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("start")
            .json()
            .await
            .expect("json");
        let mut options: CreationChallengeResponse = serde_json::from_value(options).expect("options");
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = false;
        }
        let credential = key.do_registration(origin.clone(), options).expect("registers");
        let credential_id = serde_json::to_value(&credential).expect("json")["id"].as_str().expect("id").to_owned();
        let finish = json!({ "name": "bench", "credential": credential });
        let status = http
            .post(format!("{base}/me/passkeys/register/finish"))
            .bearer_auth(&token)
            .json(&finish)
            .send()
            .await
            .expect("finish")
            .status();
        assert!(status.is_success(), "registration: {status}");
        people.push(Person { key, credential_id });
    }

    println!("passkey sign-in: {users} users, {rounds} rounds, {concurrency} at a time");
    let mut latencies = Vec::with_capacity(users * rounds);
    let mut timed = Duration::ZERO;
    for _ in 0..rounds {
        let mut finishes = Vec::with_capacity(users);
        for person in &mut people {
            let started: Value = http
                .post(format!("{base}/passkeys/login/start"))
                .send()
                .await
                .expect("start")
                .json()
                .await
                .expect("json");
            let mut options = json!({ "publicKey": started["publicKey"] });
            options["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": person.credential_id }]);
            let options: RequestChallengeResponse = serde_json::from_value(options).expect("options");
            let credential = person.key.do_authentication(origin.clone(), options).expect("signs");
            finishes.push(json!({ "challenge_id": started["challenge_id"], "credential": credential }));
        }
        let round = Instant::now();
        let results: Vec<(u16, Duration)> = futures::stream::iter(finishes)
            .map(|body| {
                let http = http.clone();
                let url = format!("{base}/passkeys/login/finish");
                async move {
                    let sent = Instant::now();
                    let status = http.post(url).json(&body).send().await.expect("finish").status().as_u16();
                    (status, sent.elapsed())
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        timed += round.elapsed();
        assert!(results.iter().all(|(status, _)| *status == 200), "every finish signs in: {results:?}");
        latencies.extend(results.into_iter().map(|(_, latency)| latency));
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let per_second = latencies.len() as f64 / timed.as_secs_f64();
    println!("finishes: {} in {:.2} s = {per_second:.0}/s", latencies.len(), timed.as_secs_f64());
    println!("latency: p50 {:.1} ms, p99 {:.1} ms", at(0.5).as_secs_f64() * 1e3, at(0.99).as_secs_f64() * 1e3);
}
