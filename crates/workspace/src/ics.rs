//! iCalendar (RFC 5545) files of sessions: one session's invitation or cancellation
//! (`METHOD:REQUEST` / `CANCEL`, attached to emails and served at `/sessions/{id}/ics`) and
//! each person's subscribed feed.
//!
//! Written here rather than with a crate: the few iCalendar crates on crates.io either do not
//! generate `VTIMEZONE` from the time-zone database or pull in a second one, while jiff (already
//! here, with the tz database bundled) gives every transition of a zone. The output is checked
//! against an independent parser (Python's `icalendar`) by the end-to-end tests.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan};

/// How a calendar app should take the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// An invitation, or an update of one.
    Request,
    /// The session is cancelled.
    Cancel,
    /// A subscribed feed: no method.
    Feed,
}

/// Someone in an event: a name and a URI (their `mailto:` for the person the file is for;
/// others appear by their profile's address, so no one's email leaks through a calendar).
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub uri: String,
}

/// An attendee and their `PARTSTAT`.
#[derive(Debug, Clone)]
pub struct Attendee {
    pub person: Person,
    /// `NEEDS-ACTION`, `ACCEPTED`, `TENTATIVE` or `DECLINED`.
    pub partstat: &'static str,
}

/// One session as an event (a recurring one is one event with its rule).
#[derive(Debug, Clone)]
pub struct Event {
    pub uid: String,
    pub sequence: i64,
    /// When the file is written (`DTSTAMP`), and when the session last changed.
    pub stamp: Timestamp,
    pub modified: Timestamp,
    pub zone: String,
    pub start: DateTime,
    pub end: DateTime,
    /// `FREQ=WEEKLY;COUNT=8` and the like.
    pub rule: Option<String>,
    /// Local starts it does not happen at.
    pub exceptions: Vec<DateTime>,
    pub summary: String,
    pub description: String,
    /// The session's page, where its room is joined.
    pub url: Option<String>,
    pub organiser: Person,
    pub attendees: Vec<Attendee>,
    pub cancelled: bool,
    /// The span of real time the event covers (first start, last end), for `VTIMEZONE`.
    pub span: (Timestamp, Timestamp),
}

/// Writes a calendar of `events`, with one `VTIMEZONE` per zone they use, covering them.
pub fn calendar(method: Method, name: Option<&str>, events: &[Event]) -> String {
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line("PRODID:-//Hubring//Sessions//EN");
    out.line("CALSCALE:GREGORIAN");
    match method {
        Method::Request => out.line("METHOD:REQUEST"),
        Method::Cancel => out.line("METHOD:CANCEL"),
        Method::Feed => {}
    }
    if let Some(name) = name {
        out.prop("X-WR-CALNAME", &[], &text(name));
    }
    let mut zones: Vec<(&str, Timestamp, Timestamp)> = Vec::new();
    for event in events {
        match zones.iter_mut().find(|(z, ..)| *z == event.zone) {
            Some((_, from, to)) => {
                *from = (*from).min(event.span.0);
                *to = (*to).max(event.span.1);
            }
            None => zones.push((&event.zone, event.span.0, event.span.1)),
        }
    }
    for (zone, from, to) in zones {
        vtimezone(&mut out, zone, from, to);
    }
    for event in events {
        vevent(&mut out, method, event);
    }
    out.line("END:VCALENDAR");
    out.0
}

fn vevent(out: &mut Lines, method: Method, e: &Event) {
    let tz = [("TZID", e.zone.as_str())];
    out.line("BEGIN:VEVENT");
    out.prop("UID", &[], &e.uid);
    out.prop("SEQUENCE", &[], &e.sequence.to_string());
    out.prop("DTSTAMP", &[], &utc(e.stamp));
    out.prop("LAST-MODIFIED", &[], &utc(e.modified));
    out.prop("DTSTART", &tz, &local(e.start));
    out.prop("DTEND", &tz, &local(e.end));
    if let Some(rule) = &e.rule {
        out.prop("RRULE", &[], rule);
    }
    if !e.exceptions.is_empty() {
        let dates: Vec<String> = e.exceptions.iter().map(|d| local(*d)).collect();
        out.prop("EXDATE", &tz, &dates.join(","));
    }
    out.prop("SUMMARY", &[], &text(&e.summary));
    if !e.description.is_empty() {
        out.prop("DESCRIPTION", &[], &text(&e.description));
    }
    if let Some(url) = &e.url {
        out.prop("URL", &[], url);
        out.prop("LOCATION", &[], &text(url));
    }
    let status = if e.cancelled || method == Method::Cancel { "CANCELLED" } else { "CONFIRMED" };
    out.prop("STATUS", &[], status);
    out.prop("ORGANIZER", &[("CN", &param(&e.organiser.name))], &e.organiser.uri);
    for a in &e.attendees {
        out.prop(
            "ATTENDEE",
            &[
                ("CN", &param(&a.person.name)),
                ("ROLE", "REQ-PARTICIPANT"),
                ("PARTSTAT", a.partstat),
                ("RSVP", "TRUE"),
            ],
            &a.person.uri,
        );
    }
    out.line("END:VEVENT");
}

/// The zone's rules from shortly before `from` to after `to`: the offset in force at `from`,
/// then every transition (daylight saving and any change of the zone's standard time).
fn vtimezone(out: &mut Lines, zone: &str, from: Timestamp, to: Timestamp) {
    let Ok(tz) = jiff::tz::db().get(zone) else {
        return;
    };
    let from = from.checked_sub(31.days()).unwrap_or(from);
    let to = to.checked_add(31.days()).unwrap_or(to);
    out.line("BEGIN:VTIMEZONE");
    out.prop("TZID", &[], zone);
    let info = tz.to_offset_info(from);
    let (offset, dst, abbreviation) = (info.offset(), info.dst(), info.abbreviation().to_owned());
    // The offset at the start of the range, as an observance that began before it.
    let earlier = tz.preceding(from).next();
    let (onset, before) = match &earlier {
        Some(t) => (
            t.timestamp(),
            tz.to_offset(t.timestamp().checked_sub(1.second()).unwrap_or(t.timestamp())),
        ),
        None => (from, offset),
    };
    observance(out, onset, before, offset, dst.is_dst(), &abbreviation);
    for transition in tz.following(from).take_while(|t| t.timestamp() <= to) {
        let before = tz.to_offset(
            transition.timestamp().checked_sub(1.second()).unwrap_or(transition.timestamp()),
        );
        observance(
            out,
            transition.timestamp(),
            before,
            transition.offset(),
            transition.dst().is_dst(),
            transition.abbreviation(),
        );
    }
    out.line("END:VTIMEZONE");
}

fn observance(out: &mut Lines, at: Timestamp, from: Offset, to: Offset, dst: bool, name: &str) {
    let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
    out.line(&format!("BEGIN:{kind}"));
    // The onset on the wall clock of the offset it replaces (RFC 5545, 3.6.5).
    out.prop("DTSTART", &[], &local(TimeZone::fixed(from).to_datetime(at)));
    out.prop("TZOFFSETFROM", &[], &offset(from));
    out.prop("TZOFFSETTO", &[], &offset(to));
    if !name.is_empty() {
        out.prop("TZNAME", &[], &text(name));
    }
    out.line(&format!("END:{kind}"));
}

fn local(dt: DateTime) -> String {
    dt.strftime("%Y%m%dT%H%M%S").to_string()
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn offset(o: Offset) -> String {
    let secs = o.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.unsigned_abs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 { format!("{sign}{h:02}{m:02}") } else { format!("{sign}{h:02}{m:02}{s:02}") }
}

/// A TEXT value (RFC 5545, 3.3.11): backslash, semicolon, comma and newlines escaped; other
/// control characters dropped.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value: quoted, without the characters a quoted value may not hold.
fn param(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control() && *c != '"').collect();
    format!("\"{clean}\"")
}

/// Content lines, CRLF-terminated and folded at 75 octets without splitting a character.
#[derive(Default)]
struct Lines(String);

impl Lines {
    fn prop(&mut self, name: &str, params: &[(&str, &str)], value: &str) {
        let mut line = String::from(name);
        for (k, v) in params {
            line.push(';');
            line.push_str(k);
            line.push('=');
            line.push_str(v);
        }
        line.push(':');
        line.push_str(value);
        self.line(&line);
    }

    fn line(&mut self, line: &str) {
        let mut width = 0;
        for c in line.chars() {
            let n = c.len_utf8();
            if width + n > 75 {
                self.0.push_str("\r\n ");
                width = 1;
            }
            self.0.push(c);
            width += n;
        }
        self.0.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut lines = Lines::default();
        lines.prop("SUMMARY", &[], &"é".repeat(100));
        for line in lines.0.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        let unfolded = lines.0.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "é".repeat(100)));
    }

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        assert_eq!(text("a;b,c\\d\ne\r\u{7}"), "a\\;b\\,c\\\\d\\ne");
        assert_eq!(param("Ana \"A\"\r\nX"), "\"Ana AX\"");
    }

    #[test]
    fn lisbon_has_its_march_change_as_a_daylight_observance() {
        let mut out = Lines::default();
        let from: Timestamp = "2027-03-10T00:00:00Z".parse().unwrap();
        let to: Timestamp = "2027-04-10T00:00:00Z".parse().unwrap();
        vtimezone(&mut out, "Europe/Lisbon", from, to);
        let s = out.0;
        assert!(s.contains("BEGIN:DAYLIGHT\r\nDTSTART:20270328T010000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nTZNAME:WEST\r\n"), "{s}");
        assert!(s.contains("BEGIN:STANDARD\r\n"), "{s}");
    }
}
