#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn at_most_max_operations_are_read() {
    limit_at_its_edge(|n| {
        let paths: serde_json::Map<String, Value> = (0..n)
            .map(|i| (format!("/p{i}"), serde_json::json!({"get": {}})))
            .collect();
        serde_json::json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths})
    });
}

/// A document of `MAX_OPERATIONS` operations is read whole; one more is refused.
fn limit_at_its_edge(doc: impl Fn(usize) -> Value) {
    let read_n = |n: usize| read(doc(n).to_string().as_bytes());
    assert_eq!(read_n(MAX_OPERATIONS).unwrap().operations.len(), MAX_OPERATIONS);
    match read_n(MAX_OPERATIONS + 1) {
        Err(SpecError::Invalid(m)) => assert!(m.contains("more than 10000 operations"), "{m}"),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn yaml_keys_of_any_scalar_type_are_read_as_text() {
    // JSON has only text keys; YAML's `true:`, `~:` and `1.5:` become "true", "~"/"null"…
    let doc = format!("{}x-flags: {{true: 1, ~: 2, 1.5: 3}}\n", V30);
    assert_eq!(read(doc.as_bytes()).unwrap(), read(V30.as_bytes()).unwrap());
}

#[test]
fn operations_behind_refs_count_too() {
    limit_at_its_edge(|n| {
        let paths: serde_json::Map<String, Value> = (0..n)
            .map(|i| (format!("/p{i}"), serde_json::json!({"$ref": "#/x-items/one"})))
            .collect();
        serde_json::json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths,
                "x-items": {"one": {"get": {}}}})
    });
}

#[test]
fn nested_keys_refs_in_lists_and_openid_connect_schemes() {
    // Keys are made text at every depth: in lists, in tagged values, in nested mappings.
    let doc = format!("{V30}x-deep: {{a: [{{~: 1}}], b: !tag {{~: 2}}, c: {{d: {{~: 3}}}}}}\n");
    assert!(read(doc.as_bytes()).is_ok(), "{:?}", read(doc.as_bytes()).err());
    // A $ref inside a list is checked like any other.
    let broken = format!("{V30}x-list: [{{$ref: '#/nothing'}}]\n");
    assert!(
        read(broken.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("points at nothing")
    );
    // OpenID Connect schemes give their scopes like OAuth 2.0 ones.
    let oidc = r#"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /me:
    get:
      security: [{oidc: [profile.read]}]
components:
  securitySchemes:
    oidc: {type: openIdConnect, openIdConnectUrl: 'https://idp.example/.well-known/openid-configuration'}
"#;
    assert_eq!(read(oidc.as_bytes()).unwrap().operations[0].scopes, ["profile.read"]);
    // `paths` may be left out in 3.1 (webhooks-only documents), not in 3.0.
    assert!(
        read(b"openapi: 3.1.0\ninfo: {title: t, version: '1'}\n")
            .unwrap()
            .operations
            .is_empty()
    );
    let e = read(b"openapi: 3.0.3\ninfo: {title: t, version: '1'}\n").unwrap_err();
    assert!(e.to_string().contains("has no `paths`"), "{e}");
}

#[test]
fn nesting_up_to_the_limit_is_read() {
    // The document's own object is one level.
    let doc = |depth: usize| {
        format!(
            "{{\"openapi\": \"3.0.3\", \"info\": {{\"title\": \"t\", \"version\": \"1\"}}, \"paths\": {{}}, \"x\": {}{}}}",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        )
    };
    assert_eq!(nesting(&doc(MAX_NESTING)), MAX_NESTING);
    assert!(read(doc(MAX_NESTING).as_bytes()).is_ok());
    assert!(read(doc(MAX_NESTING + 1).as_bytes()).is_err());
}

#[test]
fn nesting_is_measured_before_parsing() {
    assert_eq!(nesting("{\"a\": [1, {\"b\": [[2]]}]}"), 5);
    assert_eq!(nesting("a: [b, {c: [d]}]\n"), 3);
    // Balanced brackets in patterns and prose add nothing; an apostrophe quotes nothing.
    assert_eq!(nesting("a: '^[a-z]+$'  # [see] it\nc: don't [x]\n"), 1);
    // Deep flow nesting is refused before the YAML parser sees it, quotes or not.
    for doc in [
        format!(
            "openapi: 3.0.3\nx: {}{}\n",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        ),
        format!("openapi: 3.0.3\nx: {}\n", "[".repeat(40_000)),
        format!(
            "openapi: 3.0.3\nd: x \"\ny: {}\nz: \"\n",
            "{a: ".repeat(MAX_NESTING + 1)
        ),
        format!("{{\"openapi\": \"3.0.3\", \"x\": {}}}", "[".repeat(MAX_NESTING)),
    ] {
        match read(doc.as_bytes()) {
            Err(SpecError::Invalid(m)) => assert!(m.contains("nests"), "{m}"),
            other => panic!("{:?}", other.err()),
        }
    }
    // A real document's nesting passes.
    assert!(nesting(V30) < 8);
}

#[test]
fn closing_brackets_in_quotes_and_comments_do_not_hide_nesting() {
    // The quote-blind count closes on the quoted `]]]` and sees 3; the document nests 6.
    assert_eq!(nesting("x: [[[ \"]]]\" [[[ 1 ]]] ]]]\n"), 6);
    assert_eq!(nesting("x: [[[ ']]]' [[[ 1 ]]] ]]]\n"), 6);
    assert_eq!(
        nesting("x: [[[ \"a\\\"]]]\" [[[ 1 ]]] ]]]\n"),
        6,
        "an escaped quote stays inside"
    );
    assert_eq!(nesting("x: [[[ 'it''s ]]]' [[[ 1 ]]] ]]]\n"), 6, "'' stays inside");
    assert_eq!(
        nesting("x: [[[ # ]]]\n  [[[ 1 ]]] ]]]\n"),
        6,
        "a comment closes nothing"
    );
    // Only a `#` after a blank starts a comment, only a quote where a token starts opens one.
    assert_eq!(nesting("x: [[[a#]]]\n[[[ 1 ]]]\n"), 3);
    assert_eq!(nesting("x: [[[ don't ]]]\n[[[ 1 ]]]\n"), 3);
    // A quote left open ends with its line, and the next line starts afresh.
    assert_eq!(nesting("x: [[[ \"]]]\n[[[ 1 ]]] ]]]\n"), 6);
    assert_eq!(nesting("x: [[[ \"]]]\n\"]]]\" [[[ 1 ]]] ]]]\n"), 6);
    // A backslash escapes only in double quotes: 'a\' ends where its quote does.
    assert_eq!(nesting("x: [[[ \"]]]\" [[[ 'a\\' [[[ 1 ]]] ]]] ]]]\n"), 9);
    // A quote this scan reads wrongly cannot hide nesting: the count blind to quotes sees it.
    assert_eq!(nesting("x: \"[[[[\" [1]\n"), 5);
    assert_eq!(nesting("x: '{{{{{{' [1]\n"), 7);
    // A comment or a quote may run to the end of the text.
    assert_eq!(nesting("x: [1] # the end"), 1);
    assert_eq!(nesting("x: [1] \"open"), 1);
}

const V30: &str = r#"
openapi: 3.0.3
info: {title: t, version: "1"}
security:
  - oauth: [read]
paths:
  /pets:
    post:
      security: [{oauth: [write, read]}]
      responses: {200: {description: ok}}
    get:
      responses: {200: {description: ok}}
  /pets/{id}:
    $ref: '#/components/x-items/pet'
  /open:
    get:
      security: []
      responses: {200: {description: ok}}
  /either:
    get:
      security: [{key: []}, {oauth: [admin]}]
      responses: {200: {description: ok}}
  /optional:
    get:
      security: [{oauth: [read]}, {}]
      responses: {200: {description: ok}}
components:
  x-items:
    pet:
      delete:
        responses: {200: {description: ok}}
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: https://example.com/token
          scopes: {read: Read pets, write: Write pets, admin: Everything}
"#;

fn ops(d: &Document) -> Vec<(String, String, Vec<String>)> {
    d.operations
        .iter()
        .map(|o| (o.method.clone(), o.path.clone(), o.scopes.clone()))
        .collect()
}

fn op(m: &str, p: &str, s: &[&str]) -> (String, String, Vec<String>) {
    (m.into(), p.into(), s.iter().map(|s| s.to_string()).collect())
}

#[test]
fn openapi_30_operations_in_order_with_their_scopes() {
    let d = read(V30.as_bytes()).unwrap();
    assert_eq!(d.version, "3.0.3");
    assert_eq!(
        ops(&d),
        [
            op("GET", "/pets", &["read"]),
            op("POST", "/pets", &["read", "write"]),
            op("DELETE", "/pets/{id}", &["read"]),
            op("GET", "/open", &[]),
            op("GET", "/either", &["admin"]),
            op("GET", "/optional", &[]),
        ]
    );
    assert_eq!(d.scope_descriptions["write"], "Write pets");
}

#[test]
fn the_same_document_as_json_and_as_31() {
    let (v, _) = yaml::read(V30).unwrap();
    let json = serde_json::to_string(&v).unwrap();
    let d = read(json.as_bytes()).unwrap();
    // JSON without order preservation is read in the text's order by the typed model.
    assert_eq!(d.operations.len(), 6);
    let v31 = V30.replace("openapi: 3.0.3", "openapi: 3.1.0");
    let d31 = read(v31.as_bytes()).unwrap();
    assert_eq!(ops(&d31), ops(&read(V30.as_bytes()).unwrap()));
}

#[test]
fn swagger_20() {
    let doc = r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"},
          "securityDefinitions": {"o": {"type": "oauth2", "flow": "implicit",
             "authorizationUrl": "https://x/a", "scopes": {"pets:read": "Read"}}},
          "paths": {"/pets": {"get": {"security": [{"o": ["pets:read"]}], "responses": {}},
                              "put": {"responses": {}}},
                    "x-ext": {}}}"#;
    let d = read(doc.as_bytes()).unwrap();
    assert_eq!(ops(&d), [op("GET", "/pets", &["pets:read"]), op("PUT", "/pets", &[])]);
}

#[test]
fn what_is_refused_and_why() {
    let bad = |doc: &str| match read(doc.as_bytes()) {
        Err(e) => e,
        Ok(d) => panic!("{doc} was read: {d:?}"),
    };
    assert!(matches!(bad("{not json"), SpecError::Unparsable(_)));
    assert!(matches!(bad("a: [b\n"), SpecError::Unparsable(_)));
    assert!(
        matches!(bad("\u{0}\u{ff}"), SpecError::Unparsable(_)) || matches!(bad("\u{0}\u{ff}"), SpecError::Invalid(_))
    );
    let e = bad("name: not openapi\n");
    assert!(e.to_string().contains("no `openapi` or `swagger`"), "{e}");
    let e = bad("- a\n- b\n");
    assert!(e.to_string().contains("not an OpenAPI document"), "{e}");
    let e = bad("openapi: 4.0.0\npaths: {}\n");
    assert!(e.to_string().contains("unsupported version \"4.0.0\""), "{e}");
    let e = bad("swagger: '1.2'\n");
    assert!(e.to_string().contains("unsupported version"), "{e}");
    let broken = V30.replace("'#/components/x-items/pet'", "'#/components/x-items/nothing'");
    let e = bad(&broken);
    assert!(e.to_string().contains("points at nothing"), "{e}");
    assert!(e.to_string().contains("/paths/~1pets~1{id}"), "{e}");
    let external = V30.replace("'#/components/x-items/pet'", "'other.yaml#/pet'");
    assert!(bad(&external).to_string().contains("another document"));
    let undeclared = V30.replace("[{key: []}, {oauth: [admin]}]", "[{nope: []}]");
    let e = bad(&undeclared);
    assert!(
        e.to_string().contains("GET /either requires security scheme \"nope\""),
        "{e}"
    );
    let e = bad("openapi: 3.0.3\ninfo: {title: t}\npaths: {}\n");
    assert!(e.to_string().contains("not a valid OpenAPI 3.0 document"), "{e}");
}
