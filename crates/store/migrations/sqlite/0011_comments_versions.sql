-- Comment threads on documents and boards, and versions of both. Threads and comments are the
-- server's: written here by the API once the caller's role allows it, then copied into the
-- document's `threads` map for everyone to see live. A client cannot write that map itself.
CREATE TABLE comment_threads (
    id          TEXT    NOT NULL PRIMARY KEY,
    item_id     TEXT    NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    created_by  TEXT    REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    -- Set while resolved (who and when); NULL when open.
    resolved_at BIGINT,
    resolved_by TEXT    REFERENCES users (id) ON DELETE SET NULL,
    deleted_at  BIGINT,
    -- The text the thread was anchored on, as it read then.
    quote       TEXT,
    -- A board pin: JSON {"shape": id?, "x": n, "y": n}.
    pin         TEXT
);
CREATE INDEX comment_threads_item ON comment_threads (item_id, created_at);

CREATE TABLE comments (
    seq         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    thread_id   TEXT    NOT NULL REFERENCES comment_threads (id) ON DELETE CASCADE,
    author      TEXT    REFERENCES users (id) ON DELETE SET NULL,
    -- BlockNote blocks as JSON; NULL once deleted.
    body        TEXT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    deleted_at  BIGINT
);
CREATE INDEX comments_thread ON comments (thread_id, seq);

CREATE TABLE comment_mentions (
    comment_id  TEXT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (comment_id, user_id)
);
CREATE INDEX comment_mentions_user ON comment_mentions (user_id);

CREATE TABLE comment_reactions (
    comment_id  TEXT   NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id     TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji       TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (comment_id, user_id, emoji)
);

-- A version is the whole state of a document at one moment (one Yjs update), kept beside the
-- live document: compaction of `doc_updates` never touches it.
CREATE TABLE doc_versions (
    id          TEXT    NOT NULL PRIMARY KEY,
    doc_id      TEXT    NOT NULL,
    -- 'auto', 'named' or 'restore'.
    kind        TEXT    NOT NULL,
    name        TEXT,
    created_at  BIGINT  NOT NULL,
    created_by  TEXT    REFERENCES users (id) ON DELETE SET NULL,
    -- JSON array of the user ids who changed the document since the version before.
    editors     TEXT    NOT NULL DEFAULT '[]',
    restored_from TEXT,
    n_bytes     BIGINT  NOT NULL,
    state       BLOB    NOT NULL
);
CREATE INDEX doc_versions_doc ON doc_versions (doc_id, created_at);
