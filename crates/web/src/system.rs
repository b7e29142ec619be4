//! `/api/system/…`: what spans tenants (creating and deleting them). Credentials of the system
//! tenant only; thin handlers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use castellan_control::need;
use castellan_types::{SystemTenantCreated, SystemTenantRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{CreateErrors, DeleteErrors};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, System};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_tenant))
        .routes(routes!(delete_tenant))
}

/// Create tenant
///
/// A new tenant with the shape of the first one: servers `admin` and `developer` (system) and
/// `default`, each with its own signing key; the built-in policies `allow` and `block`; the
/// OpenID scopes on `default`; and an admin client `bootstrap` of its `admin` server, whose
/// generated secret is in this answer only. Manage the tenant with those credentials at
/// `/api/admin/{id}/…`. 409 when the id is taken.
///
/// Requires the `system.write` permission (credentials of the system tenant).
#[utoipa::path(post, path = "/api/system/tenants", tag = "system", operation_id = "createTenant",
    extensions(("x-castellan-permission" = json!("system.write"))),
    request_body = SystemTenantRequest,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 201, description = "The tenant and its admin client's credentials", body = SystemTenantCreated),
        CreateErrors,
    ))]
async fn create_tenant(
    State(st): State<AppState>,
    System(a): System<need::SystemWrite>,
    ApiJson(req): ApiJson<SystemTenantRequest>,
) -> ApiResult<(StatusCode, Json<SystemTenantCreated>)> {
    Ok((
        StatusCode::CREATED,
        Json(st.control.create_system_tenant(&a, req).await?),
    ))
}

/// Delete tenant
///
/// Deletes the tenant and everything of it in one transaction: servers, keys, clients, scopes,
/// policies, consents and its privacy ledger, sessions, grants and refresh tokens. Its access
/// tokens stop verifying at once (their keys are gone). The system tenant cannot be deleted (400).
///
/// Requires the `system.write` permission (credentials of the system tenant).
#[utoipa::path(delete, path = "/api/system/tenants/{tid}", tag = "system", operation_id = "deleteTenant",
    extensions(("x-castellan-permission" = json!("system.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Tenant has been deleted"),
        DeleteErrors,
    ))]
async fn delete_tenant(
    State(st): State<AppState>,
    System(a): System<need::SystemWrite>,
    ApiPath(tid): ApiPath<String>,
) -> ApiResult<StatusCode> {
    st.control.delete_system_tenant(&a, &tid).await?;
    Ok(StatusCode::NO_CONTENT)
}
