//! The error responses of the admin API, declared once and referenced by every operation's
//! OpenAPI entry. All carry Cloudentity ACP's envelope (`Error`).
// The variants exist for the OpenAPI document; they are never constructed.
#![allow(dead_code)]

use castellan_types::ApiErrorBody;
use castellan_types::nexus::Problem;
use utoipa::IntoResponses;

/// Reading one object or a list.
#[derive(IntoResponses)]
pub(crate) enum ReadErrors {
    #[response(
        status = 400,
        description = "A malformed query string (a repeated parameter, a value of the wrong type): `invalid query`, `details.reason` says why"
    )]
    BadRequest(ApiErrorBody),
    #[response(status = 401, description = "Missing or invalid credentials")]
    Unauthorized(ApiErrorBody),
    #[response(
        status = 403,
        description = "The caller does not hold the permission the operation requires"
    )]
    Forbidden(ApiErrorBody),
    #[response(status = 404, description = "Not found")]
    NotFound(ApiErrorBody),
}

/// Changing an object with a JSON body.
#[derive(IntoResponses)]
pub(crate) enum WriteErrors {
    #[response(
        status = 400,
        description = "Malformed input: not JSON, or a member of the wrong JSON type; `details.field` names it"
    )]
    BadRequest(ApiErrorBody),
    #[response(status = 401, description = "Missing or invalid credentials")]
    Unauthorized(ApiErrorBody),
    #[response(
        status = 403,
        description = "The caller does not hold the permission the operation requires"
    )]
    Forbidden(ApiErrorBody),
    #[response(status = 404, description = "Not found")]
    NotFound(ApiErrorBody),
    #[response(
        status = 422,
        description = "A well-formed body that breaks a rule (missing or unknown member, bad value, unknown reference); `details.field` names the field"
    )]
    Unprocessable(ApiErrorBody),
    #[response(status = 413, description = "Body over 1 MiB")]
    TooLarge(ApiErrorBody),
    #[response(status = 415, description = "Body is not JSON")]
    NotJson(ApiErrorBody),
}

/// Rotating or revoking signing keys (no body).
#[derive(IntoResponses)]
pub(crate) enum KeyErrors {
    #[response(
        status = 400,
        description = "A malformed query string: `invalid query`, `details.reason` says why"
    )]
    BadRequest(ApiErrorBody),
    #[response(status = 401, description = "Missing or invalid credentials")]
    Unauthorized(ApiErrorBody),
    #[response(
        status = 403,
        description = "The caller does not hold the permission the operation requires (for the admin server: every permission its clients may hold)"
    )]
    Forbidden(ApiErrorBody),
    #[response(status = 404, description = "No such server or key")]
    NotFound(ApiErrorBody),
    #[response(
        status = 409,
        description = "A rotation is already under way (a next key is published), or the keys changed while this one was prepared"
    )]
    Conflict(ApiErrorBody),
}

/// Changing an object whose new values may collide with another's (a claim's name and type).
#[derive(IntoResponses)]
pub(crate) enum UpdateErrors {
    #[response(
        status = 400,
        description = "Malformed input: not JSON, or a member of the wrong JSON type; `details.field` names it"
    )]
    BadRequest(ApiErrorBody),
    #[response(status = 401, description = "Missing or invalid credentials")]
    Unauthorized(ApiErrorBody),
    #[response(
        status = 403,
        description = "The caller does not hold the permission the operation requires"
    )]
    Forbidden(ApiErrorBody),
    #[response(status = 404, description = "Not found")]
    NotFound(ApiErrorBody),
    #[response(status = 409, description = "Another object of the server has these values")]
    Conflict(ApiErrorBody),
    #[response(
        status = 422,
        description = "A well-formed body that breaks a rule (missing or unknown member, bad value, unknown reference); `details.field` names the field"
    )]
    Unprocessable(ApiErrorBody),
    #[response(status = 413, description = "Body over 1 MiB")]
    TooLarge(ApiErrorBody),
    #[response(status = 415, description = "Body is not JSON")]
    NotJson(ApiErrorBody),
}

/// Creating an object: as [`WriteErrors`], plus a conflict on the id.
#[derive(IntoResponses)]
pub(crate) enum CreateErrors {
    #[response(
        status = 400,
        description = "Malformed input: not JSON, or a member of the wrong JSON type; `details.field` names it"
    )]
    BadRequest(ApiErrorBody),
    #[response(status = 401, description = "Missing or invalid credentials")]
    Unauthorized(ApiErrorBody),
    #[response(
        status = 403,
        description = "The caller does not hold the permission the operation requires"
    )]
    Forbidden(ApiErrorBody),
    #[response(
        status = 404,
        description = "A referenced object (tenant, authorization server) was not found"
    )]
    NotFound(ApiErrorBody),
    #[response(status = 409, description = "An object with this id (or name) exists")]
    Conflict(ApiErrorBody),
    #[response(
        status = 422,
        description = "A well-formed body that breaks a rule (missing or unknown member, bad value, unknown reference); `details.field` names the field"
    )]
    Unprocessable(ApiErrorBody),
    #[response(status = 413, description = "Body over 1 MiB")]
    TooLarge(ApiErrorBody),
    #[response(status = 415, description = "Body is not JSON")]
    NotJson(ApiErrorBody),
}

/// Deleting an object.
#[derive(IntoResponses)]
pub(crate) enum DeleteErrors {
    #[response(status = 400, description = "The object cannot be deleted (a system object)")]
    BadRequest(ApiErrorBody),
    #[response(status = 401, description = "Missing or invalid credentials")]
    Unauthorized(ApiErrorBody),
    #[response(
        status = 403,
        description = "The caller does not hold the permission the operation requires"
    )]
    Forbidden(ApiErrorBody),
    #[response(status = 404, description = "Not found")]
    NotFound(ApiErrorBody),
    #[response(
        status = 409,
        description = "Still in use: a policy that scopes or APIs name, a consent that an action groups"
    )]
    InUse(ApiErrorBody),
}

/// Every error of the Cloudentity Nexus family (`/v1/…`): RFC 9457 problem details
/// (`application/problem+json`).
#[derive(IntoResponses)]
pub(crate) enum ProblemErrors {
    #[response(
        status = 400,
        description = "Malformed or invalid input (not JSON, a member of the wrong type, a missing or bad value, an unknown permission code); `field` names the member",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    #[response(
        status = 401,
        description = "Missing or invalid credentials, an `X-Castellan-Tenant` that disagrees with the token, or an unknown `ApplicationToken`",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 403,
        description = "The caller does not hold the permission the operation requires, or asked to grant one it does not hold",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    #[response(status = 404, description = "Not found", content_type = "application/problem+json")]
    NotFound(Problem),
    #[response(
        status = 413,
        description = "Body over 1 MiB",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    #[response(
        status = 415,
        description = "A body that is not JSON (`Content-Type: application/json` is required)",
        content_type = "application/problem+json"
    )]
    NotJson(Problem),
    #[response(
        status = 409,
        description = "The mapping, role name or connection map exists",
        content_type = "application/problem+json"
    )]
    Conflict(Problem),
}

/// Every error of the workspace-client family (`/admin/workspaceClients`): the TMF error object,
/// `status` as a string.
#[derive(IntoResponses)]
pub(crate) enum TmfErrors {
    #[response(
        status = 400,
        description = "Malformed or invalid input (not JSON, a member of the wrong type, a bad value, an issuer that names no login method); `message` names the member"
    )]
    BadRequest(castellan_types::workspace::TmfError),
    #[response(status = 401, description = "Missing or invalid credentials")]
    Unauthorized(castellan_types::workspace::TmfError),
    #[response(
        status = 403,
        description = "The caller does not hold the permission the operation requires"
    )]
    Forbidden(castellan_types::workspace::TmfError),
    #[response(status = 404, description = "No such workspace client")]
    NotFound(castellan_types::workspace::TmfError),
    #[response(status = 409, description = "The client exists")]
    Conflict(castellan_types::workspace::TmfError),
    #[response(status = 413, description = "Body over 1 MiB")]
    TooLarge(castellan_types::workspace::TmfError),
    #[response(status = 415, description = "A body that is not JSON")]
    NotJson(castellan_types::workspace::TmfError),
    #[response(status = 500, description = "Internal error")]
    Internal(castellan_types::workspace::TmfError),
}

/// Every error of the access-manager family: `422` with `{message, field}` for anything wrong
/// with the request, its own status for credentials, permissions and missing clients.
#[derive(IntoResponses)]
pub(crate) enum OamErrors {
    #[response(status = 401, description = "Missing or invalid credentials")]
    Unauthorized(castellan_types::oam::OamError),
    #[response(
        status = 403,
        description = "The caller does not hold the permission the operation requires"
    )]
    Forbidden(castellan_types::oam::OamError),
    #[response(status = 404, description = "No such client")]
    NotFound(castellan_types::oam::OamError),
    #[response(status = 413, description = "Body over 1 MiB")]
    TooLarge(castellan_types::oam::OamError),
    #[response(
        status = 422,
        description = "The request breaks a rule (a bad or missing member, a client that exists, a body that is not JSON); `field` names the member"
    )]
    Invalid(castellan_types::oam::OamError),
}
