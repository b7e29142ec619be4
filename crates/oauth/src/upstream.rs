//! Signing in through another identity provider: the `oidc`, `azure` and `cognito` login methods
//! are OpenID Connect relying parties (OIDC Core §3.1: authorization code with PKCE S256, `state`
//! and `nonce`; the relying-party protocol — discovery, the token request, ID token validation —
//! is the `openidconnect` crate's), and `custom` hands the person to an external login page that
//! answers server to server. Each sign-in waits in the store under the hash of its one-time id
//! (the `state`, or the `login_id`), bound to the browser that started it, and is finished once.
//! A person is known by (login method, upstream subject) under a subject of this server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use castellan_jose::{b64url_decode, constant_time_eq, random_id, random_token, token_hash};
use castellan_store::{PendingLogin, PersonRecord};
use castellan_types::AuthenticationMethod;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl, JsonWebKeySet,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jwks_uri::JwksFetcher;
use crate::session::Session;
use crate::snapshot::ServerRuntime;
use crate::{Engine, OAuthError};
pub use openidconnect::{HttpRequest, HttpResponse, http};

/// How long a started sign-in waits for the provider or the external page (seconds).
pub const PENDING_TTL: i64 = 600;
/// How long a provider's discovery document is used before it is read again (seconds).
const METADATA_TTL: i64 = 3600;
/// The least time between two reads of a provider's keys for an unknown `kid` (seconds).
const MIN_KEYS_REFETCH: i64 = 60;
/// Largest `authentication_context` an external page may send (bytes of JSON).
pub const MAX_CUSTOM_CONTEXT: usize = 16 * 1024;
/// How far an upstream ID token's `iat` may be from now (seconds).
const IAT_WINDOW: i64 = PENDING_TTL;
/// Signature algorithms accepted on upstream ID tokens (never `none`, never HMAC).
const ALGS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// The login method kinds that are OpenID Connect relying parties.
pub const RELYING_PARTIES: [&str; 3] = ["oidc", "azure", "cognito"];

/// Why a sign-in could not be finished, in words a person can read (never internals).
#[derive(Debug, Clone, PartialEq)]
pub struct SignInError {
    pub status: u16,
    pub message: String,
}

impl SignInError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl From<OAuthError> for SignInError {
    fn from(e: OAuthError) -> Self {
        tracing::error!(error = %e.description, "sign-in could not be stored");
        Self::new(
            503,
            "The sign-in service is having trouble right now. Please try again in a moment.",
        )
    }
}

/// Why an external page's answer was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerError {
    /// Wrong or missing method credentials.
    Unauthorized,
    /// No such sign-in waiting (unknown, expired, finished, or of another method).
    NotFound,
    /// The sign-in was already answered.
    Conflict,
    /// The answer itself is malformed.
    Invalid(String),
    Unavailable(OAuthError),
}

impl From<OAuthError> for AnswerError {
    fn from(e: OAuthError) -> Self {
        Self::Unavailable(e)
    }
}

/// A finished sign-in: the new session's cookie, the session, and the interaction to go on with.
pub struct SignedIn {
    pub cookie: String,
    pub session: Session,
    pub interaction: String,
}

/// What a started sign-in keeps while it waits.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    method: String,
    interaction: String,
    /// Keyed hash of the browser's anti-forgery cookie: only that browser may finish it.
    browser: String,
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    verifier: String,
    #[serde(default)]
    issuer: String,
}

/// An external page's answer.
#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    accepted: bool,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    authentication_context: Map<String, Value>,
}

/// The issuer of an upstream method, as its ID tokens name it.
pub(crate) fn method_issuer(m: &AuthenticationMethod) -> Option<String> {
    let issuer = match m.method.as_str() {
        "oidc" => m.oidc.as_ref()?.issuer_url.clone(),
        "azure" => format!("https://login.microsoftonline.com/{}/v2.0", m.azure.as_ref()?.tenant),
        "cognito" => {
            let c = m.cognito.as_ref()?;
            format!("https://cognito-idp.{}.amazonaws.com/{}", c.region, c.pool_id)
        }
        _ => return None,
    };
    let issuer = issuer.trim_end_matches('/').to_owned();
    (!issuer.is_empty()).then_some(issuer)
}

/// The client id Castellan has at an upstream method's provider.
pub(crate) fn method_client_id(m: &AuthenticationMethod) -> Option<String> {
    let id = match m.method.as_str() {
        "oidc" => m.oidc.as_ref()?.client_id.clone(),
        "azure" => m.azure.as_ref()?.client_id.clone(),
        "cognito" => m.cognito.as_ref()?.client_id.clone(),
        "custom" => {
            let c = m.custom.as_ref()?;
            if c.client_id.is_empty() {
                m.id.clone()
            } else {
                c.client_id.clone()
            }
        }
        _ => return None,
    };
    (!id.is_empty()).then_some(id)
}

/// What a relying-party method asks and reads.
struct RpSettings {
    scopes: Vec<String>,
    userinfo: bool,
    auth: String,
}

fn rp_settings(m: &AuthenticationMethod) -> Option<RpSettings> {
    match m.method.as_str() {
        "oidc" => {
            let o = m.oidc.as_ref()?;
            Some(RpSettings {
                scopes: o.scopes.clone(),
                userinfo: o.get_user_info,
                auth: o
                    .token_endpoint_auth_method
                    .clone()
                    .unwrap_or_else(|| "client_secret_basic".into()),
            })
        }
        "azure" => {
            let o = m.azure.as_ref()?;
            Some(RpSettings {
                scopes: o.scopes.clone(),
                userinfo: o.get_user,
                auth: "client_secret_post".into(),
            })
        }
        "cognito" => {
            let o = m.cognito.as_ref()?;
            Some(RpSettings {
                scopes: o.scopes.clone(),
                userinfo: o.get_user_info,
                auth: "client_secret_basic".into(),
            })
        }
        _ => None,
    }
}

/// The amr of a sign-in (RFC 8176 values where one fits): `pwd` for static users, the
/// provider's own `amr` when its ID token has one, else `fed` (federated) or `ext` (an external
/// page), both Castellan's.
fn amr_of(kind: &str, claims: &Map<String, Value>) -> Vec<String> {
    let given: Vec<String> = match claims.get("amr") {
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).take(8).collect(),
        _ => Vec::new(),
    };
    if !given.is_empty() {
        return given;
    }
    match kind {
        "static" => vec!["pwd".into()],
        "custom" => vec!["ext".into()],
        _ => vec!["fed".into()],
    }
}

/// The error the `openidconnect` crate's HTTP calls report.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpFailure(String);

/// Discovery documents (with their keys) of the providers this node signed people in with.
#[derive(Default)]
pub(crate) struct Providers {
    entries: Mutex<HashMap<String, Provider>>,
}

#[derive(Clone)]
struct Provider {
    metadata: CoreProviderMetadata,
    read_at: i64,
    keys_at: i64,
}

/// The HTTP client the `openidconnect` crate calls through: the engine's outbound fetcher.
fn http_client(
    f: Arc<dyn JwksFetcher>,
) -> impl Fn(
    openidconnect::HttpRequest,
) -> std::pin::Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, HttpFailure>> + Send>> {
    move |req| {
        let f = f.clone();
        Box::pin(async move { f.send(req).await.map_err(HttpFailure) })
    }
}

impl Providers {
    /// The provider's metadata, discovered at most every [`METADATA_TTL`]; `refresh_keys`
    /// re-reads its keys (an unknown `kid`) unless they were read within [`MIN_KEYS_REFETCH`].
    async fn get(
        &self,
        f: &Arc<dyn JwksFetcher>,
        issuer: &str,
        now: i64,
        refresh_keys: bool,
    ) -> Result<CoreProviderMetadata, String> {
        let known = self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(issuer)
            .cloned()
            .filter(|p| now - p.read_at < METADATA_TTL);
        let http = http_client(f.clone());
        match known {
            Some(p) if !refresh_keys || now - p.keys_at < MIN_KEYS_REFETCH => Ok(p.metadata),
            Some(p) => {
                let keys = JsonWebKeySet::fetch_async(p.metadata.jwks_uri(), &http)
                    .await
                    .map_err(|e| format!("its keys could not be read: {e}"))?;
                let metadata = p.metadata.set_jwks(keys);
                self.put(issuer, metadata.clone(), p.read_at, now);
                Ok(metadata)
            }
            None => {
                let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| format!("bad issuer URL: {e}"))?;
                let metadata = CoreProviderMetadata::discover_async(url, &http)
                    .await
                    .map_err(|e| format!("its discovery document could not be read: {}", describe(&e)))?;
                self.put(issuer, metadata.clone(), now, now);
                Ok(metadata)
            }
        }
    }

    fn put(&self, issuer: &str, metadata: CoreProviderMetadata, read_at: i64, keys_at: i64) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= 1024 {
            map.clear();
        }
        map.insert(
            issuer.to_owned(),
            Provider {
                metadata,
                read_at,
                keys_at,
            },
        );
    }
}

/// An error and its causes, in one line.
fn describe(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out.chars().take(300).collect()
}

/// The claims of a JWT's payload, unverified (the caller verified it or trusts its channel).
fn jwt_claims(token: &str) -> Map<String, Value> {
    castellan_jose::jwt::parse(token)
        .and_then(|p| p.claims())
        .unwrap_or_default()
}

impl Engine {
    /// The enabled login method `id` of the server.
    fn enabled_method<'a>(&self, rt: &'a ServerRuntime, id: &str) -> Option<&'a AuthenticationMethod> {
        rt.server
            .authentications
            .iter()
            .map(|m| &m.method)
            .find(|m| m.id == id && !m.disabled)
    }

    /// The method's upstream client secret, opened.
    fn method_secret(&self, rt: &ServerRuntime, method_id: &str) -> Option<String> {
        let stored = rt.server.authentications.iter().find(|m| m.method.id == method_id)?;
        let sealed = b64url_decode(stored.sealed_client_secret.as_deref()?)?;
        let label = castellan_domain::seal::auth_method(rt.tenant_id(), rt.id(), method_id);
        let plain = self.master.open(&label, &sealed).ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    /// Binds a sign-in to the browser holding the anti-forgery cookie `browser`.
    fn browser_binding(&self, rt: &ServerRuntime, browser: &str) -> String {
        castellan_jose::b64url(&self.master.secret_hasher().hash(&format!(
            "upstream/{}/{}/{browser}",
            rt.tenant_id(),
            rt.id()
        )))
    }

    fn fetcher(&self) -> Result<Arc<dyn JwksFetcher>, SignInError> {
        self.client_jwks.fetcher().ok_or_else(|| {
            SignInError::new(
                503,
                "Signing in with another provider is not configured on this server.",
            )
        })
    }

    /// The address of `rt`'s upstream callback (`{issuer}/login/callback`).
    pub fn upstream_callback(rt: &ServerRuntime) -> String {
        format!("{}/login/callback", rt.issuer)
    }

    /// Starts signing in with the upstream or external method `method_id` for the pending
    /// authorization `interaction`: returns where to send the browser. `browser` is the value of
    /// the browser's anti-forgery cookie; `login_hint` is passed on to an OpenID provider.
    pub async fn start_sign_in(
        &self,
        rt: &ServerRuntime,
        method_id: &str,
        interaction: &str,
        browser: &str,
        login_hint: Option<&str>,
    ) -> Result<String, SignInError> {
        let m = self
            .enabled_method(rt, method_id)
            .ok_or_else(|| SignInError::new(400, "This sign-in method is not available. Choose another one."))?;
        let now = self.clock.now();
        let mut pending = Pending {
            method: m.id.clone(),
            interaction: interaction.to_owned(),
            browser: self.browser_binding(rt, browser),
            nonce: String::new(),
            verifier: String::new(),
            issuer: String::new(),
        };
        let (one_time, url) =
            if m.method == "custom" {
                let c = m
                    .custom
                    .as_ref()
                    .ok_or_else(|| SignInError::new(400, "This sign-in method is not set up."))?;
                let login_id = random_token();
                let mut url = openidconnect::url::Url::parse(&c.login_url)
                    .map_err(|_| SignInError::new(502, "This sign-in method's login page address is not valid."))?;
                url.query_pairs_mut()
                    .append_pair("login_id", &login_id)
                    .append_pair("return_url", &format!("{}/login/custom/{login_id}", rt.issuer));
                (login_id, url.to_string())
            } else if RELYING_PARTIES.contains(&m.method.as_str()) {
                let (issuer, client_id, settings) = match (method_issuer(m), method_client_id(m), rp_settings(m)) {
                    (Some(i), Some(c), Some(s)) => (i, c, s),
                    _ => return Err(SignInError::new(400, "This sign-in method is not set up.")),
                };
                let f = self.fetcher()?;
                let metadata = self.providers.get(&f, &issuer, now, false).await.map_err(|e| {
                tracing::warn!(server = %rt.id(), method = %m.id, %issuer, error = %e, "upstream provider unavailable");
                SignInError::new(502, format!("{} cannot be reached right now. Please try again later.", m.name))
            })?;
                let redirect = RedirectUrl::new(Self::upstream_callback(rt))
                    .map_err(|_| SignInError::new(500, "This server's callback address is not valid."))?;
                let client = CoreClient::from_provider_metadata(metadata, ClientId::new(client_id), None)
                    .set_redirect_uri(redirect);
                let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
                let state = random_token();
                let nonce = random_token();
                let (st, nc) = (state.clone(), nonce.clone());
                let mut req = client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        move || CsrfToken::new(st),
                        move || Nonce::new(nc),
                    )
                    .set_pkce_challenge(challenge);
                for s in settings.scopes.iter().filter(|s| *s != "openid" && !s.is_empty()) {
                    req = req.add_scope(Scope::new(s.clone()));
                }
                if let Some(h) = login_hint.filter(|h| !h.is_empty() && h.len() <= 256) {
                    req = req.add_extra_param("login_hint", h.to_owned());
                }
                let (url, _, _) = req.url();
                pending.nonce = nonce;
                pending.verifier = verifier.secret().clone();
                pending.issuer = issuer;
                (state, url.to_string())
            } else {
                return Err(SignInError::new(400, "This sign-in method does not send you anywhere."));
            };
        let record = PendingLogin {
            server_id: rt.id().clone(),
            id_hash: token_hash(&one_time),
            data: serde_json::to_string(&pending).map_err(OAuthError::server_error)?,
            result: None,
            expires_at: now + PENDING_TTL,
        };
        self.store
            .save_pending_login(rt.tenant_id(), &record)
            .await
            .map_err(OAuthError::from)?;
        Ok(url)
    }

    /// Opens a waiting sign-in by its one-time id: it must exist, belong to this browser and to
    /// a method still enabled. `take` consumes it.
    async fn open_pending(
        &self,
        rt: &ServerRuntime,
        one_time: &str,
        browser: &str,
        take: bool,
    ) -> Result<(Pending, Option<String>), SignInError> {
        let gone = || {
            SignInError::new(
                400,
                "This sign-in response is unknown, has expired or was already used. Go back to the application and start again.",
            )
        };
        if one_time.is_empty() || one_time.len() > 256 {
            return Err(gone());
        }
        let now = self.clock.now();
        let hash = token_hash(one_time);
        let record = if take {
            self.store.take_pending_login(rt.tenant_id(), rt.id(), &hash, now).await
        } else {
            self.store.get_pending_login(rt.tenant_id(), rt.id(), &hash, now).await
        }
        .map_err(OAuthError::from)?
        .ok_or_else(gone)?;
        let pending: Pending = serde_json::from_str(&record.data).map_err(|_| gone())?;
        if !constant_time_eq(pending.browser.as_bytes(), self.browser_binding(rt, browser).as_bytes()) {
            return Err(SignInError::new(
                400,
                "This sign-in was started in another browser. Start again from the application in this browser.",
            ));
        }
        if self.enabled_method(rt, &pending.method).is_none() {
            return Err(SignInError::new(400, "This sign-in method is no longer available."));
        }
        Ok((pending, record.result))
    }

    /// Finishes an OpenID Connect sign-in at `{issuer}/login/callback` (OIDC Core §3.1.2.5):
    /// the `state` must name a sign-in this browser started; the code is exchanged with PKCE and
    /// the ID token validated (signature by the provider's keys, `iss`, `aud`, `azp`, `exp`,
    /// `iat`, `nonce`).
    pub async fn finish_upstream(
        &self,
        rt: &ServerRuntime,
        form: &crate::Form,
        browser: &str,
    ) -> Result<SignedIn, SignInError> {
        let get = |k: &str| form.get(k).ok().flatten().unwrap_or("");
        let (pending, _) = self.open_pending(rt, get("state"), browser, true).await?;
        let m = self
            .enabled_method(rt, &pending.method)
            .filter(|m| RELYING_PARTIES.contains(&m.method.as_str()))
            .ok_or_else(|| SignInError::new(400, "This sign-in method is no longer available."))?;
        let error = get("error");
        if !error.is_empty() {
            let code: String = error
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            let text = if code == "access_denied" {
                format!("{} did not sign you in: access was denied.", m.name)
            } else {
                format!("{} did not sign you in ({code}).", m.name)
            };
            return Err(SignInError::new(403, text));
        }
        let code = get("code");
        if code.is_empty() || code.len() > 4096 {
            return Err(SignInError::new(
                400,
                format!("{} sent back no authorization code.", m.name),
            ));
        }
        let (claims, userinfo, access) = self.redeem_upstream(rt, m, &pending, code).await.map_err(|why| {
            tracing::warn!(server = %rt.id(), method = %m.id, reason = %why, "upstream sign-in refused");
            SignInError::new(
                502,
                format!(
                    "The answer from {} could not be accepted, so you were not signed in.",
                    m.name
                ),
            )
        })?;
        let upstream_sub = claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
        let mut default: Map<String, Value> = claims
            .iter()
            .filter(|(k, _)| !crate::context::PROTOCOL_CLAIMS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in &userinfo {
            if k != "sub" {
                default.insert(k.clone(), v.clone());
            }
        }
        let mut sources = Map::new();
        sources.insert("id_token".into(), Value::Object(claims.clone()));
        sources.insert("userinfo".into(), Value::Object(userinfo));
        sources.insert("access_token".into(), Value::Object(access));
        sources.insert("authentication_context".into(), Value::Object(default.clone()));
        let ctx = crate::context::shape(m, default, &sources);
        let amr = amr_of(&m.method, &claims);
        // The provider's subject is unique within its issuer only (OIDC Core §2): a method whose
        // issuer changes does not inherit the people of the old one.
        let key = format!("{} {upstream_sub}", pending.issuer);
        self.sign_in_person(rt, m, &key, ctx, amr, pending.interaction).await
    }

    /// The code exchange and ID token validation; an `Err` is for the log, not the person.
    async fn redeem_upstream(
        &self,
        rt: &ServerRuntime,
        m: &AuthenticationMethod,
        pending: &Pending,
        code: &str,
    ) -> Result<(Map<String, Value>, Map<String, Value>, Map<String, Value>), String> {
        let client_id = method_client_id(m).ok_or("no client_id")?;
        let settings = rp_settings(m).ok_or("not a relying party")?;
        let f = self.fetcher().map_err(|e| e.message)?;
        let http = http_client(f.clone());
        let now = self.clock.now();
        let metadata = self.providers.get(&f, &pending.issuer, now, false).await?;
        let token_url = metadata
            .token_endpoint()
            .cloned()
            .ok_or("the provider has no token endpoint")?;
        let redirect = RedirectUrl::new(Self::upstream_callback(rt)).map_err(|e| e.to_string())?;
        let secret = self.method_secret(rt, &m.id);
        let build = |metadata: CoreProviderMetadata| {
            let with_secret = settings.auth != "private_key_jwt";
            let client = CoreClient::from_provider_metadata(
                metadata,
                ClientId::new(client_id.clone()),
                secret.clone().filter(|_| with_secret).map(ClientSecret::new),
            )
            .set_redirect_uri(redirect.clone());
            if settings.auth == "client_secret_basic" {
                client.set_auth_type(AuthType::BasicAuth)
            } else {
                client.set_auth_type(AuthType::RequestBody)
            }
        };
        let client = build(metadata.clone());
        let mut req = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| e.to_string())?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()));
        if settings.auth == "private_key_jwt" {
            let signer = rt.signer.as_ref().ok_or("the server has no signing key")?;
            let assertion = serde_json::json!({
                "iss": client_id, "sub": client_id, "aud": token_url.as_str(),
                "jti": random_id(), "iat": now, "exp": now + 60,
            });
            let header = castellan_jose::jwt::encode_header(signer.alg, &signer.kid, "JWT");
            let jwt = castellan_jose::jwt::sign(&signer.key, &header, &assertion).map_err(|e| e.to_string())?;
            req = req
                .add_extra_param("client_assertion_type", crate::JWT_BEARER_ASSERTION)
                .add_extra_param("client_assertion", jwt);
        }
        let tokens: CoreTokenResponse = req.request_async(&http).await.map_err(|e| match &e {
            RequestTokenError::ServerResponse(r) => format!("the token endpoint refused the code: {}", r.error()),
            other => format!("the token request failed: {}", describe(other)),
        })?;
        let id_token = tokens.id_token().ok_or("the token response has no id_token")?;
        let nonce = Nonce::new(pending.nonce.clone());
        let check = |client: &CoreClient<_, _, _, _, _, _>| -> Result<(), ClaimsVerificationError> {
            let verifier = client.id_token_verifier().set_allowed_algs(ALGS);
            id_token.claims(&verifier, &nonce).map(|_| ())
        };
        let verified = match check(&client) {
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                // The provider may have rotated its keys: read them again (rate limited), once.
                let metadata = self.providers.get(&f, &pending.issuer, now, true).await?;
                check(&build(metadata))
            }
            other => other,
        };
        verified.map_err(|e| format!("the id_token is not valid: {}", describe(&e)))?;
        let claims = jwt_claims(&id_token.to_string());
        if let Some(azp) = claims.get("azp").and_then(Value::as_str)
            && azp != client_id
        {
            return Err(format!("the id_token's azp is {azp}, not this client"));
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or("the id_token has no iat")?;
        if (iat - now).abs() > IAT_WINDOW {
            return Err("the id_token's iat is too far from now".into());
        }
        let sub = claims.get("sub").and_then(Value::as_str).unwrap_or_default();
        if sub.is_empty() || sub.len() > 255 {
            return Err("the id_token's sub is empty or too long".into());
        }
        let access = tokens.access_token().secret().clone();
        let mut userinfo = Map::new();
        if settings.userinfo {
            let uri = metadata
                .userinfo_endpoint()
                .ok_or("userinfo is asked for but the provider has no userinfo endpoint")?;
            let req = openidconnect::http::Request::builder()
                .method(openidconnect::http::Method::GET)
                .uri(uri.as_str())
                .header("authorization", format!("Bearer {access}"))
                .header("accept", "application/json")
                .body(Vec::new())
                .map_err(|e| e.to_string())?;
            let resp = f.send(req).await?;
            if !resp.status().is_success() {
                return Err(format!("userinfo answered {}", resp.status()));
            }
            userinfo = serde_json::from_slice(resp.body()).map_err(|_| "userinfo is not a JSON object")?;
            // OIDC Core §5.3.2: the userinfo answer must be about the same person.
            if userinfo.get("sub").and_then(Value::as_str) != Some(sub) {
                return Err("userinfo names another subject".into());
            }
        }
        Ok((claims, userinfo, jwt_claims(&access)))
    }

    /// Records an external page's answer to the sign-in `login_id`
    /// (`POST {issuer}/login/custom/{login_id}/accept|reject`), authenticated with the method's
    /// client credentials. `accept` carries `subject` and `authentication_context`.
    pub async fn answer_custom(
        &self,
        rt: &ServerRuntime,
        login_id: &str,
        credentials: Option<(&str, &str)>,
        accept: Option<(String, Map<String, Value>)>,
    ) -> Result<(), AnswerError> {
        if login_id.is_empty() || login_id.len() > 256 {
            return Err(AnswerError::NotFound);
        }
        let now = self.clock.now();
        let hash = token_hash(login_id);
        let record = self
            .store
            .get_pending_login(rt.tenant_id(), rt.id(), &hash, now)
            .await
            .map_err(OAuthError::from)?
            .ok_or(AnswerError::NotFound)?;
        let pending: Pending = serde_json::from_str(&record.data).map_err(|_| AnswerError::NotFound)?;
        let m = self
            .enabled_method(rt, &pending.method)
            .filter(|m| m.method == "custom")
            .ok_or(AnswerError::NotFound)?;
        // The method's credentials, compared in constant time; a method without a secret
        // accepts no answer.
        let (id, secret) = credentials.ok_or(AnswerError::Unauthorized)?;
        let want_id = method_client_id(m).unwrap_or_default();
        let want_secret = self.method_secret(rt, &m.id).ok_or(AnswerError::Unauthorized)?;
        let id_ok = constant_time_eq(id.as_bytes(), want_id.as_bytes());
        let secret_ok = constant_time_eq(secret.as_bytes(), want_secret.as_bytes());
        if !(id_ok && secret_ok) {
            return Err(AnswerError::Unauthorized);
        }
        let answer = match accept {
            Some((subject, ctx)) => {
                if subject.is_empty() || subject.chars().count() > 255 {
                    return Err(AnswerError::Invalid("subject must be 1 to 255 characters".into()));
                }
                Answer {
                    accepted: true,
                    subject,
                    authentication_context: ctx,
                }
            }
            None => Answer {
                accepted: false,
                subject: String::new(),
                authentication_context: Map::new(),
            },
        };
        let json = serde_json::to_string(&answer).map_err(OAuthError::server_error)?;
        if json.len() > MAX_CUSTOM_CONTEXT + 1024 {
            return Err(AnswerError::Invalid(format!(
                "authentication_context may be at most {MAX_CUSTOM_CONTEXT} bytes"
            )));
        }
        if !self
            .store
            .answer_pending_login(rt.tenant_id(), rt.id(), &hash, &json, now)
            .await
            .map_err(OAuthError::from)?
        {
            return Err(AnswerError::Conflict);
        }
        Ok(())
    }

    /// Finishes an external page's sign-in when the browser returns to
    /// `{issuer}/login/custom/{login_id}`: the page must have answered first.
    pub async fn finish_custom(
        &self,
        rt: &ServerRuntime,
        login_id: &str,
        browser: &str,
    ) -> Result<SignedIn, SignInError> {
        let (_, result) = self.open_pending(rt, login_id, browser, false).await?;
        if result.is_none() {
            return Err(SignInError::new(
                409,
                "The login page has not finished signing you in yet. Go back to it, or start again from the application.",
            ));
        }
        let (pending, result) = self.open_pending(rt, login_id, browser, true).await?;
        let m = self
            .enabled_method(rt, &pending.method)
            .filter(|m| m.method == "custom")
            .ok_or_else(|| SignInError::new(400, "This sign-in method is no longer available."))?;
        let answer: Answer = result
            .and_then(|r| serde_json::from_str(&r).ok())
            .ok_or_else(|| SignInError::new(400, "The login page's answer could not be read."))?;
        if !answer.accepted {
            return Err(SignInError::new(403, format!("{} did not sign you in.", m.name)));
        }
        let mut sources = Map::new();
        sources.insert(
            "authentication_context".into(),
            Value::Object(answer.authentication_context.clone()),
        );
        let amr = amr_of("custom", &answer.authentication_context);
        let ctx = crate::context::shape(m, answer.authentication_context, &sources);
        self.sign_in_person(rt, m, &answer.subject, ctx, amr, pending.interaction)
            .await
    }

    /// Links (method, upstream subject) to a person of this server and opens their session. For
    /// an OpenID provider the upstream subject is `{issuer} {sub}`.
    async fn sign_in_person(
        &self,
        rt: &ServerRuntime,
        m: &AuthenticationMethod,
        upstream_sub: &str,
        ctx: Map<String, Value>,
        amr: Vec<String>,
        interaction: String,
    ) -> Result<SignedIn, SignInError> {
        let now = self.clock.now();
        let record = PersonRecord {
            server_id: rt.id().clone(),
            subject: random_id(),
            method_id: m.id.clone(),
            upstream_subject: upstream_sub.to_owned(),
            data: serde_json::to_string(&ctx).map_err(OAuthError::server_error)?,
            created_at: now,
            updated_at: now,
        };
        let subject = self
            .store
            .link_person(rt.tenant_id(), &record)
            .await
            .map_err(OAuthError::from)?;
        let (cookie, session) = self
            .open_session(rt, &subject, ctx, &m.id, amr, Some(m.id.clone()))
            .await?;
        tracing::info!(tenant = %rt.tenant_id(), server = %rt.id(), method = %m.id, "signed in through an upstream method");
        Ok(SignedIn {
            cookie,
            session,
            interaction,
        })
    }

    /// The authentication context of the person `subject` of `rt` as it stands now, or `None`
    /// when they can no longer sign in there: a static user of an enabled static method, or a
    /// person of an enabled upstream or external method.
    pub async fn person(&self, rt: &ServerRuntime, subject: &str) -> Result<Option<Map<String, Value>>, OAuthError> {
        if let Some(ctx) = crate::users::static_user_context(&rt.server, subject) {
            return Ok(Some(ctx));
        }
        if subject.is_empty() || subject.len() > 255 {
            return Ok(None);
        }
        let Some(p) = self.store.get_person(rt.tenant_id(), rt.id(), subject).await? else {
            return Ok(None);
        };
        let enabled = self
            .enabled_method(rt, &p.method_id)
            .is_some_and(|m| m.method != "static");
        Ok(enabled.then(|| serde_json::from_str(&p.data).unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use castellan_types::{AzureSettings, CognitoSettings};
    use serde_json::json;

    use super::*;

    #[test]
    fn azure_and_cognito_issuers_come_from_their_settings() {
        let azure = AuthenticationMethod {
            method: "azure".into(),
            azure: Some(AzureSettings {
                tenant: "contoso.onmicrosoft.com".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            method_issuer(&azure).as_deref(),
            Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0")
        );
        let cognito = AuthenticationMethod {
            method: "cognito".into(),
            cognito: Some(CognitoSettings {
                region: "eu-west-1".into(),
                pool_id: "eu-west-1_AbC".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            method_issuer(&cognito).as_deref(),
            Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC")
        );
    }

    #[test]
    fn amr_is_the_providers_or_says_how() {
        let given = json!({"amr": ["mfa", "otp"]});
        assert_eq!(amr_of("oidc", given.as_object().unwrap()), ["mfa", "otp"]);
        assert_eq!(amr_of("oidc", &Map::new()), ["fed"]);
        assert_eq!(amr_of("custom", &Map::new()), ["ext"]);
        assert_eq!(amr_of("static", &Map::new()), ["pwd"]);
    }

    #[test]
    fn jwt_claims_reads_a_payload_or_nothing() {
        let payload = castellan_jose::b64url(br#"{"scope":"a"}"#);
        let header = castellan_jose::b64url(br#"{"alg":"RS256"}"#);
        assert_eq!(jwt_claims(&format!("{header}.{payload}."))["scope"], json!("a"));
        assert!(jwt_claims("opaque-token").is_empty());
    }
}
