//! Decode + dispatch of a realistic event mix: the listener (`EventStream`, and `run` with a
//! handler) against a bare tokio-tungstenite + serde_json loop reading the same frames from the
//! same loopback server. Prints events/s of each and the ratio to the bare loop.
//!
//! The mix (per 100 events): 55 `posted` (double-encoded post of ~600 bytes, mentions), 15
//! `typing`, 10 `status_change`, 6 `reaction_added`, 5 `channel_viewed`, 4 `post_edited`, 3
//! `user_updated`, 2 plugin events (untyped). The bare loop parses each frame into a
//! `serde_json::Value` and, for `posted`/`post_edited`, parses the double-encoded post into a
//! `Value` too (what a hand-written client must do to read a post); the listener decodes into its
//! typed events, keeping the raw frame.
//!
//! ```sh
//! cargo bench --bench ws_dispatch
//! ```

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use futures_util::{SinkExt, StreamExt};
use matterapi::ws::{EventKind, WsItem};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const EVENTS: usize = 20_000;

/// The frames of one pass: the hello (seq 0), then `EVENTS` events numbered from 1.
fn frames() -> Vec<String> {
    let broadcast = json!({"omit_users": null, "user_id": "", "channel_id": "chan4k1x9yq7d8m3n2b5v6c7z0", "team_id": "team8s7d6f5g4h3j2k1l0p9o8i7", "connection_id": "", "omit_connection_id": ""});
    let mut out = vec![
        json!({"event": "hello", "data": {"connection_id": "benchconn0123456789abcdefg", "server_version": "11.4.0.bench"}, "broadcast": broadcast, "seq": 0})
            .to_string(),
    ];
    for i in 0..EVENTS {
        let seq = i as i64 + 1;
        let post = json!({
            "id": format!("post{i:022}"), "create_at": 1_700_000_000_000i64 + i as i64,
            "update_at": 1_700_000_000_000i64 + i as i64, "edit_at": 0, "delete_at": 0,
            "is_pinned": false, "user_id": "user7h6g5f4d3s2a1q0w9e8r7t", "channel_id": "chan4k1x9yq7d8m3n2b5v6c7z0",
            "root_id": "", "original_id": "", "message": format!("Message number {i}: the quarterly numbers are in, see the channel header for the dashboard link and @alice please review"),
            "type": "", "props": {"disable_group_highlight": true}, "hashtags": "", "pending_post_id": format!("user7h6g5f4d3s2a1q0w9e8r7t:{i}"),
            "reply_count": 0, "last_reply_at": 0, "participants": null,
            "metadata": {"embeds": [], "emojis": [], "files": [], "images": {}, "reactions": []}
        })
        .to_string();
        let (event, data) = match i % 100 {
            0..=54 => (
                "posted",
                json!({"channel_display_name": "Town Square", "channel_name": "town-square", "channel_type": "O",
                       "post": post, "sender_name": "@bob", "set_online": true, "team_id": "team8s7d6f5g4h3j2k1l0p9o8i7",
                       "mentions": "[\"user1a2b3c4d5e6f7g8h9i0j1k\"]"}),
            ),
            55..=69 => (
                "typing",
                json!({"parent_id": "", "user_id": "user7h6g5f4d3s2a1q0w9e8r7t"}),
            ),
            70..=79 => (
                "status_change",
                json!({"status": "online", "user_id": "user7h6g5f4d3s2a1q0w9e8r7t"}),
            ),
            80..=85 => (
                "reaction_added",
                json!({"reaction": json!({"user_id": "user7h6g5f4d3s2a1q0w9e8r7t", "post_id": format!("post{i:022}"), "emoji_name": "thumbsup", "create_at": 1_700_000_000_000i64, "update_at": 1_700_000_000_000i64, "delete_at": 0, "remote_id": "", "channel_id": "chan4k1x9yq7d8m3n2b5v6c7z0"}).to_string()}),
            ),
            86..=90 => (
                "channel_viewed",
                json!({"channel_id": "chan4k1x9yq7d8m3n2b5v6c7z0"}),
            ),
            91..=94 => ("post_edited", json!({"post": post})),
            95..=97 => (
                "user_updated",
                json!({"user": {"id": "user7h6g5f4d3s2a1q0w9e8r7t", "username": "bob", "first_name": "Bob", "last_name": "Builder", "nickname": "", "position": "", "roles": "system_user", "locale": "en", "timezone": {"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}, "create_at": 1, "update_at": 2, "delete_at": 0}}),
            ),
            _ => (
                "custom_com.example.plugin_sync",
                json!({"items": [1, 2, 3], "cursor": "abc"}),
            ),
        };
        out.push(
            json!({"event": event, "data": data, "broadcast": broadcast, "seq": seq}).to_string(),
        );
    }
    out
}

/// A loopback server that sends `frames` to each connection, answers the handshake's `ping`
/// action, and keeps the socket open until the client goes.
fn server(frames: Arc<Vec<String>>) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            tx.send(listener.local_addr().expect("addr")).expect("addr");
            while let Ok((tcp, _)) = listener.accept().await {
                let frames = frames.clone();
                tokio::spawn(async move {
                    let _ = tcp.set_nodelay(true);
                    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    let (mut sink, mut stream) = ws.split();
                    let reader = tokio::spawn(async move {
                        let mut replies = Vec::new();
                        while let Some(Ok(msg)) = stream.next().await {
                            if let Message::Text(t) = msg
                                && let Ok(v) = serde_json::from_str::<Value>(&t)
                            {
                                replies.push(v["seq"].as_i64().unwrap_or(0));
                            }
                        }
                        replies
                    });
                    for f in frames.iter() {
                        if sink.feed(Message::text(f.clone())).await.is_err() {
                            return;
                        }
                    }
                    let _ = sink.flush().await;
                    let _ = sink
                        .send(Message::text(r#"{"status":"OK","seq_reply":1}"#))
                        .await;
                    let _ = reader.await;
                });
            }
        });
    });
    rx.recv().expect("server address")
}

fn handle(n: &AtomicU64) {
    n.fetch_add(1, Ordering::Relaxed);
}

/// The bare loop: tungstenite frames, `serde_json::Value`, the double-encoded post parsed too.
async fn bare(addr: SocketAddr, count: &AtomicU64) {
    let request = format!("ws://{addr}/api/v4/websocket")
        .into_client_request()
        .expect("request");
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let _ = tcp.set_nodelay(true);
    let (mut ws, _) = tokio_tungstenite::client_async(request, tcp)
        .await
        .expect("upgrade");
    let mut seen = 0;
    while seen <= EVENTS {
        let Some(Ok(Message::Text(text))) = ws.next().await else {
            panic!("the bare loop lost its socket");
        };
        let mut v: Value = serde_json::from_str(&text).expect("json");
        if let Some(post) = v["data"]["post"].as_str() {
            let post: Value = serde_json::from_str(post).expect("post");
            v["data"]["post"] = post;
        }
        black_box(&v);
        handle(count);
        seen += 1;
    }
}

fn client(addr: SocketAddr) -> matterapi::Client {
    let mut proxies = matterapi::Proxies::default();
    proxies.from_env = false;
    matterapi::Client::builder(format!("http://{addr}"))
        .token("bench-token")
        .proxies(proxies)
        .build()
        .expect("client")
}

/// The listener's stream: typed events.
async fn listener(client: &matterapi::Client, count: &AtomicU64) {
    let (handle_, mut stream) = client.websocket().connect().await.expect("connect");
    let mut seen = 0;
    while seen <= EVENTS {
        match stream.next().await.expect("the stream goes on") {
            WsItem::Event(ev) => {
                if let EventKind::Posted(p) = &ev.kind {
                    black_box(&p.post.message);
                }
                black_box(&ev);
                handle(count);
                seen += 1;
            }
            WsItem::Connected { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(handle_);
}

/// The listener's handler dispatch (`run`, one at a time, in order).
async fn listener_run(client: &matterapi::Client, count: &Arc<AtomicU64>) {
    let (handle_, stream) = client
        .websocket()
        .concurrent(false)
        .connect()
        .await
        .expect("connect");
    let target = count.load(Ordering::Relaxed) + EVENTS as u64 + 1;
    let c = count.clone();
    let run = tokio::spawn(stream.run(move |ev| {
        let c = c.clone();
        async move {
            black_box(&ev);
            handle(&c);
            Ok::<(), std::io::Error>(())
        }
    }));
    while count.load(Ordering::Relaxed) < target {
        tokio::task::yield_now().await;
    }
    handle_.shutdown().await;
    let _ = run.await;
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn main() {
    let frames = Arc::new(frames());
    let bytes: usize = frames.iter().map(String::len).sum();
    let addr = server(frames.clone());
    let rt = runtime();
    let client = client(addr);
    let count = Arc::new(AtomicU64::new(0));

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    {
        let mut g = c.benchmark_group("ws_dispatch");
        g.throughput(Throughput::Elements(EVENTS as u64 + 1));
        g.bench_function("bare_tungstenite_serde_json", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        bare(addr, &count).await;
                    }
                    start.elapsed()
                })
            })
        });
        g.bench_function("listener_stream", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        listener(&client, &count).await;
                    }
                    start.elapsed()
                })
            })
        });
        g.bench_function("listener_run_sequential", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        listener_run(&client, &count).await;
                    }
                    start.elapsed()
                })
            })
        });
        g.finish();
    }
    c.final_summary();

    // Decoding alone (no socket, no task): the listener's decoder against serde_json.
    let decode_rounds = 5;
    let (mut db, mut dl) = (Vec::new(), Vec::new());
    for _ in 0..decode_rounds {
        let owned: Vec<String> = frames.iter().cloned().collect();
        let t = Instant::now();
        for f in frames.iter() {
            let mut v: Value = serde_json::from_str(f).expect("json");
            if let Some(post) = v["data"]["post"].as_str() {
                let post: Value = serde_json::from_str(post).expect("post");
                v["data"]["post"] = post;
            }
            black_box(&v);
        }
        db.push(t.elapsed());
        let t = Instant::now();
        for f in owned {
            black_box(matterapi::ws::Frame::parse(f).expect("frame"));
        }
        dl.push(t.elapsed());
    }

    // The ratio, in this run: interleaved passes, the median of each; and the CPU time of the
    // client's thread (where the listener's task runs too), which other load on the machine
    // disturbs less than wall time.
    let rounds = 25;
    let (mut b, mut l, mut r) = (Vec::new(), Vec::new(), Vec::new());
    let mut cpu = [Duration::ZERO; 3];
    rt.block_on(async {
        for _ in 0..rounds {
            let (t, c) = (Instant::now(), thread_cpu());
            bare(addr, &count).await;
            b.push(t.elapsed());
            cpu[0] += thread_cpu().saturating_sub(c);
            let (t, c) = (Instant::now(), thread_cpu());
            listener(&client, &count).await;
            l.push(t.elapsed());
            cpu[1] += thread_cpu().saturating_sub(c);
            let (t, c) = (Instant::now(), thread_cpu());
            listener_run(&client, &count).await;
            r.push(t.elapsed());
            cpu[2] += thread_cpu().saturating_sub(c);
        }
    });
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    // The fastest pass of each: the least disturbed by whatever else runs on the machine.
    let fastest = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    let (fb, fl, fr) = (fastest(&b), fastest(&l), fastest(&r));
    let (b, l, r) = (median(&mut b), median(&mut l), median(&mut r));
    let (db, dl) = (median(&mut db), median(&mut dl));
    let rate = |d: Duration| (EVENTS + 1) as f64 / d.as_secs_f64();
    println!(
        "\nws_dispatch: {} events per pass ({:.1} MB of frames), median of {rounds} interleaved passes",
        EVENTS + 1,
        bytes as f64 / 1e6
    );
    println!(
        "  decoding only: serde_json Value {:.2} µs/event, listener Frame::parse {:.2} µs/event (ratio {:.3})",
        db.as_secs_f64() * 1e6 / (EVENTS + 1) as f64,
        dl.as_secs_f64() * 1e6 / (EVENTS + 1) as f64,
        dl.as_secs_f64() / db.as_secs_f64()
    );
    println!(
        "  bare tungstenite + serde_json: {:>10.0} events/s",
        rate(b)
    );
    println!(
        "  listener EventStream:          {:>10.0} events/s  (time ratio {:.3} to bare)",
        rate(l),
        l.as_secs_f64() / b.as_secs_f64()
    );
    println!(
        "  listener run (sequential):     {:>10.0} events/s  (time ratio {:.3} to bare)",
        rate(r),
        r.as_secs_f64() / b.as_secs_f64()
    );
    println!(
        "  fastest passes: bare {:.0}, stream {:.0} (ratio {:.3}), run {:.0} (ratio {:.3}) events/s",
        rate(fb),
        rate(fl),
        fl.as_secs_f64() / fb.as_secs_f64(),
        rate(fr),
        fr.as_secs_f64() / fb.as_secs_f64()
    );
    if !cpu[0].is_zero() {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / (rounds * (EVENTS + 1)) as f64;
        println!(
            "  client thread CPU: bare {:.2} µs/event, stream {:.2} (ratio {:.3}), run {:.2} (ratio {:.3})",
            per(cpu[0]),
            per(cpu[1]),
            cpu[1].as_secs_f64() / cpu[0].as_secs_f64(),
            per(cpu[2]),
            cpu[2].as_secs_f64() / cpu[0].as_secs_f64()
        );
    }
}

/// The CPU time (user + system) of the calling thread so far, from `/proc/thread-self/stat`
/// (Linux, 10 ms ticks); zero elsewhere.
fn thread_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return Duration::ZERO;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of the file (utime, stime), counted after the command name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}
