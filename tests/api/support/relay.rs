//! A counting HTTP relay in front of a test instance: a relying service's view of Authify that can
//! be pointed at another instance (a restart after a key rotation), taken down, and asked how many
//! requests each path received (how often a verifier fetched the JWKS).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response, Server};

#[derive(Default)]
struct Shared {
    upstream: Option<String>,
    counts: HashMap<String, usize>,
}

/// A running relay; stops when dropped.
pub struct Relay {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// A relay on a random loopback port that answers 502 until [`Relay::point_to`] is called.
    pub async fn start() -> Relay {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("bind the relay");
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().expect("a socket address");
        let client = reqwest::Client::new();
        let state = shared.clone();
        let endpoint = poem::endpoint::make(move |req: Request| {
            let (state, client) = (state.clone(), client.clone());
            async move { relay(&state, &client, req).await }
        });
        let task = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(endpoint).await;
        });
        Relay { addr, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Relays to `base` (`http://host:port`) from now on; `None` answers 502, as a down Authify.
    pub fn point_to(&self, base: Option<String>) {
        self.lock().upstream = base;
    }

    /// How many requests `path` received so far.
    pub fn count(&self, path: &str) -> usize {
        self.lock().counts.get(path).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().expect("relay state")
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(state: &Mutex<Shared>, client: &reqwest::Client, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let upstream = {
        let mut shared = state.lock().expect("relay state");
        *shared.counts.entry(path.clone()).or_default() += 1;
        shared.upstream.clone()
    };
    let Some(base) = upstream else { return StatusCode::BAD_GATEWAY.into() };
    let Ok(answer) = client.get(format!("{base}{path}")).send().await else {
        return StatusCode::BAD_GATEWAY.into();
    };
    let mut response = Response::builder().status(answer.status());
    for name in ["content-type", "cache-control"] {
        if let Some(value) = answer.headers().get(name) {
            response = response.header(name, value.clone());
        }
    }
    response.body(answer.bytes().await.unwrap_or_default())
}
