//! The resolved settings of one listener: what the [`Websocket`](crate::ws::Websocket) builder and
//! the client's options say, checked once at `connect()`, then read by the handshake, the
//! connection task and the reconnect decision.

use std::time::Duration;

use reqwest::Url;

/// The resolved settings of one listener.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) url: Url,
    pub(crate) relogin: bool,
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) hello_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) buffer: usize,
    pub(crate) user_agent: String,
    /// The longest message accepted (the options' `max_body_size`).
    pub(crate) max_message_size: usize,
}
