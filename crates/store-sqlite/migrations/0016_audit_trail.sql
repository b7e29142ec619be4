-- The admin audit trail: one event per management write, chained and signed like the privacy
-- ledger (with the tenant's ledger key), in a chain of its own. `subject` is the object
-- (`{kind}/{id}`), `event_type` the operation, `actor` who did it (`{kind}:{id}`).
CREATE TABLE audit_events (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    subject TEXT NOT NULL,
    date INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    actor TEXT NOT NULL,
    payload TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_events_by_date ON audit_events (tenant_id, date);
CREATE INDEX audit_events_by_subject ON audit_events (tenant_id, subject, seq);
CREATE INDEX audit_events_by_actor ON audit_events (tenant_id, actor, seq);

CREATE TABLE audit_heads (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
