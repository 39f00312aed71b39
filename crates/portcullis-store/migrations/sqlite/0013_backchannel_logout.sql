-- OpenID Connect Back-Channel Logout: where a client hears that a session
-- it signed in through has ended, and whether it needs the session id.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required BOOLEAN NOT NULL DEFAULT FALSE;

-- The session (`sid`) a code was issued in, and the refresh tokens of its
-- sign-in, for their ID tokens; empty when none.
ALTER TABLE authorization_codes ADD COLUMN sid TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN sid TEXT NOT NULL DEFAULT '';
-- The actor (`act`, JSON) of a token exchange's refresh token; empty when none.
ALTER TABLE refresh_tokens ADD COLUMN act TEXT NOT NULL DEFAULT '';

-- Which clients each browser session signed in to.
CREATE TABLE session_clients (
    session_hash BLOB NOT NULL,
    client_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    sid          TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (session_hash, client_id)
);
CREATE INDEX session_clients_by_user ON session_clients (user_id);
CREATE INDEX session_clients_by_expiry ON session_clients (expires_at);

-- Logout tokens to deliver, one per ended session and client, written in
-- the transaction that ends the session; a worker in every replica claims
-- due ones, delivers them, retries a few times, and records the outcome.
CREATE TABLE logout_notices (
    id              TEXT PRIMARY KEY NOT NULL,
    client_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    sid             TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    delivered_at    BIGINT,
    failed_at       BIGINT
);
CREATE INDEX logout_notices_due ON logout_notices (next_attempt_at);
