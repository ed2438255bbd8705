//! The route registrations of the server's `channels/api4` package, read from its Go source.
//!
//! The server registers each route with gorilla/mux as
//! `api.BaseRoutes.X.Handle("/path", api.Wrapper(handler)).Methods(http.MethodGet, ...)`, where
//! `BaseRoutes.X` is a subrouter assigned in `api.go`'s `Init` (public) or `InitLocal` (the
//! local-mode socket) as `api.BaseRoutes.Y.PathPrefix("/prefix").Subrouter()`. This reader strips
//! comments, resolves every prefix of both functions, finds which `Init*` functions each of them
//! calls, and gives each registration its full path, methods and router.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};

/// One registered route, its path parameters normalised to `{}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The full path from the server root, e.g. `/api/v4/users/{}`.
    pub path: String,
    /// Registered on the local-mode router (`InitLocal`) rather than the public one (`Init`).
    pub local: bool,
}

/// A Go source file: its name (for messages) and text.
pub struct GoFile {
    pub name: String,
    pub text: String,
}

/// `text` without `//` and `/* */` comments; string and rune literals are kept as they are.
pub fn strip_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut start = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                out.push_str(&text[start..i]);
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                start = i;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                out.push_str(&text[start..i]);
                let end = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                // Keep the line count, for nothing but readable positions.
                out.extend(text[i..end].chars().filter(|&c| c == '\n'));
                i = end;
                start = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[start.min(text.len())..]);
    out
}

/// The value of the Go string literal at the start of `s` (interpreted `"..."` or raw `` `...` ``)
/// and the rest of `s` after it.
fn string_literal(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('`') {
        let end = rest.find('`')?;
        return Some((rest[..end].to_owned(), &rest[end + 1..]));
    }
    let rest = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &rest[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            '\n' => return None,
            c => out.push(c),
        }
    }
    None
}

/// The index just after the `)` closing the `(` at `open` (strings skipped).
fn close_paren(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'"' | b'\'' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The bodies of the methods `func (api *API) Name(...)` and functions `func Name(...)` of a
/// (comment-free) file, by name: the text up to the next top-level `func`.
pub fn functions(text: &str) -> BTreeMap<String, String> {
    let mut starts: Vec<(usize, String)> = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find("\nfunc ") {
        let pos = at + i + 1;
        let mut head = text[pos + 5..].trim_start();
        if head.starts_with('(') {
            head = head.find(')').map_or("", |e| head[e + 1..].trim_start());
        }
        let name: String = head
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        starts.push((pos, name));
        at = pos + 5;
    }
    let mut out = BTreeMap::new();
    for (n, (pos, name)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(text.len(), |(p, _)| *p);
        out.insert(name.clone(), text[*pos..end].to_owned());
    }
    out
}

/// The names `X` of the `api.X(` calls in `body`.
fn api_calls(body: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut at = 0;
    while let Some(i) = body[at..].find("api.") {
        let from = at + i + 4;
        let name: String = body[from..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if body[from + name.len()..].starts_with('(') {
            out.insert(name);
        }
        at = from;
    }
    out
}

/// The prefix of every `api.BaseRoutes.X` assigned in `body` (an `Init` function), unnormalised.
/// `consts` gives the values of the constants used as prefixes (`model.APIURLSuffix`).
pub fn prefixes(body: &str, consts: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for line in body.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("api.BaseRoutes.") else {
            continue;
        };
        let Some((name, value)) = rest.split_once('=') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.contains('.') || name.contains('(') {
            continue;
        }
        // `srv.Router` / `srv.LocalRouter` (the root), or `<base>.PathPrefix(<p>).Subrouter()`.
        let prefix = match value.split_once(".PathPrefix(") {
            None if !value.contains('(') => String::new(),
            None => bail!("cannot read the route prefix `{line}`"),
            Some((base, arg)) => {
                let base_prefix = match base.strip_prefix("api.BaseRoutes.") {
                    Some(b) => out
                        .get(b)
                        .with_context(|| format!("`{line}`: {b} is used before it is assigned"))?
                        .clone(),
                    None => String::new(),
                };
                let arg = arg
                    .strip_suffix(").Subrouter()")
                    .with_context(|| format!("cannot read the route prefix `{line}`"))?;
                let p = match string_literal(arg) {
                    Some((p, rest)) if rest.trim().is_empty() => p,
                    _ => consts
                        .get(arg.trim())
                        .with_context(|| format!("`{line}`: unknown constant {}", arg.trim()))?
                        .clone(),
                };
                base_prefix + &p
            }
        };
        out.insert(name.to_owned(), prefix);
    }
    Ok(out)
}

/// One `api.BaseRoutes.X.Handle(...)` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The function it is in.
    pub func: String,
    /// `X`.
    pub base: String,
    /// The path argument, unnormalised.
    pub path: String,
    pub methods: Vec<String>,
}

/// Every registration of a (comment-free) file.
pub fn registrations(file: &str, text: &str) -> Result<Vec<Registration>> {
    let mut out = Vec::new();
    for (func, body) in functions(text) {
        const NEEDLE: &str = "api.BaseRoutes.";
        let mut at = 0;
        while let Some(i) = body[at..].find(NEEDLE) {
            let from = at + i + NEEDLE.len();
            at = from;
            let base: String = body[from..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let after = &body[from + base.len()..];
            if !after.starts_with(".Handle(") {
                continue;
            }
            let open = from + base.len() + ".Handle".len();
            let place = || {
                let line = body[..open].lines().count();
                format!(
                    "{file}: {func}, `api.BaseRoutes.{base}.Handle` (line {line} of the function)"
                )
            };
            let (path, _) = string_literal(&body[open + 1..])
                .with_context(|| format!("{}: the path is not a string literal", place()))?;
            let close = close_paren(&body, open)
                .with_context(|| format!("{}: unbalanced parentheses", place()))?;
            let rest = body[close..].trim_start();
            let Some(args) = rest.strip_prefix(".Methods(") else {
                bail!("{}: no .Methods(...) after the route", place());
            };
            let end = args
                .find(')')
                .with_context(|| format!("{}: unclosed .Methods(", place()))?;
            let mut methods = Vec::new();
            for a in args[..end].split(',') {
                let a = a.trim();
                if a.is_empty() {
                    continue;
                }
                let m = match a.strip_prefix("http.Method") {
                    Some(m) => m.to_uppercase(),
                    None => match string_literal(a) {
                        Some((m, _)) => m.to_uppercase(),
                        None => bail!("{}: cannot read the method `{a}`", place()),
                    },
                };
                methods.push(m);
            }
            if methods.is_empty() {
                bail!("{}: .Methods() names no method", place());
            }
            out.push(Registration {
                func: func.clone(),
                base,
                path,
                methods,
            });
            at = close;
        }
    }
    Ok(out)
}

/// A route path with every `{name}` / `{name:regex}` made `{}`. A parameter whose pattern is a
/// choice of plain words (`{syncable_type:teams|channels}`, `{websocket:websocket(?:\/)?}`) is
/// no parameter: the path is given once per word.
pub fn normalise(path: &str) -> Vec<String> {
    let mut outs = vec![String::new()];
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            for o in &mut outs {
                o.push(c);
            }
            continue;
        }
        let mut depth = 1;
        let mut inner = String::new();
        for c in chars.by_ref() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            inner.push(c);
        }
        let words = inner.split_once(':').and_then(|(_, re)| literal_words(re));
        match words {
            Some(words) => {
                outs = outs
                    .iter()
                    .flat_map(|o| words.iter().map(move |w| format!("{o}{w}")))
                    .collect();
            }
            None => {
                for o in &mut outs {
                    o.push_str("{}");
                }
            }
        }
    }
    outs
}

/// The words a pattern matches when it is `word|word|...` (an optional trailing slash allowed).
fn literal_words(re: &str) -> Option<Vec<String>> {
    let re = re
        .strip_suffix(r"(?:\/)?")
        .or_else(|| re.strip_suffix("(?:/)?"))
        .unwrap_or(re);
    let words: Vec<String> = re.split('|').map(str::to_owned).collect();
    words
        .iter()
        .all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .then_some(words)
}

/// The routes of the api4 package: `api_go` is `api.go` (with `Init` and `InitLocal`), `files`
/// every non-test file of the package (api.go included), `consts` the constants the prefixes use.
pub fn routes(
    api_go: &str,
    files: &[GoFile],
    consts: &BTreeMap<String, String>,
) -> Result<BTreeSet<Route>> {
    let api_go = strip_comments(api_go);
    let api_funcs = functions(&api_go);
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    let mut regs = Vec::new();
    for f in files {
        let text = strip_comments(&f.text);
        for (name, body) in functions(&text) {
            bodies.insert(name, body);
        }
        regs.extend(registrations(&f.name, &text)?);
    }
    let mut routers = Vec::new();
    for (init, local) in [("Init", false), ("InitLocal", true)] {
        let body = api_funcs
            .get(init)
            .with_context(|| format!("api.go has no func {init}"))?;
        let prefixes = prefixes(body, consts).with_context(|| format!("in api.go's {init}"))?;
        // The functions `init` reaches through `api.X()` calls (itself included).
        let mut reach = BTreeSet::from([init.to_owned()]);
        let mut todo = vec![init.to_owned()];
        while let Some(f) = todo.pop() {
            for c in bodies.get(&f).map(|b| api_calls(b)).unwrap_or_default() {
                if c != "InitLocal" && bodies.contains_key(&c) && reach.insert(c.clone()) {
                    todo.push(c);
                }
            }
        }
        routers.push((init, local, prefixes, reach));
    }
    let mut out = BTreeSet::new();
    for r in &regs {
        let mut placed = false;
        for (init, local, prefixes, reach) in &routers {
            if !reach.contains(&r.func) {
                continue;
            }
            placed = true;
            let prefix = prefixes.get(&r.base).with_context(|| {
                format!(
                    "{} registers a route on BaseRoutes.{}, which {init} does not assign",
                    r.func, r.base
                )
            })?;
            for path in normalise(&format!("{prefix}{}", r.path)) {
                for m in &r.methods {
                    out.insert(Route {
                        method: m.clone(),
                        path: path.clone(),
                        local: *local,
                    });
                }
            }
        }
        if !placed {
            eprintln!(
                "note: {} registers {} but neither Init nor InitLocal calls it",
                r.func, r.path
            );
        }
    }
    Ok(out)
}

/// The string constants `NAME = "value"` / `NAME = OTHER` of (comment-free or not) Go files,
/// each also under `pkg.NAME`.
pub fn string_consts(pkg: &str, files: &[GoFile]) -> BTreeMap<String, String> {
    let mut raw: BTreeMap<String, String> = BTreeMap::new();
    let mut aliases: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        for line in strip_comments(&f.text).lines() {
            let line = line.trim().trim_start_matches("const ").trim();
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            let name = name.trim();
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            match string_literal(value) {
                Some((v, rest)) if rest.trim().is_empty() => {
                    raw.insert(name.to_owned(), v);
                }
                _ => {
                    let v = value.trim();
                    if !v.is_empty() && v.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        aliases.insert(name.to_owned(), v.to_owned());
                    }
                }
            }
        }
    }
    for (name, target) in aliases {
        if let Some(v) = raw.get(&target).cloned() {
            raw.entry(name).or_insert(v);
        }
    }
    raw.into_iter()
        .flat_map(|(k, v)| [(format!("{pkg}.{k}"), v.clone()), (k, v)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const API_GO: &str = r#"package api4

// Routes are the subrouters.
type Routes struct {
	Root *mux.Router // ''
}

func Init(srv *app.Server) (*API, error) {
	api := &API{srv: srv, BaseRoutes: &Routes{}}
	api.BaseRoutes.Root = srv.Router
	api.BaseRoutes.APIRoot = srv.Router.PathPrefix(model.APIURLSuffix).Subrouter()
	api.BaseRoutes.Users = api.BaseRoutes.APIRoot.PathPrefix("/users").Subrouter()
	api.BaseRoutes.User = api.BaseRoutes.Users.PathPrefix("/{user_id:[A-Za-z0-9]+}").Subrouter()
	// api.BaseRoutes.Gone = api.BaseRoutes.APIRoot.PathPrefix("/gone").Subrouter()
	api.BaseRoutes.Groups = api.BaseRoutes.APIRoot.PathPrefix(`/groups`).Subrouter()

	api.InitUser()
	api.InitGroup()

	if *srv.Config().ServiceSettings.EnableTesting {
		api.BaseRoutes.Root.Handle("/manualtest", api.APIHandler(manualtesting.ManualTest)).Methods(http.MethodGet)
	}
	srv.Router.Handle("/api/v4/{anything:.*}", http.HandlerFunc(api.Handle404))
	InitLocal(srv)
	return api, nil
}

func InitLocal(srv *app.Server) *API {
	api := &API{srv: srv, BaseRoutes: &Routes{}}
	api.BaseRoutes.Root = srv.LocalRouter
	api.BaseRoutes.APIRoot = srv.LocalRouter.PathPrefix(model.APIURLSuffix).Subrouter()
	api.BaseRoutes.Users = api.BaseRoutes.APIRoot.PathPrefix("/users").Subrouter()
	api.BaseRoutes.User = api.BaseRoutes.APIRoot.PathPrefix("/users/{user_id:[A-Za-z0-9]+}").Subrouter()
	api.InitUserLocal()
	return api
}
"#;

    const USER_GO: &str = r#"package api4

func (api *API) InitUser() {
	api.BaseRoutes.Users.Handle("", api.APIHandler(createUser)).Methods(http.MethodPost)
	api.BaseRoutes.User.Handle("", api.APISessionRequired(getUser)).Methods(http.MethodGet, "PUT")
	/* api.BaseRoutes.User.Handle("/old", api.APISessionRequired(old)).Methods(http.MethodGet) */
	api.BaseRoutes.Users.Handle("/login/desktop_token", api.RateLimitedHandler(api.APIHandler(loginWithDesktopToken), model.RateLimitSettings{PerSec: model.NewPointer(2)})).Methods(http.MethodPost)
	api.initUserMore()
}

func (api *API) initUserMore() {
	api.BaseRoutes.User.Handle("/image/{name:.+\\.png}",
		api.APISessionRequired(getImage)).Methods(http.MethodGet)
}

func (api *API) InitGroup() {
	api.BaseRoutes.Groups.Handle("/{group_id:[A-Za-z0-9]+}/{syncable_type:teams|channels}/link",
		api.APISessionRequired(link)).Methods(http.MethodPost)
	api.BaseRoutes.APIRoot.Handle("/{websocket:websocket(?:\\/)?}", api.APIHandlerTrustRequester(ws)).Methods(http.MethodGet)
}

func (api *API) InitUserLocal() {
	api.BaseRoutes.User.Handle("", api.APILocal(getUser)).Methods(http.MethodGet)
	api.BaseRoutes.Users.Handle("/local_only", api.APILocal(x)).Methods(http.MethodDelete)
}

func (api *API) neverCalled() {
	api.BaseRoutes.Users.Handle("/dead", api.APILocal(x)).Methods(http.MethodGet)
}
"#;

    fn parse() -> Vec<(String, String, bool)> {
        let files = [
            GoFile {
                name: "api.go".into(),
                text: API_GO.into(),
            },
            GoFile {
                name: "user.go".into(),
                text: USER_GO.into(),
            },
        ];
        let consts = string_consts(
            "model",
            &[GoFile {
                name: "client4.go".into(),
                text: "const (\n\tAPIURLSuffixV4 = \"/api/v4\" // v4\n\tAPIURLSuffix   = APIURLSuffixV4\n)\n"
                    .into(),
            }],
        );
        routes(API_GO, &files, &consts)
            .expect("the snippet parses")
            .into_iter()
            .map(|r| (r.method, r.path, r.local))
            .collect()
    }

    #[test]
    fn reads_every_registration_with_its_resolved_prefix() {
        let got = parse();
        let want: Vec<(String, String, bool)> = [
            ("DELETE", "/api/v4/users/local_only", true),
            ("GET", "/api/v4/users/{}", false),
            ("GET", "/api/v4/users/{}", true),
            ("GET", "/api/v4/users/{}/image/{}", false),
            ("GET", "/api/v4/websocket", false),
            ("GET", "/manualtest", false),
            ("POST", "/api/v4/groups/{}/channels/link", false),
            ("POST", "/api/v4/groups/{}/teams/link", false),
            ("POST", "/api/v4/users", false),
            ("POST", "/api/v4/users/login/desktop_token", false),
            ("PUT", "/api/v4/users/{}", false),
        ]
        .into_iter()
        .map(|(m, p, l)| (m.to_owned(), p.to_owned(), l))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn normalises_parameters_and_expands_word_choices() {
        assert_eq!(
            normalise("/a/{x:[A-Za-z0-9]{26}}/b/{y}/{z:one|two}"),
            ["/a/{}/b/{}/one", "/a/{}/b/{}/two"]
        );
        assert_eq!(normalise("/{email:.+}"), ["/{}"]);
    }

    #[test]
    fn a_route_without_methods_is_an_error() {
        let text = "package api4\n\nfunc (api *API) InitX() {\n\tapi.BaseRoutes.Users.Handle(\"/x\", api.APIHandler(x))\n}\n";
        let err = registrations("x.go", text).expect_err("no .Methods");
        assert!(format!("{err:#}").contains("no .Methods"), "{err:#}");
    }

    #[test]
    fn strips_comments_but_not_strings() {
        assert_eq!(
            strip_comments("a := \"//not\" // yes\nb /* c */ := `/*x*/`"),
            "a := \"//not\" \nb  := `/*x*/`"
        );
    }
}
