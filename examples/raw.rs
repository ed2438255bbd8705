//! Raw mode: the untouched reply of a typed operation, and a call to an endpoint by method and path.
//!
//! Connection as in the quickstart: `MM_URL` + `MM_TOKEN`, or the local test server's connection
//! file (`cargo xtask server start`).

use anyhow::{Context, Result};
use matterapi::{Client, Method, Reply};

#[tokio::main]
async fn main() -> Result<()> {
    let client = connect()?;

    // A generated operation, its reply untouched: status, headers, body.
    let raw = client.get_user().user_id("me").send_raw().await?;
    println!(
        "GET /users/me -> {} (request id {}), {} bytes",
        raw.status,
        raw.request_id().unwrap_or("-"),
        raw.body.len()
    );

    // The client-wide switch (`skip_response_parsing`, as in the Python library): `call()` leaves
    // every reply undecoded; `into_value()` decodes it when the caller wants.
    let mut options = client.options().clone();
    options.skip_response_parsing = true;
    let skipping = Client::from_options(options)?;
    match skipping.get_user().user_id("me").call().await? {
        Reply::Raw(raw) => println!("call() with parsing skipped: {} bytes", raw.body.len()),
        Reply::Parsed(user) => println!("call() decoded {:?}", user.username),
    }

    // Any endpoint, relative to the API base, decoded into your own type.
    let ping: serde_json::Value = client
        .raw(Method::GET, "/system/ping")
        .query("get_server_status", true)
        .send_json()
        .await?;
    println!("ping: {ping}");

    // A failure status is a typed error unless asked for the reply regardless.
    let missing = client
        .raw(Method::GET, "/users/nobody00000000000000000000")
        .any_status()
        .send()
        .await?;
    println!("missing user -> {}: {}", missing.status, missing.text());
    Ok(())
}

fn connect() -> Result<Client> {
    if let (Ok(url), Ok(token)) = (std::env::var("MM_URL"), std::env::var("MM_TOKEN")) {
        return Ok(Client::with_token(url, token)?);
    }
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/testserver/connection.json"
    );
    let conn: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(file)
            .context("set MM_URL and MM_TOKEN, or run `cargo xtask server start`")?,
    )?;
    Ok(Client::with_token(
        conn["url"].as_str().context("no url")?,
        conn["admin"]["token"].as_str().context("no admin token")?,
    )?)
}
