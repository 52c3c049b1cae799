-- Dot votes on boards. The votes are kept here, not in the board's document, so that only the
-- server writes them: nobody places more dots than the vote allows, or places them for
-- someone else. The document carries a copy of the tally for display.
CREATE TABLE board_votes (
    id               TEXT    NOT NULL PRIMARY KEY,
    item_id          TEXT    NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    dots_per_person  INTEGER NOT NULL,
    opened_by        TEXT    NOT NULL REFERENCES users (id),
    opened_at        BIGINT  NOT NULL,
    closed_at        BIGINT
);
-- At most one open vote per board.
CREATE UNIQUE INDEX board_votes_open ON board_votes (item_id) WHERE closed_at IS NULL;
CREATE INDEX board_votes_item ON board_votes (item_id, opened_at);

CREATE TABLE board_vote_dots (
    vote_id   TEXT    NOT NULL REFERENCES board_votes (id) ON DELETE CASCADE,
    user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shape_id  TEXT    NOT NULL,
    n         INTEGER NOT NULL CHECK (n > 0),
    PRIMARY KEY (vote_id, user_id, shape_id)
);
