//! From what the API carries to what evaluation runs: every check the write can make is made here,
//! so that a policy that compiles never fails for its own shape at request time.

use serde_json::{Map, Value};

use crate::error::{CompileError, err};
use crate::rego::{one_line, parse_rego};
use crate::sandbox::{self, Rego, RegoBody};
use crate::{Body, Language, Policy, Recovery, ValidatorSpec};

/// At most this many validators, and fields per validator: a policy is configuration, not data.
const MAX_ITEMS: usize = 64;

#[derive(Debug)]
pub(crate) struct Check {
    pub name: String,
    pub recovery: Vec<Recovery>,
    pub kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Pass,
    Fail,
    /// Fields of the authentication context, each a path of object keys.
    Identity(Vec<FieldRule>),
    /// Request headers, names lower-cased (the path has one element).
    Header(Vec<FieldRule>),
    Consents(Vec<String>),
    Action(String),
    Scopes(Vec<String>),
}

#[derive(Debug)]
pub(crate) struct FieldRule {
    pub path: Vec<String>,
    pub cmp: Comparator,
}

#[derive(Debug)]
pub(crate) enum Comparator {
    Equals(Value),
    NotEquals(Value),
    Contains(Value),
    OneOf(Vec<Value>),
    Present,
    NotPresent,
    Matches(regex::Regex),
    Gt(f64),
    Lt(f64),
}

pub(crate) fn compile(
    language: Language,
    validators: &[ValidatorSpec],
    definition: Option<&str>,
    runner: &Rego,
    dry_run: bool,
) -> Result<Policy, CompileError> {
    match language {
        Language::Cloudentity => {
            if definition.is_some_and(|d| !d.is_empty()) {
                return Err(err("definition", "only a policy with language rego has a definition"));
            }
            if validators.len() > MAX_ITEMS {
                return Err(err("validators", format!("at most {MAX_ITEMS} validators")));
            }
            let checks = validators
                .iter()
                .enumerate()
                .map(|(i, v)| check(&format!("validators[{i}]"), v))
                .collect::<Result<_, _>>()?;
            Ok(Policy {
                body: Body::Validators(checks),
                rego_reads_consents: false,
            })
        }
        Language::Rego => {
            if !validators.is_empty() {
                return Err(err(
                    "validators",
                    "a rego policy has no validators; its definition decides",
                ));
            }
            let definition = definition
                .filter(|d| !d.trim().is_empty())
                .ok_or_else(|| err("definition", "required for language rego"))?;
            Ok(Policy {
                body: Body::Rego(rego(definition, runner, dry_run)?),
                rego_reads_consents: definition.contains("consents"),
            })
        }
    }
}

/// Parses `definition` here (bounded by [`check_rego_text`]) and evaluates it once with an empty
/// input where evaluations will run: errors only found when the module is prepared (an unknown
/// function, a conflict between rules) are found now. Reaching the interpreter's time limit is
/// not an error of the text; needing more than a worker's memory or time is.
/// Without `dry_run` (a stored policy, checked when it was written) nothing is evaluated.
fn rego(definition: &str, runner: &Rego, dry_run: bool) -> Result<RegoBody, CompileError> {
    let engine = parse_rego(definition)?;
    let body = match runner.pool() {
        None => RegoBody::Local(Box::new(engine)),
        Some(pool) => RegoBody::Isolated {
            pool: pool.clone(),
            key: pool.new_key(),
            definition: definition.into(),
        },
    };
    if !dry_run {
        return Ok(body);
    }
    let empty = Value::Object(Map::new());
    let dry = match &body {
        RegoBody::Local(engine) => sandbox::run(engine, empty),
        RegoBody::Isolated { pool, key, definition } => pool.evaluate(*key, definition, empty),
    };
    match dry {
        sandbox::Answer::Stopped(msg) if !msg.contains("time limit") => Err(err("definition", one_line(&msg))),
        _ => Ok(body),
    }
}

fn check(at: &str, v: &ValidatorSpec) -> Result<Check, CompileError> {
    let conf = &v.conf;
    let kind = match v.name.as_str() {
        "true" | "false" => {
            only(at, conf, &[])?;
            if v.name == "true" { Kind::Pass } else { Kind::Fail }
        }
        "identity-context" => Kind::Identity(fields(at, conf, false)?),
        "header" => Kind::Header(fields(at, conf, true)?),
        "consent" => {
            only(at, conf, &["consents", "action"])?;
            match (conf.get("consents"), conf.get("action")) {
                (Some(c), None) => Kind::Consents(strings(&format!("{at}.conf.consents"), c)?),
                (None, Some(Value::String(a))) if !a.is_empty() => Kind::Action(a.clone()),
                (None, Some(_)) => return Err(err(format!("{at}.conf.action"), "must be a consent action id")),
                _ => {
                    return Err(err(
                        format!("{at}.conf"),
                        "needs either consents (a list of consent ids) or action (a consent action id)",
                    ));
                }
            }
        }
        "scopes" => {
            only(at, conf, &["scopes"])?;
            let s = conf
                .get("scopes")
                .ok_or_else(|| err(format!("{at}.conf.scopes"), "required: the scopes the token must carry"))?;
            Kind::Scopes(strings(&format!("{at}.conf.scopes"), s)?)
        }
        other => {
            return Err(err(
                format!("{at}.name"),
                format!(
                    "unknown validator {other:?}; validators are true, false, identity-context, header, consent, scopes"
                ),
            ));
        }
    };
    for (j, r) in v.recovery.iter().enumerate() {
        if r.id.is_empty() || r.kind.is_empty() {
            return Err(err(format!("{at}.recovery[{j}]"), "id and type must not be empty"));
        }
    }
    Ok(Check {
        name: v.name.clone(),
        recovery: v.recovery.clone(),
        kind,
    })
}

fn only(at: &str, conf: &Map<String, Value>, allowed: &[&str]) -> Result<(), CompileError> {
    match conf.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) if allowed.is_empty() => Err(err(format!("{at}.conf.{k}"), "this validator takes no conf")),
        Some(k) => Err(err(
            format!("{at}.conf.{k}"),
            format!("unknown member; this validator takes {}", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

fn strings(at: &str, v: &Value) -> Result<Vec<String>, CompileError> {
    let items = v
        .as_array()
        .filter(|a| !a.is_empty() && a.len() <= MAX_ITEMS)
        .ok_or_else(|| err(at, format!("must be a list of 1 to {MAX_ITEMS} strings")))?;
    items
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(err(format!("{at}[{i}]"), "must be a non-empty string")),
        })
        .collect()
}

fn fields(at: &str, conf: &Map<String, Value>, header: bool) -> Result<Vec<FieldRule>, CompileError> {
    only(at, conf, &["fields"])?;
    let at = format!("{at}.conf.fields");
    let list = conf
        .get("fields")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty() && a.len() <= MAX_ITEMS)
        .ok_or_else(|| {
            err(
                &at,
                format!("required: a list of 1 to {MAX_ITEMS} {{field, comparator, value}}"),
            )
        })?;
    list.iter()
        .enumerate()
        .map(|(j, f)| field_rule(&format!("{at}[{j}]"), f, header))
        .collect()
}

fn field_rule(at: &str, f: &Value, header: bool) -> Result<FieldRule, CompileError> {
    let f = f
        .as_object()
        .ok_or_else(|| err(at, "must be an object {field, comparator, value}"))?;
    only_members(at, f)?;
    let field = match f.get("field") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err(err(format!("{at}.field"), "required: a non-empty string")),
    };
    let path: Vec<String> = if header {
        vec![field.to_ascii_lowercase()]
    } else {
        let parts: Vec<String> = field.split('.').map(str::to_owned).collect();
        if parts.iter().any(String::is_empty) {
            return Err(err(format!("{at}.field"), "a dotted path such as address.country"));
        }
        parts
    };
    let comparator = f.get("comparator").and_then(Value::as_str).unwrap_or_default();
    let value = f.get("value");
    let value_at = format!("{at}.value");
    let need = |what: &str| err(&value_at, format!("the {comparator} comparator needs {what}"));
    let cmp = match comparator {
        "equals" => Comparator::Equals(value.cloned().ok_or_else(|| need("a value"))?),
        "not_equals" => Comparator::NotEquals(value.cloned().ok_or_else(|| need("a value"))?),
        "contains" => Comparator::Contains(value.cloned().ok_or_else(|| need("a value"))?),
        "one_of" => Comparator::OneOf(
            value
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| need("a list of values"))?,
        ),
        "present" | "not_present" => {
            if value.is_some() {
                return Err(err(&value_at, format!("the {comparator} comparator takes no value")));
            }
            if comparator == "present" {
                Comparator::Present
            } else {
                Comparator::NotPresent
            }
        }
        "matches" => {
            let pattern = value
                .and_then(Value::as_str)
                .ok_or_else(|| need("a regular expression"))?;
            let re = regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| {
                    err(
                        &value_at,
                        format!("not a regular expression: {}", one_line(&e.to_string())),
                    )
                })?;
            Comparator::Matches(re)
        }
        "gt" | "lt" => {
            let n = value.and_then(Value::as_f64).ok_or_else(|| need("a number"))?;
            if comparator == "gt" {
                Comparator::Gt(n)
            } else {
                Comparator::Lt(n)
            }
        }
        other => {
            return Err(err(
                format!("{at}.comparator"),
                format!(
                    "unknown comparator {other:?}; comparators are equals, not_equals, contains, one_of, present, not_present, matches, gt, lt"
                ),
            ));
        }
    };
    Ok(FieldRule { path, cmp })
}

/// The JSON Schema of one validator (OpenAPI 3.1), one alternative per validator name, from the
/// limits [`check`] applies: what the API description says a validator is.
pub fn validator_schema() -> Value {
    use serde_json::json;
    let recovery = json!({"type": "array", "items": {"type": "object", "required": ["id", "type"],
        "properties": {"id": {"type": "string", "minLength": 1}, "type": {"type": "string", "minLength": 1}}}});
    let strings = json!({"type": "array", "minItems": 1, "maxItems": MAX_ITEMS,
        "items": {"type": "string", "minLength": 1}});
    let rule = |field: Value| {
        let with = |comparators: &[&str], value: Option<Value>| {
            let mut props = json!({"field": field, "comparator": {"enum": comparators}});
            let mut required = vec!["field", "comparator"];
            if let Some(v) = value {
                props["value"] = v;
                required.push("value");
            }
            json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
        };
        json!({"oneOf": [
            with(&["equals", "not_equals", "contains"], Some(json!({}))),
            with(&["one_of"], Some(json!({"type": "array"}))),
            with(&["present", "not_present"], None),
            with(&["matches"], Some(json!({"type": "string", "format": "regex",
                "description": "A regular expression (Rust `regex` syntax, no look-around or back-references)"}))),
            with(&["gt", "lt"], Some(json!({"type": "number"}))),
        ]})
    };
    let fields = |field: Value| {
        json!({"type": "object", "required": ["fields"], "additionalProperties": false, "properties": {
            "fields": {"type": "array", "minItems": 1, "maxItems": MAX_ITEMS, "items": rule(field)}}})
    };
    let validator = |names: &[&str], conf: Value, conf_required: bool| {
        let mut required = vec!["name"];
        if conf_required {
            required.push("conf");
        }
        json!({"type": "object", "required": required,
            "properties": {"name": {"enum": names}, "conf": conf, "recovery": recovery}})
    };
    json!({
        "description": "One validator of a policy: `true` and `false` take no `conf`; `identity-context` checks fields of the authentication context (dotted paths such as `address.country`), `header` request headers; `consent` needs the listed consents, or those an action requires; `scopes` needs every listed scope. Each field rule is a `field`, a `comparator` and, except for `present` and `not_present`, a `value`.",
        "oneOf": [
            validator(&["true", "false"], json!({"type": ["object", "null"], "maxProperties": 0}), false),
            validator(&["identity-context"], fields(json!({"type": "string", "pattern": r"^[^.]+(\.[^.]+)*$"})), true),
            validator(&["header"], fields(json!({"type": "string", "minLength": 1})), true),
            validator(&["consent"], json!({"oneOf": [
                {"type": "object", "required": ["consents"], "additionalProperties": false, "properties": {"consents": strings}},
                {"type": "object", "required": ["action"], "additionalProperties": false,
                    "properties": {"action": {"type": "string", "minLength": 1}}},
            ]}), true),
            validator(&["scopes"], json!({"type": "object", "required": ["scopes"], "additionalProperties": false,
                "properties": {"scopes": strings}}), true),
        ],
    })
}

fn only_members(at: &str, f: &Map<String, Value>) -> Result<(), CompileError> {
    match f
        .keys()
        .find(|k| !["field", "comparator", "value"].contains(&k.as_str()))
    {
        Some(k) => Err(err(
            format!("{at}.{k}"),
            "unknown member; a field rule has field, comparator, value",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
