//! matterapi: a typed client for the Mattermost REST API v4 and its websocket event stream.
//!
//! # A walk through the crate
//!
//! ## A client
//!
//! [`Client`] holds the server's URL, the credentials and the HTTP options ([`Options`]); it is
//! cheap to clone and shares one connection pool. [`Client::with_token`] takes a personal access,
//! bot or session token; [`Client::builder`] takes everything else (login id and password, MFA,
//! timeout, TLS, proxies), and [`Options::from_json`] / [`Options::from_env`] read the same options
//! from a document (the Python library's option document is accepted as it is written).
//!
//! ```no_run
//! # async fn run() -> matterapi::Result<()> {
//! use matterapi::Client;
//!
//! let bot = Client::with_token("https://chat.example.com", "a bot token")?;
//! let user = Client::builder("https://chat.example.com")
//!     .login("alice", "a password")
//!     .build()?;
//! user.login().await?; // opens a session; with login auth a 401 later logs in again by itself
//! # Ok(()) }
//! ```
//!
//! ## A typed call
//!
//! Every operation of the spec is a method returning a builder that ends in `send()`. The area
//! handles ([`areas`]: `client.users()`, `client.posts()`, `client.channels()`, ...) group them as
//! the spec's tags do and take the path parameters as arguments; the flat methods
//! (`client.get_user().user_id("me")`) are the same builders. Optional parameters and body fields
//! are setters taking what a caller has (`&str` for a string, the plain value for an `Option`
//! field, see [`setter`]); bodies with required fields have a `new` taking them. The reply derefs
//! to its type in [`types`].
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) -> matterapi::Result<()> {
//! use matterapi::types::CreatePostBody;
//!
//! let me = client.users().get_user("me").send().await?;
//! let channel = client
//!     .channels()
//!     .get_channel_by_name_for_team_name("a-team", "town-square")
//!     .send()
//!     .await?;
//! let channel_id = channel.id.clone().unwrap_or_default();
//! let post = client
//!     .posts()
//!     .create_post()
//!     .body(CreatePostBody::new(channel_id.as_str(), "hello"))
//!     .send()
//!     .await?;
//! let reply = client
//!     .posts()
//!     .create_post()
//!     .body_map(|b| b.channel_id(channel_id.as_str()).message("a reply").root_id(post.id.clone()))
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Lists of pages read as one stream with [`paginate::paginate`]; files go up and down with
//! [`files`] (`client.upload_file(channel_id, UploadFile::from_path(..))`); incoming webhooks with
//! [`Client::post_incoming_webhook`].
//!
//! ## Errors
//!
//! Every call of the crate fails with [`Error`] ([`Result`]). A server error keeps its HTTP status,
//! the server's error id (`app.user.get_by_username.app_error`) and the request id; any other reply
//! keeps its status and raw body; a reply that does not decode keeps its raw body too. Secrets
//! never show in an error, `Debug` or a trace.
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) {
//! match client.users().get_user_by_username("nobody").send().await {
//!     Ok(user) => println!("{:?}", user.id),
//!     Err(e) if e.status() == Some(matterapi::StatusCode::NOT_FOUND) => {
//!         println!("no such user ({:?}, request {:?})", e.error_id(), e.request_id())
//!     }
//!     Err(e) => println!("failed: {e}"),
//! }
//! # }
//! ```
//!
//! ## The websocket
//!
//! [`Client::start_ws`] calls a handler for every event ([`ws::Event`], typed by kind in
//! [`ws::EventKind`]) until a terminal error: it reconnects with backoff, resumes the server's
//! sequence, says when events may have been missed, and with `relogin` renews a revoked session.
//! [`Client::websocket`] has every setting (and `connect()` for a stream of items instead of a
//! handler).
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) -> matterapi::Result<()> {
//! use matterapi::ws::EventKind;
//!
//! client
//!     .start_ws(
//!         |ev| async move {
//!             if let EventKind::Posted(p) = &ev.kind {
//!                 println!("{}: {}", p.sender_name, p.post.message.as_deref().unwrap_or(""));
//!             }
//!             Ok::<(), std::io::Error>(())
//!         },
//!         true,
//!     )
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! ## Raw mode
//!
//! For what the spec lacks, [`Client::raw`] sends any request with the client's credentials and
//! options and gives the untouched reply ([`RawResponse`]); every typed builder also has
//! `send_raw()`. The `skip_response_parsing` option makes typed calls keep the raw reply as well.
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) -> matterapi::Result<()> {
//! let reply = client.raw(matterapi::Method::GET, "/users/me").send().await?;
//! println!("{} {}", reply.status, reply.text());
//! # Ok(()) }
//! ```
//!
//! ## Blocking
//!
//! With the `blocking` feature (default), [`blocking::Client`] has the same surface without async:
//! the same handles and builders (`send()` blocks), files, raw mode and
//! [`blocking::Client::start_ws_sync`].
//!
//! ## Features
//!
//! - `rustls` (default) or `native-tls`: the TLS library.
//! - `blocking` (default): [`blocking::Client`].
//! - `toml` (default): `Options::from_toml`.
//! - `full` (default): every API area. A bot that needs less can pick areas (`users`, `teams`,
//!   `channels`, `posts`, `files`, `emoji`, `integrations`, `groups`, `shared-channels`, `plugins`,
//!   `admin`) with `default-features = false`; the websocket, files, raw mode and auth are always
//!   there.
//! - `receiver` (off): an HTTP server for slash commands, outgoing webhooks, interactive buttons and
//!   dialogs (`matterapi::receiver`).
//!
//! ## Bot helpers
//!
//! [`bot`] adds typed shortcuts for what every bot does, on both clients: `post_message`,
//! `post_message_to(team, channel, text)`, `reply` (into the post's thread), `react`, `edit`,
//! `ephemeral`, `user_by_username`, `user_by_email`, `my_user_id`; accessors for the fields the
//! server always fills (`post.id()?`, `channel.name()?`: [`Error::MissingField`] when a reply
//! lacks one); and on the websocket's `posted` event, `is_for_me`, `mentions_me`, `is_from_me` and
//! `reply`.
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) -> matterapi::Result<()> {
//! let post = client.post_message_to("a-team", "town-square", "hello").await?;
//! client.reply(&post, "and a reply in its thread").await?;
//! client.react(post.id()?, "thumbsup").await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod areas;
mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
pub mod bot;
mod client;
mod error;
mod fields;
pub mod files;
pub mod generated;
mod hooks;
pub mod mfa;
mod net;
pub mod options;
pub mod paginate;
pub mod raw;
#[cfg(feature = "receiver")]
pub mod receiver;
mod redact;
mod request;
pub mod retry;
pub mod setter;
pub mod webhook;
pub mod ws;

pub use bot::ReplyTo;
pub use client::ClientBuilder;
pub use error::{Error, REQUEST_ID_HEADER, Result, ServerError};
pub use generated::{Client, ResponseValue, types};
pub use options::{Auth, Options, OptionsBuilder, Proxies};
pub use raw::{RawRequest, RawResponse, Reply};
pub use reqwest::{Method, StatusCode};

/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
