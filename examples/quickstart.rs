//! Quickstart: who am I, my teams and their public channels, and a message posted.
//!
//! Connection from the environment: `MM_URL` with `MM_TOKEN` (a personal access, bot or session
//! token) or `MM_LOGIN_ID` + `MM_PASSWORD`; without them, the local test server's connection file
//! (`target/testserver/connection.json`, written by `cargo xtask server start`). `MM_CHANNEL` names
//! the public channel to post in (default: the first team's `town-square`).
//!
//! ```sh
//! cargo xtask server start && cargo run --example quickstart
//! ```

use anyhow::{Result, bail};
use matterapi::paginate::paginate;
use matterapi::{Client, types};

mod common;

#[tokio::main]
async fn main() -> Result<()> {
    let client = Client::from_options(common::options()?)?;
    client.login().await?;

    let me = client.get_user().user_id("me").send().await?;
    println!(
        "I am {} ({}), roles: {}",
        me.username.as_deref().unwrap_or("?"),
        me.id.as_deref().unwrap_or("?"),
        me.roles.as_deref().unwrap_or("")
    );

    let teams = client.get_teams_for_user().user_id("me").send().await?;
    let mut town_square = None;
    for team in teams.iter() {
        let team_id = team.id.clone().unwrap_or_default();
        println!("team {} ({team_id})", team.name.as_deref().unwrap_or("?"));
        // The team's public channels, page after page (200 a page, the server's most).
        let mut pages = paginate(|page, per_page| {
            client
                .get_public_channels_for_team()
                .team_id(&team_id)
                .page(page)
                .per_page(per_page)
                .send()
        });
        let mut channels = Vec::new();
        while let Some(ch) = pages.next().await {
            let ch = ch?;
            println!(
                "  {} {} ({})",
                ch.type_.as_deref().unwrap_or("?"),
                ch.name.as_deref().unwrap_or("?"),
                ch.id.as_deref().unwrap_or("?")
            );
            channels.push(ch);
        }
        let wanted = std::env::var("MM_CHANNEL").unwrap_or_else(|_| "town-square".into());
        if town_square.is_none() {
            town_square = channels
                .iter()
                .find(|c| c.name.as_deref() == Some(wanted.as_str()))
                .and_then(|c| c.id.clone());
        }
    }

    let Some(channel_id) = town_square else {
        bail!("no channel to post in: join a team first, or set MM_CHANNEL");
    };
    let post = client
        .create_post()
        .body(types::CreatePostBody {
            channel_id,
            message: "Hello from matterapi's quickstart".into(),
            file_ids: vec![],
            metadata: None,
            props: Default::default(),
            root_id: None,
            pending_post_id: None,
            type_: None,
        })
        .send()
        .await?;
    println!(
        "posted {} at {}",
        post.id.as_deref().unwrap_or("?"),
        post.create_at.unwrap_or(0)
    );
    Ok(())
}
