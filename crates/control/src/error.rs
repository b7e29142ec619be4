use castellan_store::StoreError;

/// Outcomes of control-plane operations that are not success. Each API family renders these in
/// its own error shape; the variants map one-to-one to HTTP statuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ControlError {
    /// 400: a field is invalid; `field` is its JSON path (e.g. `grant_types[1]`).
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// 400: the request is well-formed but the operation is not allowed on this object.
    #[error("{0}")]
    Refused(String),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: valid credentials without the right to do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// 409: the object is in use by others (a policy their scopes name, a consent an action
    /// groups) and cannot be deleted until they let go of it.
    #[error("{0}")]
    InUse(String),
    /// 409.
    #[error("{what} {id} already exists")]
    Conflict { what: &'static str, id: String },
    /// 503: the store cannot be reached; retry later.
    #[error("the store is unavailable")]
    Unavailable(String),
    /// 500: something that should not happen (corrupt data, crypto failure). Detail is for logs.
    #[error("internal error")]
    Internal(String),
}

impl ControlError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
}

/// The one conversion from the token engine's errors: a store it could not reach is a 503 (retry),
/// anything else a 500.
impl From<castellan_oauth::OAuthError> for ControlError {
    fn from(e: castellan_oauth::OAuthError) -> Self {
        match e.code {
            castellan_oauth::ErrorCode::TemporarilyUnavailable => Self::Unavailable(e.description),
            _ => Self::Internal(e.description),
        }
    }
}

impl From<StoreError> for ControlError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => Self::Unavailable(m),
            // Callers map Conflict/NotFound to the object they were writing; reaching here is a bug
            // or a race, reported without losing the store's message.
            StoreError::Conflict(m) => Self::Conflict { what: "object", id: m },
            StoreError::NotFound(m) => Self::NotFound { what: "object", id: m },
            StoreError::Corrupt(m) => Self::Internal(m),
        }
    }
}

pub type ControlResult<T> = Result<T, ControlError>;

/// A read-only field of an update body: absent, or equal to the stored value.
pub(crate) fn unchanged(field: &str, given: Option<&str>, current: &str, reason: &str) -> ControlResult<()> {
    match given {
        Some(v) if v != current => Err(ControlError::invalid(field, reason)),
        _ => Ok(()),
    }
}

/// A body's `tenant_id` (read-only in every family): absent, or the tenant of the path (422).
pub(crate) fn same_tenant(given: Option<&str>, tid: &castellan_domain::TenantId) -> ControlResult<()> {
    unchanged("tenant_id", given, tid.as_str(), "must be the tenant of the path")
}

/// A store failure for want of the authorization server `aid` (it went meanwhile) as the API
/// names it; other failures as they are.
pub(crate) fn not_found_as_server(e: StoreError, aid: &str) -> ControlError {
    match e {
        StoreError::NotFound(_) => ControlError::NotFound {
            what: "authorization server",
            id: aid.to_owned(),
        },
        e => e.into(),
    }
}
