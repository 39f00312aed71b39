-- Device authorizations (RFC 8628): the device code and the user code are
-- stored as SHA-256 hashes. `decision` is pending, approved (by `user_id`,
-- signed in at `auth_time`) or denied; `used_at` makes the device code
-- single use, and it names the family of what it issued.
CREATE TABLE device_codes (
    hash           BYTEA PRIMARY KEY NOT NULL,
    user_code      BYTEA NOT NULL UNIQUE,
    client_id      TEXT NOT NULL,
    scope          TEXT NOT NULL,
    issued_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    poll_interval  BIGINT NOT NULL,
    last_polled_at BIGINT,
    decision       TEXT NOT NULL,
    user_id        TEXT,
    auth_time      BIGINT,
    used_at        BIGINT
);
CREATE INDEX device_codes_by_expiry ON device_codes (expires_at);
