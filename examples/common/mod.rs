//! The examples' connection: `MM_URL` with `MM_TOKEN` (a personal access, bot or session token) or
//! `MM_LOGIN_ID` + `MM_PASSWORD`; without `MM_URL`, the local test server's connection file
//! (`target/testserver/connection.json`, written by `cargo xtask server start`), as its user alice.

use anyhow::{Context, Result};
use matterapi::{Auth, Options};

/// The options the examples connect with (call `login()` on the client: with a token it checks
/// the token and fills `me()`, with credentials it opens a session).
pub fn options() -> Result<Options> {
    let (url, auth) = match std::env::var("MM_URL") {
        Ok(url) => {
            let auth = match std::env::var("MM_TOKEN") {
                Ok(token) => Auth::token(token),
                Err(_) => Auth::login(
                    std::env::var("MM_LOGIN_ID").context("MM_URL needs MM_TOKEN or MM_LOGIN_ID")?,
                    std::env::var("MM_PASSWORD").context("MM_LOGIN_ID needs MM_PASSWORD")?,
                ),
            };
            (url, auth)
        }
        Err(_) => {
            let file = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/testserver/connection.json"
            );
            let text = std::fs::read_to_string(file).with_context(|| {
                format!(
                    "no MM_URL and no test server connection file at {file}: run `cargo xtask server start`"
                )
            })?;
            let conn: serde_json::Value = serde_json::from_str(&text)?;
            let field = |v: &serde_json::Value, what: &str| {
                v.as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("connection file: no {what}"))
            };
            let user = &conn["user"];
            let auth = Auth::login(
                field(&user["username"], "user")?,
                field(&user["password"], "password")?,
            );
            (field(&conn["url"], "url")?, auth)
        }
    };
    Ok(Options::builder(url).auth(Some(auth)).options()?)
}

/// The local test server's connection file, when there is no `MM_URL`.
#[allow(dead_code)]
fn connection() -> Result<Option<serde_json::Value>> {
    if std::env::var_os("MM_URL").is_some() {
        return Ok(None);
    }
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/testserver/connection.json"
    );
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    Ok(Some(serde_json::from_str(&text)?))
}

/// A second account, to talk to the first: `MM_PEER_TOKEN` on `MM_URL`, or the test server's
/// second user. `None` when there is neither.
#[allow(dead_code)]
pub async fn peer() -> Result<Option<matterapi::Client>> {
    if let (Ok(url), Ok(token)) = (std::env::var("MM_URL"), std::env::var("MM_PEER_TOKEN")) {
        return Ok(Some(matterapi::Client::with_token(url, token)?));
    }
    let Some(conn) = connection()? else {
        return Ok(None);
    };
    let (Some(url), Some(user), Some(password)) = (
        conn["url"].as_str(),
        conn["user2"]["username"].as_str(),
        conn["user2"]["password"].as_str(),
    ) else {
        return Ok(None);
    };
    let client = matterapi::Client::builder(url)
        .auth(Some(Auth::login(user, password)))
        .build()?;
    client.login().await?;
    Ok(Some(client))
}

/// An incoming webhook of `channel_id`: `MM_HOOK_ID`, or one made by the test server's admin.
/// `None` when there is neither.
#[allow(dead_code)]
pub async fn hook(channel_id: &str) -> Result<Option<String>> {
    if let Ok(id) = std::env::var("MM_HOOK_ID") {
        return Ok(Some(id));
    }
    let Some(conn) = connection()? else {
        return Ok(None);
    };
    let (Some(url), Some(token)) = (conn["url"].as_str(), conn["admin"]["token"].as_str()) else {
        return Ok(None);
    };
    let admin = matterapi::Client::with_token(url, token)?;
    let hook = admin
        .webhooks()
        .create_incoming_webhook()
        .body(matterapi::types::CreateIncomingWebhookBody::new(channel_id))
        .send()
        .await?;
    Ok(hook.id.clone())
}

/// Whether this runs in CI (`CI=true`), where nothing may be skipped.
#[allow(dead_code)]
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}
