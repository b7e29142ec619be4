//! The developer API (Cloudentity ACP `/api/developer/{tid}/…`): a developer — a person signed in
//! at the tenant's `developer` server, or a client of it — registers and manages its own clients,
//! and sees the servers and scopes the administrator's developer policies let it use.
//!
//! Rules: a developer is the `sub` of its token; it sees and changes only the clients it created
//! (another's is a 404, like one that does not exist); no client goes into a system server; the id
//! and secret are generated, and the secret is kept only as a hash — answered once, on create, and
//! empty everywhere afterwards (the admin API included); `PUT` replaces the whole client. A
//! server's or scope's `developer_policy_id` must pass for the developer (its token claims,
//! authentication context and the request's headers) to use it: 403 naming it otherwise. A
//! developer holds no management permission, so a client it registers may not hold one either
//! (the `manage_consents` scope is refused).

use castellan_domain::{AuthorizationServer, Client, ClientId, ClientSettings, DEVELOPER_SERVER, TenantId};
use castellan_oauth::secrets::hash_secret;
use castellan_types as wire;
use serde_json::{Map, Value};

use crate::error::{Named, conflict, missing};
use crate::{Control, ControlError, ControlResult};

/// Who calls the developer API, and what its developer policies see of it. Only
/// [`Control::authenticate_developer`] makes one.
#[derive(Debug, Clone)]
pub struct DeveloperCaller {
    pub(crate) tenant: TenantId,
    pub(crate) developer: String,
    pub(crate) context: Value,
    pub(crate) client: Value,
    pub(crate) scopes: Vec<String>,
    pub(crate) request: castellan_policy::Request,
}

impl DeveloperCaller {
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
    /// Who it is, as the audit trail names callers.
    pub fn actor(&self) -> String {
        format!("developer:{}", self.developer)
    }
    /// The developer's id: its token's `sub`.
    pub fn developer_id(&self) -> &str {
        &self.developer
    }
}

fn unauthorized() -> ControlError {
    ControlError::Unauthorized("invalid or expired access token of the developer server".into())
}

/// Headers a policy never sees: they carry credentials.
pub(crate) const HIDDEN_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

impl Control {
    /// Checks a Bearer token issued by `{tid}/developer` (signature, expiry, revocation, its
    /// client still there). `method`, `path` and `headers` (names in lower case; a repeated
    /// header's values joined with `, `) are what the developer policies see of the HTTP request;
    /// its credential headers are dropped here.
    pub async fn authenticate_developer(
        &self,
        tid: &str,
        token: &str,
        method: &str,
        path: &str,
        headers: std::collections::HashMap<String, String>,
    ) -> ControlResult<DeveloperCaller> {
        let mut request = castellan_policy::Request {
            method: method.to_owned(),
            path: path.to_owned(),
            headers,
        };
        let rt = self
            .engine
            .server(tid, DEVELOPER_SERVER)
            .await?
            .ok_or_else(unauthorized)?;
        let claims = self
            .engine
            .verify_access_token(&rt, token)
            .await?
            .ok_or_else(unauthorized)?;
        let mut context = Map::new();
        if !claims.is_client_own()
            && let Some(ctx) = self.engine.person(&rt, &claims.sub).await?
        {
            context = ctx;
        }
        // The token's own claims win over the directory's attributes of the same name.
        if let Ok(Value::Object(own)) = serde_json::to_value(&claims) {
            context.extend(own);
        }
        request
            .headers
            .retain(|name, _| !HIDDEN_HEADERS.contains(&name.to_ascii_lowercase().as_str()));
        Ok(DeveloperCaller {
            tenant: rt.tenant_id().clone(),
            client: serde_json::json!({"client_id": claims.client_id}),
            scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
            developer: claims.sub,
            context: Value::Object(context),
            request,
        })
    }

    /// Whether the tenant's policy `pid` passes for the developer.
    async fn developer_passes(&self, d: &DeveloperCaller, pid: &str) -> ControlResult<bool> {
        let consents = castellan_policy::Consents::default();
        let input = castellan_policy::Input {
            authentication_context: &d.context,
            client: &d.client,
            scopes: &d.scopes,
            request: Some(&d.request),
            consents: &consents,
        };
        let decision = self.engine.evaluate_policy(&d.tenant, pid, &d.developer, input).await?;
        Ok(decision.pass)
    }

    /// Whether a developer may see and use `server`: not a system server, and its developer
    /// policy (if any) passes.
    pub(crate) async fn developer_may_use(
        &self,
        d: &DeveloperCaller,
        server: &AuthorizationServer,
    ) -> ControlResult<bool> {
        if server.system {
            return Ok(false);
        }
        match server.settings.developer_policy_id.as_deref() {
            None => Ok(true),
            Some(pid) => self.developer_passes(d, pid).await,
        }
    }

    /// The server `aid` for a developer: 404 when it does not exist or is a system server (a
    /// developer does not see those), 403 when its developer policy fails.
    async fn developer_server(&self, d: &DeveloperCaller, aid: &str) -> ControlResult<AuthorizationServer> {
        let not_found = || ControlError::NotFound {
            what: "authorization server",
            id: aid.to_owned(),
        };
        let id = castellan_domain::ServerId::parse(aid).map_err(|_| not_found())?;
        let server = self.store.get_server(&d.tenant, &id).await?.ok_or_else(not_found)?;
        if server.system {
            return Err(not_found());
        }
        if !self.developer_may_use(d, &server).await? {
            return Err(ControlError::Forbidden(format!(
                "authorization server {aid}: its developer policy does not allow this developer"
            )));
        }
        Ok(server)
    }

    /// A client the developer created: 404 for any other (another developer's, an admin's, one
    /// that does not exist).
    async fn developer_client(&self, d: &DeveloperCaller, cid: &str) -> ControlResult<Client> {
        let not_found = || ControlError::NotFound {
            what: "client",
            id: cid.to_owned(),
        };
        let id = ClientId::parse(cid).map_err(|_| not_found())?;
        let c = self.store.get_client(&d.tenant, &id).await?.ok_or_else(not_found)?;
        if c.settings.developer_id.as_deref() != Some(d.developer.as_str()) || c.system {
            return Err(not_found());
        }
        // An admin may name a developer on any client; one of a system server (an admin
        // client's credentials) is never a developer's to read, change or delete.
        let server = self.store.get_server(&d.tenant, &c.server_id).await?;
        if server.is_none_or(|s| s.system) {
            return Err(not_found());
        }
        Ok(c)
    }

    /// Checks that every scope of `c` may be assigned by the developer (403 naming the first that
    /// may not) and that the client would hold no management permission.
    pub(crate) async fn check_developer_client(
        &self,
        d: &DeveloperCaller,
        server: &AuthorizationServer,
        c: &Client,
    ) -> ControlResult<()> {
        if !c.settings.scopes.is_empty() {
            let scopes = self.store.list_scopes(&d.tenant, &server.id).await?;
            for name in &c.settings.scopes {
                let pid = scopes
                    .iter()
                    .find(|s| s.name == *name)
                    .and_then(|s| s.developer_policy_id.as_deref());
                if let Some(pid) = pid
                    && !self.developer_passes(d, pid).await?
                {
                    return Err(ControlError::Forbidden(format!(
                        "scope {name}: its developer policy does not allow this developer to assign it"
                    )));
                }
            }
        }
        let yields = self.client_yields(c).await?;
        if !yields.is_empty() {
            return Err(ControlError::Forbidden(format!(
                "a developer's client may not hold management permissions; this one would hold {yields}"
            )));
        }
        Ok(())
    }

    /// Keeps only the hash of a generated secret (nothing sealed: an admin sees it empty). The
    /// hash is argon2id, not the master key's keyed hash: it is all there is of the secret, so it
    /// must stay valid in a configuration exported to an installation with another master key.
    /// The token endpoint checks argon2id once per secret and process, then by keyed hash.
    async fn keep_developer_secret(&self, c: &mut Client, secret: Option<(String, bool)>) -> ControlResult<String> {
        c.secret_sealed = None;
        match secret {
            Some((s, _)) => {
                c.secret_hash = Some(
                    hash_secret(&self.master, &s, false)
                        .await
                        .map_err(ControlError::internal)?,
                );
                Ok(s)
            }
            None => Ok(String::new()),
        }
    }

    /// A client of the developer's, as it sees it: the secret only when `secret` is given.
    fn developer_view(&self, c: &Client, secret: String) -> ControlResult<wire::DeveloperClientResponse> {
        let mut view = wire::DeveloperClientResponse::from(self.client_view(c)?);
        view.client_secret = secret;
        Ok(view)
    }

    /// Applies a developer's whole client `fields` to `c` (a blank client) with the admin API's
    /// defaults and rules, checks the developer's policies and what the client would hold, and
    /// keeps only the hash of a new secret; returns that secret (empty when none was made).
    async fn fill_developer_client(
        &self,
        d: &DeveloperCaller,
        server: &AuthorizationServer,
        c: &mut Client,
        fields: wire::DeveloperClientFields,
    ) -> ControlResult<String> {
        let mut req = fields.into_client_request();
        if req.grant_types.is_none() {
            req.grant_types = Some(vec!["authorization_code".into()]);
        }
        let secret = self.apply_client(server, c, req, true, None).await?;
        self.check_developer_client(d, server, c).await?;
        self.keep_developer_secret(c, secret).await
    }

    /// A new, empty developer client of `server` (what a create or a whole replacement starts from).
    fn blank_developer_client(&self, d: &DeveloperCaller, server: &AuthorizationServer, id: ClientId) -> Client {
        Client {
            tenant_id: d.tenant.clone(),
            server_id: server.id.clone(),
            name: id.to_string(),
            id,
            system: false,
            grant_types: Vec::new(),
            token_endpoint_auth_method: "client_secret_basic".into(),
            secret_hash: None,
            secret_sealed: None,
            settings: ClientSettings {
                developer_id: Some(d.developer.clone()),
                ..ClientSettings::default()
            },
            created_at: self.clock.now(),
        }
    }

    /// `GET /api/developer/{tid}/clients`: the developer's own clients, on every server.
    pub async fn developer_list_clients(&self, d: &DeveloperCaller) -> ControlResult<wire::DeveloperClients> {
        let system: Vec<_> = self
            .store
            .list_servers(&d.tenant)
            .await?
            .into_iter()
            .filter(|s| s.system)
            .map(|s| s.id)
            .collect();
        let mut clients = Vec::new();
        for c in self.store.list_tenant_clients(&d.tenant).await? {
            if c.settings.developer_id.as_deref() == Some(d.developer.as_str())
                && !c.system
                && !system.contains(&c.server_id)
            {
                clients.push(self.developer_view(&c, String::new())?);
            }
        }
        Ok(wire::DeveloperClients { clients })
    }

    /// `POST /api/developer/{tid}/clients`.
    pub async fn developer_create_client(
        &self,
        d: &DeveloperCaller,
        req: wire::DeveloperCreateClientRequest,
    ) -> ControlResult<wire::DeveloperClientResponse> {
        let aid = req
            .authorization_server_id
            .filter(|a| !a.is_empty())
            .ok_or_else(|| ControlError::invalid("authorization_server_id", "is required"))?;
        let named = castellan_domain::ServerId::parse(&aid).ok();
        if let Some(id) = &named
            && self.store.get_server(&d.tenant, id).await?.is_some_and(|s| s.system)
        {
            return Err(ControlError::invalid(
                "authorization_server_id",
                format!("{aid} is a system server; developer clients cannot be created there"),
            ));
        }
        let server = self.developer_server(d, &aid).await?;
        let id = ClientId::parse(uuid::Uuid::new_v4().simple().to_string()).map_err(ControlError::internal)?;
        let mut c = self.blank_developer_client(d, &server, id.clone());
        let secret = self.fill_developer_client(d, &server, &mut c, req.fields).await?;
        let changes = self
            .store
            .create_client(&c)
            .await
            .named(conflict("client", id.to_string()).missing("authorization server", aid.clone()))?;
        self.engine.apply(&changes).await;
        self.developer_view(&c, secret)
    }

    /// `GET /api/developer/{tid}/clients/{cid}`.
    pub async fn developer_get_client(
        &self,
        d: &DeveloperCaller,
        cid: &str,
    ) -> ControlResult<wire::DeveloperClientResponse> {
        let c = self.developer_client(d, cid).await?;
        self.developer_view(&c, String::new())
    }

    /// `PUT /api/developer/{tid}/clients/{cid}`: the request is the whole client; what it leaves
    /// out returns to its default. The secret stays (a client made confidential gets one, answered
    /// here once; one made public loses it).
    pub async fn developer_update_client(
        &self,
        d: &DeveloperCaller,
        cid: &str,
        req: wire::DeveloperUpdateClientRequest,
    ) -> ControlResult<wire::DeveloperClientResponse> {
        let old = self.developer_client(d, cid).await?;
        if req.client_secret.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(ControlError::invalid(
                "client_secret",
                "a developer client's secret is generated by the server and cannot be set",
            ));
        }
        let server = self.developer_server(d, old.server_id.as_str()).await?;
        let mut c = self.blank_developer_client(d, &server, old.id.clone());
        c.created_at = old.created_at;
        c.secret_hash = old.secret_hash.clone();
        let secret = self.fill_developer_client(d, &server, &mut c, req.fields).await?;
        let changes = self
            .store
            .update_client(&c)
            .await
            .named(missing("client", cid.to_owned()))?;
        self.engine.apply(&changes).await;
        self.developer_view(&c, secret)
    }

    /// `DELETE /api/developer/{tid}/clients/{cid}`: the client and everything it was given.
    pub async fn developer_delete_client(&self, d: &DeveloperCaller, cid: &str) -> ControlResult<()> {
        let c = self.developer_client(d, cid).await?;
        self.remove_client(&c).await
    }

    fn developer_server_view(&self, s: &AuthorizationServer) -> wire::DeveloperServer {
        wire::DeveloperServer {
            id: s.id.to_string(),
            name: s.name.clone(),
            issuer_url: format!("{}/{}/{}", self.public_url, s.tenant_id, s.id),
            grant_types: s.settings.grant_types.clone(),
        }
    }

    /// `GET /api/developer/{tid}/servers`: the servers the developer may use.
    pub async fn developer_list_servers(
        &self,
        d: &DeveloperCaller,
    ) -> ControlResult<wire::ListServersDeveloperResponse> {
        let mut servers = Vec::new();
        for s in self.store.list_servers(&d.tenant).await? {
            if self.developer_may_use(d, &s).await? {
                servers.push(self.developer_server_view(&s));
            }
        }
        Ok(wire::ListServersDeveloperResponse { servers })
    }

    /// `GET /api/developer/{tid}/servers/{aid}`: the server with the scopes the developer may
    /// assign (those without a developer policy, and those whose policy passes).
    pub async fn developer_get_server(
        &self,
        d: &DeveloperCaller,
        aid: &str,
    ) -> ControlResult<wire::GetServerWithScopesDeveloperResponse> {
        let server = self.developer_server(d, aid).await?;
        let services = self.store.list_services(&d.tenant, Some(&server.id)).await?;
        let mut scopes = Vec::new();
        for sc in self.store.list_scopes(&d.tenant, &server.id).await? {
            if let Some(pid) = sc.developer_policy_id.as_deref()
                && !self.developer_passes(d, pid).await?
            {
                continue;
            }
            let service = sc
                .service_id
                .as_ref()
                .and_then(|sid| services.iter().find(|s| s.id == *sid));
            scopes.push(wire::DeveloperScope {
                scope_id: sc.id.to_string(),
                scope_name: sc.name.clone(),
                scope_display_name: sc.display_name.clone(),
                scope_description: sc.description.clone(),
                service_id: service.map(|s| s.id.to_string()),
                service_name: service.map(|s| s.name.clone()),
                service_description: service.and_then(|s| s.description.clone()),
                with_service: service.is_some(),
            });
        }
        Ok(wire::GetServerWithScopesDeveloperResponse {
            server: self.developer_server_view(&server),
            scopes,
        })
    }
}
