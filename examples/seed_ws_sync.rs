//! The Python library's first websocket example, in Rust: a blocking client and a plain function
//! that prints every event (`sd.start_ws(my_event_handler)` there, `start_ws_sync` here).
//!
//! Connection as in the other examples (`MM_URL` + `MM_TOKEN`, or the local test server).
//! `MM_SECONDS` ends it after that many seconds with the number of events seen (in CI: at least one,
//! the server's `hello`); by default it runs until interrupted.
//!
//! ```sh
//! cargo xtask server start && MM_SECONDS=3 cargo run --example seed_ws_sync
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use matterapi::blocking::Client;
use matterapi::ws::Event;

mod common;

static SEEN: AtomicUsize = AtomicUsize::new(0);

fn my_event_handler(event: Event) -> Result<(), std::io::Error> {
    SEEN.fetch_add(1, Ordering::Relaxed);
    println!("{} {}", event.event_type(), event.raw());
    Ok(())
}

fn main() -> Result<()> {
    let client = Client::from_options(common::options()?)?;
    client.login()?;
    let seconds = std::env::var("MM_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    let Some(seconds) = seconds else {
        // Listens until a terminal error; with `true`, a revoked session is renewed.
        client.start_ws_sync(my_event_handler, true)?;
        return Ok(());
    };
    // The listener on its own thread; the process ends when `main` returns.
    std::thread::spawn(move || client.start_ws_sync(my_event_handler, true));
    std::thread::sleep(Duration::from_secs(seconds));
    let seen = SEEN.load(Ordering::Relaxed);
    println!("{seen} events in {seconds} s");
    if seen == 0 && common::ci() {
        bail!("no event arrived (not even the server's hello)");
    }
    Ok(())
}
