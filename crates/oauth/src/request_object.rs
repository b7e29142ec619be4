//! Signed authorization requests (RFC 9101, JAR): the `request` parameter is a JWT signed with
//! one of the client's keys (its `jwks` or `jwks_uri`; RS256, PS256 or ES256, and the client's
//! `request_object_signing_alg` when it registered one — never `none`, never HMAC). Its claims
//! are the request: the authorization server uses only them (§5), with the outer `client_id`,
//! which the object's `client_id` and `iss` must name. `aud` must be the issuer; `exp` is required
//! and at most an hour away; `nbf`, when present, must have passed. The same object may be pushed
//! to the PAR endpoint.

use castellan_domain::SigningAlg;
use castellan_jose::jwt;
use serde_json::{Map, Value};

use crate::snapshot::ServerRuntime;
use crate::{Engine, Form};

/// Signature algorithms accepted on request objects.
pub const REQUEST_OBJECT_ALGS: [&str; 3] = ["RS256", "PS256", "ES256"];
/// Longest lifetime of a request object (seconds from now to `exp`).
const MAX_LIFETIME: i64 = 3600;
const SKEW: i64 = 30;

impl Engine {
    /// The parameters `form` stands for: the verified request object's claims (with the outer
    /// `client_id`) when it carries `request`, else `form` itself. `Err` says why the object was
    /// refused, for the person or the client to read.
    pub(crate) async fn expand_request_object(&self, rt: &ServerRuntime, form: &Form) -> Result<Form, String> {
        let Some(object) = form.get("request").map_err(|e| e.description)? else {
            return Ok(form.clone());
        };
        let client_id = form
            .get("client_id")
            .map_err(|e| e.description)?
            .ok_or("client_id is required beside a request object (RFC 9101 §5)")?;
        let client = self
            .client(rt, client_id)
            .await
            .map_err(|e| e.description)?
            .ok_or("the client is not known to this server")?;
        let parsed = jwt::parse(object).ok_or("the request object is not a signed JWT")?;
        let alg_name = parsed.header.alg.as_str();
        if !REQUEST_OBJECT_ALGS.contains(&alg_name) {
            return Err(format!(
                "the request object's alg {alg_name} is not accepted (one of {})",
                REQUEST_OBJECT_ALGS.join(", ")
            ));
        }
        if let Some(want) = &client.settings.request_object_signing_alg
            && want != alg_name
        {
            return Err(format!("the client signs its request objects with {want}"));
        }
        let alg = SigningAlg::parse(alg_name).ok_or("unsupported alg")?;
        let keys = self
            .client_keys(&client, parsed.header.kid.as_deref())
            .await
            .map_err(|why| format!("the request object cannot be verified: {why}"))?;
        let verified = keys
            .keys
            .iter()
            .filter(|k| parsed.header.kid.is_none() || k.kid == parsed.header.kid)
            .any(|k| parsed.verify_with(k, alg));
        if !verified {
            return Err("the request object's signature does not verify with the client's keys".into());
        }
        let claims: Map<String, Value> = parsed.claims().ok_or("the request object's claims are malformed")?;
        let str_claim = |n: &str| claims.get(n).and_then(Value::as_str);
        if claims.contains_key("client_id") && str_claim("client_id") != Some(client_id) {
            return Err("the request object's client_id is not the request's".into());
        }
        if str_claim("iss") != Some(client_id) {
            return Err("the request object's iss must be the client_id".into());
        }
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => *a == rt.issuer,
            Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(rt.issuer.as_str())),
            _ => false,
        };
        if !aud_ok {
            return Err("the request object's aud must be this issuer".into());
        }
        let now = self.clock.now();
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or("the request object has no exp")?;
        if exp + SKEW < now {
            return Err("the request object has expired".into());
        }
        if exp > now + MAX_LIFETIME {
            return Err(format!(
                "the request object's exp may be at most {MAX_LIFETIME} seconds ahead"
            ));
        }
        if claims
            .get("nbf")
            .and_then(Value::as_i64)
            .is_some_and(|nbf| nbf > now + SKEW)
        {
            return Err("the request object is not valid yet (nbf)".into());
        }
        // The object's parameters, and the outer client_id (RFC 9101 §5).
        let mut pairs = vec![("client_id".to_owned(), client_id.to_owned())];
        for (k, v) in &claims {
            if matches!(
                k.as_str(),
                "iss" | "aud" | "exp" | "iat" | "nbf" | "jti" | "client_id" | "request" | "request_uri"
            ) {
                continue;
            }
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => other.to_string(),
            };
            pairs.push((k.clone(), value));
        }
        Form::new(pairs).map(Form::signed).map_err(|e| e.description)
    }
}
