//! Constraints of the request schemas (`required`, `pattern`, `minLength`/`maxLength`, `enum`,
//! `readOnly`), added to the generated API description from the same constants the server checks
//! with, so a schema-valid request is one the server takes and a request the server refuses
//! breaks the schema. What no JSON Schema can say (an object that must exist, a rule between two
//! members, a lifetime of at most ten years) is in the member's description.

use serde_json::{Map, Value, json};

mod rules;
#[cfg(test)]
mod tests;

use rules::{
    ALWAYS_REQUIRED, At, CLOSED, READ_ONLY, READ_ONLY_ON_UPDATE, REQUIRED_ON_CREATE, create_rules, members, parameters,
    rules, update_name,
};

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
            if schema.get("anyOf").is_none() && schema.get("type").is_none() {
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
    let s = schemas.get_mut(schema)?;
    if s.get("properties").and_then(|p| p.get(member)).is_some() {
        return s.get_mut("properties")?.get_mut(member);
    }
    // A struct with a flattened part is an `allOf` of the part and an object of its own members.
    s.get_mut("allOf")?
        .as_array_mut()?
        .iter_mut()
        .find_map(|part| part.get_mut("properties")?.get_mut(member))
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
