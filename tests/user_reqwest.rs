//! An application's own `reqwest::Client` in the same binary as matterapi: matterapi's TLS
//! features must not break it, nor take the process-wide rustls crypto provider away from it.
//!
//! The test binary's `reqwest` has exactly the features matterapi enables (nothing else in the
//! tests asks for TLS from it), which is the case of an application that depends on
//! `reqwest = { default-features = false, features = ["json"] }`. Everything runs in one test, in
//! order, because the crypto provider is process-wide state.

mod support;

use matterapi::Client;
use support::tls::{Pki, https_server, seen};

const TOKEN: &str = "tok-user-reqwest-1f2e3d4c";
const USER: &str = r#"{"id":"u1","username":"alice","email":"alice@example.com"}"#;

async fn app_get(app: &reqwest::Client, url: &str) -> String {
    let reply = app.get(url).send().await.expect("the app's request");
    assert_eq!(reply.status(), 200);
    reply.text().await.expect("the app's reply body")
}

#[cfg(feature = "rustls")]
#[tokio::test]
async fn the_applications_own_reqwest_client_works_before_and_after_matterapi() {
    let pki = Pki::new();
    let server = https_server(&pki, false, USER).await;
    let ca = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).expect("CA PEM");

    // The application builds its client first, before any matterapi client exists.
    let app = reqwest::Client::builder()
        .add_root_certificate(ca.clone())
        .build()
        .expect("the app's reqwest client builds before any matterapi client");
    assert_eq!(
        app_get(&app, &format!("{}/app/first", server.url())).await,
        USER
    );

    // Then a matterapi client over TLS, trusting the same CA.
    let dir = support::tls::TempDir::new("user-reqwest");
    let ca_file = dir.write("ca.pem", &pki.ca_pem);
    let client = Client::builder(server.url())
        .token(TOKEN)
        .ca_cert(ca_file)
        .build()
        .expect("matterapi client");
    let me = client.get_user().user_id("me").send().await.expect("me");
    assert_eq!(me.username.as_deref(), Some("alice"));

    // matterapi took no process-wide provider: the application may still install its own.
    assert!(
        rustls::crypto::ring::default_provider()
            .install_default()
            .is_ok(),
        "matterapi installed a process-wide rustls crypto provider"
    );

    // And a client the application builds afterwards works too.
    let later = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .expect("the app's second reqwest client");
    assert_eq!(
        app_get(&later, &format!("{}/app/second", server.url())).await,
        USER
    );
    assert_eq!(
        app_get(&app, &format!("{}/app/third", server.url())).await,
        USER
    );

    assert_eq!(
        seen(&server.requests),
        vec![
            "GET /app/first HTTP/1.1".to_owned(),
            "GET /api/v4/users/me HTTP/1.1".to_owned(),
            "GET /app/second HTTP/1.1".to_owned(),
            "GET /app/third HTTP/1.1".to_owned(),
        ]
    );
}
