//! Outgoing webhooks: what the server posts when a message matches a hook's trigger words or
//! channel ([`OutgoingWebhookRequest`]), and the reply it posts back ([`OutgoingWebhookResponse`]).
//!
//! The hook's `content_type` decides the body: a form (`application/x-www-form-urlencoded`, the
//! default) or JSON (`application/json`). The token comes in the body's `token` field only.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::receiver::attachment::{Attachment, null_as_default};
use crate::receiver::reject::Rejection;

/// A message that fired an outgoing webhook. The token is checked by the receiver and not kept
/// here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutgoingWebhookRequest {
    /// The team's id.
    pub team_id: String,
    /// The team's name.
    pub team_domain: String,
    /// The channel of the message.
    pub channel_id: String,
    /// That channel's name.
    pub channel_name: String,
    /// When the message was posted, in milliseconds since 1970. A form body carries whole seconds
    /// only (so this ends in `000`); a JSON body the milliseconds.
    pub timestamp_ms: i64,
    /// The author of the message.
    pub user_id: String,
    /// The author's username.
    pub user_name: String,
    /// The message's post id.
    pub post_id: String,
    /// The message.
    pub text: String,
    /// The trigger word that matched (empty when the hook fires on every message of its channel).
    pub trigger_word: String,
    /// The ids of the message's files.
    pub file_ids: Vec<String>,
}

/// The JSON body, as the server encodes it.
#[derive(Deserialize)]
struct Json {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    team_id: String,
    #[serde(default)]
    team_domain: String,
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    channel_name: String,
    #[serde(default)]
    timestamp: i64,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    post_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    trigger_word: String,
    #[serde(default)]
    file_ids: String,
}

impl OutgoingWebhookRequest {
    /// The request and its token from a JSON body.
    pub(crate) fn from_json(body: &[u8]) -> Result<(Self, Option<String>), Rejection> {
        let json: Json = crate::receiver::reject::decode_json(body)?;
        let request = OutgoingWebhookRequest {
            team_id: json.team_id,
            team_domain: json.team_domain,
            channel_id: json.channel_id,
            channel_name: json.channel_name,
            timestamp_ms: json.timestamp,
            user_id: json.user_id,
            user_name: json.user_name,
            post_id: json.post_id,
            text: json.text,
            trigger_word: json.trigger_word,
            file_ids: split_ids(&json.file_ids),
        };
        Ok((request, json.token))
    }

    /// The request and its token from a form body.
    pub(crate) fn from_form(body: &[u8]) -> Result<(Self, Option<String>), Rejection> {
        let mut request = OutgoingWebhookRequest::default();
        let mut token = None;
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.as_ref() {
                "token" => token = Some(value),
                "team_id" => request.team_id = value,
                "team_domain" => request.team_domain = value,
                "channel_id" => request.channel_id = value,
                "channel_name" => request.channel_name = value,
                "timestamp" if !value.is_empty() => {
                    let seconds: i64 = value.parse().map_err(|_| {
                        Rejection::malformed(format!("timestamp: not a number: {value:?}"))
                    })?;
                    request.timestamp_ms = seconds.saturating_mul(1000);
                }
                "user_id" => request.user_id = value,
                "user_name" => request.user_name = value,
                "post_id" => request.post_id = value,
                "text" => request.text = value,
                "trigger_word" => request.trigger_word = value,
                "file_ids" => request.file_ids = split_ids(&value),
                _ => {}
            }
        }
        Ok((request, token))
    }

    /// The fields the server always sends (checked after the token).
    pub(crate) fn check(&self) -> Result<(), Rejection> {
        for (name, value) in [("post_id", &self.post_id), ("channel_id", &self.channel_id)] {
            if value.is_empty() {
                return Err(Rejection::malformed(format!("the field {name} is missing")));
            }
        }
        Ok(())
    }
}

fn split_ids(ids: &str) -> Vec<String> {
    ids.split(',')
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The reply to an outgoing webhook. `Default` posts nothing; a reply with a text or an
/// attachment is posted in the message's channel (in its thread with [`Self::comment`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutgoingWebhookResponse {
    /// The message to post (none: only the attachments, or nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A username to post as (the server must allow overrides).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// An icon URL to post with (the server must allow overrides).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon_url: String,
    /// The post's props.
    #[serde(
        default,
        skip_serializing_if = "Map::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub props: Map<String, Value>,
    /// Attachments.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub attachments: Vec<Attachment>,
    /// The post's type.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub post_type: String,
    /// `comment` posts the reply in the message's thread; empty posts it in the channel.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub response_type: String,
}

impl OutgoingWebhookResponse {
    /// A reply posting `text`.
    pub fn text(text: impl Into<String>) -> Self {
        OutgoingWebhookResponse {
            text: Some(text.into()),
            ..Default::default()
        }
    }

    /// No reply: nothing is posted.
    pub fn none() -> Self {
        OutgoingWebhookResponse::default()
    }

    /// Posted in the thread of the message that fired the hook.
    pub fn comment(mut self) -> Self {
        self.response_type = "comment".to_owned();
        self
    }

    /// With an attachment more.
    pub fn attachment(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Posted as `username` (when the server allows username overrides).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = username.into();
        self
    }
}
