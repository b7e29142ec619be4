//! HTTP: axum routers per API family, extractors, error mapping, the OpenAPI document, health.

mod admin;
mod audit;
mod client_addr;
mod clients;
mod console;
mod constraints;
mod detach;
mod developer;
mod docs;
mod error;
mod extract;
mod gateways;
mod links;
mod logging;
mod metrics;
mod nexus;
mod oauth;
mod pages;
mod policies;
mod privacy;
mod protocol_docs;
mod registration;
mod services;
mod strict;
mod system;
mod workspace;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use castellan_control::Control;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use client_addr::PeerCertificate;
pub use error::ApiError;

/// Largest request body accepted anywhere (1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub control: Arc<Control>,
    pub metrics: Arc<metrics::Metrics>,
    /// Peers whose `X-Forwarded-For` / `Forwarded` headers are believed (`--trusted-proxies`).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// The tenant of requests to paths without one that name none (`--default-tenant`).
    pub default_tenant: Arc<str>,
    /// The header a trusted proxy forwards the client's TLS certificate in
    /// (`--client-cert-header`).
    pub client_cert_header: Option<axum::http::HeaderName>,
}

impl AppState {
    pub fn new(control: Arc<Control>) -> Self {
        Self {
            control,
            metrics: Arc::new(metrics::Metrics::default()),
            trusted_proxies: Arc::from(Vec::new()),
            default_tenant: Arc::from(castellan_domain::DEFAULT_TENANT),
            client_cert_header: None,
        }
    }

    /// Believes the TLS client certificate a trusted proxy forwards in this header (RFC 8705
    /// behind a TLS-terminating proxy), and only from `--trusted-proxies` peers.
    pub fn with_client_cert_header(mut self, name: Option<axum::http::HeaderName>) -> Self {
        self.client_cert_header = name;
        self
    }

    /// The tenant of requests to `/v1/…` that name none (no token, no `X-Castellan-Tenant`).
    pub fn with_default_tenant(mut self, tenant: &str) -> Self {
        self.default_tenant = Arc::from(tenant);
        self
    }

    /// Believes forwarded-address headers from these networks (load balancers, reverse proxies).
    pub fn with_trusted_proxies(mut self, proxies: Vec<ipnet::IpNet>) -> Self {
        self.trusted_proxies = Arc::from(proxies);
        self
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Castellan API",
        description = "Management APIs of Castellan, a multi-tenant OAuth 2.0 / OpenID Connect \
authorization server. The control-plane family (`/api/admin/{tid}/…`) follows the Cloudentity \
Authorization Control Plane API v1.1.0; its errors are `{\"error\", \"status_code\", \"details\"}`. \
Every management operation requires one permission, named in its description and in its \
`x-castellan-permission` extension; a caller without it gets 403.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    components(schemas(castellan_types::ApiErrorBody, castellan_types::nexus::Problem, castellan_types::workspace::TmfError, castellan_types::oam::OamError)),
    paths(
        protocol_docs::token,
        protocol_docs::introspect,
        protocol_docs::revoke,
        protocol_docs::discovery,
        protocol_docs::rfc8414_metadata,
        protocol_docs::jwks,
        protocol_docs::userinfo,
        protocol_docs::userinfo_post,
        protocol_docs::authorize,
        protocol_docs::logout,
        protocol_docs::upstream_callback,
        protocol_docs::custom_accept,
        protocol_docs::custom_reject,
        protocol_docs::pushed_authorization_request,
        protocol_docs::device_authorization,
        protocol_docs::device_verification,
        protocol_docs::device_verification_submit,
        protocol_docs::register_client,
        protocol_docs::read_registration,
        protocol_docs::update_registration,
        protocol_docs::delete_registration,
        protocol_docs::gateway_authorize,
    ),
    tags(
        (name = "admin", description = "Tenant administration: authenticate with HTTP Basic as a client of the tenant's `admin` server, or with a Bearer access token that server issued."),
        (name = "developer", description = "Developer self-service (Cloudentity ACP developer API): a developer registers and manages its own clients. Authenticate with a Bearer access token issued by the tenant's `developer` server (a person signed in there, or one of its clients); the developer is the token's `sub`. No permission is needed; what a developer may use is decided by the servers' and scopes' `developer_policy_id`."),
        (name = "privacy", description = "Castellan's privacy API: subjects grant and withdraw consents; every change is appended to the tenant's signed privacy ledger. Callers: an admin credential with `privacy.*`, a token with the `manage_consents` scope, or a person's own token."),
        (name = "nexus", description = "STS client mappings and developer roles (Cloudentity Nexus): who holds which management permissions. Paths name no tenant: a Bearer token names its own (`tid`); with Basic credentials send `X-Castellan-Tenant` or get the default tenant. Errors are RFC 9457 `application/problem+json`."),
        (name = "workspace", description = "Workspace clients (Industries Framework `/admin/workspaceClients`): clients of the tenant's `default` server that exchange tokens of the issuers they name (RFC 8693). The tenant comes from the caller as for `nexus`. Errors are the TMF error object (`code`, `reason`, `message`, `status` as a string); a body that breaks a rule is a 400."),
        (name = "access-manager", description = "Access-manager clients (Oracle Access Manager OAuth policy admin `…/oauthpolicyadmin/client`): clients with `clientType`, uppercase grant types and custom token `attributes`. The tenant comes from the caller as for `nexus`. `200` with the client, `422` with `{message, field}` when the request is at fault."),
        (name = "system", description = "What spans tenants: creating and deleting tenants, exporting and importing configuration. Only credentials of the system tenant (the one the first start bootstrapped, `default`) hold `system.read` and `system.write`; authenticate as for the admin API of that tenant."),
        (name = "protocol", description = "OAuth 2.0 / OpenID Connect endpoints of each authorization server (issuer `{public_url}/{tid}/{aid}`). Errors follow RFC 6749 §5.2: `{\"error\", \"error_description\"}`."),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("client_id and client_secret of a client of `{tid}/admin`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "client_id and client_secret of a client of the server (RFC 6749 §2.3.1, form-encoded)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "developer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "an access token issued by `{tid}/developer` (a person signed in there, or one of its clients)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("an access token issued by `{tid}/admin` (client_credentials)"))
                    .build(),
            ),
        );
    }
}

fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(admin::router())
        .merge(audit::router())
        .merge(clients::router())
        .merge(clients::claims_router())
        .merge(developer::router())
        .merge(nexus::router())
        .merge(policies::router())
        .merge(privacy::router())
        .merge(services::router())
        .merge(gateways::router())
        .merge(system::router())
        .merge(workspace::router())
        .split_for_parts();
    let mut doc = doc;
    links::add(&mut doc);
    (router, doc)
}

/// The OpenAPI 3.1 document of every management endpoint, generated from the handlers, as served
/// at `/api/openapi.json`.
pub fn openapi() -> serde_json::Value {
    openapi_json(api_router().1)
}

fn openapi_json(doc: utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut v = serde_json::to_value(doc).unwrap_or_default();
    links::camel_case_members(&mut v);
    constraints::apply(&mut v);
    protocol_docs::add_other_methods(&mut v);
    v
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api_router();
    Router::new()
        .merge(api)
        .route(
            "/health/live",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .merge(oauth::router())
        .merge(registration::router())
        .merge(gateways::authorizer_router())
        .merge(pages::router())
        .merge(console::router())
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/api/openapi.json", openapi_json(doc)))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state.clone(), audit::record))
        .layer(axum::middleware::from_fn(logging::log_request))
        .layer(axum::middleware::from_fn(detach::run_to_completion))
        .with_state(state)
}

async fn ready(State(st): State<AppState>) -> Response {
    match st.control.ready().await {
        Ok(()) => Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable", "store": "unreachable"})),
            )
                .into_response()
        }
    }
}

async fn metrics_text(State(st): State<AppState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        st.metrics.render(&st.control.purged_rows()),
    )
        .into_response()
}

/// Whether `path` is under `prefix` (`/v1`, `/v1/…`).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// No route matched: the family of the path's prefix answers (no router did).
async fn fallback(uri: Uri) -> Response {
    let p = uri.path();
    if under(p, "/v1") {
        ApiError::<error::Nexus>::not_found_route()
            .detail("path", p.to_owned())
            .into_response()
    } else if under(p, "/admin") {
        ApiError::<error::Tmf>::not_found_route()
            .detail("path", p.to_owned())
            .into_response()
    } else if workspace::is_oam(p) {
        ApiError::<error::Oam>::not_found_route()
            .detail("path", p.to_owned())
            .into_response()
    } else if under(p, "/api") {
        ApiError::<error::Acp>::not_found_route()
            .detail("path", p.to_owned())
            .into_response()
    } else {
        (StatusCode::NOT_FOUND, "not found\n").into_response()
    }
}

async fn method_not_allowed(uri: Uri) -> Response {
    let e = |status| (status, "method not allowed for this path", uri.path().to_owned());
    let (status, msg, path) = e(StatusCode::METHOD_NOT_ALLOWED);
    if under(&path, "/v1") {
        ApiError::<error::Nexus>::new(status, msg)
            .detail("path", path)
            .into_response()
    } else if under(&path, "/admin") {
        ApiError::<error::Tmf>::new(status, msg)
            .detail("path", path)
            .into_response()
    } else if workspace::is_oam(&path) {
        ApiError::<error::Oam>::new(status, msg)
            .detail("path", path)
            .into_response()
    } else {
        ApiError::<error::Acp>::new(status, msg)
            .detail("path", path)
            .into_response()
    }
}
