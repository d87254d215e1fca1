//! What the core records about the request behind an operation.

use std::net::IpAddr;

use crate::users::UserId;

/// Longest user-agent string kept; the rest is cut.
const MAX_USER_AGENT: usize = 512;

/// The client's address, browser and request id, for audit rows and session records.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    /// The peer address.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header, at most 512 characters.
    pub user_agent: Option<String>,
    /// The id in `x-request-id`, shared with log lines.
    pub request_id: Option<String>,
    /// The platform admin behind the request when its session is an impersonation: audit rows
    /// then name the admin as actor and the signed-in user as effective user.
    pub impersonator: Option<UserId>,
}

impl RequestContext {
    /// Builds a context, bounding the user agent.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>, request_id: Option<&str>) -> Self {
        Self {
            ip,
            user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
            // The HTTP layer has already replaced an unplain id; this keeps other callers honest.
            request_id: request_id
                .filter(|id| crate::http::is_plain_request_id(id))
                .map(str::to_owned),
            impersonator: None,
        }
    }

    /// The context of an operator command (`server require-password-change`): no address,
    /// the command's name where a browser would be.
    pub fn command(name: &str) -> Self {
        Self::new(None, Some(name), None)
    }

    pub(crate) fn ip_text(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}
