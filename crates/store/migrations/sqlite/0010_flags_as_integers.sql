-- Flags become INTEGER (0 or 1) columns: the store reads both engines through sqlx's Any
-- driver, which maps SQLite's declared types and has no mapping for BOOLEAN. SQLite stores 0/1
-- either way; only the declared type changes. PostgreSQL keeps real BOOLEAN columns.
ALTER TABLE users ADD COLUMN is_admin_flag INTEGER NOT NULL DEFAULT 0;
UPDATE users SET is_admin_flag = is_admin;
ALTER TABLE users DROP COLUMN is_admin;
ALTER TABLE users RENAME COLUMN is_admin_flag TO is_admin;

ALTER TABLE users ADD COLUMN show_email_flag INTEGER NOT NULL DEFAULT 0;
UPDATE users SET show_email_flag = show_email;
ALTER TABLE users DROP COLUMN show_email;
ALTER TABLE users RENAME COLUMN show_email_flag TO show_email;

ALTER TABLE projects ADD COLUMN archived_flag INTEGER NOT NULL DEFAULT 0;
UPDATE projects SET archived_flag = archived;
ALTER TABLE projects DROP COLUMN archived;
ALTER TABLE projects RENAME COLUMN archived_flag TO archived;

ALTER TABLE items ADD COLUMN private_flag INTEGER NOT NULL DEFAULT 0;
UPDATE items SET private_flag = private;
ALTER TABLE items DROP COLUMN private;
ALTER TABLE items RENAME COLUMN private_flag TO private;
