//! `/api/admin/{tid}/services…` and `/apis…` (Cloudentity ACP). Thin handlers: the rules are in
//! `control::services`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Multipart};
use axum::extract::{FromRequest, State};
use axum::http::StatusCode;
use castellan_control::{ApiFilter, MAX_SPECIFICATION_BYTES, need};
use castellan_types::services::{
    Api, Apis, ImportFromUrl, ImportServiceConfigurationResult, RemoveServiceConfigurationResult, ServerApis, Service,
    ServiceWithScopesResponse, ServicesResponse, UpdateApiRequest,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{CreateErrors, DeleteErrors, ReadErrors, WriteErrors};
use crate::error::ApiError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery};

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
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import_file))
                .routes(routes!(import_text))
                .routes(routes!(import_url))
                .layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
}

/// A specification and the multipart framing around it.
const IMPORT_BODY_LIMIT: usize = MAX_SPECIFICATION_BYTES + 64 * 1024;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// Accepted for compatibility; an import does not depend on the gateway type.
    #[allow(dead_code)]
    gateway_type: Option<String>,
}

/// `multipart/form-data` with the document in `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct SpecificationFile {
    /// An OpenAPI 3.0/3.1 or Swagger 2.0 document, JSON or YAML, at most 5 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn body_error(e: impl std::fmt::Display, status: StatusCode) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(status, "the body is too large").detail("limit_bytes", IMPORT_BODY_LIMIT)
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "the body could not be read").detail("reason", e.to_string())
    }
}

/// Import OpenAPI specification from file
///
/// `multipart/form-data` with the document in the part `file`: OpenAPI 3.0, 3.1 or Swagger 2.0,
/// JSON or YAML, at most 5 MiB. It removes all APIs of the service and the policies its previous
/// import created (unless used elsewhere), then creates one API per operation (`position` in
/// document order: paths as they appear, a path's methods in the order get, put, post, delete,
/// options, head, patch, trace). OAuth 2.0 scopes the operations require become scopes of the
/// service's server (with `service_id`; scopes the server has are reused and listed in
/// `ignored_scopes`), and each distinct set of scopes a policy `{service}-{scopes}` with a `scopes`
/// validator attached to those APIs. An operation whose `security` has an empty requirement
/// (`{}`) requires no scopes; otherwise the first requirement naming an OAuth 2.0 or OpenID
/// Connect scheme counts. The service then has `with_specification: true`: APIs cannot be added
/// or deleted one by one. All of it is one transaction: a document that cannot be imported
/// changes nothing — 400 when it is neither JSON nor YAML, 422 naming the reason otherwise
/// (not OpenAPI, unsupported version, a `$ref` pointing at nothing or at another document, an
/// undeclared security scheme).
///
/// Requires the `service.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/services/{sid}/apis/import/file", tag = "admin",
    operation_id = "importSpecificationFromFile",
    extensions(("x-castellan-permission" = json!("service.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("sid" = String, Path, description = "Service id"), ImportQuery),
    request_body(content = SpecificationFile, content_type = "multipart/form-data"),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "What the import created, reused and removed", body = ImportServiceConfigurationResult), CreateErrors))]
async fn import_file(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceWrite>,
    ApiPath((_tid, sid)): ApiPath<(String, String)>,
    ApiQuery(_q): ApiQuery<ImportQuery>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<ImportServiceConfigurationResult>> {
    let mut form = form.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "the body must be multipart/form-data with a part named file",
        )
        .detail("reason", e.body_text())
    })?;
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(|e| body_error(&e, e.status()))? {
        if field.name() == Some("file") {
            file = Some(field.bytes().await.map_err(|e| body_error(&e, e.status()))?);
            break;
        }
    }
    let file = file.ok_or_else(|| {
        ApiError::from(castellan_control::ControlError::invalid(
            "file",
            "required: a multipart/form-data part named file",
        ))
    })?;
    Ok(Json(st.control.import_specification(&a, &sid, "file", &file).await?))
}

/// Import OpenAPI specification from text
///
/// The document is the body (any content type: `application/json`, `application/yaml`,
/// `text/plain`…). What happens is as for the file import.
///
/// Requires the `service.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/services/{sid}/apis/import/text", tag = "admin",
    operation_id = "importSpecificationFromText",
    extensions(("x-castellan-permission" = json!("service.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("sid" = String, Path, description = "Service id"), ImportQuery),
    request_body(content = String, content_type = "text/plain", description = "An OpenAPI 3.0/3.1 or Swagger 2.0 document, JSON or YAML"),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "What the import created, reused and removed", body = ImportServiceConfigurationResult), CreateErrors))]
async fn import_text(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceWrite>,
    ApiPath((_tid, sid)): ApiPath<(String, String)>,
    ApiQuery(_q): ApiQuery<ImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ImportServiceConfigurationResult>> {
    let body = body.map_err(|e| body_error(&e, e.status()))?;
    Ok(Json(st.control.import_specification(&a, &sid, "body", &body).await?))
}

/// Import OpenAPI specification from url
///
/// The body is JSON (`{"url"}`) or, as the Cloudentity ACP page sends it,
/// `multipart/form-data` with a part named `url`.
/// Castellan fetches the document: `https`, or `http` on a loopback address; at most 5 MiB, 5
/// seconds; a redirect is followed only to the same host. A URL that cannot be fetched is a 422
/// saying why. What happens then is as for the file import.
///
/// Requires the `service.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/services/{sid}/apis/import/url", tag = "admin",
    operation_id = "importSpecificationFromURL",
    extensions(("x-castellan-permission" = json!("service.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("sid" = String, Path, description = "Service id"), ImportQuery),
    request_body(content(
        (ImportFromUrl = "application/json"),
        (ImportFromUrl = "multipart/form-data"),
    )),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "What the import created, reused and removed", body = ImportServiceConfigurationResult), CreateErrors))]
async fn import_url(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceWrite>,
    ApiPath((_tid, sid)): ApiPath<(String, String)>,
    ApiQuery(_q): ApiQuery<ImportQuery>,
    request: axum::extract::Request,
) -> ApiResult<Json<ImportServiceConfigurationResult>> {
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let req = if multipart {
        // The Cloudentity ACP page's own request: a `url` part.
        let mut form = Multipart::from_request(request, &st).await.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "the body must be multipart/form-data with a part named url",
            )
            .detail("reason", e.body_text())
        })?;
        let mut url = None;
        while let Some(field) = form.next_field().await.map_err(|e| body_error(&e, e.status()))? {
            if field.name() == Some("url") {
                url = Some(field.text().await.map_err(|e| body_error(&e, e.status()))?);
                break;
            }
        }
        ImportFromUrl { url }
    } else {
        ApiJson::<ImportFromUrl>::from_request(request, &st).await?.0
    };
    Ok(Json(st.control.import_specification_from_url(&a, &sid, req).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ApiListQuery {
    /// List apis that have no data classifications
    #[serde(default)]
    without_data_classifications: bool,
    /// List apis that have given data classifications
    #[serde(default, rename = "data_classification")]
    data_classification: Vec<String>,
}

impl ApiListQuery {
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
    ApiPath((_tid, sid)): ApiPath<(String, String)>,
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
    ApiPath((_tid, sid)): ApiPath<(String, String)>,
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
    ApiPath((_tid, sid)): ApiPath<(String, String)>,
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
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
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
    ApiPath((_tid, id)): ApiPath<(String, String)>,
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
    ApiPath((_tid, id)): ApiPath<(String, String)>,
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
    ApiPath((_tid, id)): ApiPath<(String, String)>,
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
    params(("tid" = String, Path, description = "Tenant id"), ("aid" = String, Path, description = "Server id"), ApiListQuery),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "APIs by service", body = ServerApis), ReadErrors))]
async fn list_server_apis(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceRead>,
    ApiPath((_tid, aid)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ApiListQuery>,
) -> ApiResult<Json<ServerApis>> {
    Ok(Json(st.control.list_server_apis(&a, &aid, &q.filter()).await?))
}

/// List APIs of a service
///
/// Requires the `service.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/services/{sid}/apis", tag = "admin", operation_id = "listAPIsByService",
    extensions(("x-castellan-permission" = json!("service.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("sid" = String, Path, description = "Service id"), ApiListQuery),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "APIs in position order", body = Apis), ReadErrors))]
async fn list_service_apis(
    State(st): State<AppState>,
    Admin(a): Admin<need::ServiceRead>,
    ApiPath((_tid, sid)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ApiListQuery>,
) -> ApiResult<Json<Apis>> {
    Ok(Json(st.control.list_service_apis(&a, &sid, &q.filter()).await?))
}

/// Remove specification
///
/// Removes every API of the service and the policies its import created, unless another
/// service, a scope or a server still uses them (`not_removed_policies`). Scopes the import
/// created stay: clients may hold them. The service is disconnected from its gateway.
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
    ApiPath((_tid, sid)): ApiPath<(String, String)>,
) -> ApiResult<Json<RemoveServiceConfigurationResult>> {
    Ok(Json(st.control.remove_specification(&a, &sid).await?))
}
