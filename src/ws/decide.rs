//! The one place where the end of a connection (or of an attempt at one) becomes what the listener
//! does next: resume, start afresh, check the token, log in again, or stop. A pure function of how
//! it ended (the server's close code included), the session's state and the settings (and the
//! backoff with a given jitter fraction), as serenity's gateway decides per close code; `conn.rs`
//! carries the decision out, for the first connection as for every reconnect.

use std::time::Duration;

use crate::error::{ConnectionError, ConnectionStage, WsError};
use crate::ws::backoff::Backoff;
use crate::ws::event::DisconnectReason;

/// How a connection, or an attempt at one, ended.
#[derive(Debug)]
pub(crate) enum End {
    /// A live connection was lost: network, close frame, ping timeout, sequence gap, overflow, a
    /// requested disconnect.
    Lost(DisconnectReason),
    /// A connection attempt failed and may work later.
    AttemptFailed(ConnectionError),
    /// The server accepted the upgrade but never authenticated the socket (see
    /// [`Attempt::Silent`](crate::ws::handshake::Attempt::Silent)): a refused token or a network
    /// failure, which only the token's check over REST tells apart.
    Silent(ConnectionError),
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
    /// A connection has been accepted before: this is a reconnect, not the first connection
    /// (which `connect()` waits for, and whose failure is an error, not an endless retry).
    pub(crate) connected: bool,
    /// The client's token is not the one the ended connection (or attempt) used.
    pub(crate) token_changed: bool,
    /// The listener already logged in again since the last accepted connection.
    pub(crate) relogged: bool,
    /// The client has login credentials (login id and password) to log in with.
    pub(crate) can_login: bool,
    /// The token was found valid after a silent handshake: the next attempt sends the
    /// authentication challenge too.
    pub(crate) challenge_next: bool,
}

/// The settings `decide` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy<'a> {
    /// Logging in again is allowed
    /// ([`Websocket::relogin`](crate::ws::listener::Websocket::relogin)).
    pub(crate) relogin: bool,
    /// The websocket URL, masked, for [`WsError::Connect`].
    pub(crate) url: &'a str,
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
    /// Check the token over REST (`GET /users/me`), then decide again with what it said; the
    /// error is what made the check necessary.
    Verify(ConnectionError),
    /// Log in again, then reconnect at once.
    Relogin,
    /// End the listener (or fail `connect()`) with this error.
    Stop(WsError),
}

/// What a close code the server (or a proxy in front of it) sent means for the next connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseAction {
    /// Resume after the backoff's wait: a restart, a shutdown, an idle or broken connection.
    Resume,
    /// Check the token before trying again: the peer refused this client (policy violation).
    Verify,
}

/// The close codes, as the listener reads them (RFC 6455 §7.4 and the IANA registry). Mattermost
/// closes with an empty close frame (1005) and gorilla's codes (1000, 1009); proxies add 1001,
/// 1008, 1011–1014. Every code not named resumes.
fn close_action(code: u16) -> CloseAction {
    match code {
        // Policy violation: proxies and gateways say so for a refused credential.
        1008 => CloseAction::Verify,
        // 1000 normal, 1001 going away, 1002 protocol error, 1003 unsupported data, 1005 no code,
        // 1006 abnormal, 1007 invalid data, 1009 too big, 1010 extension, 1011 server error, 1012
        // restart, 1013 try later, 1014 bad gateway, 4000–4999 private: the session may still be
        // on the server, so resuming loses nothing.
        _ => CloseAction::Resume,
    }
}

/// The decision (see the module docs). `jitter` is a fraction in `[0, 1)` for the backoff; the
/// backoff counts a failure whenever a wait comes from it.
pub(crate) fn decide(
    end: End,
    session: &SessionState,
    policy: &Policy<'_>,
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
        End::Lost(DisconnectReason::ClosedByServer { code, reason })
            if close_action(code) == CloseAction::Verify && !session.token_changed =>
        {
            let what = if reason.is_empty() {
                format!("the server closed the connection with code {code}")
            } else {
                format!("the server closed the connection with code {code} ({reason})")
            };
            Next::Verify(ConnectionError::new(ConnectionStage::Receive, what))
        }
        End::Lost(reason) => Next::Resume {
            delay: failed(backoff),
            reason,
        },
        // The token is valid and the challenge comes next: at once, first connection or not.
        End::AttemptFailed(e) if session.challenge_next => Next::Resume {
            delay: Duration::ZERO,
            reason: DisconnectReason::ConnectFailed(e),
        },
        // The first connection: `connect()` reports the failure instead of retrying.
        End::AttemptFailed(source) if !session.connected => Next::Stop(WsError::Connect {
            url: policy.url.to_owned(),
            source,
        }),
        End::AttemptFailed(e) => Next::Resume {
            delay: failed(backoff),
            reason: DisconnectReason::ConnectFailed(e),
        },
        End::TokenChanged => Next::Resume {
            delay: Duration::ZERO,
            reason: DisconnectReason::TokenChanged,
        },
        End::Silent(_) | End::Revoked | End::Rejected if session.token_changed => Next::Resume {
            delay: Duration::ZERO,
            reason: DisconnectReason::TokenChanged,
        },
        End::Silent(e) => Next::Verify(e),
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
    use crate::error::ConnectionStage as Stage;

    const S: fn(u64) -> Duration = Duration::from_secs;
    const URL: &str = "ws://127.0.0.1:1/api/v4/websocket";

    #[derive(Clone, Copy)]
    struct Case {
        connected: bool,
        token_changed: bool,
        relogged: bool,
        can_login: bool,
        challenge_next: bool,
    }

    /// A reconnect of a client with credentials, nothing changed.
    const RECONNECT: Case = Case {
        connected: true,
        token_changed: false,
        relogged: false,
        can_login: true,
        challenge_next: false,
    };

    impl Case {
        fn state(self) -> SessionState {
            SessionState {
                connected: self.connected,
                token_changed: self.token_changed,
                relogged: self.relogged,
                can_login: self.can_login,
                challenge_next: self.challenge_next,
            }
        }
    }

    /// A short name for each decision, to compare in a table.
    fn shape(next: &Next) -> String {
        match next {
            Next::Resume { delay, reason } => format!("resume {delay:?} {reason}"),
            Next::Fresh { delay, reason } => format!("fresh {delay:?} {reason}"),
            Next::Verify(e) => format!("verify {e}"),
            Next::Relogin => "relogin".into(),
            Next::Stop(WsError::Connect { url, source }) => {
                format!("stop Connect {url} {:?} {source}", source.stage())
            }
            Next::Stop(e) => format!("stop {e:?}"),
        }
    }

    fn refused() -> ConnectionError {
        ConnectionError::new(Stage::Tcp, "refused")
    }

    fn closed(code: u16) -> End {
        End::Lost(DisconnectReason::ClosedByServer {
            code,
            reason: String::new(),
        })
    }

    #[test]
    fn every_end_has_one_decision() {
        let reconnect = RECONNECT;
        let first = Case {
            connected: false,
            ..RECONNECT
        };
        let first_challenge = Case {
            challenge_next: true,
            ..first
        };
        let token_only = Case {
            can_login: false,
            ..RECONNECT
        };
        let relogged = Case {
            relogged: true,
            ..RECONNECT
        };
        let changed = Case {
            token_changed: true,
            can_login: false,
            ..RECONNECT
        };
        let network = || {
            End::Lost(DisconnectReason::Network(ConnectionError::new(
                Stage::Receive,
                "reset",
            )))
        };
        let table: Vec<(End, Case, bool, &str)> = vec![
            (
                network(),
                reconnect,
                true,
                "resume 3s connection lost: reset",
            ),
            (
                End::Lost(DisconnectReason::PingTimeout),
                reconnect,
                true,
                "resume 3s no reply to the ping action",
            ),
            (
                End::Lost(DisconnectReason::Overflow),
                reconnect,
                true,
                "resume 0ns resuming after the consumer fell behind",
            ),
            (
                End::Lost(DisconnectReason::Requested),
                reconnect,
                true,
                "resume 3s disconnect requested",
            ),
            (
                End::Lost(DisconnectReason::BadNumbers("seq".into())),
                reconnect,
                true,
                "fresh 3s cannot go on from the server's numbers: seq",
            ),
            // Close codes.
            (
                closed(1000),
                reconnect,
                true,
                "resume 3s closed by the server (code 1000)",
            ),
            (
                closed(1001),
                reconnect,
                true,
                "resume 3s closed by the server (code 1001)",
            ),
            (
                closed(1005),
                reconnect,
                true,
                "resume 3s closed by the server (code 1005)",
            ),
            (
                closed(1009),
                reconnect,
                true,
                "resume 3s closed by the server (code 1009)",
            ),
            (
                closed(1011),
                reconnect,
                true,
                "resume 3s closed by the server (code 1011)",
            ),
            (
                closed(1012),
                reconnect,
                true,
                "resume 3s closed by the server (code 1012)",
            ),
            (
                closed(4000),
                reconnect,
                true,
                "resume 3s closed by the server (code 4000)",
            ),
            (
                closed(1008),
                reconnect,
                true,
                "verify the server closed the connection with code 1008",
            ),
            (
                End::Lost(DisconnectReason::ClosedByServer {
                    code: 1008,
                    reason: "token".into(),
                }),
                reconnect,
                true,
                "verify the server closed the connection with code 1008 (token)",
            ),
            (
                closed(1008),
                changed,
                true,
                "resume 3s closed by the server (code 1008)",
            ),
            // Failed attempts: a reconnect waits, the first connection reports.
            (
                End::AttemptFailed(refused()),
                reconnect,
                true,
                "resume 3s connection attempt failed: refused",
            ),
            (
                End::AttemptFailed(refused()),
                first,
                true,
                "stop Connect ws://127.0.0.1:1/api/v4/websocket Tcp refused",
            ),
            (
                End::AttemptFailed(refused()),
                first_challenge,
                true,
                "resume 0ns connection attempt failed: refused",
            ),
            (
                End::TokenChanged,
                reconnect,
                true,
                "resume 0ns the client's token changed",
            ),
            (
                End::Silent(ConnectionError::new(Stage::Authentication, "closed")),
                reconnect,
                true,
                "verify closed",
            ),
            (
                End::Silent(ConnectionError::new(Stage::Authentication, "closed")),
                first,
                true,
                "verify closed",
            ),
            (
                End::Silent(ConnectionError::new(Stage::Authentication, "closed")),
                changed,
                true,
                "resume 0ns the client's token changed",
            ),
            (End::Revoked, reconnect, true, "relogin"),
            (
                End::Revoked,
                changed,
                false,
                "resume 0ns the client's token changed",
            ),
            (End::Revoked, relogged, true, "stop SessionRevoked"),
            (End::Revoked, token_only, true, "stop SessionRevoked"),
            (End::Revoked, reconnect, false, "stop SessionRevoked"),
            (End::Rejected, reconnect, true, "relogin"),
            (End::Rejected, first, true, "relogin"),
            (End::Rejected, relogged, true, "stop AuthRejected"),
            (End::Rejected, token_only, true, "stop AuthRejected"),
            (
                End::Rejected,
                changed,
                true,
                "resume 0ns the client's token changed",
            ),
            (
                End::Fatal(WsError::NoCredentials),
                reconnect,
                true,
                "stop NoCredentials",
            ),
            (
                End::Fatal(WsError::NoCredentials),
                first,
                true,
                "stop NoCredentials",
            ),
        ];
        for (end, case, relogin, want) in table {
            let session = case.state();
            let policy = Policy { relogin, url: URL };
            let what = format!("{end:?} {session:?} {policy:?}");
            let mut backoff = Backoff::new(S(3));
            let next = decide(end, &session, &policy, &mut backoff, 0.0);
            assert_eq!(shape(&next), want, "{what}");
        }
    }

    #[test]
    fn only_waits_count_as_failures() {
        let mut backoff = Backoff::new(S(1));
        let s = RECONNECT.state();
        let p = Policy {
            relogin: true,
            url: URL,
        };
        decide(End::AttemptFailed(refused()), &s, &p, &mut backoff, 0.0);
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
        decide(closed(1008), &s, &p, &mut backoff, 0.0);
        let first = Case {
            connected: false,
            ..RECONNECT
        }
        .state();
        decide(End::AttemptFailed(refused()), &first, &p, &mut backoff, 0.0);
        assert_eq!(backoff.failures(), 2);
    }
}
