//! Extractors that turn every malformed request into a Cloudentity ACP error naming what is wrong.

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use base64::Engine;
use castellan_control::{AdminAccess, Allowed, Need};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{ApiError, Nexus};
use crate::logging::ClientSlot;

/// A JSON body: `Content-Type: application/json`, at most the router's body limit, decoded with
/// the path of a mistyped field reported in `details.field`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = json_body(req, state, crate::MAX_BODY_BYTES).await?;
        decode_json(&bytes).map(ApiJson)
    }
}

/// As [`ApiJson`], for bodies of up to `LIMIT` bytes (the route's body limit), decoded off the
/// request workers: a configuration dump may be hundreds of megabytes.
pub struct LargeJson<T, const LIMIT: usize>(pub T);

impl<T: DeserializeOwned + Send + 'static, S: Send + Sync, const LIMIT: usize> FromRequest<S> for LargeJson<T, LIMIT> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = json_body(req, state, LIMIT).await?;
        tokio::task::spawn_blocking(move || decode_json(&bytes))
            .await
            .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))?
            .map(LargeJson)
    }
}

/// The body of a JSON request: its media type checked, read up to the route's limit (`limit`
/// is what the error names).
async fn json_body<S: Send + Sync>(req: Request, state: &S, limit: usize) -> Result<Bytes, ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json")) {
        return Err(
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "the body must be JSON")
                .detail("reason", "expected Content-Type: application/json")
                .detail("content_type", ct.to_owned()),
        );
    }
    Bytes::from_request(req, state).await.map_err(|r| {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "the body is too large").detail("limit_bytes", limit)
        } else {
            ApiError::new(status, "the body could not be read").detail("reason", r.body_text())
        }
    })
}

pub(crate) fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let syntax = |e: serde_json::Error| {
        ApiError::new(StatusCode::BAD_REQUEST, "the body is not valid JSON")
            .detail("reason", e.to_string())
            .detail("line", e.line())
            .detail("column", e.column())
    };
    // Every API body is an object.
    if bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b != b'{')
    {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "the body must be a JSON object")
            .detail("field", "")
            .detail("reason", "expected a JSON object"));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(syntax)?;
    let decoded: Result<T, _> = match serde_path_to_error::deserialize(crate::strict::Strict(value.clone())) {
        // JSON Schema counts `3.0` as an integer (2020-12 §6.1.1) and so do generated clients: a
        // body refused only for such a number is read again with those numbers as integers (not
        // before, so that `1.0` stays a float where a member keeps any JSON).
        Err(e) if e.inner().to_string().starts_with("invalid type: floating point") => {
            let mut v = value;
            if integral_floats_to_integers(&mut v) {
                serde_path_to_error::deserialize(crate::strict::Strict(v))
            } else {
                Err(e)
            }
        }
        other => other,
    };
    decoded.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." { String::new() } else { path };
        let reason = inner.to_string();
        let msg = if field.is_empty() {
            format!("invalid body: {reason}")
        } else {
            format!("invalid {field}: {reason}")
        };
        // A member of the wrong JSON type is malformed input (400); a missing member, an unknown
        // one or a value outside what the field allows breaks a rule of a well-formed body (422).
        let status = if reason.starts_with("invalid type") {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        ApiError::new(status, msg)
            .detail("field", field)
            .detail("reason", reason)
    })
}

/// Turns every number of `v` with no fractional part that fits an `i64` into an integer; whether
/// any was changed.
fn integral_floats_to_integers(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // i64::MAX is not an f64; 2^63 is the first value out of range.
            if f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) {
                *v = Value::from(f as i64);
                true
            } else {
                false
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, i| integral_floats_to_integers(i) | any),
        Value::Object(m) => m
            .values_mut()
            .fold(false, |any, i| integral_floats_to_integers(i) | any),
        _ => false,
    }
}

/// The caller of `/api/admin/{tid}/…`, authenticated for that tenant and holding the permission
/// `N` the operation needs (403 otherwise). The handler's signature names the permission next to
/// its route: `Admin(a): Admin<need::ClientWrite>`.
pub struct Admin<N>(pub Allowed<N>);

impl<N: Need> FromRequestParts<AppState> for Admin<N> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let tid = path_tenant(parts, state).await?;
        let access = authenticate(parts, state, &tid).await?;
        let allowed = access.allow::<N>()?;
        crate::audit::note_actor(&state.control, allowed.tenant(), allowed.actor()).await;
        Ok(Admin(allowed))
    }
}

/// The caller of the privacy API (`/api/privacy/{tid}/…`): an admin credential holding `N`
/// (`privacy.read` or `privacy.write`), or a Bearer token of any other server of the tenant —
/// with the `manage_consents` scope for any subject, else for its own subject only.
pub struct Privacy<N>(pub castellan_control::PrivacyCaller, pub PhantomData<N>);

/// How an admin credential holding `N` becomes a privacy caller.
pub trait PrivacyNeed: Need {
    fn caller(a: Allowed<Self>) -> castellan_control::PrivacyCaller
    where
        Self: Sized;
}

impl PrivacyNeed for castellan_control::need::PrivacyRead {
    fn caller(a: Allowed<Self>) -> castellan_control::PrivacyCaller {
        castellan_control::PrivacyCaller::admin_read(&a)
    }
}

impl PrivacyNeed for castellan_control::need::PrivacyWrite {
    fn caller(a: Allowed<Self>) -> castellan_control::PrivacyCaller {
        castellan_control::PrivacyCaller::admin_write(&a)
    }
}

impl<N: PrivacyNeed> FromRequestParts<AppState> for Privacy<N> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let tid = path_tenant(parts, state).await?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer);
        if let Some(token) = token
            && token_server(token).is_some_and(|aid| aid != castellan_domain::ADMIN_SERVER)
        {
            let caller = state.control.authenticate_privacy_bearer(&tid, token).await?;
            crate::audit::note_actor(&state.control, caller.tenant(), caller.actor().to_owned()).await;
            return Ok(Privacy(caller, PhantomData));
        }
        let access = authenticate(parts, state, &tid).await?;
        let caller = N::caller(access.allow::<N>()?);
        crate::audit::note_actor(&state.control, caller.tenant(), caller.actor().to_owned()).await;
        Ok(Privacy(caller, PhantomData))
    }
}

/// The caller of the system API (`/api/system/…`): admin credentials of the system tenant (the
/// one the first start bootstrapped; no other tenant's credentials hold `system.*`) holding `N`.
pub struct System<N>(pub Allowed<N>);

impl<N: Need> FromRequestParts<AppState> for System<N> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let access = authenticate(parts, state, castellan_domain::DEFAULT_TENANT).await?;
        let allowed = access.allow::<N>()?;
        crate::audit::note_actor(&state.control, allowed.tenant(), allowed.actor()).await;
        Ok(System(allowed))
    }
}

/// The caller of the developer API (`/api/developer/{tid}/…`): a Bearer access token issued by
/// `{tid}/developer` to a person signed in there or to one of its clients (401 otherwise).
pub struct Developer(pub castellan_control::DeveloperCaller);

impl FromRequestParts<AppState> for Developer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let tid = path_tenant(parts, state).await?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
            .ok_or_else(|| ApiError::unauthorized("a Bearer access token of the developer server is required"))?;
        let mut headers: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for (name, value) in &parts.headers {
            if let Ok(v) = value.to_str() {
                headers
                    .entry(name.as_str().to_owned())
                    .and_modify(|e| {
                        e.push_str(", ");
                        e.push_str(v);
                    })
                    .or_insert_with(|| v.to_owned());
            }
        }
        let caller = state
            .control
            .authenticate_developer(&tid, token, parts.method.as_str(), parts.uri.path(), headers)
            .await?;
        crate::audit::note_actor(&state.control, caller.tenant(), caller.actor()).await;
        Ok(Developer(caller))
    }
}

/// The `{tid}` of the request's path.
async fn path_tenant(parts: &mut Parts, state: &AppState) -> Result<String, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::not_found_route())?;
    Ok(params
        .iter()
        .find(|(k, _)| *k == "tid")
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default())
}

/// The `aid` claim of a JWT, unverified (only to pick the server that verifies it).
fn token_server(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("aid")?.as_str().map(str::to_owned)
}

/// The caller of a family whose paths name no tenant (Cloudentity Nexus `/v1/…`): a Bearer token
/// names its tenant (`tid`); Basic credentials use `X-Castellan-Tenant`, else the default tenant.
/// A header that disagrees with the token's tenant is a 401. `app` is the `ApplicationToken`
/// header, when sent (the control plane checks it).
pub struct Caller<N> {
    pub access: Allowed<N>,
    pub app: Option<String>,
}

pub(crate) const TENANT_HEADER: &str = "x-castellan-tenant";

impl<N: Need> FromRequestParts<AppState> for Caller<N> {
    type Rejection = ApiError<Nexus>;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError<Nexus>> {
        let header = |name: &str| -> Result<Option<String>, ApiError<Nexus>> {
            match parts.headers.get(name) {
                None => Ok(None),
                Some(v) => v
                    .to_str()
                    .map(|s| Some(s.trim().to_owned()))
                    .map_err(|_| ApiError::unauthorized(format!("the {name} header is not valid text"))),
            }
        };
        let named = header(TENANT_HEADER)?;
        let app = header("applicationtoken")?;
        let auth = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let tid = match auth.and_then(bearer) {
            Some(token) => {
                let in_token =
                    token_tenant(token).ok_or_else(|| ApiError::unauthorized("invalid or expired access token"))?;
                if named.as_deref().is_some_and(|n| n != in_token) {
                    return Err(
                        ApiError::unauthorized("X-Castellan-Tenant names another tenant than the token")
                            .detail("reason", "a token is only good in the tenant that issued it"),
                    );
                }
                in_token
            }
            None => named.unwrap_or_else(|| state.default_tenant.to_string()),
        };
        let access = authenticate(parts, state, &tid).await.map_err(ApiError::into_family)?;
        let allowed = access.allow::<N>()?;
        crate::audit::note_actor(&state.control, allowed.tenant(), allowed.actor()).await;
        Ok(Caller { access: allowed, app })
    }
}

/// The token of an `Authorization: Bearer …` value (RFC 6750 §2.1; the scheme in any case, RFC
/// 9110 §11.1): the one parser of the admin API, the privacy API, userinfo and the gateway
/// authorizer.
pub(crate) fn bearer(auth: &str) -> Option<&str> {
    let (scheme, token) = auth.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The token of `Authorization: DPoP …` (RFC 9449 §7.1; the scheme in any case).
pub(crate) fn dpop_token(auth: &str) -> Option<&str> {
    let (scheme, token) = auth.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("dpop") && !token.is_empty()).then_some(token)
}

/// The `tid` claim of a JWT, read before its signature is checked (which names the key to check
/// it with: that tenant's admin server's).
pub(crate) fn token_tenant(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("tid")?.as_str().map(str::to_owned)
}

/// Basic credentials of a client of `{tid}/admin`, or a Bearer token that server issued.
async fn authenticate(parts: &Parts, state: &AppState, tid: &str) -> Result<AdminAccess, ApiError> {
    let Some(auth) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::unauthorized("authentication required").detail(
            "reason",
            "send HTTP Basic credentials of a client of the tenant's admin server, or a Bearer token it issued",
        ));
    };
    let slot = parts.extensions.get::<ClientSlot>().cloned().unwrap_or_default();
    if let Some(token) = bearer(auth) {
        let access = state.control.authenticate_admin_bearer(tid, token).await?;
        slot.set(access.caller());
        return Ok(access);
    }
    let Some((id, secret)) = parse_basic(auth) else {
        return Err(ApiError::unauthorized("invalid client credentials").detail(
            "reason",
            "expected Authorization: Basic base64(client_id:client_secret) or Bearer <token>",
        ));
    };
    let access = match state.control.authenticate_admin(tid, &id, &secret).await {
        Ok(a) => a,
        // RFC 6749 §2.3.1: clients form-encode id and secret before Basic encoding them.
        Err(first) => match (form_decode(&id), form_decode(&secret)) {
            (Some(i), Some(s)) if i != id || s != secret => state.control.authenticate_admin(tid, &i, &s).await?,
            _ => return Err(first.into()),
        },
    };
    slot.set(access.caller());
    Ok(access)
}

/// `Basic base64(id:secret)` → `(id, secret)`.
pub(crate) fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `application/x-www-form-urlencoded` decoding of one value.
pub(crate) fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// An extractor of the admin family whose rejection the Cloudentity Nexus family renders (its
/// handlers take `InNexus<ApiJson<T>>`, `InNexus<ApiPath<T>>`, …).
pub struct InNexus<E>(pub E);

impl<E: FromRequestParts<S, Rejection = ApiError>, S: Send + Sync> FromRequestParts<S> for InNexus<E> {
    type Rejection = ApiError<Nexus>;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError<Nexus>> {
        E::from_request_parts(parts, state)
            .await
            .map(InNexus)
            .map_err(ApiError::into_family)
    }
}

impl<E: FromRequest<S, Rejection = ApiError>, S: Send + Sync> FromRequest<S> for InNexus<E> {
    type Rejection = ApiError<Nexus>;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError<Nexus>> {
        E::from_request(req, state)
            .await
            .map(InNexus)
            .map_err(ApiError::into_family)
    }
}

/// A rejection rendered by another family.
pub trait Reject {
    fn family<G>(self) -> ApiError<G>;
}

impl<F> Reject for ApiError<F> {
    fn family<G>(self) -> ApiError<G> {
        self.into_family()
    }
}

/// Wrappers whose rejections a family renders: `$name<Caller<N>>`, `$name<ApiJson<T>>`, ….
macro_rules! in_family {
    ($(#[$doc:meta])* $name:ident, $fam:ty) => {
        $(#[$doc])*
        pub struct $name<E>(pub E);

        impl<E: FromRequestParts<S>, S: Send + Sync> FromRequestParts<S> for $name<E>
        where
            E::Rejection: Reject,
        {
            type Rejection = ApiError<$fam>;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError<$fam>> {
                E::from_request_parts(parts, state).await.map($name).map_err(Reject::family)
            }
        }

        impl<E: FromRequest<S, Rejection = ApiError>, S: Send + Sync> FromRequest<S> for $name<E> {
            type Rejection = ApiError<$fam>;

            async fn from_request(req: Request, state: &S) -> Result<Self, ApiError<$fam>> {
                E::from_request(req, state).await.map($name).map_err(ApiError::into_family)
            }
        }
    };
}

in_family!(
    /// An extractor whose rejection the workspace-client family (TMF errors) renders.
    InTmf,
    crate::error::Tmf
);
in_family!(
    /// An extractor whose rejection the access-manager family renders.
    InOam,
    crate::error::Oam
);

/// Path parameters; a parameter that does not decode (not UTF-8, not the expected type) is a 400
/// in the family's error shape, not the framework's `text/plain`.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid path").detail("reason", r.body_text()))
    }
}

/// A query string; one that does not decode (a repeated or mistyped parameter, a value that is
/// not one of the allowed ones) is a 400 in the family's error shape naming the reason.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        query_from_uri(&parts.uri).map(ApiQuery)
    }
}

/// Decodes the query of `uri` as [`ApiQuery`] does.
pub(crate) fn query_from_uri<T: DeserializeOwned>(uri: &axum::http::Uri) -> Result<T, ApiError> {
    // axum-extra's form decoding: repeated parameters fill lists, and repeat a single value only
    // to be refused.
    axum_extra::extract::Query::<T>::try_from_uri(uri)
        .map(|axum_extra::extract::Query(v)| v)
        .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid query").detail("reason", r.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_parses() {
        assert_eq!(parse_basic("Basic YTpiOmM="), Some(("a".into(), "b:c".into())));
        assert_eq!(parse_basic("basic YTpi"), Some(("a".into(), "b".into())));
        assert_eq!(parse_basic("Bearer xyz"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(parse_basic("Basic YWI="), None);
    }

    #[test]
    fn bearer_tokens_are_read_in_any_case_of_the_scheme() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("BEARER abc"), Some("abc"));
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearerabc"), None);
    }

    #[test]
    fn form_decoding_follows_rfc6749() {
        assert_eq!(form_decode("a%2Bb+c").as_deref(), Some("a+b c"));
        assert_eq!(form_decode("bad%2").as_deref(), None);
    }

    #[derive(serde::Deserialize, Debug)]
    struct Counted {
        n: i64,
        #[serde(default)]
        f: Option<f64>,
    }

    #[derive(serde::Deserialize, Debug)]
    struct Outer {
        inner: Option<Counted>,
        #[serde(default)]
        list: Vec<Counted>,
    }

    /// Serde reads a struct from its sequence form; a body never means that.
    #[test]
    fn an_object_member_is_never_read_from_an_array() {
        for body in [&br#"{"inner": [1, null]}"#[..], br#"{"list": [[2, 1.5]]}"#] {
            let e = decode_json::<Outer>(body).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(body));
        }
        let o: Outer = decode_json(br#"{"inner": {"n": 1}, "list": [{"n": 2, "f": 1.5}]}"#).unwrap();
        assert_eq!((o.inner.map(|c| c.n), o.list.len()), (Some(1), 1));
        let o: Outer = decode_json(br#"{"inner": null}"#).unwrap();
        assert!(o.inner.is_none());
    }

    #[test]
    fn integral_numbers_written_with_a_fraction_are_integers() {
        let c: Counted = decode_json(br#"{"n": 3.0, "f": 2.5}"#).unwrap();
        assert_eq!((c.n, c.f), (3, Some(2.5)));
        let c: Counted = decode_json(br#"{"n": -6227020801.0}"#).unwrap();
        assert_eq!(c.n, -6_227_020_801);
        // Read correctly rounded (serde_json's float_roundtrip): not ...441.5.
        let c: Counted = decode_json(br#"{"n": -4130105284542442.0}"#).unwrap();
        assert_eq!(c.n, -4_130_105_284_542_442);
        for body in [
            &br#"{"n": 3.5}"#[..],
            br#"{"n": 1e300}"#,
            br#"{"n": 9223372036854775808.0}"#,
            br#"{"n": [1]}"#,
        ] {
            let e = decode_json::<Counted>(body).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(body));
        }
    }
}
