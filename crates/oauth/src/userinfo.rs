//! The UserInfo endpoint (OIDC Core §5.3) and RP-initiated logout (OpenID Connect RP-Initiated
//! Logout 1.0 §2, §3).

use std::sync::Arc;

use castellan_domain::Client;
use castellan_jose::jwt;
use serde_json::{Map, Value};

use crate::issue::{Authorization, IdClaims, user_claims};
use crate::snapshot::ServerRuntime;
use crate::{Engine, ErrorCode, Form, OAuthError};

/// What a logout request asks for, once checked.
#[derive(Debug, Clone, PartialEq)]
pub struct LogoutRequest {
    /// The client named by a valid `id_token_hint` (or `client_id`).
    pub client: Option<Arc<Client>>,
    /// A valid `id_token_hint` was presented: the request comes from the client the person used,
    /// so no confirmation is needed.
    pub hinted: bool,
    /// Where to send the person afterwards (registered exactly), with `state`.
    pub redirect: Option<String>,
}

impl Engine {
    /// `GET|POST /userinfo` with an access token that was granted `openid`, presented as a bearer
    /// token or, bound to a DPoP key, with a proof (RFC 9449 §7).
    pub async fn userinfo(
        &self,
        rt: &ServerRuntime,
        token: &str,
        how: &crate::dpop::Presentation<'_>,
    ) -> Result<Value, OAuthError> {
        let Some(claims) = self.verify_access_claims(rt, token).await? else {
            return Err(OAuthError::new(
                ErrorCode::InvalidToken,
                "the access token is invalid or expired",
            ));
        };
        self.check_presentation(rt, &claims, token, how).await?;
        let granted: Vec<String> = claims
            .scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        // Claims are released only for scopes the server and the client still have.
        let scopes = match self.client(rt, claims.client_id.as_str()).await? {
            Some(client) => crate::grants::current_scopes(rt, &client, &granted),
            None => Vec::new(),
        };
        if !scopes.iter().any(|s| s == "openid") {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                "the access token was not granted openid",
            ));
        }
        // Claims come from the person's current record: a removed user gets nothing.
        let Some(ctx) = self.person(rt, &claims.sub).await? else {
            return Err(OAuthError::new(ErrorCode::InvalidToken, "the user no longer exists"));
        };
        let auth = Authorization {
            sub: claims.sub.clone(),
            scopes,
            auth_time: claims.iat,
            ctx,
            nonce: None,
            sid: None,
            amr: Vec::new(),
            idp: None,
            jkt: None,
            x5t: None,
        };
        let mut out = Map::new();
        out.insert("sub".into(), Value::String(claims.sub.clone()));
        for (k, v) in user_claims(rt, &auth) {
            out.entry(k).or_insert(v);
        }
        Ok(Value::Object(out))
    }

    /// Checks a logout request; an `Err` is shown to the person (never redirected).
    pub async fn logout_request(&self, rt: &ServerRuntime, form: &Form) -> Result<LogoutRequest, String> {
        let unavailable = |_| "The server cannot check this request right now; try again.".to_owned();
        let get = |k: &str| form.get(k).map_err(|e| e.description);
        let mut client = None;
        let mut hinted = false;
        if let Some(hint) = get("id_token_hint")? {
            // Expired hints are fine (§2); the signature, issuer and audience must hold.
            let claims = jwt::parse(hint)
                .filter(|p| {
                    p.header
                        .kid
                        .as_deref()
                        .and_then(|k| rt.verification_key(k))
                        .is_some_and(|(jwk, alg)| p.verify_with(jwk, alg))
                })
                .and_then(|p| p.claims::<IdClaims>())
                .filter(|c| c.iss == rt.issuer);
            let Some(claims) = claims else {
                return Err("The sign-out request carries an identity token this server did not issue.".into());
            };
            client = match claims.aud.first() {
                Some(id) => self.client(rt, id).await.map_err(unavailable)?,
                None => None,
            };
            if client.is_none() {
                return Err("The application that asked to sign you out is not known to this server.".into());
            }
            hinted = true;
        }
        if let Some(cid) = get("client_id")? {
            match &client {
                Some(c) if c.id.as_str() != cid => {
                    return Err("The sign-out request names two different applications.".into());
                }
                Some(_) => {}
                None => {
                    client = self.client(rt, cid).await.map_err(unavailable)?;
                    if client.is_none() {
                        return Err("The application that asked to sign you out is not known to this server.".into());
                    }
                }
            }
        }
        let redirect = match get("post_logout_redirect_uri")? {
            None => None,
            Some(uri) => {
                let Some(c) = &client else {
                    return Err("The sign-out request does not say which application it comes from.".into());
                };
                if !c.settings.post_logout_redirect_uris.iter().any(|u| u == uri) {
                    return Err("The application asked to send you to an address it has not registered.".into());
                }
                Some(match get("state")? {
                    Some(state) => {
                        let sep = if uri.contains('?') { '&' } else { '?' };
                        format!("{uri}{sep}state={}", crate::authorize::urlencode(state))
                    }
                    None => uri.to_owned(),
                })
            }
        };
        Ok(LogoutRequest {
            client,
            hinted,
            redirect,
        })
    }
}
