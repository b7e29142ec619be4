//! `{issuer}/oauth2/register` (RFC 7591) and `{issuer}/oauth2/register/{client_id}` (RFC 7592).
//! Errors are RFC 7591 §3.2.2 JSON: `invalid_redirect_uri`, `invalid_client_metadata`; a missing
//! or wrong registration access token (or initial access token) is `401 invalid_token` with a
//! Bearer challenge; a server that does not serve registration answers `404`.

// Helpers return a finished error response as their error so handlers can return it as is.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use castellan_control::ControlError;
use castellan_control::registration::{Registrant, RegistrationError};
use castellan_types::registration::ClientMetadata;
use serde_json::json;

use crate::AppState;
use crate::client_addr::ClientAddr;

/// The Bearer token of the request, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::extract::bearer)
        .map(str::to_owned)
}

/// Largest registration body (a client's `jwks` can be a few keys).
const MAX_BODY: usize = 64 * 1024;

pub(crate) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/{tid}/{aid}/oauth2/register", post(register))
        .route(
            "/{tid}/{aid}/oauth2/register/{cid}",
            axum::routing::get(read).put(update).delete(delete),
        )
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let mut r = (status, Json(json!({"error": code, "error_description": description}))).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer error="invalid_token""#),
        );
    }
    r
}

/// A control error in RFC 7591's words.
fn control_error(e: ControlError) -> Response {
    match e {
        ControlError::Invalid { field, reason } => {
            let code = if field.starts_with("redirect_uris") || field.starts_with("post_logout_redirect_uris") {
                "invalid_redirect_uri"
            } else {
                "invalid_client_metadata"
            };
            error(StatusCode::BAD_REQUEST, code, &format!("{field}: {reason}"))
        }
        ControlError::Refused(m) => error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &m),
        ControlError::Unauthorized(m) => error(StatusCode::UNAUTHORIZED, "invalid_token", &m),
        ControlError::Forbidden(m) => error(StatusCode::FORBIDDEN, "access_denied", &m),
        ControlError::NotFound { .. } => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "this authorization server does not allow dynamic client registration",
        ),
        ControlError::InUse(m) => error(StatusCode::CONFLICT, "invalid_client_metadata", &m),
        ControlError::Conflict { .. } => error(StatusCode::CONFLICT, "invalid_client_metadata", "try again"),
        ControlError::Unavailable(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "try again in a moment",
        ),
        ControlError::Internal(detail) => {
            tracing::error!(%detail, "registration failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error")
        }
    }
}

/// The metadata of a JSON body, or the RFC 7591 error for it.
fn metadata(headers: &HeaderMap, body: &Bytes) -> Result<ClientMetadata, Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.trim_start().to_ascii_lowercase().starts_with("application/json") {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            "send the client metadata as application/json",
        ));
    }
    if body.len() > MAX_BODY {
        return Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_client_metadata",
            "the client metadata is too large",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            &format!("the client metadata is not valid: {e}"),
        )
    })
}

fn registrant<'a>(
    addr: Option<std::net::IpAddr>,
    headers: &'a HeaderMap,
    method: &'a str,
    path: &'a str,
    token: Option<&'a str>,
) -> Registrant<'a> {
    let mut seen: HashMap<String, String> = HashMap::new();
    for (name, value) in headers {
        if let Ok(v) = value.to_str() {
            seen.entry(name.as_str().to_owned())
                .and_modify(|e| {
                    e.push_str(", ");
                    e.push_str(v);
                })
                .or_insert_with(|| v.to_owned());
        }
    }
    Registrant {
        addr,
        bearer: token,
        method,
        path,
        headers: seen,
    }
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `POST {issuer}/oauth2/register`.
async fn register(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let m = match metadata(&headers, &body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let token = bearer(&headers);
    let path = format!("/{tid}/{aid}/oauth2/register");
    let who = registrant(addr, &headers, "POST", &path, token.as_deref());
    match st.control.register_client(&tid, &aid, who, m).await {
        Ok(info) => no_store((StatusCode::CREATED, Json(info)).into_response()),
        Err(RegistrationError::TooMany(wait)) => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_request",
                "too many registrations from this address; try again later",
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(RegistrationError::Control(e)) => control_error(e),
    }
}

fn registration_token(headers: &HeaderMap) -> Result<String, Response> {
    bearer(headers).ok_or_else(|| {
        error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "send the registration access token as a Bearer token",
        )
    })
}

/// `GET {issuer}/oauth2/register/{client_id}`.
async fn read(
    State(st): State<AppState>,
    Path((tid, aid, cid)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let token = match registration_token(&headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    match st.control.read_registration(&tid, &aid, &cid, &token).await {
        Ok(info) => no_store(Json(info).into_response()),
        Err(e) => control_error(e),
    }
}

/// `PUT {issuer}/oauth2/register/{client_id}`.
async fn update(
    State(st): State<AppState>,
    Path((tid, aid, cid)): Path<(String, String, String)>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = match registration_token(&headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let m = match metadata(&headers, &body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let path = format!("/{tid}/{aid}/oauth2/register/{cid}");
    let who = registrant(addr, &headers, Method::PUT.as_str(), &path, None);
    match st.control.update_registration(&tid, &aid, &cid, &token, who, m).await {
        Ok(info) => no_store(Json(info).into_response()),
        Err(e) => control_error(e),
    }
}

/// `DELETE {issuer}/oauth2/register/{client_id}`.
async fn delete(
    State(st): State<AppState>,
    Path((tid, aid, cid)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let token = match registration_token(&headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    match st.control.delete_registration(&tid, &aid, &cid, &token).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => control_error(e),
    }
}
