//! Versions of documents and boards: each the document's whole state at one moment, stored
//! beside the live document's log and snapshot (compaction never reads or writes this table),
//! with who changed the document since the version before. Automatic versions are thinned as
//! they age ([`thin`]); named versions and restores are kept.

use hubring_protocol::api::VersionKind;
use hubring_protocol::{DocId, UserId, VersionId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError};

fn kind_str(kind: VersionKind) -> &'static str {
    match kind {
        VersionKind::Auto => "auto",
        VersionKind::Named => "named",
        VersionKind::Restore => "restore",
    }
}

fn parse_kind(raw: &str) -> Result<VersionKind, StoreError> {
    match raw {
        "auto" => Ok(VersionKind::Auto),
        "named" => Ok(VersionKind::Named),
        "restore" => Ok(VersionKind::Restore),
        other => Err(StoreError::Corrupt(format!("version kind {other:?}"))),
    }
}

/// A version without its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMeta {
    pub id: VersionId,
    pub doc_id: DocId,
    pub kind: VersionKind,
    pub name: Option<String>,
    pub created_at: i64,
    pub created_by: Option<UserId>,
    /// Who changed the document since the version before this one.
    pub editors: Vec<UserId>,
    /// For a restore, the version restored.
    pub restored_from: Option<VersionId>,
    pub n_bytes: i64,
}

// Spliced into queries with `AssertSqlSafe`: a constant, every value is bound.
const META_COLUMNS: &str =
    "id, doc_id, kind, name, created_at, created_by, editors, restored_from, n_bytes";

impl Store {
    /// Keeps a version (`meta.n_bytes` is taken from `state`), then thins the document's
    /// automatic versions as of `meta.created_at`.
    pub async fn put_version(&self, meta: VersionMeta, state: Vec<u8>) -> Result<(), StoreError> {
        let editors = serde_json::to_string(&meta.editors)
            .map_err(|err| StoreError::Corrupt(err.to_string()))?;
        let doc = meta.doc_id.clone();
        let now = meta.created_at;
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO doc_versions (id, doc_id, kind, name, created_at, created_by, \
                     editors, restored_from, n_bytes, state) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(meta.id.as_str())
                .bind(meta.doc_id.as_str())
                .bind(kind_str(meta.kind))
                .bind(meta.name.as_deref())
                .bind(meta.created_at)
                .bind(meta.created_by.as_ref().map(UserId::as_str))
                .bind(editors)
                .bind(meta.restored_from.as_ref().map(VersionId::as_str))
                .bind(i64::try_from(state.len()).unwrap_or(i64::MAX))
                .bind(state)
                .execute(&mut *conn)
                .await
                .map_err(crate::workspace::conflict("version"))?;
                Ok(())
            })
        })
        .await?;
        let versions = self.versions(&doc).await?;
        let gone = thin(&versions, now);
        if !gone.is_empty() {
            self.write(move |conn| {
                Box::pin(async move {
                    for id in gone {
                        sqlx::query("DELETE FROM doc_versions WHERE id = $1 AND kind = 'auto'")
                            .bind(id.as_str())
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .await?;
        }
        Ok(())
    }

    /// A document's versions, newest first.
    pub async fn versions(&self, doc: &DocId) -> Result<Vec<VersionMeta>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {META_COLUMNS} FROM doc_versions WHERE doc_id = $1 \
             ORDER BY created_at DESC, id DESC"
        )))
        .bind(doc.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(meta_from).collect()
    }

    /// One version with its state.
    pub async fn version(
        &self,
        doc: &DocId,
        id: &VersionId,
    ) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {META_COLUMNS}, state FROM doc_versions WHERE doc_id = $1 AND id = $2"
        )))
        .bind(doc.as_str())
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| Ok((meta_from(&row)?, row.try_get("state")?))).transpose()
    }
}

fn meta_from(row: &AnyRow) -> Result<VersionMeta, StoreError> {
    let editors: String = row.try_get("editors")?;
    Ok(VersionMeta {
        id: VersionId(row.try_get("id")?),
        doc_id: DocId::parse(&row.try_get::<String, _>("doc_id")?)
            .map_err(|err| StoreError::Corrupt(err.to_string()))?,
        kind: parse_kind(&row.try_get::<String, _>("kind")?)?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        created_by: row.try_get::<Option<String>, _>("created_by")?.map(UserId),
        editors: serde_json::from_str(&editors)
            .map_err(|err| StoreError::Corrupt(format!("version editors: {err}")))?,
        restored_from: row.try_get::<Option<String>, _>("restored_from")?.map(VersionId),
        n_bytes: row.try_get("n_bytes")?,
    })
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The automatic versions to delete as of `now` (milliseconds): of those younger than a day,
/// one per 10 minutes is kept; then one per hour up to a week, one per day up to 90 days, one
/// per week beyond. The newest of each span is the one kept. Named versions and restores are
/// never thinned, and neither is the newest automatic version.
pub fn thin(versions: &[VersionMeta], now: i64) -> Vec<VersionId> {
    let mut autos: Vec<&VersionMeta> =
        versions.iter().filter(|v| v.kind == VersionKind::Auto).collect();
    autos.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    let mut kept_spans = std::collections::HashSet::new();
    let mut gone = Vec::new();
    for (idx, v) in autos.iter().enumerate() {
        let age = (now - v.created_at).max(0);
        let span = if age < DAY {
            10 * MINUTE
        } else if age < 7 * DAY {
            HOUR
        } else if age < 90 * DAY {
            DAY
        } else {
            7 * DAY
        };
        // Spans are aligned to the clock, so a version stays in its bucket as it ages within
        // one tier; the newest version of each bucket is seen first and kept.
        let bucket = (span, v.created_at.div_euclid(span));
        if idx == 0 || kept_spans.insert(bucket) {
            kept_spans.insert(bucket);
            continue;
        }
        gone.push(v.id.clone());
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store_tests;

    fn meta(id: &str, kind: VersionKind, at: i64) -> VersionMeta {
        VersionMeta {
            id: VersionId(id.into()),
            doc_id: DocId::parse("d").unwrap(),
            kind,
            name: None,
            created_at: at,
            created_by: None,
            editors: vec![],
            restored_from: None,
            n_bytes: 0,
        }
    }

    #[test]
    fn thinning_keeps_one_per_span_by_age_and_every_named_version() {
        let now = 400 * DAY;
        // One automatic version a minute for 400 days, and a named one every 30 days.
        let mut versions = Vec::new();
        for minute in 0..400 * 24 * 60 {
            versions.push(meta(&format!("a{minute}"), VersionKind::Auto, minute * MINUTE));
        }
        for day in (0..400).step_by(30) {
            versions.push(meta(&format!("n{day}"), VersionKind::Named, day * DAY + 1));
        }
        let gone: std::collections::HashSet<VersionId> = thin(&versions, now).into_iter().collect();
        let kept: Vec<&VersionMeta> = versions.iter().filter(|v| !gone.contains(&v.id)).collect();
        let named = kept.iter().filter(|v| v.kind == VersionKind::Named).count();
        assert_eq!(named, 14, "every named version stays");
        let autos = kept.len() - named;
        // 144 in the last day, 144 hourly for 6 days, 83 daily, ~44 weekly: a few hundred.
        assert!((400..=430).contains(&autos), "{autos} automatic versions kept");
        assert!(kept.iter().any(|v| v.created_at == now - MINUTE), "the newest stays");
        // Thinning again changes nothing.
        let again: Vec<VersionMeta> = kept.into_iter().cloned().collect();
        assert!(thin(&again, now).is_empty());
    }

    store_tests! {
        async fn versions_are_kept_listed_and_read_back(store: Store) {
            let doc = DocId::parse("doc-v").unwrap();
            let mut named = meta("v1", VersionKind::Named, 1_000);
            named.doc_id = doc.clone();
            named.name = Some("Submitted".into());
            named.editors = vec![UserId("u1".into())];
            store.put_version(named.clone(), vec![1, 2, 3]).await.unwrap();
            let mut auto = meta("v2", VersionKind::Auto, 2_000);
            auto.doc_id = doc.clone();
            store.put_version(auto, vec![4]).await.unwrap();
            let list = store.versions(&doc).await.unwrap();
            assert_eq!(list.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(), ["v2", "v1"]);
            let (meta, state) = store.version(&doc, &VersionId("v1".into())).await.unwrap().unwrap();
            assert_eq!(state, vec![1, 2, 3]);
            assert_eq!(meta.name.as_deref(), Some("Submitted"));
            assert_eq!(meta.editors, vec![UserId("u1".into())]);
            assert_eq!(meta.n_bytes, 3);
            assert!(store.version(&DocId::parse("other").unwrap(), &VersionId("v1".into())).await.unwrap().is_none());
        }
    }
}
