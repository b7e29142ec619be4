//! Gateways (Cloudentity ACP `/gateways`): each enforces the APIs of the services connected to
//! it, asking the authorizer (`/api/gateway/{tid}/{gw}/authorize`) about every request with its
//! own client's credentials. Creating a gateway creates that client; deleting it deletes the
//! client (with everything it was given) and disconnects its services. The package is a
//! `.tar.gz` with the gateway's configuration, a ready nginx or Caddy file and a README.

use base64::Engine as _;
use castellan_domain::{Client, ClientId, ClientSettings, Gateway, Scope, ScopeId, ServerId, TenantId};
use castellan_store::StoreError;
use castellan_types::gateways as wire;

use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult, need};

/// Gateway types: nginx (`auth_request`), Caddy (`forward_auth`), and Cloudentity ACP's `pyron` (the
/// nginx protocol).
pub const GATEWAY_TYPES: [&str; 3] = ["nginx", "caddy", "pyron"];

/// The scope a gateway's client is given.
pub const GATEWAY_SCOPE: &str = "read_gateway_configuration";

use crate::views::rfc3339;

pub(crate) fn view(g: &Gateway) -> wire::Gateway {
    wire::Gateway {
        authorization_server_id: g.server_id.to_string(),
        client_id: g.client_id.to_string(),
        description: g.description.clone(),
        id: g.id.clone(),
        last_active: g.last_active.map(rfc3339),
        name: g.name.clone(),
        tenant_id: g.tenant_id.to_string(),
        kind: g.kind.clone(),
    }
}

use crate::error::{Named, conflict};
use crate::validate::text as check_text;

impl Control {
    async fn load_gateway(&self, tid: &TenantId, gw: &str) -> ControlResult<Gateway> {
        self.store
            .get_gateway(tid, gw)
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "gateway",
                id: gw.to_owned(),
            })
    }

    /// The authorizer's URL for gateway `gw` of `tid`.
    pub fn authorizer_url(&self, tid: &TenantId, gw: &str) -> String {
        format!("{}/api/gateway/{tid}/{gw}/authorize", self.public_url)
    }

    /// The gateway with its client as `access` may see it. With `need_secret` (the package, which
    /// is nothing without it) a caller who may not see the secret gets a 403 instead of a blank.
    async fn with_client(
        &self,
        access: &AdminAccess,
        g: &Gateway,
        need_secret: bool,
    ) -> ControlResult<wire::GatewayWithClient> {
        let client = self
            .store
            .get_client(&g.tenant_id, &g.client_id)
            .await?
            .ok_or_else(|| ControlError::Internal(format!("the client of gateway {} is missing", g.id)))?;
        let rules = self.access_rules(&g.tenant_id).await?;
        if need_secret {
            access.require_holds(&crate::access::client_yields(&rules, &client), || {
                format!("the client of gateway {}", g.id)
            })?;
        }
        Ok(wire::GatewayWithClient {
            gateway: view(g),
            client: self.client_view_for(access, &rules, &client)?,
            issuer_url: format!("{}/{}/{}", self.public_url, g.tenant_id, g.server_id),
            server_url: self.public_url.clone(),
        })
    }

    /// `POST /gateways`: `name`, `server_id` and `type` required; creates the gateway's client
    /// (`client_credentials`, scope `read_gateway_configuration`, which the server gets if it
    /// lacks it).
    pub async fn create_gateway(
        &self,
        access: &Allowed<need::GatewayWrite>,
        req: wire::CreateGatewayRequest,
    ) -> ControlResult<wire::GatewayWithClient> {
        let tid = access.tenant().clone();
        let name = req.name.ok_or_else(|| ControlError::invalid("name", "required"))?;
        crate::validate::name("name", &name)?;
        if let Some(d) = &req.description {
            check_text("description", d, 4096)?;
        }
        let kind = req.kind.ok_or_else(|| ControlError::invalid("type", "required"))?;
        if !GATEWAY_TYPES.contains(&kind.as_str()) {
            return Err(ControlError::invalid(
                "type",
                format!("one of {}", GATEWAY_TYPES.join(", ")),
            ));
        }
        let aid = req
            .server_id
            .ok_or_else(|| ControlError::invalid("server_id", "required"))?;
        let server_id = ServerId::parse(aid.as_str()).map_err(|e| ControlError::invalid("server_id", e.to_string()))?;
        match self.store.get_server(&tid, &server_id).await? {
            None => {
                return Err(ControlError::invalid(
                    "server_id",
                    format!("authorization server {aid} does not exist"),
                ));
            }
            // A gateway's client would be a client of the system server: one of the admin
            // server holds every permission of the tenant.
            Some(s) if s.system => {
                return Err(ControlError::invalid(
                    "server_id",
                    format!("authorization server {aid} is a system server; gateways protect APIs of the others"),
                ));
            }
            Some(_) => {}
        }
        let id = match req.id {
            Some(id) => {
                let ok = !id.is_empty()
                    && id.len() <= 64
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
                if !ok {
                    return Err(ControlError::invalid("id", "1 to 64 letters, digits, '_' or '-'"));
                }
                id
            }
            None => uuid::Uuid::new_v4().simple().to_string(),
        };
        if self.store.get_gateway(&tid, &id).await?.is_some() {
            return Err(ControlError::Conflict { what: "gateway", id });
        }
        // The server gets the gateway scope if it lacks it.
        let now = self.clock.now();
        let has_scope = self
            .store
            .list_scopes(&tid, &server_id)
            .await?
            .iter()
            .any(|s| s.name == GATEWAY_SCOPE);
        if !has_scope {
            let scope = Scope {
                tenant_id: tid.clone(),
                server_id: server_id.clone(),
                id: ScopeId::parse(uuid::Uuid::new_v4().simple().to_string()).map_err(ControlError::internal)?,
                name: GATEWAY_SCOPE.into(),
                display_name: "Read gateway configuration".into(),
                description: "Lets a gateway ask Castellan's authorizer about requests".into(),
                developer_policy_id: None,
                user_policy_id: None,
                service_id: None,
                created_at: now,
            };
            match self.store.create_scope(&scope).await {
                Ok(changes) => self.engine.apply(&changes).await,
                // Another request created it meanwhile, and applied its change.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let client_id = ClientId::parse(uuid::Uuid::new_v4().simple().to_string()).map_err(ControlError::internal)?;
        let mut client = Client {
            tenant_id: tid.clone(),
            server_id: server_id.clone(),
            id: client_id.clone(),
            name: format!("Gateway {name}"),
            system: false,
            grant_types: vec!["client_credentials".into()],
            token_endpoint_auth_method: "client_secret_basic".into(),
            secret_hash: None,
            secret_sealed: None,
            settings: ClientSettings {
                scopes: vec![GATEWAY_SCOPE.into()],
                description: Some(format!("The client of gateway {id}")),
                ..ClientSettings::default()
            },
            created_at: now,
        };
        self.set_secret(&tid, &mut client, &castellan_jose::generate_secret(), true)
            .await?;
        let g = Gateway {
            tenant_id: tid.clone(),
            id: id.clone(),
            server_id,
            name,
            description: req.description,
            kind,
            client_id,
            created_at: now,
            last_active: None,
        };
        let changes = self
            .store
            .create_gateway(&g, &client)
            .await
            .named(conflict("gateway", id))?;
        self.engine.apply(&changes).await;
        self.with_client(access, &g, false).await
    }

    pub async fn get_gateway(
        &self,
        access: &Allowed<need::GatewayRead>,
        gw: &str,
    ) -> ControlResult<wire::GatewayWithClient> {
        let g = self.load_gateway(access.tenant(), gw).await?;
        self.with_client(access, &g, false).await
    }

    /// `GET /servers/{aid}/gateways`.
    pub async fn list_gateways(&self, access: &Allowed<need::GatewayRead>, aid: &str) -> ControlResult<wire::Gateways> {
        let server = self.load_server(access, aid).await?;
        let all = self.store.list_gateways(access.tenant(), Some(&server.id)).await?;
        Ok(wire::Gateways {
            gateways: all.iter().map(view).collect(),
        })
    }

    /// `PUT /gateways/{gw}`: name and description.
    pub async fn update_gateway(
        &self,
        access: &Allowed<need::GatewayWrite>,
        gw: &str,
        req: wire::UpdateGatewayRequest,
    ) -> ControlResult<wire::Gateway> {
        let mut g = self.load_gateway(access.tenant(), gw).await?;
        if let Some(n) = req.name {
            crate::validate::name("name", &n)?;
            g.name = n;
        }
        if let Some(d) = req.description {
            check_text("description", &d, 4096)?;
            g.description = Some(d);
        }
        let changes = self.store.update_gateway(&g).await?;
        self.engine.apply(&changes).await;
        Ok(view(&g))
    }

    /// `DELETE /gateways/{gw}`: its client goes first (so its credentials stop at once, with
    /// every token it was given), then the gateway, disconnecting its services.
    pub async fn delete_gateway(&self, access: &Allowed<need::GatewayWrite>, gw: &str) -> ControlResult<()> {
        let tid = access.tenant().clone();
        let g = self.load_gateway(&tid, gw).await?;
        if let Some(c) = self.store.get_client(&tid, &g.client_id).await? {
            self.remove_client(&c).await?;
        }
        if let Some(changes) = self.store.delete_gateway(&tid, gw).await? {
            self.engine.apply(&changes).await;
        }
        Ok(())
    }

    /// `Service.gateway_id`: the gateway must exist and serve the service's server.
    pub(crate) async fn check_service_gateway(
        &self,
        tid: &TenantId,
        server: &ServerId,
        gateway: Option<&str>,
    ) -> ControlResult<()> {
        let Some(gw) = gateway.filter(|g| !g.is_empty()) else {
            return Ok(());
        };
        match self.store.get_gateway(tid, gw).await? {
            None => Err(ControlError::invalid(
                "gateway_id",
                format!("gateway {gw} does not exist"),
            )),
            Some(g) if &g.server_id != server => Err(ControlError::invalid(
                "gateway_id",
                format!(
                    "gateway {gw} accepts tokens of server {}, not of the service's server {server}",
                    g.server_id
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    /// `GET /gateways/{gw}/package`: a `.tar.gz` that runs the gateway as it is, once the
    /// upstream (the protected API) is set.
    pub async fn gateway_package(&self, access: &Allowed<need::GatewayRead>, gw: &str) -> ControlResult<Vec<u8>> {
        let g = self.load_gateway(access.tenant(), gw).await?;
        let full = self.with_client(access, &g, true).await?;
        let secret = full.client.client_secret.clone();
        let files = package_files(&full, &self.authorizer_url(&g.tenant_id, &g.id), &secret)?;
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        let dir = format!("castellan-gateway-{}", g.id);
        for (name, body, mode) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(mode);
            h.set_mtime(self.clock.now().max(0) as u64);
            h.set_cksum();
            tar.append_data(&mut h, format!("{dir}/{name}"), body.as_bytes())
                .map_err(ControlError::internal)?;
        }
        let gz = tar.into_inner().map_err(ControlError::internal)?;
        gz.finish().map_err(ControlError::internal)
    }
}

/// `(name, content, mode)` of the package's files.
fn package_files(
    g: &wire::GatewayWithClient,
    authorizer: &str,
    secret: &str,
) -> ControlResult<Vec<(&'static str, String, u32)>> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{secret}", g.client.client_id));
    let config = serde_json::json!({
        "tenant_id": g.gateway.tenant_id,
        "gateway_id": g.gateway.id,
        "type": g.gateway.kind,
        "issuer_url": g.issuer_url,
        "authorizer_url": authorizer,
        "client_id": g.client.client_id,
        "client_secret": secret,
    });
    let url = url::Url::parse(authorizer).map_err(ControlError::internal)?;
    let host = url.host_str().unwrap_or("127.0.0.1");
    let hostport = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let origin = format!("{}://{hostport}", url.scheme());
    let mut files = vec![(
        "castellan-gateway.json",
        serde_json::to_string_pretty(&config).map_err(ControlError::internal)? + "\n",
        0o600,
    )];
    let (file, conf, run) = if g.gateway.kind == "caddy" {
        (
            "Caddyfile",
            caddyfile(&origin, url.path(), &hostport, &basic),
            "caddy run --config Caddyfile --adapter caddyfile",
        )
    } else {
        (
            "nginx.conf",
            nginx_conf(&g.gateway.id, &url, &hostport, &basic),
            "nginx -p \"$PWD\" -c nginx.conf",
        )
    };
    files.push((file, conf, 0o600));
    files.push(("README.md", readme(g, file, run, authorizer), 0o644));
    Ok(files)
}

fn nginx_conf(gw: &str, url: &url::Url, hostport: &str, basic: &str) -> String {
    let scheme = url.scheme();
    let path = url.path();
    let host = url.host_str().unwrap_or("127.0.0.1");
    format!(
        r#"# Castellan gateway {gw}: nginx asks Castellan's authorizer about every request
# (auth_request) and passes who is calling to the API in X-Castellan-Subject / X-Castellan-Client.
# Run from this directory: nginx -p "$PWD" -c nginx.conf
# Set the address of your API in `upstream protected_api`; nothing else needs editing.

worker_processes auto;
daemon off;
pid nginx.pid;
error_log stderr notice;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;

    upstream protected_api {{
        server 127.0.0.1:9000;
        keepalive 64;
    }}

    upstream castellan_authorizer {{
        server {hostport};
        keepalive 64;
    }}

    server {{
        listen 8080;

        location / {{
            auth_request /.castellan/authorize;
            auth_request_set $castellan_subject $upstream_http_x_castellan_subject;
            auth_request_set $castellan_client $upstream_http_x_castellan_client;
            auth_request_set $castellan_challenge $upstream_http_www_authenticate;
            error_page 401 = @castellan_unauthorized;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Castellan-Subject $castellan_subject;
            proxy_set_header X-Castellan-Client $castellan_client;
            proxy_pass http://protected_api;
        }}

        location @castellan_unauthorized {{
            add_header WWW-Authenticate $castellan_challenge always;
            return 401;
        }}

        location = /.castellan/authorize {{
            internal;
            proxy_pass {scheme}://castellan_authorizer{path};
            proxy_http_version 1.1;
            proxy_pass_request_body off;
            proxy_set_header Connection "";
            proxy_set_header Content-Length "";
            proxy_set_header Host {hostport};
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Original-URI $request_uri;
            # The whole URL, which a DPoP proof names (RFC 9449 htu).
            proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
            # The caller's TLS client certificate, for certificate-bound tokens (RFC 8705); empty
            # (so not sent) without TLS client authentication on this server block.
            proxy_set_header Client-Cert $ssl_client_escaped_cert;
            # A caller's own copies of the other gateway type's headers go no further.
            proxy_set_header X-Forwarded-Method "";
            proxy_set_header X-Forwarded-Uri "";
            proxy_set_header X-Forwarded-Url "";
            proxy_set_header X-Castellan-Gateway "Basic {basic}";
            proxy_ssl_server_name on;
            proxy_ssl_name {host};
        }}
    }}
}}
"#
    )
}

fn caddyfile(origin: &str, path: &str, hostport: &str, basic: &str) -> String {
    format!(
        r#"# Castellan gateway: Caddy asks Castellan's authorizer about every request (forward_auth)
# and passes who is calling to the API in X-Castellan-Subject / X-Castellan-Client.
# Run from this directory: caddy run --config Caddyfile --adapter caddyfile
# Set the address of your API in `reverse_proxy`; nothing else needs editing. The `route` keeps
# the order: a caller's own X-Castellan-* headers are dropped before the authorizer's are copied.
{{
    admin off
    auto_https off
}}

:8080 {{
    route {{
        request_header -X-Castellan-Subject
        request_header -X-Castellan-Client
        forward_auth {origin} {{
            uri {path}
            header_up Host {hostport}
            header_up X-Castellan-Gateway "Basic {basic}"
            header_up X-Forwarded-Method {{method}}
            header_up X-Forwarded-Uri {{uri}}
            header_up X-Forwarded-Url {{scheme}}://{{hostport}}{{uri}}
            header_up Client-Cert "{{http.request.tls.client.certificate_der_base64}}"
            header_up -X-Original-Method
            header_up -X-Original-URI
            header_up -X-Original-URL
            copy_headers X-Castellan-Subject X-Castellan-Client
        }}
        reverse_proxy 127.0.0.1:9000
    }}
}}
"#
    )
}

fn readme(g: &wire::GatewayWithClient, file: &str, run: &str, authorizer: &str) -> String {
    format!(
        r#"# Castellan gateway `{id}` ({kind})

This directory runs a gateway in front of your API. For every request it asks Castellan's
authorizer ({authorizer}) whether the caller's bearer token, issued by {issuer}, may reach the
API it names; only then does the request go on, with `X-Castellan-Subject` (the token's subject)
and `X-Castellan-Client` (its client) added. A request without a valid token is answered `401`
(`WWW-Authenticate: Bearer error="invalid_token"`), one that no API of the connected services
matches or whose policy refuses is `403`.

1. Set the address of your API in `{file}` (`127.0.0.1:9000` now) and, if you like, the port the
   gateway listens on (`8080`).
2. Run, from this directory: `{run}`

`castellan-gateway.json` holds the gateway's client id and secret (the `X-Castellan-Gateway`
header of `{file}` carries them too): keep both files private. Deleting the gateway in Castellan
revokes them.
"#,
        id = g.gateway.id,
        kind = g.gateway.kind,
        issuer = g.issuer_url,
    )
}
