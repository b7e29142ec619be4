//! What a person authorized, and the tokens issued for it: access token (RFC 9068), refresh token
//! (RFC 6749 §6, rotated on use) and id_token (OIDC Core §2, §3.1.3.6), with the claims the
//! granted scopes release from the person's authentication context.

use castellan_domain::{AccessRules, ClaimType, Client};
use castellan_jose::{b64url, jwt, random_token, sha256, token_hash};
use castellan_store::{IssuedTokens, RefreshRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::access_token::{Minted, RESERVED, audience, lookup};
use crate::snapshot::ServerRuntime;
use crate::{Engine, OAuthError, TokenResponse};

/// A person's authorization of a client, carried by a code and by each refresh token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Authorization {
    pub sub: String,
    pub scopes: Vec<String>,
    pub auth_time: i64,
    /// The authentication context captured at sign-in (claims are released from it).
    #[serde(default)]
    pub ctx: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The login session (its id's hash) the authorization was given in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the person authenticated (OIDC Core `amr`), for the id_token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The upstream or external login method that vouched for the person (`idp` claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// The DPoP key (its thumbprint) a public client's refresh token is bound to (RFC 9449 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// The TLS client certificate (its `x5t#S256`) a public client's refresh token is bound to
    /// (RFC 8705 §3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5t: Option<String>,
}

impl Authorization {
    pub fn has_scope(&self, s: &str) -> bool {
        self.scopes.iter().any(|x| x == s)
    }
}

/// Standard claims each OIDC scope releases (OIDC Core §5.4).
pub const STANDARD_CLAIMS: [(&str, &[&str]); 4] = [
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// The `groups` of an authentication context: a list of names (or one name).
pub fn groups(ctx: &Map<String, Value>) -> Vec<String> {
    match ctx.get("groups") {
        Some(Value::Array(items)) => items.iter().filter_map(|g| g.as_str().map(str::to_owned)).collect(),
        Some(Value::String(g)) => vec![g.clone()],
        _ => Vec::new(),
    }
}

/// What person grants are checked against: the tenant's access rules (the `permissions` claim)
/// and its compiled policies (scope and server user policies).
pub(crate) struct TenantRules {
    pub access: std::sync::Arc<AccessRules>,
    pub policies: std::sync::Arc<crate::snapshot::PolicySet>,
    /// The person's privacy consents, when a policy that applies reads them (else empty).
    pub consents: castellan_policy::Consents,
}

/// How a policy sees the client a person signs in to.
pub(crate) fn client_view(client: &Client) -> Value {
    serde_json::json!({"client_id": client.id.as_str(), "client_name": client.name, "grant_types": client.grant_types})
}

/// The policy input for a person (`ctx`) signing in to `client` for `scopes`.
pub(crate) fn person_input<'a>(
    ctx: &'a Value,
    client: &'a Value,
    scopes: &'a [String],
    consents: &'a castellan_policy::Consents,
) -> castellan_policy::Input<'a> {
    castellan_policy::Input {
        authentication_context: ctx,
        client,
        scopes,
        request: None,
        consents,
    }
}

/// The scopes whose `user_policy_id` passes for the person (scopes without one always pass);
/// `None` when every scope passes, which costs nothing when no scope has a policy.
pub(crate) fn scopes_passing_policies(
    rt: &ServerRuntime,
    rules: &TenantRules,
    client: &Client,
    ctx: &Map<String, Value>,
    scopes: &[String],
) -> Option<Vec<String>> {
    let guarded = |s: &String| rt.scopes.get(s).and_then(|sc| sc.user_policy_id.as_deref());
    if !scopes.iter().any(|s| guarded(s).is_some()) {
        return None;
    }
    let policies = &rules.policies;
    let ctx = Value::Object(ctx.clone());
    let client = client_view(client);
    let input = person_input(&ctx, &client, scopes, &rules.consents);
    let kept: Vec<String> = scopes
        .iter()
        .filter(|s| match guarded(s) {
            None => true,
            Some(pid) => {
                let d = policies.evaluate(pid, &input);
                if !d.pass {
                    tracing::info!(scope = %s, policy = pid, reason = d.reason.as_deref().unwrap_or(""), "scope withheld by its user policy");
                }
                d.pass
            }
        })
        .cloned()
        .collect();
    (kept.len() != scopes.len()).then_some(kept)
}

/// Adds the `permissions` claim to a person's access token when its audience is a role's and
/// one of the person's groups is mapped to that role.
pub(crate) fn add_person_permissions(
    access: &AccessRules,
    client: &Client,
    ctx: &Map<String, Value>,
    extra: &mut Map<String, Value>,
) {
    if access.is_empty() {
        return;
    }
    if let Some(p) = access.person_claim(&groups(ctx), &audience(client)) {
        extra.insert("permissions".into(), p.to_string().into());
    }
}

/// Whether `name` is a claim of access tokens that Castellan sets itself.
pub fn is_reserved_access_claim(name: &str) -> bool {
    RESERVED.contains(&name)
}

/// Claims an id_token may not have overwritten by a custom claim.
const ID_RESERVED: [&str; 15] = [
    "iss",
    "sub",
    "aud",
    "azp",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "at_hash",
    "c_hash",
    "sid",
    "amr",
    "idp",
];

/// The custom claims (Cloudentity ACP) of `ty` that the granted scopes release from `ctx`.
pub(crate) fn released_claims(
    rt: &ServerRuntime,
    ty: ClaimType,
    scopes: &[String],
    ctx: &Map<String, Value>,
) -> Map<String, Value> {
    let reserved: &[&str] = match ty {
        ClaimType::AccessToken => &RESERVED,
        ClaimType::IdToken => &ID_RESERVED,
    };
    let mut out = Map::new();
    for c in rt.claims.iter().filter(|c| c.claim_type == ty) {
        let released = c.scopes.is_empty() || c.scopes.iter().any(|s| scopes.contains(s));
        if released
            && !reserved.contains(&c.name.as_str())
            && let Some(v) = lookup(ctx, &c.mapping)
        {
            out.insert(c.name.clone(), v.clone());
        }
    }
    out
}

/// The person's claims the granted scopes allow (userinfo, id_token): standard claims of
/// `profile`, `email`, `address`, `phone` found in the context, then custom id_token claims.
pub(crate) fn user_claims(rt: &ServerRuntime, auth: &Authorization) -> Map<String, Value> {
    let mut out = Map::new();
    for (scope, names) in STANDARD_CLAIMS {
        if auth.has_scope(scope) {
            for n in names {
                if let Some(v) = auth.ctx.get(*n) {
                    out.insert((*n).to_owned(), v.clone());
                }
            }
        }
    }
    out.extend(released_claims(rt, ClaimType::IdToken, &auth.scopes, &auth.ctx));
    out
}

/// Whether the client may hold refresh tokens: it and its server have the `refresh_token` grant.
pub(crate) fn may_refresh(rt: &ServerRuntime, client: &Client) -> bool {
    client.grant_types.iter().any(|g| g == "refresh_token")
        && rt.server.settings.grant_types.iter().any(|g| g == "refresh_token")
}

/// The scopes a person's grant keeps: `offline_access` (OIDC Core §11) only for a client that may
/// hold refresh tokens; for any other it would promise what can never be redeemed.
pub(crate) fn drop_useless_offline_access(rt: &ServerRuntime, client: &Client, scopes: &mut Vec<String>) {
    if !may_refresh(rt, client) {
        scopes.retain(|s| s != "offline_access");
    }
}

/// `at_hash` / `c_hash`: base64url of the left half of the SHA-256 of the value (OIDC Core
/// §3.3.2.11; every algorithm Castellan signs with is a `*256` one).
pub(crate) fn half_hash(value: &str) -> String {
    b64url(&sha256(value.as_bytes())[..16])
}

/// What an ID token carries the hashes of (`at_hash`, `c_hash`, `s_hash`): the access token and,
/// in the authorization response, the code and `state`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Hashed<'a> {
    pub access_token: Option<&'a str>,
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// Claims of an id_token (OIDC Core §2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Vec<String>,
    pub azp: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_hash: Option<String>,
    /// The hash of `state` (FAPI 1.0 Advanced §5.2.2.1) in an ID token of the authorization
    /// response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    #[serde(flatten, default)]
    pub extra: Map<String, Value>,
}

impl Engine {
    /// Signs an id_token for `auth`; `nonce` only where the flow carries one.
    pub(crate) fn id_token(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        auth: &Authorization,
        nonce: Option<&str>,
        hashed: Hashed<'_>,
    ) -> Result<String, OAuthError> {
        // RS256 unless the client registered the server's own algorithm (OIDC Dynamic Client
        // Registration §2) or the server has a FAPI profile (PS256 or ES256 only); servers
        // without an ID-token key sign with their current key.
        let fapi = crate::fapi::Profile::of(&rt.server.settings).is_some();
        let own = rt
            .signer
            .as_ref()
            .filter(|s| fapi || client.settings.id_token_signed_response_alg.as_deref() == Some(s.alg.as_str()));
        let signer = own
            .or(rt.id_signer.as_ref())
            .or(rt.signer.as_ref())
            .ok_or_else(|| OAuthError::server_error("the server has no usable signing key"))?;
        let now = self.clock.now();
        let claims = IdClaims {
            iss: rt.issuer.clone(),
            sub: auth.sub.clone(),
            aud: vec![client.id.to_string()],
            azp: client.id.to_string(),
            exp: now + rt.server.settings.id_token_ttl.as_secs() as i64,
            iat: now,
            auth_time: auth.auth_time,
            nonce: nonce.map(str::to_owned),
            at_hash: hashed.access_token.map(half_hash),
            c_hash: hashed.code.map(half_hash),
            s_hash: hashed.state.map(half_hash),
            sid: auth.sid.clone(),
            amr: auth.amr.clone(),
            idp: auth.idp.clone(),
            extra: user_claims(rt, auth),
        };
        jwt::sign(&signer.key, &signer.id_header, &claims).map_err(OAuthError::server_error)
    }

    /// The token response of the code, refresh and password grants: an access token, a refresh
    /// token when the client has the `refresh_token` grant and the server allows it (a token the
    /// client could never redeem is never issued), an id_token when `openid` is granted. Returns
    /// what to record under the grant.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn issue(
        &self,
        rt: &ServerRuntime,
        rules: &TenantRules,
        client: &Client,
        auth: &Authorization,
        grant_id: &str,
        nonce: Option<&str>,
        grant: &str,
        bind: &crate::dpop::Binding,
    ) -> Result<(TokenResponse, IssuedTokens), OAuthError> {
        // Scopes whose user policy fails for this person are not granted (nor kept for refresh).
        let narrowed;
        let auth = match scopes_passing_policies(rt, rules, client, &auth.ctx, &auth.scopes) {
            Some(kept) => {
                narrowed = Authorization {
                    scopes: kept,
                    ..auth.clone()
                };
                &narrowed
            }
            None => auth,
        };
        let access = &*rules.access;
        let now = self.clock.now();
        let scope = auth.scopes.join(" ");
        let mut extra = released_claims(rt, ClaimType::AccessToken, &auth.scopes, &auth.ctx);
        add_person_permissions(access, client, &auth.ctx, &mut extra);
        let Minted { token, jti, exp, ttl } = self.mint(
            rt,
            client,
            crate::access_token::Subject::Person(&auth.sub),
            &scope,
            extra,
            crate::access_token::How::person(grant, &auth.ctx).bound(bind),
        )?;
        let settings = &rt.server.settings;
        // A public client's refresh token is bound to its DPoP key (RFC 9449 §5) or certificate
        // (RFC 8705 §3); a confidential client's is bound by the client's authentication already.
        let bound_auth;
        let stored = if client.settings.public && (bind.jkt.is_some() || bind.x5t.is_some()) {
            bound_auth = Authorization {
                jkt: bind.jkt.clone(),
                x5t: bind.x5t.clone(),
                ..auth.clone()
            };
            &bound_auth
        } else {
            auth
        };
        let (refresh_token, refresh) = if may_refresh(rt, client) {
            let t = random_token();
            let record = RefreshRecord {
                server_id: rt.id().clone(),
                hash: token_hash(&t),
                grant_id: grant_id.to_owned(),
                client_id: client.id.clone(),
                data: serde_json::to_string(stored).map_err(OAuthError::server_error)?,
                expires_at: now + settings.refresh_token_ttl.as_secs() as i64,
                used: false,
                grant_revoked: false,
            };
            (Some(t), Some(record))
        } else {
            (None, None)
        };
        let id_token = if auth.has_scope("openid") {
            Some(self.id_token(
                rt,
                client,
                auth,
                nonce,
                Hashed {
                    access_token: Some(&token),
                    ..Hashed::default()
                },
            )?)
        } else {
            None
        };
        let grant_expires_at = refresh.as_ref().map_or(exp, |r| r.expires_at.max(exp));
        let issued = IssuedTokens {
            server_id: rt.id().clone(),
            grant_id: grant_id.to_owned(),
            client_id: client.id.clone(),
            subject: auth.sub.clone(),
            access_jti: jti,
            access_expires_at: exp,
            refresh,
            grant_expires_at,
        };
        Ok((
            TokenResponse {
                access_token: token,
                token_type: bind.token_type().into(),
                expires_in: ttl,
                scope,
                refresh_token,
                id_token,
                issued_token_type: None,
            },
            issued,
        ))
    }

    /// Revokes a grant everywhere (store, and this node's revocation set at once).
    pub(crate) async fn revoke_grant(&self, rt: &ServerRuntime, grant_id: &str) -> Result<(), OAuthError> {
        let jtis = self
            .store
            .revoke_grant(rt.tenant_id(), rt.id(), grant_id, self.clock.now())
            .await?;
        rt.revoked.write().unwrap_or_else(|p| p.into_inner()).extend(jtis);
        Ok(())
    }
}
