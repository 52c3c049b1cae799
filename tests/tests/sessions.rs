//! Sessions on the calendar, end to end against the real server: wall-clock times across a
//! daylight-saving change (checked by Python's `icalendar` and `zoneinfo`, independent of the
//! server's time-zone code), RSVP with a capacity and a waiting list that moves up by itself,
//! coaching privacy, the private calendar feed and its renewal, and bad input refused with
//! nothing stored.

use std::process::Stdio;

use hubring_tests::{ApiClient, Reply, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// A project owned by `owner@hubs.example` with members signed up by `emails` (editors).
async fn project_with(server: &TestServer, emails: &[&str]) -> (ApiClient, String, Vec<ApiClient>) {
    let owner = ApiClient::signup(server, "owner@hubs.example").await.unwrap();
    let created = owner
        .post("/projects", json!({"title": "Peer learning", "visibility": "private"}))
        .await
        .unwrap();
    let project = created.body["id"].as_str().unwrap().to_owned();
    let mut members = Vec::new();
    for email in emails {
        let member = ApiClient::signup(server, email).await.unwrap();
        let added = owner
            .post(
                &format!("/projects/{project}/members"),
                json!({"email": email, "role": "editor"}),
            )
            .await
            .unwrap();
        assert_eq!(added.status, StatusCode::CREATED, "{added:?}");
        assert_eq!(member.accept_invites().await.unwrap(), 1);
        members.push(member);
    }
    (owner, project, members)
}

/// `client`'s answer to session `id`.
async fn rsvp(client: &ApiClient, id: &str, response: &str) -> Reply {
    let body = Some(json!({"response": response}));
    client.send(reqwest::Method::PUT, &format!("/sessions/{id}/rsvp"), body).await.unwrap()
}

fn lisbon_weekly() -> Value {
    json!({
        "title": "Hub managers' peer learning",
        "kind": "peer_learning",
        "agenda": "1. Rounds\n2. One hub's question; the others advise",
        "starts": "2027-03-18T18:00",
        "time_zone": "Europe/Lisbon",
        "duration_minutes": 90,
        "recurrence": {"frequency": "weekly", "count": 4},
        "notes_title": "Notes",
    })
}

/// Runs `script` with Debian's Python (where `python3-icalendar` is), `input` on stdin.
async fn python(script: &str, input: &str) -> String {
    let mut child = tokio::process::Command::new("/usr/bin/python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(input.as_bytes()).await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Reads a calendar with Python's `icalendar`: checks that every TZID used has its VTIMEZONE,
/// and prints each event's DTSTART (local and zone), RRULE, and the UTC time of each of the
/// rule's occurrences computed from the file's own VTIMEZONE (not from any tz database).
const READ_ICS: &str = r#"
import sys, datetime, json, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.read())
zones = {str(c['TZID']): c for c in cal.walk('VTIMEZONE')}
used = set()
for comp in cal.walk():
    for key, value in comp.property_items():
        pass
for ev in cal.walk('VEVENT'):
    for prop in ('DTSTART', 'DTEND', 'EXDATE'):
        p = ev.get(prop)
        for one in (p if isinstance(p, list) else [p]):
            if one is not None and 'TZID' in one.params:
                used.add(str(one.params['TZID']))
missing = sorted(used - set(zones))
out = {'method': str(cal.get('METHOD', '')), 'missing_vtimezone': missing, 'events': []}
for ev in cal.walk('VEVENT'):
    start = ev['DTSTART']
    tzid = str(start.params.get('TZID'))
    local = start.dt.replace(tzinfo=None)
    tz = zones[tzid].to_tz()
    rule = ev.get('RRULE')
    count = int(rule['COUNT'][0]) if rule else 1
    step = {'WEEKLY': 7}.get(str(rule['FREQ'][0]) if rule else '', 0)
    utc = []
    for i in range(count):
        at = local + datetime.timedelta(days=step * i)
        utc.append(tz.localize(at).astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M'))
    out['events'].append({
        'uid': str(ev['UID']), 'sequence': int(ev['SEQUENCE']), 'tzid': tzid,
        'local': local.strftime('%Y-%m-%dT%H:%M'), 'utc': utc,
        'organizer': str(ev.get('ORGANIZER')), 'url': str(ev.get('URL')),
        'attendees': [[str(a), str(a.params.get('PARTSTAT'))] for a in
                      (ev.get('ATTENDEE') if isinstance(ev.get('ATTENDEE'), list) else
                       [ev.get('ATTENDEE')] if ev.get('ATTENDEE') else [])],
        'status': str(ev.get('STATUS')),
    })
print(json.dumps(out))
"#;

/// Times (ms since the epoch) on a wall clock in `zone`, by Python's `zoneinfo`.
const WALL_CLOCK: &str = r#"
import sys, json, datetime, zoneinfo
args = json.loads(sys.stdin.read())
tz = zoneinfo.ZoneInfo(args['zone'])
print(json.dumps([datetime.datetime.fromtimestamp(ms / 1000, tz).strftime('%Y-%m-%dT%H:%M') for ms in args['ms']]))
"#;

#[tokio::test]
async fn a_weekly_lisbon_session_keeps_18_00_across_daylight_saving_and_its_ics_says_so() {
    let server = TestServer::start().await;
    let (owner, project, members) = project_with(&server, &["ben@hubs.example"]).await;
    let created =
        owner.post(&format!("/projects/{project}/sessions"), lisbon_weekly()).await.unwrap();
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let session = &created.body;
    let id = session["id"].as_str().unwrap();

    // 18:00 in Lisbon every week: 18:00 UTC before the last Sunday of March (the 28th in
    // 2027), 17:00 UTC after it.
    let starts: Vec<i64> = session["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["starts_at"].as_i64().unwrap())
        .collect();
    let locals: Vec<&str> = session["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["local_start"].as_str().unwrap())
        .collect();
    assert_eq!(
        locals,
        ["2027-03-18T18:00", "2027-03-25T18:00", "2027-04-01T18:00", "2027-04-08T18:00"]
    );
    let at = |zone: &str| {
        let input = json!({"zone": zone, "ms": starts}).to_string();
        async move { serde_json::from_str::<Vec<String>>(&python(WALL_CLOCK, &input).await).unwrap() }
    };
    assert_eq!(
        at("UTC").await,
        ["2027-03-18T18:00", "2027-03-25T18:00", "2027-04-01T17:00", "2027-04-08T17:00"]
    );
    assert_eq!(at("Europe/Lisbon").await, locals);
    assert_eq!(
        at("Europe/Madrid").await,
        ["2027-03-18T19:00", "2027-03-25T19:00", "2027-04-01T19:00", "2027-04-08T19:00"]
    );

    // Its calendar file, read by Python's icalendar: every TZID has its VTIMEZONE, and the
    // file's own VTIMEZONE puts the occurrences at the same instants.
    let ics = members[0].get_raw(&format!("/sessions/{id}/ics"), &[]).await.unwrap();
    assert_eq!(ics.status(), StatusCode::OK);
    assert!(ics.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let ics = ics.text().await.unwrap();
    let read: Value = serde_json::from_str(&python(READ_ICS, &ics).await).unwrap();
    assert_eq!(read["missing_vtimezone"], json!([]), "{ics}");
    assert_eq!(read["method"], "REQUEST");
    let event = &read["events"][0];
    assert_eq!(event["tzid"], "Europe/Lisbon");
    assert_eq!(event["local"], "2027-03-18T18:00");
    assert_eq!(
        event["utc"],
        json!(["2027-03-18T18:00", "2027-03-25T18:00", "2027-04-01T17:00", "2027-04-08T17:00"])
    );
    assert_eq!(event["sequence"], 0);
    assert!(event["url"].as_str().unwrap().ends_with(&format!("/sessions/{id}")), "{event}");
    // Ben's own address is his; nobody else's email is in his file.
    let attendees = event["attendees"].as_array().unwrap();
    assert_eq!(attendees.len(), 1, "{event}");
    assert_eq!(attendees[0], json!(["mailto:ben@hubs.example", "NEEDS-ACTION"]));
    assert!(!ics.contains("owner@hubs.example"), "the organiser's address leaked: {ics}");

    // A change raises SEQUENCE; Ben's answer shows as his PARTSTAT.
    let changed =
        owner.patch(&format!("/sessions/{id}"), json!({"duration_minutes": 60})).await.unwrap();
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    assert_eq!(changed.body["sequence"], 1);
    let going = rsvp(&members[0], id, "going").await;
    assert_eq!(going.body["my_status"], "going", "{going:?}");
    let ics = members[0]
        .get_raw(&format!("/sessions/{id}/ics"), &[])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let read: Value = serde_json::from_str(&python(READ_ICS, &ics).await).unwrap();
    assert_eq!(read["events"][0]["sequence"], 1);
    assert_eq!(read["events"][0]["attendees"][0][1], "ACCEPTED");

    // Ben's upcoming list and his private feed (no sign-in; renewing it closes the old one).
    let mine = members[0].get("/me/sessions").await.unwrap();
    assert_eq!(mine.body.as_array().unwrap().len(), 1, "{mine:?}");
    assert_eq!(mine.body[0]["id"], id);
    let feed = members[0].get("/me/calendar-feed").await.unwrap();
    let url = feed.body["url"].as_str().unwrap().to_owned();
    let path = &url[url.find("/api/v1").unwrap() + "/api/v1".len()..];
    let anonymous = ApiClient::anonymous(&server);
    let body = anonymous.get_raw(path, &[]).await.unwrap().text().await.unwrap();
    let read: Value = serde_json::from_str(&python(READ_ICS, &body).await).unwrap();
    assert_eq!(read["method"], "");
    assert_eq!(read["events"].as_array().unwrap().len(), 1);
    assert_eq!(read["missing_vtimezone"], json!([]));
    let renewed = members[0].post("/me/calendar-feed", json!({})).await.unwrap();
    assert_ne!(renewed.body["url"], url.as_str());
    assert_eq!(anonymous.get_raw(path, &[]).await.unwrap().status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn over_capacity_people_wait_and_move_up_when_someone_declines() {
    let server = TestServer::start().await;
    let emails = ["ana@hubs.example", "ben@hubs.example", "cleo@hubs.example"];
    let (owner, project, members) = project_with(&server, &emails).await;
    let mut req = lisbon_weekly();
    req["capacity"] = json!(2);
    req["recurrence"] = Value::Null;
    let created = owner.post(&format!("/projects/{project}/sessions"), req).await.unwrap();
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.body["id"].as_str().unwrap();
    let answer = |who: usize, response: &'static str| rsvp(&members[who], id, response);
    // All three at once: whatever the order, two go and one waits.
    let (a, b, c) = tokio::join!(answer(0, "going"), answer(1, "going"), answer(2, "going"));
    let statuses: Vec<&str> =
        [&a, &b, &c].iter().map(|r| r.body["my_status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "going").count(), 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == "waiting").count(), 1, "{statuses:?}");
    let waiting = statuses.iter().position(|s| *s == "waiting").unwrap();
    let going = statuses.iter().position(|s| *s == "going").unwrap();
    let view = members[waiting].get(&format!("/sessions/{id}")).await.unwrap();
    let me = view.body["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["user"]["id"] == members[waiting].id())
        .cloned()
        .unwrap();
    assert_eq!(me["waiting_position"], 1, "{view:?}");
    // Answering going again keeps one's place rather than jumping the queue.
    assert_eq!(answer(waiting, "going").await.body["my_status"], "waiting");

    // One who was going declines: the one waiting moves up and is told (the bell).
    let before =
        members[waiting].get("/me/notifications").await.unwrap().body["unread"].as_u64().unwrap();
    let declined = answer(going, "declined").await;
    assert_eq!(declined.body["my_status"], "declined");
    let view = members[waiting].get(&format!("/sessions/{id}")).await.unwrap();
    assert_eq!(view.body["my_status"], "going", "{view:?}");
    let bell = members[waiting].get("/me/notifications").await.unwrap();
    assert_eq!(bell.body["unread"].as_u64().unwrap(), before + 1, "{bell:?}");
    assert_eq!(bell.body["items"][0]["kind"], "session");
    assert_eq!(bell.body["items"][0]["subject"]["session_change"], "promoted");
    let going_now = view.body["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "going")
        .count();
    assert_eq!(going_now, 2);
    // The organiser hosts; they do not take a place.
    let hosting = rsvp(&owner, id, "going").await;
    assert_eq!(hosting.status, StatusCode::CONFLICT);
    server.stop().await;
}

#[tokio::test]
async fn a_coaching_session_is_seen_by_its_two_people_only() {
    let server = TestServer::start().await;
    let (owner, project, members) =
        project_with(&server, &["mentor@hubs.example", "other@hubs.example"]).await;
    let mut req = lisbon_weekly();
    req["kind"] = json!("coaching");
    req["title"] = json!("Coaching: pricing workshops");
    req["invite"] = json!([members[0].id()]);
    req["recurrence"] = Value::Null;
    let created = owner.post(&format!("/projects/{project}/sessions"), req).await.unwrap();
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.body["id"].as_str().unwrap();
    let room = created.body["room_id"].as_str().unwrap();
    assert_eq!(members[0].get(&format!("/sessions/{id}")).await.unwrap().status, StatusCode::OK);
    for path in [format!("/sessions/{id}"), format!("/sessions/{id}/ics"), format!("/items/{room}")]
    {
        let seen = members[1].get(&path).await.unwrap();
        assert_eq!(seen.status, StatusCode::NOT_FOUND, "{path}: {seen:?}");
    }
    let listed = members[1].get(&format!("/projects/{project}/sessions")).await.unwrap();
    assert_eq!(listed.body, json!([]), "{listed:?}");
    let refused = rsvp(&members[1], id, "going").await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    // The notes start from the coaching template.
    let notes = created.body["notes_id"].as_str().unwrap();
    let md = members[0].get_raw(&format!("/items/{notes}/export?format=md"), &[]).await.unwrap();
    assert_eq!(md.status(), StatusCode::OK);
    let md = md.text().await.unwrap();
    assert!(md.contains("# Coaching session notes"), "{md}");
    server.stop().await;
}

#[tokio::test]
async fn bad_sessions_are_refused_with_the_field_named_and_nothing_stored() {
    let server = TestServer::start().await;
    let (owner, project, _) = project_with(&server, &["ben@hubs.example"]).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("time_zone", json!({"time_zone": "Europe/Atlantis"}), "not_time_zone"),
        ("ends", json!({"duration_minutes": null, "ends": "2027-03-18T17:00"}), "end_before_start"),
        (
            "recurrence.count",
            json!({"recurrence": {"frequency": "weekly", "count": 10000}}),
            "out_of_range",
        ),
        (
            "title",
            json!({"title": "Peer learning\r\nBcc: everyone@example.org"}),
            "control_characters",
        ),
        ("starts", json!({"starts": "next Thursday"}), "not_datetime"),
        ("duration_minutes", json!({"duration_minutes": 0}), "out_of_range"),
        (
            "recurrence.exceptions",
            json!({"recurrence": {"frequency": "weekly", "count": 3, "exceptions": ["2027-03-19"]}}),
            "not_occurrence",
        ),
    ];
    for (field, change, code) in cases {
        let mut req = lisbon_weekly();
        for (k, v) in change.as_object().unwrap() {
            req[k] = v.clone();
        }
        let reply = owner.post(&format!("/projects/{project}/sessions"), req).await.unwrap();
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {reply:?}");
        assert_eq!(reply.body["error"]["field_codes"][field]["code"], code, "{field}: {reply:?}");
    }
    // Nothing was stored: no session, and no room or notes made for one.
    assert_eq!(owner.get(&format!("/projects/{project}/sessions")).await.unwrap().body, json!([]));
    assert_eq!(owner.get(&format!("/projects/{project}/items")).await.unwrap().body, json!([]));
    // Not JSON at all, or an unknown kind: 4xx too.
    let bad = owner
        .post(&format!("/projects/{project}/sessions"), json!({"title": "x", "kind": "party"}))
        .await
        .unwrap();
    assert!(bad.status.is_client_error(), "{bad:?}");
    server.stop().await;
}

/// `minutes` from now on a UTC wall clock, `YYYY-MM-DDTHH:MM`.
fn utc_in(minutes: i64) -> String {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(minutes);
    jiff::tz::TimeZone::UTC.to_datetime(at).strftime("%Y-%m-%dT%H:%M").to_string()
}

async fn reminders(client: &ApiClient, session: &str) -> usize {
    let list = client.get("/me/notifications").await.unwrap();
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["subject"]["session_change"] == "reminder" && n["subject"]["session_id"] == session
        })
        .count()
}

#[tokio::test]
async fn a_reminder_goes_out_once_to_those_coming_as_the_session_nears() {
    let server = TestServer::start().await;
    let (owner, project, members) =
        project_with(&server, &["ben@hubs.example", "cleo@hubs.example"]).await;
    let session = |starts: String| {
        json!({"title": "Stand-up", "kind": "meeting", "starts": starts, "time_zone": "UTC",
               "duration_minutes": 30, "notes_title": "Notes"})
    };
    let later = owner
        .post(&format!("/projects/{project}/sessions"), session(utc_in(7 * 24 * 60)))
        .await
        .unwrap();
    let later = later.body["id"].as_str().unwrap().to_owned();
    let soon =
        owner.post(&format!("/projects/{project}/sessions"), session(utc_in(180))).await.unwrap();
    assert_eq!(soon.status, StatusCode::CREATED, "{soon:?}");
    let soon = soon.body["id"].as_str().unwrap().to_owned();
    let declined = rsvp(&members[1], &soon, "declined").await;
    assert_eq!(declined.status, StatusCode::OK);
    // Three hours ahead, outside the hour's window: no reminder yet, whenever the worker runs.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(reminders(&members[0], &soon).await, 0);
    // Moved to half an hour from now: the move wakes the worker, and Ben (invited) and the
    // organiser are reminded.
    let moved =
        owner.patch(&format!("/sessions/{soon}"), json!({"starts": utc_in(30)})).await.unwrap();
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while reminders(&members[0], &soon).await == 0 || reminders(&owner, &soon).await == 0 {
        assert!(std::time::Instant::now() < deadline, "no reminder within 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A change wakes the worker again: still one reminder each, none for the session a week
    // away, and none for Cleo, who is not coming.
    let changed = owner
        .patch(&format!("/sessions/{soon}"), json!({"title": "Stand-up (short)"}))
        .await
        .unwrap();
    assert_eq!(changed.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(reminders(&members[0], &soon).await, 1);
    assert_eq!(reminders(&owner, &soon).await, 1);
    assert_eq!(reminders(&members[0], &later).await, 0);
    assert_eq!(reminders(&members[1], &soon).await, 0);
    server.stop().await;
}
