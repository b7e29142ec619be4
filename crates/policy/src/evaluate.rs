//! Evaluation: validators in order, the first failure decides; Rego on a clone of the prepared
//! engine with the input converted once.

use serde_json::{Value, json};

use crate::compile::{Check, Comparator, FieldRule, Kind};
use crate::sandbox::{self, Answer, RegoBody};
use crate::{Decision, Input, REGO_RULE};

pub(crate) fn validators(checks: &[Check], input: &Input<'_>) -> Decision {
    for c in checks {
        if let Err(reason) = passes(&c.kind, input) {
            return Decision {
                pass: false,
                failed_validator: Some(c.name.clone()),
                recovery: c.recovery.clone(),
                reason: Some(reason),
            };
        }
    }
    Decision::pass()
}

fn passes(kind: &Kind, input: &Input<'_>) -> Result<(), String> {
    match kind {
        Kind::Pass => Ok(()),
        Kind::Fail => Err("the policy denies every request".into()),
        Kind::Identity(rules) => {
            for r in rules {
                let v = lookup(input.authentication_context, &r.path);
                if !compare(&r.cmp, v) {
                    return Err(format!("authentication context {} {}", r.path.join("."), describe(r)));
                }
            }
            Ok(())
        }
        Kind::Header(rules) => {
            for r in rules {
                let name = r.path.first().map(String::as_str).unwrap_or_default();
                let value = input.request.and_then(|req| {
                    req.headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v)
                });
                let owned = value.map(|v| Value::String(v.clone()));
                if !compare(&r.cmp, owned.as_ref()) {
                    return Err(format!("header {name} {}", describe(r)));
                }
            }
            Ok(())
        }
        Kind::Consents(ids) => match ids.iter().find(|id| !input.consents.granted.contains(*id)) {
            Some(id) => Err(format!("no current grant of consent {id}")),
            None => Ok(()),
        },
        Kind::Action(action) => match input.consents.actions.get(action) {
            None => Err(format!("consent action {action} is unknown")),
            Some(ids) => match ids.iter().find(|id| !input.consents.granted.contains(*id)) {
                Some(id) => Err(format!("no current grant of consent {id} (required by {action})")),
                None => Ok(()),
            },
        },
        Kind::Scopes(needed) => match needed.iter().find(|s| !input.scopes.contains(s)) {
            Some(s) => Err(format!("scope {s} is not granted")),
            None => Ok(()),
        },
    }
}

fn lookup<'a>(root: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(root, |v, key| v.as_object()?.get(key))
}

fn describe(r: &FieldRule) -> &'static str {
    match r.cmp {
        Comparator::Equals(_) => "does not equal the value",
        Comparator::NotEquals(_) => "equals the value or is missing",
        Comparator::Contains(_) => "does not contain the value",
        Comparator::OneOf(_) => "is not one of the values",
        Comparator::Present => "is missing",
        Comparator::NotPresent => "is present",
        Comparator::Matches(_) => "does not match the expression",
        Comparator::Gt(_) => "is not a number greater than the value",
        Comparator::Lt(_) => "is not a number less than the value",
    }
}

/// Whether `v` (absent: `None`) compares. A missing field fails all but `not_present`.
fn compare(cmp: &Comparator, v: Option<&Value>) -> bool {
    let v = match (cmp, v) {
        (Comparator::NotPresent, v) => return v.is_none_or(Value::is_null),
        (_, None) => return false,
        (_, Some(v)) => v,
    };
    match cmp {
        Comparator::Present => !v.is_null(),
        Comparator::NotPresent => false,
        Comparator::Equals(want) => v == want,
        Comparator::NotEquals(want) => v != want,
        Comparator::Contains(want) => match (v, want) {
            (Value::String(s), Value::String(part)) => s.contains(part.as_str()),
            (Value::Array(items), want) => items.contains(want),
            _ => false,
        },
        Comparator::OneOf(options) => options.contains(v),
        Comparator::Matches(re) => v.as_str().is_some_and(|s| re.is_match(s)),
        Comparator::Gt(n) => v.as_f64().is_some_and(|x| x > *n),
        Comparator::Lt(n) => v.as_f64().is_some_and(|x| x < *n),
    }
}

pub(crate) fn rego(body: &RegoBody, input: &Input<'_>) -> Decision {
    let mut granted: Vec<&String> = input.consents.granted.iter().collect();
    granted.sort();
    let doc = json!({
        "authentication_context": input.authentication_context,
        "client": input.client,
        "scopes": input.scopes,
        "request": input.request,
        "consents": granted,
    });
    let answer = match body {
        RegoBody::Local(engine) => sandbox::run(engine, doc),
        RegoBody::Isolated { pool, key, definition } => pool.evaluate(*key, definition, doc),
    };
    let (pass, reason) = match answer {
        Answer::Allow(true) => (true, None),
        Answer::Allow(false) => (false, Some(format!("{REGO_RULE} is not true"))),
        Answer::Stopped(reason) => (false, Some(reason)),
        Answer::Unknown => (false, Some("the policy worker did not keep the policy".to_owned())),
    };
    Decision {
        pass,
        failed_validator: (!pass).then(|| "rego".to_owned()),
        recovery: Vec::new(),
        reason,
    }
}

#[cfg(test)]
mod tests;
