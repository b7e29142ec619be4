//! Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery 1.0 §3).

use serde_json::{Value, json};

use crate::GRANT_TYPES_SERVED;
use crate::issue::STANDARD_CLAIMS;
use crate::snapshot::ServerRuntime;

pub const AUTH_METHODS: [&str; 5] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
];
/// Introspection needs a confidential client: public clients prove nothing (RFC 7662 §2.1).
const CONFIDENTIAL_AUTH_METHODS: [&str; 4] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
];
const ASSERTION_ALGS: [&str; 4] = ["HS256", "RS256", "PS256", "ES256"];

/// What this node can do with TLS client certificates (RFC 8705), for the metadata.
#[derive(Debug, Clone, Default)]
pub struct MtlsOffer {
    /// Certificates reach the server (its own TLS listener, or a trusted proxy's header).
    pub certificates: bool,
    /// An authority is trusted for `tls_client_auth` chains.
    pub authority: bool,
    /// The base URL of the mutual-TLS host, when it is not the public URL.
    pub alias: Option<String>,
}

/// The metadata document (the same at both well-known paths).
pub fn metadata(rt: &ServerRuntime, mtls: &MtlsOffer) -> Value {
    let mut auth_methods: Vec<&str> = AUTH_METHODS.to_vec();
    let mut confidential_methods: Vec<&str> = CONFIDENTIAL_AUTH_METHODS.to_vec();
    if mtls.certificates {
        let mut tls = Vec::new();
        if mtls.authority {
            tls.push(crate::TLS_CLIENT_AUTH);
        }
        tls.push(crate::SELF_SIGNED_TLS_CLIENT_AUTH);
        auth_methods.extend(&tls);
        confidential_methods.extend(&tls);
    }
    let mut scopes: Vec<&str> = rt.scopes.keys().map(String::as_str).collect();
    scopes.sort_unstable();
    let settings = &rt.server.settings;
    let has = |g: &str| settings.grant_types.iter().any(|x| x == g);
    let grants: Vec<&str> = settings
        .grant_types
        .iter()
        .map(String::as_str)
        .filter(|g| GRANT_TYPES_SERVED.contains(g))
        .collect();
    let mut response_types: Vec<&str> = Vec::new();
    if has("authorization_code") {
        response_types.push("code");
    }
    if has("implicit") {
        response_types.extend(["id_token", "token", "id_token token"]);
        if has("authorization_code") {
            response_types.extend(["code id_token", "code token", "code id_token token"]);
        }
    }
    let algs: Vec<&str> = rt.signer.iter().map(|s| s.alg.as_str()).collect();
    // RS256 first (OIDC Discovery §3 requires it), then the server's own algorithm.
    let mut id_algs: Vec<&str> = rt.id_signer.iter().map(|s| s.alg.as_str()).collect();
    for a in &algs {
        if !id_algs.contains(a) {
            id_algs.push(a);
        }
    }
    let mut claims: Vec<&str> = vec![
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "c_hash",
    ];
    for (_, names) in STANDARD_CLAIMS {
        claims.extend(names.iter().copied());
    }
    claims.extend(rt.claims.iter().map(|c| c.name.as_str()));
    claims.sort_unstable();
    claims.dedup();
    let mut doc = json!({
        "issuer": rt.issuer,
        "authorization_endpoint": rt.endpoint("/oauth2/authorize"),
        "token_endpoint": rt.endpoint("/oauth2/token"),
        "userinfo_endpoint": rt.endpoint("/userinfo"),
        "end_session_endpoint": rt.endpoint("/logout"),
        "jwks_uri": rt.endpoint("/.well-known/jwks.json"),
        "introspection_endpoint": rt.endpoint("/oauth2/introspect"),
        "revocation_endpoint": rt.endpoint("/oauth2/revoke"),
        "pushed_authorization_request_endpoint": rt.endpoint("/oauth2/par"),
        "require_pushed_authorization_requests": rt.server.settings.require_pushed_authorization_requests
            || crate::fapi::Profile::of(&rt.server.settings) == Some(crate::fapi::Profile::Fapi2),
        "scopes_supported": scopes,
        "grant_types_supported": grants,
        "response_types_supported": response_types,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": id_algs,
        "claims_supported": claims,
        "claims_parameter_supported": false,
        "request_parameter_supported": true,
        "request_object_signing_alg_values_supported": crate::request_object::REQUEST_OBJECT_ALGS,
        "request_uri_parameter_supported": false,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": confidential_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "access_token_signing_alg_values_supported": algs,
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": crate::dpop::DPOP_ALGS,
    });
    // RFC 8705 §3.3: where certificates reach the server.
    if mtls.certificates {
        doc["tls_client_certificate_bound_access_tokens"] = json!(true);
    }
    // RFC 8705 §5: where clients use mutual TLS when that is another host.
    if let Some(base) = &mtls.alias {
        let at = |path: &str| format!("{base}/{}/{}{path}", rt.tenant_id(), rt.id());
        let mut aliases = json!({
            "token_endpoint": at("/oauth2/token"),
            "revocation_endpoint": at("/oauth2/revoke"),
            "introspection_endpoint": at("/oauth2/introspect"),
            "pushed_authorization_request_endpoint": at("/oauth2/par"),
            "userinfo_endpoint": at("/userinfo"),
        });
        if has(crate::device::DEVICE_CODE) {
            aliases["device_authorization_endpoint"] = json!(at("/oauth2/device_authorization"));
        }
        doc["mtls_endpoint_aliases"] = aliases;
    }
    // RFC 8628 §4: only where the device flow is enabled.
    if has(crate::device::DEVICE_CODE) {
        doc["device_authorization_endpoint"] = json!(rt.endpoint("/oauth2/device_authorization"));
    }
    // RFC 7591 §3 / RFC 8414 §2: only where registration is served.
    if rt.server.settings.enable_dynamic_client_registration && !rt.server.system {
        doc["registration_endpoint"] = json!(rt.endpoint("/oauth2/register"));
    }
    doc
}
