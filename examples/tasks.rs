//! The nine everyday bot tasks of issue 12 with the area handles, the setters that take `&str`, the
//! body constructors and the bot helpers. `examples/tasks_before.rs` is the same program as it was
//! written before them; `examples/README.md` has the line counts of each task, before and after.
//!
//! ```sh
//! cargo xtask server start && cargo run --example tasks
//! ```

use std::time::Duration;

use anyhow::{Result, bail};
use futures_util::StreamExt;
use matterapi::files::UploadFile;
use matterapi::webhook::IncomingWebhook;
use matterapi::ws::WsItem;
use matterapi::{Client, types};

mod common;

// task 1: post by team + channel name
async fn post_by_name(
    client: &Client,
    team: &str,
    channel: &str,
    text: &str,
) -> Result<types::Post> {
    Ok(client.post_message_to(team, channel, text).await?)
}
// end

// task 2: reply in a thread
async fn reply_in_thread(client: &Client, to: &types::Post, text: &str) -> Result<types::Post> {
    Ok(client.reply(to, text).await?)
}
// end

// task 3: upload a file
async fn upload(client: &Client, channel_id: &str) -> Result<types::Post> {
    let file = UploadFile::from_bytes("notes.txt", &b"uploaded by a bot"[..]);
    let info = client.upload_file(channel_id, file).await?;
    let mut body = types::CreatePostBody::new(channel_id, "a file");
    body.file_ids.push(info.id()?.to_string());
    Ok(client
        .posts()
        .create_post()
        .body(body)
        .send()
        .await?
        .into_inner())
}
// end

// task 4: react
async fn react(client: &Client, post: &types::Post) -> Result<types::Reaction> {
    Ok(client.react(post.id()?, "thumbsup").await?)
}
// end

// task 5: answer mentions over the websocket
async fn answer_mentions(client: &Client, until: usize) -> Result<usize> {
    let me = client.my_user_id().await?;
    let (handle, mut events) = client.websocket().connect().await?;
    let mut answered = 0;
    while answered < until {
        let Some(item) = events.next().await else {
            break;
        };
        let WsItem::Event(ev) = item else { continue };
        match ev.posted() {
            Some(p) if p.is_for_me(&me) => p.reply(client, "you called?").await?,
            _ => continue,
        };
        answered += 1;
    }
    handle.shutdown().await;
    Ok(answered)
}
// end

// task 6: page through channel members
async fn channel_members(client: &Client, channel_id: &str) -> Result<Vec<String>> {
    let mut pages = client.channels().get_channel_members(channel_id).paginate();
    let mut ids = Vec::new();
    while let Some(member) = pages.next().await {
        ids.push(member?.user_id()?.to_string());
    }
    Ok(ids)
}
// end

// task 7: post through an incoming webhook
async fn through_webhook(client: &Client, hook_id: &str) -> Result<()> {
    let message = IncomingWebhook::text("from a webhook");
    Ok(client.post_incoming_webhook(hook_id, &message).await?)
}
// end

// task 8: find a user
async fn find_user(client: &Client, username: &str) -> Result<types::User> {
    Ok(client.user_by_username(username).await?)
}
// end

// task 9: report a missing user's error
async fn missing_user(client: &Client) -> Result<String> {
    match client.user_by_username("no-such-user-here").await {
        Ok(_) => bail!("a user that does not exist was found"),
        Err(e) => Ok(format!(
            "{} (error id {}, request id {})",
            e.status().map(|s| s.as_u16()).unwrap_or(0),
            e.error_id().unwrap_or("?"),
            e.request_id().unwrap_or("?")
        )),
    }
}
// end

#[tokio::main]
async fn main() -> Result<()> {
    let client = Client::from_options(common::options()?)?;
    client.login().await?;
    let me = client.users().get_user("me").send().await?.into_inner();
    let teams = client.teams().get_teams_for_user("me").send().await?;
    let Some(team) = teams.first() else {
        bail!("join a team first")
    };
    let team_name = team.name()?.to_string();

    let post = post_by_name(&client, &team_name, "town-square", "task 1: by name").await?;
    println!("1. posted {}", post.id()?);
    let reply = reply_in_thread(&client, &post, "task 2: a reply").await?;
    println!("2. replied {} under {}", reply.id()?, reply.thread_id()?);
    let channel_id = post.channel_id()?.to_string();
    let with_file = upload(&client, &channel_id).await?;
    println!("3. posted a file: {:?}", with_file.file_ids);
    let reaction = react(&client, &post).await?;
    println!("4. reacted {}", reaction.emoji_name()?);
    match common::peer().await? {
        Some(peer) => {
            let my_name = me.username()?.to_string();
            let listener = tokio::spawn({
                let client = client.clone();
                async move { answer_mentions(&client, 1).await }
            });
            tokio::time::sleep(Duration::from_secs(1)).await;
            peer.post_message(&channel_id, format!("@{my_name} task 5"))
                .await?;
            let answered = tokio::time::timeout(Duration::from_secs(20), listener).await???;
            println!("5. answered {answered} mention(s)");
        }
        None if common::ci() => bail!("task 5 needs a second account in CI"),
        None => println!("5. skipped: no second account to mention me (set MM_PEER_TOKEN)"),
    }
    let members = channel_members(&client, &channel_id).await?;
    println!("6. {} members", members.len());
    match common::hook(&channel_id).await? {
        Some(hook_id) => {
            through_webhook(&client, &hook_id).await?;
            println!("7. posted through the webhook");
        }
        None if common::ci() => bail!("task 7 needs an incoming webhook in CI"),
        None => println!("7. skipped: no incoming webhook (set MM_HOOK_ID)"),
    }
    let found = find_user(&client, me.username()?).await?;
    println!("8. found {}", found.id()?);
    println!("9. {}", missing_user(&client).await?);
    Ok(())
}
