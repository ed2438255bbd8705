//! The websocket listener: Mattermost's event stream, that never silently loses an event.
//!
//! Two ways to listen:
//!
//! - A [`Stream`](futures_core::Stream) of [`WsItem`]s with a [`WsHandle`] to send actions:
//!
//!   ```no_run
//!   # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//!   use futures_util::StreamExt;
//!   use matterapi::ws::{EventKind, WsItem};
//!
//!   let client = matterapi::Client::with_token("https://chat.example.com", "a token")?;
//!   let (handle, mut events) = client.websocket().connect().await?;
//!   while let Some(item) = events.next().await {
//!       match item {
//!           WsItem::Event(ev) => {
//!               if let EventKind::Posted(p) = &ev.kind {
//!                   println!("{}", p.post.message.as_deref().unwrap_or(""));
//!               }
//!           }
//!           WsItem::Resync => { /* events may have been missed: refetch over REST */ }
//!           WsItem::Error(e) if e.is_terminal() => return Err(e.into()),
//!           other => println!("{other:?}"),
//!       }
//!   }
//!   # drop(handle);
//!   # Ok(()) }
//!   ```
//!
//! - A handler called for each event, concurrently (at most
//!   [`Options::ws_max_in_flight`](crate::Options::ws_max_in_flight) at once) or one at a time in
//!   order ([`Options::ws_concurrent`](crate::Options::ws_concurrent) `= false`):
//!   [`Client::start_ws`](crate::Client::start_ws) (async handlers),
//!   [`Client::start_ws_fn`](crate::Client::start_ws_fn) (plain functions), and
//!   `start_ws_sync` (plain functions) and `start_ws_sync_async` (async handlers) on the blocking
//!   client. A handler's error is logged and counted, never fatal. Whether a revoked session is
//!   renewed is their `relogin` argument: a `bool`, or by name [`Relogin::On`]/[`Relogin::Off`].
//!   For a bot, [`Event::posted`] and [`Posted`]'s helpers (`is_for_me`, `reply`: see
//!   [`crate::bot`]).
//!
//! What the listener does for you (see `conn.rs` for the state machine):
//!
//! - Authenticates with `Authorization: Bearer` on the upgrade (never an `Origin` header), with the
//!   authentication challenge as fallback. A token rejected at the first connection is an error
//!   from `connect()`; a session revoked later (the `ping` action answers `not_authenticated`) leads
//!   to [`Client::relogin`](crate::Client::relogin) when allowed and credentials exist, else to a terminal error.
//! - Checks `seq` on every event; after a drop, a gap or a dead socket it resumes with
//!   `connection_id` and `sequence_number` so the server replays what was missed. When the server
//!   cannot (the connection was forgotten), it says so with [`WsItem::Resync`].
//! - Answers the server's pings from a reader that never waits for user code, sends the `ping`
//!   action every 30 s and treats a missing reply as a dead socket.
//! - Reconnects with [`Backoff`] (jitter, growth after repeated failures, reset after a stable
//!   connection), through the options' proxy and TLS settings.
//! - Keeps memory bounded: a slow consumer fills a bounded queue, then a bounded buffer behind it;
//!   past that the reader keeps reading (and answering pings) but leaves events with the server,
//!   and resumes from the first one it left once the consumer has caught up.
//! - Surfaces binary frames, invalid JSON and unexpected shapes as [`WsItem::Error`] with the raw
//!   frame, and goes on.
//!
//! Where each part lives (this file only declares and re-exports them):
//!
//! | File | What |
//! |---|---|
//! | `listener.rs` | the [`Websocket`] builder, [`WsListener`], the `Client` methods that start a listener |
//! | `handle.rs` | [`WsHandle`]: actions and their replies, [`Presence`], `disconnect`, `shutdown` |
//! | `dispatch.rs` | [`EventStream`], handlers run over it, [`WsStats`] |
//! | `event.rs` | the items: [`WsItem`], [`DisconnectReason`], [`Event`] and its typed payloads, [`Reply`]; frame decoding |
//! | `error.rs` | [`WsError`] |
//! | `settings.rs` | the listener's resolved settings |
//! | `conn.rs` | the connection task: serving a socket, reconnecting as `decide` says |
//! | `decide.rs` | the pure decision after each disconnect: resume, fresh connection, relogin, stop |
//! | `handshake.rs` | opening one socket: the upgrade, the authentication challenge, the proof |
//! | `transport.rs` | TCP, HTTP `CONNECT` proxies and TLS from the options |
//! | `backoff.rs` | [`Backoff`], the reconnect waits |

mod backoff;
mod conn;
mod decide;
mod dispatch;
mod event;
mod handle;
mod handshake;
mod listener;
mod settings;
mod transport;

pub use crate::error::{BadFrameKind, ConnectionError, ConnectionStage, WsError};
pub use backoff::Backoff;
pub use dispatch::{EventStream, WsStats};
pub use event::{
    Broadcast, BurnOnReadAllRevealed, ChannelBookmarkChanged, ChannelBookmarkUpdated,
    ChannelBookmarksSorted, ChannelDeleted, ChannelMemberUpdated, ChannelRef, ChannelUpdated,
    ConfigChanged, ContentFlaggingReportValueUpdated, CustomProfileAttributesField,
    CustomProfileAttributesFieldDeleted, CustomProfileAttributesValuesUpdated, Dialog,
    DialogRequest, DirectAdded, DisconnectReason, DraftChanged, EmojiAdded, Event, EventKind,
    Frame, GroupAdded, GroupMemberChanged, GroupRef, Hello, LicenseChanged, MarketplaceVisitStatus,
    MultipleChannelsViewed, OpenDialog, PersistentNotificationTriggered, PluginManifestChanged,
    PluginStatusesChanged, PostAcknowledgementChanged, PostDeleted, PostEdited, PostRef,
    PostRevealed, PostUnread, Posted, PreferenceChanged, Preferences, ReactionChanged,
    ReceivedGroup, Reply, ReplyError, ReportValue, RoleUpdated, ScheduledPostChanged,
    SidebarCategoryOrderUpdated, SidebarCategoryRef, SidebarCategoryUpdated, SignupProgress,
    StatusChange, TeamMemberUpdated, TeamMembership, TeamUpdated, ThreadFollowChanged,
    ThreadReadChanged, ThreadUpdated, Typing, UserAdded, UserRef, UserRemoved, UserRoleUpdated,
    UserUpdated, WsItem,
};
pub use handle::{Presence, WsHandle};
pub use listener::{Relogin, Websocket, WsListener};
