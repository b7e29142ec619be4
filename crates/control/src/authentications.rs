//! Login methods of a server (`PUT /api/admin/{tid}/servers/{aid}/authentications`).
//!
//! Write-only members never reach storage or responses in the clear: static users' passwords are
//! argon2id-hashed, upstream client secrets are sealed. A method or user sent without its secret
//! keeps the one already stored, so a GET → edit → PUT round trip loses nothing.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use castellan_domain::{AuthorizationServer, ServerId, StoredAuthMethod, TenantId};
use castellan_jose::{b64url, password};
use castellan_types as wire;

use crate::access::need;
use crate::error::Named;
use crate::{Allowed, Control, ControlError, ControlResult};

pub(crate) const METHODS: [&str; 5] = ["static", "oidc", "azure", "cognito", "custom"];
const MAX_METHODS: usize = 32;
const MAX_STATIC_USERS: usize = 1000;
const MAX_PASSWORD_LEN: usize = 1024;
const MAX_MAPPINGS: usize = 64;
const MAX_ATTRIBUTES: usize = 256;
/// Conversions a mapping may ask for.
pub(crate) const MAPPING_TYPES: [&str; 6] = ["any", "string", "number", "bool", "string_array", "object"];
/// How Castellan may authenticate at an upstream provider's token endpoint.
const UPSTREAM_AUTH: [&str; 3] = ["client_secret_basic", "client_secret_post", "private_key_jwt"];

/// `Ok` for an absolute `http`/`https` URL without a fragment.
fn check_url(at: String, url: &str) -> ControlResult<()> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && !url.contains('#')
        && !url.contains(char::is_whitespace)
        && url
            .split("://")
            .nth(1)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if ok {
        Ok(())
    } else {
        Err(ControlError::invalid(
            at,
            "must be an absolute http or https URL without a fragment",
        ))
    }
}

/// `Ok` when `value` is set (a required member of a provider block).
fn required(at: String, value: &str) -> ControlResult<()> {
    if value.trim().is_empty() {
        return Err(ControlError::invalid(at, "required"));
    }
    if value.len() > 256 {
        return Err(ControlError::invalid(at, "at most 256 characters"));
    }
    Ok(())
}

/// Checks the provider block of an upstream method and fills its read-only `redirect_url`.
fn check_provider(
    m: &mut wire::AuthenticationMethod,
    callback: &str,
    at: &dyn Fn(&str) -> String,
) -> ControlResult<()> {
    if let Some(o) = m.oidc.as_mut().filter(|_| m.method == "oidc") {
        check_url(at("oidc.issuer_url"), &o.issuer_url)?;
        required(at("oidc.client_id"), &o.client_id)?;
        if let Some(a) = &o.token_endpoint_auth_method
            && !UPSTREAM_AUTH.contains(&a.as_str())
        {
            return Err(ControlError::invalid(
                at("oidc.token_endpoint_auth_method"),
                format!("must be one of {}", UPSTREAM_AUTH.join(", ")),
            ));
        }
        o.redirect_url = callback.to_owned();
    }
    if let Some(o) = m.azure.as_mut().filter(|_| m.method == "azure") {
        required(at("azure.tenant"), &o.tenant)?;
        if !o
            .tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(ControlError::invalid(at("azure.tenant"), "a tenant id or domain name"));
        }
        required(at("azure.client_id"), &o.client_id)?;
        o.redirect_url = callback.to_owned();
    }
    if let Some(o) = m.cognito.as_mut().filter(|_| m.method == "cognito") {
        required(at("cognito.region"), &o.region)?;
        required(at("cognito.pool_id"), &o.pool_id)?;
        for (name, v) in [("region", &o.region), ("pool_id", &o.pool_id)] {
            if !v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) {
                return Err(ControlError::invalid(
                    at(&format!("cognito.{name}")),
                    "letters, digits, '-' or '_'",
                ));
            }
        }
        required(at("cognito.client_id"), &o.client_id)?;
        o.redirect_url = callback.to_owned();
    }
    if let Some(c) = m.custom.as_mut().filter(|_| m.method == "custom") {
        check_url(at("custom.login_url"), &c.login_url)?;
        if c.client_id.len() > 256 {
            return Err(ControlError::invalid(at("custom.client_id"), "at most 256 characters"));
        }
    }
    Ok(())
}

/// Checks the `mappings` and `attributes` of a method.
fn check_shaping(m: &mut wire::AuthenticationMethod, at: &dyn Fn(&str) -> String) -> ControlResult<()> {
    if m.mappings.len() > MAX_MAPPINGS {
        return Err(ControlError::invalid(
            at("mappings"),
            format!("at most {MAX_MAPPINGS} mappings"),
        ));
    }
    for (j, map) in m.mappings.iter_mut().enumerate() {
        for (name, v) in [("source", &map.source), ("target", &map.target)] {
            if v.trim().is_empty() || v.len() > 256 {
                return Err(ControlError::invalid(
                    at(&format!("mappings[{j}].{name}")),
                    "must be 1 to 256 characters",
                ));
            }
        }
        if map.type_.is_empty() {
            map.type_ = "any".into();
        }
        if !MAPPING_TYPES.contains(&map.type_.as_str()) {
            return Err(ControlError::invalid(
                at(&format!("mappings[{j}].type")),
                format!("must be one of {}", MAPPING_TYPES.join(", ")),
            ));
        }
    }
    if m.attributes.len() > MAX_ATTRIBUTES {
        return Err(ControlError::invalid(
            at("attributes"),
            format!("at most {MAX_ATTRIBUTES} attributes"),
        ));
    }
    for (j, a) in m.attributes.iter().enumerate() {
        if a.name.trim().is_empty() || a.name.len() > 256 {
            return Err(ControlError::invalid(
                at(&format!("attributes[{j}].name")),
                "must be 1 to 256 characters",
            ));
        }
    }
    Ok(())
}

/// Takes the upstream client secret out of whichever provider block the method has.
fn take_client_secret(m: &mut wire::AuthenticationMethod) -> Option<String> {
    [
        m.oidc.as_mut().and_then(|o| o.client_secret.take()),
        m.azure.as_mut().and_then(|o| o.client_secret.take()),
        m.cognito.as_mut().and_then(|o| o.client_secret.take()),
        m.custom.as_mut().and_then(|o| o.client_secret.take()),
    ]
    .into_iter()
    .flatten()
    .next()
}

impl Control {
    /// Validates `methods` and turns them into their stored form, reusing secrets of `existing`
    /// methods (matched by id) where a request leaves them out. `field` prefixes error paths.
    pub(crate) async fn prepare_methods(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        methods: Vec<wire::AuthenticationMethod>,
        existing: &[StoredAuthMethod],
        field: &str,
    ) -> ControlResult<Vec<StoredAuthMethod>> {
        if methods.len() > MAX_METHODS {
            return Err(ControlError::invalid(field, format!("at most {MAX_METHODS} methods")));
        }
        let mut ids = HashSet::new();
        let mut out = Vec::with_capacity(methods.len());
        let callback = format!("{}/{tid}/{aid}/login/callback", self.public_url());
        let mut to_hash: Vec<(usize, String, String)> = Vec::new();
        for (i, mut m) in methods.into_iter().enumerate() {
            let at = |name: &str| format!("{field}[{i}].{name}");
            if !METHODS.contains(&m.method.as_str()) {
                return Err(ControlError::invalid(
                    at("method"),
                    format!("must be one of {}", METHODS.join(", ")),
                ));
            }
            if m.id.is_empty() {
                m.id = m.method.clone();
            }
            if m.id.len() > 64 || !m.id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
                return Err(ControlError::invalid(
                    at("id"),
                    "at most 64 letters, digits, '-', '_' or '.'",
                ));
            }
            if !ids.insert(m.id.clone()) {
                return Err(ControlError::invalid(
                    at("id"),
                    format!("duplicate method id {:?}", m.id),
                ));
            }
            if m.name.is_empty() {
                m.name = m.id.clone();
            }
            let present = match m.method.as_str() {
                "static" => {
                    m.static_.get_or_insert_with(Default::default);
                    true
                }
                "oidc" => m.oidc.is_some(),
                "azure" => m.azure.is_some(),
                "cognito" => m.cognito.is_some(),
                _ => m.custom.is_some(),
            };
            if !present {
                return Err(ControlError::invalid(
                    at(&m.method),
                    format!("required for method {:?}", m.method),
                ));
            }
            check_provider(&mut m, &callback, &at)?;
            check_shaping(&mut m, &at)?;
            let old = existing
                .iter()
                .find(|e| e.method.id == m.id && e.method.method == m.method);

            let sealed_client_secret = match take_client_secret(&mut m) {
                Some(secret) => {
                    let sealed = self
                        .master
                        .seal(&castellan_domain::seal::auth_method(tid, aid, &m.id), secret.as_bytes())
                        .map_err(ControlError::internal)?;
                    Some(b64url(&sealed))
                }
                None => old.and_then(|o| o.sealed_client_secret.clone()),
            };

            let mut password_hashes = BTreeMap::new();
            if let Some(st) = m.static_.as_mut() {
                if st.users.len() > MAX_STATIC_USERS {
                    return Err(ControlError::invalid(
                        at("static.users"),
                        format!("at most {MAX_STATIC_USERS} users"),
                    ));
                }
                for (j, u) in st.users.iter_mut().enumerate() {
                    let uat = |name: &str| format!("{field}[{i}].static.users[{j}].{name}");
                    if u.username.trim().is_empty() || u.username.len() > 256 {
                        return Err(ControlError::invalid(uat("username"), "must be 1 to 256 characters"));
                    }
                    if password_hashes.contains_key(&u.username)
                        || to_hash.iter().any(|(k, n, _)| *k == i && *n == u.username)
                    {
                        return Err(ControlError::invalid(
                            uat("username"),
                            format!("duplicate user {:?}", u.username),
                        ));
                    }
                    if let Some(h) = u.password_hash.take() {
                        if u.password.is_some() {
                            return Err(ControlError::invalid(
                                uat("password_hash"),
                                "give password or password_hash, not both",
                            ));
                        }
                        password::check_phc(&h).map_err(|e| ControlError::invalid(uat("password_hash"), e))?;
                        password_hashes.insert(u.username.clone(), h);
                        continue;
                    }
                    match u.password.take() {
                        Some(p) if p.is_empty() || p.len() > MAX_PASSWORD_LEN => {
                            return Err(ControlError::invalid(
                                uat("password"),
                                format!("must be 1 to {MAX_PASSWORD_LEN} characters"),
                            ));
                        }
                        Some(p) => to_hash.push((i, u.username.clone(), p)),
                        None => match old.and_then(|o| o.password_hashes.get(&u.username)) {
                            Some(h) => {
                                password_hashes.insert(u.username.clone(), h.clone());
                            }
                            None => {
                                return Err(ControlError::invalid(uat("password"), "required for a new user"));
                            }
                        },
                    }
                }
            }
            out.push(StoredAuthMethod {
                method: m,
                password_hashes,
                sealed_client_secret,
            });
        }
        // Hash only after everything validated, off the async threads: argon2id is slow on purpose.
        if !to_hash.is_empty() {
            let hashed = tokio::task::spawn_blocking(move || {
                to_hash
                    .into_iter()
                    .map(|(i, user, pw)| password::hash(&pw).map(|h| (i, user, h)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .map_err(ControlError::internal)?
            .map_err(ControlError::internal)?;
            for (i, user, h) in hashed {
                out[i].password_hashes.insert(user, h);
            }
        }
        Ok(out)
    }

    /// The public form of stored methods: write-only members are already gone.
    pub(crate) fn methods_view(methods: &[StoredAuthMethod]) -> wire::Authentications {
        wire::Authentications {
            methods: methods.iter().map(|m| m.method.clone()).collect(),
        }
    }

    pub async fn update_authentications(
        &self,
        access: &Allowed<need::ServerWrite>,
        aid: &str,
        req: wire::Authentications,
    ) -> ControlResult<wire::Authentications> {
        let mut server: AuthorizationServer = self.load_server(access, aid).await?;
        self.require_holds_server(access, &server).await?;
        let before = static_usernames(&server.authentications);
        server.authentications = self
            .prepare_methods(
                &server.tenant_id,
                &server.id,
                req.methods,
                &server.authentications,
                "methods",
            )
            .await?;
        server.updated_at = self.clock.now();
        let changes = self
            .store
            .update_server(&server, None)
            .await
            .named(crate::error::missing("authorization server", aid))?;
        self.end_people_who_left(&before, &server).await?;
        self.engine.apply(&changes).await;
        Ok(Self::methods_view(&server.authentications))
    }
}

impl Control {
    /// People of `before` who can no longer sign in at `server` (removed, or their method removed
    /// or disabled) lose their sessions and grants. Until this commits, the protocol engine
    /// already refuses them: it checks the person against the server's current users on every use.
    pub(crate) async fn end_people_who_left(
        &self,
        before: &BTreeSet<String>,
        server: &AuthorizationServer,
    ) -> ControlResult<()> {
        let after = static_usernames(&server.authentications);
        let gone: Vec<String> = before.difference(&after).cloned().collect();
        if !gone.is_empty() {
            self.store
                .end_subjects(&server.tenant_id, &server.id, &gone, self.clock.now())
                .await?;
        }
        Ok(())
    }
}

/// Usernames that can sign in with the enabled `static` methods.
pub(crate) fn static_usernames(methods: &[StoredAuthMethod]) -> BTreeSet<String> {
    methods
        .iter()
        .filter(|m| m.method.method == "static" && !m.method.disabled)
        .filter_map(|m| m.method.static_.as_ref())
        .flat_map(|s| s.users.iter().map(|u| u.username.clone()))
        .collect()
}
