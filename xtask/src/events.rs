//! `cargo xtask events`: every websocket event type the pinned server defines is typed by
//! `src/ws/event.rs` or listed, with its reason, in `openapi/ws-events.toml`.
//!
//! The server's event types are the `WebsocketEventType` constants of the `model` package of its
//! `server/public` Go module, read from the module the test server is built from: its version is
//! the one `testserver/go.mod` requires, its source the copy under `$(go env GOMODCACHE)` (there
//! once the test server has been built), or the folder given with `--server-src`. The typed
//! events are the string patterns of `decode_kind_de` in `src/ws/event.rs`.
//!
//! The check fails when a server event is neither typed nor listed, when a listed one is typed
//! too, or when a listed one is not a server event (a stale entry). A typed event the server does
//! not define is only reported (an older or newer server may send it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The Go module holding the server's event constants.
const PUBLIC_MODULE: &str = "github.com/mattermost/mattermost/server/public";

/// The file of untyped server events and their reasons, from the workspace root.
const LISTED: &str = "openapi/ws-events.toml";

/// The command line: `[--server-src DIR] [--root DIR]`.
pub fn run_cli(default_root: &Path, args: &[String]) -> Result<()> {
    let mut root = default_root.to_path_buf();
    let mut server_src = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match (arg.as_str(), it.next()) {
            ("--server-src", Some(dir)) => server_src = Some(PathBuf::from(dir)),
            ("--root", Some(dir)) => root = PathBuf::from(dir),
            _ => bail!("usage: cargo xtask events [--server-src DIR] [--root DIR]"),
        }
    }
    let (src, label) = match server_src {
        Some(dir) => {
            let label = dir.display().to_string();
            (dir, label)
        }
        None => module_source(&root)?,
    };
    run(&root, &src, &label)
}

/// Checks the events of the server module at `server_src` (named `label` in the report) against
/// the crate at `root`.
fn run(root: &Path, server_src: &Path, label: &str) -> Result<()> {
    let server = server_events(server_src)?;
    let event_rs = root.join("src/ws/event.rs");
    let text = std::fs::read_to_string(&event_rs)
        .with_context(|| format!("reading {}", event_rs.display()))?;
    let typed = typed_events(&text)?;
    let listed_path = root.join(LISTED);
    let listed_text = std::fs::read_to_string(&listed_path)
        .with_context(|| format!("reading {}", listed_path.display()))?;
    let listed = listed_events(&listed_text)?;
    let report = compare(&server, &typed, &listed);
    println!(
        "server event types: {} ({}); typed: {} of them; listed with a reason: {}",
        server.len(),
        label,
        report.typed_server,
        report.listed_server,
    );
    for name in &report.typed_not_server {
        println!("note: `{name}` is typed but this server defines no such event");
    }
    if report.problems.is_empty() {
        println!("cargo xtask events: ok");
        return Ok(());
    }
    for p in &report.problems {
        eprintln!("  {p}");
    }
    bail!(
        "{} websocket event problem(s): type each event in src/ws/event.rs or list it with a reason in {LISTED}",
        report.problems.len()
    )
}

/// The source folder of the `server/public` module that `testserver/go.mod` requires, in the Go
/// module cache, and its `module@version`.
fn module_source(root: &Path) -> Result<(PathBuf, String)> {
    let go_mod = root.join("testserver/go.mod");
    let text = std::fs::read_to_string(&go_mod)
        .with_context(|| format!("reading {}", go_mod.display()))?;
    let version = required_version(&text, PUBLIC_MODULE)
        .with_context(|| format!("{} requires no {PUBLIC_MODULE}", go_mod.display()))?;
    let out = std::process::Command::new("go")
        .args(["env", "GOMODCACHE"])
        .output()
        .context("running `go env GOMODCACHE` (or give the module's folder with --server-src)")?;
    if !out.status.success() {
        bail!("`go env GOMODCACHE` failed ({})", out.status);
    }
    let cache = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if cache.is_empty() {
        bail!("`go env GOMODCACHE` printed nothing");
    }
    let dir = Path::new(&cache).join(format!(
        "{}@{}",
        escape_module_path(PUBLIC_MODULE),
        escape_module_path(&version)
    ));
    if !dir.is_dir() {
        bail!(
            "{PUBLIC_MODULE}@{version} is not in the Go module cache ({}): build the test server first (`cargo xtask server start`) or give --server-src",
            dir.display()
        );
    }
    Ok((dir, format!("{PUBLIC_MODULE}@{version}")))
}

/// The version of `module` in a go.mod's `require` lines (a block or single lines).
fn required_version(go_mod: &str, module: &str) -> Option<String> {
    go_mod.lines().find_map(|line| {
        let line = line.split("//").next().unwrap_or("").trim();
        let line = line.strip_prefix("require").map(str::trim).unwrap_or(line);
        let mut words = line.split_whitespace();
        (words.next() == Some(module))
            .then(|| words.next().map(str::to_owned))
            .flatten()
    })
}

/// A module path or version as the module cache spells it: each capital letter becomes `!` and
/// its lower case.
fn escape_module_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The server's event types: the `WebsocketEventType` constants of every non-test `.go` file of
/// the module's `model` folder, constant name to value.
fn server_events(module_dir: &Path) -> Result<BTreeMap<String, String>> {
    let model = module_dir.join("model");
    let mut out = BTreeMap::new();
    let entries =
        std::fs::read_dir(&model).with_context(|| format!("reading {}", model.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".go") && !n.ends_with("_test.go"))
        })
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        for (name, value) in event_constants(&text) {
            out.insert(value, name);
        }
    }
    if out.is_empty() {
        bail!(
            "no `WebsocketEventType` constant found under {}: is it the server/public module?",
            model.display()
        );
    }
    Ok(out)
}

/// The `Name WebsocketEventType = "value"` (or `Name = WebsocketEventType("value")`) constants of
/// a Go file, as (name, value).
fn event_constants(go: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in go.lines() {
        let code = line.split("//").next().unwrap_or("").trim();
        let code = code.strip_prefix("const ").unwrap_or(code).trim();
        let Some((left, right)) = code.split_once('=') else {
            continue;
        };
        let left: Vec<&str> = left.split_whitespace().collect();
        let right = right.trim();
        let value = match left.as_slice() {
            [_, "WebsocketEventType"] => go_string(right),
            [_] => right
                .strip_prefix("WebsocketEventType(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(go_string),
            _ => None,
        };
        if let (Some(name), Some(value)) = (left.first(), value) {
            out.push(((*name).to_owned(), value));
        }
    }
    out
}

/// The value of a Go string literal without escapes (`"x"` or `` `x` ``).
fn go_string(s: &str) -> Option<String> {
    let s = s.trim();
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .or_else(|| s.strip_prefix('`').and_then(|r| r.strip_suffix('`')))?;
    (!inner.contains(['"', '\\', '`'])).then(|| inner.to_owned())
}

/// The event types `decode_kind_de` of `src/ws/event.rs` decodes: the string literals of its
/// match arms' patterns.
fn typed_events(event_rs: &str) -> Result<BTreeSet<String>> {
    let start = event_rs
        .find("fn decode_kind_de")
        .context("src/ws/event.rs has no `fn decode_kind_de`")?;
    let body = &event_rs[start..];
    let end = body.find("\n}").unwrap_or(body.len());
    let body = &body[..end];
    let mut out = BTreeSet::new();
    for line in body.lines() {
        let Some((pattern, _)) = line.split_once("=>") else {
            continue;
        };
        for alt in pattern.split('|') {
            if let Some(name) = alt
                .trim()
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
            {
                out.insert(name.to_owned());
            }
        }
    }
    if out.is_empty() {
        bail!("no event type found in `decode_kind_de` of src/ws/event.rs");
    }
    Ok(out)
}

/// The listed events of `openapi/ws-events.toml`: its `[untyped]` table, event to reason.
fn listed_events(toml_text: &str) -> Result<BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        untyped: BTreeMap<String, String>,
    }
    let file: File = toml::from_str(toml_text).with_context(|| format!("parsing {LISTED}"))?;
    Ok(file.untyped)
}

/// What [`compare`] found.
#[derive(Debug, Default, PartialEq)]
struct Report {
    /// Server events typed.
    typed_server: usize,
    /// Server events listed with a reason.
    listed_server: usize,
    /// Typed events the server does not define.
    typed_not_server: Vec<String>,
    /// Why the check fails.
    problems: Vec<String>,
}

fn compare(
    server: &BTreeMap<String, String>,
    typed: &BTreeSet<String>,
    listed: &BTreeMap<String, String>,
) -> Report {
    let mut r = Report::default();
    for (event, constant) in server {
        match (typed.contains(event), listed.get(event)) {
            (true, None) => r.typed_server += 1,
            (false, Some(reason)) if !reason.trim().is_empty() => r.listed_server += 1,
            (false, Some(_)) => r
                .problems
                .push(format!("`{event}` is listed in {LISTED} without a reason")),
            (true, Some(_)) => r.problems.push(format!(
                "`{event}` is typed and also listed in {LISTED}: drop the entry"
            )),
            (false, None) => r.problems.push(format!(
                "`{event}` ({constant}) is neither typed nor listed"
            )),
        }
    }
    for event in listed.keys() {
        if !server.contains_key(event) {
            r.problems.push(format!(
                "`{event}` is listed in {LISTED} but the server defines no such event"
            ));
        }
    }
    r.typed_not_server = typed
        .iter()
        .filter(|e| !server.contains_key(*e))
        .cloned()
        .collect();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO: &str = r#"package model

type WebsocketEventType string

const (
	WebsocketEventTyping      WebsocketEventType = "typing"
	WebsocketEventPosted      WebsocketEventType = "posted" // a comment
	WebsocketEventNewThing    WebsocketEventType = "new_thing"
	WebsocketAuthenticationChallenge WebsocketEventType = "authentication_challenge"
	// WebsocketEventOld WebsocketEventType = "old"
	OtherConst = "not_an_event"
	WebsocketMaxThing = 5
)

const WebsocketEventSolo = WebsocketEventType("solo")
"#;

    const RS: &str = r#"
fn decode_kind_de<'de, D: serde::Deserializer<'de>>(event: &str, d: D) -> Result<EventKind, D::Error> {
    Ok(match event {
        "typing" => EventKind::Typing(Deserialize::deserialize(d)?),
        "posted" | "solo" => {
            EventKind::Posted(b(d)?)
        }
        "gone_from_server" => EventKind::Gone,
        other => EventKind::Unknown { event: other.to_owned(), data: Deserialize::deserialize(d)? },
    })
}

fn elsewhere() { match k { "event" => Key::Event, _ => Key::Other } }
"#;

    #[test]
    fn the_event_constants_of_a_go_file_are_read() {
        let got = event_constants(GO);
        let values: Vec<&str> = got.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            [
                "typing",
                "posted",
                "new_thing",
                "authentication_challenge",
                "solo"
            ]
        );
        assert_eq!(got[2].0, "WebsocketEventNewThing");
    }

    #[test]
    fn the_typed_events_are_the_patterns_of_decode_kind_de_only() {
        let got: Vec<String> = typed_events(RS).unwrap().into_iter().collect();
        assert_eq!(got, ["gone_from_server", "posted", "solo", "typing"]);
    }

    #[test]
    fn an_untyped_unlisted_event_a_stale_entry_and_a_double_entry_fail() {
        let server: BTreeMap<String, String> = event_constants(GO)
            .into_iter()
            .map(|(n, v)| (v, n))
            .collect();
        let typed = typed_events(RS).unwrap();
        let listed = listed_events(
            "[untyped]\nauthentication_challenge = \"an action\"\nposted = \"dup\"\nvanished = \"gone\"\n",
        )
        .unwrap();
        let r = compare(&server, &typed, &listed);
        assert_eq!(r.typed_server, 2); // typing, solo
        assert_eq!(r.listed_server, 1); // authentication_challenge
        assert_eq!(r.typed_not_server, ["gone_from_server"]);
        assert_eq!(r.problems.len(), 3, "{:?}", r.problems);
        assert!(r.problems[0].contains("`new_thing` (WebsocketEventNewThing)"));
        assert!(r.problems[1].contains("`posted` is typed and also listed"));
        assert!(r.problems[2].contains("`vanished` is listed"));

        let listed = listed_events(
            "[untyped]\nauthentication_challenge = \"an action\"\nnew_thing = \"internal\"\n",
        )
        .unwrap();
        let r = compare(&server, &typed, &listed);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert!(listed_events("[untyped]\nx = 1\n").is_err());
    }

    #[test]
    fn the_module_version_comes_from_go_mod_and_the_cache_path_is_escaped() {
        let go_mod = "module x\n\nrequire (\n\tgithub.com/mattermost/mattermost/server/public v0.1.22-0.2026 // indirect\n\tgithub.com/mattermost/mattermost/server/v8 v8.0.0 // indirect\n)\nrequire example.com/One v1.0.0\n";
        assert_eq!(
            required_version(go_mod, PUBLIC_MODULE).as_deref(),
            Some("v0.1.22-0.2026")
        );
        assert_eq!(
            required_version(go_mod, "example.com/One").as_deref(),
            Some("v1.0.0")
        );
        assert_eq!(required_version(go_mod, "example.com/none"), None);
        assert_eq!(escape_module_path("example.com/One"), "example.com/!one");
    }

    #[test]
    fn the_check_runs_on_a_folder_tree() {
        let dir = std::env::temp_dir().join(format!("xtask-events-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let server = dir.join("public");
        std::fs::create_dir_all(server.join("model")).unwrap();
        std::fs::write(server.join("model/websocket_message.go"), GO).unwrap();
        std::fs::write(
            server.join("model/x_test.go"),
            "const T WebsocketEventType = \"test_only\"\n",
        )
        .unwrap();
        let root = dir.join("crate");
        std::fs::create_dir_all(root.join("src/ws")).unwrap();
        std::fs::create_dir_all(root.join("openapi")).unwrap();
        std::fs::write(root.join("src/ws/event.rs"), RS).unwrap();
        std::fs::write(
            root.join(LISTED),
            "[untyped]\nauthentication_challenge = \"an action\"\n",
        )
        .unwrap();
        let err = run(&root, &server, "test").unwrap_err();
        assert!(
            format!("{err:#}").contains("1 websocket event problem"),
            "{err:#}"
        );
        std::fs::write(
            root.join(LISTED),
            "[untyped]\nauthentication_challenge = \"an action\"\nnew_thing = \"internal\"\n",
        )
        .unwrap();
        run(&root, &server, "test").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
