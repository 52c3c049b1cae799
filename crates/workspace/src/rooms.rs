//! Video rooms beyond their media: who may enter, speak and moderate, and 1:1 coaching rooms
//! with their private notes.

use hubring_protocol::api::{CoachingCreate, CoachingCreated, ItemCreated, ItemKind, ProjectRole};
use hubring_protocol::{DocId, ItemId, ProjectId};
use hubring_store::CoachingRecord;

use crate::access::{Action, allows};
use crate::projects::{TITLE_MAX, new_item_ids};
use crate::validate::Checks;
use crate::{Caller, Workspace, WorkspaceError};

/// A room the caller may enter.
#[derive(Debug, Clone)]
pub struct RoomAccess {
    pub item_id: ItemId,
    pub project_id: ProjectId,
    /// The room's own document: its chat.
    pub doc_id: DocId,
    /// The role the caller acts with in the room (a coaching pair are at least editors).
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
    /// The room `id`, if the caller may enter it (anyone who may open the project's items, or
    /// for a coaching room the two people in it). Anything that is not a room the caller can
    /// see answers 404.
    pub async fn room(&self, caller: &Caller, id: &ItemId) -> Result<RoomAccess, WorkspaceError> {
        let (item, role) = self.item_for(caller, id, Action::OpenDocument, "room").await?;
        if item.kind != ItemKind::Room {
            return Err(WorkspaceError::NotFound("room"));
        }
        Ok(RoomAccess { item_id: item.id, project_id: item.project_id, doc_id: item.doc_id, role })
    }

    /// Creates a 1:1 coaching room between the caller and another member of the project, with
    /// a notes document. Both are private to the two of them.
    pub async fn create_coaching(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        req: CoachingCreate,
    ) -> Result<CoachingCreated, WorkspaceError> {
        self.project_for(caller, project_id, Action::ManageItems).await?;
        let me = caller.signed_in()?;
        let mut checks = Checks::default();
        let title = checks.text("title", &req.title, 1, TITLE_MAX);
        let notes_title = checks.text("notes_title", &req.notes_title, 1, TITLE_MAX);
        if req.with == me.id {
            checks.fail("with", "coach_yourself", "coaching takes two people: choose someone else");
        } else if self.store.project_role(project_id, &req.with).await?.is_none() {
            checks.fail("with", "not_member", "is not a member of this project");
        }
        checks.done()?;
        let (room_id, room_doc) = new_item_ids(ItemKind::Room)?;
        let (notes_id, notes_doc) = new_item_ids(ItemKind::Document)?;
        let audience = [me.id.clone(), req.with];
        let record = CoachingRecord {
            project_id: project_id.clone(),
            room: (room_id.clone(), title, room_doc.clone()),
            notes: (notes_id.clone(), notes_title, notes_doc.clone()),
            audience: audience.clone(),
        };
        self.store.create_coaching(record, &me.id).await?;
        for (doc, item) in [(&room_doc, &room_id), (&notes_doc, &notes_id)] {
            let (doc, item, project) = (doc.clone(), item.clone(), project_id.clone());
            self.docs.insert(doc, item, project, Some(audience.to_vec()));
        }
        Ok(CoachingCreated {
            room: ItemCreated { id: room_id, doc_id: room_doc },
            notes: ItemCreated { id: notes_id, doc_id: notes_doc },
        })
    }
}
