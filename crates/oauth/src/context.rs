//! A person's authentication context as their login method shapes it (Cloudentity ACP
//! `mappings` and `attributes`): the same rules for every method, `static` included. Claims,
//! userinfo, policies and roles (through `groups`) read the result.

use castellan_types::AuthenticationMethod;
use serde_json::{Map, Value};

/// The names a mapping's `source` may start with: what the method received.
const ROOTS: [&str; 4] = ["id_token", "userinfo", "access_token", "authentication_context"];

/// The context of a person: `default` (a static user's or an external page's context, or the
/// upstream ID token's and userinfo's claims) with `method`'s mappings applied, then limited to
/// its declared attributes when it declares any. `sources` holds the documents the method
/// received, by [`ROOTS`] name.
pub fn shape(
    method: &AuthenticationMethod,
    default: Map<String, Value>,
    sources: &Map<String, Value>,
) -> Map<String, Value> {
    let mut ctx = default.clone();
    let base = Value::Object(default);
    for m in &method.mappings {
        let (root, path) = match m.source.split_once('.') {
            Some((r, rest)) if ROOTS.contains(&r) => (sources.get(r), rest),
            _ if ROOTS.contains(&m.source.as_str()) => (sources.get(m.source.as_str()), ""),
            _ => (Some(&base), m.source.as_str()),
        };
        let Some(value) = root.and_then(|r| at_path(r, path)) else {
            continue;
        };
        let Some(value) = convert(value, &m.type_) else {
            tracing::debug!(method = %method.id, source = %m.source, "mapping value not convertible; skipped");
            continue;
        };
        put(&mut ctx, &m.target, value);
    }
    if !method.attributes.is_empty() {
        ctx.retain(|k, _| method.attributes.iter().any(|a| a.name == *k));
    }
    ctx
}

/// The value at a dotted `path` (empty or `.`: the value itself).
fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        cur = match cur {
            Value::Object(o) => o.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    (!cur.is_null()).then_some(cur)
}

/// `v` as `ty` asks, or `None` when it cannot be.
fn convert(v: &Value, ty: &str) -> Option<Value> {
    match ty {
        "string" => match v {
            Value::String(_) => Some(v.clone()),
            Value::Number(n) => Some(Value::String(n.to_string())),
            Value::Bool(b) => Some(Value::String(b.to_string())),
            _ => None,
        },
        "number" => match v {
            Value::Number(_) => Some(v.clone()),
            Value::String(s) => s.trim().parse::<f64>().ok().and_then(|f| {
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    Some(Value::from(f as i64))
                } else {
                    serde_json::Number::from_f64(f).map(Value::Number)
                }
            }),
            _ => None,
        },
        "bool" => match v {
            Value::Bool(_) => Some(v.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
            _ => None,
        },
        "string_array" => match v {
            Value::String(s) => Some(Value::Array(vec![Value::String(s.clone())])),
            Value::Array(items) => items
                .iter()
                .map(|i| convert(i, "string"))
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
            _ => None,
        },
        "object" => v.is_object().then(|| v.clone()),
        _ => Some(v.clone()),
    }
}

/// Writes `value` at the dotted `target` of `ctx`; `.` merges an object into `ctx`.
fn put(ctx: &mut Map<String, Value>, target: &str, value: Value) {
    if target == "." {
        if let Value::Object(o) = value {
            ctx.extend(o);
        }
        return;
    }
    let segs: Vec<&str> = target.split('.').filter(|s| !s.is_empty()).collect();
    let Some((last, parents)) = segs.split_last() else {
        return;
    };
    let mut cur = ctx;
    for seg in parents {
        let slot = cur
            .entry((*seg).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else {
            return;
        };
        cur = next;
    }
    cur.insert((*last).to_owned(), value);
}

/// Claims of an upstream ID token that describe the token, not the person: left out of the
/// default context.
pub(crate) const PROTOCOL_CLAIMS: [&str; 16] = [
    "iss",
    "aud",
    "azp",
    "exp",
    "iat",
    "nbf",
    "jti",
    "nonce",
    "at_hash",
    "c_hash",
    "s_hash",
    "auth_time",
    "sid",
    "acr",
    "amr",
    "sub",
];

#[cfg(test)]
mod tests {
    use castellan_types::{AuthenticationContextAttribute, AuthenticationMapping};
    use serde_json::json;

    use super::*;

    fn method(mappings: &[(&str, &str, &str)], attributes: &[&str]) -> AuthenticationMethod {
        AuthenticationMethod {
            id: "m".into(),
            method: "oidc".into(),
            mappings: mappings
                .iter()
                .map(|(s, t, ty)| AuthenticationMapping {
                    source: (*s).into(),
                    target: (*t).into(),
                    type_: (*ty).into(),
                })
                .collect(),
            attributes: attributes
                .iter()
                .map(|n| AuthenticationContextAttribute {
                    name: (*n).into(),
                    description: String::new(),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn no_rules_keep_the_default_context() {
        let d = obj(json!({"email": "a@example.com"}));
        assert_eq!(shape(&method(&[], &[]), d.clone(), &Map::new()), d);
    }

    #[test]
    fn each_type_converts_or_sets_nothing() {
        let sources = obj(json!({"id_token": {"age": "42", "admin": "TRUE", "team": "red", "n": 7,
            "roles": ["a", 1], "addr": {"city": "Oslo"}, "bad": {"x": 1}}}));
        let m = method(
            &[
                ("id_token.age", "age", "number"),
                ("id_token.admin", "admin", "bool"),
                ("id_token.team", "groups", "string_array"),
                ("id_token.n", "n", "string"),
                ("id_token.roles", "roles", "string_array"),
                ("id_token.addr", "address", "object"),
                ("id_token.addr.city", "where.city", "any"),
                ("id_token.bad", "bad", "string"),
                ("id_token.missing", "missing", "any"),
            ],
            &[],
        );
        let ctx = shape(&m, Map::new(), &sources);
        assert_eq!(
            Value::Object(ctx),
            json!({"age": 42, "admin": true, "groups": ["red"], "n": "7", "roles": ["a", "1"],
                "address": {"city": "Oslo"}, "where": {"city": "Oslo"}})
        );
    }

    #[test]
    fn paths_read_the_default_context_and_dot_merges() {
        let d = obj(json!({"profile": {"mail": "x@example.com"}}));
        let sources = obj(json!({"access_token": {"tier": "gold"}}));
        let m = method(
            &[("profile.mail", "email", "string"), ("access_token", ".", "object")],
            &[],
        );
        let ctx = shape(&m, d, &sources);
        assert_eq!(ctx["email"], json!("x@example.com"));
        assert_eq!(ctx["tier"], json!("gold"));
    }

    #[test]
    fn declared_attributes_limit_the_context() {
        let d = obj(json!({"email": "a@example.com", "secret_stuff": 1}));
        let ctx = shape(&method(&[], &["email"]), d, &Map::new());
        assert_eq!(Value::Object(ctx), json!({"email": "a@example.com"}));
    }
}
