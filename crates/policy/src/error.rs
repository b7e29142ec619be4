//! Why a policy does not compile.

/// Why a policy does not compile: the member (a JSON path into the policy) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct CompileError {
    pub field: String,
    pub reason: String,
}

pub(crate) fn err(field: impl Into<String>, reason: impl Into<String>) -> CompileError {
    CompileError {
        field: field.into(),
        reason: reason.into(),
    }
}
