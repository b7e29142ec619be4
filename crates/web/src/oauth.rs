//! Protocol endpoints under each issuer `{public_url}/{tid}/{aid}`. Errors are
//! RFC 6749 §5.2 JSON with `Cache-Control: no-store`.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use castellan_oauth::{ErrorCode, Form, OAuthError, Presented, ServerRuntime, discovery};
use serde_json::json;

use crate::AppState;
use crate::client_addr::{ClientAddr, PeerCertificate};
use crate::extract::{bearer, form_decode, parse_basic};
use crate::logging::ClientSlot;

/// RFC 9449 §4.1, §8.
const DPOP: header::HeaderName = header::HeaderName::from_static("dpop");
const DPOP_NONCE: header::HeaderName = header::HeaderName::from_static("dpop-nonce");

/// The request's DPoP proof: `None` without one; several are refused (RFC 9449 §4.3).
fn dpop_proof(headers: &HeaderMap) -> Result<Option<&str>, OAuthError> {
    let mut all = headers.get_all(DPOP).iter();
    let (Some(first), None) = (all.next(), all.next()) else {
        return if headers.contains_key(DPOP) {
            Err(OAuthError::new(ErrorCode::InvalidDpopProof, "send one DPoP header"))
        } else {
            Ok(None)
        };
    };
    first
        .to_str()
        .map(Some)
        .map_err(|_| OAuthError::new(ErrorCode::InvalidDpopProof, "the DPoP header is not a JWT"))
}

/// Largest form body a protocol endpoint accepts.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// Largest userinfo form read for an `access_token` (RFC 6750 §2.2).
const MAX_USERINFO_FORM: usize = 16 * 1024;

pub(crate) fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/{tid}/{aid}/.well-known/openid-configuration", get(metadata))
        .route("/{tid}/{aid}/.well-known/oauth-authorization-server", get(metadata))
        // RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
        .route("/.well-known/oauth-authorization-server/{tid}/{aid}", get(metadata))
        .route("/.well-known/openid-configuration/{tid}/{aid}", get(metadata))
        .route("/{tid}/{aid}/.well-known/jwks.json", get(jwks))
        .route("/{tid}/{aid}/oauth2/token", post(token))
        .route("/{tid}/{aid}/oauth2/introspect", post(introspect))
        .route("/{tid}/{aid}/oauth2/revoke", post(revoke))
        .route("/{tid}/{aid}/oauth2/par", post(par))
        .route("/{tid}/{aid}/oauth2/device_authorization", post(device_authorization))
        .route("/{tid}/{aid}/userinfo", get(userinfo).post(userinfo))
}

/// A protocol error and, when the path itself names nothing (an unknown tenant or server), the
/// 404 it answers instead of its code's status.
pub(crate) struct ProtocolError(OAuthError, Option<StatusCode>);

impl From<OAuthError> for ProtocolError {
    fn from(e: OAuthError) -> Self {
        Self(e, None)
    }
}

impl IntoResponse for ProtocolError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = self
            .1
            .unwrap_or_else(|| StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST));
        let mut resp = (
            status,
            Json(json!({"error": e.code.as_str(), "error_description": e.description})),
        )
            .into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if status == StatusCode::UNAUTHORIZED && e.basic_challenge {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="castellan", charset="UTF-8""#),
            );
        }
        if let Some(n) = e.dpop_nonce.as_deref().and_then(|n| HeaderValue::from_str(n).ok()) {
            h.insert(DPOP_NONCE, n);
        }
        resp
    }
}

type PResult<T> = Result<T, ProtocolError>;

async fn runtime(st: &AppState, tid: &str, aid: &str) -> PResult<Arc<ServerRuntime>> {
    st.control.engine().server(tid, aid).await?.ok_or_else(|| {
        ProtocolError(
            OAuthError::invalid_request("no such authorization server"),
            Some(StatusCode::NOT_FOUND),
        )
    })
}

fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// Parses a form body and the Basic credentials (RFC 6749 §2.3.1: id and secret are
/// form-encoded before Basic encoding).
fn parse_request(headers: &HeaderMap, body: &Bytes) -> PResult<(Form, Option<(String, String)>)> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded").into());
    }
    if body.len() > MAX_FORM_BYTES {
        return Err(OAuthError::invalid_request("the body is too large").into());
    }
    let pairs = form_urlencoded::parse(body).into_owned().collect();
    let form = Form::new(pairs)?;
    let basic = match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(h) if h.len() > 6 && h[..6].eq_ignore_ascii_case("basic ") => {
            let (id, secret) = parse_basic(h).ok_or_else(|| {
                let mut e = OAuthError::invalid_client("malformed Basic credentials");
                e.basic_challenge = true;
                ProtocolError::from(e)
            })?;
            Some((form_decode(&id).unwrap_or(id), form_decode(&secret).unwrap_or(secret)))
        }
        Some(_) => return Err(OAuthError::invalid_request("unsupported Authorization scheme").into()),
    };
    Ok((form, basic))
}

async fn metadata(State(st): State<AppState>, Path((tid, aid)): Path<(String, String)>) -> Response {
    match runtime(&st, &tid, &aid).await {
        Ok(rt) => Json(discovery::metadata(&rt, &st.control.engine().mtls_offer())).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn jwks(State(st): State<AppState>, Path((tid, aid)): Path<(String, String)>) -> Response {
    match runtime(&st, &tid, &aid).await {
        Ok(rt) => {
            let mut r = Json(&rt.jwks).into_response();
            // Next keys are published well ahead of this (KEY_PREPUBLICATION_SECS).
            static CACHE: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
                format!("public, max-age={}", castellan_domain::JWKS_MAX_AGE_SECS)
                    .parse()
                    .unwrap_or_else(|_| HeaderValue::from_static("no-cache"))
            });
            r.headers_mut().insert(header::CACHE_CONTROL, CACHE.clone());
            r
        }
        Err(e) => e.into_response(),
    }
}

async fn token(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    slot: Option<Extension<ClientSlot>>,
    ClientAddr(addr): ClientAddr,
    PeerCertificate(cert): PeerCertificate,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let result = async {
        let rt = runtime(&st, &tid, &aid).await?;
        let (form, basic) = parse_request(&headers, &body)?;
        let dpop = dpop_proof(&headers)?.map(str::to_owned);
        let grant = crate::metrics::grant_label(form.get("grant_type").ok().flatten().unwrap_or(""));
        // A DPoP proof's jti is recorded once used.
        let writes = grant_writes(&form) || dpop.is_some();
        let engine = st.control.engine().clone();
        let work = async move {
            let p = Presented {
                basic,
                form: &form,
                addr,
                certificate: cert.as_ref(),
            };
            engine.token_with_dpop(&rt, &p, dpop.as_deref()).await
        };
        let outcome = if writes {
            crate::detach::detached(work)
                .await
                .map_err(|()| ProtocolError::from(OAuthError::server_error("the request did not finish")))?
        } else {
            work.await
        };
        Ok::<_, ProtocolError>((grant, outcome))
    }
    .await;
    let (grant, resp) = match result {
        Ok((grant, Ok((client, tr)))) => {
            if let Some(Extension(slot)) = &slot {
                slot.set(client.id.as_str());
            }
            (grant, Ok(no_store(Json(tr).into_response())))
        }
        Ok((grant, Err(e))) => (grant, Err(ProtocolError::from(e))),
        Err(e) => ("other", Err(e)),
    };
    let outcome = match &resp {
        Ok(_) => "issued",
        Err(e) => e.0.code.as_str(),
    };
    st.metrics.token_request(grant, outcome, started.elapsed());
    match resp {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// Whether a token request writes to the store, and so must run to completion in a task of its
/// own even if the caller goes away (the writer applies what it committed to this node's
/// snapshots afterwards). `client_credentials` writes nothing unless a client assertion's id is
/// recorded (RFC 7523 `jti`); every other grant, and anything unreadable, counts as writing.
fn grant_writes(form: &Form) -> bool {
    let grant = form.get("grant_type").ok().flatten();
    let assertion = form.get("client_assertion").map(|a| a.is_some()).unwrap_or(true);
    grant != Some(castellan_oauth::CLIENT_GRANT) || assertion
}

async fn introspect(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    PeerCertificate(cert): PeerCertificate,
    headers: HeaderMap,
    body: Bytes,
) -> PResult<Response> {
    let rt = runtime(&st, &tid, &aid).await?;
    let (form, basic) = parse_request(&headers, &body)?;
    let v = st
        .control
        .engine()
        .introspect(
            &rt,
            &Presented {
                basic,
                form: &form,
                addr: None,
                certificate: cert.as_ref(),
            },
        )
        .await?;
    st.metrics.introspection(v["active"] == true);
    Ok(no_store(Json(v).into_response()))
}

/// `POST /oauth2/par` (RFC 9126): `201` with `request_uri` and `expires_in`.
async fn par(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    ClientAddr(addr): ClientAddr,
    PeerCertificate(cert): PeerCertificate,
    headers: HeaderMap,
    body: Bytes,
) -> PResult<Response> {
    let rt = runtime(&st, &tid, &aid).await?;
    let (form, basic) = parse_request(&headers, &body)?;
    let dpop = dpop_proof(&headers)?;
    let pushed = st
        .control
        .engine()
        .push_authorization_request(
            &rt,
            &Presented {
                basic,
                form: &form,
                addr,
                certificate: cert.as_ref(),
            },
            dpop,
        )
        .await?;
    Ok(no_store((StatusCode::CREATED, Json(pushed)).into_response()))
}

/// `POST /oauth2/device_authorization` (RFC 8628 §3.1): a device code, a user code and where
/// the person enters it.
async fn device_authorization(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    ClientAddr(addr): ClientAddr,
    PeerCertificate(cert): PeerCertificate,
    headers: HeaderMap,
    body: Bytes,
) -> PResult<Response> {
    let rt = runtime(&st, &tid, &aid).await?;
    let (form, basic) = parse_request(&headers, &body)?;
    let started = st
        .control
        .engine()
        .device_authorization(
            &rt,
            &Presented {
                basic,
                form: &form,
                addr,
                certificate: cert.as_ref(),
            },
        )
        .await?;
    Ok(no_store(Json(started).into_response()))
}

async fn revoke(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    PeerCertificate(cert): PeerCertificate,
    headers: HeaderMap,
    body: Bytes,
) -> PResult<Response> {
    let rt = runtime(&st, &tid, &aid).await?;
    let (form, basic) = parse_request(&headers, &body)?;
    st.control
        .engine()
        .revoke(
            &rt,
            &Presented {
                basic,
                form: &form,
                addr: None,
                certificate: cert.as_ref(),
            },
        )
        .await?;
    Ok(no_store(StatusCode::OK.into_response()))
}

/// OpenID Connect UserInfo (OIDC Core §5.3): the claims of the person an access token granted
/// `openid` was issued for; the token in the `Authorization` header or, with `POST`, the form.
/// `GET|POST /userinfo` (OIDC Core §5.3) with a bearer token (RFC 6750 §2.1, or §2.2 in a form).
async fn userinfo(
    State(st): State<AppState>,
    Path((tid, aid)): Path<(String, String)>,
    PeerCertificate(cert): PeerCertificate,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rt = match st.control.engine().server(&tid, &aid).await {
        Ok(Some(rt)) => rt,
        Ok(None) => {
            return bearer_error(
                OAuthError::new(ErrorCode::InvalidRequest, "no such authorization server"),
                StatusCode::NOT_FOUND,
            );
        }
        Err(e) => return bearer_error(e, StatusCode::SERVICE_UNAVAILABLE),
    };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    // RFC 9449 §7.1: a DPoP-bound token comes as `Authorization: DPoP …` with a proof.
    let dpop_token = authorization.and_then(crate::extract::dpop_token);
    let from_header = authorization.and_then(bearer).or(dpop_token).map(str::to_owned);
    let from_form = if method == Method::POST && body.len() <= MAX_USERINFO_FORM {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
    } else {
        None
    };
    let token = match (from_header, from_form) {
        (Some(t), None) | (None, Some(t)) => t,
        (Some(_), Some(_)) => {
            return bearer_error(
                OAuthError::invalid_request("the token was sent in more than one way"),
                StatusCode::BAD_REQUEST,
            );
        }
        (None, None) => {
            // RFC 6750 §3.1: no error code when the request had no credentials at all.
            let mut r = StatusCode::UNAUTHORIZED.into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="castellan""#),
            );
            return r;
        }
    };
    let proof = match dpop_proof(&headers) {
        Ok(p) => p,
        Err(e) => return bearer_error(e, StatusCode::BAD_REQUEST),
    };
    let url = rt.endpoint("/userinfo");
    let alias = st.control.engine().mtls_alias(&rt, "/userinfo");
    let how = castellan_oauth::dpop::Presentation {
        dpop_scheme: dpop_token.is_some(),
        proof,
        request: castellan_oauth::dpop::DpopRequest {
            method: method.as_str(),
            url: &url,
            alias: alias.as_deref(),
        },
        certificate: cert.as_ref(),
    };
    match st.control.engine().userinfo(&rt, &token, &how).await {
        Ok(v) => {
            let mut r = Json(v).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            let status = match e.code {
                // RFC 9449 §7.1: proof failures at a resource are 401s, as a bad token is.
                ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce => StatusCode::UNAUTHORIZED,
                c => StatusCode::from_u16(c.status()).unwrap_or(StatusCode::BAD_REQUEST),
            };
            bearer_error(e, status)
        }
    }
}

/// RFC 6750 §3: the error in `WWW-Authenticate` and as JSON; for DPoP's errors the `DPoP`
/// challenge with the algorithms accepted (RFC 9449 §7.1) and any nonce to use.
fn bearer_error(e: OAuthError, status: StatusCode) -> Response {
    let scheme = match e.code {
        ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce => {
            format!(r#"DPoP algs="{}""#, castellan_oauth::dpop::DPOP_ALGS.join(" "))
        }
        _ => r#"Bearer realm="castellan""#.to_owned(),
    };
    let challenge = format!(
        r#"{scheme}, error="{}", error_description="{}""#,
        e.code.as_str(),
        e.description.replace(['"', '\\'], "'")
    );
    let mut r = (
        status,
        Json(serde_json::json!({"error": e.code.as_str(), "error_description": e.description})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    if let Some(n) = e.dpop_nonce.as_deref().and_then(|n| HeaderValue::from_str(n).ok()) {
        r.headers_mut().insert(DPOP_NONCE, n);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form::new(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()).unwrap()
    }

    #[test]
    fn only_client_credentials_without_an_assertion_runs_inline() {
        assert!(!grant_writes(&form(&[("grant_type", "client_credentials")])));
        assert!(!grant_writes(&form(&[
            ("grant_type", "client_credentials"),
            ("scope", "a b")
        ])));
        // The assertion's `jti` is recorded once used.
        assert!(grant_writes(&form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion", "x.y.z")
        ])));
        // Repeated parameters are refused later; until then they count as writing.
        assert!(grant_writes(&form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion", "a"),
            ("client_assertion", "b")
        ])));
        for grant in ["authorization_code", "refresh_token", "password", "unknown"] {
            assert!(grant_writes(&form(&[("grant_type", grant)])), "{grant}");
        }
        assert!(grant_writes(&form(&[])));
    }
}
