//! The state of one room, without media: who is in it, what they publish and whether it is
//! muted, raised hands in order, the lock and the lobby, and breakouts. Every change is a
//! method that returns the messages and media changes it causes, so the room's rules are
//! tested here without a socket or a peer connection.

use std::collections::BTreeMap;

use hubring_protocol::UserId;
use hubring_protocol::room::{
    BreakoutPlan, BreakoutRoom, Breakouts, ClientMsg, LeaveReason, LobbyEntry, ParticipantId,
    ParticipantInfo, RoomSnapshot, ServerMsg, Source, TrackInfo,
};

/// Who a participant is, as the server decided from their account and project role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: Option<UserId>,
    pub name: String,
    /// Project owners and editors publish; viewers listen until a moderator lets them speak.
    pub may_publish: bool,
    pub moderator: bool,
}

/// What a change asks of the room beyond its state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// To one participant (or one person waiting in the lobby).
    Send(ParticipantId, ServerMsg),
    /// To everyone admitted, except `except`.
    Broadcast { msg: ServerMsg, except: Option<ParticipantId> },
    /// To the moderators in the room.
    Moderators(ServerMsg),
    /// Someone enters the room proper: welcome them and set up their connection.
    Admit(ParticipantId),
    /// End someone's place in the room (after telling them why).
    Close(ParticipantId, LeaveReason),
    /// Who sees whom changed (breakouts opened or closed): recompute subscriptions.
    Regroup,
    /// A source stopped or started being forwarded (muted, permission taken).
    Forwarding { participant: ParticipantId, source: Source, on: bool },
    /// A source is no longer published (a screen share ended): nobody receives it any more, so
    /// no one is left with its last frame.
    Unpublished { participant: ParticipantId, source: Source },
}

/// A request the room refuses; the connection stays open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

#[derive(Debug, Clone)]
struct Participant {
    member: Member,
    /// A moderator let this listen-only participant speak.
    allowed: bool,
    tracks: BTreeMap<Source, TrackInfo>,
    /// (order, time) the hand went up.
    hand: Option<(u64, u64)>,
    breakout: Option<u32>,
}

impl Participant {
    fn can_publish(&self) -> bool {
        self.member.may_publish || self.member.moderator || self.allowed
    }
}

/// Most breakout rooms at once.
pub const MAX_BREAKOUTS: u32 = 50;
/// Longest chat line, in characters.
pub const MAX_CHAT_CHARS: usize = 2000;

#[derive(Debug, Default)]
pub(crate) struct RoomState {
    participants: BTreeMap<ParticipantId, Participant>,
    /// Admission order, for a stable grid.
    order: Vec<ParticipantId>,
    lobby: Vec<(ParticipantId, Member)>,
    locked: bool,
    breakouts: Option<Breakouts>,
    hands_raised: u64,
    active_speaker: Option<ParticipantId>,
}

type Effects = Vec<Effect>;

impl RoomState {
    pub(crate) fn is_empty(&self) -> bool {
        self.participants.is_empty() && self.lobby.is_empty()
    }

    pub(crate) fn contains(&self, id: &ParticipantId) -> bool {
        self.participants.contains_key(id)
    }

    pub(crate) fn member(&self, id: &ParticipantId) -> Option<&Member> {
        self.participants.get(id).map(|p| &p.member)
    }

    pub(crate) fn breakout_of(&self, id: &ParticipantId) -> Option<u32> {
        self.participants.get(id).and_then(|p| p.breakout)
    }

    /// Whether `subscriber` receives what `publisher` publishes: both in the same (breakout)
    /// room and the publisher allowed to publish. A muted source stays subscribed (unmuting
    /// needs no renegotiation); its forwarder just stops.
    pub(crate) fn sees(&self, publisher: &ParticipantId, subscriber: &ParticipantId) -> bool {
        let (Some(p), Some(s)) =
            (self.participants.get(publisher), self.participants.get(subscriber))
        else {
            return false;
        };
        publisher != subscriber && p.breakout == s.breakout && p.can_publish()
    }

    pub(crate) fn can_publish(&self, id: &ParticipantId) -> bool {
        self.participants.get(id).is_some_and(Participant::can_publish)
    }

    /// Sources `id` has announced, with their track ids.
    pub(crate) fn tracks(&self, id: &ParticipantId) -> Vec<TrackInfo> {
        self.participants.get(id).map(|p| p.tracks.values().cloned().collect()).unwrap_or_default()
    }

    pub(crate) fn source_of(&self, id: &ParticipantId, track_id: &str) -> Option<Source> {
        let p = self.participants.get(id)?;
        p.tracks.values().find(|t| t.track_id == track_id).map(|t| t.source)
    }

    pub(crate) fn participant_ids(&self) -> impl Iterator<Item = &ParticipantId> {
        self.order.iter()
    }

    pub(crate) fn moderators(&self) -> impl Iterator<Item = &ParticipantId> {
        self.order.iter().filter(|id| self.participants[*id].member.moderator)
    }

    fn info(&self, id: &ParticipantId) -> Option<ParticipantInfo> {
        let p = self.participants.get(id)?;
        Some(ParticipantInfo {
            id: id.clone(),
            user_id: p.member.user_id.clone(),
            name: p.member.name.clone(),
            can_publish: p.can_publish(),
            moderator: p.member.moderator,
            tracks: p.tracks.values().cloned().collect(),
            hand_raised_at: p.hand.map(|(_, at)| at),
            breakout: p.breakout,
        })
    }

    fn lobby_entries(&self) -> Vec<LobbyEntry> {
        self.lobby
            .iter()
            .map(|(id, m)| LobbyEntry { id: id.clone(), name: m.name.clone() })
            .collect()
    }

    /// The room as `viewer` may see it (the lobby only for moderators).
    pub(crate) fn snapshot(&self, viewer: &ParticipantId) -> RoomSnapshot {
        let moderator = self.participants.get(viewer).is_some_and(|p| p.member.moderator);
        RoomSnapshot {
            participants: self.order.iter().filter_map(|id| self.info(id)).collect(),
            locked: self.locked,
            lobby: if moderator { self.lobby_entries() } else { Vec::new() },
            breakouts: self.breakouts.clone(),
            active_speaker: self.active_speaker.clone(),
        }
    }

    fn updated(&self, id: &ParticipantId) -> Effect {
        Effect::Broadcast {
            msg: ServerMsg::Updated { participant: self.info(id).expect("present") },
            except: None,
        }
    }

    fn hands(&self) -> Effect {
        let mut raised: Vec<(u64, &ParticipantId)> = self
            .participants
            .iter()
            .filter_map(|(id, p)| p.hand.map(|(order, _)| (order, id)))
            .collect();
        raised.sort();
        Effect::Broadcast {
            msg: ServerMsg::Hands { order: raised.into_iter().map(|(_, id)| id.clone()).collect() },
            except: None,
        }
    }

    /// Someone asks to enter: admitted, or into the lobby while the room is locked.
    pub(crate) fn request_join(&mut self, id: ParticipantId, member: Member) -> Effects {
        if self.locked && !member.moderator {
            self.lobby.push((id.clone(), member));
            return vec![
                Effect::Send(id, ServerMsg::Lobby),
                Effect::Moderators(ServerMsg::LobbyChanged { lobby: self.lobby_entries() }),
            ];
        }
        self.admit(id, member)
    }

    fn admit(&mut self, id: ParticipantId, member: Member) -> Effects {
        self.participants.insert(
            id.clone(),
            Participant {
                member,
                allowed: false,
                tracks: BTreeMap::new(),
                hand: None,
                breakout: None,
            },
        );
        self.order.push(id.clone());
        let joined = ServerMsg::Joined { participant: self.info(&id).expect("just added") };
        vec![Effect::Admit(id.clone()), Effect::Broadcast { msg: joined, except: Some(id) }]
    }

    /// Someone left, or their connection ended.
    pub(crate) fn leave(&mut self, id: &ParticipantId, reason: LeaveReason) -> Effects {
        if let Some(at) = self.lobby.iter().position(|(waiting, _)| waiting == id) {
            self.lobby.remove(at);
            return vec![Effect::Moderators(ServerMsg::LobbyChanged {
                lobby: self.lobby_entries(),
            })];
        }
        let Some(gone) = self.participants.remove(id) else { return Vec::new() };
        self.order.retain(|other| other != id);
        let mut effects = vec![Effect::Broadcast {
            msg: ServerMsg::Left { participant: id.clone(), reason },
            except: None,
        }];
        if gone.hand.is_some() {
            effects.push(self.hands());
        }
        if self.active_speaker.as_ref() == Some(id) {
            self.active_speaker = None;
            effects.push(Effect::Broadcast {
                msg: ServerMsg::ActiveSpeaker { participant: None },
                except: None,
            });
        }
        effects
    }

    /// The active speaker changed (from the audio levels).
    pub(crate) fn set_active_speaker(&mut self, id: Option<ParticipantId>) -> Effects {
        if self.active_speaker == id {
            return Vec::new();
        }
        self.active_speaker = id.clone();
        vec![Effect::Broadcast { msg: ServerMsg::ActiveSpeaker { participant: id }, except: None }]
    }

    /// A client's request about the room; signaling and chat are the room actor's.
    pub(crate) fn handle(
        &mut self,
        from: &ParticipantId,
        msg: &ClientMsg,
        now_ms: u64,
    ) -> Result<Effects, Refusal> {
        let Some(me) = self.participants.get(from) else {
            return Err(Refusal::new("not_admitted", "wait to be admitted to the room"));
        };
        let moderator = me.member.moderator;
        let need_moderator = || {
            if moderator {
                Ok(())
            } else {
                Err(Refusal::new("not_moderator", "only a moderator may do this"))
            }
        };
        match msg {
            ClientMsg::Publish { track_id, source } => {
                if !me.can_publish() {
                    return Err(Refusal::new(
                        "listen_only",
                        "you are listening only until a moderator lets you speak",
                    ));
                }
                if track_id.is_empty() || track_id.len() > 128 {
                    return Err(Refusal::new("bad_track", "a track id is 1 to 128 characters"));
                }
                let p = self.participants.get_mut(from).expect("checked");
                p.tracks.insert(
                    *source,
                    TrackInfo {
                        track_id: track_id.clone(),
                        source: *source,
                        muted: false,
                        layers: if source.is_audio() { 1 } else { 0 },
                    },
                );
                Ok(vec![self.updated(from)])
            }
            ClientMsg::Unpublish { source } => {
                let p = self.participants.get_mut(from).expect("checked");
                if p.tracks.remove(source).is_none() {
                    return Ok(Vec::new());
                }
                Ok(vec![
                    Effect::Unpublished { participant: from.clone(), source: *source },
                    self.updated(from),
                ])
            }
            ClientMsg::Mute { source, muted } => {
                let p = self.participants.get_mut(from).expect("checked");
                let can_publish = p.can_publish();
                let Some(track) = p.tracks.get_mut(source) else {
                    return Err(Refusal::new("not_published", "that source is not published"));
                };
                if !*muted && !can_publish {
                    return Err(Refusal::new("listen_only", "a moderator has not let you speak"));
                }
                if track.muted == *muted {
                    return Ok(Vec::new());
                }
                track.muted = *muted;
                Ok(vec![
                    Effect::Forwarding { participant: from.clone(), source: *source, on: !*muted },
                    self.updated(from),
                ])
            }
            ClientMsg::Hand { raised } => {
                let p = self.participants.get_mut(from).expect("checked");
                if p.hand.is_some() == *raised {
                    return Ok(Vec::new());
                }
                if *raised {
                    self.hands_raised += 1;
                    p.hand = Some((self.hands_raised, now_ms));
                } else {
                    p.hand = None;
                }
                Ok(vec![self.updated(from), self.hands()])
            }
            ClientMsg::LowerHand { participant } => {
                need_moderator()?;
                let p = self.participant_mut(participant)?;
                if p.hand.take().is_none() {
                    return Ok(Vec::new());
                }
                Ok(vec![self.updated(participant), self.hands()])
            }
            ClientMsg::MuteParticipant { participant, source } => {
                need_moderator()?;
                Ok(self.mute_by(from, participant, *source))
            }
            ClientMsg::MuteAll => {
                need_moderator()?;
                let others: Vec<ParticipantId> =
                    self.order.iter().filter(|id| *id != from).cloned().collect();
                Ok(others
                    .iter()
                    .flat_map(|id| self.mute_by(from, id, Source::Microphone))
                    .collect())
            }
            ClientMsg::AllowPublish { participant, allowed } => {
                need_moderator()?;
                let p = self.participant_mut(participant)?;
                if p.allowed == *allowed {
                    return Ok(Vec::new());
                }
                p.allowed = *allowed;
                let mut effects = Vec::new();
                if !p.can_publish() {
                    // Taken back: whatever they send stops reaching anyone.
                    for (source, track) in &mut p.tracks {
                        track.muted = true;
                        effects.push(Effect::Forwarding {
                            participant: participant.clone(),
                            source: *source,
                            on: false,
                        });
                        effects.push(Effect::Send(
                            participant.clone(),
                            ServerMsg::MutedBy { source: *source, by: from.clone() },
                        ));
                    }
                }
                effects.push(self.updated(participant));
                Ok(effects)
            }
            ClientMsg::Remove { participant } => {
                need_moderator()?;
                if participant == from {
                    return Err(Refusal::new("bad_target", "leave the room instead"));
                }
                self.participant_mut(participant)?;
                let mut effects = vec![Effect::Close(participant.clone(), LeaveReason::Removed)];
                effects.extend(self.leave(participant, LeaveReason::Removed));
                Ok(effects)
            }
            ClientMsg::Lock { locked } => {
                need_moderator()?;
                if self.locked == *locked {
                    return Ok(Vec::new());
                }
                self.locked = *locked;
                let mut effects = vec![Effect::Broadcast {
                    msg: ServerMsg::Locked { locked: *locked },
                    except: None,
                }];
                if !*locked {
                    // Unlocking lets everyone waiting in.
                    for (id, member) in std::mem::take(&mut self.lobby) {
                        effects.extend(self.admit(id, member));
                    }
                    effects.push(Effect::Moderators(ServerMsg::LobbyChanged { lobby: Vec::new() }));
                }
                Ok(effects)
            }
            ClientMsg::Admit { participant } | ClientMsg::Deny { participant } => {
                need_moderator()?;
                let Some(at) = self.lobby.iter().position(|(id, _)| id == participant) else {
                    return Err(Refusal::new("not_waiting", "nobody by that id is waiting"));
                };
                let (id, member) = self.lobby.remove(at);
                let mut effects = if matches!(msg, ClientMsg::Admit { .. }) {
                    self.admit(id, member)
                } else {
                    vec![Effect::Close(id, LeaveReason::Denied)]
                };
                effects.push(Effect::Moderators(ServerMsg::LobbyChanged {
                    lobby: self.lobby_entries(),
                }));
                Ok(effects)
            }
            ClientMsg::OpenBreakouts { plan, minutes } => {
                need_moderator()?;
                self.open_breakouts(plan, *minutes, now_ms)
            }
            ClientMsg::CloseBreakouts => {
                need_moderator()?;
                Ok(self.close_breakouts())
            }
            ClientMsg::Join { .. }
            | ClientMsg::Offer { .. }
            | ClientMsg::Answer { .. }
            | ClientMsg::Candidate { .. }
            | ClientMsg::View { .. }
            | ClientMsg::Chat { .. } => Ok(Vec::new()),
        }
    }

    fn participant_mut(&mut self, id: &ParticipantId) -> Result<&mut Participant, Refusal> {
        self.participants
            .get_mut(id)
            .ok_or_else(|| Refusal::new("not_found", "nobody by that id is in the room"))
    }

    fn mute_by(&mut self, by: &ParticipantId, id: &ParticipantId, source: Source) -> Effects {
        let Some(track) = self.participants.get_mut(id).and_then(|p| p.tracks.get_mut(&source))
        else {
            return Vec::new();
        };
        if track.muted {
            return Vec::new();
        }
        track.muted = true;
        vec![
            Effect::Forwarding { participant: id.clone(), source, on: false },
            Effect::Send(id.clone(), ServerMsg::MutedBy { source, by: by.clone() }),
            self.updated(id),
        ]
    }

    fn open_breakouts(
        &mut self,
        plan: &BreakoutPlan,
        minutes: Option<u32>,
        now_ms: u64,
    ) -> Result<Effects, Refusal> {
        if self.breakouts.is_some() {
            return Err(Refusal::new("breakouts_open", "close the breakouts first"));
        }
        if minutes.is_some_and(|m| m == 0 || m > 240) {
            return Err(Refusal::new("bad_timer", "a breakout timer is 1 to 240 minutes"));
        }
        let (names, assignment): (Vec<String>, Vec<(ParticipantId, u32)>) = match plan {
            BreakoutPlan::Random { rooms } => {
                if *rooms == 0 || *rooms > MAX_BREAKOUTS {
                    return Err(Refusal::new("bad_plan", "1 to 50 breakout rooms"));
                }
                let mut people: Vec<ParticipantId> = self
                    .order
                    .iter()
                    .filter(|id| !self.participants[*id].member.moderator)
                    .cloned()
                    .collect();
                shuffle(&mut people);
                let names = (1..=*rooms).map(|n| format!("Room {n}")).collect();
                let assignment =
                    people.into_iter().enumerate().map(|(i, id)| (id, i as u32 % rooms)).collect();
                (names, assignment)
            }
            BreakoutPlan::Manual { rooms } => {
                if rooms.is_empty() || rooms.len() as u32 > MAX_BREAKOUTS {
                    return Err(Refusal::new("bad_plan", "1 to 50 breakout rooms"));
                }
                let mut assignment = Vec::new();
                for (index, room) in rooms.iter().enumerate() {
                    for id in &room.participants {
                        if !self.participants.contains_key(id) {
                            return Err(Refusal::new(
                                "not_found",
                                format!("{id} is not in the room"),
                            ));
                        }
                        if assignment.iter().any(|(other, _)| other == id) {
                            return Err(Refusal::new("bad_plan", format!("{id} is in two rooms")));
                        }
                        assignment.push((id.clone(), index as u32));
                    }
                }
                let names = rooms
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let name = r.name.trim();
                        if name.is_empty() {
                            format!("Room {}", i + 1)
                        } else {
                            name.chars().take(80).collect()
                        }
                    })
                    .collect();
                (names, assignment)
            }
        };
        for (id, index) in assignment {
            self.participants.get_mut(&id).expect("checked").breakout = Some(index);
        }
        self.breakouts = Some(Breakouts {
            rooms: names
                .into_iter()
                .enumerate()
                .map(|(i, name)| BreakoutRoom { index: i as u32, name })
                .collect(),
            ends_at: minutes.map(|m| now_ms + u64::from(m) * 60_000),
        });
        Ok(self.regrouped())
    }

    /// Everyone back to the main room.
    pub(crate) fn close_breakouts(&mut self) -> Effects {
        if self.breakouts.take().is_none() {
            return Vec::new();
        }
        for p in self.participants.values_mut() {
            p.breakout = None;
        }
        self.regrouped()
    }

    /// When the breakouts close on their own.
    pub(crate) fn breakouts_end(&self) -> Option<u64> {
        self.breakouts.as_ref().and_then(|b| b.ends_at)
    }

    fn regrouped(&self) -> Effects {
        let mut effects = vec![Effect::Broadcast {
            msg: ServerMsg::BreakoutsChanged { breakouts: self.breakouts.clone() },
            except: None,
        }];
        effects.extend(self.order.iter().map(|id| self.updated(id)));
        effects.push(Effect::Regroup);
        effects
    }
}

/// Fisher–Yates with the operating system's randomness.
fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the OS has randomness");
        let j = (u64::from_le_bytes(bytes) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests;
