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
