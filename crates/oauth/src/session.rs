//! Login sessions at one authorization server: created by signing in on the login page, found by
//! the session cookie (stored by hash only), ended by logout or after the server's
//! `cookie_max_age`. Failed sign-ins are throttled per user and per address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use castellan_jose::{b64url, constant_time_eq, random_token, token_hash};
use castellan_store::SessionRecord;
use serde_json::{Map, Value};

use crate::snapshot::ServerRuntime;
use crate::{Engine, OAuthError};

/// A signed-in person.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id_hash: String,
    pub subject: String,
    pub auth_time: i64,
    pub ctx: Map<String, Value>,
    pub expires_at: i64,
    /// The login method the person signed in with (empty for sessions older than this field).
    pub method: String,
    /// How the person authenticated (OIDC Core `amr`).
    pub amr: Vec<String>,
    /// The upstream or external login method that vouched for the person (`idp` claim); `None`
    /// for static users.
    pub idp: Option<String>,
}

/// What a session row's `data` holds (sessions written before login methods were recorded
/// hold the context alone).
#[derive(serde::Serialize, serde::Deserialize)]
struct SessionData {
    ctx: Map<String, Value>,
    #[serde(default)]
    amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    idp: Option<String>,
}

/// Why a sign-in failed. The message never says whether the user exists.
#[derive(Debug, Clone, PartialEq)]
pub enum LoginError {
    Invalid,
    /// Too many failures; try again after this many seconds.
    Throttled(i64),
    Unavailable(OAuthError),
}

/// Failures allowed in [`WINDOW`] seconds before sign-in is refused without checking.
const MAX_FAILURES_PER_USER: u32 = 5;
const MAX_FAILURES_PER_ADDRESS: u32 = 20;
const WINDOW: i64 = 900;
/// Bound on remembered counters; the oldest windows are dropped first.
const MAX_TRACKED: usize = 100_000;

/// Counters of failed sign-ins, per node (each node throttles what it sees).
#[derive(Default)]
pub(crate) struct Throttle {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl Throttle {
    /// Seconds until `key` may try again, if it is over `limit`.
    pub(crate) fn blocked(&self, key: &str, limit: u32, now: i64) -> Option<i64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((n, start)) if *n >= limit && now - start < WINDOW => Some(WINDOW - (now - start)),
            _ => None,
        }
    }

    pub(crate) fn fail(&self, key: String, now: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, start)| now - *start < WINDOW);
            if map.len() >= MAX_TRACKED {
                return;
            }
        }
        let e = map.entry(key).or_insert((0, now));
        if now - e.1 >= WINDOW {
            *e = (0, now);
        }
        e.0 += 1;
    }

    fn clear(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

impl Engine {
    /// The live session a cookie names, if any.
    pub async fn session(&self, rt: &ServerRuntime, cookie: &str) -> Result<Option<Session>, OAuthError> {
        if cookie.is_empty() || cookie.len() > 128 {
            return Ok(None);
        }
        let Some(r) = self
            .store
            .get_session(rt.tenant_id(), rt.id(), &token_hash(cookie))
            .await?
        else {
            return Ok(None);
        };
        if r.expires_at <= self.clock.now() {
            return Ok(None);
        }
        // A person removed from the server (or whose login method was disabled) is signed out
        // at once, on every node, even before their stored sessions are deleted.
        if self.person(rt, &r.subject).await?.is_none() {
            return Ok(None);
        }
        let data = if r.method_id.is_empty() {
            SessionData {
                ctx: serde_json::from_str(&r.data).unwrap_or_default(),
                amr: vec!["pwd".into()],
                idp: None,
            }
        } else {
            serde_json::from_str(&r.data).unwrap_or(SessionData {
                ctx: Map::new(),
                amr: Vec::new(),
                idp: None,
            })
        };
        Ok(Some(Session {
            id_hash: r.id_hash,
            subject: r.subject,
            auth_time: r.auth_time,
            ctx: data.ctx,
            expires_at: r.expires_at,
            method: r.method_id,
            amr: data.amr,
            idp: data.idp,
        }))
    }

    /// Checks a `static` user's password, throttled: the one place a password is checked (login
    /// page and password grant), so five failures per username or twenty per address within
    /// fifteen minutes lock both. argon2id runs with the same work for unknown users. Returns the
    /// user's authentication context.
    pub(crate) async fn check_password(
        &self,
        rt: &ServerRuntime,
        username: &str,
        password: &str,
        addr: Option<IpAddr>,
    ) -> Result<(String, Map<String, Value>), LoginError> {
        let now = self.clock.now();
        let user_key = format!("u/{}/{}/{username}", rt.tenant_id(), rt.id());
        let addr_key = addr.map(|a| format!("a/{a}"));
        let blocked = self
            .throttle
            .blocked(&user_key, MAX_FAILURES_PER_USER, now)
            .or_else(|| {
                addr_key
                    .as_deref()
                    .and_then(|k| self.throttle.blocked(k, MAX_FAILURES_PER_ADDRESS, now))
            });
        if let Some(wait) = blocked {
            return Err(LoginError::Throttled(wait));
        }
        let ok = if username.len() > 256 || password.len() > 1024 {
            None
        } else {
            crate::users::verify_static_user(&rt.server, username, password).await
        };
        let Some((method, ctx)) = ok else {
            self.throttle.fail(user_key, now);
            if let Some(k) = addr_key {
                self.throttle.fail(k, now);
            }
            tracing::info!(tenant = %rt.tenant_id(), server = %rt.id(), "failed sign-in");
            return Err(LoginError::Invalid);
        };
        self.throttle.clear(&user_key);
        Ok((method, ctx))
    }

    /// Signs a `static` user in: checks the password ([`Engine::check_password`]) and creates a
    /// session. Returns the cookie value and the session.
    pub async fn login(
        &self,
        rt: &ServerRuntime,
        username: &str,
        password: &str,
        addr: Option<IpAddr>,
    ) -> Result<(String, Session), LoginError> {
        let (method, ctx) = self.check_password(rt, username, password, addr).await?;
        self.open_session(rt, username, ctx, &method, vec!["pwd".into()], None)
            .await
            .map_err(LoginError::Unavailable)
    }

    /// Starts a session for a person who just signed in with `method`. Returns the cookie value
    /// and the session.
    pub(crate) async fn open_session(
        &self,
        rt: &ServerRuntime,
        subject: &str,
        ctx: Map<String, Value>,
        method: &str,
        amr: Vec<String>,
        idp: Option<String>,
    ) -> Result<(String, Session), OAuthError> {
        let now = self.clock.now();
        let cookie = random_token();
        let session = Session {
            id_hash: token_hash(&cookie),
            subject: subject.to_owned(),
            auth_time: now,
            ctx,
            expires_at: now + rt.server.settings.cookie_max_age.as_secs() as i64,
            method: method.to_owned(),
            amr,
            idp,
        };
        let data = SessionData {
            ctx: session.ctx.clone(),
            amr: session.amr.clone(),
            idp: session.idp.clone(),
        };
        let record = SessionRecord {
            server_id: rt.id().clone(),
            id_hash: session.id_hash.clone(),
            subject: session.subject.clone(),
            auth_time: now,
            data: serde_json::to_string(&data).map_err(OAuthError::server_error)?,
            expires_at: session.expires_at,
            method_id: method.to_owned(),
        };
        self.store.create_session(rt.tenant_id(), &record).await?;
        Ok((cookie, session))
    }

    /// Ends the session a cookie names (no error when there is none).
    pub async fn end_session(&self, rt: &ServerRuntime, cookie: &str) -> Result<(), OAuthError> {
        if !cookie.is_empty() && cookie.len() <= 128 {
            self.store
                .delete_session(rt.tenant_id(), rt.id(), &token_hash(cookie))
                .await?;
        }
        Ok(())
    }

    /// The anti-forgery token a page's forms carry: a keyed hash of the browser's CSRF cookie,
    /// bound to the server (double-submit; the cookie is SameSite=Lax).
    pub fn csrf_token(&self, rt: &ServerRuntime, cookie: &str) -> String {
        let mac = self
            .master
            .secret_hasher()
            .hash(&format!("csrf/{}/{}/{cookie}", rt.tenant_id(), rt.id()));
        b64url(&mac)
    }

    pub fn check_csrf(&self, rt: &ServerRuntime, cookie: Option<&str>, field: Option<&str>) -> bool {
        match (cookie, field) {
            (Some(c), Some(f)) if !c.is_empty() && c.len() <= 128 => {
                constant_time_eq(self.csrf_token(rt, c).as_bytes(), f.as_bytes())
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_800_000_000;

    #[test]
    fn failures_block_at_the_limit_until_the_window_ends() {
        let t = Throttle::default();
        for i in 0..MAX_FAILURES_PER_USER {
            assert_eq!(t.blocked("u", MAX_FAILURES_PER_USER, T), None, "after {i} failures");
            t.fail("u".into(), T + i as i64);
        }
        assert_eq!(t.blocked("u", MAX_FAILURES_PER_USER, T + 10), Some(WINDOW - 10));
        assert_eq!(t.blocked("other", MAX_FAILURES_PER_USER, T + 10), None, "per key");
        assert_eq!(t.blocked("u", MAX_FAILURES_PER_USER, T + WINDOW), None, "window over");
        // A failure after the window starts a new count.
        t.fail("u".into(), T + WINDOW);
        assert_eq!(t.blocked("u", MAX_FAILURES_PER_USER, T + 1 + WINDOW), None);
        t.clear("u");
        assert_eq!(t.failures.lock().unwrap().len(), 0);
    }

    fn full(t: &Throttle, start: impl Fn(usize) -> i64) {
        let mut map = t.failures.lock().unwrap();
        map.extend((0..MAX_TRACKED).map(|i| (format!("k{i}"), (1, start(i)))));
    }

    #[test]
    fn a_full_table_tracks_nothing_new_until_windows_end() {
        let t = Throttle::default();
        full(&t, |_| T - WINDOW + 1);
        t.fail("new".into(), T);
        let map = t.failures.lock().unwrap();
        assert_eq!(map.len(), MAX_TRACKED, "bounded");
        assert!(!map.contains_key("new"));
    }

    #[test]
    fn a_full_table_drops_the_windows_that_ended() {
        let t = Throttle::default();
        // Every other entry's window ended exactly now; the rest have a second left.
        full(&t, |i| if i % 2 == 0 { T - WINDOW } else { T - WINDOW + 1 });
        t.fail("new".into(), T);
        let map = t.failures.lock().unwrap();
        assert_eq!(map.len(), MAX_TRACKED / 2 + 1);
        assert_eq!(map.get("new"), Some(&(1, T)));
        assert!(map.contains_key("k1") && !map.contains_key("k0"));
    }

    #[test]
    fn addresses_have_their_own_higher_limit() {
        let t = Throttle::default();
        for _ in 0..MAX_FAILURES_PER_USER {
            t.fail("a/127.0.0.1".into(), 0);
        }
        assert_eq!(t.blocked("a/127.0.0.1", MAX_FAILURES_PER_ADDRESS, 1), None);
        for _ in MAX_FAILURES_PER_USER..MAX_FAILURES_PER_ADDRESS {
            t.fail("a/127.0.0.1".into(), 0);
        }
        assert!(t.blocked("a/127.0.0.1", MAX_FAILURES_PER_ADDRESS, 1).is_some());
    }
}
