//! Privacy consents, consent actions and the privacy ledger (Cloudentity ACP
//! `/api/admin/{tid}/consents`, `/actions`, `/events`), and Castellan's privacy API
//! (`/api/privacy/{tid}/…`) that grants and withdraws consents. Thin handlers: the rules and the
//! ledger are in `control::privacy`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use castellan_control::need;
use castellan_types::Jwk;
use castellan_types::privacy::{
    Consent, ConsentActionWithConsents, ConsentActions, ConsentGrantRequest, ConsentGrantResult, Consents,
    LedgerVerification, PrivacyLedgerEvents, SubjectConsents,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::docs::{CreateErrors, DeleteErrors, ReadErrors, WriteErrors};
use crate::error::ApiError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery, Privacy};

type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_consents, create_consent))
        .routes(routes!(get_consent, update_consent, delete_consent))
        .routes(routes!(list_consent_actions, create_consent_action))
        .routes(routes!(
            get_consent_action,
            update_consent_action,
            delete_consent_action
        ))
        .routes(routes!(list_events))
        .routes(routes!(ledger_key))
        .routes(routes!(verify_ledger))
        .routes(routes!(grant_consents))
        .routes(routes!(withdraw_consents))
        .routes(routes!(subject_consents))
}

/// List consents
///
/// Requires the `consent.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/consents", tag = "admin", operation_id = "listConsents",
    extensions(("x-castellan-permission" = json!("consent.read"))),
    params(("tid" = String, Path, description = "Tenant id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Consents", body = Consents), ReadErrors))]
async fn list_consents(State(st): State<AppState>, Admin(a): Admin<need::ConsentRead>) -> ApiResult<Json<Consents>> {
    Ok(Json(st.control.list_consents(&a).await?))
}

/// Create consent
///
/// `id`, `name` and `update_existing_grants` (`explicitAll`, `implicitAll` or `keepCurrent`) are
/// required; `valid_from` defaults to now and `version` starts at 1 (a given version is ignored).
/// `can_be_withdrawn` defaults to false.
///
/// Requires the `consent.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/consents", tag = "admin", operation_id = "createConsent",
    extensions(("x-castellan-permission" = json!("consent.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = Consent,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 201, description = "Consent", body = Consent), CreateErrors))]
async fn create_consent(
    State(st): State<AppState>,
    Admin(a): Admin<need::ConsentWrite>,
    ApiJson(req): ApiJson<Consent>,
) -> ApiResult<(StatusCode, Json<Consent>)> {
    Ok((StatusCode::CREATED, Json(st.control.create_consent(&a, req).await?)))
}

/// Get consent details
///
/// Requires the `consent.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/consents/{consent}", tag = "admin", operation_id = "getConsent",
    extensions(("x-castellan-permission" = json!("consent.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("consent" = String, Path, description = "Consent id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Consent", body = Consent), ReadErrors))]
async fn get_consent(
    State(st): State<AppState>,
    Admin(a): Admin<need::ConsentRead>,
    ApiPath((_tid, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Consent>> {
    Ok(Json(st.control.get_consent(&a, &id).await?))
}

/// Update consent
///
/// Every update is a new version (+1). What happens to grants of the previous version follows
/// `update_existing_grants`: `explicitAll` makes them stale (the subject must grant again),
/// `implicitAll` moves them to the new version (one ledger event each), `keepCurrent` leaves them
/// as they are, still counting. Members left out keep their value. Answers 201.
///
/// Requires the `consent.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/consents/{consent}", tag = "admin", operation_id = "updateConsent",
    extensions(("x-castellan-permission" = json!("consent.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("consent" = String, Path, description = "Consent id")),
    request_body = Consent,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 201, description = "Consent", body = Consent), WriteErrors))]
async fn update_consent(
    State(st): State<AppState>,
    Admin(a): Admin<need::ConsentWrite>,
    ApiPath((_tid, id)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<Consent>,
) -> ApiResult<(StatusCode, Json<Consent>)> {
    Ok((
        StatusCode::CREATED,
        Json(st.control.update_consent(&a, &id, req).await?),
    ))
}

/// Delete consent
///
/// Subjects' grants of it go; its ledger events stay. A consent grouped by a consent action
/// cannot be deleted (400 naming the actions).
///
/// Requires the `consent.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/consents/{consent}", tag = "admin", operation_id = "deleteConsent",
    extensions(("x-castellan-permission" = json!("consent.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("consent" = String, Path, description = "Consent id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 204, description = "Consent has been deleted"), DeleteErrors))]
async fn delete_consent(
    State(st): State<AppState>,
    Admin(a): Admin<need::ConsentWrite>,
    ApiPath((_tid, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.delete_consent(&a, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List consent actions
///
/// The actions without their consents (get one action to see them).
///
/// Requires the `consent.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/actions", tag = "admin", operation_id = "listConsentActions",
    extensions(("x-castellan-permission" = json!("consent.read"))),
    params(("tid" = String, Path, description = "Tenant id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Consent actions", body = ConsentActions), ReadErrors))]
async fn list_consent_actions(
    State(st): State<AppState>,
    Admin(a): Admin<need::ConsentRead>,
) -> ApiResult<Json<ConsentActions>> {
    Ok(Json(st.control.list_consent_actions(&a).await?))
}

/// Create consent action
///
/// A consent action groups consents, so that an application asks for the action by name instead
/// of for a list of consents. `id` and `name` are required; for each consent give its `id` (it
/// must exist) and whether it is `required`.
///
/// Requires the `consent.write` permission.
#[utoipa::path(post, path = "/api/admin/{tid}/actions", tag = "admin", operation_id = "createConsentAction",
    extensions(("x-castellan-permission" = json!("consent.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = ConsentActionWithConsents,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 201, description = "Consent action with its consents", body = ConsentActionWithConsents), CreateErrors))]
async fn create_consent_action(
    State(st): State<AppState>,
    Admin(a): Admin<need::ConsentWrite>,
    ApiJson(req): ApiJson<ConsentActionWithConsents>,
) -> ApiResult<(StatusCode, Json<ConsentActionWithConsents>)> {
    Ok((
        StatusCode::CREATED,
        Json(st.control.create_consent_action(&a, req).await?),
    ))
}

/// Get consent action with consents
///
/// Requires the `consent.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/actions/{action}", tag = "admin", operation_id = "getConsentAction",
    extensions(("x-castellan-permission" = json!("consent.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("action" = String, Path, description = "Consent action id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Consent action with its consents", body = ConsentActionWithConsents), ReadErrors))]
async fn get_consent_action(
    State(st): State<AppState>,
    Admin(a): Admin<need::ConsentRead>,
    ApiPath((_tid, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<ConsentActionWithConsents>> {
    Ok(Json(st.control.get_consent_action(&a, &id).await?))
}

/// Update consent action
///
/// Members given replace the stored ones. Answers 201.
///
/// Requires the `consent.write` permission.
#[utoipa::path(put, path = "/api/admin/{tid}/actions/{action}", tag = "admin", operation_id = "updateConsentAction",
    extensions(("x-castellan-permission" = json!("consent.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("action" = String, Path, description = "Consent action id")),
    request_body = ConsentActionWithConsents,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 201, description = "Consent action with its consents", body = ConsentActionWithConsents), WriteErrors))]
async fn update_consent_action(
    State(st): State<AppState>,
    Admin(a): Admin<need::ConsentWrite>,
    ApiPath((_tid, id)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ConsentActionWithConsents>,
) -> ApiResult<(StatusCode, Json<ConsentActionWithConsents>)> {
    Ok((
        StatusCode::CREATED,
        Json(st.control.update_consent_action(&a, &id, req).await?),
    ))
}

/// Delete consent action
///
/// Requires the `consent.write` permission.
#[utoipa::path(delete, path = "/api/admin/{tid}/actions/{action}", tag = "admin", operation_id = "deleteConsentAction",
    extensions(("x-castellan-permission" = json!("consent.write"))),
    params(("tid" = String, Path, description = "Tenant id"), ("action" = String, Path, description = "Consent action id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 204, description = "Consent action has been deleted"), DeleteErrors))]
async fn delete_consent_action(
    State(st): State<AppState>,
    Admin(a): Admin<need::ConsentWrite>,
    ApiPath((_tid, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    st.control.delete_consent_action(&a, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EventQuery {
    /// Subject
    sub: Option<String>,
    /// Query events from this instant (default: the first): an RFC 3339 date-time, or a Unix
    /// time in seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude
    /// (below 10^11 seconds, below 10^14 milliseconds, below 10^17 microseconds, else
    /// nanoseconds)
    from: Option<String>,
    /// Query events to this instant, inclusive (default: now); as `from`
    to: Option<String>,
}

/// List privacy ledger events
///
/// Events of the tenant in the order they were appended, of one subject (`sub`) and between
/// `from` and `to` when given (RFC 3339, or Unix seconds, milliseconds, microseconds or
/// nanoseconds; events are dated to the second). Each `payload_signature` is a compact JWS (ES256,
/// the tenant's ledger key: `GET /events/key`) whose claims are the event's place in the chain
/// (`seq`), its id, subject, date and type, the SHA-256 of its payload and of the previous
/// event's signature.
///
/// Requires the `ledger.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/events", tag = "admin", operation_id = "listPrivacyLedgerEventsBySubject",
    extensions(("x-castellan-permission" = json!("ledger.read"))),
    params(("tid" = String, Path, description = "Tenant id"), EventQuery),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "Privacy ledger events", body = PrivacyLedgerEvents),
        (status = 422, description = "`from` or `to` is neither an RFC 3339 date-time nor a Unix time", body = castellan_types::ApiErrorBody),
        ReadErrors))]
async fn list_events(
    State(st): State<AppState>,
    Admin(a): Admin<need::LedgerRead>,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> ApiResult<Json<PrivacyLedgerEvents>> {
    Ok(Json(
        st.control
            .list_events(&a, q.sub.as_deref(), q.from.as_deref(), q.to.as_deref())
            .await?,
    ))
}

/// Get the ledger key
///
/// The public key (JWK, ES256) the tenant's ledger events are signed with. Castellan's addition.
///
/// Requires the `ledger.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/events/key", tag = "admin", operation_id = "getLedgerKey",
    extensions(("x-castellan-permission" = json!("ledger.read"))),
    params(("tid" = String, Path, description = "Tenant id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "The ledger's public key", body = Jwk), ReadErrors))]
async fn ledger_key(State(st): State<AppState>, Admin(a): Admin<need::LedgerRead>) -> ApiResult<Json<Jwk>> {
    Ok(Json(st.control.ledger_key(&a).await?))
}

/// Verify the ledger
///
/// Walks the tenant's whole ledger and reports the first event whose row was altered, removed or
/// reordered (`first_broken`), or `verified: true`. Castellan's addition; `castellan ledger verify
/// --tenant T` does the same offline against the store.
///
/// Requires the `ledger.read` permission.
#[utoipa::path(get, path = "/api/admin/{tid}/events/verify", tag = "admin", operation_id = "verifyLedger",
    extensions(("x-castellan-permission" = json!("ledger.read"))),
    params(("tid" = String, Path, description = "Tenant id")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "The verification", body = LedgerVerification), ReadErrors))]
async fn verify_ledger(
    State(st): State<AppState>,
    Admin(a): Admin<need::LedgerRead>,
) -> ApiResult<Json<LedgerVerification>> {
    Ok(Json(st.control.verify_ledger(&a).await?))
}

/// Grant consents
///
/// Records that `subject` granted the consents of `action`, or the `consents` listed (each at
/// its current `version`; another version is a 422). Each grant appends a `consent_granted` event
/// to the privacy ledger in the same transaction. Callers: an admin credential holding
/// `privacy.write`, a token of any server of the tenant with the `manage_consents` scope, or a
/// person's own access token for their own subject. Castellan's addition.
///
/// Requires the `privacy.write` permission.
#[utoipa::path(post, path = "/api/privacy/{tid}/consents/grant", tag = "privacy", operation_id = "grantConsents",
    extensions(("x-castellan-permission" = json!("privacy.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = ConsentGrantRequest,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "The events appended", body = ConsentGrantResult), WriteErrors))]
async fn grant_consents(
    State(st): State<AppState>,
    Privacy(c, ..): Privacy<need::PrivacyWrite>,
    ApiJson(req): ApiJson<ConsentGrantRequest>,
) -> ApiResult<Json<ConsentGrantResult>> {
    Ok(Json(st.control.change_consents(&c, req, true).await?))
}

/// Withdraw consents
///
/// As granting, but withdraws: each appends a `consent_revoked` event. A consent whose
/// `can_be_withdrawn` is false, or that the subject holds no grant of, is a 422 and nothing is
/// written. Castellan's addition.
///
/// Requires the `privacy.write` permission.
#[utoipa::path(post, path = "/api/privacy/{tid}/consents/withdraw", tag = "privacy", operation_id = "withdrawConsents",
    extensions(("x-castellan-permission" = json!("privacy.write"))),
    params(("tid" = String, Path, description = "Tenant id")),
    request_body = ConsentGrantRequest,
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "The events appended", body = ConsentGrantResult), WriteErrors))]
async fn withdraw_consents(
    State(st): State<AppState>,
    Privacy(c, ..): Privacy<need::PrivacyWrite>,
    ApiJson(req): ApiJson<ConsentGrantRequest>,
) -> ApiResult<Json<ConsentGrantResult>> {
    Ok(Json(st.control.change_consents(&c, req, false).await?))
}

/// A subject's consents
///
/// For every consent the subject granted or withdrew: `granted`, `withdrawn` or `stale` (granted
/// for an earlier version of a consent updated with `explicitAll`), with the versions.
/// Castellan's addition.
///
/// Requires the `privacy.read` permission.
#[utoipa::path(get, path = "/api/privacy/{tid}/subjects/{sub}/consents", tag = "privacy", operation_id = "getSubjectConsents",
    extensions(("x-castellan-permission" = json!("privacy.read"))),
    params(("tid" = String, Path, description = "Tenant id"), ("sub" = String, Path, description = "Subject")),
    security(("basic" = []), ("bearer" = [])),
    responses((status = 200, description = "The subject's consents", body = SubjectConsents), ReadErrors))]
async fn subject_consents(
    State(st): State<AppState>,
    Privacy(c, ..): Privacy<need::PrivacyRead>,
    ApiPath((_tid, sub)): ApiPath<(String, String)>,
) -> ApiResult<Json<SubjectConsents>> {
    Ok(Json(st.control.subject_consents(&c, &sub).await?))
}
