-- Gateways (Cloudentity ACP /gateways): where the APIs of connected services are enforced. Each
-- has its own client (client_credentials) on its server; deleting the gateway deletes the client
-- and disconnects its services.

CREATE TABLE gateways (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    type TEXT NOT NULL,
    client_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_active INTEGER,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);
