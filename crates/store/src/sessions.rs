//! Sessions on the calendar, who is invited and what they answered, and the secret of each
//! person's calendar feed. Times are computed by `hubring-workspace`; this module keeps them
//! and makes each answer, with the waiting list it may move, one transaction.

use hubring_protocol::{ItemId, MeetingId, ProjectId, UserId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{Store, StoreError, now_ms};

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: MeetingId,
    pub project_id: ProjectId,
    pub title: String,
    /// `peer_learning`, `coaching`, `workshop` or `meeting`.
    pub kind: String,
    pub agenda: String,
    pub time_zone: String,
    /// The first start on the organiser's wall clock, `YYYY-MM-DDTHH:MM`.
    pub starts_local: String,
    pub duration_min: i64,
    /// `weekly` or `monthly`; none: once.
    pub frequency: Option<String>,
    pub repeats: i64,
    /// Local dates (`YYYY-MM-DD`) it does not happen on.
    pub exceptions: Vec<String>,
    pub capacity: Option<i64>,
    pub room_id: ItemId,
    pub notes_id: Option<ItemId>,
    pub organiser_id: UserId,
    pub sequence: i64,
    pub first_start: i64,
    pub last_end: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Someone invited to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendeeRecord {
    pub user_id: UserId,
    pub display_name: String,
    /// `invited`, `going`, `maybe`, `declined` or `waiting`.
    pub status: String,
    pub changed_at: i64,
}

/// What an answer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsvpOutcome {
    /// The standing it left the person with (`waiting` when they asked for going and the
    /// session was full).
    pub status: String,
    /// Who moved up from the waiting list because a place freed.
    pub promoted: Vec<UserId>,
}

/// The columns of `sessions`, in the order `create_session` binds them (a macro, so queries
/// stay static strings).
macro_rules! columns {
    () => {
        "id, project_id, title, kind, agenda, time_zone, starts_local, duration_min, frequency, \
         repeats, exceptions, capacity, room_id, notes_id, organiser_id, sequence, first_start, \
         last_end, created_at, updated_at"
    };
}

fn record(row: &AnyRow) -> Result<SessionRecord, StoreError> {
    let exceptions: String = row.try_get("exceptions")?;
    Ok(SessionRecord {
        id: MeetingId(row.try_get("id")?),
        project_id: ProjectId(row.try_get("project_id")?),
        title: row.try_get("title")?,
        kind: row.try_get("kind")?,
        agenda: row.try_get("agenda")?,
        time_zone: row.try_get("time_zone")?,
        starts_local: row.try_get("starts_local")?,
        duration_min: row.try_get("duration_min")?,
        frequency: row.try_get("frequency")?,
        repeats: row.try_get("repeats")?,
        exceptions: exceptions.split(',').filter(|d| !d.is_empty()).map(str::to_owned).collect(),
        capacity: row.try_get("capacity")?,
        room_id: ItemId(row.try_get("room_id")?),
        notes_id: row.try_get::<Option<String>, _>("notes_id")?.map(ItemId),
        organiser_id: UserId(row.try_get("organiser_id")?),
        sequence: row.try_get("sequence")?,
        first_start: row.try_get("first_start")?,
        last_end: row.try_get("last_end")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Stores a new session and invites `invited` (the organiser hosts it and is not counted).
    pub async fn create_session(
        &self,
        session: SessionRecord,
        invited: Vec<UserId>,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(concat!(
                    "INSERT INTO sessions (",
                    columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, $17, $18, $19, $20)"
                ))
                .bind(session.id.as_str())
                .bind(session.project_id.as_str())
                .bind(session.title.as_str())
                .bind(session.kind.as_str())
                .bind(session.agenda.as_str())
                .bind(session.time_zone.as_str())
                .bind(session.starts_local.as_str())
                .bind(session.duration_min)
                .bind(session.frequency.as_deref())
                .bind(session.repeats)
                .bind(session.exceptions.join(","))
                .bind(session.capacity)
                .bind(session.room_id.as_str())
                .bind(session.notes_id.as_ref().map(ItemId::as_str))
                .bind(session.organiser_id.as_str())
                .bind(session.sequence)
                .bind(session.first_start)
                .bind(session.last_end)
                .bind(session.created_at)
                .bind(session.updated_at)
                .execute(&mut *conn)
                .await?;
                invite(conn, &session.id, &session.organiser_id, &invited).await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn session(&self, id: &MeetingId) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM sessions WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(record).transpose()
    }

    /// A project's sessions that end after `after`, soonest first.
    pub async fn project_sessions(
        &self,
        project: &ProjectId,
        after: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sessions WHERE project_id = $1 AND last_end > $2 ORDER BY first_start, id"
        ))
        .bind(project.as_str())
        .bind(after)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Sessions that end after `after` which `user` organises or is invited to (declined
    /// ones included: the caller decides).
    pub async fn user_sessions(
        &self,
        user: &UserId,
        after: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sessions WHERE last_end > $1 AND (organiser_id = $2 OR id IN \
             (SELECT session_id FROM session_attendees WHERE user_id = $3)) \
             ORDER BY first_start, id"
        ))
        .bind(after)
        .bind(user.as_str())
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Writes a changed session, raising its sequence, invites `invited` too, and moves people
    /// up from the waiting list if the capacity grew. Returns who moved up.
    pub async fn update_session(
        &self,
        session: SessionRecord,
        invited: Vec<UserId>,
    ) -> Result<Vec<UserId>, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE sessions SET title = $1, agenda = $2, time_zone = $3, \
                     starts_local = $4, duration_min = $5, frequency = $6, repeats = $7, \
                     exceptions = $8, capacity = $9, sequence = sequence + 1, first_start = $10, \
                     last_end = $11, updated_at = $12 WHERE id = $13",
                )
                .bind(session.title.as_str())
                .bind(session.agenda.as_str())
                .bind(session.time_zone.as_str())
                .bind(session.starts_local.as_str())
                .bind(session.duration_min)
                .bind(session.frequency.as_deref())
                .bind(session.repeats)
                .bind(session.exceptions.join(","))
                .bind(session.capacity)
                .bind(session.first_start)
                .bind(session.last_end)
                .bind(now_ms())
                .bind(session.id.as_str())
                .execute(&mut *conn)
                .await?;
                invite(conn, &session.id, &session.organiser_id, &invited).await?;
                fill_places(conn, &session.id).await
            })
        })
        .await
    }

    pub async fn delete_session(&self, id: &MeetingId) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// Sessions with an occurrence that may start before `until` and that have not ended.
    pub async fn sessions_starting_before(
        &self,
        now: i64,
        until: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM sessions WHERE last_end > $1 AND first_start <= $2 ORDER BY first_start, id"
        ))
        .bind(now)
        .bind(until)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record).collect()
    }

    /// Claims the reminder of the occurrence starting at `start`: true for the one caller (on
    /// any node) that moved the session's mark past it.
    pub async fn claim_reminder(&self, id: &MeetingId, start: i64) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let done = sqlx::query(
                    "UPDATE sessions SET reminded_through = $1 \
                     WHERE id = $2 AND reminded_through < $3",
                )
                .bind(start)
                .bind(id.as_str())
                .bind(start)
                .execute(&mut *conn)
                .await?;
                Ok(done.rows_affected() == 1)
            })
        })
        .await
    }

    /// Who is invited, in the order they answered (the waiting list's order).
    pub async fn attendees(&self, id: &MeetingId) -> Result<Vec<AttendeeRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.user_id, u.display_name, a.status, a.changed_at FROM session_attendees a \
             JOIN users u ON u.id = a.user_id WHERE a.session_id = $1 \
             ORDER BY a.changed_at, a.user_id",
        )
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AttendeeRecord {
                    user_id: UserId(row.try_get("user_id")?),
                    display_name: row.try_get("display_name")?,
                    status: row.try_get("status")?,
                    changed_at: row.try_get("changed_at")?,
                })
            })
            .collect()
    }

    /// Records `user`'s answer (`going`, `maybe` or `declined`) in one transaction with the
    /// session's capacity: going to a full session puts them on the waiting list, and a
    /// place freed moves the first one waiting up.
    pub async fn rsvp(
        &self,
        id: &MeetingId,
        user: &UserId,
        response: &'static str,
    ) -> Result<RsvpOutcome, StoreError> {
        let (id, user) = (id.clone(), user.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let before: Option<String> = sqlx::query(
                    "SELECT status FROM session_attendees WHERE session_id = $1 AND user_id = $2",
                )
                .bind(id.as_str())
                .bind(user.as_str())
                .fetch_optional(&mut *conn)
                .await?
                .map(|row| row.try_get(0))
                .transpose()?;
                let status = if response == "going" {
                    match before.as_deref() {
                        Some("going") | Some("waiting") => before.clone().unwrap_or_default(),
                        _ if has_place(conn, &id).await? => "going".to_owned(),
                        _ => "waiting".to_owned(),
                    }
                } else {
                    response.to_owned()
                };
                if before.as_deref() != Some(status.as_str()) {
                    sqlx::query(
                        "INSERT INTO session_attendees (session_id, user_id, status, changed_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, user_id) \
                         DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at",
                    )
                    .bind(id.as_str())
                    .bind(user.as_str())
                    .bind(status.as_str())
                    .bind(now_ms())
                    .execute(&mut *conn)
                    .await?;
                }
                let promoted = fill_places(conn, &id).await?;
                Ok(RsvpOutcome { status, promoted })
            })
        })
        .await
    }

    /// The secret of `user`'s calendar feed, made (from `fresh`) the first time it is asked for.
    pub async fn calendar_secret(
        &self,
        user: &UserId,
        fresh: String,
    ) -> Result<String, StoreError> {
        // Read first: the secret exists after the first time, and a read needs no writer.
        let row = sqlx::query("SELECT calendar_secret FROM users WHERE id = $1")
            .bind(user.as_str())
            .fetch_optional(self.pool())
            .await?;
        if let Some(secret) = row.and_then(|r| r.try_get::<Option<String>, _>(0).ok().flatten()) {
            return Ok(secret);
        }
        let user = user.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "UPDATE users SET calendar_secret = $1 WHERE id = $2 AND calendar_secret IS NULL",
                )
                .bind(fresh.as_str())
                .bind(user.as_str())
                .execute(&mut *conn)
                .await?;
                let row = sqlx::query("SELECT calendar_secret FROM users WHERE id = $1")
                    .bind(user.as_str())
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(row.try_get::<Option<String>, _>(0)?.unwrap_or_default())
            })
        })
        .await
    }

    /// Replaces `user`'s calendar secret: the old feed address stops working.
    pub async fn replace_calendar_secret(
        &self,
        user: &UserId,
        fresh: String,
    ) -> Result<(), StoreError> {
        let user = user.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("UPDATE users SET calendar_secret = $1 WHERE id = $2")
                    .bind(fresh.as_str())
                    .bind(user.as_str())
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// Whose calendar feed this secret opens.
    pub async fn user_by_calendar_secret(
        &self,
        secret: &str,
    ) -> Result<Option<UserId>, StoreError> {
        let row = sqlx::query("SELECT id FROM users WHERE calendar_secret = $1")
            .bind(secret)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?.map(UserId))
    }
}

/// Invites people not invited yet (answers already given stay).
async fn invite(
    conn: &mut AnyConnection,
    id: &MeetingId,
    organiser: &UserId,
    invited: &[UserId],
) -> Result<(), StoreError> {
    let now = now_ms();
    for user in invited.iter().filter(|u| *u != organiser) {
        sqlx::query(
            "INSERT INTO session_attendees (session_id, user_id, status, changed_at) \
             VALUES ($1, $2, 'invited', $3) ON CONFLICT (session_id, user_id) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(user.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn capacity_and_going(
    conn: &mut AnyConnection,
    id: &MeetingId,
) -> Result<(Option<i64>, i64), StoreError> {
    let row = sqlx::query(
        "SELECT capacity, (SELECT COUNT(*) FROM session_attendees \
         WHERE session_id = $1 AND status = 'going') AS going FROM sessions WHERE id = $2",
    )
    .bind(id.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::Corrupt(format!("session {id} is gone")))?;
    Ok((row.try_get("capacity")?, row.try_get("going")?))
}

async fn has_place(conn: &mut AnyConnection, id: &MeetingId) -> Result<bool, StoreError> {
    let (capacity, going) = capacity_and_going(conn, id).await?;
    Ok(capacity.is_none_or(|c| going < c))
}

/// Moves people from the waiting list to going, first come first served, while there is room.
async fn fill_places(conn: &mut AnyConnection, id: &MeetingId) -> Result<Vec<UserId>, StoreError> {
    let (capacity, going) = capacity_and_going(conn, id).await?;
    let free = capacity.map_or(i64::MAX, |c| (c - going).max(0));
    if free == 0 {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT user_id FROM session_attendees WHERE session_id = $1 AND status = 'waiting' \
         ORDER BY changed_at, user_id LIMIT $2",
    )
    .bind(id.as_str())
    .bind(free.min(10_000))
    .fetch_all(&mut *conn)
    .await?;
    let mut promoted = Vec::new();
    for row in rows {
        let user = UserId(row.try_get(0)?);
        sqlx::query(
            "UPDATE session_attendees SET status = 'going', changed_at = $1 \
             WHERE session_id = $2 AND user_id = $3",
        )
        .bind(now_ms())
        .bind(id.as_str())
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
        promoted.push(user);
    }
    Ok(promoted)
}
