-- Refresh tokens, stored as SHA-256 hashes. Every token of one sign-in shares
-- a family; `used_at` makes each single use, and a reused token revokes its
-- whole family.
CREATE TABLE refresh_tokens (
    hash       BYTEA PRIMARY KEY NOT NULL,
    family     BYTEA NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scope      TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);
