//! The options layer against loopback servers: TLS with a CA made in the test (trusted through
//! `ca_cert`, or not verified at all), mutual TLS with a client certificate, an HTTP proxy that is
//! really used (and one from the environment that is not, when told so), a server under a sub-path
//! with a custom basepath, request timeouts; and the options themselves: parsed from JSON, TOML and
//! environment-style maps, their defaults, the websocket URL, bad values as `Error::Config` naming
//! the field, and secrets that never show in `Debug`.

mod support;

use std::sync::RwLock;
use std::time::{Duration, Instant};

use matterapi::{Auth, Client, ClientBuilder, Error, Options, Proxies};
use secrecy::ExposeSecret;
use serde_json::json;
use support::rest::me;
use support::tls::{Pki, TempDir, http_proxy, https_server, seen};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "tok-5f3a9c1e7b2d4860";
const PASSWORD: &str = "pw-Correct-Horse-Battery";
const MFA: &str = "739164";
const USER: &str = r#"{"id":"u1","username":"alice","email":"alice@example.com"}"#;

/// Proxy settings come from the process environment when a client is built; the one test that
/// changes the environment holds this for writing, every other client is built holding it for
/// reading.
static ENV: RwLock<()> = RwLock::new(());

fn build(builder: ClientBuilder) -> matterapi::Result<Client> {
    let _env = ENV.read().unwrap_or_else(|e| e.into_inner());
    builder.build()
}

fn from_options(options: Options) -> matterapi::Result<Client> {
    let _env = ENV.read().unwrap_or_else(|e| e.into_inner());
    Client::from_options(options)
}

async fn user_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(USER, "application/json"))
        .mount(&server)
        .await;
    server
}

// ---------------------------------------------------------------------------------------------
// TLS

#[tokio::test]
async fn self_signed_server_is_refused_with_default_options() {
    let pki = Pki::new();
    let server = https_server(&pki, false, USER).await;
    let client = build(Client::builder(server.url()).token(TOKEN)).expect("client");
    let err = me(&client)
        .await
        .expect_err("an unknown CA must not be trusted");
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(seen(&server.requests).is_empty(), "no request got through");
}

#[tokio::test]
async fn ca_cert_file_makes_the_self_signed_server_trusted() {
    let pki = Pki::new();
    let dir = TempDir::new("ca");
    let ca = dir.write("ca.pem", &pki.ca_pem);
    let server = https_server(&pki, false, USER).await;
    let client = build(Client::builder(server.url()).token(TOKEN).ca_cert(ca)).expect("client");
    let user = me(&client).await.expect("trusted through ca_cert");
    assert_eq!(user.username.as_deref(), Some("alice"));
    assert_eq!(
        seen(&server.requests),
        vec!["GET /api/v4/users/me HTTP/1.1".to_owned()]
    );
}

#[tokio::test]
async fn ca_cert_also_trusts_the_server_by_its_localhost_name() {
    let pki = Pki::new();
    let dir = TempDir::new("ca-localhost");
    let ca = dir.write("ca.pem", &pki.ca_pem);
    let server = https_server(&pki, false, USER).await;
    let url = format!("https://localhost:{}", server.port);
    let client = build(Client::builder(url).token(TOKEN).ca_cert(ca)).expect("client");
    // `localhost` may resolve to ::1 first, where nothing listens: reqwest then tries 127.0.0.1.
    me(&client).await.expect("trusted by name");
}

#[tokio::test]
async fn verify_false_accepts_the_self_signed_server_without_its_ca() {
    let pki = Pki::new();
    let server = https_server(&pki, false, USER).await;
    let client = build(Client::builder(server.url()).token(TOKEN).verify(false)).expect("client");
    let user = me(&client).await.expect("verification off");
    assert_eq!(user.id.as_deref(), Some("u1"));
}

// ---------------------------------------------------------------------------------------------
// Mutual TLS

#[tokio::test]
async fn mutual_tls_server_refuses_a_client_without_certificate() {
    let pki = Pki::new();
    let dir = TempDir::new("mtls-none");
    let ca = dir.write("ca.pem", &pki.ca_pem);
    let server = https_server(&pki, true, USER).await;
    let client = build(Client::builder(server.url()).token(TOKEN).ca_cert(ca)).expect("client");
    let err = me(&client).await.expect_err("no client certificate");
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(seen(&server.requests).is_empty());
    assert!(
        !seen(&server.refused).is_empty(),
        "the server refused the handshake"
    );
}

#[tokio::test]
async fn mutual_tls_with_client_cert_and_key_files() {
    let pki = Pki::new();
    let dir = TempDir::new("mtls-pair");
    let ca = dir.write("ca.pem", &pki.ca_pem);
    let cert = dir.write("client.pem", &pki.client.cert_pem);
    let key = dir.write("client.key", &pki.client.key_pem);
    let server = https_server(&pki, true, USER).await;
    let client = build(
        Client::builder(server.url())
            .token(TOKEN)
            .ca_cert(ca)
            .client_cert(cert, Some(key)),
    )
    .expect("client");
    let user = me(&client).await.expect("client certificate accepted");
    assert_eq!(user.username.as_deref(), Some("alice"));
    let chains = seen(&server.client_chains);
    assert_eq!(chains.len(), 1, "one connection with a client certificate");
    assert_eq!(chains[0].first(), Some(&pki.client.cert_der));
}

#[tokio::test]
async fn mutual_tls_with_cert_and_key_in_one_file() {
    let pki = Pki::new();
    let dir = TempDir::new("mtls-one");
    let ca = dir.write("ca.pem", &pki.ca_pem);
    let both = dir.write(
        "client-with-key.pem",
        format!("{}{}", pki.client.cert_pem, pki.client.key_pem),
    );
    let server = https_server(&pki, true, USER).await;
    let client = build(
        Client::builder(server.url())
            .token(TOKEN)
            .ca_cert(ca)
            .client_cert(both, None),
    )
    .expect("client");
    me(&client).await.expect("client certificate accepted");
    let chains = seen(&server.client_chains);
    assert_eq!(chains.len(), 1);
    assert_eq!(chains[0].first(), Some(&pki.client.cert_der));
}

// ---------------------------------------------------------------------------------------------
// Proxies

#[tokio::test]
async fn explicit_http_proxy_carries_the_request() {
    let server = user_server().await;
    let proxy = http_proxy().await;
    let mut options = Options::new(server.uri());
    options.auth = Some(Auth::token(TOKEN));
    options.proxies.http = Some(proxy.url.clone());
    options.proxies.from_env = false;
    let client = from_options(options).expect("client");
    let user = me(&client).await.expect("through the proxy");
    assert_eq!(user.username.as_deref(), Some("alice"));
    assert_eq!(
        seen(&proxy.request_lines),
        vec![format!("GET {}/api/v4/users/me HTTP/1.1", server.uri())]
    );
}

#[tokio::test]
async fn builder_proxy_is_used_for_every_url() {
    let server = user_server().await;
    let proxy = http_proxy().await;
    let client =
        build(Client::builder(server.uri()).token(TOKEN).proxy(&proxy.url)).expect("client");
    me(&client).await.expect("through the proxy");
    assert_eq!(
        seen(&proxy.request_lines),
        vec![format!("GET {}/api/v4/users/me HTTP/1.1", server.uri())]
    );
}

#[tokio::test]
async fn https_only_proxy_is_not_used_for_an_http_server() {
    let server = user_server().await;
    let proxy = http_proxy().await;
    let mut proxies = Proxies::default();
    proxies.https = Some(proxy.url.clone());
    proxies.from_env = false;
    let client =
        build(Client::builder(server.uri()).token(TOKEN).proxies(proxies)).expect("client");
    me(&client).await.expect("direct");
    assert!(seen(&proxy.request_lines).is_empty());
}

#[tokio::test]
async fn no_proxy_host_bypasses_the_explicit_proxy() {
    let server = user_server().await;
    let proxy = http_proxy().await;
    let mut proxies = Proxies::default();
    proxies.http = Some(proxy.url.clone());
    proxies.no_proxy = Some("127.0.0.1".into());
    proxies.from_env = false;
    let client =
        build(Client::builder(server.uri()).token(TOKEN).proxies(proxies)).expect("client");
    me(&client).await.expect("direct");
    assert!(seen(&proxy.request_lines).is_empty());
}

/// Sets environment variables for as long as it lives, then puts the old values back.
struct EnvVars(Vec<(&'static str, Option<String>)>);

impl EnvVars {
    /// Caller holds `ENV` for writing.
    fn set(vars: &[(&'static str, Option<&str>)]) -> EnvVars {
        let saved = vars
            .iter()
            .map(|(name, _)| (*name, std::env::var(name).ok()))
            .collect();
        for (name, value) in vars {
            put(name, *value);
        }
        EnvVars(saved)
    }
}

impl Drop for EnvVars {
    fn drop(&mut self) {
        for (name, value) in &self.0 {
            put(name, value.as_deref());
        }
    }
}

fn put(name: &str, value: Option<&str>) {
    // SAFETY: every client of this test binary is built holding `ENV`, and the environment is only
    // changed holding it for writing; nothing else here reads these variables.
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

#[tokio::test]
async fn http_proxy_from_the_environment_is_used_only_when_from_env_is_on() {
    let server = user_server().await;
    let proxy = http_proxy().await;
    let (ignoring, honouring) = {
        let _env = ENV.write().unwrap_or_else(|e| e.into_inner());
        let _vars = EnvVars::set(&[
            ("HTTP_PROXY", Some(&proxy.url)),
            ("http_proxy", None),
            ("ALL_PROXY", None),
            ("all_proxy", None),
            ("NO_PROXY", None),
            ("no_proxy", None),
        ]);
        let mut off = Proxies::default();
        off.from_env = false;
        let ignoring = Client::builder(server.uri())
            .token(TOKEN)
            .proxies(off)
            .build();
        let honouring = Client::builder(server.uri()).token(TOKEN).build();
        (ignoring, honouring)
    };

    me(&ignoring.expect("client with from_env = false"))
        .await
        .expect("direct");
    assert!(
        seen(&proxy.request_lines).is_empty(),
        "HTTP_PROXY was used although proxies.from_env = false"
    );

    me(&honouring.expect("client with the default from_env"))
        .await
        .expect("through the proxy from HTTP_PROXY");
    assert_eq!(
        seen(&proxy.request_lines),
        vec![format!("GET {}/api/v4/users/me HTTP/1.1", server.uri())]
    );
}

// ---------------------------------------------------------------------------------------------
// Sub-path and basepath, timeout

#[tokio::test]
async fn custom_basepath_under_a_sub_path_is_where_requests_go() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/chat/custom/v4/users/me"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_raw(USER, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let client = build(
        Client::builder(format!("{}/chat", server.uri()))
            .token(TOKEN)
            .basepath("/custom/v4"),
    )
    .expect("client");
    let user = me(&client).await.expect("user");
    assert_eq!(user.username.as_deref(), Some("alice"));
}

#[tokio::test]
async fn user_agent_is_sent_default_or_configured() {
    let server = MockServer::start().await;
    let default_ua = concat!("matterapi-rust/", env!("CARGO_PKG_VERSION"));
    for ua in [default_ua, "tests/1.0"] {
        Mock::given(method("GET"))
            .and(path("/api/v4/users/me"))
            .and(header("user-agent", ua))
            .respond_with(ResponseTemplate::new(200).set_body_raw(USER, "application/json"))
            .expect(1)
            .mount(&server)
            .await;
    }
    let default = build(Client::builder(server.uri()).token(TOKEN)).expect("client");
    me(&default).await.expect("default user agent");
    let custom = build(
        Client::builder(server.uri())
            .token(TOKEN)
            .user_agent("tests/1.0"),
    )
    .expect("client");
    me(&custom).await.expect("configured user agent");
}

#[tokio::test]
async fn request_timeout_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(USER, "application/json")
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let client = build(
        Client::builder(server.uri())
            .token(TOKEN)
            .timeout(Duration::from_millis(300)),
    )
    .expect("client");
    let started = Instant::now();
    let err = me(&client).await.expect_err("the server is too slow");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    match &err {
        Error::Transport(e) => assert!(e.is_timeout(), "{e:?}"),
        other => panic!("expected Error::Transport, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing and defaults

#[test]
fn defaults() {
    let o = Options::new("https://chat.example.com");
    assert_eq!(o.timeout, Duration::from_secs(10));
    assert!(o.verify);
    assert_eq!(o.basepath, "/api/v4");
    assert!(o.ws_concurrent);
    assert_eq!(o.ws_max_in_flight, 16);
    assert_eq!(o.ws_reconnect_wait_time, Duration::from_secs(5));
    assert!(!o.skip_response_parsing);
    assert_eq!(o.max_body_size, 64 * 1024 * 1024);
    assert_eq!(o.max_connections, 64);
    assert!(!o.debug);
    assert!(o.auth.is_none() && o.ws_url.is_none() && o.user_agent.is_none());
    assert!(o.ca_cert.is_none() && o.client_cert.is_none() && o.client_key.is_none());
    assert!(o.proxies.from_env);
    assert!(o.proxies.http.is_none() && o.proxies.https.is_none() && o.proxies.all.is_none());
    // JSON with only the URL gives the same.
    let j = Options::from_json(r#"{"url": "https://chat.example.com"}"#).expect("json");
    assert_eq!(format!("{j:?}"), format!("{o:?}"));
}

#[test]
fn json_with_every_field() {
    let o = Options::from_json(
        r#"{
            "url": "https://chat.example.com/team",
            "ws_url": "wss://push.example.com/socket",
            "basepath": "/api/v5",
            "auth": {"login_id": "alice", "password": "pw-Correct-Horse-Battery", "mfa_token": "739164"},
            "timeout": "500ms",
            "verify": false,
            "ca_cert": "certs/ca.pem",
            "client_cert": "certs/client.pem",
            "client_key": "certs/client.key",
            "proxies": {
                "http": "http://127.0.0.1:3128",
                "https": "http://127.0.0.1:3129",
                "all": "socks5://127.0.0.1:1080",
                "no_proxy": "localhost,.internal",
                "from_env": false
            },
            "user_agent": "tests/1.0",
            "debug": true,
            "ws_concurrent": false,
            "ws_max_in_flight": 4,
            "ws_reconnect_wait_time": "2m",
            "skip_response_parsing": true
        }"#,
    )
    .expect("options");
    assert_eq!(o.url, "https://chat.example.com/team");
    assert_eq!(o.ws_url.as_deref(), Some("wss://push.example.com/socket"));
    assert_eq!(o.basepath, "/api/v5");
    match &o.auth {
        Some(Auth::Login {
            login_id,
            password,
            mfa_token,
            ..
        }) => {
            assert_eq!(login_id, "alice");
            assert_eq!(password.expose_secret(), PASSWORD);
            assert_eq!(mfa_token.as_ref().map(|m| m.expose_secret()), Some(MFA));
        }
        other => panic!("expected login auth, got {other:?}"),
    }
    assert_eq!(o.timeout, Duration::from_millis(500));
    assert!(!o.verify);
    assert_eq!(o.ca_cert.as_deref(), Some("certs/ca.pem".as_ref()));
    assert_eq!(o.client_cert.as_deref(), Some("certs/client.pem".as_ref()));
    assert_eq!(o.client_key.as_deref(), Some("certs/client.key".as_ref()));
    assert_eq!(o.proxies.http.as_deref(), Some("http://127.0.0.1:3128"));
    assert_eq!(o.proxies.https.as_deref(), Some("http://127.0.0.1:3129"));
    assert_eq!(o.proxies.all.as_deref(), Some("socks5://127.0.0.1:1080"));
    assert_eq!(o.proxies.no_proxy.as_deref(), Some("localhost,.internal"));
    assert!(!o.proxies.from_env);
    assert_eq!(o.user_agent.as_deref(), Some("tests/1.0"));
    assert!(o.debug);
    assert!(!o.ws_concurrent);
    assert_eq!(o.ws_max_in_flight, 4);
    assert_eq!(o.ws_reconnect_wait_time, Duration::from_secs(120));
    assert!(o.skip_response_parsing);
}

#[test]
fn json_token_auth() {
    let o = Options::from_json(
        &json!({"url": "http://127.0.0.1:8065", "auth": {"token": TOKEN}}).to_string(),
    )
    .expect("options");
    match &o.auth {
        Some(Auth::Token { token }) => assert_eq!(token.expose_secret(), TOKEN),
        other => panic!("expected token auth, got {other:?}"),
    }
}

#[test]
fn env_map() {
    let o = Options::from_env_map(
        "MATTERAPI_",
        [
            ("MATTERAPI_URL", "https://chat.example.com"),
            ("MATTERAPI_TIMEOUT", "2.5"),
            ("MATTERAPI_VERIFY", "false"),
            ("MATTERAPI_TOKEN", TOKEN),
            ("MATTERAPI_PROXIES_HTTPS", "http://127.0.0.1:3128"),
            ("MATTERAPI_PROXIES_FROM_ENV", "no"),
            ("MATTERAPI_WS_MAX_IN_FLIGHT", "8"),
            ("MATTERAPI_MAX_BODY_SIZE", "1048576"),
            ("MATTERAPI_MAX_CONNECTIONS", "8"),
            ("MATTERAPI_WS_RECONNECT_WAIT_TIME", "10s"),
            ("HOME", "not ours: ignored"),
            ("OTHER_TIMEOUT", "not a duration: ignored"),
        ],
    )
    .expect("options");
    assert_eq!(o.url, "https://chat.example.com");
    assert_eq!(o.timeout, Duration::from_millis(2500));
    assert!(!o.verify);
    match &o.auth {
        Some(Auth::Token { token }) => assert_eq!(token.expose_secret(), TOKEN),
        other => panic!("expected token auth, got {other:?}"),
    }
    assert_eq!(o.proxies.https.as_deref(), Some("http://127.0.0.1:3128"));
    assert!(!o.proxies.from_env);
    assert_eq!(o.ws_max_in_flight, 8);
    assert_eq!(o.max_body_size, 1 << 20);
    assert_eq!(o.max_connections, 8);
    assert_eq!(o.ws_reconnect_wait_time, Duration::from_secs(10));
}

#[test]
fn max_connections_must_be_at_least_one() {
    let err = Options::from_json(r#"{"url": "https://chat.example.com", "max_connections": 0}"#)
        .and_then(|o| o.validated())
        .expect_err("refused");
    assert!(err.to_string().contains("max_connections"), "{err}");
    // A huge value is accepted (capped internally), not a panic.
    let client = matterapi::Client::builder("https://chat.example.com")
        .max_connections(usize::MAX)
        .build();
    assert!(client.is_ok());
}

#[test]
fn max_body_size_must_be_a_positive_whole_number() {
    for (value, says) in [
        (json!(0), "at least 1 byte"),
        (json!(-1), "max_body_size"),
        (json!("64MiB"), "a whole number"),
    ] {
        let err = Options::from_json(
            &json!({"url": "https://chat.example.com", "max_body_size": value}).to_string(),
        )
        .and_then(|o| o.validated())
        .expect_err("refused");
        let msg = err.to_string();
        assert!(
            msg.contains("max_body_size") && msg.contains(says),
            "{value}: {msg}"
        );
    }
}

#[test]
fn env_map_login_with_mfa() {
    let o = Options::from_env_map(
        "MATTERAPI_",
        [
            ("MATTERAPI_URL", "http://127.0.0.1:8065"),
            ("MATTERAPI_LOGIN_ID", "alice"),
            ("MATTERAPI_PASSWORD", PASSWORD),
            ("MATTERAPI_MFA_TOKEN", MFA),
        ],
    )
    .expect("options");
    match &o.auth {
        Some(Auth::Login {
            login_id,
            password,
            mfa_token,
            ..
        }) => {
            assert_eq!(login_id, "alice");
            assert_eq!(password.expose_secret(), PASSWORD);
            assert_eq!(mfa_token.as_ref().map(|m| m.expose_secret()), Some(MFA));
        }
        other => panic!("expected login auth, got {other:?}"),
    }
}

#[test]
fn toml_file() {
    let text = r#"
        url = "https://chat.example.com/mm"
        basepath = "/api/v4"
        timeout = 2.5
        verify = false
        ca_cert = "ca.pem"
        ws_concurrent = false
        ws_reconnect_wait_time = "500ms"

        [auth]
        token = "tok-5f3a9c1e7b2d4860"

        [proxies]
        https = "http://127.0.0.1:3128"
        from_env = false
    "#;
    let o: Options = toml::from_str(text).expect("toml");
    let o = o.validated().expect("valid");
    assert_eq!(o.url, "https://chat.example.com/mm");
    assert_eq!(o.timeout, Duration::from_millis(2500));
    assert!(!o.verify);
    assert_eq!(o.ca_cert.as_deref(), Some("ca.pem".as_ref()));
    assert!(!o.ws_concurrent);
    assert_eq!(o.ws_reconnect_wait_time, Duration::from_millis(500));
    match &o.auth {
        Some(Auth::Token { token }) => assert_eq!(token.expose_secret(), TOKEN),
        other => panic!("expected token auth, got {other:?}"),
    }
    assert_eq!(o.proxies.https.as_deref(), Some("http://127.0.0.1:3128"));
    assert!(!o.proxies.from_env);
    // Defaults fill what the file leaves out.
    assert_eq!(o.ws_max_in_flight, 16);
    assert!(!o.skip_response_parsing);
}

#[test]
fn toml_integer_timeout_is_seconds() {
    let o: Options =
        toml::from_str("url = \"http://127.0.0.1:8065\"\ntimeout = 3\n").expect("toml");
    assert_eq!(
        o.validated().expect("valid").timeout,
        Duration::from_secs(3)
    );
}

#[test]
fn duration_forms() {
    for (value, expected) in [
        (json!("500ms"), Duration::from_millis(500)),
        (json!("10s"), Duration::from_secs(10)),
        (json!("2m"), Duration::from_secs(120)),
        (json!("1.5"), Duration::from_millis(1500)),
        (json!(" 250ms "), Duration::from_millis(250)),
        (json!(7), Duration::from_secs(7)),
        (json!(0.25), Duration::from_millis(250)),
    ] {
        let text = json!({"url": "http://127.0.0.1:8065", "timeout": value}).to_string();
        let o = Options::from_json(&text).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(o.timeout, expected, "{value}");
    }
}

#[test]
fn websocket_url_is_derived_from_the_url() {
    let ws = |url: &str| Options::new(url).websocket_url();
    assert_eq!(
        ws("http://127.0.0.1:8065"),
        "ws://127.0.0.1:8065/api/v4/websocket"
    );
    assert_eq!(
        ws("https://chat.example.com"),
        "wss://chat.example.com/api/v4/websocket"
    );
    assert_eq!(
        ws("https://example.com/chat/"),
        "wss://example.com/chat/api/v4/websocket"
    );
    let custom = Options::builder("https://example.com/chat")
        .basepath("/custom/v4/")
        .options()
        .expect("options");
    assert_eq!(
        custom.websocket_url(),
        "wss://example.com/chat/custom/v4/websocket"
    );
    let explicit = Options::builder("https://example.com/chat")
        .ws_url("wss://push.example.com/ws")
        .options()
        .expect("options");
    assert_eq!(explicit.websocket_url(), "wss://push.example.com/ws");
}

// ---------------------------------------------------------------------------------------------
// Bad values

/// A text that a bad value's `Error::Config` message must contain: as written, or in any letter
/// case.
enum Says {
    Exactly(String),
    AnyCase(&'static str),
}

/// Each of `texts`, as written.
fn says(texts: &[&str]) -> Vec<Says> {
    texts
        .iter()
        .map(|t| Says::Exactly((*t).to_owned()))
        .collect()
}

/// A result with its value shown (`Debug`), so that the rows of a table have one type.
fn shown<T: std::fmt::Debug>(result: matterapi::Result<T>) -> matterapi::Result<String> {
    result.map(|value| format!("{value:?}"))
}

/// Checks each row of a table of bad values: the outcome is `Error::Config` and its message
/// contains every text of the row; every failure names the row.
fn assert_config_errors(rows: Vec<(&str, matterapi::Result<String>, Vec<Says>)>) {
    for (case, outcome, expected) in rows {
        let message = match outcome {
            Err(Error::Config(message)) => message,
            other => panic!("{case}: expected Error::Config, got {other:?}"),
        };
        for text in expected {
            match text {
                Says::Exactly(text) => assert!(message.contains(&text), "{case}: {message}"),
                Says::AnyCase(text) => {
                    assert!(message.to_lowercase().contains(text), "{case}: {message}")
                }
            }
        }
    }
}

#[test]
fn bad_option_values_are_config_errors_naming_the_field() {
    let from_json = |text: &str| shown(Options::from_json(text));
    let from_env = |name: &str, value: &str| {
        shown(Options::from_env_map(
            "MATTERAPI_",
            [("MATTERAPI_URL", "http://127.0.0.1:8065"), (name, value)],
        ))
    };
    // A value too big for a `Duration` must be an error, not a panic.
    let from_json_unwinding = |text: &str| {
        let result = std::panic::catch_unwind(|| Options::from_json(text));
        shown(result.unwrap_or_else(|_| panic!("from_json panicked on {text}")))
    };
    let mut bad_proxy = Proxies::default();
    bad_proxy.http = Some("not a proxy url".into());
    let rows = vec![
        (
            "a url that is not a URL names url",
            shown(Options::builder("chat example").options()),
            says(&["`url`", "chat example"]),
        ),
        (
            "an ftp url names url and the schemes",
            shown(Options::builder("ftp://chat.example.com").options()),
            says(&["`url`", "http or https"]),
        ),
        (
            "a ws_url with an http scheme names ws_url",
            shown(
                Options::builder("https://chat.example.com")
                    .ws_url("https://chat.example.com/ws")
                    .options(),
            ),
            says(&["`ws_url`", "ws or wss"]),
        ),
        (
            "a basepath without a slash names basepath",
            shown(
                Options::builder("https://chat.example.com")
                    .basepath("api/v4")
                    .options(),
            ),
            says(&["`basepath`"]),
        ),
        (
            "a negative timeout in JSON is a config error",
            from_json(r#"{"url": "http://127.0.0.1:8065", "timeout": -1}"#),
            says(&["zero or more"]),
        ),
        (
            "a negative timeout in JSON names timeout",
            from_json(r#"{"url": "http://127.0.0.1:8065", "timeout": -1}"#),
            says(&["timeout"]),
        ),
        (
            "a zero timeout names timeout",
            shown(
                Options::builder("http://127.0.0.1:8065")
                    .timeout(Duration::ZERO)
                    .options(),
            ),
            says(&["`timeout`", "zero"]),
        ),
        (
            "a zero timeout in JSON names timeout",
            from_json(r#"{"url": "http://127.0.0.1:8065", "timeout": "0ms"}"#),
            says(&["`timeout`"]),
        ),
        (
            "an unknown field in JSON is named",
            from_json(r#"{"url": "http://127.0.0.1:8065", "tiemout": 3}"#),
            says(&["tiemout"]),
        ),
        (
            "an unknown field in an env map is named",
            from_env("MATTERAPI_TIEMOUT", "3"),
            says(&["tiemout"]),
        ),
        (
            "a bad proxy url names the proxy field",
            shown(
                Options::builder("http://127.0.0.1:8065")
                    .proxies(bad_proxy)
                    .options(),
            ),
            says(&["`proxies.http`", "not a proxy url"]),
        ),
        (
            "a bad bool in an env map is a config error",
            from_env("MATTERAPI_VERIFY", "maybe"),
            says(&["maybe", "boolean"]),
        ),
        (
            "a bad bool in an env map names verify",
            from_env("MATTERAPI_VERIFY", "maybe"),
            vec![Says::AnyCase("verify")],
        ),
        (
            "a timeout of 1e20 seconds is too big for a duration",
            from_json_unwinding(r#"{"url": "http://127.0.0.1:8065", "timeout": 1e20}"#),
            says(&["timeout"]),
        ),
        (
            "a timeout of \"1e20s\" is too big for a duration",
            from_json_unwinding(r#"{"url": "http://127.0.0.1:8065", "timeout": "1e20s"}"#),
            says(&["timeout"]),
        ),
        (
            "a timeout of u64::MAX seconds is too big for a duration",
            from_json_unwinding(
                r#"{"url": "http://127.0.0.1:8065", "timeout": 18446744073709551615}"#,
            ),
            says(&["timeout"]),
        ),
        (
            "an empty token names auth.token",
            shown(
                Options::builder("http://127.0.0.1:8065")
                    .token("")
                    .options(),
            ),
            says(&["`auth.token`"]),
        ),
    ];
    assert_config_errors(rows);
}

#[test]
fn bad_tls_files_are_config_errors_naming_the_field() {
    let pki = Pki::new();
    let dir = TempDir::new("tls-bad");
    let missing = dir.path().join("no-such-ca.pem");
    let garbage = dir.write("ca.pem", "this is not a certificate\n");
    let cert = dir.write("client.pem", &pki.client.cert_pem);
    let mut key_alone = Options::new("https://127.0.0.1:1");
    key_alone.client_key = Some("client.key".into());
    let rows = vec![
        (
            "an unreadable ca_cert names ca_cert and the path",
            shown(build(
                Client::builder("https://127.0.0.1:1").ca_cert(&missing),
            )),
            says(&["`ca_cert`", &missing.display().to_string()]),
        ),
        (
            "a ca_cert that is not PEM names ca_cert and the path",
            shown(build(
                Client::builder("https://127.0.0.1:1").ca_cert(&garbage),
            )),
            says(&["`ca_cert`", &garbage.display().to_string()]),
        ),
        (
            "a client_cert without its key is a config error",
            shown(build(
                Client::builder("https://127.0.0.1:1").client_cert(cert, None),
            )),
            says(&["client_cert"]),
        ),
        (
            "a client_key without client_cert names both",
            shown(key_alone.validated()),
            says(&["`client_key`", "client_cert"]),
        ),
    ];
    assert_config_errors(rows);
}

// ---------------------------------------------------------------------------------------------
// Secrets

fn assert_hidden(shown: &str) {
    for secret in [TOKEN, PASSWORD, MFA] {
        assert!(!shown.contains(secret), "{secret} shows in {shown}");
    }
    assert!(shown.contains("[redacted]"), "{shown}");
}

#[test]
fn token_never_shows_in_debug_of_options_or_client() {
    let options = Options::builder("http://127.0.0.1:8065")
        .token(TOKEN)
        .options()
        .expect("options");
    assert_hidden(&format!("{options:?}"));
    assert_hidden(&format!("{options:#?}"));
    let client = from_options(options).expect("client");
    assert_hidden(&format!("{client:?}"));
    let token = format!("{:?}", client.token());
    assert!(
        token.starts_with("Some(") && !token.contains(TOKEN),
        "{token}"
    );
}

#[test]
fn password_and_mfa_code_never_show_in_debug_of_options_or_client() {
    let options = Options::builder("http://127.0.0.1:8065")
        .login_mfa("alice", PASSWORD, MFA)
        .options()
        .expect("options");
    let shown = format!("{options:?}");
    assert_hidden(&shown);
    assert!(
        shown.contains("alice"),
        "the login id is no secret: {shown}"
    );
    let client = from_options(options).expect("client");
    assert_hidden(&format!("{client:?}"));
    assert_hidden(&format!("{client:#?}"));

    let parsed = Options::from_json(
        &json!({"url": "http://127.0.0.1:8065", "auth": {"login_id": "alice", "password": PASSWORD, "mfa_token": MFA}})
            .to_string(),
    )
    .expect("options");
    assert_hidden(&format!("{parsed:?}"));
    assert_hidden(&format!("{:?}", Auth::login("alice", PASSWORD)));
}

#[test]
fn proxy_credentials_never_show_in_debug_of_options() {
    let mut proxies = Proxies::default();
    proxies.https = Some("http://proxyuser:Proxy-Pass-77@127.0.0.1:3128".into());
    let options = Options::builder("https://chat.example.com")
        .proxies(proxies)
        .options()
        .expect("options");
    let shown = format!("{options:?}");
    assert!(!shown.contains("Proxy-Pass-77"), "{shown}");
}
