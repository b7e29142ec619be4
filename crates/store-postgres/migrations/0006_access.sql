-- Who may manage what: STS client mappings and developer roles (Cloudentity Nexus
-- `/v1/sts-clients`, `/v1/roles`) with the identity-provider groups mapped to each role.

CREATE TABLE sts_clients (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    description TEXT,
    permissions TEXT NOT NULL,
    created_by TEXT,
    modified_by TEXT,
    user_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    modified_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, client_id)
);

CREATE TABLE roles (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    audience TEXT NOT NULL,
    description TEXT,
    permissions TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

-- `connection_id` is '' when the map names no connection (so the unique key holds).
CREATE TABLE role_connection_maps (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    name TEXT,
    group_name TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    UNIQUE (tenant_id, role_id, group_name, connection_id),
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
);
