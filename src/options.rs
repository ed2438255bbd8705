//! Client options: where the server is, how to authenticate, and how to talk HTTP (and websocket) to
//! it. Built with [`Options::builder`] or deserialized from JSON, TOML or an environment-style map
//! ([`Options::from_env_map`]); every bad value is an [`Error::Config`] naming the field.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::{Error, Result, config};
use crate::redact::masked;
use crate::retry::RetryPolicy;

/// How the client authenticates.
#[derive(Clone, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
#[non_exhaustive]
pub enum Auth {
    /// A session, personal access or bot token.
    Token {
        /// The token.
        token: SecretString,
    },
    /// Login id (username or email) and password, and for accounts with MFA one of: a code typed in
    /// once (`mfa_token`), the TOTP secret (`mfa_secret`), or a callback (see [`crate::mfa`]).
    Login {
        /// Username or email.
        login_id: String,
        /// The password.
        password: SecretString,
        /// A current MFA (TOTP) code. It is valid once: the first login sends it, and a relogin
        /// (a revoked session, the websocket's) then fails with [`Error::MfaCodeUsed`]. Give
        /// `mfa_secret` or a callback to relogin.
        #[serde(default)]
        mfa_token: Option<SecretString>,
        /// The account's TOTP secret, base32 as Mattermost shows it when MFA is set up: each login
        /// sends a fresh code made from it (waiting for the next 30 s step when this client used
        /// the current one).
        #[serde(default)]
        mfa_secret: Option<SecretString>,
        /// A callback giving a fresh MFA code for each login (not loadable from JSON, TOML or the
        /// environment).
        #[serde(skip)]
        mfa_callback: Option<crate::mfa::MfaCallback>,
    },
}

impl Auth {
    /// Token auth.
    pub fn token(token: impl Into<String>) -> Auth {
        Auth::Token {
            token: SecretString::from(token.into()),
        }
    }

    /// Login id + password auth.
    pub fn login(login_id: impl Into<String>, password: impl Into<String>) -> Auth {
        Auth::Login {
            login_id: login_id.into(),
            password: SecretString::from(password.into()),
            mfa_token: None,
            mfa_secret: None,
            mfa_callback: None,
        }
    }

    /// Login id + password + a one-time MFA code auth: the code is sent by the first login only
    /// (a relogin fails with [`Error::MfaCodeUsed`]); see [`Auth::login_totp`] to relogin.
    pub fn login_mfa(
        login_id: impl Into<String>,
        password: impl Into<String>,
        mfa_token: impl Into<String>,
    ) -> Auth {
        Auth::Login {
            login_id: login_id.into(),
            password: SecretString::from(password.into()),
            mfa_token: Some(SecretString::from(mfa_token.into())),
            mfa_secret: None,
            mfa_callback: None,
        }
    }

    /// Login id + password + the account's TOTP secret (base32, as Mattermost shows it): each
    /// login, relogins included, sends a fresh code.
    pub fn login_totp(
        login_id: impl Into<String>,
        password: impl Into<String>,
        mfa_secret: impl Into<String>,
    ) -> Auth {
        Auth::Login {
            login_id: login_id.into(),
            password: SecretString::from(password.into()),
            mfa_token: None,
            mfa_secret: Some(SecretString::from(mfa_secret.into())),
            mfa_callback: None,
        }
    }

    /// Login id + password + a callback called at each login, relogins included, for a fresh MFA
    /// code.
    pub fn login_mfa_callback(
        login_id: impl Into<String>,
        password: impl Into<String>,
        code: impl Fn() -> String + Send + Sync + 'static,
    ) -> Auth {
        Auth::Login {
            login_id: login_id.into(),
            password: SecretString::from(password.into()),
            mfa_token: None,
            mfa_secret: None,
            mfa_callback: Some(crate::mfa::MfaCallback::new(code)),
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Token { .. } => f
                .debug_struct("Token")
                .field("token", &"[redacted]")
                .finish(),
            Auth::Login {
                login_id,
                mfa_token,
                mfa_secret,
                mfa_callback,
                ..
            } => f
                .debug_struct("Login")
                .field("login_id", login_id)
                .field("password", &"[redacted]")
                .field("mfa_token", &mfa_token.as_ref().map(|_| "[redacted]"))
                .field("mfa_secret", &mfa_secret.as_ref().map(|_| "[redacted]"))
                .field("mfa_callback", mfa_callback)
                .finish(),
        }
    }
}

/// Proxies for HTTP and websocket traffic.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Proxies {
    /// Proxy for `http://` URLs (key `http`, or `http://` as the Python library's proxies dict
    /// writes it).
    #[serde(alias = "http://")]
    pub http: Option<String>,
    /// Proxy for `https://` URLs (key `https` or `https://`).
    #[serde(alias = "https://")]
    pub https: Option<String>,
    /// Proxy for every URL, used when `http`/`https` is not set for the scheme (key `all` or
    /// `all://`).
    #[serde(alias = "all://")]
    pub all: Option<String>,
    /// Hosts that bypass the proxies (`NO_PROXY` syntax).
    pub no_proxy: Option<String>,
    /// Also honour `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` from the environment
    /// (default true). Explicit settings win.
    #[serde(deserialize_with = "de::flexible_bool")]
    pub from_env: bool,
}

impl std::fmt::Debug for Proxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = |v: &Option<String>| v.as_deref().map(masked);
        f.debug_struct("Proxies")
            .field("http", &m(&self.http))
            .field("https", &m(&self.https))
            .field("all", &m(&self.all))
            .field("no_proxy", &self.no_proxy)
            .field("from_env", &self.from_env)
            .finish()
    }
}

impl Default for Proxies {
    fn default() -> Self {
        Proxies {
            http: None,
            https: None,
            all: None,
            no_proxy: None,
            from_env: true,
        }
    }
}

/// Everything a [`Client`](crate::Client) is made from.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Options {
    /// The server, e.g. `https://chat.example.com`, possibly with a sub-path behind a reverse proxy.
    pub url: String,
    /// The websocket URL; derived from `url` when unset (http -> ws, https -> wss, same sub-path).
    /// A URL without a path (`ws://chat.example.com:8065`, the websocket base URL as the Python
    /// library takes it) gets `basepath` and `/websocket` added; a URL with a path is used as it is.
    pub ws_url: Option<String>,
    /// The API's path under `url` (default `/api/v4`).
    pub basepath: String,
    /// How to authenticate (none: only public endpoints work until a token is set).
    pub auth: Option<Auth>,
    /// Time allowed for each request (default 10 s). Seconds as a number, or `"500ms"`, `"10s"`, `"2m"`.
    #[serde(deserialize_with = "de::duration")]
    pub timeout: Duration,
    /// Verify the server's TLS certificate (default true). `false` accepts any certificate:
    /// anyone on the network path can then read and change the traffic, the token and the
    /// password included. Prefer `ca_cert` for a private CA or a self-signed certificate. A client
    /// built with verification off logs a warning (target `matterapi`).
    #[serde(deserialize_with = "de::flexible_bool")]
    pub verify: bool,
    /// A PEM file of CA certificates to trust, in addition to the system's.
    pub ca_cert: Option<PathBuf>,
    /// A PEM file with the client certificate (and its key, unless `client_key` is set), for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// A PEM file with the client certificate's private key.
    pub client_key: Option<PathBuf>,
    /// Proxies.
    pub proxies: Proxies,
    /// The `User-Agent` header (default `matterapi-rust/<version>`).
    pub user_agent: Option<String>,
    /// Log every request to stderr when no tracing subscriber is installed (default false).
    #[serde(deserialize_with = "de::flexible_bool")]
    pub debug: bool,
    /// Run websocket event handlers concurrently (default true).
    #[serde(deserialize_with = "de::flexible_bool")]
    pub ws_concurrent: bool,
    /// At most this many handlers in flight when concurrent (default 16).
    #[serde(deserialize_with = "de::flexible_usize")]
    pub ws_max_in_flight: usize,
    /// First wait before reconnecting the websocket (default 5 s).
    #[serde(deserialize_with = "de::duration")]
    pub ws_reconnect_wait_time: Duration,
    /// Skip decoding replies client-wide (default false): every operation's `call()` then returns
    /// the untouched reply ([`crate::raw::Reply::Raw`]) instead of the decoded value. `send()` always
    /// decodes and `send_raw()` never does; see [`crate::raw`].
    #[serde(deserialize_with = "de::flexible_bool")]
    pub skip_response_parsing: bool,
    /// When requests are retried (default: on; see [`crate::retry`]). `false` or `"off"` switches
    /// retries off; a table sets fields (`{ max_attempts = 3, max_wait = "10s" }`), as does a string
    /// of `key=value` pairs (`"max_attempts=3,max_wait=10s"`, for environment maps).
    #[serde(deserialize_with = "de::retry_policy")]
    pub retry: RetryPolicy,
    /// The longest reply body read into memory, in bytes (default 64 MiB): a longer one is
    /// [`Error::BodyTooLarge`], its reading stopped at the limit.
    /// Downloads ([`crate::files::Download`]) stream and are not limited. The websocket applies the
    /// same limit to a message.
    #[serde(deserialize_with = "de::flexible_usize")]
    pub max_body_size: usize,
    /// Log in again when a request gets HTTP 401 (the session was revoked or expired), then send
    /// it once more with the new session (default true; only with login id + password auth, and
    /// never for a request whose body is a stream). Websocket listeners move to the new session at
    /// once. The listener's own relogin is [`Websocket::relogin`](crate::ws::Websocket::relogin).
    #[serde(deserialize_with = "de::flexible_bool")]
    pub relogin: bool,
    /// At most this many requests of this client (and its clones) in flight at once (default 64);
    /// more wait for a slot. It bounds the sockets the client opens (an idle pool of at most as
    /// many is kept): 1,000 calls at once would otherwise open 1,000 connections and can exhaust
    /// the process's file descriptors.
    #[serde(deserialize_with = "de::flexible_usize")]
    pub max_connections: usize,
}

/// The default [`Options::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 64;

/// The default [`Options::max_body_size`]: 64 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 64 << 20;

impl Default for Options {
    fn default() -> Self {
        Options {
            url: String::new(),
            ws_url: None,
            basepath: "/api/v4".into(),
            auth: None,
            timeout: Duration::from_secs(10),
            verify: true,
            ca_cert: None,
            client_cert: None,
            client_key: None,
            proxies: Proxies::default(),
            user_agent: None,
            debug: false,
            ws_concurrent: true,
            ws_max_in_flight: 16,
            ws_reconnect_wait_time: Duration::from_secs(5),
            skip_response_parsing: false,
            retry: RetryPolicy::default(),
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            relogin: true,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("url", &masked(&self.url))
            .field("ws_url", &self.ws_url.as_deref().map(masked))
            .field("basepath", &self.basepath)
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .field("verify", &self.verify)
            .field("ca_cert", &self.ca_cert)
            .field("client_cert", &self.client_cert)
            .field("client_key", &self.client_key)
            .field("proxies", &self.proxies)
            .field("user_agent", &self.user_agent)
            .field("debug", &self.debug)
            .field("ws_concurrent", &self.ws_concurrent)
            .field("ws_max_in_flight", &self.ws_max_in_flight)
            .field("ws_reconnect_wait_time", &self.ws_reconnect_wait_time)
            .field("skip_response_parsing", &self.skip_response_parsing)
            .field("retry", &self.retry)
            .field("max_body_size", &self.max_body_size)
            .field("relogin", &self.relogin)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// A deserialization error naming the field (and, for an environment map, the variable).
fn field_error<E: std::fmt::Display>(
    e: &serde_path_to_error::Error<E>,
    env_prefix: Option<&str>,
) -> Error {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    // serde_json's position ("at line 1 column 9") says nothing more than the field name.
    let inner = inner.split(" at line ").next().unwrap_or(&inner);
    match (path.as_str(), env_prefix) {
        (".", _) => Error::Config(inner.to_owned()),
        (p, Some(prefix)) => {
            let var = p
                .trim_start_matches("auth.")
                .replace('.', "_")
                .to_uppercase();
            Error::Config(format!("`{p}` ({prefix}{var}): {inner}"))
        }
        (p, None) => Error::Config(format!("`{p}`: {inner}")),
    }
}

impl Options {
    /// Options for the server at `url`, everything else at its default.
    pub fn new(url: impl Into<String>) -> Options {
        Options {
            url: url.into(),
            ..Options::default()
        }
    }

    /// A typed builder for the server at `url`.
    pub fn builder(url: impl Into<String>) -> OptionsBuilder {
        OptionsBuilder::new(Options::new(url))
    }

    /// Options from JSON text (unknown fields are errors). The Python library's option document
    /// is accepted as it is written: see [`Options::from_value`].
    pub fn from_json(text: &str) -> Result<Options> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let e = e.to_string();
            Error::Config(format!(
                "invalid JSON: {}",
                e.split(" at line ").next().unwrap_or(&e)
            ))
        })?;
        Options::from_value(value)
    }

    /// Options from a JSON value (unknown fields are errors), as [`Options::from_json`] reads
    /// them. Besides this crate's own keys it takes the Python library's document as written:
    /// `httpx_client_options: {timeout, verify, cert, proxies, trust_env}` nested (`verify` a bool
    /// or the path of a CA bundle; `cert` a path or `[cert, key]`; `proxies` a URL or a dict keyed
    /// `http://`, `https://`, `all://`). What that library passes on to its HTTP client and this
    /// crate cannot do is refused by name: `httpx_client_options.auth` (HTTP authentication of
    /// the HTTP client: use `auth`), a `cert` with a key password, per-host proxy keys
    /// (`all://example.com`: use `no_proxy`), and any other HTTP client option.
    pub fn from_value(value: serde_json::Value) -> Result<Options> {
        let value = seed::flatten(value)?;
        let o: Options =
            serde_path_to_error::deserialize(value).map_err(|e| field_error(&e, None))?;
        o.validated()
    }

    /// Options from a map of option names to JSON values (e.g. built in code or read by another
    /// format), as [`Options::from_value`] reads them.
    pub fn from_map<I, K>(entries: I) -> Result<Options>
    where
        I: IntoIterator<Item = (K, serde_json::Value)>,
        K: Into<String>,
    {
        let map: serde_json::Map<String, serde_json::Value> =
            entries.into_iter().map(|(k, v)| (k.into(), v)).collect();
        Options::from_value(serde_json::Value::Object(map))
    }

    /// Options from TOML text (unknown fields are errors). Feature `toml` (on by default).
    #[cfg(feature = "toml")]
    pub fn from_toml(text: &str) -> Result<Options> {
        let value: serde_json::Value =
            toml::from_str(text).map_err(|e| Error::Config(format!("invalid TOML: {e}")))?;
        Options::from_value(value)
    }

    /// Options from an environment-style map: keys with `prefix` (e.g. `MATTERAPI_`) in upper snake
    /// case, values as strings. `MATTERAPI_URL`, `MATTERAPI_TIMEOUT=30`, `MATTERAPI_VERIFY=false`,
    /// `MATTERAPI_TOKEN` or `MATTERAPI_LOGIN_ID` + `MATTERAPI_PASSWORD` (+ `MATTERAPI_MFA_SECRET` or
    /// `MATTERAPI_MFA_TOKEN`),
    /// `MATTERAPI_PROXIES_HTTPS=...`. Keys without the prefix are ignored; unknown keys with it are
    /// errors.
    pub fn from_env_map<I, K, V>(prefix: &str, vars: I) -> Result<Options>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut top = serde_json::Map::new();
        let mut auth = serde_json::Map::new();
        let mut proxies = serde_json::Map::new();
        for (k, v) in vars {
            let Some(name) = k.as_ref().strip_prefix(prefix) else {
                continue;
            };
            let name = name.to_lowercase();
            let v = serde_json::Value::String(v.into());
            match name.as_str() {
                "token" | "login_id" | "password" | "mfa_token" | "mfa_secret" => {
                    auth.insert(name, v);
                }
                _ => match name.strip_prefix("proxies_") {
                    Some(p) => {
                        proxies.insert(p.to_owned(), v);
                    }
                    None => {
                        top.insert(name, v);
                    }
                },
            }
        }
        if !auth.is_empty() {
            top.insert("auth".into(), serde_json::Value::Object(auth));
        }
        if !proxies.is_empty() {
            top.insert("proxies".into(), serde_json::Value::Object(proxies));
        }
        let o: Options = serde_path_to_error::deserialize(serde_json::Value::Object(top))
            .map_err(|e| field_error(&e, Some(prefix)))?;
        o.validated()
    }

    /// Options from the process environment with prefix `MATTERAPI_`.
    pub fn from_env() -> Result<Options> {
        Options::from_env_map("MATTERAPI_", std::env::vars())
    }

    /// Checks every field, naming the first bad one.
    pub fn validated(self) -> Result<Options> {
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| config("url", format!("`{}` is not a URL ({e})", masked(&self.url))))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(config(
                "url",
                format!("`{}` must be http or https", masked(&self.url)),
            ));
        }
        if let Some(ws) = &self.ws_url {
            let u = reqwest::Url::parse(ws)
                .map_err(|e| config("ws_url", format!("`{}` is not a URL ({e})", masked(ws))))?;
            if !matches!(u.scheme(), "ws" | "wss") {
                return Err(config("ws_url", format!("`{ws}` must be ws or wss")));
            }
        }
        if !self.basepath.starts_with('/') {
            return Err(config(
                "basepath",
                format!("`{}` must start with `/`", self.basepath),
            ));
        }
        if self.timeout.is_zero() {
            return Err(config("timeout", "must be more than zero"));
        }
        if self.max_connections == 0 {
            return Err(config("max_connections", "must be at least 1"));
        }
        if self.max_body_size == 0 {
            return Err(config("max_body_size", "must be at least 1 byte"));
        }
        if self.ws_max_in_flight == 0 {
            return Err(config("ws_max_in_flight", "must be at least 1"));
        }
        if self.retry.max_attempts == 0 {
            return Err(config(
                "retry.max_attempts",
                "must be at least 1 (1: no retry)",
            ));
        }
        if self.retry.max_backoff < self.retry.initial_backoff {
            return Err(config(
                "retry.max_backoff",
                format!(
                    "{:?} is less than `retry.initial_backoff` ({:?})",
                    self.retry.max_backoff, self.retry.initial_backoff
                ),
            ));
        }
        if self.client_key.is_some() && self.client_cert.is_none() {
            return Err(config("client_key", "needs `client_cert`"));
        }
        for (field, value) in [
            ("proxies.http", &self.proxies.http),
            ("proxies.https", &self.proxies.https),
            ("proxies.all", &self.proxies.all),
        ] {
            if let Some(p) = value {
                reqwest::Url::parse(p)
                    .map_err(|e| config(field, format!("`{}` is not a URL ({e})", masked(p))))?;
            }
        }
        if let Some(Auth::Login { login_id, .. }) = &self.auth
            && login_id.is_empty()
        {
            return Err(config("auth.login_id", "is empty"));
        }
        if let Some(Auth::Login {
            mfa_token,
            mfa_secret,
            mfa_callback,
            ..
        }) = &self.auth
        {
            let given = [
                mfa_token.is_some(),
                mfa_secret.is_some(),
                mfa_callback.is_some(),
            ];
            if given.iter().filter(|g| **g).count() > 1 {
                return Err(config(
                    "auth.mfa_secret",
                    "give one of `mfa_token`, `mfa_secret` and an MFA callback",
                ));
            }
            if let Some(secret) = mfa_secret {
                crate::mfa::decode_secret(secret.expose_secret())?;
            }
        }
        if let Some(Auth::Token { token }) = &self.auth
            && token.expose_secret().is_empty()
        {
            return Err(config("auth.token", "is empty"));
        }
        Ok(self)
    }

    /// The server URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.url.trim_end_matches('/')
    }

    /// The websocket URL: `ws_url`, or `url` with http -> ws, https -> wss and the same sub-path,
    /// followed by `basepath` and `/websocket`.
    pub fn websocket_url(&self) -> String {
        let path = format!("{}/websocket", self.basepath.trim_end_matches('/'));
        if let Some(ws) = &self.ws_url {
            return match reqwest::Url::parse(ws) {
                Ok(mut u) if u.path().is_empty() || u.path() == "/" => {
                    u.set_path(&path);
                    u.to_string()
                }
                _ => ws.clone(),
            };
        }
        match reqwest::Url::parse(self.url.trim()) {
            Ok(mut u) => {
                let scheme = if u.scheme() == "https" { "wss" } else { "ws" };
                // http(s) -> ws(s) always succeeds for a URL with a host.
                let _ = u.set_scheme(scheme);
                let base = u.path().trim_end_matches('/').to_owned();
                u.set_path(&format!("{base}{path}"));
                u.set_query(None);
                u.to_string()
            }
            Err(_) => format!("{}{path}", self.base_url()),
        }
    }
}

/// A typed builder of [`Options`], ending in `options()` (the options, checked) or `build()` (a
/// client of type `C`: the async [`crate::Client`] by default, the blocking one from
/// `blocking::Client::builder`).
pub struct OptionsBuilder<C = crate::generated::Client> {
    options: Options,
    client: std::marker::PhantomData<fn() -> C>,
}

impl<C> Clone for OptionsBuilder<C> {
    fn clone(&self) -> Self {
        OptionsBuilder::new(self.options.clone())
    }
}

impl<C> std::fmt::Debug for OptionsBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OptionsBuilder")
            .field("options", &self.options)
            .finish()
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.options.$name = value;
            self
        }
    };
}

impl<C> OptionsBuilder<C> {
    /// A builder starting from `options`.
    pub fn new(options: Options) -> Self {
        OptionsBuilder {
            options,
            client: std::marker::PhantomData,
        }
    }

    /// Authenticate with a token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.options.auth = Some(Auth::token(token));
        self
    }

    /// Authenticate with login id and password.
    pub fn login(mut self, login_id: impl Into<String>, password: impl Into<String>) -> Self {
        self.options.auth = Some(Auth::login(login_id, password));
        self
    }

    /// Authenticate with login id, password and the account's TOTP secret ([`Auth::login_totp`]).
    pub fn login_totp(
        mut self,
        login_id: impl Into<String>,
        password: impl Into<String>,
        mfa_secret: impl Into<String>,
    ) -> Self {
        self.options.auth = Some(Auth::login_totp(login_id, password, mfa_secret));
        self
    }

    /// Authenticate with login id, password and a callback giving a fresh MFA code at each login
    /// ([`Auth::login_mfa_callback`]).
    pub fn login_mfa_callback(
        mut self,
        login_id: impl Into<String>,
        password: impl Into<String>,
        code: impl Fn() -> String + Send + Sync + 'static,
    ) -> Self {
        self.options.auth = Some(Auth::login_mfa_callback(login_id, password, code));
        self
    }

    /// Authenticate with login id, password and a one-time MFA code ([`Auth::login_mfa`]: sent
    /// by the first login only).
    pub fn login_mfa(
        mut self,
        login_id: impl Into<String>,
        password: impl Into<String>,
        mfa_token: impl Into<String>,
    ) -> Self {
        self.options.auth = Some(Auth::login_mfa(login_id, password, mfa_token));
        self
    }

    /// The websocket URL (derived from the URL when unset).
    pub fn ws_url(mut self, url: impl Into<String>) -> Self {
        self.options.ws_url = Some(url.into());
        self
    }

    /// The API's path under the URL (default `/api/v4`).
    pub fn basepath(mut self, basepath: impl Into<String>) -> Self {
        self.options.basepath = basepath.into();
        self
    }

    /// A PEM file of CA certificates to trust.
    pub fn ca_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.ca_cert = Some(path.into());
        self
    }

    /// Client certificate and key (PEM files) for mutual TLS; `key` may be `None` when `cert` holds
    /// both.
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: Option<PathBuf>) -> Self {
        self.options.client_cert = Some(cert.into());
        self.options.client_key = key;
        self
    }

    /// A proxy for every URL.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.options.proxies.all = Some(url.into());
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.options.user_agent = Some(ua.into());
        self
    }

    setter!(/// How to authenticate.
        auth: Option<Auth>);
    setter!(/// Time allowed for each request.
        timeout: Duration);
    setter!(/// Verify the server's TLS certificate.
        verify: bool);
    setter!(/// Proxies.
        proxies: Proxies);
    setter!(/// Log every request to stderr when no tracing subscriber is installed.
        debug: bool);
    setter!(/// Run websocket handlers concurrently.
        ws_concurrent: bool);
    setter!(/// At most this many websocket handlers in flight.
        ws_max_in_flight: usize);
    setter!(/// First wait before a websocket reconnect.
        ws_reconnect_wait_time: Duration);
    setter!(/// Skip decoding replies client-wide: `call()` returns the untouched reply (`Reply::Raw`).
        skip_response_parsing: bool);
    setter!(/// When requests are retried ([`RetryPolicy::off`] for never).
        retry: RetryPolicy);
    setter!(/// The longest reply body read into memory, in bytes.
        max_body_size: usize);
    setter!(/// At most this many requests in flight at once.
        max_connections: usize);
    setter!(/// Log in again after a 401 and send the request once more (login auth only).
        relogin: bool);

    /// The options, checked.
    pub fn options(self) -> Result<Options> {
        self.options.validated()
    }
}

/// Lenient deserializers: values from environment-style maps arrive as strings.
mod de {
    use std::time::Duration;

    use serde::Deserialize;
    use serde::de::{Deserializer, Error, Unexpected};

    use crate::retry::RetryPolicy;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flex {
        Bool(bool),
        Int(u64),
        Float(f64),
        Str(String),
    }

    pub fn flexible_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match Flex::deserialize(d)? {
            Flex::Bool(b) => Ok(b),
            Flex::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(D::Error::invalid_value(Unexpected::Str(&s), &"a boolean")),
            },
            Flex::Int(n) => Err(D::Error::invalid_value(
                Unexpected::Unsigned(n),
                &"a boolean",
            )),
            Flex::Float(f) => Err(D::Error::invalid_value(Unexpected::Float(f), &"a boolean")),
        }
    }

    pub fn flexible_usize<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
        match Flex::deserialize(d)? {
            Flex::Int(n) => usize::try_from(n).map_err(D::Error::custom),
            Flex::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| D::Error::invalid_value(Unexpected::Str(&s), &"a whole number")),
            Flex::Bool(b) => Err(D::Error::invalid_value(
                Unexpected::Bool(b),
                &"a whole number",
            )),
            Flex::Float(f) => Err(D::Error::invalid_value(
                Unexpected::Float(f),
                &"a whole number",
            )),
        }
    }

    /// Seconds as a number, or a string: `"1.5"`, `"500ms"`, `"10s"`, `"2m"`.
    pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = match Flex::deserialize(d)? {
            Flex::Int(n) => n as f64,
            Flex::Float(f) => f,
            Flex::Str(s) => parse_duration(&s).ok_or_else(|| {
                D::Error::invalid_value(
                    Unexpected::Str(&s),
                    &"seconds, or a duration like 500ms, 10s, 2m",
                )
            })?,
            Flex::Bool(b) => {
                return Err(D::Error::invalid_value(Unexpected::Bool(b), &"a duration"));
            }
        };
        Duration::try_from_secs_f64(secs).map_err(|_| {
            D::Error::invalid_value(
                Unexpected::Float(secs),
                &"a duration of zero or more seconds",
            )
        })
    }

    /// The fields of a retry policy given as a table; unset ones keep their defaults.
    #[derive(Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct RetryTable {
        #[serde(deserialize_with = "flexible_bool")]
        enabled: bool,
        #[serde(deserialize_with = "flexible_usize")]
        max_attempts: usize,
        #[serde(deserialize_with = "duration")]
        max_wait: Duration,
        #[serde(deserialize_with = "duration")]
        initial_backoff: Duration,
        #[serde(deserialize_with = "duration")]
        max_backoff: Duration,
    }

    impl Default for RetryTable {
        fn default() -> Self {
            let d = RetryPolicy::default();
            RetryTable {
                enabled: d.enabled,
                max_attempts: d.max_attempts as usize,
                max_wait: d.max_wait,
                initial_backoff: d.initial_backoff,
                max_backoff: d.max_backoff,
            }
        }
    }

    impl RetryTable {
        fn policy<E: Error>(self) -> Result<RetryPolicy, E> {
            let max_attempts = u32::try_from(self.max_attempts).map_err(|_| {
                E::invalid_value(
                    Unexpected::Unsigned(self.max_attempts as u64),
                    &"a number of attempts",
                )
            })?;
            Ok(RetryPolicy {
                enabled: self.enabled,
                max_attempts,
                max_wait: self.max_wait,
                initial_backoff: self.initial_backoff,
                max_backoff: self.max_backoff,
            })
        }
    }

    /// A retry policy: a boolean (`true`/`false`, or `"on"`/`"off"` and the other boolean words), a
    /// table of its fields, or a string of `key=value` pairs separated by commas.
    pub fn retry_policy<'de, D: Deserializer<'de>>(d: D) -> Result<RetryPolicy, D::Error> {
        d.deserialize_any(RetryVisitor)
    }

    struct RetryVisitor;

    const EXPECTED_RETRY: &str = "a boolean, `off`, a table of retry settings, \
        or `key=value` pairs like `max_attempts=3,max_wait=10s`";

    impl<'de> serde::de::Visitor<'de> for RetryVisitor {
        type Value = RetryPolicy;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(EXPECTED_RETRY)
        }

        fn visit_bool<E: Error>(self, on: bool) -> Result<RetryPolicy, E> {
            Ok(if on {
                RetryPolicy::default()
            } else {
                RetryPolicy::off()
            })
        }

        fn visit_str<E: Error>(self, s: &str) -> Result<RetryPolicy, E> {
            let t = s.trim();
            match t.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => return self.visit_bool(true),
                "false" | "no" | "off" => return self.visit_bool(false),
                _ => {}
            }
            let mut map = serde_json::Map::new();
            for pair in t.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let Some((k, v)) = pair.split_once('=') else {
                    return Err(E::invalid_value(Unexpected::Str(s), &EXPECTED_RETRY));
                };
                map.insert(
                    k.trim().to_owned(),
                    serde_json::Value::String(v.trim().to_owned()),
                );
            }
            if map.is_empty() {
                return Err(E::invalid_value(Unexpected::Str(s), &EXPECTED_RETRY));
            }
            let table: RetryTable = serde_json::from_value(serde_json::Value::Object(map))
                .map_err(|e| E::custom(format!("in `{t}`: {e}")))?;
            table.policy()
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RetryPolicy, A::Error> {
            let table = RetryTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            table.policy()
        }
    }

    fn parse_duration(s: &str) -> Option<f64> {
        let s = s.trim();
        let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
            (n, 0.001)
        } else if let Some(n) = s.strip_suffix('s') {
            (n, 1.0)
        } else if let Some(n) = s.strip_suffix('m') {
            (n, 60.0)
        } else {
            (s, 1.0)
        };
        num.trim().parse::<f64>().ok().map(|n| n * scale)
    }
}

/// The Python library's option document, turned into this crate's keys.
mod seed {
    use serde_json::{Map, Value};

    use crate::error::{Error, Result, config};

    const NESTED: &str = "httpx_client_options";

    /// `value` with `httpx_client_options` moved to the top-level keys it stands for.
    pub(super) fn flatten(value: Value) -> Result<Value> {
        let Value::Object(mut top) = value else {
            return Err(Error::Config("the options must be an object".into()));
        };
        let Some(nested) = top.remove(NESTED) else {
            return Ok(Value::Object(top));
        };
        let nested = match nested {
            Value::Object(m) => m,
            Value::Null => return Ok(Value::Object(top)),
            _ => return Err(config(NESTED, "must be an object")),
        };
        for (key, v) in nested {
            let field = format!("{NESTED}.{key}");
            match key.as_str() {
                "timeout" => match v {
                    Value::Null => {}
                    Value::Number(_) | Value::String(_) => set(&mut top, &field, "timeout", v)?,
                    _ => {
                        return Err(config(
                            &field,
                            "must be seconds as a number (per-phase timeouts are not supported)",
                        ));
                    }
                },
                "verify" => match v {
                    Value::Bool(_) => set(&mut top, &field, "verify", v)?,
                    // httpx: a path is the CA bundle to verify with.
                    Value::String(_) => set(&mut top, &field, "ca_cert", v)?,
                    Value::Null => {}
                    _ => return Err(config(&field, "must be true, false or a CA bundle's path")),
                },
                "cert" => match v {
                    Value::Null => {}
                    Value::String(_) => set(&mut top, &field, "client_cert", v)?,
                    Value::Array(parts) => match <[Value; 2]>::try_from(parts) {
                        Ok([cert, key]) => {
                            set(&mut top, &field, "client_cert", cert)?;
                            set(&mut top, &field, "client_key", key)?;
                        }
                        Err(_) => {
                            return Err(config(
                                &field,
                                "give `[cert, key]`: a key password is not supported (decrypt \
                                 the key first)",
                            ));
                        }
                    },
                    _ => return Err(config(&field, "must be a path or `[cert, key]`")),
                },
                "proxies" => proxies(&mut top, &field, v)?,
                "trust_env" => {
                    let proxies = object(&mut top, "proxies")?;
                    proxies.insert("from_env".into(), v);
                }
                "auth" if v.is_null() => {}
                "auth" => {
                    return Err(config(
                        &field,
                        "HTTP authentication of the HTTP client is not supported; Mattermost \
                         authentication is `auth` (`{token}` or `{login_id, password}`)",
                    ));
                }
                other => {
                    return Err(config(
                        &field,
                        format!(
                            "`{other}` is not supported (supported: timeout, verify, cert, \
                             proxies, trust_env)"
                        ),
                    ));
                }
            }
        }
        Ok(Value::Object(top))
    }

    /// Sets top-level `key` from `field`; refuses a value given both ways differently.
    fn set(top: &mut Map<String, Value>, field: &str, key: &str, v: Value) -> Result<()> {
        match top.get(key) {
            Some(old) if *old != v => Err(config(
                field,
                format!("conflicts with the top-level `{key}`"),
            )),
            _ => {
                top.insert(key.to_owned(), v);
                Ok(())
            }
        }
    }

    fn object<'m>(
        top: &'m mut Map<String, Value>,
        key: &str,
    ) -> Result<&'m mut Map<String, Value>> {
        let entry = top
            .entry(key.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        match entry {
            Value::Object(m) => Ok(m),
            _ => Err(config(key, "must be an object")),
        }
    }

    /// httpx's `proxies`: one URL for everything, or a dict keyed by URL pattern.
    fn proxies(top: &mut Map<String, Value>, field: &str, v: Value) -> Result<()> {
        let entries = match v {
            Value::Null => return Ok(()),
            Value::String(_) => vec![("all".to_owned(), v)],
            Value::Object(m) => {
                let mut out = Vec::new();
                for (pattern, url) in m {
                    let key = match pattern.as_str() {
                        "http://" | "http" => "http",
                        "https://" | "https" => "https",
                        "all://" | "all" => "all",
                        other => {
                            return Err(config(
                                field,
                                format!(
                                    "the proxy pattern `{other}` is not supported (keys: \
                                     `http://`, `https://`, `all://`; exclude hosts with \
                                     `proxies.no_proxy`)"
                                ),
                            ));
                        }
                    };
                    if !url.is_null() {
                        out.push((key.to_owned(), url));
                    }
                }
                out
            }
            _ => return Err(config(field, "must be a URL or a dict of URLs")),
        };
        let proxies = object(top, "proxies")?;
        for (key, url) in entries {
            match proxies.get(&key) {
                Some(old) if *old != url => {
                    return Err(config(
                        field,
                        format!("conflicts with the top-level `proxies.{key}`"),
                    ));
                }
                _ => {
                    proxies.insert(key, url);
                }
            }
        }
        Ok(())
    }
}
