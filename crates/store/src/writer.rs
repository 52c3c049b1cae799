//! The single writer: every write of the store passes through here, so SQLite never sees two
//! writers, and whatever queues up while a commit runs becomes the next commit (group commit).
//! On PostgreSQL each node has its own writer; what keeps nodes apart is in the SQL: a
//! document's next sequence number is read and used under that document's advisory lock, so
//! its updates are numbered, and committed, in one order whichever node writes them, and
//! workspace jobs take one advisory lock between them.

use futures_util::future::BoxFuture;
use hubring_protocol::DocId;
use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot};

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::{Counters, Engine, StoreError, now_ms};

pub(crate) type Done = oneshot::Sender<Result<(), StoreError>>;

/// Answers an append with the sequence number its first update was given.
pub(crate) type Appended = oneshot::Sender<Result<i64, StoreError>>;

/// A write of the workspace's records: runs on the writer's connection, inside a transaction the
/// job itself opens through [`crate::Store::write`], and reports through its own channel.
pub(crate) type Job =
    Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, ()> + Send + Sync>;

pub(crate) enum WriteReq {
    Append { doc: DocId, updates: Vec<Vec<u8>>, done: Appended },
    Compact { doc: DocId, up_to_seq: i64, snapshot: Vec<u8>, done: Done },
    Job(Job),
}

impl std::fmt::Debug for WriteReq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Append { doc, updates, .. } => f
                .debug_struct("Append")
                .field("doc", doc)
                .field("n_updates", &updates.len())
                .finish(),
            Self::Compact { doc, up_to_seq, .. } => {
                f.debug_struct("Compact").field("doc", doc).field("up_to_seq", up_to_seq).finish()
            }
            Self::Job(_) => f.write_str("Job"),
        }
    }
}

/// Runs until every [`crate::Store`] handle is dropped. Each batch takes a connection from the
/// pool, so a connection the database dropped (a PostgreSQL restart) is replaced, not reused.
pub(crate) async fn run(
    pool: AnyPool,
    engine: Engine,
    mut rx: mpsc::Receiver<WriteReq>,
    max_batch: usize,
    counters: Arc<Counters>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut batch, max_batch).await > 0 {
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(err) => {
                tracing::warn!(%err, "no database connection for the writer");
                for req in batch.drain(..) {
                    fail(req, &err);
                }
                continue;
            }
        };
        let (appends, others): (Vec<_>, Vec<_>) =
            batch.drain(..).partition(|req| matches!(req, WriteReq::Append { .. }));
        commit_appends(&mut conn, engine, appends, &counters).await;
        for req in others {
            match req {
                WriteReq::Compact { doc, up_to_seq, snapshot, done } => {
                    let result = compact(&mut conn, &doc, up_to_seq, &snapshot).await;
                    let _ = done.send(result);
                }
                WriteReq::Job(job) => job(&mut conn).await,
                WriteReq::Append { .. } => unreachable!("partitioned out"),
            }
        }
    }
    pool.close().await;
}

/// Answers a request that could not run: appends and compactions get the error; a job's own
/// channel closes unanswered, which its caller reads as [`StoreError::Closed`].
fn fail(req: WriteReq, err: &sqlx::Error) {
    match req {
        WriteReq::Append { done, .. } => {
            let _ = done.send(Err(StoreError::Unavailable(err.to_string())));
        }
        WriteReq::Compact { done, .. } => {
            let _ = done.send(Err(StoreError::Unavailable(err.to_string())));
        }
        WriteReq::Job(_) => {}
    }
}

/// Commits every append in one transaction; if that fails, each is retried alone so one bad
/// request cannot fail the documents it happened to share a batch with.
async fn commit_appends(
    conn: &mut AnyConnection,
    engine: Engine,
    mut appends: Vec<WriteReq>,
    counters: &Counters,
) {
    if appends.is_empty() {
        return;
    }
    // Documents are locked in one order on every node, so two nodes' batches never deadlock.
    appends.sort_by(|a, b| doc_of(a).cmp(doc_of(b)));
    match append_all(conn, engine, &appends, counters).await {
        Ok(firsts) => {
            for (req, first) in appends.into_iter().zip(firsts) {
                if let WriteReq::Append { done, .. } = req {
                    let _ = done.send(Ok(first));
                }
            }
        }
        Err(err) if appends.len() == 1 => {
            if let Some(WriteReq::Append { done, .. }) = appends.into_iter().next() {
                let _ = done.send(Err(err));
            }
        }
        Err(err) => {
            tracing::warn!(%err, n_requests = appends.len(), "group commit failed, retrying each");
            for req in appends {
                let result = append_all(conn, engine, std::slice::from_ref(&req), counters).await;
                if let WriteReq::Append { done, .. } = req {
                    let _ = done.send(result.map(|firsts| firsts[0]));
                }
            }
        }
    }
}

/// The document an append is for (the batch holds appends only).
fn doc_of(req: &WriteReq) -> &str {
    match req {
        WriteReq::Append { doc, .. } => doc.as_str(),
        WriteReq::Compact { .. } | WriteReq::Job(_) => "",
    }
}

/// Appends each request's updates after its document's last sequence number, in one
/// transaction; returns each request's first number.
async fn append_all(
    conn: &mut AnyConnection,
    engine: Engine,
    appends: &[WriteReq],
    counters: &Counters,
) -> Result<Vec<i64>, StoreError> {
    let at = now_ms();
    let mut n_updates = 0;
    let mut firsts = Vec::with_capacity(appends.len());
    // IMMEDIATE on SQLite: the transaction reads the last numbers before it writes, and a read
    // transaction that then writes fails at once if another process wrote meanwhile.
    let mut txn = conn.begin_with(begin(engine)).await?;
    for req in appends {
        let WriteReq::Append { doc, updates, .. } = req else { continue };
        if engine == Engine::Postgres {
            // Held to the commit: another node's append to this document waits here, then
            // reads the number this one leaves, so numbers are committed in their order.
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind(DOC_LOCK_CLASS)
                .bind(doc.as_str())
                .execute(&mut *txn)
                .await?;
        }
        let last: i64 =
            sqlx::query_scalar(LAST_SEQ).bind(doc.as_str()).fetch_one(&mut *txn).await?;
        firsts.push(last + 1);
        for (seq, bytes) in (last + 1..).zip(updates) {
            sqlx::query(
                "INSERT INTO doc_updates (doc_id, seq, bytes, at_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(doc.as_str())
            .bind(seq)
            .bind(bytes.as_slice())
            .bind(at)
            .execute(&mut *txn)
            .await?;
            n_updates += 1;
        }
    }
    txn.commit().await?;
    counters.commits.fetch_add(1, Ordering::Relaxed);
    counters.updates.fetch_add(n_updates, Ordering::Relaxed);
    Ok(firsts)
}

fn begin(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "BEGIN IMMEDIATE",
        Engine::Postgres => "BEGIN",
    }
}

/// The first key of the advisory locks on documents (the second is the document's hash), apart
/// from the one-key lock of workspace jobs.
const DOC_LOCK_CLASS: i32 = 0x6875_6272;

/// A document's last sequence number: its log's, or its snapshot's once compaction emptied the
/// log. Both are read by the primary key.
const LAST_SEQ: &str = "SELECT CAST(COALESCE(MAX(s), 0) AS BIGINT) FROM (\
     SELECT MAX(seq) AS s FROM doc_updates WHERE doc_id = $1 \
     UNION ALL SELECT up_to_seq FROM doc_snapshots WHERE doc_id = $1) AS h";

async fn compact(
    conn: &mut AnyConnection,
    doc: &DocId,
    up_to_seq: i64,
    snapshot: &[u8],
) -> Result<(), StoreError> {
    let mut txn = conn.begin().await?;
    sqlx::query(
        "INSERT INTO doc_snapshots (doc_id, up_to_seq, bytes, at_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (doc_id) DO UPDATE SET up_to_seq = excluded.up_to_seq, \
         bytes = excluded.bytes, at_ms = excluded.at_ms \
         WHERE doc_snapshots.up_to_seq < excluded.up_to_seq",
    )
    .bind(doc.as_str())
    .bind(up_to_seq)
    .bind(snapshot)
    .bind(now_ms())
    .execute(&mut *txn)
    .await?;
    sqlx::query("DELETE FROM doc_updates WHERE doc_id = $1 AND seq <= $2")
        .bind(doc.as_str())
        .bind(up_to_seq)
        .execute(&mut *txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
