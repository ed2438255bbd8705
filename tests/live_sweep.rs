//! Spec fidelity sweep: every GET operation of the generated client whose parameters the bootstrap
//! data can fill is called on the live server (as system admin) and its reply decoded into its
//! generated type. A reply that does not decode is a spec error to fix by a rule in `openapi/`.
//!
//! Prints the table (`cargo test --test live_sweep -- --nocapture`) and fails on any decode failure.

mod support;

use std::collections::HashMap;

use matterapi::Error;

/// What happened to one operation.
#[derive(Debug)]
pub enum Outcome {
    /// A 2xx reply, decoded into the generated type.
    Decoded,
    /// A 2xx reply that did not decode: a spec error.
    Failed(String),
    /// The server refused (licence, permission, feature off, missing object): not exercised.
    Refused(u16, String),
    /// No answer.
    Transport(String),
    /// The bootstrap data cannot fill these parameters.
    Skipped(Vec<&'static str>),
}

/// One row of the sweep's table.
#[derive(Debug)]
pub struct SweepRow {
    pub op: &'static str,
    pub route: &'static str,
    pub outcome: Outcome,
}

impl SweepRow {
    fn new(op: &'static str, route: &'static str, result: Result<(), Error>) -> Self {
        let outcome = match result {
            Ok(()) => Outcome::Decoded,
            Err(Error::Decode { source, body }) => {
                let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
                Outcome::Failed(format!("{source}; body starts: {shown}"))
            }
            Err(Error::Transport(e)) => Outcome::Transport(e.to_string()),
            Err(e) => Outcome::Refused(
                e.status().map(|s| s.as_u16()).unwrap_or(0),
                e.error_id().unwrap_or("").to_owned(),
            ),
        };
        SweepRow { op, route, outcome }
    }

    fn skipped(op: &'static str, route: &'static str, missing: Vec<&'static str>) -> Self {
        SweepRow {
            op,
            route,
            outcome: Outcome::Skipped(missing),
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/sweep.rs"));

/// Values for parameters by name, from the bootstrap data and a few objects made here.
async fn context(conn: &support::Connection, admin: &matterapi::Client) -> HashMap<String, String> {
    let mut ctx: HashMap<String, String> = HashMap::new();
    let mut set = |k: &str, v: &str| {
        ctx.insert(k.to_owned(), v.to_owned());
    };
    set("user_id", &conn.admin.id);
    set("other_user_id", &conn.user.id);
    set("username", &conn.admin.username);
    set("email", &conn.user.email);
    set("team_id", &conn.team.id);
    set("team_name", &conn.team.name);
    set("channel_id", &conn.channels.town_square);
    set("channel_name", "town-square");
    set("bot_user_id", &conn.bot.user_id);
    set("token_id", "");
    set("role_name", "system_user");
    set("category", "display_settings");
    set("preference_name", "use_military_time");
    set("name", "town-square");
    set("term", "a");
    set("format", "old");
    set("limit", "10");
    set("group_ids", "");
    set("url", "http://127.0.0.1:1/");
    set("user_input", "a");
    set("h", "");
    set("client", "web");
    set("clientVersion", "1");
    set("exclude_team", "");
    set("active", "true");
    set("object_type", "post");

    let post = admin
        .create_post()
        .body(matterapi::types::CreatePostBody {
            channel_id: conn.channels.town_square.clone(),
            message: "sweep root post".into(),
            file_ids: vec![],
            metadata: None,
            props: Default::default(),
            root_id: None,
            pending_post_id: None,
            type_: None,
        })
        .send()
        .await
        .expect("create the sweep's root post");
    let post_id = post.id.clone().expect("post id");
    admin
        .create_post()
        .body(matterapi::types::CreatePostBody {
            channel_id: conn.channels.town_square.clone(),
            message: "sweep reply".into(),
            file_ids: vec![],
            metadata: None,
            props: Default::default(),
            root_id: Some(post_id.clone()),
            pending_post_id: None,
            type_: None,
        })
        .send()
        .await
        .expect("reply to the sweep's root post");
    ctx.insert("post_id".into(), post_id.clone());
    ctx.insert("thread_id".into(), post_id);

    if let Ok(roles) = admin
        .get_role_by_name()
        .role_name("system_user")
        .send()
        .await
        && let Some(id) = roles.id.clone()
    {
        ctx.insert("role_id".into(), id);
    }
    if let Ok(cats) = admin
        .get_sidebar_category_order_for_team_for_user()
        .user_id(&conn.admin.id)
        .team_id(&conn.team.id)
        .send()
        .await
        && let Some(id) = cats.first().cloned()
    {
        ctx.insert("category_id".into(), id);
    }
    if let Ok(tokens) = admin
        .get_user_access_tokens_for_user()
        .user_id(&conn.admin.id)
        .send()
        .await
        && let Some(id) = tokens.iter().find_map(|t| t.id.clone())
    {
        ctx.insert("token_id".into(), id);
    }
    ctx
}

#[tokio::test]
async fn every_fillable_get_operation_decodes_into_its_generated_type() {
    let Some(conn) = support::live() else { return };
    let admin = support::client(&conn, &conn.admin.token);
    let ctx = context(&conn, &admin).await;
    let rows = sweep(&admin, &ctx).await;

    let mut decoded = 0;
    let mut refused = 0;
    let mut skipped = 0;
    let mut failed = Vec::new();
    println!("{:<55} {:<70} result", "operation", "route");
    for row in &rows {
        let shown = match &row.outcome {
            Outcome::Decoded => {
                decoded += 1;
                "decoded".to_owned()
            }
            Outcome::Failed(e) => {
                failed.push(format!("{} ({}): {e}", row.op, row.route));
                format!("FAILED: {e}")
            }
            Outcome::Refused(status, id) => {
                refused += 1;
                format!("not exercised: {status} {id}")
            }
            Outcome::Transport(e) => {
                failed.push(format!("{} ({}): transport: {e}", row.op, row.route));
                format!("FAILED (transport): {e}")
            }
            Outcome::Skipped(missing) => {
                skipped += 1;
                format!("skipped: no value for {}", missing.join(", "))
            }
        };
        println!("{:<55} {:<70} {shown}", row.op, row.route);
    }
    let exercised = decoded + failed.len();
    println!(
        "\nsweep: {} GET operations; exercised {exercised}, decoded {decoded}, failed {}; \
         not exercised (refused by the server) {refused}, skipped (no parameter values) {skipped}",
        rows.len(),
        failed.len()
    );
    assert!(
        decoded > 100,
        "the sweep should decode most GET operations, decoded {decoded}"
    );
    assert!(
        failed.is_empty(),
        "replies that do not decode into their generated types:\n{}",
        failed.join("\n")
    );
}
