//! Checks on the spec before and after the rules: what regen refuses to vendor.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde_json::Value;

use super::rules::{METHODS, get};

/// The OpenAPI version must be 3.0.x: progenitor reads nothing else.
pub fn openapi_version(spec: &Value, label: &str) -> Result<()> {
    match spec.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => Ok(()),
        Some(v) => {
            bail!("{label}: unsupported OpenAPI version `{v}` at `openapi` (expected 3.0.x)")
        }
        None => bail!("{label}: no `openapi` version field at the top level (expected 3.0.x)"),
    }
}

/// Every local `$ref` must point at something; names each dangling one and where it is used.
pub fn refs_resolve(spec: &Value, label: &str) -> Result<()> {
    let mut dangling: BTreeMap<String, Vec<String>> = BTreeMap::new();
    fn walk(
        spec: &Value,
        v: &Value,
        place: &mut Vec<String>,
        out: &mut BTreeMap<String, Vec<String>>,
    ) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    let ok = r.strip_prefix("#/").is_some_and(|p| {
                        let at: Vec<String> = p
                            .split('/')
                            .map(|s| s.replace("~1", "/").replace("~0", "~"))
                            .collect();
                        get(spec, &at).is_some()
                    });
                    if !ok {
                        out.entry(r.to_owned()).or_default().push(place.join(" > "));
                    }
                }
                for (k, x) in m {
                    place.push(k.clone());
                    walk(spec, x, place, out);
                    place.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    place.push(i.to_string());
                    walk(spec, x, place, out);
                    place.pop();
                }
            }
            _ => {}
        }
    }
    walk(spec, spec, &mut Vec::new(), &mut dangling);
    if dangling.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = dangling
        .iter()
        .map(|(r, places)| format!("  {r}\n    used at {}", places.join("\n    used at ")))
        .collect();
    bail!(
        "{label}: {} dangling $ref target(s) (add the schema with an `overlay` rule, from the server's models):\n{}",
        dangling.len(),
        lines.join("\n")
    )
}

/// Every operation has an operationId, and no two share one.
pub fn operation_ids(spec: &Value, label: &str) -> Result<()> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut missing = Vec::new();
    for (path, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (method, op) in item.as_object().into_iter().flatten() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let key = format!("{} {path}", method.to_uppercase());
            match op.get("operationId").and_then(Value::as_str) {
                Some(id) => seen.entry(id.to_owned()).or_default().push(key),
                None => missing.push(key),
            }
        }
    }
    let dups: Vec<String> = seen
        .iter()
        .filter(|(_, ops)| ops.len() > 1)
        .map(|(id, ops)| format!("  {id}: {}", ops.join(", ")))
        .collect();
    if !missing.is_empty() || !dups.is_empty() {
        bail!(
            "{label}: operations without operationId: [{}]; duplicate operationIds (add them to a \
             rename_operations rule):\n{}",
            missing.join(", "),
            dups.join("\n")
        );
    }
    Ok(())
}

/// The spec must read as OpenAPI 3.0 the way progenitor reads it (`openapiv3`).
pub fn openapiv3_reads(json: &str, label: &str) -> Result<()> {
    match serde_json::from_str::<openapiv3::OpenAPI>(json) {
        Ok(_) => Ok(()),
        Err(e) => {
            let line = json
                .lines()
                .nth(e.line().saturating_sub(1))
                .unwrap_or("")
                .trim();
            bail!("{label}: not a valid OpenAPI 3.0 document after the rules: {e} (near `{line}`)")
        }
    }
}
