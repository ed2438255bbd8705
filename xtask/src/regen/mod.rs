//! `cargo xtask regen`: upstream spec in, `openapi/mattermost-v4.json` out.
//!
//! Read the input (fragments, one file, or a git ref), parse it, apply the rules of
//! `openapi/rules.yaml`, check the result, and write the vendored files atomically. `--check` writes
//! nothing and fails when the vendored files differ from what this run would write.

pub mod check;
pub mod report;
pub mod rules;
pub mod source;
pub mod yaml;

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use source::{Input, Origin};

/// The files regen owns, relative to the workspace root.
pub const SPEC: &str = "openapi/mattermost-v4.json";
pub const SOURCE: &str = "openapi/source.toml";
pub const RULES: &str = "openapi/rules.yaml";
pub const ORDER: &str = "openapi/fragment-order.txt";
pub const CHANGES: &str = "openapi/CHANGES.md";
pub const README: &str = "openapi/README.md";
const EXCLUDED_START: &str = "<!-- excluded operations: written by cargo xtask regen -->";
const EXCLUDED_END: &str = "<!-- end of excluded operations -->";

/// Command-line options of `regen`.
#[derive(Debug, Default)]
pub struct Options {
    pub from: Option<PathBuf>,
    pub git_ref: Option<String>,
    pub base_url: Option<String>,
    pub check: bool,
    /// The workspace root (where `openapi/` lives).
    pub root: PathBuf,
}

/// Parses `regen`'s arguments.
pub fn parse_args(args: &[String], root: PathBuf) -> Result<Options> {
    let mut o = Options {
        root,
        ..Options::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .with_context(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--from" => o.from = Some(PathBuf::from(value("--from")?)),
            "--ref" => o.git_ref = Some(value("--ref")?),
            "--base-url" => o.base_url = Some(value("--base-url")?),
            "--check" => o.check = true,
            "--root" => o.root = PathBuf::from(value("--root")?),
            other => bail!(
                "unknown argument `{other}`\nusage: cargo xtask regen [--from PATH | --ref REF [--base-url URL]] [--check] [--root DIR]"
            ),
        }
    }
    Ok(o)
}

/// What `openapi/source.toml` records.
#[derive(Debug, Deserialize)]
struct Recorded {
    input: RecordedInput,
    upstream: RecordedUpstream,
}
#[derive(Debug, Deserialize)]
struct RecordedInput {
    kind: String,
    path: Option<String>,
    base_url: Option<String>,
}
#[derive(Debug, Deserialize)]
struct RecordedUpstream {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

/// The result of a run, before anything is written.
pub struct Generated {
    pub files: Vec<(PathBuf, String)>,
    pub summary: String,
    pub changes: Option<String>,
}

/// Runs regen.
pub fn run(o: &Options) -> Result<()> {
    let generated = generate(o)?;
    if o.check {
        let mut stale = Vec::new();
        for (path, text) in &generated.files {
            let now = std::fs::read_to_string(o.root.join(path)).unwrap_or_default();
            if now != *text {
                stale.push(format!(
                    "{} ({})",
                    path.display(),
                    first_difference(&now, text)
                ));
            }
        }
        if !stale.is_empty() {
            bail!(
                "the vendored spec is not what regen produces from the recorded source; run `cargo xtask regen`:\n  {}",
                stale.join("\n  ")
            );
        }
        println!("regen --check: the vendored files are up to date");
        return Ok(());
    }
    let mut files = generated.files;
    if let Some(changes) = generated.changes {
        files.push((PathBuf::from(CHANGES), changes));
    }
    for (path, text) in &files {
        write_atomically(&o.root.join(path), text)?;
    }
    println!("{}", generated.summary);
    Ok(())
}

fn first_difference(a: &str, b: &str) -> String {
    match a.lines().zip(b.lines()).position(|(x, y)| x != y) {
        Some(i) => format!("first difference at line {}", i + 1),
        None if a.is_empty() => "missing".into(),
        None => format!(
            "{} lines vendored, {} expected",
            a.lines().count(),
            b.lines().count()
        ),
    }
}

/// Writes through a temporary file in the same folder, then renames: never half-written.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("regen-tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

/// Reads the input and produces every output, writing nothing.
pub fn generate(o: &Options) -> Result<Generated> {
    let input = load(o)?;
    let (mut spec, dups) = parse(&input)?;
    let mut summary = String::new();
    for d in &dups {
        summary.push_str(&format!(
            "warning: duplicate key {} in {} (the later value wins, as upstream)\n",
            d.place, input.label
        ));
    }
    check::openapi_version(&spec, &input.label)?;
    let upstream_ops = report::operations(&spec).len();

    let rules_text = std::fs::read_to_string(o.root.join(RULES))
        .with_context(|| format!("cannot read {RULES}"))?;
    let rules = rules::parse_rules(&rules_text).with_context(|| format!("in {RULES}"))?;
    let outcome = rules::apply(&mut spec, &rules, &o.root.join("openapi"))
        .with_context(|| format!("applying {RULES}"))?;
    for (n, kind, reason, changes) in &outcome.log {
        summary.push_str(&format!("rule {n} {kind}: {reason}\n"));
        if changes.is_empty() {
            summary.push_str("    (no change)\n");
        }
        for c in changes {
            summary.push_str(&format!("    {c}\n"));
        }
    }
    check::refs_resolve(&spec, &input.label)?;
    check::operation_ids(&spec, &input.label)?;

    let json = serde_json::to_string_pretty(&spec)? + "\n";
    check::openapiv3_reads(&json, &input.label)?;
    let new_ops = report::operations(&spec);
    let old_text = std::fs::read_to_string(o.root.join(SPEC)).ok();
    let old_ops = old_text
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .map(|v| report::operations(&v))
        .unwrap_or_default();
    let old_label = std::fs::read_to_string(o.root.join(SOURCE))
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("label"))
                .map(|l| l.split('"').nth(1).unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| "nothing".into());
    let (md, any) = report::markdown(&old_ops, &new_ops, &old_label, &input.label);
    summary.push_str(&format!(
        "{} operations upstream, {} generated, {} excluded; {}\n",
        upstream_ops,
        new_ops.len(),
        outcome.excluded.len(),
        if any {
            format!("changes against the vendored spec written to {CHANGES}")
        } else {
            "no change against the vendored spec".into()
        }
    ));
    if any {
        for line in md.lines().filter(|l| l.starts_with("- ")).take(40) {
            summary.push_str(&format!("  {line}\n"));
        }
    }

    let mut rules_hash = String::new();
    rules_hash.push_str(&source::hex(&Sha256::digest(rules_text.as_bytes())));
    let source_toml = source_toml(&input, &rules_hash);
    let readme = readme_with_exclusions(
        &std::fs::read_to_string(o.root.join(README)).unwrap_or_default(),
        &outcome.excluded,
    );
    Ok(Generated {
        files: vec![
            (PathBuf::from(SPEC), json),
            (PathBuf::from(SOURCE), source_toml),
            (PathBuf::from(README), readme),
        ],
        summary,
        changes: any.then_some(md),
    })
}

fn load(o: &Options) -> Result<Input> {
    let order = o.root.join(ORDER);
    let fallback = order.is_file().then_some(order.as_path());
    match (&o.from, &o.git_ref) {
        (Some(from), git_ref) => {
            let display = relative_to(&o.root, from);
            source::load_path(from, display, git_ref.clone(), fallback)
        }
        (None, Some(r)) => {
            source::load_ref(r, o.base_url.as_deref().unwrap_or(source::DEFAULT_BASE_URL))
        }
        (None, None) => {
            let text = std::fs::read_to_string(o.root.join(SOURCE)).with_context(|| {
                format!("no --from or --ref, and no recorded source in {SOURCE}")
            })?;
            let rec: Recorded =
                toml::from_str(&text).with_context(|| format!("invalid {SOURCE}"))?;
            match (
                rec.input.kind.as_str(),
                rec.input.path,
                rec.upstream.git_ref,
            ) {
                ("path", Some(p), r) => {
                    let at = o.root.join(&p);
                    if !at.exists() {
                        bail!("{}", missing_recorded_source(&p, r.as_deref()));
                    }
                    source::load_path(&at, p, r, fallback)
                }
                ("ref", _, Some(r)) => source::load_ref(
                    &r,
                    o.base_url
                        .as_deref()
                        .or(rec.input.base_url.as_deref())
                        .unwrap_or(source::DEFAULT_BASE_URL),
                ),
                _ => bail!("{SOURCE} records neither a path nor a ref"),
            }
        }
    }
}

/// What regen says when the source recorded in `openapi/source.toml` is not on this machine (a
/// fresh clone has no `../shared` beside it): what it needs and the ways to give it.
fn missing_recorded_source(path: &str, git_ref: Option<&str>) -> String {
    let mut text = format!(
        "regen reads the upstream spec from the source recorded in {SOURCE}, `{path}` (relative to \
         the workspace root), and it is not there.\nPlace the upstream Mattermost API fragments \
         (api/v4/source of mattermost/mattermost) at that path, or pass --from PATH (a fragments \
         folder or an assembled file)"
    );
    match git_ref {
        Some(r) => text.push_str(&format!(
            ", or --ref {r} to download the recorded upstream commit"
        )),
        None => text.push_str(", or --ref REF to download an upstream commit"),
    }
    text.push('.');
    text
}

fn parse(input: &Input) -> Result<(Value, Vec<yaml::Duplicate>)> {
    yaml::parse(&input.text).map_err(|e| {
        let place = e
            .location()
            .map(|l| format!("{} column {}", input.place(l.line()), l.column()))
            .unwrap_or_else(|| input.label.clone());
        // serde_yaml's own position counts lines of the assembled text: say only the fragment's.
        let message = e.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        anyhow::anyhow!("invalid YAML at {place}: {message}")
    })
}

/// `path` relative to `root` (with `..` as needed): never an absolute path in a committed file.
fn relative_to(root: &Path, path: &Path) -> String {
    let abs = |p: &Path| {
        std::fs::canonicalize(p)
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let (root, path) = (abs(root), abs(path));
    let r: Vec<Component> = root.components().collect();
    let p: Vec<Component> = path.components().collect();
    let common = r.iter().zip(&p).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..r.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out.to_string_lossy().into_owned()
}

/// A TOML string literal.
fn q(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn source_toml(input: &Input, rules_sha: &str) -> String {
    let mut t = String::from(
        "# Written by `cargo xtask regen`: where openapi/mattermost-v4.json comes from.\n\n",
    );
    t.push_str(&format!(
        "label = \"{}\"\n\n[upstream]\nrepo = \"{}\"\n",
        input.label,
        source::UPSTREAM_REPO
    ));
    match &input.origin {
        Origin::Path { path, git_ref } => {
            if let Some(r) = git_ref {
                t.push_str(&format!("ref = {}\n", q(r)));
            }
            t.push_str(&format!("\n[input]\nkind = \"path\"\npath = {}\n", q(path)));
        }
        Origin::Ref { git_ref, base_url } => {
            t.push_str(&format!(
                "ref = \"{git_ref}\"\n\n[input]\nkind = \"ref\"\nbase_url = \"{base_url}\"\n"
            ));
        }
    }
    let fragments: Vec<String> = input
        .fragments
        .iter()
        .map(|f| format!("\"{}\"", f.name))
        .collect();
    t.push_str(&format!(
        "fragments = [{}]\nsha256 = \"{}\"\n",
        fragments.join(", "),
        input.sha256()
    ));
    t.push_str(&format!(
        "\n[tool]\nname = \"cargo xtask regen\"\nversion = \"{}\"\nrules_sha256 = \"{rules_sha}\"\n",
        env!("CARGO_PKG_VERSION")
    ));
    t
}

fn readme_with_exclusions(readme: &str, excluded: &[rules::Excluded]) -> String {
    let mut table = format!(
        "{EXCLUDED_START}\n\n| operation | method and path | why | hand-written replacement |\n| --- | --- | --- | --- |\n"
    );
    let mut ex = excluded.to_vec();
    ex.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    for e in &ex {
        table.push_str(&format!(
            "| `{}` | `{} {}` | {} | {} |\n",
            e.operation_id, e.method, e.path, e.why, e.replacement
        ));
    }
    table.push_str(&format!("\n{} operations.\n\n{EXCLUDED_END}", ex.len()));
    match (readme.find(EXCLUDED_START), readme.find(EXCLUDED_END)) {
        (Some(a), Some(b)) if a < b => format!(
            "{}{table}{}",
            &readme[..a],
            &readme[b + EXCLUDED_END.len()..]
        ),
        _ => format!("{readme}\n## Operations not generated\n\n{table}\n"),
    }
}
