//! Live API tests: the generated client against a real Mattermost server (`cargo xtask server
//! start`). Each test checks one behaviour of the server through the SDK's generated calls: values
//! round-trip, ids match, and state changes are visible in a following read.
//!
//! Tests are independent and re-runnable against the same server: names are unique per run and
//! what a test creates is removed (or archived, or disabled) at its end when the API allows it.

mod support;

use std::collections::HashSet;
use std::fmt::Debug;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use matterapi::{Client, Error, ResponseValue, types};
use support::{Connection, admin};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Reply<T> = matterapi::Result<ResponseValue<T>>;

/// The value of a reply that must succeed; a failure panics with the SDK's error (which keeps the
/// body of a reply that did not decode).
fn ok<T>(what: &str, reply: Reply<T>) -> T {
    match reply {
        Ok(v) => v.into_inner(),
        Err(e) => panic!("{what}: {}", e),
    }
}

/// The SDK error of a reply that must fail.
fn fails<T: Debug>(what: &str, reply: Reply<T>) -> Error {
    match reply {
        Ok(v) => panic!("{what}: expected an error, got {:?}", v.into_inner()),
        Err(e) => e,
    }
}

fn status(err: &Error) -> Option<u16> {
    err.status().map(|s| s.as_u16())
}

async fn alice(conn: &Connection) -> Client {
    support::login(conn, &conn.user.username, &conn.user.password, None)
        .await
        .expect("alice logs in")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// A post in `channel_id` by the client's user.
async fn post(
    client: &Client,
    channel_id: &str,
    message: &str,
    root_id: Option<&str>,
) -> types::Post {
    ok(
        "create post",
        client
            .create_post()
            .body(types::CreatePostBody {
                channel_id: channel_id.into(),
                message: message.into(),
                file_ids: vec![],
                metadata: None,
                props: Default::default(),
                root_id: root_id.map(Into::into),
                pending_post_id: None,
                type_: None,
            })
            .send()
            .await,
    )
}

/// A public channel in the test team, made by the admin.
async fn public_channel(conn: &Connection, admin: &Client) -> types::Channel {
    let name = support::unique("matterapi-ch-");
    ok(
        "create channel",
        admin
            .create_channel()
            .body(types::CreateChannelBody {
                team_id: conn.team.id.clone(),
                name: name.clone(),
                display_name: format!("Channel {name}"),
                type_: "O".into(),
                purpose: Some("made by the live tests".into()),
                header: None,
                default_category_name: None,
                managed_category_name: None,
            })
            .send()
            .await,
    )
}

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238 over RFC 4226, HMAC-SHA-1), for the MFA test
// ---------------------------------------------------------------------------------------------

fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hi = hi.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..20].copy_from_slice(&sha1(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(msg);
    let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&sha1(&inner));
    sha1(&outer)
}

fn base32_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut bits, mut n) = (0u64, 0u32);
    for c in text.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let c = c.to_ascii_uppercase();
        let v = match c {
            'A'..='Z' => c as u64 - 'A' as u64,
            '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => panic!("not base32: {c:?} in {text:?}"),
        };
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

/// The 6-digit code of time step `step` (30 s steps since the epoch).
fn totp(secret: &[u8], step: u64) -> String {
    let mac = hmac_sha1(secret, &step.to_be_bytes());
    let off = (mac[19] & 0x0f) as usize;
    let bin =
        u32::from_be_bytes([mac[off], mac[off + 1], mac[off + 2], mac[off + 3]]) & 0x7fff_ffff;
    format!("{:06}", bin % 1_000_000)
}

fn totp_step() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
        / 30
}

#[test]
fn totp_matches_the_rfc_6238_sha1_test_vectors() {
    // RFC 6238 appendix B: secret "12345678901234567890"; 8-digit codes, of which we keep 6.
    let secret = b"12345678901234567890";
    assert_eq!(totp(secret, 59 / 30), "287082");
    assert_eq!(totp(secret, 1_111_111_109 / 30), "081804");
    assert_eq!(totp(secret, 2_000_000_000 / 30), "279037");
    assert_eq!(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), secret);
}

// ---------------------------------------------------------------------------------------------
// 1. Authentication
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_with_password_gives_a_session_of_that_user() {
    let Some(conn) = support::live() else { return };
    let alice = alice(&conn).await;
    let me = ok("get me", alice.get_user().user_id("me").send().await);
    assert_eq!(me.id.as_deref(), Some(conn.user.id.as_str()));
    assert_eq!(me.username.as_deref(), Some(conn.user.username.as_str()));
    // `is_bot` is omitted for a person.
    assert_ne!(me.is_bot, Some(true));
    alice.logout().await.expect("logout");
}

#[tokio::test]
async fn login_with_a_wrong_password_is_refused_with_401_and_the_error_id() {
    let Some(conn) = support::live() else { return };
    let err = support::login(&conn, &conn.user.username, "not-the-password", None)
        .await
        .expect_err("a wrong password is refused");
    assert_eq!(status(&err), Some(401), "{err}");
    assert_eq!(
        err.error_id(),
        Some("api.user.login.invalid_credentials_email_username")
    );
    assert!(err.request_id().is_some_and(|r| !r.is_empty()), "{err}");
    // A successful login resets the failed attempt counter, so re-runs never lock alice out.
    let alice = alice(&conn).await;
    alice.logout().await.expect("logout");
}

#[tokio::test]
async fn personal_access_token_authenticates_as_its_owner() {
    let Some(conn) = support::live() else { return };
    let me = ok("get me", admin(&conn).get_user().user_id("me").send().await);
    assert_eq!(me.id.as_deref(), Some(conn.admin.id.as_str()));
    assert_eq!(me.username.as_deref(), Some(conn.admin.username.as_str()));
    assert!(
        me.roles.as_deref().unwrap_or("").contains("system_admin"),
        "{:?}",
        me.roles
    );
}

#[tokio::test]
async fn bot_token_authenticates_as_the_bot_user() {
    let Some(conn) = support::live() else { return };
    let bot = support::client(&conn, &conn.bot.token);
    let me = ok("get me", bot.get_user().user_id("me").send().await);
    assert_eq!(me.id.as_deref(), Some(conn.bot.user_id.as_str()));
    assert_eq!(me.is_bot, Some(true));
}

#[tokio::test]
async fn login_with_password_and_totp_code_once_mfa_is_active() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let user = &conn.mfa_user;
    // A run that failed half-way may have left MFA active: start from inactive.
    let _ = admin
        .update_user_mfa()
        .user_id(&user.id)
        .body(types::UpdateUserMfaBody {
            activate: false,
            code: None,
        })
        .send()
        .await;

    let session = support::login(&conn, &user.username, &user.password, None)
        .await
        .expect("login before MFA");
    let generated = ok(
        "generate MFA secret",
        session.generate_mfa_secret().user_id("me").send().await,
    );
    let secret = base32_decode(generated.secret.as_deref().expect("secret"));
    assert!(!secret.is_empty());
    assert!(generated.qr_code.as_deref().is_some_and(|q| !q.is_empty()));

    let activated_step = totp_step();
    ok(
        "activate MFA",
        session
            .update_user_mfa()
            .user_id("me")
            .body(types::UpdateUserMfaBody {
                activate: true,
                code: Some(totp(&secret, activated_step)),
            })
            .send()
            .await,
    );
    let seen = ok("get user", admin.get_user().user_id(&user.id).send().await);
    assert_eq!(seen.mfa_active, Some(true));

    // The password alone no longer logs in.
    let err = support::login(&conn, &user.username, &user.password, None)
        .await
        .expect_err("MFA required");
    assert_eq!(status(&err), Some(401), "{err}");
    assert_eq!(
        err.error_id(),
        Some("mfa.validate_token.authenticate.app_error"),
        "{err}"
    );

    // A code already used is refused until the next time step: wait for it (at most 31 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(31);
    while totp_step() <= activated_step {
        assert!(std::time::Instant::now() < deadline, "clock stalled");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The client makes the code from the secret at each login: a relogin (what a revoked session
    // or the websocket does) sends a fresh one, waiting for the next step (the server refuses a
    // code it has seen).
    let with_code = Client::builder(conn.url.as_str())
        .login_totp(
            &user.username,
            &user.password,
            generated.secret.as_deref().expect("secret"),
        )
        .build()
        .expect("client");
    with_code
        .login()
        .await
        .expect("login with password and a code from the TOTP secret");
    let first_token = with_code.token().expect("a session");
    let me = ok("get me", with_code.get_user().user_id("me").send().await);
    assert_eq!(me.id.as_deref(), Some(user.id.as_str()));
    with_code
        .relogin()
        .await
        .expect("a second login with a fresh code from the secret");
    let second_token = with_code.token().expect("a session");
    {
        use secrecy::ExposeSecret;
        assert_ne!(
            first_token.expose_secret(),
            second_token.expose_secret(),
            "a new session"
        );
    }
    let me = ok("get me", with_code.get_user().user_id("me").send().await);
    assert_eq!(me.id.as_deref(), Some(user.id.as_str()));

    ok(
        "deactivate MFA",
        with_code
            .update_user_mfa()
            .user_id("me")
            .body(types::UpdateUserMfaBody {
                activate: false,
                code: None,
            })
            .send()
            .await,
    );
    let seen = ok("get user", admin.get_user().user_id(&user.id).send().await);
    // `mfa_active` is omitted when false.
    assert_ne!(seen.mfa_active, Some(true));
    with_code.logout().await.expect("logout");
    session.logout().await.expect("logout");
}

#[tokio::test]
async fn a_username_that_walks_the_path_is_refused_before_it_is_sent() {
    let Some(conn) = support::live() else { return };
    let bot = support::client(&conn, &conn.bot.token);
    // Sent, the server would decode `%2F` and answer `GET /users/me`: the bot itself.
    for hostile in ["../../users/me", "..", "..\\..\\users\\me"] {
        let err = bot
            .get_user_by_username()
            .username(hostile)
            .send()
            .await
            .expect_err(hostile);
        assert!(
            matches!(&err, Error::InvalidPathParameter { name, .. } if name == "username"),
            "{hostile}: {err:?}"
        );
    }
    let alice = ok(
        "a plain username",
        bot.get_user_by_username()
            .username(&conn.user.username)
            .send()
            .await,
    );
    assert_eq!(alice.id.as_deref(), Some(conn.user.id.as_str()));
}

#[tokio::test]
async fn revoked_session_is_refused_and_a_new_login_works() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let bob = &conn.user2;
    // A unique device id names this login's session among bob's sessions.
    let device_id = support::unique("matterapi-device-");
    let old = Client::builder(conn.url.as_str()).build().expect("client");
    let reply = old
        .users_login()
        .body(types::UsersLoginBody {
            login_id: Some(bob.username.clone()),
            password: Some(bob.password.clone()),
            device_id: Some(device_id.clone()),
            ..Default::default()
        })
        .send()
        .await
        .expect("bob logs in");
    assert_eq!(reply.id.as_deref(), Some(bob.id.as_str()));
    let token = reply
        .headers()
        .get("token")
        .and_then(|v| v.to_str().ok())
        .expect("Token header")
        .to_owned();
    old.set_token(token);
    ok("get me", old.get_user().user_id("me").send().await);

    let sessions = ok(
        "get sessions",
        admin.get_sessions().user_id(&bob.id).send().await,
    );
    let session = sessions
        .iter()
        .find(|s| s.device_id.as_deref() == Some(device_id.as_str()))
        .expect("the new session is listed");
    assert_eq!(session.user_id.as_deref(), Some(bob.id.as_str()));
    let session_id = session.id.clone().expect("session id");

    ok(
        "revoke session",
        admin
            .revoke_session()
            .user_id(&bob.id)
            .body(types::RevokeSessionBody {
                session_id: session_id.clone(),
            })
            .send()
            .await,
    );
    let err = fails(
        "get me after revocation",
        old.get_user().user_id("me").send().await,
    );
    assert_eq!(status(&err), Some(401), "{err}");
    assert_eq!(
        err.error_id(),
        Some("api.context.session_expired.app_error"),
        "{err}"
    );
    let sessions = ok(
        "get sessions",
        admin.get_sessions().user_id(&bob.id).send().await,
    );
    assert!(
        sessions
            .iter()
            .all(|s| s.id.as_deref() != Some(session_id.as_str()))
    );

    let new = support::login(&conn, &bob.username, &bob.password, None)
        .await
        .expect("a new login works");
    let me = ok("get me", new.get_user().user_id("me").send().await);
    assert_eq!(me.id.as_deref(), Some(bob.id.as_str()));
    new.logout().await.expect("logout");
}

// ---------------------------------------------------------------------------------------------
// 2. Users
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn user_is_found_by_id_username_and_email() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let by_id = ok(
        "by id",
        admin.get_user().user_id(&conn.user.id).send().await,
    );
    let by_name = ok(
        "by username",
        admin
            .get_user_by_username()
            .username(&conn.user.username)
            .send()
            .await,
    );
    let by_email = ok(
        "by email",
        admin
            .get_user_by_email()
            .email(&conn.user.email)
            .send()
            .await,
    );
    for u in [&by_id, &by_name, &by_email] {
        assert_eq!(u.id.as_deref(), Some(conn.user.id.as_str()));
        assert_eq!(u.username.as_deref(), Some(conn.user.username.as_str()));
        assert_eq!(u.email.as_deref(), Some(conn.user.email.as_str()));
    }
}

#[tokio::test]
async fn search_users_finds_a_user_by_username() {
    let Some(conn) = support::live() else { return };
    let found = ok(
        "search users",
        admin(&conn)
            .search_users()
            .body(types::SearchUsersBody {
                term: conn.user.username.clone(),
                team_id: Some(conn.team.id.clone()),
                limit: 10,
                allow_inactive: None,
                group_constrained: None,
                in_channel_id: None,
                in_group_id: None,
                not_in_channel_id: None,
                not_in_team_id: None,
                without_team: None,
            })
            .send()
            .await,
    );
    assert!(
        found
            .iter()
            .any(|u| u.id.as_deref() == Some(conn.user.id.as_str())),
        "{found:?}"
    );
}

#[tokio::test]
async fn patched_nickname_is_read_back() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let nickname = support::unique("nick");
    let patched = ok(
        "patch user",
        admin
            .patch_user()
            .user_id(&conn.user.id)
            .body(types::PatchUserBody {
                nickname: Some(nickname.clone()),
                ..Default::default()
            })
            .send()
            .await,
    );
    assert_eq!(patched.nickname.as_deref(), Some(nickname.as_str()));
    let read = ok(
        "get user",
        admin.get_user().user_id(&conn.user.id).send().await,
    );
    assert_eq!(read.nickname.as_deref(), Some(nickname.as_str()));
}

#[tokio::test]
async fn users_in_team_are_paged() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let page = |n: i64| {
        admin
            .get_users()
            .in_team(&conn.team.id)
            .page(n)
            .per_page(2)
            .send()
    };
    let first = ok("page 0", page(0).await);
    let second = ok("page 1", page(1).await);
    assert_eq!(first.len(), 2, "the team has at least 4 users");
    assert!(!second.is_empty() && second.len() <= 2);
    let ids: HashSet<_> = first
        .iter()
        .chain(&second)
        .filter_map(|u| u.id.clone())
        .collect();
    assert_eq!(
        ids.len(),
        first.len() + second.len(),
        "pages do not overlap"
    );

    let all = ok(
        "all",
        admin
            .get_users()
            .in_team(&conn.team.id)
            .per_page(200)
            .send()
            .await,
    );
    for id in [&conn.admin.id, &conn.user.id, &conn.user2.id] {
        assert!(
            all.iter().any(|u| u.id.as_ref() == Some(id)),
            "{id} in team"
        );
    }
}

#[tokio::test]
async fn users_in_channel_are_paged() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let first = ok(
        "page 0",
        admin
            .get_users()
            .in_channel(&conn.channels.town_square)
            .page(0)
            .per_page(1)
            .send()
            .await,
    );
    let second = ok(
        "page 1",
        admin
            .get_users()
            .in_channel(&conn.channels.town_square)
            .page(1)
            .per_page(1)
            .send()
            .await,
    );
    assert_eq!(first.len(), 1);
    assert_eq!(second.len(), 1);
    assert_ne!(first[0].id, second[0].id);
    let far = ok(
        "page far beyond",
        admin
            .get_users()
            .in_channel(&conn.channels.town_square)
            .page(10_000)
            .per_page(100)
            .send()
            .await,
    );
    assert!(far.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 3. Teams
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn team_is_found_by_id_and_by_name() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let by_id = ok(
        "get team",
        admin.get_team().team_id(&conn.team.id).send().await,
    );
    let by_name = ok(
        "get team by name",
        admin.get_team_by_name().name(&conn.team.name).send().await,
    );
    assert_eq!(by_id.id.as_deref(), Some(conn.team.id.as_str()));
    assert_eq!(by_id.name.as_deref(), Some(conn.team.name.as_str()));
    assert_eq!(by_name.id, by_id.id);
    assert_eq!(by_name.display_name, by_id.display_name);
}

#[tokio::test]
async fn team_members_include_the_test_users() {
    let Some(conn) = support::live() else { return };
    let members = ok(
        "team members",
        admin(&conn)
            .get_team_members()
            .team_id(&conn.team.id)
            .per_page(200)
            .send()
            .await,
    );
    for id in [&conn.admin.id, &conn.user.id, &conn.user2.id] {
        let m = members
            .iter()
            .find(|m| m.user_id.as_ref() == Some(id))
            .unwrap_or_else(|| panic!("{id} is a member"));
        assert_eq!(m.team_id.as_deref(), Some(conn.team.id.as_str()));
    }
}

#[tokio::test]
async fn team_stats_count_the_members() {
    let Some(conn) = support::live() else { return };
    let stats = ok(
        "team stats",
        admin(&conn)
            .get_team_stats()
            .team_id(&conn.team.id)
            .send()
            .await,
    );
    assert_eq!(stats.team_id.as_deref(), Some(conn.team.id.as_str()));
    let total = stats.total_member_count.expect("total");
    let active = stats.active_member_count.expect("active");
    assert!(total >= 3, "{stats:?}");
    assert!(active >= 3 && active <= total, "{stats:?}");
}

#[tokio::test]
async fn teams_for_user_include_the_test_team() {
    let Some(conn) = support::live() else { return };
    let alice = alice(&conn).await;
    let teams = ok(
        "teams for user",
        alice.get_teams_for_user().user_id("me").send().await,
    );
    assert!(
        teams
            .iter()
            .any(|t| t.id.as_deref() == Some(conn.team.id.as_str())),
        "{teams:?}"
    );
    alice.logout().await.expect("logout");
}

// ---------------------------------------------------------------------------------------------
// 4. Channels
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn created_channel_is_found_by_id_and_by_name() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let channel = public_channel(&conn, &admin).await;
    let id = channel.id.clone().expect("id");
    let name = channel.name.clone().expect("name");
    assert_eq!(channel.type_.as_deref(), Some("O"));
    assert_eq!(channel.team_id.as_deref(), Some(conn.team.id.as_str()));
    assert_eq!(channel.creator_id.as_deref(), Some(conn.admin.id.as_str()));

    let by_id = ok(
        "get channel",
        admin.get_channel().channel_id(&id).send().await,
    );
    let by_name = ok(
        "get channel by name",
        admin
            .get_channel_by_name()
            .team_id(&conn.team.id)
            .channel_name(&name)
            .send()
            .await,
    );
    for c in [&by_id, &by_name] {
        assert_eq!(c.id.as_deref(), Some(id.as_str()));
        assert_eq!(c.name.as_deref(), Some(name.as_str()));
        assert_eq!(c.purpose.as_deref(), Some("made by the live tests"));
    }
    ok(
        "archive",
        admin.delete_channel().channel_id(&id).send().await,
    );
}

#[tokio::test]
async fn patched_channel_purpose_and_header_are_read_back() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let id = public_channel(&conn, &admin).await.id.expect("id");
    let purpose = support::unique("purpose ");
    let header = support::unique("header ");
    let patched = ok(
        "patch channel",
        admin
            .patch_channel()
            .channel_id(&id)
            .body(types::PatchChannelBody {
                purpose: Some(purpose.clone()),
                header: Some(header.clone()),
                ..Default::default()
            })
            .send()
            .await,
    );
    assert_eq!(patched.purpose.as_deref(), Some(purpose.as_str()));
    let read = ok(
        "get channel",
        admin.get_channel().channel_id(&id).send().await,
    );
    assert_eq!(read.purpose.as_deref(), Some(purpose.as_str()));
    assert_eq!(read.header.as_deref(), Some(header.as_str()));
    ok(
        "archive",
        admin.delete_channel().channel_id(&id).send().await,
    );
}

#[tokio::test]
async fn added_member_is_listed_in_channel_members_and_in_their_memberships() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let id = public_channel(&conn, &admin).await.id.expect("id");
    let added = ok(
        "add member",
        admin
            .add_channel_member()
            .channel_id(&id)
            .body(types::AddChannelMemberBody {
                user_id: Some(conn.user2.id.clone()),
                ..Default::default()
            })
            .send()
            .await,
    );
    assert_eq!(added.channel_id.as_deref(), Some(id.as_str()));
    assert_eq!(added.user_id.as_deref(), Some(conn.user2.id.as_str()));

    let members = ok(
        "channel members",
        admin
            .get_channel_members()
            .channel_id(&id)
            .page(0)
            .per_page(60)
            .send()
            .await,
    );
    let ids: HashSet<_> = members
        .iter()
        .filter_map(|m| m.user_id.as_deref())
        .collect();
    assert_eq!(
        ids,
        HashSet::from([conn.admin.id.as_str(), conn.user2.id.as_str()])
    );

    let memberships = ok(
        "channel members for user",
        admin
            .get_channel_members_for_user()
            .user_id(&conn.user2.id)
            .team_id(&conn.team.id)
            .send()
            .await,
    );
    assert!(
        memberships
            .iter()
            .any(|m| m.channel_id.as_deref() == Some(id.as_str())
                && m.user_id.as_deref() == Some(conn.user2.id.as_str())),
        "the new channel is among bob's memberships"
    );
    ok(
        "archive",
        admin.delete_channel().channel_id(&id).send().await,
    );
}

#[tokio::test]
async fn viewing_a_channel_marks_its_posts_read() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let alice = alice(&conn).await;
    let id = public_channel(&conn, &admin).await.id.expect("id");
    ok(
        "add alice",
        admin
            .add_channel_member()
            .channel_id(&id)
            .body(types::AddChannelMemberBody {
                user_id: Some(conn.user.id.clone()),
                ..Default::default()
            })
            .send()
            .await,
    );
    post(&admin, &id, "unread for alice", None).await;
    let before = ok(
        "member before",
        alice
            .get_channel_member()
            .channel_id(&id)
            .user_id("me")
            .send()
            .await,
    );
    let channel = ok(
        "get channel",
        admin.get_channel().channel_id(&id).send().await,
    );
    let total = channel.total_msg_count.expect("total_msg_count");
    assert!(
        before.msg_count.unwrap_or(0) < total,
        "{before:?} vs {total}"
    );

    let viewed = ok(
        "view channel",
        alice
            .view_channel()
            .user_id("me")
            .body(types::ViewChannelBody {
                channel_id: id.clone(),
                prev_channel_id: None,
            })
            .send()
            .await,
    );
    assert_eq!(viewed.status.as_deref(), Some("OK"));
    let after = ok(
        "member after",
        alice
            .get_channel_member()
            .channel_id(&id)
            .user_id("me")
            .send()
            .await,
    );
    assert_eq!(after.msg_count, Some(total));
    assert!(after.last_viewed_at.unwrap_or(0) > before.last_viewed_at.unwrap_or(0));
    ok(
        "archive",
        admin.delete_channel().channel_id(&id).send().await,
    );
    alice.logout().await.expect("logout");
}

#[tokio::test]
async fn deleted_channel_is_archived_with_delete_at_set() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let id = public_channel(&conn, &admin).await.id.expect("id");
    let before = ok(
        "get channel",
        admin.get_channel().channel_id(&id).send().await,
    );
    assert_eq!(before.delete_at, Some(0));
    let started = now_ms();
    let reply = ok(
        "delete channel",
        admin.delete_channel().channel_id(&id).send().await,
    );
    assert_eq!(reply.status.as_deref(), Some("OK"));
    let after = ok(
        "get archived",
        admin.get_channel().channel_id(&id).send().await,
    );
    let delete_at = after.delete_at.expect("delete_at");
    assert!(delete_at >= started - 5_000, "{delete_at} vs {started}");
}

// ---------------------------------------------------------------------------------------------
// 5. Posts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn created_post_is_read_back() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let message = support::unique("post round trip ");
    let created = post(&admin, &conn.channels.town_square, &message, None).await;
    let id = created.id.clone().expect("id");
    assert_eq!(created.message.as_deref(), Some(message.as_str()));
    assert_eq!(created.user_id.as_deref(), Some(conn.admin.id.as_str()));
    let read = ok("get post", admin.get_post().post_id(&id).send().await);
    assert_eq!(read.id.as_deref(), Some(id.as_str()));
    assert_eq!(read.message.as_deref(), Some(message.as_str()));
    assert_eq!(
        read.channel_id.as_deref(),
        Some(conn.channels.town_square.as_str())
    );
    assert_eq!(read.create_at, created.create_at);
    ok("delete post", admin.delete_post().post_id(&id).send().await);
}

#[tokio::test]
async fn patched_and_updated_post_messages_are_read_back_as_edits() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let id = post(&admin, &conn.channels.town_square, "before edit", None)
        .await
        .id
        .expect("id");

    let patched = ok(
        "patch post",
        admin
            .patch_post()
            .post_id(&id)
            .body(types::PatchPostBody {
                message: Some("patched message".into()),
                ..Default::default()
            })
            .send()
            .await,
    );
    assert_eq!(patched.message.as_deref(), Some("patched message"));
    let read = ok("get post", admin.get_post().post_id(&id).send().await);
    assert_eq!(read.message.as_deref(), Some("patched message"));
    assert!(
        read.edit_at.unwrap_or(0) > 0,
        "edit_at set: {:?}",
        read.edit_at
    );

    let updated = ok(
        "update post",
        admin
            .update_post()
            .post_id(&id)
            .body(types::UpdatePostBody {
                id: id.clone(),
                message: Some("updated message".into()),
                has_reactions: None,
                is_pinned: None,
                props: [("edited_by".to_owned(), serde_json::json!("live_api"))]
                    .into_iter()
                    .collect(),
            })
            .send()
            .await,
    );
    assert_eq!(updated.message.as_deref(), Some("updated message"));
    assert_eq!(
        updated.props.as_ref().and_then(|p| p.get("edited_by")),
        Some(&serde_json::json!("live_api"))
    );
    let read = ok("get post", admin.get_post().post_id(&id).send().await);
    assert_eq!(read.message.as_deref(), Some("updated message"));
    ok("delete post", admin.delete_post().post_id(&id).send().await);
}

#[tokio::test]
async fn pinned_post_is_pinned_until_unpinned() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let id = post(&admin, &conn.channels.town_square, "to pin", None)
        .await
        .id
        .expect("id");
    ok("pin", admin.pin_post().post_id(&id).send().await);
    let read = ok("get post", admin.get_post().post_id(&id).send().await);
    assert_eq!(read.is_pinned, Some(true));
    let pinned = ok(
        "pinned posts",
        admin
            .get_pinned_posts()
            .channel_id(&conn.channels.town_square)
            .send()
            .await,
    );
    assert!(pinned.order.unwrap_or_default().contains(&id));
    ok("unpin", admin.unpin_post().post_id(&id).send().await);
    let read = ok("get post", admin.get_post().post_id(&id).send().await);
    assert_eq!(read.is_pinned, Some(false));
    ok("delete post", admin.delete_post().post_id(&id).send().await);
}

#[tokio::test]
async fn channel_posts_contain_a_new_post() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let created = post(
        &admin,
        &conn.channels.town_square,
        "listed in channel",
        None,
    )
    .await;
    let id = created.id.clone().expect("id");
    let list = ok(
        "posts for channel",
        admin
            .get_posts_for_channel()
            .channel_id(&conn.channels.town_square)
            .page(0)
            .per_page(200)
            .send()
            .await,
    );
    let order = list.order.clone().expect("order");
    assert!(order.contains(&id), "order contains the post");
    let posts = list.posts.expect("posts");
    assert!(
        order.iter().all(|p| posts.contains_key(p)),
        "order names posts of the map"
    );
    assert_eq!(posts[&id].message.as_deref(), Some("listed in channel"));
    ok("delete post", admin.delete_post().post_id(&id).send().await);
}

#[tokio::test]
async fn team_post_search_finds_a_unique_word() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let word = support::unique("quokka");
    let id = post(
        &admin,
        &conn.channels.town_square,
        &format!("the word {word} is searched"),
        None,
    )
    .await
    .id
    .expect("id");
    let found = ok(
        "search posts",
        admin
            .search_posts()
            .team_id(&conn.team.id)
            .body(types::SearchPostsBody {
                terms: word.clone(),
                is_or_search: false,
                page: 0,
                per_page: 20,
                time_zone_offset: 0,
                include_deleted_channels: None,
            })
            .send()
            .await,
    );
    assert_eq!(found.order.as_deref(), Some(&[id.clone()][..]));
    let hit = &found.posts.expect("posts")[&id];
    assert!(hit.message.as_deref().unwrap_or("").contains(&word));
    ok("delete post", admin.delete_post().post_id(&id).send().await);
}

#[tokio::test]
async fn deleted_post_is_gone() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let id = post(&admin, &conn.channels.town_square, "to delete", None)
        .await
        .id
        .expect("id");
    let reply = ok("delete post", admin.delete_post().post_id(&id).send().await);
    assert_eq!(reply.status.as_deref(), Some("OK"));
    let err = fails(
        "get deleted post",
        admin.get_post().post_id(&id).send().await,
    );
    assert_eq!(status(&err), Some(404), "{err}");
    let read = ok(
        "get deleted post, deleted included",
        admin
            .get_post()
            .post_id(&id)
            .include_deleted(true)
            .send()
            .await,
    );
    assert!(read.delete_at.unwrap_or(0) > 0, "{:?}", read.delete_at);
}

// ---------------------------------------------------------------------------------------------
// 6. Threads
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn post_thread_contains_root_and_reply() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let root = post(&admin, &conn.channels.town_square, "thread root", None)
        .await
        .id
        .expect("id");
    let reply = post(
        &admin,
        &conn.channels.town_square,
        "thread reply",
        Some(&root),
    )
    .await;
    let reply_id = reply.id.clone().expect("id");
    assert_eq!(reply.root_id.as_deref(), Some(root.as_str()));

    let thread = ok(
        "thread",
        admin.get_post_thread().post_id(&root).send().await,
    );
    let order = thread.order.expect("order");
    assert!(
        order.contains(&root) && order.contains(&reply_id),
        "{order:?}"
    );
    let posts = thread.posts.expect("posts");
    assert_eq!(posts[&reply_id].root_id.as_deref(), Some(root.as_str()));
    let root_post = ok("root", admin.get_post().post_id(&root).send().await);
    assert_eq!(root_post.reply_count, Some(1));
    ok(
        "delete root",
        admin.delete_post().post_id(&root).send().await,
    );
}

#[tokio::test]
async fn user_threads_show_a_thread_the_user_started() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let alice = alice(&conn).await;
    let message = support::unique("alice's thread ");
    let root = post(&alice, &conn.channels.town_square, &message, None)
        .await
        .id
        .expect("id");
    post(
        &admin,
        &conn.channels.town_square,
        "admin replies",
        Some(&root),
    )
    .await;

    let threads = ok(
        "user threads",
        alice
            .get_user_threads()
            .user_id("me")
            .team_id(&conn.team.id)
            .per_page(200)
            .send()
            .await,
    );
    let thread = threads
        .threads
        .unwrap_or_default()
        .into_iter()
        .find(|t| t.id.as_deref() == Some(root.as_str()))
        .expect("alice follows her thread");
    assert_eq!(thread.reply_count, Some(1));
    let root_post = thread.post.expect("the thread's root post");
    assert_eq!(root_post.message.as_deref(), Some(message.as_str()));
    assert_eq!(root_post.user_id.as_deref(), Some(conn.user.id.as_str()));
    ok(
        "delete root",
        admin.delete_post().post_id(&root).send().await,
    );
    alice.logout().await.expect("logout");
}

// ---------------------------------------------------------------------------------------------
// 7. Reactions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reaction_is_listed_then_removed() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let id = post(&admin, &conn.channels.town_square, "react to me", None)
        .await
        .id
        .expect("id");
    let none = ok(
        "reactions before",
        admin.get_reactions().post_id(&id).send().await,
    );
    assert!(none.unwrap_or_default().is_empty());

    let saved = ok(
        "save reaction",
        admin
            .save_reaction()
            .body(types::Reaction {
                user_id: Some(conn.admin.id.clone()),
                post_id: Some(id.clone()),
                emoji_name: Some("+1".into()),
                ..Default::default()
            })
            .send()
            .await,
    );
    assert_eq!(saved.post_id.as_deref(), Some(id.as_str()));
    assert_eq!(saved.user_id.as_deref(), Some(conn.admin.id.as_str()));
    let emoji = saved.emoji_name.clone().expect("emoji name");
    assert!(emoji == "+1" || emoji == "thumbsup", "{emoji}");

    let listed =
        ok("reactions", admin.get_reactions().post_id(&id).send().await).expect("reactions listed");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].emoji_name.as_deref(), Some(emoji.as_str()));
    assert_eq!(listed[0].user_id.as_deref(), Some(conn.admin.id.as_str()));
    let read = ok("get post", admin.get_post().post_id(&id).send().await);
    assert_eq!(read.has_reactions, Some(true));

    ok(
        "delete reaction",
        admin
            .delete_reaction()
            .user_id(&conn.admin.id)
            .post_id(&id)
            .emoji_name(&emoji)
            .send()
            .await,
    );
    let after = ok(
        "reactions after",
        admin.get_reactions().post_id(&id).send().await,
    );
    assert!(after.unwrap_or_default().is_empty());
    ok("delete post", admin.delete_post().post_id(&id).send().await);
}

// ---------------------------------------------------------------------------------------------
// 8. Preferences
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn preference_is_saved_read_back_and_deleted() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let category = support::unique("matterapi_");
    let name = "flag".to_owned();
    let pref = types::Preference {
        user_id: Some(conn.admin.id.clone()),
        category: Some(category.clone()),
        name: Some(name.clone()),
        value: Some("on".into()),
    };
    ok(
        "update preferences",
        admin
            .update_preferences()
            .user_id("me")
            .body(vec![pref.clone()])
            .send()
            .await,
    );
    let read = ok(
        "get preference",
        admin
            .get_preferences_by_category_by_name()
            .user_id("me")
            .category(&category)
            .preference_name(&name)
            .send()
            .await,
    );
    assert_eq!(read, pref);
    let in_category = ok(
        "get category",
        admin
            .get_preferences_by_category()
            .user_id("me")
            .category(&category)
            .send()
            .await,
    );
    assert!(in_category.contains(&pref));

    ok(
        "delete preferences",
        admin
            .delete_preferences()
            .user_id("me")
            .body(vec![pref.clone()])
            .send()
            .await,
    );
    let err = fails(
        "get deleted preference",
        admin
            .get_preferences_by_category_by_name()
            .user_id("me")
            .category(&category)
            .preference_name(&name)
            .send()
            .await,
    );
    // The server answers a missing preference with 400, not 404.
    assert_eq!(status(&err), Some(400), "{err}");
    assert_eq!(err.error_id(), Some("app.preference.get.app_error"));
    // And an empty category with 404.
    let err = fails(
        "get emptied category",
        admin
            .get_preferences_by_category()
            .user_id("me")
            .category(&category)
            .send()
            .await,
    );
    assert_eq!(status(&err), Some(404), "{err}");
    assert_eq!(
        err.error_id(),
        Some("api.preference.preferences_category.get.app_error")
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Status
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn user_status_is_set_and_read_back() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let user = &conn.user.id;
    for wanted in ["away", "dnd", "online"] {
        let set = ok(
            "update status",
            admin
                .update_user_status()
                .user_id(user)
                .body(types::UpdateUserStatusBody {
                    user_id: user.clone(),
                    status: wanted.into(),
                    dnd_end_time: None,
                })
                .send()
                .await,
        );
        assert_eq!(set.status.as_deref(), Some(wanted));
        let read = ok(
            "get status",
            admin.get_user_status().user_id(user).send().await,
        );
        assert_eq!(read.user_id.as_deref(), Some(user.as_str()));
        assert_eq!(read.status.as_deref(), Some(wanted));
    }
}

#[tokio::test]
async fn statuses_by_ids_cover_each_user() {
    let Some(conn) = support::live() else { return };
    let ids = vec![conn.admin.id.clone(), conn.user2.id.clone()];
    let statuses = ok(
        "statuses by ids",
        admin(&conn)
            .get_users_statuses_by_ids()
            .body(ids.clone())
            .send()
            .await,
    );
    let got: HashSet<_> = statuses.iter().filter_map(|s| s.user_id.clone()).collect();
    assert_eq!(got, ids.into_iter().collect());
    let known = ["online", "away", "dnd", "offline"];
    assert!(
        statuses
            .iter()
            .all(|s| known.contains(&s.status.as_deref().unwrap_or(""))),
        "{statuses:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 10. Emoji
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn custom_emoji_list_decodes() {
    let Some(conn) = support::live() else { return };
    let list = ok(
        "emoji list",
        admin(&conn)
            .get_emoji_list()
            .page(0)
            .per_page(200)
            .send()
            .await,
    );
    assert!(
        list.iter().all(|e| e.id.is_some() && e.name.is_some()),
        "{list:?}"
    );
}

#[tokio::test]
async fn missing_emoji_by_name_is_404_with_error_id() {
    let Some(conn) = support::live() else { return };
    let err = fails(
        "get missing emoji",
        admin(&conn)
            .get_emoji_by_name()
            .emoji_name(support::unique("nosuchemoji"))
            .send()
            .await,
    );
    assert_eq!(status(&err), Some(404), "{err}");
    assert_eq!(
        err.error_id(),
        Some("app.emoji.get_by_name.no_result"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// 11. Webhooks
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn incoming_webhook_lifecycle() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let name = support::unique("hook ");
    let hook = ok(
        "create incoming webhook",
        admin
            .create_incoming_webhook()
            .body(types::CreateIncomingWebhookBody {
                channel_id: conn.channels.town_square.clone(),
                display_name: Some(name.clone()),
                description: Some("live test".into()),
                channel_locked: None,
                icon_url: None,
                user_id: None,
                username: None,
            })
            .send()
            .await,
    );
    let id = hook.id.clone().expect("id");
    assert_eq!(
        hook.channel_id.as_deref(),
        Some(conn.channels.town_square.as_str())
    );
    assert_eq!(hook.team_id.as_deref(), Some(conn.team.id.as_str()));

    let read = ok(
        "get",
        admin.get_incoming_webhook().hook_id(&id).send().await,
    );
    assert_eq!(read.display_name.as_deref(), Some(name.as_str()));

    let renamed = format!("{name} renamed");
    let updated = ok(
        "update",
        admin
            .update_incoming_webhook()
            .hook_id(&id)
            .body(types::UpdateIncomingWebhookBody {
                id: id.clone(),
                channel_id: conn.channels.town_square.clone(),
                display_name: renamed.clone(),
                description: "live test".into(),
                channel_locked: None,
                icon_url: None,
                username: None,
            })
            .send()
            .await,
    );
    assert_eq!(updated.display_name.as_deref(), Some(renamed.as_str()));
    let read = ok(
        "get",
        admin.get_incoming_webhook().hook_id(&id).send().await,
    );
    assert_eq!(read.display_name.as_deref(), Some(renamed.as_str()));

    let listed = ok(
        "list",
        admin
            .get_incoming_webhooks()
            .team_id(&conn.team.id)
            .per_page(200)
            .send()
            .await,
    );
    assert!(listed.iter().any(|h| h.id.as_deref() == Some(id.as_str())));

    ok(
        "delete",
        admin.delete_incoming_webhook().hook_id(&id).send().await,
    );
    let err = fails(
        "get deleted",
        admin.get_incoming_webhook().hook_id(&id).send().await,
    );
    assert_eq!(status(&err), Some(404), "{err}");
}

#[tokio::test]
async fn outgoing_webhook_lifecycle() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let trigger = support::unique("trig");
    let hook = ok(
        "create outgoing webhook",
        admin
            .create_outgoing_webhook()
            .body(types::CreateOutgoingWebhookBody {
                team_id: conn.team.id.clone(),
                channel_id: None,
                display_name: support::unique("outgoing "),
                description: None,
                trigger_words: vec![trigger.clone()],
                trigger_when: Some(0),
                callback_urls: vec!["http://127.0.0.1:9/".into()],
                content_type: "application/json".into(),
                creator_id: None,
            })
            .send()
            .await,
    );
    let id = hook.id.clone().expect("id");
    assert_eq!(hook.trigger_words.as_deref(), Some(&[trigger.clone()][..]));
    assert_eq!(hook.content_type, "application/json");
    assert!(hook.token.as_deref().is_some_and(|t| !t.is_empty()));

    let read = ok(
        "get",
        admin.get_outgoing_webhook().hook_id(&id).send().await,
    );
    assert_eq!(
        read.callback_urls.as_deref(),
        Some(&["http://127.0.0.1:9/".to_owned()][..])
    );
    let listed = ok(
        "list",
        admin
            .get_outgoing_webhooks()
            .team_id(&conn.team.id)
            .per_page(200)
            .send()
            .await,
    );
    assert!(listed.iter().any(|h| h.id.as_deref() == Some(id.as_str())));

    ok(
        "delete",
        admin.delete_outgoing_webhook().hook_id(&id).send().await,
    );
    let listed = ok(
        "list after delete",
        admin
            .get_outgoing_webhooks()
            .team_id(&conn.team.id)
            .per_page(200)
            .send()
            .await,
    );
    assert!(listed.iter().all(|h| h.id.as_deref() != Some(id.as_str())));
}

// ---------------------------------------------------------------------------------------------
// 12. Slash commands
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn custom_slash_command_lifecycle() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let trigger = support::unique("cmd");
    let command = ok(
        "create command",
        admin
            .create_command()
            .body_map(|b| {
                b.team_id(conn.team.id.clone())
                    .trigger(trigger.clone())
                    .method("P")
                    .url("http://127.0.0.1:9/")
                    .display_name(Some("Live API command".to_owned()))
                    .auto_complete(Some(true))
                    .auto_complete_desc(Some("does nothing".to_owned()))
            })
            .send()
            .await,
    );
    let id = command.id.clone().expect("id");
    assert_eq!(command.trigger.as_deref(), Some(trigger.as_str()));
    assert_eq!(command.team_id.as_deref(), Some(conn.team.id.as_str()));
    assert_eq!(command.creator_id.as_deref(), Some(conn.admin.id.as_str()));
    assert_eq!(command.display_name.as_deref(), Some("Live API command"));
    assert_eq!(command.auto_complete, Some(true));

    let listed = ok(
        "list commands",
        admin
            .list_commands()
            .team_id(&conn.team.id)
            .custom_only(true)
            .send()
            .await,
    );
    assert!(listed.iter().any(|c| c.id.as_deref() == Some(id.as_str())));

    let read = ok(
        "get command",
        admin.get_command_by_id().command_id(&id).send().await,
    );
    assert_eq!(read.trigger.as_deref(), Some(trigger.as_str()));
    assert_eq!(read.url.as_deref(), Some("http://127.0.0.1:9/"));
    assert_eq!(read.method.as_deref(), Some("P"));

    ok(
        "delete command",
        admin.delete_command().command_id(&id).send().await,
    );
    let err = fails(
        "get deleted",
        admin.get_command_by_id().command_id(&id).send().await,
    );
    assert_eq!(status(&err), Some(404), "{err}");
}

// ---------------------------------------------------------------------------------------------
// 13. Bots
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn test_bot_is_found_by_id_and_in_the_bot_list() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let bot = ok(
        "get bot",
        admin.get_bot().bot_user_id(&conn.bot.user_id).send().await,
    );
    assert_eq!(bot.user_id.as_deref(), Some(conn.bot.user_id.as_str()));
    assert_eq!(bot.username.as_deref(), Some(conn.bot.username.as_str()));
    assert_eq!(bot.owner_id.as_deref(), Some(conn.admin.id.as_str()));
    let bots = ok("get bots", admin.get_bots().per_page(200).send().await);
    assert!(
        bots.iter()
            .any(|b| b.user_id.as_deref() == Some(conn.bot.user_id.as_str()))
    );
}

#[tokio::test]
async fn patched_bot_description_is_read_back() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let description = support::unique("described ");
    let patched = ok(
        "patch bot",
        admin
            .patch_bot()
            .bot_user_id(&conn.bot.user_id)
            // Only the description: the server needs no username in a bot patch.
            .body(types::PatchBotBody {
                description: Some(description.clone()),
                ..Default::default()
            })
            .send()
            .await,
    );
    assert_eq!(patched.description.as_deref(), Some(description.as_str()));
    let read = ok(
        "get bot",
        admin.get_bot().bot_user_id(&conn.bot.user_id).send().await,
    );
    assert_eq!(read.description.as_deref(), Some(description.as_str()));
    assert_eq!(read.username.as_deref(), Some(conn.bot.username.as_str()));
}

#[tokio::test]
async fn created_bot_can_be_disabled_and_enabled() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let username = support::unique("bot");
    let bot = ok(
        "create bot",
        admin
            .create_bot()
            .body(types::CreateBotBody {
                username: username.clone(),
                display_name: Some("Live test bot".into()),
                description: Some("made by the live tests".into()),
            })
            .send()
            .await,
    );
    let id = bot.user_id.clone().expect("user id");
    assert_eq!(bot.username.as_deref(), Some(username.as_str()));
    assert_eq!(bot.owner_id.as_deref(), Some(conn.admin.id.as_str()));
    assert_eq!(bot.delete_at, Some(0));

    let disabled = ok("disable", admin.disable_bot().bot_user_id(&id).send().await);
    assert!(disabled.delete_at.unwrap_or(0) > 0, "{disabled:?}");
    let err = fails(
        "get disabled",
        admin.get_bot().bot_user_id(&id).send().await,
    );
    assert_eq!(status(&err), Some(404), "{err}");
    let read = ok(
        "get disabled, deleted included",
        admin
            .get_bot()
            .bot_user_id(&id)
            .include_deleted(true)
            .send()
            .await,
    );
    assert!(read.delete_at.unwrap_or(0) > 0);

    let enabled = ok("enable", admin.enable_bot().bot_user_id(&id).send().await);
    assert_eq!(enabled.delete_at, Some(0));
    let read = ok("get enabled", admin.get_bot().bot_user_id(&id).send().await);
    assert_eq!(read.delete_at, Some(0));
    let user = ok("bot user", admin.get_user().user_id(&id).send().await);
    assert_eq!(user.is_bot, Some(true));

    // Bots cannot be deleted through the API: leave it disabled.
    ok("disable", admin.disable_bot().bot_user_id(&id).send().await);
}

// ---------------------------------------------------------------------------------------------
// 14. Files
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn file_infos_of_a_post_without_files_are_empty() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let created = post(&admin, &conn.channels.town_square, "no files here", None).await;
    let id = created.id.clone().expect("id");
    assert!(created.file_ids.unwrap_or_default().is_empty());
    let infos = ok(
        "file infos",
        admin.get_file_infos_for_post().post_id(&id).send().await,
    );
    assert!(infos.is_empty(), "{infos:?}");
    ok("delete post", admin.delete_post().post_id(&id).send().await);
}

// ---------------------------------------------------------------------------------------------
// 15. Errors
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn missing_user_is_404_with_request_id_and_error_id() {
    let Some(conn) = support::live() else { return };
    let err = fails(
        "get missing user",
        admin(&conn)
            .get_user()
            .user_id("aaaaaaaaaaaaaaaaaaaaaaaaaa")
            .send()
            .await,
    );
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    assert_eq!(status(&err), Some(404), "{err}");
    assert_eq!(err.error_id(), Some("app.user.missing_account.const"));
    assert!(err.request_id().is_some_and(|r| !r.is_empty()), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn admin_only_call_by_a_plain_user_is_403() {
    let Some(conn) = support::live() else { return };
    let alice = alice(&conn).await;
    let err = fails("get config as alice", alice.get_config().send().await);
    assert_eq!(status(&err), Some(403), "{err}");
    assert_eq!(err.error_id(), Some("api.context.permissions.app_error"));
    assert!(err.request_id().is_some_and(|r| !r.is_empty()), "{err:?}");
    alice.logout().await.expect("logout");
}
