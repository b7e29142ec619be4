-- Tenants, authorization servers, their signing keys, and clients.
-- JSON documents are stored as TEXT; sealed secrets and hashes as BLOB.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    authentication_context_settings TEXT NOT NULL,
    jwks TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE servers (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    system INTEGER NOT NULL,
    settings TEXT NOT NULL,
    authentications TEXT NOT NULL,
    secrets_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE signing_keys (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    kid TEXT NOT NULL,
    alg TEXT NOT NULL,
    status TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    private_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, server_id, kid),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE clients (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    name TEXT NOT NULL,
    system INTEGER NOT NULL,
    grant_types TEXT NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    secret_hash BLOB,
    secret_sealed BLOB,
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX clients_by_server ON clients (tenant_id, server_id);
