//! Graceful shutdown of the real binary: SIGTERM stops new connections at once, a request already
//! in flight still gets its answer, and the process exits 0.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cli::Server;
use crate::plain_tests;

plain_tests!(sigterm_lets_a_request_in_flight_finish_and_exits_zero);

/// Reads one HTTP/1.1 response with a Content-Length body from `stream`.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buffer = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = String::from_utf8_lossy(&buffer).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let mut chunk = [0u8; 4096];
        let read = tokio::time::timeout_at(deadline.into(), stream.read(&mut chunk))
            .await
            .expect("the response arrives in time")
            .expect("read");
        assert!(read > 0, "connection closed before a whole response: {text}");
        buffer.extend_from_slice(&chunk[..read]);
    }
}

async fn sigterm_lets_a_request_in_flight_finish_and_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &[("AUTHIFY_JWT_ALGORITHM", "ES256")]);
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    // A first request on the connection proves the server has accepted it.
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: authify\r\n\r\n").await.expect("write");
    assert!(read_response(&mut stream).await.starts_with("HTTP/1.1 200"));

    // The second request sends its headers and half of its body, and is then held open.
    let body = br#"{"token": "not.a.token"}"#;
    let head = format!(
        "POST /jwt/verify HTTP/1.1\r\nHost: authify\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(&body[..10]).await.expect("write");
    stream.flush().await.expect("flush");
    // Ordering only (not a timing assertion): let the server read the headers before the signal.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal_term();

    // Shutdown has begun once new connections are refused.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(server.addr()).await.is_ok() {
        assert!(Instant::now() < deadline, "the listener still accepts after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stream.write_all(&body[10..]).await.expect("the in-flight request may still send its body");
    let answer = read_response(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""valid":false"#), "{answer}");
    assert!(server.wait_for_exit().success(), "graceful shutdown exits 0");
}
