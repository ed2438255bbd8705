//! The websocket's byte stream: TCP to the server or through an HTTP proxy (`CONNECT`), then TLS for
//! `wss://`, all from the client's [`Options`]: `verify`, `ca_cert`, `client_cert`/`client_key`,
//! `proxies` (explicit, or from the environment, with `no_proxy`), `timeout` for each step.

use std::time::Duration;

use reqwest::Url;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{ConnectionError, ConnectionStage as Stage, WsError};
use crate::options::Options;

/// A connected byte stream (plain or TLS).
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// The stream the websocket runs over.
pub(crate) type Stream = Box<dyn Io>;

/// An HTTP proxy for the websocket.
#[derive(Clone)]
struct Proxy {
    host: String,
    port: u16,
    /// `Basic ...` for `Proxy-Authorization`, when the proxy URL has credentials.
    authorization: Option<String>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// How to reach the websocket's server: proxy, TLS, time allowed.
pub(crate) struct Transport {
    proxy: Option<Proxy>,
    tls: Option<tls::Connector>,
    timeout: Duration,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("proxy", &self.proxy)
            .field("tls", &self.tls.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn config(msg: impl Into<String>) -> WsError {
    WsError::Config(msg.into())
}

/// The options' TLS files (`ca_cert`, `client_cert`, `client_key`), read by the loader REST uses.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn tls_files(options: &Options) -> Result<crate::net::TlsFiles, WsError> {
    crate::net::tls_files(options).map_err(|e| config(e.to_string()))
}

impl Transport {
    /// The transport to `url` (a `ws://` or `wss://` URL) as the options describe.
    pub(crate) fn new(options: &Options, url: &Url) -> Result<Transport, WsError> {
        let secure = match url.scheme() {
            "wss" => true,
            "ws" => false,
            other => {
                return Err(config(format!(
                    "websocket URL scheme `{other}`: use ws or wss"
                )));
            }
        };
        let tls = if secure {
            if !options.verify {
                // Once per listener: the transport is built once, at `connect()`.
                crate::net::warn_unverified_tls("websocket");
            }
            Some(tls::Connector::new(options)?)
        } else {
            None
        };
        Ok(Transport {
            proxy: select_proxy(options, url, secure)?,
            tls,
            timeout: options.timeout,
        })
    }

    /// Opens the stream to `url`'s host: TCP (through the proxy's tunnel when there is one), then
    /// TLS for `wss`. Each step is bounded by the options' timeout.
    pub(crate) async fn connect(&self, url: &Url) -> Result<Stream, ConnectionError> {
        let host = url
            .host_str()
            .ok_or_else(|| ConnectionError::new(Stage::Tcp, "the websocket URL has no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = url
            .port_or_known_default()
            .ok_or_else(|| ConnectionError::new(Stage::Tcp, "the websocket URL has no port"))?;
        let tcp = match &self.proxy {
            None => self.tcp(host, port).await?,
            Some(proxy) => {
                let mut tcp = self.tcp(&proxy.host, proxy.port).await?;
                tokio::time::timeout(self.timeout, tunnel(&mut tcp, proxy, host, port))
                    .await
                    .map_err(|_| {
                        ConnectionError::new(
                            Stage::Proxy,
                            format!(
                                "the proxy's CONNECT got no answer within {:?}",
                                self.timeout
                            ),
                        )
                    })??;
                tcp
            }
        };
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => Ok(Box::new(tcp)),
            Some(tls) => tokio::time::timeout(self.timeout, tls.connect(host, tcp))
                .await
                .map_err(|_| {
                    ConnectionError::new(
                        Stage::Tls,
                        format!("the TLS handshake took more than {:?}", self.timeout),
                    )
                })?,
        }
    }

    async fn tcp(&self, host: &str, port: u16) -> Result<TcpStream, ConnectionError> {
        match tokio::time::timeout(self.timeout, TcpStream::connect((host, port))).await {
            Ok(Ok(tcp)) => Ok(tcp),
            Ok(Err(e)) => Err(ConnectionError::caused_by(
                Stage::Tcp,
                format!("TCP connection to {host}:{port}"),
                e,
            )),
            Err(_) => Err(ConnectionError::new(
                Stage::Tcp,
                format!(
                    "TCP connection to {host}:{port} took more than {:?}",
                    self.timeout
                ),
            )),
        }
    }
}

/// `CONNECT host:port` through the proxy; anything but a 2xx answer is an error.
async fn tunnel(
    tcp: &mut TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> Result<(), ConnectionError> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = &proxy.authorization {
        request.push_str("Proxy-Authorization: ");
        request.push_str(auth);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| ConnectionError::caused_by(Stage::Proxy, "writing CONNECT to the proxy", e))?;
    // Read the answer's head byte by byte: nothing of the tunnelled stream may be consumed.
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(ConnectionError::new(
                Stage::Proxy,
                "the proxy's answer to CONNECT is too long",
            ));
        }
        let n = tcp.read(&mut byte).await.map_err(|e| {
            ConnectionError::caused_by(Stage::Proxy, "reading the proxy's answer to CONNECT", e)
        })?;
        if n == 0 {
            return Err(ConnectionError::new(
                Stage::Proxy,
                "the proxy closed the connection during CONNECT",
            ));
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or("");
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status.starts_with('2') {
        Ok(())
    } else {
        Err(ConnectionError::new(
            Stage::Proxy,
            format!("the proxy refused CONNECT: {status_line}"),
        ))
    }
}

/// The proxy for `url`, following the options' rules (the same as for REST): the scheme's proxy
/// (`http` for `ws`, `https` for `wss`), else `all`; explicit settings, else the environment when
/// `from_env`; none for hosts matching `no_proxy`.
fn select_proxy(options: &Options, url: &Url, secure: bool) -> Result<Option<Proxy>, WsError> {
    let urls = crate::net::proxy_urls(options);
    let (field, scheme_proxy) = if secure {
        ("proxies.https", urls.https)
    } else {
        ("proxies.http", urls.http)
    };
    let (field, chosen) = match scheme_proxy {
        Some(u) => (field, u),
        None => match urls.all {
            Some(u) => ("proxies.all", u),
            None => return Ok(None),
        },
    };
    let no_proxy = urls.no_proxy.unwrap_or_default();
    let host = url.host_str().unwrap_or("");
    if no_proxy_matches(&no_proxy, host) {
        return Ok(None);
    }
    // A bare `host:port` means an HTTP proxy, as for reqwest.
    let with_scheme = if chosen.contains("://") {
        chosen.clone()
    } else {
        format!("http://{chosen}")
    };
    let proxy_url =
        Url::parse(&with_scheme).map_err(|e| config(format!("`{field}` is not a URL ({e})")))?;
    if proxy_url.scheme() != "http" {
        return Err(config(format!(
            "`{field}`: the websocket goes through HTTP proxies (CONNECT) only, not `{}://`",
            proxy_url.scheme()
        )));
    }
    let proxy_host = proxy_url
        .host_str()
        .ok_or_else(|| config(format!("`{field}` has no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let authorization = if proxy_url.username().is_empty() {
        None
    } else {
        let user = percent_decode(proxy_url.username());
        let pass = percent_decode(proxy_url.password().unwrap_or(""));
        Some(format!(
            "Basic {}",
            base64(format!("{user}:{pass}").as_bytes())
        ))
    };
    Ok(Some(Proxy {
        host: proxy_host,
        port: proxy_url.port_or_known_default().unwrap_or(80),
        authorization,
    }))
}

/// `NO_PROXY` matching: `*`, exact hosts, and domain suffixes (`example.com` and `.example.com`
/// both match `chat.example.com`).
fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            // `host:port` entries: compare the host part only.
            let entry = match entry.rsplit_once(':') {
                Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => {
                    h.to_owned()
                }
                _ => entry,
            };
            let bare = entry.trim_start_matches('.');
            host == bare || host.ends_with(&format!(".{bare}"))
        })
}

fn percent_decode(s: &str) -> String {
    String::from_utf8_lossy(&crate::net::percent_decode(s)).into_owned()
}

fn base64(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = [18, 12, 6, 0].map(|shift| TABLE[((n >> shift) & 63) as usize] as char);
        out.push(chars[0]);
        out.push(chars[1]);
        out.push(if chunk.len() > 1 { chars[2] } else { '=' });
        out.push(if chunk.len() > 2 { chars[3] } else { '=' });
    }
    out
}

#[cfg(feature = "rustls")]
mod tls {
    //! TLS with rustls (`aws-lc-rs`, as reqwest's `rustls` feature), verifying with the platform's roots plus `ca_cert`, as reqwest does.

    use std::sync::Arc;

    use rustls::ClientConfig;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use tokio::net::TcpStream;
    use tokio_rustls::TlsConnector;

    use super::{Stream, config};
    use crate::error::{ConnectionError, ConnectionStage, WsError};
    use crate::net::TlsFiles;
    use crate::options::Options;

    pub(crate) struct Connector(TlsConnector);

    impl Connector {
        pub(crate) fn new(options: &Options) -> Result<Connector, WsError> {
            // Our own provider, never the process-wide one: the application's choice stays its own.
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let builder = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| config(format!("TLS: {e}")))?;
            let files = super::tls_files(options)?;
            let builder = if options.verify {
                let extra = ca_certificates(&files)?;
                let verifier =
                    rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)
                        .map_err(|e| config(format!("TLS verifier: {e}")))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
            } else {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            };
            let mut tls = match client_identity(&files)? {
                Some((certs, key)) => builder
                    .with_client_auth_cert(certs, key)
                    .map_err(|e| config(format!("`client_cert`: {e}")))?,
                None => builder.with_no_client_auth(),
            };
            tls.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(Connector(TlsConnector::from(Arc::new(tls))))
        }

        pub(crate) async fn connect(
            &self,
            host: &str,
            tcp: TcpStream,
        ) -> Result<Stream, ConnectionError> {
            let name = ServerName::try_from(host.to_owned()).map_err(|e| {
                ConnectionError::caused_by(
                    ConnectionStage::Tls,
                    format!("`{host}` is not a TLS server name"),
                    e,
                )
            })?;
            let tls = self.0.connect(name, tcp).await.map_err(|e| {
                ConnectionError::caused_by(
                    ConnectionStage::Tls,
                    format!("TLS handshake with {host}"),
                    e,
                )
            })?;
            Ok(Box::new(tls))
        }
    }

    fn ca_certificates(files: &TlsFiles) -> Result<Vec<CertificateDer<'static>>, WsError> {
        let Some((path, pem)) = &files.ca else {
            return Ok(Vec::new());
        };
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| config(format!("`ca_cert` `{}`: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(config(crate::net::no_ca_certificate(path).to_string()));
        }
        Ok(certs)
    }

    type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

    fn client_identity(files: &TlsFiles) -> Result<Option<Identity>, WsError> {
        let Some(identity) = &files.identity else {
            return Ok(None);
        };
        let certs = CertificateDer::pem_slice_iter(&identity.cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| config(format!("`client_cert`: {e}")))?;
        if certs.is_empty() {
            return Err(config("`client_cert` holds no PEM certificate"));
        }
        let key = PrivateKeyDer::from_pem_slice(identity.key_pem())
            .map_err(|e| config(format!("`client_key`: no private key: {e}")))?;
        Ok(Some((certs, key)))
    }

    /// `verify = false`: any certificate is accepted (signatures are still checked).
    #[derive(Debug)]
    struct NoVerification(Arc<CryptoProvider>);

    impl ServerCertVerifier for NoVerification {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

#[cfg(all(not(feature = "rustls"), feature = "native-tls"))]
mod tls {
    //! TLS with the platform's library (native-tls).

    use tokio::net::TcpStream;
    use tokio_native_tls::native_tls;

    use super::{Stream, config};
    use crate::error::{ConnectionError, ConnectionStage, WsError};
    use crate::options::Options;

    pub(crate) struct Connector(tokio_native_tls::TlsConnector);

    impl Connector {
        pub(crate) fn new(options: &Options) -> Result<Connector, WsError> {
            let mut b = native_tls::TlsConnector::builder();
            b.request_alpns(&["http/1.1"]);
            if !options.verify {
                b.danger_accept_invalid_certs(true);
            }
            let files = super::tls_files(options)?;
            if let Some((path, pem)) = &files.ca {
                let cert = native_tls::Certificate::from_pem(pem)
                    .map_err(|e| config(format!("`ca_cert` `{}`: {e}", path.display())))?;
                b.add_root_certificate(cert);
            }
            if let Some(identity) = &files.identity {
                let identity = native_tls::Identity::from_pkcs8(&identity.cert, identity.key_pem())
                    .map_err(|e| config(format!("`client_cert`: {e}")))?;
                b.identity(identity);
            }
            let connector = b.build().map_err(|e| config(format!("TLS: {e}")))?;
            Ok(Connector(tokio_native_tls::TlsConnector::from(connector)))
        }

        pub(crate) async fn connect(
            &self,
            host: &str,
            tcp: TcpStream,
        ) -> Result<Stream, ConnectionError> {
            let tls = self.0.connect(host, tcp).await.map_err(|e| {
                ConnectionError::caused_by(
                    ConnectionStage::Tls,
                    format!("TLS handshake with {host}"),
                    e,
                )
            })?;
            Ok(Box::new(tls))
        }
    }
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
mod tls {
    //! No TLS feature: `wss://` cannot be used.

    use tokio::net::TcpStream;

    use super::{Stream, config};
    use crate::error::{ConnectionError, ConnectionStage, WsError};
    use crate::options::Options;

    pub(crate) struct Connector;

    impl Connector {
        pub(crate) fn new(_options: &Options) -> Result<Connector, WsError> {
            Err(config(
                "wss:// needs the `rustls` or `native-tls` feature of matterapi",
            ))
        }

        pub(crate) async fn connect(
            &self,
            _host: &str,
            _tcp: TcpStream,
        ) -> Result<Stream, ConnectionError> {
            Err(ConnectionError::new(
                ConnectionStage::Tls,
                "no TLS support compiled in",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:p@ss"), "dXNlcjpwQHNz");
    }

    #[test]
    fn no_proxy_rules() {
        assert!(no_proxy_matches("*", "a.b"));
        assert!(no_proxy_matches("example.com", "chat.example.com"));
        assert!(no_proxy_matches(".example.com", "chat.example.com"));
        assert!(no_proxy_matches("localhost, 127.0.0.1", "127.0.0.1"));
        assert!(no_proxy_matches("127.0.0.1:8065", "127.0.0.1"));
        assert!(!no_proxy_matches("example.com", "notexample.com"));
        assert!(!no_proxy_matches("", "example.com"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("p%40ss%3A"), "p@ss:");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
