//! Speaking HTTP to the app as a browser or an API client does, with cookies handled by hand
//! (a `__Host-` cookie is Secure, and HTTP cookie jars drop Secure cookies over plain http).

use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{redirect, Response, StatusCode};

use super::CANARY_PASSWORD;

/// Speaks to one server over HTTP as a browser or an API client would, with cookies passed by
/// hand. A [`TestApp`] is one; so is each process of a multi-process cluster.
pub struct Browser {
    pub address: String,
    client: reqwest::Client,
}

impl Browser {
    /// A client of the server at `address` (`http://127.0.0.1:PORT`).
    pub fn new(address: String) -> Self {
        let client = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .expect("client");
        Self { address, client }
    }

    /// A GET as a browser navigation, with an optional session cookie.
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut request = self
            .client
            .get(format!("{}{path}", self.address))
            .header(ACCEPT, "text/html");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request sent")
    }

    /// A form post as a browser without JavaScript makes it from the page at `from`.
    pub async fn post_form(
        &self,
        path: &str,
        from: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Response {
        self.post_form_with(
            path,
            from,
            form,
            cookie,
            &[("sec-fetch-site", "same-origin")],
        )
        .await
    }

    /// A form post with chosen fetch-metadata headers.
    pub async fn post_form_with(
        &self,
        path: &str,
        from: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .header("referer", format!("{}{from}", self.address))
            .form(form);
        // A browser's user agent, unless the test plays a given one.
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
        {
            request = request.header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36",
            );
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request sent")
    }

    /// A server-function call as the hydrated page makes it (JSON back, no redirect status).
    pub async fn call_json(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .header(ACCEPT, "application/json")
            .header("sec-fetch-site", "same-origin")
            .form(form);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.expect("request sent")
    }

    /// How a route answers a same-site request with `method` and an empty JSON body, as the
    /// app's own page would send it: whether something there serves it at all.
    pub async fn route_status(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: &str,
    ) -> StatusCode {
        self.client
            .request(method, format!("{}{path}", self.address))
            .header(COOKIE, cookie)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("request sent")
            .status()
    }

    /// A link-page form post, carrying the link cookie (such pages send no `Referer`).
    pub async fn post_link_form(
        &self,
        path: &str,
        link_cookie: &str,
        form: &[(&str, &str)],
        session: Option<&str>,
    ) -> Response {
        let cookie = match session {
            Some(session) => format!("{link_cookie}; {session}"),
            None => link_cookie.to_owned(),
        };
        self.client
            .post(format!("{}{path}", self.address))
            .header(ACCEPT, "text/html")
            .header("sec-fetch-site", "same-origin")
            .header(COOKIE, cookie)
            .form(form)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post_form(
            "/users/register",
            "/users/register",
            &[("email", email), ("password", password)],
            None,
        )
        .await
    }

    pub async fn log_in(&self, email: &str, password: &str, remember_me: bool) -> Response {
        let mut form = vec![("email", email), ("password", password)];
        if remember_me {
            form.push(("remember_me", "on"));
        }
        self.post_form("/users/log-in", "/users/log-in", &form, None)
            .await
    }

    /// Registers and logs in; returns the `Cookie` header value for the new session.
    pub async fn signed_in(&self, email: &str) -> String {
        let registered = self.register(email, CANARY_PASSWORD).await;
        assert_eq!(registered.status(), StatusCode::FOUND);
        let response = self.log_in(email, CANARY_PASSWORD, false).await;
        session_cookie(&response).expect("log-in sets a session cookie")
    }

    /// Re-enters the password on `cookie`'s session (sudo), coming back to `return_to`. The
    /// session gets a new token; `cookie` is replaced with it, as a browser's jar would be.
    pub async fn enter_sudo(&self, cookie: &mut String, return_to: &str) {
        let response = self
            .post_form(
                "/users/sudo",
                "/users/sudo",
                &[("password", CANARY_PASSWORD), ("return_to", return_to)],
                Some(cookie),
            )
            .await;
        assert_eq!(location(&response), return_to);
        *cookie = session_cookie(&response).expect("sudo hands the session a new token");
    }

    /// `GET /api/v1/me` with a cookie: the quickest "is this session alive?".
    pub async fn me(&self, cookie: &str) -> StatusCode {
        self.client
            .get(format!("{}/api/v1/me", self.address))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("request sent")
            .status()
    }

    /// Follows a mailed link as a browser does: the landing moves the token into a cookie.
    /// Returns that cookie for the next request, and the page it sends to.
    pub async fn open_link(&self, link: &str) -> (String, String) {
        let response = self.get(link, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{link}");
        let cookie = set_cookies(response.headers())
            .into_iter()
            .find(|c| c.starts_with("__Host-sigra_link="))
            .expect("the link cookie")
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        (cookie, location(&response))
    }

    /// A JSON API request as a non-browser client makes it: no cookie, no fetch metadata,
    /// the token (if any) in `Authorization: Bearer`.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    /// A JSON API request with a session cookie, as the app's own page would make it.
    pub async fn api_with_session(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: &str,
        body: Option<serde_json::Value>,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .header(COOKIE, cookie)
            .header("sec-fetch-site", "same-origin");
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    /// The id of one of the account's sessions other than `cookie`'s, from the sessions API.
    pub async fn other_session_id(&self, cookie: &str) -> String {
        let listed: Vec<serde_json::Value> = self
            .api_with_session(reqwest::Method::GET, "/api/v1/sessions", cookie, None)
            .await
            .json()
            .await
            .expect("json");
        listed
            .iter()
            .find(|session| session["current"] == false)
            .and_then(|session| session["id"].as_str())
            .expect("another session")
            .to_owned()
    }

    /// Makes an API token with `scopes` for the signed-in `cookie` (entering sudo first).
    pub async fn create_api_token(
        &self,
        cookie: &mut String,
        name: &str,
        scopes: &[&str],
    ) -> String {
        self.enter_sudo(cookie, "/users/settings").await;
        let response = self
            .api_with_session(
                reqwest::Method::POST,
                "/api/v1/api-tokens",
                cookie,
                Some(serde_json::json!({ "name": name, "scopes": scopes })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: serde_json::Value = response.json().await.expect("json");
        body["token"].as_str().expect("the token").to_owned()
    }

    /// Logs an API client in with a password: the token response (or the MFA step) as JSON.
    pub async fn api_log_in(&self, email: &str, password: &str) -> (StatusCode, serde_json::Value) {
        let response = self
            .api(
                reqwest::Method::POST,
                "/api/v1/auth/token",
                None,
                Some(serde_json::json!({
                    "grant_type": "password", "email": email, "password": password,
                })),
            )
            .await;
        let status = response.status();
        (status, response.json().await.unwrap_or_default())
    }
}

/// The `name=value` of the session cookie a response sets, ready for a `Cookie` header; `None`
/// when it sets none or clears it.
pub fn session_cookie(response: &Response) -> Option<String> {
    set_cookies(response.headers())
        .into_iter()
        .filter(|c| c.starts_with("__Host-sigra_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair != "__Host-sigra_session=")
}

/// The `name=value` pair of the cookie `name` a response sets.
pub fn cookie_pair(response: &Response, name: &str) -> Option<String> {
    set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

/// Every `Set-Cookie` line.
pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

/// Whether the response tells the browser to drop the session cookie.
pub fn clears_session(response: &Response) -> bool {
    set_cookies(response.headers())
        .iter()
        .any(|c| c.starts_with("__Host-sigra_session=;") && c.contains("Max-Age=0"))
}

/// Where a refused form post without JavaScript is sent back to (the path), and the error
/// carried with it: in the failed-post cookie (see `app::plain_forms`), as Leptos encodes it
/// (the server function's error as JSON, in base64).
pub fn form_refusal(response: &Response) -> (String, Option<String>) {
    use base64::Engine as _;
    let base = reqwest::Url::parse("http://localhost/").expect("base");
    let target = base.join(&location(response)).expect("a location");
    let error = failed_post(response)
        .and_then(|failed| failed["error"].as_str().map(str::to_owned))
        .and_then(|error| {
            base64::engine::general_purpose::URL_SAFE
                .decode(error.as_bytes())
                .ok()
        })
        .and_then(|json| String::from_utf8(json).ok());
    (target.path().to_owned(), error)
}

/// The failed post a refused plain form leaves for the next page (path, error, typed values),
/// read from its signed cookie.
pub fn failed_post(response: &Response) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let pair = cookie_pair(response, "__Host-sigra_failed_post")?;
    let value = pair.split_once('=')?.1;
    let (message, _tag) = value.rsplit_once('.')?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(message)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// An answer reduced to what must not depend on the account it names: status, headers and
/// body, minus the headers that differ on every request by design (date, request id, the CSP
/// nonce, the rate-limit counters). A cookie keeps its name, attributes and the length of its
/// value (sealed values are random every time); the two cookies that hand what the user typed
/// to the next page keep only what is not the typing (a failed post's form and error).
pub async fn answer_snapshot(response: Response) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let status = response.status().as_u16();
    let failed = failed_post(&response);
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "date" | "x-request-id" | "content-security-policy"
            ) && !name.as_str().starts_with("x-ratelimit")
        })
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or_default();
            let value = if name.as_str() == "set-cookie" {
                let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
                let (cookie, content) = pair.split_once('=').unwrap_or((pair, ""));
                let content = match cookie {
                    "__Host-sigra_failed_post" => failed
                        .as_ref()
                        .map(|f| format!("<{} from {}>", f["error"], f["path"]))
                        .unwrap_or_default(),
                    "__Host-sigra_sent_to" => "<the address typed>".to_owned(),
                    _ => format!("<{} bytes>", content.len()),
                };
                format!("{cookie}={content};{attributes}")
            } else {
                value.to_owned()
            };
            (name.to_string(), value)
        })
        .collect();
    headers.sort();
    let body = response.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

/// The markup from the attribute `data-testid="{id}"` to the first closing tag after it (the
/// element's own text and its first child's), or nothing: page data serialised for hydration
/// does not count as shown.
pub fn marked<'h>(html: &'h str, id: &str) -> &'h str {
    let Some(start) = html.find(&format!(r#"data-testid="{id}""#)) else {
        return "";
    };
    let rest = &html[start..];
    let end = rest.find("</").unwrap_or(rest.len());
    &rest[..end]
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
