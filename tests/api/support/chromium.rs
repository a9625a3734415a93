//! Headless Chromium through chromedriver, driven with fantoccini: the browser the page tests use.
//! Screenshots go to the test's temp dir (kept under target/screenshots when
//! AUTHIFY_TEST_SCREENSHOTS is set).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::ClientBuilder;

use super::app::env_url;
use super::oidc;

/// chromedriver on a free port, killed on drop.
pub struct Driver(Child, u16);

impl Driver {
    pub fn start() -> Driver {
        let binary = env_url("AUTHIFY_TEST_CHROMEDRIVER").expect("AUTHIFY_TEST_CHROMEDRIVER");
        let port = super::ports::unused_port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        Driver(child, port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn browser(driver: &Driver) -> fantoccini::Client {
    let mut capabilities = serde_json::Map::new();
    let binary = std::env::var("AUTHIFY_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    capabilities.insert(
        "goog:chromeOptions".into(),
        // Without the background-networking flags Chromium keeps dialling Google's hosts, which this
        // closed network refuses; chromedriver gives each session a fresh profile directory.
        serde_json::json!({"binary": binary, "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,800",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-quic",
        ]}),
    );
    for _ in 0..50 {
        let connected = ClientBuilder::native()
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{}", driver.1))
            .await;
        if let Ok(client) = connected {
            return client;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not accept a session");
}

pub async fn screenshot(client: &fantoccini::Client, dir: &std::path::Path, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(name), &png).expect("write screenshot");
    if std::env::var("AUTHIFY_TEST_SCREENSHOTS").is_ok() {
        let keep = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&keep).expect("dir");
        std::fs::write(keep.join(name), &png).expect("keep screenshot");
    }
}

/// Where the browser ends up: the client's redirect URI once it gets there (or after 5 s, where it is).
pub async fn landing_url(client: &fantoccini::Client) -> String {
    let mut landed = String::new();
    for _ in 0..50 {
        landed = client.current_url().await.expect("url").to_string();
        if landed.starts_with(oidc::REDIRECT_URI) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    landed
}
