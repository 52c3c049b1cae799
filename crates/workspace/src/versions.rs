//! Versions of documents and boards as the API shows them: who took each and who edited
//! before it, by name. Readers list and view versions; editors and owners name and restore
//! them (`Action::WriteDocument`), which the server checks with `Workspace::content_access`.

use std::collections::HashMap;

use hubring_protocol::api::{PersonRef, Version};
use hubring_protocol::{Problem, UserId};
use hubring_store::VersionMeta;

use crate::{FieldErrors, Workspace, WorkspaceError};

/// Longest version name, in characters.
pub const MAX_VERSION_NAME: usize = 200;

impl Workspace {
    /// The API's view of stored versions, with people named.
    pub async fn version_views(
        &self,
        metas: Vec<VersionMeta>,
    ) -> Result<Vec<Version>, WorkspaceError> {
        let mut names: HashMap<UserId, String> = HashMap::new();
        for meta in &metas {
            for id in meta.editors.iter().chain(meta.created_by.iter()) {
                if !names.contains_key(id) {
                    let name = self.store.user_by_id(id).await?.map(|u| u.display_name);
                    names.insert(id.clone(), name.unwrap_or_default());
                }
            }
        }
        let person = |id: &UserId| PersonRef { id: id.clone(), display_name: names[id].clone() };
        Ok(metas
            .into_iter()
            .map(|m| Version {
                kind: m.kind,
                created_by: m.created_by.as_ref().map(person),
                editors: m.editors.iter().map(person).collect(),
                id: m.id,
                name: m.name,
                created_at: m.created_at,
                restored_from: m.restored_from,
                n_bytes: m.n_bytes,
            })
            .collect())
    }
}

/// A version's name, trimmed: 1 to [`MAX_VERSION_NAME`] characters.
pub fn version_name(raw: &str) -> Result<String, WorkspaceError> {
    let name = raw.trim();
    let n = name.chars().count();
    if n == 0 || n > MAX_VERSION_NAME {
        return Err(WorkspaceError::Invalid(FieldErrors::one(
            "name",
            Problem::new("length").with("min", 1).with("max", MAX_VERSION_NAME as u64),
            format!("1 to {MAX_VERSION_NAME} characters"),
        )));
    }
    Ok(name.to_owned())
}
