//! TLS on loopback: a throwaway PKI made with rcgen (a CA, a server certificate for
//! `localhost`/`127.0.0.1`, a client certificate), the rustls server config that presents it, a
//! one-shot HTTPS server over tokio-rustls, and a recording HTTP proxy. Everything listens on
//! 127.0.0.1 only.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::rest::read_head;

/// A directory under the system's temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "matterapi-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `name` in this directory and gives its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A certificate signed by the test CA, with its key.
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

/// A CA made for one test, with a server and a client certificate it signed.
pub struct Pki {
    pub ca_pem: String,
    ca_der: CertificateDer<'static>,
    pub server: Leaf,
    pub client: Leaf,
}

impl Pki {
    pub fn new() -> Pki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "matterapi test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(params, ca_key);
        Pki {
            ca_pem: ca.pem(),
            ca_der: ca.der().clone(),
            server: leaf(
                &issuer,
                &["localhost", "127.0.0.1"],
                "localhost",
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            client: leaf(
                &issuer,
                &[],
                "matterapi test client",
                ExtendedKeyUsagePurpose::ClientAuth,
            ),
        }
    }
}

fn leaf(
    issuer: &Issuer<'static, KeyPair>,
    names: &[&str],
    common_name: &str,
    usage: ExtendedKeyUsagePurpose,
) -> Leaf {
    let key = KeyPair::generate().expect("leaf key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("leaf params");
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, issuer).expect("leaf certificate");
    Leaf {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().clone(),
        key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

/// A log shared between a loopback server and the test.
pub type Log<T> = Arc<Mutex<Vec<T>>>;

fn push<T>(log: &Log<T>, item: T) {
    log.lock().unwrap_or_else(|e| e.into_inner()).push(item);
}

/// Everything in `log` so far.
pub fn seen<T: Clone>(log: &Log<T>) -> Vec<T> {
    log.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// A rustls server config (ring, HTTP/1.1) presenting the PKI's server certificate; with
/// `require_client_cert` the handshake needs a client certificate signed by the PKI's CA (rustls
/// `WebPkiClientVerifier`).
pub fn server_config(pki: &Pki, require_client_cert: bool) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocol versions");
    let builder = if require_client_cert {
        let mut roots = RootCertStore::empty();
        roots
            .add(pki.ca_der.clone())
            .expect("CA into the root store");
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .expect("client verifier");
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(
            vec![pki.server.cert_der.clone()],
            PrivateKeyDer::Pkcs8(pki.server.key_der.clone_key()),
        )
        .expect("server certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// An HTTPS server on 127.0.0.1 answering every request with `200` and a JSON body.
pub struct HttpsServer {
    pub port: u16,
    /// The request line of each request that got through the handshake.
    pub requests: Log<String>,
    /// The client's certificate chain of each connection that presented one.
    pub client_chains: Log<Vec<CertificateDer<'static>>>,
    /// The handshakes the server refused, with why.
    pub refused: Log<String>,
    task: JoinHandle<()>,
}

impl HttpsServer {
    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the HTTPS server with the [`server_config`] of `pki` and `require_client_cert`, answering
/// `body`.
pub async fn https_server(pki: &Pki, require_client_cert: bool, body: &str) -> HttpsServer {
    let acceptor = TlsAcceptor::from(server_config(pki, require_client_cert));

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let requests: Log<String> = Log::default();
    let client_chains: Log<Vec<CertificateDer<'static>>> = Log::default();
    let refused: Log<String> = Log::default();
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (req_log, chain_log, refused_log) =
        (requests.clone(), client_chains.clone(), refused.clone());
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let reply = reply.clone();
            let (req_log, chain_log, refused_log) =
                (req_log.clone(), chain_log.clone(), refused_log.clone());
            tokio::spawn(async move {
                let mut tls = match acceptor.accept(tcp).await {
                    Ok(tls) => tls,
                    Err(e) => {
                        push(&refused_log, e.to_string());
                        return;
                    }
                };
                if let Some(chain) = tls.get_ref().1.peer_certificates() {
                    push(&chain_log, chain.to_vec());
                }
                let Some((head, _)) = read_head(&mut tls).await else {
                    return;
                };
                push(&req_log, head.lines().next().unwrap_or("").to_owned());
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    HttpsServer {
        port,
        requests,
        client_chains,
        refused,
        task,
    }
}

/// A forward HTTP proxy on 127.0.0.1 that records each request line and relays the request to
/// its loopback target (anything else gets `403`).
pub struct HttpProxy {
    pub url: String,
    pub request_lines: Log<String>,
    task: JoinHandle<()>,
}

impl Drop for HttpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn http_proxy() -> HttpProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let request_lines: Log<String> = Log::default();
    let log = request_lines.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(relay(tcp, log.clone()));
        }
    });
    HttpProxy {
        url,
        request_lines,
        task,
    }
}

async fn relay(mut client: TcpStream, log: Log<String>) {
    let Some((head, body_start)) = read_head(&mut client).await else {
        return;
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("").to_owned();
    push(&log, request_line.clone());
    let mut parts = request_line.split(' ');
    let (method, target, version) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let target = target.strip_prefix("http://").unwrap_or("");
    let (authority, path) = target.split_at(target.find('/').unwrap_or(target.len()));
    let loopback = authority.starts_with("127.0.0.1:") || authority.starts_with("localhost:");
    if !loopback {
        let _ = client
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(authority).await else {
        let _ = client
            .write_all(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await;
        return;
    };
    let path = if path.is_empty() { "/" } else { path };
    let mut out = format!("{method} {path} {version}\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(
            name.as_str(),
            "connection" | "proxy-connection" | "keep-alive" | "proxy-authorization"
        ) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    if upstream.write_all(out.as_bytes()).await.is_err()
        || upstream.write_all(&body_start).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy(&mut upstream, &mut client).await;
    let _ = client.shutdown().await;
}
