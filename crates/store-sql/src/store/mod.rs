//! The store traits implemented once for both databases: [`sql_store!`] writes every
//! `castellan_store` trait for an adapter type that implements [`Backend`]. Each write runs the
//! operation of [`Sql`](crate::Sql) in the adapter's write transaction, decides here — and only
//! here — which [`ConfigChange`]s it made, lets the backend announce them inside that transaction,
//! commits, and returns them to the writer.
//!
//! A macro rather than a generic `impl<B: Backend>`: the operations of `Sql` are generic under a
//! set of higher-ranked driver bounds that Rust does not carry from a trait to its users, so a
//! generic implementation would restate them on each of the twelve traits. The macro expands
//! with the concrete database type, where those bounds are simply true.

use async_trait::async_trait;
use castellan_store::{Changes, ConfigChange, StoreResult};
use sqlx::Transaction;
use tokio::sync::{MutexGuard, mpsc};

use crate::Dialect;

mod access;
mod config;
mod flows;
mod services;

/// What one database adapter gives the operations written once here.
#[async_trait]
pub trait Backend: Send + Sync {
    type Db: Dialect;
    fn pool(&self) -> &sqlx::Pool<Self::Db>;
    /// A transaction that will write (SQLite takes the write lock up front: `BEGIN IMMEDIATE`).
    async fn write_tx(&self) -> StoreResult<Transaction<'static, Self::Db>>;
    /// A read transaction whose statements all see one snapshot of the database.
    async fn read_tx(&self) -> StoreResult<Transaction<'static, Self::Db>>;
    /// Tells the other processes sharing the database what the write in `tx` changed, delivered
    /// when it commits (PostgreSQL: `NOTIFY`). A database only this process writes does nothing.
    async fn announce(&self, tx: &mut Transaction<'static, Self::Db>, changes: &Changes) -> StoreResult<()>;
    /// Makes first-start bootstraps of several processes take turns inside `tx` (PostgreSQL:
    /// an advisory lock held until commit). SQLite's write transaction already serialises them.
    async fn bootstrap_turn(&self, tx: &mut Transaction<'static, Self::Db>) -> StoreResult<()>;
    /// This process's turn to append to a privacy ledger, taken before the write transaction
    /// (SQLite: an in-process queue, cheaper than colliding on the database's write lock;
    /// PostgreSQL: none, the append locks the ledger's head row).
    async fn ledger_turn(&self) -> Option<MutexGuard<'_, ()>>;
    /// The change feed of a database several processes share ([`castellan_store::Store::changes`]).
    async fn changes(&self) -> StoreResult<Option<mpsc::Receiver<ConfigChange>>>;
}

/// What each part of [`sql_store!`] names: the store traits and domain types, the adapter's
/// [`Backend`], and `Shared`, the operations of [`Sql`](crate::Sql) for `$db`.
#[doc(hidden)]
#[macro_export]
macro_rules! sql_store_prelude {
    ($db:ty) => {
        #[allow(unused_imports)]
        use $crate::reexport::async_trait::async_trait;
        #[allow(unused_imports)]
        use $crate::reexport::castellan_domain::*;
        #[allow(unused_imports)]
        use $crate::reexport::castellan_store::*;
        #[allow(unused_imports)]
        use $crate::reexport::sqlx::Transaction;
        #[allow(unused_imports)]
        use $crate::{Backend, Sql, map_err};

        type Shared = Sql<$db>;
    };
}

/// Implements every `castellan_store` trait for `$store` (a [`Backend`] whose database is `$db`).
#[macro_export]
macro_rules! sql_store {
    ($store:ty, $db:ty) => {
        $crate::sql_store_config!($store, $db);
        $crate::sql_store_flows!($store, $db);
        $crate::sql_store_access!($store, $db);
        $crate::sql_store_services!($store, $db);

        const _: () = {
            $crate::sql_store_prelude!($db);

            impl $store {
                /// Announces `changes`, commits, and hands them to the writer.
                async fn commit_changes(
                    &self,
                    mut tx: Transaction<'static, $db>,
                    changes: Vec<ConfigChange>,
                ) -> StoreResult<Changes> {
                    let changes = Changes(changes);
                    self.announce(&mut tx, &changes).await?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(changes)
                }

                async fn commit(tx: Transaction<'static, $db>) -> StoreResult<()> {
                    tx.commit().await.map_err(map_err)
                }
            }

            #[async_trait]
            impl Store for $store {
                async fn ping(&self) -> StoreResult<()> {
                    $crate::reexport::sqlx::query("SELECT 1")
                        .execute(self.pool())
                        .await
                        .map_err(map_err)
                        .map(|_| ())
                }

                async fn create_tenant_seeded(&self, seed: &BootstrapSeed) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::insert_seed(&mut tx, seed).await?;
                    self.commit_changes(tx, vec![ConfigChange::Tenant(seed.tenant.id.clone())])
                        .await
                }

                async fn delete_tenant(&self, tid: &TenantId) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    if !Shared::delete_tenant(&mut tx, tid).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Tenant(tid.clone())])
                        .await
                        .map(Some)
                }

                async fn key_check(&self) -> StoreResult<Option<Vec<u8>>> {
                    Shared::key_check(self.pool()).await
                }

                async fn bootstrap(&self, seed: &BootstrapSeed) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    // Processes starting together queue here; the first writes, the others then
                    // see a tenant and write nothing.
                    self.bootstrap_turn(&mut tx).await?;
                    if !Shared::bootstrap(&mut tx, seed).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Tenant(seed.tenant.id.clone())])
                        .await
                        .map(Some)
                }

                async fn changes(
                    &self,
                ) -> StoreResult<Option<$crate::reexport::tokio::sync::mpsc::Receiver<ConfigChange>>> {
                    Backend::changes(self).await
                }
            }
        };
    };
}
