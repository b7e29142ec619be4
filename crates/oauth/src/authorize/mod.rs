//! The authorization endpoint (RFC 6749 §3.1, §4.1, §4.2; OIDC Core §3), as a pipeline of
//! one-purpose checks: the client and its redirect URI first (failures are shown to the person,
//! never redirected), then everything else (failures go back to the client with `error` and
//! `state`). A validated request travels between the endpoint and the login and consent pages as
//! an *interaction*: the request sealed (AES-GCM) under the master key, bound to the server and
//! valid for 15 minutes, so any node can continue it and nobody can alter it. The checks are in
//! `checks`, one function each; `authorize_request` runs them in order.

use std::sync::Arc;

use castellan_domain::Client;
use castellan_jose::{b64url, b64url_decode, random_id, random_token, token_hash};
use castellan_store::CodeRecord;
use serde::{Deserialize, Serialize};

use crate::grants::CodeData;
use crate::issue::Authorization;
use crate::session::Session;
use crate::snapshot::ServerRuntime;
use crate::{Engine, ErrorCode, Form, OAuthError};

mod checks;

use checks::{
    check, parse_response_type, pkce_challenge, prompt_and_max_age, registered_redirect_uri, requested_scopes,
    response_type_allowed,
};

/// How long a person may take between the authorization request and their answer (seconds).
pub const INTERACTION_TTL: i64 = 900;
/// Limits on free-text parameters (input size limits; the interaction must fit in a URL).
const MAX_STATE: usize = 1024;
const MAX_NONCE: usize = 512;
const MAX_HINT: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// A validated authorization request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    /// Canonical order: `code`, `id_token`, `token`.
    pub response_type: Vec<String>,
    pub response_mode: ResponseMode,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub prompt: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// The login method to use (`idp_hint`, as Keycloak's `kc_idp_hint`): its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_hint: Option<String>,
    pub started_at: i64,
    /// A device authorization request (RFC 8628) this interaction answers instead of a
    /// redirect URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<crate::device::DeviceLink>,
    /// The DPoP key the code is bound to (RFC 9449 §10): the token request must prove it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

impl AuthorizeRequest {
    fn wants(&self, rt: &str) -> bool {
        self.response_type.iter().any(|r| r == rt)
    }
    pub fn prompts(&self, p: &str) -> bool {
        self.prompt.iter().any(|x| x == p)
    }
}

/// Where a response (or an error) goes back to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    pub uri: String,
    pub mode: ResponseMode,
    pub params: Vec<(String, String)>,
}

impl Redirect {
    /// The `Location` for query and fragment modes (RFC 6749 §4.1.2, §4.2.2).
    pub fn location(&self) -> String {
        let encoded = form_encode(&self.params);
        match self.mode {
            ResponseMode::Fragment => format!("{}#{encoded}", self.uri),
            _ if self.uri.contains('?') => format!("{}&{encoded}", self.uri),
            _ => format!("{}?{encoded}", self.uri),
        }
    }
}

fn form_encode(params: &[(String, String)]) -> String {
    let mut out = String::new();
    for (k, v) in params {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&urlencode(k));
        out.push('=');
        out.push_str(&urlencode(v));
    }
    out
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A failed authorization request.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: shown to the person, never redirected.
    Page(String),
    /// Sent back to the client's redirect URI.
    Redirect(Redirect),
}

/// What happens next in an authorization.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Show the login page for this interaction.
    Login(String),
    /// Show the consent page for this interaction.
    Consent(String),
    /// Send the response (or an error) to the client.
    Respond(Redirect),
}

impl Engine {
    /// Validates an authorization request (query or form parameters) that was not pushed.
    pub async fn authorize_request(&self, rt: &ServerRuntime, form: &Form) -> Result<AuthorizeRequest, AuthorizeError> {
        self.authorize_request_with(rt, form, false).await
    }

    /// Validates an authorization request; `pushed` says its parameters came through the PAR
    /// endpoint (RFC 9126), which a server or client may require.
    pub async fn authorize_request_with(
        &self,
        rt: &ServerRuntime,
        form: &Form,
        pushed: bool,
    ) -> Result<AuthorizeRequest, AuthorizeError> {
        let page = |e: OAuthError| AuthorizeError::Page(e.description);
        // 1. The client and where to answer it; nothing can be redirected before these hold.
        let client_id = form.get("client_id").map_err(page)?.ok_or_else(|| {
            AuthorizeError::Page("The request does not say which application is asking (client_id is missing).".into())
        })?;
        let client = self.client(rt, client_id).await.map_err(page)?.ok_or_else(|| {
            AuthorizeError::Page("The application that sent you here is not known to this server.".into())
        })?;
        let (redirect_uri, given) = registered_redirect_uri(form, &client)?;
        // 2. The rest; errors go back to the client.
        let state = form
            .get("state")
            .ok()
            .flatten()
            .filter(|s| s.len() <= MAX_STATE)
            .map(str::to_owned);
        let response_type = form.get("response_type").ok().flatten().and_then(parse_response_type);
        let default_mode = match &response_type {
            Some(rt) if rt.len() == 1 && rt[0] == "code" => ResponseMode::Query,
            Some(_) => ResponseMode::Fragment,
            None => ResponseMode::Query,
        };
        let mode = match form.get("response_mode") {
            Ok(Some("query")) => Some(ResponseMode::Query),
            Ok(Some("fragment")) => Some(ResponseMode::Fragment),
            Ok(Some("form_post")) => Some(ResponseMode::FormPost),
            _ => None,
        };
        let fail = |code: ErrorCode, d: &str| {
            AuthorizeError::Redirect(error_redirect(
                &redirect_uri,
                mode.unwrap_or(default_mode),
                &rt.issuer,
                state.as_deref(),
                code,
                d,
            ))
        };
        if form.get("state").map_err(|e| fail(e.code, &e.description))?.is_some() && state.is_none() {
            return Err(fail(ErrorCode::InvalidRequest, "state is too long"));
        }
        if check(form.get("request"), &fail)?.is_some() {
            return Err(fail(
                ErrorCode::RequestNotSupported,
                "request objects are not supported",
            ));
        }
        if check(form.get("request_uri"), &fail)?.is_some() {
            return Err(fail(
                ErrorCode::InvalidRequestUri,
                "request_uri must be one this server's pushed authorization request endpoint issued",
            ));
        }
        if !pushed {
            let by = if rt.server.settings.require_pushed_authorization_requests {
                Some("this server")
            } else if client.settings.require_pushed_authorization_requests {
                Some("this client")
            } else {
                None
            };
            if let Some(by) = by {
                return Err(fail(
                    ErrorCode::InvalidRequest,
                    &format!(
                        "{by} requires pushed authorization requests (RFC 9126): push the request to the PAR endpoint first"
                    ),
                ));
            }
        }
        let Some(response_type) = response_type else {
            return Err(match check(form.get("response_type"), &fail)? {
                None => fail(ErrorCode::InvalidRequest, "response_type is missing"),
                Some(_) => fail(ErrorCode::UnsupportedResponseType, "unsupported response_type"),
            });
        };
        let mode = match check(form.get("response_mode"), &fail)? {
            None => default_mode,
            Some(_) if mode.is_none() => return Err(fail(ErrorCode::InvalidRequest, "unsupported response_mode")),
            Some(_) => mode.unwrap_or(default_mode),
        };
        let implicit = response_type.iter().any(|r| r != "code");
        if implicit && mode == ResponseMode::Query {
            // OAuth 2.0 Multiple Response Types §2.1: tokens never travel in a query string.
            return Err(fail(
                ErrorCode::InvalidRequest,
                "response_mode query is not allowed for this response_type",
            ));
        }
        let code = response_type.iter().any(|r| r == "code");
        response_type_allowed(rt, &client, &response_type, &fail)?;
        let mut scopes = requested_scopes(form, rt, &client, &fail)?;
        crate::issue::drop_useless_offline_access(rt, &client, &mut scopes);
        let openid = scopes.iter().any(|s| s == "openid");
        if response_type.iter().any(|r| r == "id_token") && !openid {
            return Err(fail(
                ErrorCode::InvalidScope,
                "response_type id_token needs the openid scope",
            ));
        }
        let nonce = check(form.get("nonce"), &fail)?;
        if nonce.is_some_and(|n| n.len() > MAX_NONCE) {
            return Err(fail(ErrorCode::InvalidRequest, "nonce is too long"));
        }
        if implicit && response_type.iter().any(|r| r == "id_token") && nonce.is_none() {
            // OIDC Core §3.2.2.1, §3.3.2.11.
            return Err(fail(
                ErrorCode::InvalidRequest,
                "nonce is required when an id_token is returned from this endpoint",
            ));
        }
        let code_challenge = pkce_challenge(form, rt, &client, code, &fail)?;
        // A FAPI profile's rules: the client's settings (saved before the server took the
        // profile, perhaps), then the request's.
        if let Some(p) = crate::fapi::Profile::of(&rt.server.settings) {
            let broken = crate::fapi::client_rules(p, &client).err().or_else(|| {
                crate::fapi::request_rules(p, &response_type, pushed, form.is_signed(), code_challenge.is_some()).err()
            });
            if let Some(b) = broken {
                let e = b.error();
                let code = if e.code == ErrorCode::InvalidClient {
                    ErrorCode::UnauthorizedClient
                } else {
                    e.code
                };
                return Err(fail(code, &e.description));
            }
        }
        let (prompt, max_age) = prompt_and_max_age(form, &fail)?;
        let login_hint = check(form.get("login_hint"), &fail)?
            .filter(|h| h.len() <= MAX_HINT)
            .map(str::to_owned);
        let idp_hint = check(form.get("idp_hint"), &fail)?
            .filter(|h| h.len() <= 64)
            .map(str::to_owned);
        let dpop_jkt = check(form.get("dpop_jkt"), &fail)?;
        if dpop_jkt
            .is_some_and(|j| j.len() != 43 || !j.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "dpop_jkt must be a JWK SHA-256 thumbprint (RFC 9449 §10)",
            ));
        }
        Ok(AuthorizeRequest {
            client_id: client.id.to_string(),
            redirect_uri,
            redirect_uri_given: given,
            response_type,
            response_mode: mode,
            scopes,
            state,
            nonce: nonce.map(str::to_owned),
            code_challenge,
            prompt,
            max_age,
            login_hint,
            idp_hint,
            started_at: self.clock.now(),
            device: None,
            dpop_jkt: dpop_jkt.map(str::to_owned),
        })
    }

    /// Seals a validated request for the login and consent pages.
    pub fn seal_interaction(&self, rt: &ServerRuntime, req: &AuthorizeRequest) -> Result<String, OAuthError> {
        let json = serde_json::to_vec(req).map_err(OAuthError::server_error)?;
        let sealed = self
            .master
            .seal(&interaction_context(rt), &json)
            .map_err(OAuthError::server_error)?;
        Ok(b64url(&sealed))
    }

    /// Opens an interaction of this server that has not expired.
    pub fn open_interaction(&self, rt: &ServerRuntime, token: &str) -> Option<AuthorizeRequest> {
        if token.len() > 8192 {
            return None;
        }
        let sealed = b64url_decode(token)?;
        let json = self.master.open(&interaction_context(rt), &sealed).ok()?;
        let req: AuthorizeRequest = serde_json::from_slice(&json).ok()?;
        let now = self.clock.now();
        (now - req.started_at <= INTERACTION_TTL && req.started_at <= now + 30).then_some(req)
    }

    /// The client an interaction is for (it may have been deleted since).
    pub async fn interaction_client(
        &self,
        rt: &ServerRuntime,
        req: &AuthorizeRequest,
    ) -> Result<Option<Arc<Client>>, OAuthError> {
        self.client(rt, &req.client_id).await
    }

    /// Decides the next step for a validated request: sign in, consent, or answer the client.
    /// `signed_in` is true right after the person signed in on the login page (that satisfies
    /// `prompt=login`), `consented` right after they allowed the request on the consent page.
    pub async fn authorize_step(
        &self,
        rt: &ServerRuntime,
        req: &AuthorizeRequest,
        session: Option<&Session>,
        signed_in: bool,
        consented: bool,
    ) -> Result<Step, OAuthError> {
        let step = self.next_step(rt, req, session, signed_in, consented).await?;
        self.settle_refused_device(rt, req, step).await
    }

    async fn next_step(
        &self,
        rt: &ServerRuntime,
        req: &AuthorizeRequest,
        session: Option<&Session>,
        signed_in: bool,
        consented: bool,
    ) -> Result<Step, OAuthError> {
        let fail = |code: ErrorCode, d: &str| {
            Ok(Step::Respond(error_redirect(
                &req.redirect_uri,
                req.response_mode,
                &rt.issuer,
                req.state.as_deref(),
                code,
                d,
            )))
        };
        let Some(client) = self.interaction_client(rt, req).await? else {
            return fail(ErrorCode::UnauthorizedClient, "the client no longer exists");
        };
        let now = self.clock.now();
        let fresh_enough = |s: &Session| {
            // `select_account` (OIDC Core §3.1.2.1): the login page is where a person picks the
            // account, so it is asked like `login`.
            let login_ok = !(req.prompts("login") || req.prompts("select_account")) || signed_in;
            // `max_age=0` asks for a sign-in now (OIDC Core §3.1.2.1), even within the same second
            // as the last one; only the sign-in this request just made satisfies it.
            let age_ok = signed_in || req.max_age.is_none_or(|m| m > 0 && now - s.auth_time <= m);
            login_ok && age_ok
        };
        let session = match session {
            Some(s) if fresh_enough(s) => s,
            _ if req.prompts("none") => return fail(ErrorCode::LoginRequired, "the user is not signed in"),
            _ => return Ok(Step::Login(self.seal_interaction(rt, req)?)),
        };
        // The server's user policy, after sign-in (and before consent): a person it refuses is
        // sent back to the client with access_denied.
        if let Err(reason) = self
            .server_user_policy(rt, &client, &session.subject, &session.ctx, &req.scopes)
            .await?
        {
            tracing::info!(server = %rt.id(), %reason, "sign-in refused by the server's user policy");
            return fail(ErrorCode::AccessDenied, "the server's user policy refused this sign-in");
        }
        // A device's request is always confirmed: the person is not where the device is, and
        // may have been given someone else's code (RFC 8628 §5.4).
        if !consented && (!client.settings.trusted || req.device.is_some()) {
            let remembered = self
                .store
                .get_consent(rt.tenant_id(), rt.id(), &client.id, &session.subject)
                .await?
                .unwrap_or_default();
            let covered = req.scopes.iter().all(|s| remembered.contains(s));
            if req.prompts("consent") || !covered {
                if req.prompts("none") {
                    return fail(ErrorCode::ConsentRequired, "the user has not consented to this request");
                }
                // The sign-in this request asked for has happened; the consent page must not
                // send the person back to it.
                let mut next = req.clone();
                if signed_in {
                    next.prompt.retain(|p| p != "login" && p != "select_account");
                    next.max_age = None;
                }
                return Ok(Step::Consent(self.seal_interaction(rt, &next)?));
            }
        }
        self.respond(rt, &client, req, session).await.map(Step::Respond)
    }

    /// Records the person's decision on the consent page and continues.
    pub async fn decide_consent(
        &self,
        rt: &ServerRuntime,
        req: &AuthorizeRequest,
        session: &Session,
        allow: bool,
    ) -> Result<Step, OAuthError> {
        if !allow {
            let denied = Step::Respond(error_redirect(
                &req.redirect_uri,
                req.response_mode,
                &rt.issuer,
                req.state.as_deref(),
                ErrorCode::AccessDenied,
                "the user denied the request",
            ));
            return self.settle_refused_device(rt, req, denied).await;
        }
        let Some(client) = self.interaction_client(rt, req).await? else {
            return self.authorize_step(rt, req, Some(session), false, true).await;
        };
        let mut remembered = self
            .store
            .get_consent(rt.tenant_id(), rt.id(), &client.id, &session.subject)
            .await?
            .unwrap_or_default();
        for s in &req.scopes {
            if !remembered.contains(s) {
                remembered.push(s.clone());
            }
        }
        self.store
            .save_consent(
                rt.tenant_id(),
                rt.id(),
                &client.id,
                &session.subject,
                &remembered,
                self.clock.now(),
            )
            .await?;
        self.authorize_step(rt, req, Some(session), false, true).await
    }

    /// The successful authorization response (RFC 6749 §4.1.2, §4.2.2; OIDC Core §3.3.2.5), with
    /// `iss` (RFC 9207).
    async fn respond(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        req: &AuthorizeRequest,
        session: &Session,
    ) -> Result<Redirect, OAuthError> {
        let now = self.clock.now();
        let rules = self.rules_for(rt, &session.subject, &req.scopes).await?;
        let scopes = crate::issue::scopes_passing_policies(rt, &rules, client, &session.ctx, &req.scopes)
            .unwrap_or_else(|| req.scopes.clone());
        let auth = Authorization {
            sub: session.subject.clone(),
            scopes,
            auth_time: session.auth_time,
            ctx: session.ctx.clone(),
            nonce: req.nonce.clone(),
            sid: None,
            amr: session.amr.clone(),
            idp: session.idp.clone(),
            jkt: None,
            x5t: None,
        };
        if let Some(link) = &req.device {
            return self.approve_device(rt, client, link, auth).await;
        }
        let mut params: Vec<(String, String)> = Vec::new();
        let mut code_value = None;
        if req.wants("code") {
            let code = random_token();
            let data = CodeData {
                auth: auth.clone(),
                redirect_uri: req.redirect_uri.clone(),
                redirect_uri_given: req.redirect_uri_given,
                code_challenge: req.code_challenge.clone(),
                device: false,
                dpop_jkt: req.dpop_jkt.clone(),
            };
            self.store
                .save_code(
                    rt.tenant_id(),
                    &CodeRecord {
                        server_id: rt.id().clone(),
                        hash: token_hash(&code),
                        grant_id: random_id(),
                        client_id: client.id.clone(),
                        data: serde_json::to_string(&data).map_err(OAuthError::server_error)?,
                        expires_at: now + rt.server.settings.authorization_code_ttl.as_secs() as i64,
                        used: false,
                    },
                )
                .await?;
            params.push(("code".into(), code.clone()));
            code_value = Some(code);
        }
        let mut access = None;
        if req.wants("token") {
            let scope = auth.scopes.join(" ");
            let mut extra =
                crate::issue::released_claims(rt, castellan_domain::ClaimType::AccessToken, &auth.scopes, &auth.ctx);
            crate::issue::add_person_permissions(&rules.access, client, &auth.ctx, &mut extra);
            let minted = self.mint(
                rt,
                client,
                crate::access_token::Subject::Person(&auth.sub),
                &scope,
                extra,
                crate::access_token::How::person("implicit", &auth.ctx),
            )?;
            // Recorded as a grant of its own, so that revoking what a person or a client holds
            // (a removed user, a deleted client) reaches tokens of the implicit flow too.
            self.store
                .record_grant(
                    rt.tenant_id(),
                    &castellan_store::IssuedTokens {
                        server_id: rt.id().clone(),
                        grant_id: random_id(),
                        client_id: client.id.clone(),
                        subject: auth.sub.clone(),
                        access_jti: minted.jti.clone(),
                        access_expires_at: minted.exp,
                        refresh: None,
                        grant_expires_at: minted.exp,
                    },
                )
                .await?;
            params.push(("access_token".into(), minted.token.clone()));
            params.push(("token_type".into(), "Bearer".into()));
            params.push(("expires_in".into(), minted.ttl.to_string()));
            params.push(("scope".into(), scope));
            access = Some(minted.token);
        }
        if req.wants("id_token") {
            let id = self.id_token(
                rt,
                client,
                &auth,
                req.nonce.as_deref(),
                crate::issue::Hashed {
                    access_token: access.as_deref(),
                    code: code_value.as_deref(),
                    state: req.state.as_deref(),
                },
            )?;
            params.push(("id_token".into(), id));
        }
        if let Some(s) = &req.state {
            params.push(("state".into(), s.clone()));
        }
        params.push(("iss".into(), rt.issuer.clone()));
        Ok(Redirect {
            uri: req.redirect_uri.clone(),
            mode: req.response_mode,
            params,
        })
    }
}

fn interaction_context(rt: &ServerRuntime) -> String {
    format!("interaction/{}/{}", rt.tenant_id(), rt.id())
}

/// An error response to the client (RFC 6749 §4.1.2.1) with `state` and `iss`.
pub fn error_redirect(
    uri: &str,
    mode: ResponseMode,
    issuer: &str,
    state: Option<&str>,
    code: ErrorCode,
    description: &str,
) -> Redirect {
    let mut params = vec![
        ("error".to_owned(), code.as_str().to_owned()),
        ("error_description".to_owned(), description.to_owned()),
    ];
    if let Some(s) = state {
        params.push(("state".into(), s.to_owned()));
    }
    params.push(("iss".into(), issuer.to_owned()));
    Redirect {
        uri: uri.to_owned(),
        mode,
        params,
    }
}

impl Engine {
    /// Evaluates the server's `user_policy_id` (when set) for a person who signed in:
    /// `Err(reason)` when it fails.
    pub(crate) async fn server_user_policy(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        subject: &str,
        ctx: &serde_json::Map<String, serde_json::Value>,
        scopes: &[String],
    ) -> Result<Result<(), String>, OAuthError> {
        let Some(pid) = rt.server.settings.user_policy_id.as_deref() else {
            return Ok(Ok(()));
        };
        let rules = self.rules_for(rt, subject, &[]).await?;
        let ctx = serde_json::Value::Object(ctx.clone());
        let client = crate::issue::client_view(client);
        let d = rules
            .policies
            .evaluate(pid, &crate::issue::person_input(&ctx, &client, scopes, &rules.consents));
        Ok(if d.pass {
            Ok(())
        } else {
            Err(d.reason.unwrap_or_else(|| format!("policy {pid} failed")))
        })
    }
}

#[cfg(test)]
mod tests;
