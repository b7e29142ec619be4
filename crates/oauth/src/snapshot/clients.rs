//! The bounded client cache shared by every tenant.

use std::hash::Hash;
use std::sync::{Arc, Mutex};

use castellan_domain::{Client, ClientId, TenantId};
use castellan_store::{Store, StoreError};

use super::*;

/// A borrowed cache key: looks a client up without copying its ids (the token path does this on
/// every request). Hashes exactly as the owned `(TenantId, ClientId)` tuple does.
#[derive(Hash)]
pub(super) struct ClientKey<'a>(&'a TenantId, &'a ClientId);

impl quick_cache::Equivalent<(TenantId, ClientId)> for ClientKey<'_> {
    fn equivalent(&self, key: &(TenantId, ClientId)) -> bool {
        self.0 == &key.0 && self.1 == &key.1
    }
}

/// A client as cached, with the generation of the server runtime it was loaded under.
#[derive(Clone)]
pub(super) struct CachedClient {
    pub(super) generation: u64,
    pub(super) client: Arc<Client>,
}

/// Clients of every tenant, bounded: at most `capacity` are kept (S3-FIFO eviction, so the
/// clients in use stay), a miss costs one store read by primary key, and memory follows the
/// working set rather than the number of clients. Unknown ids are not cached, so requests
/// naming made-up clients cannot push real ones out.
pub struct ClientCache {
    pub(super) cache: quick_cache::sync::Cache<(TenantId, ClientId), CachedClient>,
    /// Per stripe of keys, the count of evictions: a load that raced with an eviction of a key
    /// in its stripe is used but not kept (it may have read the row before the change).
    pub(super) evictions: Vec<Mutex<u64>>,
}

impl ClientCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            cache: quick_cache::sync::Cache::new(capacity.max(1)),
            evictions: (0..STRIPES).map(|_| Mutex::new(0)).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    pub fn capacity(&self) -> u64 {
        self.cache.capacity()
    }

    pub(super) fn stripe(&self, tid: &TenantId, cid: &ClientId) -> &Mutex<u64> {
        &self.evictions[stripe(&(tid, cid))]
    }

    /// Forgets a client after a change to it committed.
    pub fn evict(&self, tid: &TenantId, cid: &ClientId) {
        let mut n = self.stripe(tid, cid).lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        self.cache.remove(&ClientKey(tid, cid));
    }

    pub(super) async fn get_or_load(
        &self,
        store: &dyn Store,
        tid: &TenantId,
        cid: &ClientId,
        generation: u64,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        if let Some(c) = self
            .cache
            .get(&ClientKey(tid, cid))
            .filter(|c| c.generation == generation)
        {
            return Ok(Some(c.client));
        }
        let before = *self.stripe(tid, cid).lock().unwrap_or_else(|p| p.into_inner());
        let Some(client) = store.get_client(tid, cid).await? else {
            return Ok(None);
        };
        let client = Arc::new(client);
        let n = self.stripe(tid, cid).lock().unwrap_or_else(|p| p.into_inner());
        if *n == before {
            let cached = CachedClient {
                generation,
                client: client.clone(),
            };
            self.cache.insert((tid.clone(), cid.clone()), cached);
        }
        Ok(Some(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_key_finds_and_removes_what_an_owned_key_stored() {
        let cache = quick_cache::sync::Cache::new(16);
        let (t, c) = (TenantId::parse("t").unwrap(), ClientId::parse("c").unwrap());
        cache.insert((t.clone(), c.clone()), 7);
        assert_eq!(cache.get(&ClientKey(&t, &c)), Some(7));
        let other = ClientId::parse("d").unwrap();
        assert_eq!(cache.get(&ClientKey(&t, &other)), None);
        assert!(cache.remove(&ClientKey(&t, &c)).is_some());
        assert_eq!(cache.get(&(t, c)), None);
    }
}
