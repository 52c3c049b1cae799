//! A room client on the webrtc crate, for tests: it joins through the SFU's session API (what
//! the websocket carries), answers the server's offers, and publishes or receives RTP.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hubring_protocol::room::{Candidate, ClientMsg, ParticipantId, ServerMsg, Source};
use hubring_rtc::{JoinRequest, Member, Session, SessionHandle, Sfu};
use rtc::interceptor::{Attribute, Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_VP8;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::sansio::Protocol;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState, RTCSessionDescription, Registry, SettingEngineBuilder,
    register_default_interceptors,
};

pub const WAIT: Duration = Duration::from_secs(10);

pub fn member(name: &str, may_publish: bool, moderator: bool) -> Member {
    Member { user_id: None, name: name.into(), may_publish, moderator }
}

/// Marks keyframe requests for the application, as a browser's encoder would act on them.
struct PliTap(VecDeque<TaggedPacket>, VecDeque<TaggedPacket>);

impl Protocol<TaggedPacket, TaggedPacket, ()> for PliTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;
    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet
            && packets.iter().any(|p| p.as_any().is::<PictureLossIndication>())
        {
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.0.push_back(msg);
        Ok(())
    }
    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.0.pop_front()
    }
    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.1.push_back(msg);
        Ok(())
    }
    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.1.pop_front()
    }
}

impl Interceptor for PliTap {
    fn bind_local_stream(&mut self, _: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _: &StreamInfo) {}
}

struct Handler {
    handle: Arc<SessionHandle>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
    state: Arc<Mutex<Vec<(Instant, RTCPeerConnectionState)>>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            self.handle.send(ClientMsg::Candidate {
                candidate: Candidate {
                    candidate: init.candidate,
                    sdp_mid: None,
                    sdp_m_line_index: Some(0),
                    username_fragment: None,
                },
            });
        }
    }
    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.state.lock().unwrap().push((Instant::now(), state));
    }
}

/// One test participant.
pub struct Client {
    pub id: ParticipantId,
    pub handle: Arc<SessionHandle>,
    pub pc: Arc<dyn PeerConnection>,
    /// Messages other than signaling, in order.
    pub messages: mpsc::UnboundedReceiver<ServerMsg>,
    pub tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
    pub states: Arc<Mutex<Vec<(Instant, RTCPeerConnectionState)>>>,
    pub joined_at: Instant,
    /// Held while an offer of ours or the server's is being applied, so the two never
    /// interleave (a browser's signaling is single-threaded in the same way).
    negotiating: Arc<tokio::sync::Mutex<()>>,
}

impl Client {
    /// Joins and waits for the welcome (or the lobby).
    pub async fn join(
        sfu: &Sfu,
        room: &str,
        member: Member,
    ) -> anyhow::Result<(Client, ServerMsg)> {
        let joined_at = Instant::now();
        let session =
            sfu.join(JoinRequest { room: room.into(), doc_id: format!("room-doc-{room}"), member });
        Self::attach(session, joined_at).await
    }

    /// A client on a session opened elsewhere (the benchmark opens it on the server's runtime,
    /// so that the room runs there).
    pub async fn attach(
        session: Session,
        joined_at: Instant,
    ) -> anyhow::Result<(Client, ServerMsg)> {
        let Session { handle, mut inbox, .. } = session;
        let handle = Arc::new(handle);
        let first = tokio::time::timeout(WAIT, inbox.recv()).await?.context("closed")?;
        let mut engine = MediaEngine::default();
        engine.register_default_codecs()?;
        let registry = register_default_interceptors(Registry::new(), &mut engine)?;
        let registry = registry.with(Slot::from(14_000), PliTap(VecDeque::new(), VecDeque::new()));
        let (tracks_tx, tracks) = mpsc::unbounded_channel();
        let states = Arc::new(Mutex::new(Vec::new()));
        let handler = Handler { handle: handle.clone(), tracks: tracks_tx, state: states.clone() };
        let pc: Arc<dyn PeerConnection> = Arc::new(
            Box::pin(
                PeerConnectionBuilder::new()
                    .with_configuration(RTCConfigurationBuilder::new().build())
                    .with_media_engine(engine)
                    .with_interceptor_registry(registry)
                    .with_setting_engine(
                        SettingEngineBuilder::new().with_include_loopback_candidate(true).build(),
                    )
                    .with_handler(Arc::new(handler))
                    .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
                    .build(),
            )
            .await?,
        );
        let (messages_tx, messages) = mpsc::unbounded_channel();
        let negotiating = Arc::new(tokio::sync::Mutex::new(()));
        tokio::spawn(pump(inbox, pc.clone(), handle.clone(), messages_tx, negotiating.clone()));
        let id = handle.id().clone();
        let client = Client { id, handle, pc, messages, tracks, states, joined_at, negotiating };
        Ok((client, first))
    }

    pub fn send(&self, msg: ClientMsg) {
        self.handle.send(msg);
    }

    /// Publishes a VP8 video track and offers it.
    pub async fn publish_video(&self, track_id: &str) -> anyhow::Result<Arc<TrackLocalStaticRTP>> {
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "camera".into(),
            track_id.into(),
            track_id.into(),
            RtpCodecKind::Video,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(0x5eed),
                    ..Default::default()
                },
                codec: RTCRtpCodec {
                    mime_type: MIME_TYPE_VP8.into(),
                    clock_rate: 90000,
                    ..Default::default()
                },
                ..Default::default()
            }],
        )));
        self.pc.add_track(track.clone() as Arc<dyn TrackLocal>).await?;
        self.send(ClientMsg::Publish { track_id: track_id.into(), source: Source::Camera });
        self.offer().await?;
        Ok(track)
    }

    pub async fn offer(&self) -> anyhow::Result<()> {
        let _turn = self.negotiating.lock().await;
        let offer = self.pc.create_offer(None).await?;
        let sdp = offer.sdp.clone();
        self.pc.set_local_description(offer).await?;
        self.send(ClientMsg::Offer { sdp });
        Ok(())
    }

    /// Offers to receive only (a viewer's first connection).
    pub async fn offer_receive_only(&self) -> anyhow::Result<()> {
        self.pc
            .add_transceiver_from_kind(
                RtpCodecKind::Video,
                Some(rtc::rtp_transceiver::RTCRtpTransceiverInit {
                    direction: rtc::rtp_transceiver::RTCRtpTransceiverDirection::Recvonly,
                    ..Default::default()
                }),
            )
            .await?;
        self.offer().await
    }

    /// The next message that `pick` accepts, skipping others.
    pub async fn expect<T>(
        &mut self,
        mut pick: impl FnMut(&ServerMsg) -> Option<T>,
    ) -> anyhow::Result<T> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.messages.recv())
                .await
                .context("timed out waiting for a message")?
                .context("the session ended")?;
            if let Some(t) = pick(&msg) {
                return Ok(t);
            }
        }
    }

    /// Leaves the room and closes the connection.
    pub async fn leave(self) -> anyhow::Result<()> {
        self.handle.leave();
        self.pc.close().await?;
        Ok(())
    }

    pub fn state_at(&self, wanted: &[RTCPeerConnectionState]) -> Option<Instant> {
        self.states.lock().unwrap().iter().find(|(_, s)| wanted.contains(s)).map(|(t, _)| *t)
    }
}

/// Answers the server's signaling and passes everything else to the test.
async fn pump(
    mut inbox: mpsc::Receiver<ServerMsg>,
    pc: Arc<dyn PeerConnection>,
    handle: Arc<SessionHandle>,
    messages: mpsc::UnboundedSender<ServerMsg>,
    negotiating: Arc<tokio::sync::Mutex<()>>,
) {
    let mut early: Vec<RTCIceCandidateInit> = Vec::new();
    while let Some(msg) = inbox.recv().await {
        match msg {
            ServerMsg::Offer { sdp } => {
                let _turn = negotiating.lock().await;
                // Perfect negotiation, the polite side: on a collision, roll ours back, answer
                // the server's, then offer ours again.
                let collided = pc.pending_local_description().await.is_some();
                let result: anyhow::Result<()> = async {
                    if collided {
                        pc.set_local_description(RTCSessionDescription::rollback(None)?).await?;
                    }
                    pc.set_remote_description(RTCSessionDescription::offer(sdp)?).await?;
                    let answer = pc.create_answer(None).await?;
                    let sdp = answer.sdp.clone();
                    pc.set_local_description(answer).await?;
                    handle.send(ClientMsg::Answer { sdp });
                    if collided {
                        let offer = pc.create_offer(None).await?;
                        let sdp = offer.sdp.clone();
                        pc.set_local_description(offer).await?;
                        handle.send(ClientMsg::Offer { sdp });
                    }
                    Ok(())
                }
                .await;
                if let Err(err) = result {
                    let _ = messages
                        .send(ServerMsg::Error { code: "client".into(), message: err.to_string() });
                }
                for c in early.drain(..) {
                    let _ = pc.add_ice_candidate(c).await;
                }
            }
            ServerMsg::Answer { sdp } => {
                if let Ok(answer) = RTCSessionDescription::answer(sdp) {
                    let _ = pc.set_remote_description(answer).await;
                }
                for c in early.drain(..) {
                    let _ = pc.add_ice_candidate(c).await;
                }
            }
            ServerMsg::Candidate { candidate } => {
                let init = RTCIceCandidateInit {
                    candidate: candidate.candidate,
                    sdp_mid: candidate.sdp_mid,
                    sdp_mline_index: candidate.sdp_m_line_index,
                    ..Default::default()
                };
                if pc.remote_description().await.is_none() {
                    early.push(init);
                } else {
                    let _ = pc.add_ice_candidate(init).await;
                }
            }
            other => {
                let closed = matches!(other, ServerMsg::Closed { .. });
                let _ = messages.send(other);
                if closed {
                    let _ = pc.close().await;
                    break;
                }
            }
        }
    }
}

/// The payload of test frame `n`: a VP8 descriptor (start of partition 0), the key bit, the
/// number, and bytes derived from it, so a subscriber can check each one is intact.
pub fn frame(n: u32, key: bool) -> Vec<u8> {
    let mut payload = vec![0x10, if key { 0x00 } else { 0x01 }];
    payload.extend_from_slice(&n.to_be_bytes());
    payload.extend((0..200u32).map(|i| (n.wrapping_mul(31).wrapping_add(i) % 251) as u8));
    payload
}

/// Checks a received payload and returns its frame number and whether it was a keyframe.
pub fn check_frame(payload: &[u8]) -> anyhow::Result<(u32, bool)> {
    if payload.len() < 6 {
        bail!("short payload");
    }
    let n = u32::from_be_bytes([payload[2], payload[3], payload[4], payload[5]]);
    let key = payload[1] & 1 == 0;
    if payload != frame(n, key).as_slice() {
        bail!("frame {n} arrived altered");
    }
    Ok((n, key))
}

/// Sends a frame every 10 ms; a keyframe first and whenever the SFU asks for one. Returns the
/// times keyframe requests arrived.
pub async fn run_publisher(
    track: Arc<TrackLocalStaticRTP>,
    stop: CancellationToken,
    key_requests: mpsc::UnboundedSender<Instant>,
) {
    let mut n = 0u32;
    let mut seq = 1000u16;
    let mut every = tokio::time::interval(Duration::from_millis(10));
    let mut want_key = true;
    let poller = track.clone();
    let (pli_tx, mut pli_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = poller.poll().await {
            if let TrackLocalEvent::OnRtcpPacket(packets) = event
                && packets.iter().any(|p| p.as_any().is::<PictureLossIndication>())
            {
                let _ = pli_tx.send(Instant::now());
            }
        }
    });
    while !stop.is_cancelled() {
        every.tick().await;
        while let Ok(at) = pli_rx.try_recv() {
            want_key = true;
            let _ = key_requests.send(at);
        }
        let mut packet = rtp::Packet::default();
        packet.header.version = 2;
        packet.header.payload_type = 96;
        packet.header.sequence_number = seq;
        packet.header.timestamp = n.wrapping_mul(900);
        packet.header.ssrc = 0x5eed;
        packet.header.marker = true;
        packet.payload = frame(n, want_key).into();
        want_key = false;
        if track.write_rtp(packet).await.is_ok() {
            n += 1;
            seq = seq.wrapping_add(1);
        }
    }
}

/// Reads a received track, checking each frame, until `stop`; returns (arrival, frame, key).
pub async fn receive(
    track: Arc<dyn TrackRemote>,
    out: mpsc::UnboundedSender<(Instant, u32, bool)>,
) {
    while let Some(event) = track.poll().await {
        if let TrackRemoteEvent::OnRtpPacket(packet) = event {
            match check_frame(&packet.payload) {
                Ok((n, key)) => {
                    let _ = out.send((Instant::now(), n, key));
                }
                Err(err) => panic!("{err}"),
            }
        }
    }
}
