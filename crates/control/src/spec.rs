//! Reading an OpenAPI document for a service import: OpenAPI 3.0, 3.1 and Swagger 2.0, JSON or
//! YAML. No I/O. Only what an import uses is read into a model (the paths in document order, each
//! operation's `security`, the document's `security`, the OAuth 2.0 and OpenID Connect security
//! schemes, `info`); everything else (schemas, parameters, responses) is skipped unread, so a
//! document's model costs a small multiple of its own size whatever it holds.
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
use serde::de::IgnoredAny;
use serde_json::Value;

mod yaml;

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
/// applies, so nesting is measured first; real OpenAPI documents nest a few dozen levels. Below
/// the JSON parser's own limit (128), so this check is the one that answers, with its reason.
pub const MAX_NESTING: usize = 100;

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
                // Past the closing quote; a quote left open ends before its line break, which
                // is read next (the next line starts a token).
                if bytes.get(i) == Some(&b) {
                    i += 1;
                }
                prev = b;
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
    // The plain tree (for `$ref`s and the members read below), and the paths in document order
    // (the tree sorts its members), read by a second pass that keeps nothing else.
    let (root, order): (Value, Vec<String>) = if text.trim_start().starts_with('{') {
        let root = serde_json::from_str(text).map_err(|e| SpecError::Unparsable(format!("not valid JSON: {e}")))?;
        let order = serde_json::from_str::<PathOrder>(text)
            .map(PathOrder::keys)
            .unwrap_or_default();
        (root, order)
    } else {
        yaml::read(text)?
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
    too_many_at_a_glance(&root)?;
    check_refs(&root, &root, "#")?;
    let raw = if obj.contains_key("openapi") && (version.starts_with("3.0.") || version.starts_with("3.1.")) {
        from_v3(&root, &order, &version)?
    } else if !obj.contains_key("openapi") && version == "2.0" {
        from_v20(&root, &order)?
    } else {
        return Err(invalid(format!(
            "unsupported version {version:?}: OpenAPI 3.0, 3.1 and Swagger 2.0 can be imported"
        )));
    };
    finish(version, raw)
}

/// The keys of `paths`, in document order; their values are skipped unread.
#[derive(Deserialize)]
struct PathOrder {
    #[serde(default)]
    paths: Option<IndexMap<String, IgnoredAny>>,
}

impl PathOrder {
    fn keys(self) -> Vec<String> {
        self.paths.map(|p| p.into_keys().collect()).unwrap_or_default()
    }
}

/// The operations written directly under `paths`, counted before anything is read from them: a
/// document refused anyway costs no more work. [`finish`] applies the same limit to what was read
/// (operations of path items behind a `$ref` included).
fn too_many_at_a_glance(root: &Value) -> Result<(), SpecError> {
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
    Ok(())
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

/// `v` read as `T`, or the member it refers to when it is a `$ref`; unread members cost nothing.
fn read_as<'a, T: Deserialize<'a>>(root: &'a Value, v: &'a Value, what: &str) -> Result<T, SpecError> {
    let (v, r) = match v.get("$ref") {
        Some(Value::String(r)) => (lookup(root, r).map_err(invalid)?, Some(r)),
        _ => (v, None),
    };
    T::deserialize(v).map_err(|e| match r {
        Some(r) => invalid(format!("$ref {r:?} is not a {what}: {e}")),
        None => invalid(format!("a {what} is malformed: {e}")),
    })
}

#[derive(Deserialize)]
struct Info {
    #[allow(dead_code)]
    title: String,
    #[allow(dead_code)]
    version: String,
}

/// A path item: its operations (`trace` only in OpenAPI 3).
#[derive(Deserialize)]
struct PathItem {
    get: Option<Op>,
    put: Option<Op>,
    post: Option<Op>,
    delete: Option<Op>,
    options: Option<Op>,
    head: Option<Op>,
    patch: Option<Op>,
    trace: Option<Op>,
}

impl PathItem {
    fn operations(self) -> [(&'static str, Option<Op>); 8] {
        [
            ("get", self.get),
            ("put", self.put),
            ("post", self.post),
            ("delete", self.delete),
            ("options", self.options),
            ("head", self.head),
            ("patch", self.patch),
            ("trace", self.trace),
        ]
    }
}

/// An operation: only its `security` (absent: the document's apply; `[]`: none).
#[derive(Deserialize)]
struct Op {
    #[serde(default)]
    security: Option<Vec<Requirement>>,
}

/// An OpenAPI 3 security scheme: its type, and the scopes of an OAuth 2.0 scheme's flows.
#[derive(Deserialize)]
struct Scheme3 {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    flows: Flows3,
}

#[derive(Deserialize, Default)]
struct Flows3 {
    implicit: Option<Flow3>,
    password: Option<Flow3>,
    #[serde(rename = "clientCredentials")]
    client_credentials: Option<Flow3>,
    #[serde(rename = "authorizationCode")]
    authorization_code: Option<Flow3>,
}

#[derive(Deserialize)]
struct Flow3 {
    #[serde(default)]
    scopes: BTreeMap<String, String>,
}

/// A Swagger 2.0 security definition.
#[derive(Deserialize)]
struct Scheme2 {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    scopes: BTreeMap<String, String>,
}

/// The operations of each path (in `order`), skipping `x-` members of `paths`.
fn paths_of(root: &Value, order: &[String], methods: &[&str]) -> Result<Vec<(String, Vec<MethodSecurity>)>, SpecError> {
    let mut paths = Vec::new();
    for path in order.iter().filter(|p| p.starts_with('/')) {
        let item: PathItem = read_as(root, &root["paths"][path.as_str()], &format!("path item ({path})"))?;
        let ops = item
            .operations()
            .into_iter()
            .filter(|(m, _)| methods.contains(m))
            .filter_map(|(m, op)| op.map(|op| (m.to_owned(), op.security)))
            .collect();
        paths.push((path.clone(), ops));
    }
    Ok(paths)
}

fn global_security(root: &Value) -> Result<Option<Vec<Requirement>>, SpecError> {
    root.get("security")
        .map(|v| {
            Option::<Vec<Requirement>>::deserialize(v).map_err(|e| invalid(format!("`security` is malformed: {e}")))
        })
        .transpose()
        .map(Option::flatten)
}

fn from_v3(root: &Value, order: &[String], version: &str) -> Result<Raw, SpecError> {
    let family = if version.starts_with("3.0.") { "3.0" } else { "3.1" };
    let not_valid = |why: String| invalid(format!("not a valid OpenAPI {family} document: {why}"));
    Info::deserialize(&root["info"]).map_err(|e| not_valid(format!("`info` {e}")))?;
    match root.get("paths") {
        Some(Value::Object(_)) => {}
        None if family == "3.1" => {}
        None => return Err(not_valid("it has no `paths`".into())),
        Some(_) => return Err(not_valid("`paths` is not an object".into())),
    }
    let mut schemes = HashMap::new();
    if let Some(Value::Object(list)) = root.pointer("/components/securitySchemes") {
        for (name, v) in list {
            let s: Scheme3 = read_as(root, v, "security scheme")?;
            let kind = match s.kind.as_str() {
                "oauth2" => {
                    let f = s.flows;
                    let flows = [f.implicit, f.password, f.client_credentials, f.authorization_code];
                    Scheme::Scoped(flows.into_iter().flatten().flat_map(|f| f.scopes).collect())
                }
                "openIdConnect" => Scheme::Scoped(Vec::new()),
                _ => Scheme::Other,
            };
            schemes.insert(name.clone(), kind);
        }
    }
    Ok(Raw {
        paths: paths_of(root, order, &METHODS)?,
        global: global_security(root)?,
        schemes,
    })
}

fn from_v20(root: &Value, order: &[String]) -> Result<Raw, SpecError> {
    let mut schemes = HashMap::new();
    if let Some(Value::Object(list)) = root.get("securityDefinitions") {
        for (name, v) in list {
            let s: Scheme2 = read_as(root, v, "security definition")?;
            let kind = match s.kind.as_str() {
                "oauth2" => Scheme::Scoped(s.scopes.into_iter().collect()),
                _ => Scheme::Other,
            };
            schemes.insert(name.clone(), kind);
        }
    }
    Ok(Raw {
        paths: paths_of(root, order, &METHODS[..7])?,
        global: global_security(root)?,
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
