//! The optional breached-password check, against a local fake range endpoint.

use axum::extract::Path;
use axum::routing::get;
use reqwest::StatusCode;
use sha1::{Digest, Sha1};

use server::testing::{on_each_engine_with, Setup, TestApp};

const BREACHED: &str = "this passphrase leaked in a breach";
const FINE: &str = "this passphrase never leaked anywhere";

/// A Pwned Passwords style `/range/{prefix}` server that knows one breached password.
async fn fake_range_endpoint() -> String {
    let digest = hex::encode_upper(Sha1::digest(BREACHED.as_bytes()));
    let (known_prefix, known_suffix) = (digest[..5].to_owned(), digest[5..].to_owned());
    let router = axum::Router::new().route(
        "/range/{prefix}",
        get(move |Path(prefix): Path<String>| {
            let (known_prefix, known_suffix) = (known_prefix.clone(), known_suffix.clone());
            async move {
                // Padding lines with a zero count, as the real service sends.
                let mut body = String::from("0000000000000000000000000000000000A:0\r\n");
                if prefix == known_prefix {
                    body.push_str(&format!("{known_suffix}:42\r\n"));
                }
                body
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}/range/")
}

#[tokio::test]
async fn breached_passwords_are_refused_when_the_check_is_on() {
    let url = fake_range_endpoint().await;
    let setup = move || Setup {
        env: vec![("SIGRA_PASSWORD_BREACH_CHECK_URL", url.clone())],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let refused = app
            .call_json(
                "/users/register",
                &[("email", "a@example.com"), ("password", BREACHED)],
                None,
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            refused.text().await.expect("body"),
            r#"{"WeakPassword":"Breached"}"#
        );
        let accepted = app
            .call_json(
                "/users/register",
                &[("email", "b@example.com"), ("password", FINE)],
                None,
            )
            .await;
        assert_eq!(accepted.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_breach_endpoint_fails_open() {
    let setup = || Setup {
        env: vec![(
            "SIGRA_PASSWORD_BREACH_CHECK_URL",
            "http://127.0.0.1:9/range/".to_owned(),
        )],
        ..Setup::default()
    };
    on_each_engine_with(setup, |app: TestApp| async move {
        let accepted = app
            .call_json(
                "/users/register",
                &[("email", "c@example.com"), ("password", BREACHED)],
                None,
            )
            .await;
        assert_eq!(accepted.status(), StatusCode::OK);
    })
    .await;
}
