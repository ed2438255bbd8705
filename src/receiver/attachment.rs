//! Message attachments with buttons and menus: what a post's `props.attachments`, a command's reply
//! and an outgoing webhook's reply carry. An action's `integration.url` is where the server posts
//! the click ([`ActionRequest`](crate::receiver::action::ActionRequest)).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One attachment of a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attachment {
    /// Plain text for clients that cannot show the attachment.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fallback: String,
    /// The bar's colour: `good`, `warning`, `danger` or a hex colour such as `#2389d7`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub color: String,
    /// Text above the attachment.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pretext: String,
    /// The author's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author_name: String,
    /// A link on the author's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author_link: String,
    /// The author's icon URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author_icon: String,
    /// The title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// A link on the title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title_link: String,
    /// The body (Markdown).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// A table of fields.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub fields: Vec<Field>,
    /// An image shown below the body.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    /// A thumbnail shown at the side.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thumb_url: String,
    /// A footer.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub footer: String,
    /// The footer's icon URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub footer_icon: String,
    /// Buttons and menus.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub actions: Vec<Action>,
}

impl Attachment {
    /// An attachment with `text` as its body.
    pub fn new(text: impl Into<String>) -> Self {
        Attachment {
            text: text.into(),
            ..Default::default()
        }
    }

    /// With a title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// With a colour (`good`, `warning`, `danger`, `#rrggbb`).
    pub fn color(mut self, color: impl Into<String>) -> Self {
        self.color = color.into();
        self
    }

    /// With a field more.
    pub fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    /// With an action more (a button or a menu).
    pub fn action(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }
}

/// One field of an attachment's table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Field {
    /// The field's title.
    #[serde(default)]
    pub title: String,
    /// Its value (the server turns any JSON value into text).
    #[serde(default)]
    pub value: Value,
    /// Whether it is short enough to stand beside another.
    #[serde(default)]
    pub short: bool,
}

impl Field {
    /// A field `title`: `value`, short or not.
    pub fn new(title: impl Into<String>, value: impl Into<String>, short: bool) -> Self {
        Field {
            title: title.into(),
            value: Value::String(value.into()),
            short,
        }
    }
}

/// The kind of an action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionType {
    /// A button.
    #[default]
    Button,
    /// A menu.
    Select,
}

/// A button or a menu of an attachment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Action {
    /// The action's id: letters and digits only (it is part of the click's path
    /// `/posts/{post_id}/actions/{action_id}`); the server makes one when it is empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Button or menu.
    #[serde(rename = "type", default)]
    pub kind: ActionType,
    /// The button's label, or the menu's placeholder.
    #[serde(default)]
    pub name: String,
    /// Whether it is greyed out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// The button's style: `default`, `primary`, `success`, `good`, `warning`, `danger` or a hex
    /// colour.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub style: String,
    /// A menu filled by the server: `users` or `channels` (empty: [`Action::options`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data_source: String,
    /// A menu's choices.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub options: Vec<ActionOption>,
    /// The value a menu shows chosen at first.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_option: String,
    /// Where the server posts a click. The server strips it from posts it sends to clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<Integration>,
}

impl Action {
    /// A button with `id` (letters and digits) and label `name` whose click the server posts to
    /// `url`.
    pub fn button(id: impl Into<String>, name: impl Into<String>, url: impl Into<String>) -> Self {
        Action {
            id: id.into(),
            kind: ActionType::Button,
            name: name.into(),
            integration: Some(Integration::new(url)),
            ..Default::default()
        }
    }

    /// A menu with `id`, placeholder `name` and `options`, whose choice the server posts to `url`
    /// (as the context's `selected_option`).
    pub fn select(
        id: impl Into<String>,
        name: impl Into<String>,
        url: impl Into<String>,
        options: Vec<ActionOption>,
    ) -> Self {
        Action {
            id: id.into(),
            kind: ActionType::Select,
            name: name.into(),
            options,
            integration: Some(Integration::new(url)),
            ..Default::default()
        }
    }

    /// With a style (`primary`, `danger`, ...).
    pub fn style(mut self, style: impl Into<String>) -> Self {
        self.style = style.into();
        self
    }

    /// With `key`: `value` in the context the server sends back with the click (the server keeps
    /// the context: clients never see it, see the [module docs](crate::receiver) on secrets).
    pub fn context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let integration = self.integration.get_or_insert_with(Default::default);
        integration.context.insert(key.into(), value.into());
        self
    }
}

/// One choice of a menu.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOption {
    /// What the user sees.
    pub text: String,
    /// What the click sends.
    pub value: String,
}

impl ActionOption {
    /// A choice showing `text` that sends `value`.
    pub fn new(text: impl Into<String>, value: impl Into<String>) -> Self {
        ActionOption {
            text: text.into(),
            value: value.into(),
        }
    }
}

/// Where an action's click goes, and the context it carries.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Integration {
    /// The URL the server posts the click to.
    #[serde(default)]
    pub url: String,
    /// Data of yours the server sends back with the click.
    #[serde(
        default,
        skip_serializing_if = "Map::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub context: Map<String, Value>,
}

impl Integration {
    /// Clicks go to `url`, with an empty context.
    pub fn new(url: impl Into<String>) -> Self {
        Integration {
            url: url.into(),
            context: Map::new(),
        }
    }
}

impl std::fmt::Debug for Integration {
    /// The context's keys only: its values may be secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integration")
            .field("url", &self.url)
            .field("context_keys", &self.context.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The `props` of a post that shows `attachments` (for `CreatePostBody::props` or an update): the
/// one key `attachments`.
pub fn attachments_props(attachments: &[Attachment]) -> Map<String, Value> {
    let mut props = Map::new();
    let list = attachments
        .iter()
        .map(|a| serde_json::to_value(a).unwrap_or(Value::Null))
        .collect();
    props.insert("attachments".to_owned(), Value::Array(list));
    props
}

/// A JSON `null` read as the type's default (the server writes empty lists as `null`).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
