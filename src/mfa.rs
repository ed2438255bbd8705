//! MFA codes for logins with login id and password, as Mattermost's MFA uses them: TOTP (RFC 6238)
//! with SHA-1, 6 digits and a 30 s step, from the secret Mattermost shows as base32.
//!
//! A login needs a code the server has not seen: a code typed in once (`mfa_token`) is sent once,
//! and a relogin then fails with [`crate::Error::MfaCodeUsed`]. With the
//! secret (`mfa_secret`, [`Auth::login_totp`](crate::Auth::login_totp)) each login makes a fresh
//! code; with a callback ([`Auth::login_mfa_callback`](crate::Auth::login_mfa_callback)) each
//! login asks for one.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;

use crate::error::{Error, Result};

/// Seconds per TOTP step.
const STEP_SECS: u64 = 30;

/// The TOTP code of `secret` (the raw key, not base32) at `unix_time` (seconds since the Unix
/// epoch): HMAC-SHA-1, 6 digits, 30 s steps, as Mattermost checks it.
pub fn totp_code(secret: &[u8], unix_time: u64) -> String {
    totp_lite::totp_custom::<totp_lite::Sha1>(STEP_SECS, 6, secret, unix_time)
}

/// The key of a base32 TOTP secret as Mattermost shows it (case, blanks and `=` padding ignored).
pub(crate) fn decode_secret(base32: &str) -> Result<Vec<u8>> {
    let text: String = base32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let key = data_encoding::BASE32_NOPAD
        .decode(text.as_bytes())
        .map_err(|_| {
            Error::Config("`auth.mfa_secret`: is not a base32 TOTP secret (A-Z, 2-7)".into())
        })?;
    if key.is_empty() {
        return Err(Error::Config("`auth.mfa_secret`: is empty".into()));
    }
    Ok(key)
}

/// A callback that gives a fresh MFA code for each login (see
/// [`Auth::login_mfa_callback`](crate::Auth::login_mfa_callback)).
#[derive(Clone)]
pub struct MfaCallback(Arc<dyn Fn() -> String + Send + Sync>);

impl MfaCallback {
    /// Wraps `f`, called once per login for the code to send.
    pub fn new(f: impl Fn() -> String + Send + Sync + 'static) -> MfaCallback {
        MfaCallback(Arc::new(f))
    }

    fn code(&self) -> SecretString {
        SecretString::from((self.0)())
    }
}

impl std::fmt::Debug for MfaCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaCallback")
    }
}

/// What a client remembers of its MFA codes (shared by its clones): whether the stored one-time
/// code was used, and the last TOTP step a login used.
#[derive(Debug, Default)]
pub(crate) struct MfaState {
    stored_code_used: std::sync::atomic::AtomicBool,
    last_step: Mutex<Option<u64>>,
}

/// Where a login's MFA code came from: marked as used once the login succeeded
/// ([`MfaState::used`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum CodeUse {
    /// No code, or one from the callback.
    Untracked,
    /// The stored one-time code (`mfa_token`).
    Stored,
    /// The TOTP code of this step.
    Step(u64),
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

impl MfaState {
    /// The code for the next login with these MFA settings, and where it came from. A TOTP code
    /// is never that of a step a login of this client used already: when the step is the same,
    /// this waits for the next one (at most 30 s), as the server refuses a code used once.
    pub(crate) async fn next_code(
        &self,
        stored: Option<&SecretString>,
        secret: Option<&SecretString>,
        callback: Option<&MfaCallback>,
    ) -> Result<(Option<SecretString>, CodeUse)> {
        use secrecy::ExposeSecret;
        use std::sync::atomic::Ordering;
        if let Some(callback) = callback {
            return Ok((Some(callback.code()), CodeUse::Untracked));
        }
        if let Some(secret) = secret {
            let key = decode_secret(secret.expose_secret())?;
            let last = self.last_step.lock().ok().and_then(|l| *l);
            let mut now = unix_now();
            if let Some(last) = last
                && now.as_secs() / STEP_SECS <= last
            {
                let next = Duration::from_secs((last + 1) * STEP_SECS);
                tokio::time::sleep(next.saturating_sub(now)).await;
                now = unix_now().max(next);
            }
            let step = now.as_secs() / STEP_SECS;
            let code = totp_code(&key, step * STEP_SECS);
            return Ok((Some(SecretString::from(code)), CodeUse::Step(step)));
        }
        if let Some(code) = stored {
            if self.stored_code_used.load(Ordering::SeqCst) {
                return Err(Error::MfaCodeUsed);
            }
            return Ok((Some(code.clone()), CodeUse::Stored));
        }
        Ok((None, CodeUse::Untracked))
    }

    /// Notes that a login with the code from `how` succeeded: the server will not take it again.
    pub(crate) fn used(&self, how: CodeUse) {
        match how {
            CodeUse::Untracked => {}
            CodeUse::Stored => self
                .stored_code_used
                .store(true, std::sync::atomic::Ordering::SeqCst),
            CodeUse::Step(step) => {
                if let Ok(mut last) = self.last_step.lock() {
                    *last = Some(last.map_or(step, |l| l.max(step)));
                }
            }
        }
    }
}
