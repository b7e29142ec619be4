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
    /// Whether several processes may share the database ([`castellan_store::Store::shared`]).
    fn shared(&self) -> bool;
    /// The purge's turn: one connection, held by one purge at a time across every process on the
    /// database (PostgreSQL: a session advisory lock on that connection; SQLite: an in-process
    /// lock). `None` when another purge holds it.
    async fn purge_turn(&self) -> StoreResult<Option<PurgeTurn<Self::Db>>>;
    /// Gives the turn back.
    async fn end_purge(&self, turn: PurgeTurn<Self::Db>);
}

/// See [`Backend::purge_turn`].
pub struct PurgeTurn<DB: sqlx::Database> {
    pub conn: sqlx::pool::PoolConnection<DB>,
    /// SQLite's in-process lock, released with the turn.
    pub guard: Option<tokio::sync::OwnedMutexGuard<()>>,
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

/// Writes a [`ConfigImport`](castellan_store::ConfigImport) in `$tx`, kind by kind in the
/// order the struct lists them; a failing write names its object.
#[doc(hidden)]
#[macro_export]
macro_rules! sql_store_import {
    ($tx:ident, $imp:ident) => {
        fn named(kind: &str, id: &str) -> impl Fn(StoreError) -> StoreError {
            let what = format!("{kind} {id}");
            move |e| match e {
                StoreError::Conflict(_) => StoreError::Conflict(what.clone()),
                StoreError::NotFound(_) => StoreError::NotFound(what.clone()),
                e => e,
            }
        }
        for p in &$imp.tenants {
            let t = p.value();
            let r = if p.is_replace() {
                Shared::update_tenant(&mut $tx, t).await
            } else {
                Shared::insert_tenant(&mut $tx, t).await
            };
            r.map_err(named("tenant", t.id.as_str()))?;
        }
        for p in &$imp.policies {
            let v = p.value();
            let r = if p.is_replace() {
                Shared::update_policy(&mut $tx, v).await
            } else {
                Shared::insert_policy(&mut $tx, v).await
            };
            r.map_err(named("policy", &v.id))?;
        }
        for p in &$imp.servers {
            let v = p.value();
            let r = if p.is_replace() {
                Shared::update_server(&mut $tx, &v.server, v.keys.as_deref()).await
            } else {
                Shared::insert_server(&mut $tx, &v.server, v.keys.as_deref().unwrap_or_default()).await
            };
            r.map_err(named("server", v.server.id.as_str()))?;
        }
        for p in &$imp.services {
            let v = p.value();
            let r = if p.is_replace() {
                Shared::update_service(&mut $tx, v).await
            } else {
                Shared::create_service(&mut $tx, v).await
            };
            r.map_err(named("service", &v.id))?;
        }
        for p in &$imp.scopes {
            let v = p.value();
            let r = if p.is_replace() {
                Shared::update_scope(&mut $tx, v).await
            } else {
                Shared::insert_scope(&mut $tx, v).await
            };
            r.map_err(named("scope", v.id.as_str()))?;
        }
        for p in &$imp.claims {
            let v = p.value();
            let r = if p.is_replace() {
                Shared::update_claim(&mut $tx, v).await
            } else {
                Shared::create_claim(&mut $tx, v).await
            };
            r.map_err(named("claim", v.id.as_str()))?;
        }
        for p in &$imp.clients {
            let v = p.value();
            let r = if p.is_replace() {
                Shared::update_client(&mut $tx, v).await
            } else {
                Shared::insert_client(&mut $tx, v).await
            };
            r.map_err(named("client", v.id.as_str()))?;
        }
        for p in &$imp.gateways {
            let v = p.value();
            let r = if p.is_replace() {
                Shared::update_gateway(&mut $tx, v).await
            } else {
                Shared::insert_gateway(&mut $tx, v).await
            };
            r.map_err(named("gateway", &v.id))?;
        }
        for p in &$imp.apis {
            let v = p.value();
            // An API's method, path and position are not changed in place: it is written anew.
            if p.is_replace() {
                Shared::delete_api(&mut $tx, &v.tenant_id, &v.id).await?;
            }
            Shared::insert_api(&mut $tx, v).await.map_err(named("api", &v.id))?;
        }
        for p in &$imp.consents {
            let v = p.value();
            Shared::write_privacy_consent(&mut $tx, v, p.is_replace())
                .await
                .map_err(named("consent", &v.id))?;
        }
        for p in &$imp.consent_actions {
            let v = p.value();
            let r = if p.is_replace() {
                Shared::update_consent_action(&mut $tx, v).await
            } else {
                Shared::create_consent_action(&mut $tx, v).await
            };
            r.map_err(named("consent action", &v.id))?;
        }
        for p in &$imp.roles {
            let v = p.value();
            let r = if p.is_replace() {
                Shared::update_role(&mut $tx, v).await
            } else {
                Shared::create_role(&mut $tx, v).await
            };
            r.map_err(named("role", &v.id))?;
            Shared::delete_role_maps(&mut $tx, &v.tenant_id, &v.id).await?;
            for m in &v.connection_maps {
                Shared::add_connection_map(&mut $tx, &v.tenant_id, m)
                    .await
                    .map_err(named("role", &v.id))?;
            }
        }
        for p in &$imp.sts_clients {
            let v = p.value();
            let r = if p.is_replace() {
                Shared::update_sts_client(&mut $tx, v).await
            } else {
                Shared::create_sts_client(&mut $tx, v).await
            };
            r.map_err(named("STS client", &v.client_id))?;
        }
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

                async fn import_configuration(&self, imp: &ConfigImport) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    $crate::sql_store_import!(tx, imp);
                    let mut tenants: Vec<TenantId> = Vec::new();
                    let mut touch = |t: &TenantId| {
                        if !tenants.contains(t) {
                            tenants.push(t.clone());
                        }
                    };
                    imp.tenants.iter().for_each(|p| touch(&p.value().id));
                    imp.policies.iter().for_each(|p| touch(&p.value().tenant_id));
                    imp.servers
                        .iter()
                        .for_each(|p| touch(&p.value().server.tenant_id));
                    imp.services.iter().for_each(|p| touch(&p.value().tenant_id));
                    imp.scopes.iter().for_each(|p| touch(&p.value().tenant_id));
                    imp.claims.iter().for_each(|p| touch(&p.value().tenant_id));
                    imp.clients.iter().for_each(|p| touch(&p.value().tenant_id));
                    imp.gateways.iter().for_each(|p| touch(&p.value().tenant_id));
                    imp.apis.iter().for_each(|p| touch(&p.value().tenant_id));
                    imp.consents.iter().for_each(|p| touch(&p.value().tenant_id));
                    imp.consent_actions
                        .iter()
                        .for_each(|p| touch(&p.value().tenant_id));
                    imp.roles.iter().for_each(|p| touch(&p.value().tenant_id));
                    imp.sts_clients.iter().for_each(|p| touch(&p.value().tenant_id));
                    let changes = tenants.into_iter().map(ConfigChange::Tenant).collect();
                    self.commit_changes(tx, changes).await
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

                fn shared(&self) -> bool {
                    Backend::shared(self)
                }
            }
        };
    };
}
