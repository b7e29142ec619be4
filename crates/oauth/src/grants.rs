//! The authorization-code grant (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.6) and the refresh-token
//! grant (RFC 6749 §6, rotation and reuse detection per RFC 9700 §4.14.2). A replayed code or a
//! reused refresh token revokes the whole grant.

use castellan_domain::Client;
use castellan_jose::{b64url, constant_time_eq, sha256, token_hash};
use serde::{Deserialize, Serialize};

use crate::dpop::Binding;
use crate::issue::Authorization;
use crate::snapshot::ServerRuntime;
use crate::{Engine, ErrorCode, Form, OAuthError, TokenResponse};

/// What an authorization code stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CodeData {
    pub auth: Authorization,
    pub redirect_uri: String,
    /// The authorization request named `redirect_uri` (then the token request must repeat it).
    pub redirect_uri_given: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// An approved device request (RFC 8628), redeemed by polling with the device code, never
    /// as an authorization code.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub device: bool,
    /// The DPoP key the authorization request bound the code to (RFC 9449 §10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

fn invalid_grant(d: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, d)
}

/// The server and the client must both allow `grant`.
pub(crate) fn check_grant_allowed(rt: &ServerRuntime, client: &Client, grant: &str) -> Result<(), OAuthError> {
    if !rt.server.settings.grant_types.iter().any(|g| g == grant) {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("{grant} is disabled on this server"),
        ));
    }
    if !client.grant_types.iter().any(|g| g == grant) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("the client may not use {grant}"),
        ));
    }
    Ok(())
}

/// The scopes of `granted` that the server still has and the client may still ask for.
pub(crate) fn current_scopes(rt: &ServerRuntime, client: &Client, granted: &[String]) -> Vec<String> {
    granted
        .iter()
        .filter(|s| rt.scopes.contains_key(s.as_str()) && client.settings.scopes.iter().any(|c| c == *s))
        .cloned()
        .collect()
}

/// The token request of an authorization code repeats its redirect URI when the authorization
/// request named one (RFC 6749 §4.1.3) and proves PKCE (RFC 7636 §4.6).
fn check_redirect_and_verifier(data: &CodeData, form: &Form) -> Result<(), OAuthError> {
    match form.get("redirect_uri")? {
        Some(r) if r != data.redirect_uri => {
            return Err(invalid_grant("redirect_uri does not match the authorization request"));
        }
        None if data.redirect_uri_given => {
            return Err(OAuthError::invalid_request(
                "redirect_uri is required: the authorization request included it",
            ));
        }
        _ => {}
    }
    match (&data.code_challenge, form.get("code_verifier")?) {
        (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => {}
        (Some(_), Some(_)) => return Err(invalid_grant("code_verifier does not match the code_challenge")),
        (Some(_), None) => return Err(invalid_grant("code_verifier is required")),
        // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
        (None, Some(_)) => return Err(invalid_grant("the authorization request had no code_challenge")),
        (None, None) => {}
    }
    Ok(())
}

/// RFC 7636 §4.6 with S256 (the only method accepted).
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    well_formed && constant_time_eq(b64url(&sha256(verifier.as_bytes())).as_bytes(), challenge.as_bytes())
}

impl Engine {
    pub(crate) async fn authorization_code(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        form: &Form,
        bind: &Binding,
    ) -> Result<TokenResponse, OAuthError> {
        check_grant_allowed(rt, client, "authorization_code")?;
        let code = form.require("code")?;
        if code.len() > 128 {
            return Err(invalid_grant("the code is invalid"));
        }
        self.redeem_code(rt, client, &token_hash(code), Some(form), false, bind)
            .await
    }

    /// Redeems a stored code once: an authorization code (with the token request's form, for
    /// its redirect URI and PKCE checks) or an approved device request (`device`, no form).
    pub(crate) async fn redeem_code(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        hash: &str,
        form: Option<&Form>,
        device: bool,
        bind: &Binding,
    ) -> Result<TokenResponse, OAuthError> {
        let now = self.clock.now();
        let Some(record) = self.store.get_code(rt.tenant_id(), rt.id(), hash).await? else {
            return Err(invalid_grant("the code is invalid, expired or already used"));
        };
        if record.used {
            // RFC 6749 §4.1.2: a code used twice revokes what it produced.
            tracing::warn!(tenant = %rt.tenant_id(), server = %rt.id(), client = %client.id,
                "authorization code replayed; revoking its grant");
            self.revoke_grant(rt, &record.grant_id).await?;
            return Err(invalid_grant("the code is invalid, expired or already used"));
        }
        if record.expires_at <= now || record.client_id != client.id {
            return Err(invalid_grant("the code is invalid, expired or already used"));
        }
        let data: CodeData = serde_json::from_str(&record.data).map_err(OAuthError::server_error)?;
        if data.device != device {
            return Err(invalid_grant("the code is invalid, expired or already used"));
        }
        if let Some(form) = form {
            check_redirect_and_verifier(&data, form)?;
        }
        if let Some(jkt) = &data.dpop_jkt
            && bind.jkt.as_ref() != Some(jkt)
        {
            return Err(invalid_grant(
                "the code is bound to a DPoP key (dpop_jkt): send a proof signed with that key",
            ));
        }
        let nonce = data.auth.nonce.clone();
        let rules = self.rules_for(rt, &data.auth.sub, &data.auth.scopes).await?;
        let grant = if device {
            crate::device::DEVICE_CODE
        } else {
            "authorization_code"
        };
        let (resp, issued) = self.issue(
            rt,
            &rules,
            client,
            &data.auth,
            &record.grant_id,
            nonce.as_deref(),
            grant,
            bind,
        )?;
        if !self.store.redeem_code(rt.tenant_id(), hash, now, &issued).await? {
            // Another request redeemed it first: that is a replay too.
            self.revoke_grant(rt, &record.grant_id).await?;
            return Err(invalid_grant("the code is invalid, expired or already used"));
        }
        Ok(resp)
    }

    pub(crate) async fn refresh_token(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        form: &Form,
        bind: &Binding,
    ) -> Result<TokenResponse, OAuthError> {
        check_grant_allowed(rt, client, "refresh_token")?;
        let token = form.require("refresh_token")?;
        if token.len() > 128 {
            return Err(invalid_grant("the refresh token is invalid"));
        }
        let hash = token_hash(token);
        let now = self.clock.now();
        let Some(record) = self.store.get_refresh(rt.tenant_id(), rt.id(), &hash).await? else {
            return Err(invalid_grant("the refresh token is invalid"));
        };
        if record.client_id != client.id {
            return Err(invalid_grant("the refresh token is invalid"));
        }
        if record.used && !record.grant_revoked {
            // RFC 9700 §4.14.2: a rotated token came back — one of the two parties holding it is
            // not its owner; the whole grant goes.
            tracing::warn!(tenant = %rt.tenant_id(), server = %rt.id(), client = %client.id,
                "refresh token reused; revoking its grant");
            self.revoke_grant(rt, &record.grant_id).await?;
        }
        if record.used || record.grant_revoked || record.expires_at <= now {
            return Err(invalid_grant("the refresh token is invalid, expired or revoked"));
        }
        let mut auth: Authorization = serde_json::from_str(&record.data).map_err(OAuthError::server_error)?;
        // RFC 9449 §5: a bound refresh token is used only with a proof by its key.
        if let Some(jkt) = &auth.jkt
            && bind.jkt.as_ref() != Some(jkt)
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidDpopProof,
                "the refresh token is bound to a DPoP key: send a proof signed with that key",
            ));
        }
        if let Some(x5t) = &auth.x5t
            && bind.x5t.as_ref() != Some(x5t)
        {
            return Err(invalid_grant(
                "the refresh token is bound to a TLS client certificate: present that certificate",
            ));
        }
        // A person removed from the server (or whose login method was disabled) keeps nothing.
        if self.person(rt, &auth.sub).await?.is_none() {
            return Err(invalid_grant("the user of this grant can no longer sign in"));
        }
        // What was granted, less what has been taken away since: scopes deleted from the server
        // or removed from the client are not granted again.
        auth.scopes = current_scopes(rt, client, &auth.scopes);
        crate::issue::drop_useless_offline_access(rt, client, &mut auth.scopes);
        if let Some(requested) = form.get("scope")? {
            // RFC 6749 §6: a subset of what was granted.
            let mut narrowed = Vec::new();
            for s in requested.split(' ').filter(|s| !s.is_empty()) {
                if !auth.has_scope(s) {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidScope,
                        format!("scope {s} was not granted"),
                    ));
                }
                if !narrowed.iter().any(|x: &String| x == s) {
                    narrowed.push(s.to_owned());
                }
            }
            auth.scopes = narrowed;
        }
        let rules = self.rules_for(rt, &auth.sub, &auth.scopes).await?;
        let (mut resp, mut issued) =
            self.issue(rt, &rules, client, &auth, &record.grant_id, None, "refresh_token", bind)?;
        // FAPI 2.0 Security Profile §5.3.2.1: a sender-constrained confidential client keeps its
        // refresh token (no rotation); the new access token is recorded under the grant, which
        // is then read again so that a revocation racing this request still reaches it.
        let keep = crate::fapi::Profile::of(&rt.server.settings) == Some(crate::fapi::Profile::Fapi2)
            && !client.settings.public
            && (bind.jkt.is_some() || bind.x5t.is_some());
        if keep {
            resp.refresh_token = None;
            issued.refresh = None;
            self.store.record_grant(rt.tenant_id(), &issued).await?;
            let still = self.store.get_refresh(rt.tenant_id(), rt.id(), &hash).await?;
            if still.is_none_or(|r| r.used || r.grant_revoked) {
                self.revoke_grant(rt, &record.grant_id).await?;
                return Err(invalid_grant("the refresh token is invalid, expired or revoked"));
            }
            return Ok(resp);
        }
        if !self.store.rotate_refresh(rt.tenant_id(), &hash, now, &issued).await? {
            self.revoke_grant(rt, &record.grant_id).await?;
            return Err(invalid_grant("the refresh token is invalid, expired or revoked"));
        }
        Ok(resp)
    }

    /// RFC 7009 §2.1 for refresh tokens: revoking one revokes its grant (and the access tokens
    /// issued under it). `Ok(false)` when `token` is no refresh token of this server.
    pub(crate) async fn revoke_refresh(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        token: &str,
    ) -> Result<bool, OAuthError> {
        if token.len() > 128 {
            return Ok(false);
        }
        let Some(record) = self
            .store
            .get_refresh(rt.tenant_id(), rt.id(), &token_hash(token))
            .await?
        else {
            return Ok(false);
        };
        if record.client_id != client.id {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "the token was issued to another client",
            ));
        }
        self.revoke_grant(rt, &record.grant_id).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s256(v: &str) -> String {
        b64url(&sha256(v.as_bytes()))
    }

    #[test]
    fn pkce_verifiers_must_be_43_to_128_unreserved_characters() {
        // RFC 7636 §4.1: a verifier outside those bounds fails even when its S256 matches.
        for len in [20, 42, 129] {
            let v = "a".repeat(len);
            assert!(!pkce_matches(&v, &s256(&v)), "length {len}");
        }
        for len in [43, 128] {
            let v = "a".repeat(len);
            assert!(pkce_matches(&v, &s256(&v)), "length {len}");
        }
        let v = format!("{}-._~", "A1".repeat(20));
        assert!(pkce_matches(&v, &s256(&v)), "unreserved characters");
        let bad = format!("{}+", "a".repeat(43));
        assert!(!pkce_matches(&bad, &s256(&bad)), "'+' is not unreserved");
        let v = "a".repeat(43);
        assert!(!pkce_matches(&v, &s256("b")), "a challenge of another verifier");
    }
}
