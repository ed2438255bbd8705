//! The Python library's option document, accepted as that library's users write it, and what of
//! it this crate cannot do refused by name.

use std::time::Duration;

use matterapi::{Auth, Error, Options};
use serde_json::json;

/// The document as the Python library's README and options model write it: `httpx_client_options`
/// nested, its proxies dict keyed by URL pattern, `ws_url` the websocket base URL.
fn seed_document() -> serde_json::Value {
    json!({
        "url": "http://127.0.0.1:8065",
        "basepath": "/api/v4",
        "auth": {"login_id": "bot", "password": "secret", "mfa_token": null},
        "httpx_client_options": {
            "timeout": 20,
            "verify": false,
            "cert": null,
            "proxies": {"http://": "http://127.0.0.1:3128", "https://": "http://127.0.0.1:3129"},
            "auth": null
        },
        "ws_url": "ws://127.0.0.1:8091",
        "debug": true,
        "ws_concurrent": false,
        "ws_reconnect_wait_time": 7,
        "skip_response_parsing": true
    })
}

#[test]
fn the_seed_document_is_read_as_it_is_written() {
    for (how, result) in [
        (
            "from_json",
            Options::from_json(&seed_document().to_string()),
        ),
        ("from_value", Options::from_value(seed_document())),
        (
            "from_map",
            Options::from_map(seed_document().as_object().cloned().unwrap_or_default()),
        ),
    ] {
        let o = result.unwrap_or_else(|e| panic!("{how}: {e}"));
        assert_eq!(o.timeout, Duration::from_secs(20), "{how}");
        assert!(!o.verify, "{how}");
        assert_eq!(
            o.proxies.http.as_deref(),
            Some("http://127.0.0.1:3128"),
            "{how}"
        );
        assert_eq!(
            o.proxies.https.as_deref(),
            Some("http://127.0.0.1:3129"),
            "{how}"
        );
        assert!(
            o.debug && !o.ws_concurrent && o.skip_response_parsing,
            "{how}"
        );
        assert_eq!(o.ws_reconnect_wait_time, Duration::from_secs(7), "{how}");
        assert!(matches!(&o.auth, Some(Auth::Login { .. })), "{how}");
        // The seed's ws_url is the websocket's base URL: the API's websocket path is added.
        assert_eq!(
            o.websocket_url(),
            "ws://127.0.0.1:8091/api/v4/websocket",
            "{how}"
        );
    }
}

#[test]
fn verify_as_a_path_is_the_ca_bundle_and_cert_a_pair_is_cert_and_key() {
    let o = Options::from_value(json!({
        "url": "https://127.0.0.1:8443",
        "httpx_client_options": {"verify": "ca.pem", "cert": ["client.pem", "client.key"],
                                 "proxies": "http://127.0.0.1:3128", "trust_env": false}
    }))
    .unwrap();
    assert!(o.verify);
    assert_eq!(o.ca_cert.as_deref(), Some(std::path::Path::new("ca.pem")));
    assert_eq!(
        o.client_cert.as_deref(),
        Some(std::path::Path::new("client.pem"))
    );
    assert_eq!(
        o.client_key.as_deref(),
        Some(std::path::Path::new("client.key"))
    );
    assert_eq!(o.proxies.all.as_deref(), Some("http://127.0.0.1:3128"));
    assert!(!o.proxies.from_env);
}

#[test]
fn the_proxies_dict_is_also_taken_at_the_top_level() {
    let o = Options::from_value(json!({
        "url": "http://127.0.0.1:8065",
        "proxies": {"all://": "http://127.0.0.1:3128"}
    }))
    .unwrap();
    assert_eq!(o.proxies.all.as_deref(), Some("http://127.0.0.1:3128"));
}

#[test]
fn what_the_crate_cannot_do_is_refused_by_name() {
    let base = |nested: serde_json::Value| json!({"url": "http://127.0.0.1:8065", "httpx_client_options": nested});
    let cases = [
        (
            "basic auth of the HTTP client",
            base(json!({"auth": ["u", "p"]})),
            "httpx_client_options.auth",
        ),
        (
            "a key password",
            base(json!({"cert": ["c.pem", "k.pem", "pw"]})),
            "key password",
        ),
        (
            "a per-host proxy pattern",
            base(json!({"proxies": {"all://example.com": "http://127.0.0.1:1"}})),
            "all://example.com",
        ),
        (
            "another httpx option",
            base(json!({"follow_redirects": true})),
            "follow_redirects",
        ),
        (
            "per-phase timeouts",
            base(json!({"timeout": {"connect": 1}})),
            "per-phase",
        ),
        (
            "a conflict with the top level",
            json!({"url": "http://127.0.0.1:8065", "timeout": 5, "httpx_client_options": {"timeout": 20}}),
            "conflicts",
        ),
        ("not an object", base(json!(true)), "must be an object"),
    ];
    for (what, doc, expected) in cases {
        let err = Options::from_value(doc).expect_err(what);
        assert!(matches!(err, Error::Config(_)), "{what}: {err:?}");
        assert!(err.to_string().contains(expected), "{what}: {err}");
    }
}

#[test]
fn a_ws_url_with_a_path_is_used_as_it_is() {
    let o = Options::builder("http://127.0.0.1:8065")
        .ws_url("ws://127.0.0.1:8091/custom/websocket")
        .options()
        .unwrap();
    assert_eq!(o.websocket_url(), "ws://127.0.0.1:8091/custom/websocket");
    let o = Options::builder("http://127.0.0.1:8065")
        .basepath("/mm/api/v4")
        .ws_url("wss://127.0.0.1:8443/")
        .options()
        .unwrap();
    assert_eq!(
        o.websocket_url(),
        "wss://127.0.0.1:8443/mm/api/v4/websocket"
    );
}
