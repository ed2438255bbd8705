//! The websocket listener against the scripted Mattermost peer (`tests/support/ws_peer.rs`):
//! authentication, typed events, resume and resync, sequence gaps, keepalive, bad frames, revoked
//! sessions, actions and shutdown.
//!
//! Every test runs on tokio's paused clock (`start_paused`): the peer lives in the same runtime, so
//! waits (reconnect backoff, ping intervals, the test's own timeouts) take no real time, and a test
//! that would hang fails at once on its timeout instead of waiting on a wall clock. (The files
//! whose REST side is wiremock run on the real clock: wiremock serves from its own runtime.)

mod support;

use support::ws_error;

use std::time::Duration;

use futures_util::StreamExt;
use matterapi::ws::{
    BadFrameKind, DisconnectReason, EventKind, EventStream, Presence, WsError, WsHandle, WsItem,
};
use serde_json::json;
use support::ws_peer::{self, BUFFER, Peer, TOKEN, next};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(5);

/// The next event, skipping lifecycle items.
async fn next_event(stream: &mut EventStream) -> matterapi::ws::Event {
    loop {
        match next(stream).await {
            WsItem::Event(ev) => return ev,
            WsItem::Error(e) if e.is_terminal() => panic!("terminal error: {e}"),
            _ => {}
        }
    }
}

/// `n` of the test events published by [`publish_n`].
fn n_of(ev: &matterapi::ws::Event) -> i64 {
    match &ev.kind {
        EventKind::Unknown { event, data } if event == "test_event" => {
            data["n"].as_i64().expect("n")
        }
        other => panic!("not a test event: {other:?}"),
    }
}

fn publish_n(peer: &Peer, range: std::ops::Range<i64>) {
    for n in range {
        peer.publish("test_event", json!({ "n": n }));
    }
}

/// Connects and takes the first items: `Connected`, then the `hello` event.
async fn connect(peer: &Peer) -> (WsHandle, EventStream, String) {
    connect_with(peer, peer.client().websocket()).await
}

async fn connect_with(
    peer: &Peer,
    ws: matterapi::ws::Websocket,
) -> (WsHandle, EventStream, String) {
    let (handle, mut stream) = ws.connect().await.expect("connect");
    let WsItem::Connected {
        connection_id,
        resumed: false,
    } = next(&mut stream).await
    else {
        panic!("expected Connected first");
    };
    let hello = next_event(&mut stream).await;
    assert!(matches!(hello.kind, EventKind::Hello(ref h) if h.connection_id == connection_id));
    assert_eq!(hello.seq, Some(0));
    let _ = peer;
    (handle, stream, connection_id)
}

#[tokio::test(start_paused = true)]
async fn authenticates_with_the_bearer_header_and_sends_no_origin() {
    let peer = Peer::start().await;
    let (handle, _stream, id) = connect(&peer).await;
    peer.wait_until("the ping probe", WAIT, |p| !p.actions().is_empty())
        .await;
    let up = &peer.upgrades()[0];
    assert_eq!(
        up.headers.get("authorization").map(String::as_str),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(!up.headers.contains_key("origin"), "{:?}", up.headers);
    assert!(up.uri.starts_with("/api/v4/websocket"), "{}", up.uri);
    assert!(!up.uri.contains(TOKEN), "no token in the query");
    assert_eq!(id.len(), 26);
    assert_eq!(handle.connection_id().as_deref(), Some(id.as_str()));
    assert!(handle.is_connected());
    // The handshake's probe: the ping action with seq 1.
    let first = &peer.actions()[0];
    assert_eq!((first.action.as_str(), first.seq), ("ping", 1));
}

#[tokio::test(start_paused = true)]
async fn falls_back_to_the_authentication_challenge_when_the_header_is_lost() {
    let peer = Peer::start().await;
    peer.knobs(|k| k.header_auth = false);
    let (_handle, _stream, _id) = connect(&peer).await;
    let actions = peer.actions();
    let challenge = actions
        .iter()
        .find(|a| a.action == "authentication_challenge")
        .expect("a challenge");
    assert_eq!(challenge.data["token"], TOKEN);
    assert_eq!(challenge.seq, 2, "after the ping probe");
}

#[tokio::test(start_paused = true)]
async fn a_rejected_token_is_an_error_from_connect() {
    let peer = Peer::start().await;
    let client = peer.builder().token("not-a-valid-token").build().unwrap();
    let started = std::time::Instant::now();
    let err = client
        .websocket()
        .connect()
        .await
        .map(|_| ())
        .expect_err("rejected");
    assert!(matches!(ws_error(&err), WsError::AuthRejected), "{err:?}");
    assert!(ws_error(&err).is_terminal());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "no endless retry"
    );
    assert_eq!(peer.upgrades().len(), 1, "one attempt");
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_server_is_an_error_from_connect() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = matterapi::Client::builder(format!("http://127.0.0.1:{port}"))
        .token(TOKEN)
        .proxies(ws_peer::no_proxies())
        .build()
        .unwrap();
    let err = client.websocket().connect().await.map(|_| ()).unwrap_err();
    let WsError::Connect { url, source } = ws_error(&err) else {
        panic!("{err:?}")
    };
    assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
    // The cause is kept as a typed source, down to the operating system's error.
    assert_eq!(source.stage(), matterapi::ws::ConnectionStage::Tcp);
    let io = std::error::Error::source(source)
        .and_then(|e| e.downcast_ref::<std::io::Error>())
        .expect("the I/O error is the source");
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(
        std::error::Error::source(&err).is_some(),
        "WsError::Connect has a source"
    );
}

#[tokio::test(start_paused = true)]
async fn events_arrive_typed_with_seq_broadcast_and_raw_frame() {
    let peer = Peer::start().await;
    let (_handle, mut stream, _id) = connect(&peer).await;
    let post = json!({"id": "p1", "channel_id": "c1", "message": "hello there", "user_id": "u1"});
    peer.publish(
        "posted",
        json!({
            "post": post.to_string(),
            "mentions": json!(["u2", "u3"]).to_string(),
            "channel_type": "O", "channel_name": "town-square", "sender_name": "@alice",
            "team_id": "t1", "set_online": true
        }),
    );
    peer.publish(
        "reaction_added",
        json!({"reaction": json!({"user_id": "u1", "post_id": "p1", "emoji_name": "+1"}).to_string()}),
    );
    peer.publish("typing", json!({"user_id": "u1", "parent_id": ""}));
    peer.publish("status_change", json!({"user_id": "u1", "status": "away"}));
    peer.publish(
        "channel_deleted",
        json!({"channel_id": "c9", "delete_at": 42}),
    );
    peer.publish(
        "user_updated",
        json!({"user": {"id": "u1", "username": "alice"}}),
    );

    let ev = next_event(&mut stream).await;
    assert_eq!(ev.seq, Some(1));
    let EventKind::Posted(p) = &ev.kind else {
        panic!("{:?}", ev.kind)
    };
    assert_eq!(p.post.message.as_deref(), Some("hello there"));
    assert_eq!(p.mentions, ["u2", "u3"]);
    assert_eq!(p.channel_name, "town-square");
    assert!(p.set_online);
    assert_eq!(ev.channel_id(), Some("c1"));
    assert!(
        ev.raw().contains(r#"\"message\":\"hello there\""#),
        "the raw frame keeps the double encoding"
    );
    assert_eq!(ev.data()["channel_type"], "O");

    let ev = next_event(&mut stream).await;
    let EventKind::ReactionAdded(r) = &ev.kind else {
        panic!("{:?}", ev.kind)
    };
    assert_eq!(r.reaction.emoji_name.as_deref(), Some("+1"));
    assert!(
        matches!(next_event(&mut stream).await.kind, EventKind::Typing(ref t) if t.user_id == "u1")
    );
    assert!(
        matches!(next_event(&mut stream).await.kind, EventKind::StatusChange(ref s) if s.status == "away")
    );
    assert!(
        matches!(next_event(&mut stream).await.kind, EventKind::ChannelDeleted(ref c) if c.delete_at == 42)
    );
    let ev = next_event(&mut stream).await;
    assert!(
        matches!(ev.kind, EventKind::UserUpdated(ref u) if u.user.username.as_deref() == Some("alice"))
    );
    assert_eq!(ev.seq, Some(6));
}

#[tokio::test(start_paused = true)]
async fn unknown_and_plugin_events_are_delivered_not_errors() {
    let peer = Peer::start().await;
    let (_handle, mut stream, _id) = connect(&peer).await;
    peer.publish("custom_com.example.plugin_thing", json!({"x": [1, 2]}));
    peer.publish("some_event_from_the_future", json!({}));
    let ev = next_event(&mut stream).await;
    assert_eq!(ev.event_type(), "custom_com.example.plugin_thing");
    assert!(matches!(ev.kind, EventKind::Unknown { ref data, .. } if data["x"][1] == 2));
    assert_eq!(
        next_event(&mut stream).await.event_type(),
        "some_event_from_the_future"
    );
}

#[tokio::test(start_paused = true)]
async fn resumes_after_drop_without_waiting_for_hello() {
    let peer = Peer::start().await;
    let (_handle, mut stream, id) = connect(&peer).await;
    publish_n(&peer, 0..3);
    for n in 0..3 {
        assert_eq!(n_of(&next_event(&mut stream).await), n);
    }
    peer.drop_all();
    // Published while the client is away: kept in the connection's buffer.
    publish_n(&peer, 3..6);
    let mut saw_disconnect = false;
    loop {
        match next(&mut stream).await {
            WsItem::Disconnected { .. } => saw_disconnect = true,
            WsItem::Connected {
                connection_id,
                resumed,
            } => {
                assert!(resumed, "resumed");
                assert_eq!(connection_id, id);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(saw_disconnect);
    for n in 3..6 {
        let ev = next_event(&mut stream).await;
        assert_eq!(n_of(&ev), n, "replayed in order, no hello");
    }
    let resume = peer.upgrades().last().cloned().unwrap();
    assert_eq!(resume.query("connection_id").as_deref(), Some(id.as_str()));
    assert_eq!(resume.query("sequence_number").as_deref(), Some("4"));
}

#[tokio::test(start_paused = true)]
async fn a_forgotten_connection_gives_resync_and_a_new_hello() {
    let peer = Peer::start().await;
    let (_handle, mut stream, id) = connect(&peer).await;
    peer.forget_connections();
    peer.drop_all();
    let mut items = Vec::new();
    let new_id = loop {
        match next(&mut stream).await {
            WsItem::Connected {
                connection_id,
                resumed,
            } => {
                assert!(!resumed);
                break connection_id;
            }
            other => items.push(other),
        }
    };
    assert_ne!(new_id, id);
    assert!(matches!(next(&mut stream).await, WsItem::Resync));
    let hello = next_event(&mut stream).await;
    assert!(matches!(hello.kind, EventKind::Hello(_)));
    // Numbering starts again.
    publish_n(&peer, 0..1);
    assert_eq!(next_event(&mut stream).await.seq, Some(1));
}

#[tokio::test(start_paused = true)]
async fn more_missed_events_than_the_buffer_gives_resync() {
    let peer = Peer::start().await;
    let client = peer
        .builder()
        .ws_reconnect_wait_time(Duration::from_millis(300))
        .build()
        .unwrap();
    let ws = client.websocket().backoff(
        matterapi::ws::Backoff::new(Duration::from_millis(300)).with_jitter(Duration::ZERO),
    );
    let (_handle, mut stream, _id) = connect_with(&peer, ws).await;
    peer.drop_all();
    // More than the connection's buffer while the client waits to reconnect.
    publish_n(&peer, 0..(BUFFER as i64 + 10));
    let mut resync = false;
    loop {
        match next(&mut stream).await {
            WsItem::Resync => resync = true,
            WsItem::Event(ev) if matches!(ev.kind, EventKind::Hello(_)) => break,
            _ => {}
        }
    }
    assert!(resync);
}

#[tokio::test(start_paused = true)]
async fn a_sequence_gap_closes_with_4001_and_resumes_from_the_first_missed_event() {
    let peer = Peer::start().await;
    let (_handle, mut stream, id) = connect(&peer).await;
    publish_n(&peer, 0..2);
    peer.knobs(|k| k.skip_seq = 1); // the next event's predecessor is "lost on the wire"
    publish_n(&peer, 2..4);
    assert_eq!(n_of(&next_event(&mut stream).await), 0);
    assert_eq!(n_of(&next_event(&mut stream).await), 1);
    let mut reasons = Vec::new();
    loop {
        match next(&mut stream).await {
            WsItem::Disconnected { reason, .. } => reasons.push(reason),
            WsItem::Connected {
                connection_id,
                resumed,
            } => {
                assert!(resumed);
                assert_eq!(connection_id, id);
                break;
            }
            WsItem::Event(ev) => panic!("no event past the gap: {:?}", ev.seq),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        matches!(
            reasons[0],
            DisconnectReason::SequenceGap {
                expected: 3,
                received: 4
            }
        ),
        "{reasons:?}"
    );
    // The lost one (seq 3, a copy of n=2 made by the peer) comes back, then n=2 and n=3.
    let replayed = next_event(&mut stream).await;
    assert_eq!(replayed.seq, Some(3));
    let ev = next_event(&mut stream).await;
    assert_eq!((ev.seq, n_of(&ev)), (Some(4), 2));
    let ev = next_event(&mut stream).await;
    assert_eq!((ev.seq, n_of(&ev)), (Some(5), 3));
    peer.wait_until("the client's close code", WAIT, |p| {
        p.client_close_codes().contains(&4001)
    })
    .await;
    assert_eq!(
        peer.upgrades()
            .last()
            .unwrap()
            .query("sequence_number")
            .as_deref(),
        Some("3")
    );
}

#[tokio::test(start_paused = true)]
async fn binary_and_garbage_frames_are_error_items_and_the_connection_goes_on() {
    let peer = Peer::start().await;
    let (_handle, mut stream, _id) = connect(&peer).await;
    peer.send_raw(Message::binary(vec![0x81, 0xa1, 0x61]));
    peer.send_raw(Message::text("this is not json"));
    peer.send_raw(Message::text(r#"{"neither":"event nor reply"}"#));
    peer.publish("typing", json!({"user_id": 7})); // wrong type for user_id
    publish_n(&peer, 0..1);
    let mut kinds = Vec::new();
    for _ in 0..4 {
        match next(&mut stream).await {
            WsItem::Error(WsError::BadFrame { kind, raw, .. }) => {
                assert!(!raw.is_empty());
                kinds.push(kind);
            }
            other => panic!("expected a bad frame, got {other:?}"),
        }
    }
    assert_eq!(
        kinds,
        [
            BadFrameKind::Binary,
            BadFrameKind::InvalidJson,
            BadFrameKind::UnexpectedShape,
            BadFrameKind::UnexpectedShape
        ]
    );
    // The bad `typing` still counted in the numbering: no gap, no reconnect.
    let ev = next_event(&mut stream).await;
    assert_eq!((ev.seq, n_of(&ev)), (Some(2), 0));
    assert_eq!(peer.upgrades().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn keeps_answering_pings_while_the_consumer_is_stalled_and_loses_nothing() {
    let peer = Peer::start().await;
    peer.knobs(|k| k.ws_ping_every = Some(Duration::from_millis(20)));
    let ws = peer.client().websocket().queue_capacity(4).buffer(8);
    let (_handle, mut stream, id) = connect_with(&peer, ws).await;
    publish_n(&peer, 0..100);
    // Nobody reads the stream for a while: queue and buffer fill up, the rest of the events stay
    // with the server, and the reader goes on answering pings.
    let before = peer.pongs();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        peer.pongs() >= before + 5,
        "pongs while the consumer is stalled"
    );
    let mut got = Vec::new();
    let mut overflowed = false;
    while got.len() < 100 {
        match next(&mut stream).await {
            WsItem::Event(ev) => got.push(n_of(&ev)),
            WsItem::Disconnected { reason, .. } => {
                assert_eq!(reason, DisconnectReason::Overflow);
                overflowed = true;
            }
            WsItem::Connected {
                connection_id,
                resumed,
            } => {
                assert!(resumed);
                assert_eq!(connection_id, id);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(overflowed, "the events past the buffer were fetched again");
    assert_eq!(
        got,
        (0..100).collect::<Vec<_>>(),
        "every event once, in order"
    );
}

#[tokio::test(start_paused = true)]
async fn withheld_ping_replies_mean_a_dead_socket() {
    let peer = Peer::start().await;
    let ws = peer
        .client()
        .websocket()
        .ping_interval(Duration::from_millis(50))
        .ping_timeout(Duration::from_millis(100));
    let (_handle, mut stream, _id) = connect_with(&peer, ws).await;
    peer.knobs(|k| k.answer_pings = false);
    loop {
        if let WsItem::Disconnected { reason, .. } = next(&mut stream).await {
            assert_eq!(reason, DisconnectReason::PingTimeout);
            break;
        }
    }
    peer.knobs(|k| k.answer_pings = true);
    loop {
        if let WsItem::Connected { resumed, .. } = next(&mut stream).await {
            assert!(resumed);
            break;
        }
    }
    peer.wait_until("close code 4000", WAIT, |p| {
        p.client_close_codes().contains(&4000)
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_revoked_session_without_relogin_is_a_terminal_error() {
    let peer = Peer::start().await;
    let ws = peer
        .client()
        .websocket()
        .relogin(false)
        .ping_interval(Duration::from_millis(50));
    let (handle, mut stream, _id) = connect_with(&peer, ws).await;
    peer.revoke(TOKEN);
    loop {
        match next(&mut stream).await {
            WsItem::Error(WsError::SessionRevoked) => break,
            WsItem::Error(e) => panic!("{e}"),
            _ => {}
        }
    }
    let end = tokio::time::timeout(WAIT, stream.next()).await.unwrap();
    assert!(end.is_none(), "the stream ends after a terminal error");
    assert!(handle.is_stopped());
    let err = handle.ping().await.expect_err("stopped");
    assert!(matches!(ws_error(&err), WsError::Stopped), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn a_revoked_session_with_a_token_only_fails_to_relogin() {
    // A token alone gives nothing to log in with: the listener ends with the terminal
    // SessionRevoked (issue 10: a revoked token ends the listener with a clear error).
    let peer = Peer::start().await;
    let ws = peer
        .client()
        .websocket()
        .relogin(true)
        .ping_interval(Duration::from_millis(50));
    let (_handle, mut stream, _id) = connect_with(&peer, ws).await;
    peer.revoke(TOKEN);
    loop {
        match next(&mut stream).await {
            WsItem::Error(e @ WsError::SessionRevoked) => {
                assert!(e.is_terminal());
                break;
            }
            WsItem::Error(e) => panic!("{e}"),
            _ => {}
        }
    }
}

#[tokio::test(start_paused = true)]
async fn actions_get_their_replies_by_seq() {
    let peer = Peer::start().await;
    let (handle, _stream, _id) = connect(&peer).await;
    let (a, b) = tokio::join!(
        handle.get_statuses(),
        handle.get_statuses_by_ids(["x", "y"])
    );
    assert_eq!(a.unwrap()["other-user"], "away");
    let b = b.unwrap();
    assert_eq!((b.len(), b["y"].as_str()), (2, "online"));
    handle.user_typing("c1", Some("root1")).await.unwrap();
    handle.presence(&Presence::channel("c1")).await.unwrap();
    handle.user_update_active_status(true, false).await.unwrap();
    handle
        .posted_notify_ack("p1", "received", "")
        .await
        .unwrap();
    let pong = handle.ping().await.unwrap();
    assert_eq!(pong.data["text"], "pong");
    let err = handle
        .send_action("no_such_action", None)
        .await
        .unwrap_err();
    assert!(
        matches!(ws_error(&err), WsError::ActionFailed { id, .. } if id.contains("bad_action")),
        "{err:?}"
    );
    let actions = peer.actions();
    let typing = actions.iter().find(|a| a.action == "user_typing").unwrap();
    assert_eq!(
        typing.data,
        json!({"channel_id": "c1", "parent_id": "root1"})
    );
    let presence = actions.iter().find(|a| a.action == "presence").unwrap();
    assert_eq!(presence.data, json!({"channel_id": "c1"}));
    let active = actions
        .iter()
        .find(|a| a.action == "user_update_active_status")
        .unwrap();
    assert_eq!(
        active.data,
        json!({"user_is_active": true, "manual": false})
    );
    let seqs: Vec<i64> = actions.iter().map(|a| a.seq).collect();
    let mut sorted = seqs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seqs.len(), "every action has its own seq");
}

#[tokio::test(start_paused = true)]
async fn typing_reaches_another_client() {
    let peer = Peer::start().await;
    let (a, _a_stream, _) = connect(&peer).await;
    let (_b, mut b_stream, _) = connect(&peer).await;
    a.user_typing("c1", None).await.unwrap();
    let ev = next_event(&mut b_stream).await;
    assert!(matches!(ev.kind, EventKind::Typing(ref t) if t.parent_id.is_empty()));
}

#[tokio::test(start_paused = true)]
async fn withheld_replies_time_out_and_oversized_actions_are_not_sent() {
    let peer = Peer::start().await;
    let ws = peer
        .client()
        .websocket()
        .action_timeout(Duration::from_millis(200));
    let (handle, _stream, _id) = connect_with(&peer, ws).await;
    peer.knobs(|k| k.answer_actions = false);
    let err = handle.get_statuses().await.unwrap_err();
    assert!(
        matches!(ws_error(&err), WsError::ActionTimeout { .. }),
        "{err:?}"
    );
    let big = "x".repeat(9000);
    let err = handle
        .send_action("user_typing", Some(json!({ "channel_id": big })))
        .await
        .unwrap_err();
    assert!(
        matches!(ws_error(&err), WsError::TooLarge { .. }),
        "{err:?}"
    );
    assert!(peer.actions().iter().all(|a| a.action != "user_typing"));
    assert!(handle.is_connected(), "the connection is still up");
}

#[tokio::test(start_paused = true)]
async fn shutdown_closes_gracefully_and_ends_the_stream() {
    let peer = Peer::start().await;
    let (handle, mut stream, _id) = connect(&peer).await;
    publish_n(&peer, 0..3);
    for n in 0..3 {
        assert_eq!(n_of(&next_event(&mut stream).await), n);
    }
    handle.shutdown().await;
    assert!(handle.is_stopped());
    assert!(
        tokio::time::timeout(WAIT, stream.next())
            .await
            .unwrap()
            .is_none()
    );
    peer.wait_until("no socket", WAIT, |p| p.sockets() == 0)
        .await;
    assert_eq!(peer.client_close_codes(), [1000]);
}

#[tokio::test(start_paused = true)]
async fn dropping_handle_and_stream_stops_the_listener() {
    let peer = Peer::start().await;
    let (handle, stream, _id) = connect(&peer).await;
    drop(stream);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(peer.sockets(), 1, "the handle alone keeps it");
    handle.ping().await.unwrap();
    drop(handle);
    peer.wait_until("no socket", WAIT, |p| p.sockets() == 0)
        .await;
}

#[tokio::test(start_paused = true)]
async fn disconnect_drops_the_socket_and_resumes() {
    let peer = Peer::start().await;
    let (handle, mut stream, id) = connect(&peer).await;
    handle.disconnect().await.unwrap();
    publish_n(&peer, 0..2);
    loop {
        match next(&mut stream).await {
            WsItem::Disconnected { reason, .. } => assert_eq!(reason, DisconnectReason::Requested),
            WsItem::Connected {
                connection_id,
                resumed,
            } => {
                assert!(resumed);
                assert_eq!(connection_id, id);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(n_of(&next_event(&mut stream).await), 0);
    assert_eq!(n_of(&next_event(&mut stream).await), 1);
}

#[tokio::test(start_paused = true)]
async fn a_server_close_frame_is_a_reconnect_not_an_end() {
    let peer = Peer::start().await;
    let (_handle, mut stream, _id) = connect(&peer).await;
    peer.close_all(1001);
    loop {
        match next(&mut stream).await {
            WsItem::Disconnected { reason, .. } => {
                assert!(
                    matches!(reason, DisconnectReason::ClosedByServer { code: 1001, .. }),
                    "{reason:?}"
                );
            }
            WsItem::Connected { resumed, .. } => {
                assert!(resumed);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// A message longer than `max_body_size` is not read: the listener says which event it skipped
/// (a `TooLarge` error item), resumes after it instead of failing on it again and again, and the
/// events after it arrive.
#[tokio::test(start_paused = true)]
async fn a_message_over_max_body_size_is_reported_and_skipped_not_retried_forever() {
    let peer = Peer::start().await;
    let client = peer
        .builder()
        .max_body_size(4096)
        .ws_reconnect_wait_time(Duration::from_millis(50))
        .build()
        .unwrap();
    let (_handle, mut stream, _) = connect_with(&peer, client.websocket()).await;
    publish_n(&peer, 0..1);
    assert_eq!(n_of(&next_event(&mut stream).await), 0);
    peer.publish("test_event", json!({ "n": 1, "pad": "x".repeat(10_000) }));
    publish_n(&peer, 2..4);
    let mut seen = Vec::new();
    let mut too_large = 0;
    let mut reconnects = 0;
    while seen.len() < 2 {
        match next(&mut stream).await {
            WsItem::Event(ev) => seen.push(n_of(&ev)),
            WsItem::Error(e) => {
                assert!(!e.is_terminal(), "{e}");
                let text = e.to_string();
                assert!(text.contains("seq 2"), "{text}");
                assert!(
                    matches!(
                        e,
                        WsError::BadFrame {
                            kind: BadFrameKind::TooLarge,
                            ..
                        }
                    ),
                    "{e:?}"
                );
                too_large += 1;
            }
            WsItem::Connected { resumed, .. } => {
                assert!(resumed, "the connection resumes after the skipped event");
                reconnects += 1;
                assert_eq!(
                    reconnects, 1,
                    "one reconnect, not a loop on the same message"
                );
            }
            WsItem::Disconnected { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, [2, 3]);
    assert_eq!((too_large, reconnects), (1, 1));
}

/// `disconnect()` during a reconnect wait cuts the wait short: with a 60 s backoff, the listener
/// is back at once.
#[tokio::test(start_paused = true)]
async fn disconnect_during_the_backoff_wait_reconnects_at_once() {
    let peer = Peer::start().await;
    let ws = peer
        .client()
        .websocket()
        .backoff(matterapi::ws::Backoff::new(Duration::from_secs(60)).with_jitter(Duration::ZERO));
    let (handle, mut stream, id) = connect_with(&peer, ws).await;
    peer.drop_all();
    match next(&mut stream).await {
        WsItem::Disconnected { retry_in, .. } => {
            assert!(retry_in >= Duration::from_secs(59), "{retry_in:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
    handle.disconnect().await.unwrap();
    match next(&mut stream).await {
        WsItem::Connected {
            connection_id,
            resumed,
        } => {
            assert!(resumed);
            assert_eq!(connection_id, id);
        }
        other => panic!("unexpected {other:?}"),
    }
}
