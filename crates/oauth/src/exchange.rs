//! RFC 8693 token exchange and the RFC 7523 JWT bearer grant at the token endpoint.
//!
//! Both take a JWT someone else vouched for and issue an access token of this server. A token is
//! trusted when it comes from
//! - this server (its access tokens, checked as the resource endpoints check them, or its ID
//!   tokens);
//! - an issuer the server signs people in through: an enabled `oidc`, `azure` or `cognito` login
//!   method, whose keys are its discovery document's `jwks_uri` (or, for another server of this
//!   Castellan, that server's published keys). A workspace client trusts only the methods its
//!   issuer data names;
//! - for JWT bearer only, the client itself (`iss` = its id), signed with its `jwks`/`jwks_uri`.
//!
//! A subject or actor token must have been issued to (or for) the client presenting it: for a
//! token of this server the client is in `aud` or is its `client_id`; for an upstream issuer's
//! the client id configured for that issuer (the login method's, or the workspace client's
//! `client-id`) is in `aud`, `azp` or `client_id`. An assertion's `aud` is this server's token
//! endpoint or issuer (RFC 7523 §3).

use std::sync::Arc;

use castellan_domain::{ClaimType, Client, SigningAlg};
use castellan_jose::jwt;
use castellan_store::IssuedTokens;
use serde_json::{Map, Value};

use crate::access_token::{AccessClaims, How, Subject};
use crate::grants::check_grant_allowed;
use crate::snapshot::ServerRuntime;
use crate::{Engine, ErrorCode, Form, OAuthError, TokenResponse};

pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// RFC 8693 §3 token type identifiers.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// Clock skew allowed on `exp`, `nbf` and `iat` (seconds).
const SKEW: i64 = 30;
/// How far ahead an assertion's `exp` may be (seconds; RFC 7523 §3 lets the server limit it).
pub const MAX_ASSERTION_LIFETIME: i64 = 3600;
/// Deepest `act` chain accepted (RFC 8693 §4.1 nests one per delegation step).
const MAX_ACT_DEPTH: usize = 8;

/// Claims that describe the token rather than the person; the rest is the person's
/// authentication context in the token issued.
const PROTOCOL_CLAIMS: [&str; 27] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "scope",
    "scp",
    "client_id",
    "azp",
    "tid",
    "aid",
    "gty",
    "act",
    "may_act",
    "cnf",
    "typ",
    "at_hash",
    "c_hash",
    "s_hash",
    "nonce",
    "sid",
    "auth_time",
    "permissions",
    "idp",
    "amr",
];

/// What the presented JWT is.
#[derive(Clone, Copy, PartialEq)]
enum Kind<'a> {
    /// A subject or actor token of the stated RFC 8693 type.
    Token { what: &'a str, token_type: &'a str },
    /// An RFC 7523 authorization grant.
    Assertion,
}

impl Kind<'_> {
    fn what(&self) -> &str {
        match self {
            Self::Token { what, .. } => what,
            Self::Assertion => "assertion",
        }
    }
}

/// Who vouched for a presented token.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// This server.
    This,
    /// A login method of this server (its id).
    Upstream(String),
    /// The requesting client's own keys.
    ClientKeys,
}

/// A verified subject token, actor token or assertion.
struct Verified {
    iss: String,
    sub: String,
    claims: Map<String, Value>,
    source: Source,
    /// An access token of this server: its scopes bound the exchange.
    own_access: Option<Arc<AccessClaims>>,
}

fn bad(what: &str, why: impl std::fmt::Display) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, format!("the {what} is not acceptable: {why}"))
}

/// Whether `aud` (a string or a list), `azp` or `client_id` of `claims` is `id`.
fn names_client(claims: &Map<String, Value>, id: &str) -> bool {
    let aud = match claims.get("aud") {
        Some(Value::String(a)) => a == id,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(id)),
        _ => false,
    };
    aud || [claims.get("azp"), claims.get("client_id")]
        .iter()
        .any(|v| v.and_then(Value::as_str) == Some(id))
}

fn str_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn act_depth(v: &Value) -> usize {
    match v.get("act") {
        Some(inner) => 1 + act_depth(inner),
        None => 1,
    }
}

/// The person's authentication context carried by a verified token.
fn context_of(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .filter(|(k, _)| !PROTOCOL_CLAIMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl Engine {
    /// Verifies a JWT presented as a subject token, actor token or assertion (see the module
    /// documentation for whom Castellan trusts).
    async fn verify_presented(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        token: &str,
        kind: Kind<'_>,
    ) -> Result<Verified, OAuthError> {
        let what = kind.what();
        let parsed = jwt::parse(token).ok_or_else(|| bad(what, "it is not a signed JWT"))?;
        let claims: Map<String, Value> = parsed
            .claims()
            .ok_or_else(|| bad(what, "its claims are not a JSON object"))?;
        let iss = str_claim(&claims, "iss")
            .ok_or_else(|| bad(what, "iss is missing"))?
            .trim_end_matches('/')
            .to_owned();
        let is_access = parsed.header.typ.as_deref() == Some("at+jwt");
        if let Kind::Token { token_type, .. } = kind {
            if token_type == ACCESS_TOKEN_TYPE && !is_access {
                return Err(bad(what, "it is not an access token (typ at+jwt)"));
            }
            if token_type == ID_TOKEN_TYPE && is_access {
                return Err(bad(what, "it is an access token, not an ID token"));
            }
        }
        let now = self.clock.now();

        // Whom the token comes from, and the server whose keys check it when it is one of ours.
        let workspace = client.settings.workspace.as_ref();
        let (source, expected_client, local): (Source, Option<String>, Option<Arc<ServerRuntime>>) = if iss
            == rt.issuer.trim_end_matches('/')
        {
            (Source::This, Some(client.id.to_string()), None)
        } else if let Some(m) = rt.server.authentications.iter().find(|m| {
            !m.method.disabled
                && crate::upstream::method_issuer(&m.method).as_deref() == Some(iss.as_str())
                && workspace.is_none_or(|w| w.issuer(&m.method.id).is_some())
        }) {
            let name = m.method.id.clone();
            let expected = match workspace
                .and_then(|w| w.issuer(&name))
                .and_then(|c| c.client_id.as_deref())
            {
                Some(reference) => {
                    let label = castellan_domain::seal::workspace_secret(&client.tenant_id, &client.id, "client-id");
                    Some(
                            crate::secrets::resolve_reference(&self.master, &label, reference).map_err(|why| {
                                tracing::warn!(client = %client.id, issuer = %name, %why, "a workspace client's client-id reference does not resolve");
                                OAuthError::invalid_request(format!(
                                    "the client-id configured for issuer {name} does not resolve: {why}"
                                ))
                            })?,
                        )
                }
                None => crate::upstream::method_client_id(&m.method),
            };
            (Source::Upstream(name), expected, self.local_server(&iss).await?)
        } else if kind == Kind::Assertion && iss == client.id.as_str() {
            (Source::ClientKeys, None, None)
        } else {
            return Err(bad(what, format!("this client does not trust tokens of issuer {iss}")));
        };

        // Signature, and for access tokens of this Castellan everything a resource checks.
        let mut own_access = None;
        let server_rt: Option<&ServerRuntime> = match (&source, &local) {
            (Source::This, _) => Some(rt),
            (_, Some(other)) => Some(other),
            _ => None,
        };
        if let Some(srv) = server_rt {
            if is_access {
                let c = self
                    .verify_access_claims(srv, token)
                    .await?
                    .ok_or_else(|| bad(what, "it is not an active access token of its issuer"))?;
                if source == Source::This {
                    own_access = Some(c);
                }
            } else {
                let kid = parsed.header.kid.as_deref().unwrap_or_default();
                let ok = srv
                    .verification_key(kid)
                    .is_some_and(|(jwk, alg)| parsed.header.alg == alg.as_str() && parsed.verify_with(jwk, alg));
                if !ok {
                    return Err(bad(what, "bad signature"));
                }
            }
        } else {
            let alg = SigningAlg::parse(&parsed.header.alg)
                .ok_or_else(|| bad(what, format!("alg {} is not accepted", parsed.header.alg)))?;
            let kid = parsed.header.kid.as_deref();
            let keys = match &source {
                Source::ClientKeys => self.client_keys(client, kid).await,
                _ => self.client_jwks.issuer_keys(&iss, kid, now).await,
            }
            .map_err(|why| {
                tracing::warn!(issuer = %iss, %why, "cannot read the keys of a trusted issuer");
                bad(what, "the issuer's keys could not be read")
            })?;
            let verified = keys
                .keys
                .iter()
                .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
                // `verify_with` refuses a key whose type does not fit `alg` (no HS256 with a
                // public key, no `none`).
                .any(|k| parsed.verify_with(k, alg));
            if !verified {
                return Err(bad(what, "bad signature or unknown key"));
            }
        }

        // Time.
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad(what, "exp is missing"))?;
        if exp + SKEW < now {
            return Err(bad(what, "it has expired"));
        }
        if claims
            .get("nbf")
            .and_then(Value::as_i64)
            .is_some_and(|t| t > now + SKEW)
        {
            return Err(bad(what, "it is not valid yet"));
        }
        if claims
            .get("iat")
            .and_then(Value::as_i64)
            .is_some_and(|t| t > now + SKEW)
        {
            return Err(bad(what, "it was issued in the future"));
        }

        // Whom it was issued to.
        match kind {
            Kind::Assertion => {
                let endpoint = rt.endpoint("/oauth2/token");
                let issuer = rt.issuer.as_str();
                if !names_client_aud_only(&claims, &[endpoint.as_str(), issuer]) {
                    return Err(bad(what, "aud must be this server's token endpoint or issuer"));
                }
            }
            Kind::Token { .. } => match expected_client {
                Some(id) if names_client(&claims, &id) => {}
                Some(_) => return Err(bad(what, "it was not issued to or for this client (aud)")),
                None => {
                    return Err(bad(
                        what,
                        "its issuer's login method names no client_id to check the audience against",
                    ));
                }
            },
        }
        let sub = str_claim(&claims, "sub").ok_or_else(|| bad(what, "sub is missing"))?;
        if sub.len() > 255 {
            return Err(bad(what, "sub is longer than 255 characters"));
        }
        Ok(Verified {
            sub: sub.to_owned(),
            iss,
            claims,
            source,
            own_access,
        })
    }

    /// The runtime of another server of this Castellan whose issuer is `iss` (its keys are at
    /// hand: no need to fetch them over HTTP).
    async fn local_server(&self, iss: &str) -> Result<Option<Arc<ServerRuntime>>, OAuthError> {
        let Some(rest) = iss.strip_prefix(&format!("{}/", self.public_url)) else {
            return Ok(None);
        };
        let Some((tid, aid)) = rest.split_once('/') else {
            return Ok(None);
        };
        Ok(self
            .server(tid, aid)
            .await?
            .filter(|s| s.issuer.trim_end_matches('/') == iss))
    }

    /// `POST /oauth2/token` with `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`
    /// (RFC 8693 §2.1).
    pub(crate) async fn token_exchange(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        form: &Form,
        bind: &crate::dpop::Binding,
    ) -> Result<TokenResponse, OAuthError> {
        check_grant_allowed(rt, client, TOKEN_EXCHANGE)?;
        if client.settings.public {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "a public client may not exchange tokens",
            ));
        }
        let token_type = |name: &str, t: &str| -> Result<(), OAuthError> {
            if [ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, JWT_TYPE].contains(&t) {
                Ok(())
            } else {
                Err(OAuthError::invalid_request(format!(
                    "{name} {t} is not accepted; use {ACCESS_TOKEN_TYPE}, {ID_TOKEN_TYPE} or {JWT_TYPE}"
                )))
            }
        };
        let subject_token = form.require("subject_token")?;
        let subject_type = form.require("subject_token_type")?;
        token_type("subject_token_type", subject_type)?;
        let actor = match (form.get("actor_token")?, form.get("actor_token_type")?) {
            (Some(t), Some(ty)) => {
                token_type("actor_token_type", ty)?;
                Some((t, ty))
            }
            (Some(_), None) => {
                return Err(OAuthError::invalid_request(
                    "actor_token_type is required with actor_token",
                ));
            }
            (None, Some(_)) => {
                return Err(OAuthError::invalid_request(
                    "actor_token_type is only allowed with actor_token",
                ));
            }
            (None, None) => None,
        };
        let issued_type = match form.get("requested_token_type")? {
            None | Some(ACCESS_TOKEN_TYPE) => ACCESS_TOKEN_TYPE,
            Some(JWT_TYPE) => JWT_TYPE,
            Some(other) => {
                return Err(OAuthError::invalid_request(format!(
                    "requested_token_type {other} cannot be issued; this server issues {ACCESS_TOKEN_TYPE}"
                )));
            }
        };
        let aud = self.requested_audience(client, form)?;

        let subject = self
            .verify_presented(
                rt,
                client,
                subject_token,
                Kind::Token {
                    what: "subject_token",
                    token_type: subject_type,
                },
            )
            .await?;
        let actor = match actor {
            Some((t, ty)) => Some(
                self.verify_presented(
                    rt,
                    client,
                    t,
                    Kind::Token {
                        what: "actor_token",
                        token_type: ty,
                    },
                )
                .await?,
            ),
            None => None,
        };

        // A token bound to a key (DPoP) is exchanged only by its holder: the exchange must come
        // with a proof by that key, or a stolen bound token would buy an unbound one.
        for (what, v) in [("subject_token", Some(&subject)), ("actor_token", actor.as_ref())] {
            let bound = v
                .and_then(|v| v.claims.get("cnf"))
                .and_then(|c| c.get("jkt"))
                .and_then(Value::as_str);
            if let Some(jkt) = bound
                && bind.jkt.as_deref() != Some(jkt)
            {
                return Err(bad(what, "it is DPoP-bound: send a DPoP proof signed with its key"));
            }
        }

        // RFC 8693 §4.4: a subject token that names who may act for it names the actor.
        if let Some(may) = subject.claims.get("may_act") {
            let (actor_sub, actor_iss) = match &actor {
                Some(a) => (a.sub.as_str(), a.iss.as_str()),
                None => (client.id.as_str(), rt.issuer.trim_end_matches('/')),
            };
            let sub_ok = may.get("sub").and_then(Value::as_str) == Some(actor_sub);
            let iss_ok = may
                .get("iss")
                .and_then(Value::as_str)
                .is_none_or(|i| i.trim_end_matches('/') == actor_iss);
            if !(sub_ok && iss_ok) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidGrant,
                    "the subject token's may_act does not name the actor",
                ));
            }
        }

        // RFC 8693 §4.1: the actor, with earlier actors nested inside.
        let prior = subject.claims.get("act").cloned();
        let act = match &actor {
            Some(a) => {
                let mut m = Map::new();
                m.insert("sub".into(), a.sub.clone().into());
                if a.iss != rt.issuer.trim_end_matches('/') {
                    m.insert("iss".into(), a.iss.clone().into());
                }
                if let Some(p) = prior {
                    m.insert("act".into(), p);
                }
                Some(Value::Object(m))
            }
            None => prior,
        };
        if act.as_ref().is_some_and(|a| act_depth(a) > MAX_ACT_DEPTH) {
            return Err(OAuthError::invalid_request(format!(
                "a delegation chain may be at most {MAX_ACT_DEPTH} actors deep"
            )));
        }

        // Scopes: what the client may have; from a token of this server, also only what it holds.
        let mut allowed: Vec<&str> = client
            .settings
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| rt.scopes.contains_key(*s))
            .collect();
        if let Some(own) = &subject.own_access {
            let held: Vec<&str> = own.scope.split_whitespace().collect();
            allowed.retain(|s| held.contains(s));
        }
        let scopes = pick_scopes(form, &allowed)?;

        let fixed = match (&subject.source, client.settings.workspace.as_ref()) {
            (Source::Upstream(name), Some(w)) => w.fixed_users.get(name).cloned(),
            (Source::This, Some(w)) => w.fixed_users.get(rt.id().as_str()).cloned(),
            _ => None,
        };
        let mut extra = Map::new();
        if let Some(a) = act {
            extra.insert("act".into(), a);
        }
        let own_client_token = subject.own_access.as_ref().is_some_and(|c| c.is_client_own());
        if own_client_token && fixed.is_none() {
            // A client's own token stays that client's: only the client itself may exchange it
            // (to change its audience or narrow its scopes), never become a person with it.
            let own = subject.own_access.as_ref().map(|c| c.client_id.as_str());
            if own != Some(client.id.as_str()) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidGrant,
                    "the subject token is another client's own token",
                ));
            }
            let access = self.access(rt.tenant_id()).await?;
            if let Some(p) = access.mapping(client.id.as_str()) {
                extra.insert("permissions".into(), p.to_string().into());
            }
            let scope = scopes.join(" ");
            let minted = self.mint(
                rt,
                client,
                Subject::Client,
                &scope,
                extra,
                How {
                    grant: TOKEN_EXCHANGE,
                    ctx: None,
                    aud: aud.as_deref(),
                    bind: Some(bind),
                },
            )?;
            return Ok(TokenResponse {
                access_token: minted.token,
                token_type: bind.token_type().into(),
                expires_in: minted.ttl,
                scope,
                refresh_token: None,
                id_token: None,
                issued_token_type: Some(issued_type.into()),
            });
        }
        let idp = match &subject.source {
            Source::Upstream(name) => Some(Value::String(name.clone())),
            Source::This => subject.claims.get("idp").cloned(),
            Source::ClientKeys => None,
        };
        if let Some(idp) = idp {
            extra.insert("idp".into(), idp);
        }
        let (sub, ctx) = match fixed {
            // A fixed user is a person of this server when a static user has that name.
            Some(user) => {
                let ctx = crate::users::static_user_context(&rt.server, &user).unwrap_or_default();
                (user, ctx)
            }
            None => (subject.sub.clone(), self.person_context(rt, &subject).await?),
        };
        let mut resp = self
            .issue_to_person(
                rt,
                client,
                &sub,
                ctx,
                scopes,
                extra,
                aud.as_deref(),
                TOKEN_EXCHANGE,
                bind,
            )
            .await?;
        resp.issued_token_type = Some(issued_type.into());
        Ok(resp)
    }

    /// `POST /oauth2/token` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
    /// (RFC 7523 §2.1): the assertion's subject becomes the token's.
    pub(crate) async fn jwt_bearer(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        form: &Form,
        bind: &crate::dpop::Binding,
    ) -> Result<TokenResponse, OAuthError> {
        check_grant_allowed(rt, client, JWT_BEARER)?;
        if client.settings.public {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "a public client may not use the JWT bearer grant",
            ));
        }
        let assertion = form.require("assertion")?;
        let a = self.verify_presented(rt, client, assertion, Kind::Assertion).await?;
        let now = self.clock.now();
        let exp = a.claims.get("exp").and_then(Value::as_i64).unwrap_or_default();
        if exp > now + MAX_ASSERTION_LIFETIME {
            return Err(bad(
                "assertion",
                format!("exp may be at most {MAX_ASSERTION_LIFETIME} seconds ahead"),
            ));
        }
        let jti = str_claim(&a.claims, "jti")
            .filter(|j| j.len() <= 256)
            .ok_or_else(|| bad("assertion", "jti is missing"))?;
        let fresh = self
            .store
            .use_assertion_id(rt.tenant_id(), rt.id(), &format!("grant:{}:{jti}", a.iss), exp + SKEW)
            .await?;
        if !fresh {
            return Err(bad("assertion", "its jti was already used"));
        }
        if a.source == Source::ClientKeys && a.sub == client.id.as_str() {
            return Err(bad(
                "assertion",
                "its subject is the client itself; use the client_credentials grant",
            ));
        }
        let scopes: Vec<String> = crate::token::granted_scopes(rt, client, form)?
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut extra = Map::new();
        if let Source::Upstream(name) = &a.source {
            extra.insert("idp".into(), name.clone().into());
        }
        let ctx = self.person_context(rt, &a).await?;
        self.issue_to_person(rt, client, &a.sub, ctx, scopes, extra, None, JWT_BEARER, bind)
            .await
    }

    /// The authentication context of the person a verified token is about: for a person of
    /// this server, their current one (a person removed since can exchange nothing); for an
    /// upstream issuer's or a client's assertion, the token's own claims.
    async fn person_context(&self, rt: &ServerRuntime, v: &Verified) -> Result<Map<String, Value>, OAuthError> {
        match v.source {
            Source::This => match self.person(rt, &v.sub).await? {
                Some(ctx) => Ok(ctx),
                // A person who came from an upstream issuer through an earlier exchange (never
                // signed in here) keeps what that token carried.
                None if v.claims.contains_key("idp") => Ok(context_of(&v.claims)),
                None => Err(OAuthError::new(
                    ErrorCode::InvalidGrant,
                    "the subject can no longer sign in at this server",
                )),
            },
            _ => Ok(context_of(&v.claims)),
        }
    }

    /// The `audience` and `resource` values of an exchange, each one of the client's configured
    /// audiences (`invalid_target` otherwise); `None` when none is asked for.
    fn requested_audience(&self, client: &Client, form: &Form) -> Result<Option<Vec<String>>, OAuthError> {
        let mut out: Vec<String> = Vec::new();
        for v in form.all("audience").into_iter().chain(form.all("resource")) {
            if !client.settings.audience.iter().any(|a| a == v) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidTarget,
                    format!("{v} is not an audience this client may ask for"),
                ));
            }
            if !out.iter().any(|o| o == v) {
                out.push(v.to_owned());
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    /// An access token about the person `sub` (no refresh token): the server's user policy, the
    /// scopes' user policies, the claims and permissions the context releases, recorded as a
    /// grant so that revoking what the person or the client holds reaches it.
    #[allow(clippy::too_many_arguments)]
    async fn issue_to_person(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        sub: &str,
        ctx: Map<String, Value>,
        mut scopes: Vec<String>,
        mut extra: Map<String, Value>,
        aud: Option<&[String]>,
        grant: &str,
        bind: &crate::dpop::Binding,
    ) -> Result<TokenResponse, OAuthError> {
        scopes.retain(|s| s != "offline_access");
        if let Err(reason) = self.server_user_policy(rt, client, sub, &ctx, &scopes).await? {
            tracing::info!(server = %rt.id(), %reason, grant, "grant refused by the server's user policy");
            return Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "the server's user policy refused this subject",
            ));
        }
        let rules = self.rules_for(rt, sub, &scopes).await?;
        if let Some(kept) = crate::issue::scopes_passing_policies(rt, &rules, client, &ctx, &scopes) {
            scopes = kept;
        }
        for (k, v) in crate::issue::released_claims(rt, ClaimType::AccessToken, &scopes, &ctx) {
            extra.entry(k).or_insert(v);
        }
        crate::issue::add_person_permissions(&rules.access, client, &ctx, &mut extra);
        let scope = scopes.join(" ");
        let minted = self.mint(
            rt,
            client,
            Subject::Person(sub),
            &scope,
            extra,
            How {
                grant,
                ctx: Some(&ctx),
                aud,
                bind: Some(bind),
            },
        )?;
        self.store
            .record_grant(
                rt.tenant_id(),
                &IssuedTokens {
                    server_id: rt.id().clone(),
                    grant_id: castellan_jose::random_id(),
                    client_id: client.id.clone(),
                    subject: sub.to_owned(),
                    access_jti: minted.jti.clone(),
                    access_expires_at: minted.exp,
                    refresh: None,
                    grant_expires_at: minted.exp,
                },
            )
            .await?;
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
}

/// Whether `aud` (a string or a list) contains one of `wanted`.
fn names_client_aud_only(claims: &Map<String, Value>, wanted: &[&str]) -> bool {
    match claims.get("aud") {
        Some(Value::String(a)) => wanted.contains(&a.as_str()),
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str().is_some_and(|s| wanted.contains(&s))),
        _ => false,
    }
}

/// The requested scopes, each among `allowed` (`invalid_scope` otherwise), or all of `allowed`.
fn pick_scopes(form: &Form, allowed: &[&str]) -> Result<Vec<String>, OAuthError> {
    Ok(match form.get("scope")? {
        Some(requested) => {
            let mut out: Vec<String> = Vec::new();
            for s in requested.split(' ').filter(|s| !s.is_empty()) {
                if !allowed.contains(&s) {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidScope,
                        format!("scope {s} is not allowed for this exchange"),
                    ));
                }
                if !out.iter().any(|o| o == s) {
                    out.push(s.to_owned());
                }
            }
            out
        }
        None => allowed.iter().map(|s| s.to_string()).collect(),
    })
}
