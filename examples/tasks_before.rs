//! The nine everyday bot tasks of issue 12, written as a new user wrote them against the API as it
//! was before (flat methods only, `Option` fields unwrapped by hand, bodies built field by field).
//! `examples/tasks.rs` does the same with the area handles and the bot helpers; the line counts of
//! each task, before and after, are in `examples/README.md`. Both run in CI against the local test
//! server, so the old forms keep working.
//!
//! ```sh
//! cargo xtask server start && cargo run --example tasks_before
//! ```

use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use matterapi::files::UploadFile;
use matterapi::paginate::paginate;
use matterapi::webhook::IncomingWebhook;
use matterapi::ws::{EventKind, WsItem};
use matterapi::{Client, types};

mod common;

// task 1: post by team + channel name
async fn post_by_name(
    client: &Client,
    team: &str,
    channel: &str,
    text: &str,
) -> Result<types::Post> {
    let ch = client
        .get_channel_by_name_for_team_name()
        .team_name(team)
        .channel_name(channel)
        .send()
        .await?;
    let post = client
        .create_post()
        .body(types::CreatePostBody {
            channel_id: ch.id.clone().unwrap_or_default(),
            message: text.to_string(),
            file_ids: vec![],
            metadata: None,
            props: Default::default(),
            root_id: None,
            pending_post_id: None,
            type_: None,
        })
        .send()
        .await?;
    Ok(post.into_inner())
}
// end

// task 2: reply in a thread
async fn reply_in_thread(client: &Client, to: &types::Post, text: &str) -> Result<types::Post> {
    let root = match to.root_id.as_deref() {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => to.id.clone().unwrap_or_default(),
    };
    let post = client
        .create_post()
        .body(types::CreatePostBody {
            channel_id: to.channel_id.clone().unwrap_or_default(),
            message: text.to_string(),
            file_ids: vec![],
            metadata: None,
            props: Default::default(),
            root_id: Some(root),
            pending_post_id: None,
            type_: None,
        })
        .send()
        .await?;
    Ok(post.into_inner())
}
// end

// task 3: upload a file
async fn upload(client: &Client, channel_id: &str) -> Result<types::Post> {
    let file = UploadFile::from_bytes("notes.txt", &b"uploaded by a bot"[..]);
    let info = client.upload_file(channel_id, file).await?;
    let post = client
        .create_post()
        .body(types::CreatePostBody {
            channel_id: channel_id.to_string(),
            message: "a file".to_string(),
            file_ids: vec![info.id.clone().unwrap_or_default()],
            metadata: None,
            props: Default::default(),
            root_id: None,
            pending_post_id: None,
            type_: None,
        })
        .send()
        .await?;
    Ok(post.into_inner())
}
// end

// task 4: react
async fn react(client: &Client, post: &types::Post) -> Result<types::Reaction> {
    let me = client.get_user().user_id("me").send().await?;
    let reaction = client
        .save_reaction()
        .body(types::Reaction {
            user_id: me.id.clone(),
            post_id: post.id.clone(),
            emoji_name: Some("thumbsup".to_string()),
            create_at: None,
            channel_id: None,
            remote_id: None,
            update_at: None,
            delete_at: None,
        })
        .send()
        .await?;
    Ok(reaction.into_inner())
}
// end

// task 5: answer mentions over the websocket
async fn answer_mentions(client: &Client, until: usize) -> Result<usize> {
    let me = client.get_user().user_id("me").send().await?;
    let my_id = me.id.clone().unwrap_or_default();
    let (handle, mut events) = client.websocket().connect().await?;
    let mut answered = 0;
    while answered < until {
        let Some(item) = events.next().await else {
            break;
        };
        let WsItem::Event(ev) = item else { continue };
        let EventKind::Posted(p) = &ev.kind else {
            continue;
        };
        if p.post.user_id.as_deref() == Some(my_id.as_str()) || !p.mentions.contains(&my_id) {
            continue;
        }
        reply_in_thread(client, &p.post, "you called?").await?;
        answered += 1;
    }
    handle.shutdown().await;
    Ok(answered)
}
// end

// task 6: page through channel members
async fn channel_members(client: &Client, channel_id: &str) -> Result<Vec<String>> {
    let mut pages = paginate(|page, per_page| {
        client
            .get_channel_members()
            .channel_id(channel_id)
            .page(page)
            .per_page(per_page)
            .send()
    });
    let mut ids = Vec::new();
    while let Some(member) = pages.next().await {
        ids.push(member?.user_id.clone().unwrap_or_default());
    }
    Ok(ids)
}
// end

// task 7: post through an incoming webhook
async fn through_webhook(client: &Client, hook_id: &str) -> Result<()> {
    client
        .post_incoming_webhook(hook_id, &IncomingWebhook::text("from a webhook"))
        .await?;
    Ok(())
}
// end

// task 8: find a user
async fn find_user(client: &Client, username: &str) -> Result<types::User> {
    let user = client
        .get_user_by_username()
        .username(username)
        .send()
        .await?;
    Ok(user.into_inner())
}
// end

// task 9: report a missing user's error
async fn missing_user(client: &Client) -> Result<String> {
    match client
        .get_user_by_username()
        .username("no-such-user-here")
        .send()
        .await
    {
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
    let me = client.get_user().user_id("me").send().await?.into_inner();
    let teams = client.get_teams_for_user().user_id("me").send().await?;
    let team = teams.first().context("join a team first")?;
    let team_name = team.name.clone().unwrap_or_default();

    let post = post_by_name(&client, &team_name, "town-square", "task 1: by name").await?;
    println!("1. posted {}", post.id.as_deref().unwrap_or("?"));
    let reply = reply_in_thread(&client, &post, "task 2: a reply").await?;
    println!(
        "2. replied {} under {}",
        reply.id.as_deref().unwrap_or("?"),
        reply.root_id.as_deref().unwrap_or("?")
    );
    let channel_id = post.channel_id.clone().unwrap_or_default();
    let with_file = upload(&client, &channel_id).await?;
    println!("3. posted a file: {:?}", with_file.file_ids);
    let reaction = react(&client, &post).await?;
    println!(
        "4. reacted {}",
        reaction.emoji_name.as_deref().unwrap_or("?")
    );
    match common::peer().await? {
        Some(peer) => {
            let my_name = me.username.clone().unwrap_or_default();
            let listener = tokio::spawn({
                let client = client.clone();
                async move { answer_mentions(&client, 1).await }
            });
            tokio::time::sleep(Duration::from_secs(1)).await;
            post_by_name(
                &peer,
                &team_name,
                "town-square",
                &format!("@{my_name} task 5"),
            )
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
    let found = find_user(&client, me.username.as_deref().unwrap_or("")).await?;
    println!("8. found {}", found.id.as_deref().unwrap_or("?"));
    println!("9. {}", missing_user(&client).await?);
    Ok(())
}
