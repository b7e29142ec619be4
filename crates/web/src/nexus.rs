//! `/v1/…`: STS client mappings and developer roles (Cloudentity Nexus). The tenant comes from
//! the Bearer token (`tid`), or `X-Castellan-Tenant`, or the default tenant; errors are RFC 9457
//! problem details (`error::Nexus`, by the types of the handlers and extractors). Thin handlers, as in `admin`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use castellan_control::need;
use castellan_types::nexus::{
    ConnectionMap, ConnectionMapRequest, Role, RoleRequest, RoleUpdate, StsClient, StsClientRequest,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::ProblemErrors;
use crate::error::{ApiError, Nexus};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, InNexus};

type ApiResult<T> = Result<T, ApiError<Nexus>>;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sts_clients, create_sts_client))
        .routes(routes!(get_sts_client, update_sts_client, delete_sts_client))
        .routes(routes!(list_roles, create_role))
        .routes(routes!(get_role, update_role, delete_role))
        .routes(routes!(add_connection_map, delete_connection_maps_of_group))
        .routes(routes!(delete_connection_map))
        .layer(axum::middleware::from_fn(crate::error::nexus_requests))
}

/// Create an STS client mapping
///
/// Maps an STS client id to the permissions its tokens hold: exactly these, nothing inherited —
/// a client of the tenant's `admin` server that is mapped loses `*`. `permissions` is a
/// space-delimited list of `{resource}.{read|write}` codes, `*`, and names of other APIs'
/// permissions (`read:orders`), which govern nothing in Castellan and are carried into the
/// token's `permissions` claim unchanged. A name written like a Castellan code (a `.` and no
/// `:`) that is not one is a 400 naming it, and a caller can only grant
/// Castellan permissions it holds itself (403). The change applies
/// to new tokens and requests at once, on every node. `ApplicationToken`, when sent, must be the
/// id of a client of the tenant and is recorded as `createdBy`.
///
/// Requires the `sts-client.write` permission.
#[utoipa::path(post, path = "/v1/sts-clients", tag = "nexus", operation_id = "createStsClient",
    extensions(("x-castellan-permission" = json!("sts-client.write"))),
    params(
        ("ApplicationToken" = Option<String>, Header, description = "Id of a client of the tenant, recorded as createdBy"),
        ("X-Castellan-Tenant" = Option<String>, Header, description = "Tenant for Basic credentials (default: the server's default tenant)"),
    ),
    request_body = StsClientRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The mapping", body = StsClient),
        ProblemErrors,
    ))]
async fn create_sts_client(
    State(st): State<AppState>,
    c: Caller<need::StsClientWrite>,
    InNexus(ApiJson(req)): InNexus<ApiJson<StsClientRequest>>,
) -> ApiResult<(StatusCode, Json<StsClient>)> {
    let m = st.control.create_sts_client(&c.access, c.app.as_deref(), req).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

/// List STS client mappings
///
/// Requires the `sts-client.read` permission.
#[utoipa::path(get, path = "/v1/sts-clients", tag = "nexus", operation_id = "listStsClients",
    extensions(("x-castellan-permission" = json!("sts-client.read"))),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Every mapping of the tenant, by client id", body = Vec<StsClient>),
        ProblemErrors,
    ))]
async fn list_sts_clients(
    State(st): State<AppState>,
    c: Caller<need::StsClientRead>,
) -> ApiResult<Json<Vec<StsClient>>> {
    Ok(Json(st.control.list_sts_clients(&c.access).await?))
}

/// Get an STS client mapping
///
/// Requires the `sts-client.read` permission.
#[utoipa::path(get, path = "/v1/sts-clients/{clientId}", tag = "nexus", operation_id = "getStsClient",
    extensions(("x-castellan-permission" = json!("sts-client.read"))),
    params(("clientId" = String, Path, description = "The STS client id (percent-encoded)")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The mapping", body = StsClient),
        ProblemErrors,
    ))]
async fn get_sts_client(
    State(st): State<AppState>,
    c: Caller<need::StsClientRead>,
    InNexus(ApiPath(client_id)): InNexus<ApiPath<String>>,
) -> ApiResult<Json<StsClient>> {
    Ok(Json(st.control.get_sts_client(&c.access, &client_id).await?))
}

/// Update an STS client mapping
///
/// Replaces `description` and `permissions` (members left out keep their value); `clientId`
/// must be absent or the path's. The caller must hold both the old and the new permissions.
///
/// Requires the `sts-client.write` permission.
#[utoipa::path(put, path = "/v1/sts-clients/{clientId}", tag = "nexus", operation_id = "updateStsClient",
    extensions(("x-castellan-permission" = json!("sts-client.write"))),
    params(
        ("clientId" = String, Path, description = "The STS client id (percent-encoded)"),
        ("ApplicationToken" = Option<String>, Header, description = "Id of a client of the tenant, recorded as modifiedBy"),
    ),
    request_body = StsClientRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The mapping", body = StsClient),
        ProblemErrors,
    ))]
async fn update_sts_client(
    State(st): State<AppState>,
    c: Caller<need::StsClientWrite>,
    InNexus(ApiPath(client_id)): InNexus<ApiPath<String>>,
    InNexus(ApiJson(req)): InNexus<ApiJson<StsClientRequest>>,
) -> ApiResult<Json<StsClient>> {
    Ok(Json(
        st.control
            .update_sts_client(&c.access, c.app.as_deref(), &client_id, req)
            .await?,
    ))
}

/// Delete an STS client mapping
///
/// The client goes back to what an unmapped client holds (`*` for a client of the `admin`
/// server), so only a caller holding `*` may delete a mapping.
///
/// Requires the `sts-client.write` permission.
#[utoipa::path(delete, path = "/v1/sts-clients/{clientId}", tag = "nexus", operation_id = "deleteStsClient",
    extensions(("x-castellan-permission" = json!("sts-client.write"))),
    params(("clientId" = String, Path, description = "The STS client id (percent-encoded)")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        ProblemErrors,
    ))]
async fn delete_sts_client(
    State(st): State<AppState>,
    c: Caller<need::StsClientWrite>,
    InNexus(ApiPath(client_id)): InNexus<ApiPath<String>>,
) -> ApiResult<StatusCode> {
    st.control.delete_sts_client(&c.access, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create a developer role
///
/// The role is named `{productName}-developers` (case kept; 409 when the name exists) and
/// starts with the permissions `client.read client.write server.read scope.read` and no
/// connection maps. People hold a role through a connection map naming one of the `groups` of
/// their authentication context; their access tokens whose `aud` includes the role's `audience`
/// carry its permissions in a `permissions` claim.
///
/// Requires the `role.write` permission.
#[utoipa::path(post, path = "/v1/roles", tag = "nexus", operation_id = "createRole",
    extensions(("x-castellan-permission" = json!("role.write"))),
    request_body = RoleRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The role", body = Role),
        ProblemErrors,
    ))]
async fn create_role(
    State(st): State<AppState>,
    c: Caller<need::RoleWrite>,
    InNexus(ApiJson(req)): InNexus<ApiJson<RoleRequest>>,
) -> ApiResult<(StatusCode, Json<Role>)> {
    Ok((StatusCode::CREATED, Json(st.control.create_role(&c.access, req).await?)))
}

/// List developer roles
///
/// Requires the `role.read` permission.
#[utoipa::path(get, path = "/v1/roles", tag = "nexus", operation_id = "listRoles",
    extensions(("x-castellan-permission" = json!("role.read"))),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Every role of the tenant, by name", body = Vec<Role>),
        ProblemErrors,
    ))]
async fn list_roles(State(st): State<AppState>, c: Caller<need::RoleRead>) -> ApiResult<Json<Vec<Role>>> {
    Ok(Json(st.control.list_roles(&c.access).await?))
}

/// Get a developer role
///
/// Requires the `role.read` permission.
#[utoipa::path(get, path = "/v1/roles/{id}", tag = "nexus", operation_id = "getRole",
    extensions(("x-castellan-permission" = json!("role.read"))),
    params(("id" = String, Path, description = "Role id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The role", body = Role),
        ProblemErrors,
    ))]
async fn get_role(
    State(st): State<AppState>,
    c: Caller<need::RoleRead>,
    InNexus(ApiPath(id)): InNexus<ApiPath<String>>,
) -> ApiResult<Json<Role>> {
    Ok(Json(st.control.get_role(&c.access, &id).await?))
}

/// Update a developer role
///
/// `audience`, `description`, and `permissions` (space-delimited, replacing them all); members
/// left out keep their value.
///
/// Requires the `role.write` permission.
#[utoipa::path(put, path = "/v1/roles/{id}", tag = "nexus", operation_id = "updateRole",
    extensions(("x-castellan-permission" = json!("role.write"))),
    params(("id" = String, Path, description = "Role id")),
    request_body = RoleUpdate,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The role", body = Role),
        ProblemErrors,
    ))]
async fn update_role(
    State(st): State<AppState>,
    c: Caller<need::RoleWrite>,
    InNexus(ApiPath(id)): InNexus<ApiPath<String>>,
    InNexus(ApiJson(req)): InNexus<ApiJson<RoleUpdate>>,
) -> ApiResult<Json<Role>> {
    Ok(Json(st.control.update_role(&c.access, &id, req).await?))
}

/// Delete a developer role
///
/// Its connection maps go with it; people lose its permissions at once.
///
/// Requires the `role.write` permission.
#[utoipa::path(delete, path = "/v1/roles/{id}", tag = "nexus", operation_id = "deleteRole",
    extensions(("x-castellan-permission" = json!("role.write"))),
    params(("id" = String, Path, description = "Role id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        ProblemErrors,
    ))]
async fn delete_role(
    State(st): State<AppState>,
    c: Caller<need::RoleWrite>,
    InNexus(ApiPath(id)): InNexus<ApiPath<String>>,
) -> ApiResult<StatusCode> {
    st.control.delete_role(&c.access, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Map a group to a developer role
///
/// People whose authentication context lists `groupName` in `groups` hold the role. 409 when
/// the role already maps the group (from the same connection).
///
/// Requires the `role.write` permission.
#[utoipa::path(post, path = "/v1/roles/{id}/connection-maps", tag = "nexus", operation_id = "addConnectionMap",
    extensions(("x-castellan-permission" = json!("role.write"))),
    params(("id" = String, Path, description = "Role id")),
    request_body = ConnectionMapRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The connection map", body = ConnectionMap),
        ProblemErrors,
    ))]
async fn add_connection_map(
    State(st): State<AppState>,
    c: Caller<need::RoleWrite>,
    InNexus(ApiPath(id)): InNexus<ApiPath<String>>,
    InNexus(ApiJson(req)): InNexus<ApiJson<ConnectionMapRequest>>,
) -> ApiResult<(StatusCode, Json<ConnectionMap>)> {
    let m = st.control.add_connection_map(&c.access, &id, req).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct GroupQuery {
    /// The group whose maps to delete.
    group_name: Option<String>,
}

/// Unmap a group from a developer role
///
/// Deletes the role's connection maps of `groupName`.
///
/// Requires the `role.write` permission.
#[utoipa::path(delete, path = "/v1/roles/{id}/connection-maps", tag = "nexus", operation_id = "deleteConnectionMapsOfGroup",
    extensions(("x-castellan-permission" = json!("role.write"))),
    params(("id" = String, Path, description = "Role id"), GroupQuery),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        ProblemErrors,
    ))]
async fn delete_connection_maps_of_group(
    State(st): State<AppState>,
    c: Caller<need::RoleWrite>,
    InNexus(ApiPath(id)): InNexus<ApiPath<String>>,
    InNexus(ApiQuery(q)): InNexus<ApiQuery<GroupQuery>>,
) -> ApiResult<StatusCode> {
    st.control
        .delete_connection_map(&c.access, &id, None, q.group_name.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a connection map
///
/// Requires the `role.write` permission.
#[utoipa::path(delete, path = "/v1/roles/{id}/connection-maps/{mapId}", tag = "nexus", operation_id = "deleteConnectionMap",
    extensions(("x-castellan-permission" = json!("role.write"))),
    params(("id" = String, Path, description = "Role id"), ("mapId" = i64, Path, description = "Connection map id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        ProblemErrors,
    ))]
async fn delete_connection_map(
    State(st): State<AppState>,
    c: Caller<need::RoleWrite>,
    InNexus(ApiPath((id, map_id))): InNexus<ApiPath<(String, String)>>,
) -> ApiResult<StatusCode> {
    // Not a number: no such map (a 404 in the family's shape, not axum's plain-text rejection).
    let Ok(map_id) = map_id.parse::<i64>() else {
        return Err(castellan_control::ControlError::NotFound {
            what: "connection map",
            id: map_id,
        }
        .into());
    };
    st.control
        .delete_connection_map(&c.access, &id, Some(map_id), None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
