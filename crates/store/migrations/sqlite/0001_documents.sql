-- Live documents: an append-only log of Yjs updates per document, and the latest snapshot that
-- merges the log up to a sequence number. The bytes are opaque here: lib0 v1 Yjs updates.
CREATE TABLE doc_updates (
    doc_id  TEXT    NOT NULL,
    seq     BIGINT  NOT NULL,
    bytes   BLOB    NOT NULL,
    at_ms   BIGINT  NOT NULL,
    PRIMARY KEY (doc_id, seq)
);

CREATE TABLE doc_snapshots (
    doc_id     TEXT    NOT NULL PRIMARY KEY,
    up_to_seq  BIGINT  NOT NULL,
    bytes      BLOB    NOT NULL,
    at_ms      BIGINT  NOT NULL
);
