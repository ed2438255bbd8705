//! A `/poll` slash command: a whole integration on the receiver (feature `receiver`).
//!
//! - `/poll Lunch? | Pizza | Sushi` posts a poll with one button per choice;
//! - `/poll` alone opens a dialog that asks for the question and the choices (its submission is
//!   checked: a question and two choices are needed), then posts the poll;
//! - a click on a button counts the vote (one per user) and updates the post.
//!
//! Against the local test server (`cargo xtask server start`):
//!
//! ```sh
//! cargo run --example poll            # then type /poll in the test team; Ctrl-C ends it
//! cargo run --example poll -- --demo  # runs the command and a vote itself, prints the post, ends
//! ```
//!
//! It connects with `MM_URL` + `MM_TOKEN` when set, else with the test server's admin
//! (`MATTERAPI_TEST_URL` + `MATTERAPI_TEST_ADMIN_TOKEN`, as `testserver/server.sh env` sets them, or
//! the connection file `target/testserver/connection.json`). Registering a slash command needs the
//! `manage_slash_commands` permission, and the server must be allowed to call the receiver's
//! address (`ServiceSettings.AllowedUntrustedInternalConnections`, which the test server sets for
//! loopback). `POLL_LISTEN` sets the receiver's address (default `127.0.0.1:0`), `MM_TEAM` the team
//! (default: the user's first).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use matterapi::receiver::{
    Action, ActionRequest, ActionResponse, Attachment, CommandRequest, CommandResponse, Dialog,
    DialogElement, DialogResponse, DialogSubmission, Field, OpenDialog, PostUpdate, Receiver,
    Rejection, SlashCommand, Token, attachments_props,
};
use matterapi::{Client, types};

/// One poll: its question, its choices and who voted for which.
struct Poll {
    question: String,
    choices: Vec<String>,
    votes: BTreeMap<String, usize>,
}

/// What the handlers share.
struct State {
    client: Client,
    base: String,
    /// The secret every button's context carries, so that a click is known to come from our posts.
    secret: Token,
    polls: Mutex<HashMap<u64, Poll>>,
    next_id: Mutex<u64>,
}

impl State {
    /// A new poll's id and its attachment.
    fn create(&self, question: String, choices: Vec<String>) -> Attachment {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next
        };
        let poll = Poll {
            question,
            choices,
            votes: BTreeMap::new(),
        };
        let attachment = self.attachment(id, &poll);
        self.polls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, poll);
        attachment
    }

    /// The poll's attachment: its counts, and one button per choice.
    fn attachment(&self, id: u64, poll: &Poll) -> Attachment {
        let mut attachment = Attachment::new(format!("{} vote(s)", poll.votes.len()))
            .title(&poll.question)
            .color("#2389d7");
        for (i, choice) in poll.choices.iter().enumerate() {
            let count = poll.votes.values().filter(|&&v| v == i).count();
            attachment = attachment
                .field(Field::new(choice, count.to_string(), true))
                .action(
                    Action::button(format!("vote{i}"), choice, format!("{}/vote", self.base))
                        .context("poll", id)
                        .context("choice", i)
                        .context("secret", self.secret.expose()),
                );
        }
        attachment
    }

    /// A vote: counted, and the post's new version.
    fn vote(&self, click: &ActionRequest) -> Result<ActionResponse, Rejection> {
        if !click.context_matches("secret", &self.secret) {
            return Err(Rejection::with_status(
                403,
                "this click does not come from our poll",
            ));
        }
        let number = |key: &str| click.context.get(key).and_then(serde_json::Value::as_u64);
        let (Some(id), Some(choice)) = (number("poll"), number("choice")) else {
            return Err(Rejection::with_status(
                400,
                "the click has no poll or choice",
            ));
        };
        let mut polls = self.polls.lock().unwrap_or_else(|e| e.into_inner());
        let Some(poll) = polls.get_mut(&id) else {
            return Ok(ActionResponse::ephemeral(
                "This poll is closed (the bot was restarted).",
            ));
        };
        let Ok(choice) = usize::try_from(choice) else {
            return Err(Rejection::with_status(400, "no such choice"));
        };
        if choice >= poll.choices.len() {
            return Err(Rejection::with_status(400, "no such choice"));
        }
        poll.votes.insert(click.user_id.clone(), choice);
        let attachment = self.attachment(id, poll);
        Ok(ActionResponse::update(
            PostUpdate::message("A poll (one vote each: a click again changes yours)")
                .attachments(&[attachment]),
        )
        .with_ephemeral(format!("You voted for {}.", poll.choices[choice])))
    }
}

/// `Question? | a | b` as the question and its choices.
fn parse(text: &str) -> Option<(String, Vec<String>)> {
    let mut parts = text.split('|').map(str::trim).filter(|p| !p.is_empty());
    let question = parts.next()?.to_owned();
    let choices: Vec<String> = parts.map(str::to_owned).collect();
    (choices.len() >= 2).then_some((question, choices))
}

async fn on_command(state: Arc<State>, req: CommandRequest) -> Result<CommandResponse, Rejection> {
    if let Some((question, choices)) = parse(&req.text) {
        let attachment = state.create(question, choices);
        return Ok(CommandResponse::in_channel("A poll (one vote each)").attachment(attachment));
    }
    if !req.text.trim().is_empty() {
        return Ok(CommandResponse::ephemeral(
            "Usage: `/poll Question? | choice | choice`, or `/poll` alone for a form.",
        ));
    }
    let dialog = Dialog::new("new-poll", "New poll")
        .introduction("One choice per line.")
        .element(DialogElement::text("question", "Question"))
        .element(DialogElement::textarea("choices", "Choices"))
        .submit_label("Post");
    let open = OpenDialog::new(&req.trigger_id, format!("{}/dialog", state.base), dialog);
    state.client.open_dialog(&open).await?;
    Ok(CommandResponse::ephemeral(
        "Fill in the form to post a poll.",
    ))
}

async fn on_dialog(state: Arc<State>, sub: DialogSubmission) -> Result<DialogResponse, Rejection> {
    if sub.cancelled || sub.callback_id != "new-poll" {
        return Ok(DialogResponse::ok());
    }
    let question = sub.text("question").unwrap_or("").trim().to_owned();
    let choices: Vec<String> = sub
        .text("choices")
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let mut answer = DialogResponse::ok();
    if question.is_empty() {
        answer = answer.field_error("question", "A question is needed.");
    }
    if choices.len() < 2 {
        answer = answer.field_error("choices", "Two choices at least, one per line.");
    }
    if answer.is_error() {
        return Ok(answer);
    }
    let attachment = state.create(question, choices);
    state
        .client
        .create_post()
        .body(types::CreatePostBody {
            channel_id: sub.channel_id.clone(),
            message: "A poll (one vote each)".into(),
            file_ids: vec![],
            metadata: None,
            props: attachments_props(&[attachment]),
            pending_post_id: None,
            root_id: None,
            type_: None,
        })
        .send()
        .await?;
    Ok(answer)
}

/// The server's URL and a token: `MM_URL`/`MM_TOKEN`, the test server's variables, or its file.
fn connection() -> Result<(String, String)> {
    if let (Ok(url), Ok(token)) = (std::env::var("MM_URL"), std::env::var("MM_TOKEN")) {
        return Ok((url, token));
    }
    if let (Ok(url), Ok(token)) = (
        std::env::var("MATTERAPI_TEST_URL"),
        std::env::var("MATTERAPI_TEST_ADMIN_TOKEN"),
    ) {
        return Ok((url, token));
    }
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/testserver/connection.json"
    );
    let text = std::fs::read_to_string(file).with_context(|| {
        format!("no MM_URL/MM_TOKEN and no test server at {file}: run `cargo xtask server start`")
    })?;
    let conn: serde_json::Value = serde_json::from_str(&text)?;
    match (conn["url"].as_str(), conn["admin"]["token"].as_str()) {
        (Some(url), Some(token)) => Ok((url.to_owned(), token.to_owned())),
        _ => bail!("{file} has no url or admin token"),
    }
}

/// A random-enough secret for this run (the process id and the clock, hashed by the standard
/// library's random-keyed hasher).
fn run_secret() -> Token {
    use std::hash::{BuildHasher, Hasher};
    let mut text = String::new();
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.write_u32(std::process::id());
        text.push_str(&format!("{:016x}", h.finish()));
    }
    Token::new(text)
}

#[tokio::main]
async fn main() -> Result<()> {
    let demo = std::env::args().any(|a| a == "--demo");
    let (url, token) = connection()?;
    let client = Client::with_token(url.as_str(), token)?;
    let me = client.get_user().user_id("me").send().await?.into_inner();
    let team_id = match std::env::var("MM_TEAM") {
        Ok(team) => team,
        Err(_) => client
            .get_teams_for_user()
            .user_id("me")
            .send()
            .await?
            .into_inner()
            .into_iter()
            .find_map(|t| t.id)
            .context("the user is in no team; set MM_TEAM")?,
    };

    let listen = std::env::var("POLL_LISTEN").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let trigger = if demo {
        format!("poll{}", std::process::id())
    } else {
        "poll".to_owned()
    };
    let command = client
        .register_command(
            &SlashCommand::new(&team_id, &trigger, format!("{base}/command"))
                .describe("Poll", "A poll with buttons (matterapi example)")
                .autocomplete("Post a poll", "Question? | choice | choice"),
        )
        .await
        .context("registering the slash command")?;
    println!("/{trigger} is registered; the receiver listens on {base}");

    let state = Arc::new(State {
        client: client.clone(),
        base,
        secret: run_secret(),
        polls: Mutex::new(HashMap::new()),
        next_id: Mutex::new(0),
    });
    let (s1, s2, s3) = (state.clone(), state.clone(), state.clone());
    let router = Receiver::new()
        .command("/command", command.token.clone(), move |req| {
            on_command(s1.clone(), req)
        })
        .action("/vote", move |click| {
            let reply = s2.vote(&click);
            async move { reply }
        })
        .dialog("/dialog", move |sub| on_dialog(s3.clone(), sub))
        .into_router()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(matterapi::receiver::serve(listener, router, async move {
        let _ = stop_rx.await;
    }));

    let outcome = if demo {
        run_demo(
            &client,
            &team_id,
            &trigger,
            &me.username.unwrap_or_default(),
        )
        .await
    } else {
        println!(
            "type `/{trigger} Lunch? | Pizza | Sushi` (or `/{trigger}`) in the team; Ctrl-C ends"
        );
        tokio::signal::ctrl_c().await.map_err(anyhow::Error::from)
    };

    client
        .delete_command()
        .command_id(&command.id)
        .send()
        .await
        .context("deleting the slash command")?;
    println!("/{trigger} is deleted");
    let _ = stop_tx.send(());
    server.await??;
    outcome
}

/// The loop without a person: the command runs in the team's town square, the first button is
/// clicked, and the updated post is printed.
async fn run_demo(client: &Client, team_id: &str, trigger: &str, me: &str) -> Result<()> {
    let channel = client
        .get_channel_by_name()
        .team_id(team_id)
        .channel_name("town-square")
        .send()
        .await?
        .into_inner()
        .id
        .context("town square has no id")?;
    client
        .execute_command()
        .body(types::ExecuteCommandBody {
            channel_id: channel.clone(),
            command: format!("/{trigger} Lunch? | Pizza | Sushi"),
        })
        .send()
        .await?;
    let list = client
        .get_posts_for_channel()
        .channel_id(&channel)
        .per_page(20)
        .send()
        .await?
        .into_inner();
    let posts = list.posts.unwrap_or_default();
    let post = list
        .order
        .unwrap_or_default()
        .iter()
        .filter_map(|id| posts.get(id))
        .find(|p| p.message.as_deref() == Some("A poll (one vote each)"))
        .cloned()
        .context("the poll was not posted")?;
    let post_id = post.id.context("the poll has no id")?;
    println!("posted poll {post_id}; @{me} votes for Pizza");
    client.click_action(&post_id, "vote0", None).await?;
    let read = client
        .get_post()
        .post_id(&post_id)
        .send()
        .await?
        .into_inner();
    let attachment = serde_json::to_value(&read.props)?["attachments"][0].clone();
    println!(
        "the post now says: {} / {}",
        attachment["text"].as_str().unwrap_or(""),
        attachment["fields"]
            .as_array()
            .map(|f| f
                .iter()
                .map(|f| format!(
                    "{}: {}",
                    f["title"].as_str().unwrap_or(""),
                    f["value"].as_str().unwrap_or("")
                ))
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default()
    );
    if attachment["text"] != "1 vote(s)" {
        bail!("the vote was not counted: {attachment}");
    }
    Ok(())
}
