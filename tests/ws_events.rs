//! Every websocket event type the pinned server (Mattermost 11.4) sends, decoded typed: one frame
//! per event, shaped as the server's `message.Add(...)` calls fill its data (models sent as JSON
//! strings where the server marshals them to a string first), each with a key no server sends
//! (it must be ignored). Then malformed known fields (a typed bad-frame error keeping the frame),
//! and the whole table through the listener from the scripted peer.

#[path = "support/ws_peer.rs"]
mod ws_peer;

use std::time::Duration;

use futures_util::StreamExt;
use matterapi::ws::{BadFrameKind, Event, EventKind, EventStream, Frame, WsError, WsItem};
use serde_json::{Value, json};
use ws_peer::Peer;

const WAIT: Duration = Duration::from_secs(5);

fn post(id: &str, channel: &str) -> Value {
    json!({"id": id, "channel_id": channel, "user_id": "u1", "message": "hi", "create_at": 1, "props": {}})
}

fn user(id: &str) -> Value {
    json!({"id": id, "username": format!("user-{id}"), "roles": "system_user"})
}

fn bookmark(id: &str) -> Value {
    json!({"id": id, "channel_id": "c1", "owner_id": "u1", "display_name": "Docs", "sort_order": 0,
           "link_url": "https://example.invalid/", "type": "link", "create_at": 1, "update_at": 1, "delete_at": 0})
}

/// One data payload per event type the server sends and this crate did not type before (the
/// 52), then `posted` and `channel_updated` with the fields added to them.
fn cases() -> Vec<(&'static str, Value)> {
    let s = |v: Value| Value::String(v.to_string());
    vec![
        (
            "post_unread",
            json!({"msg_count": 3, "msg_count_root": 2, "mention_count": 1, "mention_count_root": 1,
                   "urgent_mention_count": 0, "last_viewed_at": 1700, "post_id": "p1"}),
        ),
        (
            "post_acknowledgement_added",
            json!({"acknowledgement": s(json!({"user_id": "u2", "post_id": "p1", "acknowledged_at": 1800, "channel_id": "c1"}))}),
        ),
        (
            "post_acknowledgement_removed",
            json!({"acknowledgement": s(json!({"user_id": "u2", "post_id": "p1", "acknowledged_at": 0, "channel_id": "c1"}))}),
        ),
        (
            "post_revealed",
            json!({"post": s(post("p1", "c1")), "recipients": ["u2"]}),
        ),
        ("post_burned", json!({"post_id": "p1"})),
        (
            "burn_on_read_all_revealed",
            json!({"post_id": "p1", "sender_expire_at": 9000}),
        ),
        (
            "persistent_notification_triggered",
            json!({"post": s(post("p1", "c1")), "channel_type": "O", "channel_display_name": "Town",
                   "channel_name": "town", "sender_name": "@alice", "team_id": "t1",
                   "otherFile": "true", "image": "true", "mentions": s(json!(["u2", "u3"]))}),
        ),
        (
            "thread_updated",
            json!({"thread": s(json!({"id": "p1", "reply_count": 2, "last_reply_at": 5, "last_viewed_at": 4,
                                      "participants": [user("u1")], "post": post("p1", "c1"),
                                      "unread_replies": 1, "unread_mentions": 1, "is_urgent": false, "delete_at": 0})),
                   "previous_unread_mentions": 0, "previous_unread_replies": 0}),
        ),
        (
            "thread_read_changed",
            json!({"thread_id": "p1", "timestamp": 1900, "unread_mentions": 0, "unread_replies": 0,
                   "previous_unread_mentions": 1, "previous_unread_replies": 2, "channel_id": "c1"}),
        ),
        (
            "thread_follow_changed",
            json!({"thread_id": "p1", "state": true, "reply_count": 4}),
        ),
        ("channel_scheme_updated", json!({})),
        (
            "channel_bookmark_created",
            json!({"bookmark": s(bookmark("b1"))}),
        ),
        (
            "channel_bookmark_updated",
            json!({"bookmarks": s(json!({"updated": bookmark("b2"), "deleted": bookmark("b1")}))}),
        ),
        (
            "channel_bookmark_deleted",
            json!({"bookmark": s(bookmark("b1"))}),
        ),
        (
            "channel_bookmark_sorted",
            json!({"bookmarks": s(json!([bookmark("b2"), bookmark("b1")]))}),
        ),
        (
            "delete_team",
            json!({"team": s(json!({"id": "t1", "name": "team-one", "delete_at": 5}))}),
        ),
        (
            "restore_team",
            json!({"team": s(json!({"id": "t1", "name": "team-one", "delete_at": 0}))}),
        ),
        (
            "update_team_scheme",
            json!({"team": s(json!({"id": "t1", "name": "team-one", "scheme_id": "s1"}))}),
        ),
        (
            "memberrole_updated",
            json!({"member": s(json!({"team_id": "t1", "user_id": "u1", "roles": "team_user team_admin",
                                      "delete_at": 0, "scheme_admin": true, "scheme_user": true, "scheme_guest": false}))}),
        ),
        ("user_activation_status_change", json!({})),
        ("guests_deactivated", json!({})),
        (
            "role_updated",
            json!({"role": s(json!({"id": "r1", "name": "team_user", "permissions": ["create_post"], "built_in": true}))}),
        ),
        (
            "preference_changed",
            json!({"preference": s(json!({"user_id": "u1", "category": "display_settings", "name": "collapse_previews", "value": "true"}))}),
        ),
        ("sidebar_category_created", json!({"category_id": "k1"})),
        (
            "sidebar_category_updated",
            json!({"updatedCategories": s(json!([{"id": "k1", "user_id": "u1", "team_id": "t1", "type": "custom",
                                                   "display_name": "Mine", "sorting": "", "muted": false,
                                                   "collapsed": false, "sort_order": 10, "channel_ids": ["c1"]}]))}),
        ),
        ("sidebar_category_deleted", json!({"category_id": "k1"})),
        (
            "sidebar_category_order_updated",
            json!({"order": ["k2", "k1"]}),
        ),
        (
            "draft_created",
            json!({"draft": s(json!({"create_at": 1, "update_at": 2, "delete_at": 0, "user_id": "u1", "channel_id": "c1",
                                     "root_id": "", "message": "wip", "props": {}, "file_ids": []}))}),
        ),
        (
            "draft_deleted",
            json!({"draft": s(json!({"user_id": "u1", "channel_id": "c1", "root_id": "p1", "message": "wip"}))}),
        ),
        (
            "scheduled_post_created",
            json!({"scheduledPost": s(json!({"id": "sp1", "user_id": "u1", "channel_id": "c1", "message": "later",
                                             "scheduled_at": 99, "processed_at": 0, "error_code": ""}))}),
        ),
        (
            "scheduled_post_updated",
            json!({"scheduledPost": s(json!({"id": "sp1", "user_id": "u1", "channel_id": "c1", "message": "later",
                                             "scheduled_at": 99, "processed_at": 100, "error_code": "channel_archived"}))}),
        ),
        (
            "scheduled_post_deleted",
            json!({"scheduledPost": s(json!({"id": "sp1", "user_id": "u1", "channel_id": "c1"}))}),
        ),
        (
            "open_dialog",
            json!({"dialog": s(json!({"trigger_id": "tr1", "url": "http://127.0.0.1/dialog",
                                      "dialog": {"callback_id": "cb", "title": "Title", "introduction_text": "",
                                                 "icon_url": "", "elements": [{"display_name": "Name", "name": "n", "type": "text"}],
                                                 "submit_label": "Go", "notify_on_cancel": true, "state": "st"}}))}),
        ),
        (
            "received_group",
            json!({"group": s(json!({"id": "g1", "name": "devs", "display_name": "Devs", "source": "custom",
                                     "allow_reference": true, "member_count": 3, "delete_at": 0}))}),
        ),
        (
            "received_group_associated_to_team",
            json!({"group_id": "g1"}),
        ),
        (
            "received_group_not_associated_to_team",
            json!({"group_id": "g1"}),
        ),
        (
            "received_group_associated_to_channel",
            json!({"group_id": "g1"}),
        ),
        (
            "received_group_not_associated_to_channel",
            json!({"group_id": "g1"}),
        ),
        (
            "group_member_add",
            json!({"group_member": s(json!({"group_id": "g1", "user_id": "u1", "create_at": 1, "delete_at": 0}))}),
        ),
        (
            "group_member_deleted",
            json!({"group_member": s(json!({"group_id": "g1", "user_id": "u1", "create_at": 1, "delete_at": 2}))}),
        ),
        (
            "custom_profile_attributes_field_created",
            json!({"field": {"id": "f1", "group_id": "gr", "name": "Team", "type": "text",
                             "attrs": {"visibility": "when_set", "sort_order": 1}, "target_id": "", "target_type": "",
                             "create_at": 1, "update_at": 1, "delete_at": 0}}),
        ),
        (
            "custom_profile_attributes_field_updated",
            json!({"field": {"id": "f1", "name": "Team", "type": "select", "attrs": {"options": []}}, "delete_values": true}),
        ),
        (
            "custom_profile_attributes_field_deleted",
            json!({"field_id": "f1"}),
        ),
        (
            "custom_profile_attributes_values_updated",
            json!({"user_id": "u1", "values": {"f1": "Platform", "f2": ["o1", "o2"]}}),
        ),
        (
            "content_flagging_report_value_updated",
            json!({"property_values": s(json!([
                       {"id": "v1", "target_id": "p1", "target_type": "post", "group_id": "gr", "field_id": "status", "value": "Pending", "create_at": 1, "update_at": 1, "delete_at": 0},
                       {"id": "v2", "target_id": "p1", "target_type": "post", "group_id": "gr", "field_id": "at", "value": 1700000000000_i64},
                       {"id": "v3", "target_id": "p1", "target_type": "post", "group_id": "gr", "field_id": "hidden", "value": true}])),
                   "target_id": "p1"}),
        ),
        (
            "config_changed",
            json!({"config": {"SiteName": "Mattermost", "EnableCustomEmoji": "true"}}),
        ),
        (
            "license_changed",
            json!({"license": {"IsLicensed": "false"}}),
        ),
        (
            "plugin_enabled",
            json!({"manifest": {"id": "com.example.p", "name": "P", "version": "1.0.0",
                                "webapp": {"bundle_path": "/static/com.example.p/com.example.p_abc_bundle.js"}}}),
        ),
        (
            "plugin_disabled",
            json!({"manifest": {"id": "com.example.p", "name": "P", "version": "1.0.0"}}),
        ),
        (
            "plugin_statuses_changed",
            json!({"plugin_statuses": [{"plugin_id": "com.example.p", "cluster_id": "", "plugin_path": "/p",
                                        "state": 2, "error": "", "name": "P", "description": "", "version": "1.0.0"}]}),
        ),
        (
            "hosted_customer_signup_progress_updated",
            json!({"progress": "PAID"}),
        ),
        (
            "first_admin_visit_marketplace_status_received",
            json!({"firstAdminVisitMarketplaceStatus": "true"}),
        ),
        (
            "posted",
            json!({"channel_type": "D", "channel_display_name": "@bob", "channel_name": "u1__u2",
                   "sender_name": "@alice", "team_id": "", "set_online": true, "otherFile": "true",
                   "image": "true", "post": s(post("p1", "c1")), "mentions": s(json!(["u2"])),
                   "should_ack": true}),
        ),
        ("channel_updated", json!({"channel_id": "c7"})),
    ]
}

/// The data with a key no server sends (it must be ignored).
fn with_extra_key(data: &Value) -> Value {
    let mut data = data.clone();
    if let Some(map) = data.as_object_mut() {
        map.insert(
            "zz_key_of_a_newer_server".into(),
            json!({"nested": [1, "two"]}),
        );
    }
    data
}

/// A frame as the server writes it (`event` before `data`: the listener's one-pass path).
fn frame(event: &str, data: &Value) -> String {
    let text = format!(
        r#"{{"event":{},"data":{data},"broadcast":{{"omit_users":null,"user_id":"u1","channel_id":"c1","team_id":"t1","connection_id":"","omit_connection_id":""}},"seq":7}}"#,
        Value::String(event.into())
    );
    assert!(text.find("\"event\"") < text.find("\"data\""));
    text
}

/// The same with `data` first (the listener's careful path).
fn frame_data_first(event: &str, data: &Value) -> String {
    format!(
        r#"{{"data":{},"seq":7,"event":{}}}"#,
        data,
        Value::String(event.into())
    )
}

fn parse_event(text: &str) -> Event {
    match Frame::parse(text) {
        Ok(Frame::Event(ev)) => ev,
        other => panic!("not an event: {other:?}\n{text}"),
    }
}

#[test]
fn every_server_event_decodes_typed_not_unknown() {
    let mut unknown = Vec::new();
    for (event, data) in cases() {
        let data = with_extra_key(&data);
        for text in [frame(event, &data), frame_data_first(event, &data)] {
            let ev = parse_event(&text);
            assert_eq!(ev.event_type(), event);
            assert_eq!(ev.raw(), text);
            assert_eq!(ev.seq, Some(7));
            if matches!(ev.kind, EventKind::Unknown { .. }) {
                unknown.push(event);
                break;
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "{} event types arrive as Unknown: {unknown:?}",
        unknown.len()
    );
}

/// Each event's typed fields, as the table above sent them.
fn check(ev: &Event) {
    match &ev.kind {
        EventKind::PostUnread(u) => {
            assert_eq!(
                (u.post_id.as_str(), u.msg_count, u.msg_count_root),
                ("p1", 3, 2)
            );
            assert_eq!(
                (
                    u.mention_count,
                    u.mention_count_root,
                    u.urgent_mention_count
                ),
                (1, 1, 0)
            );
            assert_eq!(u.last_viewed_at, 1700);
        }
        EventKind::PostAcknowledgementAdded(a) => {
            assert_eq!(a.acknowledgement.user_id.as_deref(), Some("u2"));
            assert_eq!(a.acknowledgement.acknowledged_at, Some(1800));
            assert_eq!(ev.channel_id(), Some("c1"));
        }
        EventKind::PostAcknowledgementRemoved(a) => {
            assert_eq!(a.acknowledgement.post_id.as_deref(), Some("p1"));
        }
        EventKind::PostRevealed(p) => {
            assert_eq!(p.post.id.as_deref(), Some("p1"));
            assert_eq!(p.recipients.as_deref(), Some(&["u2".to_owned()][..]));
        }
        EventKind::PostBurned(p) => assert_eq!(p.post_id, "p1"),
        EventKind::BurnOnReadAllRevealed(b) => {
            assert_eq!((b.post_id.as_str(), b.sender_expire_at), ("p1", 9000));
        }
        EventKind::PersistentNotificationTriggered(p) => {
            assert_eq!(p.post.id.as_deref(), Some("p1"));
            assert_eq!(p.mentions, ["u2", "u3"]);
            assert!(p.other_file && p.image);
            assert_eq!((p.channel_type.as_str(), p.team_id.as_str()), ("O", "t1"));
            assert_eq!(p.sender_name, "@alice");
        }
        EventKind::ThreadUpdated(t) => {
            assert_eq!(t.thread.id.as_deref(), Some("p1"));
            assert_eq!(t.thread.reply_count, Some(2));
            assert_eq!(
                t.thread.post.as_ref().and_then(|p| p.channel_id.as_deref()),
                Some("c1")
            );
            let participants = t.thread.participants.as_deref().unwrap_or_default();
            assert_eq!(participants[0].id.as_deref(), Some("u1"));
            assert_eq!(t.previous_unread_mentions, Some(0));
            assert_eq!(t.previous_unread_replies, Some(0));
        }
        EventKind::ThreadReadChanged(t) => {
            assert_eq!(t.thread_id.as_deref(), Some("p1"));
            assert_eq!(t.timestamp, Some(1900));
            assert_eq!((t.unread_mentions, t.unread_replies), (Some(0), Some(0)));
            assert_eq!(
                (t.previous_unread_mentions, t.previous_unread_replies),
                (Some(1), Some(2))
            );
            assert_eq!(ev.channel_id(), Some("c1"));
        }
        EventKind::ThreadFollowChanged(t) => {
            assert_eq!(
                (t.thread_id.as_str(), t.state, t.reply_count),
                ("p1", true, 4)
            );
        }
        EventKind::ChannelSchemeUpdated
        | EventKind::UserActivationStatusChange
        | EventKind::GuestsDeactivated => {}
        EventKind::ChannelBookmarkCreated(b) | EventKind::ChannelBookmarkDeleted(b) => {
            assert_eq!(b.bookmark.id.as_deref(), Some("b1"));
            assert_eq!(b.bookmark.type_.as_deref(), Some("link"));
            assert_eq!(b.bookmark.display_name.as_deref(), Some("Docs"));
        }
        EventKind::ChannelBookmarkUpdated(b) => {
            let updated = b.bookmarks.updated.as_ref().expect("updated");
            assert_eq!(updated.id.as_deref(), Some("b2"));
            let deleted = b.bookmarks.deleted.as_ref().expect("deleted");
            assert_eq!(deleted.id.as_deref(), Some("b1"));
        }
        EventKind::ChannelBookmarkSorted(b) => {
            let ids: Vec<_> = b.bookmarks.iter().map(|b| b.id.as_deref()).collect();
            assert_eq!(ids, [Some("b2"), Some("b1")]);
        }
        EventKind::DeleteTeam(t) | EventKind::RestoreTeam(t) | EventKind::UpdateTeamScheme(t) => {
            assert_eq!(t.team.id.as_deref(), Some("t1"));
        }
        EventKind::MemberRoleUpdated(m) => {
            assert_eq!(m.member.roles.as_deref(), Some("team_user team_admin"));
            assert_eq!(m.member.scheme_admin, Some(true));
        }
        EventKind::RoleUpdated(r) => {
            assert_eq!(r.role.name.as_deref(), Some("team_user"));
            assert_eq!(
                r.role.permissions.as_deref(),
                Some(&["create_post".to_owned()][..])
            );
        }
        EventKind::PreferenceChanged(p) => {
            assert_eq!(p.preference.name.as_deref(), Some("collapse_previews"));
            assert_eq!(p.preference.value.as_deref(), Some("true"));
        }
        EventKind::SidebarCategoryCreated(c) | EventKind::SidebarCategoryDeleted(c) => {
            assert_eq!(c.category_id, "k1");
        }
        EventKind::SidebarCategoryUpdated(c) => {
            assert_eq!(c.updated_categories.len(), 1);
            assert_eq!(
                c.updated_categories[0].display_name.as_deref(),
                Some("Mine")
            );
            assert_eq!(
                c.updated_categories[0].channel_ids.as_deref(),
                Some(&["c1".to_owned()][..])
            );
        }
        EventKind::SidebarCategoryOrderUpdated(o) => assert_eq!(o.order, ["k2", "k1"]),
        EventKind::DraftCreated(d) | EventKind::DraftDeleted(d) => {
            assert_eq!(d.draft.message.as_deref(), Some("wip"));
            assert_eq!(ev.channel_id(), Some("c1"));
        }
        EventKind::ScheduledPostCreated(p)
        | EventKind::ScheduledPostUpdated(p)
        | EventKind::ScheduledPostDeleted(p) => {
            assert_eq!(p.scheduled_post.id.as_deref(), Some("sp1"));
        }
        EventKind::OpenDialog(d) => {
            assert_eq!(d.dialog.trigger_id, "tr1");
            assert_eq!(d.dialog.dialog.callback_id, "cb");
            assert_eq!(d.dialog.dialog.elements[0]["name"], "n");
            assert!(d.dialog.dialog.notify_on_cancel);
        }
        EventKind::ReceivedGroup(g) => {
            assert_eq!(g.group.name.as_deref(), Some("devs"));
            assert_eq!(g.group.member_count, Some(3));
        }
        EventKind::ReceivedGroupAssociatedToTeam(g)
        | EventKind::ReceivedGroupNotAssociatedToTeam(g)
        | EventKind::ReceivedGroupAssociatedToChannel(g)
        | EventKind::ReceivedGroupNotAssociatedToChannel(g) => assert_eq!(g.group_id, "g1"),
        EventKind::GroupMemberAdd(m) | EventKind::GroupMemberDeleted(m) => {
            assert_eq!(m.group_member.group_id.as_deref(), Some("g1"));
        }
        EventKind::CustomProfileAttributesFieldCreated(f) => {
            assert_eq!(f.field.id.as_deref(), Some("f1"));
            assert_eq!(
                f.field.attrs.as_ref().map(|a| a["visibility"].clone()),
                Some(json!("when_set"))
            );
            assert!(!f.delete_values);
        }
        EventKind::CustomProfileAttributesFieldUpdated(f) => {
            assert_eq!(f.field.type_.as_deref(), Some("select"));
            assert!(f.delete_values);
        }
        EventKind::CustomProfileAttributesFieldDeleted(f) => assert_eq!(f.field_id, "f1"),
        EventKind::CustomProfileAttributesValuesUpdated(v) => {
            assert_eq!(v.user_id, "u1");
            assert_eq!(v.values["f1"], "Platform");
            assert_eq!(v.values["f2"], json!(["o1", "o2"]));
        }
        EventKind::ContentFlaggingReportValueUpdated(c) => {
            assert_eq!(c.target_id, "p1");
            let values: Vec<_> = c.property_values.iter().map(|v| v.value.clone()).collect();
            assert_eq!(
                values,
                [json!("Pending"), json!(1700000000000_i64), json!(true)]
            );
            assert_eq!(c.property_values[0].field_id, "status");
        }
        EventKind::ConfigChanged(c) => assert_eq!(c.config["EnableCustomEmoji"], "true"),
        EventKind::LicenseChanged(l) => assert_eq!(l.license["IsLicensed"], "false"),
        EventKind::PluginEnabled(p) | EventKind::PluginDisabled(p) => {
            assert_eq!(p.manifest.id.as_deref(), Some("com.example.p"));
        }
        EventKind::PluginStatusesChanged(p) => {
            assert_eq!(
                p.plugin_statuses[0].plugin_id.as_deref(),
                Some("com.example.p")
            );
            assert_eq!(p.plugin_statuses[0].state, Some(2.0));
        }
        EventKind::HostedCustomerSignupProgressUpdated(p) => assert_eq!(p.progress, "PAID"),
        EventKind::FirstAdminVisitMarketplaceStatusReceived(s) => {
            assert!(s.first_admin_visit_marketplace_status);
        }
        EventKind::Posted(p) => {
            assert!(p.should_ack && p.other_file && p.image && p.set_online);
            assert_eq!(p.mentions, ["u2"]);
            assert_eq!(p.post.id.as_deref(), Some("p1"));
        }
        EventKind::ChannelUpdated(c) => {
            assert_eq!(c.channel_id, "c7");
            assert_eq!(c.channel.id, None);
            assert_eq!(ev.channel_id(), Some("c7"));
        }
        other => panic!("{}: unexpected kind {other:?}", ev.event_type()),
    }
}

#[test]
fn every_server_event_has_its_fields_typed() {
    for (event, data) in cases() {
        let data = with_extra_key(&data);
        for text in [frame(event, &data), frame_data_first(event, &data)] {
            check(&parse_event(&text));
        }
    }
}

#[test]
fn fields_the_server_leaves_out_take_their_defaults() {
    // thread_read_changed for every thread of a team carries no data; the one for a viewed
    // channel only a timestamp; sidebar_category_updated after a change of preferences none.
    let ev = parse_event(&frame("thread_read_changed", &json!({})));
    let EventKind::ThreadReadChanged(t) = &ev.kind else {
        panic!("{:?}", ev.kind)
    };
    assert_eq!((t.thread_id.as_deref(), t.timestamp), (None, None));
    let ev = parse_event(&frame("thread_read_changed", &json!({"timestamp": 5})));
    assert!(
        matches!(&ev.kind, EventKind::ThreadReadChanged(t) if t.timestamp == Some(5) && t.thread_id.is_none())
    );
    let ev = parse_event(&frame("sidebar_category_updated", &json!({})));
    assert!(
        matches!(&ev.kind, EventKind::SidebarCategoryUpdated(c) if c.updated_categories.is_empty())
    );
    let ev = parse_event(&frame("post_revealed", &json!({"post": post("p1", "c1")})));
    assert!(matches!(&ev.kind, EventKind::PostRevealed(p) if p.recipients.is_none()));
    let ev = parse_event(&frame(
        "posted",
        &json!({"post": post("p1", "c1").to_string()}),
    ));
    assert!(matches!(&ev.kind, EventKind::Posted(p) if !p.should_ack && !p.image && !p.other_file));
    // No `data` at all.
    let ev = parse_event(r#"{"event":"guests_deactivated","seq":1}"#);
    assert!(matches!(ev.kind, EventKind::GuestsDeactivated));
}

#[test]
fn a_malformed_known_field_is_a_bad_frame_keeping_the_frame() {
    let bad = [
        ("post_unread", json!({"msg_count": "three"})),
        (
            "thread_follow_changed",
            json!({"thread_id": "p1", "state": "yes"}),
        ),
        ("thread_updated", json!({"thread": "{not json"})),
        ("thread_read_changed", json!({"timestamp": "noon"})),
        ("posted", json!({"otherFile": "maybe"})),
        ("persistent_notification_triggered", json!({"image": 3})),
        (
            "post_acknowledgement_added",
            json!({"acknowledgement": "[1]"}),
        ),
        ("channel_bookmark_sorted", json!({"bookmarks": "{}"})),
        ("config_changed", json!({"config": {"SiteName": 1}})),
        (
            "custom_profile_attributes_values_updated",
            json!({"values": []}),
        ),
        ("sidebar_category_order_updated", json!({"order": "k1,k2"})),
        (
            "first_admin_visit_marketplace_status_received",
            json!({"firstAdminVisitMarketplaceStatus": "yes"}),
        ),
        (
            "content_flagging_report_value_updated",
            json!({"property_values": "[{\"id\": 5}]"}),
        ),
        (
            "open_dialog",
            json!({"dialog": "{\"dialog\": {\"elements\": 1}}"}),
        ),
    ];
    for (event, data) in bad {
        for text in [frame(event, &data), frame_data_first(event, &data)] {
            let parsed = Frame::parse(text.clone());
            match parsed.as_ref().map_err(|e| e.as_websocket()) {
                Err(Some(
                    e @ WsError::BadFrame {
                        kind: BadFrameKind::UnexpectedShape,
                        ..
                    },
                )) => {
                    assert_eq!(e.raw_frame(), Some(text.as_bytes()), "{event}");
                    assert!(e.to_string().contains(event), "{event}: {e}");
                }
                _ => panic!("{event}: expected a bad frame, got {parsed:?}"),
            }
        }
    }
}

/// The next event, failing the test after 5 s.
async fn next_event(stream: &mut EventStream) -> Event {
    loop {
        let item = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("an item within 5 s")
            .expect("the stream goes on");
        match item {
            WsItem::Event(ev) => return ev,
            WsItem::Error(e) => panic!("error: {e}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_listener_delivers_every_server_event_typed_and_newer_ones_as_unknown() {
    let peer = Peer::start().await;
    let (_handle, mut stream) = peer.client().websocket().connect().await.expect("connect");
    let hello = next_event(&mut stream).await;
    assert!(matches!(hello.kind, EventKind::Hello(_)));
    let table = cases();
    for (event, data) in &table {
        peer.publish(event, with_extra_key(data));
    }
    peer.publish("a_future_event", json!({"x": 1}));
    peer.publish("custom_com.example.p_ping", json!({"y": 2}));
    for (event, _) in &table {
        let ev = next_event(&mut stream).await;
        assert_eq!(ev.event_type(), *event);
        check(&ev);
    }
    for (event, key) in [("a_future_event", "x"), ("custom_com.example.p_ping", "y")] {
        let ev = next_event(&mut stream).await;
        match &ev.kind {
            EventKind::Unknown { event: e, data } => {
                assert_eq!(e, event);
                assert!(data.get(key).is_some());
            }
            other => panic!("expected Unknown, got {other:?}"),
        }
    }
}
