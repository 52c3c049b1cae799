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
