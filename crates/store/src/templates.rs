//! Templates people saved from a document or board: for themselves, or for a hub they manage,
//! whose members see it. Each holds the content as one Yjs update.

use hubring_protocol::api::ItemKind;
use hubring_protocol::{HubId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError};

/// A template without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateMeta {
    pub id: String,
    pub kind: ItemKind,
    pub title: String,
    pub description: String,
    /// Set for a personal template.
    pub owner_id: Option<UserId>,
    /// Set for a hub's template.
    pub hub_id: Option<HubId>,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

// Spliced into queries with `AssertSqlSafe`: a constant, every value is bound.
const COLUMNS: &str =
    "t.id, t.kind, t.title, t.description, t.owner_id, t.hub_id, t.created_by, t.created_at";

fn kind_str(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Board => "board",
        _ => "document",
    }
}

fn meta_from(row: &AnyRow) -> Result<TemplateMeta, StoreError> {
    let kind = match row.try_get::<String, _>("kind")?.as_str() {
        "board" => ItemKind::Board,
        "document" => ItemKind::Document,
        other => return Err(StoreError::Corrupt(format!("template kind {other:?}"))),
    };
    Ok(TemplateMeta {
        id: row.try_get("id")?,
        kind,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        owner_id: row.try_get::<Option<String>, _>("owner_id")?.map(UserId),
        hub_id: row.try_get::<Option<String>, _>("hub_id")?.map(HubId),
        created_by: row.try_get::<Option<String>, _>("created_by")?.map(UserId),
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    pub async fn put_template(&self, meta: TemplateMeta, state: Vec<u8>) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO templates (id, kind, title, description, owner_id, hub_id, \
                     created_by, created_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(meta.id.as_str())
                .bind(kind_str(meta.kind))
                .bind(meta.title.as_str())
                .bind(meta.description.as_str())
                .bind(meta.owner_id.as_ref().map(UserId::as_str))
                .bind(meta.hub_id.as_ref().map(|h| h.0.as_str()))
                .bind(meta.created_by.as_ref().map(UserId::as_str))
                .bind(meta.created_at)
                .bind(state)
                .execute(&mut *conn)
                .await
                .map_err(crate::workspace::conflict("template"))?;
                Ok(())
            })
        })
        .await
    }

    /// The templates `user` sees: their own, and those of the hubs they are a member or
    /// manager of; newest first.
    pub async fn templates_for(&self, user: &UserId) -> Result<Vec<TemplateMeta>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM templates t WHERE t.owner_id = $1 OR t.hub_id IN \
             (SELECT m.hub_id FROM hub_members m WHERE m.user_id = $1 \
              AND m.role IN ('manager', 'member')) \
             ORDER BY t.created_at DESC, t.id DESC"
        )))
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(meta_from).collect()
    }

    /// One template with its content.
    pub async fn template(&self, id: &str) -> Result<Option<(TemplateMeta, Vec<u8>)>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, t.state FROM templates t WHERE t.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| Ok((meta_from(&row)?, row.try_get("state")?))).transpose()
    }

    pub async fn delete_template(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |conn| {
            Box::pin(async move {
                let done = sqlx::query("DELETE FROM templates WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&mut *conn)
                    .await?;
                Ok(done.rows_affected() > 0)
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store_tests;
    use hubring_protocol::api::HubRole;

    store_tests! {
        async fn templates_are_seen_by_their_owner_and_their_hubs_members(store: Store) {
            let mut users = Vec::new();
            for name in ["ana", "ben", "cy"] {
                let new = crate::NewUser {
                    id: UserId(format!("u-{name}")),
                    email: format!("{name}@example.org"),
                    display_name: name.into(),
                    password_hash: "x".into(),
                    is_admin: false,
                    language: "en".into(),
                };
                users.push(store.create_user(new, false).await.unwrap().id);
            }
            let (ana, ben, cy) = (users[0].clone(), users[1].clone(), users[2].clone());
            let hub = HubId("porto".into());
            let fields = crate::HubFields { name: Some("Porto".into()), ..Default::default() };
            store.create_hub(&hub, &ana, fields).await.unwrap();
            store.set_hub_role(&hub, &ana, HubRole::Manager).await.unwrap();
            store.set_hub_role(&hub, &ben, HubRole::Member).await.unwrap();
            store.set_hub_role(&hub, &cy, HubRole::Requested).await.unwrap();
            let meta = |id: &str, owner: Option<&UserId>, hub: Option<&HubId>| TemplateMeta {
                id: id.into(),
                kind: ItemKind::Document,
                title: format!("T {id}"),
                description: String::new(),
                owner_id: owner.cloned(),
                hub_id: hub.cloned(),
                created_by: Some(ana.clone()),
                created_at: 1,
            };
            store.put_template(meta("mine", Some(&ana), None), vec![1, 2]).await.unwrap();
            store.put_template(meta("hub", None, Some(&hub)), vec![3]).await.unwrap();
            let ids = |v: Vec<TemplateMeta>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
            let mut a = ids(store.templates_for(&ana).await.unwrap());
            a.sort();
            assert_eq!(a, ["hub", "mine"]);
            assert_eq!(ids(store.templates_for(&ben).await.unwrap()), ["hub"]);
            assert!(store.templates_for(&cy).await.unwrap().is_empty());
            let (m, state) = store.template("mine").await.unwrap().unwrap();
            assert_eq!((m.title.as_str(), state), ("T mine", vec![1, 2]));
            assert!(store.delete_template("mine").await.unwrap());
            assert!(store.template("mine").await.unwrap().is_none());
        }
    }
}
