//! matterapi: a typed client for the Mattermost REST API v4.
//!
//! Every operation of the Mattermost API spec is a method on [`Client`] returning a builder that ends
//! in `send()`:
//!
//! ```no_run
//! # async fn run() -> Result<(), matterapi::Error> {
//! let client = matterapi::Client::with_token("https://chat.example.com", "a token")?;
//! let me = client.get_user().user_id("me").send().await?;
//! println!("{}", me.username.as_deref().unwrap_or(""));
//! # Ok(()) }
//! ```
//!
//! Types of the API live in [`types`]; errors are [`Error`], with the server's error id and request
//! id. [`bot`] adds typed shortcuts for what bots do (`post_message`, `reply`, `react`, `edit`,
//! `ephemeral`, `user_by_username`, ...) and accessors for the fields the server always fills
//! (`post.id()?`).

#![warn(missing_docs)]

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
pub mod webhook;
pub mod ws;

pub use bot::ReplyTo;
pub use client::ClientBuilder;
pub use error::{Error, REQUEST_ID_HEADER, Result, ServerError};
pub use generated::{Client, ResponseValue, types};
pub use options::{Auth, Options, OptionsBuilder, Proxies};
pub use raw::{RawRequest, RawResponse, Reply};
pub use reqwest::{Method, StatusCode};
