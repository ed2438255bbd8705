//! `cargo xtask doc-counts [DIR]`: how many of the generated public items have no doc comment, per
//! kind (operation methods, builder setters, types, fields, typify's builder setters, blocking
//! twins). Reads `generated.rs` and `blocking.rs` from DIR (by default the newest build's
//! `target/debug/build/matterapi-*/out`, so build or check the crate first).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

#[derive(Default)]
struct Count {
    total: usize,
    bare: usize,
}

impl Count {
    /// Counts an item; one whose doc is only its own name in backticks (typify's "`Name`") counts
    /// as undocumented.
    fn add(&mut self, attrs: &[syn::Attribute]) {
        self.total += 1;
        let text: String = attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .filter_map(|a| match &a.meta {
                syn::Meta::NameValue(nv) => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        let t = text.trim();
        if t.is_empty()
            || (t.starts_with('`') && t.ends_with('`') && !t[1..t.len() - 1].contains('`'))
        {
            self.bare += 1;
        }
    }
}

/// Methods of a builder that are not setters.
const NOT_SETTERS: [&str; 7] = [
    "new",
    "send",
    "send_raw",
    "send_raw_any_status",
    "call",
    "stream",
    "try_into",
];

fn is_pub(v: &syn::Visibility) -> bool {
    matches!(v, syn::Visibility::Public(_))
}

fn module<'a>(items: &'a [syn::Item], name: &str) -> &'a [syn::Item] {
    items
        .iter()
        .find_map(|i| match i {
            syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, it)| &it[..]),
            _ => None,
        })
        .unwrap_or(&[])
}

fn fns<'a>(items: &'a [syn::Item], skip_self: Option<&str>) -> Vec<&'a syn::ImplItemFn> {
    let mut out = Vec::new();
    for item in items {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        if let (Some(skip), syn::Type::Path(p)) = (skip_self, &*imp.self_ty)
            && p.path.segments.last().is_some_and(|s| s.ident == skip)
        {
            continue;
        }
        for it in &imp.items {
            if let syn::ImplItem::Fn(f) = it
                && is_pub(&f.vis)
                && !NOT_SETTERS.contains(&f.sig.ident.to_string().as_str())
            {
                out.push(f);
            }
        }
    }
    out
}

fn newest_out(root: &Path) -> Result<PathBuf> {
    let build = root.join("target/debug/build");
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for e in std::fs::read_dir(&build).with_context(|| format!("reading {}", build.display()))? {
        let e = e?;
        let out = e.path().join("out");
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with("matterapi-") || !out.join("generated.rs").exists() {
            continue;
        }
        let t = std::fs::metadata(out.join("generated.rs"))?.modified()?;
        if best.as_ref().is_none_or(|(b, _)| t > *b) {
            best = Some((t, out));
        }
    }
    match best {
        Some((_, p)) => Ok(p),
        None => bail!(
            "no generated code under target/debug/build: run `cargo check -p matterapi` first"
        ),
    }
}

/// Runs the command.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let dir = match args.first() {
        Some(d) => PathBuf::from(d),
        None => newest_out(root)?,
    };
    let parse = |name: &str| -> Result<syn::File> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {name}"))?;
        syn::parse_file(&text).with_context(|| format!("parsing {name}"))
    };
    let generated = parse("generated.rs")?;
    let mut methods = Count::default();
    for item in &generated.items {
        if let syn::Item::Impl(imp) = item
            && imp.trait_.is_none()
            && let syn::Type::Path(p) = &*imp.self_ty
            && p.path.segments.last().is_some_and(|s| s.ident == "Client")
        {
            for it in &imp.items {
                if let syn::ImplItem::Fn(f) = it
                    && is_pub(&f.vis)
                {
                    methods.add(&f.attrs);
                }
            }
        }
    }
    let mut setters = Count::default();
    for f in fns(module(&generated.items, "builder"), None) {
        setters.add(&f.attrs);
    }
    let types = module(&generated.items, "types");
    let (mut type_count, mut fields, mut variants) =
        (Count::default(), Count::default(), Count::default());
    for item in types {
        match item {
            syn::Item::Struct(s) if is_pub(&s.vis) => {
                type_count.add(&s.attrs);
                if let syn::Fields::Named(named) = &s.fields {
                    for f in named.named.iter().filter(|f| is_pub(&f.vis)) {
                        fields.add(&f.attrs);
                    }
                }
            }
            syn::Item::Enum(e) if is_pub(&e.vis) => {
                type_count.add(&e.attrs);
                for v in &e.variants {
                    variants.add(&v.attrs);
                }
            }
            _ => {}
        }
    }
    let mut type_builders = Count::default();
    for f in fns(module(types, "builder"), None) {
        type_builders.add(&f.attrs);
    }
    let mut blocking = Count::default();
    if dir.join("blocking.rs").exists() {
        let b = parse("blocking.rs")?;
        for f in fns(module(&b.items, "builder"), None) {
            blocking.add(&f.attrs);
        }
    }
    println!("undocumented / total, generated code in {}", dir.display());
    for (name, c) in [
        ("operation methods on Client", &methods),
        ("operation builder setters", &setters),
        ("types", &type_count),
        ("struct fields", &fields),
        ("enum variants", &variants),
        ("typify builder setters", &type_builders),
        ("blocking builder setters", &blocking),
    ] {
        println!("{:>6} / {:<6} {name}", c.bare, c.total);
    }
    Ok(())
}
