//! Live tests of `matterapi::files` against a real Mattermost server (`cargo xtask server start`):
//! uploads are accepted with the field names the server reads, attached files come back byte for
//! byte, images get thumbnails and previews, profile images and custom emoji are set, and a
//! resumable upload completes in two parts.
//!
//! Re-runnable against the same server: names are unique per run and what a test creates is removed
//! at its end when the API allows it.

mod support;

use std::time::Duration;

use matterapi::files::UploadFile;
use matterapi::{Client, Error};
use support::admin;

// ----- a tiny PNG encoder (stored deflate blocks, no compression) -----

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    out.extend_from_slice(&typed);
    out.extend_from_slice(&crc32(&typed).to_be_bytes());
}

/// A valid RGB PNG of `width` x `height` with a colour gradient.
fn png(width: u32, height: u32) -> Vec<u8> {
    png_stamped(width, height, 0)
}

/// [`png`] whose first row's blue channel spells `stamp`, to make an image unlike earlier ones.
fn png_stamped(width: u32, height: u32, stamp: u64) -> Vec<u8> {
    let stamp = stamp.to_be_bytes();
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            let blue = match (y, stamp.get(x as usize)) {
                (0, Some(b)) => *b,
                _ => 0x80,
            };
            raw.extend_from_slice(&[(x * 255 / width) as u8, (y * 255 / height) as u8, blue]);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn the_png_encoder_matches_known_checksums() {
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
}

// ----- helpers -----

/// A number that differs between runs.
fn fresh_stamp() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

async fn delete_post(client: &Client, post_id: &str) {
    client
        .delete_post()
        .post_id(post_id)
        .send()
        .await
        .expect("delete post");
}

/// Retries `download` while the server has no such image yet (thumbnails and previews are made
/// after the upload), for at most about 10 s.
async fn eventually<F, Fut>(what: &str, mut download: F) -> matterapi::files::Download
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<matterapi::files::Download, Error>>,
{
    let mut last = None;
    for _ in 0..40 {
        match download().await {
            Ok(d) => return d,
            Err(e) if e.status().is_some_and(|s| s.is_client_error()) => last = Some(e),
            Err(e) => panic!("{what}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{what}: never became available: {last:?}")
}

// ----- tests -----

#[tokio::test]
async fn uploaded_file_attaches_to_a_post_and_downloads_byte_for_byte() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let name = format!("{}.txt", support::unique("notes-"));
    let content: Vec<u8> = (0..70_000u32)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();

    let reply = admin
        .upload_files(
            &conn.channels.town_square,
            vec![UploadFile::from_bytes(name.clone(), content.clone()).with_client_id("client-1")],
        )
        .await
        .expect("upload");
    assert_eq!(reply.client_ids, ["client-1"]);
    assert_eq!(reply.file_infos.len(), 1);
    let uploaded = &reply.file_infos[0];
    let file_id = uploaded.id.clone().expect("file id");
    assert_eq!(uploaded.name.as_deref(), Some(name.as_str()));
    assert_eq!(uploaded.size, Some(content.len() as i64));
    assert_eq!(uploaded.user_id.as_deref(), Some(conn.admin.id.as_str()));

    let post = support::post_with_files(
        &admin,
        &conn.channels.town_square,
        &support::unique("matterapi files "),
        vec![file_id.clone()],
    )
    .await;
    let post_id = post.id.clone().expect("post id");
    assert_eq!(post.file_ids, Some(vec![file_id.clone()]));

    let info = admin
        .get_file_info()
        .file_id(file_id.as_str())
        .send()
        .await
        .expect("file info")
        .into_inner();
    assert_eq!(info.post_id.as_deref(), Some(post_id.as_str()));
    assert_eq!(
        info.channel_id.as_deref(),
        Some(conn.channels.town_square.as_str())
    );
    assert_eq!(info.extension.as_deref(), Some("txt"));

    let download = admin.download_file(&file_id).await.expect("download");
    assert_eq!(download.file_name.as_deref(), Some(name.as_str()));
    assert_eq!(download.content_length, Some(content.len() as u64));
    assert!(
        download
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/plain")),
        "{download:?}"
    );
    assert_eq!(download.bytes().await.expect("bytes"), content);

    // The same, streamed into a writer.
    let mut copy = Vec::new();
    let written = admin
        .download_file(&file_id)
        .await
        .expect("download")
        .write_to(&mut copy)
        .await
        .expect("write");
    assert_eq!(written, content.len() as u64);
    assert_eq!(copy, content);

    // Through its public link (outside /api/v4, no session needed; the test server enables them).
    let link = admin
        .get_file_link()
        .file_id(file_id.as_str())
        .send()
        .await
        .expect("public link")
        .into_inner()
        .link
        .expect("link");
    let hash = link
        .split_once("?h=")
        .map(|(_, h)| h.split('&').next().unwrap_or(h).to_owned())
        .expect("link has h");
    let anonymous = Client::builder(conn.url.as_str()).build().expect("client");
    let public = anonymous
        .download_public_file(&file_id, &hash)
        .await
        .expect("public download");
    assert_eq!(public.file_name.as_deref(), Some(name.as_str()));
    assert_eq!(public.bytes().await.expect("bytes"), content);
    let wrong = anonymous
        .download_public_file(&file_id, "not-the-hash")
        .await
        .expect_err("wrong hash");
    assert_eq!(wrong.status().map(|s| s.as_u16()), Some(400), "{wrong:?}");

    delete_post(&admin, &post_id).await;
}

#[tokio::test]
async fn a_file_streamed_from_disk_uploads_whole() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let dir = std::env::temp_dir().join(support::unique("matterapi-live-files-"));
    tokio::fs::create_dir_all(&dir).await.expect("dir");
    let path = dir.join("from disk.bin");
    let content: Vec<u8> = (0..2_000_000u32).map(|i| (i % 253) as u8).collect();
    tokio::fs::write(&path, &content).await.expect("write");

    let info = admin
        .upload_file(
            &conn.channels.town_square,
            UploadFile::from_path(&path).await.expect("open"),
        )
        .await
        .expect("upload");
    let _ = tokio::fs::remove_dir_all(&dir).await;
    assert_eq!(info.name.as_deref(), Some("from disk.bin"));
    assert_eq!(info.size, Some(content.len() as i64));
    let file_id = info.id.expect("id");
    let download = admin.download_file(&file_id).await.expect("download");
    assert_eq!(download.file_name.as_deref(), Some("from disk.bin"));
    assert_eq!(download.bytes().await.expect("bytes"), content);
}

#[tokio::test]
async fn a_png_gets_a_thumbnail_and_a_preview() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let image = png(64, 48);
    let info = admin
        .upload_file(
            &conn.channels.town_square,
            UploadFile::from_bytes("tiny.png", image.clone()).with_content_type("image/png"),
        )
        .await
        .expect("upload");
    assert_eq!(info.mime_type.as_deref(), Some("image/png"));
    assert_eq!((info.width, info.height), (Some(64), Some(48)));
    let file_id = info.id.expect("id");
    let post = support::post_with_files(
        &admin,
        &conn.channels.town_square,
        &support::unique("matterapi files "),
        vec![file_id.clone()],
    )
    .await;

    let thumbnail = eventually("thumbnail", || admin.download_thumbnail(&file_id)).await;
    assert!(
        thumbnail
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("image/")),
        "{thumbnail:?}"
    );
    let thumb = thumbnail.bytes().await.expect("thumbnail bytes");
    assert!(thumb.len() > 8);
    let preview = eventually("preview", || admin.download_preview(&file_id)).await;
    assert!(
        preview
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("image/"))
    );
    assert!(preview.bytes().await.expect("preview bytes").len() > 8);

    // The original is untouched.
    let original = admin.download_file(&file_id).await.expect("download");
    assert_eq!(original.bytes().await.expect("bytes"), image);

    delete_post(&admin, post.id.as_deref().expect("post id")).await;
}

#[tokio::test]
async fn alice_sets_her_profile_image() {
    let Some(conn) = support::live() else { return };
    let alice = support::login(&conn, &conn.user.username, &conn.user.password, None)
        .await
        .expect("alice logs in");
    let before = alice
        .get_user()
        .user_id(conn.user.id.as_str())
        .send()
        .await
        .expect("alice")
        .into_inner();

    let status = alice
        .set_profile_image(
            &conn.user.id,
            // The server ignores an image equal to the current one: a new one each run.
            UploadFile::from_bytes("me.png", png_stamped(32, 32, fresh_stamp()))
                .with_content_type("image/png"),
        )
        .await
        .expect("set profile image");
    assert_eq!(status.status.as_deref(), Some("OK"));

    let after = alice
        .get_user()
        .user_id(conn.user.id.as_str())
        .send()
        .await
        .expect("alice")
        .into_inner();
    assert!(
        after.last_picture_update.unwrap_or(0) > before.last_picture_update.unwrap_or(0),
        "last_picture_update moves: {:?} -> {:?}",
        before.last_picture_update,
        after.last_picture_update
    );

    // Not an image: the server's typed refusal.
    let err = alice
        .set_profile_image(&conn.user.id, UploadFile::from_bytes("me.png", "not a png"))
        .await
        .expect_err("not an image");
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn a_custom_emoji_is_created_and_deleted() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    let name = support::unique("mtr_");
    let emoji = admin
        .create_emoji(
            &name,
            &conn.admin.id,
            UploadFile::from_bytes("e.png", png(16, 16)),
        )
        .await
        .expect("create emoji");
    assert_eq!(emoji.name.as_deref(), Some(name.as_str()));
    assert_eq!(emoji.creator_id.as_deref(), Some(conn.admin.id.as_str()));
    let id = emoji.id.expect("emoji id");

    let again = admin
        .create_emoji(
            &name,
            &conn.admin.id,
            UploadFile::from_bytes("e.png", png(16, 16)),
        )
        .await
        .expect_err("same name twice");
    assert!(matches!(again, Error::Api(_)), "{again:?}");

    admin
        .delete_emoji()
        .emoji_id(id.as_str())
        .send()
        .await
        .expect("delete emoji");
    let gone = admin
        .get_emoji()
        .emoji_id(id.as_str())
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn a_resumable_upload_completes_in_two_parts() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);
    // The server wants a first part of at least 5 MiB unless it is the whole file.
    const FIRST: usize = 5 * 1024 * 1024;
    let content: Vec<u8> = (0..FIRST + 12_345).map(|i| (i * 31 % 256) as u8).collect();
    let name = format!("{}.bin", support::unique("resumable-"));

    let session = admin
        .create_upload_session(&conn.channels.town_square, &name, content.len() as u64)
        .await
        .expect("session");
    let upload_id = session.id.clone().expect("upload id");
    assert_eq!(session.file_size, Some(content.len() as i64));
    assert_eq!(session.file_offset, Some(0));

    let partial = admin
        .upload_session_data(&upload_id, bytes::Bytes::copy_from_slice(&content[..FIRST]))
        .await
        .expect("first part");
    assert!(
        partial.is_none(),
        "incomplete upload gives no file: {partial:?}"
    );
    let state = admin.get_upload_session(&upload_id).await.expect("state");
    assert_eq!(state.file_offset, Some(FIRST as i64));

    let info = admin
        .upload_session_data(&upload_id, content[FIRST..].to_vec())
        .await
        .expect("second part")
        .expect("complete upload gives the file");
    assert_eq!(info.name.as_deref(), Some(name.as_str()));
    assert_eq!(info.size, Some(content.len() as i64));

    let file_id = info.id.expect("file id");
    let post = support::post_with_files(
        &admin,
        &conn.channels.town_square,
        &support::unique("matterapi files "),
        vec![file_id.clone()],
    )
    .await;
    let download = admin.download_file(&file_id).await.expect("download");
    assert_eq!(download.content_length, Some(content.len() as u64));
    assert!(download.bytes().await.expect("bytes") == content);
    delete_post(&admin, post.id.as_deref().expect("post id")).await;
}

#[tokio::test]
async fn failures_are_typed_errors() {
    let Some(conn) = support::live() else { return };
    let admin = admin(&conn);

    let missing = admin
        .download_file("aaaaaaaaaaaaaaaaaaaaaaaaaa")
        .await
        .expect_err("no such file");
    assert!(matches!(missing, Error::Api(_)), "{missing:?}");
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
    assert!(missing.request_id().is_some());

    // Outside /api/v4 the server answers with a web page, kept as the error's body.
    let public = admin
        .download_public_file("aaaaaaaaaaaaaaaaaaaaaaaaaa", "nohash")
        .await
        .expect_err("no such file");
    match &public {
        Error::UnexpectedStatus { status, body, .. } => {
            assert_eq!(status.as_u16(), 404);
            assert!(!body.is_empty());
        }
        other => panic!("expected UnexpectedStatus, got {other:?}"),
    }

    // Bob is no member of a channel that does not exist: no upload there.
    let bob = support::login(&conn, &conn.user2.username, &conn.user2.password, None)
        .await
        .expect("bob logs in");
    let refused = bob
        .upload_files(
            "bbbbbbbbbbbbbbbbbbbbbbbbbb",
            vec![UploadFile::from_bytes("x.txt", "x")],
        )
        .await
        .expect_err("no permission");
    assert_eq!(
        refused.status().map(|s| s.as_u16()),
        Some(403),
        "{refused:?}"
    );
}
