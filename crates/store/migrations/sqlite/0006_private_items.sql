-- Private items: a coaching room and its notes, which only the people in the item's audience
-- may see or open, whatever their role in the project. An item is private or not for its whole
-- life; a private item whose audience rows are gone is open to nobody, never to everyone.
ALTER TABLE items ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE;
-- A room's shared notes: the document beside it during a meeting.
ALTER TABLE items ADD COLUMN notes_id TEXT REFERENCES items (id) ON DELETE SET NULL;

CREATE TABLE item_audience (
    item_id  TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, user_id)
);
CREATE INDEX item_audience_user ON item_audience (user_id);
