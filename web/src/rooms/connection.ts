// One person in one video room: the signaling socket (/ws/room/{id}, JSON typed from
// crates/protocol through the OpenAPI document) and the one RTCPeerConnection that publishes and
// receives. Negotiation follows the W3C "perfect negotiation" pattern with this side polite:
// the server never yields in a collision, so a client offer caught by a server offer is rolled
// back (setRemoteDescription does it) and offered again by `negotiationneeded`. The client
// always offers first, audio and video (receive-only when it sends neither), so the header
// extension ids of the bundle are its browser's own (see `renegotiate` in crates/rtc/src/peer.rs).
// Messages are handled one at a time, in order. A negotiation that fails (a description refused,
// an exchange not stable within NEGOTIATION_TIMEOUT_MS, the connection failed) is shown on the
// page and the connection is made again from scratch, after a growing pause.
import type { Schemas } from "../api/client";

export type ClientMsg = Schemas["ClientMsg"];
export type ServerMsg = Schemas["ServerMsg"];
export type ParticipantInfo = Schemas["ParticipantInfo"];
export type ChatLine = Schemas["ChatLine"];
export type Source = Schemas["Source"];
export type LobbyEntry = Schemas["LobbyEntry"];
export type Breakouts = Schemas["Breakouts"];

export type RoomStatus = "connecting" | "lobby" | "in" | "closed";

export interface RoomView {
  status: RoomStatus;
  closedReason?: string;
  you?: string;
  participants: ParticipantInfo[];
  hands: string[];
  chat: ChatLine[];
  locked: boolean;
  lobby: LobbyEntry[];
  breakouts: Breakouts | null;
  activeSpeaker: string | null;
  /** Received media by stream id: the publisher's id (microphone and camera) or `id~screen`. */
  streams: Map<string, MediaStream>;
  /** What this person sends. */
  local: { microphone: boolean; camera: boolean; screen: boolean };
  localStream: MediaStream | null;
  screenStream: MediaStream | null;
  error: string | null;
  /** The media connection failed and is being made again: which attempt this is. */
  reconnecting: number | null;
}

type Listener = () => void;

/** Simulcast: a quarter, half and full resolution, as the SFU's layer names expect. */
const CAMERA_LAYERS: RTCRtpEncodingParameters[] = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", maxBitrate: 1_500_000 },
];

export function roomSocketUrl(roomId: string): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/room/${encodeURIComponent(roomId)}`;
}

/** How long an offer may wait for its answer before the connection is made again. */
const NEGOTIATION_TIMEOUT_MS = 15_000;
/** Pauses before each new attempt after a failure, the last repeated. */
const RETRY_PAUSES_MS = [500, 1_000, 2_000, 5_000, 10_000];

export class RoomConnection {
  private ws: WebSocket | null = null;
  /** Messages are handled in turn: an offer's answer is set before the next candidate. */
  private inbox: Promise<void> = Promise.resolve();
  private failures = 0;
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private left = false;
  private pc: RTCPeerConnection | null = null;
  private earlyCandidates: RTCIceCandidateInit[] = [];
  private senders = new Map<Source, RTCRtpSender>();
  private tracks = new Map<Source, MediaStreamTrack>();
  private listeners = new Set<Listener>();
  view: RoomView = {
    status: "connecting",
    participants: [],
    hands: [],
    chat: [],
    locked: false,
    lobby: [],
    breakouts: null,
    activeSpeaker: null,
    streams: new Map(),
    local: { microphone: false, camera: false, screen: false },
    localStream: null,
    screenStream: null,
    error: null,
    reconnecting: null,
  };

  constructor(
    private readonly roomId: string,
    private readonly media: MediaStream | null,
    private readonly name?: string,
  ) {
    this.open();
  }

  private open(): void {
    const ws = new WebSocket(roomSocketUrl(this.roomId));
    this.ws = ws;
    this.inbox = Promise.resolve();
    ws.onopen = () => this.send({ type: "join", name: this.name ?? null });
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as ServerMsg;
      this.inbox = this.inbox
        .then(() => (ws === this.ws ? this.receive(msg) : undefined))
        .catch((err: unknown) => this.failed(err));
    };
    ws.onclose = () => {
      if (ws !== this.ws) return;
      this.set({ status: "closed", closedReason: this.view.closedReason ?? "left" });
    };
  }

  /** A negotiation failed: say so, and make the connection again from scratch after a pause. */
  private failed(err: unknown): void {
    if (this.left || this.retryTimer) return;
    console.warn("room media connection failed; connecting again", err);
    this.failures += 1;
    this.set({ reconnecting: this.failures });
    this.teardown();
    const old = this.ws;
    this.ws = null;
    old?.close(1000);
    const pause = RETRY_PAUSES_MS[Math.min(this.failures, RETRY_PAUSES_MS.length) - 1];
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.left) this.open();
    }, pause);
  }

  /** Checks, a while after an offer, that the exchange it began has ended. */
  private watchNegotiation(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    const pc = this.pc;
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      if (pc && pc === this.pc && pc.signalingState !== "stable")
        this.failed(new Error(`signaling still ${pc.signalingState}`));
    }, NEGOTIATION_TIMEOUT_MS);
  }

  /** Lets go of the peer connection and what was sent on it (camera and microphone stay on). */
  private teardown(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
    this.pc?.close();
    this.pc = null;
    this.earlyCandidates = [];
    this.senders.clear();
    this.tracks.get("screen")?.stop();
    this.tracks.delete("screen");
    this.set({
      streams: new Map(),
      screenStream: null,
      local: { ...this.view.local, screen: false },
    });
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<RoomView>): void {
    this.view = { ...this.view, ...patch };
    for (const l of this.listeners) l();
  }

  send(msg: ClientMsg): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private upsert(p: ParticipantInfo): void {
    const known = this.view.participants.some((q) => q.id === p.id);
    this.set({
      participants: known
        ? this.view.participants.map((q) => (q.id === p.id ? p : q))
        : [...this.view.participants, p],
    });
  }

  private async receive(msg: ServerMsg): Promise<void> {
    switch (msg.type) {
      case "lobby":
        this.set({ status: "lobby" });
        break;
      case "welcome":
        this.set({
          status: "in",
          you: msg.you,
          participants: msg.room.participants,
          locked: msg.room.locked,
          lobby: msg.room.lobby,
          breakouts: msg.room.breakouts ?? null,
          activeSpeaker: msg.room.active_speaker ?? null,
          hands: msg.room.participants
            .filter((p) => p.hand_raised_at != null)
            .sort((a, b) => (a.hand_raised_at ?? 0) - (b.hand_raised_at ?? 0))
            .map((p) => p.id),
        });
        this.connect(msg.ice_servers);
        break;
      case "offer": {
        const pc = this.pc;
        if (!pc) return;
        // Polite: a collision rolls our own offer back (implicitly, in setRemoteDescription).
        await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
        await pc.setLocalDescription();
        this.send({ type: "answer", sdp: pc.localDescription?.sdp ?? "" });
        await this.flushCandidates();
        this.negotiated();
        break;
      }
      case "answer":
        if (this.pc?.signalingState === "have-local-offer") {
          await this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
          await this.flushCandidates();
          this.negotiated();
        }
        break;
      case "candidate": {
        const c: RTCIceCandidateInit = {
          candidate: msg.candidate.candidate,
          sdpMid: msg.candidate.sdpMid ?? undefined,
          sdpMLineIndex: msg.candidate.sdpMLineIndex ?? 0,
        };
        if (this.pc?.remoteDescription) await this.pc.addIceCandidate(c).catch(() => {});
        else this.earlyCandidates.push(c);
        break;
      }
      case "joined":
      case "updated":
        this.upsert(msg.participant);
        break;
      case "left": {
        const streams = new Map(this.view.streams);
        streams.delete(msg.participant);
        streams.delete(`${msg.participant}~screen`);
        this.set({
          participants: this.view.participants.filter((p) => p.id !== msg.participant),
          streams,
        });
        break;
      }
      case "active_speaker":
        this.set({ activeSpeaker: msg.participant ?? null });
        break;
      case "hands":
        this.set({ hands: msg.order });
        break;
      case "chat":
        this.set({ chat: mergeChat(this.view.chat, [msg.line]) });
        break;
      case "chat_history":
        this.set({ chat: mergeChat(msg.lines, this.view.chat) });
        break;
      case "locked":
        this.set({ locked: msg.locked });
        break;
      case "lobby_changed":
        this.set({ lobby: msg.lobby });
        break;
      case "breakouts_changed":
        this.set({ breakouts: msg.breakouts ?? null });
        break;
      case "muted_by":
        this.setMuted(msg.source, true, false);
        break;
      case "closed":
        this.set({ closedReason: msg.reason });
        this.leave();
        break;
      case "error":
        // The server could not take our description: start again rather than stay silent.
        if (msg.code === "bad_sdp" || msg.code === "negotiation") throw new Error(msg.message);
        this.set({ error: `${msg.code}: ${msg.message}` });
        break;
    }
  }

  /** An exchange completed: the connection works again, whatever failed before. */
  private negotiated(): void {
    if (this.pc?.signalingState !== "stable") return;
    if (this.view.reconnecting !== null) this.set({ reconnecting: null });
  }

  private async flushCandidates(): Promise<void> {
    for (const c of this.earlyCandidates.splice(0))
      await this.pc?.addIceCandidate(c).catch(() => {});
  }

  private connect(iceServers: Schemas["IceServer"][]): void {
    const pc = new RTCPeerConnection({
      iceServers: iceServers.map((s) => ({
        urls: s.urls,
        username: s.username ?? undefined,
        credential: s.credential ?? undefined,
      })),
    });
    this.pc = pc;
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate) return;
      const c = candidate.toJSON();
      this.send({
        type: "candidate",
        candidate: {
          candidate: c.candidate ?? "",
          sdpMid: c.sdpMid ?? null,
          sdpMLineIndex: c.sdpMLineIndex ?? null,
        },
      });
    };
    pc.onnegotiationneeded = () => {
      // In turn with the messages, so an offer is never made in the middle of answering one.
      this.inbox = this.inbox
        .then(async () => {
          if (pc !== this.pc || pc.signalingState !== "stable") return;
          await pc.setLocalDescription();
          this.send({ type: "offer", sdp: pc.localDescription?.sdp ?? "" });
          this.watchNegotiation();
        })
        .catch((err: unknown) => this.failed(err));
    };
    pc.onconnectionstatechange = () => {
      if (pc === this.pc && pc.connectionState === "failed")
        this.failed(new Error("the media connection failed"));
      if (pc === this.pc && pc.connectionState === "connected") this.failures = 0;
    };
    pc.ontrack = ({ streams, track }) => {
      const stream = streams[0];
      if (!stream) return;
      const next = new Map(this.view.streams);
      next.set(stream.id, stream);
      this.set({ streams: next });
      track.onunmute = () => this.set({ streams: new Map(this.view.streams) });
      stream.onremovetrack = () => {
        if (stream.getTracks().length > 0) return;
        const gone = new Map(this.view.streams);
        gone.delete(stream.id);
        this.set({ streams: gone });
      };
    };
    const me = this.view.participants.find((p) => p.id === this.view.you);
    const before = this.view.local;
    if (this.media && me?.can_publish) {
      this.publish(this.media);
      // Made again after a failure: what was muted stays muted.
      if (this.view.reconnecting !== null) {
        if (!before.microphone) this.setMuted("microphone", true);
        if (!before.camera) this.setMuted("camera", true);
      }
    }
    // The first offer is ours and holds audio and video, whatever we send.
    const kinds = new Set(pc.getTransceivers().map((t) => t.receiver.track.kind));
    for (const kind of ["audio", "video"])
      if (!kinds.has(kind)) pc.addTransceiver(kind, { direction: "recvonly" });
  }

  /** Starts sending the microphone and camera of `stream`. */
  private publish(stream: MediaStream): void {
    const pc = this.pc;
    if (!pc) return;
    this.set({ localStream: stream });
    for (const track of stream.getTracks()) {
      const source: Source = track.kind === "audio" ? "microphone" : "camera";
      // A face keeps its frame rate when the CPU or the network is short, and loses
      // resolution instead: a fluid picture at a lower definition reads better in a
      // conversation than a sharp one at a few frames a second.
      if (source === "camera") track.contentHint = "motion";
      this.send({ type: "publish", track_id: track.id, source });
      const transceiver = pc.addTransceiver(track, {
        direction: "sendonly",
        streams: [stream],
        sendEncodings: source === "camera" ? CAMERA_LAYERS : undefined,
      });
      this.senders.set(source, transceiver.sender);
      this.tracks.set(source, track);
    }
    this.set({
      local: {
        ...this.view.local,
        microphone: !!stream.getAudioTracks()[0],
        camera: !!stream.getVideoTracks()[0],
      },
    });
  }

  /** Mutes or unmutes one of this person's sources; `tell`: let the room know (false when the
   * room already knows, because a moderator did it). Muted, nothing is sent at all. */
  setMuted(source: Source, muted: boolean, tell = true): void {
    const sender = this.senders.get(source);
    const track = this.tracks.get(source);
    if (!sender || !track) return;
    void sender.replaceTrack(muted ? null : track);
    this.set({ local: { ...this.view.local, [source]: !muted } });
    if (tell) this.send({ type: "mute", source, muted });
  }

  async shareScreen(on: boolean): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    if (on) {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: true });
      const track = stream.getVideoTracks()[0];
      if (!track) return;
      // A shared screen is mostly text: it keeps its resolution and loses frames instead.
      track.contentHint = "detail";
      this.send({ type: "publish", track_id: track.id, source: "screen" });
      const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
      this.senders.set("screen", transceiver.sender);
      this.tracks.set("screen", track);
      track.onended = () => void this.shareScreen(false);
      this.set({ screenStream: stream, local: { ...this.view.local, screen: true } });
    } else {
      const sender = this.senders.get("screen");
      if (sender) pc.removeTrack(sender);
      this.tracks.get("screen")?.stop();
      this.senders.delete("screen");
      this.tracks.delete("screen");
      this.send({ type: "unpublish", source: "screen" });
      this.set({ screenStream: null, local: { ...this.view.local, screen: false } });
    }
  }

  /** Tells the server how large a received video is shown, so it picks the simulcast layer. */
  reportView(trackId: string, width: number, height: number): void {
    this.send({
      type: "view",
      track_id: trackId,
      width: Math.round(width),
      height: Math.round(height),
    });
  }

  /** The peer connection, for statistics. */
  peerConnection(): RTCPeerConnection | null {
    return this.pc;
  }

  leave(): void {
    this.left = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearTimeout(this.watchdog);
    for (const track of this.tracks.values()) track.stop();
    this.pc?.close();
    this.pc = null;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
  }
}

/** Lines from both lists, each once (the history and a live line may carry the same one), in the
 * order they were said. */
export function mergeChat(a: ChatLine[], b: ChatLine[]): ChatLine[] {
  const seen = new Set<string>();
  const merged: ChatLine[] = [];
  for (const line of [...a, ...b]) {
    if (!seen.has(line.id)) {
      seen.add(line.id);
      merged.push(line);
    }
  }
  return merged.sort((x, y) => x.at - y.at);
}
