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

/// What a store failure means to the operation that met it: a `Conflict` is the thing being
/// written existing already, a `NotFound` the thing it belongs to being gone. Other failures pass
/// through as they are. Built with [`conflict`] and [`missing`], applied with [`Named::named`].
pub(crate) struct Meaning {
    conflict: Option<(&'static str, String)>,
    missing: Option<(&'static str, String)>,
}

/// A `Conflict` means `what` `id` exists already (409).
pub(crate) fn conflict(what: &'static str, id: impl ToString) -> Meaning {
    Meaning {
        conflict: Some((what, id.to_string())),
        missing: None,
    }
}

/// A `NotFound` means `what` `id`, which the write needs, is gone (404).
pub(crate) fn missing(what: &'static str, id: impl ToString) -> Meaning {
    Meaning {
        conflict: None,
        missing: Some((what, id.to_string())),
    }
}

impl Meaning {
    /// And a `NotFound` means `what` `id` is gone.
    pub(crate) fn missing(mut self, what: &'static str, id: impl ToString) -> Self {
        self.missing = Some((what, id.to_string()));
        self
    }

    fn of(self, e: StoreError) -> ControlError {
        match (e, self.conflict, self.missing) {
            (StoreError::Conflict(_), Some((what, id)), _) => ControlError::Conflict { what, id },
            (StoreError::NotFound(_), _, Some((what, id))) => ControlError::NotFound { what, id },
            (e, _, _) => e.into(),
        }
    }
}

/// Store results named for the operation that got them.
pub(crate) trait Named<T> {
    fn named(self, meaning: Meaning) -> ControlResult<T>;
}

impl<T> Named<T> for Result<T, StoreError> {
    fn named(self, meaning: Meaning) -> ControlResult<T> {
        self.map_err(|e| meaning.of(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_failures_are_named_for_the_operation() {
        let named = |e: StoreError| {
            Err::<(), _>(e)
                .named(conflict("client", "c1").missing("authorization server", "s1"))
                .unwrap_err()
        };
        assert!(matches!(named(StoreError::Conflict("x".into())),
            ControlError::Conflict { what: "client", id } if id == "c1"));
        assert!(matches!(named(StoreError::NotFound("x".into())),
            ControlError::NotFound { what: "authorization server", id } if id == "s1"));
        // What the meaning does not name passes through as it is.
        let only_conflict = Err::<(), _>(StoreError::NotFound("x".into())).named(conflict("client", "c1"));
        assert!(matches!(only_conflict, Err(ControlError::NotFound { .. })));
        assert!(matches!(
            named(StoreError::Unavailable("down".into())),
            ControlError::Unavailable(_)
        ));
    }
}
