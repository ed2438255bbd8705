//! `cargo xtask coverage`: every route of the pinned test server against the client's operations.
//!
//! The server's routes are read from the Go module the test server is built from
//! (`testserver/go.mod` pins it; the source is in the Go module cache) by [`goroutes`]. They are
//! compared, as unique (method, path) pairs with path parameters normalised, with the operations of
//! `openapi/mattermost-v4.json` and the hand-written ones listed in `openapi/coverage.toml`. The
//! run fails when a public server route is neither covered nor listed there with its reason, or
//! when the table names a route the server does not have. It writes the report into
//! `openapi/README.md` and the generated operations the server does not serve into
//! `openapi/unserved.toml` (read by `cargo xtask regen` for their docs); `--check` writes nothing
//! and fails when either is stale.

pub mod goroutes;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

use goroutes::{GoFile, Route};

/// The server module whose routes are read, as `testserver/go.mod` requires it.
pub const SERVER_MODULE: &str = "github.com/mattermost/mattermost/server/v8";
/// The module of the server's models (the route prefix constants).
pub const PUBLIC_MODULE: &str = "github.com/mattermost/mattermost/server/public";
/// The table of hand-written and deliberately untyped routes.
pub const TABLE: &str = "openapi/coverage.toml";
/// The generated operations the server does not serve (written here, read by regen).
pub const UNSERVED: &str = "openapi/unserved.toml";
const README: &str = "openapi/README.md";
const SPEC: &str = "openapi/mattermost-v4.json";
const START: &str = "<!-- coverage: written by cargo xtask coverage -->";
const END: &str = "<!-- end of coverage -->";

/// Command-line options of `coverage`.
#[derive(Debug, Default)]
pub struct Options {
    pub check: bool,
    /// The server module's source folder (the one holding `channels/api4`), instead of the one
    /// `testserver/go.mod` pins.
    pub server_src: Option<PathBuf>,
    pub root: PathBuf,
}

/// Parses `coverage`'s arguments.
pub fn parse_args(args: &[String], root: PathBuf) -> Result<Options> {
    let mut o = Options {
        root,
        ..Options::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--check" => o.check = true,
            "--server-src" => {
                o.server_src = Some(PathBuf::from(
                    it.next().context("--server-src needs a folder")?,
                ))
            }
            "--root" => o.root = PathBuf::from(it.next().context("--root needs a folder")?),
            other => bail!(
                "unknown argument `{other}`\nusage: cargo xtask coverage [--check] [--server-src DIR] [--root DIR]"
            ),
        }
    }
    Ok(o)
}

/// `openapi/coverage.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// `METHOD /path` (parameters as `{}` or named) to the hand-written method that serves it.
    #[serde(default)]
    pub hand_written: BTreeMap<String, String>,
    /// `METHOD /path` to the reason the client does not type it.
    #[serde(default)]
    pub not_typed: BTreeMap<String, String>,
}

/// A `METHOD /path` key with its path normalised.
fn key_of(entry: &str) -> Result<(String, String)> {
    let (m, p) = entry
        .split_once(' ')
        .with_context(|| format!("`{entry}` is not `METHOD /path`"))?;
    let paths = goroutes::normalise(p.trim());
    match paths.as_slice() {
        [one] => Ok((m.to_uppercase(), one.clone())),
        _ => bail!("`{entry}`: a path of choices names several routes"),
    }
}

/// The operations of the vendored spec: normalised (method, path) to `METHOD /path` as the spec
/// spells it.
pub fn spec_operations(spec: &Value) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for (path, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            if !["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                continue;
            }
            for p in goroutes::normalise(path) {
                out.insert(
                    (method.to_uppercase(), p),
                    format!("{} {path}", method.to_uppercase()),
                );
            }
        }
    }
    out
}

/// The area of a route: its first path segment after `/api/v4` (or from the root outside it).
fn area(path: &str) -> String {
    let rest = path.strip_prefix("/api/v4").unwrap_or(path);
    let seg = rest.trim_start_matches('/').split('/').next().unwrap_or("");
    if path.starts_with("/api/v4") {
        seg.to_owned()
    } else {
        format!("/{seg}")
    }
}

/// What the audit found.
#[derive(Debug, Default)]
pub struct Audit {
    pub server: String,
    /// Public routes (normalised (method, path)).
    pub public: BTreeSet<(String, String)>,
    /// Routes of the local-mode socket only.
    pub local_only: BTreeSet<(String, String)>,
    pub generated: BTreeSet<(String, String)>,
    pub hand_written: BTreeSet<(String, String)>,
    pub not_typed: BTreeMap<(String, String), String>,
    /// Public routes neither covered nor listed.
    pub missing: Vec<(String, String)>,
    /// Table entries that are no route of the server, or already generated.
    pub stale: Vec<String>,
    /// Generated operations the server does not serve publicly: spec key, `local` or `absent`.
    pub unserved: BTreeMap<String, &'static str>,
}

/// Compares the server's routes with the spec and the table.
pub fn audit(server: &str, routes: &BTreeSet<Route>, spec: &Value, table: &Table) -> Result<Audit> {
    let mut a = Audit {
        server: server.to_owned(),
        ..Audit::default()
    };
    for r in routes {
        if !r.local {
            a.public.insert((r.method.clone(), r.path.clone()));
        }
    }
    for r in routes {
        let k = (r.method.clone(), r.path.clone());
        if r.local && !a.public.contains(&k) {
            a.local_only.insert(k);
        }
    }
    let ops = spec_operations(spec);
    for (k, name) in &ops {
        if a.public.contains(k) {
            a.generated.insert(k.clone());
        } else {
            let why = if a.local_only.contains(k) {
                "local"
            } else {
                "absent"
            };
            a.unserved.insert(name.clone(), why);
        }
    }
    for (entry, how) in &table.hand_written {
        let k = key_of(entry).with_context(|| format!("in {TABLE} [hand_written]"))?;
        if !a.public.contains(&k) {
            a.stale.push(format!(
                "[hand_written] `{entry}` ({how}) is no public route of the server"
            ));
        } else if a.generated.contains(&k) {
            a.stale.push(format!(
                "[hand_written] `{entry}` is generated already (remove it from the table)"
            ));
        }
        a.hand_written.insert(k);
    }
    for (entry, why) in &table.not_typed {
        let k = key_of(entry).with_context(|| format!("in {TABLE} [not_typed]"))?;
        if !a.public.contains(&k) && !a.local_only.contains(&k) {
            a.stale
                .push(format!("[not_typed] `{entry}` is no route of the server"));
        } else if a.generated.contains(&k) || a.hand_written.contains(&k) {
            a.stale
                .push(format!("[not_typed] `{entry}` is typed already"));
        }
        if why.trim().is_empty() {
            a.stale
                .push(format!("[not_typed] `{entry}` gives no reason"));
        }
        a.not_typed.insert(k, why.clone());
    }
    a.missing = a
        .public
        .iter()
        .filter(|k| {
            !a.generated.contains(*k)
                && !a.hand_written.contains(*k)
                && !a.not_typed.contains_key(*k)
        })
        .cloned()
        .collect();
    Ok(a)
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        return "-".into();
    }
    format!("{:.1} %", n as f64 * 100.0 / d as f64)
}

/// The report section of `openapi/README.md`.
pub fn report(a: &Audit) -> String {
    let total = a.public.len();
    let generated = a.generated.len();
    let typed = a
        .public
        .iter()
        .filter(|k| a.generated.contains(*k) || a.hand_written.contains(*k))
        .count();
    let reasoned = a
        .public
        .iter()
        .filter(|k| a.not_typed.contains_key(*k))
        .count();
    let local_in_spec = a.unserved.values().filter(|w| **w == "local").count();
    let absent = a.unserved.values().filter(|w| **w == "absent").count();
    let mut md = String::new();
    let _ = writeln!(md, "{START}\n");
    let _ = writeln!(
        md,
        "Routes registered by the pinned test server (`{}`, `channels/api4`), as unique (method, \
         path) pairs with path parameters normalised, against the operations of \
         `mattermost-v4.json` and the hand-written ones of `coverage.toml`.\n",
        a.server
    );
    let _ = writeln!(md, "| | routes |\n| --- | --- |");
    let _ = writeln!(md, "| public routes of the server | {total} |");
    let _ = writeln!(
        md,
        "| generated | {generated} ({}) |",
        pct(generated, total)
    );
    let _ = writeln!(
        md,
        "| generated or hand-written | {typed} ({}) |",
        pct(typed, total)
    );
    let _ = writeln!(
        md,
        "| not typed, with a reason (`coverage.toml`) | {reasoned} |"
    );
    let _ = writeln!(md, "| missing | {} |", a.missing.len());
    let _ = writeln!(
        md,
        "| routes of the local-mode socket only | {} ({local_in_spec} of them generated) |",
        a.local_only.len()
    );
    let _ = writeln!(
        md,
        "| generated operations the server does not serve | {absent} (and {local_in_spec} local mode only; listed in `unserved.toml`) |"
    );
    let _ = writeln!(
        md,
        "\n| area | routes | typed | % |\n| --- | --- | --- | --- |"
    );
    let mut areas: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for k in &a.public {
        let e = areas.entry(area(&k.1)).or_default();
        e.0 += 1;
        if a.generated.contains(k) || a.hand_written.contains(k) {
            e.1 += 1;
        }
    }
    for (name, (n, t)) in &areas {
        let _ = writeln!(md, "| `{name}` | {n} | {t} | {} |", pct(*t, *n));
    }
    let _ = write!(md, "\n{END}");
    md
}

/// `openapi/unserved.toml`.
pub fn unserved_toml(a: &Audit) -> String {
    let mut t = format!(
        "# Written by `cargo xtask coverage`: the generated operations that the pinned test server\n\
         # does not serve ({}).\n\
         # `absent`: no such route; `local`: a route of the local-mode socket only.\n\
         # `cargo xtask regen` says so in each operation's docs.\n\n[operations]\n",
        a.server
    );
    for (op, why) in &a.unserved {
        let _ = writeln!(t, "{} = \"{why}\"", toml::Value::String(op.clone()));
    }
    t
}

fn with_section(readme: &str, section: &str) -> String {
    match (readme.find(START), readme.find(END)) {
        (Some(s), Some(e)) if s < e => {
            format!("{}{section}{}", &readme[..s], &readme[e + END.len()..])
        }
        _ => format!("{readme}\n## Coverage of the server's routes\n\n{section}\n"),
    }
}

/// A Go module's folder in the module cache (`!`-escaped upper case, as `go` stores it).
fn module_dir(cache: &Path, module: &str, version: &str) -> PathBuf {
    let mut escaped = String::new();
    for c in format!("{module}@{version}").chars() {
        if c.is_ascii_uppercase() {
            escaped.push('!');
            escaped.push(c.to_ascii_lowercase());
        } else {
            escaped.push(c);
        }
    }
    cache.join(escaped)
}

/// The version `go.mod` requires of `module`.
pub fn required_version(go_mod: &str, module: &str) -> Option<String> {
    go_mod.lines().find_map(|l| {
        let l = l.trim().trim_start_matches("require").trim();
        let mut words = l.split_whitespace();
        (words.next() == Some(module))
            .then(|| words.next().map(str::to_owned))
            .flatten()
    })
}

/// The source folder of `module` as `testserver/go.mod` pins it, downloaded with
/// `go mod download` when the module cache lacks it.
fn pinned_module(root: &Path, module: &str) -> Result<(PathBuf, String)> {
    let dir = root.join("testserver");
    let go_mod =
        std::fs::read_to_string(dir.join("go.mod")).context("cannot read testserver/go.mod")?;
    let version = required_version(&go_mod, module)
        .with_context(|| format!("testserver/go.mod requires no {module}"))?;
    let out = Command::new("go")
        .args(["env", "GOMODCACHE"])
        .current_dir(&dir)
        .output()
        .context("cannot run `go env GOMODCACHE` (is Go installed?)")?;
    if !out.status.success() {
        bail!("`go env GOMODCACHE` failed");
    }
    let cache = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let src = module_dir(&cache, module, &version);
    if !src.is_dir() {
        eprintln!("coverage: {module}@{version} is not in the module cache; go mod download");
        let status = Command::new("go")
            .args(["mod", "download", &format!("{module}@{version}")])
            .current_dir(&dir)
            .status()
            .context("cannot run `go mod download`")?;
        if !status.success() || !src.is_dir() {
            bail!("cannot download {module}@{version} (go mod download failed)");
        }
    }
    Ok((src, version))
}

fn go_files(dir: &Path) -> Result<Vec<GoFile>> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for e in entries {
        let path = e?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with(".go") && !name.ends_with("_test.go") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            out.push(GoFile { name, text });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The server's routes: from `--server-src`, or the module `testserver/go.mod` pins.
pub fn server_routes(o: &Options) -> Result<(String, BTreeSet<Route>)> {
    let (src, label) = match &o.server_src {
        Some(dir) => (dir.clone(), format!("{SERVER_MODULE} from --server-src")),
        None => {
            let (src, version) = pinned_module(&o.root, SERVER_MODULE)?;
            (src, format!("{SERVER_MODULE}@{version}"))
        }
    };
    let api4 = src.join("channels/api4");
    let files = go_files(&api4)?;
    let api_go = files
        .iter()
        .find(|f| f.name == "api.go")
        .with_context(|| format!("{} has no api.go", api4.display()))?;
    // The prefix constants (model.APIURLSuffix): the monorepo's server/public beside channels/,
    // or the pinned public module.
    let model = match src.join("public/model") {
        m if m.is_dir() => m,
        _ => pinned_module(&o.root, PUBLIC_MODULE)?.0.join("model"),
    };
    let consts = goroutes::string_consts("model", &go_files(&model)?);
    let routes = goroutes::routes(&api_go.text, &files, &consts)?;
    Ok((label, routes))
}

/// Runs the audit.
pub fn run(o: &Options) -> Result<()> {
    let (server, routes) = server_routes(o)?;
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(o.root.join(SPEC))
            .with_context(|| format!("cannot read {SPEC}"))?,
    )
    .with_context(|| format!("{SPEC} is not JSON"))?;
    let table: Table = toml::from_str(
        &std::fs::read_to_string(o.root.join(TABLE))
            .with_context(|| format!("cannot read {TABLE}"))?,
    )
    .with_context(|| format!("{TABLE} is not a valid table"))?;
    let mut a = audit(&server, &routes, &spec, &table)?;
    check_hand_written(&o.root, &table, &mut a.stale)?;
    let section = report(&a);
    let readme_now = std::fs::read_to_string(o.root.join(README)).unwrap_or_default();
    let readme = with_section(&readme_now, &section);
    let unserved = unserved_toml(&a);
    let unserved_now = std::fs::read_to_string(o.root.join(UNSERVED)).unwrap_or_default();
    println!(
        "{} public server routes: {} generated ({}), {} generated or hand-written ({}), {} not typed with a reason, {} missing; {} local-mode-only routes; {} generated operations not served",
        a.public.len(),
        a.generated.len(),
        pct(a.generated.len(), a.public.len()),
        a.public
            .iter()
            .filter(|k| a.generated.contains(*k) || a.hand_written.contains(*k))
            .count(),
        pct(
            a.public
                .iter()
                .filter(|k| a.generated.contains(*k) || a.hand_written.contains(*k))
                .count(),
            a.public.len()
        ),
        a.public
            .iter()
            .filter(|k| a.not_typed.contains_key(*k))
            .count(),
        a.missing.len(),
        a.local_only.len(),
        a.unserved.len(),
    );
    let mut errors = Vec::new();
    for (m, p) in &a.missing {
        errors.push(format!(
            "server route `{m} {p}` is neither generated nor listed in {TABLE}"
        ));
    }
    errors.extend(a.stale.iter().map(|s| format!("{TABLE}: {s}")));
    if o.check {
        if readme != readme_now {
            errors.push(format!(
                "{README}'s coverage section is stale; run `cargo xtask coverage`"
            ));
        }
        if unserved != unserved_now {
            errors.push(format!("{UNSERVED} is stale; run `cargo xtask coverage`"));
        }
    } else {
        std::fs::write(o.root.join(README), &readme)
            .with_context(|| format!("cannot write {README}"))?;
        std::fs::write(o.root.join(UNSERVED), &unserved)
            .with_context(|| format!("cannot write {UNSERVED}"))?;
    }
    if !errors.is_empty() {
        bail!("coverage:\n  {}", errors.join("\n  "));
    }
    if o.check {
        println!(
            "coverage --check: every public route is covered or reasoned; the report is current"
        );
    }
    Ok(())
}

/// Each hand-written entry names a `Client::method` (or another path ending in a function) that
/// `src/` defines.
fn check_hand_written(root: &Path, table: &Table, errors: &mut Vec<String>) -> Result<()> {
    let mut src = String::new();
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for e in
            std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
        {
            let path = e?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                src.push_str(&std::fs::read_to_string(&path)?);
            }
        }
    }
    for (entry, how) in &table.hand_written {
        let Some(name) = how
            .split('`')
            .nth(1)
            .and_then(|code| code.rsplit("::").next())
        else {
            errors.push(format!(
                "[hand_written] `{entry}`: name the method in backticks"
            ));
            continue;
        };
        let name = name.trim_end_matches("()");
        let defined = src.contains(&format!("fn {name}("))
            || src.contains(&format!("fn {name}<"))
            || src.contains(&format!("{name} => "));
        if !defined {
            errors.push(format!(
                "[hand_written] `{entry}`: src/ defines no `{name}`"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_required_version() {
        let go_mod = "module x\n\nrequire (\n\tgithub.com/a/b v1.2.3 // indirect\n\tgithub.com/a/c v0.1.0\n)\nrequire github.com/a/d v2.0.0\n";
        assert_eq!(
            required_version(go_mod, "github.com/a/c").as_deref(),
            Some("v0.1.0")
        );
        assert_eq!(
            required_version(go_mod, "github.com/a/d").as_deref(),
            Some("v2.0.0")
        );
        assert_eq!(required_version(go_mod, "github.com/a/e"), None);
        assert_eq!(
            module_dir(Path::new("cache"), "github.com/Foo/bar", "v1"),
            Path::new("cache").join("github.com/!foo/bar@v1")
        );
    }

    #[test]
    fn audit_counts_covered_missing_listed_and_unserved() {
        let route = |m: &str, p: &str, local| Route {
            method: m.into(),
            path: p.into(),
            local,
        };
        let routes = BTreeSet::from([
            route("GET", "/api/v4/users/{}", false),
            route("POST", "/api/v4/files", false),
            route("GET", "/manualtest", false),
            route("POST", "/api/v4/drafts", false),
            route("DELETE", "/api/v4/users/{}/x", true),
        ]);
        let spec = json!({"paths": {
            "/api/v4/users/{user_id}": {"get": {}, "parameters": []},
            "/api/v4/users/{user_id}/x": {"delete": {}},
            "/api/v4/recaps": {"get": {}},
        }});
        let table = Table {
            hand_written: BTreeMap::from([(
                "POST /api/v4/files".into(),
                "`Client::upload_files`".into(),
            )]),
            not_typed: BTreeMap::from([
                ("GET /manualtest".into(), "testing builds only".into()),
                ("GET /api/v4/nothing".into(), "x".into()),
            ]),
        };
        let a = audit("s", &routes, &spec, &table).expect("audit");
        assert_eq!(a.public.len(), 4);
        assert_eq!(a.generated.len(), 1);
        assert_eq!(
            a.missing,
            [("POST".to_owned(), "/api/v4/drafts".to_owned())]
        );
        assert_eq!(
            a.stale,
            ["[not_typed] `GET /api/v4/nothing` is no route of the server"]
        );
        assert_eq!(
            a.unserved,
            BTreeMap::from([
                ("GET /api/v4/recaps".to_owned(), "absent"),
                ("DELETE /api/v4/users/{user_id}/x".to_owned(), "local"),
            ])
        );
        let md = report(&a);
        assert!(
            md.contains("| generated or hand-written | 2 (50.0 %) |"),
            "{md}"
        );
        assert!(md.contains("| `users` | 1 | 1 | 100.0 % |"), "{md}");
    }
}
