//! Constraints of the request schemas (`required`, `pattern`, `minLength`/`maxLength`, `enum`,
//! `readOnly`), added to the generated API description from the same constants the server checks
//! with, so a schema-valid request is one the server takes and a request the server refuses
//! breaks the schema. What no JSON Schema can say (an object that must exist, a rule between two
//! members, a lifetime of at most ten years) is in the member's description.

use castellan_domain::{ClaimType, ClientId, KeyType, ScopeId, ServerId, SigningAlg};
use serde_json::{Map, Value, json};

/// Letters, digits, `.`, `_`, `-`, but not `.` or `..` (ids are path segments).
fn id_pattern(extra: &str) -> String {
    let c = format!("A-Za-z0-9_{extra}-");
    let d = format!("A-Za-z0-9_.{extra}-");
    format!(r"^(?:[{c}][{d}]*|\.[{c}][{d}]*|\.\.[{d}]+)$")
}

fn id(max: usize) -> Value {
    json!({"pattern": id_pattern(""), "minLength": 1, "maxLength": max})
}

fn client_id() -> Value {
    json!({"pattern": id_pattern("@:"), "minLength": 1, "maxLength": ClientId::MAX_LEN})
}

/// An id chosen by the caller of the newer families (policies, consents, services, gateways):
/// 1 to 128 letters, digits, `.`, `_`, `-`.
fn plain_id() -> Value {
    json!({"pattern": "^[A-Za-z0-9._-]+$", "minLength": 1, "maxLength": 128})
}

/// Free text that must not be blank.
fn name(max: usize) -> Value {
    if max == usize::MAX {
        return json!({"pattern": r"\S"});
    }
    json!({"pattern": r"\S", "maxLength": max})
}

fn text(max: usize) -> Value {
    json!({"maxLength": max})
}

fn one_of(values: impl IntoIterator<Item = impl Into<String>>) -> Value {
    let v: Vec<String> = values.into_iter().map(Into::into).collect();
    json!({"enum": v})
}

/// A Go duration as Cloudentity ACP writes lifetimes (`15m`, `1h30m`, `720h0m0s`), longer than
/// zero (one of its numbers is not zero).
fn duration() -> Value {
    let unit = "(?:ns|us|µs|ms|s|m|h)";
    let any = format!(r"[0-9]+(?:\.[0-9]+)?{unit}");
    let non_zero = format!(r"(?:[0-9]*[1-9][0-9]*(?:\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*){unit}");
    json!({"pattern": format!("^(?:{any})*{non_zero}(?:{any})*$")})
}

/// Printable ASCII without space, `"` or `\` (RFC 6749 §3.3 scope-token).
fn scope_name() -> Value {
    json!({"pattern": r#"^[\x21\x23-\x5B\x5D-\x7E]+$"#, "minLength": 1, "maxLength": 128})
}

/// No white space and no control characters.
const NO_SPACE: &str = r"^[^\s\x00-\x1F\x7F-\x9F]+$";

/// 1 to `max` characters, no control characters.
fn plain_text(max: usize) -> Value {
    json!({"pattern": r"^[^\x00-\x1F\x7F-\x9F]+$", "maxLength": max})
}

/// A space-separated list of Castellan's permission codes (`client.read`, `*`); with `foreign`,
/// other APIs' names too: printable ASCII with a `:` (`read:orders`) or without a `.` (`orders`).
fn permission_list(foreign: bool) -> Value {
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
fn subject() -> Value {
    json!({"pattern": r"^[^\x00-\x1F\x7F-\x9F]+$", "maxLength": 255})
}

/// Any of `words`, in any letter case.
fn any_case(words: &[&str]) -> String {
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
enum At {
    Member,
    Items,
}

/// (schema, member, where, constraint).
fn members() -> Vec<(&'static str, &'static str, At, Value)> {
    use At::{Items, Member};
    let signing_algs = one_of(
        ["none"]
            .into_iter()
            .map(str::to_owned)
            .chain(SigningAlg::ALL.iter().map(|a| a.as_str().to_owned())),
    );
    vec![
        ("ClientRequest", "client_id", Member, client_id()),
        ("ClientRequest", "client_name", Member, name(256)),
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
        ("ServerRequest", "name", Member, name(256)),
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
        ("PolicyRequest", "policy_name", Member, name(256)),
        ("CreateGatewayRequest", "id", Member, plain_id()),
        ("CreateGatewayRequest", "name", Member, name(256)),
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
        ("Consent", "name", Member, name(255)),
        ("Consent", "valid_from", Member, json!({"format": "date-time"})),
        ("ConsentActionWithConsents", "id", Member, plain_id()),
        ("ConsentActionWithConsents", "name", Member, name(255)),
        ("PolicyRequest", "language", Member, one_of(["cloudentity", "rego"])),
        ("PolicyRequest", "validators", Member, json!({"maxItems": 64})),
        ("Service", "id", Member, plain_id()),
        ("Service", "name", Member, name(255)),
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
        ("TenantRequest", "name", Member, name(256)),
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
    ]
}

/// Members a request does not set: the server takes them from the path (a different value is a
/// 422) or ignores them. They are left out of the request schemas.
const READ_ONLY: [(&str, &str); 21] = [
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
const REQUIRED_ON_CREATE: [(&str, &[&str]); 9] = [
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
const READ_ONLY_ON_UPDATE: [(&str, &[&str]); 9] = [
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
fn update_name(schema: &str) -> String {
    format!("{}Update", schema.trim_end_matches("Request"))
}

/// Members every request of the schema needs, create or update.
const ALWAYS_REQUIRED: [(&str, &[&str]); 7] = [
    ("Api", &["service_id", "method", "path"]),
    ("RoleRequest", &["productName", "audience"]),
    ("ConnectionMapRequest", &["groupName"]),
    ("ConsentService", &["name"]),
    ("PolicyTestRequest", &["subject"]),
    ("ConsentGrantRequest", &["subject"]),
    ("ImportFromUrl", &["url"]),
];

/// Rules between members of a create (`POST`) body, as JSON Schema alternatives.
fn create_rules() -> Vec<(&'static str, Value)> {
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
fn rules() -> Vec<(&'static str, Value)> {
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
const CLOSED: [&str; 2] = ["SpecificationFile", "ImportFromUrl"];

/// Query parameters: (path, method, name, required, schema).
fn parameters() -> Vec<(&'static str, &'static str, &'static str, bool, Value)> {
    // RFC 3339, or 1 to 19 digits of Unix time (seconds to nanoseconds, told apart by magnitude).
    let instant = json!({"anyOf": [
        {"type": "string", "maxLength": 0, "description": "Empty: no bound"},
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": "^[0-9]{1,19}$"},
    ]});
    vec![
        ("/api/admin/{tid}/events", "get", "from", false, instant.clone()),
        ("/api/admin/{tid}/events", "get", "to", false, instant),
        (
            "/v1/roles/{id}/connection-maps",
            "delete",
            "groupName",
            true,
            plain_text(256),
        ),
    ]
}

/// Schemas that are both a request body and an answer: the request takes a copy of its own, so
/// what only answers carry (`tenant_id`, counters) can be left out of it.
const DUAL_USE: [(&str, &str); 4] = [
    ("Service", "ServiceRequest"),
    ("Consent", "ConsentRequest"),
    ("ConsentActionWithConsents", "ConsentActionRequest"),
    ("Api", "ApiRequest"),
];

/// The schema a request body takes where the document names `schema`.
fn request_name(schema: &str) -> &str {
    DUAL_USE.iter().find(|(s, _)| *s == schema).map_or(schema, |(_, r)| r)
}

/// Applies every constraint above to `doc` (an OpenAPI 3.1 document as JSON).
pub(crate) fn apply(doc: &mut Value) {
    let dual: Vec<(&str, String)> = DUAL_USE.iter().map(|(s, r)| (*s, (*r).to_owned())).collect();
    rewrite_body_refs(doc, &["post", "put"], &dual);
    let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else {
        return;
    };
    for (schema, copy) in DUAL_USE {
        if let Some(s) = schemas.get(schema).cloned() {
            schemas.insert(copy.to_owned(), s);
        }
    }
    schemas.insert("Validator".into(), castellan_control::policy_validator_schema());
    for (schema, member, at, c) in members() {
        if let Some(p) = property(schemas, request_name(schema), member) {
            let target = match at {
                At::Member => p,
                At::Items => match p.get_mut("items") {
                    Some(i) => i,
                    None => continue,
                },
            };
            merge(target, c);
        }
    }
    // A consent as a request lists it in an action: its id and whether the action requires it.
    if let Some(p) = property(schemas, "ConsentActionRequest", "consents") {
        p["items"] = json!({"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"}, "required": {"type": ["boolean", "null"]}}});
    }
    // The tenant publishes public keys only: no `d`, `p` or `q`.
    if let Some(mut jwk) = schemas.get("Jwk").cloned() {
        for private in ["d", "p", "q"] {
            jwk["properties"][private] = json!({"type": "null"});
        }
        if let Some(p) = property(schemas, "TenantRequest", "jwks") {
            *p = json!({"oneOf": [{"type": "null"}, {"type": "object", "required": ["keys"],
                "properties": {"keys": {"type": "array", "items": jwk}}}]});
        }
    }
    for schema in CLOSED {
        if let Some(s) = schemas.get_mut(schema) {
            merge(s, json!({"additionalProperties": false}));
        }
    }
    for (schema, required) in ALWAYS_REQUIRED {
        set_required(schemas, request_name(schema), required);
    }
    // Each schema both operations take gets a copy for `PUT`, made before `required` is set.
    let mut updates: Vec<(&str, String)> = Vec::new();
    let copied = REQUIRED_ON_CREATE
        .iter()
        .map(|(s, _)| *s)
        .chain(READ_ONLY_ON_UPDATE.iter().map(|(s, _)| *s));
    for schema in copied {
        let from = request_name(schema);
        if !updates.iter().any(|(s, _)| *s == from)
            && let Some(copy) = schemas.get(from).cloned()
        {
            let name = update_name(from);
            schemas.insert(name.clone(), copy);
            updates.push((from, name));
        }
    }
    for (schema, required) in REQUIRED_ON_CREATE {
        set_required(schemas, request_name(schema), required);
    }
    for (schema, rule) in create_rules().into_iter().chain(rules()) {
        if let Some(s) = schemas.get_mut(request_name(schema)) {
            merge(s, rule);
        }
    }
    // What a request may not set is not part of it (the schema's description says what the
    // server does with it: ignored, or refused unless it is the path's).
    let mut remove = |schema: &str, member: &str| {
        let Some(s) = schemas.get_mut(schema) else { return };
        for at in ["properties", "example"] {
            if let Some(m) = s.get_mut(at).and_then(Value::as_object_mut) {
                m.remove(member);
            }
        }
    };
    for (schema, member) in READ_ONLY {
        remove(request_name(schema), member);
        remove(&update_name(request_name(schema)), member);
    }
    for (schema, members) in READ_ONLY_ON_UPDATE {
        for member in members {
            remove(&update_name(request_name(schema)), member);
        }
    }
    for (path, method, name, required, mut schema) in parameters() {
        let pointer = format!("/paths/{}/{method}/parameters", path.replace('/', "~1"));
        let Some(list) = doc.pointer_mut(&pointer).and_then(Value::as_array_mut) else {
            continue;
        };
        if let Some(p) = list.iter_mut().find(|p| p["name"] == name && p["in"] == "query") {
            if schema.get("anyOf").is_none() {
                schema["type"] = json!("string");
            }
            p["schema"] = schema;
            p["required"] = json!(required);
        }
    }
    rewrite_body_refs(doc, &["put"], &updates);
}

/// Points the JSON request bodies of `methods` that name a schema of `map` at its counterpart.
fn rewrite_body_refs<S: AsRef<str>>(doc: &mut Value, methods: &[&str], map: &[(&str, S)]) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        for method in methods {
            let pointer = format!("/{method}/requestBody/content/application~1json/schema/$ref");
            let Some(r) = item.pointer_mut(&pointer) else {
                continue;
            };
            let name = r.as_str().and_then(|s| s.strip_prefix("#/components/schemas/"));
            if let Some((_, to)) = map.iter().find(|(from, _)| Some(*from) == name) {
                *r = Value::from(format!("#/components/schemas/{}", to.as_ref()));
            }
        }
    }
}

fn property<'a>(schemas: &'a mut Map<String, Value>, schema: &str, member: &str) -> Option<&'a mut Value> {
    schemas.get_mut(schema)?.get_mut("properties")?.get_mut(member)
}

fn merge(target: &mut Value, c: Value) {
    if let (Some(t), Value::Object(c)) = (target.as_object_mut(), c) {
        t.extend(c);
    }
}

/// Sets `required` and takes `null` out of those members' types (`required` alone lets a member
/// be `null`, which the server reads as absent).
fn set_required(schemas: &mut Map<String, Value>, schema: &str, required: &[&str]) {
    let Some(s) = schemas.get_mut(schema).and_then(Value::as_object_mut) else {
        return;
    };
    s.insert("required".into(), json!(required));
    for member in required {
        let Some(p) = s.get_mut("properties").and_then(|p| p.get_mut(*member)) else {
            continue;
        };
        if let Some(types) = p.get_mut("type").and_then(Value::as_array_mut) {
            types.retain(|t| t != "null");
            if let [only] = types.as_slice() {
                let only = only.clone();
                p["type"] = only;
            }
        } else if let Some(alts) = p.get_mut("oneOf").and_then(Value::as_array_mut) {
            alts.retain(|a| a["type"] != "null");
            if let [only] = alts.as_slice() {
                let only = only.clone();
                *p = only;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every constraint names a member the generated schema has: a renamed field cannot leave a
    /// constraint behind unnoticed.
    #[test]
    fn every_constraint_names_a_member() {
        let doc = crate::api_router().1;
        let doc = serde_json::to_value(doc).unwrap_or_default();
        let schemas = &doc["components"]["schemas"];
        let has = |schema: &str, member: &str| !schemas[schema]["properties"][member].is_null();
        for (schema, member, _, _) in members() {
            assert!(has(schema, member), "{schema}.{member}");
        }
        for (schema, member) in READ_ONLY {
            assert!(has(schema, member), "{schema}.{member}");
        }
        let all = REQUIRED_ON_CREATE
            .iter()
            .chain(ALWAYS_REQUIRED.iter())
            .chain(READ_ONLY_ON_UPDATE.iter());
        for (schema, required) in all {
            for member in *required {
                assert!(has(schema, member), "{schema}.{member}");
            }
        }
    }

    /// A request schema leaves out what the request does not set; the answer keeps it.
    #[test]
    fn requests_leave_out_what_they_do_not_set() {
        let doc = crate::openapi();
        let body = |method: &str, path: &str| {
            let r = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("#/components/schemas/")
                .to_owned();
            doc["components"]["schemas"][&r].clone()
        };
        let create = body("post", "/api/admin/{tid}/services");
        assert!(create["properties"]["tenant_id"].is_null());
        assert!(!create["properties"]["id"].is_null());
        assert_eq!(create["required"], json!(["name"]));
        let update = body("put", "/api/admin/{tid}/services/{sid}");
        assert!(update["properties"]["id"].is_null());
        assert!(update["required"].is_null());
        assert!(!doc["components"]["schemas"]["Service"]["properties"]["tenant_id"].is_null());
        let server = body("put", "/api/admin/{tid}/servers/{aid}");
        assert!(server["properties"]["id"].is_null() && !server["properties"]["name"].is_null());
        assert!(!body("post", "/api/admin/{tid}/servers")["properties"]["id"].is_null());
        // A required member is not nullable.
        assert_eq!(
            body("post", "/api/admin/{tid}/scopes")["properties"]["name"]["type"],
            json!("string")
        );
    }

    /// The permission list patterns take what the server's parsers take.
    #[test]
    fn the_permission_patterns_are_the_servers_rules() {
        use castellan_domain::Permissions;
        let strict = regex::Regex::new(permission_list(false)["pattern"].as_str().unwrap()).unwrap();
        let mapping = regex::Regex::new(permission_list(true)["pattern"].as_str().unwrap()).unwrap();
        for list in [
            "",
            " ",
            "*",
            "client.read",
            " client.read  scope.write ",
            "sts-client.write workspace-client.read",
            "client.readscope.read",
            "client.reed",
            "clients.read",
            "scope.*",
            "read:orders",
            "urn:acme:orders.read",
            "orders",
            "orders.list",
            "client.read orders read:orders",
            "bad\u{7f}name",
            "tab\tsep",
            "é",
            "x*",
        ] {
            assert_eq!(strict.is_match(list), Permissions::parse(list).is_ok(), "{list:?}");
            assert_eq!(
                mapping.is_match(list),
                Permissions::parse_mapping(list).is_ok(),
                "{list:?}"
            );
        }
    }

    /// The duration pattern takes the lifetimes the server takes (longer than zero).
    #[test]
    fn the_duration_pattern_is_the_servers_rule() {
        let re = regex::Regex::new(duration()["pattern"].as_str().unwrap()).unwrap();
        for ok in ["15m", "1h30m", "720h0m0s", "0h1m", "1.5h", "0.5s", "10ns", "1µs"] {
            assert!(re.is_match(ok), "{ok}");
            assert!(
                castellan_domain::GoDuration::parse(ok).is_ok_and(|d| d.as_nanos() > 0),
                "{ok}"
            );
        }
        for bad in ["0", "0s", "0h0m0s", "", "h", "1", "1d", "-1h", "0.0s"] {
            assert!(!re.is_match(bad), "{bad}");
            assert!(
                !castellan_domain::GoDuration::parse(bad).is_ok_and(|d| d.as_nanos() > 0),
                "{bad}"
            );
        }
    }

    /// The id pattern and the server's id rule take the same strings.
    #[test]
    fn the_id_patterns_are_the_servers_rules() {
        let alphabet = ["a", "Z", "0", ".", "_", "-", "@", ":", " ", "/", "é", "%"];
        let mut samples = vec![String::new()];
        for _ in 0..4 {
            let next: Vec<String> = samples
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            samples.extend(next);
        }
        let plain = regex::Regex::new(&id_pattern("")).unwrap();
        let client = regex::Regex::new(&id_pattern("@:")).unwrap();
        for s in &samples {
            assert_eq!(plain.is_match(s), ServerId::parse(s.as_str()).is_ok(), "{s:?}");
            assert_eq!(client.is_match(s), ClientId::parse(s.as_str()).is_ok(), "{s:?}");
        }
    }
}
