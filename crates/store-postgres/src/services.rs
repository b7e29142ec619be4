//! [`ServiceStore`] on PostgreSQL. Every write announces [`ConfigChange::Services`] in its
//! transaction.

use async_trait::async_trait;
use castellan_domain::{Api, ServerId, Service, TenantId};
use castellan_store::{ConfigChange, ServiceImport, ServiceStore, StoreError, StoreResult};
use castellan_store_sql::{ApiRow, ServiceRow, to_json};

const SERVICE_COLS: &str = "tenant_id, id, server_id, name, description, gateway_id, with_specification, \
     created_at";

use crate::{PostgresStore, map_err, notify};

/// The only parent of a service is its server.
fn missing_server(e: StoreError, s: &Service) -> StoreError {
    match e {
        StoreError::NotFound(_) => StoreError::NotFound(format!("server {}", s.server_id)),
        e => e,
    }
}

impl PostgresStore {
    /// Runs one statement that changes the tenant's services or APIs, announcing it; the number
    /// of rows it changed.
    async fn service_write(
        &self,
        tid: &TenantId,
        q: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> StoreResult<u64> {
        let mut tx = self.tx().await?;
        let n = q.execute(&mut *tx).await.map_err(map_err)?.rows_affected();
        if n > 0 {
            notify(&mut tx, &ConfigChange::Services(tid.clone())).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(n)
    }
}

fn insert_api(a: &Api) -> StoreResult<sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>> {
    Ok(sqlx::query(
        "INSERT INTO apis (tenant_id, id, service_id, server_id, method, path, position, policy_id, \
         data_classifications, can_have_policy, imported) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
    .bind(a.imported))
}

#[async_trait]
impl ServiceStore for PostgresStore {
    async fn list_services(&self, tid: &TenantId, server: Option<&ServerId>) -> StoreResult<Vec<Service>> {
        let rows: Vec<ServiceRow> = sqlx::query_as(
            &format!("SELECT {SERVICE_COLS} FROM services WHERE tenant_id = $1 AND ($2::text IS NULL OR server_id = $3) ORDER BY id COLLATE \"C\""),
        )
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
            &format!("SELECT {SERVICE_COLS} FROM services WHERE tenant_id = $1 AND id = $2"),
            &[tid.as_str(), id],
        )
        .await
    }

    async fn create_service(&self, s: &Service) -> StoreResult<()> {
        self.service_write(
            &s.tenant_id,
            sqlx::query(
                "INSERT INTO services (tenant_id, id, server_id, name, description, gateway_id, with_specification, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(s.tenant_id.as_str())
            .bind(&s.id)
            .bind(s.server_id.as_str())
            .bind(&s.name)
            .bind(&s.description)
            .bind(&s.gateway_id)
            .bind(s.with_specification)
            .bind(s.created_at),
        )
        .await
        .map_err(|e| missing_server(e, s))?;
        Ok(())
    }

    async fn update_service(&self, s: &Service) -> StoreResult<()> {
        let n = self
            .service_write(
                &s.tenant_id,
                sqlx::query(
                    "UPDATE services SET name = $1, description = $2, gateway_id = $3, with_specification = $4 \
             WHERE tenant_id = $5 AND id = $6",
                )
                .bind(&s.name)
                .bind(&s.description)
                .bind(&s.gateway_id)
                .bind(s.with_specification)
                .bind(s.tenant_id.as_str())
                .bind(&s.id),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("service {}", s.id)));
        }
        Ok(())
    }

    async fn delete_service(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let n = self
            .service_write(
                tid,
                sqlx::query("DELETE FROM services WHERE tenant_id = $1 AND id = $2")
                    .bind(tid.as_str())
                    .bind(id),
            )
            .await?;
        Ok(n > 0)
    }

    async fn list_apis(
        &self,
        tid: &TenantId,
        service: Option<&str>,
        server: Option<&ServerId>,
    ) -> StoreResult<Vec<Api>> {
        let rows: Vec<ApiRow> = sqlx::query_as(
            "SELECT * FROM apis WHERE tenant_id = $1 AND ($2::text IS NULL OR service_id = $3) \
             AND ($4::text IS NULL OR server_id = $5) ORDER BY service_id COLLATE \"C\", position, id",
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
        self.fetch_opt::<ApiRow, _>(
            "SELECT * FROM apis WHERE tenant_id = $1 AND id = $2",
            &[tid.as_str(), id],
        )
        .await
    }

    async fn create_api(&self, a: &Api) -> StoreResult<()> {
        self.service_write(&a.tenant_id, insert_api(a)?).await?;
        Ok(())
    }

    async fn update_api(&self, a: &Api) -> StoreResult<()> {
        let n = self
            .service_write(
                &a.tenant_id,
                sqlx::query(
                    "UPDATE apis SET policy_id = $1, data_classifications = $2 WHERE tenant_id = $3 AND id = $4",
                )
                .bind(&a.policy_id)
                .bind(to_json(&a.data_classifications)?)
                .bind(a.tenant_id.as_str())
                .bind(&a.id),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("API {}", a.id)));
        }
        Ok(())
    }

    async fn delete_api(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let n = self
            .service_write(
                tid,
                sqlx::query("DELETE FROM apis WHERE tenant_id = $1 AND id = $2")
                    .bind(tid.as_str())
                    .bind(id),
            )
            .await?;
        Ok(n > 0)
    }

    async fn apply_service_import(&self, imp: &ServiceImport) -> StoreResult<()> {
        let tid = &imp.service.tenant_id;
        let mut tx = self.tx().await?;
        for id in &imp.remove_apis {
            sqlx::query("DELETE FROM apis WHERE tenant_id = $1 AND id = $2 AND service_id = $3")
                .bind(tid.as_str())
                .bind(id)
                .bind(&imp.service.id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        for id in &imp.remove_policies {
            sqlx::query("DELETE FROM policies WHERE tenant_id = $1 AND id = $2 AND NOT read_only")
                .bind(tid.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        for p in &imp.policies {
            castellan_store_sql::Sql::<sqlx::Postgres>::insert_policy(&mut tx, p).await?;
        }
        for sc in &imp.scopes {
            crate::insert_scope(&mut tx, sc).await?;
        }
        for a in &imp.apis {
            insert_api(a)?.execute(&mut *tx).await.map_err(map_err)?;
        }
        let r = sqlx::query(
            "UPDATE services SET with_specification = $1, gateway_id = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(imp.service.with_specification)
        .bind(&imp.service.gateway_id)
        .bind(tid.as_str())
        .bind(&imp.service.id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("service {}", imp.service.id)));
        }
        notify(&mut tx, &ConfigChange::Services(tid.clone())).await?;
        if !imp.remove_policies.is_empty() || !imp.policies.is_empty() {
            notify(&mut tx, &ConfigChange::Policies(tid.clone())).await?;
        }
        if !imp.scopes.is_empty() {
            notify(
                &mut tx,
                &ConfigChange::Server(tid.clone(), imp.service.server_id.clone()),
            )
            .await?;
        }
        tx.commit().await.map_err(map_err)
    }
}
