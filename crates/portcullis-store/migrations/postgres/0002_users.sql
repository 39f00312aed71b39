-- People who sign in. `username_key` is the lower-cased username: usernames
-- are unique regardless of case.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY NOT NULL,
    username            TEXT NOT NULL,
    username_key        TEXT NOT NULL UNIQUE,
    email               TEXT,
    email_verified      BOOLEAN NOT NULL DEFAULT FALSE,
    name                TEXT,
    given_name          TEXT,
    family_name         TEXT,
    password_hash       TEXT NOT NULL,
    disabled            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL
);
