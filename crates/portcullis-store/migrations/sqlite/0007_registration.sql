-- Dynamic client registration (RFC 7591, RFC 7592). A client registered
-- through the API is managed with its registration access token, stored as
-- SHA-256; clients created by an administrator have none.
ALTER TABLE clients ADD COLUMN registration_token_hash BLOB;

-- Initial access tokens an administrator hands out, stored as SHA-256; each
-- registers at most `uses_left` clients before `expires_at`.
CREATE TABLE registration_tokens (
    hash       BLOB PRIMARY KEY NOT NULL,
    uses_left  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
