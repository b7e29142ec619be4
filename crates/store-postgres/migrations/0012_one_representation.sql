-- One representation for both stores: times as Unix seconds (BIGINT) and JSON documents as
-- text, as the SQLite store keeps them, so both adapters run the same SQL. Values convert
-- exactly (the store writes whole seconds).

ALTER TABLE auth_codes
    ALTER COLUMN expires_at TYPE BIGINT USING EXTRACT(EPOCH FROM expires_at)::bigint,
    ALTER COLUMN used_at TYPE BIGINT USING EXTRACT(EPOCH FROM used_at)::bigint;
ALTER TABLE claims
    ALTER COLUMN scopes TYPE TEXT USING scopes::text,
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint;
ALTER TABLE clients
    ALTER COLUMN grant_types TYPE TEXT USING grant_types::text,
    ALTER COLUMN metadata TYPE TEXT USING metadata::text,
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint;
ALTER TABLE consents
    ALTER COLUMN granted_at TYPE BIGINT USING EXTRACT(EPOCH FROM granted_at)::bigint;
ALTER TABLE gateways
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint,
    ALTER COLUMN last_active TYPE BIGINT USING EXTRACT(EPOCH FROM last_active)::bigint;
ALTER TABLE grant_tokens
    ALTER COLUMN expires_at TYPE BIGINT USING EXTRACT(EPOCH FROM expires_at)::bigint;
ALTER TABLE grants
    ALTER COLUMN expires_at TYPE BIGINT USING EXTRACT(EPOCH FROM expires_at)::bigint;
ALTER TABLE policies
    ALTER COLUMN validators TYPE TEXT USING validators::text,
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint,
    ALTER COLUMN updated_at TYPE BIGINT USING EXTRACT(EPOCH FROM updated_at)::bigint;
ALTER TABLE refresh_tokens
    ALTER COLUMN expires_at TYPE BIGINT USING EXTRACT(EPOCH FROM expires_at)::bigint,
    ALTER COLUMN used_at TYPE BIGINT USING EXTRACT(EPOCH FROM used_at)::bigint;
ALTER TABLE revoked_tokens
    ALTER COLUMN expires_at TYPE BIGINT USING EXTRACT(EPOCH FROM expires_at)::bigint;
ALTER TABLE roles
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint;
ALTER TABLE scopes
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint;
ALTER TABLE servers
    ALTER COLUMN settings TYPE TEXT USING settings::text,
    ALTER COLUMN authentications TYPE TEXT USING authentications::text,
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint,
    ALTER COLUMN updated_at TYPE BIGINT USING EXTRACT(EPOCH FROM updated_at)::bigint;
ALTER TABLE services
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint;
ALTER TABLE sessions
    ALTER COLUMN auth_time TYPE BIGINT USING EXTRACT(EPOCH FROM auth_time)::bigint,
    ALTER COLUMN expires_at TYPE BIGINT USING EXTRACT(EPOCH FROM expires_at)::bigint;
ALTER TABLE signing_keys
    ALTER COLUMN public_jwk TYPE TEXT USING public_jwk::text,
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint;
ALTER TABLE sts_clients
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint,
    ALTER COLUMN modified_at TYPE BIGINT USING EXTRACT(EPOCH FROM modified_at)::bigint;
ALTER TABLE tenants
    ALTER COLUMN authentication_context_settings TYPE TEXT USING authentication_context_settings::text,
    ALTER COLUMN jwks TYPE TEXT USING jwks::text,
    ALTER COLUMN created_at TYPE BIGINT USING EXTRACT(EPOCH FROM created_at)::bigint;
ALTER TABLE token_cutoffs
    ALTER COLUMN expires_at TYPE BIGINT USING EXTRACT(EPOCH FROM expires_at)::bigint;
ALTER TABLE used_assertions
    ALTER COLUMN expires_at TYPE BIGINT USING EXTRACT(EPOCH FROM expires_at)::bigint;
