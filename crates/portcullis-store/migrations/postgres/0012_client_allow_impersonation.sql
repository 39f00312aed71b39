-- Whether a client's token exchanges (RFC 8693) may leave out the actor
-- token, so that the issued token speaks for the subject alone.
ALTER TABLE clients ADD COLUMN allow_impersonation BOOLEAN NOT NULL DEFAULT FALSE;
