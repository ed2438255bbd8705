//! The client side of the callbacks: registering a slash command or an outgoing webhook that
//! points at the receiver, opening a dialog from a trigger id, and what a user's client does
//! (clicking an action, submitting a dialog), as methods of [`Client`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::generated::{Client, types};
use crate::receiver::dialog::{DialogResponse, OpenDialog, SubmitDialog};
use crate::receiver::token::Token;
use reqwest::Method;

/// A slash command to register: its trigger (without the slash), the team and the receiver's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlashCommand {
    /// The team it belongs to.
    pub team_id: String,
    /// The trigger, without its slash.
    pub trigger: String,
    /// The receiver's URL for it.
    pub url: String,
    /// Whether the server calls it with `GET` (query) instead of `POST` (form).
    pub get: bool,
    /// The name shown in the integrations list.
    pub display_name: String,
    /// Its description.
    pub description: String,
    /// A username its replies are posted as.
    pub username: String,
    /// An icon URL its replies are posted with.
    pub icon_url: String,
    /// Whether the client suggests it while the user types, with this description and hint.
    pub autocomplete: Option<(String, String)>,
}

impl SlashCommand {
    /// A command `/trigger` of `team_id` that the server posts (as a form) to `url`.
    pub fn new(
        team_id: impl Into<String>,
        trigger: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        SlashCommand {
            team_id: team_id.into(),
            trigger: trigger.into(),
            url: url.into(),
            get: false,
            display_name: String::new(),
            description: String::new(),
            username: String::new(),
            icon_url: String::new(),
            autocomplete: None,
        }
    }

    /// With a display name and description.
    pub fn describe(
        mut self,
        display_name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        self.display_name = display_name.into();
        self.description = description.into();
        self
    }

    /// Suggested while typing, with a description and a hint of its arguments.
    pub fn autocomplete(mut self, description: impl Into<String>, hint: impl Into<String>) -> Self {
        self.autocomplete = Some((description.into(), hint.into()));
        self
    }

    /// Called with `GET` and a query instead of `POST` and a form.
    pub fn with_get(mut self) -> Self {
        self.get = true;
        self
    }
}

/// When an outgoing webhook fires on a trigger word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TriggerWhen {
    /// When the message's first word is a trigger word.
    #[default]
    FirstWordIs,
    /// When the message's first word starts with a trigger word.
    FirstWordStartsWith,
}

/// How the server encodes an outgoing webhook's body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ContentType {
    /// `application/x-www-form-urlencoded` (the server's default).
    #[default]
    Form,
    /// `application/json`.
    Json,
}

/// An outgoing webhook to register: its team, the receiver's URL, and the channel and/or the
/// trigger words it fires on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutgoingWebhook {
    /// The team it belongs to.
    pub team_id: String,
    /// The only channel it listens to (empty: every public channel of the team, with trigger
    /// words).
    pub channel_id: String,
    /// The words it fires on (empty: every message of its channel).
    pub trigger_words: Vec<String>,
    /// How a trigger word matches.
    pub trigger_when: TriggerWhen,
    /// The receiver's URLs (the server posts to each).
    pub callback_urls: Vec<String>,
    /// The body's encoding.
    pub content_type: ContentType,
    /// The name shown in the integrations list (the server requires one).
    pub display_name: String,
    /// Its description.
    pub description: String,
}

impl OutgoingWebhook {
    /// A hook of `team_id` posting to `url`, named `display_name`.
    pub fn new(
        team_id: impl Into<String>,
        url: impl Into<String>,
        display_name: impl Into<String>,
    ) -> Self {
        OutgoingWebhook {
            team_id: team_id.into(),
            channel_id: String::new(),
            trigger_words: Vec::new(),
            trigger_when: TriggerWhen::default(),
            callback_urls: vec![url.into()],
            content_type: ContentType::default(),
            display_name: display_name.into(),
            description: String::new(),
        }
    }

    /// Listening to `channel_id` only.
    pub fn channel(mut self, channel_id: impl Into<String>) -> Self {
        self.channel_id = channel_id.into();
        self
    }

    /// Firing on `word`.
    pub fn trigger_word(mut self, word: impl Into<String>) -> Self {
        self.trigger_words.push(word.into());
        self
    }

    /// How a trigger word matches.
    pub fn trigger_when(mut self, when: TriggerWhen) -> Self {
        self.trigger_when = when;
        self
    }

    /// With a body of this encoding.
    pub fn content_type(mut self, content_type: ContentType) -> Self {
        self.content_type = content_type;
        self
    }
}

/// A registered command or outgoing webhook: its id and the token its callbacks carry (give it
/// to [`Receiver::command`](crate::receiver::Receiver::command) or
/// [`Receiver::outgoing_webhook`](crate::receiver::Receiver::outgoing_webhook)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Registered {
    /// The command's or hook's id (to delete it).
    pub id: String,
    /// The token of its callbacks.
    pub token: Token,
}

/// The server's answer to a click.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionClicked {
    /// `OK`.
    #[serde(default)]
    pub status: String,
    /// A trigger id for the clicking user's client.
    #[serde(default)]
    pub trigger_id: String,
}

#[derive(Serialize)]
struct ClickBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    selected_option: Option<&'a str>,
}

fn registered(what: &str, id: Option<String>, token: Option<String>) -> Result<Registered> {
    match (id, token) {
        (Some(id), Some(token)) if !id.is_empty() && !token.is_empty() => Ok(Registered {
            id,
            token: Token::new(token),
        }),
        _ => Err(Error::InvalidRequest(format!(
            "the server registered the {what} but its reply has no id or token"
        ))),
    }
}

impl Client {
    /// Registers `command` (through `create_command`): the id and the token its callbacks carry.
    pub async fn register_command(&self, command: &SlashCommand) -> Result<Registered> {
        let (auto_complete, desc, hint) = match &command.autocomplete {
            Some((d, h)) => (Some(true), Some(d.clone()), Some(h.clone())),
            None => (Some(false), None, None),
        };
        let non_empty = |s: &String| (!s.is_empty()).then(|| s.clone());
        let body = types::CreateCommandBody {
            auto_complete,
            auto_complete_desc: desc,
            auto_complete_hint: hint,
            description: non_empty(&command.description),
            display_name: non_empty(&command.display_name),
            icon_url: non_empty(&command.icon_url),
            method: if command.get { "G" } else { "P" }.to_owned(),
            team_id: command.team_id.clone(),
            trigger: command.trigger.clone(),
            url: command.url.clone(),
            username: non_empty(&command.username),
        };
        let created = self.create_command().body(body).send().await?.into_inner();
        registered("command", created.id, created.token)
    }

    /// Registers `hook` (through `create_outgoing_webhook`): the id and the token its callbacks
    /// carry.
    pub async fn register_outgoing_webhook(&self, hook: &OutgoingWebhook) -> Result<Registered> {
        let body = types::CreateOutgoingWebhookBody {
            callback_urls: hook.callback_urls.clone(),
            channel_id: (!hook.channel_id.is_empty()).then(|| hook.channel_id.clone()),
            content_type: match hook.content_type {
                ContentType::Form => "application/x-www-form-urlencoded",
                ContentType::Json => "application/json",
            }
            .to_owned(),
            creator_id: None,
            description: (!hook.description.is_empty()).then(|| hook.description.clone()),
            display_name: hook.display_name.clone(),
            team_id: hook.team_id.clone(),
            trigger_when: Some(match hook.trigger_when {
                TriggerWhen::FirstWordIs => 0,
                TriggerWhen::FirstWordStartsWith => 1,
            }),
            trigger_words: hook.trigger_words.clone(),
        };
        let created = self
            .create_outgoing_webhook()
            .body(body)
            .send()
            .await?
            .into_inner();
        registered("outgoing webhook", created.id, created.token)
    }

    /// Opens `request`'s dialog for the user of its trigger id (`POST /actions/dialogs/open`). A
    /// trigger id is valid for the server's integration timeout (30 s by default) after the
    /// command or click that made it.
    pub async fn open_dialog(&self, request: &OpenDialog) -> Result<()> {
        self.raw(Method::POST, "/actions/dialogs/open")
            .json(request)
            .send()
            .await?;
        Ok(())
    }

    /// Submits a dialog as a user's client does (`POST /actions/dialogs/submit`): the server posts
    /// it to `submit.url` and returns the integration's answer, with its field errors.
    pub async fn submit_dialog(&self, submit: &SubmitDialog) -> Result<DialogResponse> {
        let reply = self
            .raw(Method::POST, "/actions/dialogs/submit")
            .json(submit)
            .send()
            .await?;
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(DialogResponse::default());
        }
        reply.json()
    }

    /// Clicks action `action_id` of post `post_id` as a user's client does
    /// (`POST /posts/{post_id}/actions/{action_id}`), with the chosen value of a menu.
    pub async fn click_action(
        &self,
        post_id: &str,
        action_id: &str,
        selected_option: Option<&str>,
    ) -> Result<ActionClicked> {
        for (name, value) in [("post_id", post_id), ("action_id", action_id)] {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Error::InvalidPathParameter {
                    name: name.to_owned(),
                    reason: "not letters and digits only".to_owned(),
                });
            }
        }
        self.raw(
            Method::POST,
            format!("/posts/{post_id}/actions/{action_id}"),
        )
        .json(&ClickBody { selected_option })
        .send_json()
        .await
    }
}
