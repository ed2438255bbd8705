//! Custom slash commands: what the server sends when a user runs one ([`CommandRequest`]) and
//! what the integration answers ([`CommandResponse`]).
//!
//! The server calls the command's URL with `POST` and a form body
//! (`application/x-www-form-urlencoded`) or, for a command registered with method `G`, with `GET`
//! and the same fields in the query. Its token comes twice: in an `Authorization: Token …` header
//! and in the `token` field. The receiver also takes the fields as a JSON object, for callers of
//! your own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::receiver::attachment::{Attachment, null_as_default};
use crate::receiver::reject::Rejection;

/// A run of a slash command, as the server sends it. The token is checked by the receiver and
/// not kept here.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommandRequest {
    /// The team's id.
    pub team_id: String,
    /// The team's name (its URL part).
    pub team_domain: String,
    /// The channel the command ran in.
    pub channel_id: String,
    /// That channel's name.
    pub channel_name: String,
    /// The user who ran it.
    pub user_id: String,
    /// That user's username.
    pub user_name: String,
    /// The trigger with its slash, such as `/poll`.
    pub command: String,
    /// What follows the trigger.
    pub text: String,
    /// A short-lived id to open a dialog with (see `Client::open_dialog`).
    pub trigger_id: String,
    /// The thread's root post, when the command ran in a thread.
    pub root_id: String,
    /// A URL that takes up to a few delayed [`CommandResponse`]s for a while (a capability: it is
    /// hidden in `Debug`).
    pub response_url: String,
    /// The users mentioned in `text` who are in the team: username to user id.
    pub user_mentions: BTreeMap<String, String>,
    /// The public channels mentioned in `text`: channel name to channel id.
    pub channel_mentions: BTreeMap<String, String>,
}

impl std::fmt::Debug for CommandRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandRequest")
            .field("team_id", &self.team_id)
            .field("team_domain", &self.team_domain)
            .field("channel_id", &self.channel_id)
            .field("channel_name", &self.channel_name)
            .field("user_id", &self.user_id)
            .field("user_name", &self.user_name)
            .field("command", &self.command)
            .field("text", &self.text)
            .field("trigger_id", &self.trigger_id)
            .field("root_id", &self.root_id)
            .field("response_url", &crate::redact::HIDDEN)
            .field("user_mentions", &self.user_mentions)
            .field("channel_mentions", &self.channel_mentions)
            .finish()
    }
}

impl CommandRequest {
    /// The request and its `token` field from form (or query) pairs. Mentions come as two lists
    /// of the same length (`user_mentions` and `user_mentions_ids`, the same for channels).
    pub(crate) fn from_pairs<'a>(
        pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
    ) -> Result<(Self, Option<String>), Rejection> {
        let mut request = CommandRequest::default();
        let mut token = None;
        let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in pairs {
            let value = value.into_owned();
            let slot = match key.as_ref() {
                "token" => {
                    token = Some(value);
                    continue;
                }
                "team_id" => &mut request.team_id,
                "team_domain" => &mut request.team_domain,
                "channel_id" => &mut request.channel_id,
                "channel_name" => &mut request.channel_name,
                "user_id" => &mut request.user_id,
                "user_name" => &mut request.user_name,
                "command" => &mut request.command,
                "text" => &mut request.text,
                "trigger_id" => &mut request.trigger_id,
                "root_id" => &mut request.root_id,
                "response_url" => &mut request.response_url,
                k @ ("user_mentions"
                | "user_mentions_ids"
                | "channel_mentions"
                | "channel_mentions_ids") => {
                    lists.entry(k.to_owned()).or_default().push(value);
                    continue;
                }
                _ => continue,
            };
            *slot = value;
        }
        request.user_mentions = mentions(&mut lists, "user_mentions")?;
        request.channel_mentions = mentions(&mut lists, "channel_mentions")?;
        Ok((request, token))
    }

    /// The request and its `token` from a JSON object of the same fields (mention lists as
    /// arrays of strings).
    pub(crate) fn from_json(body: &[u8]) -> Result<(Self, Option<String>), Rejection> {
        #[derive(Deserialize)]
        struct Json {
            #[serde(default)]
            token: Option<String>,
            #[serde(flatten)]
            rest: BTreeMap<String, Value>,
        }
        let json: Json = crate::receiver::reject::decode_json(body)?;
        let mut pairs = Vec::new();
        for (key, value) in json.rest {
            match value {
                Value::String(s) => pairs.push((key, s)),
                Value::Array(items) => {
                    for item in items {
                        match item {
                            Value::String(s) => pairs.push((key.clone(), s)),
                            other => {
                                return Err(Rejection::malformed(format!(
                                    "{key}: expected strings, got {other}"
                                )));
                            }
                        }
                    }
                }
                Value::Null => {}
                other => {
                    return Err(Rejection::malformed(format!(
                        "{key}: expected a string, got {other}"
                    )));
                }
            }
        }
        let (request, _) = CommandRequest::from_pairs(
            pairs
                .into_iter()
                .map(|(k, v)| (std::borrow::Cow::Owned(k), std::borrow::Cow::Owned(v))),
        )?;
        Ok((request, json.token))
    }

    /// The fields the server always sends (checked after the token).
    pub(crate) fn check(&self) -> Result<(), Rejection> {
        for (name, value) in [
            ("command", &self.command),
            ("user_id", &self.user_id),
            ("channel_id", &self.channel_id),
        ] {
            if value.is_empty() {
                return Err(Rejection::malformed(format!("the field {name} is missing")));
            }
        }
        Ok(())
    }
}

/// `{name}` and `{name}_ids` of `lists` zipped into a map.
fn mentions(
    lists: &mut BTreeMap<String, Vec<String>>,
    name: &str,
) -> Result<BTreeMap<String, String>, Rejection> {
    let names = lists.remove(name).unwrap_or_default();
    let ids = lists.remove(&format!("{name}_ids")).unwrap_or_default();
    if names.len() != ids.len() {
        return Err(Rejection::malformed(format!(
            "{name}: {} names but {} ids",
            names.len(),
            ids.len()
        )));
    }
    Ok(names.into_iter().zip(ids).collect())
}

/// Who sees a command's reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    /// Only the user who ran the command (the server's default).
    #[default]
    Ephemeral,
    /// Everyone in the channel: the reply is a post.
    InChannel,
}

/// The reply to a slash command. Build it with [`CommandResponse::in_channel`] or
/// [`CommandResponse::ephemeral`] and the `with_*`-style setters; `Default` is an empty ephemeral
/// reply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CommandResponse {
    /// Who sees it.
    #[serde(default)]
    pub response_type: ResponseType,
    /// The message (Markdown).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// A username to post as (the server must allow overrides).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// Another channel to post in (the user must be a member).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel_id: String,
    /// An icon URL to post with (the server must allow overrides).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon_url: String,
    /// The post's type (custom types start with `custom_`).
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub post_type: String,
    /// The post's props.
    #[serde(
        default,
        skip_serializing_if = "Map::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub props: Map<String, Value>,
    /// A URL or a path of the web app the user's client goes to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub goto_location: String,
    /// Whether the server leaves `text` and the attachments as they are, without its
    /// Slack-compatibility rewriting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_slack_parsing: bool,
    /// Attachments (with buttons and menus).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub attachments: Vec<Attachment>,
    /// More replies, each posted on its own.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub extra_responses: Vec<CommandResponse>,
}

impl CommandResponse {
    /// A reply everyone in the channel sees, as a post.
    pub fn in_channel(text: impl Into<String>) -> Self {
        CommandResponse {
            response_type: ResponseType::InChannel,
            text: text.into(),
            ..Default::default()
        }
    }

    /// A reply only the user who ran the command sees.
    pub fn ephemeral(text: impl Into<String>) -> Self {
        CommandResponse {
            response_type: ResponseType::Ephemeral,
            text: text.into(),
            ..Default::default()
        }
    }

    /// With an attachment more.
    pub fn attachment(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Sends the user's client to `location` (a URL, or a path such as `/team/channels/x`).
    pub fn goto_location(mut self, location: impl Into<String>) -> Self {
        self.goto_location = location.into();
        self
    }

    /// With another reply posted after this one.
    pub fn extra_response(mut self, response: CommandResponse) -> Self {
        self.extra_responses.push(response);
        self
    }

    /// Posted as `username` (when the server allows username overrides).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = username.into();
        self
    }

    /// Posted in `channel_id` instead of the command's channel.
    pub fn channel_id(mut self, channel_id: impl Into<String>) -> Self {
        self.channel_id = channel_id.into();
        self
    }

    /// With `key`: `value` in the post's props.
    pub fn prop(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.props.insert(key.into(), value.into());
        self
    }
}
