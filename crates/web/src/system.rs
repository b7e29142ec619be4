//! `/api/system/…`: what spans tenants (creating and deleting them). Credentials of the system
//! tenant only; thin handlers.

use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use castellan_control::{DumpOut, ImportMode, need};
use castellan_types::{ConfigurationImported, Dump, SystemTenantCreated, SystemTenantRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{CreateErrors, DeleteErrors, ReadErrors, UpdateErrors};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, LargeJson, System};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_tenant))
        .routes(routes!(delete_tenant))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(export_configuration, import_configuration))
                .layer(DefaultBodyLimit::max(MAX_DUMP_BYTES)),
        )
}

/// The largest configuration an import takes in one request (about 300,000 clients).
pub const MAX_DUMP_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// Only this tenant (all tenants when absent).
    tid: Option<String>,
    /// Include secrets: server secrets, private signing keys, client secrets and upstream
    /// login-method secrets in clear, static users' password hashes. Default false.
    with_secrets: Option<bool>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// The tenant of objects that name none (then every object must be of it).
    tid: Option<String>,
    /// What to do with an object whose id is already stored: `fail` (default: refuse the whole
    /// import, 409 naming it), `update` (overwrite it; system tenants and servers and the
    /// built-in policies are kept) or `ignore` (keep it).
    #[param(inline)]
    mode: Option<Mode>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Fail,
    Update,
    Ignore,
}

/// Export configuration
///
/// The configuration of every tenant, or of `tid`, as one `Dump`: tenants, servers with their
/// login methods and static users, clients, scopes (those of a service are listed with it),
/// claims, policies, consents and consent actions, services and APIs, gateways, roles and STS
/// client mappings. Lists are in id order, so exporting an unchanged configuration twice gives
/// the same text. Without `with_secrets=true` secrets are left out (an import of such a dump
/// gives new servers and clients new secrets and keys). The privacy ledger is never exported.
/// The answer is streamed as it is read.
///
/// Requires the `system.read` permission (credentials of the system tenant); with
/// `with_secrets=true` also `system.write` (the secrets are worth it).
#[utoipa::path(get, path = "/api/system/configuration", tag = "system", operation_id = "exportConfiguration",
    extensions(("x-castellan-permission" = json!("system.read"))),
    params(ExportQuery),
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "Configuration", body = Dump),
        ReadErrors,
    ))]
async fn export_configuration(
    State(st): State<AppState>,
    System(a): System<need::SystemRead>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let with_secrets = q.with_secrets.unwrap_or(false);
    let tenants = st.control.export_tenants(&a, q.tid.as_deref(), with_secrets).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let control = st.control.clone();
    tokio::spawn(async move {
        if let Err(e) = control
            .export_configuration(&a, &tenants, with_secrets, DumpOut::new(tx))
            .await
        {
            // The status is sent; a reader sees the body end short of valid JSON.
            tracing::warn!(error = %e, "configuration export ended early");
        }
    });
    let stream = tokio_stream::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), Ok::<_, std::io::Error>);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Import configuration
///
/// Writes a `Dump` (as the export gives it, or written by hand with only some members) in one
/// transaction: every object is checked by the rules of the API that creates it and its
/// references are resolved against what the tenant holds plus what the dump brings; the first
/// that fails is named (list, index, kind and id) in a 422 and nothing is written. A tenant in
/// `tenants` that does not exist is created with the shape of a new tenant (what the dump does
/// not bring of it: servers `admin`, `developer`, `default`, the built-in policies, the OpenID
/// scopes, an admin client `bootstrap`), and its privacy ledger starts with an event recording
/// the import. Objects of a tenant that does not exist and is not in `tenants` are refused.
/// Secrets given in clear are sealed with this installation's master key; argon2id hashes of
/// static users' passwords and developer-created client secrets are kept as they are.
///
/// Requires the `system.write` permission (credentials of the system tenant).
#[utoipa::path(put, path = "/api/system/configuration", tag = "system", operation_id = "importConfiguration",
    extensions(("x-castellan-permission" = json!("system.write"))),
    params(ImportQuery),
    request_body = Dump,
    security(("basic" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "What the import wrote", body = ConfigurationImported),
        UpdateErrors,
    ))]
async fn import_configuration(
    State(st): State<AppState>,
    System(a): System<need::SystemWrite>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    LargeJson(dump): LargeJson<Dump, MAX_DUMP_BYTES>,
) -> Result<Json<ConfigurationImported>, ApiError> {
    let mode = match q.mode {
        None | Some(Mode::Fail) => ImportMode::Fail,
        Some(Mode::Update) => ImportMode::Update,
        Some(Mode::Ignore) => ImportMode::Ignore,
    };
    Ok(Json(
        st.control
            .import_configuration(&a, q.tid.as_deref(), mode, dump)
            .await?,
    ))
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
