// One live document in the browser: the Y.Doc, its copy in IndexedDB (edits made offline
// survive a closed tab), the official y-websocket provider on /ws/doc, and the save tracker
// fed by the frames that provider sends and the acknowledgements the server sends back.
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { IndexeddbPersistence } from "y-indexeddb";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { SaveTracker } from "./saveState";

/** Hubring's messages on /ws/doc (crates/protocol `ws`): subscribe to, and report, saves. */
export const MSG_SUBSCRIBE_SAVED = 100;
export const MSG_SAVED = 101;
/** y-protocols: message type sync, and its sub-types. */
const MSG_SYNC = 0;
const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;

/** `varUint(100) · varUint8Array(empty)`. */
export function subscribeSavedFrame(): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MSG_SUBSCRIBE_SAVED);
  encoding.writeVarUint8Array(encoder, new Uint8Array(0));
  return encoding.toUint8Array(encoder);
}

/**
 * Whether an outgoing frame carries a document update, and if so whether it is empty the way
 * the server judges it (no structs and no deletions: yrs `Update::is_empty`). Yjs writes such
 * an update as exactly `[0, 0]` (no struct clients, no delete-set clients), so this reads the
 * frame's header and never decodes the update itself: this runs on every keystroke.
 */
export function classifyFrame(frame: Uint8Array): "none" | "empty" | "update" {
  try {
    const decoder = decoding.createDecoder(frame);
    if (decoding.readVarUint(decoder) !== MSG_SYNC) return "none";
    const kind = decoding.readVarUint(decoder);
    if (kind !== SYNC_STEP_2 && kind !== SYNC_UPDATE) return "none";
    const update = decoding.readVarUint8Array(decoder);
    return update.length === 2 && update[0] === 0 && update[1] === 0 ? "empty" : "update";
  } catch {
    return "none";
  }
}

function asBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return null;
}

/** A WebSocket class that reports to `save` what y-websocket sends and when it opens. */
export function trackingSocket(base: typeof WebSocket, save: SaveTracker): typeof WebSocket {
  // The socket the tracker's counts belong to. y-websocket lets go of a socket as soon as it
  // closes it and opens the next one at once; the old one's `close` event can come much later
  // (offline, the closing handshake waits for the network), and must not end the new connection.
  let current: WebSocket | null = null;
  return class TrackingSocket extends base {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      // Registered before y-websocket sets `onopen`, so the subscription is the first frame.
      this.addEventListener("open", () => {
        current = this;
        super.send(subscribeSavedFrame());
        save.opened();
      });
      this.addEventListener("close", () => {
        if (current !== this) return;
        current = null;
        save.closed();
      });
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      const bytes = asBytes(data);
      if (bytes) {
        const kind = classifyFrame(bytes);
        if (kind !== "none") save.updateSent(kind === "empty");
      }
      super.send(data);
    }
  };
}

export interface DocSessionOptions {
  /** `ws(s)://host/ws/doc`; defaults to this page's origin. */
  url?: string;
  WebSocket?: typeof WebSocket;
  /** Keep a copy in IndexedDB (off in unit tests). */
  persist?: boolean;
  /** Where the browser reports going offline and online; defaults to `window`. */
  network?: EventTarget;
}

export interface DocSession {
  readonly docId: string;
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  readonly save: SaveTracker;
  destroy(): void;
}

export function docSocketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/doc`;
}

export function openDocSession(docId: string, options: DocSessionOptions = {}): DocSession {
  const doc = new Y.Doc();
  const save = new SaveTracker();
  const local = options.persist === false ? null : new IndexeddbPersistence(docId, doc);
  const provider = new WebsocketProvider(options.url ?? docSocketUrl(), docId, doc, {
    WebSocketPolyfill: trackingSocket(options.WebSocket ?? WebSocket, save),
    // The server pings; y-websocket's own check resyncs a connection silent this long.
    resyncInterval: -1,
    maxBackoffTime: 5000,
  });
  provider.messageHandlers[MSG_SAVED] = (_encoder, decoder) => {
    const payload = decoding.createDecoder(decoding.readVarUint8Array(decoder));
    save.acknowledged(decoding.readVarUint(payload));
  };
  const onUpdate = (_update: Uint8Array, origin: unknown) => {
    // y-websocket sends local changes at once while connected; offline ones wait for the sync
    // step 2 that follows the next connection.
    if (origin !== provider && !save.isConnected()) save.changedOffline();
  };
  doc.on("update", onUpdate);

  // The browser knows before any timeout when the network is gone: close at once, so edits
  // are marked unsaved, and reconnect as soon as it is back.
  const network = options.network ?? (typeof window === "undefined" ? null : window);
  const offline = () => {
    save.closed();
    provider.disconnect();
  };
  const online = () => provider.connect();
  network?.addEventListener("offline", offline);
  network?.addEventListener("online", online);

  return {
    docId,
    doc,
    provider,
    save,
    destroy() {
      network?.removeEventListener("offline", offline);
      network?.removeEventListener("online", online);
      doc.off("update", onUpdate);
      provider.destroy();
      void local?.destroy();
      doc.destroy();
    },
  };
}
