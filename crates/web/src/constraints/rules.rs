//! The constraints themselves: how each rule of the server reads as JSON Schema, and which
//! members of which schemas they apply to.

use castellan_domain::{ClaimType, ClientId, KeyType, ScopeId, ServerId, SigningAlg};
use serde_json::{Value, json};

/// Letters, digits, `.`, `_`, `-`, but not `.` or `..` (ids are path segments).
pub(super) fn id_pattern(extra: &str) -> String {
    let c = format!("A-Za-z0-9_{extra}-");
    let d = format!("A-Za-z0-9_.{extra}-");
    format!(r"^(?:[{c}][{d}]*|\.[{c}][{d}]*|\.\.[{d}]+)$")
}

pub(super) fn id(max: usize) -> Value {
    json!({"pattern": id_pattern(""), "minLength": 1, "maxLength": max})
}

pub(super) fn client_id() -> Value {
    json!({"pattern": id_pattern("@:"), "minLength": 1, "maxLength": ClientId::MAX_LEN})
}

/// An id chosen by the caller of the newer families (policies, consents, services, gateways):
/// 1 to 128 letters, digits, `.`, `_`, `-`.
pub(super) fn plain_id() -> Value {
    json!({"pattern": "^[A-Za-z0-9._-]+$", "minLength": 1, "maxLength": 128})
}

/// Free text that must not be blank.
pub(super) fn name(max: usize) -> Value {
    if max == usize::MAX {
        return json!({"pattern": r"\S"});
    }
    json!({"pattern": r"\S", "maxLength": max})
}

pub(super) fn text(max: usize) -> Value {
    json!({"maxLength": max})
}

pub(super) fn one_of(values: impl IntoIterator<Item = impl Into<String>>) -> Value {
    let v: Vec<String> = values.into_iter().map(Into::into).collect();
    json!({"enum": v})
}

/// A Go duration as Cloudentity ACP writes lifetimes (`15m`, `1h30m`, `720h0m0s`), longer than
/// zero (one of its numbers is not zero).
pub(super) fn duration() -> Value {
    let unit = "(?:ns|us|µs|ms|s|m|h)";
    let any = format!(r"[0-9]+(?:\.[0-9]+)?{unit}");
    let non_zero = format!(r"(?:[0-9]*[1-9][0-9]*(?:\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*){unit}");
    json!({"pattern": format!("^(?:{any})*{non_zero}(?:{any})*$")})
}

/// Printable ASCII without space, `"` or `\` (RFC 6749 §3.3 scope-token).
pub(super) fn scope_name() -> Value {
    json!({"pattern": r#"^[\x21\x23-\x5B\x5D-\x7E]+$"#, "minLength": 1, "maxLength": 128})
}

/// No white space and no control characters.
pub(super) const NO_SPACE: &str = r"^[^\s\x00-\x1F\x7F-\x9F]+$";

/// 1 to `max` characters, no control characters.
pub(super) fn plain_text(max: usize) -> Value {
    json!({"pattern": r"^[^\x00-\x1F\x7F-\x9F]+$", "maxLength": max})
}

/// A space-separated list of Castellan's permission codes (`client.read`, `*`); with `foreign`,
/// other APIs' names too: printable ASCII with a `:` (`read:orders`) or without a `.` (`orders`).
pub(super) fn permission_list(foreign: bool) -> Value {
    let resources: Vec<&str> = castellan_domain::Resource::ALL.iter().map(|r| r.as_str()).collect();
    let mut token = format!(r"\*|(?:{})\.(?:read|write)", resources.join("|"));
    if foreign {
        token.push_str(r"|[\x21-\x7E]*:[\x21-\x7E]*|[\x21-\x2D\x2F-\x7E]+");
    }
    json!({
        "pattern": format!("^ *(?:(?:{token})(?: +(?:{token}))*)? *$"),
        "maxLength": castellan_domain::MAX_PERMISSION_LIST,
    })
}

/// A privacy subject: 1 to 255 characters, none of them a control character.
pub(super) fn subject() -> Value {
    json!({"pattern": r"^[^\x00-\x1F\x7F-\x9F]+$", "maxLength": 255})
}

/// Any of `words`, in any letter case.
pub(super) fn any_case(words: &[&str]) -> String {
    let alts: Vec<String> = words
        .iter()
        .map(|w| {
            w.chars()
                .map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()))
                .collect()
        })
        .collect();
    format!("^(?:{})$", alts.join("|"))
}

/// Where a constraint goes: a member of a schema, or the items of a list member.
#[derive(Clone, Copy)]
pub(super) enum At {
    Member,
    Items,
}

/// (schema, member, where, constraint).
pub(super) fn members() -> Vec<(&'static str, &'static str, At, Value)> {
    use At::{Items, Member};
    let signing_algs = one_of(
        ["none"]
            .into_iter()
            .map(str::to_owned)
            .chain(SigningAlg::ALL.iter().map(|a| a.as_str().to_owned())),
    );
    let mut out = vec![
        ("ClientRequest", "client_id", Member, client_id()),
        (
            "ClientRequest",
            "client_name",
            Member,
            name(castellan_control::MAX_NAME_LEN),
        ),
        (
            "ClientRequest",
            "authorization_server_id",
            Member,
            id(ServerId::MAX_LEN),
        ),
        (
            "ClientRequest",
            "grant_types",
            Items,
            one_of(castellan_domain::SUPPORTED_GRANT_TYPES),
        ),
        (
            "ClientRequest",
            "response_types",
            Items,
            one_of(castellan_control::RESPONSE_TYPES),
        ),
        (
            "ClientRequest",
            "token_endpoint_auth_method",
            Member,
            one_of(castellan_control::AUTH_METHODS),
        ),
        ("ClientRequest", "request_object_signing_alg", Member, signing_algs),
        (
            "ClientRequest",
            "userinfo_signed_response_alg",
            Member,
            one_of(["none"]),
        ),
        ("ClientRequest", "client_secret", Member, json!({"maxLength": 512})),
        ("ScopeRequest", "id", Member, id(ScopeId::MAX_LEN)),
        ("ScopeRequest", "name", Member, scope_name()),
        ("ScopeRequest", "authorization_server_id", Member, id(ServerId::MAX_LEN)),
        ("ScopeRequest", "display_name", Member, text(256)),
        ("ScopeRequest", "description", Member, text(1024)),
        ("ClaimRequest", "authorization_server_id", Member, id(ServerId::MAX_LEN)),
        (
            "ClaimRequest",
            "type",
            Member,
            one_of(ClaimType::ALL.map(ClaimType::as_str)),
        ),
        ("ClaimRequest", "scopes", Items, scope_name()),
        ("ServerRequest", "id", Member, id(ServerId::MAX_LEN)),
        ("ServerRequest", "name", Member, name(castellan_control::MAX_NAME_LEN)),
        (
            "ServerRequest",
            "key_type",
            Member,
            one_of(KeyType::ALL.map(KeyType::as_str)),
        ),
        (
            "ServerRequest",
            "grant_types",
            Items,
            one_of(castellan_domain::SUPPORTED_GRANT_TYPES),
        ),
        ("ServerRequest", "access_token_ttl", Member, duration()),
        ("ServerRequest", "authorization_code_ttl", Member, duration()),
        ("ServerRequest", "id_token_ttl", Member, duration()),
        ("ServerRequest", "refresh_token_ttl", Member, duration()),
        ("ServerRequest", "cookie_max_age", Member, duration()),
        ("PolicyRequest", "id", Member, plain_id()),
        (
            "PolicyRequest",
            "policy_name",
            Member,
            name(castellan_control::MAX_NAME_LEN),
        ),
        ("CreateGatewayRequest", "id", Member, plain_id()),
        (
            "CreateGatewayRequest",
            "name",
            Member,
            name(castellan_control::MAX_NAME_LEN),
        ),
        ("CreateGatewayRequest", "server_id", Member, id(ServerId::MAX_LEN)),
        (
            "CreateGatewayRequest",
            "type",
            Member,
            one_of(castellan_control::GATEWAY_TYPES),
        ),
        (
            "Consent",
            "update_existing_grants",
            Member,
            one_of(castellan_control::CONSENT_STRATEGIES),
        ),
        ("Consent", "id", Member, plain_id()),
        ("Consent", "name", Member, name(castellan_control::MAX_NAME_LEN)),
        ("Consent", "valid_from", Member, json!({"format": "date-time"})),
        ("ConsentActionWithConsents", "id", Member, plain_id()),
        (
            "ConsentActionWithConsents",
            "name",
            Member,
            name(castellan_control::MAX_NAME_LEN),
        ),
        ("PolicyRequest", "language", Member, one_of(["cloudentity", "rego"])),
        ("PolicyRequest", "validators", Member, json!({"maxItems": 64})),
        ("Service", "id", Member, plain_id()),
        ("Service", "name", Member, name(castellan_control::MAX_NAME_LEN)),
        ("Service", "description", Member, text(4096)),
        ("Service", "authorization_server_id", Member, id(ServerId::MAX_LEN)),
        ("Api", "id", Member, plain_id()),
        (
            "Api",
            "method",
            Member,
            json!({"pattern": any_case(&castellan_control::API_METHODS)}),
        ),
        ("Api", "path", Member, json!({"pattern": "^/", "maxLength": 2048})),
        ("Api", "data_classifications", Member, json!({"maxItems": 64})),
        ("Api", "data_classifications", Items, name(128)),
        (
            "UpdateApiRequest",
            "data_classifications",
            Member,
            json!({"maxItems": 64}),
        ),
        ("UpdateApiRequest", "data_classifications", Items, name(128)),
        ("PolicyTestRequest", "subject", Member, subject()),
        ("ConsentGrantRequest", "subject", Member, subject()),
        ("TenantRequest", "name", Member, name(castellan_control::MAX_NAME_LEN)),
        (
            "RoleRequest",
            "productName",
            Member,
            plain_text(256 - "-developers".len()),
        ),
        ("RoleRequest", "audience", Member, plain_text(256)),
        ("RoleRequest", "description", Member, text(1024)),
        ("RoleUpdate", "audience", Member, plain_text(256)),
        ("RoleUpdate", "description", Member, text(1024)),
        ("RoleUpdate", "permissions", Member, permission_list(false)),
        ("StsClientRequest", "permissions", Member, permission_list(true)),
        ("ConnectionMapRequest", "groupName", Member, plain_text(256)),
        ("ConnectionMapRequest", "azoConnectionId", Member, plain_text(256)),
        ("ConnectionMapRequest", "name", Member, plain_text(256)),
        ("StsClientRequest", "clientId", Member, plain_text(256)),
        ("StsClientRequest", "description", Member, text(1024)),
        (
            "ClaimRequest",
            "name",
            Member,
            json!({"pattern": NO_SPACE, "maxLength": 128}),
        ),
        (
            "ClaimRequest",
            "mapping",
            Member,
            json!({"pattern": NO_SPACE, "maxLength": 256}),
        ),
        ("ConsentService", "name", Member, name(usize::MAX)),
        ("PiiCategory", "name", Member, name(usize::MAX)),
        ("ServerRequest", "grant_types", Member, json!({"minItems": 1})),
        ("Jwk", "kty", Member, one_of(["RSA", "EC", "OKP"])),
    ];
    // A developer sets the same client fields as an admin (not its id, server or secret).
    let developer: Vec<_> = out
        .iter()
        .filter(|(schema, member, _, _)| {
            *schema == "ClientRequest" && !["client_id", "authorization_server_id", "client_secret"].contains(member)
        })
        .map(|(_, member, at, c)| ("DeveloperClientFields", *member, *at, c.clone()))
        .collect();
    out.extend(developer);
    out.push((
        "DeveloperCreateClientRequest",
        "authorization_server_id",
        At::Member,
        id(ServerId::MAX_LEN),
    ));
    out.push((
        "DeveloperUpdateClientRequest",
        "client_secret",
        At::Member,
        json!({"maxLength": 0}),
    ));
    out.push((
        "SystemTenantRequest",
        "id",
        At::Member,
        id(castellan_domain::TenantId::MAX_LEN),
    ));
    out.push((
        "SystemTenantRequest",
        "name",
        At::Member,
        name(castellan_control::MAX_NAME_LEN),
    ));
    out.push((
        "SystemTenantRequest",
        "key_type",
        At::Member,
        one_of(["", "rsa", "ecdsa", "ps"]),
    ));
    out
}

/// Members a request does not set: the server takes them from the path (a different value is a
/// 422) or ignores them. They are left out of the request schemas.
pub(super) const READ_ONLY: [(&str, &str); 21] = [
    ("Api", "tenant_id"),
    ("Api", "server_id"),
    ("Api", "position"),
    ("Api", "can_have_policy"),
    ("TenantRequest", "id"),
    ("ClientRequest", "tenant_id"),
    ("ClientRequest", "system"),
    ("ClientRequest", "client_id_issued_at"),
    ("ClientRequest", "client_hashed_secret"),
    ("ScopeRequest", "tenant_id"),
    ("ClaimRequest", "tenant_id"),
    ("ServerRequest", "tenant_id"),
    ("ServerRequest", "issuer_url"),
    ("ServerRequest", "system"),
    ("PolicyRequest", "tenant_id"),
    ("Service", "tenant_id"),
    ("Service", "with_specification"),
    ("Consent", "tenant_id"),
    ("Consent", "version"),
    ("ConsentActionWithConsents", "tenant_id"),
    ("TenantRequest", "url"),
];

/// Members a create (`POST`) needs. An update (`PUT`) of the same schema keeps what is left out.
pub(super) const REQUIRED_ON_CREATE: [(&str, &[&str]); 9] = [
    ("ClientRequest", &["authorization_server_id"]),
    ("ScopeRequest", &["name", "authorization_server_id"]),
    ("ClaimRequest", &["authorization_server_id", "name", "mapping", "type"]),
    ("PolicyRequest", &["id", "policy_name"]),
    ("CreateGatewayRequest", &["name", "type", "server_id"]),
    ("Service", &["name"]),
    ("Consent", &["id", "name", "update_existing_grants"]),
    ("ConsentActionWithConsents", &["id", "name"]),
    ("StsClientRequest", &["clientId"]),
];

/// Members an update (`PUT`) takes from its path or keeps: absent, or what they are (422
/// otherwise). They are left out of the update schemas.
pub(super) const READ_ONLY_ON_UPDATE: [(&str, &[&str]); 9] = [
    ("ClientRequest", &["client_id", "authorization_server_id"]),
    ("ScopeRequest", &["id", "name", "authorization_server_id"]),
    ("ClaimRequest", &["id", "authorization_server_id"]),
    ("ServerRequest", &["id"]),
    ("PolicyRequest", &["id"]),
    ("Service", &["id", "authorization_server_id"]),
    ("Consent", &["id"]),
    ("ConsentActionWithConsents", &["id"]),
    ("StsClientRequest", &["clientId"]),
];

/// The name of the copy of a request schema that `PUT` operations take.
pub(super) fn update_name(schema: &str) -> String {
    format!("{}Update", schema.trim_end_matches("Request"))
}

/// Members every request of the schema needs, create or update.
pub(super) const ALWAYS_REQUIRED: [(&str, &[&str]); 8] = [
    ("SystemTenantRequest", &["id"]),
    ("Api", &["service_id", "method", "path"]),
    ("RoleRequest", &["productName", "audience"]),
    ("ConnectionMapRequest", &["groupName"]),
    ("ConsentService", &["name"]),
    ("PolicyTestRequest", &["subject"]),
    ("ConsentGrantRequest", &["subject"]),
    ("ImportFromUrl", &["url"]),
];

/// Rules between members of a create (`POST`) body, as JSON Schema alternatives.
pub(super) fn create_rules() -> Vec<(&'static str, Value)> {
    vec![
        // `cloudentity` (the default) decides by one or more validators, `rego` by a definition.
        (
            "PolicyRequest",
            json!({"anyOf": [
                {"required": ["validators"], "properties": {
                    "language": {"enum": ["cloudentity", null]},
                    "validators": {"type": "array", "minItems": 1},
                    "definition": {"type": ["string", "null"], "maxLength": 0}}},
                {"required": ["language", "definition"], "properties": {
                    "language": {"const": "rego"},
                    "validators": {"type": ["array", "null"], "maxItems": 0},
                    "definition": {"type": "string", "pattern": r"\S"}}},
            ]}),
        ),
    ]
}

/// Rules between members of bodies of every operation that takes the schema.
pub(super) fn rules() -> Vec<(&'static str, Value)> {
    vec![
        // A grant or withdrawal names an action or lists consents, not both.
        (
            "ConsentGrantRequest",
            json!({"oneOf": [
                {"required": ["action"], "properties": {"action": {"type": "string", "minLength": 1},
                    "consents": {"type": "null"}}},
                {"required": ["consents"], "properties": {"action": {"type": "null"},
                    "consents": {"type": "array", "minItems": 1, "maxItems": 100,
                        "items": {"$ref": "#/components/schemas/ConsentRef"}}}},
            ]}),
        ),
    ]
}

/// Multipart forms take only the parts they name.
pub(super) const CLOSED: [&str; 2] = ["SpecificationFile", "ImportFromUrl"];

/// Query parameters: (path, method, name, required, schema).
pub(super) fn parameters() -> Vec<(&'static str, &'static str, &'static str, bool, Value)> {
    // RFC 3339, or 1 to 19 digits of Unix time (seconds to nanoseconds, told apart by magnitude).
    let instant = json!({"anyOf": [
        {"type": "string", "maxLength": 0, "description": "Empty: no bound"},
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": "^[0-9]{1,19}$"},
    ]});
    vec![
        ("/api/admin/{tid}/events", "get", "from", false, instant.clone()),
        ("/api/admin/{tid}/events", "get", "to", false, instant.clone()),
        ("/api/admin/{tid}/audit", "get", "from", false, instant.clone()),
        ("/api/admin/{tid}/audit", "get", "to", false, instant),
        (
            "/api/admin/{tid}/audit",
            "get",
            "object",
            false,
            json!({"type": "string", "maxLength": 512}),
        ),
        (
            "/api/admin/{tid}/audit",
            "get",
            "actor",
            false,
            json!({"type": "string", "maxLength": 512}),
        ),
        (
            "/api/admin/{tid}/audit",
            "get",
            "limit",
            false,
            json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        ),
        (
            "/api/admin/{tid}/audit",
            "get",
            "before",
            false,
            json!({"type": "integer", "minimum": 1}),
        ),
        (
            "/v1/roles/{id}/connection-maps",
            "delete",
            "groupName",
            true,
            plain_text(256),
        ),
    ]
}
