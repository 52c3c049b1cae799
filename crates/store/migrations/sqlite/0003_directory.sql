-- The people directory's full-text index: one row per listed profile, kept by the application
-- in the same transaction as the profile. Hidden profiles have no row.
CREATE VIRTUAL TABLE people_fts USING fts5(
    user_id UNINDEXED,
    display_name,
    skills,
    disciplines,
    city,
    country,
    languages,
    bio,
    tokenize = 'unicode61 remove_diacritics 2'
);
