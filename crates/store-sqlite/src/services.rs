//! [`ServiceStore`] on SQLite.

use async_trait::async_trait;
use castellan_domain::{Api, ServerId, Service, TenantId};
use castellan_store::{ServiceImport, ServiceStore, StoreError, StoreResult};
use castellan_store_sql::{ApiRow, ServiceRow, to_json};

use crate::{SqliteStore, map_err};

/// The only parent of a service is its server.
fn missing_server(e: StoreError, s: &Service) -> StoreError {
    match e {
        StoreError::NotFound(_) => StoreError::NotFound(format!("server {}", s.server_id)),
        e => e,
    }
}

async fn insert_api<'e, E: sqlx::SqliteExecutor<'e>>(e: E, a: &Api) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO apis (tenant_id, id, service_id, server_id, method, path, position, policy_id, \
         data_classifications, can_have_policy, imported) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(a.tenant_id.as_str())
    .bind(&a.id)
    .bind(&a.service_id)
    .bind(a.server_id.as_str())
    .bind(&a.method)
    .bind(&a.path)
    .bind(a.position)
    .bind(&a.policy_id)
    .bind(to_json(&a.data_classifications)?)
    .bind(a.can_have_policy)
    .bind(a.imported)
    .execute(e)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl ServiceStore for SqliteStore {
    async fn list_services(&self, tid: &TenantId, server: Option<&ServerId>) -> StoreResult<Vec<Service>> {
        let rows: Vec<ServiceRow> =
            sqlx::query_as("SELECT * FROM services WHERE tenant_id = ? AND (? IS NULL OR server_id = ?) ORDER BY id")
                .bind(tid.as_str())
                .bind(server.map(ServerId::as_str))
                .bind(server.map(ServerId::as_str))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
        rows.into_iter().map(Service::try_from).collect()
    }

    async fn get_service(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Service>> {
        self.fetch_opt::<ServiceRow, _>(
            "SELECT * FROM services WHERE tenant_id = ? AND id = ?",
            &[tid.as_str(), id],
        )
        .await
    }

    async fn create_service(&self, s: &Service) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO services (tenant_id, id, server_id, name, description, gateway_id, with_specification, \
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(s.tenant_id.as_str())
        .bind(&s.id)
        .bind(s.server_id.as_str())
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.gateway_id)
        .bind(s.with_specification)
        .bind(s.created_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)
        .map_err(|e| missing_server(e, s))?;
        Ok(())
    }

    async fn update_service(&self, s: &Service) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE services SET name = ?, description = ?, gateway_id = ?, with_specification = ? \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.gateway_id)
        .bind(s.with_specification)
        .bind(s.tenant_id.as_str())
        .bind(&s.id)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("service {}", s.id)));
        }
        Ok(())
    }

    async fn delete_service(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM services WHERE tenant_id = ? AND id = ?")
            .bind(tid.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_apis(
        &self,
        tid: &TenantId,
        service: Option<&str>,
        server: Option<&ServerId>,
    ) -> StoreResult<Vec<Api>> {
        let rows: Vec<ApiRow> = sqlx::query_as(
            "SELECT * FROM apis WHERE tenant_id = ? AND (? IS NULL OR service_id = ?) \
             AND (? IS NULL OR server_id = ?) ORDER BY service_id, position, id",
        )
        .bind(tid.as_str())
        .bind(service)
        .bind(service)
        .bind(server.map(ServerId::as_str))
        .bind(server.map(ServerId::as_str))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.into_iter().map(Api::try_from).collect()
    }

    async fn get_api(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Api>> {
        self.fetch_opt::<ApiRow, _>("SELECT * FROM apis WHERE tenant_id = ? AND id = ?", &[tid.as_str(), id])
            .await
    }

    async fn create_api(&self, a: &Api) -> StoreResult<()> {
        insert_api(&self.pool, a).await
    }

    async fn update_api(&self, a: &Api) -> StoreResult<()> {
        let r = sqlx::query("UPDATE apis SET policy_id = ?, data_classifications = ? WHERE tenant_id = ? AND id = ?")
            .bind(&a.policy_id)
            .bind(to_json(&a.data_classifications)?)
            .bind(a.tenant_id.as_str())
            .bind(&a.id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("API {}", a.id)));
        }
        Ok(())
    }

    async fn delete_api(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM apis WHERE tenant_id = ? AND id = ?")
            .bind(tid.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn apply_service_import(&self, imp: &ServiceImport) -> StoreResult<()> {
        let tid = imp.service.tenant_id.as_str();
        let mut tx = self.write_tx().await?;
        for id in &imp.remove_apis {
            sqlx::query("DELETE FROM apis WHERE tenant_id = ? AND id = ? AND service_id = ?")
                .bind(tid)
                .bind(id)
                .bind(&imp.service.id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        for id in &imp.remove_policies {
            sqlx::query("DELETE FROM policies WHERE tenant_id = ? AND id = ? AND NOT read_only")
                .bind(tid)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        for p in &imp.policies {
            castellan_store_sql::Sql::<sqlx::Sqlite>::insert_policy(&mut tx, p).await?;
        }
        for sc in &imp.scopes {
            crate::insert_scope(&mut *tx, sc).await?;
        }
        for a in &imp.apis {
            insert_api(&mut *tx, a).await?;
        }
        let r =
            sqlx::query("UPDATE services SET with_specification = ?, gateway_id = ? WHERE tenant_id = ? AND id = ?")
                .bind(imp.service.with_specification)
                .bind(&imp.service.gateway_id)
                .bind(tid)
                .bind(&imp.service.id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("service {}", imp.service.id)));
        }
        tx.commit().await.map_err(map_err)
    }
}
