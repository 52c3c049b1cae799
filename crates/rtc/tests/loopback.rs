//! The SFU with real webrtc-crate peers on 127.0.0.1: media forwarded intact and in order,
//! keyframes for late joiners, removal, a viewer refused, and the room's state over the wire.

mod client;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::{Client, WAIT, member, receive, run_publisher};
use hubring_protocol::room::{BreakoutPlan, ClientMsg, LeaveReason, ServerMsg, Source};
use hubring_rtc::{RtcConfig, Sfu};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::RTCPeerConnectionState;

fn sfu() -> Sfu {
    let config = RtcConfig {
        bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        udp_ports: None,
        public_ip: None,
        ice_servers: Vec::new(),
    };
    Sfu::new(
        config,
        CancellationToken::new(),
        std::sync::Arc::new(hubring_rtc::MemoryChatLog::default()),
    )
}

/// Waits for a subscriber's first track and reads it in the background.
async fn receiving(
    c: &mut Client,
) -> anyhow::Result<mpsc::UnboundedReceiver<(Instant, u32, bool)>> {
    let track = tokio::time::timeout(WAIT, c.tracks.recv())
        .await
        .map_err(|_| anyhow::anyhow!("no track reached {}", c.id))?
        .expect("a track");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(receive(track, tx));
    Ok(rx)
}

/// Collects frames until `count` arrived, checking they are consecutive from a keyframe.
async fn frames_in_order(
    rx: &mut mpsc::UnboundedReceiver<(Instant, u32, bool)>,
    count: usize,
) -> anyhow::Result<Vec<(Instant, u32, bool)>> {
    let mut got = Vec::new();
    while got.len() < count {
        let frame = tokio::time::timeout(WAIT, rx.recv())
            .await
            .map_err(|_| anyhow::anyhow!("{} frames of {count}", got.len()))?
            .expect("frames");
        got.push(frame);
    }
    assert!(got[0].2, "a subscriber's first frame is a keyframe: {:?}", &got[..5]);
    for pair in got.windows(2) {
        assert_eq!(pair[1].1, pair[0].1 + 1, "frames arrive in order and none is missing");
    }
    Ok(got)
}

/// Ana (a moderator) publishing video to Ben in `room`, with Ben's track and its frames.
struct Pair {
    sfu: Sfu,
    ana: Client,
    ben: Client,
    /// Stops Ana's publisher.
    stop: CancellationToken,
    /// When the SFU asked Ana for a keyframe.
    key_requests: mpsc::UnboundedReceiver<Instant>,
    track: Arc<dyn TrackRemote>,
    frames: mpsc::UnboundedReceiver<(Instant, u32, bool)>,
}

async fn pair(room: &str) -> anyhow::Result<Pair> {
    let sfu = sfu();
    let (ana, _) = Client::join(&sfu, room, member("Ana", true, true)).await?;
    let (mut ben, _) = Client::join(&sfu, room, member("Ben", true, false)).await?;
    ben.offer_receive_only().await?;
    let published = ana.publish_video("ana-camera").await?;
    let stop = CancellationToken::new();
    let (keys_tx, key_requests) = mpsc::unbounded_channel();
    tokio::spawn(run_publisher(published, stop.clone(), keys_tx));
    let track = tokio::time::timeout(WAIT, ben.tracks.recv())
        .await
        .map_err(|_| anyhow::anyhow!("no track reached Ben"))?
        .expect("a track");
    let (tx, frames) = mpsc::unbounded_channel();
    tokio::spawn(receive(track.clone(), tx));
    Ok(Pair { sfu, ana, ben, stop, key_requests, track, frames })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_publisher_three_subscribers_get_every_frame_intact_and_in_order() -> anyhow::Result<()>
{
    let sfu = sfu();
    let (ana, welcome) = Client::join(&sfu, "room-1", member("Ana", true, true)).await?;
    assert!(matches!(welcome, ServerMsg::Welcome { .. }), "{welcome:?}");
    let mut subs = Vec::new();
    for name in ["Ben", "Cleo"] {
        let (c, _) = Client::join(&sfu, "room-1", member(name, true, false)).await?;
        c.offer_receive_only().await?;
        subs.push(c);
    }
    let track = ana.publish_video("ana-camera").await?;
    let stop = CancellationToken::new();
    let (keys_tx, mut key_requests) = mpsc::unbounded_channel();
    tokio::spawn(run_publisher(track, stop.clone(), keys_tx));

    let mut streams = Vec::new();
    for c in &mut subs {
        streams.push(receiving(c).await?);
    }
    for rx in &mut streams {
        frames_in_order(rx, 100).await?;
    }

    // A late joiner: its subscription asks the publisher for a keyframe, which starts its stream.
    let (mut dan, _) = Client::join(&sfu, "room-1", member("Dan", true, false)).await?;
    dan.offer_receive_only().await?;
    while key_requests.try_recv().is_ok() {}
    let mut dan_rx = receiving(&mut dan).await?;
    let connected = dan.state_at(&[RTCPeerConnectionState::Connected]).expect("connected");
    let got = frames_in_order(&mut dan_rx, 50).await?;
    let request = key_requests.recv().await.expect("the publisher was asked for a keyframe");
    let first = got[0].0;
    assert!(request >= dan.joined_at, "the request came after the late joiner arrived");
    let waited = first.saturating_duration_since(connected);
    assert!(waited < Duration::from_millis(500), "keyframe {waited:?} after connecting");
    eprintln!("late joiner: keyframe {waited:?} after its connection was up");

    // The first three go on receiving, undisturbed.
    for rx in &mut streams {
        while rx.try_recv().is_ok() {}
        let more = tokio::time::timeout(WAIT, rx.recv()).await?.expect("frames");
        let next = tokio::time::timeout(WAIT, rx.recv()).await?.expect("frames");
        assert_eq!(next.1, more.1 + 1);
    }
    stop.cancel();
    assert!(sfu.stats().forwarded > 300);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_participant_is_closed_within_a_second() -> anyhow::Result<()> {
    let Pair { sfu, mut ana, mut ben, stop, frames: mut rx, key_requests: _keys, .. } =
        pair("room-2").await?;
    frames_in_order(&mut rx, 20).await?;

    assert_eq!(sfu.stats().connections, 2, "both connected before the removal");
    let removed_at = Instant::now();
    ana.send(ClientMsg::Remove { participant: ben.id.clone() });
    let reason = ben
        .expect(|m| match m {
            ServerMsg::Closed { reason } => Some(*reason),
            _ => None,
        })
        .await?;
    assert_eq!(reason, LeaveReason::Removed);
    // The server closes the removed participant's connection (it may already have).
    while sfu.stats().connections > 1 {
        assert!(removed_at.elapsed() < Duration::from_secs(1), "not closed within a second");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!(
        "removed participant's connection closed {:?} after the request",
        removed_at.elapsed()
    );
    // Nothing more reaches them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    while rx.try_recv().is_ok() {}
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.try_recv().is_err(), "media still arrives after removal");
    let left = ana
        .expect(|m| match m {
            ServerMsg::Left { participant, reason } => Some((participant.clone(), *reason)),
            _ => None,
        })
        .await?;
    assert_eq!(left, (ben.id.clone(), LeaveReason::Removed));
    stop.cancel();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_publish_until_a_moderator_lets_them() -> anyhow::Result<()> {
    let sfu = sfu();
    let (mut mod_, _) = Client::join(&sfu, "room-3", member("Mo", true, true)).await?;
    let (mut viewer, _) = Client::join(&sfu, "room-3", member("Vi", false, false)).await?;
    viewer.send(ClientMsg::Publish { track_id: "vi-camera".into(), source: Source::Camera });
    let code = viewer
        .expect(|m| match m {
            ServerMsg::Error { code, .. } => Some(code.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(code, "listen_only");
    // An offer that sends media is refused before it reaches the connection.
    let _ = viewer.publish_video("vi-camera").await?;
    let code = viewer
        .expect(|m| match m {
            ServerMsg::Error { code, .. } => Some(code.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(code, "listen_only");
    assert!(viewer.pc.remote_description().await.is_none(), "the offer was not answered");

    // The moderator lets them speak: now the same announcement is accepted.
    mod_.send(ClientMsg::AllowPublish { participant: viewer.id.clone(), allowed: true });
    let can = mod_
        .expect(|m| match m {
            ServerMsg::Updated { participant } if participant.id == viewer.id => {
                Some(participant.can_publish)
            }
            _ => None,
        })
        .await?;
    assert!(can);
    viewer.send(ClientMsg::Publish { track_id: "vi-camera".into(), source: Source::Camera });
    let tracks = mod_
        .expect(|m| match m {
            ServerMsg::Updated { participant }
                if participant.id == viewer.id && !participant.tracks.is_empty() =>
            {
                Some(participant.tracks.clone())
            }
            _ => None,
        })
        .await?;
    assert_eq!(tracks[0].track_id, "vi-camera");
    Ok(())
}

async fn hands(c: &mut Client) -> anyhow::Result<Vec<hubring_protocol::room::ParticipantId>> {
    c.expect(|m| match m {
        ServerMsg::Hands { order } => Some(order.clone()),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rooms_state_follows_the_messages() -> anyhow::Result<()> {
    let sfu = sfu();
    let (mut ana, _) = Client::join(&sfu, "room-4", member("Ana", true, true)).await?;
    let (ben, _) = Client::join(&sfu, "room-4", member("Ben", true, false)).await?;
    let (cleo, _) = Client::join(&sfu, "room-4", member("Cleo", true, false)).await?;
    // Hands, in the order they went up.
    cleo.send(ClientMsg::Hand { raised: true });
    assert_eq!(hands(&mut ana).await?, vec![cleo.id.clone()]);
    ben.send(ClientMsg::Hand { raised: true });
    assert_eq!(hands(&mut ana).await?, vec![cleo.id.clone(), ben.id.clone()]);
    ana.send(ClientMsg::LowerHand { participant: cleo.id.clone() });
    assert_eq!(hands(&mut ana).await?, vec![ben.id.clone()]);
    // Only moderators lower others' hands.
    ben.send(ClientMsg::LowerHand { participant: ben.id.clone() });

    // Mutes: Ben announces a microphone, the moderator mutes it.
    ben.send(ClientMsg::Publish { track_id: "ben-mic".into(), source: Source::Microphone });
    ana.send(ClientMsg::MuteAll);
    let muted = ana
        .expect(|m| match m {
            ServerMsg::Updated { participant } if participant.id == ben.id => participant
                .tracks
                .iter()
                .find(|t| t.source == Source::Microphone)
                .map(|t| t.muted)
                .filter(|m| *m),
            _ => None,
        })
        .await?;
    assert!(muted);

    // Breakouts: two rooms, at random; everyone but the moderator is placed; closing brings
    // everyone back.
    ana.send(ClientMsg::OpenBreakouts {
        plan: BreakoutPlan::Random { rooms: 2 },
        minutes: Some(10),
    });
    let opened = ana
        .expect(|m| match m {
            ServerMsg::BreakoutsChanged { breakouts } => Some(breakouts.clone()),
            _ => None,
        })
        .await?
        .expect("open");
    assert_eq!(opened.rooms.len(), 2);
    assert!(opened.ends_at.is_some());
    let mut placed = Vec::new();
    while placed.len() < 3 {
        let p = ana
            .expect(|m| match m {
                ServerMsg::Updated { participant } => Some(participant.clone()),
                _ => None,
            })
            .await?;
        placed.push(p);
    }
    let room_of = |id| placed.iter().find(|p| &p.id == id).and_then(|p| p.breakout);
    assert_eq!(room_of(&ana.id), None, "the moderator stays in the main room");
    let mut rooms = vec![room_of(&ben.id).expect("placed"), room_of(&cleo.id).expect("placed")];
    rooms.sort();
    assert_eq!(rooms, vec![0, 1], "two people in two rooms: one each");
    ana.send(ClientMsg::CloseBreakouts);
    let closed = ana
        .expect(|m| match m {
            ServerMsg::BreakoutsChanged { breakouts } => Some(breakouts.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(closed, None);

    // Lock: a newcomer waits in the lobby until admitted.
    ana.send(ClientMsg::Lock { locked: true });
    let (dan, first) = Client::join(&sfu, "room-4", member("Dan", true, false)).await?;
    assert_eq!(first, ServerMsg::Lobby);
    let lobby = ana
        .expect(|m| match m {
            ServerMsg::LobbyChanged { lobby } if !lobby.is_empty() => Some(lobby.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(lobby[0].id, dan.id);
    ana.send(ClientMsg::Admit { participant: dan.id.clone() });
    let joined = ana
        .expect(|m| match m {
            ServerMsg::Joined { participant } => Some(participant.id.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(joined, dan.id);
    ben.handle.leave();
    let left = ana
        .expect(|m| match m {
            ServerMsg::Left { participant, .. } => Some(participant.clone()),
            _ => None,
        })
        .await?;
    assert!(left.0.starts_with('p'));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribers_keyframe_request_reaches_the_publisher() -> anyhow::Result<()> {
    // The room and both people stay for the whole test: bound, not dropped.
    let Pair {
        sfu: _sfu,
        ana: _ana,
        ben: _ben,
        stop,
        mut key_requests,
        track: remote,
        frames: mut rx,
    } = pair("room-pli").await?;
    // 40 frames at 10 ms: past the 300 ms the SFU waits between two requests for one layer.
    frames_in_order(&mut rx, 40).await?;
    while key_requests.try_recv().is_ok() {}

    // Ben's decoder lost the picture: it asks the SFU, which asks Ana.
    let ssrc = remote.ssrcs().await.first().copied().expect("the track's SSRC");
    let asked = Instant::now();
    let pli = PictureLossIndication { sender_ssrc: 1, media_ssrc: ssrc };
    remote.write_rtcp(vec![Box::new(pli)]).await?;
    let relayed = tokio::time::timeout(WAIT, key_requests.recv()).await?.expect("a request");
    assert!(relayed >= asked);
    let key = loop {
        let (at, _, key) = tokio::time::timeout(WAIT, rx.recv()).await?.expect("frames");
        if key && at >= relayed {
            break at;
        }
    };
    eprintln!(
        "subscriber's PLI: relayed to the publisher in {:?}, keyframe back {:?} after asking",
        relayed - asked,
        key - asked
    );
    stop.cancel();
    Ok(())
}
