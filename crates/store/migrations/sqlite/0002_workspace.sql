-- The workspace: people and their sign-ins, hubs, projects with their members, invites and items.
-- Ids are opaque strings made by the application; times are milliseconds since the epoch. Lists
-- (languages, skills...) are JSON arrays of strings. Emails are stored lowercased.
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
    -- network: listed in the directory for signed-in people; hidden: not listed.
    profile_visibility  TEXT    NOT NULL DEFAULT 'network',
    show_email          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          BIGINT  NOT NULL
);

-- Cookie sessions. Only a SHA-256 of the secret is kept; a row deleted is a session revoked.
CREATE TABLE logins (
    id           TEXT   NOT NULL PRIMARY KEY,
    user_id      TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash  BLOB   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX logins_user ON logins (user_id);

-- Personal API tokens, shown once and kept as a SHA-256.
CREATE TABLE api_tokens (
    id            TEXT   NOT NULL PRIMARY KEY,
    user_id       TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT   NOT NULL,
    secret_hash   BLOB   NOT NULL UNIQUE,
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

-- role: manager | member | requested (asked to join, waiting for a manager).
CREATE TABLE hub_members (
    hub_id      TEXT   NOT NULL REFERENCES hubs (id) ON DELETE CASCADE,
    user_id     TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (hub_id, user_id)
);
CREATE INDEX hub_members_user ON hub_members (user_id);

-- visibility: private | network | public.
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

-- role: owner | editor | commenter | viewer. Exactly one owner per project.
CREATE TABLE project_members (
    project_id  TEXT   NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id     TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

-- An invite is for an email address (accepted when that address signs in) or a link (a secret,
-- kept as a SHA-256, with an optional expiry and number of uses).
CREATE TABLE invites (
    id           TEXT   NOT NULL PRIMARY KEY,
    project_id   TEXT   NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role         TEXT   NOT NULL,
    email        TEXT,
    secret_hash  BLOB   UNIQUE,
    expires_at   BIGINT,
    max_uses     BIGINT,
    uses         BIGINT NOT NULL DEFAULT 0,
    created_by   TEXT   NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX invites_project ON invites (project_id);
CREATE INDEX invites_email ON invites (email);

-- kind: document | board | room. doc_id names the item's live document in doc_updates.
CREATE TABLE items (
    id          TEXT   NOT NULL PRIMARY KEY,
    project_id  TEXT   NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL,
    title       TEXT   NOT NULL,
    doc_id      TEXT   NOT NULL UNIQUE,
    created_by  TEXT   NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    updated_by  TEXT   NOT NULL REFERENCES users (id),
    updated_at  BIGINT NOT NULL
);
CREATE INDEX items_project ON items (project_id);
