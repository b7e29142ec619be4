//! Tenants, servers, clients, scopes and claims: the store traits written once, expanded by [`sql_store!`](crate::sql_store).

/// Tenants, servers, clients, scopes and claims (part of [`sql_store!`](crate::sql_store)).
#[doc(hidden)]
#[macro_export]
macro_rules! sql_store_config {
    ($store:ty, $db:ty) => {
        const _: () = {
            $crate::sql_store_prelude!($db);

            #[async_trait]
            impl TenantStore for $store {
                async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
                    Shared::get_tenant(self.pool(), id).await
                }

                async fn list_tenant_ids(&self) -> StoreResult<Vec<TenantId>> {
                    Shared::list_tenant_ids(self.pool()).await
                }

                async fn create_tenant(&self, t: &Tenant) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::insert_tenant(&mut tx, t).await?;
                    self.commit_changes(tx, vec![ConfigChange::Tenant(t.id.clone())])
                        .await
                }

                async fn update_tenant(&self, t: &Tenant) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_tenant(&mut tx, t).await?;
                    self.commit_changes(tx, vec![ConfigChange::Tenant(t.id.clone())])
                        .await
                }
            }

            #[async_trait]
            impl ServerStore for $store {
                async fn list_servers(&self, tid: &TenantId) -> StoreResult<Vec<AuthorizationServer>> {
                    Shared::list_servers(self.pool(), tid).await
                }

                async fn get_server(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Option<AuthorizationServer>> {
                    Shared::get_server(self.pool(), tid, aid).await
                }

                async fn create_server(
                    &self,
                    s: &AuthorizationServer,
                    keys: &[SigningKey],
                    scopes: &[Scope],
                ) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::insert_server(&mut tx, s, keys).await?;
                    for sc in scopes {
                        Shared::insert_scope(&mut tx, sc).await?;
                    }
                    self.commit_changes(tx, vec![ConfigChange::Tenant(s.tenant_id.clone())])
                        .await
                }

                async fn update_server(
                    &self,
                    s: &AuthorizationServer,
                    keys: Option<&[SigningKey]>,
                ) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_server(&mut tx, s, keys).await?;
                    self.commit_changes(tx, vec![ConfigChange::Server(s.tenant_id.clone(), s.id.clone())])
                        .await
                }

                async fn delete_server(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    now: UnixTime,
                    keep_until: UnixTime,
                ) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    if !Shared::delete_server(&mut tx, tid, aid, now, keep_until).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Tenant(tid.clone())])
                        .await
                        .map(Some)
                }

                async fn list_keys(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<SigningKey>> {
                    Shared::list_keys(self.pool(), tid, aid).await
                }

                async fn replace_keys(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    expected: &[SigningKey],
                    keys: &[SigningKey],
                ) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    if !Shared::replace_keys(&mut tx, tid, aid, expected, keys).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Server(tid.clone(), aid.clone())])
                        .await
                        .map(Some)
                }
            }

            #[async_trait]
            impl ClientStore for $store {
                async fn get_client(&self, tid: &TenantId, cid: &ClientId) -> StoreResult<Option<Client>> {
                    Shared::get_client(self.pool(), tid, cid).await
                }

                async fn list_clients(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Client>> {
                    Shared::list_clients(self.pool(), tid, Some(aid)).await
                }

                async fn create_client(&self, c: &Client) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::insert_client(&mut tx, c).await?;
                    self.commit_changes(tx, vec![ConfigChange::Client(c.tenant_id.clone(), c.id.clone())])
                        .await
                }

                async fn create_clients(&self, clients: &[Client]) -> StoreResult<Changes> {
                    // New clients are not cached anywhere yet: nothing changed in any snapshot.
                    let mut tx = self.write_tx().await?;
                    for c in clients {
                        Shared::insert_client(&mut tx, c).await?;
                    }
                    self.commit_changes(tx, Vec::new()).await
                }

                async fn update_client(&self, c: &Client) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_client(&mut tx, c).await?;
                    self.commit_changes(tx, vec![ConfigChange::Client(c.tenant_id.clone(), c.id.clone())])
                        .await
                }

                async fn delete_client(
                    &self,
                    tid: &TenantId,
                    cid: &ClientId,
                    now: UnixTime,
                    keep_until: UnixTime,
                ) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    let Some(aid) = Shared::delete_client(&mut tx, tid, cid, now, keep_until).await? else {
                        return Ok(None);
                    };
                    // The client goes, and its server's revocations and cutoffs are reloaded. Grants
                    // of this client at other servers cannot exist (a client belongs to one server).
                    let changes = vec![
                        ConfigChange::Client(tid.clone(), cid.clone()),
                        ConfigChange::Revoked(tid.clone(), aid),
                    ];
                    self.commit_changes(tx, changes).await.map(Some)
                }

                async fn list_tenant_clients_after(
                    &self,
                    tid: &TenantId,
                    after: Option<&ClientId>,
                    limit: u32,
                ) -> StoreResult<Vec<Client>> {
                    Shared::list_clients_after(self.pool(), tid, after, i64::from(limit)).await
                }

                async fn list_tenant_clients(&self, tid: &TenantId) -> StoreResult<Vec<Client>> {
                    Shared::list_clients(self.pool(), tid, None).await
                }
            }

            #[async_trait]
            impl ScopeStore for $store {
                async fn get_scope(&self, tid: &TenantId, id: &ScopeId) -> StoreResult<Option<Scope>> {
                    Shared::get_scope(self.pool(), tid, id).await
                }

                async fn list_scopes(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Scope>> {
                    Shared::list_scopes(self.pool(), tid, Some(aid)).await
                }

                async fn list_tenant_scopes(&self, tid: &TenantId) -> StoreResult<Vec<Scope>> {
                    Shared::list_scopes(self.pool(), tid, None).await
                }

                async fn create_scope(&self, sc: &Scope) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::insert_scope(&mut tx, sc).await?;
                    let server = ConfigChange::Server(sc.tenant_id.clone(), sc.server_id.clone());
                    self.commit_changes(tx, vec![server]).await
                }

                async fn update_scope(&self, sc: &Scope) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_scope(&mut tx, sc).await?;
                    let server = ConfigChange::Server(sc.tenant_id.clone(), sc.server_id.clone());
                    self.commit_changes(tx, vec![server]).await
                }

                async fn delete_scope(&self, tid: &TenantId, id: &ScopeId) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    let Some(aid) = Shared::delete_scope(&mut tx, tid, id).await? else {
                        return Ok(None);
                    };
                    // The server's change also drops its cached clients, which lost the scope.
                    self.commit_changes(tx, vec![ConfigChange::Server(tid.clone(), aid)])
                        .await
                        .map(Some)
                }
            }

            #[async_trait]
            impl ClaimStore for $store {
                async fn get_claim(&self, tid: &TenantId, id: &ClaimId) -> StoreResult<Option<Claim>> {
                    Shared::get_claim(self.pool(), tid, id).await
                }

                async fn list_claims(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Claim>> {
                    Shared::list_claims(self.pool(), tid, Some(aid)).await
                }

                async fn list_tenant_claims(&self, tid: &TenantId) -> StoreResult<Vec<Claim>> {
                    Shared::list_claims(self.pool(), tid, None).await
                }

                async fn create_claim(&self, c: &Claim) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::create_claim(&mut tx, c).await?;
                    let server = ConfigChange::Server(c.tenant_id.clone(), c.server_id.clone());
                    self.commit_changes(tx, vec![server]).await
                }

                async fn update_claim(&self, c: &Claim) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_claim(&mut tx, c).await?;
                    let server = ConfigChange::Server(c.tenant_id.clone(), c.server_id.clone());
                    self.commit_changes(tx, vec![server]).await
                }

                async fn delete_claim(&self, tid: &TenantId, id: &ClaimId) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    let Some(aid) = Shared::delete_claim(&mut tx, tid, id).await? else {
                        return Ok(None);
                    };
                    self.commit_changes(tx, vec![ConfigChange::Server(tid.clone(), aid)])
                        .await
                        .map(Some)
                }
            }
        };
    };
}
