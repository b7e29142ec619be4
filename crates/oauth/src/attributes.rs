//! A client's custom access-token attributes (Oracle Access Manager `attributes`): `STATIC`
//! values are copied as given; `DYNAMIC` values are templates whose `${…}` variables are filled
//! in at issuance. A variable without a value (a client's own token has no `user`) omits the
//! attribute rather than issuing a half-filled value.

use castellan_domain::Client;
use serde_json::{Map, Value};

/// The variables a template may use; `user.` is followed by an attribute path of the person's
/// authentication context (`user.email`, `user.address.country`), or `user.sub`.
pub const VARIABLES: [&str; 6] = [
    "client.id",
    "client.name",
    "request.scope",
    "request.grant_type",
    "server.id",
    "tenant.id",
];

/// One piece of a template.
enum Part<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn parse(template: &str) -> Result<Vec<Part<'_>>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find("${") {
        if at > 0 {
            parts.push(Part::Text(&rest[..at]));
        }
        let after = &rest[at + 2..];
        let end = after.find('}').ok_or_else(|| "a ${ is not closed by }".to_owned())?;
        let var = after[..end].trim();
        check_variable(var)?;
        parts.push(Part::Var(var));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Ok(parts)
}

fn check_variable(var: &str) -> Result<(), String> {
    if VARIABLES.contains(&var) {
        return Ok(());
    }
    if let Some(path) = var.strip_prefix("user.")
        && !path.is_empty()
        && path.split('.').all(|p| !p.is_empty())
    {
        return Ok(());
    }
    Err(format!(
        "unknown template variable ${{{var}}}; use user.<attribute>, {}",
        VARIABLES.join(", ")
    ))
}

/// Whether `template` is a template Castellan can fill in (the admin APIs refuse others).
pub fn check_template(template: &str) -> Result<(), String> {
    parse(template).map(|_| ())
}

/// What a template is filled in from.
pub(crate) struct Facts<'a> {
    /// The person the token is about (`None`: a client's own token).
    pub person: Option<(&'a str, &'a Map<String, Value>)>,
    pub client: &'a Client,
    pub scope: &'a str,
    pub grant: &'a str,
    pub server: &'a str,
    pub tenant: &'a str,
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        other => Some(other.to_string()),
    }
}

fn fill(template: &str, f: &Facts<'_>) -> Option<String> {
    let parts = parse(template).ok()?;
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Var(v) => {
                let value = match v {
                    "client.id" => f.client.id.to_string(),
                    "client.name" => f.client.name.clone(),
                    "request.scope" => f.scope.to_owned(),
                    "request.grant_type" => f.grant.to_owned(),
                    "server.id" => f.server.to_owned(),
                    "tenant.id" => f.tenant.to_owned(),
                    user => {
                        let (sub, ctx) = f.person?;
                        let path = user.strip_prefix("user.")?;
                        if path == "sub" {
                            sub.to_owned()
                        } else {
                            text_of(crate::access_token::lookup(ctx, path)?)?
                        }
                    }
                };
                out.push_str(&value);
            }
        }
    }
    Some(out)
}

/// Adds the client's attributes to `extra` (claims already there, and reserved names, win).
pub(crate) fn add(extra: &mut Map<String, Value>, f: &Facts<'_>) {
    for a in &f.client.settings.token_attributes {
        if crate::access_token::RESERVED.contains(&a.name.as_str()) || extra.contains_key(&a.name) {
            continue;
        }
        let value = if a.dynamic {
            fill(&a.value, f)
        } else {
            Some(a.value.clone())
        };
        if let Some(v) = value {
            extra.insert(a.name.clone(), Value::String(v));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn templates_are_checked() {
        assert!(check_template("plain").is_ok());
        assert!(check_template("${user.email}").is_ok());
        assert!(check_template("x-${client.id}-${request.scope}").is_ok());
        assert!(check_template("${user.address.country}").is_ok());
        assert!(check_template("${user.}").is_err());
        assert!(check_template("${nope}").is_err());
        assert!(check_template("${client.id").is_err());
        assert!(check_template("$ and {} alone").is_ok());
    }
}
