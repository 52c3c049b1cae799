//! Dot votes on boards: who opened them, and every person's dots. A dot is cast in one
//! transaction that checks the vote is open and the voter has a dot left, so no sequence of
//! requests places more dots than the vote allows.

use hubring_protocol::{ItemId, UserId, VoteId};
use sqlx::Row;

use crate::workspace::conflict;
use crate::{Store, StoreError, now_ms};

/// A vote, without its dots.
#[derive(Debug, Clone)]
pub struct VoteRecord {
    pub id: VoteId,
    pub item_id: ItemId,
    pub dots_per_person: u32,
    pub opened_by: (UserId, String),
    pub opened_at: i64,
    pub closed_at: Option<i64>,
}

/// What became of a dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DotOutcome {
    /// Placed (or, for a retraction, taken back).
    Done,
    /// The vote is closed.
    Closed,
    /// The voter has no dot left to place (or, for a retraction, none on that shape).
    NoneLeft,
    /// No such vote on this board.
    NoVote,
}

impl Store {
    /// Opens a vote on a board; [`StoreError::Conflict`] if one is open already.
    pub async fn open_vote(&self, vote: VoteRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO board_votes (id, item_id, dots_per_person, opened_by, opened_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(vote.id.as_str())
                .bind(vote.item_id.as_str())
                .bind(i64::from(vote.dots_per_person))
                .bind(vote.opened_by.0.as_str())
                .bind(vote.opened_at)
                .execute(&mut *conn)
                .await
                .map_err(conflict("open vote"))?;
                Ok(())
            })
        })
        .await
    }

    /// Closes a vote; `false` if it was not open.
    pub async fn close_vote(&self, item_id: &ItemId, vote_id: &VoteId) -> Result<bool, StoreError> {
        let (item_id, vote_id) = (item_id.clone(), vote_id.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE board_votes SET closed_at = $1 \
                     WHERE id = $2 AND item_id = $3 AND closed_at IS NULL",
                )
                .bind(now_ms())
                .bind(vote_id.as_str())
                .bind(item_id.as_str())
                .execute(&mut *conn)
                .await?;
                Ok(done.rows_affected() == 1)
            })
        })
        .await
    }

    /// Places one of `user`'s dots on `shape` (`delta = 1`), or takes one back (`delta = -1`).
    pub async fn change_dot(
        &self,
        item_id: &ItemId,
        vote_id: &VoteId,
        user: &UserId,
        shape: &str,
        delta: i64,
    ) -> Result<DotOutcome, StoreError> {
        let (item_id, vote_id, user, shape) =
            (item_id.clone(), vote_id.clone(), user.clone(), shape.to_owned());
        self.write(move |conn| {
            Box::pin(async move {
                let vote = sqlx::query(
                    "SELECT dots_per_person, closed_at FROM board_votes WHERE id = $1 AND item_id = $2",
                )
                .bind(vote_id.as_str())
                .bind(item_id.as_str())
                .fetch_optional(&mut *conn)
                .await?;
                let Some(vote) = vote else { return Ok(DotOutcome::NoVote) };
                if vote.try_get::<Option<i64>, _>("closed_at")?.is_some() {
                    return Ok(DotOutcome::Closed);
                }
                if delta > 0 {
                    let used: i64 = sqlx::query(
                        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM board_vote_dots WHERE vote_id = $1 AND user_id = $2",
                    )
                    .bind(vote_id.as_str())
                    .bind(user.as_str())
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get(0)?;
                    if used >= vote.try_get::<i64, _>("dots_per_person")? {
                        return Ok(DotOutcome::NoneLeft);
                    }
                    sqlx::query(
                        "INSERT INTO board_vote_dots (vote_id, user_id, shape_id, n) VALUES ($1, $2, $3, 1) \
                         ON CONFLICT (vote_id, user_id, shape_id) DO UPDATE SET n = board_vote_dots.n + 1",
                    )
                    .bind(vote_id.as_str())
                    .bind(user.as_str())
                    .bind(&shape)
                    .execute(&mut *conn)
                    .await?;
                } else {
                    let changed = sqlx::query(
                        "UPDATE board_vote_dots SET n = n - 1 \
                         WHERE vote_id = $1 AND user_id = $2 AND shape_id = $3 AND n > 1",
                    )
                    .bind(vote_id.as_str())
                    .bind(user.as_str())
                    .bind(&shape)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    let removed = if changed == 0 {
                        sqlx::query(
                            "DELETE FROM board_vote_dots WHERE vote_id = $1 AND user_id = $2 AND shape_id = $3",
                        )
                        .bind(vote_id.as_str())
                        .bind(user.as_str())
                        .bind(&shape)
                        .execute(&mut *conn)
                        .await?
                        .rows_affected()
                    } else {
                        0
                    };
                    if changed + removed == 0 {
                        return Ok(DotOutcome::NoneLeft);
                    }
                }
                Ok(DotOutcome::Done)
            })
        })
        .await
    }

    /// The board's open vote, or else its latest.
    pub async fn current_vote(&self, item_id: &ItemId) -> Result<Option<VoteRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT v.id, v.item_id, v.dots_per_person, v.opened_by, u.display_name, v.opened_at, \
             v.closed_at FROM board_votes v JOIN users u ON u.id = v.opened_by WHERE v.item_id = $1 \
             ORDER BY v.closed_at IS NULL DESC, v.opened_at DESC, v.id DESC LIMIT 1",
        )
        .bind(item_id.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(VoteRecord {
                id: VoteId(row.try_get("id")?),
                item_id: ItemId(row.try_get("item_id")?),
                dots_per_person: u32::try_from(row.try_get::<i64, _>("dots_per_person")?)
                    .map_err(|_| StoreError::Corrupt("dots_per_person".into()))?,
                opened_by: (UserId(row.try_get("opened_by")?), row.try_get("display_name")?),
                opened_at: row.try_get("opened_at")?,
                closed_at: row.try_get("closed_at")?,
            })
        })
        .transpose()
    }

    /// Every dot of a vote: `(voter, shape, dots)`.
    pub async fn vote_dots(
        &self,
        vote_id: &VoteId,
    ) -> Result<Vec<(UserId, String, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, shape_id, n FROM board_vote_dots WHERE vote_id = $1 ORDER BY shape_id, user_id",
        )
        .bind(vote_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let n: i64 = row.try_get("n")?;
                Ok((
                    UserId(row.try_get("user_id")?),
                    row.try_get("shape_id")?,
                    u32::try_from(n).map_err(|_| StoreError::Corrupt("dots".into()))?,
                ))
            })
            .collect()
    }
}
