//! The receiver on loopback, without the Mattermost server: each callback posted the way the
//! server posts it (its headers, form or JSON encoding, repeated mention keys), and every kind of
//! bad callback refused with its typed reply: tokens, limits, malformed bodies, media types,
//! methods, timeouts and panics.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use matterapi::receiver::{
    Action, ActionOption, ActionRequest, ActionResponse, Attachment, CommandRequest,
    CommandResponse, DialogResponse, DialogSubmission, ErrorReply, OutgoingWebhookRequest,
    OutgoingWebhookResponse, PostUpdate, Receiver, Rejection, Token, axum,
};
use tokio::sync::mpsc;

const TOKEN: &str = "abcdefghijklmnopqrstuvwxyz";

/// `router` served on 127.0.0.1:0; its base URL. The server stops with the test's runtime.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(matterapi::receiver::serve(
        listener,
        router,
        std::future::pending(),
    ));
    format!("http://{addr}")
}

fn http() -> reqwest::Client {
    // reqwest is built without a rustls provider of its own (the crate picks ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn error_of(response: reqwest::Response) -> (u16, ErrorReply) {
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let reply = response.json::<ErrorReply>().await.expect("an ErrorReply");
    (status, reply)
}

/// A receiver with one command route at `/cmd` whose requests go to the returned channel.
fn command_receiver() -> (Receiver, mpsc::UnboundedReceiver<CommandRequest>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let receiver = Receiver::new().command("/cmd", Token::new(TOKEN), move |req| {
        let tx = tx.clone();
        async move {
            let text = format!("you said {}", req.text);
            let _ = tx.send(req);
            Ok(CommandResponse::in_channel(text)
                .goto_location("/testteam/channels/town-square")
                .attachment(
                    Attachment::new("pick one")
                        .action(
                            Action::button("yes", "Yes", "http://127.0.0.1:1/act").context("n", 1),
                        )
                        .action(Action::select(
                            "menu",
                            "Choose",
                            "http://127.0.0.1:1/act",
                            vec![ActionOption::new("A", "a")],
                        )),
                )
                .extra_response(CommandResponse::ephemeral("only you see this")))
        }
    });
    (receiver, rx)
}

/// A command's form as the server encodes it, with two user mentions.
fn command_form(token: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .append_pair("team_id", "team1")
        .append_pair("team_domain", "testteam")
        .append_pair("channel_id", "chan1")
        .append_pair("channel_name", "town-square")
        .append_pair("user_id", "user1")
        .append_pair("user_name", "alice")
        .append_pair("command", "/poll")
        .append_pair("text", "lunch? @bob @carol ~town-square")
        .append_pair("trigger_id", "trig1")
        .append_pair("root_id", "")
        .append_pair("user_mentions", "bob")
        .append_pair("user_mentions_ids", "bobid")
        .append_pair("user_mentions", "carol")
        .append_pair("user_mentions_ids", "carolid")
        .append_pair("channel_mentions", "town-square")
        .append_pair("channel_mentions_ids", "chan1")
        .append_pair(
            "response_url",
            "http://127.0.0.1:8065/hooks/commands/hookid",
        )
        .finish()
}

#[tokio::test]
async fn a_command_form_is_typed_and_its_reply_has_every_part() {
    let (receiver, mut rx) = command_receiver();
    let base = serve(receiver.into_router().expect("router")).await;
    let response = http()
        .post(format!("{base}/cmd"))
        .header("Authorization", format!("Token {TOKEN}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(command_form(TOKEN))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let reply: serde_json::Value = response.json().await.expect("json");
    assert_eq!(reply["response_type"], "in_channel");
    assert_eq!(reply["text"], "you said lunch? @bob @carol ~town-square");
    assert_eq!(reply["goto_location"], "/testteam/channels/town-square");
    assert_eq!(reply["extra_responses"][0]["response_type"], "ephemeral");
    let actions = &reply["attachments"][0]["actions"];
    assert_eq!(actions[0]["type"], "button");
    assert_eq!(actions[0]["id"], "yes");
    assert_eq!(actions[0]["integration"]["url"], "http://127.0.0.1:1/act");
    assert_eq!(actions[0]["integration"]["context"]["n"], 1);
    assert_eq!(actions[1]["type"], "select");
    assert_eq!(actions[1]["options"][0]["value"], "a");
    // The reply reads back into the typed response.
    let typed: CommandResponse = serde_json::from_value(reply).expect("typed");
    assert_eq!(typed.extra_responses.len(), 1);

    let req = rx.recv().await.expect("the handler ran");
    assert_eq!(req.command, "/poll");
    assert_eq!(req.user_name, "alice");
    assert_eq!(req.team_domain, "testteam");
    assert_eq!(req.channel_name, "town-square");
    assert_eq!(req.trigger_id, "trig1");
    assert_eq!(
        req.user_mentions.get("bob").map(String::as_str),
        Some("bobid")
    );
    assert_eq!(
        req.user_mentions.get("carol").map(String::as_str),
        Some("carolid")
    );
    assert_eq!(
        req.channel_mentions.get("town-square").map(String::as_str),
        Some("chan1")
    );
    let debug = format!("{req:?}");
    assert!(
        !debug.contains("hookid"),
        "Debug hides the response URL: {debug}"
    );
}

#[tokio::test]
async fn a_command_comes_by_get_query_or_json_and_the_form_token_alone_is_enough() {
    let (receiver, mut rx) = command_receiver();
    let base = serve(receiver.into_router().expect("router")).await;
    let get = http()
        .get(format!("{base}/cmd?{}", command_form(TOKEN)))
        .header("Authorization", format!("Token {TOKEN}"))
        .send()
        .await
        .expect("send");
    assert_eq!(get.status(), 200);
    assert_eq!(
        rx.recv().await.expect("ran").text,
        "lunch? @bob @carol ~town-square"
    );

    let json = serde_json::json!({
        "token": TOKEN, "channel_id": "c", "user_id": "u", "command": "/j", "text": "hi",
        "user_mentions": ["bob"], "user_mentions_ids": ["bobid"]
    });
    let post = http()
        .post(format!("{base}/cmd"))
        .json(&json)
        .send()
        .await
        .expect("send");
    assert_eq!(post.status(), 200);
    let req = rx.recv().await.expect("ran");
    assert_eq!((req.command.as_str(), req.text.as_str()), ("/j", "hi"));
    assert_eq!(req.user_mentions.len(), 1);

    // No Authorization header: the form's token is checked.
    let form_only = http()
        .post(format!("{base}/cmd"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(command_form(TOKEN))
        .send()
        .await
        .expect("send");
    assert_eq!(form_only.status(), 200);
}

#[tokio::test]
async fn bad_and_missing_tokens_get_401_and_the_handler_never_runs() {
    let ran = Arc::new(AtomicUsize::new(0));
    let counted = ran.clone();
    let hook_ran = ran.clone();
    let router = Receiver::new()
        .command("/cmd", Token::new(TOKEN), move |_req| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Ok(CommandResponse::ephemeral("no")) }
        })
        .outgoing_webhook("/hook", Token::new(TOKEN), move |_req| {
            hook_ran.fetch_add(1, Ordering::SeqCst);
            async { Ok(OutgoingWebhookResponse::none()) }
        })
        .into_router()
        .expect("router");
    let base = serve(router).await;
    let wrong = "abcdefghijklmnopqrstuvwxyZ";
    let cases = [
        // (path, header token, body, expected kind)
        ("/cmd", Some(wrong), command_form(wrong), "bad_token"),
        ("/cmd", Some(wrong), command_form(TOKEN), "bad_token"),
        ("/cmd", None, command_form(wrong), "bad_token"),
        ("/cmd", None, command_form(""), "missing_token"),
        ("/cmd", Some("short"), command_form(TOKEN), "bad_token"),
        (
            "/hook",
            None,
            "token=nope&post_id=p&channel_id=c".to_owned(),
            "bad_token",
        ),
        (
            "/hook",
            None,
            "post_id=p&channel_id=c".to_owned(),
            "missing_token",
        ),
    ];
    for (path, header, body, kind) in cases {
        let mut request = http()
            .post(format!("{base}{path}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(t) = header {
            request = request.header("Authorization", format!("Token {t}"));
        }
        let (status, reply) = error_of(request.send().await.expect("send")).await;
        assert_eq!(
            (status, reply.error.as_str()),
            (401, kind),
            "{path} {header:?}"
        );
        assert!(!reply.message.contains(TOKEN) && !reply.message.contains(wrong));
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_outgoing_webhook_is_typed_from_a_form_and_from_json() {
    let (tx, mut rx) = mpsc::unbounded_channel::<OutgoingWebhookRequest>();
    let router = Receiver::new()
        .outgoing_webhook("/hook", Token::new(TOKEN), move |req| {
            let tx = tx.clone();
            async move {
                let reply = OutgoingWebhookResponse::text(format!("echo {}", req.text)).comment();
                let _ = tx.send(req);
                Ok(reply)
            }
        })
        .into_router()
        .expect("router");
    let base = serve(router).await;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", TOKEN)
        .append_pair("team_id", "t")
        .append_pair("team_domain", "testteam")
        .append_pair("channel_id", "c")
        .append_pair("channel_name", "town-square")
        .append_pair("timestamp", "1700000000")
        .append_pair("user_id", "u")
        .append_pair("user_name", "alice")
        .append_pair("post_id", "p")
        .append_pair("text", "deploy now")
        .append_pair("trigger_word", "deploy")
        .append_pair("file_ids", "f1,f2")
        .finish();
    let response = http()
        .post(format!("{base}/hook"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let reply: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        reply,
        serde_json::json!({"text": "echo deploy now", "response_type": "comment"})
    );
    let req = rx.recv().await.expect("ran");
    assert_eq!(req.timestamp_ms, 1_700_000_000_000);
    assert_eq!(req.file_ids, ["f1", "f2"]);
    assert_eq!(req.trigger_word, "deploy");

    let json = serde_json::json!({
        "token": TOKEN, "team_id": "t", "team_domain": "testteam", "channel_id": "c",
        "channel_name": "x", "timestamp": 1_700_000_000_123_i64, "user_id": "u",
        "user_name": "alice", "post_id": "p", "text": "deploy", "trigger_word": "deploy",
        "file_ids": ""
    });
    let response = http()
        .post(format!("{base}/hook"))
        .json(&json)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let req = rx.recv().await.expect("ran");
    assert_eq!(req.timestamp_ms, 1_700_000_000_123);
    assert!(req.file_ids.is_empty());
}

/// A receiver with an action route at `/act` and a dialog route at `/dialog`.
fn action_and_dialog(limit: usize) -> Receiver {
    let secret = Token::new("s3cret-s3cret");
    Receiver::new()
        .body_limit(limit)
        .action("/act", move |click: ActionRequest| {
            let genuine = click.context_matches("secret", &secret);
            async move {
                if !genuine {
                    return Err(Rejection::with_status(403, "not from our post"));
                }
                Ok(ActionResponse::update(PostUpdate::message(format!(
                    "{} chose {}",
                    click.user_name,
                    click.selected_option().unwrap_or("-")
                )))
                .with_ephemeral("noted"))
            }
        })
        .dialog("/dialog", |sub: DialogSubmission| async move {
            match sub.text("title") {
                Some(t) if !t.is_empty() => Ok(DialogResponse::ok()),
                _ => Ok(DialogResponse::default().field_error("title", "a title is needed")),
            }
        })
}

#[tokio::test]
async fn actions_and_dialogs_are_typed_and_their_replies_are_what_the_server_reads() {
    let base = serve(action_and_dialog(64 * 1024).into_router().expect("router")).await;
    let click = serde_json::json!({
        "user_id": "u", "user_name": "alice", "channel_id": "c", "channel_name": "x",
        "team_id": "t", "team_domain": "testteam", "post_id": "p", "trigger_id": "tr",
        "type": "select", "data_source": "",
        "context": {"secret": "s3cret-s3cret", "selected_option": "b"}
    });
    let response = http()
        .post(format!("{base}/act"))
        .json(&click)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let reply: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        reply,
        serde_json::json!({"update": {"message": "alice chose b"}, "ephemeral_text": "noted"})
    );
    let parsed: ActionRequest = serde_json::from_value(click.clone()).expect("typed");
    assert!(
        !format!("{parsed:?}").contains("s3cret"),
        "Debug hides the context's values"
    );

    let mut forged = click;
    forged["context"]["secret"] = "guess".into();
    let (status, reply) = error_of(
        http()
            .post(format!("{base}/act"))
            .json(&forged)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((status, reply.error.as_str()), (403, "handler"));

    let submit = |title: &str| {
        serde_json::json!({
            "type": "dialog_submission", "callback_id": "cb", "state": "st", "user_id": "u",
            "channel_id": "c", "team_id": "t", "submission": {"title": title}, "cancelled": false
        })
    };
    let response = http()
        .post(format!("{base}/dialog"))
        .json(&submit(""))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let reply: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        reply,
        serde_json::json!({"errors": {"title": "a title is needed"}})
    );
    let response = http()
        .post(format!("{base}/dialog"))
        .json(&submit("x"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.text().await.expect("text"), "{}");
}

#[tokio::test]
async fn oversized_bodies_get_413_with_or_without_a_content_length() {
    let base = serve(action_and_dialog(1024).into_router().expect("router")).await;
    let big = format!("{{\"user_id\": \"{}\"}}", "x".repeat(4096));
    let (status, reply) = error_of(
        http()
            .post(format!("{base}/act"))
            .header("Content-Type", "application/json")
            .body(big.clone())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((status, reply.error.as_str()), (413, "too_large"));

    // Chunked: no Content-Length, the limit stops the read.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .into_bytes()
        .chunks(256)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let (status, reply) = error_of(
        http()
            .post(format!("{base}/act"))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((status, reply.error.as_str()), (413, "too_large"));
}

#[tokio::test]
async fn malformed_callbacks_get_typed_400_415_and_405() {
    let (commands, _rx) = command_receiver();
    let router = action_and_dialog(64 * 1024)
        .into_router()
        .expect("router")
        .merge(commands.into_router().expect("router"));
    let base = serve(router).await;
    let post = |path: &str, content_type: &str, body: &str| {
        http()
            .post(format!("{base}{path}"))
            .header("Content-Type", content_type)
            .body(body.to_owned())
            .send()
    };
    let cases = [
        (
            "/act",
            "application/json",
            "{not json",
            400,
            "malformed",
            "invalid JSON",
        ),
        (
            "/act",
            "application/json",
            "{\"user_id\": 5}",
            400,
            "malformed",
            "user_id",
        ),
        ("/act", "application/json", "[1,2]", 400, "malformed", "[0]"),
        (
            "/act",
            "application/json",
            "{} trailing",
            400,
            "malformed",
            "invalid JSON",
        ),
        (
            "/dialog",
            "application/json",
            "{\"submission\": \"x\"}",
            400,
            "malformed",
            "submission",
        ),
        (
            "/dialog",
            "application/x-www-form-urlencoded",
            "a=b",
            415,
            "unsupported_media_type",
            "form",
        ),
        (
            "/act",
            "text/plain",
            "hi",
            415,
            "unsupported_media_type",
            "text/plain",
        ),
        (
            "/cmd",
            "application/json",
            "{\"token\": 5}",
            400,
            "malformed",
            "token",
        ),
        (
            "/cmd",
            "text/xml",
            "<a/>",
            415,
            "unsupported_media_type",
            "xml",
        ),
    ];
    for (path, content_type, body, status, kind, mentions) in cases {
        let (got, reply) = error_of(post(path, content_type, body).await.expect("send")).await;
        assert_eq!((got, reply.error.as_str()), (status, kind), "{path} {body}");
        assert!(
            reply.message.contains(mentions),
            "{path} {body}: {}",
            reply.message
        );
    }
    // A command with a good token but no command field.
    let form = format!("token={TOKEN}&user_id=u");
    let (status, reply) = error_of(
        post("/cmd", "application/x-www-form-urlencoded", &form)
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((status, reply.error.as_str()), (400, "malformed"));
    assert!(reply.message.contains("command"), "{}", reply.message);
    // Mention lists that do not pair up.
    let form = format!("token={TOKEN}&user_id=u&channel_id=c&command=/x&user_mentions=bob");
    let (status, _) = error_of(
        post("/cmd", "application/x-www-form-urlencoded", &form)
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, 400);
    // Methods.
    let (status, reply) = error_of(
        http()
            .get(format!("{base}/act"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((status, reply.error.as_str()), (405, "method_not_allowed"));
    let (status, _) = error_of(
        http()
            .put(format!("{base}/cmd"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn a_slow_handler_gets_503_and_a_panicking_one_500_and_the_server_goes_on() {
    let router = Receiver::new()
        .timeout(Duration::from_millis(300))
        .action("/slow", |_click| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(ActionResponse::default())
        })
        .action("/panic", |click: ActionRequest| async move {
            if click.user_id.is_empty() {
                panic!("the handler's own bug");
            }
            Ok(ActionResponse::default())
        })
        .into_router()
        .expect("router");
    let base = serve(router).await;
    let started = std::time::Instant::now();
    let (status, reply) = error_of(
        http()
            .post(format!("{base}/slow"))
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((status, reply.error.as_str()), (503, "timeout"));
    assert!(started.elapsed() < Duration::from_secs(3));
    for _ in 0..2 {
        let (status, reply) = error_of(
            http()
                .post(format!("{base}/panic"))
                .json(&serde_json::json!({}))
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!((status, reply.error.as_str()), (500, "handler"));
    }
    let ok = http()
        .post(format!("{base}/panic"))
        .json(&serde_json::json!({"user_id": "u"}))
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), 200);
}

#[test]
fn routes_that_axum_would_panic_on_are_refused_as_errors() {
    let noop = |_c: ActionRequest| async { Ok(ActionResponse::default()) };
    for (paths, why) in [
        (vec!["no-slash"], "start with /"),
        (vec!["/a/{id}"], "{"),
        (vec!["/a/*rest"], "*"),
        (vec!["/same", "/same"], "two routes"),
    ] {
        let mut receiver = Receiver::new();
        for p in &paths {
            receiver = receiver.action(*p, noop);
        }
        let err = receiver.into_router().expect_err("refused");
        assert!(err.to_string().contains(why), "{paths:?}: {err}");
    }
}

#[tokio::test]
async fn the_router_merges_into_an_application_router() {
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "up" }))
        .nest(
            "/mm",
            action_and_dialog(1024).into_router().expect("router"),
        );
    let base = serve(app).await;
    let health = http()
        .get(format!("{base}/health"))
        .send()
        .await
        .expect("send");
    assert_eq!(health.text().await.expect("text"), "up");
    let response = http()
        .post(format!("{base}/mm/dialog"))
        .json(&serde_json::json!({"submission": {"title": "t"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
}
