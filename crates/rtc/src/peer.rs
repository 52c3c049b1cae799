//! One participant's peer connection: built on the webrtc crate, negotiated in both
//! directions by one task so offers and answers never interleave.
//!
//! The client offers when it publishes; the server offers when what the client receives
//! changes. In a collision the server keeps its own offer and ignores the client's (the
//! client, the "polite" peer, rolls back and offers again once the server's is answered).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use hubring_protocol::room::{Candidate, ParticipantId, ServerMsg};
use rtc::interceptor::{Attribute, Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8, MediaEngine,
};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use rtc::sansio::Protocol;
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceCandidateType, RTCPeerConnectionIceEvent, RTCPeerConnectionState,
    RTCSessionDescription, Registry, SettingEngineBuilder, configure_nack, configure_rtcp_reports,
    configure_simulcast_extension_headers, configure_twcc_receiver_only,
};
use webrtc::rtp_transceiver::RtpSender;

use crate::config::{PortCursor, RtcConfig};
use crate::forward::{DownTrack, Forwarder, Link};
use crate::outbound::Outbound;

/// What a participant's connection tells its room.
pub(crate) enum PeerEvent {
    /// A track of the participant's started arriving.
    Track { participant: ParticipantId, track: Arc<dyn TrackRemote> },
    /// The connection failed or closed.
    Down { participant: ParticipantId },
}

/// What the room asks of a participant's connection.
pub(crate) enum PeerCmd {
    Offer(String),
    Answer(String),
    Candidate(Candidate),
    Subscribe(Arc<DownTrack>, Arc<Forwarder>),
    Unsubscribe(Arc<DownTrack>),
    Close,
}

impl std::fmt::Debug for PeerCmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Offer(_) => "Offer",
            Self::Answer(_) => "Answer",
            Self::Candidate(_) => "Candidate",
            Self::Subscribe(..) => "Subscribe",
            Self::Unsubscribe(_) => "Unsubscribe",
            Self::Close => "Close",
        })
    }
}

/// The codecs the SFU forwards: Opus; VP8, which every browser decodes, and H.264 for
/// publishers that prefer it. Without RTX: retransmissions use the original SSRC, so the
/// forwarder needs no RTX unwrapping.
fn media_engine() -> Result<MediaEngine, rtc::shared::error::Error> {
    let mut engine = MediaEngine::default();
    engine.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: MIME_TYPE_OPUS.to_owned(),
                clock_rate: 48000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                rtcp_feedback: vec![],
            },
            payload_type: 111,
        },
        RtpCodecKind::Audio,
    )?;
    let feedback = vec![
        RTCPFeedback { typ: "ccm".to_owned(), parameter: "fir".to_owned() },
        RTCPFeedback { typ: "nack".to_owned(), parameter: String::new() },
        RTCPFeedback { typ: "nack".to_owned(), parameter: "pli".to_owned() },
    ];
    for (mime, fmtp, pt) in [
        (MIME_TYPE_VP8, "", 96),
        (
            MIME_TYPE_H264,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
            102,
        ),
    ] {
        engine.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: RTCRtpCodec {
                    mime_type: mime.to_owned(),
                    clock_rate: 90000,
                    channels: 0,
                    sdp_fmtp_line: fmtp.to_owned(),
                    rtcp_feedback: feedback.clone(),
                },
                payload_type: pt,
            },
            RtpCodecKind::Video,
        )?;
    }
    engine.register_header_extension(
        RTCRtpHeaderExtensionCapability { uri: AUDIO_LEVEL_URI.to_owned() },
        RtpCodecKind::Audio,
        None,
    )?;
    Ok(engine)
}

pub(crate) const AUDIO_LEVEL_URI: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

/// The id the offer gave the audio level extension (`a=extmap:<id> …ssrc-audio-level`).
pub(crate) fn audio_level_id(sdp: &str) -> Option<u8> {
    sdp.lines().find_map(|line| {
        let rest = line.strip_prefix("a=extmap:")?;
        let (id, uri) = rest.split_once(' ')?;
        let id = id.split('/').next()?;
        (uri.trim() == AUDIO_LEVEL_URI).then(|| id.parse().ok()).flatten()
    })
}

/// Whether an offer sends media (a transceiver `sendonly` or `sendrecv` that is not rejected).
pub(crate) fn offer_sends_media(sdp: &str) -> bool {
    let mut in_media = false;
    let mut rejected = false;
    for line in sdp.lines() {
        if let Some(m) = line.strip_prefix("m=") {
            in_media = !m.starts_with("application");
            rejected = m.split(' ').nth(1) == Some("0");
        } else if in_media && !rejected && (line == "a=sendonly" || line == "a=sendrecv") {
            return true;
        }
    }
    false
}

/// Marks the RTCP a subscriber sends about what it receives (keyframe requests and receiver
/// reports) for the application, which relays keyframe requests to the publisher and feeds the
/// reports to the bandwidth estimate. Everything else passes as it came.
struct FeedbackTap {
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for FeedbackTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let wanted = packets.iter().any(|p| {
                let any = p.as_any();
                any.is::<PictureLossIndication>()
                    || any.is::<FullIntraRequest>()
                    || any.is::<ReceiverReport>()
            });
            if wanted {
                msg.message.add(Attribute::DeliverToApplication);
            }
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write.pop_front()
    }
}

impl Interceptor for FeedbackTap {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

struct Handler {
    participant: ParticipantId,
    out: Outbound,
    events: mpsc::UnboundedSender<PeerEvent>,
    link: Arc<Link>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(init) => self.out.send(ServerMsg::Candidate {
                candidate: Candidate {
                    candidate: init.candidate,
                    sdp_mid: None,
                    sdp_m_line_index: Some(0),
                    username_fragment: None,
                },
            }),
            Err(err) => tracing::debug!(%err, "local candidate not serialisable"),
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(participant = %self.participant, %state, "peer connection state");
        self.link.set_connected(state == RTCPeerConnectionState::Connected);
        if matches!(state, RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed) {
            let _ = self.events.send(PeerEvent::Down { participant: self.participant.clone() });
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.events.send(PeerEvent::Track { participant: self.participant.clone(), track });
    }
}

/// Builds a participant's connection on a port of the configured range.
pub(crate) async fn connect(
    config: &RtcConfig,
    ports: &PortCursor,
    participant: ParticipantId,
    out: Outbound,
    events: mpsc::UnboundedSender<PeerEvent>,
    link: Arc<Link>,
) -> Result<Arc<dyn PeerConnection>, String> {
    let mut last_err = String::from("no port");
    for port in ports.candidates(config.udp_ports) {
        let mut engine = media_engine().map_err(|e| e.to_string())?;
        let registry = configure_nack(Registry::new(), &mut engine);
        let registry = configure_rtcp_reports(registry);
        configure_simulcast_extension_headers(&mut engine).map_err(|e| e.to_string())?;
        // Transport-wide congestion control feedback to each publisher: a browser's bandwidth
        // estimate grows on it (delay-based). Without it the estimate rests on loss reports
        // alone and stays near its 300 kbit/s start, so a camera's full layer was never sent
        // and every large tile showed the half layer, upscaled.
        let registry =
            configure_twcc_receiver_only(registry, &mut engine).map_err(|e| e.to_string())?;
        let registry = registry.with(
            Slot::from(14_000),
            FeedbackTap { read: VecDeque::new(), write: VecDeque::new() },
        );
        let mut settings = SettingEngineBuilder::new();
        if config.bind_ip.is_loopback() {
            settings = settings.with_include_loopback_candidate(true);
        }
        if let Some(public) = config.public_ip {
            settings =
                settings.with_nat_1to1_ips(vec![public.to_string()], RTCIceCandidateType::Host);
        }
        let handler = Handler {
            participant: participant.clone(),
            out: out.clone(),
            events: events.clone(),
            link: link.clone(),
        };
        let addr = SocketAddr::new(config.bind_ip, port);
        let built = Box::pin(
            PeerConnectionBuilder::new()
                .with_configuration(RTCConfigurationBuilder::new().build())
                .with_media_engine(engine)
                .with_interceptor_registry(registry)
                .with_setting_engine(settings.build())
                .with_handler(Arc::new(handler))
                .with_udp_addrs(vec![addr])
                .build(),
        )
        .await;
        match built {
            Ok(pc) => return Ok(Arc::new(pc)),
            Err(err) => {
                last_err = err.to_string();
                tracing::debug!(%addr, %err, "media port unavailable");
            }
        }
    }
    Err(last_err)
}

/// The negotiation task of one participant's connection.
pub(crate) struct Negotiator {
    pub(crate) pc: Arc<dyn PeerConnection>,
    pub(crate) participant: ParticipantId,
    pub(crate) out: Outbound,
    tracker: TaskTracker,
    /// Server-sent tracks, by the down track they carry.
    senders: HashMap<usize, (Arc<dyn RtpSender>, Arc<DownTrack>)>,
    /// Candidates that came before the remote description.
    early_candidates: Vec<RTCIceCandidateInit>,
    /// The server's offer is out and not yet answered.
    offering: bool,
    /// An offer of the client's has been answered: ours may follow (see `renegotiate`).
    client_offered: bool,
    /// Something changed while an offer was out: offer again after it.
    again: bool,
    /// The audio level extension's id, learned from the client's offers (0: none yet); the
    /// forwarder of the participant's microphone reads it.
    audio_level_id: Arc<AtomicU8>,
}

fn key(down: &Arc<DownTrack>) -> usize {
    Arc::as_ptr(down) as usize
}

impl Negotiator {
    pub(crate) fn new(
        pc: Arc<dyn PeerConnection>,
        participant: ParticipantId,
        out: Outbound,
        audio_level_id: Arc<AtomicU8>,
        tracker: TaskTracker,
    ) -> Self {
        Self {
            pc,
            participant,
            out,
            tracker,
            senders: HashMap::new(),
            early_candidates: Vec::new(),
            offering: false,
            client_offered: false,
            again: false,
            audio_level_id,
        }
    }

    fn refuse(&self, code: &str, message: impl Into<String>) {
        self.out.send(ServerMsg::Error { code: code.into(), message: message.into() });
    }

    /// Handles one command; `Ok(false)` ends the task.
    pub(crate) async fn handle(&mut self, cmd: PeerCmd) -> bool {
        match cmd {
            PeerCmd::Offer(sdp) => self.remote_offer(sdp).await,
            PeerCmd::Answer(sdp) => self.remote_answer(sdp).await,
            PeerCmd::Candidate(c) => {
                let init = RTCIceCandidateInit {
                    candidate: c.candidate,
                    sdp_mid: c.sdp_mid,
                    sdp_mline_index: c.sdp_m_line_index,
                    username_fragment: c.username_fragment,
                    url: None,
                };
                if self.pc.remote_description().await.is_none() {
                    self.early_candidates.push(init);
                } else if let Err(err) = self.pc.add_ice_candidate(init).await {
                    tracing::debug!(%err, participant = %self.participant, "candidate refused");
                }
            }
            PeerCmd::Subscribe(down, forwarder) => {
                // A transceiver of its own: `add_track` would reuse one the client offered to
                // send on, which the client then cannot receive on.
                let init = RTCRtpTransceiverInit {
                    direction: RTCRtpTransceiverDirection::Sendonly,
                    ..Default::default()
                };
                let added = self
                    .pc
                    .add_transceiver_from_track(
                        down.local.clone() as Arc<dyn TrackLocal>,
                        Some(init),
                    )
                    .await;
                let sender = match added {
                    Ok(transceiver) => transceiver.sender().await.ok().flatten().ok_or_else(|| {
                        webrtc::error::Error::Other("a new transceiver has no sender".into())
                    }),
                    Err(err) => Err(err),
                };
                match sender {
                    Ok(sender) => {
                        self.tracker.spawn(feedback_loop(down.clone(), forwarder));
                        self.senders.insert(key(&down), (sender, down));
                        self.renegotiate().await;
                    }
                    Err(err) => tracing::warn!(%err, "adding a subscription failed"),
                }
            }
            PeerCmd::Unsubscribe(down) => {
                if let Some((sender, _)) = self.senders.remove(&key(&down)) {
                    if let Err(err) = self.pc.remove_track(&sender).await {
                        tracing::debug!(%err, "removing a subscription failed");
                    }
                    self.renegotiate().await;
                }
            }
            PeerCmd::Close => {
                let _ = self.pc.close().await;
                return false;
            }
        }
        true
    }

    async fn remote_offer(&mut self, sdp: String) {
        if self.offering {
            // Collision: ours stands; the client rolls back and offers again after answering.
            tracing::debug!(participant = %self.participant, "client offer ignored during ours");
            return;
        }
        if let Some(id) = audio_level_id(&sdp) {
            self.audio_level_id.store(id, Ordering::Relaxed);
        }
        let offer = match RTCSessionDescription::offer(sdp) {
            Ok(offer) => offer,
            Err(err) => return self.refuse("bad_sdp", err.to_string()),
        };
        if let Err(err) = self.pc.set_remote_description(offer).await {
            return self.refuse("bad_sdp", err.to_string());
        }
        self.add_early_candidates().await;
        let answer = match self.pc.create_answer(None).await {
            Ok(answer) => answer,
            Err(err) => return self.refuse("negotiation", err.to_string()),
        };
        let sdp = answer.sdp.clone();
        if let Err(err) = self.pc.set_local_description(answer).await {
            return self.refuse("negotiation", err.to_string());
        }
        self.out.send(ServerMsg::Answer { sdp });
        self.client_offered = true;
        self.negotiated().await;
    }

    async fn remote_answer(&mut self, sdp: String) {
        if !self.offering {
            return self.refuse("unexpected_answer", "there is no offer to answer");
        }
        let answer = match RTCSessionDescription::answer(sdp) {
            Ok(answer) => answer,
            Err(err) => return self.refuse("bad_sdp", err.to_string()),
        };
        self.offering = false;
        if let Err(err) = self.pc.set_remote_description(answer).await {
            self.refuse("bad_sdp", err.to_string());
        }
        self.add_early_candidates().await;
        self.negotiated().await;
    }

    async fn add_early_candidates(&mut self) {
        for init in std::mem::take(&mut self.early_candidates) {
            if let Err(err) = self.pc.add_ice_candidate(init).await {
                tracing::debug!(%err, "early candidate refused");
            }
        }
    }

    /// After a completed exchange: learn the payload types the subscriber's side chose, and
    /// offer again if something changed meanwhile.
    async fn negotiated(&mut self) {
        for (sender, down) in self.senders.values() {
            if let Ok(params) = sender.get_parameters().await {
                let mime = down.codec_mime();
                if let Some(codec) = params
                    .rtp_parameters
                    .codecs
                    .iter()
                    .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(mime))
                {
                    down.set_payload_type(codec.payload_type);
                }
            }
        }
        if self.again {
            self.again = false;
            self.renegotiate().await;
        }
    }

    async fn renegotiate(&mut self) {
        // A client offer is answered within one command, so only our own can be outstanding.
        // Nor do we offer before the client has: the client's first offer names the header
        // extension ids its browser uses (Chrome: mid 4, rid 10; Firefox: mid 3), and every
        // later offer of ours reuses them. An offer of ours first would number them in our
        // registration order (mid 2), and the browser's next offer would then bind id 2 to its
        // own abs-send-time in the same bundle, which Chrome refuses ("BUNDLE group contains a
        // codec collision for header extension id=2"): the second person into a room then saw
        // and was seen by no one. Clients always offer audio and video first, so both kinds
        // are negotiated by then.
        if self.offering || !self.client_offered {
            self.again = true;
            return;
        }
        let offer = match self.pc.create_offer(None).await {
            Ok(offer) => offer,
            Err(err) => {
                tracing::warn!(%err, participant = %self.participant, "creating an offer failed");
                return;
            }
        };
        let sdp = offer.sdp.clone();
        if let Err(err) = self.pc.set_local_description(offer).await {
            tracing::warn!(%err, participant = %self.participant, "setting our offer failed");
            return;
        }
        self.offering = true;
        self.out.send(ServerMsg::Offer { sdp });
    }
}

/// Reads a subscriber's feedback on one down track: keyframe requests go to the publisher,
/// receiver reports into the subscriber's bandwidth estimate. Ends with the track.
async fn feedback_loop(down: Arc<DownTrack>, forwarder: Arc<Forwarder>) {
    while let Some(event) = down.local.poll().await {
        let TrackLocalEvent::OnRtcpPacket(packets) = event else { continue };
        for packet in packets {
            let any = packet.as_any();
            if any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>() {
                down.keyframe_asked();
                if let Some(layer) = down.current_layer() {
                    forwarder.request_keyframe(layer).await;
                }
            } else if let Some(rr) = any.downcast_ref::<ReceiverReport>()
                && let Some(block) = rr.reports.first()
            {
                down.link().report_loss(block.fraction_lost);
            }
        }
    }
}
