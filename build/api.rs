//! The parts of build.rs that shape the generated API for its users, from facts of the spec and of
//! progenitor's output: setters that take what a user has (`&str` for an optional string),
//! constructors taking a body's required fields, docs written from facts (never the spec's prose),
//! and the area handles (`client.users().get_user("me")`).

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};

/// The official API reference page of an operation.
const REFERENCE: &str = "https://developers.mattermost.com/api-documentation/#/operations/";

/// One operation of the spec, as the generated code names it.
pub struct Op {
    /// The spec's `operationId`.
    pub id: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// `/api/v4/users/{user_id}`.
    pub path: String,
    /// Its tags (areas), as the spec writes them.
    pub tags: Vec<String>,
    /// Its parameters (path-level ones included), `$ref`s resolved.
    pub params: Vec<Param>,
    /// The request body's schema, when it has one: whether it is required, and the component it
    /// names (`None` for an inline schema).
    pub body: Option<(bool, Option<String>)>,
    /// Components named by its success replies.
    pub returns: Vec<String>,
}

/// One parameter of an operation.
pub struct Param {
    /// The spec's name (`user_id`).
    pub name: String,
    /// `path`, `query` or `header`.
    pub place: String,
    /// Whether the spec requires it (path parameters always are).
    pub required: bool,
    /// Its schema, `$ref`s resolved.
    pub schema: serde_json::Value,
}

/// Progenitor's name for a parameter or an operation's method (snake case, a keyword suffixed
/// with `_`).
fn rust_name(name: &str) -> String {
    let s = name.to_snake_case();
    match s.as_str() {
        // A name with no letters (the spec's `_` cache-buster): progenitor calls it `x`.
        "" => "x".to_string(),
        "type" | "ref" | "self" | "fn" | "move" | "match" | "in" | "where" | "use" | "mod"
        | "async" | "await" | "crate" | "super" | "loop" | "static" | "const" | "enum"
        | "struct" | "trait" | "impl" | "return" | "box" | "dyn" | "final" | "override" => {
            format!("{s}_")
        }
        _ => s,
    }
}

fn resolve<'a>(spec: &'a serde_json::Value, v: &'a serde_json::Value) -> &'a serde_json::Value {
    let mut v = v;
    for _ in 0..8 {
        let Some(r) = v.get("$ref").and_then(|r| r.as_str()) else {
            return v;
        };
        let ptr = r.trim_start_matches('#');
        match spec.pointer(ptr) {
            Some(next) => v = next,
            None => return v,
        }
    }
    v
}

fn component(v: &serde_json::Value) -> Option<String> {
    let r = v
        .get("$ref")
        .or_else(|| v.get("items").and_then(|i| i.get("$ref")))?;
    r.as_str()?
        .strip_prefix("#/components/schemas/")
        .map(str::to_string)
}

/// Every operation of `spec`, keyed by the name of its generated method.
pub fn operations(spec: &serde_json::Value) -> BTreeMap<String, Op> {
    let mut out = BTreeMap::new();
    let Some(paths) = spec.get("paths").and_then(|p| p.as_object()) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        let shared: Vec<_> = item
            .get("parameters")
            .and_then(|p| p.as_array())
            .cloned()
            .unwrap_or_default();
        for (method, op) in item {
            if !matches!(
                method.as_str(),
                "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
            ) {
                continue;
            }
            let Some(id) = op.get("operationId").and_then(|i| i.as_str()) else {
                continue;
            };
            let mut params = Vec::new();
            let own = op
                .get("parameters")
                .and_then(|p| p.as_array())
                .cloned()
                .unwrap_or_default();
            for p in shared.iter().chain(own.iter()) {
                let p = resolve(spec, p);
                let (Some(name), Some(place)) = (
                    p.get("name").and_then(|n| n.as_str()),
                    p.get("in").and_then(|n| n.as_str()),
                ) else {
                    continue;
                };
                if params
                    .iter()
                    .any(|q: &Param| q.name == name && q.place == place)
                {
                    continue;
                }
                let schema = p
                    .get("schema")
                    .map(|s| resolve(spec, s).clone())
                    .unwrap_or_default();
                params.push(Param {
                    name: name.to_string(),
                    place: place.to_string(),
                    required: place == "path"
                        || p.get("required").and_then(|r| r.as_bool()) == Some(true),
                    schema,
                });
            }
            let body = op.get("requestBody").map(|b| {
                let b = resolve(spec, b);
                let required = b.get("required").and_then(|r| r.as_bool()) == Some(true);
                let named = b
                    .get("content")
                    .and_then(|c| c.as_object())
                    .and_then(|c| c.values().next())
                    .and_then(|m| m.get("schema"))
                    .and_then(component);
                (required, named)
            });
            let mut returns = Vec::new();
            if let Some(rs) = op.get("responses").and_then(|r| r.as_object()) {
                for (status, r) in rs {
                    if !status.starts_with('2') {
                        continue;
                    }
                    let r = resolve(spec, r);
                    if let Some(c) = r
                        .get("content")
                        .and_then(|c| c.as_object())
                        .and_then(|c| c.values().next())
                        .and_then(|m| m.get("schema"))
                        .and_then(component)
                        && !returns.contains(&c)
                    {
                        returns.push(c);
                    }
                }
            }
            let tags = op
                .get("tags")
                .and_then(|t| t.as_array())
                .map(|t| {
                    t.iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            out.insert(
                rust_name(id),
                Op {
                    id: id.to_string(),
                    method: method.to_uppercase(),
                    path: path.clone(),
                    tags,
                    params,
                    body,
                    returns,
                },
            );
        }
    }
    out
}

/// A schema's facts in a few words: `string`, `integer (int64), at least 0`, `one of "a", "b"`,
/// `default 60`.
fn schema_facts(schema: &serde_json::Value) -> String {
    let mut parts = Vec::new();
    let ty = schema.get("type").and_then(|t| t.as_str());
    match (ty, schema.get("format").and_then(|f| f.as_str())) {
        (Some("array"), _) => {
            let inner = schema
                .get("items")
                .and_then(|i| i.get("type"))
                .and_then(|t| t.as_str())
                .unwrap_or("value");
            parts.push(format!("array of {inner}"));
        }
        (Some(t), Some(f)) => parts.push(format!("{t} ({f})")),
        (Some(t), None) => parts.push(t.to_string()),
        (None, _) => {}
    }
    if let Some(e) = schema.get("enum").and_then(|e| e.as_array()) {
        let values: Vec<_> = e.iter().take(12).map(|v| format!("`{v}`")).collect();
        parts.push(format!("one of {}", values.join(", ")));
    }
    for (key, words) in [
        ("minimum", "at least"),
        ("maximum", "at most"),
        ("minLength", "at least this many characters:"),
        ("maxLength", "at most this many characters:"),
    ] {
        if let Some(v) = schema.get(key) {
            parts.push(format!("{words} {v}"));
        }
    }
    if let Some(d) = schema.get("default") {
        parts.push(format!("server default `{d}`"));
    }
    parts.join(", ")
}

fn doc_attr(text: &str) -> syn::Attribute {
    syn::parse_quote!(#[doc = #text])
}

fn has_doc(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("doc"))
}

fn items_of<'a>(file: &'a mut syn::File, name: &str) -> Option<&'a mut Vec<syn::Item>> {
    file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}

fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The generic argument of `TryInto<Option<X>>` in a typify builder setter's where clause.
fn option_target(f: &syn::ImplItemFn) -> Option<syn::Type> {
    let wc = f.sig.generics.where_clause.as_ref()?;
    for pred in &wc.predicates {
        let syn::WherePredicate::Type(pt) = pred else {
            continue;
        };
        for bound in &pt.bounds {
            let syn::TypeParamBound::Trait(tb) = bound else {
                continue;
            };
            let last = tb.path.segments.last()?;
            if last.ident != "TryInto" {
                continue;
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                continue;
            };
            let Some(syn::GenericArgument::Type(syn::Type::Path(opt))) = args.args.first() else {
                continue;
            };
            let seg = opt.path.segments.last()?;
            if seg.ident != "Option" {
                continue;
            }
            let syn::PathArguments::AngleBracketed(inner) = &seg.arguments else {
                continue;
            };
            if let Some(syn::GenericArgument::Type(t)) = inner.args.first() {
                return Some(t.clone());
            }
        }
    }
    None
}

/// Typify's builder setters of optional fields (`T: TryInto<Option<X>>`, which `&str` is not for
/// `Option<String>`) rewritten to take `T: crate::setter::IntoOptional<X>`: the plain value, an
/// `Option` of it, and for strings `&str`, `&String`, `Box<str>` and `Cow<str>`. Gives the number
/// rewritten.
pub fn optional_setters(file: &mut syn::File) -> usize {
    let mut count = 0;
    let Some(types) = items_of(file, "types") else {
        return 0;
    };
    let Some(builder) = types.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    }) else {
        return 0;
    };
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some() {
            continue;
        }
        for it in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = it else { continue };
            let Some(target) = option_target(f) else {
                continue;
            };
            let ident = &f.sig.ident;
            let field = ident.clone();
            let new: syn::ImplItemFn = syn::parse_quote! {
                pub fn #ident<T>(mut self, value: T) -> Self
                where
                    T: crate::setter::IntoOptional<#target>,
                {
                    self.#field = Ok(crate::setter::IntoOptional::into_optional(value));
                    self
                }
            };
            *f = new;
            count += 1;
        }
    }
    count
}

/// `impl X { pub fn new(required fields...) }` for each generated struct with required fields whose
/// other fields all have a default: a body a bot builds without going through a JSON map. Gives the
/// number added.
pub fn constructors(file: &mut syn::File) -> usize {
    let Some(types) = items_of(file, "types") else {
        return 0;
    };
    let mut added = Vec::new();
    for item in types.iter() {
        let syn::Item::Struct(s) = item else { continue };
        let syn::Fields::Named(fields) = &s.fields else {
            continue;
        };
        let mut args = Vec::new();
        let mut inits = Vec::new();
        let mut docs = Vec::new();
        let mut ok = true;
        for f in &fields.named {
            let Some(ident) = &f.ident else {
                ok = false;
                break;
            };
            let mut default: Option<TokenStream> = None;
            for a in &f.attrs {
                if !a.path().is_ident("serde") {
                    continue;
                }
                let _ = a.parse_nested_meta(|meta| {
                    if meta.path.is_ident("default") {
                        if let Ok(v) = meta.value() {
                            let lit: syn::LitStr = v.parse()?;
                            if let Ok(path) = lit.parse::<syn::ExprPath>() {
                                default = Some(quote!(#path()));
                            }
                        } else {
                            default = Some(quote!(::std::default::Default::default()));
                        }
                    } else if let Ok(v) = meta.value() {
                        let _: syn::Expr = v.parse()?;
                    }
                    Ok(())
                });
            }
            let is_option = type_name(&f.ty).as_deref() == Some("Option");
            if is_option {
                inits.push(quote!(#ident: ::std::option::Option::None));
            } else if let Some(d) = default {
                inits.push(quote!(#ident: #d));
            } else {
                let ty = &f.ty;
                docs.push(format!("`{ident}`"));
                if type_name(ty).as_deref() == Some("String") {
                    args.push(quote!(#ident: impl ::std::convert::Into<::std::string::String>));
                    inits.push(quote!(#ident: #ident.into()));
                } else {
                    args.push(quote!(#ident: #ty));
                    inits.push(quote!(#ident));
                }
            }
        }
        if !ok || args.is_empty() || args.len() > 7 {
            continue;
        }
        let name = &s.ident;
        let doc = format!(
            "A `{name}` with its required fields ({}) and every other field unset (`None`, empty, \
             or the schema's default).",
            docs.join(", ")
        );
        added.push(quote! {
            impl #name {
                #[doc = #doc]
                pub fn new(#(#args),*) -> Self {
                    Self { #(#inits),* }
                }
            }
        });
    }
    let count = added.len();
    for code in added {
        if let Ok(item) = syn::parse2::<syn::Item>(code) {
            types.push(item);
        }
    }
    count
}

/// Docs written from facts on what progenitor and typify leave bare: each operation method names
/// its required parameters, each builder setter says where its value goes, its type, whether it is
/// required and its bounds; each type says which operations take or return it; each field its JSON
/// key, whether it is required and its schema's type.
pub fn document(file: &mut syn::File, ops: &BTreeMap<String, Op>, spec: &serde_json::Value) {
    // Builder name (`GetUser`) -> method name (`get_user`).
    let mut builders = BTreeMap::new();
    for (method, builder) in client_methods(file) {
        builders.insert(builder, method);
    }
    // Type -> operations taking / returning it.
    let mut taken: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut returned: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, op) in ops {
        let camel = op.id.to_upper_camel_case();
        match &op.body {
            Some((_, Some(c))) => {
                taken
                    .entry(c.to_upper_camel_case())
                    .or_default()
                    .insert(m.clone());
            }
            Some((_, None)) => {
                taken
                    .entry(format!("{camel}Body"))
                    .or_default()
                    .insert(m.clone());
            }
            None => {}
        }
        for r in &op.returns {
            returned
                .entry(r.to_upper_camel_case())
                .or_default()
                .insert(m.clone());
        }
        returned
            .entry(format!("{camel}Response"))
            .or_default()
            .insert(m.clone());
    }
    let schemas: BTreeMap<String, serde_json::Value> = spec
        .pointer("/components/schemas")
        .and_then(|s| s.as_object())
        .map(|s| {
            s.iter()
                .map(|(k, v)| (k.to_upper_camel_case(), v.clone()))
                .collect()
        })
        .unwrap_or_default();

    for item in file.items.iter_mut() {
        match item {
            syn::Item::Impl(imp) if is_client_impl(imp) => {
                for it in imp.items.iter_mut() {
                    let syn::ImplItem::Fn(f) = it else { continue };
                    let Some(op) = ops.get(&f.sig.ident.to_string()) else {
                        continue;
                    };
                    let required: Vec<_> = op
                        .params
                        .iter()
                        .filter(|p| p.required)
                        .map(|p| format!("`{}` ({})", rust_name(&p.name), p.place))
                        .chain(match op.body {
                            Some((true, _)) => Some("`body` (the request body)".to_string()),
                            _ => None,
                        })
                        .collect();
                    let text = if required.is_empty() {
                        "\nEvery parameter is optional.".to_string()
                    } else {
                        format!(
                            "\nRequired before `send()`: {} (a missing one is \
                             `Error::InvalidRequest`). With the area handle the path parameters \
                             are arguments: `client.{}().{}(...)`.",
                            required.join(", "),
                            op.tags
                                .first()
                                .map(|t| t.to_snake_case())
                                .unwrap_or_default(),
                            f.sig.ident
                        )
                    };
                    f.attrs.push(doc_attr(&text));
                }
            }
            syn::Item::Mod(m) if m.ident == "builder" => {
                let Some((_, items)) = &mut m.content else {
                    continue;
                };
                for item in items.iter_mut() {
                    let syn::Item::Impl(imp) = item else { continue };
                    let Some(name) = type_name(&imp.self_ty) else {
                        continue;
                    };
                    let Some(op) = builders.get(&name).and_then(|m| ops.get(m)) else {
                        continue;
                    };
                    for it in imp.items.iter_mut() {
                        let syn::ImplItem::Fn(f) = it else { continue };
                        if has_doc(&f.attrs) {
                            continue;
                        }
                        let ident = f.sig.ident.to_string();
                        let text = setter_doc(&ident, op, &name);
                        if let Some(text) = text {
                            f.attrs.push(doc_attr(&text));
                        }
                    }
                }
            }
            syn::Item::Mod(m) if m.ident == "types" => {
                let Some((_, items)) = &mut m.content else {
                    continue;
                };
                let mut field_docs: BTreeMap<(String, String), String> = BTreeMap::new();
                for item in items.iter_mut() {
                    let (ident, attrs) = match item {
                        syn::Item::Struct(s) => (s.ident.to_string(), &mut s.attrs),
                        syn::Item::Enum(e) => (e.ident.to_string(), &mut e.attrs),
                        _ => continue,
                    };
                    let mut lines = Vec::new();
                    let link = |set: &BTreeSet<String>| {
                        set.iter()
                            .map(|m| format!("[`Client::{m}`](crate::Client::{m})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    if let Some(set) = taken.get(&ident) {
                        lines.push(format!("\n\nThe request body of {}.", link(set)));
                    }
                    if let Some(set) = returned.get(&ident) {
                        lines.push(format!("\n\nReturned by {}.", link(set)));
                    }
                    if lines.is_empty() {
                        lines.push(
                            "\n\nA part of other types of the API (see where it is used)."
                                .to_string(),
                        );
                    }
                    for l in lines {
                        attrs.push(doc_attr(&l));
                    }
                    if let syn::Item::Struct(s) = item
                        && let syn::Fields::Named(fields) = &mut s.fields
                    {
                        let schema = schemas.get(&ident);
                        for f in fields.named.iter_mut() {
                            if has_doc(&f.attrs) {
                                continue;
                            }
                            let text = field_doc(f, schema, spec);
                            if let Some(fi) = &f.ident {
                                field_docs.insert((ident.clone(), fi.to_string()), text.clone());
                            }
                            f.attrs.push(doc_attr(&text));
                        }
                    }
                    if let syn::Item::Enum(e) = item {
                        for v in e.variants.iter_mut() {
                            if has_doc(&v.attrs) {
                                continue;
                            }
                            let key = serde_rename(&v.attrs).unwrap_or_else(|| v.ident.to_string());
                            let text = format!("The value `{key}`.");
                            v.attrs.push(doc_attr(&text));
                        }
                    }
                }
                for item in items.iter_mut() {
                    let syn::Item::Impl(imp) = item else { continue };
                    if imp.trait_.is_some() {
                        continue;
                    }
                    for it in imp.items.iter_mut() {
                        if let syn::ImplItem::Fn(f) = it
                            && f.sig.ident == "builder"
                            && !has_doc(&f.attrs)
                        {
                            f.attrs.push(doc_attr(
                                "A builder of this type with nothing set (see the builder's setters).",
                            ));
                        }
                    }
                }
                document_type_builders(items, &field_docs);
            }
            _ => {}
        }
    }
}

/// Docs on typify's struct builders (`types::builder::X`): the struct, and each setter with its
/// field's facts.
fn document_type_builders(
    items: &mut [syn::Item],
    field_docs: &BTreeMap<(String, String), String>,
) {
    let Some(builder) = items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    }) else {
        return;
    };
    for item in builder.iter_mut() {
        match item {
            syn::Item::Struct(s) if !has_doc(&s.attrs) => {
                let text = format!(
                    "The builder of [`{0}`](super::{0}): `{0}::builder().field(value)...`, then \
                     `try_into()` (or pass it to an operation's `body`), which fails naming a \
                     required field left unset.",
                    s.ident
                );
                s.attrs.push(doc_attr(&text));
            }
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                let Some(ty) = type_name(&imp.self_ty) else {
                    continue;
                };
                for it in imp.items.iter_mut() {
                    let syn::ImplItem::Fn(f) = it else { continue };
                    if has_doc(&f.attrs) {
                        continue;
                    }
                    let field = f.sig.ident.to_string();
                    let facts = field_docs
                        .get(&(ty.clone(), field.clone()))
                        .cloned()
                        .unwrap_or_default();
                    let text = format!("Sets [`{ty}::{field}`](super::{ty}::{field}). {facts}");
                    f.attrs.push(doc_attr(&text));
                }
            }
            _ => {}
        }
    }
}

fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut out = None;
    for a in attrs {
        if !a.path().is_ident("serde") {
            continue;
        }
        let _ = a.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                out = Some(lit.value());
            } else if let Ok(v) = meta.value() {
                let _: syn::Expr = v.parse()?;
            }
            Ok(())
        });
    }
    out
}

fn field_doc(
    f: &syn::Field,
    schema: Option<&serde_json::Value>,
    spec: &serde_json::Value,
) -> String {
    let ident = f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
    let key = serde_rename(&f.attrs).unwrap_or_else(|| ident.clone());
    let optional = type_name(&f.ty).as_deref() == Some("Option");
    let defaulted = f
        .attrs
        .iter()
        .any(|a| a.path().is_ident("serde") && a.to_token_stream().to_string().contains("default"));
    let mut text = format!(
        "JSON `{key}`; {}.",
        if optional {
            "optional (`None` when left out)"
        } else if defaulted {
            "optional (empty or the schema's default when left out)"
        } else {
            "required"
        }
    );
    if let Some(prop) = schema
        .map(|s| resolve(spec, s))
        .and_then(|s| s.get("properties"))
        .and_then(|p| p.get(&key))
    {
        let facts = schema_facts(resolve(spec, prop));
        if !facts.is_empty() {
            text.push_str(&format!(" Schema: {facts}."));
        }
    }
    text
}

fn setter_doc(ident: &str, op: &Op, builder: &str) -> Option<String> {
    if ident == "body" {
        let req = matches!(op.body, Some((true, _)));
        return Some(format!(
            "Sets the request body (JSON); {}. Takes the body type or its builder.",
            if req { "required" } else { "optional" }
        ));
    }
    if ident == "new" {
        return Some(
            "Starts this builder on `client`, nothing set (the client's method of the same \
             operation does the same)."
                .to_string(),
        );
    }
    if ident == "body_map" {
        return Some(
            "Changes the request body through its builder (`|b| b.field(value)`), starting from \
             the body set so far or an empty one."
                .to_string(),
        );
    }
    let p = op.params.iter().find(|p| rust_name(&p.name) == ident)?;
    let facts = schema_facts(&p.schema);
    let where_ = match p.place.as_str() {
        "path" => format!(
            "Path parameter `{}` (checked to stay one path segment)",
            p.name
        ),
        "query" => format!("Query parameter `{}`", p.name),
        "header" => format!("Header `{}`", p.name),
        other => format!("{other} parameter `{}`", p.name),
    };
    let _ = builder;
    Some(format!(
        "{where_}; {}{}.",
        if p.required {
            "required"
        } else {
            "optional (left out when not set)"
        },
        if facts.is_empty() {
            String::new()
        } else {
            format!("; {facts}")
        }
    ))
}

fn is_client_impl(imp: &syn::ItemImpl) -> bool {
    imp.trait_.is_none() && type_name(&imp.self_ty).as_deref() == Some("Client")
}

/// The generated `Client` methods returning a builder: (method, builder name).
pub fn client_methods(file: &syn::File) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        if !is_client_impl(imp) {
            continue;
        }
        for it in &imp.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            let syn::ReturnType::Type(_, ty) = &f.sig.output else {
                continue;
            };
            let syn::Type::Path(rp) = &**ty else { continue };
            let segs: Vec<_> = rp.path.segments.iter().collect();
            if segs.len() != 2 || segs[0].ident != "builder" || f.sig.inputs.len() != 1 {
                continue;
            }
            out.push((f.sig.ident.to_string(), segs[1].ident.to_string()));
        }
    }
    out
}

/// Which client the handles are for.
#[derive(Clone, Copy)]
pub enum Side {
    /// `matterapi::Client`.
    Async,
    /// `matterapi::blocking::Client`.
    Blocking,
}

/// The area handles: for each tag of the spec a `Copy` handle (`Users<'a>`) returned by a method
/// of the client (`client.users()`), with each of the tag's operations as a method taking the
/// operation's path parameters as arguments (in path order) and returning its builder with them
/// set. The flat methods stay.
pub fn handles(
    file: &syn::File,
    ops: &BTreeMap<String, Op>,
    side: Side,
) -> Result<TokenStream, String> {
    let builders: BTreeMap<String, &syn::ItemImpl> = crate::builder_impls(file)
        .into_iter()
        .map(|(n, i)| (n.to_string(), i))
        .collect();
    let mut areas: BTreeMap<String, (String, Vec<TokenStream>)> = BTreeMap::new();
    let (client, builder_path, client_doc) = match side {
        Side::Async => (
            quote!(crate::Client),
            quote!(crate::generated::builder),
            "crate::Client",
        ),
        Side::Blocking => (
            quote!(crate::blocking::Client),
            quote!(crate::blocking::builder),
            "crate::blocking::Client",
        ),
    };
    for (method, builder) in client_methods(file) {
        let op = ops
            .get(&method)
            .ok_or_else(|| format!("the method {method} has no operation in the spec"))?;
        let imp = builders
            .get(&builder)
            .ok_or_else(|| format!("no builder {builder} for {method}"))?;
        // Path parameters in the order the path names them.
        let mut path_params: Vec<&Param> = op.params.iter().filter(|p| p.place == "path").collect();
        path_params.sort_by_key(|p| {
            op.path
                .find(&format!("{{{}}}", p.name))
                .unwrap_or(usize::MAX)
        });
        let mut generics = Vec::new();
        let mut args = Vec::new();
        let mut preds = Vec::new();
        let mut calls = Vec::new();
        let mut names = Vec::new();
        for (i, p) in path_params.iter().enumerate() {
            let setter = format_ident!("{}", rust_name(&p.name));
            let f = imp
                .items
                .iter()
                .find_map(|it| match it {
                    syn::ImplItem::Fn(f) if f.sig.ident == setter => Some(f),
                    _ => None,
                })
                .ok_or_else(|| format!("{builder} has no setter {setter}"))?;
            let wc = f
                .sig
                .generics
                .where_clause
                .as_ref()
                .ok_or_else(|| format!("{builder}::{setter} has no where clause"))?;
            let Some(syn::WherePredicate::Type(pt)) = wc.predicates.first() else {
                return Err(format!("{builder}::{setter}: unexpected bound"));
            };
            let g = format_ident!("P{i}");
            let bounds = &pt.bounds;
            generics.push(quote!(#g));
            preds.push(quote!(#g: #bounds));
            args.push(quote!(#setter: #g));
            calls.push(quote!(.#setter(#setter)));
            names.push(format!("`{setter}`"));
        }
        let m = format_ident!("{method}");
        let b = format_ident!("{builder}");
        let doc = format!(
            "`{} {}`: [`{client_doc}::{method}`] with {}. [API reference]({REFERENCE}{})",
            op.method,
            op.path,
            if names.is_empty() {
                "nothing set".to_string()
            } else {
                format!("{} set", names.join(", "))
            },
            op.id
        );
        let generics = if generics.is_empty() {
            quote!()
        } else {
            quote!(<#(#generics),*>)
        };
        let where_clause = if preds.is_empty() {
            quote!()
        } else {
            quote!(where #(#preds),*)
        };
        let code = quote! {
            #[doc = #doc]
            pub fn #m #generics (&self, #(#args),*) -> #builder_path::#b<'a> #where_clause {
                self.client.#m() #(#calls)*
            }
        };
        let tags = if op.tags.is_empty() {
            vec!["other".to_string()]
        } else {
            op.tags.clone()
        };
        for tag in tags {
            areas
                .entry(tag.to_snake_case())
                .or_insert_with(|| (tag.clone(), Vec::new()))
                .1
                .push(code.clone());
        }
    }
    let mut out = TokenStream::new();
    let mut accessors = TokenStream::new();
    for (snake, (tag, methods)) in &areas {
        let ty = format_ident!("{}", snake.to_upper_camel_case());
        let acc = format_ident!("{snake}");
        let doc = format!(
            "The operations of the `{tag}` area ({} of them): `client.{snake}().<operation>(path \
             parameters...)`, each returning the operation's builder.",
            methods.len()
        );
        let acc_doc = format!("The operations of the `{tag}` area ([`{ty}`]).");
        out.extend(quote! {
            #[doc = #doc]
            #[derive(Clone, Copy)]
            pub struct #ty<'a> {
                client: &'a #client,
            }
            impl<'a> #ty<'a> {
                #(#methods)*
            }
        });
        accessors.extend(quote! {
            #[doc = #acc_doc]
            pub fn #acc(&self) -> #ty<'_> {
                #ty { client: self }
            }
        });
    }
    out.extend(quote! {
        impl #client {
            #accessors
        }
    });
    Ok(out)
}

/// `X` of a `Vec<X>`.
fn vec_item(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Vec" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

/// `paginate()` on every builder of a paged list (setters `page` and `per_page`, a `Vec` reply):
/// [`crate::paginate::paginate`] over the builder as it is set, so that
/// `client.channels().get_channel_members(id).paginate().try_collect().await?` reads every page.
/// Gives the code and the number of builders.
pub fn paginators(file: &syn::File) -> (TokenStream, usize) {
    let mut out = TokenStream::new();
    let mut count = 0;
    for (name, imp) in crate::builder_impls(file) {
        let fns: BTreeSet<String> = imp
            .items
            .iter()
            .filter_map(|it| match it {
                syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
                _ => None,
            })
            .collect();
        if !fns.contains("page") || !fns.contains("per_page") || fns.contains("paginate") {
            continue;
        }
        let Some(item) = crate::send_type(imp).as_ref().and_then(vec_item) else {
            continue;
        };
        count += 1;
        out.extend(quote! {
            impl<'a> crate::generated::builder::#name<'a> {
                /// Every item of every page, as one stream ([`crate::paginate::Paginate`]: `next()`,
                /// `try_collect()`, and its `per_page`, `max_pages` and `page_limit` settings),
                /// each page requested with this builder's other parameters as they are set.
                pub fn paginate(
                    self,
                ) -> crate::paginate::Paginate<
                    impl FnMut(u32, u32) -> crate::paginate::PageFuture<'a, #item> + Unpin + 'a,
                    crate::paginate::PageFuture<'a, #item>,
                    #item,
                > {
                    crate::paginate::paginate(move |page, per_page| {
                        let request = self.clone().page(page).per_page(per_page);
                        ::std::boxed::Box::pin(request.send()) as crate::paginate::PageFuture<'a, #item>
                    })
                }
            }
        });
    }
    (
        quote! {
            #[allow(unused_imports)]
            use crate::generated::types;
            #out
        },
        count,
    )
}
