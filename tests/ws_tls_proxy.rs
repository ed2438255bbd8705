//! The options' TLS and proxy settings reach the websocket: a loopback `wss://` peer with a
//! certificate from a CA made in the test (trusted through `ca_cert`, refused by default, accepted
//! with `verify = false`), mutual TLS with `client_cert`, and an HTTP `CONNECT` proxy (used for
//! `ws://` and `wss://`, skipped for `no_proxy` hosts, given the proxy URL's credentials).

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use matterapi::ws::{ConnectionStage, EventKind, WsError, WsItem};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use support::tls::{Pki, TempDir};
use support::ws_error;
use support::ws_peer::{self, ConnectProxy, Peer, TOKEN};

fn server_config(pki: &Pki, require_client_cert: bool) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
            .unwrap();
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let key = PrivateKeyDer::from_pem_slice(pki.server.key_pem.as_bytes()).unwrap();
    let mut config = builder
        .with_single_cert(vec![pki.server.cert_der.clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Connects `client`, checks the hello and that an event comes through.
async fn works(peer: &Peer, client: &matterapi::Client) {
    let (_handle, mut stream) = client.websocket().connect().await.expect("connect");
    let mut hello = false;
    peer.publish("typing", json!({"user_id": "u1", "parent_id": ""}));
    loop {
        let item = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("an item")
            .expect("the stream goes on");
        match item {
            WsItem::Event(ev) if matches!(ev.kind, EventKind::Hello(_)) => hello = true,
            WsItem::Event(ev) if matches!(ev.kind, EventKind::Typing(_)) => break,
            WsItem::Connected { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(hello);
}

#[tokio::test]
async fn wss_with_the_ca_cert_of_the_options() {
    let pki = Pki::new();
    let dir = TempDir::new("ws-tls");
    let ca = dir.write("ca.pem", &pki.ca_pem);
    let peer = Peer::start_with(Some(server_config(&pki, false))).await;
    let client = peer.builder().ca_cert(ca).build().unwrap();
    works(&peer, &client).await;
}

#[tokio::test]
async fn wss_to_an_unknown_ca_is_refused_by_default() {
    let pki = Pki::new();
    let peer = Peer::start_with(Some(server_config(&pki, false))).await;
    let err = peer
        .client()
        .websocket()
        .connect()
        .await
        .map(|_| ())
        .unwrap_err();
    let WsError::Connect { source, .. } = ws_error(&err) else {
        panic!("{err:?}")
    };
    // The failed step, and the TLS library's own error kept as the cause (not flattened).
    assert_eq!(source.stage(), ConnectionStage::Tls, "{source:?}");
    let cause = std::error::Error::source(source).expect("the TLS error is the source");
    assert!(
        cause.to_string().to_lowercase().contains("certificate"),
        "{cause}"
    );
    // `Display` names the URL only; the causes follow through `source()`.
    assert!(!err.to_string().contains("TLS handshake"), "{err}");
    assert_eq!(peer.upgrades().len(), 0);
}

#[tokio::test]
async fn wss_without_verification_when_verify_is_off() {
    let pki = Pki::new();
    let peer = Peer::start_with(Some(server_config(&pki, false))).await;
    let client = peer.builder().verify(false).build().unwrap();
    works(&peer, &client).await;
}

#[tokio::test]
async fn mutual_tls_with_the_client_certificate_of_the_options() {
    let pki = Pki::new();
    let dir = TempDir::new("ws-mtls");
    let ca = dir.write("ca.pem", &pki.ca_pem);
    let cert = dir.write("client.pem", &pki.client.cert_pem);
    let key = dir.write("client.key", &pki.client.key_pem);
    let peer = Peer::start_with(Some(server_config(&pki, true))).await;
    let without = peer.builder().ca_cert(ca.clone()).build().unwrap();
    let err = without.websocket().connect().await.map(|_| ()).unwrap_err();
    assert!(matches!(ws_error(&err), WsError::Connect { .. }), "{err:?}");
    let client = peer
        .builder()
        .ca_cert(ca)
        .client_cert(cert, Some(key))
        .build()
        .unwrap();
    works(&peer, &client).await;
}

#[tokio::test]
async fn ws_through_an_http_connect_proxy() {
    let peer = Peer::start().await;
    let proxy = ConnectProxy::start().await;
    let client = peer.builder().proxy(proxy.url.clone()).build().unwrap();
    works(&peer, &client).await;
    assert_eq!(
        proxy.lines(),
        [format!("CONNECT 127.0.0.1:{} HTTP/1.1", peer.addr.port())]
    );
    let up = &peer.upgrades()[0];
    assert_eq!(up.headers["authorization"], format!("Bearer {TOKEN}"));
}

#[tokio::test]
async fn wss_through_an_http_connect_proxy_with_credentials() {
    let pki = Pki::new();
    let dir = TempDir::new("ws-tls-proxy");
    let ca = dir.write("ca.pem", &pki.ca_pem);
    let peer = Peer::start_with(Some(server_config(&pki, false))).await;
    let proxy = ConnectProxy::start().await;
    let with_user = proxy.url.replace("http://", "http://proxyuser:p%40ss@");
    let mut proxies = ws_peer::no_proxies();
    proxies.https = Some(with_user);
    let client = peer.builder().ca_cert(ca).proxies(proxies).build().unwrap();
    works(&peer, &client).await;
    assert_eq!(
        proxy.lines(),
        [format!("CONNECT localhost:{} HTTP/1.1", peer.addr.port())]
    );
    let head = proxy.heads().remove(0);
    // base64("proxyuser:p@ss")
    assert!(
        head.contains("Proxy-Authorization: Basic cHJveHl1c2VyOnBAc3M="),
        "{head}"
    );
}

#[tokio::test]
async fn no_proxy_hosts_connect_directly() {
    let peer = Peer::start().await;
    let proxy = ConnectProxy::start().await;
    let mut proxies = ws_peer::no_proxies();
    proxies.all = Some(proxy.url.clone());
    proxies.no_proxy = Some("localhost,127.0.0.1".into());
    let client = peer.builder().proxies(proxies).build().unwrap();
    works(&peer, &client).await;
    assert!(proxy.lines().is_empty());
}

#[tokio::test]
async fn a_proxy_spoken_to_over_tls_is_a_configuration_error() {
    let peer = Peer::start().await;
    let client = peer
        .builder()
        .proxy("https://127.0.0.1:3128")
        .build()
        .unwrap();
    let err = client.websocket().connect().await.map(|_| ()).unwrap_err();
    assert!(
        matches!(ws_error(&err), WsError::Config(m) if m.contains("CONNECT")),
        "{err:?}"
    );
}
