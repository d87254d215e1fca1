//! The request id a client sends is echoed into log lines and audit rows, so only a short,
//! plain one is kept; anything else is dropped and the server makes its own.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

const HEADER: &str = "x-request-id";
const MAX_LEN: usize = 64;

/// Whether a client's request id is short and made of `[A-Za-z0-9._-]` only.
pub fn is_plain_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Axum middleware, outside the layer that assigns ids: removes an `x-request-id` that is
/// not plain (or is sent twice), so a fresh one takes its place.
pub async fn drop_unplain_request_id(mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let values = headers.get_all(HEADER).iter().collect::<Vec<_>>();
    let plain = match values.as_slice() {
        [] => true,
        [only] => only.to_str().is_ok_and(is_plain_request_id),
        _ => false,
    };
    if !plain {
        request.headers_mut().remove(HEADER);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::is_plain_request_id;

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(is_plain_request_id("0b6f1c9e-2d1a-4c3e-9f7a-1b2c3d4e5f60"));
        assert!(is_plain_request_id("trace.v1_abc"));
        for forged in [
            "",
            "a b",
            "id\u{7f}",
            "x\"><script>",
            "line\r\nbreak",
            &"a".repeat(65),
        ] {
            assert!(!is_plain_request_id(forged), "{forged:?}");
        }
    }
}
