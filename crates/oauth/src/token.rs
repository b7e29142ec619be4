//! The token endpoint (RFC 6749 §3.2): which grant a request asks for, the client-credentials
//! and password grants themselves, and the scopes a token gets; introspection (RFC 7662) and
//! revocation (RFC 7009) of the tokens issued. The token itself is in `access_token`.

use std::sync::Arc;

use castellan_domain::Client;
use serde::{Deserialize, Serialize};

use crate::access_token::Subject;
use crate::dpop::Binding;
use crate::grants::check_grant_allowed;
use crate::snapshot::ServerRuntime;
use crate::{Engine, ErrorCode, Form, LoginError, OAuthError, Presented};

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
    /// RFC 8693 §2.2.1: the type of the token issued by a token exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<String>,
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
    /// `POST /oauth2/token` without a DPoP proof.
    pub async fn token(
        &self,
        rt: &ServerRuntime,
        p: &Presented<'_>,
    ) -> Result<(Arc<Client>, TokenResponse), OAuthError> {
        self.token_with_dpop(rt, p, None).await
    }

    /// `POST /oauth2/token` with the request's `DPoP` header, if any (RFC 9449): a valid proof
    /// binds the tokens issued to its key.
    pub async fn token_with_dpop(
        &self,
        rt: &ServerRuntime,
        p: &Presented<'_>,
        dpop: Option<&str>,
    ) -> Result<(Arc<Client>, TokenResponse), OAuthError> {
        let grant = p.form.require("grant_type")?;
        let client = self.authenticate_client(rt, p).await?;
        if let Some(profile) = crate::fapi::Profile::of(&rt.server.settings) {
            crate::fapi::client_rules(profile, &client).map_err(|b| b.error())?;
        }
        let bind = self.token_binding(rt, &client, dpop, p.certificate).await?;
        let bind = &bind;
        match grant {
            "client_credentials" => {
                let access = self.access(rt.tenant_id()).await?;
                let resp = self.client_credentials(rt, &access, &client, p.form, bind)?;
                Ok((client, resp))
            }
            "password" => {
                let resp = self.password(rt, &client, p, bind).await?;
                Ok((client, resp))
            }
            "authorization_code" => {
                let resp = self.authorization_code(rt, &client, p.form, bind).await?;
                Ok((client, resp))
            }
            "refresh_token" => {
                let resp = self.refresh_token(rt, &client, p.form, bind).await?;
                Ok((client, resp))
            }
            crate::exchange::TOKEN_EXCHANGE => {
                let resp = self.token_exchange(rt, &client, p.form, bind).await?;
                Ok((client, resp))
            }
            crate::exchange::JWT_BEARER => {
                let resp = self.jwt_bearer(rt, &client, p.form, bind).await?;
                Ok((client, resp))
            }
            crate::device::DEVICE_CODE => {
                let resp = self.device_code(rt, &client, p.form, bind).await?;
                Ok((client, resp))
            }
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
        bind: &Binding,
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
        let minted = self.mint(
            rt,
            client,
            Subject::Client,
            &scope,
            extra,
            crate::access_token::How::grant("client_credentials").bound(bind),
        )?;
        Ok(TokenResponse {
            access_token: minted.token,
            token_type: bind.token_type().into(),
            expires_in: minted.ttl,
            scope,
            refresh_token: None,
            id_token: None,
            issued_token_type: None,
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
        bind: &Binding,
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
            Ok((_, ctx)) => ctx,
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
            amr: vec!["pwd".into()],
            idp: None,
            jkt: None,
            x5t: None,
        };
        let rules = self.rules_for(rt, &auth.sub, &auth.scopes).await?;
        let (resp, issued) = self.issue(
            rt,
            &rules,
            client,
            &auth,
            &castellan_jose::random_id(),
            None,
            "password",
            bind,
        )?;
        self.store.record_grant(rt.tenant_id(), &issued).await?;
        Ok(resp)
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
        Ok(match self.verify_access_claims(rt, token).await? {
            Some(c) => {
                let mut v = serde_json::to_value(&*c).map_err(OAuthError::server_error)?;
                v["active"] = true.into();
                // RFC 9449 §6.2: a bound token says so, with its `cnf`.
                let bound = crate::dpop::bound_jkt(&c).is_some();
                v["token_type"] = if bound { "DPoP" } else { "Bearer" }.into();
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
        if self.person(rt, &auth.sub).await?.is_none() {
            return Ok(inactive);
        }
        let scope = crate::grants::current_scopes(rt, &client, &auth.scopes).join(" ");
        let mut v = serde_json::json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": scope,
            "client_id": r.client_id.as_str(),
            "sub": auth.sub,
            "exp": r.expires_at,
            "iss": rt.issuer,
            "tid": rt.tenant_id().as_str(),
            "aid": rt.id().as_str(),
        });
        // A public client's bound refresh token says what it is bound to (RFC 7800 `cnf`).
        let binding = crate::dpop::Binding {
            jkt: auth.jkt,
            x5t: auth.x5t,
        };
        if let Some(cnf) = binding.cnf() {
            v["cnf"] = cnf;
        }
        Ok(v)
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
        let Some(claims) = self.verify_access_claims(rt, token).await? else {
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
        rt.revoked
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(claims.jti.clone());
        // A reload of this server that read the revocations before this one committed may swap
        // in a runtime without it; reloading them now (after any reload under way, which holds
        // the tenant's lock) leaves the current runtime knowing it.
        self.apply(&changes).await;
        Ok(())
    }
}
