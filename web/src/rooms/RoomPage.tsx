// A video room: a device check before joining, then the grid (or the active speaker large),
// the controls, and a side panel with the participants (moderators' controls and the lobby),
// the chat, and the project's documents and boards.
import { useQuery } from "@tanstack/react-query";
import {
  lazy,
  type ReactNode,
  Suspense,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, call } from "../api/client";
import { ItemPage } from "../projects/ItemPage";
import { itemPath } from "../projects/paths";
import { sessionPath } from "../sessions/paths";
import { timeOfDay } from "../sessions/time";
import { Loading } from "../ui/Status";
import { type ParticipantInfo, RoomConnection, type RoomView } from "./connection";

/** The notes' editor, loaded (with BlockNote) only when a room has notes. */
const LiveDocument = lazy(() =>
  import("../documents/DocumentPage").then((m) => ({ default: m.LiveDocument })),
);

/** The room's shared notes, beside the meeting (a coaching room's are private to the two). */
interface Notes {
  id: string;
  editable: boolean;
}

export default function RoomPage() {
  return (
    <ItemPage kind="room" className="room">
      {({ projectId, item, editable }) => (
        <Room
          key={item.id}
          roomId={item.id}
          projectId={projectId}
          title={item.title}
          notes={item.notes_id ? { id: item.notes_id, editable } : null}
        />
      )}
    </ItemPage>
  );
}

function Room(props: { roomId: string; projectId: string; title: string; notes: Notes | null }) {
  const [media, setMedia] = useState<MediaStream | null | undefined>(undefined);
  const [conn, setConn] = useState<RoomConnection | null>(null);
  useEffect(() => {
    // The connection, for getStats() in the browser's console and the browser tests.
    (window as unknown as { __hubringRoom?: RoomConnection | null }).__hubringRoom = conn;
    return () => conn?.leave();
  }, [conn]);
  if (!conn) {
    return (
      <PreJoin
        title={props.title}
        expected={<Expected projectId={props.projectId} roomId={props.roomId} />}
        media={media}
        setMedia={setMedia}
        onJoin={() => setConn(new RoomConnection(props.roomId, media ?? null))}
      />
    );
  }
  return <InRoom conn={conn} projectId={props.projectId} title={props.title} notes={props.notes} />;
}

/** Camera and microphone check, with a device picker. */
function PreJoin(props: {
  expected: ReactNode;
  title: string;
  media: MediaStream | null | undefined;
  setMedia: (m: MediaStream | null) => void;
  onJoin: () => void;
}) {
  const { t } = useTranslation();
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [camera, setCamera] = useState("");
  const [mic, setMic] = useState("");
  const { setMedia } = props;
  // The preview's stream: stopped when another device replaces it (the last one is published).
  const previous = useRef<MediaStream | null>(null);
  useEffect(() => {
    let cancelled = false;
    const constraints: MediaStreamConstraints = {
      audio: mic === "none" ? false : mic ? { deviceId: { exact: mic } } : true,
      video:
        camera === "none"
          ? false
          : { width: 640, height: 360, ...(camera ? { deviceId: { exact: camera } } : {}) },
    };
    const wanted = constraints.audio || constraints.video;
    (wanted ? navigator.mediaDevices.getUserMedia(constraints) : Promise.resolve(null))
      .then(async (s) => {
        if (cancelled) {
          for (const track of s?.getTracks() ?? []) track.stop();
          return;
        }
        for (const track of previous.current?.getTracks() ?? []) track.stop();
        previous.current = s;
        setMedia(s);
        setDevices(await navigator.mediaDevices.enumerateDevices());
      })
      .catch(() => setMedia(null));
    return () => {
      cancelled = true;
    };
  }, [camera, mic, setMedia]);
  const cams = devices.filter((d) => d.kind === "videoinput");
  const mics = devices.filter((d) => d.kind === "audioinput");
  return (
    <section className="room-prejoin">
      <h1>{props.title}</h1>
      {props.expected}
      <p>{t("room.joinHint")}</p>
      <div className="room-preview">
        {props.media ? <Video stream={props.media} muted mirrored /> : null}
      </div>
      <DeviceSelect
        label={t("room.cameraDevice")}
        devices={cams}
        value={camera}
        onChange={setCamera}
      />
      <DeviceSelect
        label={t("room.microphoneDevice")}
        devices={mics}
        value={mic}
        onChange={setMic}
      />
      <button
        type="button"
        className="primary"
        data-testid="join"
        onClick={props.onJoin}
        disabled={props.media === undefined}
      >
        {t("room.join")}
      </button>
    </section>
  );
}

function DeviceSelect(props: {
  label: string;
  devices: MediaDeviceInfo[];
  value: string;
  onChange: (deviceId: string) => void;
}) {
  const { t } = useTranslation();
  return (
    <label>
      {props.label}
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {props.devices.map((d) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label || d.deviceId}
          </option>
        ))}
        <option value="none">{t("room.noDevice")}</option>
      </select>
    </label>
  );
}

function useRoom(conn: RoomConnection): RoomView {
  return useSyncExternalStore(
    (notify) => conn.subscribe(notify),
    () => conn.view,
  );
}

function Video(props: {
  stream: MediaStream;
  muted?: boolean;
  mirrored?: boolean;
  /** Kept playing (its sound) but not shown: the camera is off. */
  hidden?: boolean;
  onSize?: (w: number, h: number) => void;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  const { onSize } = props;
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== props.stream) ref.current.srcObject = props.stream;
  }, [props.stream]);
  useEffect(() => {
    const el = ref.current;
    if (!el || !onSize) return;
    const observer = new ResizeObserver(([entry]) => {
      const box = entry?.contentRect;
      if (box) onSize(box.width * devicePixelRatio, box.height * devicePixelRatio);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [onSize]);
  return (
    <video
      ref={ref}
      autoPlay
      playsInline
      muted={props.muted}
      hidden={props.hidden}
      className={props.mirrored ? "mirrored" : undefined}
    />
  );
}

type Panel = "notes" | "people" | "chat" | "work";
const PANEL_LABELS = {
  notes: "room.notes",
  people: "room.participants",
  chat: "room.chat",
  work: "room.work",
} as const;

function InRoom(props: {
  conn: RoomConnection;
  projectId: string;
  title: string;
  notes: Notes | null;
}) {
  const { conn } = props;
  const { t } = useTranslation();
  const view = useRoom(conn);
  const [layout, setLayout] = useState<"grid" | "speaker">("grid");
  // A room with notes (coaching) opens on them: they are what the two work on.
  const [panel, setPanel] = useState<Panel>(props.notes ? "notes" : "people");
  const panels: Panel[] = props.notes
    ? ["notes", "people", "chat", "work"]
    : ["people", "chat", "work"];
  if (view.status === "connecting") return <p>{t("room.connecting")}</p>;
  if (view.status === "lobby")
    return (
      <p className="notice" data-testid="lobby">
        {t("room.lobby")}
      </p>
    );
  if (view.status === "closed")
    return <p className="notice">{t("room.closed", { reason: view.closedReason ?? "" })}</p>;
  const me = view.participants.find((p) => p.id === view.you);
  const others = view.participants.filter((p) => p.id !== view.you && p.breakout === me?.breakout);
  const speaker = others.find((p) => p.id === view.activeSpeaker) ?? others[0];
  const shown = layout === "speaker" && speaker ? [speaker] : others;
  const handUp = !!me && view.hands.includes(me.id);
  const breakout = view.breakouts?.rooms.find((r) => r.index === me?.breakout);
  return (
    <div className={panel === "notes" ? "room-layout with-notes" : "room-layout"}>
      <div className="room-stage">
        <h1>{props.title}</h1>
        {breakout ? (
          <p className="notice">{t("room.inBreakout", { room: breakout.name })}</p>
        ) : null}
        {me && !me.can_publish ? <p className="notice">{t("room.listenOnly")}</p> : null}
        {view.reconnecting !== null ? (
          <p className="notice" role="alert" data-testid="room-reconnecting">
            {t("room.reconnecting", { attempt: String(view.reconnecting) })}
          </p>
        ) : null}
        {view.error ? (
          <p className="notice" role="alert">
            {view.error}
          </p>
        ) : null}
        <div className={`room-grid ${layout}`} data-testid="tiles">
          {view.localStream ? (
            <figure className="tile self" data-testid="tile-self">
              <Video stream={view.localStream} muted mirrored hidden={!view.local.camera} />
              {view.local.camera ? null : <CameraOff name={me?.name ?? ""} />}
              <figcaption>{t("room.you", { name: me?.name ?? "" })}</figcaption>
            </figure>
          ) : null}
          {shown.map((p) => (
            <Tile key={p.id} conn={conn} participant={p} view={view} />
          ))}
          {shown.flatMap((p) => {
            const screen = view.streams.get(`${p.id}~screen`);
            return screen
              ? [<ScreenTile key={`${p.id}-screen`} participant={p} stream={screen} />]
              : [];
          })}
        </div>
        <div className="room-controls" role="toolbar">
          {me?.can_publish ? (
            <>
              <button
                type="button"
                aria-pressed={view.local.microphone}
                data-testid="mic"
                data-off={!view.local.microphone || undefined}
                onClick={() => conn.setMuted("microphone", view.local.microphone)}
              >
                {t("room.mic")}
              </button>
              <button
                type="button"
                aria-pressed={view.local.camera}
                data-testid="cam"
                data-off={!view.local.camera || undefined}
                onClick={() => conn.setMuted("camera", view.local.camera)}
              >
                {t("room.cam")}
              </button>
              <button
                type="button"
                aria-pressed={view.local.screen}
                onClick={() => void conn.shareScreen(!view.local.screen)}
              >
                {t("room.screen")}
              </button>
            </>
          ) : null}
          <button
            type="button"
            aria-pressed={handUp}
            data-testid="hand"
            onClick={() => conn.send({ type: "hand", raised: !handUp })}
          >
            {handUp ? t("room.lowerHand") : t("room.hand")}
          </button>
          <button type="button" onClick={() => setLayout(layout === "grid" ? "speaker" : "grid")}>
            {layout === "grid" ? t("room.speakerView") : t("room.grid")}
          </button>
          <button type="button" className="danger" onClick={() => conn.leave()}>
            {t("room.leave")}
          </button>
        </div>
      </div>
      <aside className="room-panel">
        <div role="tablist">
          {panels.map((p) => (
            <button
              key={p}
              type="button"
              role="tab"
              aria-selected={panel === p}
              onClick={() => setPanel(p)}
            >
              {t(PANEL_LABELS[p])}
            </button>
          ))}
        </div>
        {panel === "people" ? <People conn={conn} view={view} me={me} /> : null}
        {panel === "chat" ? <Chat conn={conn} view={view} /> : null}
        {panel === "work" ? <Work projectId={props.projectId} /> : null}
        {panel === "notes" && props.notes ? (
          <RoomNotes projectId={props.projectId} notes={props.notes} />
        ) : null}
      </aside>
    </div>
  );
}

function Tile(props: { conn: RoomConnection; participant: ParticipantInfo; view: RoomView }) {
  const { t } = useTranslation();
  const { conn, participant: p, view } = props;
  const stream = view.streams.get(p.id);
  const camera = p.tracks.find((tr) => tr.source === "camera");
  const mic = p.tracks.find((tr) => tr.source === "microphone");
  const report = useRef<number | null>(null);
  const onSize = (w: number, h: number) => {
    if (!camera) return;
    if (report.current) window.clearTimeout(report.current);
    report.current = window.setTimeout(() => conn.reportView(camera.track_id, w, h), 200);
  };
  const speaking = view.activeSpeaker === p.id;
  // Off when not published or muted: the last frame would stay frozen on the video.
  const cameraOff = !camera || camera.muted;
  return (
    <figure
      className={`tile${speaking ? " speaking" : ""}`}
      data-testid="tile"
      data-participant={p.id}
    >
      {stream ? (
        <Video stream={stream} hidden={cameraOff} onSize={camera ? onSize : undefined} />
      ) : null}
      {!stream || cameraOff ? <CameraOff name={p.name} /> : null}
      <figcaption>
        {p.name}
        {mic?.muted ? " · 🔇" : ""}
        {p.hand_raised_at != null ? (
          <span className="hand" data-testid="hand-raised">
            {" "}
            · {t("room.handRaised")}
          </span>
        ) : null}
      </figcaption>
    </figure>
  );
}

/** Up to two initials of a name, as avatars show them. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = words[0]?.[0] ?? "?";
  const last = words.length > 1 ? (words[words.length - 1]?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}

/** What a tile shows when the camera is off: the person's initials and a mark saying so. */
function CameraOff(props: { name: string }) {
  const { t } = useTranslation();
  return (
    <div className="tile-avatar" data-testid="camera-off">
      <span className="tile-initials" aria-hidden="true">
        {initials(props.name)}
      </span>
      <span className="tile-camera-off">{t("room.cameraOff")}</span>
    </div>
  );
}

function ScreenTile(props: { participant: ParticipantInfo; stream: MediaStream }) {
  return (
    <figure className="tile screen">
      <Video stream={props.stream} />
      <figcaption>{props.participant.name}</figcaption>
    </figure>
  );
}

function People(props: { conn: RoomConnection; view: RoomView; me: ParticipantInfo | undefined }) {
  const { t } = useTranslation();
  const { conn, view, me } = props;
  const [rooms, setRooms] = useState(2);
  const [minutes, setMinutes] = useState(10);
  // Splitting by hand: the room (1..rooms) each participant goes to, unset meaning room 1.
  // Anyone but the moderator splitting may be sent, other moderators included (at random,
  // moderators stay in the main room).
  const [byHand, setByHand] = useState(false);
  const [assigned, setAssigned] = useState<Record<string, number>>({});
  const assignable = props.view.participants.filter((p) => p.id !== props.me?.id);
  const manualPlan = () => ({
    mode: "manual" as const,
    rooms: Array.from({ length: rooms }, (_, i) => ({
      name: t("room.breakoutName", { n: i + 1 }),
      participants: assignable
        .filter((p) => Math.min(assigned[p.id] ?? 1, rooms) === i + 1)
        .map((p) => p.id),
    })),
  });
  const moderator = !!me?.moderator;
  const ordered = [...view.participants].sort((a, b) => {
    const ha = view.hands.indexOf(a.id);
    const hb = view.hands.indexOf(b.id);
    return (ha < 0 ? 1e9 : ha) - (hb < 0 ? 1e9 : hb);
  });
  return (
    <div className="room-people">
      {moderator ? (
        <div className="room-moderation">
          <button type="button" onClick={() => conn.send({ type: "mute_all" })}>
            {t("room.muteAll")}
          </button>
          <button type="button" onClick={() => conn.send({ type: "lock", locked: !view.locked })}>
            {view.locked ? t("room.unlock") : t("room.lock")}
          </button>
        </div>
      ) : null}
      {moderator && view.lobby.length > 0 ? (
        <section>
          <h2>{t("room.waiting")}</h2>
          <ul>
            {view.lobby.map((w) => (
              <li key={w.id}>
                {w.name}{" "}
                <button
                  type="button"
                  onClick={() => conn.send({ type: "admit", participant: w.id })}
                >
                  {t("room.admit")}
                </button>
                <button
                  type="button"
                  onClick={() => conn.send({ type: "deny", participant: w.id })}
                >
                  {t("room.deny")}
                </button>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <ul data-testid="participants">
        {ordered.map((p) => (
          <li key={p.id}>
            {p.id === me?.id ? t("room.you", { name: p.name }) : p.name}
            {p.moderator ? ` · ${t("room.moderator")}` : ""}
            {view.hands.includes(p.id) ? ` · ${t("room.handRaised")}` : ""}
            {moderator && p.id !== me?.id ? (
              <span className="room-actions">
                {p.tracks.some((tr) => tr.source === "microphone" && !tr.muted) ? (
                  <button
                    type="button"
                    data-testid={`mute-${p.name}`}
                    onClick={() =>
                      conn.send({
                        type: "mute_participant",
                        participant: p.id,
                        source: "microphone",
                      })
                    }
                  >
                    {t("room.mute")}
                  </button>
                ) : null}
                {!p.can_publish ? (
                  <button
                    type="button"
                    onClick={() =>
                      conn.send({ type: "allow_publish", participant: p.id, allowed: true })
                    }
                  >
                    {t("room.allowSpeak")}
                  </button>
                ) : null}
                {view.hands.includes(p.id) ? (
                  <button
                    type="button"
                    onClick={() => conn.send({ type: "lower_hand", participant: p.id })}
                  >
                    {t("room.lowerHand")}
                  </button>
                ) : null}
                <button
                  type="button"
                  onClick={() => conn.send({ type: "remove", participant: p.id })}
                >
                  {t("room.remove")}
                </button>
              </span>
            ) : null}
          </li>
        ))}
      </ul>
      {moderator ? (
        <section>
          <h2>{t("room.breakouts")}</h2>
          {view.breakouts ? (
            <button type="button" onClick={() => conn.send({ type: "close_breakouts" })}>
              {t("room.closeBreakouts")}
            </button>
          ) : (
            <div className="room-breakouts">
              <label>
                {t("room.breakoutCount")}
                <input
                  type="number"
                  min={1}
                  max={50}
                  value={rooms}
                  onChange={(e) => setRooms(Number(e.target.value))}
                />
              </label>
              <label>
                {t("room.breakoutMinutes")}
                <input
                  type="number"
                  min={1}
                  max={240}
                  value={minutes}
                  onChange={(e) => setMinutes(Number(e.target.value))}
                />
              </label>
              <button
                type="button"
                onClick={() =>
                  conn.send({ type: "open_breakouts", plan: { mode: "random", rooms }, minutes })
                }
              >
                {t("room.openBreakouts")}
              </button>
              <button type="button" aria-expanded={byHand} onClick={() => setByHand(!byHand)}>
                {t("room.splitByHand")}
              </button>
              {byHand ? (
                <>
                  <ul className="room-assign">
                    {assignable.map((p) => (
                      <li key={p.id}>
                        <label>
                          {p.name}
                          <select
                            value={Math.min(assigned[p.id] ?? 1, rooms)}
                            onChange={(e) =>
                              setAssigned({ ...assigned, [p.id]: Number(e.target.value) })
                            }
                          >
                            {Array.from({ length: rooms }, (_, i) => i + 1).map((n) => (
                              <option key={n} value={n}>
                                {t("room.breakoutName", { n })}
                              </option>
                            ))}
                          </select>
                        </label>
                      </li>
                    ))}
                  </ul>
                  <button
                    type="button"
                    onClick={() =>
                      conn.send({ type: "open_breakouts", plan: manualPlan(), minutes })
                    }
                  >
                    {t("room.openTheseRooms")}
                  </button>
                </>
              ) : null}
            </div>
          )}
        </section>
      ) : null}
    </div>
  );
}

function Chat(props: { conn: RoomConnection; view: RoomView }) {
  const { t } = useTranslation();
  const [text, setText] = useState("");
  return (
    <div className="room-chat">
      <ol data-testid="chat">
        {props.view.chat.map((line) => (
          <li key={line.id}>
            <strong>{line.name}</strong> {line.text}
          </li>
        ))}
      </ol>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!text.trim()) return;
          props.conn.send({ type: "chat", text });
          setText("");
        }}
      >
        <input
          aria-label={t("room.chatPlaceholder")}
          placeholder={t("room.chatPlaceholder")}
          value={text}
          onChange={(e) => setText(e.target.value)}
          data-testid="chat-input"
        />
        <button type="submit">{t("room.send")}</button>
      </form>
    </div>
  );
}

/** The room's notes document, live, in the side panel. */
function RoomNotes(props: { projectId: string; notes: Notes }) {
  const item = useQuery({
    queryKey: ["item", props.notes.id],
    queryFn: () => call(api.GET("/items/{id}", { params: { path: { id: props.notes.id } } })),
  });
  if (!item.data) return <Loading />;
  return (
    <div className="room-notes" data-testid="room-notes">
      <Suspense fallback={<Loading />}>
        <LiveDocument
          docId={item.data.doc_id}
          projectId={props.projectId}
          title={item.data.title}
          editable={props.notes.editable}
          embedded
        />
      </Suspense>
    </div>
  );
}

/** The project's documents and boards, to open beside the meeting. */
function Work(props: { projectId: string }) {
  const items = useQuery({
    queryKey: ["items", props.projectId],
    queryFn: () =>
      call(api.GET("/projects/{id}/items", { params: { path: { id: props.projectId } } })),
  });
  return (
    <ul className="room-work">
      {(items.data ?? [])
        .filter((i) => i.kind !== "room")
        .map((i) => (
          <li key={i.id}>
            <Link to={itemPath(props.projectId, i.kind, i.id)} target="_blank">
              {i.title}
            </Link>
          </li>
        ))}
    </ul>
  );
}

/** Before joining: the session this room is open for now, and who is expected. */
function Expected(props: { projectId: string; roomId: string }) {
  const { t } = useTranslation();
  const sessions = useQuery({
    queryKey: ["project-sessions", props.projectId],
    queryFn: () =>
      call(api.GET("/projects/{id}/sessions", { params: { path: { id: props.projectId } } })),
  });
  const now = sessions.data?.find((s) => s.room_id === props.roomId && s.room_open);
  if (!now) return null;
  const coming = now.attendees.filter((a) => a.status === "going" || a.status === "maybe");
  return (
    <p className="room-expected" data-testid="room-expected">
      <Link to={sessionPath(now.id)}>{now.title}</Link>{" "}
      {t("room.expected", {
        time: timeOfDay(now.next.starts_at),
        people: [now.organiser.display_name, ...coming.map((a) => a.user.display_name)].join(", "),
      })}
    </p>
  );
}
