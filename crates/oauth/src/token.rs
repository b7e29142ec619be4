//! Access tokens (RFC 9068) and the grants that issue them; introspection (RFC 7662) and
//! revocation (RFC 7009) of those tokens.

use std::sync::Arc;

use castellan_domain::Client;
use castellan_jose::{jwt, random_id};
use serde::{Deserialize, Serialize};

use crate::grants::check_grant_allowed;
use crate::snapshot::ServerRuntime;
use crate::{Engine, ErrorCode, Form, LoginError, OAuthError, Presented};

/// The claims of an access token (RFC 9068 §2.2) plus Castellan's `tid`/`aid`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub tid: String,
    pub aid: String,
    /// How the token was issued, for a token no person is involved in: `client_credentials`.
    /// Castellan sets it and trusts it only under its own signature, so a client's own token is
    /// told from a person's by how it was issued, never by comparing `sub` with `client_id` (a
    /// person's username may equal a client id; RFC 9068 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
    /// Custom claims (Cloudentity ACP claims of type `access_token`).
    #[serde(flatten, default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// What a policy reads of the token, built on first use; the verified-token cache keeps it
    /// with the claims, so the gateway authorizer builds it once per token, not per request.
    #[serde(skip)]
    pub(crate) view: ViewCell,
}

/// A policy's view of an access token: the identity context (the claims as JSON), the client,
/// the scopes.
#[derive(Debug)]
pub(crate) struct PolicyView {
    pub context: serde_json::Value,
    pub client: serde_json::Value,
    pub scopes: Vec<String>,
}

/// A cache, not a claim: ignored by equality, empty in a clone.
#[derive(Default)]
pub(crate) struct ViewCell(std::sync::OnceLock<PolicyView>);

impl Clone for ViewCell {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for ViewCell {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ViewCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ViewCell")
    }
}

/// The `gty` of a client's own token.
pub const CLIENT_GRANT: &str = "client_credentials";

/// Whom an access token is about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// The client itself (`client_credentials`): `sub` is the client id.
    Client,
    /// A person.
    Person(&'a str),
}

impl AccessClaims {
    /// Whether this is a client's own token (issued with `client_credentials`), not a person's.
    pub fn is_client_own(&self) -> bool {
        self.gty.as_deref() == Some(CLIENT_GRANT)
    }

    /// The policy's view of these claims (built once).
    pub(crate) fn policy_view(&self) -> &PolicyView {
        self.view.0.get_or_init(|| PolicyView {
            // A struct of strings, numbers and a JSON map: serialising it cannot fail.
            context: serde_json::to_value(self).unwrap_or_default(),
            client: serde_json::json!({"client_id": self.client_id}),
            scopes: self.scope.split_whitespace().map(str::to_owned).collect(),
        })
    }
}

/// Claim names a custom claim may not overwrite.
pub(crate) const RESERVED: [&str; 14] = [
    "iss",
    "sub",
    "gty",
    "aud",
    "client_id",
    "scope",
    "exp",
    "iat",
    "nbf",
    "jti",
    "tid",
    "aid",
    "typ",
    "permissions",
];

/// `a.b.c` inside an authentication context.
pub(crate) fn lookup<'a>(
    ctx: &'a serde_json::Map<String, serde_json::Value>,
    path: &str,
) -> Option<&'a serde_json::Value> {
    let mut parts = path.split('.');
    let mut v = ctx.get(parts.next()?)?;
    for p in parts {
        v = v.get(p)?;
    }
    Some(v)
}

/// One signed access token and what must be remembered of it.
pub(crate) struct Minted {
    pub token: String,
    pub jti: String,
    pub exp: i64,
    pub ttl: u64,
}

/// RFC 6749 §5.1.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The scopes a token gets: the requested ones, each the client's and existing on the server
/// (`invalid_scope` otherwise), or all of the client's when none are requested.
pub(crate) fn granted_scopes<'a>(
    rt: &ServerRuntime,
    client: &'a Client,
    form: &'a Form,
) -> Result<Vec<&'a str>, OAuthError> {
    Ok(match form.get("scope")? {
        Some(requested) => {
            let mut out: Vec<&str> = Vec::new();
            for s in requested.split(' ').filter(|s| !s.is_empty()) {
                if !client.settings.scopes.iter().any(|c| c == s) || !rt.scopes.contains_key(s) {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidScope,
                        format!("scope {s} is not allowed for this client"),
                    ));
                }
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            out
        }
        None => client
            .settings
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| rt.scopes.contains_key(*s))
            .collect(),
    })
}

impl Engine {
    /// `POST /oauth2/token`.
    pub async fn token(
        &self,
        rt: &ServerRuntime,
        p: &Presented<'_>,
    ) -> Result<(Arc<Client>, TokenResponse), OAuthError> {
        let grant = p.form.require("grant_type")?;
        let client = self.authenticate_client(rt, p).await?;
        match grant {
            "client_credentials" => {
                let access = self.access(rt.tenant_id()).await?;
                let resp = self.client_credentials(rt, &access, &client, p.form)?;
                Ok((client, resp))
            }
            "password" => {
                let resp = self.password(rt, &client, p).await?;
                Ok((client, resp))
            }
            "authorization_code" => {
                let resp = self.authorization_code(rt, &client, p.form).await?;
                Ok((client, resp))
            }
            "refresh_token" => {
                let resp = self.refresh_token(rt, &client, p.form).await?;
                Ok((client, resp))
            }
            g if rt.server.settings.grant_types.iter().any(|s| s == g) => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant type {g} is not served by this endpoint yet"),
            )),
            g => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("unsupported grant type {g}"),
            )),
        }
    }

    /// RFC 6749 §4.4. Requested scopes must be a subset of the client's; none requested means
    /// all of them.
    fn client_credentials(
        &self,
        rt: &ServerRuntime,
        access: &castellan_domain::AccessRules,
        client: &Client,
        form: &Form,
    ) -> Result<TokenResponse, OAuthError> {
        check_grant_allowed(rt, client, "client_credentials")?;
        if client.settings.public {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "a public client may not use client_credentials",
            ));
        }
        let granted = granted_scopes(rt, client, form)?;
        let scope = granted.join(" ");
        // An STS-mapped client's token carries exactly its mapping (Cloudentity Nexus).
        let mut extra = serde_json::Map::new();
        if let Some(p) = access.mapping(client.id.as_str()) {
            extra.insert("permissions".into(), p.to_string().into());
        }
        let minted = self.mint(rt, client, Subject::Client, &scope, extra)?;
        Ok(TokenResponse {
            access_token: minted.token,
            token_type: "Bearer".into(),
            expires_in: minted.ttl,
            scope,
            refresh_token: None,
            id_token: None,
        })
    }

    /// RFC 6749 §4.3 for the server's `static` users (Cloudentity ACP lists the grant; RFC 9700 §2.4
    /// advises against it, so a server must enable it explicitly). The access token's subject is
    /// the user; claims of type `access_token` are released from the user's authentication context.
    async fn password(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        p: &Presented<'_>,
    ) -> Result<TokenResponse, OAuthError> {
        check_grant_allowed(rt, client, "password")?;
        let form = p.form;
        let username = form.require("username")?;
        let password = form.require("password")?;
        let mut scopes: Vec<String> = granted_scopes(rt, client, form)?
            .iter()
            .map(|s| s.to_string())
            .collect();
        crate::issue::drop_useless_offline_access(rt, client, &mut scopes);
        // The same throttle as the login page: five failures per username, twenty per address.
        let ctx = match self.check_password(rt, username, password, p.addr).await {
            Ok(ctx) => ctx,
            Err(LoginError::Throttled(wait)) => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidGrant,
                    format!("too many failed sign-ins; try again in {wait} seconds"),
                ));
            }
            Err(LoginError::Invalid) => {
                return Err(OAuthError::new(ErrorCode::InvalidGrant, "invalid username or password"));
            }
            Err(LoginError::Unavailable(e)) => return Err(e),
        };
        if let Err(reason) = self.server_user_policy(rt, client, username, &ctx, &scopes).await? {
            tracing::info!(server = %rt.id(), %reason, "password grant refused by the server's user policy");
            return Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "the server's user policy refused this sign-in",
            ));
        }
        let auth = crate::issue::Authorization {
            sub: username.to_owned(),
            scopes,
            auth_time: self.clock.now(),
            ctx,
            nonce: None,
            sid: None,
        };
        let rules = self.rules_for(rt, &auth.sub, &auth.scopes).await?;
        let (resp, issued) = self.issue(rt, &rules, client, &auth, &castellan_jose::random_id(), None)?;
        self.store.record_grant(rt.tenant_id(), &issued).await?;
        Ok(resp)
    }

    pub(crate) fn mint(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        subject: Subject<'_>,
        scope: &str,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Minted, OAuthError> {
        let (sub, gty) = match subject {
            Subject::Client => (client.id.as_str(), Some(CLIENT_GRANT.to_owned())),
            Subject::Person(sub) => (sub, None),
        };
        let signer = rt
            .signer
            .as_ref()
            .ok_or_else(|| OAuthError::server_error("the server has no usable signing key"))?;
        let now = self.clock.now();
        let ttl = rt.server.settings.access_token_ttl.as_secs();
        let aud = crate::issue::audience(client);
        let claims = AccessClaims {
            iss: rt.issuer.clone(),
            sub: sub.to_owned(),
            aud,
            client_id: client.id.to_string(),
            scope: scope.to_owned(),
            exp: now + ttl as i64,
            iat: now,
            nbf: now,
            jti: random_id(),
            tid: rt.tenant_id().to_string(),
            aid: rt.id().to_string(),
            gty,
            extra,
            view: ViewCell::default(),
        };
        let token = jwt::sign(&signer.key, &signer.at_header, &claims).map_err(OAuthError::server_error)?;
        Ok(Minted {
            token,
            jti: claims.jti,
            exp: claims.exp,
            ttl,
        })
    }

    /// Verifies an access token issued by `rt`: signature with one of its published keys, `typ`,
    /// issuer, tenant and server, time, and that it has not been revoked.
    pub async fn verify_access_token(
        &self,
        rt: &ServerRuntime,
        token: &str,
    ) -> Result<Option<AccessClaims>, OAuthError> {
        Ok(self
            .verify_access_claims(rt, token)
            .await?
            .map(|c| AccessClaims::clone(&c)))
    }

    /// [`Engine::verify_access_token`] without copying the claims out of the verified-token cache.
    pub(crate) async fn verify_access_claims(
        &self,
        rt: &ServerRuntime,
        token: &str,
    ) -> Result<Option<Arc<AccessClaims>>, OAuthError> {
        let key = castellan_jose::sha256(token.as_bytes());
        let claims = match rt.verified.get(&key) {
            Some(c) => c,
            None => {
                let Some(c) = Self::verify_signed(rt, token) else {
                    return Ok(None);
                };
                let c = Arc::new(c);
                rt.verified.insert(key, c.clone());
                c
            }
        };
        let now = self.clock.now();
        if claims.exp <= now || claims.nbf > now + 30 {
            return Ok(None);
        }
        // The client must still exist, and a client or server deleted (perhaps re-created since
        // with the same id) does not revive the tokens issued before its deletion.
        let cid = claims.client_id.as_str();
        let cut = |t: Option<&i64>| t.is_some_and(|t| claims.iat <= *t);
        if cut(rt.server_cutoff.as_ref()) || cut(rt.client_cutoffs.get(cid)) || self.client(rt, cid).await?.is_none() {
            return Ok(None);
        }
        if rt
            .revoked
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&claims.jti)
        {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// Signature (with one of the server's published keys), `typ`, issuer, tenant and server.
    fn verify_signed(rt: &ServerRuntime, token: &str) -> Option<AccessClaims> {
        let parsed = jwt::parse(token)?;
        if parsed.header.typ.as_deref() != Some("at+jwt") {
            return None;
        }
        let (jwk, alg) = parsed.header.kid.as_deref().and_then(|kid| rt.verification_key(kid))?;
        if !parsed.verify_with(jwk, alg) {
            return None;
        }
        let claims = parsed.claims::<AccessClaims>()?;
        (claims.iss == rt.issuer && claims.tid == rt.tenant_id().as_str() && claims.aid == rt.id().as_str())
            .then_some(claims)
    }

    /// `POST /oauth2/introspect` (RFC 7662): the caller authenticates as a confidential client of
    /// this server.
    /// Anything not a live token of this server is `{"active": false}`.
    pub async fn introspect(&self, rt: &ServerRuntime, p: &Presented<'_>) -> Result<serde_json::Value, OAuthError> {
        // The caller first (RFC 7662 §2.1): without credentials the answer is 401, whatever else.
        let caller = self.authenticate_client(rt, p).await?;
        let token = p.form.require("token")?;
        if caller.settings.public {
            // Identified by its id alone, a public client proves nothing: anyone could read tokens.
            return Err(OAuthError::invalid_client("public clients may not introspect tokens"));
        }
        if !token.contains('.') {
            return self.introspect_refresh(rt, token).await;
        }
        Ok(match self.verify_access_token(rt, token).await? {
            Some(c) => {
                let mut v = serde_json::to_value(&c).map_err(OAuthError::server_error)?;
                v["active"] = true.into();
                v["token_type"] = "Bearer".into();
                v
            }
            None => serde_json::json!({"active": false}),
        })
    }

    /// RFC 7662 §2.2 for a refresh token: active while unused, unexpired, its grant unrevoked, its
    /// client present and its person still able to sign in.
    async fn introspect_refresh(&self, rt: &ServerRuntime, token: &str) -> Result<serde_json::Value, OAuthError> {
        let inactive = serde_json::json!({"active": false});
        if token.len() > 128 {
            return Ok(inactive);
        }
        let hash = castellan_jose::token_hash(token);
        let Some(r) = self.store.get_refresh(rt.tenant_id(), rt.id(), &hash).await? else {
            return Ok(inactive);
        };
        if r.used || r.grant_revoked || r.expires_at <= self.clock.now() {
            return Ok(inactive);
        }
        let Some(client) = self.client(rt, r.client_id.as_str()).await? else {
            return Ok(inactive);
        };
        let Ok(auth) = serde_json::from_str::<crate::issue::Authorization>(&r.data) else {
            return Ok(inactive);
        };
        if !crate::users::can_sign_in(&rt.server, &auth.sub) {
            return Ok(inactive);
        }
        let scope = crate::grants::current_scopes(rt, &client, &auth.scopes).join(" ");
        Ok(serde_json::json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": scope,
            "client_id": r.client_id.as_str(),
            "sub": auth.sub,
            "exp": r.expires_at,
            "iss": rt.issuer,
            "tid": rt.tenant_id().as_str(),
            "aid": rt.id().as_str(),
        }))
    }

    /// `POST /oauth2/revoke` (RFC 7009). Unknown or invalid tokens are not an error (§2.2); a token
    /// of another client is refused (§2.1). `token_type_hint` is only a hint: the token is found by
    /// its form whatever the hint says, and an unknown hint is ignored (§2.1).
    pub async fn revoke(&self, rt: &ServerRuntime, p: &Presented<'_>) -> Result<(), OAuthError> {
        let client = self.authenticate_client(rt, p).await?;
        let token = p.form.require("token")?;
        // Read, so that a repeated hint is still refused as every repeated parameter is.
        let _hint = p.form.get("token_type_hint")?;
        if !token.contains('.') {
            self.revoke_refresh(rt, &client, token).await?;
            return Ok(());
        }
        let Some(claims) = self.verify_access_token(rt, token).await? else {
            return Ok(());
        };
        if claims.client_id != client.id.as_str() {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "the token was issued to another client",
            ));
        }
        let changes = self
            .store
            .revoke_token(rt.tenant_id(), rt.id(), &claims.jti, claims.exp)
            .await?;
        rt.revoked.write().unwrap_or_else(|p| p.into_inner()).insert(claims.jti);
        // A reload of this server that read the revocations before this one committed may swap
        // in a runtime without it; reloading them now (after any reload under way, which holds
        // the tenant's lock) leaves the current runtime knowing it.
        self.apply(&changes).await;
        Ok(())
    }
}
