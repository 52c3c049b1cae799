-- A revoked invitation link is kept, marked, so whoever opens it later is told it was revoked
-- rather than that it never existed. Invitations by email are still deleted when revoked:
-- nobody holds a link to them.
ALTER TABLE invites ADD COLUMN revoked_at INTEGER;
