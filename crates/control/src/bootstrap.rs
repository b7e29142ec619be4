//! First start on an empty store: tenant `default`, its `admin`, `developer`
//! (system) and `default` servers, and the bootstrap client of `default/admin`.

use castellan_domain::{
    ADMIN_SERVER, AuthorizationServer, Client, ClientId, ClientSettings, DEFAULT_SERVER, DEFAULT_TENANT,
    DEVELOPER_SERVER, KeyType, ServerId, ServerSecrets, ServerSettings, Tenant, TenantId,
};
use castellan_jose::generate_secret;
use castellan_store::BootstrapSeed;
use castellan_types as wire;

use crate::error::{Named, conflict};
use crate::{Control, ControlError, ControlResult};

pub const MIN_BOOTSTRAP_SECRET_LEN: usize = 16;

/// The id of the admin client a tenant created through the system API is born with.
pub const SYSTEM_ADMIN_CLIENT: &str = "bootstrap";

/// What the store's key check opens to under the right master key.
pub(crate) const KEY_CHECK_VALUE: &[u8] = b"castellan master key check";

#[derive(Debug, Clone)]
pub struct BootstrapOptions {
    pub client_id: String,
    /// `None` generates a secret.
    pub client_secret: Option<String>,
}

/// What a first start created; shown to the operator once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BootstrapCredentials {
    pub tenant_id: String,
    pub server_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl Control {
    /// A tenant with its `admin` and `developer` (system) and `default` servers, each with a
    /// freshly generated signing key and secret.
    pub(crate) async fn tenant_seed(
        &self,
        tid: &TenantId,
        name: &str,
        key_type: KeyType,
    ) -> ControlResult<BootstrapSeed> {
        let now = self.clock.now();
        let mut servers = Vec::new();
        let mut scopes = Vec::new();
        for (id, name, system) in [
            (ADMIN_SERVER, "Admin", true),
            (DEVELOPER_SERVER, "Developer", true),
            (DEFAULT_SERVER, "Default", false),
        ] {
            let aid = ServerId::parse(id).map_err(ControlError::internal)?;
            let settings = ServerSettings {
                key_type,
                ..ServerSettings::default()
            };
            let mut keys = vec![self.new_key(tid, &aid, settings.key_type.alg()).await?];
            if !system {
                keys = self.with_id_token_key(tid, &aid, keys, &[]).await?;
            }
            let secrets = ServerSecrets {
                secret: generate_secret(),
                rotated_secrets: Vec::new(),
            };
            let server = AuthorizationServer {
                secrets_sealed: self.seal_server_secrets(tid, &aid, &secrets)?,
                tenant_id: tid.clone(),
                id: aid,
                name: name.into(),
                system,
                settings,
                authentications: Vec::new(),
                created_at: now,
                updated_at: now,
            };
            if !system {
                scopes.extend(crate::defaults::standard_scopes(tid, &server.id, now)?);
            }
            servers.push((server, keys));
        }
        Ok(BootstrapSeed {
            tenant: Tenant {
                id: tid.clone(),
                name: name.into(),
                authentication_context_settings: wire::AuthenticationContextSettings::default(),
                jwks: wire::Jwks::default(),
                created_at: now,
            },
            servers,
            scopes,
            clients: Vec::new(),
            policies: crate::defaults::built_in_policies(tid, now),
            key_check: self
                .master
                .seal(castellan_domain::seal::KEY_CHECK, KEY_CHECK_VALUE)
                .map_err(ControlError::internal)?,
        })
    }

    /// Creates a tenant with the servers every tenant is born with, atomically. For the system
    /// API and operator tooling; 409 when the id is taken.
    pub async fn create_tenant(&self, id: &str, name: &str) -> ControlResult<wire::Tenant> {
        self.create_tenant_signing_with(id, name, KeyType::Rsa).await
    }

    /// [`Control::create_tenant`] with servers that sign with `key_type` (the `default` server
    /// also gets its RS256 ID-token key when that is not RSA).
    pub async fn create_tenant_signing_with(
        &self,
        id: &str,
        name: &str,
        key_type: KeyType,
    ) -> ControlResult<wire::Tenant> {
        let tid = TenantId::parse(id).map_err(|e| ControlError::invalid("id", e.to_string()))?;
        crate::validate::name("name", name)?;
        let seed = self.tenant_seed(&tid, name, key_type).await?;
        let changes = self
            .store
            .create_tenant_seeded(&seed)
            .await
            .named(conflict("tenant", id.to_owned()))?;
        self.engine.apply(&changes).await;
        Ok(self.tenant_view(seed.tenant))
    }

    /// The undeletable admin client a tenant is born with (`secret` hashed and sealed).
    pub(crate) async fn system_admin_client(
        &self,
        tid: &TenantId,
        cid: &ClientId,
        secret: &str,
        generated: bool,
        now: castellan_domain::UnixTime,
    ) -> ControlResult<Client> {
        Ok(Client {
            tenant_id: tid.clone(),
            server_id: ServerId::parse(ADMIN_SERVER).map_err(ControlError::internal)?,
            id: cid.clone(),
            name: "Bootstrap client".into(),
            system: true,
            grant_types: vec!["client_credentials".into()],
            token_endpoint_auth_method: "client_secret_basic".into(),
            secret_hash: Some(
                castellan_oauth::secrets::hash_secret(&self.master, secret, generated)
                    .await
                    .map_err(ControlError::internal)?,
            ),
            secret_sealed: Some(
                self.master
                    .seal(&castellan_domain::seal::client_secret(tid, cid), secret.as_bytes())
                    .map_err(ControlError::internal)?,
            ),
            settings: ClientSettings {
                description: Some(format!("Created with the tenant; manages tenant {tid}.")),
                ..ClientSettings::default()
            },
            created_at: now,
        })
    }

    /// `POST /api/system/tenants`: a tenant with the servers every tenant is born with, the
    /// built-in policies, the OpenID scopes, and an admin client (`bootstrap`) whose generated
    /// secret is answered here once. 409 when the id is taken.
    pub async fn create_system_tenant(
        &self,
        _access: &crate::Allowed<crate::need::SystemWrite>,
        req: wire::SystemTenantRequest,
    ) -> ControlResult<wire::SystemTenantCreated> {
        let id = req.id.unwrap_or_default();
        if id.is_empty() {
            return Err(ControlError::invalid("id", "is required"));
        }
        let tid = TenantId::parse(&id).map_err(|e| ControlError::invalid("id", e.to_string()))?;
        let name = req.name.unwrap_or_else(|| id.clone());
        crate::validate::name("name", &name)?;
        let key_type = match req.key_type.as_deref() {
            None | Some("") => KeyType::Rsa,
            Some(k) => {
                KeyType::parse(k).ok_or_else(|| ControlError::invalid("key_type", "must be rsa, ecdsa or ps"))?
            }
        };
        let cid = ClientId::parse(SYSTEM_ADMIN_CLIENT).map_err(ControlError::internal)?;
        let now = self.clock.now();
        let mut seed = self.tenant_seed(&tid, &name, key_type).await?;
        let secret = generate_secret();
        seed.clients
            .push(self.system_admin_client(&tid, &cid, &secret, true, now).await?);
        let changes = self
            .store
            .create_tenant_seeded(&seed)
            .await
            .named(conflict("tenant", id.clone()))?;
        self.engine.apply(&changes).await;
        Ok(wire::SystemTenantCreated {
            tenant: self.tenant_view(seed.tenant),
            authorization_server_id: ADMIN_SERVER.into(),
            client_id: cid.to_string(),
            client_secret: secret,
        })
    }

    /// Every tenant, by id (the console's tenant list, for system administrators).
    pub async fn list_system_tenants(
        &self,
        _access: &crate::Allowed<crate::need::SystemRead>,
    ) -> ControlResult<Vec<wire::Tenant>> {
        let mut tenants = Vec::new();
        for id in self.store.list_tenant_ids().await? {
            if let Some(t) = self.store.get_tenant(&id).await? {
                tenants.push(self.tenant_view(t));
            }
        }
        Ok(tenants)
    }

    /// `DELETE /api/system/tenants/{tid}`: the tenant and everything of it, in one transaction.
    /// Its tokens stop verifying at once (their servers and keys are gone) and its sessions,
    /// grants and refresh tokens are deleted. The system tenant itself cannot be deleted (400).
    pub async fn delete_system_tenant(
        &self,
        _access: &crate::Allowed<crate::need::SystemWrite>,
        tid: &str,
    ) -> ControlResult<()> {
        let not_found = || ControlError::NotFound {
            what: "tenant",
            id: tid.to_owned(),
        };
        let id = TenantId::parse(tid).map_err(|_| not_found())?;
        if id.as_str() == DEFAULT_TENANT {
            return Err(ControlError::Refused("the system tenant cannot be deleted".into()));
        }
        let changes = self.store.delete_tenant(&id).await?.ok_or_else(not_found)?;
        self.engine.apply(&changes).await;
        Ok(())
    }

    /// Seeds an empty store. Returns the bootstrap credentials when it wrote anything, `None` when
    /// the store already held a tenant (then nothing at all is changed).
    pub async fn bootstrap(&self, opts: &BootstrapOptions) -> ControlResult<Option<BootstrapCredentials>> {
        let field = "CASTELLAN_BOOTSTRAP_CLIENT_ID";
        let cid = ClientId::parse(opts.client_id.as_str()).map_err(|e| ControlError::invalid(field, e.to_string()))?;
        if let Some(s) = &opts.client_secret
            && s.chars().count() < MIN_BOOTSTRAP_SECRET_LEN
        {
            return Err(ControlError::invalid(
                "CASTELLAN_BOOTSTRAP_CLIENT_SECRET",
                format!("must be at least {MIN_BOOTSTRAP_SECRET_LEN} characters"),
            ));
        }
        if !self.store.list_tenant_ids().await?.is_empty() {
            return Ok(None);
        }
        let tid = TenantId::parse(DEFAULT_TENANT).map_err(ControlError::internal)?;
        let now = self.clock.now();
        let mut seed = self.tenant_seed(&tid, "Default", KeyType::Rsa).await?;
        let generated = opts.client_secret.is_none();
        let secret = opts.client_secret.clone().unwrap_or_else(generate_secret);
        let client = self.system_admin_client(&tid, &cid, &secret, generated, now).await?;
        seed.clients.push(client);
        let Some(changes) = self.store.bootstrap(&seed).await? else {
            return Ok(None);
        };
        self.engine.apply(&changes).await;
        Ok(Some(BootstrapCredentials {
            tenant_id: tid.to_string(),
            server_id: ADMIN_SERVER.into(),
            client_id: cid.to_string(),
            client_secret: secret,
        }))
    }
}

impl Control {
    /// Operator recovery (`castellan admin reset-secret`): gives client `cid` of tenant `tid`'s
    /// `admin` server a new generated secret, replacing the old one at once on every node.
    /// Whoever runs it holds the store and the master key already, so no permission is asked;
    /// a client of any other server is a 422 (this recovers admin access, nothing else).
    pub async fn reset_admin_secret(&self, tid: &str, cid: &str) -> ControlResult<BootstrapCredentials> {
        let tid = TenantId::parse(tid).map_err(|e| ControlError::invalid("tenant", e.to_string()))?;
        let id = ClientId::parse(cid).map_err(|e| ControlError::invalid("client", e.to_string()))?;
        let mut client = self
            .store
            .get_client(&tid, &id)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "client",
                id: format!("{tid}/{cid}"),
            })?;
        if client.server_id.as_str() != ADMIN_SERVER {
            return Err(ControlError::invalid(
                "client",
                format!(
                    "{cid} is a client of server {}, not of the admin server",
                    client.server_id
                ),
            ));
        }
        let secret = generate_secret();
        self.set_secret(&tid, &mut client, &secret, true).await?;
        let changes = self.store.update_client(&client).await?;
        self.engine.apply(&changes).await;
        Ok(BootstrapCredentials {
            tenant_id: tid.to_string(),
            server_id: ADMIN_SERVER.into(),
            client_id: id.to_string(),
            client_secret: secret,
        })
    }
}
