//! Video rooms beyond their media: who may enter, speak and moderate.

use hubring_protocol::api::{ItemKind, ProjectRole};
use hubring_protocol::{DocId, ItemId, ProjectId};

use crate::access::{Action, allows};
use crate::projects::hide_as;
use crate::{Caller, Workspace, WorkspaceError};

/// A room the caller may enter.
#[derive(Debug, Clone)]
pub struct RoomAccess {
    pub item_id: ItemId,
    pub project_id: ProjectId,
    /// The room's own document: its chat.
    pub doc_id: DocId,
    pub role: ProjectRole,
}

impl RoomAccess {
    /// Publishes audio and video from the start: owners and editors. Others listen until a
    /// moderator lets them speak.
    pub fn may_publish(&self) -> bool {
        allows(self.role, Action::Speak)
    }

    /// Mutes, removes, admits, locks and runs breakouts.
    pub fn may_moderate(&self) -> bool {
        allows(self.role, Action::Facilitate)
    }
}

impl Workspace {
    /// The room `id`, if the caller may enter it (anyone who may open the project's items).
    /// Anything that is not a room the caller can see answers 404.
    pub async fn room(&self, caller: &Caller, id: &ItemId) -> Result<RoomAccess, WorkspaceError> {
        let item = self
            .store
            .item(id)
            .await?
            .filter(|item| item.kind == ItemKind::Room)
            .ok_or(WorkspaceError::NotFound("room"))?;
        let (_, role) = self
            .project_for(caller, &item.project_id, Action::OpenDocument)
            .await
            .map_err(hide_as("room"))?;
        Ok(RoomAccess { item_id: item.id, project_id: item.project_id, doc_id: item.doc_id, role })
    }
}
