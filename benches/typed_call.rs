//! Typed call overhead: `get_user("me")` and `create_post` through the SDK against the same loopback
//! server as a hand-written reqwest + serde_json call decoding into the same type, in one run.
//!
//! `cargo bench --bench typed_call`; the ratio SDK / baseline is printed at the end (goal: <= 1.05).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use matterapi::{Client, types};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const USER: &str = r#"{"id":"u1a2b3c4d5e6f7g8h9i0j1k2l3","create_at":1700000000000,"update_at":1700000000000,"delete_at":0,"username":"alice","auth_data":"","auth_service":"","email":"alice@example.com","nickname":"","first_name":"Alice","last_name":"Liddell","position":"","roles":"system_user","props":{},"notify_props":{"channel":"true","comments":"never","desktop":"mention","desktop_sound":"true","email":"true","first_name":"false","mention_keys":"","push":"mention","push_status":"away"},"last_password_update":1700000000000,"locale":"en","timezone":{"automaticTimezone":"","manualTimezone":"","useAutomaticTimezone":"true"},"disable_welcome_email":false}"#;
const POST: &str = r#"{"id":"p1a2b3c4d5e6f7g8h9i0j1k2l3","create_at":1700000000000,"update_at":1700000000000,"edit_at":0,"delete_at":0,"is_pinned":false,"user_id":"u1a2b3c4d5e6f7g8h9i0j1k2l3","channel_id":"c1a2b3c4d5e6f7g8h9i0j1k2l3","root_id":"","original_id":"","message":"hello","type":"","props":{},"hashtags":"","pending_post_id":"","reply_count":0,"last_reply_at":0,"participants":null,"metadata":{}}"#;

/// A keep-alive HTTP/1.1 server on 127.0.0.1 answering GET with the user and POST with the post.
async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                let mut chunk = [0u8; 4096];
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while buf.len() < end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = if head.starts_with("post") { POST } else { USER };
                    let status = if head.starts_with("post") {
                        "201 Created"
                    } else {
                        "200 OK"
                    };
                    buf.drain(..end + len);
                    let reply = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nx-request-id: bench\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if sock.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn post_body() -> types::CreatePostBody {
    types::CreatePostBody {
        channel_id: "c1a2b3c4d5e6f7g8h9i0j1k2l3".into(),
        message: "hello".into(),
        file_ids: vec![],
        metadata: None,
        props: Default::default(),
        root_id: None,
        pending_post_id: None,
        type_: None,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(serve());
    let sdk = Client::with_token(url.as_str(), "token").unwrap();
    let raw = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let auth = "Bearer token";

    let mut g = c.benchmark_group("typed_call");
    g.bench_function("get_user/sdk", |b| {
        b.to_async(&rt).iter(|| async {
            sdk.get_user()
                .user_id("me")
                .send()
                .await
                .unwrap()
                .into_inner()
        })
    });
    g.bench_function("get_user/reqwest", |b| {
        b.to_async(&rt).iter(|| async {
            let r = raw
                .get(format!("{url}/api/v4/users/me"))
                .header("authorization", auth)
                .send()
                .await
                .unwrap();
            let bytes = r.bytes().await.unwrap();
            serde_json::from_slice::<types::User>(&bytes).unwrap()
        })
    });
    g.bench_function("create_post/sdk", |b| {
        b.to_async(&rt).iter(|| async {
            sdk.create_post()
                .body(post_body())
                .send()
                .await
                .unwrap()
                .into_inner()
        })
    });
    g.bench_function("create_post/reqwest", |b| {
        b.to_async(&rt).iter(|| async {
            let body = serde_json::to_vec(&post_body()).unwrap();
            let r = raw
                .post(format!("{url}/api/v4/posts"))
                .header("authorization", auth)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let bytes = r.bytes().await.unwrap();
            serde_json::from_slice::<types::Post>(&bytes).unwrap()
        })
    });
    g.finish();

    // The ratio, measured interleaved in this run so machine noise hits both sides alike.
    let rounds = 20;
    let per_round = 200;
    for (name, sdk_call, base_call) in [("get_user", 0, 1), ("create_post", 2, 3)] {
        let mut sdk_t = Duration::ZERO;
        let mut base_t = Duration::ZERO;
        for _ in 0..rounds {
            for (which, acc) in [(sdk_call, &mut sdk_t), (base_call, &mut base_t)] {
                let start = Instant::now();
                rt.block_on(async {
                    for _ in 0..per_round {
                        match which {
                            0 => drop(sdk.get_user().user_id("me").send().await.unwrap()),
                            1 => {
                                let r = raw
                                    .get(format!("{url}/api/v4/users/me"))
                                    .header("authorization", auth)
                                    .send()
                                    .await
                                    .unwrap();
                                drop(
                                    serde_json::from_slice::<types::User>(
                                        &r.bytes().await.unwrap(),
                                    )
                                    .unwrap(),
                                );
                            }
                            2 => drop(sdk.create_post().body(post_body()).send().await.unwrap()),
                            _ => {
                                let r = raw
                                    .post(format!("{url}/api/v4/posts"))
                                    .header("authorization", auth)
                                    .header("content-type", "application/json")
                                    .body(serde_json::to_vec(&post_body()).unwrap())
                                    .send()
                                    .await
                                    .unwrap();
                                drop(
                                    serde_json::from_slice::<types::Post>(
                                        &r.bytes().await.unwrap(),
                                    )
                                    .unwrap(),
                                );
                            }
                        }
                    }
                });
                *acc += start.elapsed();
            }
        }
        let n = (rounds * per_round) as f64;
        println!(
            "{name}: sdk {:.1} us/call, reqwest+serde_json {:.1} us/call, ratio {:.3}",
            sdk_t.as_secs_f64() * 1e6 / n,
            base_t.as_secs_f64() * 1e6 / n,
            sdk_t.as_secs_f64() / base_t.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
