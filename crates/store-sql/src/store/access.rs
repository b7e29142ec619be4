//! Who may manage what, policies, and the privacy ledger: the store traits written once, expanded by [`sql_store!`](crate::sql_store).

/// Who may manage what, policies, and the privacy ledger (part of [`sql_store!`](crate::sql_store)).
#[doc(hidden)]
#[macro_export]
macro_rules! sql_store_access {
    ($store:ty, $db:ty) => {
        const _: () = {
            $crate::sql_store_prelude!($db);

            #[async_trait]
            impl AccessStore for $store {
                async fn list_sts_clients(&self, tid: &TenantId) -> StoreResult<Vec<StsClient>> {
                    Shared::list_sts_clients(self.pool(), tid).await
                }

                async fn get_sts_client(&self, tid: &TenantId, client_id: &str) -> StoreResult<Option<StsClient>> {
                    Shared::get_sts_client(self.pool(), tid, client_id).await
                }

                async fn create_sts_client(&self, c: &StsClient) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::create_sts_client(&mut tx, c).await?;
                    self.commit_changes(tx, vec![ConfigChange::Access(c.tenant_id.clone())])
                        .await
                }

                async fn update_sts_client(&self, c: &StsClient) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_sts_client(&mut tx, c).await?;
                    self.commit_changes(tx, vec![ConfigChange::Access(c.tenant_id.clone())])
                        .await
                }

                async fn delete_sts_client(&self, tid: &TenantId, client_id: &str) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    if !Shared::delete_sts_client(&mut tx, tid, client_id).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Access(tid.clone())])
                        .await
                        .map(Some)
                }

                async fn list_roles(&self, tid: &TenantId) -> StoreResult<Vec<Role>> {
                    Shared::list_roles(self.pool(), tid).await
                }

                async fn get_role(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Role>> {
                    Shared::get_role(self.pool(), tid, id).await
                }

                async fn create_role(&self, r: &Role) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::create_role(&mut tx, r).await?;
                    self.commit_changes(tx, vec![ConfigChange::Access(r.tenant_id.clone())])
                        .await
                }

                async fn update_role(&self, r: &Role) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_role(&mut tx, r).await?;
                    self.commit_changes(tx, vec![ConfigChange::Access(r.tenant_id.clone())])
                        .await
                }

                async fn delete_role(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    if !Shared::delete_role(&mut tx, tid, id).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Access(tid.clone())])
                        .await
                        .map(Some)
                }

                async fn add_connection_map(
                    &self,
                    tid: &TenantId,
                    m: &ConnectionMap,
                ) -> StoreResult<(ConnectionMap, Changes)> {
                    let mut tx = self.write_tx().await?;
                    let added = Shared::add_connection_map(&mut tx, tid, m).await?;
                    let changes = self
                        .commit_changes(tx, vec![ConfigChange::Access(tid.clone())])
                        .await?;
                    Ok((added, changes))
                }

                async fn delete_connection_map(
                    &self,
                    tid: &TenantId,
                    role_id: &str,
                    map_id: i64,
                ) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    if !Shared::delete_connection_map(&mut tx, tid, role_id, map_id).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Access(tid.clone())])
                        .await
                        .map(Some)
                }
            }

            #[async_trait]
            impl PolicyStore for $store {
                async fn list_policies(&self, tid: &TenantId) -> StoreResult<Vec<Policy>> {
                    Shared::list_policies(self.pool(), tid).await
                }

                async fn get_policy(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Policy>> {
                    Shared::get_policy(self.pool(), tid, id).await
                }

                async fn create_policy(&self, p: &Policy) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::insert_policy(&mut tx, p).await?;
                    self.commit_changes(tx, vec![ConfigChange::Policies(p.tenant_id.clone())])
                        .await
                }

                async fn update_policy(&self, p: &Policy) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_policy(&mut tx, p).await?;
                    self.commit_changes(tx, vec![ConfigChange::Policies(p.tenant_id.clone())])
                        .await
                }

                async fn delete_policy(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    if !Shared::delete_policy(&mut tx, tid, id).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Policies(tid.clone())])
                        .await
                        .map(Some)
                }
            }

            #[async_trait]
            impl PrivacyStore for $store {
                async fn list_privacy_consents(&self, tid: &TenantId) -> StoreResult<Vec<PrivacyConsent>> {
                    Shared::list_privacy_consents(self.pool(), tid).await
                }

                async fn get_privacy_consent(&self, tid: &TenantId, id: &str) -> StoreResult<Option<PrivacyConsent>> {
                    Shared::get_privacy_consent(self.pool(), tid, id).await
                }

                async fn delete_privacy_consent(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
                    let mut tx = self.write_tx().await?;
                    let deleted = Shared::delete_privacy_consent(&mut tx, tid, id).await?;
                    Self::commit(tx).await?;
                    Ok(deleted)
                }

                async fn list_consent_actions(&self, tid: &TenantId) -> StoreResult<Vec<ConsentActionDef>> {
                    Shared::list_consent_actions(self.pool(), tid).await
                }

                async fn get_consent_action(&self, tid: &TenantId, id: &str) -> StoreResult<Option<ConsentActionDef>> {
                    Shared::get_consent_action(self.pool(), tid, id).await
                }

                async fn create_consent_action(&self, a: &ConsentActionDef) -> StoreResult<()> {
                    let mut tx = self.write_tx().await?;
                    Shared::create_consent_action(&mut tx, a).await?;
                    Self::commit(tx).await
                }

                async fn update_consent_action(&self, a: &ConsentActionDef) -> StoreResult<()> {
                    let mut tx = self.write_tx().await?;
                    Shared::update_consent_action(&mut tx, a).await?;
                    Self::commit(tx).await
                }

                async fn delete_consent_action(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
                    Shared::delete_consent_action(self.pool(), tid, id).await
                }

                async fn list_subject_grants(&self, tid: &TenantId, subject: &str) -> StoreResult<Vec<ConsentGrant>> {
                    Shared::list_subject_grants(self.pool(), tid, subject).await
                }

                async fn list_consent_grants(
                    &self,
                    tid: &TenantId,
                    consent_id: &str,
                ) -> StoreResult<Vec<ConsentGrant>> {
                    Shared::list_consent_grants(self.pool(), tid, consent_id).await
                }

                async fn privacy_write(
                    &self,
                    tid: &TenantId,
                    w: &PrivacyWrite,
                    signer: &dyn LedgerSigner,
                ) -> StoreResult<Vec<LedgerEvent>> {
                    let _turn = self.ledger_turn().await;
                    let mut tx = self.write_tx().await?;
                    let events = Shared::privacy_write(&mut tx, tid, w, signer).await?;
                    Self::commit(tx).await?;
                    Ok(events)
                }

                async fn list_ledger_events(
                    &self,
                    tid: &TenantId,
                    subject: Option<&str>,
                    from: i64,
                    to: i64,
                ) -> StoreResult<Vec<LedgerEvent>> {
                    Shared::list_ledger_events(self.pool(), tid, subject, from, to).await
                }

                async fn ledger_chain(&self, tid: &TenantId) -> StoreResult<LedgerChain> {
                    Shared::ledger_chain(self.read_tx().await?, tid).await
                }

                async fn get_ledger_key(&self, tid: &TenantId) -> StoreResult<Option<LedgerKey>> {
                    Shared::get_ledger_key(self.pool(), tid).await
                }

                async fn create_ledger_key(&self, k: &LedgerKey) -> StoreResult<bool> {
                    Shared::create_ledger_key(self.pool(), k).await
                }
            }

            #[async_trait]
            impl AuditStore for $store {
                async fn append_audit(
                    &self,
                    tid: &TenantId,
                    e: &NewLedgerEvent,
                    signer: &dyn LedgerSigner,
                ) -> StoreResult<LedgerEvent> {
                    let _turn = self.ledger_turn().await;
                    let mut tx = self.write_tx().await?;
                    let mut events =
                        Shared::append_chain(&mut tx, $crate::AUDIT, tid, std::slice::from_ref(e), signer).await?;
                    Self::commit(tx).await?;
                    events
                        .pop()
                        .ok_or_else(|| StoreError::Corrupt("no event appended".into()))
                }

                async fn list_audit(&self, tid: &TenantId, f: &AuditFilter) -> StoreResult<Vec<LedgerEvent>> {
                    Shared::list_audit(self.pool(), tid, f).await
                }

                async fn audit_chain(&self, tid: &TenantId) -> StoreResult<LedgerChain> {
                    Shared::read_chain(self.read_tx().await?, $crate::AUDIT, tid).await
                }
            }
        };
    };
}
