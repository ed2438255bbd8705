//! Authentication: log in with a token or with login id + password (+ MFA code), log in again when a
//! session is revoked, log out. The active token is shared by every clone of the client and by its
//! websocket, and can be replaced at run time.

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::generated::Client;
use crate::options::Auth;
use crate::types;

/// The reply header that carries a new session's token.
const TOKEN_HEADER: &str = "token";

impl Client {
    /// Logs in with the configured [`Auth`], and keeps the logged-in user ([`Client::me`]).
    ///
    /// - `Login`: `POST /api/v4/users/login` with `{login_id, password, token}` (the MFA code travels
    ///   as `token`: made from `mfa_secret`, asked of the callback, or the stored `mfa_token`, which
    ///   is used once; see [`crate::mfa`]); the session token from the reply's `Token` header becomes
    ///   the active token.
    /// - `Token`: `GET /api/v4/users/me` checks the token.
    ///
    /// A rejected login is [`Error::Api`] with the server's error id.
    pub async fn login(&self) -> Result<types::User> {
        let _guard = self.inner.login_lock.lock().await;
        self.login_locked().await
    }

    async fn login_locked(&self) -> Result<types::User> {
        let user = match &self.inner.options.auth {
            Some(Auth::Login {
                login_id,
                password,
                mfa_token,
                mfa_secret,
                mfa_callback,
            }) => {
                let (code, code_use) = self
                    .inner
                    .mfa
                    .next_code(
                        mfa_token.as_ref(),
                        mfa_secret.as_ref(),
                        mfa_callback.as_ref(),
                    )
                    .await?;
                let reply = self.login_with(login_id, password, code.as_ref()).await?;
                let token = reply
                    .headers()
                    .get(TOKEN_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| Error::Auth("the login reply has no Token header".into()))?
                    .to_owned();
                self.inner.set_token(Some(SecretString::from(token)));
                self.inner.mfa.used(code_use);
                reply.into_inner()
            }
            Some(Auth::Token { .. }) => self.get_user().user_id("me").send().await?.into_inner(),
            None => {
                return Err(Error::Auth(
                    "no credentials: set a token or a login id and password in the options".into(),
                ));
            }
        };
        if let Ok(mut me) = self.inner.me.write() {
            *me = Some(user.clone());
        }
        self.inner
            .logins
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(user)
    }

    async fn login_with(
        &self,
        login_id: &str,
        password: &SecretString,
        mfa: Option<&SecretString>,
    ) -> Result<crate::ResponseValue<types::User>> {
        let body = types::UsersLoginBody {
            login_id: Some(login_id.to_owned()),
            password: Some(password.expose_secret().to_owned()),
            token: mfa.map(|m| m.expose_secret().to_owned()),
            ..Default::default()
        };
        self.users_login().body(body).send().await
    }

    /// Logs in again: a new session with login credentials, or the token checked again. Used when
    /// the server says the session was revoked or expired. Concurrent calls log in once.
    pub async fn relogin(&self) -> Result<types::User> {
        use std::sync::atomic::Ordering;
        let before = self.inner.logins.load(Ordering::SeqCst);
        let _guard = self.inner.login_lock.lock().await;
        // Another task logged in while this one waited: reuse its session.
        if self.inner.logins.load(Ordering::SeqCst) != before
            && let Some(me) = self.me()
        {
            return Ok(me);
        }
        self.login_locked().await
    }

    /// Logs out (`POST /api/v4/users/logout`) and forgets the token and the user.
    pub async fn logout(&self) -> Result<()> {
        let result = self.users_logout().send().await;
        self.inner.set_token(None);
        if let Ok(mut me) = self.inner.me.write() {
            *me = None;
        }
        result.map(|_| ())
    }

    /// The logged-in user, from the last [`Client::login`].
    pub fn me(&self) -> Option<types::User> {
        self.inner.me.read().ok().and_then(|m| m.clone())
    }
}

/// The request path logs in again after a 401 through this (a login is itself a request, so the
/// request path cannot call the login code by name).
impl crate::request::Relogin for Client {
    fn relogin_for_request(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + '_>> {
        Box::pin(async move { self.relogin().await.map(|_| ()) })
    }
}
