//! Hostile server replies on loopback: huge bodies, deep JSON nesting, wrong types, truncated
//! bodies, slow-loris replies, garbage instead of HTTP. Each must end as a typed error, within the
//! configured timeout (plus a small margin), with memory bounded and no panic or stack overflow.
//!
//! Most servers here are raw `TcpListener`s (malformed transport needs them, and they stream huge
//! bodies without holding them); plain wrong replies use wiremock. Also the regression inputs
//! found by the fuzz targets (`fuzz/`).

mod support;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use matterapi::retry::RetryPolicy;
use matterapi::{Client, Error, Options, StatusCode};
use support::logs::{self, Captured};
use support::rest::read_head;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MB: usize = 1024 * 1024;

/// What a timed-out call may take beyond its timeout (a loaded 2-core machine).
const MARGIN: Duration = Duration::from_secs(1);

/// A loopback server that reads each request's head, then hands the connection to `reply`.
async fn raw_server<F, Fut>(reply: F) -> String
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let reply = Arc::clone(&reply);
            tokio::spawn(async move {
                if read_head(&mut stream).await.is_some() {
                    reply(stream).await;
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A server that writes `bytes` on each connection, then closes it.
async fn replying(bytes: &'static [u8]) -> String {
    raw_server(move |mut s| async move {
        let _ = s.write_all(bytes).await;
        let _ = s.shutdown().await;
    })
    .await
}

/// A client of the server at `url` with the request timeout `timeout`.
fn client(url: &str, timeout: Duration) -> Client {
    support::client_with(url, "t", |b| b.timeout(timeout))
}

/// `get_user("me")`, which must end within `limit` (a hang fails the test instead of hanging it),
/// and the time it took.
async fn get_me(
    client: &Client,
    limit: Duration,
) -> (Result<matterapi::types::User, Error>, Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(limit, support::rest::me(client))
        .await
        .unwrap_or_else(|_| panic!("the call did not end within {limit:?}"));
    (result, started.elapsed())
}

/// The call's error, which must be `Error::Transport`; whether reqwest calls it a timeout.
fn transport_is_timeout(result: &Result<matterapi::types::User, Error>) -> bool {
    match result {
        Err(Error::Transport(e)) => e.is_timeout(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// Held by the tests that use much memory or measure it, so that they do not run at once (the
/// peak resident set is the process's).
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Resets the process's peak resident set to its current one (Linux: `5` to `clear_refs`), so
/// that `peak_rss` afterwards measures what came since. When that is refused, the peak so far
/// stays, and comparisons are only looser.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident set so far (`VmHWM`), in bytes.
fn peak_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb * 1024
}

/// Writes an HTTP/1.1 head with `status` and `Content-Length: len`, then `len` bytes of a JSON
/// array that never closes (`[0,0,0,...`), streamed in 64 KiB chunks (the server holds none of it).
async fn stream_json_garbage(s: &mut TcpStream, status: u16, len: usize) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n["
    );
    if s.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = b"0,".repeat(32 * 1024);
    let mut left = len - 1;
    while left > 0 {
        let n = left.min(chunk.len());
        if s.write_all(&chunk[..n]).await.is_err() {
            return;
        }
        left -= n;
    }
}

// ---------------------------------------------------------------------------------------------
// Huge bodies

#[tokio::test]
async fn a_50_mb_json_garbage_body_is_a_decode_error_with_bounded_memory() {
    let _heavy = HEAVY.lock().await;
    const SIZE: usize = 50 * MB;
    let url = raw_server(|mut s| async move {
        stream_json_garbage(&mut s, 200, SIZE).await;
        let _ = s.shutdown().await;
    })
    .await;
    let client = client(&url, Duration::from_secs(30));
    reset_peak_rss();
    let before = peak_rss();
    let (result, took) = get_me(&client, Duration::from_secs(30) + MARGIN).await;
    let after = peak_rss();
    match &result {
        Err(e @ Error::Decode { body, .. }) => {
            assert_eq!(body.len(), SIZE, "the body is kept whole");
            let shown = e.to_string();
            assert!(shown.len() < 1000, "Display is {} bytes", shown.len());
        }
        Err(Error::Transport(_)) => {}
        other => panic!("expected a decode or transport error, got {other:?}"),
    }
    drop(result);
    let grew = after.saturating_sub(before);
    eprintln!(
        "50 MB body: {took:?}, peak RSS {} MB -> {} MB (+{} MB)",
        before / MB,
        after / MB,
        grew / MB
    );
    assert!(
        grew < 300 * MB,
        "peak RSS grew by {} MB for a 50 MB body",
        grew / MB
    );
}

#[tokio::test]
async fn an_error_status_with_a_10_mb_html_body_is_unexpected_status_with_a_short_message() {
    let _heavy = HEAVY.lock().await;
    let server = MockServer::start().await;
    let mut html = String::with_capacity(10 * MB + 64);
    html.push_str("<html><head><title>500 Internal Server Error</title></head><body>");
    while html.len() < 10 * MB {
        html.push_str("<p>something went wrong, very verbosely &amp; at length</p>\n");
    }
    html.push_str("</body></html>");
    let len = html.len();
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("content-type", "text/html")
                .insert_header("x-request-id", "req-html")
                .set_body_string(html),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server.uri(), Duration::from_secs(10));
    let (result, _) = get_me(&client, Duration::from_secs(10) + MARGIN).await;
    let err = result.expect_err("500");
    assert!(matches!(err, Error::UnexpectedStatus { .. }), "{err:?}");
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(err.request_id(), Some("req-html"));
    assert_eq!(err.body().map(|b| b.len()), Some(len), "the body is kept");
    let shown = err.to_string();
    assert!(shown.len() < 1000, "Display is {} bytes", shown.len());
    assert!(
        shown.contains("500") && shown.contains("req-html"),
        "{shown}"
    );
}

/// A Mattermost error whose message is 10 MB decodes as `Error::Api`, whole. (Its `Display`
/// shows the message whole too: see the report in `fuzz/README.md`.)
#[tokio::test]
async fn an_api_error_with_a_10_mb_message_is_decoded() {
    let _heavy = HEAVY.lock().await;
    let server = MockServer::start().await;
    let message = "x".repeat(10 * MB);
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "id": "api.huge.app_error", "message": message, "status_code": 400
        })))
        .mount(&server)
        .await;
    let client = client(&server.uri(), Duration::from_secs(10));
    let (result, _) = get_me(&client, Duration::from_secs(10) + MARGIN).await;
    let err = result.expect_err("400");
    assert_eq!(err.error_id(), Some("api.huge.app_error"));
    let Error::Api(server_error) = &err else {
        panic!("expected an API error, got {err:?}");
    };
    assert_eq!(server_error.message.len(), 10 * MB);
}

/// Streams a chunked JSON body that never ends, as fast as the connection takes it.
async fn endless_body(mut s: TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n";
    if s.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let data = b"0,".repeat(32 * 1024);
    let mut chunk = format!("{:x}\r\n", data.len()).into_bytes();
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(b"\r\n");
    while s.write_all(&chunk).await.is_ok() {}
}

/// A body that never ends (and arrives as fast as loopback allows) is cut by the timeout when the
/// body limit is out of reach.
#[tokio::test]
async fn an_endless_body_is_cut_by_the_timeout() {
    let _heavy = HEAVY.lock().await;
    let url = raw_server(endless_body).await;
    let timeout = Duration::from_secs(1);
    let client = Client::builder(&url)
        .token("t")
        .timeout(timeout)
        .max_body_size(usize::MAX)
        .build()
        .expect("client");
    reset_peak_rss();
    let before = peak_rss();
    let (result, took) = get_me(&client, timeout + MARGIN).await;
    let after = peak_rss();
    assert!(transport_is_timeout(&result), "{result:?}");
    eprintln!(
        "endless body, 1 s timeout, no limit: {took:?}, peak RSS {} MB -> {} MB (+{} MB)",
        before / MB,
        after / MB,
        after.saturating_sub(before) / MB
    );
    assert!(took < timeout + MARGIN, "took {took:?}");
}

/// With the default limit (64 MiB) an endless body stops at the limit, well within a long
/// timeout, as `Error::BodyTooLarge`, and memory stays near the limit.
#[tokio::test]
async fn an_endless_body_is_capped_in_memory() {
    let _heavy = HEAVY.lock().await;
    let url = raw_server(endless_body).await;
    let timeout = Duration::from_secs(20);
    let client = client(&url, timeout);
    assert_eq!(
        client.options().max_body_size,
        matterapi::options::DEFAULT_MAX_BODY_SIZE
    );
    reset_peak_rss();
    let before = peak_rss();
    let (result, took) = get_me(&client, timeout + MARGIN).await;
    let grew = peak_rss().saturating_sub(before);
    match &result {
        Err(Error::BodyTooLarge {
            operation,
            limit,
            status,
        }) => {
            assert_eq!(operation, "get_user");
            assert_eq!(*limit, matterapi::options::DEFAULT_MAX_BODY_SIZE as u64);
            assert_eq!(*status, StatusCode::OK);
        }
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    eprintln!(
        "endless body, default limit: stopped after {took:?}, peak RSS +{} MB",
        grew / MB
    );
    assert!(took < timeout, "took {took:?}");
    assert!(
        grew < 200 * MB,
        "peak RSS grew by {} MB in {took:?}",
        grew / MB
    );
}

/// A reply that declares a body longer than the limit fails before any of it is read, for
/// generated operations, raw requests and file uploads alike; one within the limit is read.
#[tokio::test]
async fn a_declared_length_over_the_limit_fails_before_reading() {
    const LIMIT: usize = 64 * 1024;
    let url = raw_server(|mut s| async move {
        // Declares 1 GB and sends only the first bytes, then waits: reading would hang.
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{\"id\":";
        let _ = s.write_all(head.as_bytes()).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let client = Client::builder(&url)
        .token("t")
        .timeout(Duration::from_secs(10))
        .max_body_size(LIMIT)
        .build()
        .expect("client");
    let (result, took) = get_me(&client, Duration::from_secs(10) + MARGIN).await;
    assert!(
        matches!(&result, Err(Error::BodyTooLarge { limit, .. }) if *limit == LIMIT as u64),
        "{result:?}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let err = client
        .raw(matterapi::Method::GET, "/users/me")
        .send()
        .await
        .expect_err("too large");
    assert!(
        matches!(&err, Error::BodyTooLarge { operation, .. } if operation == "raw"),
        "{err:?}"
    );
    let err = client
        .upload_file(
            "c1",
            matterapi::files::UploadFile::from_bytes("a.txt", &b"hello"[..]),
        )
        .await
        .expect_err("too large");
    assert!(matches!(&err, Error::BodyTooLarge { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("max_body_size") && msg.contains("65536"),
        "{msg}"
    );
}

/// Failure replies are limited too (a proxy's endless error page), and `send_raw()` as well; a
/// reply of exactly the limit is read whole.
#[tokio::test]
async fn error_bodies_and_raw_replies_are_limited_but_the_limit_itself_is_allowed() {
    const LIMIT: usize = 100_000;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(502).set_body_string("x".repeat(LIMIT + 1)))
        .mount(&server)
        .await;
    let exact = format!("{{\"id\":\"{}\"}}", "u".repeat(LIMIT - 9));
    assert_eq!(exact.len(), LIMIT);
    Mock::given(method("GET"))
        .and(path("/api/v4/users/u1"))
        .respond_with(ResponseTemplate::new(200).set_body_string(exact.clone()))
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .token("t")
        .max_body_size(LIMIT)
        .retry(RetryPolicy::off())
        .build()
        .expect("client");
    let (result, _) = get_me(&client, Duration::from_secs(10)).await;
    match &result {
        Err(Error::BodyTooLarge { status, .. }) => assert_eq!(status.as_u16(), 502),
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    let err = client
        .get_user()
        .user_id("me")
        .send_raw_any_status()
        .await
        .expect_err("too large");
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");
    let user = client
        .get_user()
        .user_id("u1")
        .send()
        .await
        .expect("a body of exactly the limit");
    assert_eq!(user.id.as_deref().map(str::len), Some(LIMIT - 9));
}

// ---------------------------------------------------------------------------------------------
// Deep nesting

#[tokio::test]
async fn deep_json_nesting_is_a_decode_error_not_a_stack_overflow() {
    const DEPTH: usize = 100_000;
    let open = |s: &str| s.repeat(DEPTH);
    let bodies = [
        open("["),
        open("{\"a\":"),
        // Inside a field typed as JSON (`props`), and inside an unknown field (skipped).
        format!("{{\"id\":\"u1\",\"props\":{{\"a\":{}", open("[")),
        format!("{{\"id\":\"u1\",\"unknown\":{}", open("{\"b\":")),
        // Closed, so that only the depth is wrong.
        format!("{{\"props\":{{\"a\":{}{}}}}}", open("["), "]".repeat(DEPTH)),
    ];
    let server = MockServer::start().await;
    let client = client(&server.uri(), Duration::from_secs(10));
    for body in bodies {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/api/v4/users/me"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body.clone()))
            .mount(&server)
            .await;
        let (result, _) = get_me(&client, Duration::from_secs(10) + MARGIN).await;
        match result {
            Err(Error::Decode { body: kept, source }) => {
                assert_eq!(kept.len(), body.len(), "the body is kept");
                let _ = source.to_string();
            }
            other => panic!(
                "expected a decode error for {}..., got {other:?}",
                &body[..40]
            ),
        }
    }
}

#[tokio::test]
async fn an_error_body_with_deep_nesting_is_a_typed_error_with_a_short_message() {
    const DEPTH: usize = 100_000;
    // (body, the error id when the body is a Mattermost error, else None: UnexpectedStatus)
    let bodies = [
        (format!("{{\"id\":{}", "[".repeat(DEPTH)), None),
        ("{\"detailed_error\":".repeat(DEPTH), None),
        (
            format!("{{\"message\":\"m\",\"extra\":{}", "{\"a\":".repeat(DEPTH)),
            None,
        ),
        // A deep field the error type does not have is skipped (serde_json skips without
        // recursing): still a Mattermost error.
        (
            format!(
                "{{\"id\":\"x\",\"message\":\"m\",\"extra\":{}{}}}",
                "[".repeat(DEPTH),
                "]".repeat(DEPTH)
            ),
            Some("x"),
        ),
    ];
    let server = MockServer::start().await;
    let client = client(&server.uri(), Duration::from_secs(10));
    for (body, error_id) in bodies {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/api/v4/users/me"))
            .respond_with(ResponseTemplate::new(400).set_body_string(body.clone()))
            .mount(&server)
            .await;
        let (result, _) = get_me(&client, Duration::from_secs(10) + MARGIN).await;
        let err = result.expect_err("400");
        match error_id {
            Some(id) => assert_eq!(err.error_id(), Some(id), "{err:?}"),
            None => {
                assert!(matches!(err, Error::UnexpectedStatus { .. }), "{err:?}");
                assert_eq!(err.body().map(|b| b.len()), Some(body.len()));
            }
        }
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        let shown = err.to_string();
        assert!(shown.len() < 1000, "Display is {} bytes", shown.len());
    }
}

// ---------------------------------------------------------------------------------------------
// Wrong types

#[tokio::test]
async fn wrong_types_are_decode_errors_that_keep_the_body() {
    let bodies: [&str; 8] = [
        r#"{"id": 42}"#,
        "",
        r#"{"id": "u1", "create_at": "yesterday"}"#,
        r#"{"id": "u1", "is_bot": "maybe"}"#,
        r#"{"id": "u1", "props": [1, 2]}"#,
        r#"[{"id": "u1"}]"#,
        r#""u1""#,
        r#"{"id": "u1", "create_at": 1e400}"#,
    ];
    let server = MockServer::start().await;
    let client = client(&server.uri(), Duration::from_secs(5));
    for body in bodies {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/api/v4/users/me"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json")
                    .set_body_string(body),
            )
            .mount(&server)
            .await;
        let (result, _) = get_me(&client, Duration::from_secs(5) + MARGIN).await;
        match &result {
            Err(e @ Error::Decode { body: kept, .. }) => {
                assert_eq!(&kept[..], body.as_bytes(), "the body is kept untouched");
                assert!(e.to_string().contains("cannot decode"), "{e}");
                assert!(e.status().is_none());
            }
            other => panic!("expected a decode error for {body}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_error_body_with_wrong_types_is_unexpected_status_with_its_body() {
    let server = MockServer::start().await;
    let body = r#"{"id": 42, "message": ["no"], "status_code": "401"}"#;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(401).set_body_string(body))
        .mount(&server)
        .await;
    let client = client(&server.uri(), Duration::from_secs(5));
    let (result, _) = get_me(&client, Duration::from_secs(5) + MARGIN).await;
    let err = result.expect_err("401");
    assert!(matches!(err, Error::UnexpectedStatus { .. }), "{err:?}");
    assert_eq!(err.body().map(|b| &b[..]), Some(body.as_bytes()));
}

// ---------------------------------------------------------------------------------------------
// Truncated bodies

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_a_transport_error() {
    for status in [200, 500] {
        let url = raw_server(move |mut s| async move {
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"id\":\"u1\""
            );
            let _ = s.write_all(reply.as_bytes()).await;
            let _ = s.shutdown().await;
        })
        .await;
        // A timeout far longer than the test allows: the error must come from the close.
        let client = client(&url, Duration::from_secs(10));
        let (result, took) = get_me(&client, Duration::from_secs(3)).await;
        assert!(
            !transport_is_timeout(&result),
            "status {status}: {result:?}"
        );
        assert!(
            took < Duration::from_secs(3),
            "status {status}: took {took:?}"
        );
    }
}

#[tokio::test]
async fn a_chunked_body_cut_short_is_a_transport_error() {
    let url = replying(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
          a\r\n{\"id\":\"u1\r\n400\r\nonly a few bytes",
    )
    .await;
    let client = client(&url, Duration::from_secs(10));
    let (result, _) = get_me(&client, Duration::from_secs(3)).await;
    assert!(!transport_is_timeout(&result), "{result:?}");
}

// ---------------------------------------------------------------------------------------------
// Slow-loris

/// Sends `head`, then the body one byte per second.
async fn slow_body(mut s: TcpStream, head: String) {
    if s.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if s.write_all(b" ").await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_slow_loris_body_times_out_within_the_timeout() {
    for status in [200, 500] {
        let url = raw_server(move |s| {
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            );
            slow_body(s, head)
        })
        .await;
        let client = client(&url, Duration::from_millis(500));
        let (result, took) = get_me(&client, Duration::from_secs(5)).await;
        assert!(transport_is_timeout(&result), "status {status}: {result:?}");
        assert!(
            took < Duration::from_millis(1500),
            "status {status}: took {took:?}"
        );
    }
}

#[tokio::test]
async fn a_slow_loris_head_times_out_within_the_timeout() {
    let url = raw_server(|mut s| async move {
        for &b in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".iter() {
            if s.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    })
    .await;
    let client = client(&url, Duration::from_millis(500));
    let (result, took) = get_me(&client, Duration::from_secs(5)).await;
    assert!(transport_is_timeout(&result), "{result:?}");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_within_the_timeout() {
    let url = raw_server(|s| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(s);
    })
    .await;
    let client = client(&url, Duration::from_millis(500));
    let (result, took) = get_me(&client, Duration::from_secs(5)).await;
    assert!(transport_is_timeout(&result), "{result:?}");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

/// Informational (1xx) heads forever, as fast as possible: never a final reply.
#[tokio::test]
async fn endless_informational_replies_time_out() {
    let url = raw_server(|mut s| async move {
        let hints = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n".repeat(256);
        while s.write_all(&hints).await.is_ok() {}
    })
    .await;
    let client = client(&url, Duration::from_millis(500));
    let (result, took) = get_me(&client, Duration::from_secs(5)).await;
    assert!(matches!(result, Err(Error::Transport(_))), "{result:?}");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

// ---------------------------------------------------------------------------------------------
// Not HTTP

#[tokio::test]
async fn garbage_instead_of_http_is_a_transport_error() {
    let mut binary = Vec::with_capacity(4096);
    for i in 0..4096u32 {
        binary.push((i.wrapping_mul(2_654_435_761) >> 13) as u8);
    }
    let binary: &'static [u8] = binary.leak();
    let many_headers: &'static [u8] = {
        let mut r = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..10_000 {
            r.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
        }
        r.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        r.leak()
    };
    let huge_header: &'static [u8] = {
        let mut r = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
        r.extend(std::iter::repeat_n(b'a', 2 * MB));
        r.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n{}");
        r.leak()
    };
    let replies: [(&str, &'static [u8]); 11] = [
        ("nothing", b""),
        ("a line of garbage", b"garbage\r\n\r\n"),
        ("binary", binary),
        (
            "a bad status code",
            b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
        ),
        (
            "a four-digit status",
            b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        ),
        (
            "an unknown version",
            b"HTTP/7.3 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        ),
        (
            "a bad content length",
            b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n{}",
        ),
        (
            "two content lengths",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        ),
        (
            "a bad chunk size",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        ),
        ("10,000 headers", many_headers),
        ("a 2 MB header", huge_header),
    ];
    for (what, bytes) in replies {
        let url = replying(bytes).await;
        let client = client(&url, Duration::from_secs(2));
        let started = Instant::now();
        let (result, _) = get_me(&client, Duration::from_secs(6)).await;
        match &result {
            Err(Error::Transport(_)) => {}
            other => panic!("{what}: expected a transport error, got {other:?}"),
        }
        // Connection failures are retried (idempotent GET): a few short backoffs at most.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: took {:?}",
            started.elapsed()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions from the fuzz targets, and hostile option values

/// A 429 whose `X-RateLimit-Reset` is a huge number (read as a Unix time): must be a typed error
/// (or a wait), not a panic. Found by `fuzz/fuzz_targets/rate_limit_headers.rs`: `until_unix_time`
/// in `src/retry.rs` adds the value to `UNIX_EPOCH` with `+`, which panics on overflow (the
/// minimized input, `fuzz/regressions/rate_limit_headers/reset-inf`, is `X-RateLimit-Reset: inf`).
#[tokio::test]
async fn a_huge_rate_limit_reset_is_not_a_panic() {
    for value in ["99999999999999999999", "1e19", "inf", "9223372036854775808"] {
        for retry in [RetryPolicy::default(), RetryPolicy::off()] {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .and(path("/api/v4/users/me"))
                .respond_with(
                    ResponseTemplate::new(429)
                        .insert_header("x-ratelimit-reset", value)
                        .set_body_string("limit exceeded"),
                )
                .mount(&server)
                .await;
            let client = Client::builder(server.uri())
                .token("t")
                .timeout(Duration::from_secs(2))
                .retry(retry.clone())
                .build()
                .expect("client");
            // In its own task, so that a panic is reported as such.
            let call = tokio::spawn(async move { support::rest::me(&client).await.map(|_| ()) });
            let result = tokio::time::timeout(Duration::from_secs(10), call)
                .await
                .expect("the call did not end");
            match result {
                Err(join) => panic!(
                    "X-RateLimit-Reset: {value} (retry enabled: {}): the client panicked: {join}",
                    retry.enabled
                ),
                Ok(result) => {
                    let err = result.expect_err("429");
                    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS), "{err:?}");
                }
            }
        }
    }
}

/// The same through the public header reader (the minimized fuzz input).
#[test]
fn requested_wait_survives_a_huge_reset_value() {
    use matterapi::retry::{RATE_LIMIT_RESET_HEADER, requested_wait};
    for value in ["99999999999999999999", "1e19", "inf", "9223372036854775808"] {
        let mut headers = default_argument(requested_wait);
        headers.insert(
            RATE_LIMIT_RESET_HEADER,
            value.parse().expect("a header value"),
        );
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            requested_wait(&headers, std::time::SystemTime::now())
        }));
        assert!(
            outcome.is_ok(),
            "X-RateLimit-Reset: {value}: requested_wait panicked"
        );
    }
}

/// An empty value of `f`'s first argument type (reqwest's `HeaderMap` for `requested_wait`:
/// neither reqwest nor http is a dev-dependency).
fn default_argument<T: Default, A, R>(_f: fn(&T, A) -> R) -> T {
    T::default()
}

/// Options whose URL reqwest accepts but the websocket URL derivation does not understand give a
/// websocket URL that is not ws/wss (found by reading `Options::websocket_url` while writing the
/// options fuzz target).
#[test]
fn the_websocket_url_of_valid_options_is_ws_or_wss() {
    for url in [
        "https://chat.example.com",
        "HTTPS://chat.example.com",
        "Http://chat.example.com/sub/",
        " https://chat.example.com",
        "http:chat.example.com",
    ] {
        let Ok(options) = Options::new(url).validated() else {
            continue;
        };
        let ws = options.websocket_url();
        assert!(
            ws.starts_with("ws://") || ws.starts_with("wss://"),
            "url `{url}` gives the websocket URL `{ws}`"
        );
    }
}

// ===== path parameters that would change the path =====

/// Values of a path parameter that would make another path: the client must refuse each before
/// sending anything.
const HOSTILE_SEGMENTS: [&str; 9] = [
    "",
    ".",
    "..",
    "../../users/me",
    "a/b",
    "..\\..\\users\\me",
    "a\\b",
    "me\n",
    "a\u{0}b",
];

/// A server that answers every request with 200 `{}`: what reached it is in `received_requests`.
async fn answering_everything() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&server)
        .await;
    server
}

fn assert_invalid_path_parameter(err: &Error, name: &str, value: &str) {
    match err {
        Error::InvalidPathParameter { name: n, .. } => assert_eq!(n, name, "for {value:?}"),
        other => panic!("{value:?}: expected InvalidPathParameter for `{name}`, got {other:?}"),
    }
    assert!(
        err.to_string().contains(&format!("`{name}`")),
        "the message names the parameter: {err}"
    );
}

async fn assert_nothing_sent(server: &MockServer) {
    let got = server.received_requests().await.unwrap_or_default();
    let paths: Vec<String> = got.iter().map(|r| r.url.path().to_owned()).collect();
    assert!(
        paths.is_empty(),
        "nothing may be sent; the server got {paths:?}"
    );
}

#[tokio::test]
async fn a_generated_operation_refuses_a_path_parameter_that_changes_the_path() {
    let server = answering_everything().await;
    let client = client(&server.uri(), Duration::from_secs(5));
    for value in HOSTILE_SEGMENTS {
        let err = client
            .get_user_by_username()
            .username(value)
            .send()
            .await
            .expect_err(value);
        assert_invalid_path_parameter(&err, "username", value);
        // The raw twin and `call()` go through the same check.
        let raw = client.get_user_by_username().username(value).send_raw();
        assert_invalid_path_parameter(&raw.await.expect_err(value), "username", value);
    }
    assert_nothing_sent(&server).await;
}

#[tokio::test]
async fn a_generated_operation_with_two_path_parameters_checks_each() {
    let server = answering_everything().await;
    let client = client(&server.uri(), Duration::from_secs(5));
    for value in HOSTILE_SEGMENTS {
        let first = client
            .get_team_member()
            .team_id(value)
            .user_id("u1")
            .send()
            .await;
        assert_invalid_path_parameter(&first.expect_err(value), "team_id", value);
        let second = client
            .get_team_member()
            .team_id("t1")
            .user_id(value)
            .send()
            .await;
        assert_invalid_path_parameter(&second.expect_err(value), "user_id", value);
    }
    assert_nothing_sent(&server).await;
    // A plain value still goes through, percent-encoded.
    client
        .get_team_member()
        .team_id("t 1")
        .user_id("u1")
        .send()
        .await
        .expect("a plain value");
    let got = server.received_requests().await.unwrap_or_default();
    assert_eq!(got[0].url.path(), "/api/v4/teams/t%201/members/u1");
}

#[tokio::test]
async fn the_file_operations_refuse_an_id_that_changes_the_path() {
    let server = answering_everything().await;
    let client = client(&server.uri(), Duration::from_secs(5));
    for value in HOSTILE_SEGMENTS {
        let err = client.download_file(value).await.expect_err(value);
        assert_invalid_path_parameter(&err, "file_id", value);
        let err = client.get_upload_session(value).await.expect_err(value);
        assert_invalid_path_parameter(&err, "upload_id", value);
        let image = matterapi::files::UploadFile::from_bytes("a.png", &b"png"[..]);
        let err = client
            .set_profile_image(value, image)
            .await
            .expect_err(value);
        assert_invalid_path_parameter(&err, "user_id", value);
    }
    assert_nothing_sent(&server).await;
}

#[tokio::test]
async fn a_raw_path_with_dot_segments_is_refused() {
    let server = answering_everything().await;
    let client = client(&server.uri(), Duration::from_secs(5));
    for path in [
        "/users/../me",
        "/users/..",
        "/../users/me",
        "/users/./me",
        "/users/%2e%2E/me",
        "/users/.%2e/me",
        "/users\\..\\me",
        "/users/me\r\nX-Evil: 1",
    ] {
        let err = client
            .raw(matterapi::Method::GET, path)
            .send()
            .await
            .expect_err(path);
        assert_invalid_path_parameter(&err, "path", path);
    }
    assert_nothing_sent(&server).await;
    // Dots inside a segment are fine.
    client
        .raw(matterapi::Method::GET, "/files/a..b.txt")
        .send()
        .await
        .expect("dots inside a segment");
}

// ===== redirects are not followed =====

/// A second host that records what reaches it.
async fn second_host() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Token", "token-from-the-second-host")
                .set_body_json(serde_json::json!({"id": "evil", "username": "evil"})),
        )
        .mount(&server)
        .await;
    server
}

/// A server that redirects every request to `to` with `status`, keeping the path.
async fn redirecting(status: u16, to: &MockServer) -> MockServer {
    let server = MockServer::start().await;
    let target = to.uri();
    Mock::given(wiremock::matchers::any())
        .respond_with(move |req: &wiremock::Request| {
            ResponseTemplate::new(status)
                .insert_header("Location", format!("{target}{}", req.url.path()).as_str())
        })
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_login_redirected_to_another_host_sends_it_no_credentials() {
    let second = second_host().await;
    let first = redirecting(307, &second).await;
    let client = Client::builder(first.uri())
        .login("alice", "the-password")
        .retry(RetryPolicy::off())
        .build()
        .expect("client");
    let err = client.login().await.expect_err("a redirect is not a login");
    assert_eq!(err.status(), Some(StatusCode::TEMPORARY_REDIRECT), "{err}");
    assert!(client.token().is_none(), "no token was taken");
    assert_eq!(first.received_requests().await.unwrap_or_default().len(), 1);
    assert_eq!(
        second.received_requests().await.unwrap_or_default().len(),
        0,
        "the second host got the login"
    );
}

#[tokio::test]
async fn a_call_with_a_token_redirected_to_another_host_sends_it_nothing() {
    let second = second_host().await;
    for status in [301, 302, 303, 307, 308] {
        let first = redirecting(status, &second).await;
        let client = Client::builder(first.uri())
            .token("the-token")
            .retry(RetryPolicy::off())
            .build()
            .expect("client");
        let err = client.get_user().user_id("me").send().await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err}");
        let raw = client
            .raw(matterapi::Method::GET, "/users/me")
            .send()
            .await
            .expect_err("a redirect is an error");
        assert_eq!(raw.status().map(|s| s.as_u16()), Some(status), "{raw}");
    }
    assert_eq!(
        second.received_requests().await.unwrap_or_default().len(),
        0,
        "the second host got a request"
    );
}

// ===== verify=false is said =====

/// What `f` logs at warn level and above (target `matterapi`).
fn warnings_of(f: impl FnOnce()) -> String {
    let captured = Captured::default();
    let subscriber = logs::subscriber(&captured, tracing::Level::WARN).finish();
    tracing::subscriber::with_default(subscriber, f);
    captured.text()
}

#[test]
fn a_client_without_certificate_verification_warns_once() {
    let log = warnings_of(|| {
        let client = Client::builder("https://127.0.0.1:1")
            .token("the-token")
            .verify(false)
            .build()
            .expect("client");
        let _clone = client.clone();
        let _ = client.options();
    });
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(lines.len(), 1, "one warning: {log}");
    assert!(lines[0].contains("matterapi"), "target matterapi: {log}");
    assert!(lines[0].contains("verif"), "says what is off: {log}");
    assert!(!log.contains("the-token"), "{log}");

    let quiet = warnings_of(|| {
        Client::builder("https://127.0.0.1:1")
            .token("t")
            .build()
            .expect("client");
    });
    assert!(quiet.is_empty(), "no warning with verification on: {quiet}");
}

#[test]
fn a_websocket_without_certificate_verification_warns_once() {
    let log = warnings_of(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = Client::builder("https://127.0.0.1:1")
            .token("the-token")
            .verify(false)
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        // Nothing listens on port 1: the connection fails, after the transport has been built.
        let result = runtime.block_on(client.websocket().connect());
        assert!(result.is_err(), "nothing listens on 127.0.0.1:1");
    });
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(
        lines.len(),
        2,
        "one warning per transport (REST, websocket): {log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("websocket") && l.contains("verif")),
        "the websocket's warning says what is off: {log}"
    );
    assert!(!log.contains("the-token"), "{log}");
}

// ===== a download's file name =====

async fn download_named(disposition: &str) -> matterapi::files::Download {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/files/f1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Disposition", disposition)
                .set_body_bytes(&b"data"[..]),
        )
        .mount(&server)
        .await;
    let client = client(&server.uri(), Duration::from_secs(5));
    client.download_file("f1").await.expect("download")
}

#[tokio::test]
async fn a_download_names_only_a_safe_base_name() {
    let cases: [(&str, Option<&str>, Option<&str>); 10] = [
        (
            "attachment; filename=\"../../../../x/evil.txt\"",
            Some("evil.txt"),
            Some("../../../../x/evil.txt"),
        ),
        (
            "attachment; filename=\"..\\\\..\\\\windows\\\\evil.txt\"",
            Some("evil.txt"),
            Some("..\\..\\windows\\evil.txt"),
        ),
        (
            "attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd",
            Some("passwd"),
            Some("../../etc/passwd"),
        ),
        ("attachment; filename=\"..\"", None, Some("..")),
        ("attachment; filename=\"/\"", None, Some("/")),
        ("attachment; filename=\"x/\"", None, Some("x/")),
        (
            "attachment; filename=\".bashrc\"",
            Some("bashrc"),
            Some(".bashrc"),
        ),
        (
            "attachment; filename*=UTF-8''a%07b%0D%0A.txt",
            Some("ab.txt"),
            Some("a\u{7}b\r\n.txt"),
        ),
        (
            "attachment; filename=\"report 1.pdf\"",
            Some("report 1.pdf"),
            Some("report 1.pdf"),
        ),
        ("attachment; filename=\"\"", None, None),
    ];
    for (disposition, safe, raw) in cases {
        let d = download_named(disposition).await;
        assert_eq!(d.file_name.as_deref(), safe, "{disposition}");
        assert_eq!(d.file_name_unsanitized(), raw, "{disposition}");
    }
}
