// One person in one video room: the signaling socket (/ws/room/{id}, JSON typed from
// crates/protocol through the OpenAPI document) and the one RTCPeerConnection that publishes and
// receives. Negotiation follows the W3C "perfect negotiation" pattern with this side polite:
// the server never yields in a collision, so a client offer caught by a server offer is rolled
// back (setRemoteDescription does it) and offered again by `negotiationneeded`.
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

export class RoomConnection {
  private ws: WebSocket;
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
  };

  constructor(
    roomId: string,
    private readonly media: MediaStream | null,
    name?: string,
  ) {
    this.ws = new WebSocket(roomSocketUrl(roomId));
    this.ws.onopen = () => this.send({ type: "join", name: name ?? null });
    this.ws.onmessage = (e) => {
      void this.receive(JSON.parse(String(e.data)) as ServerMsg);
    };
    this.ws.onclose = () =>
      this.set({ status: "closed", closedReason: this.view.closedReason ?? "left" });
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
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
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
        break;
      }
      case "answer":
        if (this.pc?.signalingState === "have-local-offer") {
          await this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
          await this.flushCandidates();
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
        this.set({ error: `${msg.code}: ${msg.message}` });
        break;
    }
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
    pc.onnegotiationneeded = async () => {
      await pc.setLocalDescription();
      this.send({ type: "offer", sdp: pc.localDescription?.sdp ?? "" });
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
    if (this.media && me?.can_publish) this.publish(this.media);
  }

  /** Starts sending the microphone and camera of `stream`. */
  private publish(stream: MediaStream): void {
    const pc = this.pc;
    if (!pc) return;
    this.set({ localStream: stream });
    for (const track of stream.getTracks()) {
      const source: Source = track.kind === "audio" ? "microphone" : "camera";
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
    for (const track of this.tracks.values()) track.stop();
    this.pc?.close();
    this.pc = null;
    if (this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
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
