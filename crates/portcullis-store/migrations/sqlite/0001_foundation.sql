CREATE TABLE clients (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    secret_hash BLOB,
    grant_types TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    audiences   TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY NOT NULL,
    alg            TEXT NOT NULL,
    public_jwk     TEXT NOT NULL,
    sealed_private BLOB NOT NULL,
    created_at     BIGINT NOT NULL,
    activates_at   BIGINT,
    expires_at     BIGINT
);

-- One row per one-time event that concurrent processes must not repeat.
CREATE TABLE store_events (
    name       TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL
);
