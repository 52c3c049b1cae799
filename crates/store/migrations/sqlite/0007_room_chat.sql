-- A room's chat, kept by the server alone: a line is written here by the room once its author
-- said it, and read back as the room's history. It used to be an array in the room's Yjs
-- document, where anyone who could write the document could also write lines under another
-- person's name; lines written there before this table existed stay in those documents.
CREATE TABLE room_chat (
    seq             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    item_id         TEXT    NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    participant_id  TEXT    NOT NULL,
    user_id         TEXT    REFERENCES users (id) ON DELETE SET NULL,
    name            TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    said_at         BIGINT  NOT NULL,
    breakout        INTEGER
);
CREATE INDEX room_chat_item ON room_chat (item_id, breakout, seq);
