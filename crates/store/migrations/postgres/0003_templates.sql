-- Templates people saved from a document or board, for themselves or for a hub they manage
-- (its members see it). Built-in templates are the server's code, not rows.
CREATE TABLE templates (
    id          TEXT    NOT NULL PRIMARY KEY,
    -- 'document' or 'board'.
    kind        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    -- Exactly one of the two is set.
    owner_id    TEXT    REFERENCES users (id) ON DELETE CASCADE,
    hub_id      TEXT    REFERENCES hubs (id) ON DELETE CASCADE,
    created_by  TEXT    REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT  NOT NULL,
    -- The content, as one Yjs update.
    state       BYTEA   NOT NULL
);
CREATE INDEX templates_owner ON templates (owner_id);
CREATE INDEX templates_hub ON templates (hub_id);
