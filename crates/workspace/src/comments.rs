//! Comment threads on documents and boards, and who may do what with them: owners, editors
//! and commenters comment; viewers read; only a comment's author edits or deletes it; editors
//! and owners resolve, reopen or delete any thread, a commenter their own. Mentions are read
//! from the comment's content and kept only for people who may see the item.
//!
//! The workspace never writes the document; the server copies what is decided here into it.

use std::collections::{BTreeMap, HashSet};

use hubring_protocol::api::{
    Comment, CommentInput, ItemKind, NotificationKind, NotificationSubject, PersonRef, Pin,
    ProjectRole, Reaction, Thread, ThreadCreate,
};
use hubring_protocol::{CommentId, DocId, ItemId, Problem, ProjectId, ThreadId, UserId};
use hubring_store::{
    NewComment, NewThread, Softness, ThreadChange, ThreadRecord, UserRecord, now_ms,
};
use serde_json::Value;

use crate::access::{Action, allows};
use crate::notify::excerpt;
use crate::secret::new_id;
use crate::{Caller, FieldErrors, Workspace, WorkspaceError};

/// Longest comment, as JSON.
pub const MAX_COMMENT_BYTES: usize = 64 * 1024;

/// A document or board whose threads the caller may act on.
#[derive(Debug, Clone)]
pub struct ContentAccess {
    pub item_id: ItemId,
    pub project_id: ProjectId,
    pub doc_id: DocId,
    pub kind: ItemKind,
    pub role: ProjectRole,
    /// The item's title, for the names of its exports.
    pub title: String,
}

impl ContentAccess {
    pub fn may(&self, action: Action) -> bool {
        allows(self.role, action)
    }
}

/// A change someone asks for on a thread.
#[derive(Debug, Clone)]
pub enum ThreadRequest {
    Reply(CommentInput),
    Edit { comment: CommentId, input: CommentInput },
    DeleteComment { comment: CommentId, soft: Softness },
    Resolve,
    Reopen,
    Delete,
    React { comment: CommentId, emoji: String },
    Unreact { comment: CommentId, emoji: String },
}

impl Workspace {
    /// The document or board `id`, if the caller may do `action` there (404 otherwise, as
    /// for every item).
    pub async fn content_access(
        &self,
        caller: &Caller,
        id: &ItemId,
        action: Action,
    ) -> Result<ContentAccess, WorkspaceError> {
        let (item, role) = self.item_for(caller, id, action, "item").await?;
        if !matches!(item.kind, ItemKind::Document | ItemKind::Board) {
            return Err(WorkspaceError::NotFound("item"));
        }
        Ok(ContentAccess {
            item_id: item.id,
            project_id: item.project_id,
            doc_id: item.doc_id,
            kind: item.kind,
            role,
            title: item.title,
        })
    }

    /// The item's threads (deleted ones left out), oldest first; with `mentioning`, only those
    /// with a comment that mentions that person.
    pub async fn threads(
        &self,
        access: &ContentAccess,
        mentioning: Option<&UserId>,
    ) -> Result<Vec<Thread>, WorkspaceError> {
        let threads = self.store.threads(&access.item_id).await?;
        Ok(threads
            .into_iter()
            .filter(|t| t.deleted_at.is_none())
            .filter(|t| {
                mentioning.is_none_or(|who| t.comments.iter().any(|c| c.mentions.contains(who)))
            })
            .map(thread_view)
            .collect())
    }

    /// One thread of the item, deleted or not (the server copies deletions too).
    pub async fn thread_record(
        &self,
        access: &ContentAccess,
        id: &ThreadId,
    ) -> Result<ThreadRecord, WorkspaceError> {
        self.store
            .thread(id)
            .await?
            .filter(|t| t.item_id == access.item_id)
            .ok_or(WorkspaceError::NotFound("thread"))
    }

    /// Starts a thread with its first comment.
    pub async fn create_thread(
        &self,
        caller: &Caller,
        access: &ContentAccess,
        req: ThreadCreate,
    ) -> Result<ThreadRecord, WorkspaceError> {
        let user = caller.signed_in()?;
        self.require_comments(caller, access, Action::Comment)?;
        let pin = match (&req.pin, access.kind) {
            (Some(pin), ItemKind::Board) => {
                if !(pin.x.is_finite() && pin.y.is_finite()) {
                    return Err(invalid("pin", "not_a_number", "x and y must be numbers"));
                }
                Some(serde_json::to_string(pin).map_err(|e| WorkspaceError::Store(corrupt(&e)))?)
            }
            (Some(_), _) => return Err(invalid("pin", "not_allowed", "only boards take pins")),
            (None, _) => None,
        };
        let first = self.new_comment(access, &user.id, &req.initial_comment).await?;
        let mentioned = first.mentions.clone();
        let id = ThreadId(new_id());
        self.store
            .create_thread(NewThread {
                id: id.clone(),
                item_id: access.item_id.clone(),
                pin,
                first,
            })
            .await?;
        let thread = self.thread_record(access, &id).await?;
        let body = &req.initial_comment.body;
        self.tell_about_comment(access, &thread, user, body, &mentioned, &[]).await?;
        Ok(thread)
    }

    /// Whether the caller may anchor the thread to text: its author or a moderator.
    pub fn may_anchor(
        &self,
        caller: &Caller,
        access: &ContentAccess,
        thread: &ThreadRecord,
    ) -> Result<(), WorkspaceError> {
        let user = caller.signed_in()?;
        self.require_comments(caller, access, Action::Comment)?;
        if thread.created_by.as_ref() == Some(&user.id) || access.may(Action::ModerateComments) {
            Ok(())
        } else {
            Err(WorkspaceError::Forbidden("only the thread's author places it"))
        }
    }

    /// Keeps the text a thread was anchored on.
    pub async fn set_quote(&self, thread: &ThreadId, quote: String) -> Result<(), WorkspaceError> {
        let quote: String = quote.chars().take(500).collect();
        self.store.change_thread(thread, ThreadChange::Quote(quote), now_ms()).await?;
        Ok(())
    }

    /// Applies `req` to a thread of the item, if the caller's role and authorship allow it.
    pub async fn change_thread(
        &self,
        caller: &Caller,
        access: &ContentAccess,
        id: &ThreadId,
        req: ThreadRequest,
    ) -> Result<ThreadRecord, WorkspaceError> {
        let user = caller.signed_in()?;
        self.require_comments(caller, access, Action::Comment)?;
        let thread = self.thread_record(access, id).await?;
        if thread.deleted_at.is_some() {
            return Err(WorkspaceError::NotFound("thread"));
        }
        let own_comment = |comment: &CommentId| -> Result<(), WorkspaceError> {
            let found = thread
                .comments
                .iter()
                .find(|c| &c.id == comment && c.deleted_at.is_none())
                .ok_or(WorkspaceError::NotFound("comment"))?;
            if found.author.as_ref() == Some(&user.id) {
                Ok(())
            } else {
                Err(WorkspaceError::Forbidden("only its author changes a comment"))
            }
        };
        let own_thread_or_moderator = || {
            if thread.created_by.as_ref() == Some(&user.id) || access.may(Action::ModerateComments)
            {
                Ok(())
            } else {
                Err(WorkspaceError::Forbidden(
                    "only the thread's author, editors and owners may do this",
                ))
            }
        };
        let now = now_ms();
        // Who hears of the change: (the comment, those it newly mentions, whether it is a reply).
        let mut tell = None;
        let change = match req {
            ThreadRequest::Reply(input) => {
                let comment = self.new_comment(access, &user.id, &input).await?;
                tell = Some((input.body, comment.mentions.clone(), true));
                ThreadChange::Reply(comment)
            }
            ThreadRequest::Edit { comment, input } => {
                own_comment(&comment)?;
                let body = checked_body(&input.body)?;
                let mentions = self.mentions(access, &input.body).await?;
                let before = thread.comments.iter().find(|c| c.id == comment);
                let new: Vec<UserId> = mentions
                    .iter()
                    .filter(|m| before.is_none_or(|c| !c.mentions.contains(m)))
                    .cloned()
                    .collect();
                tell = Some((input.body, new, false));
                ThreadChange::Edit { comment, body, mentions }
            }
            ThreadRequest::DeleteComment { comment, soft } => {
                own_comment(&comment)?;
                ThreadChange::DeleteComment { comment, soft }
            }
            ThreadRequest::Resolve => {
                own_thread_or_moderator()?;
                ThreadChange::Resolve { by: user.id.clone() }
            }
            ThreadRequest::Reopen => {
                own_thread_or_moderator()?;
                ThreadChange::Reopen
            }
            ThreadRequest::Delete => {
                own_thread_or_moderator()?;
                ThreadChange::Delete
            }
            ThreadRequest::React { comment, emoji } => {
                check_emoji(&emoji)?;
                ThreadChange::React { comment, user: user.id.clone(), emoji }
            }
            ThreadRequest::Unreact { comment, emoji } => {
                ThreadChange::Unreact { comment, user: user.id.clone(), emoji }
            }
        };
        if !self.store.change_thread(id, change, now).await? {
            return Err(WorkspaceError::NotFound("comment"));
        }
        let after = self.thread_record(access, id).await?;
        if let Some((body, mentioned, reply)) = tell {
            let participants = if reply { participants(&thread) } else { Vec::new() };
            self.tell_about_comment(access, &after, user, &body, &mentioned, &participants).await?;
        }
        Ok(after)
    }

    /// Notifies those a comment mentions, and a reply's earlier participants, who may still
    /// read the item (never its author, never twice).
    async fn tell_about_comment(
        &self,
        access: &ContentAccess,
        thread: &ThreadRecord,
        author: &UserRecord,
        body: &Value,
        mentioned: &[UserId],
        participants: &[UserId],
    ) -> Result<(), WorkspaceError> {
        let mut told = HashSet::from([author.id.clone()]);
        let kinds = mentioned
            .iter()
            .map(|u| (u, NotificationKind::Mention))
            .chain(participants.iter().map(|u| (u, NotificationKind::Reply)));
        let surface = match access.kind {
            ItemKind::Board => "boards",
            _ => "documents",
        };
        let path = format!(
            "/projects/{}/{surface}/{}?thread={}",
            access.project_id.as_str(),
            access.item_id.as_str(),
            thread.id.as_str()
        );
        let project_title = self.store.project(&access.project_id).await?.map(|p| p.title);
        for (user_id, kind) in kinds {
            if !told.insert(user_id.clone()) {
                continue;
            }
            let Some(to) = self.store.user_by_id(user_id).await? else { continue };
            let reader = Caller { user: Some(to.clone()), credential: None };
            if self.content_access(&reader, &access.item_id, Action::OpenDocument).await.is_err() {
                continue;
            }
            let subject = NotificationSubject {
                by: Some(PersonRef {
                    id: author.id.clone(),
                    display_name: author.display_name.clone(),
                }),
                project_id: Some(access.project_id.clone()),
                project_title: project_title.clone(),
                item_id: Some(access.item_id.clone()),
                item_kind: Some(access.kind),
                item_title: Some(access.title.clone()),
                thread_id: Some(thread.id.clone()),
                excerpt: Some(excerpt(body)),
                ..NotificationSubject::default()
            };
            self.notify(&to, kind, subject, &path).await?;
        }
        Ok(())
    }

    fn require_comments(
        &self,
        caller: &Caller,
        access: &ContentAccess,
        action: Action,
    ) -> Result<(), WorkspaceError> {
        if access.may(action) {
            Ok(())
        } else if caller.user.is_none() {
            Err(WorkspaceError::Unauthenticated)
        } else {
            Err(WorkspaceError::Forbidden("your role does not let you comment"))
        }
    }

    async fn new_comment(
        &self,
        access: &ContentAccess,
        author: &UserId,
        input: &CommentInput,
    ) -> Result<NewComment, WorkspaceError> {
        let body = checked_body(&input.body)?;
        let mentions = self.mentions(access, &input.body).await?;
        Ok(NewComment {
            id: CommentId(new_id()),
            author: author.clone(),
            body,
            mentions,
            at: now_ms(),
        })
    }

    /// The people a comment's content mentions (`{"type": "mention", "props": {"user": id}}`
    /// inline content) who are members of the item's project; anyone else is left out, so a
    /// mention can never tell an outsider about a private item.
    async fn mentions(
        &self,
        access: &ContentAccess,
        body: &Value,
    ) -> Result<Vec<UserId>, WorkspaceError> {
        let mut named = HashSet::new();
        collect_mentions(body, &mut named);
        if named.is_empty() {
            return Ok(Vec::new());
        }
        let members = self.store.project_members(&access.project_id).await?;
        Ok(members
            .into_iter()
            .map(|m| m.user_id)
            .filter(|id| named.contains(id.as_str()))
            .collect())
    }
}

/// Who took part in a thread: its author and everyone who commented (deleted comments aside).
fn participants(thread: &ThreadRecord) -> Vec<UserId> {
    thread
        .created_by
        .iter()
        .chain(
            thread
                .comments
                .iter()
                .filter(|c| c.deleted_at.is_none())
                .filter_map(|c| c.author.as_ref()),
        )
        .cloned()
        .collect()
}

fn collect_mentions(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("mention")
                && let Some(user) =
                    map.get("props").and_then(|p| p.get("user")).and_then(Value::as_str)
            {
                out.insert(user.to_owned());
            }
            map.values().for_each(|v| collect_mentions(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_mentions(v, out)),
        _ => {}
    }
}

fn invalid(field: &'static str, code: &'static str, message: &str) -> WorkspaceError {
    WorkspaceError::Invalid(FieldErrors::one(field, Problem::new(code), message.to_owned()))
}

fn corrupt(err: &serde_json::Error) -> hubring_store::StoreError {
    hubring_store::StoreError::Corrupt(err.to_string())
}

/// A comment's body must be BlockNote blocks (an array) of reasonable size.
fn checked_body(body: &Value) -> Result<String, WorkspaceError> {
    if !body.is_array() {
        return Err(invalid("body", "not_blocks", "a comment is a list of blocks"));
    }
    let text = body.to_string();
    if text.len() > MAX_COMMENT_BYTES {
        return Err(invalid("body", "too_long", "the comment is too long"));
    }
    if text == "[]" {
        return Err(invalid("body", "required", "the comment is empty"));
    }
    Ok(text)
}

fn check_emoji(emoji: &str) -> Result<(), WorkspaceError> {
    let n = emoji.chars().count();
    if n == 0 || n > 16 || emoji.chars().any(|c| c.is_alphanumeric() || c.is_whitespace()) {
        return Err(invalid("emoji", "not_an_emoji", "a reaction is one emoji"));
    }
    Ok(())
}

/// The API's view of a stored thread.
pub fn thread_view(t: ThreadRecord) -> Thread {
    Thread {
        id: t.id,
        item_id: t.item_id,
        created_by: t.created_by,
        created_at: t.created_at,
        updated_at: t.updated_at,
        resolved: t.resolved.is_some(),
        resolved_at: t.resolved.as_ref().map(|(at, _)| *at),
        resolved_by: t.resolved.and_then(|(_, by)| by),
        deleted: t.deleted_at.is_some(),
        quote: t.quote,
        pin: t.pin.and_then(|p| serde_json::from_str::<Pin>(&p).ok()),
        comments: t
            .comments
            .into_iter()
            .map(|c| {
                let mut reactions: BTreeMap<String, Reaction> = BTreeMap::new();
                for (user, emoji, at) in c.reactions {
                    let r = reactions.entry(emoji.clone()).or_insert(Reaction {
                        emoji,
                        user_ids: Vec::new(),
                        created_at: at,
                    });
                    r.user_ids.push(user);
                    r.created_at = r.created_at.min(at);
                }
                Comment {
                    id: c.id,
                    author: c.author,
                    body: c.body.and_then(|b| serde_json::from_str(&b).ok()),
                    created_at: c.created_at,
                    updated_at: c.updated_at,
                    deleted_at: c.deleted_at,
                    mentions: c.mentions,
                    reactions: reactions.into_values().collect(),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_read_from_mention_inline_content_anywhere_in_the_blocks() {
        let body = serde_json::json!([
            {"type": "paragraph", "content": [
                {"type": "text", "text": "ask "},
                {"type": "mention", "props": {"user": "u-ben"}},
                {"type": "link", "content": [{"type": "mention", "props": {"user": "u-cy"}}]}
            ]},
            {"type": "paragraph", "props": {"user": "not-a-mention"}}
        ]);
        let mut found = HashSet::new();
        collect_mentions(&body, &mut found);
        assert_eq!(found, HashSet::from(["u-ben".to_owned(), "u-cy".to_owned()]));
    }

    #[test]
    fn a_reaction_is_one_emoji_and_a_body_is_blocks() {
        assert!(check_emoji("👍").is_ok());
        assert!(check_emoji("👍🏽").is_ok());
        assert!(check_emoji("ok").is_err());
        assert!(check_emoji("").is_err());
        assert!(checked_body(&serde_json::json!("text")).is_err());
        assert!(checked_body(&serde_json::json!([])).is_err());
        assert!(checked_body(&serde_json::json!([{"type": "paragraph"}])).is_ok());
    }
}
