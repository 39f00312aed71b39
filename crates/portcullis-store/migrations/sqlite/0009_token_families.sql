-- One row per sign-in grant (a redeemed code, a password grant or an implicit
-- access token): the family of its refresh tokens and of the access tokens
-- issued with them (their `grant_id`). Revoking the family ends every token of it, including
-- successors stored after the revocation began; `live_until` covers the
-- longest-lived token issued from it.
CREATE TABLE token_families (
    family     BLOB PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    live_until BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX token_families_by_user ON token_families (user_id);
CREATE INDEX token_families_by_client ON token_families (client_id);
CREATE INDEX token_families_by_expiry ON token_families (live_until);

-- The token a refresh token was rotated from: within the reuse interval a
-- lost successor is replaced instead of the family being revoked.
ALTER TABLE refresh_tokens ADD COLUMN parent BLOB;
CREATE INDEX refresh_tokens_by_parent ON refresh_tokens (parent);

-- Families of tokens issued before this table existed.
INSERT INTO token_families (family, client_id, user_id, created_at, live_until, revoked_at)
SELECT family, MIN(client_id), MIN(user_id), MIN(issued_at), MAX(expires_at),
       CASE WHEN COUNT(revoked_at) > 0 THEN MAX(revoked_at) END
FROM refresh_tokens GROUP BY family;
