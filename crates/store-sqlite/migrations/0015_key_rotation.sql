-- Key rotation: when a next key starts signing, when a retired key leaves the JWK Set, when a
-- key was revoked. `rotated` is now called `retired`.
ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT;
ALTER TABLE signing_keys ADD COLUMN retires_at BIGINT;
ALTER TABLE signing_keys ADD COLUMN revoked_at BIGINT;
UPDATE signing_keys SET status = 'retired' WHERE status = 'rotated';
