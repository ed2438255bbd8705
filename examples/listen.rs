//! Listen: print the websocket's events as they arrive, with what happens to the connection.
//!
//! Connection from the environment: `MM_URL` with `MM_TOKEN` (a personal access, bot or session
//! token) or `MM_LOGIN_ID` + `MM_PASSWORD`; without them, the local test server's connection file
//! (`target/testserver/connection.json`, written by `cargo xtask server start`). `MM_SECONDS` shuts
//! it down gracefully after that many seconds (default: it runs until interrupted).
//!
//! ```sh
//! cargo xtask server start && cargo run --example listen
//! ```

use std::time::Duration;

use anyhow::Result;
use futures_util::StreamExt;
use matterapi::Client;
use matterapi::ws::{EventKind, WsItem};

mod common;

#[tokio::main]
async fn main() -> Result<()> {
    // The listener logs in itself when the client has credentials and no token yet.
    let client = Client::from_options(common::options()?)?;
    let (handle, mut events) = client.websocket().connect().await?;
    let stop = async {
        match std::env::var("MM_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
        {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop);
    loop {
        let item = tokio::select! {
            item = events.next() => item,
            _ = &mut stop => {
                handle.shutdown().await;
                break;
            }
        };
        let Some(item) = item else { break };
        match item {
            WsItem::Event(ev) => match &ev.kind {
                EventKind::Posted(p) => println!(
                    "[{}] {} in {}: {}",
                    ev.seq.unwrap_or(-1),
                    p.sender_name,
                    p.channel_display_name,
                    p.post.message.as_deref().unwrap_or("")
                ),
                EventKind::Typing(t) => println!(
                    "[{}] {} is typing in {}",
                    ev.seq.unwrap_or(-1),
                    t.user_id,
                    ev.broadcast.channel_id
                ),
                EventKind::Unknown { event, data } => {
                    println!("[{}] {event} (untyped): {data}", ev.seq.unwrap_or(-1))
                }
                other => println!("[{}] {}: {other:?}", ev.seq.unwrap_or(-1), ev.event_type()),
            },
            WsItem::Connected {
                connection_id,
                resumed,
            } => println!("-- connected ({connection_id}, resumed: {resumed})"),
            WsItem::Resync => println!("-- new connection: events may have been missed"),
            WsItem::Disconnected { reason, retry_in } => {
                println!("-- disconnected: {reason}; next attempt in {retry_in:?}")
            }
            WsItem::Error(e) if e.is_terminal() => return Err(e.into()),
            WsItem::Error(e) => println!("-- {e}"),
            other => println!("-- {other:?}"),
        }
    }
    Ok(())
}
