//! Sessions on the calendar: a project's peer-learning sessions, coaching calls, workshops and
//! meetings, with their time in the organiser's zone, recurrence, capacity and waiting list,
//! who is invited, and their calendar files.
//!
//! Who sees a session is decided here, once ([`Workspace::session_for`]): the project's members
//! (as for its items), and for a coaching session only its two people, as for coaching rooms.
//!
//! Times: a session is stored as a wall-clock start in an IANA zone. Each occurrence is that
//! wall-clock time on its date in the zone (a weekly 18:00 in Lisbon is 18:00 in Lisbon on both
//! sides of a daylight-saving change); a time that does not exist on the day of a change moves
//! forward, as RFC 5545 says.

use hubring_protocol::api::{
    Attendance, Frequency, ItemKind, NotificationKind, NotificationSubject, PersonRef, ProjectRole,
    Recurrence, RsvpResponse, SessionAttendee, SessionChange, SessionCreate, SessionDetail,
    SessionKind, SessionOccurrence, SessionPatch, UpcomingSession,
};
use hubring_protocol::{DocId, MeetingId, ProjectId, UserId};
use hubring_store::{AttendeeRecord, CoachingRecord, SessionRecord, UserRecord, now_ms};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::access::{Action, allows};
use crate::ics::{self, Method};
use crate::projects::{TITLE_MAX, new_item_ids};
use crate::secret::{new_id, random_hex};
use crate::templates::{TemplateContent, builtin_document};
use crate::validate::Checks;
use crate::{Caller, Workspace, WorkspaceError};

/// The most occurrences a recurring session may have (five years of weekly sessions).
pub const MAX_OCCURRENCES: u32 = 260;
/// Shortest and longest session, in minutes.
const DURATION_MIN: i64 = 5;
const DURATION_MAX: i64 = 12 * 60;
const AGENDA_MAX: usize = 20_000;
const CAPACITY_MAX: u32 = 10_000;
/// The room opens this long before a session starts.
pub const OPENS_EARLY_MINUTES: i64 = 10;
/// Upcoming occurrences listed on a session.
const UPCOMING_LISTED: usize = 52;

/// A session's timing, parsed and checked.
#[derive(Debug, Clone)]
struct Schedule {
    zone: TimeZone,
    start: DateTime,
    minutes: i64,
    frequency: Option<Frequency>,
    count: u32,
    exceptions: Vec<Date>,
}

/// One occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Occurrence {
    local: DateTime,
    start: Timestamp,
    end: Timestamp,
}

impl Schedule {
    /// The `i`th date of the rule, before exceptions (monthly on the 31st falls on the last
    /// day of shorter months, counted from the first start so it comes back to the 31st).
    fn nth(&self, i: u32) -> Option<DateTime> {
        let i = i64::from(i);
        match self.frequency {
            None if i == 0 => Some(self.start),
            None => None,
            Some(Frequency::Weekly) => self.start.checked_add((7 * i).days()).ok(),
            Some(Frequency::Monthly) => self.start.checked_add(i.months()).ok(),
        }
    }

    fn at(&self, local: DateTime) -> Option<Occurrence> {
        let start = self.zone.to_ambiguous_timestamp(local).compatible().ok()?;
        let end = start.checked_add(self.minutes.minutes()).ok()?;
        Some(Occurrence { local, start, end })
    }

    fn occurrences(&self) -> Vec<Occurrence> {
        (0..self.count)
            .filter_map(|i| self.nth(i))
            .filter(|local| !self.exceptions.contains(&local.date()))
            .filter_map(|local| self.at(local))
            .collect()
    }

    fn of(record: &SessionRecord) -> Result<Self, WorkspaceError> {
        let corrupt = |what: &str| {
            WorkspaceError::Store(hubring_store::StoreError::Corrupt(format!(
                "session {}: {what}",
                record.id
            )))
        };
        Ok(Schedule {
            zone: jiff::tz::db().get(&record.time_zone).map_err(|_| corrupt("time zone"))?,
            start: record.starts_local.parse().map_err(|_| corrupt("start"))?,
            minutes: record.duration_min,
            frequency: record.frequency.as_deref().and_then(Frequency::parse),
            count: u32::try_from(record.repeats).unwrap_or(1),
            exceptions: record.exceptions.iter().filter_map(|d| d.parse().ok()).collect(),
        })
    }
}

fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn minute_text(dt: DateTime) -> String {
    dt.strftime("%Y-%m-%dT%H:%M").to_string()
}

fn occurrence_view(o: &Occurrence) -> SessionOccurrence {
    SessionOccurrence {
        starts_at: millis(o.start),
        ends_at: millis(o.end),
        local_start: minute_text(o.local),
    }
}

/// The fields of a session's timing as a request gives them.
#[derive(Clone, Copy)]
struct TimingInput<'a> {
    starts: &'a str,
    time_zone: &'a str,
    duration_minutes: Option<u32>,
    ends: Option<&'a str>,
    recurrence: Option<&'a Recurrence>,
}

/// Checks a session's timing; every problem is named by its field.
fn check_timing(checks: &mut Checks, input: TimingInput<'_>) -> Option<(Schedule, String)> {
    let zone_name = crate::people::time_zone(checks, input.time_zone);
    let zone = jiff::tz::db().get(&zone_name).ok();
    let start = match input.starts.parse::<DateTime>() {
        Ok(dt) if (2000..=2200).contains(&dt.year()) => Some(dt),
        _ => {
            checks.fail(
                "starts",
                "not_datetime",
                "must be a local date and time, YYYY-MM-DDTHH:MM",
            );
            None
        }
    };
    let minutes = match (input.duration_minutes, input.ends, start) {
        (Some(m), _, _) => Some(i64::from(m)),
        (None, Some(ends), Some(start)) => match ends.parse::<DateTime>() {
            Ok(end) if end <= start => {
                checks.fail("ends", "end_before_start", "must be after the start");
                None
            }
            Ok(end) => start
                .until(end)
                .ok()
                .and_then(|s| s.total(jiff::Unit::Minute).ok())
                .map(|m| m as i64),
            Err(_) => {
                checks.fail(
                    "ends",
                    "not_datetime",
                    "must be a local date and time, YYYY-MM-DDTHH:MM",
                );
                None
            }
        },
        (None, None, _) => {
            checks.fail("duration_minutes", "required", "give a duration or an end");
            None
        }
        (None, Some(_), None) => None,
    };
    if let Some(m) = minutes
        && !(DURATION_MIN..=DURATION_MAX).contains(&m)
    {
        checks.fail(
            "duration_minutes",
            "out_of_range",
            format!("must be {DURATION_MIN} minutes to {} hours", DURATION_MAX / 60),
        );
    }
    let (frequency, count, exceptions) = match input.recurrence {
        None => (None, 1, Vec::new()),
        Some(r) => {
            if !(2..=MAX_OCCURRENCES).contains(&r.count) {
                checks.fail(
                    "recurrence.count",
                    "out_of_range",
                    format!("a repeating session happens 2 to {MAX_OCCURRENCES} times"),
                );
            }
            if r.exceptions.len() > MAX_OCCURRENCES as usize {
                checks.fail("recurrence.exceptions", "too_many", "too many exceptions");
            }
            let mut dates = Vec::new();
            for raw in r.exceptions.iter().take(MAX_OCCURRENCES as usize) {
                match raw.parse::<Date>() {
                    Ok(d) => dates.push(d),
                    Err(_) => checks.fail(
                        "recurrence.exceptions",
                        "not_date",
                        "each exception is a local date, YYYY-MM-DD",
                    ),
                }
            }
            (Some(r.frequency), r.count.min(MAX_OCCURRENCES), dates)
        }
    };
    let (Some(zone), Some(start), Some(minutes)) = (zone, start, minutes) else {
        return None;
    };
    let schedule = Schedule { zone, start, minutes, frequency, count, exceptions };
    let dates: Vec<Date> = (0..count).filter_map(|i| schedule.nth(i)).map(|d| d.date()).collect();
    if schedule.exceptions.iter().any(|d| !dates.contains(d)) {
        checks.fail(
            "recurrence.exceptions",
            "not_occurrence",
            "each exception must be the date of an occurrence",
        );
    }
    if schedule.occurrences().is_empty() {
        checks.fail("recurrence.exceptions", "nothing_left", "every occurrence is excepted");
        return None;
    }
    Some((schedule, zone_name))
}

/// A title: one line of 1 to 200 characters. A line break or other control character is
/// refused rather than cleaned: titles reach email subjects and calendar files.
fn one_line_title(checks: &mut Checks, field: &str, value: &str) -> String {
    let title = checks.text(field, value, 1, TITLE_MAX);
    if title.chars().any(char::is_control) {
        checks.fail(field, "control_characters", "must be one line, without control characters");
    }
    title
}

fn check_capacity(checks: &mut Checks, capacity: Option<u32>) -> Option<i64> {
    let c = capacity?;
    if !(1..=CAPACITY_MAX).contains(&c) {
        checks.fail("capacity", "out_of_range", format!("must be 1 to {CAPACITY_MAX}"));
    }
    Some(i64::from(c))
}

/// `check_timing` gives no schedule only after naming a problem, so `Checks::done` has
/// already answered; this is never reached.
fn unchecked_timing() -> WorkspaceError {
    WorkspaceError::Store(hubring_store::StoreError::Corrupt("timing was not checked".into()))
}

/// The built-in notes template of a kind of session, where there is one.
fn notes_template(kind: SessionKind) -> Option<&'static str> {
    match kind {
        SessionKind::PeerLearning => Some("peer-learning"),
        SessionKind::Coaching => Some("coaching"),
        SessionKind::Workshop | SessionKind::Meeting => None,
    }
}

/// The notes document to fill from a template after the session is made.
#[derive(Debug)]
pub struct NotesToFill {
    pub doc_id: DocId,
    pub content: TemplateContent,
}

impl Workspace {
    /// The session `id` and the caller's role in its project, if they may see it; anything
    /// else answers 404.
    async fn session_for(
        &self,
        caller: &Caller,
        id: &MeetingId,
    ) -> Result<(SessionRecord, ProjectRole, Vec<AttendeeRecord>), WorkspaceError> {
        let user = caller.signed_in()?;
        let session = self.store.session(id).await?.ok_or(WorkspaceError::NotFound("session"))?;
        let (_, role) = self
            .project_for(caller, &session.project_id, Action::ListItems)
            .await
            .map_err(|_| WorkspaceError::NotFound("session"))?;
        let attendees = self.store.attendees(id).await?;
        if session.kind == SessionKind::Coaching.as_str()
            && session.organiser_id != user.id
            && !attendees.iter().any(|a| a.user_id == user.id)
        {
            return Err(WorkspaceError::NotFound("session"));
        }
        Ok((session, role, attendees))
    }

    fn may_edit(caller: &Caller, session: &SessionRecord, role: ProjectRole) -> bool {
        caller.user_id() == Some(&session.organiser_id) || allows(role, Action::EditProject)
    }

    /// Schedules a session in a project (editors and owners), inviting members, with a room
    /// (new, or one of the project's) and a notes document. Returns the notes to fill from the
    /// kind's template.
    pub async fn create_session(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        req: SessionCreate,
    ) -> Result<(SessionDetail, Option<NotesToFill>), WorkspaceError> {
        self.project_for(caller, project_id, Action::ManageItems).await?;
        let me = caller.signed_in()?.clone();
        let mut checks = Checks::default();
        let title = one_line_title(&mut checks, "title", &req.title);
        let notes_title = one_line_title(&mut checks, "notes_title", &req.notes_title);
        let agenda = checks.text("agenda", &req.agenda, 0, AGENDA_MAX);
        let timing = check_timing(
            &mut checks,
            TimingInput {
                starts: &req.starts,
                time_zone: &req.time_zone,
                duration_minutes: req.duration_minutes,
                ends: req.ends.as_deref(),
                recurrence: req.recurrence.as_ref(),
            },
        );
        let capacity = check_capacity(&mut checks, req.capacity);
        let members = self.store.project_members(project_id).await?;
        let invited: Vec<UserId> = match &req.invite {
            Some(list) => {
                if list.len() > members.len() {
                    checks.fail("invite", "not_member", "invite members of the project");
                }
                for u in list {
                    if !members.iter().any(|m| &m.user_id == u) {
                        checks.fail(
                            "invite",
                            "not_member",
                            format!("{u} is not a member of this project"),
                        );
                    }
                }
                list.iter().filter(|u| **u != me.id).cloned().collect()
            }
            None if req.kind == SessionKind::Coaching => Vec::new(),
            None => members.iter().map(|m| m.user_id.clone()).filter(|u| *u != me.id).collect(),
        };
        let mut invited = invited;
        invited.sort();
        invited.dedup();
        if req.kind == SessionKind::Coaching && invited.len() != 1 {
            checks.fail(
                "invite",
                "coaching_pair",
                "a coaching session is with exactly one other member",
            );
        }
        let room = match &req.room_id {
            Some(room_id) if req.kind == SessionKind::Coaching => {
                checks.fail(
                    "room_id",
                    "coaching_room",
                    "a coaching session gets its own private room",
                );
                Some(room_id.clone())
            }
            Some(room_id) => {
                match self.room(caller, room_id).await {
                    Ok(access) if &access.project_id == project_id => {}
                    _ => checks.fail("room_id", "not_room", "must be a room of this project"),
                }
                Some(room_id.clone())
            }
            None => None,
        };
        let lang = req.language.clone().unwrap_or_else(|| me.language.clone());
        checks.done()?;
        let Some((schedule, zone_name)) = timing else {
            return Err(unchecked_timing());
        };
        // The room and the notes: a coaching pair's are private to them.
        let (room_id, notes_id, notes_doc) = match room {
            None if req.kind == SessionKind::Coaching => {
                let (room_id, room_doc) = new_item_ids(ItemKind::Room)?;
                let (notes_id, notes_doc) = new_item_ids(ItemKind::Document)?;
                let audience = [me.id.clone(), invited[0].clone()];
                let record = CoachingRecord {
                    project_id: project_id.clone(),
                    room: (room_id.clone(), title.clone(), room_doc.clone()),
                    notes: (notes_id.clone(), notes_title, notes_doc.clone()),
                    audience: audience.clone(),
                };
                self.store.create_coaching(record, &me.id).await?;
                for (doc, item) in [(&room_doc, &room_id), (&notes_doc, &notes_id)] {
                    let audience = Some(audience.to_vec());
                    self.docs.insert(doc.clone(), item.clone(), project_id.clone(), audience);
                }
                (room_id, notes_id, notes_doc)
            }
            room => {
                let room_id = match room {
                    Some(room_id) => room_id,
                    None => {
                        self.add_item(project_id, ItemKind::Room, title.clone(), &me.id).await?.0
                    }
                };
                let (notes_id, notes_doc) =
                    self.add_item(project_id, ItemKind::Document, notes_title, &me.id).await?;
                (room_id, notes_id, notes_doc)
            }
        };
        let occurrences = schedule.occurrences();
        let (first, last) = (occurrences[0], occurrences[occurrences.len() - 1]);
        let now = now_ms();
        let record = SessionRecord {
            id: MeetingId(new_id()),
            project_id: project_id.clone(),
            title,
            kind: req.kind.as_str().to_owned(),
            agenda,
            time_zone: zone_name,
            starts_local: minute_text(schedule.start),
            duration_min: schedule.minutes,
            frequency: schedule.frequency.map(|f| f.as_str().to_owned()),
            repeats: i64::from(schedule.count),
            exceptions: schedule.exceptions.iter().map(ToString::to_string).collect(),
            capacity,
            room_id,
            notes_id: Some(notes_id),
            organiser_id: me.id.clone(),
            sequence: 0,
            first_start: millis(first.start),
            last_end: millis(last.end),
            created_at: now,
            updated_at: now,
        };
        self.store.create_session(record.clone(), invited.clone()).await?;
        self.sessions_changed.notify_one();
        self.tell_invited(&record, &me, &invited, SessionChange::Invited).await?;
        let notes = notes_template(req.kind)
            .and_then(|name| builtin_document(name, &lang))
            .map(|doc| NotesToFill { doc_id: notes_doc, content: TemplateContent::Tree(doc) });
        let (record, role, attendees) = self.session_for(caller, &record.id).await?;
        Ok((self.detail(caller, record, role, attendees).await?, notes))
    }

    /// One session, as the caller may see it.
    pub async fn session(
        &self,
        caller: &Caller,
        id: &MeetingId,
    ) -> Result<SessionDetail, WorkspaceError> {
        let (record, role, attendees) = self.session_for(caller, id).await?;
        self.detail(caller, record, role, attendees).await
    }

    /// A project's sessions that have not ended, soonest first.
    pub async fn project_sessions(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
    ) -> Result<Vec<SessionDetail>, WorkspaceError> {
        let (_, role) = self.project_for(caller, project_id, Action::ListItems).await?;
        let me = caller.signed_in()?;
        let mut out = Vec::new();
        for record in self.store.project_sessions(project_id, now_ms()).await? {
            let attendees = self.store.attendees(&record.id).await?;
            if record.kind == SessionKind::Coaching.as_str()
                && record.organiser_id != me.id
                && !attendees.iter().any(|a| a.user_id == me.id)
            {
                continue;
            }
            out.push(self.detail(caller, record, role, attendees).await?);
        }
        out.sort_by_key(|s| s.next.starts_at);
        Ok(out)
    }

    async fn detail(
        &self,
        caller: &Caller,
        record: SessionRecord,
        role: ProjectRole,
        attendees: Vec<AttendeeRecord>,
    ) -> Result<SessionDetail, WorkspaceError> {
        let schedule = Schedule::of(&record)?;
        let occurrences = schedule.occurrences();
        let now = Timestamp::now();
        let upcoming: Vec<SessionOccurrence> = occurrences
            .iter()
            .filter(|o| o.end > now)
            .take(UPCOMING_LISTED)
            .map(occurrence_view)
            .collect();
        let next = occurrences
            .iter()
            .find(|o| o.end > now)
            .or(occurrences.last())
            .copied()
            .ok_or_else(|| {
                WorkspaceError::Store(hubring_store::StoreError::Corrupt("no occurrence".into()))
            })?;
        let opens = next.start.checked_sub(OPENS_EARLY_MINUTES.minutes()).unwrap_or(next.start);
        let organiser = self.person_ref(&record.organiser_id).await?;
        let project_title =
            self.store.project(&record.project_id).await?.map(|p| p.title).unwrap_or_default();
        let me = caller.user_id();
        let mut position = 0;
        let attendees_view: Vec<SessionAttendee> = attendees
            .iter()
            .map(|a| {
                let status = Attendance::parse(&a.status).unwrap_or(Attendance::Invited);
                let waiting_position = (status == Attendance::Waiting).then(|| {
                    position += 1;
                    position
                });
                SessionAttendee {
                    user: PersonRef { id: a.user_id.clone(), display_name: a.display_name.clone() },
                    status,
                    waiting_position,
                }
            })
            .collect();
        let my_status = if me == Some(&record.organiser_id) {
            Some(Attendance::Going)
        } else {
            attendees_view.iter().find(|a| Some(&a.user.id) == me).map(|a| a.status)
        };
        Ok(SessionDetail {
            can_edit: Self::may_edit(caller, &record, role),
            kind: SessionKind::parse(&record.kind).unwrap_or(SessionKind::Meeting),
            recurrence: schedule.frequency.map(|frequency| Recurrence {
                frequency,
                count: schedule.count,
                exceptions: record.exceptions.clone(),
            }),
            capacity: record.capacity.and_then(|c| u32::try_from(c).ok()),
            duration_minutes: u32::try_from(record.duration_min).unwrap_or(0),
            sequence: u32::try_from(record.sequence).unwrap_or(0),
            id: record.id,
            project_id: record.project_id,
            project_title,
            title: record.title,
            agenda: record.agenda,
            starts: record.starts_local,
            time_zone: record.time_zone,
            room_id: record.room_id,
            notes_id: record.notes_id,
            organiser,
            room_open: now >= opens && now < next.end,
            room_opens_at: millis(opens),
            next: occurrence_view(&next),
            upcoming,
            attendees: attendees_view,
            my_status,
        })
    }

    async fn person_ref(&self, id: &UserId) -> Result<PersonRef, WorkspaceError> {
        let name = self.store.user_by_id(id).await?.map(|u| u.display_name).unwrap_or_default();
        Ok(PersonRef { id: id.clone(), display_name: name })
    }

    /// Changes a session (its organiser, or an owner of the project): every change raises its
    /// calendar sequence and tells those invited, with the updated calendar file.
    pub async fn update_session(
        &self,
        caller: &Caller,
        id: &MeetingId,
        patch: SessionPatch,
    ) -> Result<SessionDetail, WorkspaceError> {
        let ends = patch.ends.as_deref();
        let (mut record, role, attendees) = self.session_for(caller, id).await?;
        if !Self::may_edit(caller, &record, role) {
            return Err(WorkspaceError::Forbidden(
                "only the organiser or an owner changes a session",
            ));
        }
        let me = caller.signed_in()?.clone();
        let mut checks = Checks::default();
        if let Some(title) = &patch.title {
            record.title = one_line_title(&mut checks, "title", title);
        }
        if let Some(agenda) = &patch.agenda {
            record.agenda = checks.text("agenda", agenda, 0, AGENDA_MAX);
        }
        let current = Schedule::of(&record)?;
        let recurrence = match &patch.recurrence {
            Some(r) => r.clone(),
            None => current.frequency.map(|frequency| Recurrence {
                frequency,
                count: current.count,
                exceptions: record.exceptions.clone(),
            }),
        };
        let starts = patch.starts.clone().unwrap_or_else(|| record.starts_local.clone());
        let zone = patch.time_zone.clone().unwrap_or_else(|| record.time_zone.clone());
        let duration = match (patch.duration_minutes, ends) {
            (Some(m), _) => Some(m),
            (None, Some(_)) => None,
            (None, None) => u32::try_from(record.duration_min).ok(),
        };
        let timing = check_timing(
            &mut checks,
            TimingInput {
                starts: &starts,
                time_zone: &zone,
                duration_minutes: duration,
                ends,
                recurrence: recurrence.as_ref(),
            },
        );
        if let Some(capacity) = patch.capacity {
            record.capacity = check_capacity(&mut checks, capacity);
        }
        let members = self.store.project_members(&record.project_id).await?;
        let mut invited: Vec<UserId> = Vec::new();
        if let Some(list) = &patch.invite {
            if record.kind == SessionKind::Coaching.as_str() && !list.is_empty() {
                checks.fail(
                    "invite",
                    "coaching_pair",
                    "a coaching session stays between two people",
                );
            }
            for u in list.iter().take(members.len() + 1) {
                if !members.iter().any(|m| &m.user_id == u) {
                    checks.fail(
                        "invite",
                        "not_member",
                        format!("{u} is not a member of this project"),
                    );
                } else if !attendees.iter().any(|a| &a.user_id == u) && *u != record.organiser_id {
                    invited.push(u.clone());
                }
            }
        }
        invited.sort();
        invited.dedup();
        checks.done()?;
        let Some((schedule, zone_name)) = timing else {
            return Err(unchecked_timing());
        };
        let occurrences = schedule.occurrences();
        record.time_zone = zone_name;
        record.starts_local = minute_text(schedule.start);
        record.duration_min = schedule.minutes;
        record.frequency = schedule.frequency.map(|f| f.as_str().to_owned());
        record.repeats = i64::from(schedule.count);
        record.exceptions = schedule.exceptions.iter().map(ToString::to_string).collect();
        record.first_start = millis(occurrences[0].start);
        record.last_end = millis(occurrences[occurrences.len() - 1].end);
        let promoted = self.store.update_session(record.clone(), invited.clone()).await?;
        self.sessions_changed.notify_one();
        record.sequence += 1;
        let told: Vec<UserId> = attendees
            .iter()
            .filter(|a| a.status != Attendance::Declined.as_str() && !promoted.contains(&a.user_id))
            .map(|a| a.user_id.clone())
            .collect();
        self.tell_invited(&record, &me, &told, SessionChange::Updated).await?;
        self.tell_invited(&record, &me, &invited, SessionChange::Invited).await?;
        self.tell_invited(&record, &me, &promoted, SessionChange::Promoted).await?;
        self.session(caller, id).await
    }

    /// Cancels a session: those invited are told, with a calendar cancellation. Its room and
    /// notes stay in the project.
    pub async fn cancel_session(
        &self,
        caller: &Caller,
        id: &MeetingId,
    ) -> Result<(), WorkspaceError> {
        let (mut record, role, attendees) = self.session_for(caller, id).await?;
        if !Self::may_edit(caller, &record, role) {
            return Err(WorkspaceError::Forbidden(
                "only the organiser or an owner cancels a session",
            ));
        }
        let me = caller.signed_in()?.clone();
        self.store.delete_session(id).await?;
        record.sequence += 1;
        let told: Vec<UserId> = attendees
            .iter()
            .filter(|a| a.status != Attendance::Declined.as_str())
            .map(|a| a.user_id.clone())
            .collect();
        self.tell_invited_with(&record, &attendees, &me, &told, SessionChange::Cancelled).await
    }

    /// The caller's answer. Going to a full session puts them on the waiting list; a place
    /// freed moves the first one waiting up, and they are told.
    pub async fn rsvp(
        &self,
        caller: &Caller,
        id: &MeetingId,
        response: RsvpResponse,
    ) -> Result<SessionDetail, WorkspaceError> {
        let (record, _, _) = self.session_for(caller, id).await?;
        let me = caller.signed_in()?;
        if record.organiser_id == me.id {
            return Err(WorkspaceError::Conflict("organiser", "the organiser hosts the session"));
        }
        let answer = match response {
            RsvpResponse::Going => "going",
            RsvpResponse::Maybe => "maybe",
            RsvpResponse::Declined => "declined",
        };
        let outcome = self.store.rsvp(id, &me.id, answer).await?;
        if !outcome.promoted.is_empty()
            && let Some(organiser) = self.store.user_by_id(&record.organiser_id).await?
        {
            self.tell_invited(&record, &organiser, &outcome.promoted, SessionChange::Promoted)
                .await?;
        }
        self.session(caller, id).await
    }

    /// The sessions on the caller's calendar that have not ended: those they organise or are
    /// invited to and have not declined, soonest first.
    pub async fn my_sessions(
        &self,
        caller: &Caller,
    ) -> Result<Vec<UpcomingSession>, WorkspaceError> {
        let me = caller.signed_in()?;
        let mut out = Vec::new();
        for (record, status, _) in self.calendar_of(&me.id).await? {
            let schedule = Schedule::of(&record)?;
            let now = Timestamp::now();
            let Some(next) = schedule.occurrences().into_iter().find(|o| o.end > now) else {
                continue;
            };
            let project_title =
                self.store.project(&record.project_id).await?.map(|p| p.title).unwrap_or_default();
            out.push(UpcomingSession {
                kind: SessionKind::parse(&record.kind).unwrap_or(SessionKind::Meeting),
                id: record.id,
                project_id: record.project_id,
                project_title,
                title: record.title,
                time_zone: record.time_zone,
                next: occurrence_view(&next),
                my_status: Some(status),
                room_id: record.room_id,
            });
        }
        out.sort_by_key(|s| s.next.starts_at);
        Ok(out)
    }

    /// What is on `user`'s calendar, with their standing and who else is invited: sessions of
    /// projects they are still in, not declined.
    async fn calendar_of(
        &self,
        user: &UserId,
    ) -> Result<Vec<(SessionRecord, Attendance, Vec<AttendeeRecord>)>, WorkspaceError> {
        let mut out = Vec::new();
        for record in self.store.user_sessions(user, now_ms()).await? {
            if self.store.project_role(&record.project_id, user).await?.is_none() {
                continue;
            }
            let attendees = self.store.attendees(&record.id).await?;
            let status = if &record.organiser_id == user {
                Attendance::Going
            } else {
                match attendees.iter().find(|a| &a.user_id == user) {
                    Some(a) => Attendance::parse(&a.status).unwrap_or(Attendance::Invited),
                    None => continue,
                }
            };
            if status != Attendance::Declined {
                out.push((record, status, attendees));
            }
        }
        Ok(out)
    }

    /// One session's calendar file, as the caller would add it to their calendar.
    pub async fn session_ics(
        &self,
        caller: &Caller,
        id: &MeetingId,
        origin: &str,
    ) -> Result<String, WorkspaceError> {
        let (record, _, attendees) = self.session_for(caller, id).await?;
        let me = caller.signed_in()?;
        let organiser = self.person_ref(&record.organiser_id).await?;
        let event = event(&record, &attendees, &organiser, me, origin)?;
        Ok(ics::calendar(Method::Request, None, &[event]))
    }

    /// The caller's calendar feed address (made the first time it is asked for).
    pub async fn calendar_feed(
        &self,
        caller: &Caller,
        renew: bool,
    ) -> Result<String, WorkspaceError> {
        let me = caller.signed_in()?;
        if renew {
            self.store.replace_calendar_secret(&me.id, random_hex(24)).await?;
        }
        let secret = self.store.calendar_secret(&me.id, random_hex(24)).await?;
        Ok(format!("/api/v1/calendar/{secret}.ics"))
    }

    /// The calendar feed a secret opens: every session on its owner's calendar.
    pub async fn feed(&self, secret: &str, origin: &str) -> Result<String, WorkspaceError> {
        let user = match self.store.user_by_calendar_secret(secret).await? {
            Some(id) => self.store.user_by_id(&id).await?,
            None => None,
        };
        let Some(user) = user else {
            return Err(WorkspaceError::NotFound("calendar"));
        };
        let mut events = Vec::new();
        for (record, _, attendees) in self.calendar_of(&user.id).await? {
            let organiser = self.person_ref(&record.organiser_id).await?;
            events.push(event(&record, &attendees, &organiser, &user, origin)?);
        }
        Ok(ics::calendar(Method::Feed, Some("Hubring"), &events))
    }

    /// Reminds everyone coming (going, maybe, or not answered yet) and the organiser of each
    /// occurrence that starts within the reminder window, once: the claim in the store makes
    /// one node send it. Returns how many occurrences were reminded.
    pub async fn send_reminders(&self) -> Result<usize, WorkspaceError> {
        let now = Timestamp::now();
        let window = i64::try_from(self.config.remind_before.as_millis()).unwrap_or(i64::MAX);
        let until = millis(now).saturating_add(window);
        let mut sent = 0;
        for record in self.store.sessions_starting_before(millis(now), until).await? {
            let schedule = Schedule::of(&record)?;
            let Some(next) = schedule.occurrences().into_iter().find(|o| o.start > now) else {
                continue;
            };
            if millis(next.start) > until
                || !self.store.claim_reminder(&record.id, millis(next.start)).await?
            {
                continue;
            }
            sent += 1;
            let attendees = self.store.attendees(&record.id).await?;
            let coming = attendees
                .iter()
                .filter(|a| matches!(a.status.as_str(), "going" | "maybe" | "invited"))
                .map(|a| a.user_id.clone());
            let project_title = self.store.project(&record.project_id).await?.map(|p| p.title);
            for user in std::iter::once(record.organiser_id.clone()).chain(coming) {
                let Some(reader) = self.store.user_by_id(&user).await? else { continue };
                let subject = NotificationSubject {
                    project_id: Some(record.project_id.clone()),
                    project_title: project_title.clone(),
                    session_id: Some(record.id.clone()),
                    session_title: Some(record.title.clone()),
                    session_change: Some(SessionChange::Reminder),
                    starts_at: Some(millis(next.start)),
                    time_zone: Some(record.time_zone.clone()),
                    ..NotificationSubject::default()
                };
                let path = format!("/sessions/{}", record.id);
                self.notify(&reader, NotificationKind::Session, subject, &path).await?;
            }
        }
        Ok(sent)
    }

    async fn tell_invited(
        &self,
        record: &SessionRecord,
        by: &UserRecord,
        to: &[UserId],
        change: SessionChange,
    ) -> Result<(), WorkspaceError> {
        if to.is_empty() {
            return Ok(());
        }
        let attendees = self.store.attendees(&record.id).await?;
        self.tell_invited_with(record, &attendees, by, to, change).await
    }

    /// Tells `to` what happened to a session, in the app and by email with its calendar file.
    async fn tell_invited_with(
        &self,
        record: &SessionRecord,
        attendees: &[AttendeeRecord],
        by: &UserRecord,
        to: &[UserId],
        change: SessionChange,
    ) -> Result<(), WorkspaceError> {
        let schedule = Schedule::of(record)?;
        let now = Timestamp::now();
        let occurrences = schedule.occurrences();
        let next = occurrences.iter().find(|o| o.end > now).or(occurrences.last());
        let project_title = self.store.project(&record.project_id).await?.map(|p| p.title);
        let organiser = self.person_ref(&record.organiser_id).await?;
        let path = format!("/sessions/{}", record.id);
        for user in to {
            if user == &by.id {
                continue;
            }
            let Some(reader) = self.store.user_by_id(user).await? else { continue };
            let calendar = match self.link("") {
                Some(origin) => {
                    let mut event = event(record, attendees, &organiser, &reader, &origin)?;
                    let method = if change == SessionChange::Cancelled {
                        event.cancelled = true;
                        Method::Cancel
                    } else {
                        Method::Request
                    };
                    Some(ics::calendar(method, None, &[event]))
                }
                None => None,
            };
            let subject = NotificationSubject {
                by: Some(PersonRef { id: by.id.clone(), display_name: by.display_name.clone() }),
                project_id: Some(record.project_id.clone()),
                project_title: project_title.clone(),
                session_id: Some(record.id.clone()),
                session_title: Some(record.title.clone()),
                session_change: Some(change),
                starts_at: next.map(|o| millis(o.start)),
                time_zone: Some(record.time_zone.clone()),
                ..NotificationSubject::default()
            };
            self.notify_with(&reader, NotificationKind::Session, subject, &path, calendar).await?;
        }
        Ok(())
    }
}

/// A session as a calendar event for `reader`: their own address as theirs, everyone else
/// by their profile's page.
fn event(
    record: &SessionRecord,
    attendees: &[AttendeeRecord],
    organiser: &PersonRef,
    reader: &UserRecord,
    origin: &str,
) -> Result<ics::Event, WorkspaceError> {
    let schedule = Schedule::of(record)?;
    let occurrences = schedule.occurrences();
    let who = |id: &UserId, name: &str| ics::Person {
        name: name.to_owned(),
        uri: if id == &reader.id {
            format!("mailto:{}", reader.email)
        } else {
            format!("{origin}/people/{id}")
        },
    };
    let page = format!("{origin}/sessions/{}", record.id);
    let mut description = record.agenda.clone();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(&page);
    let end = schedule.start.checked_add(schedule.minutes.minutes()).unwrap_or(schedule.start);
    let stamp = Timestamp::now();
    Ok(ics::Event {
        uid: format!("{}@hubring", record.id),
        sequence: record.sequence,
        stamp,
        modified: Timestamp::from_millisecond(record.updated_at).unwrap_or(stamp),
        zone: record.time_zone.clone(),
        start: schedule.start,
        end,
        rule: schedule.frequency.map(|f| {
            let freq = match f {
                Frequency::Weekly => "WEEKLY",
                Frequency::Monthly => "MONTHLY",
            };
            format!("FREQ={freq};COUNT={}", schedule.count)
        }),
        exceptions: schedule
            .exceptions
            .iter()
            .map(|d| d.to_datetime(schedule.start.time()))
            .collect(),
        summary: record.title.clone(),
        description,
        url: Some(page),
        organiser: who(&organiser.id, &organiser.display_name),
        attendees: attendees
            .iter()
            .map(|a| ics::Attendee {
                person: who(&a.user_id, &a.display_name),
                partstat: match a.status.as_str() {
                    "going" => "ACCEPTED",
                    "maybe" => "TENTATIVE",
                    "declined" => "DECLINED",
                    _ => "NEEDS-ACTION",
                },
            })
            .collect(),
        cancelled: false,
        span: (
            occurrences.first().map_or(stamp, |o| o.start),
            occurrences.last().map_or(stamp, |o| o.end),
        ),
    })
}
