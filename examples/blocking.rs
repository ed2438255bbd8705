//! The blocking client: the same calls without `.await`.
//!
//! Connection as in the quickstart (`examples/common`): `MM_URL` with `MM_TOKEN` or `MM_LOGIN_ID` +
//! `MM_PASSWORD`, or the local test server (`cargo xtask server start`).

use anyhow::Result;
use matterapi::blocking::Client;

mod common;

fn main() -> Result<()> {
    let client = Client::from_options(common::options()?)?;
    client.login()?;
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
