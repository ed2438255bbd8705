//! The network set-up shared by REST and the websocket: the reqwest client
//! made from [`Options`], the TLS material (CA certificates, client identity) and the proxies the
//! options name.

use std::path::PathBuf;

use crate::error::{Error, Result, config};
use crate::options::Options;
use crate::redact::masked;

/// The `User-Agent` of every request and websocket upgrade unless the options name one.
pub(crate) const DEFAULT_USER_AGENT: &str = concat!("matterapi-rust/", env!("CARGO_PKG_VERSION"));

/// The `User-Agent` the options ask for.
pub(crate) fn user_agent(options: &Options) -> String {
    options
        .user_agent
        .clone()
        .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned())
}

/// Logs at warn level (target `matterapi`) that `transport` (`"REST"`, `"websocket"`) of a client
/// accepts any TLS certificate (`verify` off). Call it once per client and transport, when its
/// connector is built.
pub(crate) fn warn_unverified_tls(transport: &str) {
    tracing::warn!(
        target: "matterapi",
        transport,
        "TLS certificate verification is off (verify=false): anyone on the network path can read \
         and change the traffic, the token included"
    );
}

fn read(field: &str, path: &PathBuf) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| config(field, format!("cannot read `{}`: {e}", path.display())))
}

/// The TLS files the options name, read once, for REST and the websocket alike: the CA bundle of
/// `ca_cert` and the client identity of `client_cert`/`client_key` (PEM). Each transport parses
/// them with its own TLS library.
#[derive(Default)]
pub(crate) struct TlsFiles {
    /// `ca_cert`'s path and PEM.
    pub(crate) ca: Option<(PathBuf, Vec<u8>)>,
    /// `client_cert`'s PEM, and `client_key`'s when the key is in its own file.
    pub(crate) identity: Option<Identity>,
}

/// The client certificate (PEM) and its key.
pub(crate) struct Identity {
    /// The certificate chain, and the key too when `key` is `None`.
    pub(crate) cert: Vec<u8>,
    /// The key's PEM from `client_key`.
    pub(crate) key: Option<Vec<u8>>,
}

impl Identity {
    /// The key's PEM: its own file's, else the certificate file's.
    pub(crate) fn key_pem(&self) -> &[u8] {
        self.key.as_deref().unwrap_or(&self.cert)
    }

    /// Certificate and key in one PEM.
    pub(crate) fn joined_pem(&self) -> Vec<u8> {
        let mut pem = self.cert.clone();
        if let Some(key) = &self.key {
            pem.push(b'\n');
            pem.extend_from_slice(key);
        }
        pem
    }
}

/// Reads the TLS files the options name (see [`TlsFiles`]).
pub(crate) fn tls_files(options: &Options) -> Result<TlsFiles> {
    let ca = match &options.ca_cert {
        Some(path) => Some((path.clone(), read("ca_cert", path)?)),
        None => None,
    };
    let identity = match &options.client_cert {
        Some(cert) => Some(Identity {
            cert: read("client_cert", cert)?,
            key: match &options.client_key {
                Some(key) => Some(read("client_key", key)?),
                None => None,
            },
        }),
        None => None,
    };
    Ok(TlsFiles { ca, identity })
}

/// The error for a `ca_cert` bundle without a certificate.
pub(crate) fn no_ca_certificate(path: &std::path::Path) -> Error {
    config(
        "ca_cert",
        format!("`{}` holds no PEM certificate", path.display()),
    )
}

/// The CA certificates of `ca_cert`, parsed for reqwest.
fn ca_certificates(files: &TlsFiles) -> Result<Vec<reqwest::Certificate>> {
    let Some((path, pem)) = &files.ca else {
        return Ok(Vec::new());
    };
    let certs = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| config("ca_cert", format!("`{}`: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(no_ca_certificate(path));
    }
    Ok(certs)
}

/// The reqwest client these options describe: timeout, TLS (verification, CA, client
/// certificate), proxies, user agent; never storing cookies, never following redirects. With
/// `verify` off it logs [`warn_unverified_tls`] (once: one HTTP client per [`crate::Client`]).
pub(crate) fn http_client(options: &Options) -> Result<reqwest::Client> {
    // No process-wide rustls crypto provider is installed here: reqwest takes the application's
    // when it installed one, and aws-lc-rs (its `rustls` feature's) otherwise.
    let mut b = reqwest::Client::builder()
        .connect_timeout(options.timeout)
        .timeout(options.timeout)
        .pool_max_idle_per_host(options.max_connections)
        // The API never redirects: a redirect reply comes back as its status (an error),
        // and no credential or body follows it to another host.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent(options));
    if !options.verify {
        warn_unverified_tls("REST");
        b = b.tls_danger_accept_invalid_certs(true);
    }
    let files = tls_files(options)?;
    for cert in ca_certificates(&files)? {
        b = b.add_root_certificate(cert);
    }
    if let Some(identity) = &files.identity {
        let identity = identity_from_pem(&identity.joined_pem())
            .map_err(|e| config("client_cert", format!("not a PEM certificate and key: {e}")))?;
        b = b.identity(identity);
    }
    b = apply_proxies(options, b)?;
    b.build()
        .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
}

fn apply_proxies(
    options: &Options,
    mut b: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder> {
    let ProxyUrls {
        http,
        https,
        all,
        no_proxy,
    } = proxy_urls(options);
    let no_proxy = no_proxy.as_deref().and_then(reqwest::NoProxy::from_string);
    type Make = fn(&str) -> reqwest::Result<reqwest::Proxy>;
    let entries: [(&str, Option<String>, Make); 3] = [
        ("proxies.http", http, |u| reqwest::Proxy::http(u)),
        ("proxies.https", https, |u| reqwest::Proxy::https(u)),
        ("proxies.all", all, |u| reqwest::Proxy::all(u)),
    ];
    // Explicit proxies replace reqwest's own reading of the environment.
    b = b.no_proxy();
    for (field, url, make) in entries {
        if let Some(url) = url {
            let proxy =
                make(&url).map_err(|e| config(field, format!("`{}`: {e}", masked(&url))))?;
            b = b.proxy(proxy.no_proxy(no_proxy.clone()));
        }
    }
    Ok(b)
}

/// The proxies the options ask for: the explicit ones, else (with `proxies.from_env`) those of
/// `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (or their lower-case names). The one
/// resolver of REST and the websocket: each then picks by scheme (`http`/`ws` or `https`/`wss`,
/// else `all`) and skips the hosts of `no_proxy`.
#[derive(Debug, Default)]
pub(crate) struct ProxyUrls {
    pub(crate) http: Option<String>,
    pub(crate) https: Option<String>,
    pub(crate) all: Option<String>,
    pub(crate) no_proxy: Option<String>,
}

/// [`ProxyUrls`] of `options`, the environment read once.
pub(crate) fn proxy_urls(options: &Options) -> ProxyUrls {
    let p = &options.proxies;
    let env = |names: [&str; 2]| -> Option<String> {
        if !p.from_env {
            return None;
        }
        names
            .iter()
            .find_map(|n| std::env::var(n).ok())
            .filter(|v| !v.is_empty())
    };
    ProxyUrls {
        http: p.http.clone().or_else(|| env(["HTTP_PROXY", "http_proxy"])),
        https: p
            .https
            .clone()
            .or_else(|| env(["HTTPS_PROXY", "https_proxy"])),
        all: p.all.clone().or_else(|| env(["ALL_PROXY", "all_proxy"])),
        no_proxy: p.no_proxy.clone().or_else(|| env(["NO_PROXY", "no_proxy"])),
    }
}

#[cfg(feature = "rustls")]
fn identity_from_pem(pem: &[u8]) -> reqwest::Result<reqwest::Identity> {
    reqwest::Identity::from_pem(pem)
}

#[cfg(all(not(feature = "rustls"), feature = "native-tls"))]
fn identity_from_pem(pem: &[u8]) -> reqwest::Result<reqwest::Identity> {
    // native-tls wants the certificate and the PKCS#8 key apart: split the PEM sections.
    let text = String::from_utf8_lossy(pem);
    let key_at = text
        .find("-----BEGIN PRIVATE KEY-----")
        .unwrap_or(text.len());
    let (cert, key) = text.split_at(key_at);
    reqwest::Identity::from_pkcs8_pem(cert.as_bytes(), key.as_bytes())
}

/// `%XX` escapes decoded to bytes (a `%` not followed by two hex digits is kept as it is): for the
/// `filename*` of a download's `Content-Disposition` and the user info of a proxy URL.
pub(crate) fn percent_decode(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_stray_percents() {
        assert_eq!(percent_decode("100%"), b"100%");
        assert_eq!(percent_decode("%zz%41"), b"%zzA");
    }
}
