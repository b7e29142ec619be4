//! Protocol errors (RFC 6749 §5.2, RFC 7009 §2.2.1, RFC 7662 §2.3): a closed set of codes. The
//! description is for the client; `detail` only reaches the log.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// RFC 8693 §2.2.2 / RFC 8707 §2: an audience or resource the client may not ask for.
    InvalidTarget,
    UnsupportedTokenType,
    ServerError,
    TemporarilyUnavailable,
    // Authorization endpoint (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).
    AccessDenied,
    UnsupportedResponseType,
    LoginRequired,
    ConsentRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    // Bearer-token use (RFC 6750 §3.1).
    InvalidToken,
    InsufficientScope,
    /// RFC 9101 §6.2, RFC 9126 §2.3.
    InvalidRequestUri,
    InvalidRequestObject,
    // Device authorization grant polling (RFC 8628 §3.5).
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    // DPoP (RFC 9449 §5, §8, §12.2).
    InvalidDpopProof,
    UseDpopNonce,
}

impl ErrorCode {
    /// Every code, for reading one back from its name.
    const ALL: [ErrorCode; 25] = [
        Self::InvalidRequest,
        Self::InvalidClient,
        Self::InvalidGrant,
        Self::UnauthorizedClient,
        Self::UnsupportedGrantType,
        Self::InvalidScope,
        Self::InvalidTarget,
        Self::UnsupportedTokenType,
        Self::ServerError,
        Self::TemporarilyUnavailable,
        Self::AccessDenied,
        Self::UnsupportedResponseType,
        Self::LoginRequired,
        Self::ConsentRequired,
        Self::RequestNotSupported,
        Self::RequestUriNotSupported,
        Self::InvalidToken,
        Self::InsufficientScope,
        Self::InvalidRequestUri,
        Self::InvalidRequestObject,
        Self::AuthorizationPending,
        Self::SlowDown,
        Self::ExpiredToken,
        Self::InvalidDpopProof,
        Self::UseDpopNonce,
    ];

    /// The code named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::InvalidRequestObject => "invalid_request_object",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
        }
    }

    /// The HTTP status RFC 6749 §5.2 prescribes.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::InsufficientScope => 403,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
    /// The client authenticated (or tried to) with HTTP Basic: a 401 carries a Basic challenge.
    pub basic_challenge: bool,
    /// A DPoP nonce to send in `DPoP-Nonce` (RFC 9449 §8): with `use_dpop_nonce`.
    pub dpop_nonce: Option<String>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            basic_challenge: false,
            dpop_nonce: None,
        }
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }
    pub fn server_error(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "server error on a protocol endpoint");
        Self::new(ErrorCode::ServerError, "the server could not complete the request")
    }
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::warn!(%detail, "store unavailable on a protocol endpoint");
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "the service is temporarily unavailable; retry later",
        )
    }
}

impl From<castellan_store::StoreError> for OAuthError {
    fn from(e: castellan_store::StoreError) -> Self {
        match e {
            castellan_store::StoreError::Unavailable(m) => Self::unavailable(m),
            e => Self::server_error(e),
        }
    }
}
