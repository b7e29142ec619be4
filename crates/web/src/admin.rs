//! `/api/admin/{tid}/…`: tenant and authorization servers (Cloudentity ACP). Thin handlers: extract,
//! call the control plane, map the outcome.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use castellan_control::need;
use castellan_types::{
    Authentications, Dashboards, Server, ServerRequest, Servers, SigningKeys, Tenant, TenantRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{CreateErrors, DeleteErrors, KeyErrors, ReadErrors, WriteErrors};
use crate::error::ApiError;
use crate::extract::{Admin, ApiJson, ApiPath};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_tenant, update_tenant))
        .routes(routes!(list_servers, create_server))
        .routes(routes!(get_server, update_server, delete_server))
        .routes(routes!(update_authentications))
        .routes(routes!(list_dashboards))
        .routes(routes!(list_signing_keys))
        .routes(routes!(rotate_signing_keys))
        .routes(routes!(revoke_signing_key))
}

/// Get admin tenant
///
/// Requires the `tenant.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/tenant", tag = "admin", operation_id = "getAdminTenant",
    extensions(("x-castellan-permission" = json!("tenant.read"))),
    params(("tid" = String, Path, description = "Tenant id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Tenant", body = Tenant),
        ReadErrors,
    ))]
async fn get_tenant(State(st): State<AppState>, Admin(a): Admin<need::TenantRead>) -> ApiResult<Json<Tenant>> {
    Ok(Json(st.control.get_tenant(&a).await?))
}

/// Update admin tenant
///
/// Fields left out keep their current value. `id` must be absent or equal the path's; `url` is
/// derived from the public URL and cannot be set.
///
/// Requires the `tenant.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/tenant", tag = "admin", operation_id = "updateAdminTenant",
    extensions(("x-castellan-permission" = json!("tenant.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = TenantRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Tenant", body = Tenant),
        WriteErrors,
    ))]
async fn update_tenant(
    State(st): State<AppState>,
    Admin(a): Admin<need::TenantWrite>,
    ApiJson(req): ApiJson<TenantRequest>,
) -> ApiResult<Json<Tenant>> {
    Ok(Json(st.control.update_tenant(&a, req).await?))
}

/// List authorization servers
///
/// Requires the `server.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/servers", tag = "admin", operation_id = "listAuthorizationServers",
    extensions(("x-castellan-permission" = json!("server.read"))),
    params(("tid" = String, Path, description = "Tenant id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Servers", body = Servers),
        ReadErrors,
    ))]
async fn list_servers(State(st): State<AppState>, Admin(a): Admin<need::ServerRead>) -> ApiResult<Json<Servers>> {
    Ok(Json(st.control.list_servers(&a).await?))
}

/// Create authorization server
///
/// If `id` and `secret` are not provided they are generated; a given secret must have at least 32
/// characters. Default grant types: `authorization_code`, `implicit`, `client_credentials`,
/// `refresh_token`. Without `jwks`, a signing key is generated from `key_type` (`rsa` → RS256
/// 2048-bit, the default; `ecdsa` → ES256 P-256; `ps` → PS256). Default TTLs: authorization code
/// 10m, access token 1h, id token 1h, refresh token 30 days (Go durations such as `1h10m30s`).
///
/// Requires the `server.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/servers", tag = "admin", operation_id = "createAuthorizationServer",
    extensions(("x-castellan-permission" = json!("server.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = ServerRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Server", body = Server),
        CreateErrors,
    ))]
async fn create_server(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServerWrite>,
    ApiJson(req): ApiJson<ServerRequest>,
) -> ApiResult<(StatusCode, Json<Server>)> {
    Ok((StatusCode::CREATED, Json(st.control.create_server(&a, req).await?)))
}

/// Get authorization server
///
/// Requires the `server.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/servers/{aid}", tag = "admin", operation_id = "getAuthorizationServer",
    extensions(("x-castellan-permission" = json!("server.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Server", body = Server),
        ReadErrors,
    ))]
async fn get_server(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServerRead>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
) -> ApiResult<Json<Server>> {
    Ok(Json(st.control.get_server(&a, &aid).await?))
}

/// Update authorization server
///
/// Fields left out keep their current value. A new `secret` moves the previous one into
/// `rotated_secrets`. A new `key_type` without `jwks` generates a new signing key and keeps the
/// previous public key published. `jwks` may list keys the API returned (public part, same `kid`)
/// and new keys with their private members; the first key signs.
///
/// Requires the `server.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/servers/{aid}", tag = "admin", operation_id = "updateAuthorizationServer",
    extensions(("x-castellan-permission" = json!("server.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    request_body = ServerRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Server", body = Server),
        WriteErrors,
    ))]
async fn update_server(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServerWrite>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ServerRequest>,
) -> ApiResult<Json<Server>> {
    Ok(Json(st.control.update_server(&a, &aid, req).await?))
}

/// Delete authorization server
///
/// Deletes the server and everything stored under it. System servers (`admin`, `developer`)
/// cannot be deleted (400).
///
/// Requires the `server.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/servers/{aid}", tag = "admin", operation_id = "deleteAuthorizationServer",
    extensions(("x-castellan-permission" = json!("server.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Authorization server has been deleted"),
        DeleteErrors,
    ))]
async fn delete_server(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServerWrite>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.delete_server(&a, &aid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Update authentications
///
/// Sets the login methods of a server. With more than one method the user chooses; with one the
/// login page goes straight to it. Passwords of `static` users are stored as argon2id hashes and
/// never returned; a user sent without `password` keeps the current one. Upstream
/// `client_secret`s are stored encrypted and never returned; left out, they are kept.
///
/// Requires the `server.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/servers/{aid}/authentications", tag = "admin", operation_id = "updateAuthentications",
    extensions(("x-castellan-permission" = json!("server.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    request_body = Authentications,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Authentications", body = Authentications),
        WriteErrors,
    ))]
async fn update_authentications(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServerWrite>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<Authentications>,
) -> ApiResult<Json<Authentications>> {
    Ok(Json(st.control.update_authentications(&a, &aid, req).await?))
}

/// List links to dashboards
///
/// Where to watch the server: Castellan's Prometheus metrics (`/metrics`: token requests by grant
/// type and outcome, token latency, introspections) serve as both the business and the threat
/// view (refused requests by OAuth error code). There are no sample dashboards (empty URLs).
///
/// Requires the `server.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/servers/{aid}/dashboards", tag = "admin", operation_id = "listDashboards",
    extensions(("x-castellan-permission" = json!("server.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Server id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Dashboards", body = Dashboards),
        ReadErrors,
    ))]
async fn list_dashboards(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServerRead>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
) -> ApiResult<Json<Dashboards>> {
    Ok(Json(st.control.get_dashboards(&a, &aid).await?))
}

/// List signing keys
///
/// The server's signing keys and where each is in its life: `next` (published, signs from
/// `activates_at`), `current`, `retired` (published until `retires_at`, when the last token it
/// signed has expired) and `revoked`. The JWK Set (`{issuer}/.well-known/jwks.json`) publishes
/// every key but the revoked. Castellan addition.
///
/// Requires the `server.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/servers/{aid}/keys", tag = "admin", operation_id = "listSigningKeys",
    extensions(("x-castellan-permission" = json!("server.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Server id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Signing keys", body = SigningKeys),
        ReadErrors,
    ))]
async fn list_signing_keys(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServerRead>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
) -> ApiResult<Json<SigningKeys>> {
    Ok(Json(st.control.list_signing_keys(&a, &aid).await?))
}

/// Rotate signing keys
///
/// Publishes a next key now; it starts signing an hour later (relying parties are told to cache
/// the JWK Set for five minutes), and the key it replaces stays published until the last token
/// it signed has expired. The schedule (`key_rotation_period`) does the same on its own. 409
/// while a next key is already published. Castellan addition.
///
/// Requires the `server.write` permission (for the admin server: every permission its clients
/// may hold).
#[utoipa::path(post, path = "/api/admin/{tid}/servers/{aid}/keys/rotate", tag = "admin", operation_id = "rotateSigningKeys",
    extensions(("x-castellan-permission" = json!("server.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Server id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Signing keys, the new next key among them", body = SigningKeys),
        KeyErrors,
    ))]
async fn rotate_signing_keys(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServerWrite>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
) -> ApiResult<Json<SigningKeys>> {
    Ok(Json(st.control.rotate_signing_keys(&a, &aid).await?))
}

/// Revoke a signing key
///
/// Withdraws the key at once: it leaves the JWK Set, tokens it signed are no longer valid
/// (introspection answers inactive), and its private part is destroyed. A revoked current key is
/// replaced straight away by the next key when one is published, else by a new key. Revoking a
/// revoked key changes nothing. Castellan addition.
///
/// Requires the `server.write` permission (for the admin server: every permission its clients
/// may hold).
#[utoipa::path(post, path = "/api/admin/{tid}/servers/{aid}/keys/{kid}/revoke", tag = "admin", operation_id = "revokeSigningKey",
    extensions(("x-castellan-permission" = json!("server.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Server id"),
        ("kid" = String, Path, description = "Key id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Signing keys", body = SigningKeys),
        KeyErrors,
    ))]
async fn revoke_signing_key(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServerWrite>,
    ApiPath((_tid, aid, kid)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<SigningKeys>> {
    Ok(Json(st.control.revoke_signing_key(&a, &aid, &kid).await?))
}
