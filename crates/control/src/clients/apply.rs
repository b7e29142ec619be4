//! The rules a client request is checked and applied by (Cloudentity ACP `ClientRequest` onto a
//! stored client, against its server): grant types, auth methods, redirect and fetch URLs,
//! scopes, secrets, and the fields of features Castellan keeps but does not act on yet.

use crate::validate::name as check_name;
use crate::validate::{check_fetch_url, check_redirect_uri, check_url};
use crate::{Control, ControlError, ControlResult};
use castellan_domain::{AuthorizationServer, Client};
use castellan_jose::generate_secret;
use castellan_types as wire;

use super::{AUTH_METHODS, MAX_LIST, MIN_CLIENT_SECRET_LEN, RESPONSE_TYPES};

fn check_list(field: &str, v: &[String]) -> ControlResult<()> {
    if v.len() > MAX_LIST {
        return Err(ControlError::invalid(field, format!("at most {MAX_LIST} entries")));
    }
    Ok(())
}

/// Most custom access-token claims a client may have.
const MAX_TOKEN_ATTRIBUTES: usize = 50;

/// A client's custom access-token claims, checked: names not Castellan's own claims nor
/// repeated, `type` `static` or `dynamic` (any letter case), templates that can be filled in.
pub(crate) fn check_token_attributes(
    attrs: &[wire::TokenAttribute],
) -> ControlResult<Vec<castellan_domain::TokenAttribute>> {
    if attrs.len() > MAX_TOKEN_ATTRIBUTES {
        return Err(ControlError::invalid(
            "token_attributes",
            format!("at most {MAX_TOKEN_ATTRIBUTES} entries"),
        ));
    }
    let mut out: Vec<castellan_domain::TokenAttribute> = Vec::new();
    for (i, a) in attrs.iter().enumerate() {
        let name = a.name.trim();
        if name.is_empty() || name.len() > 128 {
            return Err(ControlError::invalid(
                format!("token_attributes[{i}].name"),
                "must be 1 to 128 characters",
            ));
        }
        if castellan_oauth::issue::is_reserved_access_claim(name) {
            return Err(ControlError::invalid(
                format!("token_attributes[{i}].name"),
                format!("{name} is a claim Castellan sets itself"),
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(ControlError::invalid(
                format!("token_attributes[{i}].name"),
                format!("{name} is given twice"),
            ));
        }
        if a.value.len() > 1024 {
            return Err(ControlError::invalid(
                format!("token_attributes[{i}].value"),
                "must be at most 1024 characters",
            ));
        }
        let dynamic = match a.type_.to_ascii_lowercase().as_str() {
            "" | "static" => false,
            "dynamic" => true,
            _ => {
                return Err(ControlError::invalid(
                    format!("token_attributes[{i}].type"),
                    "must be static or dynamic",
                ));
            }
        };
        if dynamic {
            castellan_oauth::attributes::check_template(&a.value)
                .map_err(|why| ControlError::invalid(format!("token_attributes[{i}].value"), why))?;
        }
        out.push(castellan_domain::TokenAttribute {
            name: name.to_owned(),
            value: a.value.clone(),
            dynamic,
        });
    }
    Ok(out)
}

impl Control {
    /// Applies and validates the fields of `req` onto `c`, checked against its server. Returns the
    /// new secret when one must be (re)hashed: `(secret, generated)`.
    pub(crate) async fn apply_client(
        &self,
        server: &AuthorizationServer,
        c: &mut Client,
        req: wire::ClientRequest,
        creating: bool,
        known_scopes: Option<&std::collections::BTreeSet<String>>,
    ) -> ControlResult<Option<(String, bool)>> {
        apply_request_and_tls_fields(c, &req)?;
        if let Some(alg) = &req.id_token_signed_response_alg {
            let own = server.settings.key_type.alg().as_str();
            if !alg.is_empty() && alg != "RS256" && alg != own {
                return Err(ControlError::invalid(
                    "id_token_signed_response_alg",
                    format!("must be RS256 or {own} (the algorithm of the server's key_type)"),
                ));
            }
            c.settings.id_token_signed_response_alg = (!alg.is_empty()).then(|| alg.clone());
        }
        if let Some(name) = req.client_name {
            check_name("client_name", &name)?;
            c.name = name;
        }
        if let Some(gts) = req.grant_types {
            check_list("grant_types", &gts)?;
            for (i, g) in gts.iter().enumerate() {
                if !server.settings.grant_types.contains(g) {
                    return Err(ControlError::invalid(
                        format!("grant_types[{i}]"),
                        format!("{g:?} is not enabled on authorization server {}", server.id),
                    ));
                }
            }
            let mut out: Vec<String> = Vec::new();
            for g in gts {
                if !out.contains(&g) {
                    out.push(g);
                }
            }
            c.grant_types = out;
        }
        if let Some(rts) = req.response_types {
            check_list("response_types", &rts)?;
            for (i, r) in rts.iter().enumerate() {
                if !RESPONSE_TYPES.contains(&r.as_str()) {
                    return Err(ControlError::invalid(
                        format!("response_types[{i}]"),
                        format!("unsupported response type {r:?}"),
                    ));
                }
            }
            c.settings.response_types = rts;
        } else if creating && c.grant_types.iter().any(|g| g == "authorization_code") {
            c.settings.response_types = vec!["code".into()];
        }
        let stated_public = req.public;
        if let Some(public) = req.public {
            c.settings.public = public;
            if public && req.token_endpoint_auth_method.is_none() {
                c.token_endpoint_auth_method = "none".into();
            }
        }
        if let Some(m) = req.token_endpoint_auth_method {
            if !AUTH_METHODS.contains(&m.as_str()) {
                return Err(ControlError::invalid(
                    "token_endpoint_auth_method",
                    format!("must be one of {}", AUTH_METHODS.join(", ")),
                ));
            }
            c.token_endpoint_auth_method = m;
        }
        c.settings.public = c.token_endpoint_auth_method == "none";
        // A stated `public` that the authentication method contradicts is refused, not quietly
        // turned into its opposite.
        if let Some(public) = stated_public
            && public != c.settings.public
        {
            return Err(ControlError::invalid(
                "public",
                format!(
                    "public: {public} contradicts token_endpoint_auth_method {}; a public client authenticates with none, a confidential one with a secret or a key",
                    c.token_endpoint_auth_method
                ),
            ));
        }
        if let Some(uris) = req.redirect_uris {
            check_list("redirect_uris", &uris)?;
            for (i, u) in uris.iter().enumerate() {
                check_redirect_uri(&format!("redirect_uris[{i}]"), u)?;
            }
            c.settings.redirect_uris = uris;
        }
        if let Some(uris) = req.post_logout_redirect_uris {
            check_list("post_logout_redirect_uris", &uris)?;
            for (i, u) in uris.iter().enumerate() {
                check_redirect_uri(&format!("post_logout_redirect_uris[{i}]"), u)?;
            }
            c.settings.post_logout_redirect_uris = uris;
        }
        let scopes = req
            .scopes
            .or_else(|| req.scope.map(|s| s.split_whitespace().map(str::to_owned).collect()));
        if let Some(scopes) = scopes {
            check_list("scopes", &scopes)?;
            match known_scopes {
                Some(known) => crate::scopes::scopes_among(server, &scopes, |n| known.contains(n))?,
                None => self.check_scopes_exist(server, &scopes).await?,
            }
            let mut out: Vec<String> = Vec::new();
            for s in scopes {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            c.settings.scopes = out;
        }
        if let Some(aud) = req.audience {
            check_list("audience", &aud)?;
            if let Some(i) = aud.iter().position(|a| a.trim().is_empty() || a.len() > 512) {
                return Err(ControlError::invalid(
                    format!("audience[{i}]"),
                    "must be 1 to 512 characters",
                ));
            }
            c.settings.audience = aud;
        }
        if let Some(v) = req.trusted {
            c.settings.trusted = v;
        }
        if let Some(v) = req.require_pushed_authorization_requests {
            c.settings.require_pushed_authorization_requests = v;
        }
        if let Some(v) = req.dpop_bound_access_tokens {
            c.settings.dpop_bound_access_tokens = v;
        }
        if let Some(jwks) = req.jwks {
            for (i, k) in jwks.keys.iter().enumerate() {
                if k.d.is_some() {
                    return Err(ControlError::invalid(format!("jwks.keys[{i}]"), "must be a public key"));
                }
                if !["RSA", "EC", "OKP"].contains(&k.kty.as_str()) {
                    return Err(ControlError::invalid(
                        format!("jwks.keys[{i}].kty"),
                        "must be RSA, EC or OKP",
                    ));
                }
            }
            c.settings.jwks = (!jwks.keys.is_empty()).then_some(jwks);
        }
        if let Some(v) = req.jwks_uri {
            if !v.is_empty() {
                check_fetch_url("jwks_uri", &v)?;
            }
            c.settings.jwks_uri = (!v.is_empty()).then_some(v);
        }
        for (field, v, slot) in [
            ("client_uri", req.client_uri, &mut c.settings.client_uri),
            ("logo_uri", req.logo_uri, &mut c.settings.logo_uri),
            ("policy_uri", req.policy_uri, &mut c.settings.policy_uri),
            ("tos_uri", req.tos_uri, &mut c.settings.tos_uri),
        ] {
            if let Some(v) = v {
                if !v.is_empty() {
                    check_url(field, &v)?;
                }
                *slot = (!v.is_empty()).then_some(v);
            }
        }
        for (field, v, slot, max) in [
            ("description", req.description, &mut c.settings.description, 1024),
            ("developer_id", req.developer_id, &mut c.settings.developer_id, 128),
            (
                "token_endpoint_signing_alg",
                req.token_endpoint_signing_alg,
                &mut c.settings.token_endpoint_signing_alg,
                16,
            ),
        ] {
            if let Some(v) = v {
                if v.chars().count() > max {
                    return Err(ControlError::invalid(
                        field,
                        format!("must be at most {max} characters"),
                    ));
                }
                *slot = (!v.is_empty()).then_some(v);
            }
        }
        if let Some(p) = req.privacy {
            c.settings.privacy = Some(serde_json::Value::Object(p));
        }
        if let Some(v) = req.client_secret_expires_at {
            if v < 0 {
                return Err(ControlError::invalid(
                    "client_secret_expires_at",
                    "must be 0 (never) or a Unix time",
                ));
            }
            c.settings.client_secret_expires_at = v;
        }
        if let Some(attrs) = req.token_attributes {
            c.settings.token_attributes = check_token_attributes(&attrs)?;
        }
        if let Some(w) = &req.workspace {
            let (settings, _warnings) = self.workspace_settings(server, c, w).map_err(|e| match e {
                ControlError::Invalid { field, reason } => ControlError::Invalid {
                    field: format!("workspace.{field}"),
                    reason,
                },
                other => other,
            })?;
            c.settings.workspace = Some(settings);
        }
        let method = c.token_endpoint_auth_method.as_str();
        if matches!(method, "private_key_jwt" | "self_signed_tls_client_auth")
            && c.settings.jwks.is_none()
            && c.settings.jwks_uri.is_none()
        {
            return Err(ControlError::invalid(
                "jwks",
                format!("{method} needs the client's public keys in jwks or jwks_uri"),
            ));
        }
        if method == "tls_client_auth" {
            check_tls_client_auth_names(&c.settings.tls_client_auth)?;
        }
        if !c.settings.public && c.grant_types.is_empty() {
            return Err(ControlError::invalid(
                "grant_types",
                "at least one grant type is required",
            ));
        }
        if c.settings.public && c.grant_types.iter().any(|g| g == "client_credentials") {
            return Err(ControlError::invalid(
                "grant_types",
                "a public client (token_endpoint_auth_method none) cannot use client_credentials",
            ));
        }

        // A FAPI profile of the server (its rules, named in the answer).
        if let Some(p) = castellan_oauth::fapi::Profile::of(&server.settings) {
            castellan_oauth::fapi::client_rules(p, c).map_err(|b| ControlError::invalid(b.field, b.message()))?;
        }

        // Secrets: public clients have none; others keep theirs, take the given one, or get one.
        if c.settings.public {
            if req.client_secret.as_deref().is_some_and(|s| !s.is_empty()) {
                return Err(ControlError::invalid("client_secret", "a public client has no secret"));
            }
            c.secret_hash = None;
            c.secret_sealed = None;
            return Ok(None);
        }
        match req.client_secret.filter(|s| !s.is_empty()) {
            Some(s) => {
                if s.chars().count() < MIN_CLIENT_SECRET_LEN || s.len() > 512 {
                    return Err(ControlError::invalid(
                        "client_secret",
                        format!("must be {MIN_CLIENT_SECRET_LEN} to 512 characters"),
                    ));
                }
                Ok(Some((s, false)))
            }
            None if c.secret_hash.is_none() => Ok(Some((generate_secret(), true))),
            None => Ok(None),
        }
    }
}

/// Cloudentity ACP client fields for features Castellan does not offer yet: each is validated and kept,
/// or refused with a 400 when it would ask for behaviour that is not there (so nothing a caller
/// sets is silently dropped or silently not applied).
fn apply_request_and_tls_fields(c: &mut Client, req: &wire::ClientRequest) -> ControlResult<()> {
    let s = &mut c.settings;
    if let Some(alg) = &req.request_object_signing_alg {
        if !alg.is_empty() && alg != "none" && castellan_domain::SigningAlg::parse(alg).is_none() {
            return Err(ControlError::invalid(
                "request_object_signing_alg",
                "must be none, RS256, PS256 or ES256",
            ));
        }
        s.request_object_signing_alg = (!alg.is_empty()).then(|| alg.clone());
    }
    if let Some(uris) = &req.request_uris {
        check_list("request_uris", uris)?;
        for (i, u) in uris.iter().enumerate() {
            check_fetch_url(&format!("request_uris[{i}]"), u)?;
        }
        s.request_uris = uris.clone();
    }
    if let Some(u) = &req.sector_identifier_uri {
        if !u.is_empty() {
            check_fetch_url("sector_identifier_uri", u)?;
        }
        s.sector_identifier_uri = (!u.is_empty()).then(|| u.clone());
    }
    if let Some(alg) = &req.userinfo_signed_response_alg {
        if !alg.is_empty() && alg != "none" {
            return Err(ControlError::invalid(
                "userinfo_signed_response_alg",
                "signed userinfo responses are not offered; use none (plain JSON)",
            ));
        }
        s.userinfo_signed_response_alg = (!alg.is_empty()).then(|| alg.clone());
    }
    if let Some(v) = req.tls_client_certificate_bound_access_tokens {
        s.tls_client_certificate_bound_access_tokens = v;
    }
    let names = &mut s.tls_client_auth;
    for (field, v, slot) in [
        (
            "tls_client_auth_subject_dn",
            &req.tls_client_auth_subject_dn,
            &mut names.subject_dn,
        ),
        (
            "tls_client_auth_san_dns",
            &req.tls_client_auth_san_dns,
            &mut names.san_dns,
        ),
        (
            "tls_client_auth_san_uri",
            &req.tls_client_auth_san_uri,
            &mut names.san_uri,
        ),
        ("tls_client_auth_san_ip", &req.tls_client_auth_san_ip, &mut names.san_ip),
        (
            "tls_client_auth_san_email",
            &req.tls_client_auth_san_email,
            &mut names.san_email,
        ),
    ] {
        if let Some(v) = v {
            if v.chars().count() > 1024 || v.chars().any(char::is_control) {
                return Err(ControlError::invalid(
                    field,
                    "must be at most 1024 characters without control characters",
                ));
            }
            *slot = (!v.is_empty()).then(|| v.clone());
        }
    }
    Ok(())
}

/// RFC 8705 §2.1.2: a `tls_client_auth` client registers exactly one of the subject DN and the
/// subject alternative names, in a form its certificate can be compared with.
fn check_tls_client_auth_names(n: &castellan_domain::TlsClientAuthNames) -> ControlResult<()> {
    let set = [
        n.subject_dn.is_some(),
        n.san_dns.is_some(),
        n.san_uri.is_some(),
        n.san_ip.is_some(),
        n.san_email.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if set != 1 {
        return Err(ControlError::invalid(
            "tls_client_auth_subject_dn",
            "tls_client_auth needs exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, \
             tls_client_auth_san_uri, tls_client_auth_san_ip and tls_client_auth_san_email",
        ));
    }
    if let Some(dn) = &n.subject_dn
        && castellan_oauth::mtls::parse_dn(dn).is_none()
    {
        return Err(ControlError::invalid(
            "tls_client_auth_subject_dn",
            "must be a distinguished name as RFC 4514 writes it, e.g. CN=shop,O=Example Corp,C=DE",
        ));
    }
    if let Some(ip) = &n.san_ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        return Err(ControlError::invalid(
            "tls_client_auth_san_ip",
            "must be an IPv4 or IPv6 address",
        ));
    }
    Ok(())
}
