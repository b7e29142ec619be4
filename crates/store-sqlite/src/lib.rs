//! The embedded store: SQLite through sqlx, one file under the data dir, WAL, foreign keys on.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use castellan_domain::{
    AuthorizationServer, Client, ClientId, Scope, ServerId, SigningKey, Tenant, TenantId, UnixTime,
};
use castellan_store::{BootstrapSeed, ClientStore, ServerStore, Store, StoreError, StoreResult, TenantStore};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use castellan_store_sql::*;

mod access;
mod claims;
mod flows;
mod gateways;
mod policies;
mod privacy;
mod scopes;
mod services;
mod tokens;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Privacy writes of this process queue here rather than on SQLite's write lock, whose busy
    /// handler sleeps (up to 100 ms at a time) when writers collide.
    privacy_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
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
        })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// IMMEDIATE takes the write lock up front, so read-then-write transactions never deadlock.
    async fn write_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        begin_detached(&self.pool, "BEGIN IMMEDIATE").await
    }

    /// A read transaction: its statements all see one snapshot of the database.
    async fn read_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        begin_detached(&self.pool, "BEGIN").await
    }
}

impl SqliteStore {
    /// One row (or none) of a query whose placeholders take `binds` in order, as an entity.
    async fn fetch_opt<R, T>(&self, sql: &str, binds: &[&str]) -> StoreResult<Option<T>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
        T: TryFrom<R, Error = StoreError>,
    {
        let mut q = sqlx::query_as::<_, R>(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(T::try_from)
            .transpose()
    }

    /// Every row of a query whose placeholders take `binds` in order, as entities.
    async fn fetch_all<R, T>(&self, sql: &str, binds: &[&str]) -> StoreResult<Vec<T>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
        T: TryFrom<R, Error = StoreError>,
    {
        let mut q = sqlx::query_as::<_, R>(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_all(&self.pool)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(T::try_from)
            .collect()
    }
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        self.fetch_opt::<TenantRow, _>("SELECT * FROM tenants WHERE id = ?", &[id.as_str()])
            .await
    }

    async fn list_tenant_ids(&self) -> StoreResult<Vec<TenantId>> {
        let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM tenants ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        ids.into_iter()
            .map(|(id,)| TenantId::parse(id).map_err(corrupt))
            .collect()
    }

    async fn create_tenant(&self, t: &Tenant) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        insert_tenant(&mut tx, t).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_tenant(&self, t: &Tenant) -> StoreResult<()> {
        let r = sqlx::query("UPDATE tenants SET name = ?, authentication_context_settings = ?, jwks = ? WHERE id = ?")
            .bind(&t.name)
            .bind(to_json(&t.authentication_context_settings)?)
            .bind(to_json(&t.jwks)?)
            .bind(t.id.as_str())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("tenant {}", t.id)));
        }
        Ok(())
    }
}

#[async_trait]
impl ServerStore for SqliteStore {
    async fn list_servers(&self, tid: &TenantId) -> StoreResult<Vec<AuthorizationServer>> {
        self.fetch_all::<ServerRow, _>("SELECT * FROM servers WHERE tenant_id = ? ORDER BY id", &[tid.as_str()])
            .await
    }

    async fn get_server(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Option<AuthorizationServer>> {
        self.fetch_opt::<ServerRow, _>(
            "SELECT * FROM servers WHERE tenant_id = ? AND id = ?",
            &[tid.as_str(), aid.as_str()],
        )
        .await
    }

    async fn create_server(&self, s: &AuthorizationServer, keys: &[SigningKey], scopes: &[Scope]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        insert_server(&mut tx, s, keys).await?;
        for sc in scopes {
            Sql::<Sqlite>::insert_scope(&mut tx, sc).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn update_server(&self, s: &AuthorizationServer, keys: Option<&[SigningKey]>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "UPDATE servers SET name = ?, system = ?, settings = ?, authentications = ?, secrets_sealed = ?, \
             updated_at = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(&s.name)
        .bind(s.system)
        .bind(to_json(&s.settings)?)
        .bind(to_json(&s.authentications)?)
        .bind(&s.secrets_sealed)
        .bind(s.updated_at)
        .bind(s.tenant_id.as_str())
        .bind(s.id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("authorization server {}", s.id)));
        }
        if let Some(keys) = keys {
            sqlx::query("DELETE FROM signing_keys WHERE tenant_id = ? AND server_id = ?")
                .bind(s.tenant_id.as_str())
                .bind(s.id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            insert_keys(&mut tx, &s.tenant_id, &s.id, keys).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn delete_server(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query("DELETE FROM servers WHERE tenant_id = ? AND id = ?")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if r.rows_affected() > 0 {
            Sql::<Sqlite>::insert_cutoff(&mut tx, tid, aid, "", now, keep_until).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_keys(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<SigningKey>> {
        self.fetch_all::<KeyRow, _>(
            "SELECT * FROM signing_keys WHERE tenant_id = ? AND server_id = ? ORDER BY position",
            &[tid.as_str(), aid.as_str()],
        )
        .await
    }
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn get_client(&self, tid: &TenantId, cid: &ClientId) -> StoreResult<Option<Client>> {
        self.fetch_opt::<ClientRow, _>(
            "SELECT * FROM clients WHERE tenant_id = ? AND id = ?",
            &[tid.as_str(), cid.as_str()],
        )
        .await
    }

    async fn list_clients(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Client>> {
        self.fetch_all::<ClientRow, _>(
            "SELECT * FROM clients WHERE tenant_id = ? AND server_id = ? ORDER BY id",
            &[tid.as_str(), aid.as_str()],
        )
        .await
    }

    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        insert_client(&mut tx, c).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn create_clients(&self, clients: &[Client]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        for c in clients {
            insert_client(&mut tx, c).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn update_client(&self, c: &Client) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE clients SET name = ?, system = ?, grant_types = ?, token_endpoint_auth_method = ?, \
             secret_hash = ?, secret_sealed = ?, metadata = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(&c.name)
        .bind(c.system)
        .bind(to_json(&c.grant_types)?)
        .bind(&c.token_endpoint_auth_method)
        .bind(&c.secret_hash)
        .bind(&c.secret_sealed)
        .bind(to_json(&c.settings)?)
        .bind(c.tenant_id.as_str())
        .bind(c.id.as_str())
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("client {}", c.id)));
        }
        Ok(())
    }

    async fn delete_client(
        &self,
        tid: &TenantId,
        cid: &ClientId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let live: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT t.server_id, t.jti, t.expires_at FROM grant_tokens t JOIN grants g \
             ON g.tenant_id = t.tenant_id AND g.server_id = t.server_id AND g.id = t.grant_id \
             WHERE g.tenant_id = ? AND g.client_id = ? AND t.expires_at > ?",
        )
        .bind(tid.as_str())
        .bind(cid.as_str())
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        for (aid, jti, exp) in &live {
            Sql::<Sqlite>::insert_revocation(&mut tx, tid, &ServerId::parse(aid).map_err(corrupt)?, jti, *exp).await?;
        }
        // Grants take their refresh tokens and token records with them (ON DELETE CASCADE).
        for table in ["grants", "auth_codes", "consents"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = ? AND client_id = ?"))
                .bind(tid.as_str())
                .bind(cid.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        let server: Option<(String,)> =
            sqlx::query_as("DELETE FROM clients WHERE tenant_id = ? AND id = ? RETURNING server_id")
                .bind(tid.as_str())
                .bind(cid.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let Some((aid,)) = server else {
            return Ok(false);
        };
        Sql::<Sqlite>::insert_cutoff(
            &mut tx,
            tid,
            &ServerId::parse(aid).map_err(corrupt)?,
            cid.as_str(),
            now,
            keep_until,
        )
        .await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn list_tenant_clients(&self, tid: &TenantId) -> StoreResult<Vec<Client>> {
        self.fetch_all::<ClientRow, _>("SELECT * FROM clients WHERE tenant_id = ? ORDER BY id", &[tid.as_str()])
            .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)
            .map(|_| ())
    }

    async fn create_tenant_seeded(&self, seed: &BootstrapSeed) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        insert_seed(&mut tx, seed).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn key_check(&self) -> StoreResult<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT value FROM meta WHERE name = 'key_check'")
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.map(|(v,)| v))
    }

    async fn bootstrap(&self, seed: &BootstrapSeed) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tenants")
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        if count > 0 {
            return Ok(false);
        }
        insert_seed(&mut tx, seed).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }
}

async fn insert_seed(tx: &mut Transaction<'static, Sqlite>, seed: &BootstrapSeed) -> StoreResult<()> {
    insert_tenant(tx, &seed.tenant).await?;
    for (server, keys) in &seed.servers {
        insert_server(tx, server, keys).await?;
    }
    for scope in &seed.scopes {
        Sql::<Sqlite>::insert_scope(tx, scope).await?;
    }
    for client in &seed.clients {
        insert_client(tx, client).await?;
    }
    for policy in &seed.policies {
        castellan_store_sql::Sql::<Sqlite>::insert_policy(tx, policy).await?;
    }
    // Only the first seed's check is kept: every tenant's secrets are sealed with the same key.
    sqlx::query("INSERT INTO meta (name, value) VALUES ('key_check', ?) ON CONFLICT DO NOTHING")
        .bind(&seed.key_check)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

async fn insert_tenant(tx: &mut Transaction<'static, Sqlite>, t: &Tenant) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO tenants (id, name, authentication_context_settings, jwks, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(t.id.as_str())
    .bind(&t.name)
    .bind(to_json(&t.authentication_context_settings)?)
    .bind(to_json(&t.jwks)?)
    .bind(t.created_at)
    .execute(&mut **tx)
    .await
    .map_err(map_err)
    .map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!("tenant {}", t.id)),
        e => e,
    })?;
    Ok(())
}

async fn insert_server(
    tx: &mut Transaction<'static, Sqlite>,
    s: &AuthorizationServer,
    keys: &[SigningKey],
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO servers (tenant_id, id, name, system, settings, authentications, secrets_sealed, \
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(s.tenant_id.as_str())
    .bind(s.id.as_str())
    .bind(&s.name)
    .bind(s.system)
    .bind(to_json(&s.settings)?)
    .bind(to_json(&s.authentications)?)
    .bind(&s.secrets_sealed)
    .bind(s.created_at)
    .bind(s.updated_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!("authorization server {}", s.id)),
        StoreError::NotFound(_) => StoreError::NotFound(format!("tenant {}", s.tenant_id)),
        e => e,
    })?;
    insert_keys(tx, &s.tenant_id, &s.id, keys).await
}

async fn insert_keys(
    tx: &mut Transaction<'static, Sqlite>,
    tid: &TenantId,
    aid: &ServerId,
    keys: &[SigningKey],
) -> StoreResult<()> {
    for (position, k) in keys.iter().enumerate() {
        sqlx::query(
            "INSERT INTO signing_keys (tenant_id, server_id, kid, alg, status, public_jwk, private_sealed, \
             created_at, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(&k.kid)
        .bind(k.alg.as_str())
        .bind(k.status.as_str())
        .bind(to_json(&k.public_jwk)?)
        .bind(&k.private_sealed)
        .bind(k.created_at)
        .bind(position as i64)
        .execute(&mut **tx)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("key {}", k.kid)),
            e => e,
        })?;
    }
    Ok(())
}

pub(crate) async fn insert_client(tx: &mut Transaction<'static, Sqlite>, c: &Client) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO clients (tenant_id, id, server_id, name, system, grant_types, token_endpoint_auth_method, \
         secret_hash, secret_sealed, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(c.tenant_id.as_str())
    .bind(c.id.as_str())
    .bind(c.server_id.as_str())
    .bind(&c.name)
    .bind(c.system)
    .bind(to_json(&c.grant_types)?)
    .bind(&c.token_endpoint_auth_method)
    .bind(&c.secret_hash)
    .bind(&c.secret_sealed)
    .bind(to_json(&c.settings)?)
    .bind(c.created_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!("client {}", c.id)),
        StoreError::NotFound(_) => StoreError::NotFound(format!("authorization server {}", c.server_id)),
        e => e,
    })?;
    Ok(())
}
