//! The embedded store: SQLite through sqlx, one file under the data dir, WAL, foreign keys on.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use castellan_store::{Changes, ConfigChange, StoreError, StoreResult};
use castellan_store_sql::{Backend, PurgeTurn, begin_detached, map_err};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::{MutexGuard, mpsc};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Privacy writes of this process queue here rather than on SQLite's write lock, whose busy
    /// handler sleeps (up to 100 ms at a time) when writers collide.
    privacy_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// One purge at a time (only this process writes the file).
    purger: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::new().filename(path);
        Self::with_options(opts).await
    }

    /// Opens a `sqlite:` URL.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url).map_err(map_err)?;
        Self::with_options(opts).await
    }

    async fn with_options(opts: SqliteConnectOptions) -> StoreResult<Self> {
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL is durable against process crashes; a committed write survives restart.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(map_err)?;
        Ok(Self {
            pool,
            privacy_writer: std::sync::Arc::default(),
            purger: std::sync::Arc::default(),
        })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

castellan_store_sql::sql_store!(SqliteStore, Sqlite);

#[async_trait]
impl Backend for SqliteStore {
    type Db = Sqlite;

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// IMMEDIATE takes the write lock up front, so read-then-write transactions never deadlock.
    async fn write_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        begin_detached(&self.pool, "BEGIN IMMEDIATE").await
    }

    async fn read_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        begin_detached(&self.pool, "BEGIN").await
    }

    /// Only this process writes the file: its writer applies the changes itself.
    async fn announce(&self, _: &mut Transaction<'static, Sqlite>, _: &Changes) -> StoreResult<()> {
        Ok(())
    }

    /// The write transaction's lock already makes bootstraps take turns.
    async fn bootstrap_turn(&self, _: &mut Transaction<'static, Sqlite>) -> StoreResult<()> {
        Ok(())
    }

    async fn ledger_turn(&self) -> Option<MutexGuard<'_, ()>> {
        Some(self.privacy_writer.lock().await)
    }

    fn shared(&self) -> bool {
        false
    }

    async fn changes(&self) -> StoreResult<Option<mpsc::Receiver<ConfigChange>>> {
        Ok(None)
    }

    async fn purge_turn(&self) -> StoreResult<Option<PurgeTurn<Sqlite>>> {
        let Ok(guard) = self.purger.clone().try_lock_owned() else {
            return Ok(None);
        };
        let conn = self.pool.acquire().await.map_err(map_err)?;
        Ok(Some(PurgeTurn {
            conn,
            guard: Some(guard),
        }))
    }

    async fn end_purge(&self, turn: PurgeTurn<Sqlite>) {
        drop(turn);
    }
}
