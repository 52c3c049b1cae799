//! Who may do what in a project: one table from role to actions, and the rule that turns a
//! caller (a member, an admin, a signed-in outsider, an anonymous visitor) into a role.
//!
//! Every `/api/v1` route and every document connection decides through [`effective_role`] and
//! [`allows`]; nothing else grants access.

use hubring_protocol::api::{ProjectRole, Visibility};

/// Something a caller may want to do in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the project page: title, summary, partner hubs, members.
    SeeProject,
    /// List the project's documents, boards and rooms.
    ListItems,
    /// Open a document or board (read).
    OpenDocument,
    /// Comment on a document or a board: start threads, reply, react; edit, delete, resolve
    /// and reopen one's own.
    Comment,
    /// Resolve, reopen or delete anyone's thread.
    ModerateComments,
    /// Change a document's or board's content.
    WriteDocument,
    /// Create, rename, move or delete an item.
    ManageItems,
    /// Place dots in a board's vote.
    Vote,
    /// Run a board's workshop (votes, the timer, locks) or moderate a video room (mute,
    /// remove, lock, lobby, breakouts).
    Facilitate,
    /// Send audio and video in a room without a moderator's leave.
    Speak,
    /// Invite someone, by email or link.
    Invite,
    /// Change a member's role.
    ChangeRole,
    /// Remove a member (anyone may remove themselves: that is leaving).
    RemoveMember,
    /// Change the title, summary, visibility or partner hubs; archive.
    EditProject,
    /// Hand the project to another member.
    TransferOwnership,
    /// Delete the project and everything in it.
    DeleteProject,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Self::SeeProject,
        Self::ListItems,
        Self::OpenDocument,
        Self::Comment,
        Self::ModerateComments,
        Self::WriteDocument,
        Self::ManageItems,
        Self::Vote,
        Self::Facilitate,
        Self::Speak,
        Self::Invite,
        Self::ChangeRole,
        Self::RemoveMember,
        Self::EditProject,
        Self::TransferOwnership,
        Self::DeleteProject,
    ];
}

/// Whether `role` may do `action`. Each role may do what the one below it may, and more.
pub fn allows(role: ProjectRole, action: Action) -> bool {
    use Action::*;
    let least = match action {
        SeeProject | ListItems | OpenDocument => ProjectRole::Viewer,
        Comment | Vote => ProjectRole::Commenter,
        WriteDocument | ModerateComments | ManageItems | Facilitate | Speak | Invite => {
            ProjectRole::Editor
        }
        ChangeRole | RemoveMember | EditProject | TransferOwnership | DeleteProject => {
            ProjectRole::Owner
        }
    };
    // `ProjectRole` orders from most to least powerful.
    role <= least
}

/// What a caller is to a project, before visibility is considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Their membership, if any.
    pub member: Option<ProjectRole>,
    pub signed_in: bool,
    pub admin: bool,
}

/// The role a caller acts with in a project, or `None` when the project must look absent to
/// them (a private project to a non-member answers 404, not 403: its existence does not leak).
/// A member acts with their role; an instance admin as an owner; anyone else as a viewer where
/// the visibility lets them look (network: signed in; public: anyone).
pub fn effective_role(visibility: Visibility, standing: Standing) -> Option<ProjectRole> {
    if standing.admin {
        return Some(ProjectRole::Owner);
    }
    if let Some(role) = standing.member {
        return Some(role);
    }
    match visibility {
        Visibility::Public => Some(ProjectRole::Viewer),
        Visibility::Network if standing.signed_in => Some(ProjectRole::Viewer),
        Visibility::Network | Visibility::Private => None,
    }
}

/// Who may see an item, beside the project's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemAudience {
    /// Everyone who may see the project.
    Project,
    /// Only the people listed (a coaching room and its notes); `included` says whether the
    /// caller is one of them.
    Private { included: bool },
}

/// The role a caller acts with in an item, given their role in its project: the same for an
/// item open to the project. A private item looks absent (`None`) to everyone outside its
/// audience, owners and admins included, and its audience act in it at least as editors: both
/// people in a coaching session write the notes, speak and moderate.
pub fn item_role(project_role: ProjectRole, audience: ItemAudience) -> Option<ProjectRole> {
    match audience {
        ItemAudience::Project => Some(project_role),
        ItemAudience::Private { included: true } => Some(project_role.min(ProjectRole::Editor)),
        ItemAudience::Private { included: false } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_nested_and_only_owners_govern() {
        for action in Action::ALL {
            let allowed: Vec<bool> =
                ProjectRole::ALL.iter().map(|&role| allows(role, action)).collect();
            // Owner, editor, commenter, viewer: once a role may not, no weaker role may.
            assert!(allowed.windows(2).all(|w| w[0] || !w[1]), "{action:?}: {allowed:?}");
            assert!(allowed[0], "the owner may {action:?}");
        }
        let table: &[(ProjectRole, &[Action])] = &[
            (ProjectRole::Viewer, &[Action::SeeProject, Action::ListItems, Action::OpenDocument]),
            (
                ProjectRole::Commenter,
                &[
                    Action::SeeProject,
                    Action::ListItems,
                    Action::OpenDocument,
                    Action::Comment,
                    Action::Vote,
                ],
            ),
            (
                ProjectRole::Editor,
                &[
                    Action::SeeProject,
                    Action::ListItems,
                    Action::OpenDocument,
                    Action::Comment,
                    Action::ModerateComments,
                    Action::Vote,
                    Action::WriteDocument,
                    Action::ManageItems,
                    Action::Facilitate,
                    Action::Speak,
                    Action::Invite,
                ],
            ),
        ];
        for (role, may) in table {
            for action in Action::ALL {
                assert_eq!(allows(*role, action), may.contains(&action), "{role:?} {action:?}");
            }
        }
    }

    #[test]
    fn visibility_decides_for_outsiders_only() {
        let outsider = |signed_in| Standing { member: None, signed_in, admin: false };
        let cases = [
            (Visibility::Private, outsider(false), None),
            (Visibility::Private, outsider(true), None),
            (Visibility::Network, outsider(false), None),
            (Visibility::Network, outsider(true), Some(ProjectRole::Viewer)),
            (Visibility::Public, outsider(false), Some(ProjectRole::Viewer)),
            (
                Visibility::Private,
                Standing { member: Some(ProjectRole::Commenter), signed_in: true, admin: false },
                Some(ProjectRole::Commenter),
            ),
            (
                Visibility::Private,
                Standing { member: None, signed_in: true, admin: true },
                Some(ProjectRole::Owner),
            ),
        ];
        for (visibility, standing, want) in cases {
            assert_eq!(effective_role(visibility, standing), want, "{visibility:?} {standing:?}");
        }
    }

    #[test]
    fn a_private_item_is_its_audiences_alone() {
        for role in ProjectRole::ALL {
            assert_eq!(item_role(role, ItemAudience::Project), Some(role));
            assert_eq!(item_role(role, ItemAudience::Private { included: false }), None);
            let inside = item_role(role, ItemAudience::Private { included: true });
            let inside = inside.expect("the audience sees it");
            assert!(allows(inside, Action::WriteDocument) && allows(inside, Action::Speak));
            assert!(allows(inside, Action::Facilitate));
            // Being in the audience never makes anyone an owner.
            assert_eq!(inside == ProjectRole::Owner, role == ProjectRole::Owner, "{role:?}");
        }
    }
}
