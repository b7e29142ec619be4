//! Export: each kind of object of each tenant, written as it is read.

use castellan_domain::{AuthorizationServer, Client, SigningKey, TenantId};
use castellan_jose::b64url;
use castellan_types::{self as wire, policies as wire_policies, system as dump};

use super::DumpOut;
use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult, need};

/// The admin API's view of a client in the shape a create request takes.
pub(super) fn client_request(c: wire::Client) -> wire::ClientRequest {
    wire::ClientRequest {
        client_id: Some(c.client_id),
        client_name: Some(c.client_name),
        authorization_server_id: Some(c.authorization_server_id),
        tenant_id: Some(c.tenant_id),
        client_secret: (!c.client_secret.is_empty()).then_some(c.client_secret),
        client_hashed_secret: c.client_hashed_secret,
        client_id_issued_at: Some(c.client_id_issued_at),
        client_secret_expires_at: Some(c.client_secret_expires_at),
        grant_types: Some(c.grant_types),
        response_types: Some(c.response_types),
        token_endpoint_auth_method: Some(c.token_endpoint_auth_method),
        redirect_uris: Some(c.redirect_uris),
        post_logout_redirect_uris: Some(c.post_logout_redirect_uris),
        scopes: Some(c.scopes),
        scope: None,
        audience: Some(c.audience),
        public: Some(c.public),
        trusted: Some(c.trusted),
        require_pushed_authorization_requests: Some(c.require_pushed_authorization_requests),
        dpop_bound_access_tokens: Some(c.dpop_bound_access_tokens),
        system: Some(c.system),
        jwks: c.jwks,
        jwks_uri: c.jwks_uri,
        description: c.description,
        client_uri: c.client_uri,
        logo_uri: c.logo_uri,
        policy_uri: c.policy_uri,
        tos_uri: c.tos_uri,
        developer_id: c.developer_id,
        token_endpoint_signing_alg: c.token_endpoint_signing_alg,
        privacy: c.privacy.and_then(|p| match p {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }),
        request_object_signing_alg: c.request_object_signing_alg,
        request_uris: Some(c.request_uris),
        sector_identifier_uri: c.sector_identifier_uri,
        userinfo_signed_response_alg: c.userinfo_signed_response_alg,
        id_token_signed_response_alg: c.id_token_signed_response_alg,
        tls_client_auth_subject_dn: c.tls_client_auth_subject_dn,
        tls_client_auth_san_dns: c.tls_client_auth_san_dns,
        tls_client_auth_san_uri: c.tls_client_auth_san_uri,
        tls_client_auth_san_ip: c.tls_client_auth_san_ip,
        tls_client_auth_san_email: c.tls_client_auth_san_email,
        tls_client_certificate_bound_access_tokens: Some(c.tls_client_certificate_bound_access_tokens),
        token_attributes: (!c.token_attributes.is_empty()).then_some(c.token_attributes),
        workspace: None,
    }
}

fn scope_request(s: wire::Scope) -> wire::ScopeRequest {
    wire::ScopeRequest {
        id: Some(s.id),
        name: Some(s.name),
        authorization_server_id: Some(s.authorization_server_id),
        tenant_id: Some(s.tenant_id),
        display_name: Some(s.display_name),
        description: Some(s.description),
        developer_policy_id: s.developer_policy_id,
        user_policy_id: s.user_policy_id,
        service_id: s.service_id,
    }
}

impl Control {
    /// The tenants an export covers: the one named (404 when it does not exist), else all. An
    /// export with secrets needs `system.write` as well: it holds every admin client's secret,
    /// the system tenant's included, which are worth `system.write` (403 otherwise).
    pub async fn export_tenants(
        &self,
        access: &Allowed<need::SystemRead>,
        tid: Option<&str>,
        with_secrets: bool,
    ) -> ControlResult<Vec<TenantId>> {
        if with_secrets {
            AdminAccess::clone(access).allow::<need::SystemWrite>().map_err(|_| {
                ControlError::Forbidden("an export with secrets requires the system.write permission".into())
            })?;
        }
        match tid {
            None => Ok(self.store.list_tenant_ids().await?),
            Some(t) => {
                let not_found = || ControlError::NotFound {
                    what: "tenant",
                    id: t.to_owned(),
                };
                let id = TenantId::parse(t).map_err(|_| not_found())?;
                self.store.get_tenant(&id).await?.ok_or_else(not_found)?;
                Ok(vec![id])
            }
        }
    }

    /// Writes the configuration of `tenants` as one `Dump` to `out`, kind by kind, each kind
    /// tenant by tenant, each list in id order (so two exports of the same configuration are
    /// the same text).
    pub async fn export_configuration(
        &self,
        _access: &Allowed<need::SystemRead>,
        tenants: &[TenantId],
        with_secrets: bool,
        mut out: DumpOut,
    ) -> ControlResult<()> {
        let o = &mut out;
        o.raw("{\"apis\":[");
        let mut first = true;
        for t in tenants {
            for a in self.store.list_apis(t, None, None).await? {
                self.item(o, &mut first, &crate::services::api_view(&a)).await?;
            }
        }
        o.raw("],\"claims\":[");
        first = true;
        for t in tenants {
            for c in self.store.list_tenant_claims(t).await? {
                let c = crate::claims::claim_view(c);
                let req = wire::ClaimRequest {
                    id: Some(c.id),
                    authorization_server_id: Some(c.authorization_server_id),
                    tenant_id: Some(c.tenant_id),
                    name: Some(c.name),
                    mapping: Some(c.mapping),
                    claim_type: Some(c.claim_type),
                    scopes: Some(c.scopes),
                };
                self.item(o, &mut first, &req).await?;
            }
        }
        o.raw("],\"clients\":[");
        first = true;
        for t in tenants {
            // A page at a time: a tenant may hold millions.
            let mut after: Option<castellan_domain::ClientId> = None;
            loop {
                let page = self.store.list_tenant_clients_after(t, after.as_ref(), 1000).await?;
                for c in &page {
                    let req = self.export_client(c, with_secrets)?;
                    self.item(o, &mut first, &req).await?;
                }
                match page.last() {
                    Some(c) => after = Some(c.id.clone()),
                    None => break,
                }
            }
        }
        o.raw("],\"consent_actions\":[");
        first = true;
        for t in tenants {
            for a in self.store.list_consent_actions(t).await? {
                let v = self.action_view(&a).await?;
                self.item(o, &mut first, &v).await?;
            }
        }
        o.raw("],\"consents\":[");
        first = true;
        for t in tenants {
            for c in self.store.list_privacy_consents(t).await? {
                self.item(o, &mut first, &crate::privacy::consent_view(&c)).await?;
            }
        }
        o.raw("],\"policies\":[");
        first = true;
        for t in tenants {
            for p in self.store.list_policies(t).await? {
                let p = crate::views::policy(p)?;
                let req = wire_policies::PolicyRequest {
                    id: Some(p.id),
                    policy_name: Some(p.policy_name),
                    tenant_id: Some(p.tenant_id),
                    validators: Some(p.validators),
                    language: Some(p.language),
                    definition: p.definition,
                };
                self.item(o, &mut first, &req).await?;
            }
        }
        o.raw("],\"scopes_without_service\":[");
        first = true;
        for t in tenants {
            for s in self.store.list_tenant_scopes(t).await? {
                if s.service_id.is_none() {
                    self.item(o, &mut first, &scope_request(crate::views::scope(s))).await?;
                }
            }
        }
        o.raw("],\"servers\":[");
        first = true;
        for t in tenants {
            for s in self.store.list_servers(t).await? {
                let v = self.export_server(&s, with_secrets).await?;
                self.item(o, &mut first, &v).await?;
            }
        }
        o.raw("],\"services\":[");
        first = true;
        for t in tenants {
            let scopes = self.store.list_tenant_scopes(t).await?;
            for s in self.store.list_services(t, None).await? {
                let v = dump::DumpService {
                    service: crate::views::service(&s),
                    scopes: scopes
                        .iter()
                        .filter(|sc| sc.service_id.as_deref() == Some(s.id.as_str()))
                        .map(|sc| scope_request(crate::views::scope(sc.clone())))
                        .collect(),
                };
                self.item(o, &mut first, &v).await?;
            }
        }
        o.raw("],\"tenants\":[");
        first = true;
        for t in tenants {
            if let Some(t) = self.store.get_tenant(t).await? {
                let v = wire::TenantRequest {
                    id: Some(t.id.to_string()),
                    name: Some(t.name),
                    url: None,
                    authentication_context_settings: Some(t.authentication_context_settings),
                    jwks: Some(t.jwks),
                };
                self.item(o, &mut first, &v).await?;
            }
        }
        o.raw("],\"gateways\":[");
        first = true;
        for t in tenants {
            for g in self.store.list_gateways(t, None).await? {
                let v = dump::DumpGateway {
                    id: g.id,
                    tenant_id: g.tenant_id.to_string(),
                    authorization_server_id: g.server_id.to_string(),
                    client_id: g.client_id.to_string(),
                    name: g.name,
                    description: g.description,
                    kind: g.kind,
                };
                self.item(o, &mut first, &v).await?;
            }
        }
        o.raw("],\"roles\":[");
        first = true;
        for t in tenants {
            for r in self.store.list_roles(t).await? {
                let v = dump::DumpRole {
                    tenant_id: r.tenant_id.to_string(),
                    id: r.id,
                    name: r.name,
                    audience: r.audience,
                    description: r.description,
                    permissions: r.permissions,
                    connection_maps: r
                        .connection_maps
                        .into_iter()
                        .map(|m| dump::DumpConnectionMap {
                            group_name: m.group_name,
                            name: m.name,
                            connection_id: m.connection_id.filter(|c| !c.is_empty()),
                        })
                        .collect(),
                };
                self.item(o, &mut first, &v).await?;
            }
        }
        o.raw("],\"sts_clients\":[");
        first = true;
        for t in tenants {
            for m in self.store.list_sts_clients(t).await? {
                let v = dump::DumpStsClient {
                    tenant_id: m.tenant_id.to_string(),
                    client_id: m.client_id,
                    description: m.description,
                    permissions: m.permissions,
                };
                self.item(o, &mut first, &v).await?;
            }
        }
        o.raw("]}\n");
        out.flush().await
    }

    async fn item<T: serde::Serialize>(&self, o: &mut DumpOut, first: &mut bool, v: &T) -> ControlResult<()> {
        if !std::mem::take(first) {
            o.raw(",");
        }
        o.value(v)?;
        o.flush_if_full().await
    }

    fn export_client(&self, c: &Client, with_secrets: bool) -> ControlResult<wire::ClientRequest> {
        let mut req = client_request(self.client_view(c)?);
        if !with_secrets {
            req.client_secret = None;
            req.client_hashed_secret = None;
        }
        req.workspace = match &c.settings.workspace {
            Some(w) => Some(self.workspace_request(c, w, with_secrets)?),
            None => None,
        };
        Ok(req)
    }

    async fn export_server(&self, s: &AuthorizationServer, with_secrets: bool) -> ControlResult<dump::DumpServer> {
        let keys = self.store.list_keys(&s.tenant_id, &s.id).await?;
        let v = self.server_view(s, &keys)?;
        let mut methods = v.authentications;
        let mut signing_keys = Vec::new();
        if with_secrets {
            for (stored, m) in s.authentications.iter().zip(methods.methods.iter_mut()) {
                if let Some(st) = m.static_.as_mut() {
                    for u in &mut st.users {
                        u.password_hash = stored.password_hashes.get(&u.username).cloned();
                    }
                }
                if let Some(sealed) = &stored.sealed_client_secret {
                    let secret = self.open_method_secret(s, &m.id, sealed)?;
                    for slot in [
                        m.oidc.as_mut().map(|o| &mut o.client_secret),
                        m.azure.as_mut().map(|o| &mut o.client_secret),
                        m.cognito.as_mut().map(|o| &mut o.client_secret),
                        m.custom.as_mut().map(|o| &mut o.client_secret),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        *slot = Some(secret.clone());
                    }
                }
            }
            for k in keys.iter().filter(|k| k.published()) {
                signing_keys.push(self.export_key(s, k)?);
            }
        }
        Ok(dump::DumpServer {
            server: wire::ServerRequest {
                id: Some(v.id),
                name: Some(v.name),
                tenant_id: Some(v.tenant_id),
                issuer_url: Some(v.issuer_url),
                system: Some(v.system),
                key_type: Some(v.key_type),
                grant_types: Some(v.grant_types),
                access_token_ttl: Some(v.access_token_ttl),
                authorization_code_ttl: Some(v.authorization_code_ttl),
                id_token_ttl: Some(v.id_token_ttl),
                refresh_token_ttl: Some(v.refresh_token_ttl),
                cookie_max_age: Some(v.cookie_max_age),
                secret: with_secrets.then_some(v.secret),
                rotated_secrets: with_secrets.then_some(v.rotated_secrets),
                enforce_pkce: Some(v.enforce_pkce),
                enable_dynamic_client_registration: Some(v.enable_dynamic_client_registration),
                profiles: Some(v.profiles),
                jwks: Some(v.jwks),
                authentications: Some(methods),
                logo_uri: v.logo_uri,
                developer_policy_id: v.developer_policy_id,
                user_policy_id: v.user_policy_id,
                registration_scope: v.registration_scope,
                require_pushed_authorization_requests: Some(v.require_pushed_authorization_requests),
                require_dpop_nonce: Some(v.require_dpop_nonce),
                key_rotation_period: Some(v.key_rotation_period.clone()),
            },
            signing_keys,
        })
    }

    fn export_key(&self, s: &AuthorizationServer, k: &SigningKey) -> ControlResult<dump::DumpSigningKey> {
        let pkcs8 = self
            .master
            .open(
                &castellan_domain::seal::server_key(&s.tenant_id, &s.id, &k.kid),
                &k.private_sealed,
            )
            .map_err(ControlError::internal)?;
        Ok(dump::DumpSigningKey {
            kid: k.kid.clone(),
            alg: k.alg.as_str().into(),
            status: k.status.as_str().into(),
            pkcs8: b64url(&pkcs8),
            created_at: k.created_at,
            activates_at: k.activates_at,
            retires_at: k.retires_at,
        })
    }

    fn open_method_secret(&self, s: &AuthorizationServer, method_id: &str, sealed_b64: &str) -> ControlResult<String> {
        let sealed = castellan_jose::b64url_decode(sealed_b64)
            .ok_or_else(|| ControlError::internal("a login method's sealed secret is not base64url"))?;
        self.master
            .open_string(
                &castellan_domain::seal::auth_method(&s.tenant_id, &s.id, method_id),
                &sealed,
            )
            .map_err(ControlError::internal)
    }
}
