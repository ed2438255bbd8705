//! Message actions: what the server posts when a user clicks a button or picks from a menu of an
//! attachment ([`ActionRequest`]), and what the integration answers ([`ActionResponse`]).
//!
//! The server sends JSON and no token: carry a secret of your own in the action's context and
//! check it (see [`ActionRequest::context_matches`] and the [module docs](crate::receiver)).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::receiver::attachment::{Attachment, attachments_props, null_as_default};
use crate::receiver::token::Token;

/// A click of a button, or a choice of a menu.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionRequest {
    /// The user who clicked.
    #[serde(default)]
    pub user_id: String,
    /// That user's username.
    #[serde(default)]
    pub user_name: String,
    /// The post's channel.
    #[serde(default)]
    pub channel_id: String,
    /// That channel's name.
    #[serde(default)]
    pub channel_name: String,
    /// The channel's team (empty in direct and group messages).
    #[serde(default)]
    pub team_id: String,
    /// That team's name.
    #[serde(default)]
    pub team_domain: String,
    /// The post of the action.
    #[serde(default)]
    pub post_id: String,
    /// A short-lived id to open a dialog with (see `Client::open_dialog`).
    #[serde(default)]
    pub trigger_id: String,
    /// `button` or `select`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// A menu's data source (`users`, `channels`), when it has one.
    #[serde(default)]
    pub data_source: String,
    /// The action's context as it was posted; for a menu, with `selected_option` added.
    #[serde(default, deserialize_with = "null_as_default")]
    pub context: Map<String, Value>,
}

impl ActionRequest {
    /// The value a menu's user chose.
    pub fn selected_option(&self) -> Option<&str> {
        self.context_str("selected_option")
    }

    /// The context's `key`, when it is a string.
    pub fn context_str(&self, key: &str) -> Option<&str> {
        self.context.get(key).and_then(Value::as_str)
    }

    /// Whether the context's `key` is the secret `expected` (compared in constant time).
    pub fn context_matches(&self, key: &str, expected: &Token) -> bool {
        self.context_str(key).is_some_and(|v| expected.matches(v))
    }
}

impl std::fmt::Debug for ActionRequest {
    /// The context's keys only: its values may be secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionRequest")
            .field("user_id", &self.user_id)
            .field("user_name", &self.user_name)
            .field("channel_id", &self.channel_id)
            .field("channel_name", &self.channel_name)
            .field("team_id", &self.team_id)
            .field("team_domain", &self.team_domain)
            .field("post_id", &self.post_id)
            .field("trigger_id", &self.trigger_id)
            .field("kind", &self.kind)
            .field("data_source", &self.data_source)
            .field("context_keys", &self.context.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The answer to a click: a new version of the post, a message only the clicking user sees, both
/// or neither (`Default`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionResponse {
    /// The post's new message and props.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<PostUpdate>,
    /// A message only the user who clicked sees.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ephemeral_text: String,
    /// Whether the server leaves the ephemeral text as it is, without its Slack-compatibility
    /// rewriting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_slack_parsing: bool,
}

impl ActionResponse {
    /// Replaces the post with `update`.
    pub fn update(update: PostUpdate) -> Self {
        ActionResponse {
            update: Some(update),
            ..Default::default()
        }
    }

    /// Shows `text` to the user who clicked, only.
    pub fn ephemeral(text: impl Into<String>) -> Self {
        ActionResponse {
            ephemeral_text: text.into(),
            ..Default::default()
        }
    }

    /// With an ephemeral text too.
    pub fn with_ephemeral(mut self, text: impl Into<String>) -> Self {
        self.ephemeral_text = text.into();
        self
    }
}

/// The new version of an action's post. The server keeps its id, channel, pin and reactions;
/// without props it keeps the old ones too (with their attachments and buttons), with props it
/// takes these instead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PostUpdate {
    /// The new message.
    #[serde(default)]
    pub message: String,
    /// The new props (none: the old ones stay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub props: Option<Map<String, Value>>,
}

impl PostUpdate {
    /// The post with `message` and its old props.
    pub fn message(message: impl Into<String>) -> Self {
        PostUpdate {
            message: message.into(),
            props: None,
        }
    }

    /// With `attachments` as its props (an empty list removes the old attachments and buttons).
    pub fn attachments(mut self, attachments: &[Attachment]) -> Self {
        self.props = Some(attachments_props(attachments));
        self
    }
}
