//! The change report: operations added, removed and changed between two vendored specs.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use super::rules::{METHODS, resolve};

/// What a caller sees of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpShape {
    pub id: String,
    pub params: Vec<String>,
    pub body: String,
    pub response: String,
}

/// Operations of a spec by `METHOD /path`.
pub fn operations(spec: &Value) -> BTreeMap<String, OpShape> {
    let mut out = BTreeMap::new();
    for (path, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let shared: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        for (method, op) in item.as_object().into_iter().flatten() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let mut params: Vec<String> = shared
                .iter()
                .copied()
                .chain(
                    op.get("parameters")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                )
                .map(|p| {
                    let p = resolve(spec, p);
                    format!(
                        "{} ({}{}: {})",
                        p.get("name").and_then(Value::as_str).unwrap_or("?"),
                        p.get("in").and_then(Value::as_str).unwrap_or("?"),
                        if p.get("required") == Some(&Value::Bool(true)) {
                            ", required"
                        } else {
                            ""
                        },
                        p.get("schema").map(type_name).unwrap_or_default()
                    )
                })
                .collect();
            params.sort();
            let body = op
                .get("requestBody")
                .map(|b| content_type(resolve(spec, b)))
                .unwrap_or_else(|| "none".into());
            let response = op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(c, _)| c.starts_with('2'))
                .map(|(c, r)| format!("{c} {}", content_type(resolve(spec, r))))
                .collect::<Vec<_>>()
                .join(", ");
            out.insert(
                format!("{} {path}", method.to_uppercase()),
                OpShape {
                    id: op
                        .get("operationId")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .into(),
                    params,
                    body,
                    response,
                },
            );
        }
    }
    out
}

fn content_type(v: &Value) -> String {
    match v.get("content").and_then(Value::as_object) {
        Some(c) if !c.is_empty() => c
            .iter()
            .map(|(mt, m)| {
                format!(
                    "{mt} {}",
                    m.get("schema").map(type_name).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "empty".into(),
    }
}

/// A short type name: a component's name, or the JSON type (with item type for arrays).
fn type_name(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    match s.get("type").and_then(Value::as_str) {
        Some("array") => format!("[{}]", s.get("items").map(type_name).unwrap_or_default()),
        Some(t) => t.to_owned(),
        None if s.get("allOf").is_some() => "allOf".into(),
        None if s.get("oneOf").is_some() => "oneOf".into(),
        None => "any".into(),
    }
}

/// The report as Markdown, and whether anything changed.
pub fn markdown(
    old: &BTreeMap<String, OpShape>,
    new: &BTreeMap<String, OpShape>,
    old_label: &str,
    new_label: &str,
) -> (String, bool) {
    let added: Vec<_> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let removed: Vec<_> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let mut changed = Vec::new();
    for (k, n) in new {
        let Some(o) = old.get(k) else { continue };
        let mut what = Vec::new();
        if o.id != n.id {
            what.push(format!("operationId {} -> {}", o.id, n.id));
        }
        if o.params != n.params {
            let gone: Vec<_> = o
                .params
                .iter()
                .filter(|p| !n.params.contains(p))
                .cloned()
                .collect();
            let came: Vec<_> = n
                .params
                .iter()
                .filter(|p| !o.params.contains(p))
                .cloned()
                .collect();
            what.push(format!(
                "parameters{}{}",
                if gone.is_empty() {
                    String::new()
                } else {
                    format!(" -[{}]", gone.join("; "))
                },
                if came.is_empty() {
                    String::new()
                } else {
                    format!(" +[{}]", came.join("; "))
                }
            ));
        }
        if o.body != n.body {
            what.push(format!("body {} -> {}", o.body, n.body));
        }
        if o.response != n.response {
            what.push(format!("response {} -> {}", o.response, n.response));
        }
        if !what.is_empty() {
            changed.push((k, what));
        }
    }
    let mut md = String::new();
    let _ = writeln!(md, "# Spec changes\n");
    let _ = writeln!(
        md,
        "Written by `cargo xtask regen`: operations of the generated spec, `{old_label}` against `{new_label}`.\n"
    );
    let _ = writeln!(
        md,
        "{} operations before, {} after: {} added, {} removed, {} changed.\n",
        old.len(),
        new.len(),
        added.len(),
        removed.len(),
        changed.len()
    );
    let _ = writeln!(md, "## Added\n");
    for k in &added {
        let _ = writeln!(md, "- `{k}` ({})", new[*k].id);
    }
    let _ = writeln!(md, "\n## Removed\n");
    for k in &removed {
        let _ = writeln!(md, "- `{k}` ({})", old[*k].id);
    }
    let _ = writeln!(md, "\n## Changed\n");
    for (k, what) in &changed {
        let _ = writeln!(md, "- `{k}`: {}", what.join("; "));
    }
    let any = !(added.is_empty() && removed.is_empty() && changed.is_empty());
    (md, any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(resp: &str, extra: bool) -> Value {
        let mut paths = json!({
            "/a": { "get": { "operationId": "GetA", "parameters": [{"name": "page", "in": "query", "schema": {"type": "integer"}}],
                     "responses": { "200": { "description": "OK", "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{resp}") } } } } } } }
        });
        if extra {
            paths["/b"] = json!({ "post": { "operationId": "PostB", "responses": { "204": { "description": "No Content" } } } });
        }
        json!({ "paths": paths })
    }

    #[test]
    fn reports_added_removed_and_changed_operations() {
        let old = operations(&spec("User", true));
        let new = operations(&spec("Team", false));
        let (md, any) = markdown(&old, &new, "old", "new");
        assert!(any);
        assert!(md.contains("## Removed\n\n- `POST /b` (PostB)"), "{md}");
        assert!(
            md.contains(
                "`GET /a`: response 200 application/json User -> 200 application/json Team"
            ),
            "{md}"
        );
        let (_, any) = markdown(&new, &new, "x", "x");
        assert!(!any);
    }
}
