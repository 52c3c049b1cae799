//! All of Hubring's SQL, through sqlx, on two engines: SQLite (the embedded default, one file)
//! and PostgreSQL (several nodes on one database). Nothing above the store knows which one runs.
//!
//! The store keeps bytes it does not interpret: it knows nothing of yrs. Every write of a node
//! goes through one writer task ([`writer`]) that gathers whatever arrives while a commit is in
//! flight into the next transaction (group commit), so many documents' edits share one fsync.
//! Queries are written once ([`sql`] says how); each engine has its own migrations
//! (`migrations/sqlite`, `migrations/postgres`), run at start.

mod account_tokens;
mod assets;
mod boards;
mod chat;
mod codec;
mod comments;
mod directory;
mod hubs;
mod mail;
mod notifications;
mod sessions;
mod sql;
mod templates;
mod versions;
mod workspace;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use futures_util::future::BoxFuture;
use hubring_protocol::DocId;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Executor, Row};
use tokio::sync::{mpsc, oneshot};

use writer::WriteReq;

pub use account_tokens::{TokenPurpose, TokenUse};
pub use assets::AssetRecord;
pub use boards::{DotOutcome, VoteRecord};
pub use chat::ChatError;
pub use comments::{CommentRecord, NewComment, NewThread, Softness, ThreadChange, ThreadRecord};
pub use directory::{PeopleQuery, ProfileChanges, ProfileRecord};
pub use hubs::{HubFields, HubProject, HubRecord};
pub use mail::{OutboxCounts, OutboxMail};
pub use notifications::NotificationRecord;
pub use sessions::{AttendeeRecord, RsvpOutcome, SessionRecord};
pub use sql::Engine;
pub use templates::TemplateMeta;
pub use versions::{VersionMeta, thin as thin_versions};
pub use workspace::{
    CoachingRecord, Credential, InviteRecord, ItemDoc, ItemRecord, MemberRecord, NewUser,
    ProjectChanges, ProjectRecord, Redeemed, TokenRecord, TrashedRecord, UserRecord,
};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    #[error("the store is shut down")]
    Closed,
    /// The database could not be reached.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A write broke a uniqueness rule: `0` names what is taken (e.g. `email`).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// A stored value this build does not understand.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a statement waits for a lock held by another connection before failing.
    pub busy_timeout: Duration,
    /// Most write requests merged into one transaction.
    pub max_batch: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { busy_timeout: Duration::from_secs(5), max_batch: 1024 }
    }
}

/// A document as stored: the latest snapshot (if any), then every update logged after it.
#[derive(Debug, Default)]
pub struct StoredDoc {
    pub snapshot: Option<Vec<u8>>,
    pub updates: Vec<Vec<u8>>,
    /// The sequence number of the last update folded into the snapshot or logged; 0 for none.
    pub last_seq: i64,
}

impl StoredDoc {
    /// The snapshot then the log, in the order they must be applied.
    pub fn parts(&self) -> impl Iterator<Item = &[u8]> {
        self.snapshot.iter().chain(self.updates.iter()).map(Vec::as_slice)
    }
}

/// The store handle; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// How it was opened, for [`Store::reopen`].
    opened: Arc<(AnyConnectOptions, StoreOptions)>,
    engine: Engine,
    writer: mpsc::Sender<WriteReq>,
    counters: Arc<Counters>,
}

/// Running totals of the writer, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Updates appended to document logs.
    pub updates: AtomicU64,
}

/// The key of the PostgreSQL advisory lock every workspace write takes: one node's writer at a
/// time, as SQLite's single writer is, so a job's reads and writes stay consistent across nodes.
const WRITE_LOCK_KEY: i64 = 0x6875_6272_696e_6701;

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` in WAL mode and migrates it.
    pub async fn open_path(path: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let url = SqliteConnectOptions::new().filename(path).create_if_missing(true).to_url_lossy();
        Self::open_with(Engine::Sqlite, AnyConnectOptions::from_url(&url)?, options).await
    }

    /// Opens a database URL (`sqlite:PATH`, `postgres://...` or `postgresql://...`) and migrates
    /// it.
    pub async fn open_url(url: &str, options: StoreOptions) -> Result<Self, StoreError> {
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let connect = if engine == Engine::Sqlite {
            let sqlite = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
            AnyConnectOptions::from_url(&sqlite.to_url_lossy())?
        } else {
            AnyConnectOptions::from_str(url)?
        };
        Self::open_with(engine, connect, options).await
    }

    /// A second, independent handle on the same database (its own pool and writer), as another
    /// node or process would open it.
    pub async fn reopen(&self) -> Result<Self, StoreError> {
        let (connect, options) = &*self.opened;
        Self::open_with(self.engine, connect.clone(), options.clone()).await
    }

    async fn open_with(
        engine: Engine,
        connect: AnyConnectOptions,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let busy_ms = options.busy_timeout.as_millis();
        let pool = AnyPoolOptions::new()
            .max_connections(if engine == Engine::Sqlite { 4 } else { 8 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    let setup = match engine {
                        // synchronous=FULL: a commit is on disk before it returns, so an
                        // acknowledged edit survives power loss, not only a process crash. Group
                        // commit pays for the fsync. busy_timeout: how long a statement waits for
                        // another connection's lock before failing.
                        Engine::Sqlite => format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA busy_timeout = {busy_ms}; PRAGMA foreign_keys = ON"
                        ),
                        // The same bound on waiting for a lock; commits are durable by default
                        // (synchronous_commit on).
                        Engine::Postgres => format!("SET lock_timeout = {busy_ms}"),
                    };
                    conn.execute(sqlx::AssertSqlSafe(setup)).await?;
                    Ok(())
                })
            })
            .connect_with(connect.clone())
            .await?;
        match engine {
            Engine::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Engine::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let (tx, rx) = mpsc::channel(options.max_batch);
        let counters = Arc::new(Counters::default());
        tokio::spawn(writer::run(
            pool.clone(),
            engine,
            rx,
            options.max_batch,
            Arc::clone(&counters),
        ));
        Ok(Self { pool, opened: Arc::new((connect, options)), engine, writer: tx, counters })
    }

    /// The engine behind this store.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Succeeds when the database answers a query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Reads a document: its latest snapshot and the log after it. An unknown document is empty.
    pub async fn load(&self, doc: &DocId) -> Result<StoredDoc, StoreError> {
        self.load_after(doc, 0).await
    }

    /// What a reader who has every update up to `after_seq` is missing: the log after it, or,
    /// when compaction has folded part of that into the snapshot, the snapshot and the log
    /// after the snapshot. Read in one transaction, so a compaction committed meanwhile (on
    /// another node) cannot slip between the snapshot and the log.
    pub async fn load_after(&self, doc: &DocId, after_seq: i64) -> Result<StoredDoc, StoreError> {
        let mut conn = self.pool.acquire().await?;
        conn.execute(match self.engine {
            Engine::Sqlite => "BEGIN",
            Engine::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        })
        .await?;
        let read = async {
            let snapshot = sqlx::query(
                "SELECT up_to_seq, bytes FROM doc_snapshots WHERE doc_id = $1 AND up_to_seq > $2",
            )
            .bind(doc.as_str())
            .bind(after_seq)
            .fetch_optional(&mut *conn)
            .await?;
            let (from, snapshot) = match snapshot {
                Some(row) => (row.try_get::<i64, _>(0)?, Some(row.try_get::<Vec<u8>, _>(1)?)),
                None => (after_seq, None),
            };
            let rows = sqlx::query(
                "SELECT seq, bytes FROM doc_updates WHERE doc_id = $1 AND seq > $2 ORDER BY seq",
            )
            .bind(doc.as_str())
            .bind(from)
            .fetch_all(&mut *conn)
            .await?;
            let mut stored =
                StoredDoc { snapshot, updates: Vec::with_capacity(rows.len()), last_seq: from };
            for row in rows {
                stored.last_seq = row.try_get(0)?;
                stored.updates.push(row.try_get(1)?);
            }
            Ok::<_, StoreError>(stored)
        }
        .await;
        // Read only: ending it either way changes nothing.
        let end = conn.execute("ROLLBACK").await;
        let stored = read?;
        end?;
        Ok(stored)
    }

    /// The last sequence number of each of `docs` that has any (in no particular order).
    pub async fn heads(&self, docs: &[DocId]) -> Result<Vec<(DocId, i64)>, StoreError> {
        let mut out = Vec::with_capacity(docs.len());
        for chunk in docs.chunks(500) {
            let ids = || chunk.iter().map(|doc| doc.as_str().to_owned());
            let mut query = sql::Sql::new("SELECT doc_id, CAST(MAX(s) AS BIGINT) FROM (");
            query.push("SELECT doc_id, MAX(seq) AS s FROM doc_updates WHERE doc_id IN (");
            query.bind_list(ids());
            query.push(") GROUP BY doc_id UNION ALL ");
            query.push("SELECT doc_id, up_to_seq FROM doc_snapshots WHERE doc_id IN (");
            query.bind_list(ids());
            query.push(")) AS h GROUP BY doc_id");
            for row in query.build().fetch_all(&self.pool).await? {
                let id: String = row.try_get(0)?;
                let doc = DocId::parse(&id).map_err(|err| StoreError::Corrupt(err.to_string()))?;
                out.push((doc, row.try_get(1)?));
            }
        }
        Ok(out)
    }

    /// Appends `updates` to a document's log after its last sequence number and returns, once
    /// they are committed, the number the first was given (the others follow it). Requests
    /// arriving while a commit is in flight share the next one. Whichever node appends, a
    /// document's numbers are committed in order: a reader that sees `n` sees everything
    /// before it.
    pub async fn append(&self, doc: &DocId, updates: Vec<Vec<u8>>) -> Result<i64, StoreError> {
        self.request(|done| WriteReq::Append { doc: doc.clone(), updates, done }).await
    }

    /// Replaces a document's snapshot with `snapshot` (the merge of everything up to `up_to_seq`,
    /// and possibly more) and drops the log it covers, in one transaction. A snapshot never
    /// replaces one that covers more, so two nodes compacting at once lose nothing.
    pub async fn compact(
        &self,
        doc: &DocId,
        up_to_seq: i64,
        snapshot: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.request(|done| WriteReq::Compact { doc: doc.clone(), up_to_seq, snapshot, done }).await
    }

    /// Runs `job` in one transaction on the writer's connection, after whatever is queued: the
    /// workspace's writes share the single writer with document logs, so SQLite never sees two.
    /// An error from `job` rolls the transaction back.
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        let (done, wait) = oneshot::channel();
        let engine = self.engine;
        let job: writer::Job = Box::new(move |conn| {
            Box::pin(async move {
                let _ = done.send(in_transaction(engine, conn, job).await);
            })
        });
        self.writer.send(WriteReq::Job(job)).await.map_err(|_| StoreError::Closed)?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    /// The pool, for reads.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> WriteReq,
    ) -> Result<T, StoreError> {
        let (done, wait) = oneshot::channel();
        self.writer.send(make(done)).await.map_err(|_| StoreError::Closed)?;
        wait.await.map_err(|_| StoreError::Closed)?
    }

    /// Number of updates logged for a document after its snapshot.
    pub async fn log_len(&self, doc: &DocId) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM doc_updates u WHERE u.doc_id = $1 AND u.seq > \
             COALESCE((SELECT s.up_to_seq FROM doc_snapshots s WHERE s.doc_id = u.doc_id), 0)",
        )
        .bind(doc.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Takes the database's write lock from another connection and holds it until the guard
    /// drops, as a second process would. Commits fail meanwhile (after the busy timeout); used
    /// to test that a failing store loses and leaks nothing.
    pub async fn hold_write_lock(&self) -> Result<WriteLock, StoreError> {
        let mut conn = self.pool.acquire().await?.detach();
        match self.engine {
            Engine::Sqlite => {
                conn.execute("BEGIN IMMEDIATE").await?;
            }
            Engine::Postgres => {
                conn.execute("BEGIN").await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK_KEY)
                    .execute(&mut conn)
                    .await?;
                conn.execute("LOCK TABLE doc_updates, doc_snapshots IN EXCLUSIVE MODE").await?;
            }
        }
        Ok(WriteLock { _conn: conn })
    }

    /// Commits and updates written so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Closes the pool once pending writes are done.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Holds the database's write lock; dropping it closes the connection, which releases the lock.
#[derive(Debug)]
pub struct WriteLock {
    _conn: AnyConnection,
}

async fn in_transaction<T, F>(
    engine: Engine,
    conn: &mut AnyConnection,
    job: F,
) -> Result<T, StoreError>
where
    F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, StoreError>>,
{
    match engine {
        // IMMEDIATE: take the write lock now, so a job never fails half-way on an upgrade.
        Engine::Sqlite => {
            conn.execute("BEGIN IMMEDIATE").await?;
        }
        // One workspace write at a time across every node: jobs read, decide and write (the
        // last owner, the dots left), which needs what SQLite's single writer gives.
        Engine::Postgres => {
            conn.execute("BEGIN").await?;
            let locked = sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(WRITE_LOCK_KEY)
                .execute(&mut *conn)
                .await;
            if let Err(err) = locked {
                let _ = conn.execute("ROLLBACK").await;
                return Err(err.into());
            }
        }
    }
    let result = match job(conn).await {
        Ok(value) => conn.execute("COMMIT").await.map(|_| value).map_err(Into::into),
        Err(err) => Err(err),
    };
    if result.is_err() {
        // A failed job, or a failed commit (which leaves the transaction open).
        if let Err(rollback) = conn.execute("ROLLBACK").await {
            tracing::warn!(%rollback, "rollback failed");
        }
    }
    result
}

pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The store test suite runs every test on both engines: `store_tests!` turns each
/// `async fn name(store: Store) { ... }` into `name::sqlite` and `name::postgres`, the latter on
/// a fresh database of the test process's throwaway PostgreSQL cluster.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// What keeps a test's database alive: SQLite's temporary directory.
    pub(crate) type Guard = Option<tempfile::TempDir>;

    pub(crate) async fn open(engine: Engine) -> (Guard, Store) {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("db.sqlite");
                (Some(dir), Store::open_path(&path, StoreOptions::default()).await.unwrap())
            }
            Engine::Postgres => {
                let url = hubring_testkit::postgres().fresh_database();
                (None, Store::open_url(&url, StoreOptions::default()).await.unwrap())
            }
        }
    }

    macro_rules! store_tests {
        ($(async fn $name:ident($store:ident: Store) $body:block)*) => {
            $(
                mod $name {
                    #[allow(unused_imports)]
                    use super::*;
                    use crate::Engine;

                    async fn run($store: crate::Store) $body

                    #[tokio::test]
                    async fn sqlite() {
                        let (_guard, store) = crate::testing::open(Engine::Sqlite).await;
                        run(store).await;
                    }

                    #[tokio::test]
                    async fn postgres() {
                        let (_guard, store) = crate::testing::open(Engine::Postgres).await;
                        run(store).await;
                    }
                }
            )*
        };
    }
    pub(crate) use store_tests;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store_tests;

    fn id(s: &str) -> DocId {
        DocId::parse(s).unwrap()
    }

    store_tests! {
        async fn append_then_load(store: Store) {
            let doc = id("d");
            assert_eq!(store.load(&doc).await.unwrap().last_seq, 0);
            assert_eq!(store.append(&doc, vec![vec![1], vec![2]]).await.unwrap(), 1);
            assert_eq!(store.append(&doc, vec![vec![3]]).await.unwrap(), 3);
            let stored = store.load(&doc).await.unwrap();
            assert_eq!(stored.updates, vec![vec![1], vec![2], vec![3]]);
            assert_eq!(stored.last_seq, 3);
            assert!(store.load(&id("other")).await.unwrap().updates.is_empty());
            let after = store.load_after(&doc, 2).await.unwrap();
            assert_eq!((after.snapshot, after.updates, after.last_seq), (None, vec![vec![3]], 3));
            let after = store.load_after(&doc, 3).await.unwrap();
            assert_eq!((after.updates.len(), after.last_seq), (0, 3));
        }

        async fn compaction_replaces_the_covered_log(store: Store) {
            let doc = id("d");
            store.append(&doc, vec![vec![1], vec![2], vec![3]]).await.unwrap();
            store.compact(&doc, 2, vec![12]).await.unwrap();
            let stored = store.load(&doc).await.unwrap();
            assert_eq!(stored.snapshot, Some(vec![12]));
            assert_eq!(stored.updates, vec![vec![3]]);
            assert_eq!(stored.last_seq, 3);
            assert_eq!(store.log_len(&doc).await.unwrap(), 1);
            // A reader that had 1 needs the snapshot (it holds 2) and 3; one that had 2, only 3.
            let after = store.load_after(&doc, 1).await.unwrap();
            assert_eq!((after.snapshot, after.updates.len()), (Some(vec![12]), 1));
            assert_eq!(store.load_after(&doc, 2).await.unwrap().snapshot, None);
            store.compact(&doc, 3, vec![123]).await.unwrap();
            let stored = store.load(&doc).await.unwrap();
            assert_eq!(
                (stored.snapshot, stored.updates.len(), stored.last_seq),
                (Some(vec![123]), 0, 3)
            );
            // The log is empty now: numbering goes on after the snapshot's.
            assert_eq!(store.append(&doc, vec![vec![4]]).await.unwrap(), 4);
            assert_eq!(store.heads(&[doc.clone(), id("none")]).await.unwrap(), vec![(doc, 4)]);
        }

        async fn an_older_snapshot_never_replaces_a_newer_one(store: Store) {
            let doc = id("d");
            store.append(&doc, vec![vec![1], vec![2], vec![3]]).await.unwrap();
            store.compact(&doc, 3, vec![123]).await.unwrap();
            // A second node compacts late, from a state that had seen only 1 and 2.
            store.compact(&doc, 2, vec![12]).await.unwrap();
            let stored = store.load(&doc).await.unwrap();
            assert_eq!((stored.snapshot, stored.last_seq), (Some(vec![123]), 3));
        }

        async fn two_nodes_appending_to_one_document_are_numbered_in_one_order(store: Store) {
            // A second handle on the same database is a second node (on SQLite, a second
            // process on the same file).
            let other = store.reopen().await.unwrap();
            let doc = id("d");
            let mut tasks = Vec::new();
            for node in [store.clone(), other.clone()] {
                let doc = doc.clone();
                tasks.push(tokio::spawn(async move {
                    let mut firsts = Vec::new();
                    for i in 0..40u8 {
                        firsts.push(node.append(&doc, vec![vec![i], vec![i]]).await.unwrap());
                    }
                    firsts
                }));
            }
            let mut firsts: Vec<i64> = Vec::new();
            for task in tasks {
                firsts.extend(task.await.unwrap());
            }
            firsts.sort_unstable();
            let expected: Vec<i64> = (0..80).map(|i| 1 + 2 * i).collect();
            assert_eq!(firsts, expected, "every append got its own numbers, none skipped");
            let stored = other.load(&doc).await.unwrap();
            assert_eq!((stored.updates.len(), stored.last_seq), (160, 160));
        }

        async fn a_held_write_lock_fails_commits_and_loses_nothing(store: Store) {
            let doc = id("d");
            store.append(&doc, vec![vec![1]]).await.unwrap();
            let guard = store.hold_write_lock().await.unwrap();
            let failed = tokio::time::timeout(
                Duration::from_secs(30),
                store.append(&doc, vec![vec![2]]),
            )
            .await
            .expect("a commit waits at most the busy timeout");
            assert!(failed.is_err(), "the commit fails while the lock is held");
            drop(guard);
            assert_eq!(store.append(&doc, vec![vec![3]]).await.unwrap(), 2);
            assert_eq!(store.load(&doc).await.unwrap().updates, vec![vec![1], vec![3]]);
        }
    }

    #[tokio::test]
    async fn reopen_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        {
            let store = Store::open_path(&path, StoreOptions::default()).await.unwrap();
            store.append(&id("d"), vec![vec![5]]).await.unwrap();
            store.close().await;
        }
        let store = Store::open_url(&format!("sqlite:{}", path.display()), StoreOptions::default())
            .await
            .unwrap();
        assert_eq!(store.load(&id("d")).await.unwrap().updates, vec![vec![5]]);
        assert!(matches!(
            Store::open_url("mysql://x", StoreOptions::default()).await,
            Err(StoreError::UnsupportedUrl(_))
        ));
        // The same on PostgreSQL: a second handle on the database sees the first one's writes,
        // and migrations run again harmlessly.
        let url = hubring_testkit::postgres().fresh_database();
        {
            let store = Store::open_url(&url, StoreOptions::default()).await.unwrap();
            store.append(&id("d"), vec![vec![6]]).await.unwrap();
            store.close().await;
        }
        let store = Store::open_url(&url, StoreOptions::default()).await.unwrap();
        assert_eq!(store.load(&id("d")).await.unwrap().updates, vec![vec![6]]);
    }
}
