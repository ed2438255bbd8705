//! The Python library's second websocket example, in Rust: the async client and an async handler
//! that prints every event (`await client.start_ws(my_event_handler)` in both).
//!
//! Connection as in the other examples (`MM_URL` + `MM_TOKEN`, or the local test server).
//! `MM_SECONDS` ends it after that many seconds with the number of events seen (in CI: at least one,
//! the server's `hello`); by default it runs until interrupted.
//!
//! ```sh
//! cargo xtask server start && MM_SECONDS=3 cargo run --example seed_ws_async
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use matterapi::Client;
use matterapi::ws::Event;

mod common;

static SEEN: AtomicUsize = AtomicUsize::new(0);

async fn my_event_handler(event: Event) -> Result<(), std::io::Error> {
    SEEN.fetch_add(1, Ordering::Relaxed);
    println!("{} {}", event.event_type(), event.raw());
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let client = Client::from_options(common::options()?)?;
    client.login().await?;
    let seconds = std::env::var("MM_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    let Some(seconds) = seconds else {
        // Listens until a terminal error; with `true`, a revoked session is renewed.
        client.start_ws(my_event_handler, true).await?;
        return Ok(());
    };
    let listening = client.start_ws(my_event_handler, true);
    if let Ok(ended) = tokio::time::timeout(Duration::from_secs(seconds), listening).await {
        ended?;
    }
    let seen = SEEN.load(Ordering::Relaxed);
    println!("{seen} events in {seconds} s");
    if seen == 0 && common::ci() {
        bail!("no event arrived (not even the server's hello)");
    }
    Ok(())
}
