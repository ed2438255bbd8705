//! Resident memory (VmRSS, Linux) of an idle client with a connected websocket listener, against a
//! baseline measured in the same run: a bare `reqwest::Client` and a tokio-tungstenite websocket
//! connection to the same peer.
//!
//! Each mode runs in its own child process (this binary again, the mode in
//! `MATTERAPI_MEMORY_MODE`) so that allocations do not mix:
//!
//! - `empty`: a tokio runtime (multi-thread, 2 workers), nothing else;
//! - `baseline`: the same runtime, a `reqwest::Client` built, and a tokio-tungstenite connection
//!   to the peer's websocket (bearer token, the `hello` read) read by a task;
//! - `sdk`: the same runtime, a `matterapi::Client` built, and a listener connected through
//!   `client.websocket().connect()` whose stream a task polls.
//!
//! Each child reports VmRSS at its start, after its setup and after 2 s idle, its peak (VmHWM),
//! and the anonymous part of the idle figure (RssAnon: heap and stacks, without the mapped code). The modes run interleaved, three rounds, and the median of each figure is printed with
//! the ratio SDK / baseline of the idle RSS above the empty runtime's.
//!
//! The peer is the live test server when its connection file
//! (`MATTERAPI_TEST_CONNECTION`, else `target/testserver/connection.json`) exists and the server
//! answers on loopback (the bot's token), else a minimal Mattermost websocket peer that the parent
//! runs on 127.0.0.1 (`hello`, then an OK reply to each action).
//!
//! ```sh
//! cargo bench --bench memory
//! ```
//!
//! Under `cargo test --benches` (no `--bench` argument) one quick round runs with 200 ms idle.

use std::net::{SocketAddr, TcpStream as StdTcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use matterapi::ws::WsItem;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The child's mode.
const MODE_VAR: &str = "MATTERAPI_MEMORY_MODE";
/// The peer's HTTP URL, handed to the child.
const URL_VAR: &str = "MATTERAPI_MEMORY_URL";
/// The peer's token, handed to the child.
const TOKEN_VAR: &str = "MATTERAPI_MEMORY_TOKEN";
/// How long the child stays idle, in milliseconds.
const IDLE_VAR: &str = "MATTERAPI_MEMORY_IDLE_MS";
/// The token the in-process peer hands out (it accepts any).
const PEER_TOKEN: &str = "memory-bench-token";
/// The longest a child may take.
const CHILD_LIMIT: Duration = Duration::from_secs(60);
/// The longest wait for a connection or a `hello`.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);

/// The modes, in the order of each round.
const MODES: [&str; 3] = ["empty", "baseline", "sdk"];

/// VmRSS, VmHWM and RssAnon of this process, in KiB.
fn memory() -> Result<(u64, u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").context("/proc/self/status")?;
    let field = |name: &str| -> Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow!("no {name} in /proc/self/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?, field("RssAnon:")?))
}

/// What one child measured, in KiB.
#[derive(Debug, Clone, Copy)]
struct Sample {
    start: u64,
    setup: u64,
    idle: u64,
    peak: u64,
    /// The anonymous part of `idle` (heap and stacks; the rest is mapped files: code, libraries).
    anon: u64,
}

/// The runtime of every mode: multi-thread, 2 workers.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// `ws://host:port/api/v4/websocket` of the peer's HTTP URL.
fn websocket_url(http: &str) -> String {
    let rest = http.strip_prefix("http://").unwrap_or(http);
    format!("ws://{}/api/v4/websocket", rest.trim_end_matches('/'))
}

/// The baseline: a bare reqwest client and a tungstenite connection, read by a task.
async fn baseline(
    url: &str,
    token: &str,
) -> Result<(reqwest::Client, tokio::task::JoinHandle<()>)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_proxy().build()?;
    let mut request = websocket_url(url).into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let host_port = url
        .strip_prefix("http://")
        .unwrap_or(url)
        .trim_end_matches('/');
    let (mut ws, _) = tokio::time::timeout(CONNECT_LIMIT, async {
        let tcp = tokio::net::TcpStream::connect(host_port).await?;
        tcp.set_nodelay(true)?;
        Ok::<_, anyhow::Error>(tokio_tungstenite::client_async(request, tcp).await?)
    })
    .await
    .context("websocket connect timed out")??;
    // The hello proves the connection is authenticated.
    loop {
        let msg = tokio::time::timeout(CONNECT_LIMIT, ws.next())
            .await
            .context("no hello in time")?
            .ok_or_else(|| anyhow!("closed before the hello"))??;
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t)?;
            if v["event"] == "hello" {
                break;
            }
        }
    }
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            std::hint::black_box(&msg);
        }
    });
    Ok((http, reader))
}

/// The SDK: a client and a listener whose stream a task polls (after its first `Connected`).
async fn sdk(
    url: &str,
    token: &str,
) -> Result<(
    matterapi::Client,
    matterapi::ws::WsHandle,
    tokio::task::JoinHandle<()>,
)> {
    let mut proxies = matterapi::Proxies::default();
    proxies.from_env = false;
    let client = matterapi::Client::builder(url)
        .token(token)
        .proxies(proxies)
        .build()?;
    let (handle, mut stream) = tokio::time::timeout(CONNECT_LIMIT, client.websocket().connect())
        .await
        .context("listener connect timed out")??;
    let (connected_tx, connected_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut connected = Some(connected_tx);
        while let Some(item) = stream.next().await {
            if matches!(item, WsItem::Connected { .. })
                && let Some(tx) = connected.take()
            {
                let _ = tx.send(());
            }
            std::hint::black_box(&item);
        }
    });
    tokio::time::timeout(CONNECT_LIMIT, connected_rx)
        .await
        .context("no Connected item in time")??;
    Ok((client, handle, task))
}

/// A child: measures `mode` and prints one `memory-sample` line.
fn child(mode: &str) -> Result<()> {
    let (start, _, _) = memory()?;
    let url = std::env::var(URL_VAR).unwrap_or_default();
    let token = std::env::var(TOKEN_VAR).unwrap_or_default();
    let idle = Duration::from_millis(
        std::env::var(IDLE_VAR)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
    let rt = runtime()?;
    let (setup, idle_rss, peak, anon) = rt.block_on(async {
        let (setup, kept): (u64, Box<dyn FnOnce() -> Result<()>>) = match mode {
            "empty" => (memory()?.0, Box::new(|| Ok(()))),
            "baseline" => {
                let (http, reader) = baseline(&url, &token).await?;
                let setup = memory()?.0;
                (
                    setup,
                    Box::new(move || {
                        if reader.is_finished() {
                            bail!("the baseline's websocket closed while idle");
                        }
                        drop(http);
                        reader.abort();
                        Ok(())
                    }),
                )
            }
            "sdk" => {
                let (client, handle, task) = sdk(&url, &token).await?;
                let setup = memory()?.0;
                (
                    setup,
                    Box::new(move || {
                        if !handle.is_connected() || task.is_finished() {
                            bail!("the SDK's listener disconnected while idle");
                        }
                        drop((client, handle));
                        task.abort();
                        Ok(())
                    }),
                )
            }
            other => bail!("unknown mode {other}"),
        };
        tokio::time::sleep(idle).await;
        let (idle_rss, peak, anon) = memory()?;
        kept()?;
        Ok::<_, anyhow::Error>((setup, idle_rss, peak, anon))
    })?;
    println!("memory-sample {start} {setup} {idle_rss} {peak} {anon}");
    Ok(())
}

/// Runs this binary as the child of `mode` and reads its sample.
fn run_child(mode: &str, url: &str, token: &str, idle: Duration) -> Result<Sample> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .env(MODE_VAR, mode)
        .env(URL_VAR, url)
        .env(TOKEN_VAR, token)
        .env(IDLE_VAR, idle.as_millis().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let deadline = Instant::now() + CHILD_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the {mode} child took more than {CHILD_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        std::io::Read::read_to_string(&mut stdout, &mut out)?;
    }
    if !status.success() {
        bail!("the {mode} child failed ({status}): {out}");
    }
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("memory-sample "))
        .ok_or_else(|| anyhow!("no sample from the {mode} child: {out}"))?;
    let n: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [start, setup, idle, peak, anon] = n[..] else {
        bail!("bad sample line from the {mode} child: {line}");
    };
    Ok(Sample {
        start,
        setup,
        idle,
        peak,
        anon,
    })
}

/// The live test server's URL and the bot's token, when its connection file exists and it
/// answers on loopback.
fn live_server() -> Option<(String, String)> {
    let file = std::env::var_os("MATTERAPI_TEST_CONNECTION")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/testserver/connection.json")
        });
    let conn: Value = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    let url = conn["url"].as_str()?.trim_end_matches('/').to_owned();
    let token = conn["bot"]["token"].as_str()?.to_owned();
    let host_port = url.strip_prefix("http://")?;
    let addr: SocketAddr = host_port.to_socket_addrs().ok()?.next()?;
    if !addr.ip().is_loopback() {
        return None;
    }
    StdTcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    Some((url, token))
}

/// A minimal Mattermost websocket peer on 127.0.0.1, in a thread of the parent: `hello` on each
/// connection, an OK reply to each action, the socket kept open until the client goes.
fn loopback_peer() -> Result<SocketAddr> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("peer runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("address");
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    let hello = json!({
                        "event": "hello",
                        "data": {"connection_id": "memorybenchconnection0001", "server_version": "11.4.0.memory-bench"},
                        "broadcast": {"omit_users": null, "user_id": "", "channel_id": "", "team_id": "", "connection_id": "", "omit_connection_id": ""},
                        "seq": 0
                    });
                    if ws.send(Message::text(hello.to_string())).await.is_err() {
                        return;
                    }
                    while let Some(Ok(msg)) = ws.next().await {
                        let Message::Text(t) = msg else { continue };
                        let Ok(v) = serde_json::from_str::<Value>(&t) else {
                            continue;
                        };
                        let Some(seq) = v["seq"].as_i64() else { continue };
                        let reply = if v["action"] == "ping" {
                            json!({"status": "OK", "seq_reply": seq, "data": {"text": "pong", "version": "11.4.0.memory-bench", "server_time": 0}})
                        } else {
                            json!({"status": "OK", "seq_reply": seq})
                        };
                        if ws.send(Message::text(reply.to_string())).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    });
    rx.recv_timeout(CONNECT_LIMIT)
        .context("the loopback peer did not start")
}

/// The median of `v` (not empty).
fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// KiB as MiB with one decimal.
fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The parent: picks the peer, runs the children, prints the table and the ratio.
fn parent() -> Result<()> {
    if memory().is_err() {
        println!("memory: skipped, /proc/self/status has no VmRSS (Linux only)");
        return Ok(());
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: one quick round then.
    let full = std::env::args().any(|a| a == "--bench");
    let (rounds, idle) = if full {
        (3, Duration::from_secs(2))
    } else {
        (1, Duration::from_millis(200))
    };
    let (peer, url, token) = match live_server() {
        Some((url, token)) => (format!("live test server at {url}"), url, token),
        None => {
            let addr = loopback_peer()?;
            (
                format!("in-process loopback peer at {addr}"),
                format!("http://{addr}"),
                PEER_TOKEN.to_owned(),
            )
        }
    };
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); MODES.len()];
    for _ in 0..rounds {
        for (i, mode) in MODES.iter().enumerate() {
            samples[i].push(run_child(mode, &url, &token, idle)?);
        }
    }
    let med: Vec<Sample> = samples
        .iter()
        .map(|s| Sample {
            start: median(s.iter().map(|x| x.start).collect()),
            setup: median(s.iter().map(|x| x.setup).collect()),
            idle: median(s.iter().map(|x| x.idle).collect()),
            peak: median(s.iter().map(|x| x.peak).collect()),
            anon: median(s.iter().map(|x| x.anon).collect()),
        })
        .collect();
    let (empty, empty_anon) = (med[0].idle, med[0].anon);
    println!(
        "\nmemory: VmRSS, median of {rounds} round(s) of one child process per mode; peer: {peer}"
    );
    println!(
        "| mode | at start | after setup | after {:.1} s idle | peak (VmHWM) | idle above empty | anonymous (RssAnon) above empty |",
        idle.as_secs_f64()
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let names = [
        "empty tokio runtime",
        "baseline: reqwest::Client + tokio-tungstenite",
        "SDK: Client + listener (stream polled)",
    ];
    for (name, s) in names.iter().zip(&med) {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            mib(s.start),
            mib(s.setup),
            mib(s.idle),
            mib(s.peak),
            mib(s.idle.saturating_sub(empty)),
            mib(s.anon.saturating_sub(empty_anon))
        );
    }
    let base = med[1].idle.saturating_sub(empty);
    let sdk = med[2].idle.saturating_sub(empty);
    if base == 0 {
        println!(
            "ratio SDK / baseline: undefined (the baseline is no larger than the empty runtime)"
        );
    } else {
        println!(
            "ratio SDK / baseline (idle RSS above the empty runtime): {:.2} ({} KiB / {} KiB)",
            sdk as f64 / base as f64,
            sdk,
            base
        );
    }
    let base_anon = med[1].anon.saturating_sub(empty_anon);
    let sdk_anon = med[2].anon.saturating_sub(empty_anon);
    if base_anon > 0 {
        println!(
            "ratio SDK / baseline of the anonymous part alone: {:.2} ({} KiB / {} KiB)",
            sdk_anon as f64 / base_anon as f64,
            sdk_anon,
            base_anon
        );
    }
    Ok(())
}

/// A child when `MATTERAPI_MEMORY_MODE` is set, else the parent.
fn main() -> Result<()> {
    match std::env::var(MODE_VAR) {
        Ok(mode) => child(&mode),
        Err(_) => parent(),
    }
}
