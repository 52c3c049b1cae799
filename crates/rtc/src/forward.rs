//! Forwarding one published track to its subscribers.
//!
//! A [`Forwarder`] reads the publisher's track (every simulcast layer of it) and hands each
//! packet to the [`DownTrack`] of every subscriber. A down track forwards one layer: the one
//! its subscriber's tile needs and bandwidth allows. It starts, and switches layers, only at a
//! keyframe of the new layer, asking the publisher for one (throttled per layer) when it needs
//! to, and rewrites sequence numbers and timestamps so the subscriber sees one unbroken stream.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hubring_protocol::room::{ParticipantId, Source};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::TrackRemote;

use crate::layers::{LossEstimate, RateMeter, fit_layer, wanted_layer};
use crate::media::{VideoCodec, starts_keyframe, vp8_picture, vp8_renumber};

/// Most simulcast layers a track has.
pub(crate) const MAX_LAYERS: usize = 3;
/// At most one keyframe request per layer this often: a keyframe costs the publisher several
/// times a normal frame, and ten joiners at once must not ask ten times.
pub(crate) const KEYFRAME_EVERY: Duration = Duration::from_millis(300);
/// A layer with no packet for this long counts as stopped (browsers drop top layers when
/// their CPU or uplink cannot keep up).
const LAYER_IDLE: Duration = Duration::from_millis(1500);
/// How often a down track reconsiders its layer.
const REEVALUATE: Duration = Duration::from_millis(500);
/// RTP ticks between the last frame of the old layer and the first of the new (one frame at
/// 30 fps on a 90 kHz clock).
const SWITCH_TS_GAP: u32 = 3000;
/// Packets after a switch beyond which no packet from before it can still arrive (retransmits
/// come within a second; this is seconds of video at any layer).
const SWITCH_SETTLED: u16 = 1000;

/// What a subscriber's connection shares across its down tracks: the bandwidth estimate and
/// how many videos it shows, to split the estimate between them.
#[derive(Debug)]
pub(crate) struct Link {
    estimate: Mutex<LossEstimate>,
    shown_videos: AtomicU64,
    /// ICE and DTLS are up: packets written before this are dropped by the connection.
    connected: AtomicBool,
}

impl Link {
    pub(crate) fn new() -> Self {
        Self {
            estimate: Mutex::new(LossEstimate::new()),
            shown_videos: AtomicU64::new(0),
            connected: AtomicBool::new(false),
        }
    }

    pub(crate) fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Relaxed);
    }

    fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    pub(crate) fn report_loss(&self, fraction_lost: u8) {
        self.estimate.lock().expect("not poisoned").report(fraction_lost, Instant::now());
    }

    pub(crate) fn estimate_bps(&self) -> u64 {
        self.estimate.lock().expect("not poisoned").bps()
    }

    /// The share of the estimate one video gets.
    fn budget_bps(&self) -> u64 {
        self.estimate_bps() / self.shown_videos.load(Ordering::Relaxed).max(1)
    }
}

/// The publisher side of a track: its layers as they arrive.
#[derive(Debug, Default)]
pub(crate) struct Layers {
    ssrcs: [Option<u32>; MAX_LAYERS],
    rates: [RateMeter; MAX_LAYERS],
    last_seen: [Option<Instant>; MAX_LAYERS],
    last_keyframe_request: [Option<Instant>; MAX_LAYERS],
}

impl Layers {
    pub(crate) fn add_ssrc(&mut self, layer: u8, ssrc: u32) {
        self.ssrcs[usize::from(layer)] = Some(ssrc);
    }

    pub(crate) fn layer_of(&self, ssrc: u32) -> Option<u8> {
        self.ssrcs.iter().position(|s| *s == Some(ssrc)).map(|i| i as u8)
    }

    pub(crate) fn count(&self) -> u8 {
        self.ssrcs.iter().filter(|s| s.is_some()).count() as u8
    }

    fn seen(&mut self, layer: u8, bytes: usize, now: Instant) {
        let i = usize::from(layer);
        self.rates[i].add(bytes, now);
        self.last_seen[i] = Some(now);
    }

    fn active(&self, now: Instant) -> [bool; MAX_LAYERS] {
        std::array::from_fn(|i| {
            self.last_seen[i].is_some_and(|t| now.duration_since(t) < LAYER_IDLE)
        })
    }

    /// Whether a keyframe request for `layer` may go now (and records it if so).
    fn may_request_keyframe(&mut self, layer: u8, now: Instant) -> Option<u32> {
        let i = usize::from(layer);
        let ssrc = self.ssrcs[i]?;
        if self.last_keyframe_request[i].is_some_and(|t| now.duration_since(t) < KEYFRAME_EVERY) {
            return None;
        }
        self.last_keyframe_request[i] = Some(now);
        Some(ssrc)
    }
}

/// One subscriber's copy of a published track.
pub(crate) struct DownTrack {
    pub(crate) subscriber: ParticipantId,
    pub(crate) local: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    mime: String,
    link: Arc<Link>,
    state: Mutex<DownState>,
}

impl std::fmt::Debug for DownTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownTrack")
            .field("subscriber", &self.subscriber)
            .field("ssrc", &self.ssrc)
            .finish()
    }
}

#[derive(Debug, Default)]
struct DownState {
    /// The payload type the subscriber's connection negotiated for the codec.
    payload_type: Option<u8>,
    /// The tile's height in device pixels, as the client reported it; `None` until it does.
    tile_height: Option<u32>,
    /// The layer wanted now; `None` while the tile is hidden.
    target: Option<u8>,
    /// The layer forwarded now; `None` until the first keyframe.
    current: Option<u8>,
    evaluated: Option<Instant>,
    /// Input sequence number of the packet that started `current`: older packets of that layer
    /// (reordered) belong before the switch and are dropped. Forgotten once the stream is
    /// [`SWITCH_SETTLED`] packets past it, since sequence numbers wrap: a comparison kept for
    /// good would call every packet "older" for half of each 65,536-packet cycle.
    switched_at_seq: Option<u16>,
    seq_offset: u16,
    ts_offset: u32,
    last_seq: u16,
    last_ts: u32,
    /// VP8 picture numbering: what is added to each forwarded PictureID and TL0PICIDX, and the
    /// last ones sent (see [`crate::media::Vp8Picture`] for why).
    picture_delta: u16,
    tl0_delta: u8,
    last_picture: Option<u16>,
    last_tl0: Option<u8>,
    sent_any: bool,
    /// The subscriber's decoder asked for a keyframe (PLI/FIR).
    keyframe_asked: bool,
}

impl DownTrack {
    pub(crate) fn new(
        subscriber: ParticipantId,
        local: Arc<TrackLocalStaticRTP>,
        ssrc: u32,
        mime: String,
        link: Arc<Link>,
    ) -> Self {
        Self { subscriber, local, ssrc, mime, link, state: Mutex::new(DownState::default()) }
    }

    pub(crate) fn codec_mime(&self) -> &str {
        &self.mime
    }

    pub(crate) fn link(&self) -> &Link {
        &self.link
    }

    pub(crate) fn set_payload_type(&self, pt: u8) {
        self.state.lock().expect("not poisoned").payload_type = Some(pt);
    }

    /// The client reported the tile's size; 0 hides it (nothing is forwarded).
    pub(crate) fn set_view(&self, height: u32) {
        let mut st = self.state.lock().expect("not poisoned");
        let was_shown = st.tile_height.is_none_or(|h| h > 0);
        st.tile_height = Some(height);
        st.evaluated = None;
        let shown = height > 0;
        if was_shown != shown {
            if shown {
                self.link.shown_videos.fetch_add(1, Ordering::Relaxed);
            } else {
                self.link.shown_videos.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Counted as shown from the start (until the client says otherwise).
    pub(crate) fn count_video(&self) {
        self.link.shown_videos.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn uncount_video(&self) {
        let st = self.state.lock().expect("not poisoned");
        if st.tile_height.is_none_or(|h| h > 0) {
            self.link.shown_videos.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Forwarding resumes after a pause (unmuted): start again at a keyframe.
    pub(crate) fn restart(&self) {
        let mut st = self.state.lock().expect("not poisoned");
        st.current = None;
        st.evaluated = None;
    }

    pub(crate) fn keyframe_asked(&self) {
        self.state.lock().expect("not poisoned").keyframe_asked = true;
    }

    pub(crate) fn current_layer(&self) -> Option<u8> {
        self.state.lock().expect("not poisoned").current
    }

    /// Decides what to do with one packet of `layer`: the rewritten packet to send, if any, and
    /// a layer to ask a keyframe of.
    fn decide(
        &self,
        packet: &rtp::Packet,
        layer: u8,
        codec: Option<VideoCodec>,
        layers: &Layers,
        now: Instant,
    ) -> (Option<rtp::Packet>, Option<u8>) {
        let mut st = self.state.lock().expect("not poisoned");
        let Some(pt) = st.payload_type else { return (None, None) };
        if !self.link.is_connected() {
            // Whatever is sent before the connection is up is lost: start at a keyframe after.
            st.current = None;
            return (None, None);
        }
        let mut want_key = None;
        if let Some(codec) = codec {
            if st.evaluated.is_none_or(|t| now.duration_since(t) >= REEVALUATE) {
                st.evaluated = Some(now);
                st.target = self.choose(&st, layers, now);
            }
            let Some(target) = st.target else { return (None, None) };
            if st.keyframe_asked {
                st.keyframe_asked = false;
                want_key = st.current.or(Some(target));
            }
            if st.current != Some(target) {
                if layer == target && starts_keyframe(codec, &packet.payload) {
                    // Switch here: continue the subscriber's numbering from the last packet sent.
                    if st.sent_any {
                        st.seq_offset =
                            st.last_seq.wrapping_add(1).wrapping_sub(packet.header.sequence_number);
                        st.ts_offset = st
                            .last_ts
                            .wrapping_add(SWITCH_TS_GAP)
                            .wrapping_sub(packet.header.timestamp);
                        if codec == VideoCodec::Vp8 {
                            let picture = vp8_picture(&packet.payload);
                            let id = picture.and_then(|p| p.id).map(|(id, _)| id);
                            if let (Some(last), Some(id)) = (st.last_picture, id) {
                                st.picture_delta = last.wrapping_add(1).wrapping_sub(id);
                            }
                            if let (Some(last), Some(tl0)) =
                                (st.last_tl0, picture.and_then(|p| p.tl0))
                            {
                                st.tl0_delta = last.wrapping_add(1).wrapping_sub(tl0);
                            }
                        }
                    }
                    st.current = Some(target);
                    st.switched_at_seq = Some(packet.header.sequence_number);
                } else {
                    want_key = Some(target);
                }
            }
            if st.current != Some(layer) {
                return (None, want_key);
            }
            // A reordered packet from before the switch.
            if let Some(at) = st.switched_at_seq {
                let since = packet.header.sequence_number.wrapping_sub(at);
                if since > 0x8000 {
                    return (None, want_key);
                }
                if since >= SWITCH_SETTLED {
                    st.switched_at_seq = None;
                }
            }
        }
        let mut out = packet.clone();
        out.header.ssrc = self.ssrc;
        out.header.payload_type = pt;
        out.header.sequence_number = packet.header.sequence_number.wrapping_add(st.seq_offset);
        out.header.timestamp = packet.header.timestamp.wrapping_add(st.ts_offset);
        // The publisher's extensions carry its connection's ids; the subscriber's connection
        // negotiated its own.
        out.header.extension = false;
        out.header.extensions.clear();
        out.header.extensions_padding = 0;
        let newer = !st.sent_any || out.header.sequence_number.wrapping_sub(st.last_seq) < 0x8000;
        if codec == Some(VideoCodec::Vp8) {
            if st.picture_delta != 0 || st.tl0_delta != 0 {
                let mut payload = bytes::BytesMut::from(&packet.payload[..]);
                vp8_renumber(&mut payload, st.picture_delta, st.tl0_delta);
                out.payload = payload.freeze();
            }
            if newer && let Some(picture) = vp8_picture(&out.payload) {
                st.last_picture = picture.id.map(|(id, _)| id).or(st.last_picture);
                st.last_tl0 = picture.tl0.or(st.last_tl0);
            }
        }
        if newer {
            st.last_seq = out.header.sequence_number;
            st.last_ts = out.header.timestamp;
            st.sent_any = true;
        }
        (Some(out), want_key)
    }

    /// The layer for the tile and budget, among those the publisher is sending.
    fn choose(&self, st: &DownState, layers: &Layers, now: Instant) -> Option<u8> {
        let active = layers.active(now);
        let highest = active.iter().rposition(|a| *a)? as u8;
        // Until the client reports its tile, a middle layer: good enough to start with.
        let wanted = match st.tile_height {
            None => Some(highest.min(1)),
            Some(h) => wanted_layer(h, highest + 1),
        }?;
        let rates: Vec<u64> = layers.rates.iter().map(RateMeter::bps).collect();
        let fitted = fit_layer(wanted, &rates, self.link.budget_bps());
        // Skip down to a layer that is actually arriving; when none below is (the publisher
        // stopped sending the small ones), up to the nearest that is: a target nobody sends
        // would leave the subscriber with no picture at all.
        (0..=fitted)
            .rev()
            .find(|&l| active[usize::from(l)])
            .or_else(|| (fitted + 1..=highest).find(|&l| active[usize::from(l)]))
    }
}

/// One published track and everyone receiving it.
pub(crate) struct Forwarder {
    pub(crate) publisher: ParticipantId,
    pub(crate) source: Source,
    pub(crate) remote: Arc<dyn TrackRemote>,
    /// Tracks of the same source announced after `remote` (a layer that started late): a
    /// keyframe request goes through each, since the layer asked for may be carried by any.
    later: Mutex<Vec<Arc<dyn TrackRemote>>>,
    /// The codec, for keyframes; `None` for audio.
    pub(crate) video: Option<VideoCodec>,
    pub(crate) codec: rtc::rtp_transceiver::rtp_sender::RTCRtpCodec,
    pub(crate) layers: Mutex<Layers>,
    downs: Mutex<Arc<[Arc<DownTrack>]>>,
    /// Forwarding at all: off while the source is muted.
    on: AtomicBool,
    /// The SFU's count of packets forwarded.
    forwarded: Arc<AtomicU64>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("publisher", &self.publisher)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Forwarder {
    pub(crate) fn new(
        publisher: ParticipantId,
        source: Source,
        remote: Arc<dyn TrackRemote>,
        codec: rtc::rtp_transceiver::rtp_sender::RTCRtpCodec,
        on: bool,
        forwarded: Arc<AtomicU64>,
    ) -> Self {
        Self {
            publisher,
            source,
            remote,
            later: Mutex::new(Vec::new()),
            video: VideoCodec::from_mime(&codec.mime_type),
            codec,
            layers: Mutex::new(Layers::default()),
            downs: Mutex::new(Arc::from(Vec::new())),
            on: AtomicBool::new(on),
            forwarded,
        }
    }

    /// Another track of this source, read into this forwarder.
    pub(crate) fn add_later(&self, remote: Arc<dyn TrackRemote>) {
        self.later.lock().expect("not poisoned").push(remote);
    }

    pub(crate) fn downs(&self) -> Arc<[Arc<DownTrack>]> {
        self.downs.lock().expect("not poisoned").clone()
    }

    pub(crate) fn add(&self, down: Arc<DownTrack>) {
        let mut downs = self.downs.lock().expect("not poisoned");
        let mut next: Vec<Arc<DownTrack>> = downs.iter().cloned().collect();
        next.push(down);
        *downs = Arc::from(next);
    }

    pub(crate) fn remove(&self, subscriber: &ParticipantId) -> Option<Arc<DownTrack>> {
        let mut downs = self.downs.lock().expect("not poisoned");
        let gone = downs.iter().find(|d| &d.subscriber == subscriber).cloned();
        if gone.is_some() {
            let next: Vec<Arc<DownTrack>> =
                downs.iter().filter(|d| &d.subscriber != subscriber).cloned().collect();
            *downs = Arc::from(next);
        }
        gone
    }

    pub(crate) fn set_on(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }

    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Asks the publisher for a keyframe of `layer`, unless one was asked for just now.
    pub(crate) async fn request_keyframe(&self, layer: u8) {
        let ssrc =
            self.layers.lock().expect("not poisoned").may_request_keyframe(layer, Instant::now());
        if let Some(media_ssrc) = ssrc {
            let later: Vec<Arc<dyn TrackRemote>> = self.later.lock().expect("not poisoned").clone();
            for remote in std::iter::once(&self.remote).chain(later.iter()) {
                let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc };
                if let Err(err) = remote.write_rtcp(vec![Box::new(pli)]).await {
                    tracing::debug!(%err, "keyframe request not sent");
                }
            }
        }
    }

    /// Forwards one packet from the publisher to every subscriber.
    pub(crate) async fn forward(&self, packet: &rtp::Packet) {
        let now = Instant::now();
        let mut keyframe_for = [false; MAX_LAYERS];
        // Decided under one lock; written after it, since writing awaits the connection.
        let outs: Vec<(Arc<DownTrack>, rtp::Packet)> = {
            let mut layers = self.layers.lock().expect("not poisoned");
            let Some(layer) = layers.layer_of(packet.header.ssrc) else { return };
            layers.seen(layer, packet.payload.len(), now);
            if !self.is_on() {
                return;
            }
            self.downs()
                .iter()
                .filter_map(|down| {
                    let (out, want_key) = down.decide(packet, layer, self.video, &layers, now);
                    if let Some(l) = want_key {
                        keyframe_for[usize::from(l)] = true;
                    }
                    out.map(|out| (down.clone(), out))
                })
                .collect()
        };
        for (down, out) in outs {
            match down.local.write_rtp(out).await {
                Ok(()) => {
                    self.forwarded.fetch_add(1, Ordering::Relaxed);
                }
                Err(err) => {
                    // Not bound yet (negotiation still settling) or closing: start again at
                    // the next keyframe, so the subscriber never begins mid-picture.
                    tracing::trace!(%err, subscriber = %down.subscriber, "not forwarded");
                    down.restart();
                }
            }
        }
        for (l, wanted) in keyframe_for.iter().enumerate() {
            if *wanted {
                self.request_keyframe(l as u8).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::media_stream::MediaStreamTrack;
    use rtc::rtp_transceiver::rtp_sender::{
        RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
    };

    fn down() -> DownTrack {
        let track = MediaStreamTrack::new(
            "s".into(),
            "t".into(),
            "l".into(),
            RtpCodecKind::Video,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(99),
                    ..Default::default()
                },
                ..Default::default()
            }],
        );
        let d = DownTrack::new(
            ParticipantId("sub".into()),
            Arc::new(TrackLocalStaticRTP::new(track)),
            99,
            "video/VP8".into(),
            Arc::new(Link::new()),
        );
        d.link.set_connected(true);
        d.count_video();
        d.set_payload_type(96);
        d
    }

    fn packet(ssrc: u32, seq: u16, ts: u32, key: bool) -> rtp::Packet {
        let mut p = rtp::Packet::default();
        p.header.ssrc = ssrc;
        p.header.sequence_number = seq;
        p.header.timestamp = ts;
        p.header.payload_type = 120;
        p.payload =
            bytes::Bytes::from(if key { vec![0x10, 0x00, 0x9d] } else { vec![0x10, 0x01, 0x00] });
        p
    }

    fn layers(now: Instant) -> Layers {
        let mut l = Layers::default();
        for (i, ssrc) in [10, 11, 12].into_iter().enumerate() {
            l.add_ssrc(i as u8, ssrc);
            l.seen(i as u8, 100, now);
        }
        l
    }

    #[test]
    fn a_subscriber_starts_at_a_keyframe_and_switches_layers_seamlessly() {
        let t0 = Instant::now();
        let l = layers(t0);
        let d = down();
        let codec = Some(VideoCodec::Vp8);
        // No tile reported: the middle layer. A delta frame is held back and a keyframe asked.
        let (out, key) = d.decide(&packet(11, 500, 9000, false), 1, codec, &l, t0);
        assert!(out.is_none());
        assert_eq!(key, Some(1));
        // Other layers are not forwarded.
        assert!(d.decide(&packet(10, 70, 100, true), 0, codec, &l, t0).0.is_none());
        let (out, _) = d.decide(&packet(11, 501, 12000, true), 1, codec, &l, t0);
        let out = out.expect("the keyframe starts the stream");
        assert_eq!((out.header.ssrc, out.header.payload_type), (99, 96));
        assert_eq!((out.header.sequence_number, out.header.timestamp), (501, 12000));
        let (out, _) = d.decide(&packet(11, 502, 12000, false), 1, codec, &l, t0);
        assert_eq!(out.expect("same layer").header.sequence_number, 502);
        // The tile grows: the full layer is wanted from the next evaluation.
        d.set_view(720);
        let t1 = t0 + REEVALUATE;
        let (out, key) = d.decide(&packet(11, 503, 15000, false), 1, codec, &l, t1);
        assert_eq!(out.expect("the old layer flows until the switch").header.sequence_number, 503);
        assert_eq!(key, Some(2));
        let (out, _) = d.decide(&packet(12, 9000, 777_000, true), 2, codec, &l, t1);
        let out = out.expect("switched at the keyframe");
        assert_eq!(out.header.sequence_number, 504, "numbering continues");
        assert_eq!(out.header.timestamp, 15000 + SWITCH_TS_GAP);
        assert!(d.decide(&packet(11, 504, 18000, false), 1, codec, &l, t1).0.is_none());
        let (out, _) = d.decide(&packet(12, 9001, 780_000, false), 2, codec, &l, t1);
        assert_eq!(out.expect("new layer").header.sequence_number, 505);
        // A packet of the new layer from before the switch is dropped.
        assert!(d.decide(&packet(12, 8999, 774_000, false), 2, codec, &l, t1).0.is_none());
        // Hidden: nothing is forwarded.
        d.set_view(0);
        assert!(
            d.decide(&packet(12, 9002, 783_000, false), 2, codec, &l, t1 + REEVALUATE).0.is_none()
        );
    }

    /// A VP8 packet starting a frame, with a 15-bit PictureID and a TL0PICIDX, as Chromium sends.
    fn vp8(ssrc: u32, seq: u16, ts: u32, key: bool, picture: u16, tl0: u8) -> rtp::Packet {
        let mut p = packet(ssrc, seq, ts, key);
        let [hi, lo] = picture.to_be_bytes();
        p.payload = bytes::Bytes::from(vec![
            0x90,
            0xe0,
            0x80 | hi,
            lo,
            tl0,
            0x00,
            if key { 0x00 } else { 0x01 },
        ]);
        p
    }

    #[test]
    fn a_layer_switch_continues_the_vp8_picture_numbering() {
        let t0 = Instant::now();
        let l = layers(t0);
        let d = down();
        let codec = Some(VideoCodec::Vp8);
        let picture = |out: Option<rtp::Packet>| {
            let out = out.expect("forwarded");
            let p = vp8_picture(&out.payload).expect("a descriptor");
            (p.id.expect("a picture id").0, p.tl0.expect("a tl0picidx"))
        };
        // A VP8 frame of layer `layer` decided at `t`, and the numbers it was forwarded with.
        let forward = |(ssrc, seq, ts, key): (u32, u16, u32, bool), (id, tl0), layer, t| {
            picture(d.decide(&vp8(ssrc, seq, ts, key, id, tl0), layer, codec, &l, t).0)
        };
        // The middle layer numbers its pictures from 20000: forwarded as they are.
        assert_eq!(forward((11, 500, 9000, true), (20000, 7), 1, t0), (20000, 7));
        assert_eq!(forward((11, 501, 12000, false), (20001, 8), 1, t0), (20001, 8));
        // The full layer numbers from 300, far behind: after the switch the subscriber sees the
        // numbering go on from the last picture it had.
        d.set_view(720);
        let t1 = t0 + REEVALUATE;
        let _ = d.decide(&vp8(11, 502, 15000, false, 20002, 9), 1, codec, &l, t1);
        assert_eq!(forward((12, 40, 500_000, true), (300, 250), 2, t1), (20003, 10));
        assert_eq!(forward((12, 41, 503_000, false), (301, 251), 2, t1), (20004, 11));
        // Numbering wraps where the field does: 15 bits for the id, 8 for the tl0 index.
        let mut out = None;
        for (i, seq) in (42..).take(40_000).enumerate() {
            let i = i as u16;
            let raw = vp8(
                12,
                seq,
                506_000,
                false,
                302u16.wrapping_add(i) & 0x7fff,
                252u8.wrapping_add(i as u8),
            );
            out = d.decide(&raw, 2, codec, &l, t1).0;
        }
        let (id, tl0) = picture(out);
        assert_eq!(id, (20005 + 39_999) % 0x8000);
        assert_eq!(tl0, (12u32 + 39_999) as u8);
        // The other layer's packets are not forwarded and do not disturb the numbering.
        assert!(d.decide(&vp8(11, 503, 18000, false, 20003, 10), 1, codec, &l, t1).0.is_none());
    }

    #[test]
    fn a_small_tile_gets_the_nearest_layer_still_arriving() {
        let t0 = Instant::now();
        let mut l = layers(t0);
        let d = down();
        d.set_view(120);
        let st = d.state.lock().expect("not poisoned");
        assert_eq!(d.choose(&st, &l, t0), Some(0), "the small layer for a small tile");
        // The publisher stops sending the small layer: the next one up, never nothing.
        let t1 = t0 + LAYER_IDLE + Duration::from_millis(10);
        l.seen(1, 100, t1);
        l.seen(2, 100, t1);
        assert_eq!(d.choose(&st, &l, t1), Some(1));
        // Only the full layer is left.
        let t2 = t1 + LAYER_IDLE + Duration::from_millis(10);
        l.seen(2, 100, t2);
        assert_eq!(d.choose(&st, &l, t2), Some(2));
    }

    #[test]
    fn keyframe_requests_are_throttled_per_layer() {
        let t0 = Instant::now();
        let mut l = layers(t0);
        assert_eq!(l.may_request_keyframe(1, t0), Some(11));
        assert_eq!(l.may_request_keyframe(1, t0 + Duration::from_millis(100)), None);
        assert_eq!(l.may_request_keyframe(2, t0 + Duration::from_millis(100)), Some(12));
        assert_eq!(l.may_request_keyframe(1, t0 + KEYFRAME_EVERY), Some(11));
    }
}
