//! Shared test support: the live Mattermost test server's connection details.
//!
//! The live suite runs when `MATTERAPI_TEST_CONNECTION` names a connection file, or the default one
//! (`target/testserver/connection.json`, written by `cargo xtask server start`) exists. In CI
//! (`CI=true`) it is required: a missing server fails the test instead of skipping it.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::PathBuf;

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
    let file = connection_file();
    match std::fs::read_to_string(&file) {
        Ok(text) => Some(
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("invalid connection file {}: {e}", file.display())),
        ),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "CI requires the live test server, but {} cannot be read: {e} (run `cargo xtask server start`)",
            file.display()
        ),
        Err(_) => {
            // Written to the process's stderr, not through the test harness's capture, so that a
            // passing run still shows that the live tests skipped and why.
            let _ = writeln!(
                std::io::stderr(),
                "skipping a live test: no live test server ({} missing; run `cargo xtask server start`)",
                file.display()
            );
            None
        }
    }
}

/// A client authenticated with `token`.
pub fn client(conn: &Connection, token: &str) -> matterapi::Client {
    matterapi::Client::with_token(conn.url.as_str(), token).expect("client")
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
        })
        .send()
        .await
        .map_err(matterapi::Error::from)
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
        .map_err(matterapi::Error::from)
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
            .map_err(matterapi::Error::from)
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
