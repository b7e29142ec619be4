-- A master-key check value kept once per store, and indexes for ending what a deleted client or a
-- removed user was given.

CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE INDEX grants_client ON grants (tenant_id, client_id);
CREATE INDEX grants_subject ON grants (tenant_id, server_id, subject);
CREATE INDEX sessions_subject ON sessions (tenant_id, server_id, subject);
CREATE INDEX consents_client ON consents (tenant_id, client_id);
CREATE INDEX auth_codes_client ON auth_codes (tenant_id, client_id);
