//! Raw mode: the untouched reply of a typed operation, and a call to an endpoint by method and path.
//!
//! Connection as in the quickstart (`examples/common`): `MM_URL` with `MM_TOKEN` or `MM_LOGIN_ID` +
//! `MM_PASSWORD`, or the local test server (`cargo xtask server start`).

use anyhow::Result;
use matterapi::{Client, Method, Reply};

mod common;

#[tokio::main]
async fn main() -> Result<()> {
    let client = Client::from_options(common::options()?)?;
    client.login().await?;

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
    skipping.login().await?;
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
