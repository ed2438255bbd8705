//! The one place where the end of a connection (or of an attempt at one) becomes what the listener
//! does next: resume, log in again, verify the token, or stop. A pure function of how it ended,
//! the session's state and the settings (and the backoff with a given jitter fraction), as
//! serenity's gateway decides per close code; `conn.rs` carries the decision out.

use std::time::Duration;

use crate::error::WsError;
use crate::ws::backoff::Backoff;
use crate::ws::event::DisconnectReason;

/// How a connection, or an attempt at one, ended.
#[derive(Debug)]
pub(crate) enum End {
    /// A live connection was lost: network, close frame, ping timeout, sequence gap, overflow, a
    /// requested disconnect.
    Lost(DisconnectReason),
    /// A connection attempt failed and may work later.
    AttemptFailed(String),
    /// The server accepted the upgrade but never authenticated the socket (see
    /// [`Attempt::Silent`](crate::ws::handshake::Attempt::Silent)): a refused token or a network
    /// failure, which only the token's check over REST tells apart.
    Silent(String),
    /// A live connection's session is no longer valid (the server answered `not_authenticated`).
    Revoked,
    /// The token was refused: HTTP 401 on the upgrade, a closed authentication challenge, or a
    /// silent handshake whose token the REST API refused too.
    Rejected,
    /// The client's token changed under the listener (a relogin after a REST 401,
    /// `Client::set_token`): the connection moves to the new one.
    TokenChanged,
    /// Trying again cannot help.
    Fatal(WsError),
}

/// What the listener knows of its session when a connection ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SessionState {
    /// The client's token is not the one the ended connection (or attempt) used.
    pub(crate) token_changed: bool,
    /// The listener already logged in again since the last accepted connection.
    pub(crate) relogged: bool,
    /// The client has login credentials (login id and password) to log in with.
    pub(crate) can_login: bool,
}

/// The settings `decide` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Logging in again is allowed
    /// ([`Websocket::relogin`](crate::ws::listener::Websocket::relogin)).
    pub(crate) relogin: bool,
}

/// What to do next.
#[derive(Debug)]
pub(crate) enum Next {
    /// Reconnect after `delay`, resuming the connection when the server still has it.
    Resume {
        /// The wait first.
        delay: Duration,
        /// What the stream is told
        /// ([`WsItem::Disconnected`](crate::ws::event::WsItem::Disconnected)).
        reason: DisconnectReason,
    },
    /// Start a new connection after `delay` (the previous one cannot be resumed).
    Fresh {
        /// The wait first.
        delay: Duration,
        /// What the stream is told.
        reason: DisconnectReason,
    },
    /// Check the token over REST (`GET /users/me`), then decide again with what it said.
    Verify,
    /// Log in again, then reconnect at once.
    Relogin,
    /// End the listener with this error.
    Stop(WsError),
}

/// The decision (see the module docs). `jitter` is a fraction in `[0, 1)` for the backoff; the
/// backoff counts a failure whenever a wait comes from it.
pub(crate) fn decide(
    end: End,
    session: &SessionState,
    policy: &Policy,
    backoff: &mut Backoff,
    jitter: f64,
) -> Next {
    let failed = |backoff: &mut Backoff| backoff.next_delay(jitter);
    match end {
        // Not a failure: the consumer caught up, resume at once.
        End::Lost(reason @ DisconnectReason::Overflow) => Next::Resume {
            delay: Duration::ZERO,
            reason,
        },
        End::Lost(reason @ DisconnectReason::BadNumbers(_)) => Next::Fresh {
            delay: failed(backoff),
            reason,
        },
        End::Lost(reason) => Next::Resume {
            delay: failed(backoff),
            reason,
        },
        End::AttemptFailed(detail) => Next::Resume {
            delay: failed(backoff),
            reason: DisconnectReason::ConnectFailed(detail),
        },
        End::TokenChanged => Next::Resume {
            delay: Duration::ZERO,
            reason: DisconnectReason::TokenChanged,
        },
        End::Silent(_) | End::Revoked | End::Rejected if session.token_changed => Next::Resume {
            delay: Duration::ZERO,
            reason: DisconnectReason::TokenChanged,
        },
        End::Silent(_) => Next::Verify,
        End::Revoked | End::Rejected
            if policy.relogin && session.can_login && !session.relogged =>
        {
            Next::Relogin
        }
        End::Revoked => Next::Stop(WsError::SessionRevoked),
        End::Rejected => Next::Stop(WsError::AuthRejected),
        End::Fatal(e) => Next::Stop(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn session(token_changed: bool, relogged: bool, can_login: bool) -> SessionState {
        SessionState {
            token_changed,
            relogged,
            can_login,
        }
    }

    /// A short name for each decision, to compare in a table.
    fn shape(next: &Next) -> String {
        match next {
            Next::Resume { delay, reason } => format!("resume {delay:?} {reason:?}"),
            Next::Fresh { delay, reason } => format!("fresh {delay:?} {reason:?}"),
            Next::Verify => "verify".into(),
            Next::Relogin => "relogin".into(),
            Next::Stop(e) => format!("stop {e:?}"),
        }
    }

    #[test]
    fn every_end_has_one_decision() {
        let fresh_session = session(false, false, true);
        let token_only = session(false, false, false);
        let relogged = session(false, true, true);
        let changed = session(true, false, false);
        let on = Policy { relogin: true };
        let off = Policy { relogin: false };
        let network = || End::Lost(DisconnectReason::Network("reset".into()));
        let table: Vec<(End, SessionState, Policy, &str)> = vec![
            (network(), fresh_session, on, "resume 3s Network(\"reset\")"),
            (
                End::Lost(DisconnectReason::PingTimeout),
                fresh_session,
                on,
                "resume 3s PingTimeout",
            ),
            (
                End::Lost(DisconnectReason::Overflow),
                fresh_session,
                on,
                "resume 0ns Overflow",
            ),
            (
                End::Lost(DisconnectReason::Requested),
                fresh_session,
                on,
                "resume 3s Requested",
            ),
            (
                End::Lost(DisconnectReason::BadNumbers("seq".into())),
                fresh_session,
                on,
                "fresh 3s BadNumbers(\"seq\")",
            ),
            (
                End::AttemptFailed("refused".into()),
                fresh_session,
                on,
                "resume 3s ConnectFailed(\"refused\")",
            ),
            (
                End::TokenChanged,
                fresh_session,
                on,
                "resume 0ns TokenChanged",
            ),
            (End::Silent("closed".into()), fresh_session, on, "verify"),
            (
                End::Silent("closed".into()),
                changed,
                on,
                "resume 0ns TokenChanged",
            ),
            (End::Revoked, fresh_session, on, "relogin"),
            (End::Revoked, changed, off, "resume 0ns TokenChanged"),
            (End::Revoked, relogged, on, "stop SessionRevoked"),
            (End::Revoked, token_only, on, "stop SessionRevoked"),
            (End::Revoked, fresh_session, off, "stop SessionRevoked"),
            (End::Rejected, fresh_session, on, "relogin"),
            (End::Rejected, relogged, on, "stop AuthRejected"),
            (End::Rejected, token_only, on, "stop AuthRejected"),
            (End::Rejected, changed, on, "resume 0ns TokenChanged"),
            (
                End::Fatal(WsError::NoCredentials),
                fresh_session,
                on,
                "stop NoCredentials",
            ),
        ];
        for (end, session, policy, want) in table {
            let what = format!("{end:?} {session:?} {policy:?}");
            let mut backoff = Backoff::new(S(3));
            let next = decide(end, &session, &policy, &mut backoff, 0.0);
            assert_eq!(shape(&next), want, "{what}");
        }
    }

    #[test]
    fn only_waits_count_as_failures() {
        let mut backoff = Backoff::new(S(1));
        let s = session(false, false, true);
        let p = Policy { relogin: true };
        decide(End::AttemptFailed("x".into()), &s, &p, &mut backoff, 0.0);
        decide(
            End::Lost(DisconnectReason::PingTimeout),
            &s,
            &p,
            &mut backoff,
            0.0,
        );
        assert_eq!(backoff.failures(), 2);
        decide(End::TokenChanged, &s, &p, &mut backoff, 0.0);
        decide(
            End::Lost(DisconnectReason::Overflow),
            &s,
            &p,
            &mut backoff,
            0.0,
        );
        decide(End::Revoked, &s, &p, &mut backoff, 0.0);
        assert_eq!(backoff.failures(), 2);
    }
}
