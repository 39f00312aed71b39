-- Clients for people: where authorization responses and logouts may go.
-- Space-delimited lists; a registered URI never contains a space.
ALTER TABLE clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
