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
mod tests;
