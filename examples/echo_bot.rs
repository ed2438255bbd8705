//! Echo bot: answers every post that mentions it (or is written to it in a direct channel) with a
//! threaded reply echoing the text, and reacts to it with 👀. It never answers itself.
//!
//! Connection from the environment: `MM_URL` with `MM_TOKEN` (a bot token, say) or `MM_LOGIN_ID` +
//! `MM_PASSWORD`; without them, the local test server's connection file
//! (`target/testserver/connection.json`, written by `cargo xtask server start`), as alice: mention
//! `@alice` from another account. `MM_SECONDS` shuts it down gracefully after that many seconds
//! (default: it runs until interrupted).
//!
//! ```sh
//! cargo xtask server start && cargo run --example echo_bot
//! ```

use std::time::Duration;

use anyhow::Result;
use matterapi::Client;
use matterapi::ws::Relogin;

mod common;

#[tokio::main]
async fn main() -> Result<()> {
    let client = Client::from_options(common::options()?)?;
    let me = client.login().await?;
    let my_id = me.id()?.to_owned();
    println!("listening as @{} ({my_id})", me.username()?);
    let replier = client.clone();
    let listener = client
        .spawn_ws(
            move |ev| {
                let (client, me) = (replier.clone(), my_id.clone());
                async move {
                    let Some(posted) = ev.posted() else {
                        return Ok(());
                    };
                    if !posted.is_for_me(&me) {
                        return Ok(());
                    }
                    let text = posted.post.message()?;
                    println!(
                        "{} in {}: {text}",
                        posted.sender_name, posted.channel_display_name
                    );
                    posted.reply(&client, format!("echo: {text}")).await?;
                    client.react(posted.post.id()?, "eyes").await?;
                    Ok::<_, matterapi::Error>(())
                }
            },
            Relogin::On,
        )
        .await?;
    match std::env::var("MM_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
        None => tokio::signal::ctrl_c().await?,
    }
    let stats = listener.shutdown().await?;
    println!(
        "{} events, {} handler errors",
        stats.events, stats.handler_errors
    );
    Ok(())
}
