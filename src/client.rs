//! Making a [`Client`]: the server's URL and a bearer token. The full options and login layer builds
//! on this seam.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use secrecy::SecretString;

use crate::error::{Error, Result};
use crate::generated::Client;
use crate::hooks::Inner;

/// Builds a [`Client`].
///
/// ```no_run
/// # fn main() -> Result<(), matterapi::Error> {
/// let client = matterapi::Client::builder("https://chat.example.com")
///     .token("a personal access token")
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    url: String,
    token: Option<SecretString>,
    timeout: Duration,
    debug: bool,
}

impl Client {
    /// Starts building a client for the server at `url` (e.g. `https://chat.example.com`, or with a
    /// sub-path when the server sits behind a reverse proxy).
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            token: None,
            timeout: Duration::from_secs(10),
            debug: false,
        }
    }

    /// A client for the server at `url` that authenticates with `token` (a session, personal access
    /// or bot token).
    pub fn with_token(url: impl Into<String>, token: impl Into<String>) -> Result<Client> {
        Client::builder(url).token(token).build()
    }

    /// Replaces the bearer token for every later request of this client and its clones.
    pub fn set_token(&self, token: impl Into<String>) {
        if let Ok(mut t) = self.inner.token.write() {
            *t = Some(SecretString::from(token.into()));
        }
    }
}

impl ClientBuilder {
    /// The bearer token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// The time allowed for each request, from connect to the end of the body (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Logs every request to stderr when no tracing subscriber is installed (default off).
    pub fn debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| Error::Config(format!("url `{}` is not a URL: {e}", self.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "url `{}` must be http or https",
                self.url
            )));
        }
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .user_agent(concat!("matterapi-rust/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let inner = Inner {
            token: Arc::new(RwLock::new(self.token)),
            debug: self.debug,
        };
        Ok(Client::new_with_client(
            self.url.trim_end_matches('/'),
            http,
            inner,
        ))
    }
}

/// rustls needs a process-wide crypto provider; we use `ring` (no C build) unless the application
/// installed one already.
fn install_crypto_provider() {
    #[cfg(feature = "rustls")]
    {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
