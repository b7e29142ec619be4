//! Authorization servers (Cloudentity ACP `createAuthorizationServer` and friends): settings and
//! the operations; `signing_keys` holds their signing keys (generation, sealing, imported JWKs, the ID
//! token key a key-type change keeps).

pub(crate) mod rotation;
mod signing_keys;

pub(crate) use signing_keys::reconcile_key_type;

use castellan_domain::{
    AuthorizationServer, GoDuration, KeyStatus, KeyType, SUPPORTED_GRANT_TYPES, ServerId, ServerSecrets,
    ServerSettings, SigningKey, TenantId,
};
use castellan_jose::generate_secret;
use castellan_types as wire;

use crate::access::need;
use crate::error::{Named, conflict, unchanged};
use crate::validate::check_url;
use crate::validate::name as check_name;
use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult};

const MIN_SECRET_LEN: usize = 32;
const MAX_SECRET_LEN: usize = 512;
const MAX_ROTATED_SECRETS: usize = 10;
const MAX_KEYS: usize = 10;
use castellan_oauth::fapi::PROFILES;

pub(crate) fn check_secret(field: &str, s: &str) -> ControlResult<()> {
    let n = s.chars().count();
    if n < MIN_SECRET_LEN {
        return Err(ControlError::invalid(
            field,
            format!("must be at least {MIN_SECRET_LEN} characters"),
        ));
    }
    if n > MAX_SECRET_LEN {
        return Err(ControlError::invalid(
            field,
            format!("must be at most {MAX_SECRET_LEN} characters"),
        ));
    }
    Ok(())
}

fn parse_ttl(field: &str, v: &str, allow_zero: bool) -> ControlResult<GoDuration> {
    let d = GoDuration::parse(v).map_err(|e| ControlError::invalid(field, e.to_string()))?;
    if d.as_nanos() == 0 && !allow_zero {
        return Err(ControlError::invalid(field, "must be longer than 0s"));
    }
    if d.as_secs() > 10 * 365 * 24 * 3600 {
        return Err(ControlError::invalid(field, "must be at most 10 years"));
    }
    Ok(d)
}

/// Applies the fields of `req` that are present onto `s`, validating each.
pub(crate) fn apply_settings(s: &mut ServerSettings, req: &wire::ServerRequest) -> ControlResult<()> {
    if let Some(kt) = &req.key_type {
        s.key_type = KeyType::parse(kt).ok_or_else(|| ControlError::invalid("key_type", "must be rsa, ecdsa or ps"))?;
    }
    if let Some(gts) = &req.grant_types {
        if gts.is_empty() {
            return Err(ControlError::invalid(
                "grant_types",
                "at least one grant type is required",
            ));
        }
        let mut out: Vec<String> = Vec::new();
        for (i, g) in gts.iter().enumerate() {
            if !SUPPORTED_GRANT_TYPES.contains(&g.as_str()) {
                return Err(ControlError::invalid(
                    format!("grant_types[{i}]"),
                    format!(
                        "unsupported grant type {g:?}; supported: {}",
                        SUPPORTED_GRANT_TYPES.join(", ")
                    ),
                ));
            }
            if !out.contains(g) {
                out.push(g.clone());
            }
        }
        s.grant_types = out;
    }
    let ttls = [
        ("access_token_ttl", &req.access_token_ttl, &mut s.access_token_ttl),
        (
            "authorization_code_ttl",
            &req.authorization_code_ttl,
            &mut s.authorization_code_ttl,
        ),
        ("id_token_ttl", &req.id_token_ttl, &mut s.id_token_ttl),
        ("refresh_token_ttl", &req.refresh_token_ttl, &mut s.refresh_token_ttl),
    ];
    for (field, v, slot) in ttls {
        if let Some(v) = v {
            *slot = parse_ttl(field, v, false)?;
        }
    }
    if let Some(v) = &req.cookie_max_age {
        s.cookie_max_age = parse_ttl("cookie_max_age", v, false)?;
    }
    if let Some(v) = req.enforce_pkce {
        s.enforce_pkce = v;
    }
    if let Some(v) = req.enable_dynamic_client_registration {
        s.enable_dynamic_client_registration = v;
    }
    if let Some(v) = req.require_pushed_authorization_requests {
        s.require_pushed_authorization_requests = v;
    }
    if let Some(v) = req.require_dpop_nonce {
        s.require_dpop_nonce = v;
    }
    if let Some(v) = &req.key_rotation_period {
        let d = parse_ttl("key_rotation_period", v, true)?;
        let min = 2 * castellan_domain::KEY_PREPUBLICATION_SECS;
        if d.as_nanos() != 0 && d.as_secs() < min {
            return Err(ControlError::invalid(
                "key_rotation_period",
                format!(
                    "must be 0s (on demand only) or at least {} (twice the hour a next key is published before it signs)",
                    GoDuration::from_secs(min)
                ),
            ));
        }
        s.key_rotation_period = d;
    }
    if let Some(ps) = &req.profiles {
        for (i, p) in ps.iter().enumerate() {
            if !PROFILES.contains(&p.as_str()) {
                return Err(ControlError::invalid(
                    format!("profiles[{i}]"),
                    format!("must be one of {}", PROFILES.join(", ")),
                ));
            }
        }
        s.profiles = ps.clone();
    }
    if let Some(v) = &req.logo_uri {
        if v.is_empty() {
            s.logo_uri = None;
        } else {
            check_url("logo_uri", v)?;
            s.logo_uri = Some(v.clone());
        }
    }
    let ids = [
        (
            "developer_policy_id",
            &req.developer_policy_id,
            &mut s.developer_policy_id,
        ),
        ("user_policy_id", &req.user_policy_id, &mut s.user_policy_id),
        ("registration_scope", &req.registration_scope, &mut s.registration_scope),
    ];
    for (field, v, slot) in ids {
        if let Some(v) = v {
            if v.len() > 128 {
                return Err(ControlError::invalid(field, "must be at most 128 characters"));
            }
            *slot = (!v.is_empty()).then(|| v.clone());
        }
    }
    // A FAPI profile's rules about the server's own settings, named in the answer.
    castellan_oauth::fapi::server_rules(s).map_err(|b| ControlError::invalid(b.field, b.message()))?;
    Ok(())
}

impl Control {
    /// The server's own secret and rotated secrets, opened with the master key.
    pub(crate) fn open_server_secrets(&self, s: &AuthorizationServer) -> ControlResult<ServerSecrets> {
        let json = self
            .master
            .open(
                &castellan_domain::seal::server_secrets(&s.tenant_id, &s.id),
                &s.secrets_sealed,
            )
            .map_err(ControlError::internal)?;
        serde_json::from_slice(&json).map_err(ControlError::internal)
    }

    pub(crate) fn server_view(&self, s: &AuthorizationServer, keys: &[SigningKey]) -> ControlResult<wire::Server> {
        let secrets = self.open_server_secrets(s)?;
        let st = &s.settings;
        Ok(wire::Server {
            id: s.id.to_string(),
            tenant_id: s.tenant_id.to_string(),
            name: s.name.clone(),
            issuer_url: format!("{}/{}/{}", self.public_url, s.tenant_id, s.id),
            system: s.system,
            key_type: st.key_type.as_str().into(),
            grant_types: st.grant_types.clone(),
            access_token_ttl: st.access_token_ttl.to_string(),
            authorization_code_ttl: st.authorization_code_ttl.to_string(),
            id_token_ttl: st.id_token_ttl.to_string(),
            refresh_token_ttl: st.refresh_token_ttl.to_string(),
            cookie_max_age: st.cookie_max_age.to_string(),
            secret: secrets.secret,
            rotated_secrets: secrets.rotated_secrets,
            enforce_pkce: st.enforce_pkce,
            enable_dynamic_client_registration: st.enable_dynamic_client_registration,
            profiles: st.profiles.clone(),
            jwks: wire::Jwks {
                keys: keys
                    .iter()
                    .filter(|k| k.published())
                    .map(|k| k.public_jwk.clone())
                    .collect(),
            },
            authentications: Self::methods_view(&s.authentications),
            logo_uri: st.logo_uri.clone(),
            developer_policy_id: st.developer_policy_id.clone(),
            user_policy_id: st.user_policy_id.clone(),
            registration_scope: st.registration_scope.clone(),
            require_pushed_authorization_requests: st.require_pushed_authorization_requests,
            require_dpop_nonce: st.require_dpop_nonce,
            key_rotation_period: st.key_rotation_period.to_string(),
        })
    }

    pub(crate) fn seal_server_secrets(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        secrets: &ServerSecrets,
    ) -> ControlResult<Vec<u8>> {
        let json = serde_json::to_vec(secrets).map_err(ControlError::internal)?;
        self.master
            .seal(&castellan_domain::seal::server_secrets(tid, aid), &json)
            .map_err(ControlError::internal)
    }

    pub(crate) async fn load_server(&self, access: &AdminAccess, aid: &str) -> ControlResult<AuthorizationServer> {
        let not_found = || ControlError::NotFound {
            what: "authorization server",
            id: aid.to_owned(),
        };
        let aid = ServerId::parse(aid).map_err(|_| not_found())?;
        self.store
            .get_server(access.tenant(), &aid)
            .await?
            .ok_or_else(not_found)
    }

    /// The server's dashboards (Cloudentity ACP `listDashboards`): the metrics page; 404 for an
    /// unknown server.
    pub async fn get_dashboards(
        &self,
        access: &Allowed<need::ServerRead>,
        aid: &str,
    ) -> ControlResult<wire::Dashboards> {
        self.load_server(access, aid).await?;
        let metrics = format!("{}/metrics", self.public_url);
        Ok(wire::Dashboards {
            enabled: true,
            tenant_business_url: metrics.clone(),
            tenant_threat_url: metrics,
            sample_business_url: String::new(),
            sample_threat_url: String::new(),
        })
    }

    pub async fn list_servers(&self, access: &Allowed<need::ServerRead>) -> ControlResult<wire::Servers> {
        let mut servers = Vec::new();
        for s in self.store.list_servers(access.tenant()).await? {
            let keys = self.store.list_keys(&s.tenant_id, &s.id).await?;
            servers.push(self.server_view(&s, &keys)?);
        }
        Ok(wire::Servers { servers })
    }

    pub async fn get_server(&self, access: &Allowed<need::ServerRead>, aid: &str) -> ControlResult<wire::Server> {
        let s = self.load_server(access, aid).await?;
        let keys = self.store.list_keys(&s.tenant_id, &s.id).await?;
        self.server_view(&s, &keys)
    }

    /// Creates a server with the Cloudentity ACP defaults for everything the request leaves out.
    pub async fn create_server(
        &self,
        access: &Allowed<need::ServerWrite>,
        req: wire::ServerRequest,
    ) -> ControlResult<wire::Server> {
        crate::error::same_tenant(req.tenant_id.as_deref(), access.tenant())?;
        let tid = access.tenant().clone();
        let id = match &req.id {
            Some(id) => ServerId::parse(id.as_str()).map_err(|e| ControlError::invalid("id", e.to_string()))?,
            None => ServerId::parse(uuid::Uuid::new_v4().to_string()).map_err(ControlError::internal)?,
        };
        let name = req.name.clone().unwrap_or_else(|| id.to_string());
        check_name("name", &name)?;
        let mut settings = ServerSettings::default();
        apply_settings(&mut settings, &req)?;
        self.check_server_policies(&tid, &settings).await?;
        let secret = match &req.secret {
            Some(s) => {
                check_secret("secret", s)?;
                s.clone()
            }
            None => generate_secret(),
        };
        let rotated_secrets = req.rotated_secrets.clone().unwrap_or_default();
        for (i, s) in rotated_secrets.iter().enumerate() {
            check_secret(&format!("rotated_secrets[{i}]"), s)?;
        }
        if rotated_secrets.len() > MAX_ROTATED_SECRETS {
            return Err(ControlError::invalid(
                "rotated_secrets",
                format!("at most {MAX_ROTATED_SECRETS}"),
            ));
        }
        // Cheap conflict check before generating keys; the store's unique key remains the guard.
        if self.store.get_server(&tid, &id).await?.is_some() {
            return Err(ControlError::Conflict {
                what: "authorization server",
                id: id.to_string(),
            });
        }
        let authentications = match req.authentications {
            Some(a) => {
                self.prepare_methods(&tid, &id, a.methods, &[], "authentications.methods")
                    .await?
            }
            None => Vec::new(),
        };
        let keys = match &req.jwks {
            Some(jwks) => {
                let keys = self
                    .keys_from_jwks(&tid, &id, jwks, settings.key_type.alg(), &[])
                    .await?;
                reconcile_key_type(&mut settings, &keys, req.key_type.is_some())?;
                keys
            }
            None => vec![self.new_key(&tid, &id, settings.key_type.alg()).await?],
        };
        let keys = self.with_id_token_key(&tid, &id, keys, &[]).await?;
        let now = self.clock.now();
        let server = AuthorizationServer {
            secrets_sealed: self.seal_server_secrets(
                &tid,
                &id,
                &ServerSecrets {
                    secret,
                    rotated_secrets,
                },
            )?,
            tenant_id: tid.clone(),
            id: id.clone(),
            name,
            system: false,
            settings,
            authentications,
            created_at: now,
            updated_at: now,
        };
        let scopes = crate::defaults::standard_scopes(&tid, &id, now)?;
        let changes = self
            .store
            .create_server(&server, &keys, &scopes)
            .await
            .named(conflict("authorization server", id.to_string()))?;
        self.engine.apply(&changes).await;
        self.server_view(&server, &keys)
    }

    /// Updates the fields the request carries; omitted fields keep their value. A new `secret`
    /// moves the old one to the front of `rotated_secrets` unless the request sets that list.
    /// A new `key_type` without `jwks` generates a new current key and keeps the old one published.
    pub async fn update_server(
        &self,
        access: &Allowed<need::ServerWrite>,
        aid: &str,
        req: wire::ServerRequest,
    ) -> ControlResult<wire::Server> {
        crate::error::same_tenant(req.tenant_id.as_deref(), access.tenant())?;
        let mut server = self.load_server(access, aid).await?;
        self.require_holds_server(access, &server).await?;
        unchanged(
            "id",
            req.id.as_deref(),
            server.id.as_str(),
            "does not match the server in the path",
        )?;
        let (tid, sid) = (server.tenant_id.clone(), server.id.clone());
        if let Some(name) = &req.name {
            check_name("name", name)?;
            server.name = name.clone();
        }
        let old_key_type = server.settings.key_type;
        apply_settings(&mut server.settings, &req)?;
        if server.system && !server.settings.profiles.is_empty() {
            // Its clients (the bootstrap client among them) authenticate with secrets, which a
            // FAPI profile refuses at the token endpoint.
            return Err(ControlError::invalid(
                "profiles",
                "a system server (admin, developer) takes no security profile",
            ));
        }
        if server.system && server.settings.enable_dynamic_client_registration {
            // A client of a system server holds management permissions: no one registers one.
            return Err(ControlError::invalid(
                "enable_dynamic_client_registration",
                "a system server does not allow dynamic client registration",
            ));
        }
        self.check_server_policies(&tid, &server.settings).await?;

        let mut secrets = self.open_server_secrets(&server)?;
        if let Some(rotated) = &req.rotated_secrets {
            for (i, s) in rotated.iter().enumerate() {
                check_secret(&format!("rotated_secrets[{i}]"), s)?;
            }
            secrets.rotated_secrets = rotated.clone();
        }
        if let Some(new) = &req.secret
            && *new != secrets.secret
        {
            check_secret("secret", new)?;
            let old = std::mem::replace(&mut secrets.secret, new.clone());
            if req.rotated_secrets.is_none() {
                secrets.rotated_secrets.insert(0, old);
            }
        }
        secrets.rotated_secrets.truncate(MAX_ROTATED_SECRETS);

        let existing = self.store.list_keys(&tid, &sid).await?;
        let new_keys = match &req.jwks {
            Some(jwks) => {
                let keys = self
                    .keys_from_jwks(&tid, &sid, jwks, server.settings.key_type.alg(), &existing)
                    .await?;
                reconcile_key_type(&mut server.settings, &keys, req.key_type.is_some())?;
                Some(keys)
            }
            None if server.settings.key_type != old_key_type => {
                let mut keys = vec![self.new_key(&tid, &sid, server.settings.key_type.alg()).await?];
                let retires_at = rotation::retire_time(&server.settings, self.clock.now());
                keys.extend(existing.iter().cloned().map(|mut k| {
                    if k.status == KeyStatus::Current {
                        k.status = KeyStatus::Retired;
                        k.retires_at = Some(retires_at);
                    }
                    k
                }));
                keys.truncate(MAX_KEYS);
                Some(keys)
            }
            None => None,
        };
        let new_keys = match new_keys {
            Some(keys) => Some(self.with_id_token_key(&tid, &sid, keys, &existing).await?),
            None => None,
        };
        let users_before = crate::authentications::static_usernames(&server.authentications);
        if let Some(a) = req.authentications {
            server.authentications = self
                .prepare_methods(
                    &tid,
                    &sid,
                    a.methods,
                    &server.authentications,
                    "authentications.methods",
                )
                .await?;
        }
        server.secrets_sealed = self.seal_server_secrets(&tid, &sid, &secrets)?;
        server.updated_at = self.clock.now();
        let changes = self
            .store
            .update_server(&server, new_keys.as_deref())
            .await
            .named(crate::error::missing("authorization server", aid))?;
        self.end_people_who_left(&users_before, &server).await?;
        self.engine.apply(&changes).await;
        let keys = match new_keys {
            Some(k) => k,
            None => existing,
        };
        self.server_view(&server, &keys)
    }

    /// No escalation through a server's settings: the admin server's keys sign admin tokens and
    /// its login methods and users sign people in to roles, so changing any of it needs a caller
    /// who holds everything an admin credential can hold.
    pub(crate) async fn require_holds_server(
        &self,
        access: &AdminAccess,
        server: &AuthorizationServer,
    ) -> ControlResult<()> {
        if server.id.as_str() != castellan_domain::ADMIN_SERVER {
            return Ok(());
        }
        access.require_holds(&self.admin_server_yields(&server.tenant_id).await?, || {
            "the admin server's configuration (keys, login methods, users)".to_owned()
        })
    }

    /// Deletes a server and everything under it. System servers cannot be deleted.
    pub async fn delete_server(&self, access: &Allowed<need::ServerWrite>, aid: &str) -> ControlResult<()> {
        let server = self.load_server(access, aid).await?;
        if server.system {
            return Err(ControlError::Refused(format!(
                "authorization server {aid} is a system server and cannot be deleted"
            )));
        }
        let now = self.clock.now();
        let keep_until = now + crate::defaults::longest_token_life(&server);
        let Some(changes) = self
            .store
            .delete_server(&server.tenant_id, &server.id, now, keep_until)
            .await?
        else {
            return Err(ControlError::NotFound {
                what: "authorization server",
                id: aid.to_owned(),
            });
        };
        self.engine.apply(&changes).await;
        Ok(())
    }
}
