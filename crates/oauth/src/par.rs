//! Pushed authorization requests (RFC 9126): a client sends its authorization request to
//! `{issuer}/oauth2/par`, authenticated as at the token endpoint, and gets a one-time
//! `request_uri` that stands for it at the authorization endpoint for [`PAR_TTL`] seconds. The
//! request is checked when pushed, as the authorization endpoint checks it, and again when used.
//! A server or a client may require it.

use castellan_jose::{random_token, token_hash};
use castellan_store::PendingLogin;
use serde::{Deserialize, Serialize};

use crate::authorize::AuthorizeError;
use crate::client_auth::Presented;
use crate::snapshot::ServerRuntime;
use crate::{Engine, ErrorCode, Form, OAuthError};

/// How long a pushed request may be used (seconds; RFC 9126 §2.2 suggests under a minute or so).
pub const PAR_TTL: i64 = 60;
/// The `request_uri` scheme of pushed requests (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// Parameters that authenticate the client at the PAR endpoint, not part of the request.
const CLIENT_AUTH_PARAMS: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

/// The answer of the PAR endpoint (RFC 9126 §2.2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PushedRequest {
    pub request_uri: String,
    pub expires_in: i64,
}

/// What a pushed request keeps until it is used.
#[derive(Debug, Serialize, Deserialize)]
struct Pushed {
    client_id: String,
    params: Vec<(String, String)>,
    /// They came from a signed request object.
    #[serde(default)]
    signed: bool,
}

impl Engine {
    /// `POST {issuer}/oauth2/par` (RFC 9126 §2.1), with the request's `DPoP` header, if any: a
    /// valid proof binds the code to its key, as `dpop_jkt` would (RFC 9449 §10.1).
    pub async fn push_authorization_request(
        &self,
        rt: &ServerRuntime,
        p: &Presented<'_>,
        dpop: Option<&str>,
    ) -> Result<PushedRequest, OAuthError> {
        let client = self.authenticate_client(rt, p).await?;
        let form = p.form;
        if form.get("request_uri")?.is_some() {
            return Err(OAuthError::invalid_request(
                "request_uri may not be pushed (RFC 9126 §2.1)",
            ));
        }
        let mut params: Vec<(String, String)> = form
            .pairs()
            .iter()
            .filter(|(k, _)| !CLIENT_AUTH_PARAMS.contains(&k.as_str()) && k != "client_id")
            .cloned()
            .collect();
        params.push(("client_id".into(), client.id.to_string()));
        if let Some(proof) = dpop {
            let url = rt.endpoint("/oauth2/par");
            let alias = self.mtls_alias(rt, "/oauth2/par");
            let req = crate::dpop::DpopRequest {
                method: "POST",
                url: &url,
                alias: alias.as_deref(),
            };
            let jkt = self.check_dpop(rt, &req, proof, None).await?;
            match form.get("dpop_jkt")? {
                Some(given) if given != jkt => {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidDpopProof,
                        "dpop_jkt is not the thumbprint of the DPoP proof's key",
                    ));
                }
                Some(_) => {}
                None => params.push(("dpop_jkt".into(), jkt)),
            }
        }
        // A request object pushed here stands for the request (RFC 9126 §3).
        let pushed_form = self
            .expand_request_object(rt, &Form::new(params)?)
            .await
            .map_err(|why| OAuthError::new(ErrorCode::InvalidRequestObject, why))?;
        let params = pushed_form.pairs().to_vec();
        if let Err(e) = self.authorize_request_with(rt, &pushed_form, true).await {
            return Err(match e {
                AuthorizeError::Page(m) => OAuthError::invalid_request(m),
                AuthorizeError::Redirect(r) => {
                    let get = |k: &str| r.params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    let code = get("error")
                        .and_then(|c| ErrorCode::from_name(&c))
                        .unwrap_or(ErrorCode::InvalidRequest);
                    OAuthError::new(code, get("error_description").unwrap_or_default())
                }
            });
        }
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token());
        let record = PendingLogin {
            server_id: rt.id().clone(),
            id_hash: token_hash(&request_uri),
            data: serde_json::to_string(&Pushed {
                client_id: client.id.to_string(),
                params,
                signed: pushed_form.is_signed(),
            })
            .map_err(OAuthError::server_error)?,
            result: None,
            expires_at: self.clock.now() + PAR_TTL,
        };
        self.store.save_pending_login(rt.tenant_id(), &record).await?;
        Ok(PushedRequest {
            request_uri,
            expires_in: PAR_TTL,
        })
    }

    /// The parameters an authorization request stands for: those pushed under its `request_uri`
    /// (used once; its `client_id` must be the one it was pushed by), else its own. The flag says
    /// whether they were pushed.
    pub async fn authorization_parameters(
        &self,
        rt: &ServerRuntime,
        form: &Form,
    ) -> Result<(Form, bool), AuthorizeError> {
        let page = |m: &str| AuthorizeError::Page(m.to_owned());
        let Some(uri) = form.get("request_uri").map_err(|e| page(&e.description))? else {
            // A signed request object (RFC 9101) in the front channel; its redirect_uri cannot
            // be trusted before it verifies, so a refusal is shown, not redirected.
            let expanded = self
                .expand_request_object(rt, form)
                .await
                .map_err(|why| page(&format!("The application's signed request was refused: {why}.")))?;
            return Ok((expanded, false));
        };
        if !uri.starts_with(REQUEST_URI_PREFIX) || uri.len() > 256 {
            return Err(page(
                "The request_uri of this request was not issued by this server's pushed authorization request endpoint.",
            ));
        }
        let client_id = form
            .get("client_id")
            .map_err(|e| page(&e.description))?
            .ok_or_else(|| page("The request does not say which application is asking (client_id is missing)."))?;
        let record = self
            .store
            .take_pending_login(rt.tenant_id(), rt.id(), &token_hash(uri), self.clock.now())
            .await
            .map_err(|e| page(&OAuthError::from(e).description))?
            .ok_or_else(|| {
                page("This request has expired or was already used. Go back to the application and start again.")
            })?;
        let pushed: Pushed = serde_json::from_str(&record.data)
            .map_err(|_| page("This request could not be read. Go back to the application and start again."))?;
        if pushed.client_id != client_id {
            return Err(page("This request was made by another application."));
        }
        let mut form = Form::new(pushed.params).map_err(|e| page(&e.description))?;
        if pushed.signed {
            form = form.signed();
        }
        Ok((form, true))
    }
}
