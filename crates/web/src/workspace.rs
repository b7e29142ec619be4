//! `/admin/workspaceClients` (Industries Framework workspace clients) and
//! `/oam/services/rest/ssa/api/v1/oauthpolicyadmin/client` (access-manager clients): two more
//! descriptions of the admin API's clients. The tenant comes from the caller as for the
//! Cloudentity Nexus family; errors are the TMF error object and `{message, field}`. Thin
//! handlers, as in `admin`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use castellan_control::need;
use castellan_types::oam::OamClient;
use castellan_types::workspace::{WorkspaceClient, WorkspaceClientRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{OamErrors, TmfErrors};
use crate::error::{ApiError, Oam, Tmf};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, InOam, InTmf};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspace_clients, create_workspace_client))
        .routes(routes!(
            get_workspace_client,
            replace_workspace_client,
            delete_workspace_client
        ))
        .routes(routes!(create_oam_client, get_oam_client, delete_oam_client))
}

/// Create a workspace client
///
/// Creates an OAuth client of the tenant's `default` server with the `client_credentials` and
/// token-exchange (RFC 8693) grants, which that server must allow. `supported-outbound-token-scopes`
/// are its scopes (scopes of the `default` server); the keys of `workspace-oidc-server-data` and
/// `global-oidc-server-data` name the `oidc`, `azure` or `cognito` login methods of that server
/// whose tokens it may exchange, and `client-id` the client those tokens must be issued to.
/// Their members are secret references (`env:NAME`, `file:/path`, resolved on every use; a
/// reference that does not resolve now is listed in `warnings`) or values, which are kept
/// encrypted and never answered. The answer carries the client's own `client-secret`, once.
///
/// Requires the `workspace-client.write` permission.
#[utoipa::path(post, path = "/admin/workspaceClients", tag = "workspace", operation_id = "createWorkspaceClient",
    extensions(("x-castellan-permission" = json!("workspace-client.write"))),
    params(("X-Castellan-Tenant" = Option<String>, Header, description = "Tenant for Basic credentials (default: the server's default tenant)")),
    request_body = WorkspaceClientRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = WorkspaceClient),
        TmfErrors,
    ))]
async fn create_workspace_client(
    State(st): State<AppState>,
    InTmf(c): InTmf<Caller<need::WorkspaceClientWrite>>,
    InTmf(ApiJson(req)): InTmf<ApiJson<WorkspaceClientRequest>>,
) -> Result<(StatusCode, Json<WorkspaceClient>), ApiError<Tmf>> {
    let w = st.control.create_workspace_client(&c.access, req).await?;
    Ok((StatusCode::CREATED, Json(w)))
}

/// List workspace clients
///
/// Requires the `workspace-client.read` permission.
#[utoipa::path(get, path = "/admin/workspaceClients", tag = "workspace", operation_id = "listWorkspaceClients",
    extensions(("x-castellan-permission" = json!("workspace-client.read"))),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The workspace clients of the tenant", body = Vec<WorkspaceClient>),
        TmfErrors,
    ))]
async fn list_workspace_clients(
    State(st): State<AppState>,
    InTmf(c): InTmf<Caller<need::WorkspaceClientRead>>,
) -> Result<Json<Vec<WorkspaceClient>>, ApiError<Tmf>> {
    Ok(Json(st.control.list_workspace_clients(&c.access).await?))
}

/// Get a workspace client
///
/// Any client of the `default` server can be read in this shape.
///
/// Requires the `workspace-client.read` permission.
#[utoipa::path(get, path = "/admin/workspaceClients/{id}", tag = "workspace", operation_id = "getWorkspaceClient",
    extensions(("x-castellan-permission" = json!("workspace-client.read"))),
    params(("id" = String, Path, description = "The workspace client's id (its OAuth client id)")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The workspace client", body = WorkspaceClient),
        TmfErrors,
    ))]
async fn get_workspace_client(
    State(st): State<AppState>,
    InTmf(c): InTmf<Caller<need::WorkspaceClientRead>>,
    InTmf(ApiPath(id)): InTmf<ApiPath<String>>,
) -> Result<Json<WorkspaceClient>, ApiError<Tmf>> {
    Ok(Json(st.control.get_workspace_client(&c.access, &id).await?))
}

/// Replace a workspace client
///
/// Replaces every workspace member (members left out are cleared); the client keeps its id and
/// secret. A client of the `default` server created through another API becomes a workspace
/// client.
///
/// Requires the `workspace-client.write` permission.
#[utoipa::path(put, path = "/admin/workspaceClients/{id}", tag = "workspace", operation_id = "replaceWorkspaceClient",
    extensions(("x-castellan-permission" = json!("workspace-client.write"))),
    params(("id" = String, Path, description = "The workspace client's id")),
    request_body = WorkspaceClientRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The workspace client", body = WorkspaceClient),
        TmfErrors,
    ))]
async fn replace_workspace_client(
    State(st): State<AppState>,
    InTmf(c): InTmf<Caller<need::WorkspaceClientWrite>>,
    InTmf(ApiPath(id)): InTmf<ApiPath<String>>,
    InTmf(ApiJson(req)): InTmf<ApiJson<WorkspaceClientRequest>>,
) -> Result<Json<WorkspaceClient>, ApiError<Tmf>> {
    Ok(Json(st.control.replace_workspace_client(&c.access, &id, req).await?))
}

/// Delete a workspace client
///
/// Deletes the client and ends everything it was given, as the admin API's delete does.
///
/// Requires the `workspace-client.write` permission.
#[utoipa::path(delete, path = "/admin/workspaceClients/{id}", tag = "workspace", operation_id = "deleteWorkspaceClient",
    extensions(("x-castellan-permission" = json!("workspace-client.write"))),
    params(("id" = String, Path, description = "The workspace client's id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        TmfErrors,
    ))]
async fn delete_workspace_client(
    State(st): State<AppState>,
    InTmf(c): InTmf<Caller<need::WorkspaceClientWrite>>,
    InTmf(ApiPath(id)): InTmf<ApiPath<String>>,
) -> Result<StatusCode, ApiError<Tmf>> {
    st.control.delete_workspace_client(&c.access, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

const OAM_PATH: &str = "/oam/services/rest/ssa/api/v1/oauthpolicyadmin/client";

/// Create an access-manager client
///
/// Creates a client of the authorization server `idDomain` names (the `default` server when
/// absent) by the admin API's rules. `clientType` `CONFIDENTIAL_CLIENT` (default) authenticates
/// with `client_secret_basic` (the `secret` given, at least 16 characters, or a generated one,
/// answered once); `PUBLIC_CLIENT` and `MOBILE_CLIENT` are public clients (`none`, PKCE).
/// `grantTypes` map to RFC names (`JWT_BEARER`: RFC 7523) and must be enabled on the server.
/// `redirectURIs` are matched exactly; `isHttps` is answered as the URL's scheme says.
/// `attributes` become access-token claims: `STATIC` as given, `DYNAMIC` templates
/// (`${user.email}`, `${client.id}`, `${request.scope}`, …) filled in at issuance; `attrType`
/// in any letter case. `defaultScope` must be one of `scopes` and is not stored.
///
/// Requires the `client.write` permission.
#[utoipa::path(post, path = "/oam/services/rest/ssa/api/v1/oauthpolicyadmin/client", tag = "access-manager",
    operation_id = "createAccessManagerClient",
    extensions(("x-castellan-permission" = json!("client.write"))),
    params(("X-Castellan-Tenant" = Option<String>, Header, description = "Tenant for Basic credentials (default: the server's default tenant)")),
    request_body = OamClient,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Created", body = OamClient),
        OamErrors,
    ))]
async fn create_oam_client(
    State(st): State<AppState>,
    InOam(c): InOam<Caller<need::ClientWrite>>,
    InOam(ApiJson(req)): InOam<ApiJson<OamClient>>,
) -> Result<Json<OamClient>, ApiError<Oam>> {
    Ok(Json(st.control.create_oam_client(&c.access, req).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ClientQuery {
    /// The client id.
    id: String,
}

/// Get an access-manager client
///
/// Any client of the tenant, in the access-manager shape (no secret).
///
/// Requires the `client.read` permission.
#[utoipa::path(get, path = "/oam/services/rest/ssa/api/v1/oauthpolicyadmin/client", tag = "access-manager",
    operation_id = "getAccessManagerClient",
    extensions(("x-castellan-permission" = json!("client.read"))),
    params(ClientQuery),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The client", body = OamClient),
        OamErrors,
    ))]
async fn get_oam_client(
    State(st): State<AppState>,
    InOam(c): InOam<Caller<need::ClientRead>>,
    InOam(ApiQuery(q)): InOam<ApiQuery<ClientQuery>>,
) -> Result<Json<OamClient>, ApiError<Oam>> {
    Ok(Json(st.control.get_oam_client(&c.access, &q.id).await?))
}

/// Delete an access-manager client
///
/// Deletes the client as the admin API does and answers what it was.
///
/// Requires the `client.write` permission.
#[utoipa::path(delete, path = "/oam/services/rest/ssa/api/v1/oauthpolicyadmin/client", tag = "access-manager",
    operation_id = "deleteAccessManagerClient",
    extensions(("x-castellan-permission" = json!("client.write"))),
    params(ClientQuery),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The deleted client", body = OamClient),
        OamErrors,
    ))]
async fn delete_oam_client(
    State(st): State<AppState>,
    InOam(c): InOam<Caller<need::ClientWrite>>,
    InOam(ApiQuery(q)): InOam<ApiQuery<ClientQuery>>,
) -> Result<Json<OamClient>, ApiError<Oam>> {
    Ok(Json(st.control.delete_oam_client(&c.access, &q.id).await?))
}

/// Whether `path` is the access-manager family's.
pub(crate) fn is_oam(path: &str) -> bool {
    path == OAM_PATH || path.starts_with("/oam/")
}
