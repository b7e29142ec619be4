//! What the control-plane tests share: a control plane on a fresh SQLite store, bootstrapped,
//! with a clock the test moves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::sync::Arc;

use castellan_control::{BootstrapOptions, Control};
use castellan_domain::{Clock, FixedClock};
use castellan_jose::MasterKey;
use castellan_store::Store;
use castellan_store_sqlite::SqliteStore;

pub async fn control(clock: Arc<FixedClock>) -> (tempfile::TempDir, Control) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db")).await.unwrap();
    store.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let master = Arc::new(MasterKey::from_secret("clock test master key 0123456789abcdef").unwrap());
    let control = Control::new(store, master, clock as Arc<dyn Clock>, "http://castellan.test");
    let opts = BootstrapOptions {
        client_id: "bootstrap".into(),
        client_secret: None,
    };
    control.bootstrap(&opts).await.unwrap();
    (dir, control)
}

/// The bootstrap client's secret, read back the way an operator tool would (sealed copy).
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
