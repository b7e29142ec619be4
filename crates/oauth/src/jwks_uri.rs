//! Client keys published at a `jwks_uri` (RFC 7591 §2, RFC 7523 `private_key_jwt`). Fetching is
//! the caller's business (the engine does no I/O of its own beyond the store); this module caches
//! what was fetched and refetches when a `kid` is unknown, at most every [`MIN_REFETCH`] seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use castellan_types::Jwks;

/// How long fetched keys are used without asking again (seconds).
pub const TTL: i64 = 300;
/// The least time between two fetches of one URI (seconds), so an unknown `kid` cannot make the
/// server hammer a client's host.
pub const MIN_REFETCH: i64 = 30;

#[async_trait::async_trait]
pub trait JwksFetcher: Send + Sync {
    async fn fetch(&self, uri: &str) -> Result<Jwks, String>;

    /// The `jwks_uri` of an OpenID provider, from its discovery document
    /// (`{issuer}/.well-known/openid-configuration`, whose `issuer` must be `issuer`).
    async fn discover_jwks_uri(&self, issuer: &str) -> Result<String, String> {
        Err(format!("discovery of {issuer} is not configured"))
    }

    /// Sends one request to an upstream identity provider (discovery, keys, token, userinfo):
    /// under the same outbound policy, time limit and size limit, without following redirects.
    async fn send(&self, _req: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, String> {
        Err("calling upstream identity providers is not configured".into())
    }
}

#[derive(Default)]
pub(crate) struct JwksCache {
    fetcher: OnceLock<Arc<dyn JwksFetcher>>,
    entries: Mutex<HashMap<String, (Arc<Jwks>, i64)>>,
    /// Issuer → its `jwks_uri` and when it was learnt.
    discovered: Mutex<HashMap<String, (String, i64)>>,
}

impl JwksCache {
    pub(crate) fn set_fetcher(&self, f: Arc<dyn JwksFetcher>) {
        let _ = self.fetcher.set(f);
    }

    /// The configured fetcher, if any.
    pub(crate) fn fetcher(&self) -> Option<Arc<dyn JwksFetcher>> {
        self.fetcher.get().cloned()
    }

    /// The keys of the OpenID provider `issuer` (its discovery document is read again after
    /// [`TTL`]).
    pub(crate) async fn issuer_keys(
        &self,
        issuer: &str,
        want_kid: Option<&str>,
        now: i64,
    ) -> Result<Arc<Jwks>, String> {
        let known = self
            .discovered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(issuer)
            .filter(|(_, at)| now - at < TTL)
            .map(|(u, _)| u.clone());
        let uri = match known {
            Some(u) => u,
            None => {
                let fetcher = self.fetcher.get().ok_or("fetching keys is not configured")?;
                let u = fetcher.discover_jwks_uri(issuer).await?;
                self.discovered
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(issuer.to_owned(), (u.clone(), now));
                u
            }
        };
        self.keys(&uri, want_kid, now).await
    }

    /// The keys at `uri`; `want_kid` not among cached keys triggers a refetch when allowed.
    pub(crate) async fn keys(&self, uri: &str, want_kid: Option<&str>, now: i64) -> Result<Arc<Jwks>, String> {
        let cached = self.entries.lock().unwrap_or_else(|p| p.into_inner()).get(uri).cloned();
        if let Some((keys, at)) = &cached {
            let fresh = now - at < TTL;
            let has_kid = want_kid.is_none_or(|k| keys.keys.iter().any(|j| j.kid.as_deref() == Some(k)));
            if (fresh && has_kid) || now - at < MIN_REFETCH {
                return Ok(keys.clone());
            }
        }
        let fetcher = self.fetcher.get().ok_or("fetching jwks_uri is not configured")?;
        let keys = Arc::new(fetcher.fetch(uri).await?);
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(uri.to_owned(), (keys.clone(), now));
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use castellan_types::Jwk;

    use super::*;

    struct Fake {
        calls: AtomicUsize,
        kid: Mutex<String>,
    }

    #[async_trait::async_trait]
    impl JwksFetcher for Fake {
        async fn fetch(&self, _uri: &str) -> Result<Jwks, String> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let kid = self.kid.lock().unwrap().clone();
            Ok(Jwks {
                keys: vec![Jwk {
                    kty: "EC".into(),
                    kid: Some(kid),
                    ..Jwk::default()
                }],
            })
        }
    }

    #[tokio::test]
    async fn caches_refetches_on_unknown_kid_and_rate_limits() {
        let fake = Arc::new(Fake {
            calls: AtomicUsize::new(0),
            kid: Mutex::new("k1".into()),
        });
        let cache = JwksCache::default();
        assert!(
            cache.keys("https://c/jwks", None, 0).await.is_err(),
            "no fetcher configured"
        );
        cache.set_fetcher(fake.clone());
        let calls = || fake.calls.load(Ordering::SeqCst);
        let kid = |j: &Jwks| j.keys[0].kid.clone().unwrap();

        assert_eq!(
            kid(&cache.keys("https://c/jwks", Some("k1"), 1000).await.unwrap()),
            "k1"
        );
        assert_eq!(
            kid(&cache.keys("https://c/jwks", Some("k1"), 1010).await.unwrap()),
            "k1"
        );
        assert_eq!(calls(), 1, "cached");

        // The client rotates: an unknown kid refetches, but not within MIN_REFETCH of a fetch.
        *fake.kid.lock().unwrap() = "k2".into();
        assert_eq!(
            kid(&cache
                .keys("https://c/jwks", Some("k2"), 1000 + MIN_REFETCH - 1)
                .await
                .unwrap()),
            "k1"
        );
        assert_eq!(calls(), 1, "rate limited");
        assert_eq!(
            kid(&cache
                .keys("https://c/jwks", Some("k2"), 1000 + MIN_REFETCH)
                .await
                .unwrap()),
            "k2"
        );
        assert_eq!(calls(), 2);
        // A known kid is served from the cache until the TTL, then refreshed.
        let t = 1000 + MIN_REFETCH;
        cache.keys("https://c/jwks", Some("k2"), t + TTL - 1).await.unwrap();
        assert_eq!(calls(), 2);
        cache.keys("https://c/jwks", Some("k2"), t + TTL).await.unwrap();
        assert_eq!(calls(), 3);
    }
}
