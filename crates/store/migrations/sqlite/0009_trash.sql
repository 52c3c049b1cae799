-- Deleting an item moves it to its project's trash: it keeps its document, audience, chat and
-- votes, is hidden everywhere else, and may be restored for 30 days, after which it is purged
-- (an owner may purge sooner).
ALTER TABLE items ADD COLUMN deleted_at BIGINT;
ALTER TABLE items ADD COLUMN deleted_by TEXT REFERENCES users (id);
CREATE INDEX items_trash ON items (project_id, deleted_at) WHERE deleted_at IS NOT NULL;
