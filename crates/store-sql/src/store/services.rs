//! Services, their APIs, and gateways: the store traits written once, expanded by [`sql_store!`](crate::sql_store).

/// Services, their APIs, and gateways (part of [`sql_store!`](crate::sql_store)).
#[doc(hidden)]
#[macro_export]
macro_rules! sql_store_services {
    ($store:ty, $db:ty) => {
        const _: () = {
            $crate::sql_store_prelude!($db);

            #[async_trait]
            impl ServiceStore for $store {
                async fn list_services(&self, tid: &TenantId, server: Option<&ServerId>) -> StoreResult<Vec<Service>> {
                    Shared::list_services(self.pool(), tid, server).await
                }

                async fn get_service(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Service>> {
                    Shared::get_service(self.pool(), tid, id).await
                }

                async fn create_service(&self, s: &Service) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::create_service(&mut tx, s).await?;
                    self.commit_changes(tx, vec![ConfigChange::Services(s.tenant_id.clone())])
                        .await
                }

                async fn update_service(&self, s: &Service) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_service(&mut tx, s).await?;
                    self.commit_changes(tx, vec![ConfigChange::Services(s.tenant_id.clone())])
                        .await
                }

                async fn delete_service(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    if !Shared::delete_service(&mut tx, tid, id).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Services(tid.clone())])
                        .await
                        .map(Some)
                }

                async fn list_apis(
                    &self,
                    tid: &TenantId,
                    service: Option<&str>,
                    server: Option<&ServerId>,
                ) -> StoreResult<Vec<Api>> {
                    Shared::list_apis(self.pool(), tid, service, server).await
                }

                async fn get_api(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Api>> {
                    Shared::get_api(self.pool(), tid, id).await
                }

                async fn create_api(&self, a: &Api) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::insert_api(&mut tx, a).await?;
                    self.commit_changes(tx, vec![ConfigChange::Services(a.tenant_id.clone())])
                        .await
                }

                async fn update_api(&self, a: &Api) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_api(&mut tx, a).await?;
                    self.commit_changes(tx, vec![ConfigChange::Services(a.tenant_id.clone())])
                        .await
                }

                async fn delete_api(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    if !Shared::delete_api(&mut tx, tid, id).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Services(tid.clone())])
                        .await
                        .map(Some)
                }

                async fn apply_service_import(&self, imp: &ServiceImport) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    let changes = Shared::apply_service_import(&mut tx, imp).await?;
                    self.commit_changes(tx, changes).await
                }
            }

            #[async_trait]
            impl GatewayStore for $store {
                async fn list_gateways(&self, tid: &TenantId, server: Option<&ServerId>) -> StoreResult<Vec<Gateway>> {
                    Shared::list_gateways(self.pool(), tid, server).await
                }

                async fn get_gateway(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Gateway>> {
                    Shared::get_gateway(self.pool(), tid, id).await
                }

                async fn create_gateway(&self, g: &Gateway, client: &Client) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::create_gateway(&mut tx, g, client).await?;
                    let changes = vec![
                        ConfigChange::Client(client.tenant_id.clone(), client.id.clone()),
                        ConfigChange::Services(g.tenant_id.clone()),
                    ];
                    self.commit_changes(tx, changes).await
                }

                async fn update_gateway(&self, g: &Gateway) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_gateway(&mut tx, g).await?;
                    self.commit_changes(tx, vec![ConfigChange::Services(g.tenant_id.clone())])
                        .await
                }

                async fn delete_gateway(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    if !Shared::delete_gateway(&mut tx, tid, id).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Services(tid.clone())])
                        .await
                        .map(Some)
                }

                async fn touch_gateway(&self, tid: &TenantId, id: &str, at: UnixTime) -> StoreResult<()> {
                    Shared::touch_gateway(self.pool(), tid, id, at).await
                }
            }
        };
    };
}
