-- Privacy consents, consent actions (Cloudentity ACP /consents, /actions), subjects' grants, and
-- the privacy ledger: events chained by their signatures, a head that remembers the last one,
-- and each tenant's ledger signing key (sealed with the master key). Payloads are TEXT, not
-- JSON types, because their exact bytes are hashed.

CREATE TABLE privacy_consents (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    can_be_withdrawn INTEGER NOT NULL,
    update_existing_grants TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE consent_actions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    consents TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE consent_grants (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    consent_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    granted INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, subject, consent_id)
);
CREATE INDEX consent_grants_by_consent ON consent_grants (tenant_id, consent_id);

CREATE TABLE ledger_events (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    subject TEXT NOT NULL,
    date INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX ledger_events_by_date ON ledger_events (tenant_id, date);
CREATE INDEX ledger_events_by_subject ON ledger_events (tenant_id, subject, date);

CREATE TABLE ledger_heads (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);

CREATE TABLE ledger_keys (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    kid TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    private_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
