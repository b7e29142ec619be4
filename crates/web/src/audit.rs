//! The admin audit trail's side of HTTP: one middleware sees every management write of every
//! family — the admin, developer, privacy, Nexus, workspace, access-manager and system APIs,
//! and the console's forms — and appends one event for each that succeeded. What is a write,
//! which operation it is and which object it names come from one table ([`OPS`]), checked
//! against the OpenAPI document by a test so a new write cannot be forgotten. Who made it is
//! noted by whichever extractor authenticated the request ([`note_actor`]); a request nobody
//! authenticated, or that failed (4xx/5xx), appends nothing. Also `GET /api/admin/{tid}/audit`
//! and `…/audit/verify`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};

use axum::Json;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use castellan_control::{AuditKind, AuditRecord, need};
use castellan_domain::TenantId;
use castellan_types::audit::AuditEvents;
use castellan_types::privacy::LedgerVerification;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::ReadErrors;
use crate::error::ApiError;
use crate::extract::{Admin, ApiQuery};

/// Where a write names its object.
#[derive(Debug, Clone, Copy)]
enum Id {
    /// A path parameter.
    Param(&'static str),
    /// A query parameter.
    Query(&'static str),
    /// A new object: its id is in the response (the first of these JSON pointers that holds a
    /// string), or in an [`AuditObject`] the handler attached (the console's forms).
    Created(&'static [&'static str]),
    /// An [`AuditObject`] the handler attached.
    Noted,
    /// No single object.
    Whole,
}

/// One write operation: its method and route, its OpenAPI operation id, the kind of object it
/// changes and where it names it.
#[derive(Debug, Clone, Copy)]
struct Op {
    method: &'static str,
    route: &'static str,
    operation: &'static str,
    kind: AuditKind,
    id: Id,
    console: bool,
}

const ID: &[&str] = &["/id"];
const CLIENT_ID: &[&str] = &["/client_id"];

macro_rules! ops {
    ($($via:ident $method:literal $route:literal => $operation:literal, $kind:ident, $id:expr;)*) => {
        &[$(Op {
            method: $method,
            route: $route,
            operation: $operation,
            kind: AuditKind::$kind,
            id: $id,
            console: $via,
        }),*]
    };
}

use Id::*;

/// Which side an entry of [`OPS`] is on.
const API: bool = false;
const CONSOLE: bool = true;

/// Every management write. The API's entries are checked against the OpenAPI document (a test);
/// the console's name the API operation each form performs.
const OPS: &[Op] = ops! {
    API "PUT" "/api/admin/{tid}/tenant" => "updateAdminTenant", Tenant, Param("tid");
    API "POST" "/api/admin/{tid}/servers" => "createAuthorizationServer", Server, Created(ID);
    API "PUT" "/api/admin/{tid}/servers/{aid}" => "updateAuthorizationServer", Server, Param("aid");
    API "DELETE" "/api/admin/{tid}/servers/{aid}" => "deleteAuthorizationServer", Server, Param("aid");
    API "PUT" "/api/admin/{tid}/servers/{aid}/authentications" => "updateAuthentications", Server, Param("aid");
    API "POST" "/api/admin/{tid}/servers/{aid}/keys/rotate" => "rotateSigningKeys", Server, Param("aid");
    API "POST" "/api/admin/{tid}/servers/{aid}/keys/{kid}/revoke" => "revokeSigningKey", Server, Param("aid");
    API "POST" "/api/admin/{tid}/clients" => "createClient", Client, Created(CLIENT_ID);
    API "PUT" "/api/admin/{tid}/clients/{cid}" => "updateClient", Client, Param("cid");
    API "DELETE" "/api/admin/{tid}/clients/{cid}" => "deleteClient", Client, Param("cid");
    API "POST" "/api/admin/{tid}/scopes" => "createScope", Scope, Created(ID);
    API "PUT" "/api/admin/{tid}/scopes/{scp}" => "updateScope", Scope, Param("scp");
    API "DELETE" "/api/admin/{tid}/scopes/{scp}" => "deleteScope", Scope, Param("scp");
    API "POST" "/api/admin/{tid}/claims" => "createClaim", Claim, Created(ID);
    API "PUT" "/api/admin/{tid}/claims/{claim}" => "updateClaim", Claim, Param("claim");
    API "DELETE" "/api/admin/{tid}/claims/{claim}" => "deleteClaim", Claim, Param("claim");
    API "POST" "/api/admin/{tid}/policies" => "createPolicy", Policy, Created(ID);
    API "PUT" "/api/admin/{tid}/policies/{pid}" => "updatePolicy", Policy, Param("pid");
    API "DELETE" "/api/admin/{tid}/policies/{pid}" => "deletePolicy", Policy, Param("pid");
    API "POST" "/api/admin/{tid}/consents" => "createConsent", Consent, Created(ID);
    API "PUT" "/api/admin/{tid}/consents/{consent}" => "updateConsent", Consent, Param("consent");
    API "DELETE" "/api/admin/{tid}/consents/{consent}" => "deleteConsent", Consent, Param("consent");
    API "POST" "/api/admin/{tid}/actions" => "createConsentAction", ConsentAction, Created(ID);
    API "PUT" "/api/admin/{tid}/actions/{action}" => "updateConsentAction", ConsentAction, Param("action");
    API "DELETE" "/api/admin/{tid}/actions/{action}" => "deleteConsentAction", ConsentAction, Param("action");
    API "POST" "/api/admin/{tid}/services" => "createService", Service, Created(ID);
    API "PUT" "/api/admin/{tid}/services/{sid}" => "updateService", Service, Param("sid");
    API "DELETE" "/api/admin/{tid}/services/{sid}" => "deleteService", Service, Param("sid");
    API "DELETE" "/api/admin/{tid}/services/{sid}/apis" => "removeSpecification", Service, Param("sid");
    API "POST" "/api/admin/{tid}/services/{sid}/apis/import/file" => "importSpecificationFromFile", Service, Param("sid");
    API "POST" "/api/admin/{tid}/services/{sid}/apis/import/text" => "importSpecificationFromText", Service, Param("sid");
    API "POST" "/api/admin/{tid}/services/{sid}/apis/import/url" => "importSpecificationFromURL", Service, Param("sid");
    API "POST" "/api/admin/{tid}/apis" => "createAPI", Api, Created(ID);
    API "PUT" "/api/admin/{tid}/apis/{api}" => "updateAPI", Api, Param("api");
    API "DELETE" "/api/admin/{tid}/apis/{api}" => "deleteAPI", Api, Param("api");
    API "POST" "/api/admin/{tid}/gateways" => "createGateway", Gateway, Created(&["/id", "/gateway/id"]);
    API "PUT" "/api/admin/{tid}/gateways/{gw}" => "updateGateway", Gateway, Param("gw");
    API "DELETE" "/api/admin/{tid}/gateways/{gw}" => "deleteGateway", Gateway, Param("gw");
    API "POST" "/api/developer/{tid}/clients" => "createClientForDeveloper", Client, Created(CLIENT_ID);
    API "PUT" "/api/developer/{tid}/clients/{cid}" => "updateClientForDeveloper", Client, Param("cid");
    API "DELETE" "/api/developer/{tid}/clients/{cid}" => "deleteClientForDeveloper", Client, Param("cid");
    API "POST" "/api/privacy/{tid}/consents/grant" => "grantConsents", Grants, Created(&["/subject"]);
    API "POST" "/api/privacy/{tid}/consents/withdraw" => "withdrawConsents", Grants, Created(&["/subject"]);
    API "PUT" "/api/system/configuration" => "importConfiguration", Configuration, Whole;
    API "POST" "/api/system/tenants" => "createTenant", Tenant, Created(&["/tenant", "/tenant/id", "/id"]);
    API "DELETE" "/api/system/tenants/{tid}" => "deleteTenant", Tenant, Param("tid");
    API "POST" "/v1/roles" => "createRole", Role, Created(ID);
    API "PUT" "/v1/roles/{id}" => "updateRole", Role, Param("id");
    API "DELETE" "/v1/roles/{id}" => "deleteRole", Role, Param("id");
    API "POST" "/v1/roles/{id}/connection-maps" => "addConnectionMap", Role, Param("id");
    API "DELETE" "/v1/roles/{id}/connection-maps" => "deleteConnectionMapsOfGroup", Role, Param("id");
    API "DELETE" "/v1/roles/{id}/connection-maps/{mapId}" => "deleteConnectionMap", Role, Param("id");
    API "POST" "/v1/sts-clients" => "createStsClient", StsClient, Created(&["/clientId"]);
    API "PUT" "/v1/sts-clients/{clientId}" => "updateStsClient", StsClient, Param("clientId");
    API "DELETE" "/v1/sts-clients/{clientId}" => "deleteStsClient", StsClient, Param("clientId");
    API "POST" "/admin/workspaceClients" => "createWorkspaceClient", Client, Created(ID);
    API "PUT" "/admin/workspaceClients/{id}" => "replaceWorkspaceClient", Client, Param("id");
    API "DELETE" "/admin/workspaceClients/{id}" => "deleteWorkspaceClient", Client, Param("id");
    API "POST" "/oam/services/rest/ssa/api/v1/oauthpolicyadmin/client" => "createAccessManagerClient", Client, Created(ID);
    API "DELETE" "/oam/services/rest/ssa/api/v1/oauthpolicyadmin/client" => "deleteAccessManagerClient", Client, Query("id");

    CONSOLE "POST" "/console/{tid}/servers" => "createAuthorizationServer", Server, Noted;
    CONSOLE "POST" "/console/{tid}/servers/{aid}" => "updateAuthorizationServer", Server, Param("aid");
    CONSOLE "POST" "/console/{tid}/servers/{aid}/keys/rotate" => "rotateSigningKeys", Server, Param("aid");
    CONSOLE "POST" "/console/{tid}/servers/{aid}/keys/{kid}/revoke" => "revokeSigningKey", Server, Param("aid");
    CONSOLE "POST" "/console/{tid}/servers/{aid}/people" => "updateAuthentications", Server, Param("aid");
    CONSOLE "POST" "/console/{tid}/servers/{aid}/people/remove" => "updateAuthentications", Server, Param("aid");
    CONSOLE "POST" "/console/{tid}/servers/{aid}/providers" => "updateAuthentications", Server, Param("aid");
    CONSOLE "POST" "/console/{tid}/servers/{aid}/methods/{mid}/remove" => "updateAuthentications", Server, Param("aid");
    CONSOLE "POST" "/console/{tid}/servers/{aid}/clients/new" => "createClient", Client, Noted;
    CONSOLE "POST" "/console/{tid}/servers/{aid}/clients/{cid}" => "updateClient", Client, Param("cid");
    CONSOLE "POST" "/console/{tid}/servers/{aid}/clients/{cid}/delete" => "deleteClient", Client, Param("cid");
    CONSOLE "POST" "/console/{tid}/servers/{aid}/scopes" => "createScope", Scope, Noted;
    CONSOLE "POST" "/console/{tid}/servers/{aid}/scopes/{sid}/delete" => "deleteScope", Scope, Param("sid");
    CONSOLE "POST" "/console/{tid}/servers/{aid}/claims" => "createClaim", Claim, Noted;
    CONSOLE "POST" "/console/{tid}/servers/{aid}/claims/{id}/delete" => "deleteClaim", Claim, Param("id");
    CONSOLE "POST" "/console/{tid}/services" => "createService", Service, Noted;
    CONSOLE "POST" "/console/{tid}/services/{sid}" => "importSpecificationFromFile", Service, Param("sid");
    CONSOLE "POST" "/console/{tid}/consents" => "createConsent", Consent, Noted;
    CONSOLE "POST" "/console/{tid}/consents/{id}/delete" => "deleteConsent", Consent, Param("id");
    CONSOLE "POST" "/console/{tid}/actions" => "createConsentAction", ConsentAction, Noted;
    CONSOLE "POST" "/console/{tid}/actions/{id}/delete" => "deleteConsentAction", ConsentAction, Param("id");
    CONSOLE "POST" "/console/{tid}/tenants" => "createTenant", Tenant, Noted;
    CONSOLE "POST" "/console/{tid}/tenants/{id}/delete" => "deleteTenant", Tenant, Param("id");
    CONSOLE "POST" "/console/{tid}/gateways" => "createGateway", Gateway, Noted;
    CONSOLE "POST" "/console/{tid}/roles" => "createRole", Role, Noted;
    CONSOLE "POST" "/console/{tid}/roles/{id}" => "updateRole", Role, Param("id");
    CONSOLE "POST" "/console/{tid}/roles/{id}/groups" => "addConnectionMap", Role, Param("id");
    CONSOLE "POST" "/console/{tid}/roles/{id}/groups/remove" => "deleteConnectionMap", Role, Param("id");
    CONSOLE "POST" "/console/{tid}/sts-clients" => "createStsClient", StsClient, Noted;
    CONSOLE "POST" "/console/{tid}/sts-clients/{cid}/delete" => "deleteStsClient", StsClient, Param("cid");
};

static BY_ROUTE: LazyLock<HashMap<(&'static str, &'static str), &'static Op>> =
    LazyLock::new(|| OPS.iter().map(|o| ((o.method, o.route), o)).collect());

/// A write under way, as the middleware saw it before the handler ran; the extractor that
/// authenticates its caller fills in who it is and the object as it was.
struct Pending {
    op: &'static Op,
    /// The object, when the request names it (not for a create).
    id: Option<String>,
    /// The caller's tenant and `{kind}:{id}`, set once.
    actor: OnceLock<(TenantId, String)>,
    /// The object's digest before the write, read once the caller is known.
    before: OnceLock<Option<String>>,
}

tokio::task_local! {
    static PENDING: Arc<Pending>;
}

/// Records who the request being handled authenticated as, once it holds what the operation
/// needs, and reads the object as it is before the write (in the caller's own tenant, and only
/// for a caller allowed to write it: nobody else can time it). Called by every extractor that
/// authenticates a management caller; outside a write the trail watches it does nothing.
pub(crate) async fn note_actor(control: &castellan_control::Control, tenant: &TenantId, actor: String) {
    let Ok(p) = PENDING.try_with(Arc::clone) else {
        return;
    };
    if p.actor.set((tenant.clone(), actor)).is_err() {
        return;
    }
    let before = match &p.id {
        Some(id) => control.audit_digest(tenant, p.op.kind, id).await,
        None => None,
    };
    let _ = p.before.set(before);
}

/// `fut`, noting its actor where the current task would (for a handler run in a task of its own).
pub(crate) fn carry<F: std::future::Future>(fut: F) -> impl std::future::Future<Output = F::Output> {
    let slot = PENDING.try_with(Arc::clone).ok();
    async move {
        match slot {
            Some(s) => PENDING.scope(s, fut).await,
            None => fut.await,
        }
    }
}

/// The object a handler created, for writes whose response does not name it (the console's).
#[derive(Clone)]
pub(crate) struct AuditObject(pub String);

/// `resp`, naming `id` (when there is one: the write succeeded) as the object the write created.
pub(crate) fn created(mut resp: axum::response::Response, id: Option<&str>) -> axum::response::Response {
    if let Some(id) = id {
        resp.extensions_mut().insert(AuditObject(id.to_owned()));
    }
    resp
}

fn query_param(req: &Request, name: &str) -> Option<String> {
    form_urlencoded::parse(req.uri().query()?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The middleware: a write of [`OPS`] that succeeds appends one event.
pub(crate) async fn record(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let op = match req.extensions().get::<MatchedPath>() {
        Some(p) if req.method() != Method::GET && req.method() != Method::HEAD => {
            BY_ROUTE.get(&(req.method().as_str(), p.as_str())).copied()
        }
        _ => None,
    };
    let Some(op) = op else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let params: HashMap<String, String> = RawPathParams::from_request_parts(&mut parts, &st)
        .await
        .map(|p| p.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
        .unwrap_or_default();
    let req = Request::from_parts(parts, body);
    let id = match op.id {
        Param(p) => params.get(p).cloned(),
        Query(q) => query_param(&req, q),
        _ => None,
    };
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let address = crate::client_addr::address_of(&req, &st).map(|a| a.to_string());
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect::<String>());

    let pending = Arc::new(Pending {
        op,
        id,
        actor: OnceLock::new(),
        before: OnceLock::new(),
    });
    let resp = PENDING.scope(pending.clone(), next.run(req)).await;

    let status = resp.status();
    let Some((tenant, actor)) = pending.actor.get().cloned() else {
        return resp;
    };
    if status.is_client_error() || status.is_server_error() {
        return resp;
    }
    let (resp, id) = match op.id {
        Created(pointers) => created_id(resp, pointers).await,
        Noted => {
            let id = resp.extensions().get::<AuditObject>().map(|o| o.0.clone());
            (resp, id)
        }
        _ => (resp, pending.id.clone()),
    };
    // A deleted object reads as absent: `null`.
    let after = match &id {
        Some(id) => st.control.audit_digest(&tenant, op.kind, id).await,
        None => None,
    };
    let record = AuditRecord {
        tenant,
        actor,
        operation: op.operation,
        kind: op.kind,
        id,
        via: if op.console { "console" } else { "api" },
        method,
        path,
        status: status.as_u16(),
        address,
        user_agent,
        before: pending.before.get().cloned().flatten(),
        after,
    };
    if let Err(e) = st.control.record_audit(record).await {
        tracing::error!(error = %e, operation = op.operation, "the audit trail could not record a write");
    }
    resp
}

/// The id of the object a write created: an [`AuditObject`] the handler attached, else the first
/// of `pointers` that holds a string in the JSON response (which is read and put back).
async fn created_id(resp: Response, pointers: &[&str]) -> (Response, Option<String>) {
    if let Some(o) = resp.extensions().get::<AuditObject>() {
        let id = o.0.clone();
        return (resp, Some(id));
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * crate::MAX_BODY_BYTES).await else {
        return (Response::from_parts(parts, axum::body::Body::empty()), None);
    };
    let id = serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| {
        pointers
            .iter()
            .find_map(|p| v.pointer(p).and_then(|x| x.as_str()).map(str::to_owned))
    });
    (Response::from_parts(parts, axum::body::Body::from(bytes)), id)
}

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// `{kind}/{id}` (`clients/shop-web`): that object's events; `{kind}` alone (`clients`): those
    /// of every object of the kind.
    object: Option<String>,
    /// `client:{client_id}`, `person:{sub}`, `developer:{sub}`: that caller's events.
    actor: Option<String>,
    /// RFC 3339 date-time or Unix time: events at or after it.
    from: Option<String>,
    /// RFC 3339 date-time or Unix time: events at or before it.
    to: Option<String>,
    /// Events with a sequence below this (the `next_before` of the previous page).
    before: Option<i64>,
    /// Events per page, 1 to 1000 (default 100).
    limit: Option<i64>,
}

/// List audit events
///
/// The tenant's admin audit trail, newest first: one event per management write of any API
/// family or the console (who, which operation on which object, when, from where, and digests of
/// the object before and after; never a secret). Writes that failed or were refused append
/// nothing. Events are chained and signed like the privacy ledger (with the same key, `GET
/// /api/admin/{tid}/events/key`). Castellan's addition.
///
/// Requires the `audit.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/audit", tag = "admin", operation_id = "listAuditEvents",
    extensions(("x-castellan-permission" = json!("audit.read"))),
    params(("tid" = String, Path, description = "Tenant id"), AuditQuery),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Audit events, newest first", body = AuditEvents),
        (status = 422, description = "A filter is malformed (`from`/`to` not a date, `limit` out of range)", body = castellan_types::ApiErrorBody),
        ReadErrors))]
async fn list_audit(
    State(st): State<AppState>,
    Admin(a): Admin<need::AuditRead>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditEvents>, ApiError> {
    Ok(Json(
        st.control
            .list_audit(
                &a,
                q.object.as_deref(),
                q.actor.as_deref(),
                q.from.as_deref(),
                q.to.as_deref(),
                q.before,
                q.limit,
            )
            .await?,
    ))
}

/// Verify the audit trail
///
/// Walks the tenant's whole audit trail and reports the first event whose row was altered,
/// removed or reordered (`first_broken`), or `verified: true`. `castellan audit verify --tenant T`
/// does the same offline against the store. Castellan's addition.
///
/// Requires the `audit.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/audit/verify", tag = "admin", operation_id = "verifyAuditTrail",
    extensions(("x-castellan-permission" = json!("audit.read"))),
    params(("tid" = String, Path, description = "Tenant id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "The verification", body = LedgerVerification), ReadErrors))]
async fn verify_audit(
    State(st): State<AppState>,
    Admin(a): Admin<need::AuditRead>,
) -> Result<Json<LedgerVerification>, ApiError> {
    Ok(Json(st.control.verify_audit(&a).await?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Every write of the OpenAPI document (any method but GET whose permission is not a read)
    /// has its entry, and every API entry is an operation of the document.
    #[test]
    fn every_write_is_audited() {
        let doc = crate::openapi();
        let mut writes = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let m = method.to_uppercase();
                if !["POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
                    continue;
                }
                let tags = op["tags"].as_array().unwrap();
                if tags.iter().any(|t| t == "protocol") {
                    continue;
                }
                let perm = op["x-castellan-permission"].as_str().unwrap_or("");
                if perm.ends_with(".read") {
                    continue;
                }
                writes.push((m, path.clone(), op["operationId"].as_str().unwrap().to_owned()));
            }
        }
        for (m, path, id) in &writes {
            let o = BY_ROUTE
                .get(&(m.as_str(), path.as_str()))
                .unwrap_or_else(|| panic!("{m} {path} ({id}) is not audited"));
            assert_eq!(o.operation, id, "{m} {path}");
        }
        let api = OPS.iter().filter(|o| !o.console).count();
        assert_eq!(api, writes.len(), "an audited API operation is not in the document");
        for o in OPS.iter().filter(|o| o.console) {
            assert!(
                writes.iter().any(|(_, _, id)| id == o.operation),
                "console {} names no API operation",
                o.route
            );
        }
    }
}
