//! Forms posted without JavaScript. When such a post fails, Leptos sends the browser back to
//! the form with the error encoded in the address (`?__path=…&__err=…`). The server takes it
//! out of the address again and hands it over in a short-lived signed cookie instead, with what
//! the user typed (never a password, code or token), so the form comes back clean: the error on
//! top, the fields filled in, and nothing in the address bar to bookmark, share or log.

use serde::{Deserialize, Serialize};

use leptos::prelude::*;
use leptos::reactive::owner::WeakOwner;

/// A failed plain form post, carried to the next page load.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedPost {
    /// The server function's path, so only the form that failed shows the error.
    path: String,
    /// The error as Leptos encodes it for the address.
    error: String,
    /// The fields typed, by name; secrets are never kept.
    values: Vec<(String, String)>,
}

/// What the user typed into the form that failed, for [`crate::components::forms::Field`].
#[derive(Clone)]
pub struct TypedValues {
    values: StoredValue<Vec<(String, String)>>,
    /// Where the failed post was provided, to take it back (weak: the owner holds this value).
    root: WeakOwner,
}

impl TypedValues {
    /// The value typed into the field `name`, if the last plain post failed with one.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values.with_value(|values| {
            values
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, value)| value.clone())
        })
    }
}

/// Makes the last failed plain post (if any) the starting error of its form's action and the
/// starting value of its fields. Server and browser agree on it: the server reads the cookie,
/// the hydrating browser reads what the server rendered with. Call once, at the root.
pub fn provide_failed_post() {
    let failed = SharedValue::new(take).into_inner();
    if let Some(failed) = &failed {
        provide_context(ServerActionError::new(&failed.path, &failed.error));
    }
    let values = StoredValue::new(failed.map(|f| f.values).unwrap_or_default());
    if let Some(root) = Owner::current() {
        provide_context(TypedValues {
            values,
            root: root.downgrade(),
        });
    }
}

/// Forgets the failed post once the browser moves to another page on its own, so coming back
/// to the form later starts it empty. Call inside the router.
pub fn forget_failed_post_on_navigation() {
    let Some(TypedValues { values, root }) = use_context::<TypedValues>() else {
        return;
    };
    let pathname = leptos_router::hooks::use_location().pathname;
    let first = pathname.get_untracked();
    Effect::new(move |_| {
        if pathname.get() != first {
            values.set_value(Vec::new());
            // A path no server function has: no action starts with the old error again.
            if let Some(root) = root.upgrade() {
                root.with(|| provide_context(ServerActionError::new("", "")));
            }
        }
    });
}

#[cfg(feature = "ssr")]
fn take() -> Option<FailedPost> {
    ssr::take()
}

#[cfg(not(feature = "ssr"))]
fn take() -> Option<FailedPost> {
    None
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The middleware that moves a failed post out of the address, and reading it back.

    use std::time::Duration;

    use axum::body::{to_bytes, Body};
    use axum::extract::{Request, State};
    use axum::middleware::Next;
    use axum::response::Response;
    use http::header::{ACCEPT, CONTENT_TYPE, LOCATION, SET_COOKIE};
    use http::{HeaderValue, Method};
    use leptos::prelude::*;
    use sigra::Sigra;

    use super::FailedPost;
    use crate::ssr::SignedJsonCookie;

    /// Long enough to survive the redirect, short enough not to surprise later.
    const COOKIE: SignedJsonCookie =
        SignedJsonCookie::new("__Host-sigra_failed_post", Duration::from_secs(60));
    /// Browsers keep cookies up to 4 KiB; typed values past this are not kept.
    const MAX_TYPED_BYTES: usize = 1536;
    /// Form posts are small; the router's body limit is the same.
    const MAX_BODY_BYTES: usize = 64 * 1024;

    /// Middleware around the server functions: a plain form post whose answer sends the
    /// browser back with the error in the address gets a clean address and the cookie instead.
    pub async fn move_failures_out_of_the_address(
        State(sigra): State<Sigra>,
        request: Request,
        next: Next,
    ) -> Response {
        if !is_plain_form_post(&request) {
            return next.run(request).await;
        }
        let (parts, body) = request.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
            return next.run(Request::from_parts(parts, Body::empty())).await;
        };
        // The handler reads a shared copy; what was typed is read only if the post failed.
        let mut response = next
            .run(Request::from_parts(parts, Body::from(bytes.clone())))
            .await;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok());
        let Some((clean, path, error)) = location.and_then(split_failure) else {
            return response;
        };
        let failed = FailedPost {
            path,
            error,
            values: typed_values(&bytes),
        };
        let Some(cookie) = COOKIE.header(&sigra, &failed) else {
            return response;
        };
        if let Ok(clean) = HeaderValue::from_str(&clean) {
            let headers = response.headers_mut();
            headers.insert(LOCATION, clean);
            headers.append(SET_COOKIE, cookie);
        }
        response
    }

    /// Reads (and clears) the failed post this request carries, if its signature holds.
    pub(super) fn take() -> Option<FailedPost> {
        COOKIE.take(&use_context::<Sigra>()?)
    }

    /// Whether a field's value may be kept across a failed post: never a secret.
    fn keeps(name: &str) -> bool {
        const SECRETS: [&str; 4] = ["password", "code", "token", "secret"];
        !name.starts_with("__") && !SECRETS.iter().any(|secret| name.contains(secret))
    }

    fn is_plain_form_post(request: &Request) -> bool {
        let header = |name| {
            request
                .headers()
                .get(name)
                .and_then(|value: &HeaderValue| value.to_str().ok())
                .unwrap_or_default()
        };
        request.method() == Method::POST
            && header(CONTENT_TYPE).starts_with("application/x-www-form-urlencoded")
            && header(ACCEPT).contains("text/html")
    }

    /// The form's fields worth keeping, within the size a cookie can hold.
    fn typed_values(body: &[u8]) -> Vec<(String, String)> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut budget = MAX_TYPED_BYTES;
        pairs
            .into_iter()
            .filter(|(name, value)| keeps(name) && !value.is_empty())
            .take_while(|(name, value)| {
                let size = name.len() + value.len();
                budget = budget.saturating_sub(size);
                budget > 0
            })
            .collect()
    }

    /// Splits a redirect target carrying a server function's error into the address without
    /// it, the function's path and the encoded error.
    fn split_failure(location: &str) -> Option<(String, String, String)> {
        let (address, query) = location.split_once('?')?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
        let find = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let (path, error) = (find("__path")?, find("__err")?);
        let rest: Vec<&(String, String)> = pairs
            .iter()
            .filter(|(key, _)| key != "__path" && key != "__err")
            .collect();
        let clean = if rest.is_empty() {
            address.to_owned()
        } else {
            format!("{address}?{}", serde_urlencoded::to_string(rest).ok()?)
        };
        Some((clean, path, error))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_failure_leaves_the_address_and_the_rest_of_the_query_stays() {
            let (clean, path, error) =
                split_failure("/users/log-in?return_to=%2Fa&__path=%2Fusers%2Flog-in&__err=eyJ9")
                    .expect("a failure");
            assert_eq!(clean, "/users/log-in?return_to=%2Fa");
            assert_eq!(path, "/users/log-in");
            assert_eq!(error, "eyJ9");
            assert_eq!(
                split_failure("/users/log-in?__path=%2Fx&__err=e").map(|f| f.0),
                Some("/users/log-in".to_owned())
            );
            assert_eq!(split_failure("/users/settings"), None);
            assert_eq!(split_failure("/users/settings?tab=1"), None);
        }

        #[test]
        fn secrets_are_never_kept() {
            let typed = typed_values(
                b"email=a%40example.com&password=hunter2&current_password=x&code=123456&new_password=y&name=Ann&__csrf=z",
            );
            assert_eq!(
                typed,
                vec![
                    ("email".to_owned(), "a@example.com".to_owned()),
                    ("name".to_owned(), "Ann".to_owned())
                ]
            );
        }

        #[test]
        fn typed_values_stop_at_what_a_cookie_can_hold() {
            let long = "x".repeat(1000);
            let body = format!("a={long}&b={long}&c=short");
            let typed = typed_values(body.as_bytes());
            assert_eq!(typed.len(), 1);
        }
    }
}
