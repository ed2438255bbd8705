//! Incoming webhooks: a message posted to `POST {server}/hooks/{hook_id}`, outside the API.
//!
//! The hook's id is its only credential: the request carries no token, whatever the client
//! logged in with, and a 401 never makes the client log in again for it. The id is sent as one
//! percent-encoded path segment; an id that is empty, `.`, `..` or holds a `/` or `\` (which would
//! address another endpoint) is refused with [`Error::InvalidPathParameter`] before anything is sent.
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) -> Result<(), matterapi::Error> {
//! use matterapi::webhook::IncomingWebhook;
//!
//! let message = IncomingWebhook::text("Build 42 passed").username("ci").icon_emoji("white_check_mark");
//! client.post_incoming_webhook("hook id", &message).await?;
//! # Ok(()) }
//! ```

use progenitor_client::ClientInfo;
use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::generated::Client;
use crate::types;

/// What an incoming webhook posts (the server's `IncomingWebhookRequest`). Every field is
/// optional; the server wants a `text` or at least one attachment. Unset fields are not sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IncomingWebhook {
    /// The message (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The name shown instead of the hook creator's, if the server allows overriding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The picture shown instead of the creator's, if the server allows overriding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    /// An emoji name used as the picture (wins over `icon_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_emoji: Option<String>,
    /// Another channel than the hook's own, by name (`town-square`), or a user's direct channel
    /// (`@username`), if the hook is not locked to its channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Message attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<types::MessageAttachment>,
    /// Post properties (e.g. `card` for the message's side panel).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub props: Map<String, Value>,
    /// A post type; the server accepts only `custom_*` types here.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub post_type: Option<String>,
    /// The post's priority (needs a license on the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<types::PostPriority>,
}

impl IncomingWebhook {
    /// A message of `text`.
    pub fn text(text: impl Into<String>) -> IncomingWebhook {
        IncomingWebhook {
            text: Some(text.into()),
            ..IncomingWebhook::default()
        }
    }

    /// Sets the name shown.
    pub fn username(mut self, username: impl Into<String>) -> IncomingWebhook {
        self.username = Some(username.into());
        self
    }

    /// Sets the picture shown, by URL.
    pub fn icon_url(mut self, url: impl Into<String>) -> IncomingWebhook {
        self.icon_url = Some(url.into());
        self
    }

    /// Sets the picture shown, by emoji name.
    pub fn icon_emoji(mut self, emoji: impl Into<String>) -> IncomingWebhook {
        self.icon_emoji = Some(emoji.into());
        self
    }

    /// Posts to another channel (by name, or `@username`).
    pub fn channel(mut self, channel: impl Into<String>) -> IncomingWebhook {
        self.channel = Some(channel.into());
        self
    }

    /// Adds an attachment.
    pub fn attachment(mut self, attachment: types::MessageAttachment) -> IncomingWebhook {
        self.attachments.push(attachment);
        self
    }

    /// Sets a post property.
    pub fn prop(mut self, name: impl Into<String>, value: impl Into<Value>) -> IncomingWebhook {
        self.props.insert(name.into(), value.into());
        self
    }

    /// Sets the post type (`custom_*`).
    pub fn post_type(mut self, post_type: impl Into<String>) -> IncomingWebhook {
        self.post_type = Some(post_type.into());
        self
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: types::PostPriority) -> IncomingWebhook {
        self.priority = Some(priority);
        self
    }
}

impl Client {
    /// Posts `message` through the incoming webhook `hook_id` (`POST {server}/hooks/{hook_id}`),
    /// sending no credential (the id is the hook's). The server answers `ok`; a failure status
    /// is an [`Error`] with what the server said.
    pub async fn post_incoming_webhook(
        &self,
        hook_id: &str,
        message: &IncomingWebhook,
    ) -> Result<()> {
        let path = format!(
            "/hooks/{}",
            crate::request::path_segment("hook_id", hook_id)?
        );
        let body = serde_json::to_vec(message).map_err(|e| {
            Error::InvalidRequest(format!("cannot encode the webhook message: {e}"))
        })?;
        let request = self
            .client()
            .post(crate::request::root_url(self, &path))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let resp =
            crate::request::execute_with(self, "incoming_webhook", request, true, false).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = crate::request::read_body(resp).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(Error::from_reply_headers(status, &headers, body))
        }
    }
}
