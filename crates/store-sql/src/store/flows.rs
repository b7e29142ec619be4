//! Revocations, codes, grants, refresh tokens, consents and sessions: the store traits written once, expanded by [`sql_store!`](crate::sql_store).

/// Revocations, codes, grants, refresh tokens, consents and sessions (part of [`sql_store!`](crate::sql_store)).
#[doc(hidden)]
#[macro_export]
macro_rules! sql_store_flows {
    ($store:ty, $db:ty) => {
        const _: () = {
            $crate::sql_store_prelude!($db);

            #[async_trait]
            impl TokenStore for $store {
                async fn revoke_token(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    jti: &str,
                    expires_at: UnixTime,
                ) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::insert_revocation(&mut tx, tid, aid, jti, expires_at).await?;
                    // Every process keeps the revocations in its snapshot of the server.
                    self.commit_changes(tx, vec![ConfigChange::Revoked(tid.clone(), aid.clone())])
                        .await
                }

                async fn list_revoked(&self, tid: &TenantId, now: UnixTime) -> StoreResult<Vec<(ServerId, String)>> {
                    Shared::list_revoked(self.pool(), tid, now).await
                }

                async fn list_cutoffs(&self, tid: &TenantId, now: UnixTime) -> StoreResult<Vec<TokenCutoff>> {
                    Shared::list_cutoffs(self.pool(), tid, now).await
                }

                async fn use_assertion_id(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    jti: &str,
                    expires_at: UnixTime,
                ) -> StoreResult<bool> {
                    Shared::use_assertion_id(self.pool(), tid, aid, jti, expires_at).await
                }

                async fn purge_expired_in_batches(
                    &self,
                    now: UnixTime,
                    pace: PurgePace,
                ) -> StoreResult<Option<Purged>> {
                    let Some(mut turn) = self.purge_turn().await? else {
                        return Ok(None);
                    };
                    let purged = Shared::purge_expired(&mut *turn.conn, now, pace).await;
                    self.end_purge(turn).await;
                    purged.map(Some)
                }
            }

            #[async_trait]
            impl FlowStore for $store {
                async fn save_code(&self, tid: &TenantId, c: &CodeRecord) -> StoreResult<()> {
                    Shared::save_code(self.pool(), tid, c).await
                }

                async fn get_code(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    hash: &str,
                ) -> StoreResult<Option<CodeRecord>> {
                    Shared::get_code(self.pool(), tid, aid, hash).await
                }

                async fn redeem_code(
                    &self,
                    tid: &TenantId,
                    hash: &str,
                    now: UnixTime,
                    issued: &IssuedTokens,
                ) -> StoreResult<bool> {
                    let mut tx = self.write_tx().await?;
                    let redeemed = Shared::redeem_code(&mut tx, tid, hash, now, issued).await?;
                    if redeemed {
                        Self::commit(tx).await?;
                    }
                    Ok(redeemed)
                }

                async fn record_grant(&self, tid: &TenantId, issued: &IssuedTokens) -> StoreResult<()> {
                    let mut tx = self.write_tx().await?;
                    Shared::record_grant(&mut tx, tid, issued).await?;
                    Self::commit(tx).await
                }

                async fn get_refresh(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    hash: &str,
                ) -> StoreResult<Option<RefreshRecord>> {
                    Shared::get_refresh(self.pool(), tid, aid, hash).await
                }

                async fn rotate_refresh(
                    &self,
                    tid: &TenantId,
                    hash: &str,
                    now: UnixTime,
                    issued: &IssuedTokens,
                ) -> StoreResult<bool> {
                    let mut tx = self.write_tx().await?;
                    let rotated = Shared::rotate_refresh(&mut tx, tid, hash, now, issued).await?;
                    if rotated {
                        Self::commit(tx).await?;
                    }
                    Ok(rotated)
                }

                async fn revoke_grant(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    grant_id: &str,
                    now: UnixTime,
                ) -> StoreResult<Vec<String>> {
                    let mut tx = self.write_tx().await?;
                    let revoked = Shared::revoke_grant(&mut tx, tid, aid, grant_id, now).await?;
                    // The caller adds the returned ids to its own snapshot; the others reload.
                    self.commit_changes(tx, vec![ConfigChange::Revoked(tid.clone(), aid.clone())])
                        .await?;
                    Ok(revoked)
                }

                async fn get_consent(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    cid: &ClientId,
                    subject: &str,
                ) -> StoreResult<Option<Vec<String>>> {
                    Shared::get_consent(self.pool(), tid, aid, cid, subject).await
                }

                async fn save_consent(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    cid: &ClientId,
                    subject: &str,
                    scopes: &[String],
                    now: UnixTime,
                ) -> StoreResult<()> {
                    Shared::save_consent(self.pool(), tid, aid, cid, subject, scopes, now).await
                }

                async fn create_session(&self, tid: &TenantId, s: &SessionRecord) -> StoreResult<()> {
                    Shared::create_session(self.pool(), tid, s).await
                }

                async fn get_session(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    id_hash: &str,
                ) -> StoreResult<Option<SessionRecord>> {
                    Shared::get_session(self.pool(), tid, aid, id_hash).await
                }

                async fn delete_session(&self, tid: &TenantId, aid: &ServerId, id_hash: &str) -> StoreResult<bool> {
                    Shared::delete_session(self.pool(), tid, aid, id_hash).await
                }

                async fn end_subjects(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    subjects: &[String],
                    now: UnixTime,
                ) -> StoreResult<Vec<String>> {
                    let mut tx = self.write_tx().await?;
                    let revoked = Shared::end_subjects(&mut tx, tid, aid, subjects, now).await?;
                    self.commit_changes(tx, vec![ConfigChange::Revoked(tid.clone(), aid.clone())])
                        .await?;
                    Ok(revoked)
                }

                async fn link_person(&self, tid: &TenantId, p: &PersonRecord) -> StoreResult<String> {
                    Shared::link_person(self.pool(), tid, p).await
                }

                async fn get_person(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    subject: &str,
                ) -> StoreResult<Option<PersonRecord>> {
                    Shared::get_person(self.pool(), tid, aid, subject).await
                }

                async fn save_pending_login(&self, tid: &TenantId, p: &PendingLogin) -> StoreResult<()> {
                    Shared::save_pending_login(self.pool(), tid, p).await
                }

                async fn get_pending_login(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    id_hash: &str,
                    now: UnixTime,
                ) -> StoreResult<Option<PendingLogin>> {
                    Shared::get_pending_login(self.pool(), tid, aid, id_hash, now).await
                }

                async fn answer_pending_login(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    id_hash: &str,
                    result: &str,
                    now: UnixTime,
                ) -> StoreResult<bool> {
                    Shared::answer_pending_login(self.pool(), tid, aid, id_hash, result, now).await
                }

                async fn take_pending_login(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    id_hash: &str,
                    now: UnixTime,
                ) -> StoreResult<Option<PendingLogin>> {
                    Shared::take_pending_login(self.pool(), tid, aid, id_hash, now).await
                }

                async fn save_device(&self, tid: &TenantId, d: &DeviceRecord) -> StoreResult<bool> {
                    Shared::save_device(self.pool(), tid, d).await
                }

                async fn get_device(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    device_hash: &str,
                ) -> StoreResult<Option<DeviceRecord>> {
                    Shared::get_device(self.pool(), tid, aid, device_hash).await
                }

                async fn find_device_by_user_code(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    user_hash: &str,
                    now: UnixTime,
                ) -> StoreResult<Option<DeviceRecord>> {
                    Shared::find_device_by_user_code(self.pool(), tid, aid, user_hash, now).await
                }

                async fn settle_device(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    device_hash: &str,
                    status: DeviceStatus,
                    keep_until: UnixTime,
                    now: UnixTime,
                ) -> StoreResult<bool> {
                    Shared::settle_device(self.pool(), tid, aid, device_hash, status, keep_until, now).await
                }

                async fn record_device_poll(
                    &self,
                    tid: &TenantId,
                    aid: &ServerId,
                    device_hash: &str,
                    polled_at: UnixTime,
                    interval: i64,
                ) -> StoreResult<()> {
                    Shared::record_device_poll(self.pool(), tid, aid, device_hash, polled_at, interval).await
                }
            }
        };
    };
}
