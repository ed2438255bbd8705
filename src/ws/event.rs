//! The listener's items and the websocket frames as typed values: [`WsItem`] (an event, or what
//! happened to the connection, with its [`DisconnectReason`]), [`Event`] (with a typed
//! [`EventKind`] payload, its `seq`, its [`Broadcast`] and the raw frame) and [`Reply`] (the answer
//! to an action).
//!
//! Some payload fields are JSON strings holding JSON (`posted.data.post`, `posted.data.mentions`,
//! `reaction_added.data.reaction`, ...): they are decoded here (a field that already is an object is
//! accepted too). Event types this crate does not know, plugin events (`custom_<plugin>_<name>`)
//! included, arrive as [`EventKind::Unknown`], never as an error.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::error::{BadFrameKind, ConnectionError, WsError};
use crate::types;

/// One item of an [`EventStream`](crate::ws::EventStream): an event, or what happened to the
/// connection.
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // events are the common case: no allocation for them
pub enum WsItem {
    /// A connection is up: a new one (after its `hello`) or a resumed one (`resumed`: the server
    /// replays what it sent meanwhile). When events may still have been missed, a
    /// [`WsItem::Resync`] follows at once: a new connection after an earlier one, a resume with
    /// another token than the last connection's (the server sends nothing, and numbers nothing,
    /// for a connection whose session is revoked), items dropped past the buffer.
    Connected {
        /// The connection's id.
        connection_id: String,
        /// Whether the previous connection was resumed.
        resumed: bool,
    },
    /// Events may have been lost: the server started a new connection instead of resuming the
    /// previous one (it was forgotten, or too far behind), the connection resumed with a new token
    /// after the old session was revoked, or items the server cannot replay were dropped while the
    /// consumer was behind. Refetch what matters over REST.
    Resync,
    /// The connection was lost; the next attempt comes after `retry_in`.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
        /// The wait before the next attempt.
        retry_in: Duration,
    },
    /// An event.
    Event(Event),
    /// A frame that could not be understood (the connection goes on), or, when
    /// [`WsError::is_terminal`], the error that ended the listener (the stream ends after it).
    Error(WsError),
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server closed the connection.
    ClosedByServer {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// The connection broke (a read or write error, or an end without a close frame).
    Network(ConnectionError),
    /// No reply to the `ping` action in time: the socket was dead (closed with code 4000).
    PingTimeout,
    /// An event's `seq` skipped numbers: closed (code 4001) to resume from the first one missed.
    SequenceGap {
        /// The `seq` expected.
        expected: i64,
        /// The `seq` received.
        received: i64,
    },
    /// The session was revoked or expired, or the token refused; the listener logged in again.
    SessionRenewed,
    /// The client's token changed (a relogin after a REST call's 401,
    /// [`Client::set_token`](crate::Client::set_token)): the listener reconnects with the new one
    /// at once, and says [`WsItem::Resync`] once connected (events sent while the old session was
    /// invalid are lost without a gap in `seq`).
    TokenChanged,
    /// The server sent a number the listener cannot go on from (an event or `hello` `seq` at the
    /// end of its range): a new connection is started.
    BadNumbers(String),
    /// The consumer fell behind by more than the buffer: the events past it were left with the
    /// server, and the listener resumed from the first of them once the consumer caught up.
    Overflow,
    /// A connection attempt failed.
    ConnectFailed(ConnectionError),
    /// [`WsHandle::disconnect`](crate::ws::WsHandle::disconnect) was called.
    Requested,
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DisconnectReason::ClosedByServer { code, reason } if reason.is_empty() => {
                write!(f, "closed by the server (code {code})")
            }
            DisconnectReason::ClosedByServer { code, reason } => {
                write!(f, "closed by the server (code {code}: {reason})")
            }
            DisconnectReason::Network(e) => write!(f, "connection lost: {}", e.chain()),
            DisconnectReason::PingTimeout => f.write_str("no reply to the ping action"),
            DisconnectReason::SequenceGap { expected, received } => {
                write!(f, "sequence gap (expected {expected}, received {received})")
            }
            DisconnectReason::SessionRenewed => f.write_str("session revoked; logged in again"),
            DisconnectReason::TokenChanged => f.write_str("the client's token changed"),
            DisconnectReason::BadNumbers(e) => {
                write!(f, "cannot go on from the server's numbers: {e}")
            }
            DisconnectReason::Overflow => f.write_str("resuming after the consumer fell behind"),
            DisconnectReason::ConnectFailed(e) => {
                write!(f, "connection attempt failed: {}", e.chain())
            }
            DisconnectReason::Requested => f.write_str("disconnect requested"),
        }
    }
}

/// Whom the server sent an event to (`broadcast` of every event).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Broadcast {
    /// Users the event was not sent to.
    pub omit_users: Option<HashMap<String, bool>>,
    /// The user the event was sent to, when it was sent to one user.
    pub user_id: String,
    /// The channel the event concerns, when it was sent to a channel's members.
    pub channel_id: String,
    /// The team the event concerns, when it was sent to a team's members.
    pub team_id: String,
    /// The connection the event was sent to, when it was sent to one connection.
    pub connection_id: String,
    /// A connection the event was not sent to.
    pub omit_connection_id: String,
}

/// One event from the server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Event {
    /// The event's number on its connection (0 for `hello`, then +1 per event).
    pub seq: Option<i64>,
    /// Whom it was sent to.
    pub broadcast: Broadcast,
    /// The typed payload.
    pub kind: EventKind,
    raw: Utf8Bytes,
}

impl Event {
    /// The event type, e.g. `posted` (also for [`EventKind::Unknown`]).
    pub fn event_type(&self) -> &str {
        self.kind.event_type()
    }

    /// The frame as the server sent it.
    pub fn raw(&self) -> &str {
        self.raw.as_str()
    }

    /// The frame's `data`, as untyped JSON (parsed again from [`Event::raw`]).
    pub fn data(&self) -> serde_json::Value {
        #[derive(Deserialize)]
        struct Data {
            #[serde(default)]
            data: serde_json::Value,
        }
        serde_json::from_str::<Data>(self.raw())
            .map(|d| d.data)
            .unwrap_or(serde_json::Value::Null)
    }

    /// The payload of a `posted` event (a new post), else `None`: the event a bot answers
    /// (`matterapi::bot` adds [`Posted::is_for_me`] and [`Posted::reply`]).
    pub fn posted(&self) -> Option<&Posted> {
        match &self.kind {
            EventKind::Posted(p) => Some(p),
            _ => None,
        }
    }

    /// The channel the event concerns: the payload's channel when it names one, else the
    /// broadcast's.
    pub fn channel_id(&self) -> Option<&str> {
        let from_kind = match &self.kind {
            EventKind::Posted(p) => p.post.channel_id.as_deref(),
            EventKind::PostEdited(p) => p.post.channel_id.as_deref(),
            EventKind::PostDeleted(p) => p.post.channel_id.as_deref(),
            EventKind::ChannelCreated(c) => Some(c.channel_id.as_str()),
            EventKind::ChannelDeleted(c) => Some(c.channel_id.as_str()),
            EventKind::ChannelViewed(c) => Some(c.channel_id.as_str()),
            EventKind::ChannelUpdated(c) => c.channel.id.as_deref().or(Some(&c.channel_id)),
            EventKind::ThreadReadChanged(t) => t.channel_id.as_deref(),
            EventKind::PostAcknowledgementAdded(a) | EventKind::PostAcknowledgementRemoved(a) => {
                a.acknowledgement.channel_id.as_deref()
            }
            EventKind::PostRevealed(p) => p.post.channel_id.as_deref(),
            EventKind::PersistentNotificationTriggered(p) => p.post.channel_id.as_deref(),
            EventKind::ChannelBookmarkCreated(b) | EventKind::ChannelBookmarkDeleted(b) => {
                b.bookmark.channel_id.as_deref()
            }
            EventKind::DraftCreated(d) | EventKind::DraftDeleted(d) => {
                d.draft.channel_id.as_deref()
            }
            EventKind::ScheduledPostCreated(p)
            | EventKind::ScheduledPostUpdated(p)
            | EventKind::ScheduledPostDeleted(p) => p.scheduled_post.channel_id.as_deref(),
            _ => None,
        };
        from_kind
            .filter(|c| !c.is_empty())
            .or_else(|| Some(self.broadcast.channel_id.as_str()).filter(|c| !c.is_empty()))
    }
}

/// The typed payload of an [`Event`], by event type.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EventKind {
    /// `hello`: the first event of a new connection.
    Hello(Hello),
    /// `posted`: a new post.
    Posted(Box<Posted>),
    /// `post_edited`.
    PostEdited(Box<PostEdited>),
    /// `post_deleted`.
    PostDeleted(Box<PostDeleted>),
    /// `reaction_added`.
    ReactionAdded(Box<ReactionChanged>),
    /// `reaction_removed`.
    ReactionRemoved(Box<ReactionChanged>),
    /// `typing`: someone is typing in the broadcast's channel.
    Typing(Typing),
    /// `status_change`: a user's status changed.
    StatusChange(StatusChange),
    /// `channel_created`.
    ChannelCreated(ChannelRef),
    /// `channel_updated`.
    ChannelUpdated(Box<ChannelUpdated>),
    /// `channel_converted`: a public channel became private.
    ChannelConverted(ChannelRef),
    /// `channel_deleted` (archived).
    ChannelDeleted(ChannelDeleted),
    /// `channel_restored` (unarchived).
    ChannelRestored(ChannelRef),
    /// `channel_viewed`: the user viewed a channel. Older servers sent it; Mattermost 11 defines
    /// the name but never sends it (a view comes as `multiple_channels_viewed`).
    ChannelViewed(ChannelRef),
    /// `multiple_channels_viewed`.
    MultipleChannelsViewed(MultipleChannelsViewed),
    /// `channel_member_updated`.
    ChannelMemberUpdated(Box<ChannelMemberUpdated>),
    /// `user_added`: a user joined the broadcast's channel.
    UserAdded(UserAdded),
    /// `user_removed`: a user left a channel.
    UserRemoved(UserRemoved),
    /// `user_updated`.
    UserUpdated(Box<UserUpdated>),
    /// `user_role_updated`.
    UserRoleUpdated(UserRoleUpdated),
    /// `new_user`: an account was created.
    NewUser(UserRef),
    /// `direct_added`: a direct channel was created.
    DirectAdded(DirectAdded),
    /// `group_added`: a group message channel was created.
    GroupAdded(GroupAdded),
    /// `added_to_team`.
    AddedToTeam(TeamMembership),
    /// `leave_team`.
    LeaveTeam(TeamMembership),
    /// `update_team`.
    UpdateTeam(Box<TeamUpdated>),
    /// `preferences_changed`.
    PreferencesChanged(Preferences),
    /// `preferences_deleted`.
    PreferencesDeleted(Preferences),
    /// `emoji_added`.
    EmojiAdded(Box<EmojiAdded>),
    /// `ephemeral_message`: a post only this user sees.
    EphemeralMessage(Box<PostEdited>),
    /// `post_unread`: the user marked a post unread; the channel's counts as they are now (the
    /// channel, team and user are the broadcast's).
    PostUnread(PostUnread),
    /// `post_acknowledgement_added`: a user acknowledged a post.
    PostAcknowledgementAdded(Box<PostAcknowledgementChanged>),
    /// `post_acknowledgement_removed`: a user took an acknowledgement back.
    PostAcknowledgementRemoved(Box<PostAcknowledgementChanged>),
    /// `post_revealed`: a burn-on-read post was revealed.
    PostRevealed(Box<PostRevealed>),
    /// `post_burned`: a burn-on-read post expired for this user.
    PostBurned(PostRef),
    /// `burn_on_read_all_revealed`: every recipient of a burn-on-read post revealed it.
    BurnOnReadAllRevealed(BurnOnReadAllRevealed),
    /// `persistent_notification_triggered`: a post that notifies until acknowledged notified again.
    PersistentNotificationTriggered(Box<PersistentNotificationTriggered>),
    /// `thread_updated`: a followed thread changed (collapsed threads).
    ThreadUpdated(Box<ThreadUpdated>),
    /// `thread_read_changed`: threads were read or marked unread (collapsed threads).
    ThreadReadChanged(Box<ThreadReadChanged>),
    /// `thread_follow_changed`: the user started or stopped following a thread.
    ThreadFollowChanged(ThreadFollowChanged),
    /// `channel_scheme_updated`: the broadcast's channel got another permission scheme (no
    /// payload).
    ChannelSchemeUpdated,
    /// `channel_bookmark_created`.
    ChannelBookmarkCreated(Box<ChannelBookmarkChanged>),
    /// `channel_bookmark_updated`.
    ChannelBookmarkUpdated(Box<ChannelBookmarkUpdated>),
    /// `channel_bookmark_deleted`.
    ChannelBookmarkDeleted(Box<ChannelBookmarkChanged>),
    /// `channel_bookmark_sorted`: a channel's bookmarks were reordered.
    ChannelBookmarkSorted(Box<ChannelBookmarksSorted>),
    /// `delete_team`: a team was archived (or deleted).
    DeleteTeam(Box<TeamUpdated>),
    /// `restore_team`: an archived team was restored.
    RestoreTeam(Box<TeamUpdated>),
    /// `update_team_scheme`: a team got another permission scheme.
    UpdateTeamScheme(Box<TeamUpdated>),
    /// `memberrole_updated`: the user's roles in a team changed.
    MemberRoleUpdated(Box<TeamMemberUpdated>),
    /// `user_activation_status_change`: a user was activated or deactivated (no payload: refetch).
    UserActivationStatusChange,
    /// `guests_deactivated`: every guest account was deactivated (no payload).
    GuestsDeactivated,
    /// `role_updated`: a role's permissions changed.
    RoleUpdated(Box<RoleUpdated>),
    /// `preference_changed`: one preference changed (sent by the `/expand` and `/collapse`
    /// commands; other changes come as `preferences_changed`).
    PreferenceChanged(Box<PreferenceChanged>),
    /// `sidebar_category_created`.
    SidebarCategoryCreated(SidebarCategoryRef),
    /// `sidebar_category_updated`.
    SidebarCategoryUpdated(Box<SidebarCategoryUpdated>),
    /// `sidebar_category_deleted`.
    SidebarCategoryDeleted(SidebarCategoryRef),
    /// `sidebar_category_order_updated`.
    SidebarCategoryOrderUpdated(SidebarCategoryOrderUpdated),
    /// `draft_created`: a draft was saved (created or changed).
    DraftCreated(Box<DraftChanged>),
    /// `draft_deleted`.
    DraftDeleted(Box<DraftChanged>),
    /// `scheduled_post_created`.
    ScheduledPostCreated(Box<ScheduledPostChanged>),
    /// `scheduled_post_updated` (also when sending it failed: see its `error_code`).
    ScheduledPostUpdated(Box<ScheduledPostChanged>),
    /// `scheduled_post_deleted` (also once it was sent).
    ScheduledPostDeleted(Box<ScheduledPostChanged>),
    /// `open_dialog`: an integration asked the client to show an interactive dialog.
    OpenDialog(Box<OpenDialog>),
    /// `received_group`: a user group was created, changed, deleted or restored.
    ReceivedGroup(Box<ReceivedGroup>),
    /// `received_group_associated_to_team`: a group was linked to the broadcast's team.
    ReceivedGroupAssociatedToTeam(GroupRef),
    /// `received_group_not_associated_to_team`: a group was unlinked from the broadcast's team.
    ReceivedGroupNotAssociatedToTeam(GroupRef),
    /// `received_group_associated_to_channel`: a group was linked to the broadcast's channel.
    ReceivedGroupAssociatedToChannel(GroupRef),
    /// `received_group_not_associated_to_channel`: a group was unlinked from the broadcast's
    /// channel.
    ReceivedGroupNotAssociatedToChannel(GroupRef),
    /// `group_member_add`: the user joined a group.
    GroupMemberAdd(Box<GroupMemberChanged>),
    /// `group_member_deleted`: the user left a group.
    GroupMemberDeleted(Box<GroupMemberChanged>),
    /// `custom_profile_attributes_field_created`.
    CustomProfileAttributesFieldCreated(Box<CustomProfileAttributesField>),
    /// `custom_profile_attributes_field_updated`.
    CustomProfileAttributesFieldUpdated(Box<CustomProfileAttributesField>),
    /// `custom_profile_attributes_field_deleted`.
    CustomProfileAttributesFieldDeleted(CustomProfileAttributesFieldDeleted),
    /// `custom_profile_attributes_values_updated`: a user's attribute values changed.
    CustomProfileAttributesValuesUpdated(Box<CustomProfileAttributesValuesUpdated>),
    /// `content_flagging_report_value_updated`: a flagged post's review fields changed (sent to
    /// its reviewers).
    ContentFlaggingReportValueUpdated(Box<ContentFlaggingReportValueUpdated>),
    /// `config_changed`: the server's configuration changed; the client configuration as it is
    /// now.
    ConfigChanged(Box<ConfigChanged>),
    /// `license_changed`: the license changed; the client license as it is now.
    LicenseChanged(Box<LicenseChanged>),
    /// `plugin_enabled`: a plugin with a web part was enabled.
    PluginEnabled(Box<PluginManifestChanged>),
    /// `plugin_disabled`: a plugin with a web part was disabled.
    PluginDisabled(Box<PluginManifestChanged>),
    /// `plugin_statuses_changed`: the plugins' states changed (sent to system admins).
    PluginStatusesChanged(Box<PluginStatusesChanged>),
    /// `hosted_customer_signup_progress_updated`.
    HostedCustomerSignupProgressUpdated(SignupProgress),
    /// `first_admin_visit_marketplace_status_received`.
    FirstAdminVisitMarketplaceStatusReceived(MarketplaceVisitStatus),
    /// Any other event type (new server versions, plugins' `custom_*` events): never an error.
    Unknown {
        /// The event type.
        event: String,
        /// Its payload.
        data: serde_json::Value,
    },
}

impl EventKind {
    /// The event type as the server names it.
    pub fn event_type(&self) -> &str {
        match self {
            EventKind::Hello(_) => "hello",
            EventKind::Posted(_) => "posted",
            EventKind::PostEdited(_) => "post_edited",
            EventKind::PostDeleted(_) => "post_deleted",
            EventKind::ReactionAdded(_) => "reaction_added",
            EventKind::ReactionRemoved(_) => "reaction_removed",
            EventKind::Typing(_) => "typing",
            EventKind::StatusChange(_) => "status_change",
            EventKind::ChannelCreated(_) => "channel_created",
            EventKind::ChannelUpdated(_) => "channel_updated",
            EventKind::ChannelConverted(_) => "channel_converted",
            EventKind::ChannelDeleted(_) => "channel_deleted",
            EventKind::ChannelRestored(_) => "channel_restored",
            EventKind::ChannelViewed(_) => "channel_viewed",
            EventKind::MultipleChannelsViewed(_) => "multiple_channels_viewed",
            EventKind::ChannelMemberUpdated(_) => "channel_member_updated",
            EventKind::UserAdded(_) => "user_added",
            EventKind::UserRemoved(_) => "user_removed",
            EventKind::UserUpdated(_) => "user_updated",
            EventKind::UserRoleUpdated(_) => "user_role_updated",
            EventKind::NewUser(_) => "new_user",
            EventKind::DirectAdded(_) => "direct_added",
            EventKind::GroupAdded(_) => "group_added",
            EventKind::AddedToTeam(_) => "added_to_team",
            EventKind::LeaveTeam(_) => "leave_team",
            EventKind::UpdateTeam(_) => "update_team",
            EventKind::PreferencesChanged(_) => "preferences_changed",
            EventKind::PreferencesDeleted(_) => "preferences_deleted",
            EventKind::EmojiAdded(_) => "emoji_added",
            EventKind::EphemeralMessage(_) => "ephemeral_message",
            EventKind::PostUnread(_) => "post_unread",
            EventKind::PostAcknowledgementAdded(_) => "post_acknowledgement_added",
            EventKind::PostAcknowledgementRemoved(_) => "post_acknowledgement_removed",
            EventKind::PostRevealed(_) => "post_revealed",
            EventKind::PostBurned(_) => "post_burned",
            EventKind::BurnOnReadAllRevealed(_) => "burn_on_read_all_revealed",
            EventKind::PersistentNotificationTriggered(_) => "persistent_notification_triggered",
            EventKind::ThreadUpdated(_) => "thread_updated",
            EventKind::ThreadReadChanged(_) => "thread_read_changed",
            EventKind::ThreadFollowChanged(_) => "thread_follow_changed",
            EventKind::ChannelSchemeUpdated => "channel_scheme_updated",
            EventKind::ChannelBookmarkCreated(_) => "channel_bookmark_created",
            EventKind::ChannelBookmarkUpdated(_) => "channel_bookmark_updated",
            EventKind::ChannelBookmarkDeleted(_) => "channel_bookmark_deleted",
            EventKind::ChannelBookmarkSorted(_) => "channel_bookmark_sorted",
            EventKind::DeleteTeam(_) => "delete_team",
            EventKind::RestoreTeam(_) => "restore_team",
            EventKind::UpdateTeamScheme(_) => "update_team_scheme",
            EventKind::MemberRoleUpdated(_) => "memberrole_updated",
            EventKind::UserActivationStatusChange => "user_activation_status_change",
            EventKind::GuestsDeactivated => "guests_deactivated",
            EventKind::RoleUpdated(_) => "role_updated",
            EventKind::PreferenceChanged(_) => "preference_changed",
            EventKind::SidebarCategoryCreated(_) => "sidebar_category_created",
            EventKind::SidebarCategoryUpdated(_) => "sidebar_category_updated",
            EventKind::SidebarCategoryDeleted(_) => "sidebar_category_deleted",
            EventKind::SidebarCategoryOrderUpdated(_) => "sidebar_category_order_updated",
            EventKind::DraftCreated(_) => "draft_created",
            EventKind::DraftDeleted(_) => "draft_deleted",
            EventKind::ScheduledPostCreated(_) => "scheduled_post_created",
            EventKind::ScheduledPostUpdated(_) => "scheduled_post_updated",
            EventKind::ScheduledPostDeleted(_) => "scheduled_post_deleted",
            EventKind::OpenDialog(_) => "open_dialog",
            EventKind::ReceivedGroup(_) => "received_group",
            EventKind::ReceivedGroupAssociatedToTeam(_) => "received_group_associated_to_team",
            EventKind::ReceivedGroupNotAssociatedToTeam(_) => {
                "received_group_not_associated_to_team"
            }
            EventKind::ReceivedGroupAssociatedToChannel(_) => {
                "received_group_associated_to_channel"
            }
            EventKind::ReceivedGroupNotAssociatedToChannel(_) => {
                "received_group_not_associated_to_channel"
            }
            EventKind::GroupMemberAdd(_) => "group_member_add",
            EventKind::GroupMemberDeleted(_) => "group_member_deleted",
            EventKind::CustomProfileAttributesFieldCreated(_) => {
                "custom_profile_attributes_field_created"
            }
            EventKind::CustomProfileAttributesFieldUpdated(_) => {
                "custom_profile_attributes_field_updated"
            }
            EventKind::CustomProfileAttributesFieldDeleted(_) => {
                "custom_profile_attributes_field_deleted"
            }
            EventKind::CustomProfileAttributesValuesUpdated(_) => {
                "custom_profile_attributes_values_updated"
            }
            EventKind::ContentFlaggingReportValueUpdated(_) => {
                "content_flagging_report_value_updated"
            }
            EventKind::ConfigChanged(_) => "config_changed",
            EventKind::LicenseChanged(_) => "license_changed",
            EventKind::PluginEnabled(_) => "plugin_enabled",
            EventKind::PluginDisabled(_) => "plugin_disabled",
            EventKind::PluginStatusesChanged(_) => "plugin_statuses_changed",
            EventKind::HostedCustomerSignupProgressUpdated(_) => {
                "hosted_customer_signup_progress_updated"
            }
            EventKind::FirstAdminVisitMarketplaceStatusReceived(_) => {
                "first_admin_visit_marketplace_status_received"
            }
            EventKind::Unknown { event, .. } => event,
        }
    }
}

/// `hello`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Hello {
    /// This connection's id: the key to resume it.
    pub connection_id: String,
    /// `version.build.config-hash.enterprise`.
    pub server_version: String,
    /// The server's host name, when it could tell.
    pub server_hostname: Option<String>,
}

/// `posted`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Posted {
    /// The post (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub post: types::Post,
    /// The channel's display name (for a direct channel, the other user's name).
    pub channel_display_name: String,
    /// The channel's name.
    pub channel_name: String,
    /// `O` open, `P` private, `D` direct, `G` group.
    pub channel_type: String,
    /// The sender's display name.
    pub sender_name: String,
    /// The team (empty for direct and group channels).
    pub team_id: String,
    /// Ids of the users mentioned (sent as a JSON string, decoded; empty when none).
    #[serde(deserialize_with = "double::de")]
    pub mentions: Vec<String>,
    /// Ids of the thread's followers (sent as a JSON string, decoded; empty when none).
    #[serde(deserialize_with = "double::de")]
    pub followers: Vec<String>,
    /// Whether the post sets its author online.
    pub set_online: bool,
    /// Whether the server asks this connection to acknowledge the event
    /// ([`WsHandle::posted_notify_ack`](crate::ws::WsHandle::posted_notify_ack)): it asks only a
    /// connection opened with `posted_ack=true` (this listener does not ask for that), for a post
    /// that notifies its user.
    pub should_ack: bool,
    /// Whether the post has files (sent as the string `"true"`).
    #[serde(rename = "otherFile", deserialize_with = "flag::de")]
    pub other_file: bool,
    /// Whether one of its files is an image (sent as the string `"true"`).
    #[serde(deserialize_with = "flag::de")]
    pub image: bool,
}

/// `post_edited` and `ephemeral_message`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PostEdited {
    /// The post (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub post: types::Post,
}

/// `post_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PostDeleted {
    /// The post (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub post: types::Post,
    /// Who deleted it, when the server says.
    pub delete_by: Option<String>,
}

/// `reaction_added` and `reaction_removed`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ReactionChanged {
    /// The reaction (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub reaction: types::Reaction,
}

/// `typing`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Typing {
    /// Who is typing.
    pub user_id: String,
    /// The thread's root post, empty outside a thread.
    pub parent_id: String,
}

/// `status_change`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct StatusChange {
    /// Whose status.
    pub user_id: String,
    /// `online`, `away`, `dnd` or `offline`.
    pub status: String,
}

/// An event naming a channel (`channel_created`, `channel_viewed`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChannelRef {
    /// The channel.
    pub channel_id: String,
    /// Its team, when the server says.
    pub team_id: String,
}

/// `channel_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChannelUpdated {
    /// The channel (sent as a JSON string, decoded); empty when the server sent only its id.
    #[serde(deserialize_with = "double::de")]
    pub channel: types::Channel,
    /// The channel's id, when the server sent only that (a shared channel changed, sent to the
    /// broadcast's team: refetch it); empty otherwise.
    pub channel_id: String,
}

/// `channel_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChannelDeleted {
    /// The channel.
    pub channel_id: String,
    /// When it was archived (ms since the epoch).
    pub delete_at: i64,
}

/// `multiple_channels_viewed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MultipleChannelsViewed {
    /// Channel id -> when it was viewed (ms since the epoch).
    pub channel_times: HashMap<String, i64>,
}

/// `channel_member_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChannelMemberUpdated {
    /// The membership (sent as a JSON string, decoded).
    #[serde(rename = "channelMember", deserialize_with = "double::de")]
    pub channel_member: types::ChannelMember,
}

/// `user_added`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct UserAdded {
    /// Who joined (the channel is the broadcast's).
    pub user_id: String,
    /// The channel's team.
    pub team_id: String,
}

/// `user_removed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct UserRemoved {
    /// Who left, when sent to the channel's members.
    pub user_id: Option<String>,
    /// The channel left, when sent to the user who left.
    pub channel_id: Option<String>,
    /// Who removed them.
    pub remover_id: String,
}

/// `user_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct UserUpdated {
    /// The user, sanitized for the receiver.
    #[serde(deserialize_with = "double::de")]
    pub user: types::User,
}

/// `user_role_updated`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct UserRoleUpdated {
    /// Whose roles.
    pub user_id: String,
    /// The new roles, space-separated.
    pub roles: String,
}

/// An event naming a user (`new_user`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct UserRef {
    /// The user.
    pub user_id: String,
}

/// `direct_added`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DirectAdded {
    /// Who created the direct channel.
    pub creator_id: String,
    /// The other user.
    pub teammate_id: String,
}

/// `group_added`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupAdded {
    /// The members (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub teammate_ids: Vec<String>,
}

/// `added_to_team` and `leave_team`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TeamMembership {
    /// The team.
    pub team_id: String,
    /// The user.
    pub user_id: String,
}

/// `update_team`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TeamUpdated {
    /// The team (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub team: types::Team,
}

/// `preferences_changed` and `preferences_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Preferences {
    /// The preferences (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub preferences: Vec<types::Preference>,
}

/// `emoji_added`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct EmojiAdded {
    /// The emoji (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub emoji: types::Emoji,
}

/// `post_unread`: the channel's counts after a post was marked unread.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PostUnread {
    /// The post marked unread (the first unread one now).
    pub post_id: String,
    /// Posts the user has read in the channel.
    pub msg_count: i64,
    /// Root posts (not replies) the user has read in the channel.
    pub msg_count_root: i64,
    /// Unread mentions in the channel.
    pub mention_count: i64,
    /// Unread mentions in root posts.
    pub mention_count_root: i64,
    /// Unread mentions in urgent posts.
    pub urgent_mention_count: i64,
    /// The channel's new last-viewed time (ms since the epoch).
    pub last_viewed_at: i64,
}

/// `post_acknowledgement_added` and `post_acknowledgement_removed`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PostAcknowledgementChanged {
    /// The acknowledgement (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub acknowledgement: types::PostAcknowledgement,
}

/// `post_revealed`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PostRevealed {
    /// The post, revealed (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub post: types::Post,
    /// To the post's author: who revealed it now (empty when nobody yet); `None` to the user
    /// who revealed it.
    pub recipients: Option<Vec<String>>,
}

/// An event naming a post (`post_burned`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PostRef {
    /// The post.
    pub post_id: String,
}

/// `burn_on_read_all_revealed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BurnOnReadAllRevealed {
    /// The post.
    pub post_id: String,
    /// When it expires for its author (ms since the epoch).
    pub sender_expire_at: i64,
}

/// `persistent_notification_triggered`: the fields of a `posted` notification.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PersistentNotificationTriggered {
    /// The post (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub post: types::Post,
    /// `O` open, `P` private, `D` direct, `G` group.
    pub channel_type: String,
    /// The channel's display name.
    pub channel_display_name: String,
    /// The channel's name.
    pub channel_name: String,
    /// The sender's display name.
    pub sender_name: String,
    /// The team.
    pub team_id: String,
    /// Ids of the users notified (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub mentions: Vec<String>,
    /// Whether the post has files (sent as the string `"true"`).
    #[serde(rename = "otherFile", deserialize_with = "flag::de")]
    pub other_file: bool,
    /// Whether one of its files is an image (sent as the string `"true"`).
    #[serde(deserialize_with = "flag::de")]
    pub image: bool,
}

/// `thread_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ThreadUpdated {
    /// The thread as the user sees it (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub thread: types::UserThread,
    /// The thread's unread mentions before this change, when the server says.
    pub previous_unread_mentions: Option<i64>,
    /// The thread's unread replies before this change, when the server says.
    pub previous_unread_replies: Option<i64>,
}

/// `thread_read_changed`, sent in three shapes: one thread read or marked unread (`thread_id`
/// and the counts set), every thread of the broadcast's team read (nothing set), or the threads
/// of the broadcast's channel read by viewing it (`timestamp` only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ThreadReadChanged {
    /// The thread (its root post).
    pub thread_id: Option<String>,
    /// The thread's channel.
    pub channel_id: Option<String>,
    /// The new last-viewed time (ms since the epoch).
    pub timestamp: Option<i64>,
    /// Unread mentions now.
    pub unread_mentions: Option<i64>,
    /// Unread replies now.
    pub unread_replies: Option<i64>,
    /// Unread mentions before.
    pub previous_unread_mentions: Option<i64>,
    /// Unread replies before.
    pub previous_unread_replies: Option<i64>,
}

/// `thread_follow_changed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ThreadFollowChanged {
    /// The thread (its root post).
    pub thread_id: String,
    /// Whether the user follows it now.
    pub state: bool,
    /// Its replies.
    pub reply_count: i64,
}

/// `channel_bookmark_created` and `channel_bookmark_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChannelBookmarkChanged {
    /// The bookmark (sent as a JSON string, decoded); a deleted one has its `delete_at` set.
    #[serde(deserialize_with = "double::de")]
    pub bookmark: types::ChannelBookmarkWithFileInfo,
}

/// `channel_bookmark_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChannelBookmarkUpdated {
    /// The bookmark as it is now, and the version it replaced when the server kept that one
    /// apart (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub bookmarks: types::UpdateChannelBookmarkResponse,
}

/// `channel_bookmark_sorted`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChannelBookmarksSorted {
    /// The channel's bookmarks in their new order (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub bookmarks: Vec<types::ChannelBookmarkWithFileInfo>,
}

/// `memberrole_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TeamMemberUpdated {
    /// The team membership (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub member: types::TeamMember,
}

/// `role_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RoleUpdated {
    /// The role (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub role: types::Role,
}

/// `preference_changed`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PreferenceChanged {
    /// The preference (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub preference: types::Preference,
}

/// An event naming a sidebar category (`sidebar_category_created`, `..._deleted`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SidebarCategoryRef {
    /// The category (its team is the broadcast's).
    pub category_id: String,
}

/// `sidebar_category_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SidebarCategoryUpdated {
    /// The categories changed (sent as a JSON string, decoded); empty when the server did not
    /// say which (after a change of preferences): refetch them.
    #[serde(rename = "updatedCategories", deserialize_with = "double::de")]
    pub updated_categories: Vec<types::SidebarCategoryWithChannels>,
}

/// `sidebar_category_order_updated`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SidebarCategoryOrderUpdated {
    /// The categories' ids in their new order (their team is the broadcast's).
    pub order: Vec<String>,
}

/// `draft_created` and `draft_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DraftChanged {
    /// The draft (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub draft: types::Draft,
}

/// `scheduled_post_created`, `scheduled_post_updated` and `scheduled_post_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ScheduledPostChanged {
    /// The scheduled post (sent as a JSON string, decoded).
    #[serde(rename = "scheduledPost", deserialize_with = "double::de")]
    pub scheduled_post: types::ScheduledPost,
}

/// `open_dialog`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OpenDialog {
    /// The request (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub dialog: DialogRequest,
}

/// What an integration asked to show in `open_dialog`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DialogRequest {
    /// The trigger id the integration opened it with.
    pub trigger_id: String,
    /// Where the dialog's submission goes.
    pub url: String,
    /// The dialog.
    pub dialog: Dialog,
}

/// An interactive dialog.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Dialog {
    /// The integration's id for it, sent back on submission.
    pub callback_id: String,
    /// The title.
    pub title: String,
    /// Text shown above the elements.
    pub introduction_text: String,
    /// The icon.
    pub icon_url: String,
    /// The input elements, as JSON (`display_name`, `name`, `type`, ...).
    pub elements: Vec<serde_json::Value>,
    /// The submit button's label.
    pub submit_label: String,
    /// Whether the integration is told when the dialog is cancelled.
    pub notify_on_cancel: bool,
    /// The integration's state, sent back on submission.
    pub state: String,
    /// Where the client may fetch the dialog again, when set.
    pub source_url: Option<String>,
}

/// `received_group`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ReceivedGroup {
    /// The group (sent as a JSON string, decoded); a deleted one has its `delete_at` set.
    #[serde(deserialize_with = "double::de")]
    pub group: types::Group,
}

/// An event naming a group (`received_group_associated_to_team`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupRef {
    /// The group (the team or channel is the broadcast's).
    pub group_id: String,
}

/// `group_member_add` and `group_member_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GroupMemberChanged {
    /// The membership (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub group_member: types::GroupMember,
}

/// `custom_profile_attributes_field_created` and `custom_profile_attributes_field_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CustomProfileAttributesField {
    /// The field.
    #[serde(deserialize_with = "double::de")]
    pub field: types::PropertyField,
    /// On an update: whether the users' values of the field were deleted (its type changed).
    pub delete_values: bool,
}

/// `custom_profile_attributes_field_deleted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CustomProfileAttributesFieldDeleted {
    /// The field.
    pub field_id: String,
}

/// `custom_profile_attributes_values_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CustomProfileAttributesValuesUpdated {
    /// Whose values.
    pub user_id: String,
    /// Field id -> its value now (any JSON); empty when all of the user's values were deleted.
    pub values: HashMap<String, serde_json::Value>,
}

/// `content_flagging_report_value_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ContentFlaggingReportValueUpdated {
    /// The flagged post.
    pub target_id: String,
    /// The review fields set (sent as a JSON string, decoded).
    #[serde(deserialize_with = "double::de")]
    pub property_values: Vec<ReportValue>,
}

/// One field of a content flagging report (a property value whose value is any JSON).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ReportValue {
    /// The value's id.
    pub id: String,
    /// The field it is a value of.
    pub field_id: String,
    /// What it is about (the flagged post).
    pub target_id: String,
    /// The kind of `target_id`.
    pub target_type: String,
    /// The field's group.
    pub group_id: String,
    /// The value (a string, a number, a boolean, ...).
    pub value: serde_json::Value,
    /// Created (ms since the epoch).
    pub create_at: i64,
    /// Last changed (ms since the epoch).
    pub update_at: i64,
    /// Deleted (ms since the epoch; 0 when not).
    pub delete_at: i64,
    /// Who created it, when the server says.
    pub created_by: String,
    /// Who last changed it, when the server says.
    pub updated_by: String,
}

/// `config_changed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ConfigChanged {
    /// The client configuration (setting -> value, every value a string).
    pub config: HashMap<String, String>,
}

/// `license_changed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LicenseChanged {
    /// The client license (field -> value, every value a string; `IsLicensed` is `"false"`
    /// without one).
    pub license: HashMap<String, String>,
}

/// `plugin_enabled` and `plugin_disabled`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PluginManifestChanged {
    /// The plugin's manifest as clients see it.
    #[serde(deserialize_with = "double::de")]
    pub manifest: types::PluginManifest,
}

/// `plugin_statuses_changed`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PluginStatusesChanged {
    /// Every plugin's state, per cluster node.
    #[serde(deserialize_with = "double::de")]
    pub plugin_statuses: Vec<types::PluginStatus>,
}

/// `hosted_customer_signup_progress_updated`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SignupProgress {
    /// The step reached.
    pub progress: String,
}

/// `first_admin_visit_marketplace_status_received`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MarketplaceVisitStatus {
    /// Whether an admin has visited the marketplace (sent as the string `"true"` or `"false"`).
    #[serde(
        rename = "firstAdminVisitMarketplaceStatus",
        deserialize_with = "flag::de"
    )]
    pub first_admin_visit_marketplace_status: bool,
}

/// The server's answer to an action, matched to it by `seq_reply`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Reply {
    /// `OK` or `FAIL`.
    pub status: String,
    /// The `seq` of the action answered.
    pub seq_reply: i64,
    /// The reply's data (`Null` when none).
    pub data: serde_json::Value,
    /// The error, for `FAIL`.
    pub error: Option<ReplyError>,
}

impl Reply {
    /// Whether the status is `OK`.
    pub fn is_ok(&self) -> bool {
        self.status == "OK"
    }

    /// Whether the server said the socket is not authenticated (a revoked or expired session).
    pub fn is_not_authenticated(&self) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.id.contains("not_authenticated"))
    }
}

/// The error of a `FAIL` reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ReplyError {
    /// The error id, e.g. `api.web_socket_router.not_authenticated.app_error`.
    pub id: String,
    /// The message.
    pub message: String,
    /// The status code.
    pub status_code: Option<u16>,
    /// The request id, when given.
    pub request_id: Option<String>,
}

/// A frame from the server: an event or a reply.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // events are the common case: no allocation for them
pub enum Frame {
    /// An event.
    Event(Event),
    /// A reply to an action.
    Reply(Reply),
}

impl Frame {
    /// Decodes a text frame as the listener does. A frame that is not JSON, or is JSON but neither
    /// an event nor a reply, or an event whose payload does not match its type, is
    /// [`WsError::BadFrame`] keeping the frame.
    pub fn parse(text: impl Into<String>) -> crate::Result<Frame> {
        match parse(Utf8Bytes::from(text.into())) {
            Parsed::Frame(f) => Ok(f),
            Parsed::BadEvent { error, .. } | Parsed::Bad(error) => Err(error.into()),
        }
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    event: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    broadcast: Option<&'a RawValue>,
    #[serde(default)]
    seq: Option<i64>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(default)]
    seq_reply: Option<i64>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

fn bad(kind: BadFrameKind, detail: impl Into<String>, raw: &Utf8Bytes) -> WsError {
    WsError::bad_frame(kind, detail, Bytes::from(raw.clone()))
}

/// A decoded text frame, or why it could not be decoded.
pub(crate) enum Parsed {
    /// An event or a reply.
    Frame(Frame),
    /// An event whose envelope is fine (it has a `seq`) but whose payload is not: it still counts
    /// in the connection's numbering.
    BadEvent {
        /// The event's `seq`.
        seq: Option<i64>,
        /// The bad-frame error.
        error: WsError,
    },
    /// Anything else that is not understood.
    Bad(WsError),
}

/// Decodes a text frame (the listener's one decoding path): one pass over the frame when it is a
/// well-formed event whose `event` comes before its `data` (as the server writes them); anything
/// else, every bad frame included, goes through [`careful_parse`], which classifies it and keeps
/// an event's `seq`.
pub(crate) fn parse(raw: Utf8Bytes) -> Parsed {
    let fast = {
        let mut de = serde_json::Deserializer::from_str(raw.as_str());
        match serde::Deserializer::deserialize_map(&mut de, FastVisitor) {
            Ok(f) if de.end().is_ok() => f.finish(),
            _ => None,
        }
    };
    match fast {
        Some(FastFrame::Event {
            seq,
            broadcast,
            kind,
        }) => Parsed::Frame(Frame::Event(Event {
            seq,
            broadcast,
            kind,
            raw,
        })),
        Some(FastFrame::Reply(reply)) => Parsed::Frame(Frame::Reply(reply)),
        None => careful_parse(raw),
    }
}

/// What the one-pass decoder made of a frame.
enum FastFrame {
    Event {
        seq: Option<i64>,
        broadcast: Broadcast,
        kind: EventKind,
    },
    Reply(Reply),
}

/// The fields of a frame as the one-pass decoder sees them.
#[derive(Default)]
struct Fast<'de> {
    event: Option<&'de str>,
    kind: Option<EventKind>,
    data: Option<&'de RawValue>,
    broadcast: Option<Broadcast>,
    seq: Option<i64>,
    status: Option<&'de str>,
    seq_reply: Option<i64>,
    error: Option<ReplyError>,
}

impl Fast<'_> {
    fn finish(self) -> Option<FastFrame> {
        if let Some(event) = self.event {
            let kind = match self.kind {
                Some(kind) => kind,
                None => decode_kind(event, self.data.map(RawValue::get).unwrap_or("{}")).ok()?,
            };
            return Some(FastFrame::Event {
                seq: self.seq,
                broadcast: self.broadcast.unwrap_or_default(),
                kind,
            });
        }
        let data = match self.data {
            Some(d) => serde_json::from_str(d.get()).ok()?,
            None => serde_json::Value::Null,
        };
        Some(FastFrame::Reply(Reply {
            status: self.status?.to_owned(),
            seq_reply: self.seq_reply?,
            data,
            error: self.error,
        }))
    }
}

/// The keys of a frame.
enum Key {
    Event,
    Data,
    Broadcast,
    Seq,
    Status,
    SeqReply,
    Error,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "event" => Key::Event,
                    "data" => Key::Data,
                    "broadcast" => Key::Broadcast,
                    "seq" => Key::Seq,
                    "status" => Key::Status,
                    "seq_reply" => Key::SeqReply,
                    "error" => Key::Error,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// Decodes `data` straight into the event type's payload when the type is already known.
struct KindSeed<'a>(&'a str);

impl<'de> serde::de::DeserializeSeed<'de> for KindSeed<'_> {
    type Value = EventKind;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<EventKind, D::Error> {
        decode_kind_de(self.0, d)
    }
}

struct FastVisitor;

impl<'de> serde::de::Visitor<'de> for FastVisitor {
    type Value = Fast<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an event or a reply")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Fast<'de>, A::Error> {
        let mut f = Fast::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Event => f.event = Some(map.next_value::<&'de str>()?),
                Key::Data => match f.event {
                    Some(event) => f.kind = Some(map.next_value_seed(KindSeed(event))?),
                    None => f.data = Some(map.next_value::<&'de RawValue>()?),
                },
                Key::Broadcast => f.broadcast = map.next_value()?,
                Key::Seq => f.seq = map.next_value()?,
                Key::Status => f.status = Some(map.next_value::<&'de str>()?),
                Key::SeqReply => f.seq_reply = map.next_value()?,
                Key::Error => f.error = map.next_value()?,
                Key::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(f)
    }
}

/// The careful decoder: every frame the one-pass decoder did not take, bad ones included.
fn careful_parse(raw: Utf8Bytes) -> Parsed {
    let env: Envelope<'_> = match serde_json::from_str(raw.as_str()) {
        Ok(env) => env,
        Err(e) if e.is_data() => {
            return Parsed::Bad(bad(BadFrameKind::UnexpectedShape, e.to_string(), &raw));
        }
        Err(e) => return Parsed::Bad(bad(BadFrameKind::InvalidJson, e.to_string(), &raw)),
    };
    let seq = env.seq;
    if let Some(event) = env.event.as_deref() {
        let data = env.data.map(RawValue::get).unwrap_or("{}");
        let broadcast = match env.broadcast {
            Some(b) => match serde_json::from_str::<Broadcast>(b.get()) {
                Ok(b) => b,
                Err(e) => {
                    let detail = format!("`{event}` broadcast: {e}");
                    let error = bad(BadFrameKind::UnexpectedShape, detail, &raw);
                    return Parsed::BadEvent { seq, error };
                }
            },
            None => Broadcast::default(),
        };
        return match decode_kind(event, data) {
            Ok(kind) => Parsed::Frame(Frame::Event(Event {
                seq,
                broadcast,
                kind,
                raw,
            })),
            Err(e) => {
                let detail = format!("`{event}` payload: {e}");
                let error = bad(BadFrameKind::UnexpectedShape, detail, &raw);
                Parsed::BadEvent { seq, error }
            }
        };
    }
    if let (Some(status), Some(seq_reply)) = (env.status.as_deref(), env.seq_reply) {
        let shape = |e: serde_json::Error| {
            Parsed::Bad(bad(BadFrameKind::UnexpectedShape, e.to_string(), &raw))
        };
        let data = match env.data {
            Some(d) => match serde_json::from_str(d.get()) {
                Ok(v) => v,
                Err(e) => return shape(e),
            },
            None => serde_json::Value::Null,
        };
        let error = match env.error {
            Some(e) => match serde_json::from_str::<ReplyError>(e.get()) {
                Ok(e) => Some(e),
                Err(e) => return shape(e),
            },
            None => None,
        };
        return Parsed::Frame(Frame::Reply(Reply {
            status: status.to_owned(),
            seq_reply,
            data,
            error,
        }));
    }
    Parsed::Bad(bad(
        BadFrameKind::UnexpectedShape,
        "neither an event (`event`) nor a reply (`status`, `seq_reply`)",
        &raw,
    ))
}

fn decode_kind(event: &str, data: &str) -> Result<EventKind, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(data);
    let kind = decode_kind_de(event, &mut de)?;
    de.end()?;
    Ok(kind)
}

fn decode_kind_de<'de, D: serde::Deserializer<'de>>(
    event: &str,
    d: D,
) -> Result<EventKind, D::Error> {
    fn b<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(d: D) -> Result<Box<T>, D::Error> {
        T::deserialize(d).map(Box::new)
    }
    Ok(match event {
        "hello" => EventKind::Hello(Deserialize::deserialize(d)?),
        "posted" => EventKind::Posted(b(d)?),
        "post_edited" => EventKind::PostEdited(b(d)?),
        "post_deleted" => EventKind::PostDeleted(b(d)?),
        "reaction_added" => EventKind::ReactionAdded(b(d)?),
        "reaction_removed" => EventKind::ReactionRemoved(b(d)?),
        "typing" => EventKind::Typing(Deserialize::deserialize(d)?),
        "status_change" => EventKind::StatusChange(Deserialize::deserialize(d)?),
        "channel_created" => EventKind::ChannelCreated(Deserialize::deserialize(d)?),
        "channel_updated" => EventKind::ChannelUpdated(b(d)?),
        "channel_converted" => EventKind::ChannelConverted(Deserialize::deserialize(d)?),
        "channel_deleted" => EventKind::ChannelDeleted(Deserialize::deserialize(d)?),
        "channel_restored" => EventKind::ChannelRestored(Deserialize::deserialize(d)?),
        "channel_viewed" => EventKind::ChannelViewed(Deserialize::deserialize(d)?),
        "multiple_channels_viewed" => {
            EventKind::MultipleChannelsViewed(Deserialize::deserialize(d)?)
        }
        "channel_member_updated" => EventKind::ChannelMemberUpdated(b(d)?),
        "user_added" => EventKind::UserAdded(Deserialize::deserialize(d)?),
        "user_removed" => EventKind::UserRemoved(Deserialize::deserialize(d)?),
        "user_updated" => EventKind::UserUpdated(b(d)?),
        "user_role_updated" => EventKind::UserRoleUpdated(Deserialize::deserialize(d)?),
        "new_user" => EventKind::NewUser(Deserialize::deserialize(d)?),
        "direct_added" => EventKind::DirectAdded(Deserialize::deserialize(d)?),
        "group_added" => EventKind::GroupAdded(Deserialize::deserialize(d)?),
        "added_to_team" => EventKind::AddedToTeam(Deserialize::deserialize(d)?),
        "leave_team" => EventKind::LeaveTeam(Deserialize::deserialize(d)?),
        "update_team" => EventKind::UpdateTeam(b(d)?),
        "preferences_changed" => EventKind::PreferencesChanged(Deserialize::deserialize(d)?),
        "preferences_deleted" => EventKind::PreferencesDeleted(Deserialize::deserialize(d)?),
        "emoji_added" => EventKind::EmojiAdded(b(d)?),
        "ephemeral_message" => EventKind::EphemeralMessage(b(d)?),
        "post_unread" => EventKind::PostUnread(Deserialize::deserialize(d)?),
        "post_acknowledgement_added" => EventKind::PostAcknowledgementAdded(b(d)?),
        "post_acknowledgement_removed" => EventKind::PostAcknowledgementRemoved(b(d)?),
        "post_revealed" => EventKind::PostRevealed(b(d)?),
        "post_burned" => EventKind::PostBurned(Deserialize::deserialize(d)?),
        "burn_on_read_all_revealed" => {
            EventKind::BurnOnReadAllRevealed(Deserialize::deserialize(d)?)
        }
        "persistent_notification_triggered" => EventKind::PersistentNotificationTriggered(b(d)?),
        "thread_updated" => EventKind::ThreadUpdated(b(d)?),
        "thread_read_changed" => EventKind::ThreadReadChanged(b(d)?),
        "thread_follow_changed" => EventKind::ThreadFollowChanged(Deserialize::deserialize(d)?),
        "channel_scheme_updated" => {
            serde::de::IgnoredAny::deserialize(d)?;
            EventKind::ChannelSchemeUpdated
        }
        "channel_bookmark_created" => EventKind::ChannelBookmarkCreated(b(d)?),
        "channel_bookmark_updated" => EventKind::ChannelBookmarkUpdated(b(d)?),
        "channel_bookmark_deleted" => EventKind::ChannelBookmarkDeleted(b(d)?),
        "channel_bookmark_sorted" => EventKind::ChannelBookmarkSorted(b(d)?),
        "delete_team" => EventKind::DeleteTeam(b(d)?),
        "restore_team" => EventKind::RestoreTeam(b(d)?),
        "update_team_scheme" => EventKind::UpdateTeamScheme(b(d)?),
        "memberrole_updated" => EventKind::MemberRoleUpdated(b(d)?),
        "user_activation_status_change" => {
            serde::de::IgnoredAny::deserialize(d)?;
            EventKind::UserActivationStatusChange
        }
        "guests_deactivated" => {
            serde::de::IgnoredAny::deserialize(d)?;
            EventKind::GuestsDeactivated
        }
        "role_updated" => EventKind::RoleUpdated(b(d)?),
        "preference_changed" => EventKind::PreferenceChanged(b(d)?),
        "sidebar_category_created" => {
            EventKind::SidebarCategoryCreated(Deserialize::deserialize(d)?)
        }
        "sidebar_category_updated" => EventKind::SidebarCategoryUpdated(b(d)?),
        "sidebar_category_deleted" => {
            EventKind::SidebarCategoryDeleted(Deserialize::deserialize(d)?)
        }
        "sidebar_category_order_updated" => {
            EventKind::SidebarCategoryOrderUpdated(Deserialize::deserialize(d)?)
        }
        "draft_created" => EventKind::DraftCreated(b(d)?),
        "draft_deleted" => EventKind::DraftDeleted(b(d)?),
        "scheduled_post_created" => EventKind::ScheduledPostCreated(b(d)?),
        "scheduled_post_updated" => EventKind::ScheduledPostUpdated(b(d)?),
        "scheduled_post_deleted" => EventKind::ScheduledPostDeleted(b(d)?),
        "open_dialog" => EventKind::OpenDialog(b(d)?),
        "received_group" => EventKind::ReceivedGroup(b(d)?),
        "received_group_associated_to_team" => {
            EventKind::ReceivedGroupAssociatedToTeam(Deserialize::deserialize(d)?)
        }
        "received_group_not_associated_to_team" => {
            EventKind::ReceivedGroupNotAssociatedToTeam(Deserialize::deserialize(d)?)
        }
        "received_group_associated_to_channel" => {
            EventKind::ReceivedGroupAssociatedToChannel(Deserialize::deserialize(d)?)
        }
        "received_group_not_associated_to_channel" => {
            EventKind::ReceivedGroupNotAssociatedToChannel(Deserialize::deserialize(d)?)
        }
        "group_member_add" => EventKind::GroupMemberAdd(b(d)?),
        "group_member_deleted" => EventKind::GroupMemberDeleted(b(d)?),
        "custom_profile_attributes_field_created" => {
            EventKind::CustomProfileAttributesFieldCreated(b(d)?)
        }
        "custom_profile_attributes_field_updated" => {
            EventKind::CustomProfileAttributesFieldUpdated(b(d)?)
        }
        "custom_profile_attributes_field_deleted" => {
            EventKind::CustomProfileAttributesFieldDeleted(Deserialize::deserialize(d)?)
        }
        "custom_profile_attributes_values_updated" => {
            EventKind::CustomProfileAttributesValuesUpdated(b(d)?)
        }
        "content_flagging_report_value_updated" => {
            EventKind::ContentFlaggingReportValueUpdated(b(d)?)
        }
        "config_changed" => EventKind::ConfigChanged(b(d)?),
        "license_changed" => EventKind::LicenseChanged(b(d)?),
        "plugin_enabled" => EventKind::PluginEnabled(b(d)?),
        "plugin_disabled" => EventKind::PluginDisabled(b(d)?),
        "plugin_statuses_changed" => EventKind::PluginStatusesChanged(b(d)?),
        "hosted_customer_signup_progress_updated" => {
            EventKind::HostedCustomerSignupProgressUpdated(Deserialize::deserialize(d)?)
        }
        "first_admin_visit_marketplace_status_received" => {
            EventKind::FirstAdminVisitMarketplaceStatusReceived(Deserialize::deserialize(d)?)
        }
        other => EventKind::Unknown {
            event: other.to_owned(),
            data: Deserialize::deserialize(d)?,
        },
    })
}

/// Fields sent as a JSON string holding JSON: decoded from the string, or taken as they are when
/// the server sent the JSON itself.
mod double {
    use std::marker::PhantomData;

    use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
    use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

    pub(super) fn de<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: DeserializeOwned + Default,
    {
        d.deserialize_any(DoubleVisitor(PhantomData))
    }

    struct DoubleVisitor<T>(PhantomData<T>);

    impl<'de, T: DeserializeOwned + Default> Visitor<'de> for DoubleVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("JSON, or a string holding JSON")
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
            if s.is_empty() {
                return Ok(T::default());
            }
            serde_json::from_str(s).map_err(E::custom)
        }

        fn visit_unit<E: de::Error>(self) -> Result<T, E> {
            Ok(T::default())
        }

        fn visit_none<E: de::Error>(self) -> Result<T, E> {
            Ok(T::default())
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
            T::deserialize(SeqAccessDeserializer::new(seq))
        }
    }
}

/// Flags sent as the strings `"true"` and `"false"` (or as booleans); an empty string or `null`
/// is `false`, any other value an error.
mod flag {
    use serde::de::{self, Deserializer, Visitor};

    pub(super) fn de<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        d.deserialize_any(FlagVisitor)
    }

    struct FlagVisitor;

    impl Visitor<'_> for FlagVisitor {
        type Value = bool;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a boolean, or the string \"true\" or \"false\"")
        }

        fn visit_bool<E: de::Error>(self, b: bool) -> Result<bool, E> {
            Ok(b)
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<bool, E> {
            match s {
                "true" => Ok(true),
                "false" | "" => Ok(false),
                other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
            }
        }

        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }

        fn visit_none<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posted_decodes_the_double_encoded_post_and_mentions() {
        let frame = r#"{"event":"posted","data":{"channel_type":"O","post":"{\"id\":\"p1\",\"message\":\"hi\",\"channel_id\":\"c1\"}","mentions":"[\"u2\"]","set_online":true},"broadcast":{"channel_id":"c1","user_id":"","team_id":"","omit_users":null},"seq":3}"#;
        let Ok(Frame::Event(ev)) = Frame::parse(frame) else {
            panic!("not an event");
        };
        let EventKind::Posted(p) = &ev.kind else {
            panic!("not posted: {:?}", ev.kind);
        };
        assert_eq!(p.post.id.as_deref(), Some("p1"));
        assert_eq!(p.mentions, vec!["u2".to_owned()]);
        assert!(p.set_online);
        assert_eq!(ev.seq, Some(3));
        assert_eq!(ev.channel_id(), Some("c1"));
        assert_eq!(ev.raw(), frame);
    }

    #[test]
    fn unknown_events_are_delivered() {
        let Ok(Frame::Event(ev)) = Frame::parse(r#"{"event":"custom_x_y","data":{"a":1},"seq":1}"#)
        else {
            panic!("not an event");
        };
        assert_eq!(ev.event_type(), "custom_x_y");
        assert!(matches!(ev.kind, EventKind::Unknown { ref data, .. } if data["a"] == 1));
    }

    #[test]
    fn replies_and_bad_frames() {
        let Ok(Frame::Reply(r)) = Frame::parse(
            r#"{"status":"FAIL","seq_reply":2,"error":{"id":"api.web_socket_router.not_authenticated.app_error","message":"no","status_code":401}}"#,
        ) else {
            panic!("not a reply");
        };
        assert!(r.is_not_authenticated());
        assert!(matches!(
            Frame::parse("not json")
                .err()
                .as_ref()
                .and_then(crate::Error::as_websocket),
            Some(WsError::BadFrame {
                kind: BadFrameKind::InvalidJson,
                ..
            })
        ));
        assert!(matches!(
            Frame::parse("[1,2]")
                .err()
                .as_ref()
                .and_then(crate::Error::as_websocket),
            Some(WsError::BadFrame {
                kind: BadFrameKind::UnexpectedShape,
                ..
            })
        ));
        assert!(matches!(
            Frame::parse(r#"{"event":"typing","data":{"user_id":5},"seq":1}"#)
                .err()
                .as_ref()
                .and_then(crate::Error::as_websocket),
            Some(WsError::BadFrame {
                kind: BadFrameKind::UnexpectedShape,
                ..
            })
        ));
    }
}
