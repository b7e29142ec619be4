//! The FAPI security profiles a server can be switched to (`profiles` on the server):
//! `fapi_rw` — FAPI 1.0 Advanced ("read and write") — and `fapi2` — the FAPI 2.0 Security
//! Profile. Each is a set of named rules. The ones about the server's and a client's settings are
//! checked when they are saved (the admin API and registration answer `422` naming the rule) and
//! again at every request (for clients saved before the server took the profile); the ones about
//! requests are checked at the authorization, PAR and token endpoints. Every refusal names its
//! rule (`fapi_rw.client_auth`, …).
//!
//! | rule | `fapi_rw` | `fapi2` |
//! |---|---|---|
//! | `signing_alg` | the server signs with PS256 or ES256 (`key_type` `ps` or `ecdsa`); a client's registered algorithms are PS256 or ES256 | same |
//! | `no_implicit_password` | neither the implicit nor the password grant, on the server or the client | same |
//! | `code_lifetime` | authorization codes live at most 10 minutes | at most 60 seconds |
//! | `client_auth` | confidential clients with `private_key_jwt`, `tls_client_auth` or `self_signed_tls_client_auth` | same |
//! | `sender_constrained` | the client's tokens are bound: `tls_client_certificate_bound_access_tokens` or `dpop_bound_access_tokens` | same |
//! | `response_types` | `code` or `code id_token` (whose ID token carries `c_hash` and `s_hash`; a `nonce` is required) | `code` only |
//! | `https_redirect_uris` | every redirect URI is `https` (and matched exactly, as always) | same |
//! | `pkce` | PKCE with S256, or a signed request object | PKCE with S256 |
//! | `par` | — | the request was pushed to the PAR endpoint |
//!
//! Under `fapi2` a sender-constrained confidential client's refresh token is not rotated (FAPI 2.0
//! Security Profile §5.3.2.1): refreshing answers no new refresh token and the old one stays
//! valid until it expires or its grant is revoked.

use castellan_domain::{Client, ServerSettings};

use crate::{ErrorCode, OAuthError};

pub const FAPI_RW: &str = "fapi_rw";
pub const FAPI2: &str = "fapi2";
/// The profiles a server may name.
pub const PROFILES: [&str; 2] = [FAPI_RW, FAPI2];

/// A server's security profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// FAPI 1.0 Advanced (read and write).
    FapiRw,
    /// FAPI 2.0 Security Profile.
    Fapi2,
}

/// The client authentication methods both profiles allow.
const CLIENT_AUTH: [&str; 3] = ["private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"];
const ALGS: [&str; 2] = ["PS256", "ES256"];

impl Profile {
    /// The profile `settings` name, if any (the stricter when both are named, which saving
    /// refuses).
    pub fn of(settings: &ServerSettings) -> Option<Self> {
        let has = |p: &str| settings.profiles.iter().any(|x| x == p);
        if has(FAPI2) {
            Some(Self::Fapi2)
        } else if has(FAPI_RW) {
            Some(Self::FapiRw)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::FapiRw => FAPI_RW,
            Self::Fapi2 => FAPI2,
        }
    }

    fn max_code_lifetime(self) -> u64 {
        match self {
            Self::FapiRw => 600,
            Self::Fapi2 => 60,
        }
    }

    fn response_types(self) -> &'static [&'static str] {
        match self {
            Self::FapiRw => &["code", "code id_token"],
            Self::Fapi2 => &["code"],
        }
    }

    /// Whether a parsed `response_type` (canonical order) is one the profile allows.
    pub(crate) fn allows_response_type(self, response_type: &[String]) -> bool {
        self.response_types().contains(&response_type.join(" ").as_str())
    }

    pub(crate) fn broken(self, rule: &'static str, field: &'static str, requires: impl Into<String>) -> Broken {
        Broken {
            profile: self,
            rule,
            field,
            requires: requires.into(),
        }
    }
}

/// A rule a setting or a request breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Broken {
    pub profile: Profile,
    /// The rule's name within the profile (`client_auth`, …).
    pub rule: &'static str,
    /// The setting that breaks it (for the admin API's answer).
    pub field: &'static str,
    pub requires: String,
}

impl Broken {
    /// `fapi_rw.client_auth`.
    pub fn rule_name(&self) -> String {
        format!("{}.{}", self.profile.name(), self.rule)
    }

    pub fn message(&self) -> String {
        format!("profile rule {} requires {}", self.rule_name(), self.requires)
    }

    /// The protocol error: `invalid_client` for how the client authenticates, otherwise
    /// `unauthorized_client` for the client's settings or `invalid_request` for the request.
    pub(crate) fn error(&self) -> OAuthError {
        let code = match self.rule {
            "client_auth" => ErrorCode::InvalidClient,
            "par" | "pkce" | "response_types" if self.field == "request" => ErrorCode::InvalidRequest,
            _ => ErrorCode::UnauthorizedClient,
        };
        OAuthError::new(code, self.message())
    }
}

/// The rules about a server's own settings; also that it names at most one profile.
pub fn server_rules(s: &ServerSettings) -> Result<(), Broken> {
    let Some(p) = Profile::of(s) else {
        return Ok(());
    };
    if s.profiles.iter().any(|x| x == FAPI_RW) && s.profiles.iter().any(|x| x == FAPI2) {
        return Err(p.broken("one_profile", "profiles", "one profile: fapi_rw or fapi2, not both"));
    }
    if !ALGS.contains(&s.key_type.alg().as_str()) {
        return Err(p.broken(
            "signing_alg",
            "key_type",
            "tokens signed with PS256 or ES256: key_type ps or ecdsa",
        ));
    }
    if let Some(g) = s.grant_types.iter().find(|g| *g == "implicit" || *g == "password") {
        return Err(p.broken(
            "no_implicit_password",
            "grant_types",
            format!("no implicit or password grant ({g} is enabled)"),
        ));
    }
    if s.authorization_code_ttl.as_secs() > p.max_code_lifetime() {
        return Err(p.broken(
            "code_lifetime",
            "authorization_code_ttl",
            format!(
                "authorization codes that live at most {} seconds",
                p.max_code_lifetime()
            ),
        ));
    }
    Ok(())
}

/// The rules about a client's settings on a server with profile `p`.
pub fn client_rules(p: Profile, c: &Client) -> Result<(), Broken> {
    if !CLIENT_AUTH.contains(&c.token_endpoint_auth_method.as_str()) {
        return Err(p.broken(
            "client_auth",
            "token_endpoint_auth_method",
            "a confidential client authenticating with private_key_jwt, tls_client_auth or self_signed_tls_client_auth",
        ));
    }
    let s = &c.settings;
    if !s.tls_client_certificate_bound_access_tokens && !s.dpop_bound_access_tokens {
        return Err(p.broken(
            "sender_constrained",
            "tls_client_certificate_bound_access_tokens",
            "sender-constrained tokens: tls_client_certificate_bound_access_tokens or dpop_bound_access_tokens",
        ));
    }
    if let Some(g) = c.grant_types.iter().find(|g| *g == "implicit" || *g == "password") {
        return Err(p.broken(
            "no_implicit_password",
            "grant_types",
            format!("no implicit or password grant (the client has {g})"),
        ));
    }
    if let Some(r) = s
        .response_types
        .iter()
        .find(|r| !p.response_types().contains(&r.as_str()))
    {
        return Err(p.broken(
            "response_types",
            "response_types",
            format!(
                "response types {} only (the client has {r})",
                p.response_types().join(", ")
            ),
        ));
    }
    if let Some(u) = s.redirect_uris.iter().find(|u| !u.starts_with("https://")) {
        return Err(p.broken(
            "https_redirect_uris",
            "redirect_uris",
            format!("https redirect URIs ({u} is not)"),
        ));
    }
    for (field, alg) in [
        ("token_endpoint_auth_signing_alg", &s.token_endpoint_signing_alg),
        ("request_object_signing_alg", &s.request_object_signing_alg),
        ("id_token_signed_response_alg", &s.id_token_signed_response_alg),
    ] {
        if let Some(a) = alg.as_deref()
            && !ALGS.contains(&a)
        {
            return Err(p.broken(
                "signing_alg",
                field,
                format!("PS256 or ES256 signatures ({field} is {a})"),
            ));
        }
    }
    Ok(())
}

/// The request rules of the authorization endpoint (and of a push to the PAR endpoint), for a
/// request of `response_type` that was `pushed` and/or `signed`, with or without a PKCE
/// challenge.
pub(crate) fn request_rules(
    p: Profile,
    response_type: &[String],
    pushed: bool,
    signed: bool,
    pkce: bool,
) -> Result<(), Broken> {
    if p == Profile::Fapi2 && !pushed {
        return Err(p.broken(
            "par",
            "request",
            "pushed authorization requests: push the request to the PAR endpoint first (RFC 9126)",
        ));
    }
    if !p.allows_response_type(response_type) {
        return Err(p.broken(
            "response_types",
            "request",
            format!("response_type {}", p.response_types().join(" or ")),
        ));
    }
    let code = response_type.iter().any(|r| r == "code");
    if code && !pkce && (p == Profile::Fapi2 || !signed) {
        return Err(p.broken(
            "pkce",
            "request",
            match p {
                Profile::FapiRw => "PKCE with S256 (code_challenge) or a signed request object",
                Profile::Fapi2 => "PKCE with S256 (code_challenge)",
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn request_rules_name_what_each_profile_requires() {
        let rule = |p, r: &[&str], pushed, signed, pkce| {
            request_rules(p, &rt(r), pushed, signed, pkce)
                .err()
                .map(|b| b.rule_name())
        };
        // fapi_rw: PKCE, or a signed request object instead.
        assert_eq!(rule(Profile::FapiRw, &["code"], false, false, true), None);
        assert_eq!(rule(Profile::FapiRw, &["code"], false, true, false), None);
        assert_eq!(
            rule(Profile::FapiRw, &["code"], false, false, false).as_deref(),
            Some("fapi_rw.pkce")
        );
        assert_eq!(rule(Profile::FapiRw, &["code", "id_token"], false, false, true), None);
        assert_eq!(
            rule(Profile::FapiRw, &["code", "token"], false, false, true).as_deref(),
            Some("fapi_rw.response_types")
        );
        // fapi2: pushed, code only, PKCE even with a request object.
        assert_eq!(rule(Profile::Fapi2, &["code"], true, false, true), None);
        assert_eq!(
            rule(Profile::Fapi2, &["code"], false, false, true).as_deref(),
            Some("fapi2.par")
        );
        assert_eq!(
            rule(Profile::Fapi2, &["code"], true, true, false).as_deref(),
            Some("fapi2.pkce")
        );
        assert_eq!(
            rule(Profile::Fapi2, &["code", "id_token"], true, false, true).as_deref(),
            Some("fapi2.response_types")
        );
    }

    #[test]
    fn server_rules_allow_a_compliant_server_and_only_one_profile() {
        let mut s = ServerSettings {
            key_type: castellan_domain::KeyType::Ps,
            grant_types: rt(&["authorization_code", "refresh_token"]),
            authorization_code_ttl: castellan_domain::GoDuration::from_secs(60),
            profiles: rt(&[FAPI2]),
            ..ServerSettings::default()
        };
        assert_eq!(server_rules(&s), Ok(()));
        s.profiles = rt(&[FAPI_RW, FAPI2]);
        assert_eq!(server_rules(&s).unwrap_err().rule, "one_profile");
        s.profiles = Vec::new();
        s.key_type = castellan_domain::KeyType::Rsa;
        assert_eq!(server_rules(&s), Ok(()), "no profile, no rules");
    }
}
