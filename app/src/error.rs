//! The error every server function returns. Each variant is safe to show; nothing here can
//! carry a database message or say whether an account exists.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What the user is told when a server function fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum UiError {
    /// The input was refused for a reason that is safe to state (a too-short password, a
    /// malformed email).
    #[error("{0}")]
    Invalid(String),
    /// Any failed log-in.
    #[error("Invalid email or password.")]
    InvalidCredentials,
    /// The action needs a signed-in user.
    #[error("You need to log in first.")]
    Unauthenticated,
    /// The server is shedding load; try again.
    #[error("The server is busy. Please try again in a moment.")]
    Busy,
    /// Our fault; the request id finds the details in the log.
    #[error(
        "Something went wrong on our side. If it keeps happening, quote request {request_id}."
    )]
    Server {
        /// The `x-request-id` of the failed request.
        request_id: String,
    },
    /// The request never reached the server or its answer was unreadable.
    #[error("Could not reach the server. Check your connection and try again.")]
    Network,
}

impl FromServerFnError for UiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_)
            | ServerFnErrorErr::Response(_)
            | ServerFnErrorErr::Deserialization(_) => Self::Network,
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::Invalid(
                "The form was incomplete. Please fill it in and try again.".to_owned(),
            ),
            _ => Self::Server {
                request_id: "unknown".to_owned(),
            },
        }
    }
}
