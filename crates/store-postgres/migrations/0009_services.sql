-- Services and their APIs (Cloudentity ACP /services, /apis). A path is kept as written
-- (`/pets/{petId}`); one method and path per service.

CREATE TABLE services (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    gateway_id TEXT,
    with_specification BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE apis (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    position BIGINT NOT NULL,
    policy_id TEXT,
    data_classifications TEXT NOT NULL,
    can_have_policy BOOLEAN NOT NULL,
    imported BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, service_id, method, path),
    FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX apis_by_server ON apis (tenant_id, server_id);
