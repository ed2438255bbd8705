//! The blocking client: the same calls without `.await`.
//!
//! Connection as in the quickstart: `MM_URL` + `MM_TOKEN`, or the local test server's connection
//! file (`cargo xtask server start`).

use anyhow::{Context, Result};
use matterapi::blocking::Client;

fn main() -> Result<()> {
    let client = connect()?;
    let me = client.get_user().user_id("me").send()?;
    println!("I am {}", me.username.as_deref().unwrap_or("?"));
    for team in client.get_teams_for_user().user_id("me").send()?.iter() {
        let channels = client
            .get_public_channels_for_team()
            .team_id(team.id.clone().unwrap_or_default())
            .per_page(200)
            .send()?;
        println!(
            "team {}: {} public channels",
            team.name.as_deref().unwrap_or("?"),
            channels.len()
        );
    }
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
