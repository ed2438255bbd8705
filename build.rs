//! Turns the vendored spec (`openapi/mattermost-v4.json`, written by `cargo xtask regen`) into Rust
//! with progenitor: the builder interface, tags merged (an operation with two tags stays one method),
//! the inner type `crate::client::Inner`, and hooks implemented by hand in `src/hooks.rs`. The
//! output goes to `OUT_DIR` and is included by `src/generated.rs`; the raw twins of every operation
//! by `src/raw.rs`, the blocking twins by `src/blocking.rs`, the spec sweep by
//! `tests/live_sweep.rs`. All of it is built as `quote!` token streams, parsed with syn and printed
//! with prettyplease.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Literal, TokenStream};
use quote::quote;

#[path = "build/api.rs"]
mod api;

type BoxError = Box<dyn std::error::Error>;

const SPEC: &str = "openapi/mattermost-v4.json";
const FEATURES: &str = "openapi/features.toml";
/// The hand-written raw request builder, whose blocking twin is generated.
const RAW: &str = "src/raw.rs";

/// Operations the hand-written layer calls: generated whatever areas are enabled.
const ALWAYS_OPS: [&str; 12] = [
    "UsersLogin",
    "UsersLogout",
    "GetUser",
    "CreateUpload",
    // src/bot.rs
    "CreatePost",
    "CreatePostEphemeral",
    "GetPost",
    "PatchPost",
    "SaveReaction",
    "GetUserByUsername",
    "GetUserByEmail",
    "GetChannelByNameForTeamName",
];
/// Types the hand-written layer names (the websocket's event payloads among them): generated
/// whatever areas are enabled.
const ALWAYS_SCHEMAS: [&str; 28] = [
    "User",
    "Post",
    "Reaction",
    "Channel",
    "ChannelMember",
    "Team",
    "Preference",
    "AppError",
    "StatusOK",
    "FileInfo",
    "UploadSession",
    "PluginManifest",
    "Emoji",
    "MessageAttachment",
    "PostPriority",
    "ChannelBookmarkWithFileInfo",
    "Draft",
    "Group",
    "GroupMember",
    "PluginStatus",
    "PostAcknowledgement",
    "PropertyField",
    "Role",
    "ScheduledPost",
    "SidebarCategoryWithChannels",
    "TeamMember",
    "UpdateChannelBookmarkResponse",
    "UserThread",
];

/// `openapi/features.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Features {
    /// Each area feature with the operation tags it brings in.
    areas: BTreeMap<String, Vec<String>>,
}

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed={FEATURES}");
    println!("cargo:rerun-if-changed={RAW}");
    println!("cargo:rerun-if-changed=build/api.rs");
    if let Err(e) = generate() {
        // A build script reports failure by panicking; the error names the file it concerns.
        panic!("generating the client: {e}");
    }
}

/// Reads one of the build's inputs; a failure names the file (and says that a published package
/// must list it in `include`), not just the OS error.
fn read(path: &str) -> Result<String, BoxError> {
    std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read {path} ({e}); it is an input of build.rs, so the package's `include` \
             list in Cargo.toml must name it"
        )
        .into()
    })
}

/// Whether the crate is built with `feature` (cargo's `CARGO_FEATURE_*` variable).
fn feature(feature: &str) -> bool {
    let var = format!("CARGO_FEATURE_{}", feature.to_uppercase().replace('-', "_"));
    std::env::var_os(var).is_some()
}

/// Prints generated tokens as a Rust file (one way to emit code: syn parses, prettyplease prints).
fn unparse(tokens: TokenStream) -> Result<String, syn::Error> {
    Ok(prettyplease::unparse(&syn::parse2(tokens)?))
}

/// Writes `code` to `OUT_DIR/name`.
fn write(out_dir: &Path, name: &str, code: &str) -> Result<(), BoxError> {
    let path = out_dir.join(name);
    std::fs::write(&path, code).map_err(|e| format!("cannot write {}: {e}", path.display()).into())
}

fn generate() -> Result<(), BoxError> {
    let text = read(SPEC)?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{SPEC} is not valid JSON: {e}"))?;
    let features: Features = toml::from_str(&read(FEATURES)?)
        .map_err(|e| format!("{FEATURES} is not a valid area map: {e}"))?;
    select_areas(&mut value, &features).map_err(|e| format!("{FEATURES}: {e}"))?;
    let spec: openapiv3::OpenAPI = serde_json::from_value(value)?;

    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type("crate::client::Inner".parse()?)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("PartialEq");
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator.generate_tokens(&spec)?;
    let (tokens, checked) = check_path_params(tokens)?;
    if checked == 0 && !spec.paths.paths.is_empty() {
        return Err("no path parameter was found to check (did progenitor change?)".into());
    }
    let mut file: syn::File = syn::parse2(tokens)?;
    let sends = one_error_type(&mut file);
    if sends == 0 && !spec.paths.paths.is_empty() {
        return Err(
            "no builder `send()` was found to give matterapi's error (did progenitor change?)"
                .into(),
        );
    }

    let spec_value = serde_json::to_value(&spec)?;
    let ops = api::operations(&spec_value);
    if api::optional_setters(&mut file) == 0 && !spec.paths.paths.is_empty() {
        return Err("no optional setter of a typify builder was found (did typify change?)".into());
    }
    api::constructors(&mut file);
    let areas = api::handles(&file, &ops, api::Side::Async)?;
    let blocking_areas = api::handles(&file, &ops, api::Side::Blocking)?;
    api::document(&mut file, &ops, &spec_value);

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let generated = prettyplease::unparse(&file);
    // `regress` (typify's check of a string `pattern`) is a dependency only of the areas whose
    // schemas have one (see Cargo.toml): a pattern elsewhere must be named there, not fail to link.
    if generated.contains("regress::") && !feature("plugins") {
        return Err(
            "a schema with a string `pattern` is now outside the `plugins` area: add \
                    `dep:regress` to its area's feature in Cargo.toml"
                .into(),
        );
    }
    write(&out_dir, "generated.rs", &generated)?;
    write(&out_dir, "areas.rs", &unparse(areas)?)?;
    let (paginators, _) = api::paginators(&file);
    write(&out_dir, "paginators.rs", &unparse(paginators)?)?;
    write(&out_dir, "raw_sends.rs", &unparse(raw_sends(&file))?)?;
    // The sweep is for `tests/live_sweep.rs` only: the internal `__sweep` feature, enabled for the
    // crate's own test builds by its dev-dependency on itself, asks for it.
    let sweep = if feature("__sweep") {
        sweep(&spec)?
    } else {
        quote! {
            compile_error!("sweep.rs is generated only with the internal `__sweep` feature (tests)");
        }
    };
    write(&out_dir, "sweep.rs", &unparse(sweep)?)?;
    // Without the `blocking` feature the twins are not compiled; empty files keep the includes simple.
    let (blocking, blocking_raw) = if feature("blocking") {
        let raw = syn::parse_file(&read(RAW)?).map_err(|e| format!("{RAW}: {e}"))?;
        let raw_twin = blocking_raw_twin(&raw).map_err(|e| format!("{RAW}: {e}"))?;
        (unparse(blocking_twins(&file))?, unparse(raw_twin)?)
    } else {
        (String::new(), String::new())
    };
    write(&out_dir, "blocking.rs", &blocking)?;
    let blocking_areas = if feature("blocking") {
        unparse(blocking_areas)?
    } else {
        String::new()
    };
    write(&out_dir, "blocking_areas.rs", &blocking_areas)?;
    write(&out_dir, "blocking_raw.rs", &blocking_raw)?;
    Ok(())
}

/// Every path parameter of the generated operations checked before it is sent: progenitor builds
/// each URL with `encode_path(&x.to_string())`, rewritten here into
/// `crate::request::path_param("x", &x.to_string())?`, which refuses a value that would change the
/// path (`..`, `/`, ...) with an error naming the parameter. Any other form of `encode_path(...)`
/// fails the build, so that no path parameter goes unchecked. Gives the number rewritten.
fn check_path_params(tokens: TokenStream) -> Result<(TokenStream, usize), String> {
    use proc_macro2::{Delimiter, Group, TokenTree};
    /// `x` of `&x.to_string()`.
    fn param_of(args: &TokenStream) -> Option<String> {
        let tts: Vec<TokenTree> = args.clone().into_iter().collect();
        match tts.as_slice() {
            [
                TokenTree::Punct(amp),
                TokenTree::Ident(name),
                TokenTree::Punct(dot),
                TokenTree::Ident(call),
                TokenTree::Group(empty),
            ] if amp.as_char() == '&'
                && dot.as_char() == '.'
                && call == "to_string"
                && empty.delimiter() == Delimiter::Parenthesis
                && empty.stream().is_empty() =>
            {
                Some(name.to_string().trim_start_matches("r#").to_owned())
            }
            _ => None,
        }
    }
    fn walk(tokens: TokenStream, count: &mut usize) -> Result<TokenStream, String> {
        let mut out = TokenStream::new();
        let mut iter = tokens.into_iter().peekable();
        while let Some(tt) = iter.next() {
            match tt {
                TokenTree::Ident(ident) if ident == "encode_path" => {
                    let args = match iter.peek() {
                        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                            g.stream()
                        }
                        // The `use` of the function, not a call.
                        _ => {
                            out.extend([TokenTree::Ident(ident)]);
                            continue;
                        }
                    };
                    let name = param_of(&args).ok_or_else(|| {
                        format!("unexpected path parameter form: encode_path({args})")
                    })?;
                    iter.next();
                    *count += 1;
                    out.extend(quote! { crate::request::path_param(#name, #args)? });
                }
                TokenTree::Group(g) => {
                    let mut inner = Group::new(g.delimiter(), walk(g.stream(), count)?);
                    inner.set_span(g.span());
                    out.extend([TokenTree::Group(inner)]);
                }
                other => out.extend([other]),
            }
        }
        Ok(out)
    }
    let mut count = 0;
    let out = walk(tokens, &mut count)?;
    Ok((out, count))
}

/// Keeps the operations of the enabled area features (and the hand-written layer's), then prunes the
/// component schemas nothing kept refers to.
fn select_areas(spec: &mut serde_json::Value, features: &Features) -> Result<(), BoxError> {
    use serde_json::Value;
    let mut area_of: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, tags) in &features.areas {
        for tag in tags {
            if let Some(other) = area_of.insert(tag, name) {
                return Err(format!("tag `{tag}` is in two areas, `{other}` and `{name}`").into());
            }
        }
    }
    let enabled: BTreeSet<&str> = features
        .areas
        .keys()
        .map(String::as_str)
        .filter(|name| feature(name))
        .collect();
    if enabled.len() == features.areas.len() {
        return Ok(());
    }
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut kept_refs = String::new();
    if let Some(Value::Object(paths)) = spec.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let Value::Object(item) = item else { continue };
            let mut gone = Vec::new();
            for (method, op) in item.iter() {
                if !methods.contains(&method.as_str()) {
                    continue;
                }
                let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
                let tags: Vec<&str> = op
                    .get("tags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                for t in &tags {
                    if !area_of.contains_key(t) {
                        return Err(format!(
                            "tag `{t}` of {method} {path} has no area in {FEATURES}"
                        )
                        .into());
                    }
                }
                let keep =
                    ALWAYS_OPS.contains(&id) || tags.iter().any(|t| enabled.contains(area_of[t]));
                if keep {
                    kept_refs.push_str(&op.to_string());
                } else {
                    gone.push(method.clone());
                }
            }
            for m in gone {
                item.remove(&m);
            }
        }
        paths.retain(|_, item| {
            item.as_object()
                .is_some_and(|m| m.keys().any(|k| methods.contains(&k.as_str())))
        });
    }
    // Schemas reachable from the kept operations and the always-kept types.
    let schemas = spec
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    let mut todo: Vec<String> = ALWAYS_SCHEMAS.iter().map(|s| s.to_string()).collect();
    let refs = |text: &str, out: &mut Vec<String>| {
        for part in text.split("#/components/schemas/").skip(1) {
            out.push(part.split('"').next().unwrap_or("").to_owned());
        }
    };
    refs(&kept_refs, &mut todo);
    let mut reachable = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if reachable.insert(name.clone())
            && let Some(s) = schemas.get(&name)
        {
            refs(&s.to_string(), &mut todo);
        }
    }
    if let Some(Value::Object(s)) = spec.pointer_mut("/components/schemas") {
        s.retain(|name, _| reachable.contains(name));
    }
    Ok(())
}

/// The blocking client's twins of the generated builders and client methods (included by
/// `src/blocking.rs`): each builder wrapped with its setters forwarded (signatures copied from the
/// generated code) and `send()`/`send_raw()`/`send_raw_any_status()` run on the blocking client's
/// runtime; each client method returning a builder, returning its twin.
fn blocking_twins(file: &syn::File) -> TokenStream {
    let mut out = TokenStream::new();
    let mut client_methods = TokenStream::new();
    for (name, imp) in builder_impls(file) {
        let doc = format!("Blocking twin of [`crate::generated::builder::{name}`].");
        let mut methods = TokenStream::new();
        let sends = send_type(imp);
        if let Some(t) = &sends {
            // One exchange (one chain of futures to compile) serves the four ways of sending.
            methods.extend(quote! {
                /// Runs the generated `send()` once on the runtime, the reply kept as `mode` says.
                #[allow(clippy::type_complexity)]
                #[inline]
                fn exchange(
                    self,
                    mode: crate::request::CaptureMode,
                ) -> crate::Result<(
                    ::std::result::Result<ResponseValue<#t>, ::progenitor_client::Error<()>>,
                    Option<crate::request::Captured>,
                )> {
                    self.rt
                        .run(crate::request::with_capture_mode(mode, self.inner.send_generated()))
                        .ok_or(crate::Error::InsideRuntime)
                }
                /// Sends the request and waits for the reply.
                ///
                /// Errors are [`crate::Error`]: the server's error id and request id, the reply's
                /// body kept when it is not a Mattermost error.
                #[inline]
                pub fn send(self) -> crate::error::Result<ResponseValue<#t>> {
                    let (result, _) = self.exchange(crate::request::CaptureMode::Never)?;
                    result.map_err(crate::error::Error::from)
                }
                /// Sends the request; the reply decoded, or untouched when the client
                /// skips response parsing. A failure status is an error either way.
                #[inline]
                pub fn call(self) -> crate::Result<crate::raw::Reply<#t>> {
                    let (result, captured) =
                        self.exchange(crate::request::CaptureMode::WhenSkipping)?;
                    crate::raw::reply_from_parts(result, captured)
                }
                /// Sends the request; the reply untouched, a failure status an error.
                #[inline]
                pub fn send_raw(self) -> crate::Result<crate::RawResponse> {
                    self.send_raw_any_status()?.error_for_status()
                }
                /// Sends the request; the reply untouched, whatever its status.
                #[inline]
                pub fn send_raw_any_status(self) -> crate::Result<crate::RawResponse> {
                    let (result, captured) = self.exchange(crate::request::CaptureMode::Always)?;
                    crate::raw::raw_from_parts(result, captured)
                }
            });
        } else {
            methods.extend(quote! {
                /// Sends the request; the reply untouched, a failure status an error.
                pub fn send_raw(self) -> crate::Result<crate::RawResponse> {
                    self.rt.block_on_matterapi(self.inner.send_raw())
                }
                /// Sends the request; the reply untouched, whatever its status.
                pub fn send_raw_any_status(self) -> crate::Result<crate::RawResponse> {
                    self.rt.block_on_matterapi(self.inner.send_raw_any_status())
                }
            });
        }
        for it in &imp.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            if !matches!(f.vis, syn::Visibility::Public(_)) || f.sig.ident == "new" {
                continue;
            }
            if sends.is_some() && f.sig.ident == "send" {
                continue;
            }
            let ident = &f.sig.ident;
            let generics = &f.sig.generics;
            let where_clause = &f.sig.generics.where_clause;
            if f.sig.asyncness.is_some() {
                let output = &f.sig.output;
                methods.extend(quote! {
                    /// Sends the request and waits for the reply.
                    pub fn #ident(self) #output { self.rt.block_on_matterapi(self.inner.#ident()) }
                });
                continue;
            }
            let args: Vec<_> = f
                .sig
                .inputs
                .iter()
                .filter_map(|a| match a {
                    syn::FnArg::Typed(t) => Some(t),
                    _ => None,
                })
                .collect();
            let arg_names: Vec<_> = args.iter().map(|t| &t.pat).collect();
            let arg_types: Vec<_> = args.iter().map(|t| &t.ty).collect();
            let docs = f.attrs.iter().filter(|a| a.path().is_ident("doc"));
            methods.extend(quote! {
                #(#docs)*
                #[allow(missing_docs)]
                pub fn #ident #generics (self, #(#arg_names: #arg_types),*) -> Self #where_clause {
                    Self { inner: self.inner.#ident(#(#arg_names),*), rt: self.rt }
                }
            });
        }
        out.extend(quote! {
            #[doc = #doc]
            #[derive(Debug)]
            pub struct #name<'a> {
                pub(in crate::blocking) inner: crate::generated::builder::#name<'a>,
                pub(in crate::blocking) rt: &'a super::Runner,
            }
            impl<'a> #name<'a> {
                #methods
            }
        });
    }
    for (method, builder) in api::client_methods(file) {
        let ident = syn::Ident::new(&method, proc_macro2::Span::call_site());
        let name = syn::Ident::new(&builder, proc_macro2::Span::call_site());
        let doc = format!("Blocking twin of [`crate::Client::{ident}`].");
        client_methods.extend(quote! {
            #[doc = #doc]
            pub fn #ident(&self) -> builder::#name<'_> {
                builder::#name { inner: self.inner.#ident(), rt: &self.rt }
            }
        });
    }
    quote! {
        /// Blocking twins of the generated builders.
        pub mod builder {
            #[allow(unused_imports)]
            use crate::generated::{types, ByteStream, Error, ResponseValue};
            #out
        }
        impl Client {
            #client_methods
        }
    }
}

/// `T` of a generated `send()`'s `Result<ResponseValue<T>, Error<()>>`.
fn send_output(sig: &syn::Signature) -> Option<syn::Type> {
    fn first_arg(ty: &syn::Type) -> Option<&syn::Type> {
        let syn::Type::Path(p) = ty else { return None };
        let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
            return None;
        };
        match args.args.first()? {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }
    }
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    first_arg(first_arg(ty)?).cloned()
}

/// The generated builders' impl blocks (module `builder`), with each builder's name.
fn builder_impls(file: &syn::File) -> Vec<(syn::Ident, &syn::ItemImpl)> {
    let mut out = Vec::new();
    for item in &file.items {
        let syn::Item::Mod(m) = item else { continue };
        let (true, Some((_, items))) = (m.ident == "builder", &m.content) else {
            continue;
        };
        for item in items {
            if let syn::Item::Impl(imp) = item
                && let syn::Type::Path(tp) = &*imp.self_ty
                && let Some(last) = tp.path.segments.last()
            {
                out.push((last.ident.clone(), imp));
            }
        }
    }
    out
}

/// `T` of a builder's `send()` (its `ResponseValue<T>`).
fn send_type(imp: &syn::ItemImpl) -> Option<syn::Type> {
    imp.items.iter().find_map(|it| match it {
        syn::ImplItem::Fn(f) if f.sig.ident == "send" => send_output(&f.sig),
        _ => None,
    })
}

/// Every builder's `send()` returns `matterapi::Result`: progenitor's `send()` (whose error is
/// `progenitor_client::Error<()>`) is renamed `send_generated()` and kept crate-private, and a
/// public `send()` converts its error into [`matterapi::Error`] (the server's error id, request id
/// and body). The count of builders changed is returned.
fn one_error_type(file: &mut syn::File) -> usize {
    let mut changed = 0;
    for item in &mut file.items {
        let syn::Item::Mod(m) = item else { continue };
        let (true, Some((_, items))) = (m.ident == "builder", &mut m.content) else {
            continue;
        };
        for item in items.iter_mut() {
            let syn::Item::Impl(imp) = item else { continue };
            let Some(at) = imp.items.iter().position(|it| {
                matches!(it, syn::ImplItem::Fn(f) if f.sig.ident == "send" && f.sig.asyncness.is_some())
            }) else {
                continue;
            };
            let syn::ImplItem::Fn(f) = &mut imp.items[at] else {
                continue;
            };
            let Some(t) = send_output(&f.sig) else {
                continue;
            };
            let docs: Vec<syn::Attribute> = f
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .cloned()
                .collect();
            f.sig.ident = syn::Ident::new("send_generated", f.sig.ident.span());
            f.vis = syn::parse_quote!(pub(crate));
            f.attrs.retain(|a| !a.path().is_ident("doc"));
            f.attrs.push(syn::parse_quote!(
                #[doc = " progenitor's `send()`, with its own error type (see `send()`)."]
            ));
            let public: syn::ImplItem = syn::parse_quote! {
                #(#docs)*
                ///
                /// Errors are [`crate::Error`]: the server's error id and request id, the reply's
                /// body kept when it is not a Mattermost error.
                pub async fn send(self) -> crate::error::Result<ResponseValue<#t>> {
                    self.send_generated().await.map_err(crate::error::Error::from)
                }
            };
            imp.items.insert(at, public);
            changed += 1;
        }
    }
    changed
}

/// `send_raw()`, `send_raw_any_status()` and `call()` on every operation's builder (included by
/// `src/raw.rs`): the builder's own `send()`, its reply captured untouched by the client's hooks
/// (for `call()`, when the client's `skip_response_parsing` is on).
fn raw_sends(file: &syn::File) -> TokenStream {
    let impls = builder_impls(file)
        .into_iter()
        .filter_map(|(name, imp)| Some((name, send_type(imp)?)))
        .map(|(name, t)| {
            quote! {
                impl crate::generated::builder::#name<'_> {
                    /// Sends the request and returns the reply untouched; a failure status is an error.
                    pub async fn send_raw(self) -> crate::Result<crate::raw::RawResponse> {
                        crate::raw::capture_raw_checked(self.send_generated()).await
                    }
                    /// Sends the request and returns the reply untouched, whatever its status.
                    pub async fn send_raw_any_status(self) -> crate::Result<crate::raw::RawResponse> {
                        crate::raw::capture_raw(self.send_generated()).await
                    }
                    /// Sends the request; the reply decoded, or untouched when the client skips response
                    /// parsing (`skip_response_parsing`). A failure status is an error either way.
                    pub async fn call(self) -> crate::Result<crate::raw::Reply<#t>> {
                        crate::raw::reply(self.send_generated()).await
                    }
                }
            }
        });
    quote! {
        // The reply types as the generated code names them.
        #[allow(unused_imports)]
        use crate::generated::{types, ByteStream};
        #(#impls)*
    }
}

/// The spec fidelity sweep's calls (used by `tests/live_sweep.rs`): for every GET operation, one typed
/// call through the generated client, its required parameters taken by name from a context map, the
/// reply decoded into the generated type. An operation whose parameters the context cannot fill is
/// reported as skipped.
fn sweep(spec: &openapiv3::OpenAPI) -> Result<TokenStream, BoxError> {
    use heck::ToSnakeCase;
    use openapiv3::{ParameterSchemaOrContent, ReferenceOr, SchemaKind, Type};
    const KEYWORDS: [&str; 12] = [
        "type", "ref", "self", "box", "match", "mod", "move", "use", "where", "in", "fn", "impl",
    ];
    let ident = |name: &str| -> Result<syn::Ident, BoxError> {
        let s = name
            .replace(|c: char| !c.is_alphanumeric() && c != '_', "-")
            .to_snake_case();
        let s = if KEYWORDS.contains(&s.as_str()) {
            format!("{s}_")
        } else {
            s
        };
        syn::parse_str(&s).map_err(|e| format!("`{name}` gives no method name `{s}`: {e}").into())
    };
    let mut blocks = Vec::new();
    for (path, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let Some(op) = &item.get else { continue };
        let Some(id) = &op.operation_id else { continue };
        let mut names = Vec::new();
        let mut call = {
            let method = ident(id)?;
            quote!(client.#method())
        };
        for p in item.parameters.iter().chain(&op.parameters) {
            let ReferenceOr::Item(p) = p else { continue };
            let data = p.parameter_data_ref();
            if !data.required {
                continue;
            }
            let i = Literal::usize_unsuffixed(names.len());
            let value = match &data.format {
                ParameterSchemaOrContent::Schema(ReferenceOr::Item(s)) => match &s.schema_kind {
                    SchemaKind::Type(Type::Integer(_)) => {
                        quote!(values[#i].parse::<i64>().unwrap_or(0))
                    }
                    SchemaKind::Type(Type::Boolean(_)) => quote!(values[#i] == "true"),
                    _ => quote!(values[#i].as_str()),
                },
                _ => quote!(values[#i].as_str()),
            };
            let setter = ident(&data.name)?;
            call = quote!(#call.#setter(#value));
            names.push(data.name.as_str());
        }
        let route = format!("GET {path}");
        blocks.push(quote! {
            {
                let (op, route) = (#id, #route);
                let names: &[&str] = &[#(#names),*];
                let values: Vec<String> = names.iter().filter_map(|n| ctx.get(*n).cloned()).collect();
                if values.len() == names.len() {
                    let result = #call.send().await;
                    rows.push(SweepRow::new(op, route, result.map(|_| ()).map_err(matterapi::Error::from)));
                } else {
                    rows.push(SweepRow::skipped(op, route, names.iter().filter(|n| !ctx.contains_key(**n)).copied().collect()));
                }
            }
        });
    }
    Ok(quote! {
        #[allow(clippy::all, unused_mut)]
        pub async fn sweep(
            client: &matterapi::Client,
            ctx: &std::collections::HashMap<String, String>,
        ) -> Vec<SweepRow> {
            let mut rows = Vec::new();
            #(#blocks)*
            rows
        }
    })
}

/// The blocking twin of the hand-written raw request builder (included by `src/blocking.rs`):
/// `BlockingRawRequest`, made from the `impl RawRequest` blocks of `src/raw.rs`. Each setter (`self`
/// in, `Self` out) is forwarded with its signature copied; each async terminal runs on the blocking
/// client's runner, its docs copied. The twin lives in a module that sees raw.rs's items and repeats
/// its `use`s, so that the copied signatures name the same types.
fn blocking_raw_twin(raw: &syn::File) -> Result<TokenStream, String> {
    let mut uses = Vec::new();
    let mut impls = Vec::new();
    let mut must_use = None;
    for item in &raw.items {
        match item {
            syn::Item::Use(u) => {
                if let syn::UseTree::Path(p) = &u.tree
                    && (p.ident == "self" || p.ident == "super")
                {
                    return Err(format!("a relative `use {}` cannot be repeated", p.ident));
                }
                uses.push(u);
            }
            syn::Item::Struct(s) if s.ident == "RawRequest" => {
                must_use = s.attrs.iter().find(|a| a.path().is_ident("must_use"));
            }
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                if let syn::Type::Path(tp) = &*imp.self_ty
                    && let Some(last) = tp.path.segments.last()
                    && last.ident == "RawRequest"
                {
                    impls.push((imp, &last.arguments));
                }
            }
            _ => {}
        }
    }
    let mut twin_impls = Vec::new();
    for (imp, args) in impls {
        let mut methods = Vec::new();
        for it in &imp.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            if !matches!(f.vis, syn::Visibility::Public(_)) {
                continue;
            }
            methods.push(raw_twin_method(f)?);
        }
        let generics = &imp.generics;
        let where_clause = &imp.generics.where_clause;
        twin_impls.push(quote! {
            impl #generics BlockingRawRequest #args #where_clause {
                #(#methods)*
            }
        });
    }
    if twin_impls.is_empty() {
        return Err("no `impl RawRequest` to make the blocking twin of".into());
    }
    Ok(quote! {
        /// `BlockingRawRequest`, with the names of `src/raw.rs` in scope.
        #[allow(unused_imports, clippy::all)]
        mod raw_twin {
            use super::Runner;
            // What raw.rs defines, then what it imports.
            use crate::raw::*;
            #(#uses)*
            /// The blocking twin of [`RawRequest`].
            #[derive(Debug)]
            #must_use
            pub struct BlockingRawRequest<'a> {
                pub(in crate::blocking) inner: RawRequest<'a>,
                pub(in crate::blocking) rt: &'a Runner,
            }
            #(#twin_impls)*
        }
        pub use raw_twin::BlockingRawRequest;
    })
}

/// One method of `BlockingRawRequest`: a setter of `RawRequest` forwarded, or an async terminal run
/// on the runner. Any other public method is an error: it would be missing from the twin.
fn raw_twin_method(f: &syn::ImplItemFn) -> Result<TokenStream, String> {
    let sig = &f.sig;
    let ident = &sig.ident;
    let by_value = sig
        .receiver()
        .is_some_and(|r| r.reference.is_none() && r.colon_token.is_none());
    let setter = matches!(&sig.output, syn::ReturnType::Type(_, ty)
        if matches!(&**ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("Self")));
    let (names, types): (Vec<_>, Vec<_>) = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => Some(t),
            syn::FnArg::Receiver(_) => None,
        })
        .map(|t| match &*t.pat {
            syn::Pat::Ident(p) if p.subpat.is_none() => Ok((&p.ident, &t.ty)),
            _ => Err(format!(
                "RawRequest::{ident}: an argument is not a plain name"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
    let generics = &sig.generics;
    let where_clause = &sig.generics.where_clause;
    if by_value && sig.asyncness.is_some() {
        let docs = f.attrs.iter().filter(|a| a.path().is_ident("doc"));
        let output = &sig.output;
        Ok(quote! {
            #(#docs)*
            pub fn #ident #generics (self, #(#names: #types),*) #output #where_clause {
                self.rt.block_on_matterapi(self.inner.#ident(#(#names),*))
            }
        })
    } else if by_value && setter {
        let doc = format!(" See [`RawRequest::{ident}`].");
        Ok(quote! {
            #[doc = #doc]
            pub fn #ident #generics (self, #(#names: #types),*) -> Self #where_clause {
                Self { inner: self.inner.#ident(#(#names),*), rt: self.rt }
            }
        })
    } else {
        Err(format!(
            "RawRequest::{ident} is neither a setter (`self` in, `Self` out) nor an async method \
             taking `self`, so build.rs cannot make its blocking twin"
        ))
    }
}
