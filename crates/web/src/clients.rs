//! `/api/admin/{tid}/clients…` and `/api/admin/{tid}/scopes…` (Cloudentity ACP).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use castellan_control::need;
use castellan_types::{
    Claim, ClaimRequest, Claims, Client, ClientRequest, Clients, Scope, ScopeRequest, ScopeWithService, Scopes,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{CreateErrors, DeleteErrors, ReadErrors, UpdateErrors, WriteErrors};
use crate::error::ApiError;
use crate::extract::{Admin, ApiJson, ApiPath};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_client))
        .routes(routes!(get_client, update_client, delete_client))
        .routes(routes!(list_clients))
        .routes(routes!(create_scope))
        .routes(routes!(get_scope, update_scope, delete_scope))
        .routes(routes!(list_scopes))
}

/// Create client
///
/// The client is created under an existing authorization server named by
/// `authorization_server_id`. Id and secret are generated when absent (a given secret needs at
/// least 16 characters; secrets Castellan generates are stored as a keyed hash, chosen ones as
/// argon2id). Without `grant_types` the client gets `authorization_code` with response type `code`;
/// grant types must be enabled on the server. The default `token_endpoint_auth_method` is
/// `client_secret_basic`; `none` makes a public client without a secret. Redirect URIs must be
/// absolute without fragment: https, http on loopback, or a private-use scheme. Scopes must exist
/// on the client's server.
///
/// Requires the `client.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/clients", tag = "admin", operation_id = "createClient",
    extensions(("x-castellan-permission" = json!("client.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = ClientRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Client", body = Client),
        CreateErrors,
    ))]
async fn create_client(
    State(st): State<AppState>,
    Admin(a): Admin<need::ClientWrite>,
    ApiJson(req): ApiJson<ClientRequest>,
) -> ApiResult<(StatusCode, Json<Client>)> {
    Ok((StatusCode::CREATED, Json(st.control.create_client(&a, req).await?)))
}

/// Get client
///
/// The secret of a client created by a developer is empty.
///
/// Requires the `client.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/clients/{cid}", tag = "admin", operation_id = "getClient",
    extensions(("x-castellan-permission" = json!("client.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("cid" = String, Path, description = "Client id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Client", body = Client),
        ReadErrors,
    ))]
async fn get_client(
    State(st): State<AppState>,
    Admin(a): Admin<need::ClientRead>,
    ApiPath((_tid, cid)): ApiPath<(String, String)>,
) -> ApiResult<Json<Client>> {
    Ok(Json(st.control.get_client(&a, &cid).await?))
}

/// Update client
///
/// Fields left out keep their value; a given `client_secret` replaces the secret. A client cannot
/// move to another server.
///
/// Requires the `client.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/clients/{cid}", tag = "admin", operation_id = "updateClient",
    extensions(("x-castellan-permission" = json!("client.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("cid" = String, Path, description = "Client id")),
    request_body = ClientRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Client", body = Client),
        WriteErrors,
    ))]
async fn update_client(
    State(st): State<AppState>,
    Admin(a): Admin<need::ClientWrite>,
    ApiPath((_tid, cid)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ClientRequest>,
) -> ApiResult<Json<Client>> {
    Ok(Json(st.control.update_client(&a, &cid, req).await?))
}

/// Delete client
///
/// System clients (the bootstrap client) cannot be deleted (400).
///
/// Requires the `client.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/clients/{cid}", tag = "admin", operation_id = "deleteClient",
    extensions(("x-castellan-permission" = json!("client.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("cid" = String, Path, description = "Client id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Client has been deleted"),
        DeleteErrors,
    ))]
async fn delete_client(
    State(st): State<AppState>,
    Admin(a): Admin<need::ClientWrite>,
    ApiPath((_tid, cid)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.delete_client(&a, &cid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List clients
///
/// Clients created by admins and developers; a developer-created client's secret is empty.
///
/// Requires the `client.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/servers/{aid}/clients", tag = "admin", operation_id = "listClients",
    extensions(("x-castellan-permission" = json!("client.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Clients", body = Clients),
        ReadErrors,
    ))]
async fn list_clients(
    State(st): State<AppState>,
    Admin(a): Admin<need::ClientRead>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
) -> ApiResult<Json<Clients>> {
    Ok(Json(st.control.list_clients(&a, &aid).await?))
}

/// Create scope
///
/// `name` and `authorization_server_id` are required; the id is generated when absent. A name is
/// unique within its server (409) and is an RFC 6749 scope token.
///
/// Requires the `scope.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/scopes", tag = "admin", operation_id = "createScope",
    extensions(("x-castellan-permission" = json!("scope.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = ScopeRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Scope", body = Scope),
        CreateErrors,
    ))]
async fn create_scope(
    State(st): State<AppState>,
    Admin(a): Admin<need::ScopeWrite>,
    ApiJson(req): ApiJson<ScopeRequest>,
) -> ApiResult<(StatusCode, Json<Scope>)> {
    Ok((StatusCode::CREATED, Json(st.control.create_scope(&a, req).await?)))
}

/// Get scope
///
/// The scope with the service it protects: `service` (when `service_id` names one) and
/// `with_service`.
///
/// Requires the `scope.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/scopes/{scp}", tag = "admin", operation_id = "getScope",
    extensions(("x-castellan-permission" = json!("scope.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("scp" = String, Path, description = "Scope id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Scope with its service", body = ScopeWithService),
        ReadErrors,
    ))]
async fn get_scope(
    State(st): State<AppState>,
    Admin(a): Admin<need::ScopeRead>,
    ApiPath((_tid, scp)): ApiPath<(String, String)>,
) -> ApiResult<Json<ScopeWithService>> {
    Ok(Json(st.control.get_scope(&a, &scp).await?))
}

/// Update scope
///
/// Fields left out keep their value. The name and the server cannot change (400): clients and
/// issued tokens refer to a scope by name.
///
/// Requires the `scope.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/scopes/{scp}", tag = "admin", operation_id = "updateScope",
    extensions(("x-castellan-permission" = json!("scope.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("scp" = String, Path, description = "Scope id")),
    request_body = ScopeRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Scope", body = Scope),
        WriteErrors,
    ))]
async fn update_scope(
    State(st): State<AppState>,
    Admin(a): Admin<need::ScopeWrite>,
    ApiPath((_tid, scp)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ScopeRequest>,
) -> ApiResult<Json<Scope>> {
    Ok(Json(st.control.update_scope(&a, &scp, req).await?))
}

/// Delete scope
///
/// The scope is also taken off every client of its server.
///
/// Requires the `scope.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/scopes/{scp}", tag = "admin", operation_id = "deleteScope",
    extensions(("x-castellan-permission" = json!("scope.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("scp" = String, Path, description = "Scope id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Scope has been deleted"),
        ReadErrors,
    ))]
async fn delete_scope(
    State(st): State<AppState>,
    Admin(a): Admin<need::ScopeWrite>,
    ApiPath((_tid, scp)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.delete_scope(&a, &scp).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List scopes
///
/// Requires the `scope.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/servers/{aid}/scopes", tag = "admin", operation_id = "listScopes",
    extensions(("x-castellan-permission" = json!("scope.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Scopes", body = Scopes),
        ReadErrors,
    ))]
async fn list_scopes(
    State(st): State<AppState>,
    Admin(a): Admin<need::ScopeRead>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
) -> ApiResult<Json<Scopes>> {
    Ok(Json(st.control.list_scopes(&a, &aid).await?))
}

pub(crate) fn claims_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_claim))
        .routes(routes!(update_claim, delete_claim))
        .routes(routes!(list_claims))
}

/// Create claim
///
/// Adds a custom attribute to outgoing ID or access tokens: the authentication-context attribute
/// `mapping` is released as the claim `name` in tokens of `type` (`access_token` or `id_token`)
/// when one of `scopes` is granted (none: always). `authorization_server_id`, `name`, `mapping` and
/// `type` are required; the id is generated when absent. A name is unique per token type on a
/// server (409). Claims are released in tokens issued for people (authorization code, password
/// grants); `client_credentials` tokens carry no authentication context.
///
/// Requires the `claim.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/claims", tag = "admin", operation_id = "createClaim",
    extensions(("x-castellan-permission" = json!("claim.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = ClaimRequest,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 201, description = "Claim", body = Claim), CreateErrors))]
async fn create_claim(
    State(st): State<AppState>,
    Admin(a): Admin<need::ClaimWrite>,
    ApiJson(req): ApiJson<ClaimRequest>,
) -> ApiResult<(StatusCode, Json<Claim>)> {
    Ok((StatusCode::CREATED, Json(st.control.create_claim(&a, req).await?)))
}

/// Update claim
///
/// Fields left out keep their value; a claim cannot move to another server.
///
/// Requires the `claim.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/claims/{claim}", tag = "admin", operation_id = "updateClaim",
    extensions(("x-castellan-permission" = json!("claim.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("claim" = String, Path, description = "Claim id")),
    request_body = ClaimRequest,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Claim", body = Claim), UpdateErrors))]
async fn update_claim(
    State(st): State<AppState>,
    Admin(a): Admin<need::ClaimWrite>,
    ApiPath((_tid, claim)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ClaimRequest>,
) -> ApiResult<Json<Claim>> {
    Ok(Json(st.control.update_claim(&a, &claim, req).await?))
}

/// Delete claim
///
/// Requires the `claim.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/claims/{claim}", tag = "admin", operation_id = "deleteClaim",
    extensions(("x-castellan-permission" = json!("claim.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("claim" = String, Path, description = "Claim id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 204, description = "Claim has been deleted"), ReadErrors))]
async fn delete_claim(
    State(st): State<AppState>,
    Admin(a): Admin<need::ClaimWrite>,
    ApiPath((_tid, claim)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.delete_claim(&a, &claim).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List claims
///
/// Requires the `claim.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/servers/{aid}/claims", tag = "admin", operation_id = "listClaims",
    extensions(("x-castellan-permission" = json!("claim.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Claims", body = Claims), ReadErrors))]
async fn list_claims(
    State(st): State<AppState>,
    Admin(a): Admin<need::ClaimRead>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
) -> ApiResult<Json<Claims>> {
    Ok(Json(st.control.list_claims(&a, &aid).await?))
}
