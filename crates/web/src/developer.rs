//! `/api/developer/{tid}/…` (Cloudentity ACP developer API): developers manage their own clients
//! with a Bearer token of the tenant's `developer` server. Thin handlers: extract, call the
//! control plane, map the outcome.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use castellan_types::{
    DeveloperClientResponse, DeveloperClients, DeveloperCreateClientRequest, DeveloperUpdateClientRequest,
    GetServerWithScopesDeveloperResponse, ListServersDeveloperResponse,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{CreateErrors, DeleteErrors, ReadErrors, UpdateErrors};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Developer};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients_for_developer, create_client_for_developer))
        .routes(routes!(
            get_client_for_developer,
            update_client_for_developer,
            delete_client_for_developer
        ))
        .routes(routes!(list_servers_for_developer))
        .routes(routes!(get_server_for_developer))
}

/// List clients
///
/// The caller's own clients, on every server. Secrets are empty (a developer client's secret is
/// answered once, on create).
///
/// Authenticate with a Bearer access token of `{tid}/developer`; the developer is its `sub`.
#[utoipa::path(get, path = "/api/developer/{tid}/clients", tag = "developer", operation_id = "listClientsForDeveloper",
    params(("tid" = String, Path, description = "Tenant id")),
    security(("developer" = [])),
    responses(
        (status = 200, description = "The caller's clients", body = DeveloperClients),
        ReadErrors,
    ))]
async fn list_clients_for_developer(
    State(st): State<AppState>,
    Developer(d): Developer,
) -> ApiResult<Json<DeveloperClients>> {
    Ok(Json(st.control.developer_list_clients(&d).await?))
}

/// Create new OAuth client
///
/// The client is created under the existing authorization server named by
/// `authorization_server_id`, which may not be a system server (`admin`, `developer`: 422) and
/// whose developer policy must pass for the caller (403). The client id and secret are generated;
/// the secret is in this answer only (it is kept as a hash: later reads, and admins, see it
/// empty). Without `grant_types` the client gets `authorization_code` with response type `code`;
/// the default authentication method is `client_secret_basic`. Each scope must exist on the server
/// and its developer policy must pass for the caller (403 naming the scope). A developer's client
/// may not hold management permissions (the `manage_consents` scope: 403).
#[utoipa::path(post, path = "/api/developer/{tid}/clients", tag = "developer", operation_id = "createClientForDeveloper",
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = DeveloperCreateClientRequest,
    security(("developer" = [])),
    responses(
        (status = 201, description = "Client, with its secret (shown once)", body = DeveloperClientResponse),
        CreateErrors,
    ))]
async fn create_client_for_developer(
    State(st): State<AppState>,
    Developer(d): Developer,
    ApiJson(req): ApiJson<DeveloperCreateClientRequest>,
) -> ApiResult<(StatusCode, Json<DeveloperClientResponse>)> {
    Ok((
        StatusCode::CREATED,
        Json(st.control.developer_create_client(&d, req).await?),
    ))
}

/// Get client
///
/// One of the caller's clients (404 for any other). The secret is empty.
#[utoipa::path(get, path = "/api/developer/{tid}/clients/{cid}", tag = "developer", operation_id = "getClientForDeveloper",
    params(("tid" = String, Path, description = "Tenant id"), ("cid" = String, Path, description = "Client id")),
    security(("developer" = [])),
    responses(
        (status = 200, description = "Client", body = DeveloperClientResponse),
        ReadErrors,
    ))]
async fn get_client_for_developer(
    State(st): State<AppState>,
    Developer(d): Developer,
    ApiPath((_tid, cid)): ApiPath<(String, String)>,
) -> ApiResult<Json<DeveloperClientResponse>> {
    Ok(Json(st.control.developer_get_client(&d, &cid).await?))
}

/// Update client
///
/// The entire client must be sent: what is left out returns to its default, as on create. The
/// client keeps its id, server and secret; `client_secret` must be absent or empty. A client made
/// confidential gets a secret, answered here once; one made public loses it. Scopes are checked
/// against their developer policies as on create.
#[utoipa::path(put, path = "/api/developer/{tid}/clients/{cid}", tag = "developer", operation_id = "updateClientForDeveloper",
    params(("tid" = String, Path, description = "Tenant id"), ("cid" = String, Path, description = "Client id")),
    request_body = DeveloperUpdateClientRequest,
    security(("developer" = [])),
    responses(
        (status = 200, description = "Client", body = DeveloperClientResponse),
        UpdateErrors,
    ))]
async fn update_client_for_developer(
    State(st): State<AppState>,
    Developer(d): Developer,
    ApiPath((_tid, cid)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<DeveloperUpdateClientRequest>,
) -> ApiResult<Json<DeveloperClientResponse>> {
    Ok(Json(st.control.developer_update_client(&d, &cid, req).await?))
}

/// Delete client
///
/// Deletes one of the caller's clients and ends everything it was given (its tokens, grants and
/// consents).
#[utoipa::path(delete, path = "/api/developer/{tid}/clients/{cid}", tag = "developer", operation_id = "deleteClientForDeveloper",
    params(("tid" = String, Path, description = "Tenant id"), ("cid" = String, Path, description = "Client id")),
    security(("developer" = [])),
    responses(
        (status = 204, description = "Client has been deleted"),
        DeleteErrors,
    ))]
async fn delete_client_for_developer(
    State(st): State<AppState>,
    Developer(d): Developer,
    ApiPath((_tid, cid)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.developer_delete_client(&d, &cid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List authorization servers
///
/// The servers a developer may register clients in: not system servers, and with no developer
/// policy or one that passes for the caller.
#[utoipa::path(get, path = "/api/developer/{tid}/servers", tag = "developer", operation_id = "listServersForDeveloper",
    params(("tid" = String, Path, description = "Tenant id")),
    security(("developer" = [])),
    responses(
        (status = 200, description = "Servers", body = ListServersDeveloperResponse),
        ReadErrors,
    ))]
async fn list_servers_for_developer(
    State(st): State<AppState>,
    Developer(d): Developer,
) -> ApiResult<Json<ListServersDeveloperResponse>> {
    Ok(Json(st.control.developer_list_servers(&d).await?))
}

/// Get authorization server
///
/// The server with the scopes the caller may assign (no developer policy, or one that passes).
/// A system server is a 404; one whose developer policy fails for the caller a 403.
#[utoipa::path(get, path = "/api/developer/{tid}/servers/{aid}", tag = "developer", operation_id = "getServerForDeveloper",
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    security(("developer" = [])),
    responses(
        (status = 200, description = "Server with its scopes", body = GetServerWithScopesDeveloperResponse),
        ReadErrors,
    ))]
async fn get_server_for_developer(
    State(st): State<AppState>,
    Developer(d): Developer,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
) -> ApiResult<Json<GetServerWithScopesDeveloperResponse>> {
    Ok(Json(st.control.developer_get_server(&d, &aid).await?))
}
