-- Sign-in and sign-up throttling, shared by every replica: one fixed window
-- per key (the SHA-256 of an account name or a client address, never the
-- name itself) with the number of events in it.
CREATE TABLE throttle_windows (
    key        BLOB PRIMARY KEY NOT NULL,
    count      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX throttle_windows_by_expiry ON throttle_windows (expires_at);
