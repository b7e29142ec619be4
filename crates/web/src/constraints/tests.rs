//! The constraints name real members, and their patterns take what the server's parsers take.

use castellan_domain::{ClientId, ServerId};
use serde_json::json;

use super::rules::*;

/// Every constraint names a member the generated schema has: a renamed field cannot leave a
/// constraint behind unnoticed.
#[test]
fn every_constraint_names_a_member() {
    let doc = crate::api_router().1;
    let doc = serde_json::to_value(doc).unwrap_or_default();
    let schemas = &doc["components"]["schemas"];
    let has = |schema: &str, member: &str| {
        !schemas[schema]["properties"][member].is_null()
            || schemas[schema]["allOf"]
                .as_array()
                .is_some_and(|parts| parts.iter().any(|p| !p["properties"][member].is_null()))
    };
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
