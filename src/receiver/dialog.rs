//! Interactive dialogs: the form an integration opens ([`Dialog`], through `Client::open_dialog`
//! with a trigger id), what the server posts when the user submits it ([`DialogSubmission`]), and
//! the answer ([`DialogResponse`], which may reject fields with messages).
//!
//! The server sends JSON and no token. The dialog's `state` travels through the user's client and
//! comes back unchanged, but the client can read and forge it: never trust it as a secret by
//! itself (see the [module docs](crate::receiver)).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::receiver::attachment::{ActionOption, null_as_default};

/// A dialog to open.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Dialog {
    /// An id of yours that the submission carries back.
    #[serde(default)]
    pub callback_id: String,
    /// The title (at most 24 characters).
    #[serde(default)]
    pub title: String,
    /// Text above the elements (Markdown).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub introduction_text: String,
    /// An icon URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon_url: String,
    /// The fields.
    #[serde(default, deserialize_with = "null_as_default")]
    pub elements: Vec<DialogElement>,
    /// The submit button's label.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub submit_label: String,
    /// Whether cancelling it is posted too (with `cancelled: true`).
    #[serde(default)]
    pub notify_on_cancel: bool,
    /// Text of yours that the submission carries back (visible to the user's client).
    #[serde(default)]
    pub state: String,
}

impl Dialog {
    /// A dialog `title` whose submission carries `callback_id`.
    pub fn new(callback_id: impl Into<String>, title: impl Into<String>) -> Self {
        Dialog {
            callback_id: callback_id.into(),
            title: title.into(),
            ..Default::default()
        }
    }

    /// With an element more.
    pub fn element(mut self, element: DialogElement) -> Self {
        self.elements.push(element);
        self
    }

    /// With `state`, carried back by the submission.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = state.into();
        self
    }

    /// With an introduction text.
    pub fn introduction(mut self, text: impl Into<String>) -> Self {
        self.introduction_text = text.into();
        self
    }

    /// With a submit label.
    pub fn submit_label(mut self, label: impl Into<String>) -> Self {
        self.submit_label = label.into();
        self
    }
}

/// The kind of a dialog element.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElementType {
    /// One line of text ([`DialogElement::subtype`] refines it).
    #[default]
    Text,
    /// Several lines of text.
    Textarea,
    /// A menu.
    Select,
    /// A checkbox.
    Bool,
    /// Radio buttons.
    Radio,
    /// A date.
    Date,
    /// A date and time.
    Datetime,
}

/// One field of a dialog.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DialogElement {
    /// The label.
    #[serde(default)]
    pub display_name: String,
    /// The key of its value in the submission.
    #[serde(default)]
    pub name: String,
    /// The kind.
    #[serde(rename = "type", default)]
    pub kind: ElementType,
    /// For text: `text`, `email`, `number`, `password`, `tel` or `url`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subtype: String,
    /// The value at first.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default: String,
    /// A placeholder.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub placeholder: String,
    /// Help below the field.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub help_text: String,
    /// Whether it may be left empty.
    #[serde(default)]
    pub optional: bool,
    /// The least length of a text.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_length: u32,
    /// The greatest length of a text.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_length: u32,
    /// A menu filled by the server: `users` or `channels`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data_source: String,
    /// A menu's or radio's choices.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub options: Vec<ActionOption>,
    /// Whether a menu takes several choices.
    #[serde(
        default,
        rename = "multiselect",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub multi_select: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl DialogElement {
    fn of(kind: ElementType, name: impl Into<String>, display_name: impl Into<String>) -> Self {
        DialogElement {
            display_name: display_name.into(),
            name: name.into(),
            kind,
            ..Default::default()
        }
    }

    /// A text field whose value the submission names `name`, labelled `display_name`.
    pub fn text(name: impl Into<String>, display_name: impl Into<String>) -> Self {
        DialogElement::of(ElementType::Text, name, display_name)
    }

    /// A multi-line text field.
    pub fn textarea(name: impl Into<String>, display_name: impl Into<String>) -> Self {
        DialogElement::of(ElementType::Textarea, name, display_name)
    }

    /// A menu of `options`.
    pub fn select(
        name: impl Into<String>,
        display_name: impl Into<String>,
        options: Vec<ActionOption>,
    ) -> Self {
        DialogElement {
            options,
            ..DialogElement::of(ElementType::Select, name, display_name)
        }
    }

    /// A checkbox.
    pub fn checkbox(name: impl Into<String>, display_name: impl Into<String>) -> Self {
        DialogElement::of(ElementType::Bool, name, display_name)
    }

    /// May be left empty.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// With help text.
    pub fn help(mut self, text: impl Into<String>) -> Self {
        self.help_text = text.into();
        self
    }
}

/// A request to open `dialog` for the user of `trigger_id` (from a command or a click, valid for
/// the server's integration timeout); its submission goes to `url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpenDialog {
    /// The trigger id of the command or click.
    pub trigger_id: String,
    /// Where the server posts the submission.
    pub url: String,
    /// The dialog.
    pub dialog: Dialog,
}

impl OpenDialog {
    /// Opens `dialog` for `trigger_id`; its submission goes to `url`.
    pub fn new(trigger_id: impl Into<String>, url: impl Into<String>, dialog: Dialog) -> Self {
        OpenDialog {
            trigger_id: trigger_id.into(),
            url: url.into(),
            dialog,
        }
    }
}

/// A dialog's submission (or its cancelling), as the server posts it.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DialogSubmission {
    /// `dialog_submission`, or `refresh` when a field asked for the form again.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The dialog's callback id.
    #[serde(default)]
    pub callback_id: String,
    /// The dialog's state, as the user's client sent it back.
    #[serde(default)]
    pub state: String,
    /// The user who submitted it.
    #[serde(default)]
    pub user_id: String,
    /// The channel it was opened in.
    #[serde(default)]
    pub channel_id: String,
    /// That channel's team.
    #[serde(default)]
    pub team_id: String,
    /// The values, by element name (strings, booleans, lists of strings).
    #[serde(default, deserialize_with = "null_as_default")]
    pub submission: Map<String, Value>,
    /// Whether the user cancelled it (only with `notify_on_cancel`).
    #[serde(default)]
    pub cancelled: bool,
}

impl DialogSubmission {
    /// The value of element `name`, when it is text.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.submission.get(name).and_then(Value::as_str)
    }

    /// The value of element `name`, when it is a checkbox's.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.submission.get(name).and_then(Value::as_bool)
    }
}

impl std::fmt::Debug for DialogSubmission {
    /// The submission's keys only and no state: a field may be a password, the state a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DialogSubmission")
            .field("kind", &self.kind)
            .field("callback_id", &self.callback_id)
            .field("state", &crate::redact::HIDDEN)
            .field("user_id", &self.user_id)
            .field("channel_id", &self.channel_id)
            .field("team_id", &self.team_id)
            .field(
                "submission_keys",
                &self.submission.keys().collect::<Vec<_>>(),
            )
            .field("cancelled", &self.cancelled)
            .finish()
    }
}

/// What a dialog's submission is answered with. `Default` (an empty object) closes the dialog;
/// errors keep it open and show their messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DialogResponse {
    /// A message for the whole dialog.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// Messages by element name.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub errors: BTreeMap<String, String>,
    /// `ok`, `form` (show [`Self::form`] next) or `navigate`; empty is `ok`.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The next form, with `type` `form`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Dialog>,
}

impl DialogResponse {
    /// Accepted: the dialog closes.
    pub fn ok() -> Self {
        DialogResponse::default()
    }

    /// Rejected with `message` for the whole dialog.
    pub fn error(message: impl Into<String>) -> Self {
        DialogResponse {
            error: message.into(),
            ..Default::default()
        }
    }

    /// Rejected with `message` at element `name` (call again for more fields).
    pub fn field_error(mut self, name: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.insert(name.into(), message.into());
        self
    }

    /// Answered with another form to fill in.
    pub fn form(dialog: Dialog) -> Self {
        DialogResponse {
            kind: "form".to_owned(),
            form: Some(dialog),
            ..Default::default()
        }
    }

    /// Whether it rejects the submission.
    pub fn is_error(&self) -> bool {
        !self.error.is_empty() || !self.errors.is_empty()
    }
}

/// A dialog's submission as a client sends it to `POST /actions/dialogs/submit` (what a user's
/// client does; tests and tools use it through `Client::submit_dialog`).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubmitDialog {
    /// The dialog's submission URL.
    pub url: String,
    /// The dialog's callback id.
    #[serde(default)]
    pub callback_id: String,
    /// The dialog's state.
    #[serde(default)]
    pub state: String,
    /// The channel it was opened in.
    pub channel_id: String,
    /// That channel's team.
    #[serde(default)]
    pub team_id: String,
    /// The values, by element name.
    #[serde(default)]
    pub submission: Map<String, Value>,
    /// Whether it is a cancelling.
    #[serde(default)]
    pub cancelled: bool,
}

impl SubmitDialog {
    /// A submission to `url` of a dialog opened in `channel_id` of `team_id`.
    pub fn new(
        url: impl Into<String>,
        channel_id: impl Into<String>,
        team_id: impl Into<String>,
    ) -> Self {
        SubmitDialog {
            url: url.into(),
            channel_id: channel_id.into(),
            team_id: team_id.into(),
            ..Default::default()
        }
    }

    /// With the dialog's callback id and state.
    pub fn dialog(mut self, callback_id: impl Into<String>, state: impl Into<String>) -> Self {
        self.callback_id = callback_id.into();
        self.state = state.into();
        self
    }

    /// With element `name` set to `value`.
    pub fn value(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.submission.insert(name.into(), value.into());
        self
    }
}

impl std::fmt::Debug for SubmitDialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubmitDialog")
            .field("url", &self.url)
            .field("callback_id", &self.callback_id)
            .field("state", &crate::redact::HIDDEN)
            .field("channel_id", &self.channel_id)
            .field("team_id", &self.team_id)
            .field(
                "submission_keys",
                &self.submission.keys().collect::<Vec<_>>(),
            )
            .field("cancelled", &self.cancelled)
            .finish()
    }
}
