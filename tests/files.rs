//! `matterapi::files` against loopback HTTP servers: multipart uploads carry the field names the
//! server reads and the files' bytes, with the bearer token and the configured base path; failures
//! become typed errors that keep the body; downloads map their headers and stream their body.

mod support;

use std::time::Duration;

use matterapi::files::{Download, UploadFile};
use matterapi::{Client, Error};
use serde_json::json;
use support::rest::client_for;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{any, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "files-test-token";

/// One part of a multipart/form-data body.
#[derive(Debug)]
struct FormPart {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    data: Vec<u8>,
}

impl FormPart {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.data).expect("utf-8 field")
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn header_param(line: &str, key: &str) -> Option<String> {
    let pat = format!("{key}=\"");
    let start = line.find(&pat)? + pat.len();
    let end = line[start..].find('"')? + start;
    Some(line[start..end].to_owned())
}

/// Parses a multipart/form-data request body (enough of RFC 7578 for these tests).
fn parse_form(request: &Request) -> Vec<FormPart> {
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .expect("content-type");
    assert!(
        content_type.starts_with("multipart/form-data"),
        "not multipart: {content_type}"
    );
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("boundary")
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let body = &request.body;
    let mut parts = Vec::new();
    let mut rest =
        &body[find(body, delimiter.as_bytes()).expect("first boundary") + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").expect("CRLF after boundary");
        let head_end = find(rest, b"\r\n\r\n").expect("end of part headers");
        let head = std::str::from_utf8(&rest[..head_end]).expect("utf-8 headers");
        let after = &rest[head_end + 4..];
        let end_marker = format!("\r\n{delimiter}");
        let data_end = find(after, end_marker.as_bytes()).expect("next boundary");
        let mut part = FormPart {
            name: String::new(),
            file_name: None,
            content_type: None,
            data: after[..data_end].to_vec(),
        };
        for line in head.split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                part.name = header_param(line, "name").expect("part name");
                part.file_name = header_param(line, "filename");
            } else if let Some(v) = lower.strip_prefix("content-type:") {
                part.content_type = Some(v.trim().to_owned());
            }
        }
        parts.push(part);
        rest = &after[data_end + end_marker.len()..];
    }
    parts
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 1, "expected one request");
    requests.remove(0)
}

fn bearer(request: &Request) -> Option<&str> {
    request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
}

fn file_info_json(id: &str, name: &str) -> serde_json::Value {
    json!({"id": id, "name": name, "size": 5, "mime_type": "text/plain", "user_id": "u1",
           "channel_id": "c1", "create_at": 1, "update_at": 1, "delete_at": 0, "extension": "txt"})
}

#[tokio::test]
async fn upload_files_sends_channel_client_ids_then_files() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/files"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "file_infos": [file_info_json("f1", "a.txt"), file_info_json("f2", "b.png")],
            "client_ids": ["cid-1", "cid-2"]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let files = vec![
        UploadFile::from_bytes("a.txt", &b"hello"[..]).with_client_id("cid-1"),
        UploadFile::from_bytes("b.png", vec![0u8, 1, 2, 255])
            .with_client_id("cid-2")
            .with_content_type("image/png"),
    ];
    let reply = client_for(&server, TOKEN)
        .upload_files("c1", files)
        .await
        .expect("upload");
    assert_eq!(reply.file_infos.len(), 2);
    assert_eq!(reply.file_infos[1].id.as_deref(), Some("f2"));
    assert_eq!(reply.client_ids, ["cid-1", "cid-2"]);

    let request = only_request(&server).await;
    assert_eq!(request.headers.get("api-version").unwrap(), "4.0.0");
    assert!(
        request.headers.get("content-length").is_some(),
        "a form of known parts has a length"
    );
    let parts = parse_form(&request);
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    // The server streams the form: channel id and client ids before the first file.
    assert_eq!(
        names,
        ["channel_id", "client_ids", "client_ids", "files", "files"]
    );
    assert_eq!(parts[0].text(), "c1");
    assert_eq!(parts[1].text(), "cid-1");
    assert_eq!(parts[2].text(), "cid-2");
    assert_eq!(parts[3].file_name.as_deref(), Some("a.txt"));
    assert_eq!(parts[3].data, b"hello");
    assert_eq!(parts[3].content_type, None);
    assert_eq!(parts[4].file_name.as_deref(), Some("b.png"));
    assert_eq!(parts[4].data, [0u8, 1, 2, 255]);
    assert_eq!(parts[4].content_type.as_deref(), Some("image/png"));
}

#[tokio::test]
async fn upload_without_client_ids_sends_none_and_one_file_gives_its_info() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/files"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "file_infos": [file_info_json("f1", "a.txt")], "client_ids": null
        })))
        .mount(&server)
        .await;

    let info = client_for(&server, TOKEN)
        .upload_file("c1", UploadFile::from_bytes("a.txt", "hello"))
        .await
        .expect("upload");
    assert_eq!(info.id.as_deref(), Some("f1"));
    let parts = parse_form(&only_request(&server).await);
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["channel_id", "files"]);
}

#[tokio::test]
async fn from_path_streams_the_file_with_its_name_and_length() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/files"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "file_infos": [file_info_json("f1", "data.bin")], "client_ids": []
        })))
        .mount(&server)
        .await;

    let dir = std::env::temp_dir().join(format!("matterapi-files-{}", std::process::id()));
    tokio::fs::create_dir_all(&dir).await.expect("dir");
    let file = dir.join("data.bin");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    tokio::fs::write(&file, &content).await.expect("write");

    let upload = UploadFile::from_path(&file).await.expect("open");
    assert_eq!(upload.name(), "data.bin");
    assert_eq!(upload.len(), Some(content.len() as u64));
    client_for(&server, TOKEN)
        .upload_files("c1", vec![upload])
        .await
        .expect("upload");
    let _ = tokio::fs::remove_dir_all(&dir).await;

    let request = only_request(&server).await;
    let length: usize = request
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a file of known size gives the form a Content-Length");
    assert_eq!(length, request.body.len());
    let parts = parse_form(&request);
    assert_eq!(parts[1].name, "files");
    assert_eq!(parts[1].file_name.as_deref(), Some("data.bin"));
    assert_eq!(parts[1].data, content);

    let missing = UploadFile::from_path(dir.join("nope.bin")).await;
    assert_eq!(
        missing.expect_err("missing file").kind(),
        std::io::ErrorKind::NotFound
    );
}

#[tokio::test]
async fn a_reader_of_unknown_length_is_sent_chunked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/u1/image"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "OK"})))
        .mount(&server)
        .await;

    let (mut tx, rx) = tokio::io::duplex(64);
    tokio::spawn(async move {
        for i in 0..10u8 {
            tx.write_all(&[i; 1000]).await.expect("write");
        }
    });
    let image = UploadFile::from_reader("me.png", rx, None);
    assert_eq!(image.len(), None);
    let status = client_for(&server, TOKEN)
        .set_profile_image("u1", image)
        .await
        .expect("set");
    assert_eq!(status.status.as_deref(), Some("OK"));

    let request = only_request(&server).await;
    assert!(request.headers.get("content-length").is_none());
    let parts = parse_form(&request);
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].name, "image");
    assert_eq!(parts[0].data.len(), 10_000);
    assert_eq!(&parts[0].data[9_000..9_003], &[9, 9, 9]);
}

#[tokio::test]
async fn every_upload_uses_the_servers_field_names_and_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/emoji"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": "e1", "name": "party", "creator_id": "u1"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/plugins"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": "com.example.p", "version": "1.0.0"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/teams/t1/import"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": "bG9n"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/license"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "lic", "features": {}})),
        )
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "OK"})))
        .mount(&server)
        .await;

    let client = client_for(&server, TOKEN);
    let f = |name: &str| UploadFile::from_bytes(name.to_owned(), format!("<{name}>"));

    let emoji = client
        .create_emoji("party", "u1", f("party.png"))
        .await
        .expect("emoji");
    assert_eq!(emoji.id.as_deref(), Some("e1"));
    let manifest = client
        .upload_plugin(f("plugin.tar.gz"), true)
        .await
        .expect("plugin");
    assert_eq!(manifest.id.as_deref(), Some("com.example.p"));
    let import = client
        .import_team("t1", f("export.zip"), 9, "slack")
        .await
        .expect("import");
    assert_eq!(import.results, "bG9n");
    let license = client
        .upload_license(f("x.mattermost-license"))
        .await
        .expect("license");
    assert_eq!(license["id"], "lic");
    client
        .set_profile_image("u1", f("me.png"))
        .await
        .expect("profile");
    client
        .set_team_icon("t1", f("team.png"))
        .await
        .expect("team");
    client.set_bot_icon("b1", f("bot.svg")).await.expect("bot");
    client
        .upload_brand_image(f("brand.png"))
        .await
        .expect("brand");
    client
        .upload_saml_idp_certificate(f("idp.crt"))
        .await
        .expect("idp");
    client
        .upload_saml_public_certificate(f("sp.crt"))
        .await
        .expect("sp public");
    client
        .upload_saml_private_certificate(f("sp.key"))
        .await
        .expect("sp private");
    client
        .upload_ldap_public_certificate(f("ldap.crt"))
        .await
        .expect("ldap public");
    client
        .upload_ldap_private_certificate(f("ldap.key"))
        .await
        .expect("ldap private");
    client
        .add_audit_log_certificate(f("audit.crt"))
        .await
        .expect("audit");

    // (path, [(field, file name or text value)])
    let expected: &[(&str, &[(&str, &str)])] = &[
        (
            "/api/v4/emoji",
            &[
                ("emoji", r#"{"creator_id":"u1","name":"party"}"#),
                ("image", "party.png"),
            ],
        ),
        (
            "/api/v4/plugins",
            &[("plugin", "plugin.tar.gz"), ("force", "true")],
        ),
        (
            "/api/v4/teams/t1/import",
            &[
                ("filesize", "9"),
                ("importFrom", "slack"),
                ("file", "export.zip"),
            ],
        ),
        ("/api/v4/license", &[("license", "x.mattermost-license")]),
        ("/api/v4/users/u1/image", &[("image", "me.png")]),
        ("/api/v4/teams/t1/image", &[("image", "team.png")]),
        ("/api/v4/bots/b1/icon", &[("image", "bot.svg")]),
        ("/api/v4/brand/image", &[("image", "brand.png")]),
        (
            "/api/v4/saml/certificate/idp",
            &[("certificate", "idp.crt")],
        ),
        (
            "/api/v4/saml/certificate/public",
            &[("certificate", "sp.crt")],
        ),
        (
            "/api/v4/saml/certificate/private",
            &[("certificate", "sp.key")],
        ),
        (
            "/api/v4/ldap/certificate/public",
            &[("certificate", "ldap.crt")],
        ),
        (
            "/api/v4/ldap/certificate/private",
            &[("certificate", "ldap.key")],
        ),
        (
            "/api/v4/audit_logs/certificate",
            &[("certificate", "audit.crt")],
        ),
    ];
    let requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), expected.len());
    for (request, (want_path, want_fields)) in requests.iter().zip(expected) {
        assert_eq!(request.method.as_str(), "POST");
        assert_eq!(request.url.path(), *want_path);
        assert_eq!(bearer(request), Some(format!("Bearer {TOKEN}").as_str()));
        let parts = parse_form(request);
        assert_eq!(parts.len(), want_fields.len(), "{want_path}: {parts:?}");
        for (part, (name, value)) in parts.iter().zip(want_fields.iter()) {
            assert_eq!(part.name, *name, "{want_path}");
            match &part.file_name {
                Some(file_name) => {
                    assert_eq!(file_name, value, "{want_path}");
                    assert_eq!(part.data, format!("<{value}>").as_bytes());
                }
                None if *name == "emoji" => {
                    let sent: serde_json::Value = serde_json::from_slice(&part.data).expect("json");
                    let want: serde_json::Value = serde_json::from_str(value).expect("json");
                    assert_eq!(sent, want);
                }
                None => assert_eq!(part.text(), *value, "{want_path}"),
            }
        }
    }
}

#[tokio::test]
async fn a_mattermost_error_is_typed_and_keeps_the_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/files"))
        .respond_with(
            ResponseTemplate::new(413)
                .insert_header("x-request-id", "req-413")
                .set_body_json(json!({
                    "id": "api.file.upload_file.too_large_detailed.app_error",
                    "message": "Unable to upload file. File is too large.",
                    "detailed_error": "", "request_id": "", "status_code": 413
                })),
        )
        .mount(&server)
        .await;

    let err = client_for(&server, TOKEN)
        .upload_files("c1", vec![UploadFile::from_bytes("big.bin", "x")])
        .await
        .expect_err("too large");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(413));
    assert_eq!(
        err.error_id(),
        Some("api.file.upload_file.too_large_detailed.app_error")
    );
    assert_eq!(err.request_id(), Some("req-413"));
    assert!(matches!(err, Error::Api(_)));
}

#[tokio::test]
async fn a_foreign_error_body_is_kept_and_a_bad_reply_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/files/f1"))
        .respond_with(
            ResponseTemplate::new(502).set_body_raw("<html>bad gateway</html>", "text/html"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/emoji"))
        .respond_with(ResponseTemplate::new(201).set_body_raw("not json", "text/plain"))
        .mount(&server)
        .await;

    let client = client_for(&server, TOKEN);
    let err = client.download_file("f1").await.expect_err("502");
    match &err {
        Error::UnexpectedStatus { status, body, .. } => {
            assert_eq!(status.as_u16(), 502);
            assert_eq!(&body[..], b"<html>bad gateway</html>");
        }
        other => panic!("expected UnexpectedStatus, got {other:?}"),
    }
    assert!(err.is_retryable());

    let err = client
        .create_emoji("e", "u1", UploadFile::from_bytes("e.png", "png"))
        .await
        .expect_err("decode");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.body().map(|b| &b[..]), Some(&b"not json"[..]));
}

#[tokio::test]
async fn invalid_uploads_fail_before_sending() {
    let server = MockServer::start().await;
    let client = client_for(&server, TOKEN);
    let err = client
        .upload_files("c1", vec![])
        .await
        .expect_err("no files");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    let err = client
        .set_team_icon(
            "t1",
            UploadFile::from_bytes("a.png", "x").with_content_type("not a mime type"),
        )
        .await
        .expect_err("bad mime");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    let err = client
        .set_team_icon("t1", UploadFile::from_bytes("", "x"))
        .await
        .expect_err("no name");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(
        server
            .received_requests()
            .await
            .expect("recording")
            .is_empty()
    );
}

#[tokio::test]
async fn the_configured_basepath_is_used_and_public_links_stay_outside_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/mm/custom/api/files"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "file_infos": [file_info_json("f1", "a.txt")], "client_ids": []
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/mm/files/f1/public"))
        .and(query_param("h", "h4sh/+="))
        .respond_with(ResponseTemplate::new(200).set_body_raw("public bytes", "text/plain"))
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::builder(format!("{}/mm/", server.uri()))
        .token(TOKEN)
        .basepath("/custom/api/")
        .build()
        .expect("client");
    client
        .upload_files("c1", vec![UploadFile::from_bytes("a.txt", "x")])
        .await
        .expect("upload");
    let public = client
        .download_public_file("f1", "h4sh/+=")
        .await
        .expect("public");
    assert_eq!(&public.bytes().await.expect("bytes")[..], b"public bytes");
}

#[tokio::test]
async fn download_headers_map_to_its_fields_and_the_body_streams() {
    let server = MockServer::start().await;
    let content: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    Mock::given(method("GET"))
        .and(path("/api/v4/files/f1"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "content-disposition",
                    "attachment;filename=\"r%C3%A9sum%C3%A9%201.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf",
                )
                .insert_header("x-request-id", "req-dl")
                .set_body_raw(content.clone(), "application/pdf"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/files/f1/thumbnail"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-disposition", "inline;filename=\"thumb.jpg\"")
                .set_body_raw(vec![1u8, 2, 3], "image/jpeg"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/files/f1/preview"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![4u8, 5], "image/jpeg"))
        .mount(&server)
        .await;

    let client = client_for(&server, TOKEN);
    let mut download = client.download_file("f1").await.expect("download");
    assert_eq!(download.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(download.content_length, Some(content.len() as u64));
    assert_eq!(download.file_name.as_deref(), Some("résumé 1.pdf"));
    assert_eq!(download.request_id.as_deref(), Some("req-dl"));
    let mut received = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = download.chunk().await.expect("chunk") {
        chunks += 1;
        received.extend_from_slice(&chunk);
    }
    assert!(chunks >= 1);
    assert_eq!(received, content);

    // As a Stream, and into any AsyncWrite.
    let mut download = client.download_file("f1").await.expect("download");
    let first = std::future::poll_fn(|cx| {
        futures_core::Stream::poll_next(std::pin::Pin::new(&mut download), cx)
    })
    .await
    .expect("a first chunk")
    .expect("ok");
    assert!(!first.is_empty() && first.len() <= content.len());
    let mut rest = Vec::new();
    let written = download.write_to(&mut rest).await.expect("write");
    assert_eq!(written as usize, rest.len());
    assert_eq!([&first[..], &rest[..]].concat(), content);

    let thumb = client.download_thumbnail("f1").await.expect("thumbnail");
    assert_eq!(thumb.file_name.as_deref(), Some("thumb.jpg"));
    assert_eq!(thumb.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(&thumb.bytes().await.expect("bytes")[..], [1, 2, 3]);
    let preview = client.download_preview("f1").await.expect("preview");
    assert_eq!(preview.file_name, None);
    assert_eq!(&preview.bytes().await.expect("bytes")[..], [4, 5]);
}

/// A server that sends the headers and a first chunk, then waits for the test's signal before the
/// rest: the client must hand out the first chunk before the body is complete.
#[tokio::test]
async fn a_download_is_read_as_it_arrives() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (go_on, wait) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while find(&head, b"\r\n\r\n").is_none() {
            let n = socket.read(&mut buf).await.expect("read");
            assert!(n > 0, "client closed early");
            head.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        assert!(head.starts_with("get /api/v4/files/slow "), "{head}");
        assert!(head.contains(&format!("authorization: bearer {TOKEN}")));
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\
                  Content-Disposition: attachment; filename=\"slow.txt\"\r\n\r\nfirst",
            )
            .await
            .expect("write");
        socket.flush().await.expect("flush");
        wait.await.expect("signal");
        socket.write_all(b"-rest").await.expect("write");
        socket.flush().await.expect("flush");
    });

    let client = Client::with_token(format!("http://{addr}"), TOKEN).expect("client");
    let mut download: Download = client.download_file("slow").await.expect("download");
    assert_eq!(download.file_name.as_deref(), Some("slow.txt"));
    assert_eq!(download.content_length, Some(10));
    let first = tokio::time::timeout(Duration::from_secs(5), download.chunk())
        .await
        .expect("the first chunk arrives before the body is complete")
        .expect("ok")
        .expect("some");
    assert_eq!(&first[..], b"first");
    go_on.send(()).expect("signal");
    let rest = download.bytes().await.expect("rest");
    assert_eq!(&rest[..], b"-rest");
    server.await.expect("server");
}

#[tokio::test]
async fn resumable_upload_sends_raw_parts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v4/uploads"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "up1", "type": "attachment", "create_at": 1, "user_id": "u1",
            "channel_id": "c1", "filename": "big.bin", "file_size": 8, "file_offset": 0
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/uploads/up1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "up1", "filename": "big.bin", "file_size": 8, "file_offset": 4
        })))
        .mount(&server)
        .await;
    // First part: 204, no body yet; second: the file's info.
    Mock::given(method("POST"))
        .and(path("/api/v4/uploads/up1"))
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/uploads/up1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(file_info_json("f9", "big.bin")))
        .mount(&server)
        .await;

    let client = client_for(&server, TOKEN);
    let session = client
        .create_upload_session("c1", "big.bin", 8)
        .await
        .expect("session");
    assert_eq!(session.id.as_deref(), Some("up1"));
    assert_eq!(
        client
            .upload_session_data("up1", b"abcd".to_vec())
            .await
            .expect("part 1"),
        None
    );
    let state = client.get_upload_session("up1").await.expect("state");
    assert_eq!(state.file_offset, Some(4));
    let info = client
        .upload_session_data("up1", bytes::Bytes::from_static(b"efgh"))
        .await
        .expect("part 2")
        .expect("complete");
    assert_eq!(info.id.as_deref(), Some("f9"));

    let requests = server.received_requests().await.expect("recording");
    assert_eq!(requests.len(), 4);
    let create: serde_json::Value = requests[0].body_json().expect("json");
    assert_eq!(
        create,
        json!({"channel_id": "c1", "filename": "big.bin", "file_size": 8})
    );
    for (request, data) in [(&requests[1], b"abcd"), (&requests[3], b"efgh")] {
        assert_eq!(request.body, data);
        assert_eq!(
            request.headers.get("content-type").unwrap(),
            "application/octet-stream"
        );
        assert_eq!(bearer(request), Some(format!("Bearer {TOKEN}").as_str()));
    }
}
