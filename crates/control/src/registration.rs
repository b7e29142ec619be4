//! Dynamic client registration (RFC 7591) at `{issuer}/oauth2/register`, and a registered
//! client's management of itself (RFC 7592) at `{issuer}/oauth2/register/{client_id}` with its
//! registration access token. Served only by servers with `enable_dynamic_client_registration`
//! (never system servers: their clients hold management permissions). The metadata goes through
//! the admin API's rules (`apply_client`); the server's and its scopes' `developer_policy_id`
//! decide, as for developers, what the registrant may have, with the initial access token's
//! claims as the registrant's context (none for open registration). Registered clients are
//! marked in the admin API (`dynamically_registered`); their secret is kept only as a hash.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use castellan_domain::{AuthorizationServer, Client, ClientId, ClientSettings, Registration, ServerId, TenantId};
use castellan_jose::{constant_time_eq, random_token, token_hash};
use castellan_types as wire;
use castellan_types::registration::{ClientInformation, ClientMetadata};
use serde_json::{Value, json};

use crate::developer::DeveloperCaller;
use crate::error::{Named, conflict, missing};
use crate::{Control, ControlError, ControlResult};

/// The scopes a client registered without `scope` gets, when its server has them.
const OIDC_SCOPES: [&str; 5] = ["openid", "profile", "email", "address", "phone"];
/// Open registrations allowed per address within [`OPEN_WINDOW`] (each node counts its own).
pub const OPEN_PER_ADDRESS: u32 = 10;
const OPEN_WINDOW: i64 = 3600;
/// Bound on remembered addresses.
const MAX_TRACKED: usize = 100_000;

/// Why a registration was refused.
#[derive(Debug)]
pub enum RegistrationError {
    /// Too many open registrations from this address: try again after this many seconds.
    TooMany(i64),
    Control(ControlError),
}

impl From<ControlError> for RegistrationError {
    fn from(e: ControlError) -> Self {
        Self::Control(e)
    }
}

/// Open registrations per address and window.
#[derive(Default)]
pub(crate) struct RegistrationThrottle {
    counts: Mutex<HashMap<IpAddr, (u32, i64)>>,
}

impl RegistrationThrottle {
    /// `Err(wait)` when `addr` registered its share of this window already.
    fn check(&self, addr: IpAddr, now: i64) -> Result<(), i64> {
        let map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&addr) {
            Some((n, start)) if *n >= OPEN_PER_ADDRESS && now - start < OPEN_WINDOW => Err(OPEN_WINDOW - (now - start)),
            _ => Ok(()),
        }
    }

    /// Counts one registration from `addr`.
    fn count(&self, addr: IpAddr, now: i64) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, start)| now - *start < OPEN_WINDOW);
            if map.len() >= MAX_TRACKED {
                return;
            }
        }
        let e = map.entry(addr).or_insert((0, now));
        if now - e.1 >= OPEN_WINDOW {
            *e = (0, now);
        }
        e.0 += 1;
    }
}

/// Who registers: where from, with what credential, as a policy sees the HTTP request.
pub struct Registrant<'a> {
    pub addr: Option<IpAddr>,
    pub bearer: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    pub headers: HashMap<String, String>,
}

fn not_found(aid: &str) -> ControlError {
    ControlError::NotFound {
        what: "authorization server",
        id: aid.to_owned(),
    }
}

/// RFC 7592 §2.1: an unknown client and a wrong token answer alike.
fn bad_token() -> ControlError {
    ControlError::Unauthorized("the registration access token is invalid for this client".into())
}

impl Control {
    /// The server `aid` of tenant `tid` when it serves dynamic registration.
    async fn registration_server(&self, tid: &str, aid: &str) -> ControlResult<AuthorizationServer> {
        let tid_ = TenantId::parse(tid).map_err(|_| not_found(aid))?;
        let aid_ = ServerId::parse(aid).map_err(|_| not_found(aid))?;
        let server = self
            .store
            .get_server(&tid_, &aid_)
            .await?
            .ok_or_else(|| not_found(aid))?;
        if server.system || !server.settings.enable_dynamic_client_registration {
            return Err(not_found(aid));
        }
        Ok(server)
    }

    /// The registrant as the developer policies see it: the initial access token's claims when
    /// the server asks for one (which must hold the server's `registration_scope`), else no one;
    /// for an update, who registered the client (`stored`).
    async fn registrant(
        &self,
        server: &AuthorizationServer,
        r: &Registrant<'_>,
        stored: Option<&Value>,
    ) -> ControlResult<DeveloperCaller> {
        let mut headers = r.headers.clone();
        headers.retain(|name, _| !crate::developer::HIDDEN_HEADERS.contains(&name.to_ascii_lowercase().as_str()));
        let request = castellan_policy::Request {
            method: r.method.to_owned(),
            path: r.path.to_owned(),
            headers,
        };
        if let Some(v) = stored {
            return Ok(DeveloperCaller {
                tenant: server.tenant_id.clone(),
                developer: v["developer"].as_str().unwrap_or("anonymous").to_owned(),
                context: v.get("context").cloned().unwrap_or_else(|| json!({})),
                client: v.get("client").cloned().unwrap_or_else(|| json!({})),
                scopes: v["scopes"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
                request,
            });
        }
        let mut context = serde_json::Map::new();
        let mut developer = "anonymous".to_owned();
        let mut scopes = Vec::new();
        let mut client = json!({});
        if let Some(scope) = &server.settings.registration_scope {
            let need = || {
                ControlError::Unauthorized(format!(
                    "registration needs an initial access token: an access token of this server with the scope {scope}"
                ))
            };
            let token = r.bearer.ok_or_else(need)?;
            let rt = self
                .engine
                .server(server.tenant_id.as_str(), server.id.as_str())
                .await?
                .ok_or_else(need)?;
            let claims = self.engine.verify_access_token(&rt, token).await?.ok_or_else(need)?;
            if !claims.scope.split_whitespace().any(|s| s == scope) {
                return Err(need());
            }
            if let Ok(Value::Object(own)) = serde_json::to_value(&claims) {
                context = own;
            }
            developer = claims.sub.clone();
            scopes = claims.scope.split_whitespace().map(str::to_owned).collect();
            client = json!({"client_id": claims.client_id});
        }
        Ok(DeveloperCaller {
            tenant: server.tenant_id.clone(),
            developer,
            context: Value::Object(context),
            client,
            scopes,
            request,
        })
    }

    /// Applies registration metadata to a blank client of `server` with the admin API's rules and
    /// the registrant's policies; returns the new secret, if one was made.
    async fn fill_registered(
        &self,
        d: &DeveloperCaller,
        server: &AuthorizationServer,
        c: &mut Client,
        m: ClientMetadata,
    ) -> ControlResult<Option<String>> {
        let scopes = match &m.scope {
            Some(s) => s.split_whitespace().map(str::to_owned).collect(),
            None => {
                let have = self.store.list_scopes(&server.tenant_id, &server.id).await?;
                OIDC_SCOPES
                    .iter()
                    .filter(|n| have.iter().any(|s| s.name == **n))
                    .map(|n| (*n).to_owned())
                    .collect()
            }
        };
        let req = wire::ClientRequest {
            client_name: m.client_name,
            grant_types: Some(m.grant_types.unwrap_or_else(|| vec!["authorization_code".into()])),
            response_types: m.response_types,
            token_endpoint_auth_method: m.token_endpoint_auth_method,
            token_endpoint_signing_alg: m.token_endpoint_auth_signing_alg,
            redirect_uris: m.redirect_uris,
            post_logout_redirect_uris: m.post_logout_redirect_uris,
            scopes: Some(scopes),
            jwks: m.jwks,
            jwks_uri: m.jwks_uri,
            client_uri: m.client_uri,
            logo_uri: m.logo_uri,
            policy_uri: m.policy_uri,
            tos_uri: m.tos_uri,
            id_token_signed_response_alg: m.id_token_signed_response_alg,
            request_object_signing_alg: m.request_object_signing_alg,
            dpop_bound_access_tokens: m.dpop_bound_access_tokens,
            tls_client_auth_subject_dn: m.tls_client_auth_subject_dn,
            tls_client_auth_san_dns: m.tls_client_auth_san_dns,
            tls_client_auth_san_uri: m.tls_client_auth_san_uri,
            tls_client_auth_san_ip: m.tls_client_auth_san_ip,
            tls_client_auth_san_email: m.tls_client_auth_san_email,
            tls_client_certificate_bound_access_tokens: m.tls_client_certificate_bound_access_tokens,
            ..Default::default()
        };
        let secret = self.apply_client(server, c, req, true, None).await?;
        // RFC 7591 §2.1: grant and response types go together; a redirect-based flow needs a
        // redirect URI (OpenID Connect Dynamic Client Registration §2).
        let has = |g: &str| c.grant_types.iter().any(|x| x == g);
        for (i, rt) in c.settings.response_types.iter().enumerate() {
            let parts: Vec<&str> = rt.split(' ').collect();
            let mut needs = Vec::new();
            if parts.contains(&"code") {
                needs.push("authorization_code");
            }
            if parts.contains(&"token") || parts.contains(&"id_token") {
                needs.push("implicit");
            }
            if let Some(missing) = needs.into_iter().find(|g| !has(g)) {
                return Err(ControlError::invalid(
                    format!("response_types[{i}]"),
                    format!("{rt:?} needs the {missing} grant type (RFC 7591 §2.1)"),
                ));
            }
        }
        if (has("authorization_code") || has("implicit")) && c.settings.redirect_uris.is_empty() {
            return Err(ControlError::invalid(
                "redirect_uris",
                "required for the authorization_code and implicit grants",
            ));
        }
        if !self.developer_may_use(d, server).await? {
            return Err(ControlError::Forbidden(
                "the server's developer policy does not allow this registration".into(),
            ));
        }
        self.check_developer_client(d, server, c).await?;
        let contacts = m.contacts.unwrap_or_default();
        if contacts.len() > 20 || contacts.iter().any(|x| x.is_empty() || x.len() > 256) {
            return Err(ControlError::invalid(
                "contacts",
                "at most 20, each 1 to 256 characters",
            ));
        }
        for (field, v) in [
            ("software_id", &m.software_id),
            ("software_version", &m.software_version),
        ] {
            if v.as_ref().is_some_and(|v| v.len() > 256) {
                return Err(ControlError::invalid(field, "at most 256 characters"));
            }
        }
        c.settings.registration = Some(Registration {
            token_hash: String::new(),
            contacts,
            software_id: m.software_id,
            software_version: m.software_version,
            registrant: json!({"developer": d.developer, "context": d.context, "client": d.client,
                "scopes": d.scopes}),
        });
        match secret {
            Some((s, _)) => {
                c.secret_sealed = None;
                c.secret_hash = Some(
                    castellan_oauth::secrets::hash_secret(&self.master, &s, false)
                        .await
                        .map_err(ControlError::internal)?,
                );
                Ok(Some(s))
            }
            None => Ok(None),
        }
    }

    fn blank_registered(&self, server: &AuthorizationServer, id: ClientId) -> Client {
        Client {
            tenant_id: server.tenant_id.clone(),
            server_id: server.id.clone(),
            name: id.to_string(),
            id,
            system: false,
            grant_types: Vec::new(),
            token_endpoint_auth_method: "client_secret_basic".into(),
            secret_hash: None,
            secret_sealed: None,
            settings: ClientSettings::default(),
            created_at: self.clock.now(),
        }
    }

    /// The client information response of `c`.
    fn information(&self, c: &Client, secret: Option<String>, token: Option<String>) -> ClientInformation {
        let s = &c.settings;
        let reg = s.registration.clone().unwrap_or_default();
        ClientInformation {
            client_id: c.id.to_string(),
            client_secret_expires_at: c.secret_hash.is_some().then_some(0),
            client_secret: secret,
            client_id_issued_at: c.created_at,
            registration_access_token: token,
            registration_client_uri: format!(
                "{}/{}/{}/oauth2/register/{}",
                self.public_url, c.tenant_id, c.server_id, c.id
            ),
            redirect_uris: s.redirect_uris.clone(),
            token_endpoint_auth_method: c.token_endpoint_auth_method.clone(),
            grant_types: c.grant_types.clone(),
            response_types: s.response_types.clone(),
            client_name: c.name.clone(),
            scope: s.scopes.join(" "),
            client_uri: s.client_uri.clone(),
            logo_uri: s.logo_uri.clone(),
            contacts: reg.contacts,
            tos_uri: s.tos_uri.clone(),
            policy_uri: s.policy_uri.clone(),
            jwks_uri: s.jwks_uri.clone(),
            jwks: s.jwks.clone(),
            software_id: reg.software_id,
            software_version: reg.software_version,
            post_logout_redirect_uris: s.post_logout_redirect_uris.clone(),
            id_token_signed_response_alg: s.id_token_signed_response_alg.clone(),
            request_object_signing_alg: s.request_object_signing_alg.clone(),
            token_endpoint_auth_signing_alg: s.token_endpoint_signing_alg.clone(),
            dpop_bound_access_tokens: s.dpop_bound_access_tokens,
            tls_client_auth_subject_dn: s.tls_client_auth.subject_dn.clone(),
            tls_client_auth_san_dns: s.tls_client_auth.san_dns.clone(),
            tls_client_auth_san_uri: s.tls_client_auth.san_uri.clone(),
            tls_client_auth_san_ip: s.tls_client_auth.san_ip.clone(),
            tls_client_auth_san_email: s.tls_client_auth.san_email.clone(),
            tls_client_certificate_bound_access_tokens: s.tls_client_certificate_bound_access_tokens,
        }
    }

    /// A fresh registration access token for `c` (its hash kept): the previous one stops working.
    fn new_registration_token(c: &mut Client) -> String {
        let token = random_token();
        if let Some(r) = c.settings.registration.as_mut() {
            r.token_hash = token_hash(&token);
        }
        token
    }

    /// `POST {issuer}/oauth2/register` (RFC 7591 §3.1): a new client from its metadata.
    pub async fn register_client(
        &self,
        tid: &str,
        aid: &str,
        who: Registrant<'_>,
        m: ClientMetadata,
    ) -> Result<ClientInformation, RegistrationError> {
        let server = self.registration_server(tid, aid).await?;
        let d = self.registrant(&server, &who, None).await?;
        let open = server.settings.registration_scope.is_none();
        if open && let Some(addr) = who.addr {
            self.registrations
                .check(addr, self.clock.now())
                .map_err(RegistrationError::TooMany)?;
        }
        let id = ClientId::parse(uuid::Uuid::new_v4().simple().to_string()).map_err(ControlError::internal)?;
        let mut c = self.blank_registered(&server, id.clone());
        let secret = self.fill_registered(&d, &server, &mut c, m).await?;
        let token = Self::new_registration_token(&mut c);
        let changes = self
            .store
            .create_client(&c)
            .await
            .named(conflict("client", id.to_string()).missing("authorization server", aid.to_owned()))?;
        self.engine.apply(&changes).await;
        if open && let Some(addr) = who.addr {
            self.registrations.count(addr, self.clock.now());
        }
        tracing::info!(tenant = %tid, server = %aid, client = %id, "client registered dynamically");
        Ok(self.information(&c, secret, Some(token)))
    }

    /// The registered client `cid` of the server, when `token` is its registration access token.
    async fn registered(&self, tid: &str, aid: &str, cid: &str, token: &str) -> ControlResult<Client> {
        let server = self.registration_server(tid, aid).await?;
        let id = ClientId::parse(cid).map_err(|_| bad_token())?;
        let c = self
            .store
            .get_client(&server.tenant_id, &id)
            .await?
            .filter(|c| c.server_id == server.id && !c.system)
            .ok_or_else(bad_token)?;
        let want = c
            .settings
            .registration
            .as_ref()
            .map(|r| r.token_hash.clone())
            .unwrap_or_default();
        if want.is_empty() || token.is_empty() || !constant_time_eq(token_hash(token).as_bytes(), want.as_bytes()) {
            return Err(bad_token());
        }
        Ok(c)
    }

    /// `GET {issuer}/oauth2/register/{client_id}` (RFC 7592 §2.1).
    pub async fn read_registration(
        &self,
        tid: &str,
        aid: &str,
        cid: &str,
        token: &str,
    ) -> ControlResult<ClientInformation> {
        let c = self.registered(tid, aid, cid, token).await?;
        Ok(self.information(&c, None, None))
    }

    /// `PUT {issuer}/oauth2/register/{client_id}` (RFC 7592 §2.2): the metadata replace the
    /// client's (what is left out returns to its default); the secret stays, the registration
    /// access token is replaced.
    pub async fn update_registration(
        &self,
        tid: &str,
        aid: &str,
        cid: &str,
        token: &str,
        who: Registrant<'_>,
        m: ClientMetadata,
    ) -> ControlResult<ClientInformation> {
        let old = self.registered(tid, aid, cid, token).await?;
        if m.client_id.as_deref() != Some(cid) {
            return Err(ControlError::invalid(
                "client_id",
                "must be the client's id (RFC 7592 §2.2)",
            ));
        }
        if let Some(given) = &m.client_secret {
            let ok = match &old.secret_hash {
                Some(h) => {
                    castellan_oauth::secrets::VerifiedSecrets::default()
                        .verify(&self.master, given, h)
                        .await
                }
                None => false,
            };
            if !ok {
                return Err(ControlError::invalid(
                    "client_secret",
                    "is not the client's current secret",
                ));
            }
        }
        let server = self.registration_server(tid, aid).await?;
        let stored = old
            .settings
            .registration
            .as_ref()
            .map(|r| r.registrant.clone())
            .unwrap_or(Value::Null);
        let d = self.registrant(&server, &who, Some(&stored)).await?;
        let mut c = self.blank_registered(&server, old.id.clone());
        c.created_at = old.created_at;
        c.secret_hash = old.secret_hash.clone();
        let secret = self.fill_registered(&d, &server, &mut c, m).await?;
        let new_token = Self::new_registration_token(&mut c);
        let changes = self
            .store
            .update_client(&c)
            .await
            .named(missing("client", cid.to_owned()))?;
        self.engine.apply(&changes).await;
        Ok(self.information(&c, secret, Some(new_token)))
    }

    /// `DELETE {issuer}/oauth2/register/{client_id}` (RFC 7592 §2.3): the client and everything
    /// it was given.
    pub async fn delete_registration(&self, tid: &str, aid: &str, cid: &str, token: &str) -> ControlResult<()> {
        let c = self.registered(tid, aid, cid, token).await?;
        self.remove_client(&c).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_registration_is_counted_per_address_and_window() {
        let t = RegistrationThrottle::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap_or(IpAddr::from([192, 0, 2, 1]));
        let b: IpAddr = IpAddr::from([192, 0, 2, 2]);
        for _ in 0..OPEN_PER_ADDRESS {
            assert!(t.check(a, 100).is_ok());
            t.count(a, 100);
        }
        assert_eq!(t.check(a, 110), Err(OPEN_WINDOW - 10));
        assert!(t.check(b, 110).is_ok(), "per address");
        assert!(t.check(a, 100 + OPEN_WINDOW).is_ok(), "a new window");
        t.count(a, 100 + OPEN_WINDOW);
        assert!(t.check(a, 100 + OPEN_WINDOW).is_ok());
    }
}
