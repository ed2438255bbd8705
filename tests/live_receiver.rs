//! The receiver against the real server: the server calls a receiver on 127.0.0.1 for a slash
//! command, an outgoing webhook, a button and a menu, and a dialog's submission, and does what the
//! typed replies say (posts, updates, field errors). Tokens the receiver refuses, and bodies over
//! its limit, fail the server's call. Each test has its own channel, receiver and integrations,
//! and deletes its integrations at the end.
//!
//! The server must be allowed to call loopback (`ServiceSettings.AllowedUntrustedInternalConnections`
//! with `127.0.0.1`): `testserver/` sets it, and each test makes sure of it through the config API.

mod support;

use std::time::Duration;

use matterapi::receiver::{
    Action, ActionOption, ActionRequest, ActionResponse, Attachment, CommandRequest,
    CommandResponse, ContentType, Dialog, DialogElement, DialogResponse, DialogSubmission,
    OpenDialog, OutgoingWebhook, OutgoingWebhookRequest, OutgoingWebhookResponse, PostUpdate,
    Receiver, SlashCommand, SubmitDialog, Token, attachments_props,
};
use matterapi::{Client, types};
use support::Connection;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

const WAIT: Duration = Duration::from_secs(20);

/// The server may call loopback and has commands, outgoing webhooks and username overrides on:
/// set through `PUT /config/patch` when the config says otherwise.
async fn allow_loopback(admin: &Client) {
    let config: serde_json::Value = admin
        .raw(matterapi::Method::GET, "/config")
        .send_json()
        .await
        .expect("read the config");
    let service = &config["ServiceSettings"];
    let allowed = service["AllowedUntrustedInternalConnections"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let mut hosts: Vec<&str> = allowed.split_whitespace().collect();
    let missing: Vec<&str> = ["127.0.0.1", "localhost"]
        .into_iter()
        .filter(|h| !hosts.contains(h))
        .collect();
    let flags = [
        "EnableCommands",
        "EnableOutgoingWebhooks",
        "EnablePostUsernameOverride",
    ];
    if missing.is_empty() && flags.iter().all(|f| service[*f] == true) {
        return;
    }
    hosts.extend(missing);
    let patch = serde_json::json!({"ServiceSettings": {
        "AllowedUntrustedInternalConnections": hosts.join(" "),
        "EnableCommands": true,
        "EnableOutgoingWebhooks": true,
        "EnablePostUsernameOverride": true,
    }});
    admin
        .raw(matterapi::Method::PUT, "/config/patch")
        .json(&patch)
        .send()
        .await
        .expect("patch the config");
}

/// A listener on 127.0.0.1:0 and its base URL.
async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, base)
}

fn spawn(listener: tokio::net::TcpListener, receiver: Receiver) {
    let router = receiver.into_router().expect("router");
    tokio::spawn(matterapi::receiver::serve(
        listener,
        router,
        std::future::pending(),
    ));
}

/// The posts of `channel_id`, newest first.
async fn posts(admin: &Client, channel_id: &str) -> Vec<types::Post> {
    let list = admin
        .get_posts_for_channel()
        .channel_id(channel_id)
        .per_page(100)
        .send()
        .await
        .expect("channel posts")
        .into_inner();
    let mut map = list.posts.unwrap_or_default();
    list.order
        .unwrap_or_default()
        .iter()
        .filter_map(|id| map.remove(id))
        .collect()
}

/// The first post of `channel_id` that `pick` takes, waiting for it up to [`WAIT`].
async fn wait_post(
    admin: &Client,
    channel_id: &str,
    what: &str,
    pick: impl Fn(&types::Post) -> bool,
) -> types::Post {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(p) = posts(admin, channel_id).await.into_iter().find(|p| pick(p)) {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} in the channel in time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>, what: &str) -> T {
    timeout(WAIT, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("{what}: the handler was not called in time"))
        .unwrap_or_else(|| panic!("{what}: the channel closed"))
}

fn message(post: &types::Post) -> &str {
    post.message.as_deref().unwrap_or("")
}

async fn setup(prefix: &str) -> Option<(Connection, Client, String)> {
    let conn = support::live()?;
    let admin = support::admin(&conn);
    allow_loopback(&admin).await;
    let channel = support::fresh_channel(&conn, &admin, prefix, &[]).await;
    Some((conn, admin, channel))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slash_command_is_answered_in_channel_and_a_bad_token_fails_the_run() {
    let Some((conn, admin, channel)) = setup("rcvcmd").await else {
        return;
    };
    let (listener, base) = listen().await;
    let trigger = support::unique("rcv");
    let registered = admin
        .register_command(
            &SlashCommand::new(&conn.team.id, &trigger, format!("{base}/cmd"))
                .describe("receiver test", "made by tests/live_receiver.rs"),
        )
        .await
        .expect("register the command");
    // A second command whose route expects another token than the server sends.
    let wrong_trigger = support::unique("rcvbad");
    let wrong = admin
        .register_command(&SlashCommand::new(
            &conn.team.id,
            &wrong_trigger,
            format!("{base}/wrong"),
        ))
        .await
        .expect("register the second command");

    let (tx, mut rx) = mpsc::unbounded_channel::<CommandRequest>();
    let (wrong_tx, mut wrong_rx) = mpsc::unbounded_channel::<()>();
    let receiver = Receiver::new()
        .command("/cmd", registered.token.clone(), move |req| {
            let tx = tx.clone();
            async move {
                let reply = CommandResponse::in_channel(format!("pong: {}", req.text))
                    .attachment(Attachment::new("with an attachment").color("good"))
                    .extra_response(CommandResponse::in_channel(format!("second: {}", req.text)));
                let _ = tx.send(req);
                Ok(reply)
            }
        })
        .command(
            "/wrong",
            Token::new("not-the-command-token-xxxx"),
            move |_req| {
                let _ = wrong_tx.send(());
                async { Ok(CommandResponse::in_channel("must not be posted")) }
            },
        );
    spawn(listener, receiver);

    let text = support::unique("hello");
    let response = admin
        .execute_command()
        .body(types::ExecuteCommandBody {
            channel_id: channel.clone(),
            command: format!("/{trigger} {text}"),
        })
        .send()
        .await
        .expect("execute the command");
    assert_eq!(response.status().as_u16(), 200);

    let req = next(&mut rx, "the command").await;
    assert_eq!(req.command, format!("/{trigger}"));
    assert_eq!(req.text, text);
    assert_eq!(req.channel_id, channel);
    assert_eq!(req.team_id, conn.team.id);
    assert_eq!(req.team_domain, conn.team.name);
    assert_eq!(req.user_id, conn.admin.id);
    assert_eq!(req.user_name, conn.admin.username);
    assert!(!req.trigger_id.is_empty(), "a trigger id");
    assert!(
        req.response_url.contains("/hooks/commands/"),
        "a response URL"
    );

    let post = wait_post(&admin, &channel, "in_channel reply", |p| {
        message(p) == format!("pong: {text}")
    })
    .await;
    assert_eq!(post.user_id.as_deref(), Some(conn.admin.id.as_str()));
    let props = serde_json::to_value(&post.props).expect("props");
    assert_eq!(props["attachments"][0]["text"], "with an attachment");
    assert_eq!(props["from_webhook"], "true");
    wait_post(&admin, &channel, "the extra response", |p| {
        message(p) == format!("second: {text}")
    })
    .await;

    // The receiver refuses the second command's token (401): the run fails, nothing is posted.
    let err = admin
        .execute_command()
        .body(types::ExecuteCommandBody {
            channel_id: channel.clone(),
            command: format!("/{wrong_trigger} x"),
        })
        .send()
        .await
        .expect_err("the server reports the refused call");
    assert!(
        err.to_string().contains("401"),
        "the 401 in the server's error: {err}"
    );
    assert!(wrong_rx.try_recv().is_err(), "the handler never ran");

    for id in [&registered.id, &wrong.id] {
        admin
            .delete_command()
            .command_id(id)
            .send()
            .await
            .expect("delete the command");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outgoing_webhooks_in_json_and_form_fire_on_their_trigger_words_and_their_replies_are_posted()
 {
    let Some((conn, admin, channel)) = setup("rcvhook").await else {
        return;
    };
    let (listener, base) = listen().await;
    let mut hooks = Vec::new();
    let mut receiver = Receiver::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<(ContentType, OutgoingWebhookRequest)>();
    let mut words = Vec::new();
    for (content_type, path) in [(ContentType::Json, "/json"), (ContentType::Form, "/form")] {
        let word = support::unique("trig");
        let hook = admin
            .register_outgoing_webhook(
                &OutgoingWebhook::new(&conn.team.id, format!("{base}{path}"), "receiver test")
                    .channel(&channel)
                    .trigger_word(&word)
                    .content_type(content_type),
            )
            .await
            .expect("register the hook");
        let tx = tx.clone();
        receiver = receiver.outgoing_webhook(path, hook.token.clone(), move |req| {
            let tx = tx.clone();
            async move {
                let reply = OutgoingWebhookResponse::text(format!("echo: {}", req.text));
                let _ = tx.send((content_type, req));
                Ok(reply)
            }
        });
        hooks.push(hook);
        words.push((content_type, word));
    }
    spawn(listener, receiver);

    for (content_type, word) in &words {
        let text = format!("{word} {}", support::unique("payload"));
        let post = support::post(&admin, &channel, &text).await;
        let (got_type, req) = next(&mut rx, "the hook").await;
        assert_eq!(got_type, *content_type);
        assert_eq!(req.post_id, post.id.clone().expect("post id"));
        assert_eq!(req.text, text);
        assert_eq!(&req.trigger_word, word);
        assert!(!req.channel_name.is_empty());
        assert_eq!(req.team_domain, conn.team.name);
        assert_eq!(req.user_name, conn.admin.username);
        let created = post.create_at.expect("create_at");
        match content_type {
            ContentType::Json => assert_eq!(req.timestamp_ms, created),
            ContentType::Form => assert_eq!(req.timestamp_ms, created / 1000 * 1000),
        }
        wait_post(&admin, &channel, "the hook's reply", |p| {
            message(p) == format!("echo: {text}")
        })
        .await;
    }
    for hook in &hooks {
        admin
            .delete_outgoing_webhook()
            .hook_id(&hook.id)
            .send()
            .await
            .expect("delete the hook");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_updates_its_post_and_opens_a_dialog_whose_submission_gets_field_errors() {
    let Some((conn, admin, channel)) = setup("rcvact").await else {
        return;
    };
    let (listener, base) = listen().await;
    let secret = Token::new(support::unique("secret"));
    let dialog_url = format!("{base}/dialog");
    let state = support::unique("state");
    let (click_tx, mut clicks) = mpsc::unbounded_channel::<ActionRequest>();
    let (open_tx, mut opened) = mpsc::unbounded_channel::<Result<(), String>>();
    let (sub_tx, mut submissions) = mpsc::unbounded_channel::<DialogSubmission>();
    let opener = admin.clone();
    let checked = secret.clone();
    let (url, dialog_state) = (dialog_url.clone(), state.clone());
    let receiver = Receiver::new()
        .action("/act", move |click: ActionRequest| {
            let genuine = click.context_matches("secret", &checked);
            let (opener, open_tx, click_tx) = (opener.clone(), open_tx.clone(), click_tx.clone());
            let (url, state) = (url.clone(), dialog_state.clone());
            async move {
                if !genuine {
                    return Err(matterapi::receiver::Rejection::with_status(403, "forged"));
                }
                let reply = match click.selected_option() {
                    Some(choice) => ActionResponse::update(PostUpdate::message(format!(
                        "@{} chose {choice}",
                        click.user_name
                    ))),
                    None => {
                        let dialog = Dialog::new("ticket", "New ticket")
                            .element(DialogElement::text("title", "Title"))
                            .element(DialogElement::textarea("body", "Details").optional())
                            .state(state);
                        let result = opener
                            .open_dialog(&OpenDialog::new(&click.trigger_id, url, dialog))
                            .await
                            .map_err(|e| e.to_string());
                        let _ = open_tx.send(result);
                        ActionResponse::update(
                            PostUpdate::message(format!("clicked by @{}", click.user_name))
                                .attachments(&[Attachment::new("done")]),
                        )
                        .with_ephemeral("a dialog opens")
                    }
                };
                let _ = click_tx.send(click);
                Ok(reply)
            }
        })
        .dialog("/dialog", move |sub: DialogSubmission| {
            let sub_tx = sub_tx.clone();
            async move {
                let reply = match sub.text("title") {
                    Some(t) if !t.trim().is_empty() => DialogResponse::ok(),
                    _ => DialogResponse::default().field_error("title", "a title is needed"),
                };
                let _ = sub_tx.send(sub);
                Ok(reply)
            }
        });
    spawn(listener, receiver);

    let attachment = Attachment::new("Open a ticket?")
        .action(
            Action::button("open", "Open", format!("{base}/act"))
                .context("secret", secret.expose()),
        )
        .action(
            Action::select(
                "pick",
                "Priority",
                format!("{base}/act"),
                vec![
                    ActionOption::new("Low", "low"),
                    ActionOption::new("High", "high"),
                ],
            )
            .context("secret", secret.expose()),
        );
    let post = admin
        .create_post()
        .body(types::CreatePostBody {
            channel_id: channel.clone(),
            message: "a post with actions".into(),
            file_ids: vec![],
            metadata: None,
            props: attachments_props(&[attachment]),
            pending_post_id: None,
            root_id: None,
            type_: None,
        })
        .send()
        .await
        .expect("post with actions")
        .into_inner();
    let post_id = post.id.clone().expect("post id");

    // The menu: the choice arrives as the context's selected_option; the post is updated.
    admin
        .click_action(&post_id, "pick", Some("high"))
        .await
        .expect("choose from the menu");
    let click = next(&mut clicks, "the menu").await;
    assert_eq!(click.selected_option(), Some("high"));
    assert_eq!(click.kind, "select");
    let read = admin
        .get_post()
        .post_id(&post_id)
        .send()
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        message(&read),
        format!("@{} chose high", conn.admin.username)
    );

    // The button: the click opens a dialog with its trigger id, the post gets new props.
    let clicked = admin
        .click_action(&post_id, "open", None)
        .await
        .expect("click the button");
    assert_eq!(clicked.status, "OK");
    let click = next(&mut clicks, "the button").await;
    assert_eq!(click.post_id, post_id);
    assert_eq!(click.channel_id, channel);
    assert_eq!(click.team_domain, conn.team.name);
    assert_eq!(click.user_id, conn.admin.id);
    assert_eq!(click.kind, "button");
    assert!(!click.trigger_id.is_empty());
    next(&mut opened, "open_dialog")
        .await
        .expect("the server opened the dialog");
    let read = admin
        .get_post()
        .post_id(&post_id)
        .send()
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        message(&read),
        format!("clicked by @{}", conn.admin.username)
    );
    let props = serde_json::to_value(&read.props).expect("props");
    assert_eq!(props["attachments"][0]["text"], "done");

    // The dialog's submission: an empty title comes back as a field error, a title is accepted.
    let submit = |title: &str| {
        SubmitDialog::new(&dialog_url, &channel, &conn.team.id)
            .dialog("ticket", &state)
            .value("title", title)
            .value("body", "")
    };
    let answer = admin.submit_dialog(&submit(" ")).await.expect("submit");
    assert_eq!(
        answer.errors.get("title").map(String::as_str),
        Some("a title is needed")
    );
    let sub = next(&mut submissions, "the dialog").await;
    assert_eq!(sub.kind, "dialog_submission");
    assert_eq!(sub.callback_id, "ticket");
    assert_eq!(sub.state, state);
    assert_eq!(sub.user_id, conn.admin.id);
    assert_eq!(sub.channel_id, channel);
    let answer = admin
        .submit_dialog(&submit("printer on fire"))
        .await
        .expect("submit");
    assert!(!answer.is_error(), "{answer:?}");
    assert_eq!(
        next(&mut submissions, "the dialog").await.text("title"),
        Some("printer on fire")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_whose_body_is_over_the_limit_or_whose_secret_is_wrong_fails_and_the_post_stays() {
    let Some((_conn, admin, channel)) = setup("rcvlim").await else {
        return;
    };
    let (listener, base) = listen().await;
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let secret = Token::new(support::unique("secret"));
    let checked = secret.clone();
    let receiver = Receiver::new()
        .body_limit(2048)
        .action("/act", move |click: ActionRequest| {
            let genuine = click.context_matches("secret", &checked);
            let _ = tx.send(());
            async move {
                if genuine {
                    Ok(ActionResponse::update(PostUpdate::message("changed")))
                } else {
                    Err(matterapi::receiver::Rejection::with_status(403, "forged"))
                }
            }
        });
    spawn(listener, receiver);
    let attachment = Attachment::new("limits")
        .action(
            Action::button("big", "Big", format!("{base}/act"))
                .context("secret", secret.expose())
                .context("padding", "x".repeat(4096)),
        )
        .action(
            Action::button("forged", "Forged", format!("{base}/act")).context("secret", "guess"),
        );
    let post = admin
        .create_post()
        .body(types::CreatePostBody {
            channel_id: channel.clone(),
            message: "unchanged".into(),
            file_ids: vec![],
            metadata: None,
            props: attachments_props(&[attachment]),
            pending_post_id: None,
            root_id: None,
            type_: None,
        })
        .send()
        .await
        .expect("post")
        .into_inner();
    let post_id = post.id.expect("post id");
    let err = admin
        .click_action(&post_id, "big", None)
        .await
        .expect_err("the receiver's 413 fails the click");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    assert!(rx.try_recv().is_err(), "the handler never ran");
    let err = admin
        .click_action(&post_id, "forged", None)
        .await
        .expect_err("the handler's 403 fails the click");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    next(&mut rx, "the forged click").await;
    let read = admin
        .get_post()
        .post_id(&post_id)
        .send()
        .await
        .expect("read")
        .into_inner();
    assert_eq!(message(&read), "unchanged");
}
