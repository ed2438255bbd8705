//! The client's state and how a [`Client`] is made: [`Inner`] (what the hand-written layer keeps
//! inside the generated client: the options, the credential, the login state, the counters),
//! [`Client::from_options`] and [`OptionsBuilder::build`].

use std::sync::{Arc, RwLock};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::error::Result;
use crate::generated::Client;
use crate::options::{Auth, Options, OptionsBuilder};
use crate::types::User;

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

/// The active token, with its `Authorization` header made once (marked sensitive).
#[derive(Clone)]
pub(crate) struct Credential {
    pub(crate) token: SecretString,
    pub(crate) header: Option<HeaderValue>,
}

impl Credential {
    pub(crate) fn new(token: SecretString) -> Credential {
        let header = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .ok()
            .map(|mut value| {
                value.set_sensitive(true);
                value
            });
        Credential { token, header }
    }
}

/// State the hand-written layer keeps inside the generated client. Cloning a client shares it.
/// Not part of the public API (the generated client names it as its inner type).
#[doc(hidden)]
#[derive(Clone)]
pub struct Inner {
    pub(crate) options: Arc<Options>,
    pub(crate) token: Arc<RwLock<Option<Credential>>>,
    pub(crate) me: Arc<RwLock<Option<User>>>,
    /// Held while logging in, so that concurrent relogins make one session.
    pub(crate) login_lock: Arc<tokio::sync::Mutex<()>>,
    /// Successful logins so far (a relogin that waited for another sees it changed).
    pub(crate) logins: Arc<std::sync::atomic::AtomicU64>,
    /// What the retry policy (`options.retry`) did so far: [`Client::retry_stats`].
    pub(crate) retry: Arc<crate::retry::RetryCounters>,
    /// One permit per request in flight (`options.max_connections`).
    pub(crate) slots: Arc<tokio::sync::Semaphore>,
    /// The token's generation, bumped by every change of token (login, relogin, `set_token`,
    /// logout): websocket listeners watch it to move to a new token at once.
    pub(crate) token_generation: Arc<tokio::sync::watch::Sender<u64>>,
    /// The MFA codes the logins used (`crate::mfa`).
    pub(crate) mfa: Arc<crate::mfa::MfaState>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let has_token = self.token.read().map(|t| t.is_some()).unwrap_or(false);
        f.debug_struct("Inner")
            .field("options", &self.options)
            .field("token", &if has_token { "[redacted]" } else { "none" })
            .finish()
    }
}

impl Inner {
    /// The state of a new client made from `options` (checked already).
    fn new(options: Options) -> Inner {
        let token = match &options.auth {
            Some(Auth::Token { token }) => Some(token.clone()),
            _ => None,
        };
        Inner {
            token: Arc::new(RwLock::new(token.map(Credential::new))),
            me: Arc::new(RwLock::new(None)),
            login_lock: Arc::new(tokio::sync::Mutex::new(())),
            logins: Arc::default(),
            retry: Arc::default(),
            mfa: Arc::default(),
            slots: Arc::new(tokio::sync::Semaphore::new(
                options
                    .max_connections
                    .min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
            token_generation: Arc::new(tokio::sync::watch::channel(0).0),
            options: Arc::new(options),
        }
    }

    /// Waits for a slot for one request in flight (`max_connections`); `None` only if the
    /// semaphore were closed, which it never is.
    pub(crate) async fn slot(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.slots.acquire().await.ok()
    }

    pub(crate) fn set_token(&self, token: Option<SecretString>) {
        if let Ok(mut t) = self.token.write() {
            *t = token.map(Credential::new);
            // Bumped under the write lock: a reader of both under the read lock sees them agree.
            self.token_generation
                .send_modify(|g| *g = g.wrapping_add(1));
        }
    }

    /// The current token and its generation, read together.
    pub(crate) fn token_and_generation(&self) -> (Option<SecretString>, u64) {
        match self.token.read() {
            Ok(t) => (
                t.as_ref().map(|c| c.token.clone()),
                *self.token_generation.borrow(),
            ),
            Err(_) => (None, *self.token_generation.borrow()),
        }
    }

    /// Told of every change of token.
    pub(crate) fn token_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.token_generation.subscribe()
    }

    /// The `Authorization` header for the current token, marked sensitive so that no `Debug` of a
    /// request or header map shows it.
    pub(crate) fn authorization(&self) -> Option<HeaderValue> {
        self.token.read().ok()?.as_ref()?.header.clone()
    }
}

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
        let http = crate::net::http_client(&options)?;
        let inner = Inner::new(options);
        let base = inner.options.base_url().to_owned();
        Ok(Client::new_with_client(&base, http, inner))
    }

    /// The options this client was made from.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// Replaces the bearer token for every later request of this client and its clones (REST and
    /// websocket), and forgets the user of the old one ([`Client::me`], [`Client::my_user_id`]).
    pub fn set_token(&self, token: impl Into<String>) {
        self.inner.set_token(Some(SecretString::from(token.into())));
        // The token may be another user's: forget the user of the old one.
        if let Ok(mut me) = self.inner.me.write() {
            *me = None;
        }
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

impl OptionsBuilder<Client> {
    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        Client::from_options(self.options()?)
    }
}
