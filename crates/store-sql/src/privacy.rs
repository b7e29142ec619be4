//! The privacy aggregate (consents, consent actions, subjects' grants, the signed ledger and its
//! key), written once for both databases. The adapters own their transactions — how a write
//! transaction begins is the one thing the databases do differently here — and call these.
//!
//! The ledger's invariant: a tenant's events carry the sequence 1, 2, 3… with no gap or repeat,
//! each signed over a link that hashes the previous signature. An append therefore reads the
//! tenant's head and writes it back in the same transaction, with the head row locked
//! ([`Dialect::FOR_UPDATE`]): concurrent appends, from any node, queue behind each other.

use castellan_domain::{
    ConsentActionDef, ConsentGrant, LedgerChain, LedgerEvent, LedgerKey, LedgerLink, NewLedgerEvent, PrivacyConsent,
    TenantId,
};
use castellan_store::{LedgerSigner, PrivacyWrite, StoreError, StoreResult};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::{Dialect, Sql, corrupt, map_err, to_json};

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
    PrivacyConsentRow: for<'r> FromRow<'r, DB::Row>,
    ConsentActionRow: for<'r> FromRow<'r, DB::Row>,
    ConsentGrantRow: for<'r> FromRow<'r, DB::Row>,
    LedgerEventRow: for<'r> FromRow<'r, DB::Row>,
    LedgerKeyRow: for<'r> FromRow<'r, DB::Row>,
    (i64, String): for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    pub async fn list_privacy_consents(pool: &sqlx::Pool<DB>, tid: &TenantId) -> StoreResult<Vec<PrivacyConsent>> {
        let sql = format!(
            "SELECT * FROM privacy_consents WHERE tenant_id = $1 ORDER BY id{}",
            DB::BYTES
        );
        let rows: Vec<PrivacyConsentRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(PrivacyConsent::try_from).collect()
    }

    pub async fn get_privacy_consent(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        id: &str,
    ) -> StoreResult<Option<PrivacyConsent>> {
        let row: Option<PrivacyConsentRow> =
            sqlx::query_as("SELECT * FROM privacy_consents WHERE tenant_id = $1 AND id = $2")
                .bind(tid.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
        row.map(PrivacyConsent::try_from).transpose()
    }

    /// Deletes the consent and its grants inside `tx` (the caller commits); its ledger events stay.
    pub async fn delete_privacy_consent(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        id: &str,
    ) -> StoreResult<bool> {
        sqlx::query("DELETE FROM consent_grants WHERE tenant_id = $1 AND consent_id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        let r = sqlx::query("DELETE FROM privacy_consents WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }

    pub async fn list_consent_actions(pool: &sqlx::Pool<DB>, tid: &TenantId) -> StoreResult<Vec<ConsentActionDef>> {
        let sql = format!(
            "SELECT * FROM consent_actions WHERE tenant_id = $1 ORDER BY id{}",
            DB::BYTES
        );
        let rows: Vec<ConsentActionRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(ConsentActionDef::try_from).collect()
    }

    pub async fn get_consent_action(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        id: &str,
    ) -> StoreResult<Option<ConsentActionDef>> {
        let row: Option<ConsentActionRow> =
            sqlx::query_as("SELECT * FROM consent_actions WHERE tenant_id = $1 AND id = $2")
                .bind(tid.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(map_err)?;
        row.map(ConsentActionDef::try_from).transpose()
    }

    /// `Conflict` when its id exists.
    pub async fn create_consent_action(tx: &mut Transaction<'static, DB>, a: &ConsentActionDef) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO consent_actions (tenant_id, id, name, description, consents) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(a.tenant_id.as_str())
        .bind(a.id.as_str())
        .bind(a.name.as_str())
        .bind(a.description.as_deref())
        .bind(to_json(&a.consents)?)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    /// `NotFound` when absent.
    pub async fn update_consent_action(tx: &mut Transaction<'static, DB>, a: &ConsentActionDef) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE consent_actions SET name = $1, description = $2, consents = $3 WHERE tenant_id = $4 AND id = $5",
        )
        .bind(a.name.as_str())
        .bind(a.description.as_deref())
        .bind(to_json(&a.consents)?)
        .bind(a.tenant_id.as_str())
        .bind(a.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("consent action {}", a.id)));
        }
        Ok(())
    }

    pub async fn delete_consent_action(pool: &sqlx::Pool<DB>, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM consent_actions WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(pool)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }

    pub async fn list_subject_grants(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        subject: &str,
    ) -> StoreResult<Vec<ConsentGrant>> {
        let sql = format!(
            "SELECT * FROM consent_grants WHERE tenant_id = $1 AND subject = $2 ORDER BY consent_id{}",
            DB::BYTES
        );
        Self::grants(pool, &sql, tid, subject).await
    }

    pub async fn list_consent_grants(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        consent_id: &str,
    ) -> StoreResult<Vec<ConsentGrant>> {
        let sql = format!(
            "SELECT * FROM consent_grants WHERE tenant_id = $1 AND consent_id = $2 ORDER BY subject{}",
            DB::BYTES
        );
        Self::grants(pool, &sql, tid, consent_id).await
    }

    async fn grants(pool: &sqlx::Pool<DB>, sql: &str, tid: &TenantId, by: &str) -> StoreResult<Vec<ConsentGrant>> {
        let rows: Vec<ConsentGrantRow> = sqlx::query_as(sql)
            .bind(tid.as_str())
            .bind(by)
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(ConsentGrant::try_from).collect()
    }

    /// Creates a consent (`Conflict` when its id exists) or, with `update`, replaces it
    /// (`NotFound` when absent), in `tx`.
    pub async fn write_privacy_consent(
        tx: &mut Transaction<'static, DB>,
        c: &PrivacyConsent,
        update: bool,
    ) -> StoreResult<()> {
        let doc = to_json(&c.doc)?;
        if update {
            let r = sqlx::query(
                "UPDATE privacy_consents SET version = $1, can_be_withdrawn = $2, update_existing_grants = $3, \
                 doc = $4 WHERE tenant_id = $5 AND id = $6",
            )
            .bind(c.version)
            .bind(c.can_be_withdrawn)
            .bind(c.update_existing_grants.as_str())
            .bind(doc)
            .bind(c.tenant_id.as_str())
            .bind(c.id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
            if DB::rows_affected(&r) == 0 {
                return Err(StoreError::NotFound(format!("consent {}", c.id)));
            }
        } else {
            sqlx::query(
                "INSERT INTO privacy_consents (tenant_id, id, version, can_be_withdrawn, update_existing_grants, doc) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(c.tenant_id.as_str())
            .bind(c.id.as_str())
            .bind(c.version)
            .bind(c.can_be_withdrawn)
            .bind(c.update_existing_grants.as_str())
            .bind(doc)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        }
        Ok(())
    }

    /// A consent created or replaced, grants set and ledger events appended, inside `tx` (a write
    /// transaction; the caller commits). Returns the events as appended, signed.
    pub async fn privacy_write(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        w: &PrivacyWrite,
        signer: &dyn LedgerSigner,
    ) -> StoreResult<Vec<LedgerEvent>> {
        if let Some(c) = &w.consent {
            Self::write_privacy_consent(tx, c, w.update).await?;
        }
        for g in &w.grants {
            sqlx::query(
                "INSERT INTO consent_grants (tenant_id, subject, consent_id, version, granted, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, subject, consent_id) DO UPDATE SET \
                 version = excluded.version, granted = excluded.granted, updated_at = excluded.updated_at",
            )
            .bind(tid.as_str())
            .bind(g.subject.as_str())
            .bind(g.consent_id.as_str())
            .bind(g.version)
            .bind(g.granted)
            .bind(g.updated_at)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        }
        Self::append_chain(tx, PRIVACY, tid, &w.events, signer).await
    }

    /// Appends `events` to the tenant's `chain` inside `tx` (a write transaction; the caller
    /// commits), each signed in turn over its link; returns them as stored.
    pub async fn append_chain(
        tx: &mut Transaction<'static, DB>,
        chain: Chain,
        tid: &TenantId,
        events: &[NewLedgerEvent],
        signer: &dyn LedgerSigner,
    ) -> StoreResult<Vec<LedgerEvent>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let heads = chain.heads;
        // The head row exists before it is locked, so the first appends of a tenant queue too.
        sqlx::query(&format!(
            "INSERT INTO {heads} (tenant_id, seq, last_hash) VALUES ($1, 0, '') ON CONFLICT DO NOTHING"
        ))
        .bind(tid.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        let sql = format!(
            "SELECT seq, last_hash FROM {heads} WHERE tenant_id = $1{}",
            DB::FOR_UPDATE
        );
        let (mut seq, mut prev): (i64, String) = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
        let insert = if chain.with_actor {
            format!(
                "INSERT INTO {} (tenant_id, seq, id, subject, date, event_type, payload, signature, actor) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                chain.events
            )
        } else {
            format!(
                "INSERT INTO {} (tenant_id, seq, id, subject, date, event_type, payload, signature) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                chain.events
            )
        };
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            seq += 1;
            let link = chain_link(chain, tid, seq, e, &prev, signer.hash(e.payload.as_bytes()));
            let signature = signer.sign(&link).map_err(StoreError::Corrupt)?;
            let q = sqlx::query(&insert)
                .bind(tid.as_str())
                .bind(seq)
                .bind(e.id.as_str())
                .bind(e.subject.as_str())
                .bind(e.date)
                .bind(e.event_type.as_str())
                .bind(e.payload.as_str())
                .bind(signature.as_str());
            let q = if chain.with_actor { q.bind(e.actor.as_str()) } else { q };
            q.execute(&mut **tx).await.map_err(map_err)?;
            prev = signer.hash(signature.as_bytes());
            out.push(LedgerEvent {
                tenant_id: tid.clone(),
                seq,
                id: e.id.clone(),
                subject: e.subject.clone(),
                date: e.date,
                event_type: e.event_type.clone(),
                payload: e.payload.clone(),
                actor: if chain.with_actor {
                    e.actor.clone()
                } else {
                    String::new()
                },
                signature,
            });
        }
        sqlx::query(&format!(
            "UPDATE {heads} SET seq = $1, last_hash = $2 WHERE tenant_id = $3"
        ))
        .bind(seq)
        .bind(prev)
        .bind(tid.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        Ok(out)
    }

    pub async fn list_ledger_events(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        subject: Option<&str>,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<LedgerEvent>> {
        let rows: Vec<LedgerEventRow> = sqlx::query_as(
            "SELECT * FROM ledger_events WHERE tenant_id = $1 AND date >= $2 AND date <= $3 \
             AND (CAST($4 AS TEXT) IS NULL OR subject = $4) ORDER BY seq",
        )
        .bind(tid.as_str())
        .bind(from)
        .bind(to)
        .bind(subject)
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
        rows.into_iter().map(LedgerEvent::try_from).collect()
    }

    /// A tenant's ledger read inside `tx`, a transaction whose statements see one snapshot (an
    /// append committing between the two reads would otherwise look like events removed from
    /// the end); committed here.
    pub async fn ledger_chain(tx: Transaction<'static, DB>, tid: &TenantId) -> StoreResult<LedgerChain> {
        Self::read_chain(tx, PRIVACY, tid).await
    }

    /// A tenant's `chain` read inside `tx` (see [`Self::ledger_chain`]); committed here.
    pub async fn read_chain(
        mut tx: Transaction<'static, DB>,
        chain: Chain,
        tid: &TenantId,
    ) -> StoreResult<LedgerChain> {
        let sql = format!("SELECT * FROM {} WHERE tenant_id = $1 ORDER BY seq", chain.events);
        let rows: Vec<LedgerEventRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let sql = format!("SELECT seq FROM {} WHERE tenant_id = $1", chain.heads);
        let head: Option<(i64,)> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(LedgerChain {
            events: rows.into_iter().map(LedgerEvent::try_from).collect::<Result<_, _>>()?,
            head: head.map_or(0, |(s,)| s),
        })
    }

    pub async fn get_ledger_key(pool: &sqlx::Pool<DB>, tid: &TenantId) -> StoreResult<Option<LedgerKey>> {
        let row: Option<LedgerKeyRow> = sqlx::query_as("SELECT * FROM ledger_keys WHERE tenant_id = $1")
            .bind(tid.as_str())
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        row.map(LedgerKey::try_from).transpose()
    }

    /// `false` when the tenant has a key already (the first key written stays).
    pub async fn create_ledger_key(pool: &sqlx::Pool<DB>, k: &LedgerKey) -> StoreResult<bool> {
        let r = sqlx::query(
            "INSERT INTO ledger_keys (tenant_id, kid, public_jwk, private_sealed, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(k.tenant_id.as_str())
        .bind(k.kid.as_str())
        .bind(to_json(&k.public_jwk)?)
        .bind(k.private_sealed.clone())
        .bind(k.created_at)
        .execute(pool)
        .await
        .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }
}

#[derive(sqlx::FromRow)]
pub struct PrivacyConsentRow {
    tenant_id: String,
    id: String,
    version: i64,
    can_be_withdrawn: bool,
    update_existing_grants: String,
    doc: String,
}

impl TryFrom<PrivacyConsentRow> for PrivacyConsent {
    type Error = StoreError;
    fn try_from(r: PrivacyConsentRow) -> Result<Self, StoreError> {
        Ok(PrivacyConsent {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            id: r.id,
            version: r.version,
            can_be_withdrawn: r.can_be_withdrawn,
            update_existing_grants: r.update_existing_grants,
            doc: serde_json::from_str(&r.doc).map_err(corrupt)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ConsentActionRow {
    tenant_id: String,
    id: String,
    name: String,
    description: Option<String>,
    consents: String,
}

impl TryFrom<ConsentActionRow> for ConsentActionDef {
    type Error = StoreError;
    fn try_from(r: ConsentActionRow) -> Result<Self, StoreError> {
        Ok(ConsentActionDef {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            id: r.id,
            name: r.name,
            description: r.description,
            consents: serde_json::from_str(&r.consents).map_err(corrupt)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct ConsentGrantRow {
    tenant_id: String,
    subject: String,
    consent_id: String,
    version: i64,
    granted: bool,
    updated_at: i64,
}

impl TryFrom<ConsentGrantRow> for ConsentGrant {
    type Error = StoreError;
    fn try_from(r: ConsentGrantRow) -> Result<Self, StoreError> {
        Ok(ConsentGrant {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            subject: r.subject,
            consent_id: r.consent_id,
            version: r.version,
            granted: r.granted,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct LedgerEventRow {
    tenant_id: String,
    seq: i64,
    id: String,
    subject: String,
    date: i64,
    event_type: String,
    payload: String,
    signature: String,
    /// Only the audit trail's rows have it.
    #[sqlx(default)]
    actor: Option<String>,
}

impl TryFrom<LedgerEventRow> for LedgerEvent {
    type Error = StoreError;
    fn try_from(r: LedgerEventRow) -> Result<Self, StoreError> {
        Ok(LedgerEvent {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            seq: r.seq,
            id: r.id,
            subject: r.subject,
            date: r.date,
            event_type: r.event_type,
            payload: r.payload,
            actor: r.actor.unwrap_or_default(),
            signature: r.signature,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct LedgerKeyRow {
    tenant_id: String,
    kid: String,
    public_jwk: String,
    private_sealed: Vec<u8>,
    created_at: i64,
}

impl TryFrom<LedgerKeyRow> for LedgerKey {
    type Error = StoreError;
    fn try_from(r: LedgerKeyRow) -> Result<Self, StoreError> {
        Ok(LedgerKey {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            kid: r.kid,
            public_jwk: serde_json::from_str(&r.public_jwk).map_err(corrupt)?,
            private_sealed: r.private_sealed,
            created_at: r.created_at,
        })
    }
}

/// Where a signed chain is kept, and the name its links carry ([`LedgerLink::chain`]).
#[derive(Debug, Clone, Copy)]
pub struct Chain {
    pub events: &'static str,
    pub heads: &'static str,
    pub name: &'static str,
    /// Whether its events name an actor (a column of their own, and part of the link).
    pub with_actor: bool,
}

/// The privacy ledger.
pub const PRIVACY: Chain = Chain {
    events: "ledger_events",
    heads: "ledger_heads",
    name: "",
    with_actor: false,
};

/// The admin audit trail.
pub const AUDIT: Chain = Chain {
    events: "audit_events",
    heads: "audit_heads",
    name: "audit",
    with_actor: true,
};

/// The link of the next event of a chain whose last signature hashed to `prev`.
pub fn chain_link(
    chain: Chain,
    tid: &TenantId,
    seq: i64,
    e: &NewLedgerEvent,
    prev: &str,
    payload_sha256: String,
) -> LedgerLink {
    LedgerLink {
        seq,
        id: e.id.clone(),
        tenant_id: tid.to_string(),
        subject: e.subject.clone(),
        date: e.date,
        event_type: e.event_type.clone(),
        payload_sha256,
        prev: prev.to_owned(),
        chain: chain.name.to_owned(),
        actor: if chain.with_actor {
            e.actor.clone()
        } else {
            String::new()
        },
    }
}
