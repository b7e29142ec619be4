//! The OpenAPI entries of the protocol endpoints every authorization server serves (token,
//! introspection, revocation, discovery, JWKS, userinfo), so `/docs` shows them beside the admin
//! API. The handlers themselves live in `oauth` and `pages`; these functions only describe them.
// The functions and types exist for the OpenAPI document; they are never called or built.
#![allow(dead_code)]

use castellan_types::Jwks;
use serde::Serialize;
use utoipa::ToSchema;

/// `POST /oauth2/token` (RFC 6749 §3.2). Client credentials go in HTTP Basic (the default), in the
/// form (`client_secret_post`), or as a client assertion (RFC 7523).
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenRequest {
    /// `client_credentials`, `authorization_code`, `refresh_token` or `password`.
    grant_type: String,
    /// Space-delimited; a subset of the client's scopes.
    scope: Option<String>,
    /// `authorization_code`: the code, the `redirect_uri` of the request, the PKCE verifier.
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    /// `refresh_token`.
    refresh_token: Option<String>,
    /// `password` (when the server enables it), for its `static` users.
    username: Option<String>,
    password: Option<String>,
    /// `client_secret_post`, or `none` for public clients.
    client_id: Option<String>,
    client_secret: Option<String>,
    /// `client_secret_jwt` / `private_key_jwt` (RFC 7523 §2.2).
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// RFC 6749 §5.1.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    /// A JWT (RFC 9068, `typ: at+jwt`).
    access_token: String,
    token_type: String,
    expires_in: u64,
    scope: Option<String>,
    /// Opaque, rotated on every use.
    refresh_token: Option<String>,
    /// When `openid` was granted (OIDC Core §3.1.3.3).
    id_token: Option<String>,
}

/// RFC 6749 §5.2; always with `Cache-Control: no-store`.
#[derive(Serialize, ToSchema)]
pub(crate) struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, …
    error: String,
    error_description: Option<String>,
}

/// `POST /oauth2/introspect` and `/oauth2/revoke`: the token, and the caller's own client
/// credentials as at the token endpoint.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenForm {
    token: String,
    /// `access_token` or `refresh_token` (a hint only).
    token_type_hint: Option<String>,
}

/// RFC 7662 §2.2. Anything else than a live token of this server is `{"active": false}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Introspection {
    active: bool,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    token_type: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    sub: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    iss: Option<String>,
    aud: Option<Vec<String>>,
    jti: Option<String>,
}

/// RFC 8414 §2 / OIDC Discovery §3 (abridged; the document lists every endpoint and capability).
#[derive(Serialize, ToSchema)]
pub(crate) struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    end_session_endpoint: String,
    scopes_supported: Vec<String>,
    grant_types_supported: Vec<String>,
    response_types_supported: Vec<String>,
    id_token_signing_alg_values_supported: Vec<String>,
    code_challenge_methods_supported: Vec<String>,
}

/// OIDC Core §5.3.2: `sub` and the claims the token's scopes release.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserInfo {
    sub: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    claims: serde_json::Map<String, serde_json::Value>,
}

/// Token endpoint
///
/// Issues access tokens (and refresh and ID tokens for a person's grant) per RFC 6749 §4.1.3,
/// §4.3, §4.4 and §6, with PKCE (RFC 7636). Errors are RFC 6749 §5.2 JSON; a failed client
/// authentication is 401 `invalid_client`.
#[utoipa::path(post, path = "/{tid}/{aid}/oauth2/token", tag = "protocol", operation_id = "token",
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse),
        (status = 400, description = "RFC 6749 §5.2 error", body = OAuthError),
        (status = 401, description = "invalid_client", body = OAuthError),
        (status = 404, description = "No such tenant or server", body = OAuthError),
    ))]
fn token() {}

/// Token introspection
///
/// RFC 7662: a confidential client of the same server asks whether a token (access or refresh)
/// is live.
#[utoipa::path(post, path = "/{tid}/{aid}/oauth2/introspect", tag = "protocol", operation_id = "introspect",
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("client_basic" = [])),
    responses(
        (status = 200, description = "Whether the token is active, and its claims", body = Introspection),
        (status = 400, description = "invalid_request (no token, a repeated parameter)", body = OAuthError),
        (status = 401, description = "invalid_client (public clients may not introspect)", body = OAuthError),
        (status = 404, description = "No such tenant or server", body = OAuthError),
    ))]
fn introspect() {}

/// Token revocation
///
/// RFC 7009: a client revokes one of its tokens; revoking a refresh token revokes its whole
/// grant. Unknown tokens are not an error.
#[utoipa::path(post, path = "/{tid}/{aid}/oauth2/revoke", tag = "protocol", operation_id = "revoke",
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("client_basic" = [])),
    responses(
        (status = 200, description = "Revoked (or nothing to revoke)"),
        (status = 400, description = "invalid_request (no token, a repeated parameter) or unauthorized_client", body = OAuthError),
        (status = 401, description = "invalid_client, with WWW-Authenticate: Basic when no credentials were sent", body = OAuthError),
        (status = 404, description = "No such tenant or server", body = OAuthError),
    ))]
fn revoke() {}

/// OpenID Provider metadata
///
/// OIDC Discovery 1.0 §4; the same document is served at `/.well-known/oauth-authorization-server`
/// under the issuer and at the RFC 8414 §3.1 locations
/// `/.well-known/oauth-authorization-server/{tid}/{aid}` and
/// `/.well-known/openid-configuration/{tid}/{aid}`.
#[utoipa::path(get, path = "/{tid}/{aid}/.well-known/openid-configuration", tag = "protocol", operation_id = "discovery",
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    responses(
        (status = 200, description = "Metadata", body = Metadata),
        (status = 404, description = "No such server", body = OAuthError),
    ))]
fn discovery() {}

/// Authorization server metadata
///
/// RFC 8414 §3.1, at the location the RFC defines for an issuer with a path.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server/{tid}/{aid}", tag = "protocol", operation_id = "authorizationServerMetadata",
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    responses(
        (status = 200, description = "Metadata", body = Metadata),
        (status = 404, description = "No such server", body = OAuthError),
    ))]
fn rfc8414_metadata() {}

/// JSON Web Key Set
///
/// RFC 7517 §5: the server's public keys (current, next, recently rotated, and the RS256 key of
/// its ID tokens), cacheable for a minute.
#[utoipa::path(get, path = "/{tid}/{aid}/.well-known/jwks.json", tag = "protocol", operation_id = "jwks",
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    responses(
        (status = 200, description = "Public keys", body = Jwks),
        (status = 404, description = "No such server", body = OAuthError),
    ))]
fn jwks() {}

/// UserInfo
///
/// OIDC Core §5.3 (`GET` or `POST`): the person's claims for an access token granted `openid`;
/// errors in `WWW-Authenticate` (RFC 6750 §3).
#[utoipa::path(get, path = "/{tid}/{aid}/userinfo", tag = "protocol", operation_id = "userinfo",
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Claims", body = UserInfo),
        (status = 401, description = "invalid_token", body = OAuthError),
        (status = 403, description = "insufficient_scope (no openid)", body = OAuthError),
        (status = 404, description = "No such tenant or server", body = OAuthError),
    ))]
fn userinfo() {}
