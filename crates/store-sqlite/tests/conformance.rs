use std::sync::Arc;

use castellan_store::{Store, TenantStore};
use castellan_store_sqlite::SqliteStore;

#[tokio::test]
async fn sqlite_passes_the_store_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    castellan_store::conformance::run_all(|| {
        let path = dir.path().join(format!(
            "db-{}.sqlite",
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        async move {
            let store = SqliteStore::open(&path).await.unwrap();
            store.migrate().await.unwrap();
            Arc::new(store) as Arc<dyn Store>
        }
    })
    .await;
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
