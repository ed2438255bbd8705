//! File operations the spec pipeline cannot generate (multipart uploads) and downloads as streams.
//!
//! Uploads take an [`UploadFile`]: bytes in memory ([`UploadFile::from_bytes`]), a file on disk
//! streamed as it is sent ([`UploadFile::from_path`]), or any reader or stream. Downloads give a
//! [`Download`]: the reply's headers at once and the body as a [`Stream`] of chunks, never held whole
//! unless asked ([`Download::bytes`]).
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use matterapi::files::UploadFile;
//!
//! let file = UploadFile::from_path("report.pdf").await?;
//! let uploaded = client.upload_files("channel id", vec![file]).await?;
//! let id = uploaded.file_infos[0].id.clone().unwrap_or_default();
//!
//! let download = client.download_file(&id).await?;
//! let mut out = tokio::fs::File::create("copy.pdf").await?;
//! download.write_to(&mut out).await?;
//! # Ok(()) }
//! ```
//!
//! Every call here goes through the same authorization, base path, tracing and error mapping as the
//! generated operations: a failure status is an [`Error`] that keeps what the server said.
//!
//! The client's `timeout` option bounds each request whole, body included: give the client a
//! longer one to move large files over slow links.

use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use progenitor_client::ClientInfo;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};
use crate::generated::Client;
use crate::types;

// ===== UploadFile =====

/// One file to upload: its name, its content (bytes in memory or a stream read as the request is
/// sent), and optionally a content type and, for [`Client::upload_files`], a client id.
pub struct UploadFile {
    name: String,
    content: Content,
    content_type: Option<String>,
    client_id: Option<String>,
}

enum Content {
    Bytes(Bytes),
    Stream {
        body: reqwest::Body,
        length: Option<u64>,
    },
}

impl std::fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let content = match &self.content {
            Content::Bytes(b) => format!("{} bytes", b.len()),
            Content::Stream {
                length: Some(n), ..
            } => format!("stream of {n} bytes"),
            Content::Stream { length: None, .. } => "stream".to_owned(),
        };
        f.debug_struct("UploadFile")
            .field("name", &self.name)
            .field("content", &content)
            .field("content_type", &self.content_type)
            .field("client_id", &self.client_id)
            .finish()
    }
}

impl UploadFile {
    /// A file named `name` holding `bytes`.
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Bytes>) -> UploadFile {
        UploadFile {
            name: name.into(),
            content: Content::Bytes(bytes.into()),
            content_type: None,
            client_id: None,
        }
    }

    /// The file at `path`, named by its last path component. It is opened now and streamed while the
    /// request is sent, never read into memory whole.
    pub async fn from_path(path: impl AsRef<Path>) -> std::io::Result<UploadFile> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{} names no file", path.display()),
                )
            })?;
        let file = tokio::fs::File::open(path).await?;
        let length = file.metadata().await?.len();
        Ok(UploadFile::from_reader(name, file, Some(length)))
    }

    /// A file named `name` whose content is read from `reader` as the request is sent. With its
    /// `length` known the request has a `Content-Length`; without, it is sent chunked.
    pub fn from_reader<R>(name: impl Into<String>, reader: R, length: Option<u64>) -> UploadFile
    where
        R: AsyncRead + Send + 'static,
    {
        let stream = tokio_util::io::ReaderStream::new(reader);
        UploadFile::from_body(name, reqwest::Body::wrap_stream(stream), length)
    }

    /// A file named `name` whose content is the chunks of `stream`, sent as they come. With its
    /// `length` known the request has a `Content-Length`; without, it is sent chunked.
    pub fn from_stream<S>(name: impl Into<String>, stream: S, length: Option<u64>) -> UploadFile
    where
        S: futures_core::TryStream + Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        Bytes: From<S::Ok>,
    {
        UploadFile::from_body(name, reqwest::Body::wrap_stream(stream), length)
    }

    /// A file named `name` with a ready-made request body of `length` bytes when known.
    pub fn from_body(
        name: impl Into<String>,
        body: impl Into<reqwest::Body>,
        length: Option<u64>,
    ) -> UploadFile {
        UploadFile {
            name: name.into(),
            content: Content::Stream {
                body: body.into(),
                length,
            },
            content_type: None,
            client_id: None,
        }
    }

    /// Sets the part's content type (e.g. `image/png`); without one the server goes by the file
    /// name's extension.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> UploadFile {
        self.content_type = Some(content_type.into());
        self
    }

    /// Sets the client id, which [`Client::upload_files`] sends along and the server echoes back in
    /// [`FileUploadResponse::client_ids`].
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> UploadFile {
        self.client_id = Some(client_id.into());
        self
    }

    /// Renames the file.
    pub fn with_name(mut self, name: impl Into<String>) -> UploadFile {
        self.name = name.into();
        self
    }

    /// The file name sent to the server.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The content type, when set.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The client id, when set.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The content's length in bytes, when known.
    pub fn len(&self) -> Option<u64> {
        match &self.content {
            Content::Bytes(b) => Some(b.len() as u64),
            Content::Stream { length, .. } => *length,
        }
    }

    /// Whether the content is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The multipart part: the content with the file name and content type.
    fn into_part(self) -> Result<Part> {
        if self.name.is_empty() {
            // The server tells file parts from form fields by their file name.
            return Err(Error::InvalidRequest(
                "an uploaded file needs a file name".into(),
            ));
        }
        let part = match self.content {
            Content::Bytes(b) => {
                let len = b.len() as u64;
                Part::stream_with_length(reqwest::Body::from(b), len)
            }
            Content::Stream {
                body,
                length: Some(len),
            } => Part::stream_with_length(body, len),
            Content::Stream { body, length: None } => Part::stream(body),
        };
        let part = part.file_name(self.name.clone());
        match &self.content_type {
            Some(ct) => part.mime_str(ct).map_err(|e| {
                Error::InvalidRequest(format!(
                    "invalid content type {ct:?} for {:?}: {e}",
                    self.name
                ))
            }),
            None => Ok(part),
        }
    }
}

// ===== replies =====

/// The reply to [`Client::upload_files`]: the uploaded files' infos, in the order sent, and the
/// client ids sent with them (empty when none were).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileUploadResponse {
    /// One info per uploaded file.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub file_infos: Vec<types::FileInfo>,
    /// The client ids, in the order of `file_infos`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub client_ids: Vec<String>,
}

/// The reply to [`Client::import_team`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TeamImportResult {
    /// The import's log, base64-encoded as the server sends it.
    #[serde(default)]
    pub results: String,
}

fn null_as_empty<'de, D, T>(d: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

// ===== Download =====

type BodyStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A file being downloaded: the reply's headers, and its body as a [`Stream`] of chunks read from
/// the connection as they are polled. Collect it with [`Download::bytes`] or copy it with
/// [`Download::write_to`].
pub struct Download {
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The body's length (`Content-Length`), when the server gave it.
    pub content_length: Option<u64>,
    /// The file name from `Content-Disposition`, made safe to name a local file with: its last
    /// path component only (after a `/` or `\\`), without control characters or leading dots;
    /// `None` when nothing is left (or `..`). The server's name as sent:
    /// [`Download::file_name_unsanitized`].
    pub file_name: Option<String>,
    /// The server's request id (`X-Request-ID`).
    pub request_id: Option<String>,
    raw_file_name: Option<String>,
    body: BodyStream,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .field("file_name", &self.file_name)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl Download {
    fn from_response(resp: reqwest::Response) -> Download {
        let headers = resp.headers();
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = text(CONTENT_TYPE.as_str());
        let request_id = crate::error::request_id(headers).map(str::to_owned);
        let raw_file_name = headers
            .get(CONTENT_DISPOSITION)
            .and_then(|v| content_disposition_file_name(v.as_bytes()));
        let file_name = raw_file_name.as_deref().and_then(safe_file_name);
        let content_length = resp.content_length();
        Download {
            content_type,
            content_length,
            file_name,
            request_id,
            raw_file_name,
            body: Box::pin(resp.bytes_stream()),
        }
    }

    /// The file name as the server sent it in `Content-Disposition`, unchecked: it may hold
    /// directories, `..` or control characters. Use [`Download::file_name`] to name a local file.
    pub fn file_name_unsanitized(&self) -> Option<&str> {
        self.raw_file_name.as_deref()
    }

    /// The next chunk of the body, `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx))
            .await
            .transpose()
    }

    /// The whole body in memory.
    pub async fn bytes(mut self) -> Result<Bytes> {
        // Trust Content-Length for the first allocation only up to a bound.
        const MAX_PREALLOCATION: u64 = 16 * 1024 * 1024;
        let first = match self.chunk().await? {
            Some(chunk) => chunk,
            None => return Ok(Bytes::new()),
        };
        let Some(second) = self.chunk().await? else {
            return Ok(first);
        };
        let capacity = self
            .content_length
            .unwrap_or(0)
            .min(MAX_PREALLOCATION)
            .max((first.len() + second.len()) as u64);
        let mut all = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(0));
        all.extend_from_slice(&first);
        all.extend_from_slice(&second);
        while let Some(chunk) = self.chunk().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all.freeze())
    }

    /// Copies the body into `writer` chunk by chunk, flushes it, and gives the number of bytes
    /// written. A failure reading the body is an I/O error wrapping the [`Error`].
    pub async fn write_to<W>(mut self, writer: &mut W) -> std::io::Result<u64>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut written = 0u64;
        while let Some(chunk) = self.chunk().await.map_err(std::io::Error::other)? {
            writer.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        writer.flush().await?;
        Ok(written)
    }

    /// The body as a stream of chunks (a `Download` is one already; this only names the intent).
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes>> + Send + Unpin {
        self
    }
}

impl Stream for Download {
    type Item = Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .body
            .as_mut()
            .poll_next(cx)
            .map(|next| next.map(|r| r.map_err(Error::transport)))
    }
}

/// The file name of a `Content-Disposition` value: `filename*` (RFC 5987, percent-decoded) first,
/// else `filename` (unquoted).
/// A server-sent file name reduced to a safe base name: the part after the last `/` or `\`,
/// without control characters, then without leading dots (no hidden file, no `..`) and surrounding
/// blanks; `None` when nothing is left.
fn safe_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let kept: String = base.chars().filter(|c| !c.is_control()).collect();
    let safe = kept.trim().trim_start_matches('.').trim();
    (!safe.is_empty()).then(|| safe.to_owned())
}

fn content_disposition_file_name(value: &[u8]) -> Option<String> {
    let value = String::from_utf8_lossy(value);
    let mut plain = None;
    let mut extended = None;
    for param in split_params(&value).into_iter().skip(1) {
        let Some((key, val)) = param.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let val = val.trim();
        match key.as_str() {
            "filename*" => {
                // charset'language'percent-encoded
                let mut pieces = val.splitn(3, '\'');
                let charset = pieces.next().unwrap_or("");
                let _language = pieces.next();
                if let Some(encoded) = pieces.next() {
                    let bytes = crate::net::percent_decode(encoded.trim_matches('"'));
                    extended = if charset.eq_ignore_ascii_case("utf-8") {
                        String::from_utf8(bytes).ok()
                    } else {
                        // ISO-8859-1: each byte is one code point.
                        Some(bytes.into_iter().map(char::from).collect())
                    };
                }
            }
            "filename" => plain = Some(unquote(val)),
            _ => {}
        }
    }
    extended.or(plain).filter(|n| !n.is_empty())
}

/// Splits a header value at the `;` outside quoted strings.
fn split_params(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ===== the request path shared by every call here =====

use crate::request::{api_url, send_json};

/// [`crate::request::send`] with the reply's body limited (replies to uploads are small).
async fn send(
    client: &Client,
    operation: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response> {
    crate::request::send(client, operation, request, true).await
}

/// `POST`s `form` to `path` under the API base path and decodes the JSON reply.
async fn post_form<T: DeserializeOwned>(
    client: &Client,
    operation: &'static str,
    path: &str,
    form: Form,
) -> Result<T> {
    let request = client
        .client()
        .post(api_url(client, path))
        .header(reqwest::header::ACCEPT, "application/json")
        .multipart(form);
    send_json(client, operation, request).await
}

/// A form of one file part named `field`.
fn single_file_form(field: &'static str, file: UploadFile) -> Result<Form> {
    Ok(Form::new().part(field, file.into_part()?))
}

/// A streamed download: its body is not limited by `max_body_size` (a failure's body is).
async fn download(
    client: &Client,
    operation: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<Download> {
    let resp = crate::request::send(client, operation, request, false).await?;
    Ok(Download::from_response(resp))
}

/// `value` as the path segment of parameter `name`, refused when it would change the path
/// ([`crate::request::path_segment`]).
fn seg(name: &str, value: &str) -> Result<String> {
    crate::request::path_segment(name, value)
}

// ===== the operations =====

impl Client {
    /// Uploads `files` to the channel `channel_id` (`POST /api/v4/files`, multipart): the files are
    /// streamed, and attached to a post later by their ids (`file_ids` of `create_post`).
    ///
    /// Client ids, when any file has one, are sent for every file (empty for those without).
    pub async fn upload_files(
        &self,
        channel_id: &str,
        files: Vec<UploadFile>,
    ) -> Result<FileUploadResponse> {
        if files.is_empty() {
            return Err(Error::InvalidRequest("no files to upload".into()));
        }
        // The server streams the parts in order: the channel id and the client ids must come
        // before the first file.
        let mut form = Form::new().text("channel_id", channel_id.to_owned());
        if files.iter().any(|f| f.client_id.is_some()) {
            for f in &files {
                form = form.text("client_ids", f.client_id.clone().unwrap_or_default());
            }
        }
        for f in files {
            form = form.part("files", f.into_part()?);
        }
        post_form(self, "upload_file", "/files", form).await
    }

    /// Uploads one file to the channel `channel_id` and gives its info: [`Client::upload_files`] for
    /// a single file.
    pub async fn upload_file(&self, channel_id: &str, file: UploadFile) -> Result<types::FileInfo> {
        let mut reply = self.upload_files(channel_id, vec![file]).await?;
        match reply.file_infos.pop() {
            Some(info) if reply.file_infos.is_empty() => Ok(info),
            _ => Err(Error::Decode {
                body: Bytes::from(serde_json::to_vec(&reply).unwrap_or_default()),
                source: serde::de::Error::custom("expected exactly one file info"),
            }),
        }
    }

    /// Sets the profile image of `user_id` (`POST /api/v4/users/{user_id}/image`, field `image`).
    pub async fn set_profile_image(
        &self,
        user_id: &str,
        image: UploadFile,
    ) -> Result<types::StatusOk> {
        let form = single_file_form("image", image)?;
        let path = format!("/users/{}/image", seg("user_id", user_id)?);
        post_form(self, "set_profile_image", &path, form).await
    }

    /// Sets the icon of `team_id` (`POST /api/v4/teams/{team_id}/image`, field `image`).
    pub async fn set_team_icon(&self, team_id: &str, image: UploadFile) -> Result<types::StatusOk> {
        let form = single_file_form("image", image)?;
        let path = format!("/teams/{}/image", seg("team_id", team_id)?);
        post_form(self, "set_team_icon", &path, form).await
    }

    /// Sets the icon of the bot `bot_user_id` (`POST /api/v4/bots/{bot_user_id}/icon`, field
    /// `image`; an SVG).
    ///
    /// **Not served by Mattermost 11.4**: that server has no bot icon route and answers 404
    /// (`tests/live_routes.rs` checks it); it is kept for the servers that have one.
    pub async fn set_bot_icon(
        &self,
        bot_user_id: &str,
        image: UploadFile,
    ) -> Result<types::StatusOk> {
        let form = single_file_form("image", image)?;
        let path = format!("/bots/{}/icon", seg("bot_user_id", bot_user_id)?);
        post_form(self, "set_bot_icon_image", &path, form).await
    }

    /// Creates the custom emoji `name` (`POST /api/v4/emoji`, fields `emoji` and `image`).
    /// `creator_id` must be the calling user's id.
    pub async fn create_emoji(
        &self,
        name: &str,
        creator_id: &str,
        image: UploadFile,
    ) -> Result<types::Emoji> {
        let emoji = serde_json::json!({ "name": name, "creator_id": creator_id });
        let form = Form::new()
            .text("emoji", emoji.to_string())
            .part("image", image.into_part()?);
        post_form(self, "create_emoji", "/emoji", form).await
    }

    /// Uploads the brand image of the login page (`POST /api/v4/brand/image`, field `image`).
    pub async fn upload_brand_image(&self, image: UploadFile) -> Result<types::StatusOk> {
        let form = single_file_form("image", image)?;
        post_form(self, "upload_brand_image", "/brand/image", form).await
    }

    /// Uploads and installs a plugin bundle (`POST /api/v4/plugins`, fields `plugin` and `force`);
    /// `force` replaces an installed plugin of the same id. Gives the plugin's manifest.
    pub async fn upload_plugin(
        &self,
        plugin: UploadFile,
        force: bool,
    ) -> Result<types::PluginManifest> {
        let form = Form::new()
            .part("plugin", plugin.into_part()?)
            .text("force", if force { "true" } else { "false" });
        post_form(self, "upload_plugin", "/plugins", form).await
    }

    /// Imports a team's data exported from another service (`POST /api/v4/teams/{team_id}/import`,
    /// fields `file`, `filesize` and `importFrom`, e.g. `"slack"`).
    pub async fn import_team(
        &self,
        team_id: &str,
        file: UploadFile,
        filesize: u64,
        import_from: &str,
    ) -> Result<TeamImportResult> {
        let form = Form::new()
            .text("filesize", filesize.to_string())
            .text("importFrom", import_from.to_owned())
            .part("file", file.into_part()?);
        let path = format!("/teams/{}/import", seg("team_id", team_id)?);
        post_form(self, "import_team", &path, form).await
    }

    /// Uploads a license file (`POST /api/v4/license`, field `license`). Gives the license the
    /// server saved, as JSON.
    pub async fn upload_license(&self, license: UploadFile) -> Result<serde_json::Value> {
        let form = single_file_form("license", license)?;
        post_form(self, "upload_license_file", "/license", form).await
    }

    // ----- resumable uploads -----

    /// Starts a resumable upload of `filename` (`file_size` bytes) to `channel_id` (`POST
    /// /api/v4/uploads`). Send the data with [`Client::upload_session_data`].
    pub async fn create_upload_session(
        &self,
        channel_id: &str,
        filename: &str,
        file_size: u64,
    ) -> Result<types::UploadSession> {
        let file_size = i64::try_from(file_size)
            .map_err(|_| Error::InvalidRequest(format!("file size {file_size} is too large")))?;
        let body = types::CreateUploadBody {
            channel_id: channel_id.to_owned(),
            file_size,
            filename: filename.to_owned(),
        };
        Ok(self.create_upload().body(body).send().await?.into_inner())
    }

    /// The upload session `upload_id`, with how much has arrived so far (`file_offset`) (`GET
    /// /api/v4/uploads/{upload_id}`).
    pub async fn get_upload_session(&self, upload_id: &str) -> Result<types::UploadSession> {
        let url = api_url(self, &format!("/uploads/{}", seg("upload_id", upload_id)?));
        let request = self
            .client()
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        send_json(self, "get_upload", request).await
    }

    /// Sends the next part of an upload session's data (`POST /api/v4/uploads/{upload_id}`, the raw
    /// bytes as the body). Gives the file's info once the upload is complete, `None` while parts are
    /// missing. A first part smaller than the whole file must be at least 5 MiB.
    ///
    /// (The generated `upload_data` sends a form instead of the raw bytes; this is its replacement.)
    pub async fn upload_session_data(
        &self,
        upload_id: &str,
        data: impl Into<reqwest::Body>,
    ) -> Result<Option<types::FileInfo>> {
        let url = api_url(self, &format!("/uploads/{}", seg("upload_id", upload_id)?));
        let request = self
            .client()
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(data);
        let resp = send(self, "upload_data", request).await?;
        if resp.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let body = crate::request::read_body(resp).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|source| Error::Decode { body, source })
    }

    // ----- downloads -----

    /// Downloads the file `file_id` (`GET /api/v4/files/{file_id}`) as a stream.
    pub async fn download_file(&self, file_id: &str) -> Result<Download> {
        let url = api_url(self, &format!("/files/{}", seg("file_id", file_id)?));
        download(self, "get_file", self.client().get(url)).await
    }

    /// Downloads the thumbnail of the image file `file_id` (`GET
    /// /api/v4/files/{file_id}/thumbnail`).
    pub async fn download_thumbnail(&self, file_id: &str) -> Result<Download> {
        let url = api_url(
            self,
            &format!("/files/{}/thumbnail", seg("file_id", file_id)?),
        );
        download(self, "get_file_thumbnail", self.client().get(url)).await
    }

    /// Downloads the preview of the image file `file_id` (`GET /api/v4/files/{file_id}/preview`).
    pub async fn download_preview(&self, file_id: &str) -> Result<Download> {
        let url = api_url(
            self,
            &format!("/files/{}/preview", seg("file_id", file_id)?),
        );
        download(self, "get_file_preview", self.client().get(url)).await
    }

    /// Downloads the file `file_id` through its public link (`GET /files/{file_id}/public?h=hash`,
    /// outside the API base path), `hash` being the link's `h` parameter. Public links must be
    /// enabled on the server.
    pub async fn download_public_file(&self, file_id: &str, hash: &str) -> Result<Download> {
        let url = format!(
            "{}/files/{}/public",
            self.baseurl(),
            seg("file_id", file_id)?
        );
        let request = self
            .client()
            .request(Method::GET, url)
            .query(&[("h", hash)]);
        download(self, "get_file_public", request).await
    }
}

/// Certificate uploads: one file in the form field `certificate`, answered with `{"status": "OK"}`.
macro_rules! certificate_uploads {
    ($($(#[$doc:meta])* $name:ident => $operation:literal, $path:literal;)*) => {
        impl Client {
            $(
                $(#[$doc])*
                pub async fn $name(&self, certificate: UploadFile) -> Result<types::StatusOk> {
                    let form = single_file_form("certificate", certificate)?;
                    post_form(self, $operation, $path, form).await
                }
            )*
        }
    };
}

certificate_uploads! {
    /// Uploads the SAML identity provider's certificate (`POST /api/v4/saml/certificate/idp`).
    upload_saml_idp_certificate => "upload_saml_idp_certificate", "/saml/certificate/idp";
    /// Uploads the SAML service provider's public certificate (`POST
    /// /api/v4/saml/certificate/public`).
    upload_saml_public_certificate => "upload_saml_public_certificate", "/saml/certificate/public";
    /// Uploads the SAML service provider's private key (`POST /api/v4/saml/certificate/private`).
    upload_saml_private_certificate => "upload_saml_private_certificate", "/saml/certificate/private";
    /// Uploads the LDAP client's public certificate (`POST /api/v4/ldap/certificate/public`).
    upload_ldap_public_certificate => "upload_ldap_public_certificate", "/ldap/certificate/public";
    /// Uploads the LDAP client's private key (`POST /api/v4/ldap/certificate/private`).
    upload_ldap_private_certificate => "upload_ldap_private_certificate", "/ldap/certificate/private";
    /// Uploads the certificate for the audit log's TLS connection (`POST
    /// /api/v4/audit_logs/certificate`).
    add_audit_log_certificate => "add_audit_log_certificate", "/audit_logs/certificate";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_names() {
        let f = |s: &str| content_disposition_file_name(s.as_bytes());
        assert_eq!(
            f("attachment;filename=\"a%20b.txt\"; filename*=UTF-8''a%20b.txt").as_deref(),
            Some("a b.txt")
        );
        assert_eq!(
            f("inline; filename=\"x;y.png\"").as_deref(),
            Some("x;y.png")
        );
        assert_eq!(
            f("attachment; filename=\"q\\\"uote.txt\"").as_deref(),
            Some("q\"uote.txt")
        );
        assert_eq!(
            f("attachment; filename*=utf-8''%C3%A9t%C3%A9.txt").as_deref(),
            Some("été.txt")
        );
        assert_eq!(f("attachment").as_deref(), None);
        assert_eq!(
            f("attachment; filename=plain.bin").as_deref(),
            Some("plain.bin")
        );
    }
}
