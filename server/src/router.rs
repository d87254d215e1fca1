//! Router assembly: which routes sit behind which layers.
//!
//! Outermost first: request id, tracing, metrics, client address, security headers, error
//! logging, body limit. Then the operational endpoints and static assets, which need no session;
//! then the pages, server functions and JSON API, behind the cross-site check and session
//! resolution.
//!
//! Each group of layers is one `ServiceBuilder` stack given to one `Router::layer` call. A
//! `from_fn` layer clones the service below it on every request, and each `Router::layer` call
//! boxes the route once more, so layers added one call at a time made every request clone a
//! chain of boxed services per layer: with twelve of them, those clones and their drops were the
//! largest cost of a signed-in request in the server's own code (profiled under load).

use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use leptos::config::LeptosOptions;
use std::sync::LazyLock;

use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes as _};
use sigra::http::{
    encode_refusals, enforce_required_steps, limit_guest_auth, link_landing_routes, log_errors,
    reject_cross_site, resolve_client_ip, resolve_session, security_headers, GuestAuthLimit,
    HeaderPolicy, HostErrors, MailedLink, RequiredSteps,
};
use sigra::Sigra;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;

use app::ssr::provide_server_context;

use crate::live::Draining;
use app::{shell, App};

/// Largest request body accepted anywhere: auth forms are small, and a cap keeps a huge
/// "password" from ever reaching the hasher.
const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The page routes, listed once per process. Leptos suppresses resource loading process-wide
/// while it walks the app to list routes, and a page whose resource first polls in that
/// window never finishes (leptos-rs/leptos#4773), so the walk must not happen while serving.
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));

/// The whole application router. Its live streams end once `draining` is set.
pub fn router(sigra: Sigra, leptos_options: LeptosOptions, draining: Draining) -> Router {
    // The metrics recorder is global; install it before the first request counts.
    let _ = crate::telemetry::prometheus();
    let headers = HeaderPolicy::new(sigra.config(), Some(leptos_options.reload_port as u16));
    let context = provide_server_context(sigra.clone());
    let pkg_dir = format!(
        "{}/{}",
        leptos_options.site_root, leptos_options.site_pkg_dir
    );

    // A capability switched off has no routes: its pages render "not found", its server
    // functions answer 404, and the routes below are never mounted.
    let switches = app::capabilities::ssr::switches(&sigra.config().capabilities);
    let app_routes = Router::new()
        .leptos_routes_with_context(&leptos_options, ROUTES.clone(), context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .merge(crate::api::routes(sigra.clone(), switches))
        .merge(crate::export::routes(sigra.clone()))
        .merge(crate::audit_export::routes(sigra.clone(), switches))
        .merge(crate::live::routes(sigra.clone(), draining, switches))
        .merge(link_landing_routes(|link| match link {
            MailedLink::MagicLink => switches.magic_links,
            MailedLink::Invitation => switches.organizations,
            _ => true,
        }));
    #[cfg(feature = "oauth")]
    let app_routes = if switches.oauth {
        app_routes.merge(crate::oauth::routes(sigra.clone()))
    } else {
        app_routes
    };
    let app_routes = app_routes
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(from_fn_with_state(
                    HostErrors {
                        encode: app::error::UiError::refusal_json,
                    },
                    encode_refusals,
                ))
                .layer(from_fn_with_state(sigra.clone(), reject_cross_site))
                .layer(from_fn_with_state(
                    GuestAuthLimit {
                        sigra: sigra.clone(),
                        paths: [
                            app::account::guest_auth_paths(),
                            crate::api::GUEST_AUTH_PATHS.to_vec(),
                        ]
                        .concat()
                        .into(),
                    },
                    limit_guest_auth,
                ))
                .layer(from_fn_with_state(sigra.clone(), resolve_session))
                .layer(from_fn_with_state(
                    RequiredSteps {
                        sigra: sigra.clone(),
                        reactivation_calls: app::account::reactivation_paths().into(),
                        password_change_calls: app::account::password_change_paths().into(),
                        mfa_enrolment_calls: app::account::mfa_enrolment_paths().into(),
                    },
                    enforce_required_steps,
                ))
                .layer(from_fn_with_state(
                    sigra.clone(),
                    app::capabilities::ssr::hide_switched_off,
                ))
                .layer(from_fn_with_state(
                    sigra.clone(),
                    app::plain_forms::ssr::move_failures_out_of_the_address,
                )),
        )
        .with_state(leptos_options);

    let mut router = Router::new().merge(crate::ops::routes(sigra.clone()));
    if let Some(mailbox) = sigra.dev_mailbox() {
        router = router.merge(sigra::mail::dev_mailbox_routes(mailbox));
    }
    router
        .nest_service(
            "/pkg",
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .merge(app_routes)
        .layer(
            ServiceBuilder::new()
                .layer(from_fn(sigra::http::drop_unplain_request_id))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(crate::telemetry::http_trace_layer())
                .layer(from_fn(crate::telemetry::record_http_metrics))
                .layer(from_fn_with_state(sigra, resolve_client_ip))
                .layer(from_fn_with_state(headers, security_headers))
                .layer(from_fn(log_errors))
                // Innermost: `from_fn` layers take axum's own body type only, and a refused
                // body's 413 then carries the security headers like any other answer.
                .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES)),
        )
}
