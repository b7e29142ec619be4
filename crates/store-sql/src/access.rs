//! STS client mappings, roles and their connection maps (who holds which management
//! permissions), written once for both databases. Every write takes the caller's transaction
//! and says whether it changed a row, so the adapter announces only real changes.

use castellan_domain::{ConnectionMap, Role, StsClient, TenantId};
use castellan_store::{StoreError, StoreResult};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::{Dialect, Sql, corrupt, map_err};

impl<DB> Sql<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c sqlx::Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Vec<u8>>: Encode<'q, DB> + Type<DB>,
    StsClientRow: for<'r> FromRow<'r, DB::Row>,
    RoleRow: for<'r> FromRow<'r, DB::Row>,
    ConnectionMapRow: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    pub async fn list_sts_clients(pool: &sqlx::Pool<DB>, tid: &TenantId) -> StoreResult<Vec<StsClient>> {
        let sql = format!(
            "SELECT * FROM sts_clients WHERE tenant_id = $1 ORDER BY client_id{}",
            DB::BYTES
        );
        let rows: Vec<StsClientRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(StsClient::try_from).collect()
    }

    pub async fn get_sts_client(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        client_id: &str,
    ) -> StoreResult<Option<StsClient>> {
        let row: Option<StsClientRow> =
            sqlx::query_as("SELECT * FROM sts_clients WHERE tenant_id = $1 AND client_id = $2")
                .bind(tid.as_str())
                .bind(client_id)
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
        row.map(StsClient::try_from).transpose()
    }

    pub async fn create_sts_client(tx: &mut Transaction<'static, DB>, c: &StsClient) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sts_clients (tenant_id, client_id, description, permissions, created_by, modified_by, \
             user_id, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(c.tenant_id.as_str())
        .bind(c.client_id.as_str())
        .bind(c.description.as_deref())
        .bind(c.permissions.as_str())
        .bind(c.created_by.as_deref())
        .bind(c.modified_by.as_deref())
        .bind(c.user_id.as_deref())
        .bind(c.created_at)
        .bind(c.modified_at)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    /// `NotFound` when absent.
    pub async fn update_sts_client(tx: &mut Transaction<'static, DB>, c: &StsClient) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE sts_clients SET description = $1, permissions = $2, modified_by = $3, modified_at = $4 \
             WHERE tenant_id = $5 AND client_id = $6",
        )
        .bind(c.description.as_deref())
        .bind(c.permissions.as_str())
        .bind(c.modified_by.as_deref())
        .bind(c.modified_at)
        .bind(c.tenant_id.as_str())
        .bind(c.client_id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("STS client {}", c.client_id)));
        }
        Ok(())
    }

    pub async fn delete_sts_client(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        client_id: &str,
    ) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM sts_clients WHERE tenant_id = $1 AND client_id = $2")
            .bind(tid.as_str())
            .bind(client_id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }

    pub async fn list_roles(pool: &sqlx::Pool<DB>, tid: &TenantId) -> StoreResult<Vec<Role>> {
        let sql = format!("SELECT * FROM roles WHERE tenant_id = $1 ORDER BY name{}", DB::BYTES);
        let roles: Vec<RoleRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        let maps: Vec<ConnectionMapRow> = sqlx::query_as(
            "SELECT id, role_id, name, group_name, connection_id FROM role_connection_maps \
             WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tid.as_str())
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
        Ok(attach_maps(
            roles.into_iter().map(Role::try_from).collect::<Result<_, _>>()?,
            maps.into_iter()
                .map(ConnectionMap::try_from)
                .collect::<Result<_, _>>()?,
        ))
    }

    pub async fn get_role(pool: &sqlx::Pool<DB>, tid: &TenantId, id: &str) -> StoreResult<Option<Role>> {
        let role: Option<RoleRow> = sqlx::query_as("SELECT * FROM roles WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        let Some(role) = role else {
            return Ok(None);
        };
        let maps: Vec<ConnectionMapRow> = sqlx::query_as(
            "SELECT id, role_id, name, group_name, connection_id FROM role_connection_maps \
             WHERE tenant_id = $1 AND role_id = $2 ORDER BY id",
        )
        .bind(tid.as_str())
        .bind(id)
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
        Ok(attach_maps(
            vec![Role::try_from(role)?],
            maps.into_iter()
                .map(ConnectionMap::try_from)
                .collect::<Result<_, _>>()?,
        )
        .pop())
    }

    pub async fn create_role(tx: &mut Transaction<'static, DB>, r: &Role) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO roles (tenant_id, id, name, audience, description, permissions, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.tenant_id.as_str())
        .bind(r.id.as_str())
        .bind(r.name.as_str())
        .bind(r.audience.as_str())
        .bind(r.description.as_deref())
        .bind(r.permissions.as_str())
        .bind(r.created_at)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    /// `NotFound` when absent.
    pub async fn update_role(tx: &mut Transaction<'static, DB>, r: &Role) -> StoreResult<()> {
        let res = sqlx::query(
            "UPDATE roles SET audience = $1, description = $2, permissions = $3 WHERE tenant_id = $4 AND id = $5",
        )
        .bind(r.audience.as_str())
        .bind(r.description.as_deref())
        .bind(r.permissions.as_str())
        .bind(r.tenant_id.as_str())
        .bind(r.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&res) == 0 {
            return Err(StoreError::NotFound(format!("role {}", r.id)));
        }
        Ok(())
    }

    pub async fn delete_role(tx: &mut Transaction<'static, DB>, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM roles WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }

    /// Deletes every connection map of a role (before an import writes the ones it carries).
    pub async fn delete_role_maps(tx: &mut Transaction<'static, DB>, tid: &TenantId, role_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM role_connection_maps WHERE tenant_id = $1 AND role_id = $2")
            .bind(tid.as_str())
            .bind(role_id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    /// The map as stored, with the id the store gave it; `NotFound` naming the role when it is
    /// not there.
    pub async fn add_connection_map(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        m: &ConnectionMap,
    ) -> StoreResult<ConnectionMap> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO role_connection_maps (tenant_id, role_id, name, group_name, connection_id) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(tid.as_str())
        .bind(m.role_id.as_str())
        .bind(m.name.as_deref())
        .bind(m.group_name.as_str())
        .bind(m.connection_id.as_deref().unwrap_or(""))
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::NotFound(_) => StoreError::NotFound(format!("role {}", m.role_id)),
            e => e,
        })?;
        Ok(ConnectionMap { id, ..m.clone() })
    }

    pub async fn delete_connection_map(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        role_id: &str,
        map_id: i64,
    ) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM role_connection_maps WHERE tenant_id = $1 AND role_id = $2 AND id = $3")
            .bind(tid.as_str())
            .bind(role_id)
            .bind(map_id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }
}

#[derive(sqlx::FromRow)]
pub struct StsClientRow {
    tenant_id: String,
    client_id: String,
    description: Option<String>,
    permissions: String,
    created_by: Option<String>,
    modified_by: Option<String>,
    user_id: Option<String>,
    created_at: i64,
    modified_at: i64,
}

impl TryFrom<StsClientRow> for StsClient {
    type Error = StoreError;
    fn try_from(r: StsClientRow) -> Result<Self, StoreError> {
        Ok(StsClient {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            client_id: r.client_id,
            description: r.description,
            permissions: r.permissions,
            created_by: r.created_by,
            modified_by: r.modified_by,
            user_id: r.user_id,
            created_at: r.created_at,
            modified_at: r.modified_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct RoleRow {
    tenant_id: String,
    id: String,
    name: String,
    audience: String,
    description: Option<String>,
    permissions: String,
    created_at: i64,
}

impl TryFrom<RoleRow> for Role {
    type Error = StoreError;
    fn try_from(r: RoleRow) -> Result<Self, StoreError> {
        Ok(Role {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            id: r.id,
            name: r.name,
            audience: r.audience,
            description: r.description,
            permissions: r.permissions,
            connection_maps: Vec::new(),
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ConnectionMapRow {
    id: i64,
    role_id: String,
    name: Option<String>,
    group_name: String,
    connection_id: String,
}

impl TryFrom<ConnectionMapRow> for ConnectionMap {
    type Error = StoreError;
    fn try_from(r: ConnectionMapRow) -> Result<Self, StoreError> {
        Ok(ConnectionMap {
            id: r.id,
            role_id: r.role_id,
            name: r.name,
            group_name: r.group_name,
            connection_id: (!r.connection_id.is_empty()).then_some(r.connection_id),
        })
    }
}

/// Gives each role its connection maps (both lists as read, maps in id order).
pub fn attach_maps(mut roles: Vec<Role>, maps: Vec<ConnectionMap>) -> Vec<Role> {
    for m in maps {
        if let Some(r) = roles.iter_mut().find(|r| r.id == m.role_id) {
            r.connection_maps.push(m);
        }
    }
    roles
}
