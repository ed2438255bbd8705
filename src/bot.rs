//! Bot helpers: typed shortcuts over the generated calls for what every bot does.
//!
//! On [`Client`] (and, with the same names, on the blocking client):
//!
//! | Helper | Call |
//! |---|---|
//! | [`post_message(channel_id, text)`](Client::post_message) | `POST /posts` |
//! | [`post_message_to(team_name, channel_name, text)`](Client::post_message_to) | the channel by name, then `POST /posts` |
//! | [`reply(&post or post_id, text)`](Client::reply) | `POST /posts` into the post's thread |
//! | [`react(post_id, emoji_name)`](Client::react) | `POST /reactions` as the client's user |
//! | [`edit(post_id, text)`](Client::edit) | `PUT /posts/{id}/patch` |
//! | [`ephemeral(user_id, channel_id, text)`](Client::ephemeral) | `POST /posts/ephemeral` |
//! | [`user_by_username`](Client::user_by_username), [`user_by_email`](Client::user_by_email) | `GET /users/username/..`, `GET /users/email/..` |
//! | [`channel_by_name(team_name, channel_name)`](Client::channel_by_name) | `GET /teams/name/../channels/name/..` |
//! | [`my_user_id()`](Client::my_user_id) | the client's own user id (`GET /users/me` once) |
//!
//! Each returns the server's reply as its generated type (`types::Post`, `types::Reaction`, ...),
//! and fails with [`Error`](crate::Error) like every call: an unknown channel, post or user is the server's 404
//! as [`Error::Api`](crate::Error::Api) with its error id. The models' fields that the server always fills have
//! accessors returning the value (`post.id()?`, `post.channel_id()?`, `user.username()?`, ...;
//! [`Error::MissingField`](crate::Error::MissingField) when absent).
//!
//! On the websocket's [`Posted`] event: [`Posted::mentions_me`], [`Posted::is_from_me`],
//! [`Posted::is_for_me`] (a post a bot should answer: not its own, not a system message, and
//! mentioning it or in a direct channel) and [`Posted::reply`]. The event does not know the
//! listener's user: pass it, from [`Client::my_user_id`] read once before listening.
//!
//! ```no_run
//! # async fn run() -> Result<(), matterapi::Error> {
//! use matterapi::ws::Relogin;
//!
//! let client = matterapi::Client::with_token("https://chat.example.com", "a bot token")?;
//! let me = client.my_user_id().await?;
//! client.post_message_to("team-name", "town-square", "Hello, I am up").await?;
//! let replier = client.clone();
//! client
//!     .start_ws(
//!         move |ev| {
//!             let (client, me) = (replier.clone(), me.clone());
//!             async move {
//!                 if let Some(posted) = ev.posted()
//!                     && posted.is_for_me(&me)
//!                 {
//!                     posted.reply(&client, "Hello!").await?;
//!                     client.react(posted.post.id()?, "wave").await?;
//!                 }
//!                 Ok::<_, matterapi::Error>(())
//!             }
//!         },
//!         Relogin::On,
//!     )
//!     .await?;
//! # Ok(()) }
//! ```

use crate::error::Result;
use crate::generated::Client;
use crate::types;
use crate::ws::Posted;

/// The post a [`Client::reply`] answers: a post at hand (its channel and thread are read from
/// it), or a post id (the post is fetched first). Made with `.into()` from `&types::Post`,
/// `&Posted`, `&str` and `&String`.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ReplyTo<'a> {
    /// A post the caller has (from a reply or an event).
    Post(&'a types::Post),
    /// The id of a post.
    PostId(&'a str),
}

impl<'a> From<&'a types::Post> for ReplyTo<'a> {
    fn from(post: &'a types::Post) -> Self {
        ReplyTo::Post(post)
    }
}

impl<'a> From<&'a Posted> for ReplyTo<'a> {
    fn from(posted: &'a Posted) -> Self {
        ReplyTo::Post(&posted.post)
    }
}

impl<'a> From<&'a str> for ReplyTo<'a> {
    fn from(post_id: &'a str) -> Self {
        ReplyTo::PostId(post_id)
    }
}

impl<'a> From<&'a String> for ReplyTo<'a> {
    fn from(post_id: &'a String) -> Self {
        ReplyTo::PostId(post_id)
    }
}

impl Client {
    /// The id of the client's own user: the user of the last [`Client::login`], else fetched once
    /// with `GET /users/me` and kept (as [`Client::me`]). [`Client::set_token`] and
    /// [`Client::logout`] forget it.
    pub async fn my_user_id(&self) -> Result<String> {
        if let Some(me) = self.me() {
            return me.id().map(str::to_owned);
        }
        let me = self.get_user().user_id("me").send().await?.into_inner();
        let id = me.id()?.to_owned();
        if let Ok(mut cached) = self.inner.me.write() {
            *cached = Some(me);
        }
        Ok(id)
    }

    /// Posts `text` in the channel `channel_id` (`POST /posts`); the post made.
    pub async fn post_message(
        &self,
        channel_id: &str,
        text: impl Into<String>,
    ) -> Result<types::Post> {
        let text = text.into();
        Ok(self
            .create_post()
            .body_map(|b| b.channel_id(channel_id).message(text))
            .send()
            .await?
            .into_inner())
    }

    /// Posts `text` in the channel named `channel_name` of the team named `team_name` (the names
    /// in the channel's URL, `/team-name/channels/channel-name`): the channel is looked up
    /// ([`Client::channel_by_name`]), then posted in. An unknown team or channel is the server's
    /// 404 ([`Error::Api`](crate::Error::Api), error id `app.channel.get_by_name.missing.app_error` or a team's).
    pub async fn post_message_to(
        &self,
        team_name: &str,
        channel_name: &str,
        text: impl Into<String>,
    ) -> Result<types::Post> {
        let channel = self.channel_by_name(team_name, channel_name).await?;
        self.post_message(channel.id()?, text).await
    }

    /// The channel named `channel_name` in the team named `team_name`
    /// (`GET /teams/name/{team_name}/channels/name/{channel_name}`).
    pub async fn channel_by_name(
        &self,
        team_name: &str,
        channel_name: &str,
    ) -> Result<types::Channel> {
        Ok(self
            .get_channel_by_name_for_team_name()
            .team_name(team_name)
            .channel_name(channel_name)
            .send()
            .await?
            .into_inner())
    }

    /// Replies `text` to a post, in its thread and channel: the reply's `root_id` is the post's
    /// thread ([`types::Post::thread_id`]: its `root_id` when the post is itself a reply, else
    /// its id; Mattermost threads are one level deep). `to` is a post (`&post`, `&posted`) or a
    /// post id (then fetched first with `GET /posts/{id}`).
    pub async fn reply<'a>(
        &self,
        to: impl Into<ReplyTo<'a>>,
        text: impl Into<String>,
    ) -> Result<types::Post> {
        let text = text.into();
        let fetched;
        let post = match to.into() {
            ReplyTo::Post(post) => post,
            ReplyTo::PostId(id) => {
                fetched = self.get_post().post_id(id).send().await?.into_inner();
                &fetched
            }
        };
        let (channel_id, root_id) = (post.channel_id()?, post.thread_id()?);
        Ok(self
            .create_post()
            .body_map(|b| {
                b.channel_id(channel_id)
                    .root_id(Some(root_id.to_owned()))
                    .message(text)
            })
            .send()
            .await?
            .into_inner())
    }

    /// Reacts to the post `post_id` with the emoji `emoji_name` (without colons: `thumbsup`,
    /// `white_check_mark`, a custom emoji's name) as the client's own user
    /// ([`Client::my_user_id`]); the reaction made. Reacting twice with the same emoji is not an
    /// error.
    pub async fn react(&self, post_id: &str, emoji_name: &str) -> Result<types::Reaction> {
        let me = self.my_user_id().await?;
        Ok(self
            .save_reaction()
            .body_map(|b| {
                b.user_id(Some(me))
                    .post_id(Some(post_id.to_owned()))
                    .emoji_name(Some(emoji_name.to_owned()))
            })
            .send()
            .await?
            .into_inner())
    }

    /// Replaces the text of the post `post_id` with `text` (`PUT /posts/{id}/patch`: its other
    /// fields stay); the post as edited.
    pub async fn edit(&self, post_id: &str, text: impl Into<String>) -> Result<types::Post> {
        let text = text.into();
        Ok(self
            .patch_post()
            .post_id(post_id)
            .body_map(|b| b.message(Some(text)))
            .send()
            .await?
            .into_inner())
    }

    /// Shows `text` to the user `user_id` alone, in the channel `channel_id`
    /// (`POST /posts/ephemeral`): nothing is stored, the user sees it until they reload. The
    /// server delivers it over the user's websocket (the event `ephemeral_message`) and answers
    /// with the post. Needs the `create_post_ephemeral` permission (system admins have it).
    pub async fn ephemeral(
        &self,
        user_id: &str,
        channel_id: &str,
        text: impl Into<String>,
    ) -> Result<types::Post> {
        let post = types::CreatePostEphemeralBodyPost::builder()
            .channel_id(channel_id)
            .message(text.into());
        Ok(self
            .create_post_ephemeral()
            .body_map(|b| b.user_id(user_id).post(post))
            .send()
            .await?
            .into_inner())
    }

    /// The user named `username` (without `@`; `GET /users/username/{username}`). An unknown
    /// name is the server's 404 ([`Error::Api`](crate::Error::Api)).
    pub async fn user_by_username(&self, username: &str) -> Result<types::User> {
        let username = username.strip_prefix('@').unwrap_or(username);
        Ok(self
            .get_user_by_username()
            .username(username)
            .send()
            .await?
            .into_inner())
    }

    /// The user with the email address `email` (`GET /users/email/{email}`). The server answers
    /// only callers allowed to see email addresses (`ShowEmailAddress`, or the
    /// `sysconsole_read_user_management_users` permission); an unknown address is its 404.
    pub async fn user_by_email(&self, email: &str) -> Result<types::User> {
        Ok(self
            .get_user_by_email()
            .email(email)
            .send()
            .await?
            .into_inner())
    }
}

impl Posted {
    /// Whether the post mentions the user `me` (its id): the server lists in the event's
    /// `mentions` the users a post mentions (`@name`, and `@channel`/`@all`/`@here` where they
    /// notify), and, for a post in a direct channel, the other member. A post of `me` may
    /// mention `me` too: [`Posted::is_for_me`] leaves those out.
    pub fn mentions_me(&self, me: &str) -> bool {
        !me.is_empty() && self.mentions.iter().any(|m| m == me)
    }

    /// Whether the user `me` (its id) wrote the post. A bot that answers posts checks this
    /// first, so that it never answers itself ([`Posted::is_for_me`] does).
    pub fn is_from_me(&self, me: &str) -> bool {
        !me.is_empty() && self.post.user_id.as_deref() == Some(me)
    }

    /// Whether the post is in a direct channel (`channel_type` `D`).
    pub fn is_direct(&self) -> bool {
        self.channel_type == "D"
    }

    /// Whether the post is a system message (a `type` starting with `system_`: joins, leaves,
    /// header changes, ...), not something a user wrote.
    pub fn is_system(&self) -> bool {
        self.post
            .type_
            .as_deref()
            .is_some_and(|t| t.starts_with("system_"))
    }

    /// Whether a bot whose user id is `me` should answer the post: the post is not its own
    /// ([`Posted::is_from_me`]), not a system message, and it mentions the bot
    /// ([`Posted::mentions_me`]) or was written to it in a direct channel.
    pub fn is_for_me(&self, me: &str) -> bool {
        !me.is_empty()
            && !self.is_from_me(me)
            && !self.is_system()
            && (self.mentions_me(me) || self.is_direct())
    }

    /// Replies `text` to the post, in its thread ([`Client::reply`]); the reply made. With the
    /// blocking client, call `client.reply(&posted.post, text)`.
    pub async fn reply(&self, client: &Client, text: impl Into<String>) -> Result<types::Post> {
        client.reply(&self.post, text).await
    }
}
