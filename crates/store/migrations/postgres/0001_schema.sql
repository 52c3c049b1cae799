-- Hubring on PostgreSQL: the same tables as the SQLite migrations 0001 to 0010 describe (see
-- them for what each holds), in PostgreSQL's own types: BYTEA for bytes, BOOLEAN for flags,
-- an identity column for the chat's order, and a tsvector for the people directory instead of
-- FTS5. Lists (languages, skills...) stay JSON text, as on SQLite, read with jsonb functions.
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TABLE doc_updates (
    doc_id  TEXT   NOT NULL,
    seq     BIGINT NOT NULL,
    bytes   BYTEA  NOT NULL,
    at_ms   BIGINT NOT NULL,
    PRIMARY KEY (doc_id, seq)
);

CREATE TABLE doc_snapshots (
    doc_id     TEXT   NOT NULL PRIMARY KEY,
    up_to_seq  BIGINT NOT NULL,
    bytes      BYTEA  NOT NULL,
    at_ms      BIGINT NOT NULL
);

CREATE TABLE users (
    id                  TEXT    NOT NULL PRIMARY KEY,
    email               TEXT    NOT NULL UNIQUE,
    display_name        TEXT    NOT NULL,
    password_hash       TEXT    NOT NULL,
    is_admin            BOOLEAN NOT NULL DEFAULT FALSE,
    city                TEXT    NOT NULL DEFAULT '',
    country             TEXT    NOT NULL DEFAULT '',
    languages           TEXT    NOT NULL DEFAULT '[]',
    skills              TEXT    NOT NULL DEFAULT '[]',
    disciplines         TEXT    NOT NULL DEFAULT '[]',
    bio                 TEXT    NOT NULL DEFAULT '',
    open_to             TEXT    NOT NULL DEFAULT '[]',
    profile_visibility  TEXT    NOT NULL DEFAULT 'network',
    show_email          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          BIGINT  NOT NULL
);

CREATE TABLE logins (
    id           TEXT   NOT NULL PRIMARY KEY,
    user_id      TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash  BYTEA  NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX logins_user ON logins (user_id);

CREATE TABLE api_tokens (
    id            TEXT   NOT NULL PRIMARY KEY,
    user_id       TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT   NOT NULL,
    secret_hash   BYTEA  NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE hubs (
    id           TEXT   NOT NULL PRIMARY KEY,
    name         TEXT   NOT NULL,
    city         TEXT   NOT NULL,
    country      TEXT   NOT NULL,
    time_zone    TEXT   NOT NULL,
    description  TEXT   NOT NULL DEFAULT '',
    disciplines  TEXT   NOT NULL DEFAULT '[]',
    facilities   TEXT   NOT NULL DEFAULT '[]',
    website      TEXT   NOT NULL DEFAULT '',
    created_by   TEXT   NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL
);

CREATE TABLE hub_members (
    hub_id      TEXT   NOT NULL REFERENCES hubs (id) ON DELETE CASCADE,
    user_id     TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (hub_id, user_id)
);
CREATE INDEX hub_members_user ON hub_members (user_id);

CREATE TABLE projects (
    id          TEXT    NOT NULL PRIMARY KEY,
    title       TEXT    NOT NULL,
    summary     TEXT    NOT NULL DEFAULT '',
    visibility  TEXT    NOT NULL,
    archived    BOOLEAN NOT NULL DEFAULT FALSE,
    created_by  TEXT    NOT NULL REFERENCES users (id),
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE project_hubs (
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hub_id      TEXT NOT NULL REFERENCES hubs (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, hub_id)
);
CREATE INDEX project_hubs_hub ON project_hubs (hub_id);

CREATE TABLE project_members (
    project_id  TEXT   NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id     TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

CREATE TABLE invites (
    id           TEXT   NOT NULL PRIMARY KEY,
    project_id   TEXT   NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role         TEXT   NOT NULL,
    email        TEXT,
    secret_hash  BYTEA  UNIQUE,
    expires_at   BIGINT,
    max_uses     BIGINT,
    uses         BIGINT NOT NULL DEFAULT 0,
    created_by   TEXT   NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX invites_project ON invites (project_id);
CREATE INDEX invites_email ON invites (email);

CREATE TABLE items (
    id          TEXT    NOT NULL PRIMARY KEY,
    project_id  TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    doc_id      TEXT    NOT NULL UNIQUE,
    created_by  TEXT    NOT NULL REFERENCES users (id),
    created_at  BIGINT  NOT NULL,
    updated_by  TEXT    NOT NULL REFERENCES users (id),
    updated_at  BIGINT  NOT NULL,
    private     BOOLEAN NOT NULL DEFAULT FALSE,
    notes_id    TEXT    REFERENCES items (id) ON DELETE SET NULL,
    deleted_at  BIGINT,
    deleted_by  TEXT    REFERENCES users (id)
);
CREATE INDEX items_project ON items (project_id);
CREATE INDEX items_trash ON items (project_id, deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE item_audience (
    item_id  TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, user_id)
);
CREATE INDEX item_audience_user ON item_audience (user_id);

-- The people directory's index: one row per listed profile, kept by the application in the
-- same transaction as the profile (weights: skills and disciplines A, name B, place and
-- languages C, bio D). Hidden profiles have no row.
CREATE TABLE people_search (
    user_id  TEXT     NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    doc      TSVECTOR NOT NULL
);
CREATE INDEX people_search_doc ON people_search USING GIN (doc);

CREATE TABLE assets (
    sha256      TEXT   NOT NULL PRIMARY KEY,
    mime        TEXT   NOT NULL,
    size        BIGINT NOT NULL,
    bytes       BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE project_assets (
    project_id   TEXT   NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    sha256       TEXT   NOT NULL REFERENCES assets (sha256),
    uploaded_by  TEXT   NOT NULL REFERENCES users (id),
    uploaded_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, sha256)
);
CREATE INDEX project_assets_sha ON project_assets (sha256);

CREATE TABLE recent_items (
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id    TEXT   NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    opened_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, item_id)
);
CREATE INDEX recent_items_user ON recent_items (user_id, opened_at);

CREATE TABLE board_votes (
    id               TEXT   NOT NULL PRIMARY KEY,
    item_id          TEXT   NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    dots_per_person  BIGINT NOT NULL,
    opened_by        TEXT   NOT NULL REFERENCES users (id),
    opened_at        BIGINT NOT NULL,
    closed_at        BIGINT
);
CREATE UNIQUE INDEX board_votes_open ON board_votes (item_id) WHERE closed_at IS NULL;
CREATE INDEX board_votes_item ON board_votes (item_id, opened_at);

CREATE TABLE board_vote_dots (
    vote_id   TEXT   NOT NULL REFERENCES board_votes (id) ON DELETE CASCADE,
    user_id   TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shape_id  TEXT   NOT NULL,
    n         BIGINT NOT NULL CHECK (n > 0),
    PRIMARY KEY (vote_id, user_id, shape_id)
);

CREATE TABLE room_chat (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT   NOT NULL UNIQUE,
    item_id         TEXT   NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    participant_id  TEXT   NOT NULL,
    user_id         TEXT   REFERENCES users (id) ON DELETE SET NULL,
    name            TEXT   NOT NULL,
    body            TEXT   NOT NULL,
    said_at         BIGINT NOT NULL,
    breakout        BIGINT
);
CREATE INDEX room_chat_item ON room_chat (item_id, breakout, seq);
