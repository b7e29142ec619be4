//! The gateway authorizer: a gateway (nginx `auth_request`, Caddy `forward_auth`) asks, per
//! request, whether the caller may reach an API of the services connected to it. Everything it
//! reads is in the tenant's snapshot (gateways, compiled routes, server keys, revocations,
//! policies) or in the verified-secret and verified-token caches; only a policy with a `consent`
//! validator reads the subject's grants, and `last_active` is written at most once a minute.

use std::collections::HashMap;
use std::sync::Mutex;

use castellan_domain::TenantId;
use castellan_policy::routes::Matched;

use crate::Engine;
use crate::client_auth::Presented;
use crate::form::Form;

/// `last_active` is written at most this often per gateway (seconds).
pub const TOUCH_EVERY: i64 = 60;

/// Longer bearer tokens are refused before they are hashed or parsed (bytes).
pub const MAX_BEARER: usize = 16 * 1024;

/// Which of the original request's headers to copy (by lower-case name).
pub type HeaderFilter<'a> = &'a dyn Fn(&str) -> bool;

/// The original request's method and URI as gateways state them. Each gateway type sets and
/// overwrites only its own pair, and passes the caller's other headers on, so the authorizer reads
/// only the pair of the gateway's type: a caller who sends the other pair decides nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    /// `X-Original-Method` / `X-Original-URI`: nginx's `auth_request` (and `pyron`).
    pub original: (Option<&'a str>, Option<&'a str>),
    /// `X-Forwarded-Method` / `X-Forwarded-Uri`: Caddy's `forward_auth`.
    pub forwarded: (Option<&'a str>, Option<&'a str>),
    /// The original request's whole URL (`X-Original-URL` from nginx, `X-Forwarded-Url` from
    /// Caddy), which a DPoP proof names (`htu`).
    pub urls: (Option<&'a str>, Option<&'a str>),
}

impl<'a> Origin<'a> {
    /// The method and URI a gateway of `kind` states (empty when it states none, which matches
    /// no API).
    pub fn for_kind(&self, kind: &str) -> (&'a str, &'a str) {
        let (m, u) = if kind == "caddy" { self.forwarded } else { self.original };
        (m.unwrap_or(""), u.unwrap_or(""))
    }

    /// The original URL a gateway of `kind` states, without query or fragment.
    pub fn url_for_kind(&self, kind: &str) -> &'a str {
        let u = if kind == "caddy" { self.urls.1 } else { self.urls.0 };
        u.unwrap_or("").split(['?', '#']).next().unwrap_or("")
    }
}

/// What the gateway forwards of the original request (not `Debug`: it holds the gateway's secret).
pub struct GatewayRequest<'a> {
    /// The gateway's own credentials (client id and secret).
    pub credentials: Option<(String, String)>,
    /// The original method and URI, as the gateway's headers state them.
    pub origin: Origin<'a>,
    /// The caller's access token (`Authorization: Bearer …` or `DPoP …` of the original request).
    pub bearer: Option<&'a str>,
    /// It came with the `DPoP` scheme (RFC 9449 §7.1), and this proof (the `DPoP` header).
    pub dpop_scheme: bool,
    pub dpop: Option<&'a str>,
    /// The caller's TLS client certificate, as the gateway forwarded it (RFC 9440
    /// `Client-Cert`), for certificate-bound tokens (RFC 8705 §3).
    pub certificate: Option<&'a crate::mtls::ClientCertificate>,
    /// The original request's headers (names in lower case) that pass the filter, built only
    /// when a policy reads them.
    pub headers: &'a (dyn Fn(HeaderFilter<'_>) -> HashMap<String, String> + Sync),
    /// Only this service, when the gateway names one.
    pub service: Option<&'a str>,
}

/// The authorizer's answer.
#[derive(Debug, PartialEq)]
pub enum GatewayDecision {
    /// 200: forward, with who is calling.
    Allow {
        subject: String,
        client_id: String,
        api_id: String,
    },
    /// 401 for the gateway itself: unknown gateway or wrong credentials. Nothing else is said.
    BadGateway,
    /// 401 `invalid_token` for the caller: no token, or not a live token of the service's server.
    InvalidToken(&'static str),
    /// 403: no API matches, or the API's policy refuses (its recovery entries).
    Forbidden {
        reason: String,
        recovery: Vec<castellan_policy::Recovery>,
    },
}

/// When each gateway's `last_active` was last written, by tenant and gateway.
#[derive(Default)]
pub(crate) struct Touches(Mutex<HashMap<TenantId, HashMap<String, i64>>>);

impl Touches {
    /// Whether `last_active` is due (and, if so, marks it written). Allocates only when it is.
    fn due(&self, tid: &TenantId, gw: &str, now: i64) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if m.get(tid)
            .and_then(|g| g.get(gw))
            .is_some_and(|at| now - at < TOUCH_EVERY)
        {
            return false;
        }
        m.entry(tid.clone()).or_default().insert(gw.to_owned(), now);
        true
    }
}

impl Engine {
    /// Decides one request a gateway forwards (DESIGN of the gateway API: route match, token,
    /// revocation, policy).
    pub async fn authorize_at_gateway(
        &self,
        tid: &str,
        gw: &str,
        req: GatewayRequest<'_>,
    ) -> Result<GatewayDecision, crate::OAuthError> {
        let Ok(tid) = TenantId::parse(tid) else {
            return Ok(GatewayDecision::BadGateway);
        };
        let Some(snap) = self.snapshot(&tid).await? else {
            return Ok(GatewayDecision::BadGateway);
        };
        let Some(gateway) = snap.services.gateways.get(gw) else {
            return Ok(GatewayDecision::BadGateway);
        };
        let Some(rt) = snap.server(gateway.server_id.as_str()) else {
            return Ok(GatewayDecision::BadGateway);
        };
        // The gateway's own client, and only it.
        let Some((id, secret)) = req.credentials else {
            return Ok(GatewayDecision::BadGateway);
        };
        if id != gateway.client_id.as_str() {
            return Ok(GatewayDecision::BadGateway);
        }
        let form = Form::new(Vec::new())?;
        let presented = Presented {
            basic: Some((id, secret)),
            form: &form,
            addr: None,
            certificate: None,
        };
        if self.authenticate_client(rt, &presented).await.is_err() {
            return Ok(GatewayDecision::BadGateway);
        }
        let now = self.clock.now();
        if self.gateway_touches.due(&tid, gw, now)
            && let Err(e) = self.store.touch_gateway(&tid, gw, now).await
        {
            tracing::warn!(error = %e, gateway = gw, "cannot record the gateway's last activity");
        }

        // Which API: the path without its query, among the connected services (or the one named).
        let (method, uri) = req.origin.for_kind(&gateway.kind);
        let method: std::borrow::Cow<'_, str> = if method.bytes().any(|b| b.is_ascii_lowercase()) {
            std::borrow::Cow::Owned(method.to_ascii_uppercase())
        } else {
            std::borrow::Cow::Borrowed(method)
        };
        let method = &*method;
        let path = uri.split(['?', '#']).next().unwrap_or("");
        let candidates: Vec<&String> = match req.service {
            Some(s) => match gateway.services.iter().find(|x| x.as_str() == s) {
                Some(x) => vec![x],
                None => {
                    return Ok(GatewayDecision::Forbidden {
                        reason: format!("service {s} is not connected to this gateway"),
                        recovery: Vec::new(),
                    });
                }
            },
            None => gateway.services.iter().collect(),
        };
        let mut target = None;
        for sid in candidates {
            if let Some(routes) = snap.services.routes.get(sid)
                && let Matched::Api(t) = routes.find(method, path)
            {
                target = Some(t);
                break;
            }
        }
        let Some(target) = target else {
            return Ok(GatewayDecision::Forbidden {
                reason: format!("{method} {path} is not an API of this gateway's services"),
                recovery: Vec::new(),
            });
        };

        // Whose token: one of the server's live access tokens.
        let Some(token) = req.bearer.filter(|t| t.len() <= MAX_BEARER) else {
            return Ok(GatewayDecision::InvalidToken("a bearer token is required"));
        };
        let Some(claims) = self.verify_access_claims(rt, token).await? else {
            return Ok(GatewayDecision::InvalidToken(
                "the token is not a live access token of this API's authorization server",
            ));
        };
        // A DPoP-bound token only with a proof of this request by its key (RFC 9449 §7); a
        // certificate-bound one only from the holder of its certificate (RFC 8705 §3).
        let dpop_bound = crate::dpop::bound_jkt(&claims).is_some();
        let cert_bound = crate::dpop::bound_x5t(&claims).is_some();
        if req.dpop_scheme || dpop_bound || cert_bound {
            let how = crate::dpop::Presentation {
                dpop_scheme: req.dpop_scheme,
                proof: req.dpop,
                request: crate::dpop::DpopRequest {
                    method,
                    url: req.origin.url_for_kind(&gateway.kind),
                    alias: None,
                },
                certificate: req.certificate,
            };
            if let Err(e) = self.check_presentation(rt, &claims, token, &how).await {
                tracing::info!(gateway = gw, reason = %e.description, "sender-constrained presentation refused");
                return Ok(GatewayDecision::InvalidToken(
                    if cert_bound && e.code == crate::ErrorCode::InvalidToken {
                        "a certificate-bound token must come with the TLS client certificate it is bound to"
                    } else {
                        "a DPoP-bound token needs the DPoP scheme and a valid proof of this request by its key"
                    },
                ));
            }
        }

        if let Some(pid) = &target.policy_id {
            let policies = snap.policies.clone();
            let policy = policies.get(pid);
            let consents = match policy {
                Some(p) if p.needs_consents() => self.subject_consents(&tid, &claims.sub).await?,
                _ => castellan_policy::Consents::default(),
            };
            // The token's side is built once per token (cached with its claims); of the
            // request, only the headers the policy reads are copied.
            let view = claims.policy_view();
            let request = castellan_policy::Request {
                method: method.to_owned(),
                path: path.to_owned(),
                headers: match policy {
                    Some(p) if p.reads_request() => (req.headers)(&|name| p.reads_header(name)),
                    _ => HashMap::new(),
                },
            };
            let input = castellan_policy::Input {
                authentication_context: &view.context,
                client: &view.client,
                scopes: &view.scopes,
                request: Some(&request),
                consents: &consents,
            };
            let d = policies.evaluate(pid, &input);
            if !d.pass {
                return Ok(GatewayDecision::Forbidden {
                    reason: format!(
                        "policy {pid} refused: {}",
                        d.failed_validator.as_deref().unwrap_or("a validator failed")
                    ),
                    recovery: d.recovery,
                });
            }
        }
        Ok(GatewayDecision::Allow {
            subject: claims.sub.clone(),
            client_id: claims.client_id.clone(),
            api_id: target.api_id.clone(),
        })
    }
}
