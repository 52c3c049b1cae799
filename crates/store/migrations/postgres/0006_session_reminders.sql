-- Session reminders (issue 20): the start (ms) of the last occurrence whose reminder went out.
-- A node claims a reminder by moving it forward, so each is sent once however many nodes run.
ALTER TABLE sessions ADD COLUMN reminded_through BIGINT NOT NULL DEFAULT 0;
