-- Email and in-app notifications (issue 20).

-- The language emails are written in ('en', 'fr', 'es', 'pt'); the web app keeps it current.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
-- When the address was confirmed (ms), NULL until then. With SMTP configured a new account is
-- unconfirmed until its owner opens the emailed link; accounts from before confirmation existed
-- count as confirmed.
ALTER TABLE users ADD COLUMN email_confirmed_at BIGINT;
UPDATE users SET email_confirmed_at = created_at;

-- Single-use links sent by email: a password reset, an address confirmation. Stored as hashes.
CREATE TABLE account_tokens (
    secret_hash  BLOB  NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 'reset' or 'confirm'.
    purpose      TEXT    NOT NULL,
    -- The address the link was sent to: a confirmation confirms this one only.
    email        TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    used_at      BIGINT
);
CREATE INDEX account_tokens_user ON account_tokens (user_id);

-- Emails waiting to leave, sent by the server's mail worker off the request path: a failure is
-- retried with backoff, a restart loses nothing.
CREATE TABLE mail_outbox (
    id               TEXT    NOT NULL PRIMARY KEY,
    to_addr          TEXT    NOT NULL,
    -- What kind of email (for unsubscribing and the admin's view).
    kind             TEXT    NOT NULL,
    -- The message as JSON: subject, plain text, HTML, an optional calendar part.
    body             TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- When the worker may (next) try it; a worker claims a row by moving this forward.
    next_attempt_at  BIGINT  NOT NULL,
    last_error       TEXT,
    sent_at          BIGINT,
    -- Set when the worker gave up (days of failures); kept for the admin to see.
    failed_at        BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- In-app notifications: the bell.
CREATE TABLE notifications (
    id          TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    -- What the notification is about, as JSON (project, item, thread, who, title).
    payload     TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);

-- How each person wants each kind: 'app', 'email', 'both' or 'none'. No row: the default.
CREATE TABLE notification_prefs (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    channel  TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- A random secret per person for the unsubscribe links in emails, which work without signing in.
ALTER TABLE users ADD COLUMN mail_secret TEXT;
CREATE UNIQUE INDEX users_mail_secret ON users (mail_secret);
