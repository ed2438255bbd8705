//! The receiver: what the Mattermost server sends to an integration over HTTP, typed, verified and
//! answered (feature `receiver`).
//!
//! An integration is called back by the server in four ways, each a route of a [`Receiver`]:
//!
//! | callback | request | reply | token |
//! | --- | --- | --- | --- |
//! | a custom slash command runs | [`CommandRequest`] (form, query or JSON) | [`CommandResponse`] | yes: header and form |
//! | a message fires an outgoing webhook | [`OutgoingWebhookRequest`] (form or JSON) | [`OutgoingWebhookResponse`] | yes: in the body |
//! | a button or menu of a message is used | [`ActionRequest`] (JSON) | [`ActionResponse`] | no |
//! | a dialog is submitted | [`DialogSubmission`] (JSON) | [`DialogResponse`] | no |
//!
//! The client side of the same flows is on [`Client`](crate::Client):
//! [`register_command`](crate::Client::register_command),
//! [`register_outgoing_webhook`](crate::Client::register_outgoing_webhook) (whose replies give the
//! token the receiver checks), [`open_dialog`](crate::Client::open_dialog) with a trigger id,
//! [`click_action`](crate::Client::click_action) and
//! [`submit_dialog`](crate::Client::submit_dialog) (what a user's client does), and [`Attachment`]s
//! with [`Action`]s for posts with buttons and menus ([`attachments_props`]).
//!
//! # Why axum
//! The receiver is an [`axum::Router`]: axum runs on tokio, like the rest of the crate, so a bot
//! listens to the websocket and answers callbacks in one runtime; its routers `merge` and `nest`
//! into an application's own; it is built on hyper and tower (the middleware of the ecosystem,
//! for whoever wants more layers); and the tokio project maintains it, with frequent releases and
//! wide use. The crate builds it without its default features (HTTP/1.1 and tokio only:
//! the server calls integrations over HTTP/1.1).
//!
//! # What every route does
//! - reads the body under a limit ([`Receiver::body_limit`], default [`DEFAULT_BODY_LIMIT`]):
//!   a larger body gets 413, before it is read when its `Content-Length` says so;
//! - answers within [`Receiver::timeout`] (default [`DEFAULT_TIMEOUT`]), else 503;
//! - checks the token of slash commands and outgoing webhooks in constant time: a missing or
//!   wrong one gets 401 before the handler runs;
//! - decodes the callback into its type: a malformed one gets 400 with the bad field's path;
//!   a body of another media type 415; a handler's panic a 500, never a dropped connection.
//!
//! Every refusal is a JSON [`ErrorReply`] `{"error": "<kind>", "message": "..."}` (see
//! [`Rejection`]); a handler fails with a [`Rejection`] of its own ([`Rejection::handler`]).
//!
//! # Secrets for actions and dialogs
//! The server sends no token with an action's click or a dialog's submission, and anyone who can
//! reach the receiver can post one. To know a callback is genuine:
//! - **actions**: put a secret of yours in the action's context
//!   ([`Action::context`], e.g. under `"secret"`) and check it with
//!   [`ActionRequest::context_matches`], which compares in constant time. The server stores the
//!   context with the post and strips it from what it sends to clients, so only the server (and
//!   whoever can read its database) knows it. Use a value per integration, or per post.
//! - **dialogs**: the dialog's `state` goes through the user's client, which can read it and
//!   forge it. Do not put a bare secret in it. Keep what matters on your side and put an opaque,
//!   unguessable id of it in the state (or the state and a MAC of it under a key of yours), and
//!   check the submission's `user_id` and `channel_id` against what you stored when you opened
//!   the dialog. Open dialogs from a click or command that you checked first.
//!
//! # Example
//! ```no_run
//! use matterapi::receiver::{
//!     Action, ActionResponse, Attachment, CommandResponse, PostUpdate, Receiver, Token,
//! };
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = Token::new("a secret of mine");
//! let checked = secret.clone();
//! let router = Receiver::new()
//!     .command("/poll", Token::new("the command's token"), move |req| {
//!         let secret = secret.clone();
//!         async move {
//!             let button = Action::button("yes", "Yes", "http://127.0.0.1:3000/vote")
//!                 .context("secret", secret.expose());
//!             Ok(CommandResponse::in_channel(req.text).attachment(Attachment::new("Vote:").action(button)))
//!         }
//!     })
//!     .action("/vote", move |click| {
//!         let ok = click.context_matches("secret", &checked);
//!         async move {
//!             if !ok {
//!                 return Err(matterapi::receiver::Rejection::with_status(401, "bad secret"));
//!             }
//!             Ok(ActionResponse::update(PostUpdate::message(format!("@{} voted", click.user_name))))
//!         }
//!     })
//!     .into_router()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! matterapi::receiver::serve(listener, router, std::future::pending()).await?;
//! # Ok(()) }
//! ```

mod action;
mod attachment;
mod client;
mod command;
mod dialog;
mod reject;
mod router;
mod token;
mod webhook;

/// The axum the receiver is built with, for routers and middleware of the same version.
pub use axum;

pub use action::{ActionRequest, ActionResponse, PostUpdate};
pub use attachment::{
    Action, ActionOption, ActionType, Attachment, Field, Integration, attachments_props,
};
pub use client::{
    ActionClicked, ContentType, OutgoingWebhook, Registered, SlashCommand, TriggerWhen,
};
pub use command::{CommandRequest, CommandResponse, ResponseType};
pub use dialog::{
    Dialog, DialogElement, DialogResponse, DialogSubmission, ElementType, OpenDialog, SubmitDialog,
};
pub use reject::{ErrorReply, Rejection};
pub use router::{DEFAULT_BODY_LIMIT, DEFAULT_TIMEOUT, Receiver, RouteError, serve};
pub use token::Token;
pub use webhook::{OutgoingWebhookRequest, OutgoingWebhookResponse};
