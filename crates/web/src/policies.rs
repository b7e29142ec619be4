//! `/api/admin/{tid}/policies…` (Cloudentity ACP), with Castellan's test operation. Thin
//! handlers: the rules are in `control::policies`, evaluation in `castellan-policy`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use castellan_control::need;
use castellan_types::policies::{Policies, Policy, PolicyRequest, PolicyTestRequest, PolicyTestResult};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{CreateErrors, DeleteErrors, ReadErrors, WriteErrors};
use crate::error::ApiError;
use crate::extract::{Admin, ApiJson, ApiPath};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(get_policy, update_policy, delete_policy))
        .routes(routes!(test_policy))
}

/// List policies
///
/// Every policy of the tenant, by id, including the built-in read-only `allow` and `block`.
///
/// Requires the `policy.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/policies", tag = "admin", operation_id = "listPolicies",
    extensions(("x-castellan-permission" = json!("policy.read"))),
    params(("tid" = String, Path, description = "Tenant id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Policies", body = Policies),
        ReadErrors,
    ))]
async fn list_policies(State(st): State<AppState>, Admin(a): Admin<need::PolicyRead>) -> ApiResult<Json<Policies>> {
    Ok(Json(st.control.list_policies(&a).await?))
}

/// Create policy
///
/// Policies are created per tenant; `id` and `policy_name` are required. A policy passes when
/// every validator passes: `true`, `false`, `identity-context` and `header` (`conf.fields: [{field,
/// comparator, value}]`, comparators `equals`, `not_equals`, `contains`, `one_of`, `present`,
/// `not_present`, `matches`, `gt`, `lt`), `consent` (`conf.consents: [ids]` or `conf.action`) and
/// `scopes` (`conf.scopes`). With `"language": "rego"` the `definition` (a Rego v1 module
/// `package castellan`) decides instead: its rule `allow` must be `true`; an evaluation running
/// over 50 ms is stopped and fails. The policy is compiled before it is stored: an unknown
/// validator or comparator, a `conf` of the wrong shape, a bad regular expression or a Rego error
/// is a 422 naming the member (and, for Rego, the line).
///
/// Requires the `policy.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/policies", tag = "admin", operation_id = "createPolicy",
    extensions(("x-castellan-permission" = json!("policy.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = PolicyRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Policy", body = Policy),
        CreateErrors,
    ))]
async fn create_policy(
    State(st): State<AppState>,
    Admin(a): Admin<need::PolicyWrite>,
    ApiJson(req): ApiJson<PolicyRequest>,
) -> ApiResult<(StatusCode, Json<Policy>)> {
    Ok((StatusCode::CREATED, Json(st.control.create_policy(&a, req).await?)))
}

/// Get policy
///
/// Requires the `policy.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/policies/{pid}", tag = "admin", operation_id = "getPolicy",
    extensions(("x-castellan-permission" = json!("policy.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("pid" = String, Path, description = "Policy id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Policy", body = Policy),
        ReadErrors,
    ))]
async fn get_policy(
    State(st): State<AppState>,
    Admin(a): Admin<need::PolicyRead>,
    ApiPath((_tid, pid)): ApiPath<(String, String)>,
) -> ApiResult<Json<Policy>> {
    Ok(Json(st.control.get_policy(&a, &pid).await?))
}

/// Update policy
///
/// Members given replace the stored ones; the result is compiled as on create. Answers 201, as
/// the Cloudentity ACP API does. `allow` and `block` cannot be changed (400). The change applies
/// to the next evaluation on every node.
///
/// Requires the `policy.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/policies/{pid}", tag = "admin", operation_id = "updatePolicy",
    extensions(("x-castellan-permission" = json!("policy.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("pid" = String, Path, description = "Policy id")),
    request_body = PolicyRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "Policy", body = Policy),
        WriteErrors,
    ))]
async fn update_policy(
    State(st): State<AppState>,
    Admin(a): Admin<need::PolicyWrite>,
    ApiPath((_tid, pid)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<PolicyRequest>,
) -> ApiResult<(StatusCode, Json<Policy>)> {
    Ok((
        StatusCode::CREATED,
        Json(st.control.update_policy(&a, &pid, req).await?),
    ))
}

/// Delete policy
///
/// A policy can't be removed while it is in use: a 400 names every server and scope that refers
/// to it. `allow` and `block` cannot be deleted (400).
///
/// Requires the `policy.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/policies/{pid}", tag = "admin", operation_id = "deletePolicy",
    extensions(("x-castellan-permission" = json!("policy.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("pid" = String, Path, description = "Policy id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Policy has been deleted"),
        DeleteErrors,
    ))]
async fn delete_policy(
    State(st): State<AppState>,
    Admin(a): Admin<need::PolicyWrite>,
    ApiPath((_tid, pid)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.delete_policy(&a, &pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Test policy
///
/// Evaluates the policy against the input given (a subject's `authentication_context`, the
/// `client`, `scopes`, an HTTP `request` with `method`, `path` and `headers`, and the ids of the
/// `consents` the subject holds) and says whether it passes, which validator failed and its
/// `recovery`. Nothing is stored. Castellan's addition.
///
/// Requires the `policy.read` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/policies/{pid}/test", tag = "admin", operation_id = "testPolicy",
    extensions(("x-castellan-permission" = json!("policy.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("pid" = String, Path, description = "Policy id")),
    request_body = PolicyTestRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The decision", body = PolicyTestResult),
        WriteErrors,
    ))]
async fn test_policy(
    State(st): State<AppState>,
    Admin(a): Admin<need::PolicyRead>,
    ApiPath((_tid, pid)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<PolicyTestRequest>,
) -> ApiResult<Json<PolicyTestResult>> {
    Ok(Json(st.control.test_policy(&a, &pid, req).await?))
}
