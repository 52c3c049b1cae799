-- Files uploaded into projects (images in documents, later on boards), stored once per content:
-- the same image uploaded twice, or into two projects, is one row. Never inside a CRDT update.
CREATE TABLE assets (
    sha256      TEXT   NOT NULL PRIMARY KEY,
    mime        TEXT   NOT NULL,
    size        BIGINT NOT NULL,
    bytes       BLOB   NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Which projects an asset was uploaded into: it is served to people who may read one of them.
CREATE TABLE project_assets (
    project_id   TEXT   NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    sha256       TEXT   NOT NULL REFERENCES assets (sha256),
    uploaded_by  TEXT   NOT NULL REFERENCES users (id),
    uploaded_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, sha256)
);
CREATE INDEX project_assets_sha ON project_assets (sha256);

-- The items each person opened, newest first on their home page.
CREATE TABLE recent_items (
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id    TEXT   NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    opened_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, item_id)
);
CREATE INDEX recent_items_user ON recent_items (user_id, opened_at);
