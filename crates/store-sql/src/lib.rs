//! What the SQL adapters share: row shapes and their conversion to domain entities, the
//! operations written once for both databases ([`Sql`]), and the store traits implemented once
//! over them ([`sql_store!`], for an adapter's [`Backend`]). Each adapter
//! selects columns as these Rust types (JSON as text, times as Unix seconds), so one mapping serves
//! SQLite and PostgreSQL alike.

use castellan_domain::*;
use castellan_store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

mod access;
mod audit;
mod claims;
mod clients;
mod flows;
mod gateways;
mod policies;
mod privacy;
mod scopes;
mod servers;
mod services;
mod store;
mod tenants;
mod tokens;

pub use audit::AUDIT;
pub use store::{Backend, PurgeTurn};

/// What [`sql_store!`] names in the adapter crate that expands it.
#[doc(hidden)]
pub mod reexport {
    pub use async_trait;
    pub use castellan_domain;
    pub use castellan_store;
    pub use sqlx;
    pub use tokio;
}

/// What the SQL of the two databases writes differently, for the operations written once here.
pub trait Dialect: sqlx::Database {
    /// Appended to an `ORDER BY` text column: order by bytes (SQLite's only order; PostgreSQL's
    /// `C` collation), so both stores list in the same order.
    const BYTES: &'static str;
    /// Appended to a `SELECT` of rows the transaction then writes: locks them (PostgreSQL). SQLite
    /// needs none: a write transaction (`BEGIN IMMEDIATE`) holds the database's write lock.
    const FOR_UPDATE: &'static str;
    /// The larger of two values (SQLite's two-argument `MAX`, PostgreSQL's `GREATEST`).
    const GREATEST: &'static str;
    /// How many rows a statement changed.
    fn rows_affected(r: &Self::QueryResult) -> u64;
    /// Deletes at most `$2` rows of `table` whose `expires_at` is before `$1`.
    fn delete_expired_batch(table: &str) -> String;
}

impl Dialect for sqlx::Sqlite {
    const BYTES: &'static str = "";
    const FOR_UPDATE: &'static str = "";
    const GREATEST: &'static str = "MAX";
    fn rows_affected(r: &Self::QueryResult) -> u64 {
        r.rows_affected()
    }
    fn delete_expired_batch(table: &str) -> String {
        format!("DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE expires_at < $1 LIMIT $2)")
    }
}

impl Dialect for sqlx::Postgres {
    const BYTES: &'static str = " COLLATE \"C\"";
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const GREATEST: &'static str = "GREATEST";
    fn rows_affected(r: &Self::QueryResult) -> u64 {
        r.rows_affected()
    }
    fn delete_expired_batch(table: &str) -> String {
        format!("DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} WHERE expires_at < $1 LIMIT $2))")
    }
}

/// The store operations written once for every [`Dialect`], as associated functions of
/// `Sql::<Database>` (one `impl` block per aggregate, in its own module, under one set of
/// bounds). They take the pool, or a transaction the calling adapter began and commits.
pub struct Sql<DB>(std::marker::PhantomData<DB>);

pub fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub fn to_json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(corrupt)
}

pub fn from_json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(corrupt)
}

/// A driver error as the store contract names it (same mapping for SQLite and PostgreSQL).
pub fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_owned()),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::NotFound("the parent object".to_owned())
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Unavailable(e.to_string()),
    }
}

/// Begins a transaction with `begin` (`BEGIN IMMEDIATE`, an isolation level…) in its own task.
/// The driver's begin is not cancel-safe: a caller dropped between the `BEGIN` and the creation
/// of the transaction guard leaves the pooled connection inside a transaction nothing ends (on
/// SQLite, holding the write lock, so every later writer waits out its busy timeout). In a task
/// the begin always finishes; if the caller is gone by then, the guard is dropped there, which
/// rolls the transaction back.
pub async fn begin_detached<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
    begin: &'static str,
) -> Result<sqlx::Transaction<'static, DB>, StoreError> {
    let pool = pool.clone();
    tokio::spawn(async move { pool.begin_with(begin).await })
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot begin a transaction: {e}")))?
        .map_err(map_err)
}

#[derive(sqlx::FromRow)]
pub struct TenantRow {
    id: String,
    name: String,
    authentication_context_settings: String,
    jwks: String,
    created_at: i64,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(r: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: TenantId::parse(r.id).map_err(corrupt)?,
            name: r.name,
            authentication_context_settings: from_json(&r.authentication_context_settings)?,
            jwks: from_json(&r.jwks)?,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ServerRow {
    tenant_id: String,
    id: String,
    name: String,
    system: bool,
    settings: String,
    authentications: String,
    secrets_sealed: Vec<u8>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ServerRow> for AuthorizationServer {
    type Error = StoreError;
    fn try_from(r: ServerRow) -> Result<Self, StoreError> {
        Ok(AuthorizationServer {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            id: ServerId::parse(r.id).map_err(corrupt)?,
            name: r.name,
            system: r.system,
            settings: from_json(&r.settings)?,
            authentications: from_json(&r.authentications)?,
            secrets_sealed: r.secrets_sealed,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct KeyRow {
    kid: String,
    alg: String,
    status: String,
    public_jwk: String,
    private_sealed: Vec<u8>,
    created_at: i64,
    activates_at: Option<i64>,
    retires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<KeyRow> for SigningKey {
    type Error = StoreError;
    fn try_from(r: KeyRow) -> Result<Self, StoreError> {
        Ok(SigningKey {
            alg: SigningAlg::parse(&r.alg).ok_or_else(|| corrupt(format!("alg {}", r.alg)))?,
            status: KeyStatus::parse(&r.status).ok_or_else(|| corrupt(format!("key status {}", r.status)))?,
            kid: r.kid,
            public_jwk: from_json(&r.public_jwk)?,
            private_sealed: r.private_sealed,
            created_at: r.created_at,
            activates_at: r.activates_at,
            retires_at: r.retires_at,
            revoked_at: r.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ClientRow {
    tenant_id: String,
    id: String,
    server_id: String,
    name: String,
    system: bool,
    grant_types: String,
    token_endpoint_auth_method: String,
    secret_hash: Option<Vec<u8>>,
    secret_sealed: Option<Vec<u8>>,
    metadata: String,
    created_at: i64,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        Ok(Client {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            server_id: ServerId::parse(r.server_id).map_err(corrupt)?,
            id: ClientId::parse(r.id).map_err(corrupt)?,
            name: r.name,
            system: r.system,
            grant_types: from_json(&r.grant_types)?,
            token_endpoint_auth_method: r.token_endpoint_auth_method,
            secret_hash: r.secret_hash,
            secret_sealed: r.secret_sealed,
            settings: from_json(&r.metadata)?,
            created_at: r.created_at,
        })
    }
}

/// `server_id, code_hash, grant_id, client_id, data, expires_at, used` of `auth_codes`.
pub type CodeRow = (String, String, String, String, String, i64, bool);
/// `server_id, token_hash, grant_id, client_id, data, expires_at, used, grant revoked` of
/// `refresh_tokens` joined with `grants`.
pub type RefreshRow = (String, String, String, String, String, i64, bool, bool);
/// `server_id, id_hash, subject, auth_time, data, expires_at` of `sessions`.
pub type SessionRow = (String, String, String, i64, String, i64, String);
pub type PersonRow = (String, String, String, String, String, i64, i64);
pub type PendingRow = (String, String, String, Option<String>, i64);

pub fn code_from(r: CodeRow) -> Result<castellan_store::CodeRecord, StoreError> {
    Ok(castellan_store::CodeRecord {
        server_id: ServerId::parse(r.0).map_err(corrupt)?,
        hash: r.1,
        grant_id: r.2,
        client_id: ClientId::parse(r.3).map_err(corrupt)?,
        data: r.4,
        expires_at: r.5,
        used: r.6,
    })
}

pub fn refresh_from(r: RefreshRow) -> Result<castellan_store::RefreshRecord, StoreError> {
    Ok(castellan_store::RefreshRecord {
        server_id: ServerId::parse(r.0).map_err(corrupt)?,
        hash: r.1,
        grant_id: r.2,
        client_id: ClientId::parse(r.3).map_err(corrupt)?,
        data: r.4,
        expires_at: r.5,
        used: r.6,
        grant_revoked: r.7,
    })
}

pub fn session_from(r: SessionRow) -> Result<castellan_store::SessionRecord, StoreError> {
    Ok(castellan_store::SessionRecord {
        server_id: ServerId::parse(r.0).map_err(corrupt)?,
        id_hash: r.1,
        subject: r.2,
        auth_time: r.3,
        data: r.4,
        expires_at: r.5,
        method_id: r.6,
    })
}

pub fn person_from(r: PersonRow) -> Result<castellan_store::PersonRecord, StoreError> {
    Ok(castellan_store::PersonRecord {
        server_id: ServerId::parse(r.0).map_err(corrupt)?,
        subject: r.1,
        method_id: r.2,
        upstream_subject: r.3,
        data: r.4,
        created_at: r.5,
        updated_at: r.6,
    })
}

/// `server_id, device_hash, user_hash, client_id, data, status, poll_interval, polled_at,
/// expires_at` of `device_authorizations`.
pub type DeviceRow = (String, String, String, String, String, String, i64, i64, i64);

pub fn device_from(r: DeviceRow) -> Result<castellan_store::DeviceRecord, StoreError> {
    Ok(castellan_store::DeviceRecord {
        server_id: ServerId::parse(r.0).map_err(corrupt)?,
        device_hash: r.1,
        user_hash: r.2,
        client_id: ClientId::parse(r.3).map_err(corrupt)?,
        data: r.4,
        status: castellan_store::DeviceStatus::parse(&r.5)
            .ok_or_else(|| StoreError::Corrupt(format!("device status {}", r.5)))?,
        interval: r.6,
        polled_at: r.7,
        expires_at: r.8,
    })
}

pub fn pending_from(r: PendingRow) -> Result<castellan_store::PendingLogin, StoreError> {
    Ok(castellan_store::PendingLogin {
        server_id: ServerId::parse(r.0).map_err(corrupt)?,
        id_hash: r.1,
        data: r.2,
        result: r.3,
        expires_at: r.4,
    })
}

#[derive(sqlx::FromRow)]
pub struct GatewayRow {
    tenant_id: String,
    id: String,
    server_id: String,
    name: String,
    description: Option<String>,
    r#type: String,
    client_id: String,
    created_at: i64,
    last_active: Option<i64>,
}

impl TryFrom<GatewayRow> for Gateway {
    type Error = StoreError;
    fn try_from(r: GatewayRow) -> Result<Self, StoreError> {
        Ok(Gateway {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            id: r.id,
            server_id: ServerId::parse(r.server_id).map_err(corrupt)?,
            name: r.name,
            description: r.description,
            kind: r.r#type,
            client_id: ClientId::parse(r.client_id).map_err(corrupt)?,
            created_at: r.created_at,
            last_active: r.last_active,
        })
    }
}
