-- Sessions on the calendar (issue 20): peer-learning sessions, coaching calls, workshops and
-- meetings of a project, who is invited and what they answered, and each person's private
-- calendar feed.

CREATE TABLE sessions (
    id            TEXT    NOT NULL PRIMARY KEY,
    project_id    TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title         TEXT    NOT NULL,
    -- 'peer_learning', 'coaching', 'workshop' or 'meeting'.
    kind          TEXT    NOT NULL,
    agenda        TEXT    NOT NULL,
    -- The organiser's IANA zone, and the first start on a wall clock there ('YYYY-MM-DDTHH:MM'):
    -- a weekly 18:00 in Lisbon stays 18:00 in Lisbon across daylight-saving changes.
    time_zone     TEXT    NOT NULL,
    starts_local  TEXT    NOT NULL,
    duration_min  BIGINT  NOT NULL,
    -- NULL (once), 'weekly' or 'monthly'; `repeats` occurrences in all, as the calendar's COUNT.
    frequency     TEXT,
    repeats       BIGINT  NOT NULL DEFAULT 1,
    -- Local dates it does not happen on, comma-separated 'YYYY-MM-DD'.
    exceptions    TEXT    NOT NULL DEFAULT '',
    capacity      BIGINT,
    room_id       TEXT    NOT NULL,
    notes_id      TEXT,
    organiser_id  TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The calendar SEQUENCE, raised on every change.
    sequence      BIGINT  NOT NULL DEFAULT 0,
    -- The first start and the last end (ms, UTC), to find what is upcoming.
    first_start   BIGINT  NOT NULL,
    last_end      BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX sessions_project ON sessions (project_id, last_end);

-- Who is invited and their answer: 'invited', 'going', 'maybe', 'declined' or 'waiting'. The
-- waiting list is in order of `changed_at`.
CREATE TABLE session_attendees (
    session_id  TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status      TEXT    NOT NULL,
    changed_at  BIGINT  NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX session_attendees_user ON session_attendees (user_id);

-- The secret in a person's calendar feed address; a new one revokes the old address.
ALTER TABLE users ADD COLUMN calendar_secret TEXT;
CREATE UNIQUE INDEX users_calendar_secret ON users (calendar_secret);
