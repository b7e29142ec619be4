-- The device authorization grant (RFC 8628): requests found by the hash of their device code
-- (the device polls with it) or of their user code (the person types it on the verification
-- page); settled once, then kept until the device has had time to learn the answer.

CREATE TABLE device_authorizations (
    tenant_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    device_hash TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    client_id TEXT NOT NULL,
    data TEXT NOT NULL,
    status TEXT NOT NULL,
    poll_interval BIGINT NOT NULL,
    polled_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, server_id, device_hash),
    UNIQUE (tenant_id, server_id, user_hash),
    FOREIGN KEY (tenant_id, server_id) REFERENCES servers (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX device_authorizations_expiry ON device_authorizations (expires_at);
