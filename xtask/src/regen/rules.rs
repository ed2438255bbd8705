//! Patch rules: the reviewed changes between upstream's spec and the one we generate from.
//!
//! Rules are data (`openapi/rules.yaml`), each with a one-line reason, applied in file order. Every
//! rule is idempotent (applying it to its own output changes nothing) and reports what it changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The methods an OpenAPI path item can hold.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One entry of `openapi/rules.yaml`.
#[derive(Debug, Deserialize)]
pub struct Rule {
    /// Why the rule exists, in one line.
    pub reason: String,
    #[serde(flatten)]
    pub kind: Kind,
}

/// What a rule does. The `rule` tag is the rule's name (its variant in snake_case), in the rules
/// file, in serde's error for an unknown one, and in the log ([`kind_name`]).
#[derive(Debug, Deserialize, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Kind {
    /// Move the value at `from` to `to` (a structural slip upstream: mis-indented or misnamed key).
    Move { from: Vec<String>, to: Vec<String> },
    /// Remove the value at `at`.
    Remove { at: Vec<String> },
    /// Set the value at `at`, creating objects on the way.
    Set { at: Vec<String>, value: Value },
    /// Declare a parameter an operation (`METHOD /path`) uses but does not declare.
    AddParameter { operation: String, parameter: Value },
    /// The success reply's JSON schema of operations (`METHOD /path`), as the server sends it.
    ResponseSchemas { table: BTreeMap<String, Value> },
    /// Drop every description, summary, example and `x-` extension; keep the facts.
    DropProse,
    /// Give operations without an operationId one made from method and path.
    SynthesizeOperationIds,
    /// Rename operations, keyed by `METHOD /path`.
    RenameOperations { table: BTreeMap<String, String> },
    /// Drop `enum` and `default` values that do not conform to the declared type.
    DropNonconformingValues,
    /// Remove operations whose request body is only of these content types.
    ExcludeRequestContent {
        content_types: Vec<String>,
        replacement: String,
    },
    /// Remove operations whose success response is only of these content types.
    ExcludeResponseContent {
        content_types: Vec<String>,
        replacement: String,
    },
    /// Remove operations by `METHOD /path`, each with where its replacement lives.
    ExcludeOperations { table: BTreeMap<String, String> },
    /// Keep one 2xx response per operation, as the `2XX` range; drop error responses (decoded by
    /// `matterapi::Error` from any status, JSON or not).
    SingleResponse,
    /// Move an inline object schema to `components.schemas.<name>` and reference it.
    Hoist { at: Vec<String>, name: String },
    /// Tags differing only in case or spacing become one (lowercase, spaces kept).
    NormaliseTags,
    /// Remove `enum` from string schemas reachable from responses, so new server values parse.
    OpenResponseEnums,
    /// Make optional array and object properties of response schemas nullable.
    NullableOptionalCollections,
    /// Field facts from the server's Go models: per schema, properties to set or remove; kept in
    /// `file` (relative to `openapi/`).
    Overlay { file: String },
    /// Operations upstream's spec lacks, typed from the server's handlers: every `*.yaml` file of
    /// `dir` (relative to `openapi/`), in name order, each with `operations` (by `METHOD /path`,
    /// each naming its Go `handler`) and the component `schemas` they use.
    AddOperations { dir: String },
    /// Bearer security on every operation except the listed public ones.
    BearerSecurity { scheme: String, public: Vec<String> },
    /// Our own doc text on every operation: method, path and a link to the API reference.
    OperationDocs {
        reference: String,
        /// Operations we renamed, by our name: the reference still knows them by upstream's.
        #[serde(default)]
        upstream_ids: BTreeMap<String, String>,
        /// The file (relative to `openapi/`, written by `cargo xtask coverage`) of the operations
        /// the test server does not serve, `absent` or `local`, and the server's name for the docs.
        #[serde(default)]
        unserved: Option<Unserved>,
    },
}

/// Field facts for one schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaOverlay {
    /// Where the facts were read, e.g. `server/public/model/user.go: User`.
    pub source: String,
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Where [`Kind::OperationDocs`] reads the operations the test server does not serve.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Unserved {
    pub file: String,
    /// How the docs name the server, e.g. `Mattermost 11.4`.
    pub server: String,
}

/// One file of [`Kind::AddOperations`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationsFile {
    #[serde(default)]
    pub operations: BTreeMap<String, Value>,
    #[serde(default)]
    pub schemas: BTreeMap<String, Value>,
}

/// The extension naming the Go handler an added operation was typed from (a fact the docs give
/// instead of a link to upstream's reference, which does not have the operation).
pub const HANDLER_KEY: &str = "x-matterapi-handler";

/// An operation the rules removed from the generated set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Excluded {
    pub method: String,
    pub path: String,
    pub operation_id: String,
    pub why: String,
    pub replacement: String,
}

/// What applying the rules did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// One entry per rule: its number, kind, reason, and the changes it made.
    pub log: Vec<(usize, String, String, Vec<String>)>,
    pub excluded: Vec<Excluded>,
}

/// Reads `openapi/rules.yaml`.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>> {
    let rules: Vec<Rule> = serde_yaml::from_str(text)
        .map_err(|e| name_bad_rule(text, e))
        .context("invalid rules file")?;
    for (i, r) in rules.iter().enumerate() {
        if r.reason.trim().is_empty() || r.reason.contains('\n') {
            bail!("rule {} needs a one-line reason", i + 1);
        }
    }
    Ok(rules)
}

/// serde's error for a rules file, in the context of the first entry that does not read as a rule:
/// its number and, if it has one, its `rule`.
fn name_bad_rule(text: &str, e: serde_yaml::Error) -> anyhow::Error {
    let entries: Vec<serde_yaml::Value> = serde_yaml::from_str(text).unwrap_or_default();
    match entries
        .iter()
        .enumerate()
        .find(|(_, v)| Rule::deserialize(*v).is_err())
    {
        Some((i, v)) => {
            let kind = v.get("rule").and_then(serde_yaml::Value::as_str);
            let kind = kind.map(|k| format!(" ({k})")).unwrap_or_default();
            anyhow::Error::new(e).context(format!("rule {}{kind}", i + 1))
        }
        None => e.into(),
    }
}

/// Applies `rules` in order; files named by rules are read from `dir`.
pub fn apply(spec: &mut Value, rules: &[Rule], dir: &Path) -> Result<Outcome> {
    let mut out = Outcome::default();
    for (i, rule) in rules.iter().enumerate() {
        let name = kind_name(&rule.kind);
        let mut changes = Vec::new();
        apply_one(spec, &rule.kind, dir, &mut changes, &mut out.excluded)
            .with_context(|| format!("rule {} ({name})", i + 1))?;
        out.log.push((i + 1, name, rule.reason.clone(), changes));
    }
    Ok(out)
}

/// The rule's name as written in the rules file: the `rule` tag serde gives `kind`, so the names
/// are those `Kind`'s attributes make, for reading and writing alike.
pub fn kind_name(kind: &Kind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.get("rule")?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Applies one rule: each kind is the `apply_<rule>` function of that name.
fn apply_one(
    spec: &mut Value,
    kind: &Kind,
    dir: &Path,
    ch: &mut Vec<String>,
    excluded: &mut Vec<Excluded>,
) -> Result<()> {
    match kind {
        Kind::Move { from, to } => apply_move(spec, from, to, ch)?,
        Kind::Remove { at } => apply_remove(spec, at, ch),
        Kind::Set { at, value } => apply_set(spec, at, value, ch)?,
        Kind::AddParameter {
            operation,
            parameter,
        } => apply_add_parameter(spec, operation, parameter, ch)?,
        Kind::ResponseSchemas { table } => apply_response_schemas(spec, table, ch)?,
        Kind::DropProse => apply_drop_prose(spec, ch),
        Kind::SynthesizeOperationIds => apply_synthesize_operation_ids(spec, ch),
        Kind::RenameOperations { table } => apply_rename_operations(spec, table, ch)?,
        Kind::DropNonconformingValues => apply_drop_nonconforming_values(spec, ch),
        Kind::ExcludeRequestContent {
            content_types,
            replacement,
        } => apply_exclude_content(
            spec,
            Body::Request,
            content_types,
            replacement,
            ch,
            excluded,
        ),
        Kind::ExcludeResponseContent {
            content_types,
            replacement,
        } => apply_exclude_content(
            spec,
            Body::Response,
            content_types,
            replacement,
            ch,
            excluded,
        ),
        Kind::ExcludeOperations { table } => apply_exclude_operations(spec, table, ch, excluded)?,
        Kind::SingleResponse => apply_single_response(spec, ch),
        Kind::Hoist { at, name } => apply_hoist(spec, at, name, ch)?,
        Kind::NormaliseTags => apply_normalise_tags(spec, ch),
        Kind::OpenResponseEnums => apply_open_response_enums(spec, ch),
        Kind::NullableOptionalCollections => apply_nullable_optional_collections(spec, ch),
        Kind::Overlay { file } => apply_overlay(spec, dir, file, ch)?,
        Kind::AddOperations { dir: sub } => apply_add_operations(spec, &dir.join(sub), ch)?,
        Kind::BearerSecurity { scheme, public } => apply_bearer_security(spec, scheme, public, ch),
        Kind::OperationDocs {
            reference,
            upstream_ids,
            unserved,
        } => {
            let unserved = match unserved {
                Some(u) => Some((read_unserved(&dir.join(&u.file))?, u.server.as_str())),
                None => None,
            };
            apply_operation_docs(spec, reference, upstream_ids, unserved.as_ref(), ch)
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The rules, one function each (`apply_<rule>`, for the `rule: <rule>` of the rules file); those
// needing helpers of their own are with them below.

/// [`Kind::Move`]; done already when only `to` exists, and a note when neither parent does.
fn apply_move(
    spec: &mut Value,
    from: &[String],
    to: &[String],
    ch: &mut Vec<String>,
) -> Result<()> {
    if let Some(v) = take(spec, from) {
        put(spec, to, v)?;
        ch.push(format!("moved {} to {}", show(from), show(to)));
    } else if get(spec, to).is_none() {
        let parent = |p: &[String]| {
            p.split_last()
                .map(|(_, rest)| rest.to_vec())
                .unwrap_or_default()
        };
        if get(spec, &parent(from)).is_none() && get(spec, &parent(to)).is_none() {
            ch.push(format!("{}: not in this spec", show(from)));
        } else {
            bail!("nothing at {} (and nothing at {})", show(from), show(to));
        }
    }
    Ok(())
}

/// [`Kind::Remove`].
fn apply_remove(spec: &mut Value, at: &[String], ch: &mut Vec<String>) {
    if take(spec, at).is_some() {
        ch.push(format!("removed {}", show(at)));
    }
}

/// [`Kind::Set`].
fn apply_set(spec: &mut Value, at: &[String], value: &Value, ch: &mut Vec<String>) -> Result<()> {
    if get(spec, at) != Some(value) {
        put(spec, at, value.clone())?;
        ch.push(format!("set {}", show(at)));
    }
    Ok(())
}

/// [`Kind::AddParameter`]: unless the operation declares one of the same name and place.
fn apply_add_parameter(
    spec: &mut Value,
    operation: &str,
    parameter: &Value,
    ch: &mut Vec<String>,
) -> Result<()> {
    let (method, path) = split_key(operation)?;
    let at = ["paths".to_owned(), path.to_owned(), method.to_lowercase()];
    let Some(Value::Object(op)) = get_mut(spec, &at) else {
        ch.push(format!("{operation}: not in this spec"));
        return Ok(());
    };
    let params = op.entry("parameters").or_insert_with(|| json!([]));
    let Value::Array(params) = params else {
        bail!("{operation}: parameters is not a list");
    };
    let same =
        |p: &Value| p.get("name") == parameter.get("name") && p.get("in") == parameter.get("in");
    if !params.iter().any(same) {
        params.push(parameter.clone());
        ch.push(format!(
            "{operation}: declared {}",
            parameter.get("name").unwrap_or(&Value::Null)
        ));
    }
    Ok(())
}

/// [`Kind::ResponseSchemas`]: the `application/json` schema of each operation's first 2xx.
fn apply_response_schemas(
    spec: &mut Value,
    table: &BTreeMap<String, Value>,
    ch: &mut Vec<String>,
) -> Result<()> {
    for (key, schema) in table {
        let (method, path) = split_key(key)?;
        let op = vec!["paths".to_owned(), path.to_owned(), method.to_lowercase()];
        if get(spec, &op).is_none() {
            ch.push(format!("{key}: not in this spec"));
            continue;
        }
        let Some(Value::Object(responses)) =
            get(spec, &[op.clone(), vec!["responses".into()]].concat())
        else {
            bail!("{key} has no responses");
        };
        let Some(code) = responses.keys().find(|c| c.starts_with('2')).cloned() else {
            bail!("{key} has no success response");
        };
        let at = [
            op,
            vec![
                "responses".into(),
                code,
                "content".into(),
                "application/json".into(),
                "schema".into(),
            ],
        ]
        .concat();
        if get(spec, &at) != Some(schema) {
            put(spec, &at, schema.clone())?;
            ch.push(format!("{key}: success schema set"));
        }
    }
    Ok(())
}

/// [`Kind::DropProse`].
fn apply_drop_prose(spec: &mut Value, ch: &mut Vec<String>) {
    let mut n = 0;
    let before = spec.clone();
    strip_prose(spec, Ctx::Doc, &mut n);
    if *spec != before {
        ch.push(format!("dropped {n} prose or extension values"));
    }
}

/// [`Kind::DropNonconformingValues`], in every schema.
fn apply_drop_nonconforming_values(spec: &mut Value, ch: &mut Vec<String>) {
    walk_schemas_mut(spec, &mut |place, s| drop_nonconforming(place, s, ch));
}

/// [`Kind::ExcludeOperations`]: each recorded with its replacement; absent ones are skipped.
fn apply_exclude_operations(
    spec: &mut Value,
    table: &BTreeMap<String, String>,
    ch: &mut Vec<String>,
    excluded: &mut Vec<Excluded>,
) -> Result<()> {
    for (key, replacement) in table {
        let (method, path) = split_key(key)?;
        let Some(op) = take(
            spec,
            &["paths".into(), path.to_owned(), method.to_lowercase()],
        ) else {
            continue;
        };
        excluded.push(Excluded {
            method: method.to_uppercase(),
            path: path.to_owned(),
            operation_id: op.as_object().map(op_id).unwrap_or_default(),
            why: "listed in exclude_operations".into(),
            replacement: replacement.clone(),
        });
        ch.push(format!("excluded {key}"));
    }
    drop_empty_paths(spec);
    Ok(())
}

/// [`Kind::Hoist`]; an error if the name is taken.
fn apply_hoist(spec: &mut Value, at: &[String], name: &str, ch: &mut Vec<String>) -> Result<()> {
    let target = vec!["components".into(), "schemas".into(), name.to_owned()];
    let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
    match get(spec, at) {
        Some(v) if *v == reference => {}
        Some(_) => {
            if get(spec, &target).is_some() {
                bail!("components.schemas.{name} exists already");
            }
            let v = take(spec, at).unwrap_or(Value::Null);
            put(spec, &target, v)?;
            put(spec, at, reference)?;
            ch.push(format!("hoisted {} to {}", show(at), show(&target)));
        }
        None => ch.push(format!("{}: not in this spec", show(at))),
    }
    Ok(())
}

/// `unserved.toml`: `METHOD /path` to `absent` or `local`.
fn read_unserved(path: &Path) -> Result<BTreeMap<String, String>> {
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        operations: BTreeMap<String, String>,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: File =
        toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))?;
    for (op, why) in &file.operations {
        if why != "absent" && why != "local" {
            bail!("{}: `{op}` is `{why}`, not absent or local", path.display());
        }
    }
    Ok(file.operations)
}

/// [`Kind::OperationDocs`]; the log is summarised past three operations.
fn apply_operation_docs(
    spec: &mut Value,
    reference: &str,
    upstream_ids: &BTreeMap<String, String>,
    unserved: Option<&(BTreeMap<String, String>, &str)>,
    ch: &mut Vec<String>,
) {
    for_each_op(spec, |method, path, op| {
        let ours = op_id(op);
        let id = upstream_ids.get(&ours).cloned().unwrap_or(ours);
        let key = format!("{} {}", method.to_uppercase(), path);
        let mut text = match op.get(HANDLER_KEY).and_then(Value::as_str) {
            Some(handler) => format!(
                "`{key}`\n\nNot in the upstream API reference: typed from the server's handler \
                 (`{handler}`)."
            ),
            None => format!("`{key}`\n\n[API reference]({reference}{id})"),
        };
        match unserved.and_then(|(ops, server)| Some((ops.get(&key)?, server))) {
            Some((why, server)) if why == "local" => text.push_str(&format!(
                "\n\n**Local mode only**: {server} serves this route on its local-mode socket \
                 only, not over HTTP; a request here gets 404."
            )),
            Some((_, server)) => text.push_str(&format!(
                "\n\n**Not served by {server}**: the server has no such route (a request gets \
                 404); newer or older servers may."
            )),
            None => {}
        }
        if op.get("description").and_then(Value::as_str) != Some(text.as_str()) {
            op.insert("description".into(), Value::String(text));
            ch.push(format!("documented {id}"));
        }
    });
    if ch.len() > 3 {
        let n = ch.len();
        ch.clear();
        ch.push(format!("documented {n} operations"));
    }
}

/// [`Kind::AddOperations`]: each operation and schema set unless there already; an operation
/// upstream has now is replaced (and said so), so the handler's facts win. An operation holding
/// the same handler is ours from an earlier application, left as later rules shaped it.
fn apply_add_operations(spec: &mut Value, dir: &Path, ch: &mut Vec<String>) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let f: OperationsFile =
            serde_yaml::from_str(&text).with_context(|| format!("invalid {}", file.display()))?;
        for (schema, value) in &f.schemas {
            let at = [
                "components".to_owned(),
                "schemas".to_owned(),
                schema.clone(),
            ];
            if get(spec, &at) != Some(value) {
                let had = get(spec, &at).is_some();
                put(spec, &at, value.clone())?;
                ch.push(format!(
                    "{name}: schema {schema} {}",
                    if had { "replaced" } else { "added" }
                ));
            }
        }
        // Components this spec has (this file's included): an operation needing another belongs
        // to a newer spec than this one, and is left out with a note rather than left dangling.
        let known: BTreeSet<String> = spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys().cloned())
            .collect();
        for (key, op) in &f.operations {
            let (method, path) = split_key(key)?;
            if op.get(HANDLER_KEY).and_then(Value::as_str).is_none() {
                bail!("{name}: `{key}` names no {HANDLER_KEY} (the Go handler it is typed from)");
            }
            let mut refs = Vec::new();
            referenced_components(op, &mut refs);
            if let Some(missing) = refs.iter().find(|r| !known.contains(*r)) {
                ch.push(format!("{name}: {key} needs {missing}, not in this spec"));
                continue;
            }
            let at = ["paths".to_owned(), path.to_owned(), method.to_lowercase()];
            match get(spec, &at) {
                // Added already (an earlier application; later rules shaped it since).
                Some(now) if now == op || now.get(HANDLER_KEY) == op.get(HANDLER_KEY) => {}
                Some(now) => {
                    let upstream = now.get(HANDLER_KEY).is_none();
                    put(spec, &at, op.clone())?;
                    ch.push(format!(
                        "{name}: {key} replaced{}",
                        if upstream {
                            " (upstream has it now: compare, and drop ours if it is right)"
                        } else {
                            ""
                        }
                    ));
                }
                None => {
                    put(spec, &at, op.clone())?;
                    ch.push(format!("{name}: {key} added"));
                }
            }
        }
    }
    summarise(ch, "operations and schemas added");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Addressing values by a list of keys.

fn show(at: &[String]) -> String {
    at.join(" > ")
}

/// The value at `at`; array elements are addressed by their index.
pub fn get<'a>(v: &'a Value, at: &[String]) -> Option<&'a Value> {
    at.iter().try_fold(v, |v, k| match v {
        Value::Object(m) => m.get(k),
        Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn get_mut<'a>(v: &'a mut Value, at: &[String]) -> Option<&'a mut Value> {
    at.iter().try_fold(v, |v, k| match v {
        Value::Object(m) => m.get_mut(k),
        Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    })
}

fn take(v: &mut Value, at: &[String]) -> Option<Value> {
    let (last, parent) = at.split_last()?;
    match get_mut(v, parent)? {
        Value::Object(m) => m.remove(last),
        _ => None,
    }
}

fn put(v: &mut Value, at: &[String], value: Value) -> Result<()> {
    let Some((last, parent)) = at.split_last() else {
        *v = value;
        return Ok(());
    };
    let mut cur = v;
    for k in parent {
        if cur.is_null() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else {
            bail!("{} is not an object", show(at));
        };
        cur = m
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if cur.is_null() {
        *cur = Value::Object(Map::new());
    }
    match cur {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        _ => bail!("{} is not inside an object", show(at)),
    }
}

// ---------------------------------------------------------------------------------------------
// Operations.

fn op_id(op: &Map<String, Value>) -> String {
    op.get("operationId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn split_key(key: &str) -> Result<(&str, &str)> {
    key.split_once(' ')
        .filter(|(m, p)| METHODS.contains(&m.to_lowercase().as_str()) && p.starts_with('/'))
        .with_context(|| format!("`{key}` is not `METHOD /path`"))
}

/// Calls `f(method, path, operation)` for every operation, in path and method order.
pub fn for_each_op(spec: &mut Value, mut f: impl FnMut(&str, &str, &mut Map<String, Value>)) {
    let Some(Value::Object(paths)) = spec.get_mut("paths") else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Value::Object(item) = item else { continue };
        for (method, op) in item.iter_mut() {
            if let (true, Value::Object(op)) = (METHODS.contains(&method.as_str()), op) {
                f(method, path, op);
            }
        }
    }
}

fn drop_empty_paths(spec: &mut Value) {
    if let Some(Value::Object(paths)) = spec.get_mut("paths") {
        paths.retain(|_, item| {
            item.as_object()
                .is_some_and(|m| m.keys().any(|k| METHODS.contains(&k.as_str())))
        });
    }
}

/// [`Kind::SynthesizeOperationIds`].
fn apply_synthesize_operation_ids(spec: &mut Value, ch: &mut Vec<String>) {
    for_each_op(spec, |method, path, op| {
        if op.get("operationId").and_then(Value::as_str).is_some() {
            return;
        }
        let id = synthesized_id(method, path);
        ch.push(format!(
            "{} {path}: operationId {id}",
            method.to_uppercase()
        ));
        op.insert("operationId".into(), Value::String(id));
    });
}

/// `post /api/v4/content_flagging/post/{post_id}/flag` -> `PostContentFlaggingPostFlagByPostId`.
pub fn synthesized_id(method: &str, path: &str) -> String {
    let mut id = camel(method);
    let mut params = Vec::new();
    for seg in path.trim_start_matches("/api/v4").split('/') {
        if let Some(p) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            params.push(camel(p));
        } else {
            id.push_str(&camel(seg));
        }
    }
    if !params.is_empty() {
        id.push_str("By");
        id.push_str(&params.join("And"));
    }
    id
}

fn camel(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// [`Kind::RenameOperations`]; operations not in the spec are noted.
fn apply_rename_operations(
    spec: &mut Value,
    table: &BTreeMap<String, String>,
    ch: &mut Vec<String>,
) -> Result<()> {
    for (key, new_id) in table {
        let (method, path) = split_key(key)?;
        let at = ["paths".to_owned(), path.to_owned(), method.to_lowercase()];
        let Some(Value::Object(op)) = get_mut(spec, &at) else {
            ch.push(format!("{key}: not in this spec"));
            continue;
        };
        if op.get("operationId").and_then(Value::as_str) != Some(new_id.as_str()) {
            let old = op.insert("operationId".into(), Value::String(new_id.clone()));
            ch.push(format!(
                "{key}: {} -> {new_id}",
                old.as_ref().and_then(Value::as_str).unwrap_or("(none)")
            ));
        }
    }
    Ok(())
}

fn is_error_code(code: &str) -> bool {
    code == "default" || code.starts_with('4') || code.starts_with('5')
}

/// [`Kind::SingleResponse`].
fn apply_single_response(spec: &mut Value, ch: &mut Vec<String>) {
    let resolved = spec.clone();
    for_each_op(spec, |method, path, op| {
        let Some(Value::Object(responses)) = op.get_mut("responses") else {
            return;
        };
        let success: Vec<String> = responses
            .keys()
            .filter(|c| c.starts_with('2'))
            .cloned()
            .collect();
        let has_body = |code: &String| {
            resolve(&resolved, &responses[code])
                .get("content")
                .and_then(Value::as_object)
                .is_some_and(|c| !c.is_empty())
        };
        // The success with a body, else the first; as the 2XX range (the server answers 200 where
        // the spec says 201, and the reverse).
        let keep = success
            .iter()
            .find(|c| has_body(c))
            .or(success.first())
            .cloned();
        let errors: Vec<String> = responses
            .keys()
            .filter(|c| is_error_code(c))
            .cloned()
            .collect();
        let before = responses.len();
        let kept = keep.and_then(|k| responses.remove(&k).map(|v| (k, v)));
        responses.retain(|c, _| !(c.starts_with('2') || is_error_code(c)));
        if let Some((code, mut v)) = kept.clone() {
            if let Value::Object(r) = &mut v
                && r.contains_key("description")
            {
                r.insert("description".into(), Value::String(reason_phrase("2XX")));
            }
            responses.insert("2XX".into(), v);
            if code != "2XX" {
                ch.push(format!(
                    "{} {path}: {code} of [{}] kept as 2XX, {} error responses dropped",
                    method.to_uppercase(),
                    success.join(", "),
                    errors.len()
                ));
            }
        } else if responses.len() != before {
            ch.push(format!(
                "{} {path}: {} error responses dropped",
                method.to_uppercase(),
                errors.len()
            ));
        }
    });
    summarise(ch, "operations changed");
}

/// Long logs are summarised: the count and the first few lines.
fn summarise(ch: &mut Vec<String>, what: &str) {
    if ch.len() > 12 {
        let n = ch.len();
        ch.truncate(6);
        ch.push(format!("... {n} {what} in all"));
    }
}

/// Follows a local `$ref`, once.
pub fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/")
            .map(|p| p.split('/').map(str::to_owned).collect::<Vec<_>>())
            .and_then(|p| get(spec, &p))
            .unwrap_or(v),
        None => v,
    }
}

/// The body whose content types [`apply_exclude_content`] looks at.
#[derive(Clone, Copy)]
enum Body {
    Request,
    Response,
}

/// [`Kind::ExcludeRequestContent`] and [`Kind::ExcludeResponseContent`], by `body`.
fn apply_exclude_content(
    spec: &mut Value,
    body: Body,
    types: &[String],
    replacement: &str,
    ch: &mut Vec<String>,
    excluded: &mut Vec<Excluded>,
) {
    let resolved = spec.clone();
    let only_these = |content: Option<&Value>| {
        content
            .and_then(Value::as_object)
            .is_some_and(|c| !c.is_empty() && c.keys().all(|k| types.contains(k)))
    };
    let mut gone = Vec::new();
    for_each_op(spec, |method, path, op| {
        let hit = match body {
            Body::Request => op
                .get("requestBody")
                .map(|b| only_these(resolve(&resolved, b).get("content")))
                .unwrap_or(false),
            Body::Response => op
                .get("responses")
                .and_then(Value::as_object)
                .map(|r| {
                    r.iter()
                        .filter(|(c, _)| c.starts_with('2'))
                        .any(|(_, v)| only_these(resolve(&resolved, v).get("content")))
                })
                .unwrap_or(false),
        };
        if hit {
            gone.push((method.to_owned(), path.to_owned(), op_id(op)));
        }
    });
    for (method, path, id) in gone {
        if let Some(Value::Object(item)) = spec.pointer_mut(&format!(
            "/paths/{}",
            path.replace('~', "~0").replace('/', "~1")
        )) {
            item.remove(&method);
        }
        ch.push(format!("excluded {} {path} ({id})", method.to_uppercase()));
        excluded.push(Excluded {
            method: method.to_uppercase(),
            path,
            operation_id: id,
            why: format!(
                "{} is {}",
                match body {
                    Body::Request => "request body",
                    Body::Response => "response body",
                },
                types.join(" or ")
            ),
            replacement: replacement.to_owned(),
        });
    }
    drop_empty_paths(spec);
}

/// [`Kind::BearerSecurity`].
fn apply_bearer_security(spec: &mut Value, scheme: &str, public: &[String], ch: &mut Vec<String>) {
    let at = [
        "components".to_owned(),
        "securitySchemes".to_owned(),
        scheme.to_owned(),
    ];
    let def = json!({ "type": "http", "scheme": "bearer" });
    if get(spec, &at) != Some(&def) {
        let _ = put(spec, &at, def);
        ch.push(format!("security scheme {scheme}"));
    }
    if spec.get("security").is_some()
        && let Some(m) = spec.as_object_mut()
    {
        m.remove("security");
        ch.push("removed the document-wide security".into());
    }
    let mut n = 0;
    for_each_op(spec, |_, _, op| {
        let want = if public.contains(&op_id(op)) {
            json!([])
        } else {
            json!([{ scheme: [] }])
        };
        if op.get("security") != Some(&want) {
            op.insert("security".into(), want);
            n += 1;
        }
    });
    if n > 0 {
        ch.push(format!("security on {n} operations"));
    }
}

// ---------------------------------------------------------------------------------------------
// Prose.

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    /// An OpenAPI object: its keys are OpenAPI field names.
    Doc,
    /// A map from names (properties, paths, schema names, media types) to OpenAPI objects.
    Names,
    /// `responses`: a map from status codes or names to response objects.
    Responses,
}

const PROSE: [&str; 6] = [
    "description",
    "summary",
    "example",
    "examples",
    "externalDocs",
    "termsOfService",
];
const NAME_MAPS: [&str; 14] = [
    "properties",
    "patternProperties",
    "paths",
    "schemas",
    "parameters",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "content",
    "encoding",
    "variables",
    "definitions",
];
/// Values that are data, not OpenAPI objects: left as they are.
const DATA: [&str; 4] = ["default", "enum", "const", "mapping"];

fn strip_prose(v: &mut Value, ctx: Ctx, n: &mut usize) {
    match v {
        Value::Array(a) => {
            for x in a {
                strip_prose(x, Ctx::Doc, n);
            }
        }
        Value::Object(m) => match ctx {
            Ctx::Names | Ctx::Responses => {
                for (name, x) in m.iter_mut() {
                    strip_prose(x, Ctx::Doc, n);
                    if ctx == Ctx::Responses
                        && let Value::Object(r) = x
                        && !r.contains_key("$ref")
                    {
                        r.insert("description".into(), Value::String(reason_phrase(name)));
                    }
                }
            }
            Ctx::Doc => {
                let before = m.len();
                m.retain(|k, _| !(PROSE.contains(&k.as_str()) || k.starts_with("x-")));
                if let Some(Value::Object(info)) = m.get_mut("info") {
                    let b = info.len();
                    info.retain(|k, _| k == "title" || k == "version");
                    *n += b - info.len();
                }
                *n += before - m.len();
                for (k, x) in m.iter_mut() {
                    if k == "info" || DATA.contains(&k.as_str()) {
                        continue;
                    }
                    let inner = if k == "responses" {
                        Ctx::Responses
                    } else if k == "components" {
                        // Each member of components is a map of names.
                        if let Value::Object(c) = x {
                            for (kind, names) in c.iter_mut() {
                                let ctx = if kind == "responses" {
                                    Ctx::Responses
                                } else {
                                    Ctx::Names
                                };
                                strip_prose(names, ctx, n);
                            }
                        }
                        continue;
                    } else if NAME_MAPS.contains(&k.as_str()) && x.is_object() {
                        Ctx::Names
                    } else {
                        Ctx::Doc
                    };
                    strip_prose(x, inner, n);
                }
            }
        },
        _ => {}
    }
}

/// The text a response object must carry (OpenAPI requires a description): the status's reason
/// phrase, or the component's name.
fn reason_phrase(code: &str) -> String {
    if code == "2XX" {
        return "Success".to_owned();
    }
    code.parse::<u16>()
        .ok()
        .and_then(|c| reqwest_free_reason(c).map(str::to_owned))
        .unwrap_or_else(|| code.to_owned())
}

fn reqwest_free_reason(code: u16) -> Option<&'static str> {
    Some(match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Schemas.

/// Calls `f` on every schema object in the document (components, parameters, bodies, responses,
/// and every nested schema), with a readable place.
fn walk_schemas_mut(spec: &mut Value, f: &mut impl FnMut(&str, &mut Map<String, Value>)) {
    fn schema(place: &str, v: &mut Value, f: &mut impl FnMut(&str, &mut Map<String, Value>)) {
        let Value::Object(m) = v else { return };
        if m.contains_key("$ref") {
            return;
        }
        f(place, m);
        for key in ["items", "additionalProperties", "not"] {
            if let Some(x) = m.get_mut(key) {
                schema(&format!("{place}.{key}"), x, f);
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(Value::Array(a)) = m.get_mut(key) {
                for (i, x) in a.iter_mut().enumerate() {
                    schema(&format!("{place}.{key}[{i}]"), x, f);
                }
            }
        }
        if let Some(Value::Object(props)) = m.get_mut("properties") {
            for (name, x) in props.iter_mut() {
                schema(&format!("{place}.{name}"), x, f);
            }
        }
    }
    fn content(place: &str, v: &mut Value, f: &mut impl FnMut(&str, &mut Map<String, Value>)) {
        if let Some(Value::Object(c)) = v.get_mut("content") {
            for (mt, x) in c.iter_mut() {
                if let Some(s) = x.get_mut("schema") {
                    schema(&format!("{place} {mt}"), s, f);
                }
            }
        }
    }
    fn params(place: &str, v: &mut Value, f: &mut impl FnMut(&str, &mut Map<String, Value>)) {
        if let Some(Value::Array(ps)) = v.get_mut("parameters") {
            for p in ps {
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if let Some(s) = p.get_mut("schema") {
                    schema(&format!("{place} parameter {name}"), s, f);
                }
            }
        }
    }
    if let Some(Value::Object(paths)) = spec.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            params(path, item, f);
            let Value::Object(item) = item else { continue };
            for (method, op) in item.iter_mut() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let place = format!("{} {path}", method.to_uppercase());
                params(&place, op, f);
                if let Some(b) = op.get_mut("requestBody") {
                    content(&format!("{place} body"), b, f);
                }
                if let Some(Value::Object(rs)) = op.get_mut("responses") {
                    for (code, r) in rs.iter_mut() {
                        content(&format!("{place} {code}"), r, f);
                    }
                }
            }
        }
    }
    if let Some(Value::Object(c)) = spec.get_mut("components") {
        if let Some(Value::Object(s)) = c.get_mut("schemas") {
            for (name, x) in s.iter_mut() {
                schema(name, x, f);
            }
        }
        for kind in ["responses", "requestBodies"] {
            if let Some(Value::Object(s)) = c.get_mut(kind) {
                for (name, x) in s.iter_mut() {
                    content(name, x, f);
                }
            }
        }
        if let Some(Value::Object(s)) = c.get_mut("parameters") {
            for (name, x) in s.iter_mut() {
                if let Some(s) = x.get_mut("schema") {
                    schema(name, s, f);
                }
            }
        }
    }
}

fn conforms(ty: &str, nullable: bool, v: &Value) -> bool {
    match (ty, v) {
        (_, Value::Null) => nullable,
        ("string", Value::String(_)) => true,
        ("boolean", Value::Bool(_)) => true,
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("number", Value::Number(_)) => true,
        ("array", Value::Array(_)) => true,
        ("object", Value::Object(_)) => true,
        _ => false,
    }
}

fn drop_nonconforming(place: &str, s: &mut Map<String, Value>, ch: &mut Vec<String>) {
    let Some(ty) = s.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    let nullable = s.get("nullable") == Some(&Value::Bool(true));
    if let Some(d) = s.get("default")
        && !conforms(&ty, nullable, d)
    {
        ch.push(format!("{place}: dropped default {d} (type {ty})"));
        s.remove("default");
    }
    if let Some(Value::Array(values)) = s.get_mut("enum") {
        let before = values.len();
        values.retain(|v| conforms(&ty, nullable, v));
        if values.len() != before {
            ch.push(format!(
                "{place}: dropped {} enum values not of type {ty}",
                before - values.len()
            ));
        }
        if values.is_empty() {
            s.remove("enum");
        }
    }
}

/// [`Kind::NormaliseTags`].
fn apply_normalise_tags(spec: &mut Value, ch: &mut Vec<String>) {
    let norm = |t: &str| t.trim().to_lowercase();
    let mut renamed = BTreeSet::new();
    for_each_op(spec, |_, _, op| {
        if let Some(Value::Array(tags)) = op.get_mut("tags") {
            let mut seen = Vec::new();
            for t in tags.iter() {
                if let Some(s) = t.as_str() {
                    if norm(s) != s {
                        renamed.insert(format!("{s} -> {}", norm(s)));
                    }
                    let n = Value::String(norm(s));
                    if !seen.contains(&n) {
                        seen.push(n);
                    }
                }
            }
            *tags = seen;
        }
    });
    if let Some(Value::Array(tags)) = spec.get_mut("tags") {
        let mut seen = BTreeSet::new();
        tags.retain_mut(|t| {
            let Some(name) = t.get("name").and_then(Value::as_str).map(norm) else {
                return false;
            };
            if let Some(m) = t.as_object_mut() {
                m.insert("name".into(), Value::String(name.clone()));
            }
            seen.insert(name)
        });
    }
    ch.extend(renamed);
}

/// Names of component schemas reachable from any response body.
fn response_schemas(spec: &Value) -> BTreeSet<String> {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str)
                    && let Some(name) = r.strip_prefix("#/components/schemas/")
                {
                    out.push(name.to_owned());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut todo = Vec::new();
    if let Some(Value::Object(paths)) = spec.get("paths") {
        for item in paths.values() {
            for (m, op) in item.as_object().into_iter().flatten() {
                if METHODS.contains(&m.as_str())
                    && let Some(r) = op.get("responses")
                {
                    for resp in r
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(_, r)| resolve(spec, r))
                    {
                        refs(resp, &mut todo);
                    }
                }
            }
        }
    }
    let schemas = spec.pointer("/components/schemas");
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone())
            && let Some(s) = schemas.and_then(|s| s.get(&name))
        {
            refs(s, &mut todo);
        }
    }
    seen
}

/// Whether a schema place (as `walk_schemas_mut` names it) is a response schema: a component schema
/// reachable from a response, or a schema inline in an operation's success or error response.
fn in_response_schema(reachable: &BTreeSet<String>, place: &str) -> bool {
    match place.split_once(' ') {
        None => reachable.contains(place.split('.').next().unwrap_or("")),
        Some((method, rest)) if METHODS.contains(&method.to_lowercase().as_str()) => rest
            .split(' ')
            .nth(1)
            .is_some_and(|code| code.starts_with(['2', '4', '5']) || code == "default"),
        Some(_) => false,
    }
}

/// [`Kind::OpenResponseEnums`].
fn apply_open_response_enums(spec: &mut Value, ch: &mut Vec<String>) {
    let reachable = response_schemas(spec);
    let mut open = |place: &str, s: &mut Map<String, Value>| {
        if s.get("type").and_then(Value::as_str) == Some("string") && s.remove("enum").is_some() {
            ch.push(format!("{place}: enum opened"));
        }
    };
    walk_schemas_mut(spec, &mut |place, s| {
        if in_response_schema(&reachable, place) {
            open(place, s);
        }
    });
    summarise(ch, "enums opened");
}

/// [`Kind::NullableOptionalCollections`].
fn apply_nullable_optional_collections(spec: &mut Value, ch: &mut Vec<String>) {
    let reachable = response_schemas(spec);
    walk_schemas_mut(spec, &mut |place, s| {
        if !in_response_schema(&reachable, place) {
            return;
        }
        let required: BTreeSet<String> = s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let Some(Value::Object(props)) = s.get_mut("properties") else {
            return;
        };
        for (name, p) in props.iter_mut() {
            let Value::Object(p) = p else { continue };
            let ty = p.get("type").and_then(Value::as_str);
            // A missing or null `$ref` property is already an `Option`; arrays and maps are not.
            let collection = matches!(ty, Some("array" | "object"));
            if required.contains(name)
                || !collection
                || p.get("nullable") == Some(&Value::Bool(true))
            {
                continue;
            }
            p.insert("nullable".into(), Value::Bool(true));
            ch.push(format!("{place}.{name}: nullable"));
        }
    });
    summarise(ch, "properties made nullable");
}

/// The component schemas a schema refers to.
fn referenced_components(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(name) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                out.push(name.to_owned());
            }
            m.values().for_each(|x| referenced_components(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| referenced_components(x, out)),
        _ => {}
    }
}

/// [`Kind::Overlay`], from `dir`/`file`.
fn apply_overlay(spec: &mut Value, dir: &Path, file: &str, ch: &mut Vec<String>) -> Result<()> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let schemas: BTreeMap<String, SchemaOverlay> = serde_yaml::from_str(&text)
        .with_context(|| format!("invalid overlay {}", path.display()))?;
    // Components this spec has or the overlay adds: a field referring to anything else belongs to a
    // newer spec than this one, and is left out (with a note) rather than left dangling.
    let known: BTreeSet<String> = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys().cloned())
        .chain(schemas.keys().cloned())
        .collect();
    for (name, o) in &schemas {
        let at = ["components".to_owned(), "schemas".to_owned(), name.clone()];
        if get(spec, &at).is_none() {
            put(spec, &at, json!({ "type": "object" }))?;
            ch.push(format!("{name}: added ({})", o.source));
        }
        let Some(Value::Object(s)) = get_mut(spec, &at) else {
            bail!("components.schemas.{name} is not an object");
        };
        let props = s
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(props) = props else {
            bail!("components.schemas.{name}.properties is not an object");
        };
        for gone in &o.remove {
            if props.remove(gone).is_some() {
                ch.push(format!("{name}.{gone}: removed ({})", o.source));
            }
        }
        for (field, schema) in &o.properties {
            let mut refs = Vec::new();
            referenced_components(schema, &mut refs);
            if let Some(missing) = refs.iter().find(|r| !known.contains(*r)) {
                ch.push(format!("{name}.{field}: needs {missing}, not in this spec"));
                continue;
            }
            if props.get(field) != Some(schema) {
                props.insert(field.clone(), schema.clone());
                ch.push(format!("{name}.{field}: set ({})", o.source));
            }
        }
        if let Some(Value::Array(req)) = s.get_mut("required") {
            req.retain(|r| r.as_str().is_some_and(|r| !o.remove.iter().any(|g| g == r)));
        }
    }
    summarise(ch, "fields set");
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Each rule on a small fixture spec: what it changes, and that applying it again changes nothing.

    use super::*;
    use std::io::Write as _;

    const FIXTURE: &str = include_str!("fixture.yaml");

    fn fixture() -> Value {
        crate::regen::yaml::parse(FIXTURE)
            .expect("fixture parses")
            .0
    }

    fn rule(yaml: &str) -> Vec<Rule> {
        parse_rules(yaml).expect("rule parses")
    }

    /// Applies `rules` once, checks a second application changes nothing, returns spec and outcome.
    fn apply_twice(rules_yaml: &str) -> (Value, Outcome) {
        let dir = std::env::temp_dir();
        let rules = rule(rules_yaml);
        let mut spec = fixture();
        let first = apply(&mut spec, &rules, &dir).expect("first application");
        let once = spec.clone();
        let second = apply(&mut spec, &rules, &dir).expect("second application");
        assert_eq!(spec, once, "rules are not idempotent: {rules_yaml}");
        for (_, kind, _, changes) in &second.log {
            let real: Vec<_> = changes
                .iter()
                .filter(|c| !c.ends_with("not in this spec"))
                .collect();
            assert!(
                real.is_empty(),
                "{kind} changed something the second time: {real:?}"
            );
        }
        (once, first)
    }

    fn at<'a>(v: &'a Value, p: &str) -> Option<&'a Value> {
        v.pointer(p)
    }

    #[test]
    fn every_rule_needs_a_one_line_reason() {
        assert!(parse_rules("- rule: drop_prose\n  reason: \"\"\n").is_err());
        assert!(parse_rules("- rule: drop_prose\n").is_err());
        assert!(parse_rules("- rule: no_such_rule\n  reason: r\n").is_err());
    }

    #[test]
    fn a_bad_rule_is_named_by_number_and_kind() {
        let e =
            parse_rules("- {rule: drop_prose, reason: r}\n- {rule: move, reason: r, from: [a]}\n")
                .unwrap_err();
        let text = format!("{e:#}");
        assert!(text.contains("rule 2 (move)"), "{text}");
        assert!(text.contains("missing field `to`"), "{text}");
        let e = parse_rules("- rule: no_such_rule\n  reason: r\n").unwrap_err();
        let text = format!("{e:#}");
        assert!(text.contains("rule 1 (no_such_rule)"), "{text}");
        assert!(text.contains("expected one of `move`"), "{text}");
    }

    #[test]
    fn a_rules_name_is_the_one_it_is_written_with() {
        let every_kind = "\
- {rule: move, reason: r, from: [a], to: [b]}
- {rule: remove, reason: r, at: [a]}
- {rule: set, reason: r, at: [a], value: 1}
- {rule: add_parameter, reason: r, operation: GET /a, parameter: {}}
- {rule: response_schemas, reason: r, table: {}}
- {rule: drop_prose, reason: r}
- {rule: synthesize_operation_ids, reason: r}
- {rule: rename_operations, reason: r, table: {}}
- {rule: drop_nonconforming_values, reason: r}
- {rule: exclude_request_content, reason: r, content_types: [], replacement: x}
- {rule: exclude_response_content, reason: r, content_types: [], replacement: x}
- {rule: exclude_operations, reason: r, table: {}}
- {rule: single_response, reason: r}
- {rule: hoist, reason: r, at: [a], name: B}
- {rule: normalise_tags, reason: r}
- {rule: open_response_enums, reason: r}
- {rule: nullable_optional_collections, reason: r}
- {rule: overlay, reason: r, file: f.yaml}
- {rule: bearer_security, reason: r, scheme: s, public: []}
- {rule: operation_docs, reason: r, reference: x}
";
        let project = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/rules.yaml"),
        )
        .unwrap();
        for text in [every_kind, project.as_str()] {
            let written: Vec<serde_yaml::Value> = serde_yaml::from_str(text).unwrap();
            let rules = rule(text);
            assert_eq!(written.len(), rules.len());
            for (w, r) in written.iter().zip(&rules) {
                assert_eq!(
                    w.get("rule").and_then(serde_yaml::Value::as_str),
                    Some(kind_name(&r.kind).as_str())
                );
            }
        }
    }

    #[test]
    fn drop_prose_keeps_facts_and_property_names() {
        let (s, out) = apply_twice("- {rule: drop_prose, reason: r}\n");
        assert!(!out.log[0].3.is_empty());
        let text = serde_json::to_string(&s).unwrap();
        assert!(!text.contains("prose"), "{text}");
        assert!(!text.contains("x-logo") && !text.contains("x-tagGroups"));
        assert!(at(&s, "/components/schemas/Team/properties/description").is_some());
        assert_eq!(
            at(
                &s,
                "/components/schemas/Team/properties/description/example"
            ),
            None
        );
        assert_eq!(
            at(&s, "/info"),
            Some(&json!({"title": "Fixture", "version": "4.0.0"}))
        );
        // Responses keep the description OpenAPI requires, as the status's reason phrase.
        assert_eq!(
            at(&s, "/paths/~1api~1v4~1files/post/responses/201/description"),
            Some(&json!("Created"))
        );
        assert_eq!(
            at(&s, "/components/responses/BadRequest/description"),
            Some(&json!("BadRequest"))
        );
    }

    #[test]
    fn move_fixes_a_misnamed_key_and_fails_when_neither_end_exists() {
        let (s, _) = apply_twice(
            "- {rule: move, reason: r, from: [paths, \"/api/v4/channels/{channel_id}/bookmarks\", post, body], to: [paths, \"/api/v4/channels/{channel_id}/bookmarks\", post, requestBody]}\n",
        );
        let op = at(
            &s,
            "/paths/~1api~1v4~1channels~1{channel_id}~1bookmarks/post",
        )
        .unwrap();
        assert!(op.get("body").is_none() && op.get("requestBody").is_some());
        let mut spec = fixture();
        let bad = rule("- {rule: move, reason: r, from: [nope], to: [nada]}\n");
        assert!(apply(&mut spec, &bad, Path::new(".")).is_err());
    }

    #[test]
    fn rename_operations_uses_the_table_and_skips_absent_operations() {
        let (s, out) = apply_twice(
            "- rule: rename_operations\n  reason: r\n  table:\n    DELETE /api/v4/posts/{post_id}/ack: DeleteAck\n    GET /nowhere: X\n",
        );
        assert_eq!(
            at(
                &s,
                "/paths/~1api~1v4~1posts~1{post_id}~1ack/delete/operationId"
            ),
            Some(&json!("DeleteAck"))
        );
        assert!(
            out.log[0]
                .3
                .iter()
                .any(|c| c.contains("SaveAck -> DeleteAck"))
        );
        assert!(
            out.log[0]
                .3
                .iter()
                .any(|c| c.contains("GET /nowhere: not in this spec"))
        );
    }

    #[test]
    fn synthesize_operation_ids_names_from_method_and_path() {
        let (s, _) = apply_twice("- {rule: synthesize_operation_ids, reason: r}\n");
        assert_eq!(
            at(&s, "/paths/~1api~1v4~1flag/get/operationId"),
            Some(&json!("GetFlag"))
        );
        assert_eq!(
            synthesized_id("post", "/api/v4/content_flagging/post/{post_id}/flag"),
            "PostContentFlaggingPostFlagByPostId"
        );
    }

    #[test]
    fn drop_nonconforming_values_keeps_values_of_the_declared_type() {
        let (s, _) = apply_twice("- {rule: drop_nonconforming_values, reason: r}\n");
        let state = at(&s, "/components/schemas/PluginStatus/properties/state").unwrap();
        assert_eq!(state.get("enum"), Some(&json!([1])));
        assert_eq!(state.get("default"), None);
    }

    #[test]
    fn exclude_request_content_removes_multipart_operations_and_records_them() {
        let (s, out) = apply_twice(
            "- {rule: exclude_request_content, reason: r, content_types: [multipart/form-data], replacement: files}\n",
        );
        assert_eq!(at(&s, "/paths/~1api~1v4~1files"), None);
        assert_eq!(out.excluded.len(), 1);
        assert_eq!(out.excluded[0].operation_id, "UploadFile");
        assert_eq!(out.excluded[0].replacement, "files");
    }

    #[test]
    fn single_response_keeps_one_success_as_a_range_and_drops_errors() {
        let (s, _) = apply_twice("- {rule: single_response, reason: r}\n");
        let responses = at(
            &s,
            "/paths/~1api~1v4~1posts~1{post_id}~1ack/delete/responses",
        )
        .unwrap();
        assert_eq!(
            responses,
            &json!({"2XX": {"description": "Success", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Post"}}}}}),
            "the success with a body is kept, as 2XX"
        );
    }

    #[test]
    fn hoist_moves_an_inline_object_to_a_named_component() {
        let (s, _) = apply_twice(
            "- {rule: hoist, reason: r, at: [components, schemas, PluginManifest, properties, webapp], name: PluginManifestWebappBundle}\n",
        );
        assert_eq!(
            at(&s, "/components/schemas/PluginManifest/properties/webapp"),
            Some(&json!({"$ref": "#/components/schemas/PluginManifestWebappBundle"}))
        );
        assert!(
            at(
                &s,
                "/components/schemas/PluginManifestWebappBundle/properties/bundle_path"
            )
            .is_some()
        );
    }

    #[test]
    fn normalise_tags_merges_tags_differing_in_case() {
        let (s, _) = apply_twice("- {rule: normalise_tags, reason: r}\n");
        assert_eq!(
            at(&s, "/paths/~1api~1v4~1posts~1{post_id}~1ack/post/tags"),
            Some(&json!(["ldap"]))
        );
        assert_eq!(
            at(&s, "/tags").and_then(Value::as_array).map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn open_response_enums_opens_enums_of_response_schemas_only() {
        let (s, _) = apply_twice("- {rule: open_response_enums, reason: r}\n");
        let embed =
            "/components/schemas/Post/properties/metadata/properties/embeds/items/properties/type";
        assert_eq!(at(&s, embed), Some(&json!({"type": "string"})));
    }

    #[test]
    fn nullable_optional_collections_accepts_null_for_arrays_and_maps() {
        let (s, _) = apply_twice("- {rule: nullable_optional_collections, reason: r}\n");
        assert_eq!(
            at(&s, "/components/schemas/Post/properties/file_ids/nullable"),
            Some(&json!(true))
        );
        assert_eq!(
            at(&s, "/components/schemas/Post/properties/props/nullable"),
            Some(&json!(true))
        );
        assert_eq!(
            at(&s, "/components/schemas/Post/properties/hashtag/nullable"),
            None
        );
    }

    #[test]
    fn overlay_sets_and_removes_fields_from_a_file() {
        let dir = std::env::temp_dir().join(format!("overlay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("fields.yaml"),
            "Post:\n  source: post.go\n  properties:\n    hashtags: {type: string}\n  remove: [hashtag]\nNew:\n  source: new.go\n  properties:\n    id: {type: string}\n",
        )
        .unwrap();
        let rules = rule("- {rule: overlay, reason: r, file: fields.yaml}\n");
        let mut spec = fixture();
        apply(&mut spec, &rules, &dir).unwrap();
        let once = spec.clone();
        apply(&mut spec, &rules, &dir).unwrap();
        assert_eq!(spec, once);
        assert!(at(&spec, "/components/schemas/Post/properties/hashtags").is_some());
        assert!(at(&spec, "/components/schemas/Post/properties/hashtag").is_none());
        assert_eq!(
            at(&spec, "/components/schemas/New/properties/id"),
            Some(&json!({"type": "string"}))
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn add_operations_adds_operations_and_schemas_from_a_folder() {
        let dir = std::env::temp_dir().join(format!("add-ops-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("overlay")).unwrap();
        std::fs::write(
            dir.join("overlay/drafts.yaml"),
            "operations:\n  POST /api/v4/drafts:\n    x-matterapi-handler: \"drafts.go: upsertDraft\"\n    operationId: UpsertDraft\n    responses: {\"201\": {description: Created, content: {application/json: {schema: {$ref: \"#/components/schemas/Thing\"}}}}}\nschemas:\n  Thing: {type: object, properties: {id: {type: string}}}\n",
        )
        .unwrap();
        std::fs::write(dir.join("overlay/README.md"), "not read").unwrap();
        std::fs::write(
            dir.join("unserved.toml"),
            "[operations]\n\"POST /api/v4/drafts\" = \"local\"\n",
        )
        .unwrap();
        let rules = rule(
            "- {rule: add_operations, reason: r, dir: overlay}\n- {rule: operation_docs, reason: r, reference: \"https://ref/\", unserved: {file: unserved.toml, server: Server 1}}\n",
        );
        let mut spec = fixture();
        apply(&mut spec, &rules, &dir).unwrap();
        let once = spec.clone();
        let second = apply(&mut spec, &rules, &dir).unwrap();
        assert_eq!(spec, once, "idempotent");
        assert!(
            second.log.iter().all(|(_, _, _, c)| c.is_empty()),
            "{:?}",
            second.log
        );
        assert_eq!(
            at(&spec, "/paths/~1api~1v4~1drafts/post/operationId"),
            Some(&json!("UpsertDraft"))
        );
        assert!(at(&spec, "/components/schemas/Thing/properties/id").is_some());
        let doc = at(&spec, "/paths/~1api~1v4~1drafts/post/description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(
            doc.contains("typed from the server's handler (`drafts.go: upsertDraft`)"),
            "{doc}"
        );
        assert!(
            !doc.contains("https://ref/"),
            "no link to a reference without it: {doc}"
        );
        assert!(doc.contains("**Local mode only**: Server 1"), "{doc}");
        std::fs::write(
            dir.join("overlay/bad.yaml"),
            "operations:\n  GET /x:\n    operationId: X\n    responses: {}\n",
        )
        .unwrap();
        let err = apply(&mut spec, &rules, &dir).expect_err("no handler named");
        assert!(
            format!("{err:#}").contains("x-matterapi-handler"),
            "{err:#}"
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn operation_docs_marks_operations_the_server_does_not_serve() {
        let dir = std::env::temp_dir().join(format!("unserved-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("unserved.toml"),
            "[operations]\n\"GET /api/v4/plugins/status\" = \"absent\"\n",
        )
        .unwrap();
        let rules = rule(
            "- {rule: operation_docs, reason: r, reference: \"https://ref/\", unserved: {file: unserved.toml, server: Server 1}}\n",
        );
        let mut spec = fixture();
        apply(&mut spec, &rules, &dir).unwrap();
        let doc = at(&spec, "/paths/~1api~1v4~1plugins~1status/get/description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(doc.contains("https://ref/"), "{doc}");
        assert!(doc.contains("**Not served by Server 1**"), "{doc}");
        std::fs::write(
            dir.join("unserved.toml"),
            "[operations]\n\"GET /a\" = \"maybe\"\n",
        )
        .unwrap();
        assert!(
            apply(&mut spec, &rules, &dir).is_err(),
            "an unknown reason is refused"
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn bearer_security_marks_all_but_public_operations() {
        let (s, _) = apply_twice(
            "- {rule: bearer_security, reason: r, scheme: bearerAuth, public: [GetPluginStatus]}\n",
        );
        assert_eq!(
            at(&s, "/paths/~1api~1v4~1plugins~1status/get/security"),
            Some(&json!([]))
        );
        assert_eq!(
            at(&s, "/paths/~1api~1v4~1files/post/security"),
            Some(&json!([{"bearerAuth": []}]))
        );
    }

    #[test]
    fn operation_docs_gives_method_path_and_reference_link() {
        let (s, _) = apply_twice(
            "- {rule: operation_docs, reason: r, reference: \"https://ref/#/operations/\"}\n",
        );
        assert_eq!(
            at(&s, "/paths/~1api~1v4~1plugins~1status/get/description"),
            Some(&json!(
                "`GET /api/v4/plugins/status`\n\n[API reference](https://ref/#/operations/GetPluginStatus)"
            ))
        );
    }

    #[test]
    fn response_schemas_sets_the_success_schema_as_the_server_sends_it() {
        let (s, out) = apply_twice(
            "- rule: response_schemas\n  reason: r\n  table:\n    GET /api/v4/plugins/status: {type: array, items: {$ref: \"#/components/schemas/PluginStatus\"}}\n    GET /nowhere: {}\n",
        );
        assert_eq!(
            at(
                &s,
                "/paths/~1api~1v4~1plugins~1status/get/responses/200/content/application~1json/schema/type"
            ),
            Some(&json!("array"))
        );
        assert!(
            out.log[0]
                .3
                .iter()
                .any(|c| c == "GET /nowhere: not in this spec")
        );
    }

    #[test]
    fn add_parameter_declares_a_path_parameter_once() {
        let (s, _) = apply_twice(
            "- {rule: add_parameter, reason: r, operation: GET /api/v4/plugins/status, parameter: {name: x, in: query, schema: {type: string}}}\n",
        );
        assert_eq!(
            at(
                &s,
                "/paths/~1api~1v4~1plugins~1status/get/parameters/0/name"
            ),
            Some(&json!("x"))
        );
    }

    #[test]
    fn the_projects_rules_are_idempotent_on_the_upstream_spec() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let upstream = root.join("../shared/mattermost-api/mattermost-openapi-v4.yaml");
        let Ok(text) = std::fs::read_to_string(&upstream) else {
            // A fresh clone has no ../shared beside it: skip, saying why; CI requires the spec.
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "CI requires the upstream spec at {}",
                upstream.display()
            );
            // Past the test harness's capture: a passing run still shows the skip.
            let _ = writeln!(
                std::io::stderr(),
                "skipping the_projects_rules_are_idempotent_on_the_upstream_spec: the upstream \
                 spec is expected at ../shared/mattermost-api/mattermost-openapi-v4.yaml beside \
                 the checkout and is absent (set CI=true to make it required)"
            );
            return;
        };
        let rules = parse_rules(&std::fs::read_to_string(root.join("openapi/rules.yaml")).unwrap())
            .unwrap();
        let mut spec = crate::regen::yaml::parse(&text).unwrap().0;
        apply(&mut spec, &rules, &root.join("openapi")).unwrap();
        let once = spec.clone();
        apply(&mut spec, &rules, &root.join("openapi")).unwrap();
        fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
            match (a, b) {
                (Value::Object(x), Value::Object(y)) => {
                    x.keys()
                        .chain(y.keys())
                        .find_map(|k| match (x.get(k), y.get(k)) {
                            (Some(p), Some(q)) => first_difference(p, q, format!("{at}/{k}")),
                            _ => Some(format!("{at}/{k}")),
                        })
                }
                _ if a != b => Some(format!("{at}: {a} != {b}")),
                _ => None,
            }
        }
        assert!(
            spec == once,
            "applying the project's rules to their own output changes it at {:?}",
            first_difference(&once, &spec, String::new())
        );
    }
}
