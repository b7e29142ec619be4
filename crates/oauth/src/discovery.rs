//! Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery 1.0 §3).

use serde_json::{Value, json};

use crate::GRANT_TYPES_SERVED;
use crate::snapshot::ServerRuntime;

pub const AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
];
const ASSERTION_ALGS: [&str; 4] = ["HS256", "RS256", "PS256", "ES256"];

/// The metadata document; `openid` adds the OpenID Provider members.
pub fn metadata(rt: &ServerRuntime) -> Value {
    let mut scopes: Vec<&str> = rt.scopes.keys().map(String::as_str).collect();
    scopes.sort_unstable();
    let grants: Vec<&str> = rt
        .server
        .settings
        .grant_types
        .iter()
        .map(String::as_str)
        .filter(|g| GRANT_TYPES_SERVED.contains(g))
        .collect();
    let algs: Vec<&str> = rt.signer.iter().map(|s| s.alg.as_str()).collect();
    json!({
        "issuer": rt.issuer,
        "token_endpoint": rt.endpoint("/oauth2/token"),
        "jwks_uri": rt.endpoint("/.well-known/jwks.json"),
        "introspection_endpoint": rt.endpoint("/oauth2/introspect"),
        "revocation_endpoint": rt.endpoint("/oauth2/revoke"),
        "scopes_supported": scopes,
        "grant_types_supported": grants,
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "access_token_signing_alg_values_supported": algs,
        "code_challenge_methods_supported": ["S256"],
    })
}
