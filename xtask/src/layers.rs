//! `cargo xtask layers`: the import graph of the crate's `src/`, checked against its layers.
//!
//! Each file's crate-internal references (`crate::x`, `super::x`, and a `mod.rs`'s own children)
//! outside comments, string literals and `#[cfg(test)] mod tests` are its imports. The check fails
//! when the files import each other in a circle, when a file imports one of a higher layer (or of
//! its own layer), or when a file inside a folder imports that folder's facade (`ws/mod.rs`)
//! instead of the file that defines the item.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The layers of `src/`, lowest first: a file may import only files of lower layers. `lib` (the
/// crate's facade) is above all. Files inside `ws/` are one layer, ordered among themselves by
/// the no-circle rule.
pub const LAYERS: &[&[&str]] = &[
    &["generated"],
    &["redact", "retry", "setter"],
    &["error"],
    &["mfa"],
    &["options"],
    &["net"],
    &["client"],
    &["request"],
    &["areas", "hooks", "raw"],
    &["auth", "fields", "files", "paginate", "webhook"],
    &["ws"],
    &["bot", "receiver"],
    &["blocking"],
];

/// The imports of every file of `src`: module name (`client`, `ws/conn`, `ws` for `ws/mod.rs`)
/// to the modules it names.
pub fn graph(src: &Path) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let mut files = BTreeMap::new();
    collect(src, src, &mut files)?;
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (module, text) in &files {
        graph.insert(module.clone(), imports(module, text, &modules));
    }
    Ok(graph)
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .with_extension("")
                .to_string_lossy()
                .replace('\\', "/");
            let module = rel.strip_suffix("/mod").unwrap_or(&rel).to_owned();
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            out.insert(module, text);
        }
    }
    Ok(())
}

/// `text` without comments and string literals, cut before its `#[cfg(test)] mod tests`.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
                out.push_str("\"\"");
            }
            // A char literal holding a quote (`'"'`) would otherwise open a string.
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with("\"'") || rest.starts_with("\\\"'") {
                    let skip = if rest.starts_with('"') { 2 } else { 3 };
                    for _ in 0..skip {
                        chars.next();
                    }
                    out.push_str("' '");
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The path segments after each occurrence of `prefix` (`crate::`, `super::`) in `code`.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<Vec<&'a str>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{'))
            .unwrap_or(rest.len());
        let path = &rest[..end];
        let segments: Vec<&str> = path
            .split("::")
            .map(|s| s.trim_start_matches('{'))
            .filter(|s| !s.is_empty())
            .collect();
        out.push(segments);
        // `use crate::{a, b::c}`: every name of the group.
        if path.starts_with('{')
            && let Some(close) = rest.find('}')
        {
            for item in rest[1..close].split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                if !first.is_empty() {
                    out.push(vec![first]);
                }
            }
        }
    }
    out
}

fn imports(module: &str, text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = code_of(text);
    let mut out = BTreeSet::new();
    let mut add = |target: String| {
        if target != module && modules.contains(&target) {
            out.insert(target);
        }
    };
    let resolve = |base: &str, segments: &[&str]| -> Option<String> {
        let first = *segments.first()?;
        let first = if first == "types" { "generated" } else { first };
        let top = if base.is_empty() {
            first.to_owned()
        } else {
            format!("{base}/{first}")
        };
        if let Some(second) = segments.get(1) {
            let nested = format!("{top}/{second}");
            if modules.contains(&nested) {
                return Some(nested);
            }
        }
        Some(top)
    };
    for segments in paths_after(&code, "crate::") {
        if let Some(t) = resolve("", &segments) {
            add(t);
        }
    }
    // `super::x` from `ws/conn` is `ws/x` (or the facade `ws`).
    let parent = module.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    for segments in paths_after(&code, "super::") {
        let Some(first) = segments.first() else {
            continue;
        };
        let sibling = format!("{parent}/{first}");
        // `super::x` inside an inline module of this file names this file's own item.
        let own = [
            "fn", "struct", "enum", "const", "type", "trait", "static", "mod",
        ]
        .iter()
        .any(|kw| code.contains(&format!("{kw} {first}")));
        if own {
            continue;
        }
        if !parent.is_empty() && modules.contains(&sibling) {
            add(sibling);
        } else if !parent.is_empty() {
            add(parent.to_owned());
        }
    }
    // A `mod.rs` naming its children (`conn::X`, `pub use event::...`).
    for child in modules
        .iter()
        .filter_map(|m| m.strip_prefix(&format!("{module}/")))
        .filter(|c| !c.contains('/'))
    {
        let uses = code.match_indices(&format!("{child}::")).any(|(at, _)| {
            let before = code[..at].chars().last();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
        });
        if uses {
            add(format!("{module}/{child}"));
        }
    }
    out
}

/// The layer of `module`: its index in [`LAYERS`] (files inside `ws/` are in `ws`'s layer).
fn layer(module: &str) -> Option<usize> {
    let top = module.split('/').next().unwrap_or(module);
    LAYERS.iter().position(|l| l.contains(&top))
}

/// What is wrong with `graph`: circles, imports of a higher or the same layer, imports of a facade
/// from inside its folder, and files no layer names.
pub fn problems(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for (from, targets) in graph {
        if from == "lib" {
            continue;
        }
        let Some(from_layer) = layer(from) else {
            out.push(format!(
                "src/{from}: no layer names it (add it to LAYERS in xtask/src/layers.rs)"
            ));
            continue;
        };
        let from_top = from.split('/').next().unwrap_or(from);
        for to in targets {
            let to_top = to.split('/').next().unwrap_or(to);
            if from.contains('/') && to == from_top {
                out.push(format!(
                    "{from} imports its folder's facade `{to}`: name the defining file"
                ));
                continue;
            }
            if from_top == to_top {
                continue;
            }
            match layer(to) {
                Some(to_layer) if to_layer < from_layer => {}
                Some(_) => out.push(format!(
                    "{from} imports {to}, which is not in a lower layer"
                )),
                None => {}
            }
        }
    }
    for circle in circles(graph) {
        out.push(format!("import circle: {}", circle.join(" -> ")));
    }
    out
}

/// The strongly connected components of more than one file (Tarjan).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let targets: Vec<&'g str> = s
            .graph
            .get(v)
            .map(|t| t.iter().map(String::as_str).collect())
            .unwrap_or_default();
        for w in targets {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// `cargo xtask layers [--root DIR]`: prints the graph, fails on any problem.
pub fn run(root: &Path) -> Result<()> {
    let graph = graph(&root.join("src"))?;
    for (module, targets) in &graph {
        let list: Vec<&str> = targets.iter().map(String::as_str).collect();
        println!("{module:<14} -> {}", list.join(" "));
    }
    let problems = problems(&graph);
    if !problems.is_empty() {
        bail!(
            "the layers of src/ are broken:\n  {}",
            problems.join("\n  ")
        );
    }
    println!("src/: no import circle, every import points to a lower layer");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_of(files: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
        let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.to_string()).collect();
        files
            .iter()
            .map(|(m, t)| (m.to_string(), imports(m, t, &modules)))
            .collect()
    }

    #[test]
    fn imports_are_read_from_code_not_from_comments_or_strings() {
        let g = graph_of(&[
            (
                "request",
                "//! see [`crate::raw`]\nuse crate::error::{Error, Result};\nuse crate::{client, retry::Attempt};\nconst S: &str = \"crate::auth\";\nfn f() { crate::types::User::default(); }\n#[cfg(test)]\nmod tests { use crate::files; }",
            ),
            ("error", ""),
            ("client", ""),
            ("retry", ""),
            ("raw", ""),
            ("auth", ""),
            ("files", ""),
            ("generated", ""),
        ]);
        let got: Vec<&str> = g["request"].iter().map(String::as_str).collect();
        assert_eq!(got, ["client", "error", "generated", "retry"]);
    }

    #[test]
    fn an_upward_import_a_facade_import_and_a_circle_are_each_reported() {
        let g = graph_of(&[
            ("error", "use crate::ws::WsError;"),
            (
                "ws",
                "mod conn; mod event; pub use event::Event; use conn::Driver;",
            ),
            ("ws/conn", "use crate::ws::Event; use super::event::X;"),
            ("ws/event", "use crate::ws::conn::Driver;"),
        ]);
        let p = problems(&g);
        assert!(
            p.iter()
                .any(|m| m == "error imports ws, which is not in a lower layer"),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("ws/conn imports its folder's facade")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|m| m.contains("import circle")
                && m.contains("ws/conn")
                && m.contains("ws/event")),
            "{p:?}"
        );
    }

    #[test]
    fn a_clean_graph_has_no_problem() {
        let g = graph_of(&[
            ("error", "use crate::generated::Client;"),
            ("generated", ""),
            ("options", "use crate::error::Error;"),
        ]);
        assert_eq!(problems(&g), Vec::<String>::new());
    }
}

#[cfg(test)]
mod the_crate {
    /// The crate's own `src/` keeps its layers (also run by CI as `cargo xtask layers`).
    #[test]
    fn src_has_no_circle_and_no_upward_import() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let graph = super::graph(&root.join("src")).expect("src/ is readable");
        assert_eq!(super::problems(&graph), Vec::<String>::new());
    }
}
