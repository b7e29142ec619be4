//! Workspace clients (Industries Framework `/admin/workspaceClients`): OAuth clients of the
//! tenant's `default` server with the `client_credentials` and token-exchange grants, whose
//! `supported-outbound-token-scopes` are their scopes and whose server-data maps name the
//! issuers (login methods of that server) whose tokens they may exchange. Stored as every
//! other client, so the admin API sees and edits them too; the workspace members live in the
//! client's settings. Secrets of the maps are kept as references (`env:`, `file:`) or sealed.

use std::collections::BTreeMap;

use castellan_domain::{Client, ClientId, DEFAULT_SERVER, IssuerCredentials, WorkspaceSettings};
use castellan_oauth::exchange::TOKEN_EXCHANGE;
use castellan_oauth::secrets::{is_reference, resolve_reference};
use castellan_types::workspace as wire;
use castellan_types::{self as types};

use crate::{Allowed, Control, ControlError, ControlResult, need};

/// Login methods whose tokens a workspace client can exchange.
const UPSTREAM_METHODS: [&str; 3] = ["oidc", "azure", "cognito"];
/// Longest fixed user name (the Industries Framework schema's `maxLength`).
const MAX_FIXED_USER: usize = 80;
const MAX_ENTRIES: usize = 100;

/// A generated workspace client id: the name's letters and digits, lowercased, and five random
/// lowercase letters (`Buying` → `buyingpbgsp`).
fn generated_id(name: &str) -> String {
    let mut id: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(40)
        .collect();
    let random = castellan_jose::random_id();
    id.extend(random.bytes().map(|b| (b'a' + b % 26) as char).take(5));
    id
}

fn check_text(field: &str, v: &str, max: usize) -> ControlResult<()> {
    if v.chars().count() > max {
        return Err(ControlError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

impl Control {
    /// The workspace members of `req` as stored for client `c` of `server`, and a warning for
    /// each secret reference that does not resolve now.
    pub(crate) fn workspace_settings(
        &self,
        server: &castellan_domain::AuthorizationServer,
        c: &Client,
        req: &wire::WorkspaceClientRequest,
    ) -> ControlResult<(WorkspaceSettings, Vec<String>)> {
        let mut warnings = Vec::new();
        let labels = req.labels.clone().unwrap_or_default();
        if req.labels.is_some() && labels.is_empty() {
            return Err(ControlError::invalid("labels", "must have at least one label"));
        }
        if labels.len() > MAX_ENTRIES {
            return Err(ControlError::invalid("labels", format!("at most {MAX_ENTRIES} labels")));
        }
        for (i, l) in labels.iter().enumerate() {
            if l.label_value.is_empty() {
                return Err(ControlError::invalid(
                    format!("labels[{i}].label-value"),
                    "must not be empty",
                ));
            }
            check_text(&format!("labels[{i}].label-name"), &l.label_name, 256)?;
            check_text(&format!("labels[{i}].label-value"), &l.label_value, 1024)?;
            check_text(
                &format!("labels[{i}].description"),
                l.description.as_deref().unwrap_or_default(),
                1024,
            )?;
        }
        let fixed = req.fixed_users_for_user_assertion_by_tic.clone().unwrap_or_default();
        if fixed.len() > MAX_ENTRIES {
            return Err(ControlError::invalid(
                "fixed-users-for-user-assertion-by-tic",
                format!("at most {MAX_ENTRIES} entries"),
            ));
        }
        for (k, v) in &fixed {
            if v.is_empty() || v.chars().count() > MAX_FIXED_USER {
                return Err(ControlError::invalid(
                    format!("fixed-users-for-user-assertion-by-tic.{k}"),
                    format!("must be 1 to {MAX_FIXED_USER} characters"),
                ));
            }
        }
        let keep = |map: &str,
                    name: &str,
                    data: &wire::ServerData,
                    warnings: &mut Vec<String>|
         -> ControlResult<IssuerCredentials> {
            let mut out = IssuerCredentials {
                description: data.description.clone(),
                ..IssuerCredentials::default()
            };
            for (field, value, slot, secret) in [
                ("client-id", &data.client_id, &mut out.client_id, false),
                ("client-secret", &data.client_secret, &mut out.client_secret, true),
                ("signing-key", &data.signing_key, &mut out.signing_key, true),
            ] {
                let Some(v) = value.as_deref().filter(|v| !v.is_empty()) else {
                    continue;
                };
                let path = format!("{map}.{name}.{field}");
                check_text(&path, v, 8192)?;
                if is_reference(v) {
                    if let Err(why) = resolve_reference(&self.master, "", v) {
                        warnings.push(format!("{path}: {why}; it is resolved again on every use"));
                    }
                    *slot = Some(v.to_owned());
                } else if secret {
                    let label =
                        castellan_domain::seal::workspace_secret(&c.tenant_id, &c.id, &format!("{map}/{name}/{field}"));
                    let sealed = self.master.seal(&label, v.as_bytes()).map_err(ControlError::internal)?;
                    *slot = Some(format!("sealed:{}", castellan_jose::b64url(&sealed)));
                } else {
                    *slot = Some(v.to_owned());
                }
            }
            check_text(
                &format!("{map}.{name}.description"),
                data.description.as_deref().unwrap_or_default(),
                1024,
            )?;
            Ok(out)
        };
        let issuers = |map: &str,
                       given: &Option<BTreeMap<String, wire::ServerData>>,
                       warnings: &mut Vec<String>|
         -> ControlResult<BTreeMap<String, IssuerCredentials>> {
            let mut out = BTreeMap::new();
            for (name, data) in given.iter().flatten() {
                let known = server
                    .authentications
                    .iter()
                    .any(|m| m.method.id == *name && UPSTREAM_METHODS.contains(&m.method.method.as_str()));
                if !known {
                    return Err(ControlError::invalid(
                        format!("{map}.{name}"),
                        format!(
                            "names no oidc, azure or cognito login method of authorization server {}",
                            server.id
                        ),
                    ));
                }
                out.insert(name.clone(), keep(map, name, data, warnings)?);
            }
            Ok(out)
        };
        let workspace_issuers = issuers(
            "workspace-oidc-server-data",
            &req.workspace_oidc_server_data,
            &mut warnings,
        )?;
        let global_issuers = issuers("global-oidc-server-data", &req.global_oidc_server_data, &mut warnings)?;
        let fusion_client = match &req.fusion_client_id {
            Some(d) => Some(keep("fusion-client-id", "fusion", d, &mut warnings)?),
            None => None,
        };
        Ok((
            WorkspaceSettings {
                labels,
                client_identity_propagation_required: req.client_identity_propagation_required.unwrap_or(false),
                fixed_users: fixed,
                fusion_client,
                workspace_issuers,
                global_issuers,
            },
            warnings,
        ))
    }

    /// The workspace members of `c` as a request takes them (a configuration export): references
    /// and client ids as kept, encrypted values opened only `with_secrets` (left out otherwise).
    pub(crate) fn workspace_request(
        &self,
        c: &Client,
        w: &WorkspaceSettings,
        with_secrets: bool,
    ) -> ControlResult<wire::WorkspaceClientRequest> {
        let open = |map: &str, name: &str, creds: &IssuerCredentials| -> ControlResult<wire::ServerData> {
            let mut out = wire::ServerData {
                description: creds.description.clone(),
                ..wire::ServerData::default()
            };
            for (field, kept, slot) in [
                ("client-id", &creds.client_id, &mut out.client_id),
                ("client-secret", &creds.client_secret, &mut out.client_secret),
                ("signing-key", &creds.signing_key, &mut out.signing_key),
            ] {
                let Some(v) = kept else { continue };
                if v.starts_with("sealed:") {
                    if with_secrets {
                        let label = castellan_domain::seal::workspace_secret(
                            &c.tenant_id,
                            &c.id,
                            &format!("{map}/{name}/{field}"),
                        );
                        *slot = Some(resolve_reference(&self.master, &label, v).map_err(ControlError::internal)?);
                    }
                } else {
                    *slot = Some(v.clone());
                }
            }
            Ok(out)
        };
        let maps = |map: &str,
                    m: &BTreeMap<String, IssuerCredentials>|
         -> ControlResult<Option<BTreeMap<String, wire::ServerData>>> {
            if m.is_empty() {
                return Ok(None);
            }
            m.iter()
                .map(|(k, v)| Ok((k.clone(), open(map, k, v)?)))
                .collect::<ControlResult<_>>()
                .map(Some)
        };
        Ok(wire::WorkspaceClientRequest {
            client_identity_propagation_required: Some(w.client_identity_propagation_required),
            fixed_users_for_user_assertion_by_tic: (!w.fixed_users.is_empty()).then(|| w.fixed_users.clone()),
            fusion_client_id: w
                .fusion_client
                .as_ref()
                .map(|f| open("fusion-client-id", "fusion", f))
                .transpose()?,
            global_oidc_server_data: maps("global-oidc-server-data", &w.global_issuers)?,
            labels: (!w.labels.is_empty()).then(|| w.labels.clone()),
            workspace_oidc_server_data: maps("workspace-oidc-server-data", &w.workspace_issuers)?,
            ..wire::WorkspaceClientRequest::default()
        })
    }

    /// The client request a workspace request stands for.
    fn workspace_client_request(req: &wire::WorkspaceClientRequest) -> ControlResult<types::ClientRequest> {
        let scopes = req.supported_outbound_token_scopes.clone();
        if scopes.as_ref().is_some_and(Vec::is_empty) {
            return Err(ControlError::invalid(
                "supported-outbound-token-scopes",
                "must have at least one scope",
            ));
        }
        Ok(types::ClientRequest {
            client_name: req.client_name.clone(),
            description: Some(req.description.clone().unwrap_or_default()),
            grant_types: Some(vec!["client_credentials".into(), TOKEN_EXCHANGE.into()]),
            scopes: Some(scopes.unwrap_or_default()),
            token_endpoint_auth_method: Some("client_secret_basic".into()),
            ..types::ClientRequest::default()
        })
    }

    fn workspace_view(c: &Client, warnings: Vec<String>, secret: Option<String>) -> wire::WorkspaceClient {
        let w = c.settings.workspace.clone().unwrap_or_default();
        wire::WorkspaceClient {
            id: c.id.to_string(),
            client_identity_propagation_required: w.client_identity_propagation_required,
            client_name: c.name.clone(),
            description: c.settings.description.clone(),
            fixed_users_for_user_assertion_by_tic: w.fixed_users.clone(),
            fusion_client_id: serde_json::Map::new(),
            labels: w.labels.clone(),
            supported_outbound_token_scopes: c.settings.scopes.clone(),
            trusted_issuers: w.issuer_names(),
            warnings,
            client_secret: secret,
        }
    }

    /// `POST /admin/workspaceClients`.
    pub async fn create_workspace_client(
        &self,
        access: &Allowed<need::WorkspaceClientWrite>,
        req: wire::WorkspaceClientRequest,
    ) -> ControlResult<wire::WorkspaceClient> {
        let server = self.load_server(access, DEFAULT_SERVER).await?;
        let mut creq = Self::workspace_client_request(&req)?;
        creq.authorization_server_id = Some(server.id.to_string());
        let name = req.client_name.clone().unwrap_or_else(|| "workspace".into());
        let id = generated_id(&name);
        ClientId::parse(&id).map_err(ControlError::internal)?;
        creq.client_id = Some(id);
        let mut warnings = Vec::new();
        let c = self
            .create_client_with(&access.covering(), creq, |c| {
                let (w, warn) = self.workspace_settings(&server, c, &req)?;
                c.settings.workspace = Some(w);
                warnings = warn;
                Ok(())
            })
            .await?;
        let secret = self.client_view(&c)?.client_secret;
        Ok(Self::workspace_view(
            &c,
            warnings,
            (!secret.is_empty()).then_some(secret),
        ))
    }

    /// A client of the `default` server, in the workspace shape (404 for any other client).
    async fn load_workspace_client(&self, access: &crate::AdminAccess, id: &str) -> ControlResult<Client> {
        let c = self.load_client(access, id).await?;
        if c.server_id.as_str() != DEFAULT_SERVER {
            return Err(ControlError::NotFound {
                what: "workspace client",
                id: id.to_owned(),
            });
        }
        Ok(c)
    }

    /// `GET /admin/workspaceClients`: the workspace clients of the tenant.
    pub async fn list_workspace_clients(
        &self,
        access: &Allowed<need::WorkspaceClientRead>,
    ) -> ControlResult<Vec<wire::WorkspaceClient>> {
        let server = self.load_server(access, DEFAULT_SERVER).await?;
        let clients = self.store.list_clients(&server.tenant_id, &server.id).await?;
        Ok(clients
            .iter()
            .filter(|c| c.settings.workspace.is_some())
            .map(|c| Self::workspace_view(c, Vec::new(), None))
            .collect())
    }

    /// `GET /admin/workspaceClients/{id}`: any client of the `default` server.
    pub async fn get_workspace_client(
        &self,
        access: &Allowed<need::WorkspaceClientRead>,
        id: &str,
    ) -> ControlResult<wire::WorkspaceClient> {
        let c = self.load_workspace_client(access, id).await?;
        Ok(Self::workspace_view(&c, Vec::new(), None))
    }

    /// `PUT /admin/workspaceClients/{id}`: replaces the workspace members (the client keeps its id
    /// and secret; a client of the `default` server created otherwise becomes a workspace client).
    pub async fn replace_workspace_client(
        &self,
        access: &Allowed<need::WorkspaceClientWrite>,
        id: &str,
        req: wire::WorkspaceClientRequest,
    ) -> ControlResult<wire::WorkspaceClient> {
        if req.id.as_deref().is_some_and(|given| given != id) {
            return Err(ControlError::invalid(
                "id",
                "does not match the workspace client in the path",
            ));
        }
        let current = self.load_workspace_client(access, id).await?;
        let server = self.load_server(access, DEFAULT_SERVER).await?;
        let mut creq = Self::workspace_client_request(&req)?;
        creq.client_name = Some(req.client_name.clone().unwrap_or_else(|| current.name.clone()));
        let mut warnings = Vec::new();
        let c = self
            .update_client_with(&access.covering(), id, creq, |c| {
                let (w, warn) = self.workspace_settings(&server, c, &req)?;
                c.settings.workspace = Some(w);
                warnings = warn;
                Ok(())
            })
            .await?;
        Ok(Self::workspace_view(&c, warnings, None))
    }

    /// `DELETE /admin/workspaceClients/{id}`: deletes the client as the admin API does.
    pub async fn delete_workspace_client(
        &self,
        access: &Allowed<need::WorkspaceClientWrite>,
        id: &str,
    ) -> ControlResult<()> {
        self.load_workspace_client(access, id).await?;
        self.delete_client(&access.covering(), id).await
    }
}
