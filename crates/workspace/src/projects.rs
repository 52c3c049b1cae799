//! Projects, their members and items, each call checked against [`crate::access`].
//!
//! A caller who may not see a project gets [`WorkspaceError::NotFound`], exactly as for a
//! project that does not exist; one who may see it but not do the thing gets
//! [`WorkspaceError::Forbidden`].

use hubring_protocol::api::{
    InviteAccepted, InviteLinkCreate, InviteLinkCreated, InviteView, ItemCreate, ItemCreated,
    ItemKind, ItemUpdate, ItemView, MemberAdd, MemberAdded, MemberView, MyInvite, NotificationKind,
    NotificationSubject, PersonRef, ProjectCreate, ProjectCreated, ProjectRole, ProjectSummary,
    ProjectUpdate, ProjectView, RecentItem, TrashedItem,
};
use std::collections::HashMap;

use hubring_protocol::{DocId, InviteId, ItemId, Problem, ProjectId, UserId};
use hubring_store::{
    ItemRecord, ProjectChanges, ProjectRecord, Redeemed, StoreError, UserRecord, now_ms,
};

use crate::mail::{Email, Lang, compose};

use crate::access::{Action, ItemAudience, Standing, allows, effective_role, item_role};
use crate::secret::{new_id, new_secret, secret_hash};
use crate::validate::Checks;
use crate::{Caller, InviteClosed, Workspace, WorkspaceError};

pub(crate) const TITLE_MAX: usize = 200;
const SUMMARY_MAX: usize = 5000;
/// Prefix of invitation link secrets.
const INVITE_PREFIX: &str = "hri_";

/// What a caller may do with a live document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocAccess {
    pub project_id: ProjectId,
    pub item_id: ItemId,
    pub role: ProjectRole,
    /// Whether the caller may change the content (editors and owners).
    pub write: bool,
}

/// A member whose access to a project just shrank: the server closes their live connections to
/// its documents, which reconnect with what they may still do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipChange {
    pub project_id: ProjectId,
    pub user_id: UserId,
    /// The new role; `None` when they left or were removed.
    pub role: Option<ProjectRole>,
    /// The project's documents.
    pub docs: Vec<DocId>,
}

impl Workspace {
    /// The project and the caller's role in it, or `NotFound` when they may not see it.
    async fn visible_project(
        &self,
        caller: &Caller,
        id: &ProjectId,
    ) -> Result<(ProjectRecord, ProjectRole), WorkspaceError> {
        let project = self.store.project(id).await?.ok_or(WorkspaceError::NotFound("project"))?;
        let member = match caller.user_id() {
            Some(user) => self.store.project_role(id, user).await?,
            None => None,
        };
        let standing =
            Standing { member, signed_in: caller.user.is_some(), admin: caller.is_admin() };
        let role = effective_role(project.visibility, standing)
            .ok_or(WorkspaceError::NotFound("project"))?;
        Ok((project, role))
    }

    /// The item `id` and the role the caller acts with in it, if it allows `action`. An item
    /// the caller may not see (in a project they may not see, or private to others) is
    /// `NotFound(what)`.
    pub(crate) async fn item_for(
        &self,
        caller: &Caller,
        id: &ItemId,
        action: Action,
        what: &'static str,
    ) -> Result<(ItemRecord, ProjectRole), WorkspaceError> {
        let item = self.store.item(id).await?.ok_or(WorkspaceError::NotFound(what))?;
        let (_, role) = self
            .project_for(caller, &item.project_id, Action::ListItems)
            .await
            .map_err(hide_as(what))?;
        let role =
            item_role(role, audience_of(&item, caller)).ok_or(WorkspaceError::NotFound(what))?;
        require(caller, role, action)?;
        Ok((item, role))
    }

    /// [`Workspace::visible_project`], then a check that the role allows `action`.
    pub(crate) async fn project_for(
        &self,
        caller: &Caller,
        id: &ProjectId,
        action: Action,
    ) -> Result<(ProjectRecord, ProjectRole), WorkspaceError> {
        let (project, role) = self.visible_project(caller, id).await?;
        require(caller, role, action)?;
        Ok((project, role))
    }

    pub async fn create_project(
        &self,
        caller: &Caller,
        req: ProjectCreate,
    ) -> Result<ProjectCreated, WorkspaceError> {
        let user = caller.signed_in()?;
        let mut checks = Checks::default();
        let title = checks.text("title", &req.title, 1, TITLE_MAX);
        let summary = checks.text("summary", &req.summary, 0, SUMMARY_MAX);
        let missing = self.store.missing_hubs(&req.hub_ids).await?;
        if let Some(hub) = missing.first() {
            checks.fail("hub_ids", "unknown_hub", format!("no hub {hub}"));
        }
        checks.done()?;
        let id = ProjectId(new_id());
        self.store
            .create_project(&id, &user.id, title, summary, req.visibility, req.hub_ids)
            .await?;
        Ok(ProjectCreated { id })
    }

    pub async fn project(
        &self,
        caller: &Caller,
        id: &ProjectId,
    ) -> Result<ProjectView, WorkspaceError> {
        let (project, my_role) = self.project_for(caller, id, Action::SeeProject).await?;
        let members = self.store.project_members(id).await?;
        let hub_ids = self.store.project_hubs(id).await?;
        Ok(ProjectView {
            id: project.id,
            title: project.title,
            summary: project.summary,
            visibility: project.visibility,
            archived: project.archived,
            hub_ids,
            members: members
                .into_iter()
                .map(|m| MemberView {
                    user_id: m.user_id,
                    display_name: m.display_name,
                    role: m.role,
                    added_at: m.added_at,
                })
                .collect(),
            my_role,
            created_at: project.created_at,
            updated_at: project.updated_at,
        })
    }

    /// The caller's projects.
    pub async fn my_projects(
        &self,
        caller: &Caller,
    ) -> Result<Vec<ProjectSummary>, WorkspaceError> {
        let user = caller.signed_in()?;
        let projects = self.store.projects_of(&user.id).await?;
        Ok(projects
            .into_iter()
            .map(|(p, my_role)| ProjectSummary {
                id: p.id,
                title: p.title,
                visibility: p.visibility,
                archived: p.archived,
                my_role,
                updated_at: p.updated_at,
            })
            .collect())
    }

    pub async fn update_project(
        &self,
        caller: &Caller,
        id: &ProjectId,
        req: ProjectUpdate,
    ) -> Result<(), WorkspaceError> {
        self.project_for(caller, id, Action::EditProject).await?;
        let mut checks = Checks::default();
        let title = req.title.map(|t| checks.text("title", &t, 1, TITLE_MAX));
        let summary = req.summary.map(|s| checks.text("summary", &s, 0, SUMMARY_MAX));
        let missing = match &req.hub_ids {
            Some(hub_ids) => self.store.missing_hubs(hub_ids).await?,
            None => Vec::new(),
        };
        if let Some(hub) = missing.first() {
            checks.fail("hub_ids", "unknown_hub", format!("no hub {hub}"));
        }
        checks.done()?;
        let changes = ProjectChanges {
            title,
            summary,
            visibility: req.visibility,
            hub_ids: req.hub_ids,
            archived: req.archived,
        };
        self.store.update_project(id, changes).await?;
        Ok(())
    }

    /// Deletes a project; returns its documents, whose connections the server closes.
    pub async fn delete_project(
        &self,
        caller: &Caller,
        id: &ProjectId,
    ) -> Result<Vec<DocId>, WorkspaceError> {
        self.project_for(caller, id, Action::DeleteProject).await?;
        let docs = self.store.delete_project(id).await?;
        for doc in &docs {
            self.docs.remove(doc);
        }
        Ok(docs)
    }

    /// Invites an address into the project. The answer is the same whether or not the address
    /// has an account, so it tells no one who has one; nobody becomes a member without
    /// accepting (an account at the address accepts in the app, a new one by signing up with
    /// it). Inviting an address again answers the pending invitation.
    pub async fn add_member(
        &self,
        caller: &Caller,
        id: &ProjectId,
        req: MemberAdd,
    ) -> Result<MemberAdded, WorkspaceError> {
        let (_, my_role) = self.project_for(caller, id, Action::Invite).await?;
        let inviter = caller.signed_in()?;
        let mut checks = Checks::default();
        let email = match (&req.email, &req.user_id) {
            // Someone from the directory: only someone the inviter may see there, and their
            // address stays on the server.
            (None, Some(user_id)) => self.invitable_email(caller, user_id).await?,
            (Some(email), None) => checks.email("email", email),
            _ => {
                checks.fail("email", "email_or_person", "give either an email address or a person");
                String::new()
            }
        };
        if req.role == ProjectRole::Owner {
            checks.fail("role", "one_owner", "a project has one owner: transfer ownership instead");
        } else if req.role < my_role {
            checks.fail("role", "above_your_role", "you cannot grant a role above your own");
        }
        checks.done()?;
        // Members are listed to whoever may invite, so saying so reveals nothing.
        if let Some(user) = self.store.user_by_email(&email).await?
            && self.store.project_role(id, &user.id).await?.is_some()
        {
            return Err(WorkspaceError::Conflict("already_member", "already a member"));
        }
        // The invitation's own link, which only an account with the address can use: emailed,
        // and shown to the inviter to pass on. Inviting again makes a new one (and sends it).
        let secret = new_secret(INVITE_PREFIX);
        let invite_id = match self.store.email_invite_to(id, &email).await? {
            Some(invite_id) => {
                self.store.set_invite_secret(&invite_id, secret_hash(&secret)).await?;
                invite_id
            }
            None => {
                let invite_id = InviteId(new_id());
                self.store
                    .create_email_invite(
                        &invite_id,
                        id,
                        email.clone(),
                        req.role,
                        &inviter.id,
                        secret_hash(&secret),
                    )
                    .await?;
                invite_id
            }
        };
        let emailed = self.send_invitation(id, inviter, &email, &secret).await?;
        Ok(MemberAdded::Invited { invite_id, token: secret, emailed })
    }

    /// Tells the invited address: an account there gets a notification (in the app and by
    /// email, as its owner chose); an address without one gets the email. Whether an email
    /// went is the same answer for both, so the inviter learns nothing about who has an
    /// account.
    async fn send_invitation(
        &self,
        project_id: &ProjectId,
        inviter: &UserRecord,
        email: &str,
        secret: &str,
    ) -> Result<bool, WorkspaceError> {
        let project =
            self.store.project(project_id).await?.ok_or(WorkspaceError::NotFound("project"))?;
        let path = format!("/invite/{secret}");
        match self.store.user_by_email(email).await? {
            Some(invitee) => {
                let subject = NotificationSubject {
                    by: Some(PersonRef {
                        id: inviter.id.clone(),
                        display_name: inviter.display_name.clone(),
                    }),
                    project_id: Some(project.id.clone()),
                    project_title: Some(project.title.clone()),
                    ..NotificationSubject::default()
                };
                self.notify(&invitee, NotificationKind::Invitation, subject, &path).await?;
            }
            None => {
                let Some(link) = self.link(&path) else { return Ok(false) };
                // Written in the inviter's language: the invitee has none on record yet.
                let body = compose(
                    Lang::of(&inviter.language),
                    &Email::Invitation {
                        inviter: &inviter.display_name,
                        project: &project.title,
                        link: &link,
                    },
                    None,
                );
                self.send_mail(email, "invitation", &body).await?;
            }
        }
        Ok(self.mail_enabled())
    }

    /// The address of a person the caller may see in the directory, to invite them.
    async fn invitable_email(
        &self,
        caller: &Caller,
        user_id: &UserId,
    ) -> Result<String, WorkspaceError> {
        let person = self.person(caller, user_id).await?;
        let record =
            self.store.user_by_id(&person.id).await?.ok_or(WorkspaceError::NotFound("person"))?;
        Ok(record.email)
    }

    /// The caller's pending invitations by email.
    pub async fn my_invites(&self, caller: &Caller) -> Result<Vec<MyInvite>, WorkspaceError> {
        let user = caller.signed_in()?;
        Ok(self.store.email_invites(&user.email).await?)
    }

    /// Accepts one of the caller's invitations: they become a member with its role (or keep
    /// the role they have).
    pub async fn accept_email_invite(
        &self,
        caller: &Caller,
        invite_id: &InviteId,
    ) -> Result<InviteAccepted, WorkspaceError> {
        let user = caller.signed_in()?;
        let joined =
            self.store.accept_email_invites(&user.id, user.email.clone(), Some(invite_id)).await?;
        let project_id = joined.into_iter().next().ok_or(WorkspaceError::NotFound("invitation"))?;
        self.invitation_done(&user.id, &project_id).await?;
        let role = self
            .store
            .project_role(&project_id, &user.id)
            .await?
            .ok_or(WorkspaceError::NotFound("invitation"))?;
        Ok(InviteAccepted { project_id, role })
    }

    /// Declines one of the caller's invitations.
    pub async fn decline_email_invite(
        &self,
        caller: &Caller,
        invite_id: &InviteId,
    ) -> Result<(), WorkspaceError> {
        let user = caller.signed_in()?;
        if self.store.decline_email_invite(invite_id, user.email.clone()).await? {
            Ok(())
        } else {
            Err(WorkspaceError::NotFound("invitation"))
        }
    }

    /// Changes a member's role (the owner's cannot change: transfer ownership instead).
    pub async fn set_member_role(
        &self,
        caller: &Caller,
        id: &ProjectId,
        user_id: &UserId,
        role: ProjectRole,
    ) -> Result<MembershipChange, WorkspaceError> {
        self.project_for(caller, id, Action::ChangeRole).await?;
        if role == ProjectRole::Owner {
            return Err(WorkspaceError::invalid(
                "role",
                "one_owner",
                "a project has one owner: transfer ownership instead",
            ));
        }
        match self.store.project_role(id, user_id).await? {
            None => return Err(WorkspaceError::NotFound("member")),
            Some(ProjectRole::Owner) => {
                return Err(WorkspaceError::Forbidden(
                    "the owner's role changes only by transferring ownership",
                ));
            }
            Some(_) => {}
        }
        self.store.set_member_role(id, user_id, role).await?;
        let docs = self.store.project_docs(id).await?;
        Ok(MembershipChange {
            project_id: id.clone(),
            user_id: user_id.clone(),
            role: Some(role),
            docs,
        })
    }

    /// Removes a member; anyone may remove themselves (leave), except the owner.
    pub async fn remove_member(
        &self,
        caller: &Caller,
        id: &ProjectId,
        user_id: &UserId,
    ) -> Result<MembershipChange, WorkspaceError> {
        let leaving = caller.user_id() == Some(user_id);
        if leaving {
            self.visible_project(caller, id).await?;
        } else {
            self.project_for(caller, id, Action::RemoveMember).await?;
        }
        match self.store.project_role(id, user_id).await? {
            None => return Err(WorkspaceError::NotFound("member")),
            Some(ProjectRole::Owner) => {
                return Err(WorkspaceError::Forbidden(
                    "the owner cannot leave or be removed: transfer ownership first",
                ));
            }
            Some(_) => {}
        }
        self.store.remove_member(id, user_id).await?;
        self.docs.left(id, user_id);
        let docs = self.store.project_docs(id).await?;
        Ok(MembershipChange { project_id: id.clone(), user_id: user_id.clone(), role: None, docs })
    }

    /// Hands the project to another member; the old owner becomes an editor.
    pub async fn transfer_ownership(
        &self,
        caller: &Caller,
        id: &ProjectId,
        to: &UserId,
    ) -> Result<MembershipChange, WorkspaceError> {
        self.project_for(caller, id, Action::TransferOwnership).await?;
        let members = self.store.project_members(id).await?;
        let owner = members
            .iter()
            .find(|m| m.role == ProjectRole::Owner)
            .ok_or(StoreError::Corrupt(format!("project {id} has no owner")))?
            .user_id
            .clone();
        if !members.iter().any(|m| &m.user_id == to) {
            return Err(WorkspaceError::invalid(
                "user_id",
                "not_member",
                "must be a member of the project",
            ));
        }
        if &owner == to {
            return Err(WorkspaceError::invalid("user_id", "already_owner", "already the owner"));
        }
        self.store.transfer_ownership(id, &owner, to).await?;
        let docs = self.store.project_docs(id).await?;
        Ok(MembershipChange {
            project_id: id.clone(),
            user_id: owner,
            role: Some(ProjectRole::Editor),
            docs,
        })
    }

    /// Refuses unless the caller may add items to the project (checked before an import's file
    /// is read).
    pub async fn check_create_item(
        &self,
        caller: &Caller,
        id: &ProjectId,
    ) -> Result<(), WorkspaceError> {
        self.project_for(caller, id, Action::ManageItems).await?;
        caller.signed_in()?;
        Ok(())
    }

    pub async fn create_item(
        &self,
        caller: &Caller,
        id: &ProjectId,
        req: ItemCreate,
    ) -> Result<ItemCreated, WorkspaceError> {
        self.project_for(caller, id, Action::ManageItems).await?;
        let user = caller.signed_in()?;
        let mut checks = Checks::default();
        let title = checks.text("title", &req.title, 1, TITLE_MAX);
        checks.done()?;
        let (id, doc_id) = self.add_item(id, req.kind, title, &user.id).await?;
        Ok(ItemCreated { id, doc_id })
    }

    /// Stores a new item of the whole project and indexes its document (the caller checked
    /// who may).
    pub(crate) async fn add_item(
        &self,
        project: &ProjectId,
        kind: ItemKind,
        title: String,
        by: &UserId,
    ) -> Result<(ItemId, DocId), WorkspaceError> {
        let (item_id, doc_id) = new_item_ids(kind)?;
        self.store.create_item(&item_id, project, kind, title, &doc_id, by).await?;
        self.docs.insert(doc_id.clone(), item_id.clone(), project.clone(), None);
        Ok((item_id, doc_id))
    }

    pub async fn items(
        &self,
        caller: &Caller,
        id: &ProjectId,
    ) -> Result<Vec<ItemView>, WorkspaceError> {
        self.project_for(caller, id, Action::ListItems).await?;
        Ok(self
            .store
            .items(id)
            .await?
            .into_iter()
            .filter(|item| sees(item, caller))
            .map(item_view)
            .collect())
    }

    /// An item, if the caller may list its project's items (and, for a private item, is in
    /// its audience).
    pub async fn item(&self, caller: &Caller, id: &ItemId) -> Result<ItemView, WorkspaceError> {
        let (item, _) = self.item_for(caller, id, Action::ListItems, "item").await?;
        Ok(item_view(item))
    }

    /// Records that `user` opened the item (for their home page).
    pub async fn opened(&self, user: &UserId, item_id: &ItemId) -> Result<(), WorkspaceError> {
        Ok(self.store.record_opened(user, item_id).await?)
    }

    /// The items the caller opened most recently and may still open, newest first.
    pub async fn recent(&self, caller: &Caller) -> Result<Vec<RecentItem>, WorkspaceError> {
        let user = caller.signed_in()?;
        let mut titles: HashMap<ProjectId, Option<String>> = HashMap::new();
        let mut recent = Vec::new();
        for item in self.store.recent_items(&user.id, RECENT_LOOKED_AT).await? {
            if !titles.contains_key(&item.project_id) {
                let title =
                    match self.project_for(caller, &item.project_id, Action::OpenDocument).await {
                        Ok((project, _)) => Some(project.title),
                        Err(WorkspaceError::Store(err)) => return Err(err.into()),
                        Err(_) => None,
                    };
                titles.insert(item.project_id.clone(), title);
            }
            if let Some(Some(title)) = titles.get(&item.project_id).filter(|_| sees(&item, caller))
            {
                recent.push(RecentItem { project_title: title.clone(), item: item_view(item) });
            }
            if recent.len() == RECENT_SHOWN {
                break;
            }
        }
        Ok(recent)
    }

    /// Renames an item or moves it to another project the caller may manage items in. Returns
    /// the item's document when it moved.
    pub async fn update_item(
        &self,
        caller: &Caller,
        id: &ItemId,
        req: ItemUpdate,
    ) -> Result<Option<DocId>, WorkspaceError> {
        let (item, _) = self.item_for(caller, id, Action::ManageItems, "item").await?;
        let mut checks = Checks::default();
        let title = req.title.map(|t| checks.text("title", &t, 1, TITLE_MAX));
        if item.audience.is_some() && req.project_id.as_ref().is_some_and(|p| *p != item.project_id)
        {
            checks.fail("project_id", "private_item_stays", "a private item stays in its project");
        }
        checks.done()?;
        if let Some(target) = &req.project_id {
            self.project_for(caller, target, Action::ManageItems).await?;
        }
        let user = caller.signed_in()?;
        let moved = req.project_id.clone().filter(|p| *p != item.project_id);
        self.store.update_item(id, title, req.project_id, &user.id).await?;
        Ok(moved.map(|project| {
            self.docs.moved(&item.doc_id, project);
            item.doc_id
        }))
    }

    /// Moves an item to its project's trash (restorable for [`TRASH_KEPT_MS`]); returns its
    /// document, whose connections the server closes.
    pub async fn delete_item(&self, caller: &Caller, id: &ItemId) -> Result<DocId, WorkspaceError> {
        let (item, _) = self.item_for(caller, id, Action::ManageItems, "item").await?;
        let user = caller.signed_in()?;
        if !self.store.trash_item(id, &user.id).await? {
            return Err(WorkspaceError::NotFound("item"));
        }
        self.docs.remove(&item.doc_id);
        Ok(item.doc_id)
    }

    /// A project's trash, for those who may manage its items: what each may see of it (a
    /// private item only to its audience). Items past [`TRASH_KEPT_MS`] are purged first.
    pub async fn trash(
        &self,
        caller: &Caller,
        id: &ProjectId,
    ) -> Result<Vec<TrashedItem>, WorkspaceError> {
        let (_, role) = self.project_for(caller, id, Action::ManageItems).await?;
        self.store.purge_trash(Some(id), now_ms() - TRASH_KEPT_MS, None).await?;
        Ok(self
            .store
            .trash(id)
            .await?
            .into_iter()
            .filter(|t| item_role(role, audience_of(&t.item, caller)).is_some())
            .map(|t| TrashedItem {
                purge_at: t.deleted_at + TRASH_KEPT_MS,
                deleted_at: t.deleted_at,
                deleted_by: t.deleted_by.map(|(id, display_name)| PersonRef { id, display_name }),
                item: item_view(t.item),
            })
            .collect())
    }

    /// An item in the trash the caller may act on with `action` (hidden as absent otherwise).
    async fn trashed_for(
        &self,
        caller: &Caller,
        id: &ItemId,
        action: Action,
    ) -> Result<ItemRecord, WorkspaceError> {
        let item = self.store.trashed_item(id).await?.ok_or(WorkspaceError::NotFound("item"))?;
        let (_, role) = self
            .project_for(caller, &item.project_id, Action::ListItems)
            .await
            .map_err(hide_as("item"))?;
        let role =
            item_role(role, audience_of(&item, caller)).ok_or(WorkspaceError::NotFound("item"))?;
        require(caller, role, action)?;
        Ok(item)
    }

    /// Takes an item out of the trash, as it was.
    pub async fn restore_item(&self, caller: &Caller, id: &ItemId) -> Result<(), WorkspaceError> {
        let item = self.trashed_for(caller, id, Action::ManageItems).await?;
        if !self.store.restore_item(id).await? {
            return Err(WorkspaceError::NotFound("item"));
        }
        let audience = item.audience.map(|people| people.into_iter().map(|(id, _)| id).collect());
        self.docs.insert(item.doc_id, item.id, item.project_id, audience);
        Ok(())
    }

    /// Purges one item of the trash for good: the project's owner only.
    pub async fn purge_item(&self, caller: &Caller, id: &ItemId) -> Result<(), WorkspaceError> {
        let item = self.trashed_for(caller, id, Action::ManageItems).await?;
        self.project_for(caller, &item.project_id, Action::DeleteProject).await?;
        self.store.purge_trash(None, i64::MAX, Some(id)).await?;
        Ok(())
    }

    /// Purges what has been in any trash longer than [`TRASH_KEPT_MS`]; returns how much.
    pub async fn purge_expired_trash(&self) -> Result<u64, WorkspaceError> {
        Ok(self.store.purge_trash(None, now_ms() - TRASH_KEPT_MS, None).await?)
    }

    /// Empties a project's trash for good: its owner only.
    pub async fn empty_trash(&self, caller: &Caller, id: &ProjectId) -> Result<(), WorkspaceError> {
        self.project_for(caller, id, Action::DeleteProject).await?;
        self.store.purge_trash(Some(id), i64::MAX, None).await?;
        Ok(())
    }

    /// Creates an invitation link to a project.
    pub async fn create_invite_link(
        &self,
        caller: &Caller,
        id: &ProjectId,
        req: InviteLinkCreate,
    ) -> Result<InviteLinkCreated, WorkspaceError> {
        let (_, my_role) = self.project_for(caller, id, Action::Invite).await?;
        let inviter = caller.signed_in()?;
        let mut checks = Checks::default();
        if req.role == ProjectRole::Owner {
            checks.fail("role", "one_owner", "a project has one owner: transfer ownership instead");
        } else if req.role < my_role {
            checks.fail("role", "above_your_role", "you cannot grant a role above your own");
        }
        if req.expires_in_hours.is_some_and(|h| h == 0 || h > 24 * 365) {
            checks.fail_with(
                "expires_in_hours",
                Problem::new("out_of_range").with("min", 1).with("max", 8760),
                "must be 1 to 8760 (a year)",
            );
        }
        if req.max_uses.is_some_and(|n| n == 0 || n > 10_000) {
            checks.fail_with(
                "max_uses",
                Problem::new("out_of_range").with("min", 1).with("max", 10_000),
                "must be 1 to 10000",
            );
        }
        checks.done()?;
        let secret = new_secret(INVITE_PREFIX);
        let invite_id = InviteId(new_id());
        let expires_at =
            req.expires_in_hours.map(|h| now_ms().saturating_add(i64::from(h) * 3_600_000));
        self.store
            .create_link_invite(
                &invite_id,
                id,
                req.role,
                secret_hash(&secret),
                expires_at,
                req.max_uses.map(i64::from),
                &inviter.id,
            )
            .await?;
        Ok(InviteLinkCreated { id: invite_id, token: secret })
    }

    /// A project's pending invitations, for those who may invite.
    pub async fn invites(
        &self,
        caller: &Caller,
        id: &ProjectId,
    ) -> Result<Vec<InviteView>, WorkspaceError> {
        self.project_for(caller, id, Action::Invite).await?;
        Ok(self
            .store
            .project_invites(id)
            .await?
            .into_iter()
            .map(|i| InviteView {
                id: i.id,
                role: i.role,
                email: i.email,
                expires_at: i.expires_at,
                max_uses: i.max_uses.and_then(|n| u32::try_from(n).ok()),
                uses: u32::try_from(i.uses).unwrap_or(u32::MAX),
                created_at: i.created_at,
            })
            .collect())
    }

    pub async fn revoke_invite(
        &self,
        caller: &Caller,
        id: &ProjectId,
        invite: &InviteId,
    ) -> Result<(), WorkspaceError> {
        self.project_for(caller, id, Action::Invite).await?;
        if self.store.delete_invite(id, invite).await? {
            Ok(())
        } else {
            Err(WorkspaceError::NotFound("invitation"))
        }
    }

    /// Joins the project an invitation link is for.
    pub async fn accept_invite(
        &self,
        caller: &Caller,
        token: &str,
    ) -> Result<InviteAccepted, WorkspaceError> {
        let user = caller.signed_in()?;
        if !token.starts_with(INVITE_PREFIX) {
            return Err(WorkspaceError::NotFound("invitation"));
        }
        match self.store.redeem_link(secret_hash(token), &user.id).await? {
            Redeemed::Unknown => Err(WorkspaceError::NotFound("invitation")),
            Redeemed::OtherAddress => Err(WorkspaceError::Forbidden(
                "this invitation was sent to another address: sign in with that one",
            )),
            Redeemed::Revoked => Err(WorkspaceError::InviteClosed(InviteClosed::Revoked)),
            Redeemed::Expired => Err(WorkspaceError::InviteClosed(InviteClosed::Expired)),
            Redeemed::UsedUp => Err(WorkspaceError::InviteClosed(InviteClosed::UsedUp)),
            Redeemed::Joined(project_id, role) | Redeemed::AlreadyMember(project_id, role) => {
                self.invitation_done(&user.id, &project_id).await?;
                Ok(InviteAccepted { project_id, role })
            }
        }
    }

    /// What the caller may do with a live document: `None` if it belongs to no item,
    /// `NotFound` if it belongs to a project they may not see.
    pub async fn doc_access(
        &self,
        caller: &Caller,
        doc: &DocId,
    ) -> Result<Option<DocAccess>, WorkspaceError> {
        let Some(entry) = self.docs.get(&self.store, doc).await? else {
            return Ok(None);
        };
        let (_, role) = self
            .project_for(caller, &entry.project_id, Action::OpenDocument)
            .await
            .map_err(hide_as("document"))?;
        let audience = match &entry.audience {
            None => ItemAudience::Project,
            Some(people) => ItemAudience::Private {
                included: caller.user_id().is_some_and(|me| people.contains(me)),
            },
        };
        let role = item_role(role, audience).ok_or(WorkspaceError::NotFound("document"))?;
        let (item_id, project_id) = (entry.item_id, entry.project_id);
        Ok(Some(DocAccess {
            project_id,
            item_id,
            role,
            write: allows(role, Action::WriteDocument),
        }))
    }

    /// Records that `user` changed a document's content, for "who changed what last".
    pub async fn touch_doc(&self, doc: &DocId, user: &UserId) -> Result<(), WorkspaceError> {
        Ok(self.store.touch_item_doc(doc, user).await?)
    }
}

/// A project the caller may not see makes the thing inside it look absent too.
/// How many recently opened items a home page shows, and how many are read to find them (some
/// may have become closed to the caller).
const RECENT_SHOWN: usize = 12;
const RECENT_LOOKED_AT: i64 = 50;

pub(crate) fn hide_as(what: &'static str) -> impl Fn(WorkspaceError) -> WorkspaceError {
    move |err| match err {
        WorkspaceError::NotFound(_) => WorkspaceError::NotFound(what),
        err => err,
    }
}

fn forbidden_message(action: Action) -> &'static str {
    match action {
        Action::SeeProject | Action::ListItems | Action::OpenDocument => {
            "your role does not let you see this"
        }
        Action::Comment => "your role does not let you comment",
        Action::ModerateComments => "only the thread's author, editors and owners may do this",
        Action::WriteDocument => "your role does not let you edit",
        Action::ManageItems => "only editors and owners manage the project's items",
        Action::Vote => "your role does not let you vote",
        Action::Facilitate => "only editors and owners run a workshop or moderate a room",
        Action::Speak => "a moderator has not let you speak",
        Action::Invite => "only editors and owners invite people",
        Action::ChangeRole | Action::RemoveMember => "only the owner manages members",
        Action::EditProject => "only the owner changes the project's settings",
        Action::TransferOwnership => "only the owner hands the project on",
        Action::DeleteProject => "only the owner deletes the project",
    }
}

/// A new item's id and the name of its live document.
pub(crate) fn new_item_ids(kind: ItemKind) -> Result<(ItemId, DocId), StoreError> {
    let id = ItemId(new_id());
    let doc_id = DocId::parse(&format!("{}-{}", kind.as_str(), id))
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    Ok((id, doc_id))
}

/// Refuses `action` to a role that does not allow it.
fn require(caller: &Caller, role: ProjectRole, action: Action) -> Result<(), WorkspaceError> {
    if allows(role, action) {
        return Ok(());
    }
    // Someone looking at a public project without an account: signing in may help.
    if caller.user.is_none() {
        return Err(WorkspaceError::Unauthenticated);
    }
    Err(WorkspaceError::Forbidden(forbidden_message(action)))
}

/// Whether `caller` may see `item` at all, given that they may see its project.
fn sees(item: &ItemRecord, caller: &Caller) -> bool {
    audience_of(item, caller) != ItemAudience::Private { included: false }
}

/// Who may see `item`, as far as `caller` is concerned.
/// How long a deleted item stays in its project's trash: 30 days.
pub const TRASH_KEPT_MS: i64 = 30 * 24 * 3_600_000;

fn audience_of(item: &ItemRecord, caller: &Caller) -> ItemAudience {
    match &item.audience {
        None => ItemAudience::Project,
        Some(people) => ItemAudience::Private {
            included: caller.user_id().is_some_and(|me| people.iter().any(|(id, _)| id == me)),
        },
    }
}

fn item_view(item: ItemRecord) -> ItemView {
    ItemView {
        id: item.id,
        project_id: item.project_id,
        kind: item.kind,
        title: item.title,
        doc_id: item.doc_id,
        created_at: item.created_at,
        created_by: PersonRef { id: item.created_by.0, display_name: item.created_by.1 },
        updated_at: item.updated_at,
        updated_by: PersonRef { id: item.updated_by.0, display_name: item.updated_by.1 },
        audience: item.audience.map(|people| {
            people.into_iter().map(|(id, display_name)| PersonRef { id, display_name }).collect()
        }),
        notes_id: item.notes_id,
    }
}
