//! OAuth clients (Cloudentity ACP `createClient` and friends): the operations; `apply` holds the
//! rules a client request is checked and applied by.

mod apply;

use castellan_domain::{Client, ClientId, ClientSettings, TenantId};
use castellan_types as wire;

use crate::access::{client_yields, need};
use crate::error::{Named, conflict, missing, unchanged};
use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult};
use castellan_oauth::secrets::hash_secret;

/// Token endpoint authentication methods a client may register (RFC 7591 §2, OIDC Core §9).
pub const AUTH_METHODS: [&str; 7] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
    "none",
];
pub const RESPONSE_TYPES: [&str; 7] = [
    "code",
    "token",
    "id_token",
    "code id_token",
    "code token",
    "id_token token",
    "code id_token token",
];
const MIN_CLIENT_SECRET_LEN: usize = 16;
const MAX_LIST: usize = 100;

impl Control {
    pub(crate) async fn load_client(&self, access: &AdminAccess, cid: &str) -> ControlResult<Client> {
        let not_found = || ControlError::NotFound {
            what: "client",
            id: cid.to_owned(),
        };
        let id = ClientId::parse(cid).map_err(|_| not_found())?;
        self.store.get_client(access.tenant(), &id).await?.ok_or_else(not_found)
    }

    pub(crate) fn client_view(&self, c: &Client) -> ControlResult<wire::Client> {
        let secret = match &c.secret_sealed {
            Some(sealed) => self
                .master
                .open_string(&castellan_domain::seal::client_secret(&c.tenant_id, &c.id), sealed)
                .map_err(ControlError::internal)?,
            None => String::new(),
        };
        let s = &c.settings;
        Ok(wire::Client {
            client_id: c.id.to_string(),
            client_name: c.name.clone(),
            authorization_server_id: c.server_id.to_string(),
            tenant_id: c.tenant_id.to_string(),
            client_secret: secret,
            client_hashed_secret: c.secret_hash.as_deref().map(hashed_secret_view),
            client_id_issued_at: c.created_at,
            client_secret_expires_at: s.client_secret_expires_at,
            grant_types: c.grant_types.clone(),
            response_types: s.response_types.clone(),
            token_endpoint_auth_method: c.token_endpoint_auth_method.clone(),
            redirect_uris: s.redirect_uris.clone(),
            post_logout_redirect_uris: s.post_logout_redirect_uris.clone(),
            scope: s.scopes.join(" "),
            scopes: s.scopes.clone(),
            audience: s.audience.clone(),
            public: s.public,
            trusted: s.trusted,
            system: c.system,
            jwks: s.jwks.clone(),
            jwks_uri: s.jwks_uri.clone(),
            description: s.description.clone(),
            client_uri: s.client_uri.clone(),
            logo_uri: s.logo_uri.clone(),
            policy_uri: s.policy_uri.clone(),
            tos_uri: s.tos_uri.clone(),
            developer_id: s.developer_id.clone(),
            token_endpoint_signing_alg: s.token_endpoint_signing_alg.clone(),
            privacy: s.privacy.clone(),
            request_object_signing_alg: s.request_object_signing_alg.clone(),
            request_uris: s.request_uris.clone(),
            sector_identifier_uri: s.sector_identifier_uri.clone(),
            userinfo_signed_response_alg: s.userinfo_signed_response_alg.clone(),
            id_token_signed_response_alg: s.id_token_signed_response_alg.clone(),
            tls_client_auth_subject_dn: s.tls_client_auth.subject_dn.clone(),
            tls_client_auth_san_dns: s.tls_client_auth.san_dns.clone(),
            tls_client_auth_san_uri: s.tls_client_auth.san_uri.clone(),
            tls_client_auth_san_ip: s.tls_client_auth.san_ip.clone(),
            tls_client_auth_san_email: s.tls_client_auth.san_email.clone(),
            tls_client_certificate_bound_access_tokens: s.tls_client_certificate_bound_access_tokens,
            dynamically_registered: s.registration.is_some(),
            require_pushed_authorization_requests: s.require_pushed_authorization_requests,
            dpop_bound_access_tokens: s.dpop_bound_access_tokens,
            token_attributes: s
                .token_attributes
                .iter()
                .map(|a| wire::TokenAttribute {
                    name: a.name.clone(),
                    value: a.value.clone(),
                    type_: if a.dynamic { "dynamic" } else { "static" }.into(),
                })
                .collect(),
        })
    }

    pub(crate) async fn set_secret(
        &self,
        tid: &TenantId,
        c: &mut Client,
        secret: &str,
        generated: bool,
    ) -> ControlResult<()> {
        c.secret_hash = Some(
            hash_secret(&self.master, secret, generated)
                .await
                .map_err(ControlError::internal)?,
        );
        c.secret_sealed = Some(
            self.master
                .seal(&castellan_domain::seal::client_secret(tid, &c.id), secret.as_bytes())
                .map_err(ControlError::internal)?,
        );
        Ok(())
    }

    /// Creates a client under an existing server with the Cloudentity ACP defaults: generated id and
    /// secret, grant `authorization_code` with response type `code`, `client_secret_basic`.
    pub async fn create_client(
        &self,
        access: &Allowed<need::ClientWrite>,
        req: wire::ClientRequest,
    ) -> ControlResult<wire::Client> {
        let c = self.create_client_with(access, req, |_| Ok(())).await?;
        self.client_view(&c)
    }

    /// [`Control::create_client`] with `prepare` applied to the client after the request's
    /// fields and before anything is checked against the caller's permissions or stored (the
    /// workspace and access-manager APIs add what their requests carry).
    pub(crate) async fn create_client_with(
        &self,
        access: &Allowed<need::ClientWrite>,
        mut req: wire::ClientRequest,
        prepare: impl FnOnce(&mut Client) -> ControlResult<()>,
    ) -> ControlResult<Client> {
        crate::error::same_tenant(req.tenant_id.as_deref(), access.tenant())?;
        let aid = req
            .authorization_server_id
            .take()
            .ok_or_else(|| ControlError::invalid("authorization_server_id", "is required"))?;
        let server = self.load_server(access, &aid).await?;
        let id = match req.client_id.take() {
            Some(id) => ClientId::parse(id).map_err(|e| ControlError::invalid("client_id", e.to_string()))?,
            None => ClientId::parse(uuid::Uuid::new_v4().simple().to_string()).map_err(ControlError::internal)?,
        };
        let mut c = Client {
            tenant_id: access.tenant().clone(),
            server_id: server.id.clone(),
            id: id.clone(),
            name: id.to_string(),
            system: false,
            grant_types: Vec::new(),
            token_endpoint_auth_method: "client_secret_basic".into(),
            secret_hash: None,
            secret_sealed: None,
            settings: ClientSettings::default(),
            created_at: self.clock.now(),
        };
        if req.grant_types.is_none() {
            req.grant_types = Some(vec!["authorization_code".into()]);
        }
        let secret = self.apply_client(&server, &mut c, req, true, None).await?;
        prepare(&mut c)?;
        access.require_holds(&self.client_yields(&c).await?, || format!("client {id}"))?;
        if let Some((s, generated)) = secret {
            self.set_secret(access.tenant(), &mut c, &s, generated).await?;
        }
        let changes = self
            .store
            .create_client(&c)
            .await
            .named(conflict("client", id.to_string()).missing("authorization server", aid.clone()))?;
        self.engine.apply(&changes).await;
        Ok(c)
    }

    pub async fn get_client(&self, access: &Allowed<need::ClientRead>, cid: &str) -> ControlResult<wire::Client> {
        let c = self.load_client(access, cid).await?;
        let rules = self.access_rules(access.tenant()).await?;
        self.client_view_for(access, &rules, &c)
    }

    pub async fn list_clients(&self, access: &Allowed<need::ClientRead>, aid: &str) -> ControlResult<wire::Clients> {
        let server = self.load_server(access, aid).await?;
        let clients = self.store.list_clients(&server.tenant_id, &server.id).await?;
        let rules = self.access_rules(access.tenant()).await?;
        Ok(wire::Clients {
            clients: clients
                .iter()
                .map(|c| self.client_view_for(access, &rules, c))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The client as `access` may see it: its secret only when the caller holds everything the
    /// client's credentials hold (an admin client's secret is worth its permissions).
    pub(crate) fn client_view_for(
        &self,
        access: &AdminAccess,
        rules: &castellan_domain::AccessRules,
        c: &Client,
    ) -> ControlResult<wire::Client> {
        let mut view = self.client_view(c)?;
        if !access.holds(&client_yields(rules, c)) {
            view.client_secret = String::new();
            view.client_hashed_secret = None;
        }
        Ok(view)
    }

    /// Omitted fields keep their value; a given `client_secret` replaces the secret.
    pub async fn update_client(
        &self,
        access: &Allowed<need::ClientWrite>,
        cid: &str,
        req: wire::ClientRequest,
    ) -> ControlResult<wire::Client> {
        let c = self.update_client_with(access, cid, req, |_| Ok(())).await?;
        self.client_view(&c)
    }

    /// [`Control::update_client`] with `prepare` applied as [`Control::create_client_with`] does.
    pub(crate) async fn update_client_with(
        &self,
        access: &Allowed<need::ClientWrite>,
        cid: &str,
        req: wire::ClientRequest,
        prepare: impl FnOnce(&mut Client) -> ControlResult<()>,
    ) -> ControlResult<Client> {
        crate::error::same_tenant(req.tenant_id.as_deref(), access.tenant())?;
        let mut c = self.load_client(access, cid).await?;
        if crate::console::is_console_client(&c) {
            // Its redirect URIs decide where people's admin tokens go: only Castellan sets them.
            return Err(ControlError::Refused(format!(
                "client {cid} is the admin console's own client; Castellan manages it"
            )));
        }
        unchanged(
            "client_id",
            req.client_id.as_deref(),
            c.id.as_str(),
            "does not match the client in the path",
        )?;
        unchanged(
            "authorization_server_id",
            req.authorization_server_id.as_deref(),
            c.server_id.as_str(),
            "a client cannot move to another server",
        )?;
        let server = self.load_server(access, c.server_id.as_str()).await?;
        // Both what the client was worth and what it will be worth: re-keying or widening a
        // credential is handing it out.
        let rules = self.access_rules(access.tenant()).await?;
        access.require_holds(&client_yields(&rules, &c), || format!("client {cid}"))?;
        let secret = self.apply_client(&server, &mut c, req, false, None).await?;
        prepare(&mut c)?;
        access.require_holds(&client_yields(&rules, &c), || format!("client {cid} as changed"))?;
        if let Some((s, generated)) = secret {
            self.set_secret(access.tenant(), &mut c, &s, generated).await?;
        }
        let changes = self
            .store
            .update_client(&c)
            .await
            .named(missing("client", cid.to_owned()))?;
        self.engine.apply(&changes).await;
        Ok(c)
    }

    /// Deletes a client and, in the same transaction, ends everything it was given: its grants,
    /// refresh tokens, codes and consents go, its recorded access tokens join the revocation list
    /// (other nodes learn of it through the change feed). Tokens no record names (client
    /// credentials) stop working because their client is gone from the snapshot, and a client
    /// re-created with the same id does not revive them (they predate it). System clients (the
    /// bootstrap client) cannot be deleted.
    pub async fn delete_client(&self, access: &Allowed<need::ClientWrite>, cid: &str) -> ControlResult<()> {
        let c = self.load_client(access, cid).await?;
        if c.system {
            return Err(ControlError::Refused(format!(
                "client {cid} is a system client and cannot be deleted"
            )));
        }
        access.require_holds(&self.client_yields(&c).await?, || format!("client {cid}"))?;
        self.remove_client(&c).await
    }

    /// Deletes `c` with everything it was given (see [`Control::delete_client`]).
    pub(crate) async fn remove_client(&self, c: &Client) -> ControlResult<()> {
        let cid = c.id.as_str();
        let now = self.clock.now();
        let keep_until = match self.store.get_server(&c.tenant_id, &c.server_id).await? {
            Some(server) => now + crate::defaults::longest_token_life(&server),
            None => now,
        };
        let Some(changes) = self.store.delete_client(&c.tenant_id, &c.id, now, keep_until).await? else {
            return Err(ControlError::NotFound {
                what: "client",
                id: cid.to_owned(),
            });
        };
        self.engine.apply(&changes).await;
        Ok(())
    }
}

/// A stored secret hash as the API shows it: an argon2id PHC string is text already; a keyed hash
/// of a generated secret is raw bytes, shown as `hmac-sha256:` and their base64url.
fn hashed_secret_view(stored: &[u8]) -> String {
    use base64::Engine as _;
    match std::str::from_utf8(stored) {
        Ok(phc) if phc.starts_with("$argon2") => phc.to_owned(),
        _ => format!(
            "hmac-sha256:{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(stored)
        ),
    }
}
