//! Live tests of the routes issue 11 added (operations typed from the server's handlers, the
//! incoming webhook call) against the real Mattermost test server (`cargo xtask server start`).
//! Re-runnable: every name is unique per run, and what a test makes it removes when the API lets it.

mod support;

use matterapi::webhook::IncomingWebhook;
use matterapi::{Client, Error, types};
use support::admin;

fn ok<T>(what: &str, r: Result<matterapi::ResponseValue<T>, impl Into<Error>>) -> T {
    match r.map_err(Into::into) {
        Ok(v) => v.into_inner(),
        Err(e) => panic!("{what}: {e:?}"),
    }
}

#[tokio::test]
async fn an_incoming_webhook_posts_without_credentials() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let channel = support::fresh_channel(&conn, &admin, "hook", &[]).await;
    let hook = ok(
        "create incoming webhook",
        admin
            .create_incoming_webhook()
            .body(types::CreateIncomingWebhookBody {
                channel_id: channel.clone(),
                display_name: Some(support::unique("hook ")),
                description: None,
                channel_locked: None,
                icon_url: None,
                user_id: None,
                username: None,
            })
            .send()
            .await,
    );
    let hook_id = hook.id.clone().expect("hook id");
    // A client with no token at all: the hook id is the credential.
    let anonymous = Client::builder(conn.url.as_str()).build().expect("client");
    let text = support::unique("webhook message ");
    let message = IncomingWebhook::text(&text)
        .prop("from_live_test", "yes")
        .attachment(types::MessageAttachment {
            fallback: Some("attached".into()),
            title: Some("An attachment".into()),
            ..Default::default()
        });
    anonymous
        .post_incoming_webhook(&hook_id, &message)
        .await
        .expect("the webhook accepts the message");

    let posts = ok(
        "posts of the channel",
        admin
            .get_posts_for_channel()
            .channel_id(&channel)
            .send()
            .await,
    );
    let post = posts
        .posts
        .iter()
        .flat_map(|p| p.values())
        .find(|p| p.message.as_deref() == Some(text.as_str()))
        .unwrap_or_else(|| panic!("the webhook's post in {posts:?}"));
    assert_eq!(
        post.props.as_ref().and_then(|p| p.get("from_live_test")),
        Some(&serde_json::json!("yes"))
    );
    let attachments = post
        .props
        .as_ref()
        .and_then(|p| p.get("attachments"))
        .expect("attachments in props");
    assert_eq!(attachments[0]["title"], "An attachment", "{attachments}");

    // A hook that does not exist is a typed error, not a login.
    let err = anonymous
        .post_incoming_webhook("nosuchhook1234567890abcdef", &IncomingWebhook::text("x"))
        .await
        .expect_err("an unknown hook");
    assert!(err.status().is_some(), "{err:?}");

    let _ = admin
        .delete_incoming_webhook()
        .hook_id(&hook_id)
        .send()
        .await;
    let _ = admin.delete_channel().channel_id(&channel).send().await;
}

#[tokio::test]
async fn drafts_are_saved_listed_and_deleted() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let channel = support::fresh_channel(&conn, &admin, "drafts", &[]).await;
    let text = support::unique("draft ");
    let saved = ok(
        "upsert draft",
        admin
            .upsert_draft()
            .body(types::Draft {
                channel_id: Some(channel.clone()),
                message: Some(text.clone()),
                ..Default::default()
            })
            .send()
            .await,
    );
    assert_eq!(saved.message.as_deref(), Some(text.as_str()));
    assert_eq!(saved.user_id.as_deref(), Some(conn.admin.id.as_str()));
    let drafts = ok(
        "get drafts",
        admin
            .get_drafts()
            .user_id(&conn.admin.id)
            .team_id(&conn.team.id)
            .send()
            .await,
    );
    assert!(
        drafts
            .iter()
            .flatten()
            .any(|d| d.message.as_deref() == Some(text.as_str())),
        "{drafts:?}"
    );
    ok(
        "delete draft",
        admin
            .delete_draft()
            .user_id(&conn.admin.id)
            .channel_id(&channel)
            .send()
            .await,
    );
    let drafts = ok(
        "get drafts",
        admin
            .get_drafts()
            .user_id(&conn.admin.id)
            .team_id(&conn.team.id)
            .send()
            .await,
    );
    assert!(
        !drafts
            .iter()
            .flatten()
            .any(|d| d.message.as_deref() == Some(text.as_str())),
        "{drafts:?}"
    );
    let _ = admin.delete_channel().channel_id(&channel).send().await;
}

#[tokio::test]
async fn channel_counts_and_reads_by_list() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let channel = support::fresh_channel(&conn, &admin, "counts", &[&conn.user.id]).await;
    let counts = ok(
        "member counts",
        admin
            .get_channels_member_count()
            .body(vec![channel.clone()])
            .send()
            .await,
    );
    assert_eq!(
        counts.as_ref().and_then(|c| c.get(&channel)),
        Some(&2),
        "{counts:?}"
    );
    support::post(&admin, &channel, "to be read").await;
    let read = ok(
        "mark read",
        admin
            .read_multiple_channels()
            .user_id(&conn.admin.id)
            .body(vec![channel.clone()])
            .send()
            .await,
    );
    assert_eq!(read.status.as_deref(), Some("OK"));
    assert!(
        read.last_viewed_at_times
            .as_ref()
            .is_some_and(|t| t.contains_key(&channel)),
        "{read:?}"
    );
    let _ = admin.delete_channel().channel_id(&channel).send().await;
}

#[tokio::test]
async fn look_ups_searches_and_reports_answer_in_their_types() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let emoji = ok(
        "emoji by names",
        admin
            .get_emojis_by_names()
            .body(vec![support::unique("noemoji")])
            .send()
            .await,
    );
    assert!(emoji.unwrap_or_default().is_empty());
    let files = ok(
        "search files in all teams",
        admin
            .search_files_in_all_teams()
            .body_map(|b| b.terms(support::unique("nofile")).is_or_search(false))
            .send()
            .await,
    );
    assert!(files.order.unwrap_or_default().is_empty());
    let usage = ok("teams usage", admin.get_teams_usage().send().await);
    assert!(usage.active.unwrap_or(0) >= 1, "{usage:?}");
    let count = ok(
        "user count for reporting",
        admin.get_user_count_for_reporting().send().await,
    );
    assert!(count >= 3, "{count}");
}

#[tokio::test]
async fn the_bot_icon_route_is_not_served_by_the_pinned_server() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>".to_vec();
    let err = admin
        .set_bot_icon(
            &conn.bot.user_id,
            matterapi::files::UploadFile::from_bytes("icon.svg", svg),
        )
        .await
        .expect_err("no bot icon route on Mattermost 11.4");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err:?}");
}
