//! `/api/admin/{tid}/gateways…` (Cloudentity ACP) and the gateway authorizer
//! `/api/gateway/{tid}/{gw}/authorize`. Thin handlers: the rules are in `control::gateways` and
//! `castellan_oauth::gateway`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::Request;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use castellan_control::need;
use castellan_oauth::gateway::{GatewayDecision, GatewayRequest, HeaderFilter, Origin};
use castellan_types::gateways::{CreateGatewayRequest, Gateway, GatewayWithClient, Gateways, UpdateGatewayRequest};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{CreateErrors, DeleteErrors, ReadErrors, WriteErrors};
use crate::error::ApiError;
use crate::extract::{Admin, ApiJson, ApiPath, parse_basic};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_gateway))
        .routes(routes!(get_gateway, update_gateway, delete_gateway))
        .routes(routes!(gateway_package))
        .routes(routes!(list_gateways))
}

/// The authorizer (described among the protocol endpoints: gateways call it, not people). It
/// answers the methods of RFC 9110 §9 and PATCH, whichever the gateway forwards; any other
/// method is a 405.
pub(crate) fn authorizer_router() -> axum::Router<AppState> {
    use axum::routing::{MethodFilter, on};
    let methods = [
        MethodFilter::POST,
        MethodFilter::PUT,
        MethodFilter::PATCH,
        MethodFilter::DELETE,
        MethodFilter::HEAD,
        MethodFilter::OPTIONS,
        MethodFilter::TRACE,
    ]
    .into_iter()
    .fold(MethodFilter::GET, MethodFilter::or);
    axum::Router::new().route("/api/gateway/{tid}/{gw}/authorize", on(methods, authorize))
}

/// Create gateway
///
/// `name`, `server_id` (whose tokens it accepts) and `type` (`nginx`, `caddy`, or `pyron`, which
/// speaks the nginx protocol) are required. Creates the gateway's own client (`client_credentials`,
/// scope `read_gateway_configuration`) and answers it in full, secret included. Connect services
/// with their `gateway_id`.
///
/// Requires the `gateway.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/gateways", tag = "admin", operation_id = "createGateway",
    extensions(("x-castellan-permission" = json!("gateway.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = CreateGatewayRequest,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 201, description = "Gateway with its client", body = GatewayWithClient), CreateErrors))]
async fn create_gateway(
    State(st): State<AppState>,
    Admin(a): Admin<need::GatewayWrite>,
    ApiJson(req): ApiJson<CreateGatewayRequest>,
) -> ApiResult<(StatusCode, Json<GatewayWithClient>)> {
    Ok((StatusCode::CREATED, Json(st.control.create_gateway(&a, req).await?)))
}

/// Get gateway
///
/// The gateway with its client (secret included), issuer and Castellan's URL.
///
/// Requires the `gateway.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/gateways/{gw}", tag = "admin", operation_id = "getGateway",
    extensions(("x-castellan-permission" = json!("gateway.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("gw" = String, Path, description = "Gateway id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Gateway with its client", body = GatewayWithClient), ReadErrors))]
async fn get_gateway(
    State(st): State<AppState>,
    Admin(a): Admin<need::GatewayRead>,
    ApiPath((_tid, gw)): ApiPath<(String, String)>,
) -> ApiResult<Json<GatewayWithClient>> {
    Ok(Json(st.control.get_gateway(&a, &gw).await?))
}

/// Update gateway
///
/// `name` and `description`.
///
/// Requires the `gateway.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/gateways/{gw}", tag = "admin", operation_id = "updateGateway",
    extensions(("x-castellan-permission" = json!("gateway.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("gw" = String, Path, description = "Gateway id")),
    request_body = UpdateGatewayRequest,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Gateway", body = Gateway), WriteErrors))]
async fn update_gateway(
    State(st): State<AppState>,
    Admin(a): Admin<need::GatewayWrite>,
    ApiPath((_tid, gw)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<UpdateGatewayRequest>,
) -> ApiResult<Json<Gateway>> {
    Ok(Json(st.control.update_gateway(&a, &gw, req).await?))
}

/// Delete gateway
///
/// Deletes the gateway's client (its credentials stop working at once, with every token it was
/// given) and disconnects the services connected to it.
///
/// Requires the `gateway.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/gateways/{gw}", tag = "admin", operation_id = "deleteGateway",
    extensions(("x-castellan-permission" = json!("gateway.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("gw" = String, Path, description = "Gateway id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 204, description = "Gateway has been deleted"), DeleteErrors))]
async fn delete_gateway(
    State(st): State<AppState>,
    Admin(a): Admin<need::GatewayWrite>,
    ApiPath((_tid, gw)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.delete_gateway(&a, &gw).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Get package for a gateway
///
/// A `.tar.gz` with `castellan-gateway.json` (issuer, authorizer URL, client id and secret), a
/// ready `nginx.conf` (nginx and pyron gateways: `auth_request`) or `Caddyfile` (caddy:
/// `forward_auth`), and a README saying how to run it. Only the upstream address needs setting.
///
/// Requires the `gateway.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/gateways/{gw}/package", tag = "admin", operation_id = "getGatewayPackage",
    extensions(("x-castellan-permission" = json!("gateway.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("gw" = String, Path, description = "Gateway id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Gateway package", content_type = "application/gzip", body = Vec<u8>), ReadErrors))]
async fn gateway_package(
    State(st): State<AppState>,
    Admin(a): Admin<need::GatewayRead>,
    ApiPath((_tid, gw)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let body = st.control.gateway_package(&a, &gw).await?;
    let name = format!("attachment; filename=\"castellan-gateway-{gw}.tar.gz\"");
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/gzip"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// List gateways
///
/// The gateways of an authorization server.
///
/// Requires the `gateway.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/servers/{aid}/gateways", tag = "admin", operation_id = "listGateways",
    extensions(("x-castellan-permission" = json!("gateway.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Gateways", body = Gateways), ReadErrors))]
async fn list_gateways(
    State(st): State<AppState>,
    Admin(a): Admin<need::GatewayRead>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
) -> ApiResult<Json<Gateways>> {
    Ok(Json(st.control.list_gateways(&a, &aid).await?))
}

#[derive(Debug, Default, Deserialize)]
struct AuthorizeQuery {
    /// Only this service of the gateway.
    service: Option<String>,
}

// The headers the authorizer reads and writes, named once (a lookup by `HeaderName` skips
// parsing the name on every request).
const X_CASTELLAN_GATEWAY: HeaderName = HeaderName::from_static("x-castellan-gateway");
const X_ORIGINAL_METHOD: HeaderName = HeaderName::from_static("x-original-method");
const X_FORWARDED_METHOD: HeaderName = HeaderName::from_static("x-forwarded-method");
const X_ORIGINAL_URI: HeaderName = HeaderName::from_static("x-original-uri");
const X_FORWARDED_URI: HeaderName = HeaderName::from_static("x-forwarded-uri");
const X_ORIGINAL_URL: HeaderName = HeaderName::from_static("x-original-url");
const X_FORWARDED_URL: HeaderName = HeaderName::from_static("x-forwarded-url");
const DPOP: HeaderName = HeaderName::from_static("dpop");
/// RFC 9440: the caller's TLS client certificate, as the (authenticated) gateway saw it.
const CLIENT_CERT: HeaderName = HeaderName::from_static("client-cert");
const X_CASTELLAN_SUBJECT: HeaderName = HeaderName::from_static("x-castellan-subject");
const X_CASTELLAN_CLIENT: HeaderName = HeaderName::from_static("x-castellan-client");
const X_CASTELLAN_API: HeaderName = HeaderName::from_static("x-castellan-api");

fn header_str(h: &HeaderMap, name: HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn problem(status: StatusCode, error: &str, details: serde_json::Value) -> Response {
    let body = serde_json::json!({"error": error, "status_code": status.as_u16(), "details": details});
    (status, Json(body)).into_response()
}

/// `GET|POST /api/gateway/{tid}/{gw}/authorize`: the gateway's credentials in
/// `X-Castellan-Gateway: Basic …`, the original method and URI in `X-Original-Method` /
/// `X-Original-URI` (nginx) or `X-Forwarded-Method` / `X-Forwarded-Uri` (Caddy), the caller's
/// `Authorization: Bearer …` (or `DPoP …` with its `DPoP` proof), and the caller's TLS client
/// certificate in `Client-Cert` (RFC 9440) for certificate-bound tokens. 200 (no body) with `X-Castellan-Subject`, `X-Castellan-Client` and
/// `X-Castellan-Api`; 401 (for the caller: `WWW-Authenticate: Bearer error="invalid_token"`); 403
/// with the policy's recovery.
async fn authorize(
    State(st): State<AppState>,
    ApiPath((tid, gw)): ApiPath<(String, String)>,
    request: Request,
) -> Response {
    // `?service=` is rare: parsed only when there is a query.
    let service = match request.uri().query() {
        Some(_) => match crate::extract::query_from_uri::<AuthorizeQuery>(request.uri()) {
            Ok(q) => q.service,
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let headers = request.headers();
    let origin = Origin {
        original: (
            header_str(headers, X_ORIGINAL_METHOD),
            header_str(headers, X_ORIGINAL_URI),
        ),
        forwarded: (
            header_str(headers, X_FORWARDED_METHOD),
            header_str(headers, X_FORWARDED_URI),
        ),
        urls: (
            header_str(headers, X_ORIGINAL_URL),
            header_str(headers, X_FORWARDED_URL),
        ),
    };
    let authorization = header_str(headers, header::AUTHORIZATION);
    let dpop_token = authorization.and_then(crate::extract::dpop_token);
    let bearer = authorization.and_then(crate::extract::bearer).or(dpop_token);
    // Exactly one proof, or none (several are never valid: RFC 9449 §4.3).
    let mut proofs = headers.get_all(DPOP).iter();
    let dpop = match (proofs.next(), proofs.next()) {
        (Some(p), None) => p.to_str().ok(),
        _ => None,
    };
    let forwarded = |wanted: HeaderFilter<'_>| {
        let mut out: HashMap<String, String> = HashMap::new();
        for (name, value) in headers {
            let n = name.as_str();
            if *name == X_CASTELLAN_GATEWAY || *name == header::AUTHORIZATION || !wanted(n) {
                continue;
            }
            if let Ok(v) = value.to_str() {
                out.entry(n.to_owned())
                    .and_modify(|e| {
                        e.push_str(", ");
                        e.push_str(v);
                    })
                    .or_insert_with(|| v.to_owned());
            }
        }
        out
    };
    // Believed because the gateway authenticates itself; its package sets (or blanks) the header,
    // so a caller's own copy never arrives.
    let certificate = header_str(headers, CLIENT_CERT)
        .filter(|v| !v.is_empty())
        .and_then(castellan_oauth::mtls::ClientCertificate::from_header);
    let req = GatewayRequest {
        credentials: header_str(headers, X_CASTELLAN_GATEWAY).and_then(parse_basic),
        origin,
        bearer,
        dpop_scheme: dpop_token.is_some(),
        dpop,
        certificate: certificate.as_ref(),
        headers: &forwarded,
        service: service.as_deref(),
    };
    match st.control.engine().authorize_at_gateway(&tid, &gw, req).await {
        Ok(GatewayDecision::Allow {
            subject,
            client_id,
            api_id,
        }) => {
            // No body: gateways read only the status and these headers.
            let mut r = StatusCode::OK.into_response();
            for (name, v) in [
                (X_CASTELLAN_SUBJECT, subject),
                (X_CASTELLAN_CLIENT, client_id),
                (X_CASTELLAN_API, api_id),
            ] {
                if let Ok(v) = HeaderValue::try_from(v) {
                    r.headers_mut().insert(name, v);
                }
            }
            r
        }
        Ok(GatewayDecision::BadGateway) => problem(
            StatusCode::UNAUTHORIZED,
            "invalid gateway credentials",
            serde_json::json!({"reason": "send X-Castellan-Gateway: Basic base64(client_id:client_secret) of this gateway's client"}),
        ),
        Ok(GatewayDecision::InvalidToken(why)) => {
            let mut r = problem(
                StatusCode::UNAUTHORIZED,
                "invalid token",
                serde_json::json!({"reason": why}),
            );
            let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{why}\"");
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            r
        }
        Ok(GatewayDecision::Forbidden { reason, recovery }) => problem(
            StatusCode::FORBIDDEN,
            "access denied",
            serde_json::json!({"reason": reason, "recovery": recovery}),
        ),
        Err(e) => {
            tracing::error!(error = %e, "gateway authorizer failed");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the authorizer cannot decide now",
                serde_json::json!({}),
            )
        }
    }
}
