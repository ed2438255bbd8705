//! Accessors for the fields the server always fills: `post.id()?`, `post.channel_id()?`,
//! `user.username()?`, `channel.team_id()?`, ... The generated models keep every field an
//! `Option` (the spec marks none required, and a partial model is a valid request body); a reply
//! of the server has these, so an accessor returns the value itself, and
//! [`Error::MissingField`] naming the type and field when it is absent.
//!
//! An accessor has the name of its field, so `post.id` is the `Option<String>` and `post.id()`
//! the `Result<&str>`. An id that is present but empty counts as missing (the server never sends
//! one); other texts may be empty (a post with only files has an empty `message`, a direct
//! channel an empty `team_id`).
//!
//! ```
//! # fn main() -> matterapi::Result<()> {
//! let post: matterapi::types::Post =
//!     serde_json::from_str(r#"{"id":"p1","channel_id":"c1","user_id":"u1","message":"hi"}"#)
//!         .expect("a post");
//! assert_eq!(post.channel_id()?, "c1");
//! assert!(matches!(
//!     post.create_at(),
//!     Err(matterapi::Error::MissingField { type_name: "Post", field: "create_at" })
//! ));
//! # Ok(()) }
//! ```

use crate::error::{Error, Result};
use crate::types;

fn id<'a>(
    value: &'a Option<String>,
    type_name: &'static str,
    field: &'static str,
) -> Result<&'a str> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or(Error::MissingField { type_name, field })
}

fn text<'a>(
    value: &'a Option<String>,
    type_name: &'static str,
    field: &'static str,
) -> Result<&'a str> {
    value
        .as_deref()
        .ok_or(Error::MissingField { type_name, field })
}

fn time(value: Option<i64>, type_name: &'static str, field: &'static str) -> Result<i64> {
    value.ok_or(Error::MissingField { type_name, field })
}

/// One accessor per listed field: `id` (a non-empty text), `text` (a text, maybe empty) or `time`
/// (milliseconds since the Unix epoch).
macro_rules! accessors {
    ($type_name:ident { $($kind:ident $method:ident ($field:ident, $wire:literal): $doc:literal;)* }) => {
        impl types::$type_name {
            $(
                accessors!(@one $kind $method, $field, $wire, $doc, stringify!($type_name));
            )*
        }
    };
    (@one id $method:ident, $field:ident, $wire:literal, $doc:literal, $type_name:expr) => {
        #[doc = concat!($doc, " (`", $wire, "`, never empty); [`Error::MissingField`] when the reply lacks it.")]
        pub fn $method(&self) -> Result<&str> {
            id(&self.$field, $type_name, $wire)
        }
    };
    (@one text $method:ident, $field:ident, $wire:literal, $doc:literal, $type_name:expr) => {
        #[doc = concat!($doc, " (`", $wire, "`); [`Error::MissingField`] when the reply lacks it.")]
        pub fn $method(&self) -> Result<&str> {
            text(&self.$field, $type_name, $wire)
        }
    };
    (@one time $method:ident, $field:ident, $wire:literal, $doc:literal, $type_name:expr) => {
        #[doc = concat!($doc, " (`", $wire, "`, milliseconds since the Unix epoch); [`Error::MissingField`] when the reply lacks it.")]
        pub fn $method(&self) -> Result<i64> {
            time(self.$field, $type_name, $wire)
        }
    };
}

accessors!(Post {
    id id(id, "id"): "The post's id";
    id channel_id(channel_id, "channel_id"): "The channel it was posted in";
    id user_id(user_id, "user_id"): "Its author";
    text message(message, "message"): "Its text (empty for a post with only files)";
    time create_at(create_at, "create_at"): "When it was posted";
    time update_at(update_at, "update_at"): "When it last changed";
});

impl types::Post {
    /// Whether the post is a reply in a thread (its `root_id` names another post).
    pub fn is_reply(&self) -> bool {
        self.root_id.as_deref().is_some_and(|r| !r.is_empty())
    }

    /// The id of the thread the post belongs to: its `root_id` when it is a reply, else its own
    /// id (a post is the root of its thread). A reply to the post goes there: Mattermost threads
    /// are one level deep. [`Error::MissingField`] when the post has neither.
    pub fn thread_id(&self) -> Result<&str> {
        match self.root_id.as_deref() {
            Some(root) if !root.is_empty() => Ok(root),
            _ => self.id(),
        }
    }
}

accessors!(User {
    id id(id, "id"): "The user's id";
    text username(username, "username"): "The user's name, without `@`";
    time create_at(create_at, "create_at"): "When the account was made";
});

accessors!(Channel {
    id id(id, "id"): "The channel's id";
    text name(name, "name"): "Its name, as in URLs (`town-square`)";
    text display_name(display_name, "display_name"): "The name shown";
    text team_id(team_id, "team_id"): "Its team (empty for direct and group channels)";
    text channel_type(type_, "type"): "Its type: `O` open, `P` private, `D` direct, `G` group";
    time create_at(create_at, "create_at"): "When it was made";
});

accessors!(Team {
    id id(id, "id"): "The team's id";
    text name(name, "name"): "Its name, as in URLs";
    text display_name(display_name, "display_name"): "The name shown";
    time create_at(create_at, "create_at"): "When it was made";
});

accessors!(ChannelMember {
    id channel_id(channel_id, "channel_id"): "The channel";
    id user_id(user_id, "user_id"): "The member";
});

accessors!(Reaction {
    id user_id(user_id, "user_id"): "Who reacted";
    id post_id(post_id, "post_id"): "The post reacted to";
    text emoji_name(emoji_name, "emoji_name"): "The emoji's name, without colons";
    time create_at(create_at, "create_at"): "When";
});

accessors!(FileInfo {
    id id(id, "id"): "The file's id";
    text name(name, "name"): "Its name as uploaded";
});
