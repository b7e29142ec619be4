//! Services and their APIs (Cloudentity ACP `/services`, `/apis`), written once for both
//! databases, with the import that replaces a service's APIs, policies and scopes in one
//! transaction and says which configuration it changed.

use castellan_domain::{Api, ServerId, Service, TenantId};
use castellan_store::{ConfigChange, ServiceImport, StoreError, StoreResult};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::{Dialect, Sql, corrupt, map_err, to_json};

/// The only parent of a service is its server.
fn missing_server(e: StoreError, s: &Service) -> StoreError {
    match e {
        StoreError::NotFound(_) => StoreError::NotFound(format!("server {}", s.server_id)),
        e => e,
    }
}

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
    ServiceRow: for<'r> FromRow<'r, DB::Row>,
    ApiRow: for<'r> FromRow<'r, DB::Row>,
{
    pub async fn list_services(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        server: Option<&ServerId>,
    ) -> StoreResult<Vec<Service>> {
        let sql = format!(
            "SELECT * FROM services WHERE tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR server_id = $2) \
             ORDER BY id{}",
            DB::BYTES
        );
        let rows: Vec<ServiceRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .bind(server.map(ServerId::as_str))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Service::try_from).collect()
    }

    pub async fn get_service(pool: &sqlx::Pool<DB>, tid: &TenantId, id: &str) -> StoreResult<Option<Service>> {
        let row: Option<ServiceRow> = sqlx::query_as("SELECT * FROM services WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        row.map(Service::try_from).transpose()
    }

    /// `NotFound` naming the server when it is not there.
    pub async fn create_service(tx: &mut Transaction<'static, DB>, s: &Service) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO services (tenant_id, id, server_id, name, description, gateway_id, with_specification, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s.tenant_id.as_str())
        .bind(s.id.as_str())
        .bind(s.server_id.as_str())
        .bind(s.name.as_str())
        .bind(s.description.as_deref())
        .bind(s.gateway_id.as_deref())
        .bind(s.with_specification)
        .bind(s.created_at)
        .execute(&mut **tx)
        .await
        .map_err(map_err)
        .map_err(|e| missing_server(e, s))?;
        Ok(())
    }

    /// `NotFound` when absent.
    pub async fn update_service(tx: &mut Transaction<'static, DB>, s: &Service) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE services SET name = $1, description = $2, gateway_id = $3, with_specification = $4 \
             WHERE tenant_id = $5 AND id = $6",
        )
        .bind(s.name.as_str())
        .bind(s.description.as_deref())
        .bind(s.gateway_id.as_deref())
        .bind(s.with_specification)
        .bind(s.tenant_id.as_str())
        .bind(s.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("service {}", s.id)));
        }
        Ok(())
    }

    pub async fn delete_service(tx: &mut Transaction<'static, DB>, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM services WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }

    pub async fn list_apis(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        service: Option<&str>,
        server: Option<&ServerId>,
    ) -> StoreResult<Vec<Api>> {
        let sql = format!(
            "SELECT * FROM apis WHERE tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR service_id = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR server_id = $3) ORDER BY service_id{}, position, id",
            DB::BYTES
        );
        let rows: Vec<ApiRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .bind(service)
            .bind(server.map(ServerId::as_str))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Api::try_from).collect()
    }

    pub async fn get_api(pool: &sqlx::Pool<DB>, tid: &TenantId, id: &str) -> StoreResult<Option<Api>> {
        let row: Option<ApiRow> = sqlx::query_as("SELECT * FROM apis WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        row.map(Api::try_from).transpose()
    }

    pub async fn insert_api(tx: &mut Transaction<'static, DB>, a: &Api) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO apis (tenant_id, id, service_id, server_id, method, path, position, policy_id, \
             data_classifications, can_have_policy, imported) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(a.tenant_id.as_str())
        .bind(a.id.as_str())
        .bind(a.service_id.as_str())
        .bind(a.server_id.as_str())
        .bind(a.method.as_str())
        .bind(a.path.as_str())
        .bind(a.position)
        .bind(a.policy_id.as_deref())
        .bind(to_json(&a.data_classifications)?)
        .bind(a.can_have_policy)
        .bind(a.imported)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    /// `NotFound` when absent.
    pub async fn update_api(tx: &mut Transaction<'static, DB>, a: &Api) -> StoreResult<()> {
        let r =
            sqlx::query("UPDATE apis SET policy_id = $1, data_classifications = $2 WHERE tenant_id = $3 AND id = $4")
                .bind(a.policy_id.as_deref())
                .bind(to_json(&a.data_classifications)?)
                .bind(a.tenant_id.as_str())
                .bind(a.id.as_str())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("API {}", a.id)));
        }
        Ok(())
    }

    pub async fn delete_api(tx: &mut Transaction<'static, DB>, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM apis WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }

    /// Applies an import in `tx`; returns the configuration it changed: the tenant's services
    /// always, its policies when policies were removed or written, the server when scopes were
    /// added. `NotFound` when the service is gone.
    pub async fn apply_service_import(
        tx: &mut Transaction<'static, DB>,
        imp: &ServiceImport,
    ) -> StoreResult<Vec<ConfigChange>> {
        let tid = &imp.service.tenant_id;
        for id in &imp.remove_apis {
            sqlx::query("DELETE FROM apis WHERE tenant_id = $1 AND id = $2 AND service_id = $3")
                .bind(tid.as_str())
                .bind(id.as_str())
                .bind(imp.service.id.as_str())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        }
        for id in &imp.remove_policies {
            sqlx::query("DELETE FROM policies WHERE tenant_id = $1 AND id = $2 AND NOT read_only")
                .bind(tid.as_str())
                .bind(id.as_str())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        }
        for p in &imp.policies {
            Self::insert_policy(tx, p).await?;
        }
        for sc in &imp.scopes {
            Self::insert_scope(tx, sc).await?;
        }
        for a in &imp.apis {
            Self::insert_api(tx, a).await?;
        }
        let r = sqlx::query(
            "UPDATE services SET with_specification = $1, gateway_id = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(imp.service.with_specification)
        .bind(imp.service.gateway_id.as_deref())
        .bind(tid.as_str())
        .bind(imp.service.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("service {}", imp.service.id)));
        }
        let mut changes = vec![ConfigChange::Services(tid.clone())];
        if !imp.remove_policies.is_empty() || !imp.policies.is_empty() {
            changes.push(ConfigChange::Policies(tid.clone()));
        }
        if !imp.scopes.is_empty() {
            changes.push(ConfigChange::Server(tid.clone(), imp.service.server_id.clone()));
        }
        Ok(changes)
    }
}

#[derive(sqlx::FromRow)]
pub struct ServiceRow {
    tenant_id: String,
    id: String,
    server_id: String,
    name: String,
    description: Option<String>,
    gateway_id: Option<String>,
    with_specification: bool,
    created_at: i64,
}

impl TryFrom<ServiceRow> for Service {
    type Error = StoreError;
    fn try_from(r: ServiceRow) -> Result<Self, StoreError> {
        Ok(Service {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            id: r.id,
            server_id: ServerId::parse(r.server_id).map_err(corrupt)?,
            name: r.name,
            description: r.description,
            gateway_id: r.gateway_id,
            with_specification: r.with_specification,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ApiRow {
    tenant_id: String,
    id: String,
    service_id: String,
    server_id: String,
    method: String,
    path: String,
    position: i64,
    policy_id: Option<String>,
    data_classifications: String,
    can_have_policy: bool,
    imported: bool,
}

impl TryFrom<ApiRow> for Api {
    type Error = StoreError;
    fn try_from(r: ApiRow) -> Result<Self, StoreError> {
        Ok(Api {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            id: r.id,
            service_id: r.service_id,
            server_id: ServerId::parse(r.server_id).map_err(corrupt)?,
            method: r.method,
            path: r.path,
            position: r.position,
            policy_id: r.policy_id,
            data_classifications: serde_json::from_str(&r.data_classifications).map_err(corrupt)?,
            can_have_policy: r.can_have_policy,
            imported: r.imported,
        })
    }
}
