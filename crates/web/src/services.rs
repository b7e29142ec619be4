//! `/api/admin/{tid}/services…` and `/apis…` (Cloudentity ACP). Thin handlers: the rules are in
//! `control::services`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum_extra::extract::Query;
use castellan_control::{ApiFilter, need};
use castellan_types::services::{
    Api, Apis, RemoveServiceConfigurationResult, ServerApis, Service, ServiceWithScopesResponse, ServicesResponse,
    UpdateApiRequest,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{CreateErrors, DeleteErrors, ReadErrors, WriteErrors};
use crate::error::ApiError;
use crate::extract::{Admin, ApiJson};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_service))
        .routes(routes!(get_service, update_service, delete_service))
        .routes(routes!(list_server_services))
        .routes(routes!(create_api))
        .routes(routes!(get_api, update_api, delete_api))
        .routes(routes!(list_server_apis))
        .routes(routes!(list_service_apis, remove_specification))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ApiQuery {
    /// List apis that have no data classifications
    #[serde(default)]
    without_data_classifications: bool,
    /// List apis that have given data classifications
    #[serde(default, rename = "data_classification")]
    data_classification: Vec<String>,
}

impl ApiQuery {
    fn filter(self) -> ApiFilter {
        ApiFilter {
            data_classification: self.data_classification,
            without_data_classifications: self.without_data_classifications,
        }
    }
}

/// Create service
///
/// Service name is required. Service id will be generated if not provided.
/// `authorization_server_id` must name a server of the tenant.
///
/// Requires the `service.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/services", tag = "admin", operation_id = "createService",
    extensions(("x-castellan-permission" = json!("service.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = Service,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 201, description = "Service", body = Service), CreateErrors))]
async fn create_service(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceWrite>,
    ApiJson(req): ApiJson<Service>,
) -> ApiResult<(StatusCode, Json<Service>)> {
    Ok((StatusCode::CREATED, Json(st.control.create_service(&a, req).await?)))
}

/// Get service
///
/// The service and the scopes that name it (`service_id`).
///
/// Requires the `service.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/services/{sid}", tag = "admin", operation_id = "getService",
    extensions(("x-castellan-permission" = json!("service.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("sid" = String, Path, description = "Service id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Service with its scopes", body = ServiceWithScopesResponse), ReadErrors))]
async fn get_service(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceRead>,
    Path((_tid, sid)): Path<(String, String)>,
) -> ApiResult<Json<ServiceWithScopesResponse>> {
    Ok(Json(st.control.get_service(&a, &sid).await?))
}

/// Update service
///
/// `name` and `description`; a service cannot move to another server.
///
/// Requires the `service.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/services/{sid}", tag = "admin", operation_id = "updateService",
    extensions(("x-castellan-permission" = json!("service.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("sid" = String, Path, description = "Service id")),
    request_body = Service,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Service", body = Service), WriteErrors))]
async fn update_service(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceWrite>,
    Path((_tid, sid)): Path<(String, String)>,
    ApiJson(req): ApiJson<Service>,
) -> ApiResult<Json<Service>> {
    Ok(Json(st.control.update_service(&a, &sid, req).await?))
}

/// Delete service
///
/// Its APIs are deleted with it. A service that scopes name (`service_id`) cannot be deleted (400).
///
/// Requires the `service.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/services/{sid}", tag = "admin", operation_id = "deleteService",
    extensions(("x-castellan-permission" = json!("service.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("sid" = String, Path, description = "Service id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 204, description = "Service has been deleted"), DeleteErrors))]
async fn delete_service(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceWrite>,
    Path((_tid, sid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.delete_service(&a, &sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List services
///
/// The services of an authorization server.
///
/// Requires the `service.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/servers/{aid}/services", tag = "admin", operation_id = "listServices",
    extensions(("x-castellan-permission" = json!("service.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Authorization server id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Services", body = ServicesResponse), ReadErrors))]
async fn list_server_services(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceRead>,
    Path((_tid, aid)): Path<(String, String)>,
) -> ApiResult<Json<ServicesResponse>> {
    Ok(Json(st.control.list_server_services(&a, &aid).await?))
}

/// Create API
///
/// It is not possible to create APIs for a service with imported specification. `service_id`,
/// `method` and `path` (a template such as `/pets/{petId}`) are required; one method and path
/// per service (409). `position` defaults to after the service's last API; `policy_id` must exist.
///
/// Requires the `service.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/apis", tag = "admin", operation_id = "createAPI",
    extensions(("x-castellan-permission" = json!("service.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = Api,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 201, description = "API", body = Api), CreateErrors))]
async fn create_api(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceWrite>,
    ApiJson(req): ApiJson<Api>,
) -> ApiResult<(StatusCode, Json<Api>)> {
    Ok((StatusCode::CREATED, Json(st.control.create_api(&a, req).await?)))
}

/// Get API
///
/// Requires the `service.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/apis/{api}", tag = "admin", operation_id = "getAPI",
    extensions(("x-castellan-permission" = json!("service.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("api" = String, Path, description = "API id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "API", body = Api), ReadErrors))]
async fn get_api(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceRead>,
    Path((_tid, id)): Path<(String, String)>,
) -> ApiResult<Json<Api>> {
    Ok(Json(st.control.get_api(&a, &id).await?))
}

/// Update API
///
/// The API's `policy_id` (must exist; empty removes it) and `data_classifications`.
///
/// Requires the `service.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/apis/{api}", tag = "admin", operation_id = "updateAPI",
    extensions(("x-castellan-permission" = json!("service.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("api" = String, Path, description = "API id")),
    request_body = UpdateApiRequest,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "API", body = Api), WriteErrors))]
async fn update_api(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceWrite>,
    Path((_tid, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateApiRequest>,
) -> ApiResult<Json<Api>> {
    Ok(Json(st.control.update_api(&a, &id, req).await?))
}

/// Delete API
///
/// An API created by an imported specification cannot be deleted on its own (400).
///
/// Requires the `service.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/apis/{api}", tag = "admin", operation_id = "deleteAPI",
    extensions(("x-castellan-permission" = json!("service.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("api" = String, Path, description = "API id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 204, description = "API has been deleted"), DeleteErrors))]
async fn delete_api(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceWrite>,
    Path((_tid, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.delete_api(&a, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List APIs of a server
///
/// The APIs of every service of the server, by service id.
///
/// Requires the `service.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/servers/{aid}/apis", tag = "admin", operation_id = "listAPIsByServer",
    extensions(("x-castellan-permission" = json!("service.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Server id"), ApiQuery),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "APIs by service", body = ServerApis), ReadErrors))]
async fn list_server_apis(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceRead>,
    Path((_tid, aid)): Path<(String, String)>,
    Query(q): Query<ApiQuery>,
) -> ApiResult<Json<ServerApis>> {
    Ok(Json(st.control.list_server_apis(&a, &aid, &q.filter()).await?))
}

/// List APIs of a service
///
/// Requires the `service.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/services/{sid}/apis", tag = "admin", operation_id = "listAPIsByService",
    extensions(("x-castellan-permission" = json!("service.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("sid" = String, Path, description = "Service id"), ApiQuery),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "APIs in position order", body = Apis), ReadErrors))]
async fn list_service_apis(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceRead>,
    Path((_tid, sid)): Path<(String, String)>,
    Query(q): Query<ApiQuery>,
) -> ApiResult<Json<Apis>> {
    Ok(Json(st.control.list_service_apis(&a, &sid, &q.filter()).await?))
}

/// Remove specification
///
/// Removes all APIs (and policies) created during import for a service; APIs added by hand stay.
///
/// Requires the `service.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/services/{sid}/apis", tag = "admin", operation_id = "removeSpecification",
    extensions(("x-castellan-permission" = json!("service.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("sid" = String, Path, description = "Service id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "What was removed", body = RemoveServiceConfigurationResult), DeleteErrors))]
async fn remove_specification(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceWrite>,
    Path((_tid, sid)): Path<(String, String)>,
) -> ApiResult<Json<RemoveServiceConfigurationResult>> {
    Ok(Json(st.control.remove_specification(&a, &sid).await?))
}
