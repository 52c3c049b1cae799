//! Boards beyond their document: who may facilitate and vote, and the dot votes themselves.
//!
//! The workspace never reads or writes a board's document; the server does that (through the
//! live documents) after the rules here have said yes.

use std::collections::{BTreeMap, HashMap, HashSet};

use hubring_protocol::api::{
    BoardState, BoardVote, ItemKind, PersonRef, ProjectRole, ShapeDots, VoteCreate,
};
use hubring_protocol::{DocId, ItemId, Problem, ProjectId, UserId, VoteId};
use hubring_store::{DotOutcome, VoteRecord, now_ms};

use crate::access::{Action, allows};
use crate::assets::is_asset_id;
use crate::secret::new_id;
use crate::{Caller, FieldErrors, Workspace, WorkspaceError};

/// Most dots one person may have in a vote.
pub const MAX_DOTS: u32 = 20;

/// A board the caller may act on.
#[derive(Debug, Clone)]
pub struct BoardAccess {
    pub item_id: ItemId,
    pub project_id: ProjectId,
    pub doc_id: DocId,
    pub role: ProjectRole,
    /// The board's title, for the names of its exports.
    pub title: String,
}

impl BoardAccess {
    pub fn may(&self, action: Action) -> bool {
        allows(self.role, action)
    }
}

impl Workspace {
    /// The board `id`, if the caller may do `action` on it. Anything that is not a board the
    /// caller can see answers 404.
    pub async fn board(
        &self,
        caller: &Caller,
        id: &ItemId,
        action: Action,
    ) -> Result<BoardAccess, WorkspaceError> {
        let (item, role) = self.item_for(caller, id, action, "board").await?;
        if item.kind != ItemKind::Board {
            return Err(WorkspaceError::NotFound("board"));
        }
        Ok(BoardAccess {
            item_id: item.id,
            project_id: item.project_id,
            doc_id: item.doc_id,
            role,
            title: item.title,
        })
    }

    /// What the server keeps of a board beside its document, as the caller may see it.
    pub async fn board_state(
        &self,
        caller: &Caller,
        board: &BoardAccess,
    ) -> Result<BoardState, WorkspaceError> {
        let vote = match self.store.current_vote(&board.item_id).await? {
            Some(vote) => Some(self.vote_view(caller, vote).await?),
            None => None,
        };
        Ok(BoardState {
            now: now_ms(),
            vote,
            can_facilitate: board.may(Action::Facilitate),
            can_vote: caller.user.is_some() && board.may(Action::Vote),
        })
    }

    /// Opens a dot vote (facilitators only; one open vote per board).
    pub async fn open_vote(
        &self,
        caller: &Caller,
        board: &BoardAccess,
        req: VoteCreate,
    ) -> Result<BoardVote, WorkspaceError> {
        let user = caller.signed_in()?;
        self.require(board, Action::Facilitate)?;
        if !(1..=MAX_DOTS).contains(&req.dots_per_person) {
            return Err(WorkspaceError::Invalid(FieldErrors::one(
                "dots_per_person",
                Problem::new("out_of_range").with("min", 1).with("max", u64::from(MAX_DOTS)),
                format!("between 1 and {MAX_DOTS}"),
            )));
        }
        let vote = VoteRecord {
            id: VoteId(new_id()),
            item_id: board.item_id.clone(),
            dots_per_person: req.dots_per_person,
            opened_by: (user.id.clone(), user.display_name.clone()),
            opened_at: now_ms(),
            closed_at: None,
        };
        self.store.open_vote(vote.clone()).await.map_err(|err| match err {
            hubring_store::StoreError::Conflict(_) => {
                WorkspaceError::Conflict("vote_open", "a vote is already open on this board")
            }
            err => err.into(),
        })?;
        self.vote_view(caller, vote).await
    }

    /// Closes the board's open vote `vote_id` (facilitators only) and returns its results.
    pub async fn close_vote(
        &self,
        caller: &Caller,
        board: &BoardAccess,
        vote_id: &VoteId,
    ) -> Result<BoardVote, WorkspaceError> {
        caller.signed_in()?;
        self.require(board, Action::Facilitate)?;
        let vote = self.vote_of(board, vote_id).await?;
        if !self.store.close_vote(&board.item_id, vote_id).await? && vote.closed_at.is_none() {
            return Err(WorkspaceError::Conflict("vote_closed", "the vote was closed meanwhile"));
        }
        let closed = self.vote_of(board, vote_id).await?;
        self.vote_view(caller, closed).await
    }

    /// Places one of the caller's dots on `shape` (`delta = 1`) or takes one back (`-1`). The
    /// caller checks that the shape is on the board.
    pub async fn change_dot(
        &self,
        caller: &Caller,
        board: &BoardAccess,
        vote_id: &VoteId,
        shape: &str,
        delta: i64,
    ) -> Result<BoardVote, WorkspaceError> {
        let user = caller.signed_in()?;
        self.require(board, Action::Vote)?;
        match self.store.change_dot(&board.item_id, vote_id, &user.id, shape, delta).await? {
            DotOutcome::Done => {}
            DotOutcome::Closed => {
                return Err(WorkspaceError::Gone("vote_closed", "the vote is closed"));
            }
            DotOutcome::NoneLeft if delta > 0 => {
                return Err(WorkspaceError::Conflict(
                    "no_dots_left",
                    "you have placed all your dots",
                ));
            }
            DotOutcome::NoneLeft => {
                return Err(WorkspaceError::Conflict(
                    "no_dot_here",
                    "you have no dot on that shape",
                ));
            }
            DotOutcome::NoVote => return Err(WorkspaceError::NotFound("vote")),
        }
        let vote = self.vote_of(board, vote_id).await?;
        self.vote_view(caller, vote).await
    }

    /// The images a board may embed in its exports: those uploaded into its project, by id.
    pub async fn board_assets(
        &self,
        board: &BoardAccess,
        ids: &HashSet<String>,
    ) -> Result<HashMap<String, (String, Vec<u8>)>, WorkspaceError> {
        self.project_assets(&board.project_id, ids).await
    }

    /// The assets among `ids` that are in `project` (the images a board or a document of it
    /// may show), as (type, bytes); the others are left out. The caller has checked that its
    /// user reads something of the project.
    pub async fn project_assets(
        &self,
        project: &ProjectId,
        ids: &HashSet<String>,
    ) -> Result<HashMap<String, (String, Vec<u8>)>, WorkspaceError> {
        let mut out = HashMap::new();
        for id in ids.iter().filter(|id| is_asset_id(id)) {
            if !self.store.asset_projects(id).await?.contains(project) {
                continue;
            }
            if let Some(asset) = self.store.asset(id).await? {
                out.insert(id.clone(), (asset.mime, asset.bytes));
            }
        }
        Ok(out)
    }

    fn require(&self, board: &BoardAccess, action: Action) -> Result<(), WorkspaceError> {
        if board.may(action) {
            Ok(())
        } else {
            let message = match action {
                Action::Vote => "your role does not let you vote",
                _ => "only editors and owners run a board's workshop",
            };
            Err(WorkspaceError::Forbidden(message))
        }
    }

    async fn vote_of(
        &self,
        board: &BoardAccess,
        vote_id: &VoteId,
    ) -> Result<VoteRecord, WorkspaceError> {
        // The current vote is the only one anyone acts on.
        self.store
            .current_vote(&board.item_id)
            .await?
            .filter(|v| &v.id == vote_id)
            .ok_or(WorkspaceError::NotFound("vote"))
    }

    async fn vote_view(
        &self,
        caller: &Caller,
        vote: VoteRecord,
    ) -> Result<BoardVote, WorkspaceError> {
        let dots = self.store.vote_dots(&vote.id).await?;
        let me: Option<&UserId> = caller.user.as_ref().map(|u| &u.id);
        let mut mine = Vec::new();
        let mut tally: BTreeMap<&str, u32> = BTreeMap::new();
        let mut voters = HashSet::new();
        for (voter, shape, n) in &dots {
            if Some(voter) == me {
                mine.push(ShapeDots { shape: shape.clone(), dots: *n });
            }
            *tally.entry(shape.as_str()).or_default() += n;
            voters.insert(voter);
        }
        let n_cast: u32 = tally.values().sum();
        let used: u32 = mine.iter().map(|d| d.dots).sum();
        let results = vote.closed_at.map(|_| {
            let mut results: Vec<ShapeDots> = tally
                .iter()
                .map(|(shape, dots)| ShapeDots { shape: (*shape).to_owned(), dots: *dots })
                .collect();
            results.sort_by(|a, b| b.dots.cmp(&a.dots).then_with(|| a.shape.cmp(&b.shape)));
            results
        });
        Ok(BoardVote {
            id: vote.id,
            dots_per_person: vote.dots_per_person,
            open: vote.closed_at.is_none(),
            opened_by: PersonRef { id: vote.opened_by.0, display_name: vote.opened_by.1 },
            opened_at: vote.opened_at,
            closed_at: vote.closed_at,
            my_dots: mine,
            my_remaining: vote.dots_per_person.saturating_sub(used),
            n_cast,
            n_voters: u32::try_from(voters.len()).unwrap_or(u32::MAX),
            results,
        })
    }
}
