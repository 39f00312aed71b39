-- Clients that need PKCE even for OpenID Connect requests with a nonce.
-- A code issued without a PKCE challenge stores an empty code_challenge.
ALTER TABLE clients ADD COLUMN require_pkce BOOLEAN NOT NULL DEFAULT FALSE;
