//! The device authorization grant (RFC 8628): a device that cannot show a browser asks
//! `{issuer}/oauth2/device_authorization` for a device code and a short user code; the person
//! types the user code on `{issuer}/device` (on a phone or computer), signs in and decides on the
//! consent page — always shown, since the device is not where they are (RFC 8628 §5.4) — while
//! the device polls the token endpoint with the device code.
//!
//! User codes are eight characters from an alphabet without vowels or look-alikes (RFC 8628
//! §6.1: 20⁸ ≈ 2³⁴ codes), stored as a keyed hash; wrong guesses are throttled per address.
//! An approved request becomes an authorization code stored under the device code's hash, so it
//! is redeemed once and a replay revokes what it gave, as codes are.

use castellan_domain::Client;
use castellan_jose::{b64url, random_chars, random_id, random_token, token_hash};
use castellan_store::{CodeRecord, DeviceRecord, DeviceStatus};
use serde::{Deserialize, Serialize};

use crate::authorize::{AuthorizeRequest, Redirect, ResponseMode, Step};
use crate::client_auth::Presented;
use crate::grants::{CodeData, check_grant_allowed};
use crate::issue::Authorization;
use crate::snapshot::ServerRuntime;
use crate::{Engine, ErrorCode, OAuthError, TokenResponse};

/// The grant type of the token request that polls (RFC 8628 §3.4).
pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// How long a device and user code pair lives (seconds).
pub const DEVICE_TTL: i64 = 600;
/// The seconds a device waits between polls at first; each `slow_down` adds five (RFC 8628 §3.5).
pub const POLL_INTERVAL: i64 = 5;
/// Consonants only, none that look alike (RFC 8628 §6.1).
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;
/// Wrong user codes an address may type in the throttle's window (fifteen minutes).
const MAX_GUESSES_PER_ADDRESS: u32 = 10;

/// The answer of the device authorization endpoint (RFC 8628 §3.2).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// What a device asked for, kept with its request.
#[derive(Debug, Serialize, Deserialize)]
struct Asked {
    scopes: Vec<String>,
}

/// The device request an interaction is for: the hash of its device code, and the user code
/// to show on the consent page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceLink {
    pub device_hash: String,
    pub user_code: String,
}

/// Where the verification page sends the person when a device request is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceOutcome {
    Approved,
    Denied,
    /// Expired, or settled already (in another browser).
    Gone,
}

impl DeviceOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Gone => "expired",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Approved, Self::Denied, Self::Gone]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Why a user code typed on the verification page was not taken.
#[derive(Debug)]
pub enum UserCodeError {
    /// No pending request has this code (wrong, expired or used).
    Unknown,
    /// Too many wrong codes from this address; try again after this many seconds.
    Throttled(i64),
    Unavailable(OAuthError),
}

/// A typed user code in its stored form: letters of the alphabet only, upper case, the dash and
/// spaces people type dropped; `None` when it cannot be a user code.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    if typed.len() > 64 {
        return None;
    }
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b))).then_some(code)
}

/// A user code as shown: two groups of four.
fn display(code: &str) -> String {
    format!("{}-{}", &code[..4], &code[4..])
}

impl Engine {
    /// The stored form of a user code: keyed, since the codes are few enough to enumerate.
    fn user_code_hash(&self, rt: &ServerRuntime, code: &str) -> String {
        b64url(
            &self
                .master
                .secret_hasher()
                .hash(&format!("user_code/{}/{}/{code}", rt.tenant_id(), rt.id())),
        )
    }

    /// `POST {issuer}/oauth2/device_authorization` (RFC 8628 §3.1): the client authenticates as
    /// at the token endpoint (a public client names itself); both the server and the client must
    /// allow the device code grant; the scopes are checked as the authorization endpoint checks
    /// them.
    pub async fn device_authorization(
        &self,
        rt: &ServerRuntime,
        p: &Presented<'_>,
    ) -> Result<DeviceAuthorization, OAuthError> {
        let client = self.authenticate_client(rt, p).await?;
        check_grant_allowed(rt, &client, DEVICE_CODE)?;
        let mut scopes: Vec<String> = crate::token::granted_scopes(rt, &client, p.form)?
            .into_iter()
            .map(str::to_owned)
            .collect();
        crate::issue::drop_useless_offline_access(rt, &client, &mut scopes);
        let now = self.clock.now();
        let data = serde_json::to_string(&Asked { scopes }).map_err(OAuthError::server_error)?;
        // A user code already in use is drawn again (there are 2³⁴ of them).
        for _ in 0..5 {
            let device_code = random_token();
            let user_code = random_chars(USER_CODE_ALPHABET, USER_CODE_LEN);
            let record = DeviceRecord {
                server_id: rt.id().clone(),
                device_hash: token_hash(&device_code),
                user_hash: self.user_code_hash(rt, &user_code),
                client_id: client.id.clone(),
                data: data.clone(),
                status: DeviceStatus::Pending,
                interval: POLL_INTERVAL,
                // The first poll may come at once.
                polled_at: now - POLL_INTERVAL,
                expires_at: now + DEVICE_TTL,
            };
            if self.store.save_device(rt.tenant_id(), &record).await? {
                let shown = display(&user_code);
                let verification_uri = rt.endpoint("/device");
                return Ok(DeviceAuthorization {
                    device_code,
                    verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
                    verification_uri,
                    user_code: shown,
                    expires_in: DEVICE_TTL,
                    interval: POLL_INTERVAL,
                });
            }
        }
        Err(OAuthError::server_error("no free user code after five draws"))
    }

    /// The authorization a user code typed on the verification page stands for, to continue
    /// as any other (sign-in, then consent). Wrong codes count against the address.
    pub async fn device_request(
        &self,
        rt: &ServerRuntime,
        typed: &str,
        addr: Option<std::net::IpAddr>,
    ) -> Result<AuthorizeRequest, UserCodeError> {
        let now = self.clock.now();
        let key = format!(
            "d/{}/{}/{}",
            rt.tenant_id(),
            rt.id(),
            addr.map(|a| a.to_string()).unwrap_or_default()
        );
        if let Some(wait) = self.throttle.blocked(&key, MAX_GUESSES_PER_ADDRESS, now) {
            return Err(UserCodeError::Throttled(wait));
        }
        let found = match normalize_user_code(typed) {
            Some(code) => self
                .store
                .find_device_by_user_code(rt.tenant_id(), rt.id(), &self.user_code_hash(rt, &code), now)
                .await
                .map_err(|e| UserCodeError::Unavailable(e.into()))?
                .map(|r| (r, code)),
            None => None,
        };
        let Some((record, code)) = found else {
            self.throttle.fail(key, now);
            tracing::info!(tenant = %rt.tenant_id(), server = %rt.id(), "wrong user code on the device page");
            return Err(UserCodeError::Unknown);
        };
        let asked: Asked =
            serde_json::from_str(&record.data).map_err(|e| UserCodeError::Unavailable(OAuthError::server_error(e)))?;
        Ok(AuthorizeRequest {
            client_id: record.client_id.to_string(),
            redirect_uri: rt.endpoint("/device"),
            redirect_uri_given: false,
            response_type: vec!["code".into()],
            response_mode: ResponseMode::Query,
            scopes: asked.scopes,
            state: None,
            nonce: None,
            code_challenge: None,
            prompt: vec!["consent".into()],
            max_age: None,
            login_hint: None,
            idp_hint: None,
            started_at: now,
            device: Some(DeviceLink {
                device_hash: record.device_hash,
                user_code: display(&code),
            }),
            dpop_jkt: None,
        })
    }

    /// Approves a device request: an authorization code under the device code's hash, which
    /// the device's next poll redeems.
    pub(crate) async fn approve_device(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        link: &DeviceLink,
        auth: Authorization,
    ) -> Result<Redirect, OAuthError> {
        let now = self.clock.now();
        let keep = now + rt.server.settings.authorization_code_ttl.as_secs() as i64;
        let settled = self
            .store
            .settle_device(
                rt.tenant_id(),
                rt.id(),
                &link.device_hash,
                DeviceStatus::Approved,
                keep,
                now,
            )
            .await?;
        if !settled {
            return Ok(device_done(rt, DeviceOutcome::Gone));
        }
        let data = CodeData {
            auth,
            redirect_uri: String::new(),
            redirect_uri_given: false,
            code_challenge: None,
            device: true,
            dpop_jkt: None,
        };
        self.store
            .save_code(
                rt.tenant_id(),
                &CodeRecord {
                    server_id: rt.id().clone(),
                    hash: link.device_hash.clone(),
                    grant_id: random_id(),
                    client_id: client.id.clone(),
                    data: serde_json::to_string(&data).map_err(OAuthError::server_error)?,
                    expires_at: keep,
                    used: false,
                },
            )
            .await?;
        Ok(device_done(rt, DeviceOutcome::Approved))
    }

    /// A device interaction that ended in an error (the person denied, a policy refused, the
    /// client is gone) denies the device; the person is told on the verification page. Other
    /// steps pass through.
    pub(crate) async fn settle_refused_device(
        &self,
        rt: &ServerRuntime,
        req: &AuthorizeRequest,
        step: Step,
    ) -> Result<Step, OAuthError> {
        let Some(link) = &req.device else {
            return Ok(step);
        };
        let Step::Respond(r) = &step else {
            return Ok(step);
        };
        if !r.params.iter().any(|(k, _)| k == "error") {
            return Ok(step);
        }
        let now = self.clock.now();
        let settled = self
            .store
            .settle_device(
                rt.tenant_id(),
                rt.id(),
                &link.device_hash,
                DeviceStatus::Denied,
                now + DEVICE_TTL,
                now,
            )
            .await?;
        Ok(Step::Respond(device_done(
            rt,
            if settled {
                DeviceOutcome::Denied
            } else {
                DeviceOutcome::Gone
            },
        )))
    }

    /// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4, §3.5).
    pub(crate) async fn device_code(
        &self,
        rt: &ServerRuntime,
        client: &Client,
        form: &crate::Form,
        bind: &crate::dpop::Binding,
    ) -> Result<TokenResponse, OAuthError> {
        check_grant_allowed(rt, client, DEVICE_CODE)?;
        let code = form.require("device_code")?;
        let invalid = || OAuthError::new(ErrorCode::InvalidGrant, "the device code is invalid");
        if code.len() > 128 {
            return Err(invalid());
        }
        let hash = token_hash(code);
        let Some(record) = self.store.get_device(rt.tenant_id(), rt.id(), &hash).await? else {
            return Err(invalid());
        };
        if record.client_id != client.id {
            return Err(invalid());
        }
        let now = self.clock.now();
        if record.expires_at <= now {
            return Err(OAuthError::new(
                ErrorCode::ExpiredToken,
                "the device code has expired; start again",
            ));
        }
        match record.status {
            DeviceStatus::Approved => self.redeem_code(rt, client, &hash, None, true, bind).await,
            DeviceStatus::Denied => Err(OAuthError::new(ErrorCode::AccessDenied, "the user denied the request")),
            DeviceStatus::Pending if now - record.polled_at < record.interval => {
                let interval = record.interval + 5;
                self.store
                    .record_device_poll(rt.tenant_id(), rt.id(), &hash, now, interval)
                    .await?;
                Err(OAuthError::new(
                    ErrorCode::SlowDown,
                    format!("polled too often; wait {interval} seconds between polls"),
                ))
            }
            DeviceStatus::Pending => {
                self.store
                    .record_device_poll(rt.tenant_id(), rt.id(), &hash, now, record.interval)
                    .await?;
                Err(OAuthError::new(
                    ErrorCode::AuthorizationPending,
                    "the user has not decided yet",
                ))
            }
        }
    }
}

/// The verification page, saying how the request ended.
fn device_done(rt: &ServerRuntime, outcome: DeviceOutcome) -> Redirect {
    Redirect {
        uri: rt.endpoint("/device"),
        mode: ResponseMode::Query,
        params: vec![("done".into(), outcome.as_str().into())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_read_as_people_type_them() {
        assert_eq!(normalize_user_code("bcdf-ghjk").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalize_user_code(" BCDF GHJK ").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalize_user_code("BCDFGHJ"), None, "too short");
        assert_eq!(normalize_user_code("BCDFGHJKL"), None, "too long");
        assert_eq!(normalize_user_code("BCDF-GHJA"), None, "a vowel is never in a code");
        assert_eq!(normalize_user_code("BCDF-GHJ1"), None);
        assert_eq!(normalize_user_code(&"B".repeat(100)), None);
    }

    #[test]
    fn user_codes_are_drawn_from_the_alphabet() {
        let code = random_chars(USER_CODE_ALPHABET, USER_CODE_LEN);
        assert_eq!(normalize_user_code(&display(&code)), Some(code.clone()));
        let codes: std::collections::HashSet<String> = (0..200)
            .map(|_| random_chars(USER_CODE_ALPHABET, USER_CODE_LEN))
            .collect();
        assert!(codes.len() > 195, "codes repeat too often: {}", codes.len());
        // Every letter turns up over many draws (no letter is unreachable).
        let all: String = codes.into_iter().collect();
        for c in USER_CODE_ALPHABET {
            assert!(all.as_bytes().contains(c), "{}", *c as char);
        }
    }
}
