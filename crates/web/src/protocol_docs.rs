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
    /// `client_credentials`, `authorization_code`, `refresh_token`, `password`,
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer`, `urn:ietf:params:oauth:grant-type:token-exchange`
    /// or `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4).
    grant_type: String,
    /// Space-delimited; a subset of the client's scopes.
    scope: Option<String>,
    /// `authorization_code`: the code, the `redirect_uri` of the request, the PKCE verifier.
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    /// `refresh_token`.
    refresh_token: Option<String>,
    /// The device code grant: the `device_code` of the device authorization endpoint.
    device_code: Option<String>,
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
    /// `unsupported_grant_type`, `invalid_scope`, …; while a device polls (RFC 8628 §3.5)
    /// `authorization_pending`, `slow_down`, `access_denied` or `expired_token`.
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
/// authentication is 401 `invalid_client`. With a `DPoP` proof (RFC 9449) the tokens are bound
/// to its key: `token_type: DPoP`, `cnf.jkt` in the access token; a bad proof is
/// `invalid_dpop_proof`, a missing server nonce `use_dpop_nonce` with `DPoP-Nonce`. Clients
/// registered for `tls_client_auth` or `self_signed_tls_client_auth` (RFC 8705 §2) send only
/// `client_id` and authenticate with the TLS client certificate of the connection (or the one a
/// trusted proxy forwards); a client with `tls_client_certificate_bound_access_tokens` gets tokens
/// bound to that certificate (`cnf.x5t#S256`). On a server with a FAPI profile (`fapi_rw`,
/// `fapi2`), a client breaking one of its rules is refused naming the rule.
#[utoipa::path(post, path = "/{tid}/{aid}/oauth2/token", tag = "protocol", operation_id = "token",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
        ("DPoP" = Option<String>, Header, description = "A DPoP proof (RFC 9449 §4): a JWT with `typ: dpop+jwt` naming this request"),
    ),
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
/// errors in `WWW-Authenticate` (RFC 6750 §3). A DPoP-bound token comes as `Authorization: DPoP
/// …` with a `DPoP` proof of this request that carries `ath` (RFC 9449 §7); its errors use the
/// `DPoP` challenge. A certificate-bound token (`cnf.x5t#S256`, RFC 8705 §3) is accepted only
/// over a connection presenting that TLS client certificate.
#[utoipa::path(get, path = "/{tid}/{aid}/userinfo", tag = "protocol", operation_id = "userinfo",
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Claims", body = UserInfo),
        (status = 401, description = "No token (no body, a bare `WWW-Authenticate: Bearer` challenge), or `invalid_token` (in `WWW-Authenticate`, RFC 6750 §3, and as JSON)"),
        (status = 403, description = "`insufficient_scope` (no `openid`): in `WWW-Authenticate` and as JSON"),
        (status = 404, description = "No such tenant or server", body = OAuthError),
    ))]
fn userinfo() {}

/// The form of `POST /userinfo`.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserinfoForm {
    /// The access token, when it is not in the `Authorization` header (not both).
    access_token: Option<String>,
}

/// UserInfo (form)
///
/// As `GET`, with the access token in the `Authorization` header or the `access_token` form
/// parameter (RFC 6750 §2.2).
#[utoipa::path(post, path = "/{tid}/{aid}/userinfo", tag = "protocol", operation_id = "userinfoPost",
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    request_body(content = UserinfoForm, content_type = "application/x-www-form-urlencoded"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Claims", body = UserInfo),
        (status = 401, description = "No token (no body, a bare `WWW-Authenticate: Bearer` challenge), or `invalid_token` (in `WWW-Authenticate`, RFC 6750 §3, and as JSON)"),
        (status = 403, description = "`insufficient_scope` (no `openid`): in `WWW-Authenticate` and as JSON"),
        (status = 404, description = "No such tenant or server", body = OAuthError),
    ))]
fn userinfo_post() {}

/// Authorization endpoint
///
/// RFC 6749 §4.1 and §4.2 with PKCE (RFC 7636; `S256` only) and OpenID Connect Core §3:
/// `response_type` `code`, `token`, `id_token` and their combinations, `response_mode`
/// `query`, `fragment` or `form_post`. A person without a session is sent to the server's login
/// page, then to the consent page; the answer goes to the client's registered `redirect_uri`
/// (matched exactly). An unknown client or a `redirect_uri` that is not registered is shown as a
/// page and never redirected to (RFC 6749 §4.1.2.1); other errors go back to the client.
#[utoipa::path(get, path = "/{tid}/{aid}/oauth2/authorize", tag = "protocol", operation_id = "authorize",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
        ("response_type" = String, Query, description = "`code`, `token`, `id_token`, or a combination"),
        ("client_id" = String, Query, description = "The client"),
        ("redirect_uri" = Option<String>, Query, description = "One of the client's registered redirect URIs (required when it has several)"),
        ("scope" = Option<String>, Query, description = "Space-delimited scopes; `openid` for an ID token"),
        ("state" = Option<String>, Query, description = "Returned unchanged"),
        ("code_challenge" = Option<String>, Query, description = "PKCE (RFC 7636 §4.2)"),
        ("code_challenge_method" = Option<String>, Query, description = "`S256`"),
        ("nonce" = Option<String>, Query, description = "OpenID Connect: copied into the ID token"),
        ("response_mode" = Option<String>, Query, description = "`query`, `fragment` or `form_post`"),
        ("prompt" = Option<String>, Query, description = "`none`, `login` or `consent`"),
        ("login_hint" = Option<String>, Query, description = "Pre-fills the username; passed on to an upstream provider"),
        ("idp_hint" = Option<String>, Query, description = "The id of the login method to use: the login page goes straight to it"),
        ("request_uri" = Option<String>, Query, description = "A `request_uri` from the PAR endpoint (RFC 9126), with `client_id`: the pushed request's parameters replace the others"),
        ("request" = Option<String>, Query, description = "A request object (RFC 9101) signed with one of the client's keys, with `client_id`: its claims replace the other parameters"),
        ("dpop_jkt" = Option<String>, Query, description = "The thumbprint of the DPoP key the code is bound to (RFC 9449 §10): the token request must carry a proof by that key"),
    ),
    responses(
        (status = 302, description = "To the login or consent page, or back to the client with the answer"),
        (status = 200, description = "A `form_post` answer (an auto-submitting HTML form)", content_type = "text/html"),
        (status = 400, description = "An unknown client or an unregistered redirect URI: an error page, not a redirect", content_type = "text/html"),
        (status = 404, description = "No such tenant or server", content_type = "text/html"),
    ))]
fn authorize() {}

/// Sign-out
///
/// OpenID Connect RP-Initiated Logout 1.0 (`GET` or `POST`): ends the person's session at this
/// server (and the grants it holds for it). `id_token_hint` must be an ID token this server
/// issued; a `post_logout_redirect_uri` must be registered for the client (matched exactly),
/// else the person is shown a signed-out page.
#[utoipa::path(get, path = "/{tid}/{aid}/logout", tag = "protocol", operation_id = "logout",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
        ("id_token_hint" = Option<String>, Query, description = "An ID token this server issued"),
        ("client_id" = Option<String>, Query, description = "The client, when no hint names it"),
        ("post_logout_redirect_uri" = Option<String>, Query, description = "One of the client's registered post-logout redirect URIs"),
        ("state" = Option<String>, Query, description = "Returned with the redirect"),
    ),
    responses(
        (status = 302, description = "To the registered post-logout redirect URI"),
        (status = 200, description = "A signed-out page", content_type = "text/html"),
        (status = 400, description = "An ID token this server did not issue, or an unregistered redirect URI", content_type = "text/html"),
        (status = 404, description = "No such tenant or server", content_type = "text/html"),
    ))]
fn logout() {}

/// Upstream sign-in callback
///
/// Where an upstream OpenID provider of an `oidc`, `azure` or `cognito` login method sends the
/// person back (OIDC Core §3.1.2.5); register it at the provider (the login method's
/// `redirect_url` shows it). `state` must name a sign-in this browser started within ten minutes,
/// once; the code is exchanged with PKCE and the ID token validated. Failures are pages in words
/// and sign no one in.
#[utoipa::path(get, path = "/{tid}/{aid}/login/callback", tag = "protocol", operation_id = "upstreamCallback",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
        ("state" = Option<String>, Query, description = "The state Castellan sent the provider"),
        ("code" = Option<String>, Query, description = "The provider's authorization code"),
        ("error" = Option<String>, Query, description = "The provider's error (`access_denied`, …)"),
    ),
    responses(
        (status = 303, description = "Signed in: on to the consent page or back to the client"),
        (status = 400, description = "An unknown, expired, reused or other browser's sign-in", content_type = "text/html"),
        (status = 403, description = "The provider did not sign the person in", content_type = "text/html"),
        (status = 404, description = "No such tenant or server", content_type = "text/html"),
        (status = 502, description = "The provider's answer was refused (a bad ID token) or it could not be reached", content_type = "text/html"),
    ))]
fn upstream_callback() {}

/// `POST {issuer}/login/custom/{login_id}/accept`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomAccept {
    /// The person's identifier at the external page (1 to 255 characters); with the login method
    /// it identifies the person at this server.
    #[schema(min_length = 1, max_length = 255)]
    subject: String,
    /// The person's attributes (at most 16 KiB of JSON), shaped by the method's `mappings` and
    /// `attributes` into the authentication context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    authentication_context: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Accept an external sign-in
///
/// The external login page of a `custom` login method signs the person `login_id` names in
/// (it received `login_id` and `return_url` as query parameters), authenticated with the
/// method's `client_id` and `client_secret` in HTTP Basic; then it sends the browser to
/// `return_url`. Each sign-in is answered once, within ten minutes.
#[utoipa::path(post, path = "/{tid}/{aid}/login/custom/{login_id}/accept", tag = "protocol", operation_id = "customLoginAccept",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
        ("login_id" = String, Path, description = "The one-time id the page received"),
    ),
    request_body = CustomAccept,
    security(("basic" = [])),
    responses(
        (status = 204, description = "Recorded; the browser may return"),
        (status = 400, description = "A malformed body", body = OAuthError),
        (status = 401, description = "Missing or wrong method credentials", body = OAuthError),
        (status = 404, description = "No such sign-in waiting (unknown, expired or finished)", body = OAuthError),
        (status = 409, description = "Already answered", body = OAuthError),
        (status = 413, description = "The body is too large", body = OAuthError),
    ))]
fn custom_accept() {}

/// Reject an external sign-in
///
/// As accept, without a body: the person is told they were not signed in when the browser
/// returns.
#[utoipa::path(post, path = "/{tid}/{aid}/login/custom/{login_id}/reject", tag = "protocol", operation_id = "customLoginReject",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
        ("login_id" = String, Path, description = "The one-time id the page received"),
    ),
    security(("basic" = [])),
    responses(
        (status = 204, description = "Recorded; the browser may return"),
        (status = 401, description = "Missing or wrong method credentials", body = OAuthError),
        (status = 404, description = "No such sign-in waiting (unknown, expired or finished)", body = OAuthError),
        (status = 409, description = "Already answered", body = OAuthError),
    ))]
fn custom_reject() {}

/// `POST /oauth2/par` (RFC 9126 §2.1): the authorization request's parameters, and the client's
/// credentials as at the token endpoint.
#[derive(Serialize, ToSchema)]
pub(crate) struct PushForm {
    /// Required unless `request` carries it.
    response_type: Option<String>,
    /// Required for `client_secret_post` and public clients.
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    response_mode: Option<String>,
    prompt: Option<String>,
    login_hint: Option<String>,
    /// The DPoP key the code is bound to (RFC 9449 §10); a `DPoP` header on this request binds it too.
    dpop_jkt: Option<String>,
    /// A signed request object (RFC 9101) standing for the parameters above.
    request: Option<String>,
    /// `client_secret_post`.
    client_secret: Option<String>,
    /// `client_secret_jwt` / `private_key_jwt`.
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// `POST /oauth2/par` answer (RFC 9126 §2.2).
#[derive(Serialize, ToSchema)]
pub(crate) struct PushedRequest {
    /// `urn:ietf:params:oauth:request_uri:…`, used once at the authorization endpoint with the
    /// client's `client_id`.
    request_uri: String,
    /// Seconds it may be used in (60).
    expires_in: i64,
}

/// Push an authorization request
///
/// RFC 9126: the client sends the authorization request's parameters, authenticated as at the
/// token endpoint (a public client sends its `client_id`). They are checked as the
/// authorization endpoint checks them (errors are RFC 6749 JSON, not redirects) and stored for
/// 60 seconds under a one-time `request_uri`; `GET /oauth2/authorize?client_id=…&request_uri=…`
/// then stands for them (other front-channel parameters are ignored). A server or client with
/// `require_pushed_authorization_requests` accepts no other authorization request.
#[utoipa::path(post, path = "/{tid}/{aid}/oauth2/par", tag = "protocol", operation_id = "pushAuthorizationRequest",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
    ),
    request_body(content = PushForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 201, description = "Pushed", body = PushedRequest),
        (status = 400, description = "A request the authorization endpoint would refuse (`invalid_request`, `unsupported_response_type`, `invalid_scope`, …)", body = OAuthError),
        (status = 401, description = "`invalid_client`", body = OAuthError),
        (status = 404, description = "No such tenant or server", body = OAuthError),
    ))]
fn pushed_authorization_request() {}

/// `POST /oauth2/device_authorization` (RFC 8628 §3.1), with the client's credentials as at the
/// token endpoint (a public client sends its `client_id`).
#[derive(Serialize, ToSchema)]
pub(crate) struct DeviceAuthorizationForm {
    /// Space-delimited; a subset of the client's scopes (all of them when absent).
    scope: Option<String>,
    /// Required for `client_secret_post` and public clients.
    client_id: Option<String>,
    /// `client_secret_post`.
    client_secret: Option<String>,
    /// `client_secret_jwt` / `private_key_jwt`.
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// `POST /oauth2/device_authorization` answer (RFC 8628 §3.2).
#[derive(Serialize, ToSchema)]
pub(crate) struct DeviceAuthorization {
    /// What the device polls the token endpoint with (`grant_type=urn:ietf:params:oauth:grant-type:device_code`).
    device_code: String,
    /// Eight letters in two groups (`BCDF-GHJK`), for the person to type at `verification_uri`.
    user_code: String,
    /// `{issuer}/device`.
    verification_uri: String,
    /// `{issuer}/device?user_code=…` (for a QR code); the person still confirms.
    verification_uri_complete: String,
    /// Seconds the codes live (600).
    expires_in: i64,
    /// Seconds the device waits between polls (5; each `slow_down` adds 5).
    interval: i64,
}

/// Start a device authorization
///
/// RFC 8628 device authorization grant, served where the server's `grant_types` include
/// `urn:ietf:params:oauth:grant-type:device_code` (and the client's too). The device shows
/// `user_code` and `verification_uri`; the person opens the page on another screen, types the
/// code, signs in and decides on the consent page (always shown for a device, even for a trusted
/// client). Meanwhile the device polls the token endpoint with `device_code` every `interval`
/// seconds: `authorization_pending` until the person decides, `slow_down` when it polls too
/// often, then its tokens once (a second use revokes them), `access_denied` or `expired_token`.
#[utoipa::path(post, path = "/{tid}/{aid}/oauth2/device_authorization", tag = "protocol", operation_id = "deviceAuthorization",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
    ),
    request_body(content = DeviceAuthorizationForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "Started", body = DeviceAuthorization),
        (status = 400, description = "`unsupported_grant_type` (the server does not allow the grant), `unauthorized_client` (the client does not), `invalid_scope`, `invalid_request`", body = OAuthError),
        (status = 401, description = "`invalid_client`", body = OAuthError),
        (status = 404, description = "No such tenant or server", body = OAuthError),
    ))]
fn device_authorization() {}

/// Device verification page
///
/// RFC 8628 §3.3: the page where a person types the user code a device shows (prefilled from
/// `user_code`, as `verification_uri_complete` links). Posting the code (with the page's CSRF
/// token) leads to the login and consent pages; wrong codes are limited to ten per address in
/// fifteen minutes. `done=approved|denied|expired` is where the flow ends.
#[utoipa::path(get, path = "/{tid}/{aid}/device", tag = "protocol", operation_id = "deviceVerification",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
        ("user_code" = Option<String>, Query, description = "The code to fill in"),
        ("done" = Option<String>, Query, description = "`approved`, `denied` or `expired`: how the flow ended"),
    ),
    responses(
        (status = 200, description = "The code entry page, or the outcome", content_type = "text/html"),
        (status = 400, description = "`done=expired`: the code was expired or used", content_type = "text/html"),
        (status = 404, description = "No such tenant or server, or the server does not allow the device grant", content_type = "text/html"),
    ))]
fn device_verification() {}

/// The device verification page's form.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeviceVerificationForm {
    /// The token of the page's form (bound to the browser's CSRF cookie).
    csrf_token: String,
    /// As the device shows it (`BCDF-GHJK`); case, dashes and spaces do not matter.
    user_code: String,
}

/// Enter a user code
///
/// The device verification page's form (RFC 8628 §3.3): with the page's CSRF token, a user code
/// of a pending request leads on to sign-in and consent (a `303`); a wrong or expired code shows
/// the page again with an error. Ten wrong codes from one address in fifteen minutes are answered
/// `429` without looking.
#[utoipa::path(post, path = "/{tid}/{aid}/device", tag = "protocol", operation_id = "deviceVerificationSubmit",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
    ),
    request_body(content = DeviceVerificationForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "To the login page, or the consent page when signed in already"),
        (status = 400, description = "Not the code of a pending request (wrong, expired or used), or not a form", content_type = "text/html"),
        (status = 403, description = "The CSRF token is missing or not this browser's", content_type = "text/html"),
        (status = 404, description = "No such tenant or server, or the server does not allow the device grant", content_type = "text/html"),
        (status = 429, description = "Too many wrong codes from this address", content_type = "text/html"),
    ))]
fn device_verification_submit() {}

/// Register a client
///
/// RFC 7591 dynamic client registration, served only by servers with
/// `enable_dynamic_client_registration` (never the system servers). The metadata are checked by
/// the admin API's rules; members the server does not know are ignored. With the server's
/// `registration_scope` set, an initial access token (an access token of this server holding that
/// scope) is required; without it, registration is open and limited per address. The server's and
/// its scopes' `developer_policy_id` decide what the registrant may have (with the initial access
/// token's claims as its context). The answer carries the secret (once), the registration access
/// token and the client's management URI.
#[utoipa::path(post, path = "/{tid}/{aid}/oauth2/register", tag = "protocol", operation_id = "registerClient",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
    ),
    request_body = castellan_types::registration::ClientMetadata,
    security((), ("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = castellan_types::registration::ClientInformation),
        (status = 400, description = "`invalid_redirect_uri` or `invalid_client_metadata`, naming the member", body = OAuthError),
        (status = 401, description = "`invalid_token`: the initial access token is missing, invalid or lacks the scope", body = OAuthError),
        (status = 403, description = "A developer policy refuses the registrant", body = OAuthError),
        (status = 404, description = "This server does not serve dynamic registration", body = OAuthError),
        (status = 413, description = "The metadata are too large", body = OAuthError),
        (status = 429, description = "Too many open registrations from this address (`Retry-After`)", body = OAuthError),
    ))]
fn register_client() {}

/// Read a registration
///
/// RFC 7592 §2.1, with the registration access token as a Bearer token. An unknown client and a
/// wrong token are both `401`.
#[utoipa::path(get, path = "/{tid}/{aid}/oauth2/register/{client_id}", tag = "protocol", operation_id = "readRegistration",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
        ("client_id" = String, Path, description = "The registered client"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The client's metadata", body = castellan_types::registration::ClientInformation),
        (status = 401, description = "`invalid_token`", body = OAuthError),
        (status = 404, description = "This server does not serve dynamic registration", body = OAuthError),
    ))]
fn read_registration() {}

/// Replace a registration
///
/// RFC 7592 §2.2: the body is the client's whole metadata with its `client_id` (and, if given,
/// its current `client_secret`); what it leaves out returns to its default. The secret stays; the
/// registration access token is replaced (the answer carries the new one).
#[utoipa::path(put, path = "/{tid}/{aid}/oauth2/register/{client_id}", tag = "protocol", operation_id = "updateRegistration",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
        ("client_id" = String, Path, description = "The registered client"),
    ),
    request_body = castellan_types::registration::ClientMetadata,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced", body = castellan_types::registration::ClientInformation),
        (status = 400, description = "`invalid_redirect_uri` or `invalid_client_metadata`", body = OAuthError),
        (status = 401, description = "`invalid_token`", body = OAuthError),
        (status = 403, description = "A developer policy refuses", body = OAuthError),
        (status = 404, description = "This server does not serve dynamic registration", body = OAuthError),
        (status = 413, description = "The metadata are too large", body = OAuthError),
    ))]
fn update_registration() {}

/// Delete a registration
///
/// RFC 7592 §2.3: the client and everything it was given.
#[utoipa::path(delete, path = "/{tid}/{aid}/oauth2/register/{client_id}", tag = "protocol", operation_id = "deleteRegistration",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("aid" = String, Path, description = "Authorization server id"),
        ("client_id" = String, Path, description = "The registered client"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`invalid_token`", body = OAuthError),
        (status = 404, description = "This server does not serve dynamic registration", body = OAuthError),
    ))]
fn delete_registration() {}

/// Gateway authorizer
///
/// Called by a gateway (nginx `auth_request`, Caddy `forward_auth`) for each request to an API it
/// protects, with any method: the gateway's own credentials in `X-Castellan-Gateway: Basic …`, the
/// original method and URI in `X-Original-Method` / `X-Original-URI` (nginx) or
/// `X-Forwarded-Method` / `X-Forwarded-Uri` (Caddy) — only those of the gateway's own type are
/// read — and the caller's `Authorization: Bearer …`. The API is found among the gateway's
/// services (method and path template), the token checked (a live access token of the service's
/// server) and the API's policy evaluated.
#[utoipa::path(get, path = "/api/gateway/{tid}/{gw}/authorize", tag = "protocol", operation_id = "gatewayAuthorize",
    params(
        ("tid" = String, Path, description = "Tenant id"),
        ("gw" = String, Path, description = "Gateway id"),
        ("service" = Option<String>, Query, description = "Only this service of the gateway"),
        ("X-Castellan-Gateway" = String, Header, description = "`Basic` credentials of the gateway's client"),
    ),
    responses(
        (status = 200, description = "Allowed: no body; `X-Castellan-Subject`, `X-Castellan-Client` and `X-Castellan-Api` name the caller, its client and the API"),
        (status = 400, description = "A malformed query string", body = castellan_types::ApiErrorBody),
        (status = 401, description = "A missing or dead token (`WWW-Authenticate: Bearer error=\"invalid_token\"`), or wrong gateway credentials (no Bearer challenge)", body = castellan_types::ApiErrorBody),
        (status = 403, description = "No API matches, or its policy refuses (with the policy's `recovery`)", body = castellan_types::ApiErrorBody),
    ))]
fn gateway_authorize() {}

/// The same endpoint under other methods, described from its `GET` entry: the authorization and
/// sign-out endpoints take their parameters as a form too (OpenID Connect Core §3.1.2.1, RP-Initiated
/// Logout §2), and the gateway authorizer answers whatever method the gateway forwards.
pub(crate) fn add_other_methods(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    for (path, id) in [
        ("/{tid}/{aid}/oauth2/authorize", "authorizePost"),
        ("/{tid}/{aid}/logout", "logoutPost"),
    ] {
        let Some(item) = doc.pointer_mut(&format!("/paths/{}", path.replace('~', "~0").replace('/', "~1"))) else {
            continue;
        };
        let Some(get) = item.get("get").cloned() else { continue };
        let mut post = get.clone();
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        let mut path_params = Vec::new();
        for p in get["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "query" {
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                let mut schema = p["schema"].clone();
                if let Some(d) = p.get("description") {
                    schema["description"] = d.clone();
                }
                if p["required"] == true {
                    required.push(name.clone());
                }
                properties.insert(name, schema);
            } else {
                path_params.push(p.clone());
            }
        }
        post["operationId"] = json!(id);
        post["parameters"] = Value::Array(path_params);
        post["requestBody"] = json!({"required": true, "content": {"application/x-www-form-urlencoded": {
            "schema": {"type": "object", "properties": properties, "required": required}}}});
        item["post"] = post;
    }
    let path = "/paths/~1api~1gateway~1{tid}~1{gw}~1authorize";
    if let Some(item) = doc.pointer_mut(path)
        && let Some(get) = item.get("get").cloned()
    {
        for method in ["post", "put", "patch", "delete", "head", "options", "trace"] {
            let mut op = get.clone();
            let id = format!("gatewayAuthorize{}{}", method[..1].to_ascii_uppercase(), &method[1..]);
            op["operationId"] = json!(id);
            item[method] = op;
        }
    }
}
