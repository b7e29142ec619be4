//! The store traits implemented once for both databases: [`sql_store!`] writes every
//! `castellan_store` trait for an adapter type that implements [`Backend`]. Each write runs the
//! operation of [`Sql`](crate::Sql) in the adapter's write transaction, decides here — and only
//! here — which [`ConfigChange`]s it made, lets the backend announce them inside that transaction,
//! commits, and returns them to the writer.
//!
//! A macro rather than a generic `impl<B: Backend>`: the operations of `Sql` are generic under a
//! set of higher-ranked driver bounds that Rust does not carry from a trait to its users, so a
//! generic implementation would restate them on each of the twelve traits. The macro expands
//! with the concrete database type, where those bounds are simply true.

use async_trait::async_trait;
use castellan_store::{Changes, ConfigChange, StoreResult};
use sqlx::Transaction;
use tokio::sync::{MutexGuard, mpsc};

use crate::Dialect;

/// What one database adapter gives the operations written once here.
#[async_trait]
pub trait Backend: Send + Sync {
    type Db: Dialect;
    fn pool(&self) -> &sqlx::Pool<Self::Db>;
    /// A transaction that will write (SQLite takes the write lock up front: `BEGIN IMMEDIATE`).
    async fn write_tx(&self) -> StoreResult<Transaction<'static, Self::Db>>;
    /// A read transaction whose statements all see one snapshot of the database.
    async fn read_tx(&self) -> StoreResult<Transaction<'static, Self::Db>>;
    /// Tells the other processes sharing the database what the write in `tx` changed, delivered
    /// when it commits (PostgreSQL: `NOTIFY`). A database only this process writes does nothing.
    async fn announce(&self, tx: &mut Transaction<'static, Self::Db>, changes: &Changes) -> StoreResult<()>;
    /// Makes first-start bootstraps of several processes take turns inside `tx` (PostgreSQL:
    /// an advisory lock held until commit). SQLite's write transaction already serialises them.
    async fn bootstrap_turn(&self, tx: &mut Transaction<'static, Self::Db>) -> StoreResult<()>;
    /// This process's turn to append to a privacy ledger, taken before the write transaction
    /// (SQLite: an in-process queue, cheaper than colliding on the database's write lock;
    /// PostgreSQL: none, the append locks the ledger's head row).
    async fn ledger_turn(&self) -> Option<MutexGuard<'_, ()>>;
    /// The change feed of a database several processes share ([`castellan_store::Store::changes`]).
    async fn changes(&self) -> StoreResult<Option<mpsc::Receiver<ConfigChange>>>;
}

/// Implements every `castellan_store` trait for `$store` (a [`Backend`] whose database is `$db`).
#[macro_export]
macro_rules! sql_store {
    ($store:ty, $db:ty) => {
        const _: () = {
            use $crate::reexport::async_trait::async_trait;
            use $crate::reexport::castellan_domain::*;
            use $crate::reexport::castellan_store::*;
            use $crate::reexport::sqlx::Transaction;
            use $crate::{Backend, Sql, map_err};

            type Shared = Sql<$db>;

            impl $store {
                /// Announces `changes`, commits, and hands them to the writer.
                async fn commit_changes(
                    &self,
                    mut tx: Transaction<'static, $db>,
                    changes: Vec<ConfigChange>,
                ) -> StoreResult<Changes> {
                    let changes = Changes(changes);
                    self.announce(&mut tx, &changes).await?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(changes)
                }

                async fn commit(tx: Transaction<'static, $db>) -> StoreResult<()> {
                    tx.commit().await.map_err(map_err)
                }
            }

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

                async fn purge_expired(&self, now: UnixTime) -> StoreResult<u64> {
                    Shared::purge_expired(self.pool(), now).await
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
            }

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
                    Shared::create_consent_action(self.pool(), a).await
                }

                async fn update_consent_action(&self, a: &ConsentActionDef) -> StoreResult<()> {
                    Shared::update_consent_action(self.pool(), a).await
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

            #[async_trait]
            impl Store for $store {
                async fn ping(&self) -> StoreResult<()> {
                    $crate::reexport::sqlx::query("SELECT 1")
                        .execute(self.pool())
                        .await
                        .map_err(map_err)
                        .map(|_| ())
                }

                async fn create_tenant_seeded(&self, seed: &BootstrapSeed) -> StoreResult<Changes> {
                    let mut tx = self.write_tx().await?;
                    Shared::insert_seed(&mut tx, seed).await?;
                    self.commit_changes(tx, vec![ConfigChange::Tenant(seed.tenant.id.clone())])
                        .await
                }

                async fn key_check(&self) -> StoreResult<Option<Vec<u8>>> {
                    Shared::key_check(self.pool()).await
                }

                async fn bootstrap(&self, seed: &BootstrapSeed) -> StoreResult<Option<Changes>> {
                    let mut tx = self.write_tx().await?;
                    // Processes starting together queue here; the first writes, the others then
                    // see a tenant and write nothing.
                    self.bootstrap_turn(&mut tx).await?;
                    if !Shared::bootstrap(&mut tx, seed).await? {
                        return Ok(None);
                    }
                    self.commit_changes(tx, vec![ConfigChange::Tenant(seed.tenant.id.clone())])
                        .await
                        .map(Some)
                }

                async fn changes(
                    &self,
                ) -> StoreResult<Option<$crate::reexport::tokio::sync::mpsc::Receiver<ConfigChange>>> {
                    Backend::changes(self).await
                }
            }
        };
    };
}
