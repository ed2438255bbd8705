//! The handle on a running listener: the actions the server handles, with their replies
//! ([`WsHandle::send_action`] and a method per action), [`Presence`] for the `presence` action, the
//! connection's state, and the `disconnect`/`shutdown` commands to the connection's task.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use crate::error::{BadFrameKind, WsError};
use crate::ws::conn::{Command, Status};
use crate::ws::dispatch::{Counters, WsStats};
use crate::ws::event::Reply;

/// Where the user is looking, for the `presence` action (which decides what the server counts as
/// read and where it sends some events).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Presence {
    /// The active channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// The active team.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// The channel of the open thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_channel_id: Option<String>,
    /// Whether the thread is open in the thread view (else in the right-hand side).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_thread_view: Option<bool>,
}

impl Presence {
    /// Looking at a channel.
    pub fn channel(channel_id: impl Into<String>) -> Presence {
        Presence {
            channel_id: Some(channel_id.into()),
            ..Presence::default()
        }
    }

    /// Looking at a team.
    pub fn team(team_id: impl Into<String>) -> Presence {
        Presence {
            team_id: Some(team_id.into()),
            ..Presence::default()
        }
    }

    /// Looking at a thread of `channel_id`, in the thread view or the right-hand side.
    pub fn thread(channel_id: impl Into<String>, is_thread_view: bool) -> Presence {
        Presence {
            thread_channel_id: Some(channel_id.into()),
            is_thread_view: Some(is_thread_view),
            ..Presence::default()
        }
    }
}

/// Sends actions on the listener's connection and controls it. Cheap to clone. The listener stops
/// when every handle and its [`EventStream`](crate::ws::EventStream) are dropped, or at [`WsHandle::shutdown`].
#[derive(Debug, Clone)]
pub struct WsHandle {
    commands: mpsc::Sender<Command>,
    status: watch::Receiver<Status>,
    action_timeout: Duration,
    close_timeout: Duration,
    stats: Arc<Counters>,
}

impl WsHandle {
    pub(crate) fn new(
        commands: mpsc::Sender<Command>,
        status: watch::Receiver<Status>,
        action_timeout: Duration,
        close_timeout: Duration,
        stats: Arc<Counters>,
    ) -> WsHandle {
        WsHandle {
            commands,
            status,
            action_timeout,
            close_timeout,
            stats,
        }
    }

    /// Sends `action` with `data` and waits for its reply (at most the action timeout). A `FAIL`
    /// reply is [`WsError::ActionFailed`]; a connection lost before the reply is
    /// [`WsError::NotConnected`] (the action may or may not have been carried out).
    pub async fn send_action(
        &self,
        action: &str,
        data: Option<serde_json::Value>,
    ) -> crate::Result<Reply> {
        let deadline = tokio::time::Instant::now() + self.action_timeout;
        let timed_out = || WsError::ActionTimeout {
            action: action.to_owned(),
            timeout: self.action_timeout,
        };
        let (tx, rx) = oneshot::channel();
        let cmd = Command::Action {
            action: action.to_owned(),
            data,
            reply: tx,
        };
        match tokio::time::timeout_at(deadline, self.commands.send(cmd)).await {
            Err(_) => return Err(timed_out().into()),
            Ok(Err(_)) => return Err(WsError::Stopped.into()),
            Ok(Ok(())) => {}
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Err(_) => Err(timed_out().into()),
            Ok(Err(_)) => Err(WsError::Stopped.into()),
            Ok(Ok(result)) => result.map_err(Into::into),
        }
    }

    /// Tells the channel's members that the user is typing (`user_typing`), in a thread when
    /// `parent_id` is given.
    pub async fn user_typing(
        &self,
        channel_id: &str,
        parent_id: Option<&str>,
    ) -> crate::Result<()> {
        let data =
            serde_json::json!({ "channel_id": channel_id, "parent_id": parent_id.unwrap_or("") });
        self.send_action("user_typing", Some(data))
            .await
            .map(|_| ())
    }

    /// The statuses of the users the server tracks for this connection (`get_statuses`): user id
    /// -> `online`, `away`, `dnd` or `offline`.
    pub async fn get_statuses(&self) -> crate::Result<HashMap<String, String>> {
        let reply = self.send_action("get_statuses", None).await?;
        Ok(statuses(reply)?)
    }

    /// The statuses of the given users (`get_statuses_by_ids`).
    pub async fn get_statuses_by_ids<I, S>(
        &self,
        user_ids: I,
    ) -> crate::Result<HashMap<String, String>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let ids: Vec<String> = user_ids.into_iter().map(Into::into).collect();
        let reply = self
            .send_action(
                "get_statuses_by_ids",
                Some(serde_json::json!({ "user_ids": ids })),
            )
            .await?;
        Ok(statuses(reply)?)
    }

    /// Sets whether the user is active (`user_update_active_status`); `manual` marks a change the
    /// user made.
    pub async fn user_update_active_status(&self, active: bool, manual: bool) -> crate::Result<()> {
        let data = serde_json::json!({ "user_is_active": active, "manual": manual });
        self.send_action("user_update_active_status", Some(data))
            .await
            .map(|_| ())
    }

    /// Tells the server where the user is looking (`presence`).
    pub async fn presence(&self, presence: &Presence) -> crate::Result<()> {
        let data = serde_json::to_value(presence).map_err(|source| WsError::Encode {
            action: "presence".into(),
            source,
        })?;
        self.send_action("presence", Some(data)).await.map(|_| ())
    }

    /// Acknowledges a `posted` event that asked for it (`posted_notify_ack`).
    pub async fn posted_notify_ack(
        &self,
        post_id: &str,
        status: &str,
        reason: &str,
    ) -> crate::Result<()> {
        let data = serde_json::json!({ "post_id": post_id, "status": status, "reason": reason });
        self.send_action("posted_notify_ack", Some(data))
            .await
            .map(|_| ())
    }

    /// The `ping` action: its reply carries the server's version and time.
    pub async fn ping(&self) -> crate::Result<Reply> {
        self.send_action("ping", None).await
    }

    /// Drops the current socket at once, without a close frame, as a network failure would; the
    /// listener reconnects and resumes (without the rest of any backoff wait in progress). Useful
    /// after a network change, and in tests.
    pub async fn disconnect(&self) -> crate::Result<()> {
        match tokio::time::timeout(self.action_timeout, self.commands.send(Command::Disconnect))
            .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(WsError::Stopped.into()),
            Err(_) => Err(WsError::ActionTimeout {
                action: "disconnect".into(),
                timeout: self.action_timeout,
            }
            .into()),
        }
    }

    /// Closes the connection gracefully (a close frame, bounded by the close timeout) and stops
    /// the listener; the stream ends after the items already received. Returns when the socket is
    /// closed, or after the close and action timeouts at most.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        let limit = self.action_timeout + self.close_timeout;
        let _ = tokio::time::timeout(limit, async {
            if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
                let _ = rx.await;
            }
        })
        .await;
    }

    /// The current (or last) connection's id.
    pub fn connection_id(&self) -> Option<String> {
        self.status.borrow().connection_id.clone()
    }

    /// Whether a connection is up now.
    pub fn is_connected(&self) -> bool {
        self.status.borrow().connected
    }

    /// Whether the listener has stopped.
    pub fn is_stopped(&self) -> bool {
        self.status.borrow().stopped
    }

    /// What the handler-driven listener of this connection has seen so far (events handled,
    /// handler errors, bad frames, reconnects, resyncs). All zero for a listener consumed as a
    /// stream: the counts are kept by [`EventStream::run`](crate::ws::EventStream::run).
    pub fn stats(&self) -> WsStats {
        self.stats.snapshot()
    }
}

fn statuses(reply: Reply) -> Result<HashMap<String, String>, WsError> {
    serde_json::from_value(reply.data.clone()).map_err(|e| WsError::BadFrame {
        kind: BadFrameKind::UnexpectedShape,
        detail: format!("statuses: {e}"),
        raw: bytes::Bytes::from(reply.data.to_string()),
    })
}
