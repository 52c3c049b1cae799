use super::*;
use hubring_protocol::room::ManualRoom;

fn pid(s: &str) -> ParticipantId {
    ParticipantId(s.into())
}

fn member(name: &str, may_publish: bool, moderator: bool) -> Member {
    Member { user_id: None, name: name.into(), may_publish, moderator }
}

fn room() -> RoomState {
    let mut r = RoomState::default();
    r.request_join(pid("mo"), member("Mo", true, true));
    r.request_join(pid("ed"), member("Ed", true, false));
    r.request_join(pid("vi"), member("Vi", false, false));
    r
}

fn refused(r: Result<Effects, Refusal>) -> &'static str {
    r.expect_err("refused").code
}

#[test]
fn only_moderators_moderate() {
    let mut r = room();
    for msg in [
        ClientMsg::MuteAll,
        ClientMsg::Remove { participant: pid("mo") },
        ClientMsg::Lock { locked: true },
        ClientMsg::AllowPublish { participant: pid("vi"), allowed: true },
        ClientMsg::OpenBreakouts { plan: BreakoutPlan::Random { rooms: 2 }, minutes: None },
    ] {
        assert_eq!(refused(r.handle(&pid("ed"), &msg, 0)), "not_moderator", "{msg:?}");
    }
    assert_eq!(refused(r.handle(&pid("nobody"), &ClientMsg::MuteAll, 0)), "not_admitted");
}

#[test]
fn a_locked_room_keeps_newcomers_in_the_lobby_until_admitted_denied_or_unlocked() {
    let mut r = room();
    r.handle(&pid("mo"), &ClientMsg::Lock { locked: true }, 0).unwrap();
    let effects = r.request_join(pid("a"), member("A", true, false));
    assert_eq!(effects[0], Effect::Send(pid("a"), ServerMsg::Lobby));
    r.request_join(pid("b"), member("B", true, false));
    r.request_join(pid("c"), member("C", true, false));
    // Moderators skip the lobby.
    assert!(
        r.request_join(pid("m2"), member("M2", true, true)).contains(&Effect::Admit(pid("m2")))
    );
    assert!(!r.contains(&pid("a")));
    assert_eq!(r.snapshot(&pid("mo")).lobby.len(), 3);
    assert!(r.snapshot(&pid("ed")).lobby.is_empty(), "only moderators see the lobby");
    let admitted = r.handle(&pid("mo"), &ClientMsg::Admit { participant: pid("a") }, 0).unwrap();
    assert!(admitted.contains(&Effect::Admit(pid("a"))));
    let denied = r.handle(&pid("mo"), &ClientMsg::Deny { participant: pid("b") }, 0).unwrap();
    assert!(denied.contains(&Effect::Close(pid("b"), LeaveReason::Denied)));
    assert_eq!(
        refused(r.handle(&pid("mo"), &ClientMsg::Admit { participant: pid("b") }, 0)),
        "not_waiting"
    );
    let unlocked = r.handle(&pid("mo"), &ClientMsg::Lock { locked: false }, 0).unwrap();
    assert!(unlocked.contains(&Effect::Admit(pid("c"))));
    assert!(r.contains(&pid("c")));
}

#[test]
fn listen_only_participants_speak_only_while_allowed() {
    let mut r = room();
    let publish = ClientMsg::Publish { track_id: "t".into(), source: Source::Microphone };
    assert_eq!(refused(r.handle(&pid("vi"), &publish, 0)), "listen_only");
    assert!(!r.sees(&pid("vi"), &pid("ed")));
    r.handle(&pid("mo"), &ClientMsg::AllowPublish { participant: pid("vi"), allowed: true }, 0)
        .unwrap();
    r.handle(&pid("vi"), &publish, 0).unwrap();
    assert!(r.sees(&pid("vi"), &pid("ed")));
    // Taken back: muted, told, and no longer forwarded.
    let back = r
        .handle(&pid("mo"), &ClientMsg::AllowPublish { participant: pid("vi"), allowed: false }, 0)
        .unwrap();
    assert!(back.contains(&Effect::Forwarding {
        participant: pid("vi"),
        source: Source::Microphone,
        on: false
    }));
    assert!(back.contains(&Effect::Send(
        pid("vi"),
        ServerMsg::MutedBy { source: Source::Microphone, by: pid("mo") }
    )));
    assert!(!r.sees(&pid("vi"), &pid("ed")));
    let unmute = ClientMsg::Mute { source: Source::Microphone, muted: false };
    assert_eq!(refused(r.handle(&pid("vi"), &unmute, 0)), "listen_only");
}

#[test]
fn manual_breakouts_are_checked_and_closing_brings_everyone_back() {
    let mut r = room();
    let plan = |rooms: Vec<(&str, Vec<&str>)>| ClientMsg::OpenBreakouts {
        plan: BreakoutPlan::Manual {
            rooms: rooms
                .into_iter()
                .map(|(name, ids)| ManualRoom {
                    name: name.into(),
                    participants: ids.into_iter().map(pid).collect(),
                })
                .collect(),
        },
        minutes: Some(5),
    };
    assert_eq!(
        refused(r.handle(&pid("mo"), &plan(vec![("A", vec!["ed"]), ("B", vec!["ed"])]), 0)),
        "bad_plan"
    );
    assert_eq!(refused(r.handle(&pid("mo"), &plan(vec![("A", vec!["ghost"])]), 0)), "not_found");
    assert_eq!(refused(r.handle(&pid("mo"), &plan(vec![]), 0)), "bad_plan");
    let opened = r
        .handle(&pid("mo"), &plan(vec![("Sound", vec!["ed"]), ("", vec!["vi", "mo"])]), 1000)
        .unwrap();
    assert!(opened.contains(&Effect::Regroup));
    assert_eq!(r.breakouts_end(), Some(1000 + 5 * 60_000));
    let names: Vec<String> =
        r.snapshot(&pid("mo")).breakouts.unwrap().rooms.into_iter().map(|b| b.name).collect();
    assert_eq!(names, vec!["Sound".to_owned(), "Room 2".to_owned()]);
    assert_eq!(r.breakout_of(&pid("ed")), Some(0));
    assert_eq!(r.breakout_of(&pid("mo")), Some(1));
    r.handle(&pid("mo"), &ClientMsg::AllowPublish { participant: pid("vi"), allowed: true }, 0)
        .unwrap();
    assert!(!r.sees(&pid("ed"), &pid("vi")), "different rooms do not see each other");
    assert!(r.sees(&pid("vi"), &pid("mo")));
    assert_eq!(refused(r.handle(&pid("mo"), &plan(vec![("A", vec![])]), 0)), "breakouts_open");
    assert!(r.close_breakouts().contains(&Effect::Regroup));
    assert!(r.sees(&pid("ed"), &pid("vi")));
    assert_eq!(r.breakouts_end(), None);
    assert!(r.close_breakouts().is_empty());
}

#[test]
fn leaving_clears_hands_and_the_speaker() {
    let mut r = room();
    r.handle(&pid("ed"), &ClientMsg::Hand { raised: true }, 5).unwrap();
    r.set_active_speaker(Some(pid("ed")));
    let effects = r.leave(&pid("ed"), LeaveReason::Left);
    assert!(effects.iter().any(|e| matches!(e, Effect::Broadcast { msg: ServerMsg::Hands { order }, .. } if order.is_empty())));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Broadcast { msg: ServerMsg::ActiveSpeaker { participant: None }, .. }
    )));
    assert!(r.leave(&pid("ed"), LeaveReason::Left).is_empty());
}

/// Property-based fuzzing of the room's signaling: any JSON text a client may send is parsed as
/// the server parses it, and whatever parses is handled by a room of moderators, editors and
/// viewers joining and leaving in between. Nothing panics, no message makes the room hold more
/// than it was asked to (breakout rooms, lobby), and every participant can still be shown the
/// room. Long run: `PROPTEST_CASES=20000 cargo test -p hubring-rtc --release --lib fuzz`.
mod fuzz {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    const TAGS: [&str; 22] = [
        "join",
        "offer",
        "answer",
        "candidate",
        "publish",
        "unpublish",
        "mute",
        "view",
        "hand",
        "chat",
        "mute_participant",
        "mute_all",
        "allow_publish",
        "lower_hand",
        "remove",
        "lock",
        "admit",
        "deny",
        "open_breakouts",
        "close_breakouts",
        "nope",
        "",
    ];
    const PEOPLE: [&str; 6] = ["mo", "ed", "vi", "a", "b", ""];

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u32>().prop_map(Value::from),
            Just(json!(u32::MAX)),
            any::<f64>().prop_map(|f| json!(f)),
            prop::sample::select(&PEOPLE[..]).prop_map(Value::from),
            prop::sample::select(
                &["camera", "microphone", "screen", "cam", "random", "manual"][..]
            )
            .prop_map(Value::from),
            ".{0,30}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(
                    prop::sample::select(
                        &["rooms", "participants", "name", "mode", "candidate", "x"][..]
                    ),
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    /// A message as JSON text: a known or unknown tag with fields of any type, or any text.
    fn message() -> impl Strategy<Value = String> {
        let fields = prop::collection::btree_map(
            prop::sample::select(
                &[
                    "name",
                    "sdp",
                    "candidate",
                    "track_id",
                    "source",
                    "muted",
                    "width",
                    "height",
                    "raised",
                    "text",
                    "participant",
                    "allowed",
                    "locked",
                    "plan",
                    "minutes",
                ][..],
            ),
            value(),
            0..4,
        );
        prop_oneof![
            8 => (prop::sample::select(&TAGS[..]), fields).prop_map(|(tag, fields)| {
                let mut object: serde_json::Map<String, Value> =
                    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                object.insert("type".into(), Value::from(tag));
                Value::Object(object).to_string()
            }),
            1 => ".{0,60}",
        ]
    }

    /// Something that happens to the room: a message from someone, a join or a leave.
    #[derive(Debug, Clone)]
    enum Step {
        Says(usize, String),
        Joins(usize, bool, bool),
        Leaves(usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        let who = 0..PEOPLE.len();
        prop_oneof![
            8 => (who.clone(), message()).prop_map(|(w, m)| Step::Says(w, m)),
            1 => (who.clone(), any::<bool>(), any::<bool>()).prop_map(|(w, p, m)| Step::Joins(w, p, m)),
            1 => who.prop_map(Step::Leaves),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_signaling_is_handled_without_panic_or_growth(steps in prop::collection::vec(step(), 1..40)) {
            let mut r = room();
            // The SFU names every join afresh, so an id joins at most once.
            let mut used: std::collections::HashSet<&str> = ["mo", "ed", "vi"].into();
            let mut now = 1_000u64;
            for step in steps {
                now += 250;
                match step {
                    Step::Says(who, text) => {
                        let Ok(msg) = serde_json::from_str::<ClientMsg>(&text) else { continue };
                        let _ = r.handle(&pid(PEOPLE[who]), &msg, now);
                    }
                    Step::Joins(who, may_publish, moderator) => {
                        if !used.insert(PEOPLE[who]) {
                            continue;
                        }
                        let _ = r.request_join(pid(PEOPLE[who]), member(PEOPLE[who], may_publish, moderator));
                    }
                    Step::Leaves(who) => {
                        let _ = r.leave(&pid(PEOPLE[who]), LeaveReason::Left);
                    }
                }
                if r.breakouts_end().is_some_and(|end| end <= now) {
                    let _ = r.close_breakouts();
                }
                let ids: Vec<ParticipantId> = r.participant_ids().cloned().collect();
                prop_assert!(ids.len() <= PEOPLE.len(), "{} participants", ids.len());
                for id in &ids {
                    let snapshot = r.snapshot(id);
                    prop_assert!(snapshot.participants.len() <= PEOPLE.len());
                    prop_assert!(snapshot.lobby.len() <= PEOPLE.len());
                    if let Some(breakouts) = &snapshot.breakouts {
                        prop_assert!(breakouts.rooms.len() <= PEOPLE.len(), "{} breakout rooms", breakouts.rooms.len());
                    }
                }
            }
        }
    }
}

#[test]
fn an_ended_screen_share_is_unpublished_for_everyone() {
    let mut r = room();
    let share = ClientMsg::Publish { track_id: "s".into(), source: Source::Screen };
    r.handle(&pid("ed"), &share, 0).unwrap();
    let ended = r.handle(&pid("ed"), &ClientMsg::Unpublish { source: Source::Screen }, 0).unwrap();
    // Not merely paused: the forwarder goes, so nobody keeps its last frame.
    assert!(
        ended.contains(&Effect::Unpublished { participant: pid("ed"), source: Source::Screen })
    );
    assert!(r.tracks(&pid("ed")).iter().all(|t| t.source != Source::Screen));
    // Twice is nothing.
    let again = r.handle(&pid("ed"), &ClientMsg::Unpublish { source: Source::Screen }, 0).unwrap();
    assert!(again.is_empty());
}
