//! The OpenAPI document is generated from the handlers; these tests pin it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

fn spec() -> serde_json::Value {
    castellan_web::openapi()
}

#[test]
fn openapi_document_snapshot() {
    insta::assert_json_snapshot!("openapi", spec());
}

/// `openapi/castellan.json` is what users and tools read; it must match the code.
/// Regenerate with `CASTELLAN_UPDATE_OPENAPI=1 cargo test -p castellan-web --test openapi`.
#[test]
fn checked_in_openapi_document_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/castellan.json");
    let generated = serde_json::to_string_pretty(&spec()).unwrap() + "\n";
    if std::env::var_os("CASTELLAN_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "openapi/castellan.json is stale; run CASTELLAN_UPDATE_OPENAPI=1 cargo test -p castellan-web --test openapi"
    );
}

#[test]
fn every_operation_documents_its_errors_in_its_family_shape() {
    let spec = spec();
    let mut count = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        // The management API; the gateway authorizer is a protocol endpoint gateways call.
        if !path.starts_with("/api/") || path.starts_with("/api/gateway/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let responses = op["responses"].as_object().unwrap();
            for status in ["401", "403", "404"] {
                let r = responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{method} {path} lacks {status}"));
                let schema = &r["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/Error", "{method} {path} {status}");
            }
            assert!(op["operationId"].is_string(), "{method} {path} has an operationId");
            // The developer API takes tokens of the developer server, every other family admin
            // credentials.
            let security = if path.starts_with("/api/developer/") {
                serde_json::json!([{"developer": []}])
            } else {
                serde_json::json!([{"basic": []}, {"bearer": []}])
            };
            assert_eq!(op["security"], security, "{method} {path} needs credentials");
            // A body may break a rule; an operation without one (rotating keys) has none to break.
            if (method == "post" || method == "put") && op.get("requestBody").is_some() {
                assert!(responses.contains_key("400"), "{method} {path} documents 400");
                assert!(responses.contains_key("422"), "{method} {path} documents 422");
            }
            // Every operation reads a query string; a malformed one is a 400.
            assert!(responses.contains_key("400"), "{method} {path} documents 400");
        }
    }
    assert_eq!(
        count, 82,
        "tenant (2), servers (5), signing keys (3), authentications (1), clients (5), scopes (5), claims (4), policies (6), consents (5), actions (5), events (3), audit (2), privacy (3), services (5), apis (7), imports (3), gateways (6), developer (7), system tenants (2), configuration (2), dashboards (1)"
    );
    let error = &spec["components"]["schemas"]["Error"];
    assert_eq!(
        error["required"],
        serde_json::json!(["error", "status_code", "details"])
    );
}

#[test]
fn the_protocol_endpoints_are_described_too() {
    let spec = spec();
    for (method, path, ok) in [
        ("post", "/{tid}/{aid}/oauth2/token", "200"),
        ("post", "/{tid}/{aid}/oauth2/introspect", "200"),
        ("post", "/{tid}/{aid}/oauth2/revoke", "200"),
        ("get", "/{tid}/{aid}/.well-known/openid-configuration", "200"),
        ("get", "/.well-known/oauth-authorization-server/{tid}/{aid}", "200"),
        ("get", "/{tid}/{aid}/.well-known/jwks.json", "200"),
        ("get", "/{tid}/{aid}/userinfo", "200"),
        ("get", "/{tid}/{aid}/oauth2/authorize", "302"),
        ("get", "/{tid}/{aid}/logout", "302"),
        ("get", "/api/gateway/{tid}/{gw}/authorize", "200"),
    ] {
        let op = &spec["paths"][path][method];
        assert_eq!(op["tags"], serde_json::json!(["protocol"]), "{method} {path}");
        assert!(op["responses"][ok].is_object(), "{method} {path}");
    }
    let token = &spec["paths"]["/{tid}/{aid}/oauth2/token"]["post"];
    assert!(token["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object());
    assert_eq!(
        token["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/OAuthError"
    );
}

/// Every `$ref` names something the document defines: a generator, a validator or Castellan's
/// own import reads the document without a dangling reference.
#[test]
fn every_reference_resolves() {
    fn walk(root: &serde_json::Value, v: &serde_json::Value, at: &str, seen: &mut usize) {
        match v {
            serde_json::Value::Object(o) => {
                if let Some(serde_json::Value::String(r)) = o.get("$ref") {
                    let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{at}: {r} is not local"));
                    assert!(root.pointer(pointer).is_some(), "{at}: {r} points at nothing");
                    *seen += 1;
                }
                for (k, child) in o {
                    walk(root, child, &format!("{at}/{k}"), seen);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    walk(root, child, &format!("{at}/{i}"), seen);
                }
            }
            _ => {}
        }
    }
    let spec = spec();
    let mut seen = 0;
    walk(&spec, &spec, "#", &mut seen);
    assert!(seen > 100, "{seen} references");
    assert!(spec["components"]["schemas"]["Problem"]["properties"]["status"].is_object());
    // Two types of one name would share one schema: a consent's services are {name, purposes}.
    for member in ["internal_services", "third_party_services"] {
        let r = spec["components"]["schemas"]["Consent"]["properties"][member]["items"]["$ref"]
            .as_str()
            .unwrap();
        let item = spec.pointer(r.trim_start_matches('#')).unwrap();
        assert!(item["properties"]["purposes"].is_object(), "{member}: {item}");
    }
}

/// Each create operation links to the get, update and delete of what it created, the id taken
/// from its answer (OpenAPI links, for code generators and stateful fuzzers).
#[test]
fn creates_link_to_what_they_created() {
    let spec = spec();
    let mut linked = std::collections::BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(post) = item.get("post") else { continue };
        for (status, r) in post["responses"].as_object().unwrap() {
            for (name, link) in r["links"].as_object().into_iter().flatten() {
                let target = link["operationId"].as_str().unwrap();
                let params = link["parameters"].as_object().unwrap();
                assert!(params.keys().all(|k| !k.contains('/')), "{path} {name}: {params:?}");
                assert!(
                    params
                        .values()
                        .any(|v| v.as_str().unwrap().starts_with("$response.body#/")),
                    "{path} {status} {name}"
                );
                // The target exists.
                let exists = spec["paths"]
                    .as_object()
                    .unwrap()
                    .values()
                    .any(|i| i.as_object().unwrap().values().any(|o| o["operationId"] == target));
                assert!(exists, "{path} links to {target}");
                linked.insert(post["operationId"].as_str().unwrap().to_owned(), target.to_owned());
            }
        }
    }
    for create in [
        "createAuthorizationServer",
        "createClient",
        "createScope",
        "createPolicy",
        "createService",
        "createGateway",
        "createStsClient",
    ] {
        assert!(linked.contains_key(create), "{create} links: {linked:?}");
    }
}
