//! Shared test support: the live Mattermost test server's connection details (here), and the fakes
//! and tools the test files share: [`rest`] (wiremock REST fakes, raw loopback HTTP), [`tls`] (a
//! PKI made in the test, an HTTPS server, a recording proxy), [`logs`] (a trace captured in
//! memory), [`ws_peer`] (a scripted websocket peer). Each test binary uses a part of it, hence
//! `dead_code` is allowed for all of it.
//!
//! The live suite runs when `MATTERAPI_TEST_CONNECTION` names a connection file, or the default one
//! (`target/testserver/connection.json`, written by `cargo xtask server start`) exists. In CI
//! (`CI=true`) it is required: a missing server fails the test instead of skipping it.

#![allow(dead_code)]

pub mod logs;
pub mod rest;
pub mod tls;
pub mod ws_peer;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One account of the test server.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub user_id: String,
}

/// The team the bootstrap made.
#[derive(Debug, Clone, Deserialize)]
pub struct Team {
    pub id: String,
    pub name: String,
}

/// The channels the bootstrap made.
#[derive(Debug, Clone, Deserialize)]
pub struct Channels {
    pub town_square: String,
    pub public: String,
    pub private: String,
}

/// `target/testserver/connection.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Connection {
    pub url: String,
    pub admin: Account,
    pub user: Account,
    pub user2: Account,
    pub mfa_user: Account,
    pub bot: Account,
    pub team: Team,
    pub channels: Channels,
    pub server_version: String,
}

fn connection_file() -> PathBuf {
    std::env::var_os("MATTERAPI_TEST_CONNECTION")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/testserver/connection.json")
        })
}

/// The live server's connection, or `None` (with a note) when there is none and this is not CI.
pub fn live() -> Option<Connection> {
    read_connection(
        &connection_file(),
        ci().then_some("CI=true"),
        "live test server",
        "run `cargo xtask server start`",
    )
}

/// The second test server, the rate-limited instance that `.ci/run` starts (`testserver/server.sh`
/// with its own `MM_TEST_STATE`): its connection file, `$MATTERAPI_TEST_RATELIMITED_CONNECTION` or
/// else `target/testserver-ratelimited/connection.json`, and the connection read from it. `None`
/// (with a note that names `test_file`) when the file cannot be read and the server is not
/// required; it is required when the variable is set, and also under `CI=true` when
/// `required_in_ci`.
pub fn second_server(test_file: &str, required_in_ci: bool) -> Option<(PathBuf, Connection)> {
    let explicit = std::env::var_os("MATTERAPI_TEST_RATELIMITED_CONNECTION").map(PathBuf::from);
    let required = if explicit.is_some() {
        Some("MATTERAPI_TEST_RATELIMITED_CONNECTION is set")
    } else {
        (required_in_ci && ci()).then_some("CI=true")
    };
    let file = explicit.unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target/testserver-ratelimited/connection.json")
    });
    let hint = format!("see {test_file} and .ci/run");
    let conn = read_connection(&file, required, "second test server", &hint)?;
    Some((file, conn))
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The connection in `file`. When it cannot be read: a panic if it is `required` (the reason
/// given), else `None` and a note that the test skips; `server` and `hint` say what is missing and
/// how to get it.
fn read_connection(
    file: &Path,
    required: Option<&str>,
    server: &str,
    hint: &str,
) -> Option<Connection> {
    match std::fs::read_to_string(file) {
        Ok(text) => Some(
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("invalid connection file {}: {e}", file.display())),
        ),
        Err(e) => match required {
            Some(why) => panic!(
                "the {server} is required ({why}), but {} cannot be read: {e} ({hint})",
                file.display()
            ),
            None => {
                // Written to the process's stderr, not through the test harness's capture, so that
                // a passing run still shows that the live tests skipped and why.
                let _ = writeln!(
                    std::io::stderr(),
                    "skipping a live test: no {server} ({} missing; {hint})",
                    file.display()
                );
                None
            }
        },
    }
}

/// A client of the server at `url` with the bearer token `token` and what `configure` sets
/// (`|b| b` for the defaults): how the tests build their clients.
pub fn client_with(
    url: &str,
    token: &str,
    configure: impl FnOnce(matterapi::ClientBuilder) -> matterapi::ClientBuilder,
) -> matterapi::Client {
    configure(matterapi::Client::builder(url).token(token))
        .build()
        .expect("client")
}

/// A client authenticated with `token`.
pub fn client(conn: &Connection, token: &str) -> matterapi::Client {
    client_with(&conn.url, token, |b| b)
}

/// A client of the system admin.
pub fn admin(conn: &Connection) -> matterapi::Client {
    client(conn, &conn.admin.token)
}

/// Logs in with login id and password (and an MFA code) through `Client::login`.
pub async fn login(
    conn: &Connection,
    login_id: &str,
    password: &str,
    mfa: Option<String>,
) -> Result<matterapi::Client, matterapi::Error> {
    let auth = match mfa {
        Some(code) => matterapi::Auth::login_mfa(login_id, password, code),
        None => matterapi::Auth::login(login_id, password),
    };
    let client = matterapi::Client::builder(conn.url.as_str())
        .auth(Some(auth))
        .build()?;
    client.login().await?;
    Ok(client)
}

/// A name unique to this test run.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{}{}{}",
        std::process::id(),
        nanos % 100_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A post of `message` in `channel_id` (with `file_ids` attached), made through the typed client.
pub async fn post_with_files(
    client: &matterapi::Client,
    channel_id: &str,
    message: &str,
    file_ids: Vec<String>,
) -> matterapi::types::Post {
    client
        .create_post()
        .body(matterapi::types::CreatePostBody {
            channel_id: channel_id.into(),
            message: message.into(),
            file_ids,
            metadata: None,
            props: Default::default(),
            root_id: None,
            pending_post_id: None,
            type_: None,
        })
        .send()
        .await
        .expect("create post")
        .into_inner()
}

/// A post of `message` in `channel_id`.
pub async fn post(
    client: &matterapi::Client,
    channel_id: &str,
    message: &str,
) -> matterapi::types::Post {
    post_with_files(client, channel_id, message, vec![]).await
}

/// A fresh public channel (its name starting with `prefix`) in the test team, made by `admin`,
/// with `members` (user ids) added; its id.
pub async fn fresh_channel(
    conn: &Connection,
    admin: &matterapi::Client,
    prefix: &str,
    members: &[&str],
) -> String {
    let name = unique(prefix);
    let channel = admin
        .create_channel()
        .body(matterapi::types::CreateChannelBody {
            team_id: conn.team.id.clone(),
            name: name.clone(),
            display_name: format!("Test {name}"),
            type_: "O".into(),
            purpose: Some("made by the matterapi live tests".into()),
            header: None,
            default_category_name: None,
            managed_category_name: None,
        })
        .send()
        .await
        .expect("create channel")
        .into_inner();
    let id = channel.id.expect("channel id");
    for user_id in members {
        admin
            .add_channel_member()
            .channel_id(&id)
            .body(matterapi::types::AddChannelMemberBody {
                user_id: Some((*user_id).to_owned()),
                ..Default::default()
            })
            .send()
            .await
            .expect("add channel member");
    }
    id
}

/// Websocket items until `pick` returns something, failing at `deadline` or on a terminal error
/// that `pick` does not take; the items passed over are returned too.
pub async fn until<T>(
    stream: &mut matterapi::ws::EventStream,
    deadline: tokio::time::Instant,
    mut pick: impl FnMut(&matterapi::ws::WsItem) -> Option<T>,
) -> (T, Vec<matterapi::ws::WsItem>) {
    use futures_util::StreamExt;
    let mut passed = Vec::new();
    loop {
        let item = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("the expected item in time; passed over: {passed:?}"))
            .expect("the stream goes on");
        if let Some(t) = pick(&item) {
            return (t, passed);
        }
        if let matterapi::ws::WsItem::Error(e) = &item
            && e.is_terminal()
        {
            panic!("terminal error: {e}");
        }
        passed.push(item);
    }
}

/// Picks the `posted` event of post `id`.
pub fn posted(id: &str) -> impl FnMut(&matterapi::ws::WsItem) -> Option<matterapi::ws::Event> + '_ {
    move |item| match item {
        matterapi::ws::WsItem::Event(ev) if matches!(&ev.kind, matterapi::ws::EventKind::Posted(p) if p.post.id.as_deref() == Some(id)) => {
            Some(ev.clone())
        }
        _ => None,
    }
}

/// Picks a `Connected` item: its connection id and whether it resumed.
pub fn connected(item: &matterapi::ws::WsItem) -> Option<(String, bool)> {
    match item {
        matterapi::ws::WsItem::Connected {
            connection_id,
            resumed,
        } => Some((connection_id.clone(), *resumed)),
        _ => None,
    }
}

/// The websocket error a call of the listener failed with (every public call of the crate returns
/// `matterapi::Result`; the websocket's own error is inside).
#[allow(dead_code)]
pub fn ws_error(err: &matterapi::Error) -> &matterapi::ws::WsError {
    err.as_websocket()
        .unwrap_or_else(|| panic!("not a websocket error: {err:?}"))
}
