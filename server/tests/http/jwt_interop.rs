//! An independent JWT library (Python's PyJWT, from `make test-tools`) reads the app's tokens
//! against its JWKS with the algorithm pinned and every claim required (security.md J6), and
//! tokens it makes with the operator's key are accepted.

use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use server::testing::{on_each_engine, on_each_engine_with, Setup, TestApp, CANARY_PASSWORD};

/// Runs a Python snippet with PyJWT and returns what it prints.
fn python(script: &str, args: &[&str]) -> String {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/python");
    assert!(python.exists(), "PyJWT is missing: run `make test-tools`");
    let output = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const VERIFY: &str = r#"
import json, sys, jwt
token, jwks_url = sys.argv[1], sys.argv[2]
key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
header = jwt.get_unverified_header(token)
claims = jwt.decode(
    token, key, algorithms=["EdDSA"], audience="http://localhost:3000/api/v1",
    issuer="http://localhost:3000",
    options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
    # The app's test clock started at the wall clock's now, which PyJWT reads.
    leeway=30,
)
print(json.dumps({"header": header, "claims": claims}))
"#;

// Python fetches the JWKS while the test waits for it: the app must run on other threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyjwt_verifies_the_apps_access_tokens_against_its_jwks() {
    on_each_engine(|app: TestApp| async move {
        app.register("pyjwt@example.com", CANARY_PASSWORD).await;
        let (status, tokens) = app.api_log_in("pyjwt@example.com", CANARY_PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
        let access = tokens["access_token"].as_str().expect("access");
        let jwks = format!("{}/.well-known/jwks.json", app.address);
        let read: Value = serde_json::from_str(&python(VERIFY, &[access, &jwks])).expect("json");
        assert_eq!(read["header"]["alg"], "EdDSA");
        assert_eq!(read["header"]["typ"], "at+jwt");
        assert!(read["header"]["kid"]
            .as_str()
            .is_some_and(|k| !k.is_empty()));
        assert_eq!(read["claims"]["iss"], "http://localhost:3000");
        assert!(read["claims"]["scope"]
            .as_str()
            .is_some_and(|s| s.contains("profile:read")));
        assert_eq!(read["claims"]["epoch"], 0);
    })
    .await;
}

/// Prints a new PKCS#8 PEM private key of the curve named by the first argument.
const KEY: &str = r#"
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
key = ed25519.Ed25519PrivateKey.generate() if sys.argv[1] == "Ed25519" else ec.generate_private_key(ec.SECP256R1())
print(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())
"#;

const MINT: &str = r#"
import json, sys, jwt
pem, claims, kid, alg = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
print(jwt.encode(claims, pem, algorithm=alg, headers={"kid": kid, "typ": "at+jwt"}))
"#;

/// The RFC 7638 thumbprint of a public JWK, computed independently of the app.
const THUMBPRINT: &str = r#"
import base64, hashlib, json, sys
jwk = json.loads(sys.argv[1])
members = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}[jwk["kty"]]
canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
print(base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_pyjwt_makes_with_the_operators_key_are_accepted_and_forged_ones_are_not() {
    operators_key_signs_and_verifies("Ed25519", "EdDSA").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_p256_key_file_signs_es256_tokens_under_its_thumbprint() {
    operators_key_signs_and_verifies("P-256", "ES256").await;
}

/// With `SIGRA_JWT_PRIVATE_KEY_FILE` holding a `curve` key: the app's tokens are signed by it
/// under its RFC 7638 thumbprint, it is the only key published, tokens PyJWT makes with it are
/// accepted, forged ones are not, and rotation is refused.
async fn operators_key_signs_and_verifies(curve: &'static str, alg: &'static str) {
    let pem = python(KEY, &[curve]);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("jwt.pem");
    std::fs::write(&path, &pem).expect("write the key");
    let path = path.display().to_string();
    on_each_engine_with(
        || Setup {
            env: vec![
                ("SIGRA_JWT_PRIVATE_KEY_FILE", path.clone()),
                ("SIGRA_JWT_ALGORITHM", alg.to_owned()),
            ],
            ..Setup::default()
        },
        |app: TestApp| {
            let pem = pem.clone();
            async move {
                app.register("minted@example.com", CANARY_PASSWORD).await;
                let (_, tokens) = app.api_log_in("minted@example.com", CANARY_PASSWORD).await;
                let ours = tokens["access_token"].as_str().expect("access").to_owned();
                let me: Value = app
                    .api(Method::GET, "/api/v1/me", Some(&ours), None)
                    .await
                    .json()
                    .await
                    .expect("json");
                assert!(me["id"].is_string(), "our own token works: {me}");
                let jwks: Value = app
                    .api(Method::GET, "/.well-known/jwks.json", None, None)
                    .await
                    .json()
                    .await
                    .expect("json");
                assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1), "only the operator's key");
                let kid = jwks["keys"][0]["kid"].as_str().expect("kid").to_owned();
                let thumbprint = python(THUMBPRINT, &[&jwks["keys"][0].to_string()]);
                assert_eq!(kid, thumbprint.trim(), "the kid is the key's thumbprint");
                let header = ours.split('.').next().expect("header");
                let header: Value = serde_json::from_slice(
                    &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                        .expect("base64url"),
                )
                .expect("json");
                assert_eq!((header["alg"].as_str(), header["kid"].as_str()), (Some(alg), Some(kid.as_str())));
                let now = app.sigra.now().as_millis() / 1000;
                let claims = serde_json::json!({
                    "iss": "http://localhost:3000", "sub": me["id"], "aud": "http://localhost:3000/api/v1",
                    "exp": now + 300, "iat": now, "nbf": now, "jti": "pyjwt0001",
                    "scope": "profile:read", "epoch": 0,
                });
                let minted = python(MINT, &[&pem, &claims.to_string(), &kid, alg]).trim().to_owned();
                let response = app.api(Method::GET, "/api/v1/me", Some(&minted), None).await;
                assert_eq!(response.status(), StatusCode::OK, "a token PyJWT made with the key");
                let mut wrong = claims.clone();
                wrong["aud"] = serde_json::json!("https://elsewhere.example");
                let minted = python(MINT, &[&pem, &wrong.to_string(), &kid, alg]).trim().to_owned();
                let response = app.api(Method::GET, "/api/v1/me", Some(&minted), None).await;
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
                let other_key = python(KEY, &[curve]);
                let forged = python(MINT, &[&other_key, &claims.to_string(), &kid, alg]).trim().to_owned();
                let response = app.api(Method::GET, "/api/v1/me", Some(&forged), None).await;
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "another key under our kid");
                let refused = app
                    .sigra
                    .jwt()
                    .rotate_keys(&sigra::request::RequestContext::command("test"))
                    .await;
                assert!(refused.is_err(), "a configured key is rotated by replacing the file");
            }
        },
    )
    .await;
}
