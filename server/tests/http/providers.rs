//! The other side of provider log-in: a real OpenID provider (`oidc-provider` from npm, the
//! script in `end2end/oidc/`), fakes of GitHub, Apple and Facebook (and a generic OpenID
//! provider whose ID tokens a test can break) that speak their real response shapes, and a
//! browser that keeps the app's cookies and follows the dance.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
use reqwest::redirect;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use server::testing::{location, set_cookies, TestApp, CANARY_PASSWORD};

/// The base URL the app believes it has (its redirect URIs start with it).
pub const APP_BASE: &str = "http://localhost:3000";
pub const OP_CLIENT_ID: &str = "test-rp";
pub const OP_CLIENT_SECRET: &str = "test-rp-secret-0123456789abcdef";
pub const FAKE_SECRET: &str = "fake-client-secret";

/// The shared real OpenID provider: started once per test binary, stopped when it exits (the
/// script ends when its standard input closes).
pub fn openid_provider() -> &'static str {
    static ISSUER: OnceLock<String> = OnceLock::new();
    ISSUER.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/oidc/provider.mjs");
        let redirects = ["oidc", "corp"]
            .map(|name| format!("{APP_BASE}/auth/{name}/callback"))
            .join(",");
        let mut child = std::process::Command::new("node")
            .arg(script)
            .env("PORT", port.to_string())
            .env("RP_REDIRECTS", redirects)
            .env("EXIT_WITH_STDIN", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs the OpenID provider (run `make setup` for oidc-provider)");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("the provider starts");
        assert!(line.starts_with("ready "), "the provider said {line:?}");
        // Its later notices must find a reader, or it dies writing them.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        // Kept for the life of the test binary; its stdin closes when the binary exits.
        std::mem::forget(child);
        format!("http://127.0.0.1:{port}")
    })
}

/// Settings for a provider named `name` of `kind` at `issuer`.
pub fn openid_settings(
    name: &str,
    issuer: &str,
    client_id: &str,
    secret: &str,
) -> Vec<(&'static str, String)> {
    let upper = name.to_uppercase();
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    vec![
        ("SIGRA_OAUTH_ALLOW_HTTP_LOOPBACK", "true".to_owned()),
        (leak(format!("SIGRA_OAUTH_{upper}_KIND")), "oidc".to_owned()),
        (
            leak(format!("SIGRA_OAUTH_{upper}_ISSUER")),
            issuer.to_owned(),
        ),
        (
            leak(format!("SIGRA_OAUTH_{upper}_CLIENT_ID")),
            client_id.to_owned(),
        ),
        (
            leak(format!("SIGRA_OAUTH_{upper}_CLIENT_SECRET")),
            secret.to_owned(),
        ),
    ]
}

/// The real OpenID provider as `oidc`.
pub fn op_settings() -> Vec<(&'static str, String)> {
    openid_settings("oidc", openid_provider(), OP_CLIENT_ID, OP_CLIENT_SECRET)
}

/// A browser: the app's cookies, kept by hand (they are `__Host-` and Secure, which HTTP cookie
/// jars drop over plain http), and the provider's, in a separate jar.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub jar: BTreeMap<String, String>,
    provider_jar: BTreeMap<String, String>,
    client: reqwest::Client,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            jar: BTreeMap::new(),
            provider_jar: BTreeMap::new(),
            client: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    pub fn cookies(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(String::as_str)
    }

    fn absorb(jar: &mut BTreeMap<String, String>, headers: &HeaderMap) {
        for line in set_cookies(headers) {
            let pair = line.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if value.is_empty() || line.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// A GET of the app, as a navigation.
    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let cookies = self.cookies();
        let response = self
            .app
            .get(
                path,
                Some(&cookies).filter(|c| !c.is_empty()).map(String::as_str),
            )
            .await;
        Self::absorb(&mut self.jar, response.headers());
        response
    }

    /// A same-site form post to the app.
    pub async fn post(
        &mut self,
        path: &str,
        from: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let cookies = self.cookies();
        let response = self
            .app
            .post_form(
                path,
                from,
                form,
                Some(&cookies).filter(|c| !c.is_empty()).map(String::as_str),
            )
            .await;
        Self::absorb(&mut self.jar, response.headers());
        response
    }

    /// Re-enters the password (sudo), coming back to `return_to`; the session's new token
    /// replaces the old in the jar.
    pub async fn enter_sudo(&mut self, return_to: &str) {
        let form = [("password", CANARY_PASSWORD), ("return_to", return_to)];
        let response = self.post("/users/sudo", "/users/sudo", &form).await;
        assert_eq!(location(&response), return_to);
    }

    /// Signs out at the provider (its cookies go), so the next authorization asks who it is.
    pub fn forget_provider_session(&mut self) {
        self.provider_jar.clear();
    }

    /// Starts a log-in with `provider`: the provider URL the app sends the browser to.
    pub async fn start(&mut self, provider: &str, return_to: Option<&str>) -> String {
        let path = match return_to {
            Some(target) => format!("/auth/{provider}?return_to={}", urlencode(target)),
            None => format!("/auth/{provider}"),
        };
        let response = self.get(&path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        location(&response)
    }

    /// Follows a provider's redirects (and its interaction pages) until it sends the browser
    /// back to the app: the callback path and query, under the app.
    pub async fn through_provider(&mut self, url: &str) -> String {
        let mut next = url.to_owned();
        for _ in 0..12 {
            if let Some(path) = next.strip_prefix(APP_BASE) {
                return path.to_owned();
            }
            let cookies = self
                .provider_jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let response = self
                .client
                .get(&next)
                .header(header::COOKIE, cookies)
                .send()
                .await
                .expect("the provider answers");
            Self::absorb(&mut self.provider_jar, response.headers());
            let status = response.status();
            let target = location(&response);
            assert!(
                status.is_redirection(),
                "{next} answered {status}: {}",
                response.text().await.unwrap_or_default()
            );
            next = url::Url::parse(&next)
                .expect("url")
                .join(&target)
                .expect("joins")
                .to_string();
        }
        panic!("the provider never sent the browser back");
    }

    /// The callback, in this browser.
    pub async fn callback(&mut self, path: &str) -> reqwest::Response {
        self.get(path).await
    }

    /// The whole log-in with the real provider as `account`: the app's last answer.
    pub async fn sign_in_with_op(&mut self, account: &str) -> reqwest::Response {
        let url = self.start("oidc", None).await;
        let callback = self
            .through_provider(&with_query(&url, "login_hint", account))
            .await;
        self.callback(&callback).await
    }
}

pub fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `url` with the query parameter `name` set to `value` (replacing it if present).
pub fn with_query(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("url");
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    parsed.to_string()
}

/// A query parameter of a URL or path.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(&format!("{APP_BASE}{url}"))
        .or_else(|_| url::Url::parse(url))
        .ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

// ---- fakes ----

/// Which provider a fake plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// A generic OpenID provider (`kind = oidc`), ES256 ID tokens.
    OpenId,
    /// Apple: ES256 ID tokens, `form_post`, a signed client secret, the name once.
    Apple,
    /// GitHub: `/user` and `/user/emails`.
    Github,
    /// Facebook: the Graph API's `/me`.
    Facebook,
}

/// How a fake's ID token is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    WrongIssuer,
    WrongAudience,
    Expired,
    OtherKey,
    AlgNone,
}

/// What the fake says and does; a test changes it between flows.
#[derive(Clone, Debug)]
pub struct Behaviour {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: Value,
    pub name: Option<String>,
    pub fault: Option<Fault>,
    /// Seconds before now of the `auth_time` claim.
    pub auth_age: i64,
    /// The token endpoint answers with a redirect (which must not be followed).
    pub token_redirects: bool,
    /// GitHub's `/user/emails` list.
    pub github_emails: Vec<Value>,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<String>,
    /// How long the token endpoint waits before it answers.
    pub token_delay: Duration,
    /// Seconds added to the real time in the ID token's times, to follow an app whose
    /// clock a test moved forward.
    pub clock_offset: i64,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            subject: "fake-user-1".to_owned(),
            email: Some("fake-user@example.test".to_owned()),
            email_verified: Value::Bool(true),
            name: Some("Fake User".to_owned()),
            fault: None,
            auth_age: 0,
            token_redirects: false,
            github_emails: Vec::new(),
            expires_in: None,
            refresh_token: None,
            token_delay: Duration::ZERO,
            clock_offset: 0,
        }
    }
}

/// A P-256 key: its PEM (PKCS#8) and public JWK.
pub struct EcKey {
    pub pem: String,
    pub jwk: Value,
}

impl EcKey {
    pub fn generate(kid: &str) -> Self {
        let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .expect("pem")
            .to_string();
        let point = secret.public_key().to_encoded_point(false);
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
            "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y")),
        });
        Self { pem, jwk }
    }

    fn sign(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ec_pem(self.pem.as_bytes()).expect("key"),
        )
        .expect("signs")
    }
}

struct Grant {
    nonce: Option<String>,
    challenge: String,
    redirect_uri: String,
}

pub struct FakeState {
    flavour: Flavour,
    base: String,
    client_id: String,
    pub behaviour: Mutex<Behaviour>,
    grants: Mutex<HashMap<String, Grant>>,
    signing: Mutex<(String, EcKey)>,
    /// Apple's team key: the public half verifies the client secret the app signs.
    pub team_key: EcKey,
    pub token_requests: AtomicUsize,
    pub trap_hits: AtomicUsize,
    pub refreshes: AtomicUsize,
    discovery_requests: AtomicUsize,
    key_requests: AtomicUsize,
    /// Every client secret the app authenticated with, in order (Apple's are JWTs).
    client_secrets: Mutex<Vec<String>>,
    codes_issued: AtomicUsize,
}

/// A fake provider on 127.0.0.1.
pub struct FakeProvider {
    pub base: String,
    pub state: Arc<FakeState>,
}

impl FakeProvider {
    pub async fn start(flavour: Flavour, client_id: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address: SocketAddr = listener.local_addr().expect("address");
        let base = format!("http://127.0.0.1:{}", address.port());
        let state = Arc::new(FakeState {
            flavour,
            base: base.clone(),
            client_id: client_id.to_owned(),
            behaviour: Mutex::new(Behaviour::default()),
            grants: Mutex::new(HashMap::new()),
            signing: Mutex::new(("fake-key-1".to_owned(), EcKey::generate("fake-key-1"))),
            team_key: EcKey::generate("KEY123"),
            token_requests: AtomicUsize::new(0),
            trap_hits: AtomicUsize::new(0),
            refreshes: AtomicUsize::new(0),
            discovery_requests: AtomicUsize::new(0),
            key_requests: AtomicUsize::new(0),
            client_secrets: Mutex::new(Vec::new()),
            codes_issued: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/user", get(userinfo))
            .route("/me", get(userinfo))
            .route("/user/emails", get(github_emails))
            .route("/trap", get(trap))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move { axum::serve(listener, router).await.ok() });
        Self { base, state }
    }

    /// Changes what the fake says and does from now on.
    pub fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.state.behaviour.lock().expect("lock"));
    }

    /// Signs with a new key (its id too), as a provider rotating its keys does.
    pub fn rotate_key(&self) {
        let kid = format!("fake-key-{}", uuid::Uuid::new_v4().simple());
        *self.state.signing.lock().expect("lock") = (kid.clone(), EcKey::generate(&kid));
    }

    /// The app's settings for this fake as `name`.
    pub fn settings(&self, name: &str) -> Vec<(&'static str, String)> {
        let upper = name.to_uppercase();
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let key = |field: &str| leak(format!("SIGRA_OAUTH_{upper}_{field}"));
        let mut settings = vec![
            ("SIGRA_OAUTH_ALLOW_HTTP_LOOPBACK", "true".to_owned()),
            (key("CLIENT_ID"), self.state.client_id.clone()),
        ];
        match self.state.flavour {
            Flavour::OpenId => {
                settings.push((key("KIND"), "oidc".to_owned()));
                settings.push((key("ISSUER"), self.base.clone()));
                settings.push((key("CLIENT_SECRET"), FAKE_SECRET.to_owned()));
            }
            Flavour::Apple => {
                settings.push((key("ISSUER"), self.base.clone()));
                settings.push((key("TEAM_ID"), "TEAM123".to_owned()));
                settings.push((key("KEY_ID"), "KEY123".to_owned()));
                settings.push((key("PRIVATE_KEY"), self.state.team_key.pem.clone()));
            }
            Flavour::Github | Flavour::Facebook => {
                settings.push((key("CLIENT_SECRET"), FAKE_SECRET.to_owned()));
                settings.push((key("AUTHORIZE_URL"), format!("{}/authorize", self.base)));
                settings.push((key("TOKEN_URL"), format!("{}/token", self.base)));
                let userinfo = if self.state.flavour == Flavour::Github {
                    "user"
                } else {
                    "me"
                };
                settings.push((key("USERINFO_URL"), format!("{}/{userinfo}", self.base)));
                if self.state.flavour == Flavour::Github {
                    settings.push((key("EMAILS_URL"), format!("{}/user/emails", self.base)));
                }
            }
        }
        settings
    }

    pub fn token_requests(&self) -> usize {
        self.state.token_requests.load(Ordering::SeqCst)
    }

    /// How many times the discovery document was fetched.
    pub fn discovery_requests(&self) -> usize {
        self.state.discovery_requests.load(Ordering::SeqCst)
    }

    /// How many times the signing keys (JWKS) were fetched.
    pub fn key_requests(&self) -> usize {
        self.state.key_requests.load(Ordering::SeqCst)
    }

    /// The client secrets the app authenticated with, oldest first.
    pub fn client_secrets(&self) -> Vec<String> {
        self.state.client_secrets.lock().expect("lock").clone()
    }
}

async fn discovery(State(state): State<Arc<FakeState>>) -> Json<Value> {
    state.discovery_requests.fetch_add(1, Ordering::SeqCst);
    let base = &state.base;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
    }))
}

async fn jwks(State(state): State<Arc<FakeState>>) -> Json<Value> {
    state.key_requests.fetch_add(1, Ordering::SeqCst);
    let signing = state.signing.lock().expect("lock");
    Json(json!({ "keys": [signing.1.jwk] }))
}

async fn authorize(
    State(state): State<Arc<FakeState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(
        query.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert_eq!(query.get("client_id"), Some(&state.client_id));
    let n = state.codes_issued.fetch_add(1, Ordering::SeqCst);
    let code = format!("code-{n}-{}", URL_SAFE_NO_PAD.encode(rand_bytes()));
    let redirect_uri = query.get("redirect_uri").cloned().unwrap_or_default();
    state.grants.lock().expect("lock").insert(
        code.clone(),
        Grant {
            nonce: query.get("nonce").cloned(),
            challenge: query.get("code_challenge").cloned().unwrap_or_default(),
            redirect_uri: redirect_uri.clone(),
        },
    );
    let app_state = query.get("state").cloned().unwrap_or_default();
    if state.flavour == Flavour::Apple {
        assert_eq!(
            query.get("response_mode").map(String::as_str),
            Some("form_post")
        );
        // Apple posts the answer from the user's browser, the name on the first time only.
        let behaviour = state.behaviour.lock().expect("lock").clone();
        let user = behaviour.name.map(|name| {
            let (first, last) = name.split_once(' ').unwrap_or((&name, ""));
            json!({"name": {"firstName": first, "lastName": last}, "email": behaviour.email})
                .to_string()
        });
        let escape = |s: &str| {
            s.replace('&', "&amp;")
                .replace('"', "&quot;")
                .replace('<', "&lt;")
        };
        let user_field = user
            .map(|u| {
                format!(
                    r#"<input type="hidden" name="user" value="{}">"#,
                    escape(&u)
                )
            })
            .unwrap_or_default();
        return Html(format!(
            r#"<!doctype html><form method="post" action="{}"><input type="hidden" name="code" value="{}"><input type="hidden" name="state" value="{}">{user_field}</form><script>document.forms[0].submit()</script>"#,
            escape(&redirect_uri),
            escape(&code),
            escape(&app_state)
        ))
        .into_response();
    }
    let mut target = url::Url::parse(&redirect_uri).expect("redirect uri");
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &app_state);
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

fn rand_bytes() -> [u8; 16] {
    use p256::elliptic_curve::rand_core::RngCore as _;
    let mut bytes = [0_u8; 16];
    p256::elliptic_curve::rand_core::OsRng.fill_bytes(&mut bytes);
    bytes
}

async fn token(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    state.token_requests.fetch_add(1, Ordering::SeqCst);
    let behaviour = state.behaviour.lock().expect("lock").clone();
    tokio::time::sleep(behaviour.token_delay).await;
    if behaviour.token_redirects {
        return (
            StatusCode::FOUND,
            [(header::LOCATION, format!("{}/trap", state.base))],
        )
            .into_response();
    }
    if !client_authenticated(&state, &headers, &form) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let invalid_grant = || {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response()
    };
    let nonce = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some(grant) = form
                .get("code")
                .and_then(|c| state.grants.lock().expect("lock").remove(c))
            else {
                return invalid_grant();
            };
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if challenge != grant.challenge || form.get("redirect_uri") != Some(&grant.redirect_uri)
            {
                return invalid_grant();
            }
            grant.nonce
        }
        Some("refresh_token") => {
            if form.get("refresh_token") != behaviour.refresh_token.as_ref() {
                return invalid_grant();
            }
            state.refreshes.fetch_add(1, Ordering::SeqCst);
            None
        }
        _ => return invalid_grant(),
    };
    let n = state.token_requests.load(Ordering::SeqCst);
    let mut answer = json!({
        "access_token": format!("fake-access-token-{n}"),
        "token_type": "Bearer",
    });
    if let Some(expires_in) = behaviour.expires_in {
        answer["expires_in"] = expires_in.into();
    }
    if let Some(refresh) = &behaviour.refresh_token {
        answer["refresh_token"] = refresh.clone().into();
    }
    if matches!(state.flavour, Flavour::OpenId | Flavour::Apple)
        && form.get("grant_type").map(String::as_str) == Some("authorization_code")
    {
        answer["id_token"] = id_token(&state, &behaviour, nonce).into();
    }
    Json(answer).into_response()
}

fn client_authenticated(
    state: &FakeState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> bool {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok());
    let (id, secret) = match basic {
        Some(pair) => {
            let (id, secret) = pair.split_once(':').unwrap_or_default();
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            (decode(id), decode(secret))
        }
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if id != state.client_id {
        return false;
    }
    state
        .client_secrets
        .lock()
        .expect("lock")
        .push(secret.clone());
    if state.flavour != Flavour::Apple {
        return secret == FAKE_SECRET;
    }
    // Apple's client secret is an ES256 JWT signed with the team's key.
    let key = jsonwebtoken::DecodingKey::from_jwk(
        &serde_json::from_value(state.team_key.jwk.clone()).expect("jwk"),
    )
    .expect("key");
    let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
    validation.set_audience(&[state.base.as_str()]);
    validation.set_issuer(&["TEAM123"]);
    jsonwebtoken::decode::<Value>(&secret, &key, &validation).is_ok_and(|data| {
        data.claims["sub"] == state.client_id.as_str()
            && jsonwebtoken::decode_header(&secret)
                .is_ok_and(|h| h.kid.as_deref() == Some("KEY123"))
    })
}

fn id_token(state: &FakeState, behaviour: &Behaviour, nonce: Option<String>) -> String {
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .as_secs(),
    )
    .expect("seconds")
        + behaviour.clock_offset;
    let mut claims = json!({
        "iss": state.base, "aud": state.client_id, "sub": behaviour.subject,
        "iat": now, "exp": now + 600, "auth_time": now - behaviour.auth_age,
        "nonce": nonce,
    });
    if let Some(email) = &behaviour.email {
        claims["email"] = email.clone().into();
        claims["email_verified"] = behaviour.email_verified.clone();
    }
    if state.flavour == Flavour::OpenId {
        if let Some(name) = &behaviour.name {
            claims["name"] = name.clone().into();
        }
    }
    match behaviour.fault {
        Some(Fault::WrongIssuer) => claims["iss"] = "https://evil.example".into(),
        Some(Fault::WrongAudience) => claims["aud"] = "someone-else".into(),
        Some(Fault::Expired) => claims["exp"] = (now - 3600).into(),
        _ => {}
    }
    let signing = state.signing.lock().expect("lock");
    match behaviour.fault {
        Some(Fault::OtherKey) => EcKey::generate(&signing.0).sign(&signing.0, &claims),
        Some(Fault::AlgNone) => {
            let header =
                URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": signing.0}).to_string());
            let body = URL_SAFE_NO_PAD.encode(claims.to_string());
            format!("{header}.{body}.")
        }
        _ => signing.1.sign(&signing.0, &claims),
    }
}

async fn userinfo(State(state): State<Arc<FakeState>>, headers: HeaderMap) -> Response {
    if headers.get(header::AUTHORIZATION).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let behaviour = state.behaviour.lock().expect("lock").clone();
    match state.flavour {
        // GitHub's id is a number; its `email` is the public one, which may be null.
        Flavour::Github => Json(json!({
            "id": behaviour.subject.parse::<u64>().unwrap_or(4242),
            "login": "octo", "name": behaviour.name, "avatar_url": "https://avatars.example/u/1",
            "email": Value::Null,
        }))
        .into_response(),
        Flavour::Facebook => Json(json!({
            "id": behaviour.subject, "name": behaviour.name, "email": behaviour.email,
            "picture": {"data": {"url": "https://graph.example/p.jpg"}},
        }))
        .into_response(),
        Flavour::OpenId | Flavour::Apple => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn github_emails(State(state): State<Arc<FakeState>>) -> Json<Value> {
    Json(Value::Array(
        state.behaviour.lock().expect("lock").github_emails.clone(),
    ))
}

async fn trap(State(state): State<Arc<FakeState>>) -> StatusCode {
    state.trap_hits.fetch_add(1, Ordering::SeqCst);
    StatusCode::OK
}

/// The hidden fields of an auto-posting form (Apple's `form_post` page).
pub fn posted_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&amp;", "&")
    };
    html.split("<input ")
        .skip(1)
        .filter_map(|input| {
            let attr = |name: &str| {
                let start = input.find(&format!("{name}=\""))? + name.len() + 2;
                let end = input[start..].find('"')? + start;
                Some(unescape(&input[start..end]))
            };
            Some((attr("name")?, attr("value")?))
        })
        .collect()
}
