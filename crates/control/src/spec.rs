//! Reading an OpenAPI document for a service import: OpenAPI 3.0 (`openapiv3`), 3.1 (`oas3`) and
//! Swagger 2.0 (a serde model of the few members an import needs), JSON or YAML. No I/O.
//!
//! What comes out is the list of operations in document order (paths as they appear, the
//! operations of a path in the order the specification lists methods: get, put, post, delete,
//! options, head, patch, trace) with the OAuth 2.0 scopes each one requires, and the descriptions
//! the document gives those scopes.
//!
//! Security requirements: an operation's `security` replaces the document's. A requirement list is
//! a choice; an empty requirement (`{}`) makes security optional (no scopes required), otherwise
//! the first requirement that names an OAuth 2.0 or OpenID Connect scheme gives the scopes (the
//! union over the schemes it names). Schemes of other types (API keys, HTTP) require no scopes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// At most this many operations in one document.
pub const MAX_OPERATIONS: usize = 10_000;
/// The members of a path item that are operations.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Why a document cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Neither JSON nor YAML (a 400).
    #[error("{0}")]
    Unparsable(String),
    /// JSON or YAML, but not an OpenAPI document this import reads (a 422).
    #[error("{0}")]
    Invalid(String),
}

/// One operation of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Upper case (`GET`).
    pub method: String,
    /// The path template as written (`/pets/{petId}`).
    pub path: String,
    /// The OAuth 2.0 scopes it requires, sorted; empty when none.
    pub scopes: Vec<String>,
}

/// What an import takes from a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// `3.0.3`, `3.1.0` or `2.0`.
    pub version: String,
    pub operations: Vec<Operation>,
    /// The description the document gives each OAuth 2.0 scope it declares.
    pub scope_descriptions: BTreeMap<String, String>,
}

/// One alternative of a security requirement list: scheme name → scopes.
type Requirement = IndexMap<String, Vec<String>>;

#[derive(Debug, Clone)]
enum Scheme {
    /// OAuth 2.0 (the scopes its flows declare, with descriptions) or OpenID Connect.
    Scoped(Vec<(String, String)>),
    Other,
}

/// A method and its own `security` (`None`: the operation has none and the document's apply).
type MethodSecurity = (String, Option<Vec<Requirement>>);

struct Raw {
    /// Per path (in document order): its operations (method, `security` of the operation or `None`
    /// when it has none).
    paths: Vec<(String, Vec<MethodSecurity>)>,
    global: Option<Vec<Requirement>>,
    schemes: HashMap<String, Scheme>,
}

fn invalid(msg: impl Into<String>) -> SpecError {
    SpecError::Invalid(msg.into())
}

/// How deeply `[` and `{` may nest in a document. The YAML parser's time grows with the square of
/// flow nesting (40 KB of nesting took 1.7 s, 5 MiB would take hours) before its own depth limit
/// applies, so nesting is measured first; real OpenAPI documents nest a few dozen levels.
pub const MAX_NESTING: usize = 128;

/// The deepest nesting of flow collections (`[`, `{`) in JSON or YAML text. Quoted scalars count
/// only where a token can start (so `don't` opens nothing), `''` and `\"` stay inside their
/// quotes, and comments (`#` after a blank or at a line's start) are skipped. A quote that does
/// not close on its line ends there, and the deeper of this count and one blind to quotes is
/// answered, so a misread quote does not hide what follows it.
pub fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut prev = b'\n';
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let token_start = matches!(
            prev,
            b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':' | b'-' | b'?'
        );
        match b {
            b'#' if matches!(prev, b' ' | b'\t' | b'\n' | b'\r') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                prev = b'\n';
                continue;
            }
            b'"' | b'\'' if token_start => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'\n' {
                    match bytes[i] {
                        b'\\' if b == b'"' => i += 1,
                        b'\'' if b == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
                        c if c == b => break,
                        _ => {}
                    }
                    i += 1;
                }
                prev = b;
                i += 1;
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = b;
        i += 1;
    }
    // The same count blind to quotes: a quote this scan misreads cannot hide nesting from both.
    let (mut blind, mut blind_deepest) = (0usize, 0usize);
    for b in bytes {
        match b {
            b'[' | b'{' => {
                blind += 1;
                blind_deepest = blind_deepest.max(blind);
            }
            b']' | b'}' => blind = blind.saturating_sub(1),
            _ => {}
        }
    }
    deepest.max(blind_deepest)
}

/// Reads a document (JSON or YAML).
pub fn read(bytes: &[u8]) -> Result<Document, SpecError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| SpecError::Unparsable("the document is not UTF-8 text".into()))?;
    if nesting(text) > MAX_NESTING {
        return Err(invalid(format!(
            "the document nests [ and {{ more than {MAX_NESTING} deep"
        )));
    }
    let source = if text.trim_start().starts_with('{') {
        Source::Json(text)
    } else {
        let mut yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| SpecError::Unparsable(format!("neither JSON nor YAML: {e}")))?;
        yaml.apply_merge()
            .map_err(|e| SpecError::Unparsable(format!("YAML merge keys: {e}")))?;
        keys_as_strings(&mut yaml);
        Source::Yaml(yaml)
    };
    let root: Value = match &source {
        Source::Json(text) => {
            serde_json::from_str(text).map_err(|e| SpecError::Unparsable(format!("not valid JSON: {e}")))?
        }
        Source::Yaml(yaml) => {
            serde_json::to_value(yaml).map_err(|e| invalid(format!("not a JSON-like document: {e}")))?
        }
    };
    let Some(obj) = root.as_object() else {
        return Err(invalid(
            "not an OpenAPI document: the top level is not an object with an `openapi` or `swagger` member",
        ));
    };
    let version = match (obj.get("openapi"), obj.get("swagger")) {
        (Some(Value::String(v)), _) => v.clone(),
        (None, Some(Value::String(v))) => v.clone(),
        (Some(v), _) | (None, Some(v)) => {
            return Err(invalid(format!("the version must be a string, not {v}")));
        }
        (None, None) => {
            return Err(invalid(
                "not an OpenAPI document: it has no `openapi` or `swagger` member",
            ));
        }
    };
    // Counted on the plain tree, before the typed models (several times its size) are built.
    let operations = root
        .get("paths")
        .and_then(Value::as_object)
        .map(|paths| {
            paths
                .values()
                .filter_map(Value::as_object)
                .map(|item| item.keys().filter(|k| METHODS.contains(&k.as_str())).count())
                .sum::<usize>()
        })
        .unwrap_or(0);
    if operations > MAX_OPERATIONS {
        return Err(invalid(format!(
            "the document has more than {MAX_OPERATIONS} operations"
        )));
    }
    check_refs(&root, &root, "#")?;
    let typed = |what: &str| {
        let what = what.to_owned();
        move |e: String| invalid(format!("not a valid {what} document: {e}"))
    };
    let raw = if obj.contains_key("openapi") && version.starts_with("3.0.") {
        let doc: openapiv3::OpenAPI = source.typed().map_err(typed("OpenAPI 3.0"))?;
        from_v30(root, doc)?
    } else if obj.contains_key("openapi") && version.starts_with("3.1.") {
        let doc: oas3::Spec = source.typed().map_err(typed("OpenAPI 3.1"))?;
        from_v31(root, doc)?
    } else if !obj.contains_key("openapi") && version == "2.0" {
        let doc: Swagger = source.typed().map_err(typed("Swagger 2.0"))?;
        from_v20(root, doc)?
    } else {
        return Err(invalid(format!(
            "unsupported version {version:?}: OpenAPI 3.0, 3.1 and Swagger 2.0 can be imported"
        )));
    };
    finish(version, raw)
}

enum Source<'a> {
    Json(&'a str),
    /// Parsed, merge keys applied, every mapping key a string.
    Yaml(serde_yaml_ng::Value),
}

impl Source<'_> {
    /// The typed model from the text or the YAML tree, both of which keep the document's order
    /// (a `serde_json::Value` would sort its members).
    fn typed<T: DeserializeOwned>(&self) -> Result<T, String> {
        match self {
            Source::Json(text) => serde_json::from_str(text).map_err(|e| e.to_string()),
            Source::Yaml(v) => T::deserialize(v.clone()).map_err(|e| e.to_string()),
        }
    }
}

/// YAML reads `200:` as a number; OpenAPI's keys (status codes, extension members) are strings.
fn keys_as_strings(v: &mut serde_yaml_ng::Value) {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Mapping(m) => {
            let old = std::mem::take(m);
            for (k, mut child) in old {
                keys_as_strings(&mut child);
                let k = match k {
                    Y::Number(n) => Y::String(n.to_string()),
                    Y::Bool(b) => Y::String(b.to_string()),
                    Y::Null => Y::String("null".into()),
                    k => k,
                };
                m.insert(k, child);
            }
        }
        Y::Sequence(s) => s.iter_mut().for_each(keys_as_strings),
        Y::Tagged(t) => keys_as_strings(&mut t.value),
        _ => {}
    }
}

/// Every `$ref` inside the document must point at something in it; references to other
/// documents are not followed.
fn check_refs(root: &Value, v: &Value, at: &str) -> Result<(), SpecError> {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                lookup(root, r).map_err(|e| invalid(format!("{e} (at {at})")))?;
            }
            for (k, child) in m {
                check_refs(
                    root,
                    child,
                    &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                )?;
            }
            Ok(())
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, child)| check_refs(root, child, &format!("{at}/{i}"))),
        _ => Ok(()),
    }
}

/// The value a local `$ref` (`#/components/schemas/Pet`) names.
fn lookup<'a>(root: &'a Value, r: &str) -> Result<&'a Value, String> {
    let Some(pointer) = r.strip_prefix('#') else {
        return Err(format!(
            "$ref {r:?} names another document; only references inside the document are followed"
        ));
    };
    let decoded = percent_encoding::percent_decode_str(pointer)
        .decode_utf8()
        .map_err(|_| format!("$ref {r:?} is not valid UTF-8"))?;
    root.pointer(&decoded)
        .ok_or_else(|| format!("$ref {r:?} points at nothing in the document"))
}

fn resolve<T: DeserializeOwned>(root: &Value, r: &str, what: &str) -> Result<T, SpecError> {
    let v = lookup(root, r).map_err(invalid)?;
    serde_json::from_value(v.clone()).map_err(|e| invalid(format!("$ref {r:?} is not a {what}: {e}")))
}

fn from_v30(root: Value, doc: openapiv3::OpenAPI) -> Result<Raw, SpecError> {
    use openapiv3::{ReferenceOr, SecurityScheme};
    let mut schemes = HashMap::new();
    if let Some(c) = &doc.components {
        for (name, s) in &c.security_schemes {
            let s = match s {
                ReferenceOr::Item(s) => s.clone(),
                ReferenceOr::Reference { reference } => resolve(&root, reference, "security scheme")?,
            };
            let kind = match s {
                SecurityScheme::OAuth2 { flows, .. } => {
                    let mut scopes = Vec::new();
                    for m in [
                        flows.implicit.map(|f| f.scopes),
                        flows.password.map(|f| f.scopes),
                        flows.client_credentials.map(|f| f.scopes),
                        flows.authorization_code.map(|f| f.scopes),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        scopes.extend(m);
                    }
                    Scheme::Scoped(scopes)
                }
                SecurityScheme::OpenIDConnect { .. } => Scheme::Scoped(Vec::new()),
                _ => Scheme::Other,
            };
            schemes.insert(name.clone(), kind);
        }
    }
    let mut paths = Vec::new();
    for (path, item) in &doc.paths.paths {
        let item = match item {
            ReferenceOr::Item(i) => i.clone(),
            ReferenceOr::Reference { reference } => resolve(&root, reference, "path item")?,
        };
        let ops = item.iter().map(|(m, op)| (m.to_owned(), op.security.clone())).collect();
        paths.push((path.clone(), ops));
    }
    Ok(Raw {
        paths,
        global: doc.security,
        schemes,
    })
}

fn from_v31(root: Value, doc: oas3::Spec) -> Result<Raw, SpecError> {
    use oas3::spec::{ObjectOrReference, SecurityScheme};
    let mut schemes = HashMap::new();
    if let Some(c) = &doc.components {
        for (name, s) in c.security_schemes.iter() {
            let s = match s {
                ObjectOrReference::Object(s) => s.clone(),
                ObjectOrReference::Ref { ref_path, .. } => resolve(&root, ref_path, "security scheme")?,
            };
            let kind = match s {
                SecurityScheme::OAuth2 { flows, .. } => {
                    let mut scopes = Vec::new();
                    let maps = [
                        flows.implicit.map(|f| f.scopes),
                        flows.password.map(|f| f.scopes),
                        flows.client_credentials.map(|f| f.scopes),
                        flows.authorization_code.map(|f| f.scopes),
                    ];
                    for m in maps.into_iter().flatten() {
                        scopes.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    Scheme::Scoped(scopes)
                }
                SecurityScheme::OpenIdConnect { .. } => Scheme::Scoped(Vec::new()),
                _ => Scheme::Other,
            };
            schemes.insert(name.clone(), kind);
        }
    }
    // The typed model cannot tell an operation without `security` from one with `security: []`
    // (which turns the document's requirements off), so the raw document says which it is.
    let requirements = |raw: Option<&Value>| -> Result<Option<Vec<Requirement>>, SpecError> {
        raw.map(|v| {
            serde_json::from_value(v.clone()).map_err(|e| invalid(format!("a `security` member is malformed: {e}")))
        })
        .transpose()
    };
    let mut paths = Vec::new();
    for (path, item) in doc.paths.iter().flat_map(|p| p.iter()) {
        let raw_item = match &root["paths"][path.as_str()] {
            Value::Object(o) => match o.get("$ref") {
                Some(Value::String(r)) => lookup(&root, r).map_err(invalid)?.clone(),
                _ => Value::Object(o.clone()),
            },
            other => other.clone(),
        };
        let item: oas3::spec::PathItem = match &item.reference {
            Some(r) => resolve(&root, r, "path item")?,
            None => item.clone(),
        };
        let mut ops = Vec::new();
        for (method, _) in item.methods() {
            let m = method.as_str().to_ascii_lowercase();
            ops.push((m.clone(), requirements(raw_item[m.as_str()].get("security"))?));
        }
        paths.push((path.clone(), ops));
    }
    let global = requirements(root.get("security"))?;
    Ok(Raw { paths, global, schemes })
}

/// The members of a Swagger 2.0 document an import reads.
#[derive(Deserialize)]
struct Swagger {
    #[serde(default)]
    paths: IndexMap<String, Value>,
    #[serde(default)]
    security: Option<Vec<Requirement>>,
    #[serde(default, rename = "securityDefinitions")]
    security_definitions: IndexMap<String, SwaggerScheme>,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum SwaggerScheme {
    #[serde(rename = "oauth2")]
    OAuth2 {
        #[serde(default)]
        scopes: IndexMap<String, String>,
    },
    #[serde(rename = "basic")]
    Basic {},
    #[serde(rename = "apiKey")]
    ApiKey {},
}

#[derive(Deserialize)]
struct SwaggerPathItem {
    #[serde(rename = "$ref")]
    reference: Option<String>,
    get: Option<SwaggerOperation>,
    put: Option<SwaggerOperation>,
    post: Option<SwaggerOperation>,
    delete: Option<SwaggerOperation>,
    options: Option<SwaggerOperation>,
    head: Option<SwaggerOperation>,
    patch: Option<SwaggerOperation>,
}

#[derive(Deserialize)]
struct SwaggerOperation {
    #[serde(default)]
    security: Option<Vec<Requirement>>,
}

fn from_v20(root: Value, doc: Swagger) -> Result<Raw, SpecError> {
    let schemes = doc
        .security_definitions
        .into_iter()
        .map(|(name, s)| {
            let kind = match s {
                SwaggerScheme::OAuth2 { scopes } => Scheme::Scoped(scopes.into_iter().collect()),
                _ => Scheme::Other,
            };
            (name, kind)
        })
        .collect();
    let mut paths = Vec::new();
    for (path, item) in doc.paths {
        if !path.starts_with('/') {
            continue; // `x-` extensions
        }
        let mut item: SwaggerPathItem =
            serde_json::from_value(item).map_err(|e| invalid(format!("path {path:?} is malformed: {e}")))?;
        if let Some(r) = item.reference.take() {
            item = resolve(&root, &r, "path item")?;
        }
        let ops = [
            ("get", item.get),
            ("put", item.put),
            ("post", item.post),
            ("delete", item.delete),
            ("options", item.options),
            ("head", item.head),
            ("patch", item.patch),
        ]
        .into_iter()
        .filter_map(|(m, op)| op.map(|op| (m.to_owned(), op.security)))
        .collect();
        paths.push((path, ops));
    }
    Ok(Raw {
        paths,
        global: doc.security,
        schemes,
    })
}

/// The scopes an operation requires under `requirements` (see the module documentation).
fn scopes_of(
    requirements: &[Requirement],
    schemes: &HashMap<String, Scheme>,
    at: &str,
) -> Result<Vec<String>, SpecError> {
    for req in requirements {
        for name in req.keys() {
            if !schemes.contains_key(name) {
                return Err(invalid(format!(
                    "{at} requires security scheme {name:?}, which the document does not declare"
                )));
            }
        }
    }
    if requirements.iter().any(IndexMap::is_empty) {
        return Ok(Vec::new());
    }
    let scoped = requirements.iter().find(|req| {
        req.keys()
            .any(|name| matches!(schemes.get(name), Some(Scheme::Scoped(_))))
    });
    let Some(req) = scoped else {
        return Ok(Vec::new());
    };
    let set: BTreeSet<String> = req
        .iter()
        .filter(|(name, _)| matches!(schemes.get(name.as_str()), Some(Scheme::Scoped(_))))
        .flat_map(|(_, scopes)| scopes.iter().cloned())
        .collect();
    Ok(set.into_iter().collect())
}

fn finish(version: String, raw: Raw) -> Result<Document, SpecError> {
    let mut doc = Document {
        version,
        ..Document::default()
    };
    for s in raw.schemes.values() {
        if let Scheme::Scoped(list) = s {
            for (name, description) in list {
                doc.scope_descriptions
                    .entry(name.clone())
                    .or_insert_with(|| description.clone());
            }
        }
    }
    for (path, ops) in &raw.paths {
        for (method, security) in ops {
            let method = method.to_ascii_uppercase();
            let at = format!("{method} {path}");
            let requirements = security.as_ref().or(raw.global.as_ref());
            let scopes = match requirements {
                Some(r) => scopes_of(r, &raw.schemes, &at)?,
                None => Vec::new(),
            };
            doc.operations.push(Operation {
                method,
                path: path.clone(),
                scopes,
            });
            if doc.operations.len() > MAX_OPERATIONS {
                return Err(invalid(format!(
                    "the document has more than {MAX_OPERATIONS} operations"
                )));
            }
        }
    }
    Ok(doc)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_counted_before_the_typed_model_is_built() {
        // Operations without `responses` would fail the typed OpenAPI 3.0 model: the count
        // answers first.
        let paths: serde_json::Map<String, Value> = (0..=MAX_OPERATIONS)
            .map(|i| (format!("/p{i}"), serde_json::json!({"get": {}})))
            .collect();
        let doc = serde_json::json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths});
        match read(doc.to_string().as_bytes()) {
            Err(SpecError::Invalid(m)) => assert!(m.contains("more than 10000 operations"), "{m}"),
            other => panic!("{:?}", other.err()),
        }
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
        let v: Value = serde_yaml_ng::from_str(V30).unwrap();
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
            matches!(bad("\u{0}\u{ff}"), SpecError::Unparsable(_))
                || matches!(bad("\u{0}\u{ff}"), SpecError::Invalid(_))
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
}
