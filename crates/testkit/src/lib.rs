//! What Castellan's tests share, so each suite builds its world the same way: a fresh migrated
//! SQLite store in a temporary directory, a master key, and a control plane bootstrapped on them
//! with a clock the test moves. A dev-dependency only; nothing here ships.
// Test support: a failed set-up is meant to abort the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use castellan_control::{BootstrapOptions, Control};
use castellan_domain::{Clock, FixedClock};
use castellan_jose::MasterKey;
use castellan_store::Store;
use castellan_store_sqlite::SqliteStore;
use tempfile::TempDir;

/// The master key tests seal with (never a deployment's: it is public).
pub fn master_key() -> Arc<MasterKey> {
    Arc::new(MasterKey::from_secret("castellan test master key 0123456789abcdef").unwrap())
}

/// A fresh, migrated SQLite store in a temporary directory (removed when the directory is
/// dropped: keep it as long as the store).
pub async fn sqlite_store() -> (TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
    store.migrate().await.unwrap();
    (dir, Arc::new(store))
}

/// A control plane on a fresh store, bootstrapped with the client `bootstrap` (generated secret,
/// see [`bootstrap_secret`]), whose clock the test moves.
pub async fn control(clock: Arc<FixedClock>) -> (TempDir, Control) {
    let (dir, store) = sqlite_store().await;
    let control = Control::new(store, master_key(), clock as Arc<dyn Clock>, "http://castellan.test");
    let opts = BootstrapOptions {
        client_id: "bootstrap".into(),
        client_secret: None,
    };
    control.bootstrap(&opts).await.unwrap();
    (dir, control)
}

/// The bootstrap client's secret, read back the way an operator tool would (its sealed copy).
pub async fn bootstrap_secret(control: &Control, rt: &castellan_oauth::ServerRuntime) -> String {
    let client = control.engine().client(rt, "bootstrap").await.unwrap().unwrap();
    control
        .engine()
        .master()
        .open_string(
            &castellan_domain::seal::client_secret(&client.tenant_id, &client.id),
            client.secret_sealed.as_ref().unwrap(),
        )
        .unwrap()
}
