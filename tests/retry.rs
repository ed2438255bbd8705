//! The retry policy against loopback fakes (wiremock): what is retried (429 for any method; failed
//! connections and 502/503/504 for idempotent ones), how long the client waits (`Retry-After`,
//! `X-RateLimit-Reset`, backoff with jitter), when it gives up (a wait longer than allowed, the
//! last attempt, a streamed body), and the counters.

mod support;

use std::time::{Duration, Instant, SystemTime};

use matterapi::retry::{RetryPolicy, RetryStats, requested_wait};
use matterapi::{Client, Error, Method, Options, types};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Retries with short backoffs, so that the tests do not wait for nothing.
fn fast() -> RetryPolicy {
    RetryPolicy::default().backoff_between(Duration::from_millis(5), Duration::from_millis(20))
}

/// A client of the server at `uri` that retries as `policy` says.
fn client(uri: &str, policy: RetryPolicy) -> Client {
    support::client_with(uri, "t", |b| b.retry(policy))
}

fn me() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"id": "u1", "username": "alice"}))
}

fn limited() -> ResponseTemplate {
    ResponseTemplate::new(429).set_body_string("limit exceeded")
}

/// Answers `first` `times` times, then `then`, for `verb` on `route`.
async fn mount_sequence(
    server: &MockServer,
    verb: &str,
    route: &str,
    first: ResponseTemplate,
    times: u64,
    then: ResponseTemplate,
) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(first)
        .up_to_n_times(times)
        .expect(times)
        .mount(server)
        .await;
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(then)
        .mount(server)
        .await;
}

/// The user name of `GET /users/me`.
async fn get_me(client: &Client) -> Result<String, Error> {
    let me = support::rest::me(client).await?;
    Ok(me.username.unwrap_or_default())
}

fn post_body() -> types::CreatePostBody {
    types::CreatePostBody {
        channel_id: "c1".into(),
        message: "hi".into(),
        file_ids: vec![],
        metadata: None,
        props: Default::default(),
        root_id: None,
        pending_post_id: None,
        type_: None,
    }
}

#[tokio::test]
async fn a_429_waits_what_retry_after_asks_then_succeeds() {
    let server = MockServer::start().await;
    let first = limited().insert_header("Retry-After", "1");
    mount_sequence(&server, "GET", "/api/v4/users/me", first, 1, me()).await;
    let client = client(&server.uri(), fast());

    let started = Instant::now();
    assert_eq!(get_me(&client).await.expect("retried"), "alice");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited too little"
    );
    let stats = client.retry_stats();
    assert_eq!((stats.retries, stats.rate_limited), (1, 1));
    assert!(stats.waited >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_429_with_only_x_ratelimit_reset_waits_that_many_seconds() {
    let server = MockServer::start().await;
    let first = limited().insert_header("X-RateLimit-Reset", "1");
    mount_sequence(&server, "GET", "/api/v4/users/me", first, 1, me()).await;
    let client = client(&server.uri(), fast());

    let started = Instant::now();
    get_me(&client).await.expect("retried");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited too little"
    );
    assert_eq!(client.retry_stats().retries, 1);
}

#[tokio::test]
async fn a_429_is_retried_for_post_too() {
    let server = MockServer::start().await;
    let first = limited().insert_header("Retry-After", "0");
    let created = ResponseTemplate::new(201).set_body_json(json!({"id": "p1"}));
    mount_sequence(&server, "POST", "/api/v4/posts", first, 2, created).await;
    let client = client(&server.uri(), fast());

    let post = client.create_post().body(post_body()).send().await;
    assert_eq!(post.expect("retried").id.as_deref(), Some("p1"));
    assert_eq!(client.retry_stats().retries, 2);
}

#[tokio::test]
async fn a_wait_longer_than_max_wait_fails_at_once_with_the_wait() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(
            limited()
                .insert_header("Retry-After", "120")
                .insert_header("X-Request-Id", "rq1"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server.uri(), fast().max_wait(Duration::from_secs(30)));

    let started = Instant::now();
    let err = get_me(&client).await.expect_err("rate limited");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not fail at once"
    );
    match &err {
        Error::RateLimited {
            retry_after,
            request_id,
            body,
        } => {
            assert_eq!(*retry_after, Duration::from_secs(120));
            assert_eq!(request_id.as_deref(), Some("rq1"));
            assert_eq!(&body[..], b"limit exceeded");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert!(err.is_retryable());
    assert!(err.to_string().contains("120"), "{err}");
    let stats = client.retry_stats();
    assert_eq!((stats.retries, stats.rate_limited), (0, 1));
    assert_eq!(stats.waited, Duration::ZERO);
}

#[tokio::test]
async fn the_last_attempt_gives_the_rate_limit_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(limited().insert_header("Retry-After", "0"))
        .expect(3)
        .mount(&server)
        .await;
    let client = client(&server.uri(), fast().max_attempts(3));

    let err = get_me(&client).await.expect_err("rate limited");
    assert!(matches!(err, Error::RateLimited { retry_after, .. } if retry_after.is_zero()));
    let stats = client.retry_stats();
    assert_eq!((stats.retries, stats.rate_limited), (2, 3));
}

#[tokio::test]
async fn a_503_is_retried_for_get() {
    let server = MockServer::start().await;
    let unavailable = ResponseTemplate::new(503).set_body_string("down");
    mount_sequence(&server, "GET", "/api/v4/users/me", unavailable, 2, me()).await;
    let client = client(&server.uri(), fast());

    assert_eq!(get_me(&client).await.expect("retried"), "alice");
    assert_eq!(client.retry_stats().retries, 2);
}

#[tokio::test]
async fn a_503_is_not_retried_for_post() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/posts"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server.uri(), fast());

    let err: Error = client
        .create_post()
        .body(post_body())
        .send()
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(client.retry_stats().retries, 0);
}

#[tokio::test]
async fn a_502_and_a_504_are_retried_for_put_and_delete() {
    let server = MockServer::start().await;
    let ok = ResponseTemplate::new(200).set_body_json(json!({"status": "OK"}));
    let bad_gateway = ResponseTemplate::new(502).set_body_string("bad gateway");
    let timeout = ResponseTemplate::new(504).set_body_string("gateway timeout");
    mount_sequence(&server, "PUT", "/api/v4/x", bad_gateway, 1, ok.clone()).await;
    mount_sequence(&server, "DELETE", "/api/v4/x", timeout, 1, ok).await;
    let client = client(&server.uri(), fast());

    client
        .raw(Method::PUT, "/x")
        .json(&json!({}))
        .send()
        .await
        .expect("put");
    client
        .raw(Method::DELETE, "/x")
        .send()
        .await
        .expect("delete");
    assert_eq!(client.retry_stats().retries, 2);
}

#[tokio::test]
async fn retries_can_be_switched_off() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server.uri(), RetryPolicy::off());

    let err = get_me(&client).await.expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(client.retry_stats(), RetryStats::default());
}

#[tokio::test]
async fn max_attempts_bounds_the_tries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .expect(4)
        .mount(&server)
        .await;
    let client = client(&server.uri(), fast().max_attempts(4));

    let err = get_me(&client).await.expect_err("502");
    // The last reply's body is kept, as without retries.
    assert_eq!(
        err.body().map(|b| &b[..]),
        Some(&b"<html>bad gateway</html>"[..])
    );
    assert_eq!(client.retry_stats().retries, 3);
}

#[tokio::test]
async fn max_wait_bounds_the_total_backoff() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let policy = RetryPolicy::default()
        .max_attempts(100)
        .max_wait(Duration::from_millis(300))
        .backoff_between(Duration::from_millis(100), Duration::from_millis(100));
    let client = client(&server.uri(), policy);

    let started = Instant::now();
    get_me(&client).await.expect_err("503");
    assert!(started.elapsed() < Duration::from_secs(3));
    let stats = client.retry_stats();
    assert!(stats.waited <= Duration::from_millis(300), "{stats:?}");
    assert!((3..=6).contains(&stats.retries), "{stats:?}");
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn a_failed_connection_is_retried_until_the_server_comes_up() {
    let port = closed_port();
    let (up_tx, up_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("rebind");
        let server = MockServer::builder().listener(listener).start().await;
        Mock::given(method("GET"))
            .and(path("/api/v4/users/me"))
            .respond_with(me())
            .mount(&server)
            .await;
        let _ = up_tx.send(());
        // Kept alive until the test ends.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(server);
    });
    let policy = RetryPolicy::default()
        .max_attempts(30)
        .backoff_between(Duration::from_millis(50), Duration::from_millis(100));
    let client = client(&format!("http://127.0.0.1:{port}"), policy);

    assert_eq!(get_me(&client).await.expect("connected"), "alice");
    assert!(client.retry_stats().retries >= 1);
    let _ = up_rx.await;
    server.abort();
}

#[tokio::test]
async fn a_failed_connection_is_retried_for_get_but_not_for_post() {
    let port = closed_port();
    let client = client(&format!("http://127.0.0.1:{port}"), fast().max_attempts(3));

    let err = get_me(&client).await.expect_err("refused");
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(client.retry_stats().retries, 2);

    let err: Error = client
        .create_post()
        .body(post_body())
        .send()
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(client.retry_stats().retries, 2, "the POST was retried");
}

#[tokio::test]
async fn a_streamed_body_is_sent_once_and_a_bytes_body_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/uploads/streamed"))
        .respond_with(limited().insert_header("Retry-After", "0"))
        .expect(1)
        .mount(&server)
        .await;
    let first = limited().insert_header("Retry-After", "0");
    let done = ResponseTemplate::new(204);
    mount_sequence(&server, "POST", "/api/v4/uploads/bytes", first, 1, done).await;
    let client = client(&server.uri(), fast());

    let reader = std::io::Cursor::new(b"file data".to_vec());
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(reader));
    let err = client
        .upload_session_data("streamed", body)
        .await
        .expect_err("429");
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(client.retry_stats().retries, 0);

    let done = client
        .upload_session_data("bytes", b"file data".to_vec())
        .await;
    assert_eq!(done.expect("retried"), None);
    assert_eq!(client.retry_stats().retries, 1);
}

#[tokio::test]
async fn multipart_uploads_are_never_replayed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/files"))
        .respond_with(limited().insert_header("Retry-After", "0"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server.uri(), fast());

    let file = matterapi::files::UploadFile::from_bytes("a.txt", "hello");
    let err = client.upload_file("c1", file).await.expect_err("429");
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(client.retry_stats().retries, 0);
}

#[tokio::test]
async fn downloads_and_raw_requests_are_retried() {
    let server = MockServer::start().await;
    let unavailable = ResponseTemplate::new(503);
    let file = ResponseTemplate::new(200).set_body_bytes(b"content".to_vec());
    mount_sequence(
        &server,
        "GET",
        "/api/v4/files/f1",
        unavailable.clone(),
        1,
        file,
    )
    .await;
    let first = limited().insert_header("Retry-After", "0");
    mount_sequence(&server, "POST", "/api/v4/anything", first, 1, me()).await;
    let client = client(&server.uri(), fast());

    let download = client.download_file("f1").await.expect("download");
    assert_eq!(&download.bytes().await.expect("body")[..], b"content");
    let raw = client
        .raw(Method::POST, "/anything")
        .json(&json!({"a": 1}))
        .send()
        .await
        .expect("raw");
    assert_eq!(raw.status.as_u16(), 200);
    assert_eq!(client.retry_stats().retries, 2);
}

#[tokio::test]
async fn send_raw_gives_the_last_reply_after_retries() {
    let server = MockServer::start().await;
    let first = limited().insert_header("Retry-After", "0");
    mount_sequence(&server, "GET", "/api/v4/users/me", first, 1, me()).await;
    let client = client(&server.uri(), fast());

    let raw = client
        .get_user()
        .user_id("me")
        .send_raw()
        .await
        .expect("raw");
    assert_eq!(raw.status.as_u16(), 200);
    assert!(raw.text().contains("alice"));
}

#[tokio::test]
async fn clones_share_the_counters() {
    let server = MockServer::start().await;
    let first = limited().insert_header("Retry-After", "0");
    mount_sequence(&server, "GET", "/api/v4/users/me", first, 1, me()).await;
    let client = client(&server.uri(), fast());
    let clone = client.clone();

    get_me(&clone).await.expect("retried");
    assert_eq!(client.retry_stats().retries, 1);
}

// ----- pure functions -----

#[test]
fn backoff_doubles_within_its_jitter_bounds_up_to_the_cap() {
    let p =
        RetryPolicy::default().backoff_between(Duration::from_millis(100), Duration::from_secs(2));
    for retry in 1..=12u32 {
        let step =
            (Duration::from_millis(100) * 2u32.pow(retry.min(10) - 1)).min(Duration::from_secs(2));
        for fraction in [0.0, 0.1, 0.5, 0.9, 0.999_999] {
            let d = p.backoff(retry, fraction);
            assert!(
                d >= step / 2 && d <= step,
                "retry {retry}, {fraction}: {d:?}"
            );
        }
        assert_eq!(p.backoff(retry, 0.0), step / 2);
    }
    // Out-of-range fractions are brought inside.
    assert_eq!(p.backoff(1, -3.0), Duration::from_millis(50));
    assert_eq!(p.backoff(1, f64::NAN), Duration::from_millis(50));
    assert_eq!(p.backoff(1, 7.0), Duration::from_millis(100));
    assert_eq!(p.backoff(u32::MAX, 0.5), Duration::from_millis(1500));
}

#[test]
fn a_rate_limit_wait_is_the_asked_wait_plus_at_most_one_step() {
    let p =
        RetryPolicy::default().backoff_between(Duration::from_millis(100), Duration::from_secs(5));
    let asked = Duration::from_secs(1);
    for retry in 1..=4u32 {
        let step = Duration::from_millis(100) * 2u32.pow(retry - 1);
        for fraction in [0.0, 0.3, 0.999_999] {
            let d = p.rate_limit_wait(retry, asked, fraction);
            assert!(d >= asked && d <= asked + step, "retry {retry}: {d:?}");
        }
    }
}

#[test]
fn retry_after_is_read_as_seconds_or_as_an_http_date() {
    // Sun, 06 Nov 1994 08:49:37 GMT
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        "retry-after",
        "Sun, 06 Nov 1994 08:50:07 GMT".parse().unwrap(),
    );
    assert_eq!(requested_wait(&h, now), Some(Duration::from_secs(30)));
    // A date in the past: no wait.
    h.insert(
        "retry-after",
        "Sun, 06 Nov 1994 08:00:00 GMT".parse().unwrap(),
    );
    assert_eq!(requested_wait(&h, now), Some(Duration::ZERO));
    h.insert("retry-after", "7".parse().unwrap());
    assert_eq!(requested_wait(&h, now), Some(Duration::from_secs(7)));
}

#[test]
fn only_idempotent_methods_are_idempotent() {
    use matterapi::retry::is_idempotent;
    for m in [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ] {
        assert!(is_idempotent(&m), "{m}");
    }
    for m in [Method::POST, Method::PATCH] {
        assert!(!is_idempotent(&m), "{m}");
    }
}

// ----- options -----

#[test]
fn the_policy_is_on_by_default_and_configurable_from_every_source() {
    let o = Options::new("http://localhost");
    assert_eq!(o.retry, RetryPolicy::default());
    assert!(o.retry.enabled);

    let o = Options::from_json(r#"{"url": "http://localhost", "retry": false}"#).unwrap();
    assert_eq!(o.retry, RetryPolicy::off());

    let o = Options::from_toml(
        "url = \"http://localhost\"\n[retry]\nmax_attempts = 3\nmax_wait = \"10s\"\n",
    )
    .unwrap();
    assert_eq!(
        o.retry,
        RetryPolicy::default()
            .max_attempts(3)
            .max_wait(Duration::from_secs(10))
    );

    let vars = [
        ("MATTERAPI_URL", "http://localhost"),
        ("MATTERAPI_RETRY", "max_attempts=2, initial_backoff=50ms"),
    ];
    let o = Options::from_env_map("MATTERAPI_", vars).unwrap();
    assert_eq!(o.retry.max_attempts, 2);
    assert_eq!(o.retry.initial_backoff, Duration::from_millis(50));

    let vars = [
        ("MATTERAPI_URL", "http://localhost"),
        ("MATTERAPI_RETRY", "off"),
    ];
    assert!(
        !Options::from_env_map("MATTERAPI_", vars)
            .unwrap()
            .retry
            .enabled
    );

    let o = Options::builder("http://localhost")
        .retry(RetryPolicy::off())
        .options()
        .unwrap();
    assert!(!o.retry.enabled);
    assert!(format!("{o:?}").contains("retry: RetryPolicy { enabled: false"));
}

#[test]
fn bad_retry_settings_are_errors_naming_the_field() {
    let err = |r: Result<Options, Error>| r.expect_err("invalid").to_string();
    let e = err(Options::from_toml(
        "url = \"http://localhost\"\n[retry]\nmax_attempts = 0\n",
    ));
    assert!(e.contains("retry.max_attempts"), "{e}");
    let e = err(Options::from_toml(
        "url = \"http://localhost\"\n[retry]\nmax_wait = \"soon\"\n",
    ));
    assert!(e.contains("retry.max_wait"), "{e}");
    let e = err(Options::from_json(
        r#"{"url": "http://localhost", "retry": {"attempts": 3}}"#,
    ));
    assert!(e.contains("retry") && e.contains("attempts"), "{e}");
    let e = err(Options::from_json(
        r#"{"url": "http://localhost", "retry": "often"}"#,
    ));
    assert!(e.contains("`retry`"), "{e}");
    let e = err(Options::builder("http://localhost")
        .retry(
            RetryPolicy::default().backoff_between(Duration::from_secs(2), Duration::from_secs(1)),
        )
        .options());
    assert!(e.contains("retry.max_backoff"), "{e}");
}

/// Running out of file descriptors is a local limit, not a network failure: a connection that
/// fails with EMFILE is not retried (retries would only turn a clear error into a slow one). The
/// test runs itself again in a child process under `ulimit -n 48`, where 100 calls at once through a
/// client allowed 1,000 connections exhaust the descriptors.
#[test]
fn running_out_of_file_descriptors_is_not_retried() {
    const CHILD: &str = "MATTERAPI_TEST_EMFILE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return emfile_child();
    }
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -n 48 && exec "$0" --exact running_out_of_file_descriptors_is_not_retried --nocapture --test-threads 1"#)
        .arg(exe)
        .env(CHILD, "1")
        .output()
        .expect("bash runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the child failed:\n{text}");
    assert!(text.contains("emfile child:"), "the child ran:\n{text}");
}

fn emfile_child() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        // Accepts and holds every connection (never answers), and survives failed accepts.
        tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                match listener.accept().await {
                    Ok((socket, _)) => held.push(socket),
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
        });
        let client = Client::builder(url)
            .token("t")
            .timeout(Duration::from_secs(3))
            .max_connections(1000)
            .retry(
                RetryPolicy::default()
                    .backoff_between(Duration::from_millis(200), Duration::from_millis(400)),
            )
            .build()
            .expect("client");
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..100 {
            let client = client.clone();
            calls.spawn(async move {
                let started = Instant::now();
                let result = get_me(&client).await;
                (result, started.elapsed())
            });
        }
        let mut refused = 0;
        while let Some(done) = calls.join_next().await {
            let (result, took) = done.expect("the call's task");
            if let Err(Error::Transport(e)) = &result
                && e.is_connect()
            {
                refused += 1;
                // Not retried: it fails at once instead of after backoffs.
                assert!(
                    took < Duration::from_millis(150),
                    "a refused call took {took:?}"
                );
            }
        }
        let stats = client.retry_stats();
        println!(
            "emfile child: {refused} calls refused by the descriptor limit, {} retries",
            stats.retries
        );
        assert!(refused > 0, "the descriptor limit was reached");
        assert_eq!(stats.retries, 0, "EMFILE is not retried");
    });
}

/// `Error::is_retryable` follows the policy's rule: a timed-out request (which the server may have
/// processed) is not retried by the policy, so it is not called retryable either; a refused
/// connection is both.
#[tokio::test]
async fn is_retryable_agrees_with_what_the_policy_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(me().set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let slow = Client::builder(server.uri())
        .token("t")
        .retry(fast())
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let err = get_me(&slow).await.expect_err("timeout");
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(!err.is_retryable(), "a timeout is not retried: {err:?}");
    assert_eq!(slow.retry_stats().retries, 0);

    // Port 9 on loopback: nothing listens, the connection is refused.
    let refused = client("http://127.0.0.1:9", RetryPolicy::off());
    let err = get_me(&refused).await.expect_err("refused");
    assert!(
        err.is_retryable(),
        "a refused connection is retried: {err:?}"
    );
}
