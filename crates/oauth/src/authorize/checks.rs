//! The checks of an authorization request, one function each, in the order
//! [`Engine::authorize_request`](crate::Engine::authorize_request) runs them: the redirect URI
//! (shown to the person when wrong), then the response type, scopes, PKCE, prompt and max_age
//! (sent back to the client).

use castellan_domain::Client;
use castellan_jose::b64url_decode;

use super::AuthorizeError;
use crate::snapshot::ServerRuntime;
use crate::{ErrorCode, Form, OAuthError};

/// Response types (RFC 6749 §3.1.1, OAuth 2.0 Multiple Response Types §5) in canonical order.
pub(super) fn parse_response_type(v: &str) -> Option<Vec<String>> {
    let mut parts: Vec<&str> = v.split(' ').filter(|s| !s.is_empty()).collect();
    parts.sort_unstable_by_key(|p| match *p {
        "code" => 0,
        "id_token" => 1,
        "token" => 2,
        _ => 3,
    });
    parts.dedup();
    if parts.is_empty() || parts.iter().any(|p| !matches!(*p, "code" | "id_token" | "token")) {
        return None;
    }
    Some(parts.into_iter().map(str::to_owned).collect())
}

/// A parameter, with a repeated one reported to the client.
pub(super) fn check<'a>(
    r: Result<Option<&'a str>, OAuthError>,
    fail: &dyn Fn(ErrorCode, &str) -> AuthorizeError,
) -> Result<Option<&'a str>, AuthorizeError> {
    r.map_err(|e| fail(e.code, &e.description))
}

pub(super) fn is_s256_challenge(c: &str) -> bool {
    c.len() == 43 && b64url_decode(c).is_some_and(|b| b.len() == 32)
}

/// The redirect URI to answer at (and whether the request named it): one the client registered,
/// matched exactly (RFC 9700 §4.1.3), or its only one. Until this holds, errors are pages.
pub(super) fn registered_redirect_uri(form: &Form, client: &Client) -> Result<(String, bool), AuthorizeError> {
    let registered = &client.settings.redirect_uris;
    match form
        .get("redirect_uri")
        .map_err(|e| AuthorizeError::Page(e.description))?
    {
        Some(r) if registered.iter().any(|u| u == r) => Ok((r.to_owned(), true)),
        Some(_) => Err(AuthorizeError::Page(
            "The application asked to send you to an address it has not registered (redirect_uri).".into(),
        )),
        None if registered.len() == 1 => Ok((registered[0].clone(), false)),
        None => Err(AuthorizeError::Page(
            "The request does not say where to send you back (redirect_uri is missing).".into(),
        )),
    }
}

pub(super) type Fail<'a> = &'a dyn Fn(ErrorCode, &str) -> AuthorizeError;

/// The response type needs its grants on the server (`unsupported_response_type`) and on the
/// client, which must also list it (`unauthorized_client`); a response type with a token or an ID
/// token needs the implicit grant, except `code id_token` under a FAPI profile.
pub(super) fn response_type_allowed(
    rt: &ServerRuntime,
    client: &Client,
    response_type: &[String],
    fail: Fail<'_>,
) -> Result<(), AuthorizeError> {
    let server_has = |g: &str| rt.server.settings.grant_types.iter().any(|x| x == g);
    let client_has = |g: &str| client.grant_types.iter().any(|x| x == g);
    let code = response_type.iter().any(|r| r == "code");
    // Under fapi_rw the hybrid `code id_token` is the code flow with a detached signature (FAPI
    // 1.0 Advanced §5.2.2), not the implicit grant the profile forbids.
    let fapi_hybrid =
        crate::fapi::Profile::of(&rt.server.settings).is_some() && response_type.join(" ") == "code id_token";
    let implicit = response_type.iter().any(|r| r != "code") && !fapi_hybrid;
    if (code && !server_has("authorization_code")) || (implicit && !server_has("implicit")) {
        return Err(fail(
            ErrorCode::UnsupportedResponseType,
            "this response_type is disabled on this server",
        ));
    }
    let joined = response_type.join(" ");
    if (code && !client_has("authorization_code"))
        || (implicit && !client_has("implicit"))
        || !client
            .settings
            .response_types
            .iter()
            .any(|r| parse_response_type(r).is_some_and(|p| p.join(" ") == joined))
    {
        return Err(fail(
            ErrorCode::UnauthorizedClient,
            "the client may not use this response_type",
        ));
    }
    Ok(())
}

/// Scopes: each the client's and existing on the server (`invalid_scope`), named once; none
/// requested means all the client's.
pub(super) fn requested_scopes(
    form: &Form,
    rt: &ServerRuntime,
    client: &Client,
    fail: Fail<'_>,
) -> Result<Vec<String>, AuthorizeError> {
    Ok(match check(form.get("scope"), fail)? {
        Some(requested) => {
            let mut out: Vec<String> = Vec::new();
            for s in requested.split(' ').filter(|s| !s.is_empty()) {
                if !client.settings.scopes.iter().any(|c| c == s) || !rt.scopes.contains_key(s) {
                    return Err(fail(
                        ErrorCode::InvalidScope,
                        &format!("scope {s} is not allowed for this client"),
                    ));
                }
                if !out.iter().any(|x| x == s) {
                    out.push(s.to_owned());
                }
            }
            out
        }
        None => client
            .settings
            .scopes
            .iter()
            .filter(|s| rt.scopes.contains_key(*s))
            .cloned()
            .collect(),
    })
}

/// PKCE (RFC 7636): S256 only and well formed; required of public clients, and of every client
/// of a server that enforces it, when a code is asked for.
pub(super) fn pkce_challenge(
    form: &Form,
    rt: &ServerRuntime,
    client: &Client,
    code: bool,
    fail: Fail<'_>,
) -> Result<Option<String>, AuthorizeError> {
    let challenge = check(form.get("code_challenge"), fail)?;
    let method = check(form.get("code_challenge_method"), fail)?;
    let code_challenge = match (challenge, method) {
        (None, Some(_)) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method without code_challenge",
            ));
        }
        (Some(_), Some(m)) if m != "S256" => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256 (plain is not accepted)",
            ));
        }
        (Some(_), None) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256 (plain is not accepted)",
            ));
        }
        (Some(c), Some(_)) if !is_s256_challenge(c) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge must be 43 base64url characters (S256)",
            ));
        }
        (c, _) => c.map(str::to_owned),
    };
    if code && code_challenge.is_none() && (client.settings.public || rt.server.settings.enforce_pkce) {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "code_challenge (PKCE, S256) is required",
        ));
    }
    Ok(code_challenge)
}

/// `prompt` (`none` alone, or `login`, `consent`, `select_account`) and `max_age` (seconds, not
/// negative).
pub(super) fn prompt_and_max_age(form: &Form, fail: Fail<'_>) -> Result<(Vec<String>, Option<i64>), AuthorizeError> {
    let prompt: Vec<String> = check(form.get("prompt"), fail)?
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(p) = prompt
        .iter()
        .find(|p| !matches!(p.as_str(), "none" | "login" | "consent" | "select_account"))
    {
        return Err(fail(
            ErrorCode::InvalidRequest,
            &format!("unsupported prompt value {p}"),
        ));
    }
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "prompt none cannot be combined with other values",
        ));
    }
    let max_age = match check(form.get("max_age"), fail)? {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return Err(fail(
                    ErrorCode::InvalidRequest,
                    "max_age must be a non-negative integer",
                ));
            }
        },
    };
    Ok((prompt, max_age))
}
