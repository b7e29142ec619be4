#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use castellan_store::{Store, TenantStore};
use castellan_store_sqlite::SqliteStore;

/// A fresh, migrated SQLite store in this test binary's directory.
async fn fresh_store(check: &str) -> Option<Arc<dyn Store>> {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let store = SqliteStore::open(&dir.path().join(format!("{check}.sqlite")))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Some(Arc::new(store) as Arc<dyn Store>)
}

/// The store conformance suite, one test per check.
mod suite {
    castellan_store::conformance_suite!(super::fresh_store);
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.migrate().await.unwrap();
        store
            .create_tenant(&castellan_store::conformance::tenant("kept"))
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    let t = castellan_domain::TenantId::parse("kept").unwrap();
    assert_eq!(
        store.get_tenant(&t).await.unwrap(),
        Some(castellan_store::conformance::tenant("kept"))
    );
}

#[tokio::test]
async fn one_purge_at_a_time() {
    use castellan_store::TokenStore;
    use castellan_store_sql::Backend;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite")).await.unwrap();
    store.migrate().await.unwrap();
    let turn = store.purge_turn().await.unwrap().expect("the turn is free");
    assert!(store.purge_turn().await.unwrap().is_none(), "held");
    assert_eq!(
        store
            .purge_expired_in_batches(10, castellan_store::PurgePace::default())
            .await
            .unwrap(),
        None,
        "skipped"
    );
    store.end_purge(turn).await;
    let purged = store
        .purge_expired_in_batches(10, castellan_store::PurgePace::default())
        .await
        .unwrap()
        .expect("its turn");
    assert_eq!(purged.total(), 0);
    assert_eq!(purged.tables.len(), 8, "every table visited: {purged:?}");
}
