//! Making a [`Client`] from [`Options`].

use std::sync::{Arc, RwLock};

use secrecy::SecretString;

use crate::error::Result;
use crate::generated::Client;
use crate::hooks::Inner;
use crate::options::{Auth, Options, OptionsBuilder};

/// Builds a [`Client`]: the typed [`OptionsBuilder`] ending in `build()`.
///
/// ```no_run
/// # fn main() -> Result<(), matterapi::Error> {
/// let client = matterapi::Client::builder("https://chat.example.com")
///     .token("a personal access token")
///     .build()?;
/// # Ok(()) }
/// ```
pub type ClientBuilder = OptionsBuilder;

impl Client {
    /// Starts building a client for the server at `url` (e.g. `https://chat.example.com`, or with a
    /// sub-path when the server sits behind a reverse proxy).
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        Options::builder(url)
    }

    /// A client for the server at `url` that authenticates with `token` (a session, personal access
    /// or bot token).
    pub fn with_token(url: impl Into<String>, token: impl Into<String>) -> Result<Client> {
        Client::builder(url).token(token).build()
    }

    /// A client made from `options` (checked first). With token auth the token is used at once;
    /// with login auth, call [`Client::login`].
    pub fn from_options(options: Options) -> Result<Client> {
        let options = options.validated()?;
        let http = options.http_client()?;
        let token = match &options.auth {
            Some(Auth::Token { token }) => Some(token.clone()),
            _ => None,
        };
        let inner = Inner {
            token: Arc::new(RwLock::new(token.map(crate::hooks::Credential::new))),
            me: Arc::new(RwLock::new(None)),
            login_lock: Arc::new(tokio::sync::Mutex::new(())),
            logins: Arc::default(),
            debug: options.debug,
            retry: Arc::default(),
            mfa: Arc::default(),
            slots: Arc::new(tokio::sync::Semaphore::new(
                options
                    .max_connections
                    .min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
            token_generation: Arc::new(tokio::sync::watch::channel(0).0),
            options: Arc::new(options),
        };
        let base = inner.options.base_url().to_owned();
        Ok(Client::new_with_client(&base, http, inner))
    }

    /// The options this client was made from.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// Replaces the bearer token for every later request of this client and its clones (REST and
    /// websocket).
    pub fn set_token(&self, token: impl Into<String>) {
        self.inner.set_token(Some(SecretString::from(token.into())));
    }

    /// The bearer token in use, if any (to hand to another client; never printed).
    pub fn token(&self) -> Option<SecretString> {
        self.inner
            .token
            .read()
            .ok()
            .and_then(|t| t.as_ref().map(|c| c.token.clone()))
    }
}

/// rustls needs a process-wide crypto provider; we use `ring` (no C build) unless the application
/// installed one already.
pub(crate) fn install_crypto_provider() {
    #[cfg(feature = "rustls")]
    {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
