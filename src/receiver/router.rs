//! [`Receiver`]: the routes of an integration's callbacks as an axum [`Router`], and [`serve`].

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use futures_util::FutureExt as _;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use crate::receiver::action::{ActionRequest, ActionResponse};
use crate::receiver::command::{CommandRequest, CommandResponse};
use crate::receiver::dialog::{DialogResponse, DialogSubmission};
use crate::receiver::reject::{Rejection, decode_json, json_response};
use crate::receiver::token::Token;
use crate::receiver::webhook::{OutgoingWebhookRequest, OutgoingWebhookResponse};

/// The body limit unless [`Receiver::body_limit`] sets another: 256 KiB, room for the longest
/// message the server allows with its form encoding.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// The time a callback gets unless [`Receiver::timeout`] sets another: 25 s, under the server's
/// default integration timeout of 30 s, so that the server gets the timeout reply before it gives
/// up.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);

type Handler<Q, R> =
    Arc<dyn Fn(Q) -> Pin<Box<dyn Future<Output = Result<R, Rejection>> + Send>> + Send + Sync>;

/// The handler of one route.
#[derive(Clone)]
enum Route {
    Command(Token, Handler<CommandRequest, CommandResponse>),
    Webhook(
        Token,
        Handler<OutgoingWebhookRequest, OutgoingWebhookResponse>,
    ),
    Action(Handler<ActionRequest, ActionResponse>),
    Dialog(Handler<DialogSubmission, DialogResponse>),
}

/// A route the receiver cannot make.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid receiver route {path:?}: {reason}")]
pub struct RouteError {
    /// The path.
    pub path: String,
    /// Why it is refused.
    pub reason: &'static str,
}

/// The callbacks of an integration, by path: slash commands, outgoing webhooks, actions and dialog
/// submissions, each with its handler (an async function from the typed request to the typed
/// reply). Every route reads the body under [`Self::body_limit`], answers within
/// [`Self::timeout`], checks the token where the server sends one, and refuses a bad callback
/// with a typed [`Rejection`] (a handler's panic too: it becomes a 500 reply).
///
/// ```no_run
/// use matterapi::receiver::{CommandResponse, Receiver, Token};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let router = Receiver::new()
///     .command("/hello", Token::new("the command's token"), |req| async move {
///         Ok(CommandResponse::in_channel(format!("hello, @{}", req.user_name)))
///     })
///     .into_router()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// matterapi::receiver::serve(listener, router, std::future::pending()).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Receiver {
    body_limit: usize,
    timeout: Duration,
    routes: Vec<(String, Route)>,
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver::new()
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("body_limit", &self.body_limit)
            .field("timeout", &self.timeout)
            .field(
                "routes",
                &self.routes.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn boxed<Q, R, F, Fut>(handler: F) -> Handler<Q, R>
where
    F: Fn(Q) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Rejection>> + Send + 'static,
{
    Arc::new(move |q| Box::pin(handler(q)))
}

impl Receiver {
    /// No routes yet, the default limit and timeout.
    pub fn new() -> Self {
        Receiver {
            body_limit: DEFAULT_BODY_LIMIT,
            timeout: DEFAULT_TIMEOUT,
            routes: Vec::new(),
        }
    }

    /// The largest body a route reads, in bytes (a larger one gets 413).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The time a callback gets, from its first byte to the reply (past it: 503).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A slash command at `path` (registered with this URL), whose callbacks must carry `token`.
    /// It takes `POST` with a form or JSON body and `GET` with a query.
    pub fn command<F, Fut>(mut self, path: impl Into<String>, token: Token, handler: F) -> Self
    where
        F: Fn(CommandRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CommandResponse, Rejection>> + Send + 'static,
    {
        self.routes
            .push((path.into(), Route::Command(token, boxed(handler))));
        self
    }

    /// An outgoing webhook at `path`, whose callbacks must carry `token`. It takes `POST` with a
    /// form or JSON body.
    pub fn outgoing_webhook<F, Fut>(
        mut self,
        path: impl Into<String>,
        token: Token,
        handler: F,
    ) -> Self
    where
        F: Fn(OutgoingWebhookRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<OutgoingWebhookResponse, Rejection>> + Send + 'static,
    {
        self.routes
            .push((path.into(), Route::Webhook(token, boxed(handler))));
        self
    }

    /// The actions (buttons, menus) whose `integration.url` is `path`. It takes `POST` with JSON.
    /// The server sends no token: check your own in the context.
    pub fn action<F, Fut>(mut self, path: impl Into<String>, handler: F) -> Self
    where
        F: Fn(ActionRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ActionResponse, Rejection>> + Send + 'static,
    {
        self.routes
            .push((path.into(), Route::Action(boxed(handler))));
        self
    }

    /// The dialogs whose submission URL is `path`. It takes `POST` with JSON. The server sends no
    /// token.
    pub fn dialog<F, Fut>(mut self, path: impl Into<String>, handler: F) -> Self
    where
        F: Fn(DialogSubmission) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<DialogResponse, Rejection>> + Send + 'static,
    {
        self.routes
            .push((path.into(), Route::Dialog(boxed(handler))));
        self
    }

    /// The routes as an axum router, to [`serve`] or to `merge`/`nest` into the application's.
    /// It has no fallback of its own, so merging it never clashes. A path must start with `/`,
    /// hold no `{`, `}` or `*` (no captures) and be unique.
    pub fn into_router(self) -> Result<Router, RouteError> {
        let mut router = Router::new();
        let mut seen = std::collections::BTreeSet::new();
        let settings = Arc::new(Settings {
            body_limit: self.body_limit,
            timeout: self.timeout,
        });
        for (path, route) in self.routes {
            let refuse = |reason| RouteError {
                path: path.clone(),
                reason,
            };
            if !path.starts_with('/') {
                return Err(refuse("it must start with /"));
            }
            if path.contains(['{', '}', '*']) {
                return Err(refuse("it must not hold {, } or *"));
            }
            if !seen.insert(path.clone()) {
                return Err(refuse("two routes have it"));
            }
            let settings = settings.clone();
            let route = Arc::new(route);
            router = router.route(
                &path,
                axum::routing::any(move |request: Request| {
                    let settings = settings.clone();
                    let route = route.clone();
                    async move { handle(&settings, &route, request).await }
                }),
            );
        }
        Ok(router)
    }
}

/// The limits every route shares.
struct Settings {
    body_limit: usize,
    timeout: Duration,
}

/// One callback: the route's work under the timeout, a panic and every refusal turned into a
/// typed reply.
async fn handle(settings: &Settings, route: &Route, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let work = AssertUnwindSafe(dispatch(settings.body_limit, route, request)).catch_unwind();
    let rejection = match tokio::time::timeout(settings.timeout, work).await {
        Ok(Ok(Ok(response))) => return response,
        Ok(Ok(Err(rejection))) => rejection,
        Ok(Err(_panic)) => Rejection::handler("the handler panicked"),
        Err(_elapsed) => Rejection::Timeout {
            millis: u64::try_from(settings.timeout.as_millis()).unwrap_or(u64::MAX),
        },
    };
    tracing::warn!(path = %path, kind = rejection.kind(), "receiver refused a callback: {rejection}");
    rejection.into_response()
}

async fn dispatch(limit: usize, route: &Route, request: Request) -> Result<Response, Rejection> {
    let (parts, body) = request.into_parts();
    match route {
        Route::Command(token, handler) => {
            let (request, body_token) = if parts.method == Method::GET {
                let query = parts.uri.query().unwrap_or("");
                CommandRequest::from_pairs(form_urlencoded::parse(query.as_bytes()))?
            } else if parts.method == Method::POST {
                let bytes = read_body(limit, &parts.headers, body).await?;
                match media(&parts.headers) {
                    Media::Json => CommandRequest::from_json(&bytes)?,
                    Media::Form | Media::Missing => {
                        CommandRequest::from_pairs(form_urlencoded::parse(&bytes))?
                    }
                    Media::Other(content_type) => {
                        return Err(Rejection::UnsupportedMediaType { content_type });
                    }
                }
            } else {
                return Err(Rejection::MethodNotAllowed);
            };
            verify(token, header_token(&parts.headers).or(body_token))?;
            request.check()?;
            reply(handler(request).await?)
        }
        Route::Webhook(token, handler) => {
            post_only(&parts.method)?;
            let bytes = read_body(limit, &parts.headers, body).await?;
            let (request, body_token) = match media(&parts.headers) {
                Media::Json => OutgoingWebhookRequest::from_json(&bytes)?,
                Media::Form => OutgoingWebhookRequest::from_form(&bytes)?,
                Media::Missing if bytes.first() == Some(&b'{') => {
                    OutgoingWebhookRequest::from_json(&bytes)?
                }
                Media::Missing => OutgoingWebhookRequest::from_form(&bytes)?,
                Media::Other(content_type) => {
                    return Err(Rejection::UnsupportedMediaType { content_type });
                }
            };
            verify(token, body_token)?;
            request.check()?;
            reply(handler(request).await?)
        }
        Route::Action(handler) => {
            post_only(&parts.method)?;
            let bytes = read_json_body(limit, &parts.headers, body).await?;
            reply(handler(decode_json(&bytes)?).await?)
        }
        Route::Dialog(handler) => {
            post_only(&parts.method)?;
            let bytes = read_json_body(limit, &parts.headers, body).await?;
            reply(handler(decode_json(&bytes)?).await?)
        }
    }
}

fn reply<T: serde::Serialize>(value: T) -> Result<Response, Rejection> {
    Ok(json_response(StatusCode::OK, &value))
}

fn post_only(method: &Method) -> Result<(), Rejection> {
    if method == Method::POST {
        Ok(())
    } else {
        Err(Rejection::MethodNotAllowed)
    }
}

/// `presented` checked against `expected`.
fn verify(expected: &Token, presented: Option<String>) -> Result<(), Rejection> {
    match presented {
        None => Err(Rejection::MissingToken),
        Some(t) if t.is_empty() => Err(Rejection::MissingToken),
        Some(t) if expected.matches(&t) => Ok(()),
        Some(_) => Err(Rejection::BadToken),
    }
}

/// The token of an `Authorization: Token …` header.
fn header_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("token")
        .then(|| token.trim().to_owned())
}

/// A body's media type, as far as the callbacks care.
enum Media {
    Form,
    Json,
    Missing,
    Other(String),
}

fn media(headers: &HeaderMap) -> Media {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Media::Missing;
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => Media::Form,
        "application/json" => Media::Json,
        e if e.ends_with("+json") => Media::Json,
        "" => Media::Missing,
        _ => Media::Other(crate::error::shortened(&text)),
    }
}

/// The body, at most `limit` bytes of it.
async fn read_body(limit: usize, headers: &HeaderMap, body: Body) -> Result<Bytes, Rejection> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(Rejection::TooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Rejection::TooLarge { limit })
        }
        Err(e) => Err(Rejection::malformed(format!(
            "the body could not be read: {e}"
        ))),
    }
}

/// A JSON body (no content type is taken as JSON, the way the server sends it).
async fn read_json_body(limit: usize, headers: &HeaderMap, body: Body) -> Result<Bytes, Rejection> {
    match media(headers) {
        Media::Json | Media::Missing => read_body(limit, headers, body).await,
        Media::Form => Err(Rejection::UnsupportedMediaType {
            content_type: "application/x-www-form-urlencoded".to_owned(),
        }),
        Media::Other(content_type) => Err(Rejection::UnsupportedMediaType { content_type }),
    }
}

/// Serves `router` on `listener` (HTTP/1.1) until `shutdown` completes, then lets the callbacks in
/// flight finish (each is bounded by the receiver's timeout).
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
