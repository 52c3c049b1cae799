import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { afterEach, describe, expect, it } from "vitest";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";
import {
  classifyFrame,
  type DocSession,
  MSG_SAVED,
  openDocSession,
  subscribeSavedFrame,
} from "./provider";

/** A WebSocket stand-in with the surface y-websocket uses; the test plays the server. */
class FakeSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static last: FakeSocket | null = null;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = FakeSocket.CONNECTING;
  binaryType = "blob";
  sent: Uint8Array[] = [];
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;

  constructor(readonly url: string) {
    super();
    FakeSocket.last = this;
  }
  send(data: Uint8Array) {
    this.sent.push(new Uint8Array(data));
  }
  /** Like a browser offline: `close()` starts the closing handshake, which ends much later. */
  static slowClose = false;
  close() {
    if (this.readyState >= FakeSocket.CLOSING) return;
    this.readyState = FakeSocket.CLOSING;
    if (!FakeSocket.slowClose) this.closed();
  }
  /** The closing handshake ends (or times out): the `close` event. */
  closed() {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.readyState = FakeSocket.CLOSED;
    const event = new Event("close") as CloseEvent;
    this.dispatchEvent(event);
    this.onclose?.(event);
  }
  open() {
    this.readyState = FakeSocket.OPEN;
    const event = new Event("open");
    this.dispatchEvent(event);
    this.onopen?.(event);
  }
  receive(frame: Uint8Array) {
    this.onmessage?.(new MessageEvent("message", { data: frame.buffer.slice(0) }));
  }
}

function savedFrame(n: number): Uint8Array {
  const payload = encoding.createEncoder();
  encoding.writeVarUint(payload, n);
  const frame = encoding.createEncoder();
  encoding.writeVarUint(frame, MSG_SAVED);
  encoding.writeVarUint8Array(frame, encoding.toUint8Array(payload));
  return encoding.toUint8Array(frame);
}

function syncFrame(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

let session: DocSession | null = null;
afterEach(() => {
  session?.destroy();
  session = null;
  FakeSocket.slowClose = false;
});

function open() {
  const network = new EventTarget();
  session = openDocSession("doc-1", {
    url: "ws://hubring.test/ws/doc",
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    persist: false,
    network,
  });
  const socket = FakeSocket.last;
  if (!socket) throw new Error("the provider opened no socket");
  return { session, socket, network };
}

describe("classifyFrame", () => {
  it("tells updates, empty updates and other messages apart", () => {
    const doc = new Y.Doc();
    doc.getText("t").insert(0, "hi");
    const update = Y.encodeStateAsUpdate(doc);
    expect(classifyFrame(syncFrame((e) => syncProtocol.writeUpdate(e, update)))).toBe("update");
    const empty = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc));
    expect(
      classifyFrame(
        syncFrame((e) => syncProtocol.writeSyncStep2(e, doc, Y.encodeStateVector(doc))),
      ),
    ).toBe("empty");
    expect(Y.decodeUpdate(empty).structs).toHaveLength(0);
    // A deletion travels in every step 2 (delete sets are not covered by state vectors), and
    // yrs counts it as a non-empty update too.
    doc.getText("t").delete(0, 1);
    expect(
      classifyFrame(
        syncFrame((e) => syncProtocol.writeSyncStep2(e, doc, Y.encodeStateVector(doc))),
      ),
    ).toBe("update");
    expect(classifyFrame(syncFrame((e) => syncProtocol.writeSyncStep1(e, doc)))).toBe("none");
    expect(classifyFrame(subscribeSavedFrame())).toBe("none");
    expect(classifyFrame(new Uint8Array([0, 2, 200]))).toBe("none");
  });
});

describe("openDocSession", () => {
  it("subscribes to save acknowledgements first, on every connection", () => {
    const { socket, session } = open();
    expect(socket.url).toBe("ws://hubring.test/ws/doc/doc-1");
    socket.open();
    expect(socket.sent[0]).toEqual(subscribeSavedFrame());
    expect(session.save.isConnected()).toBe(true);
  });

  it("shows saved only after the server acknowledges the edit", () => {
    const { socket, session } = open();
    socket.open();
    session.doc.getText("t").insert(0, "hello");
    const updates = socket.sent.filter((f) => classifyFrame(f) === "update");
    expect(updates).toHaveLength(1);
    expect(session.save.status()).toBe("saving");
    socket.receive(savedFrame(1));
    expect(session.save.status()).toBe("saved");
  });

  it("keeps offline edits unsaved and sends them when the network is back", () => {
    const { socket, session, network } = open();
    socket.open();
    network.dispatchEvent(new Event("offline"));
    expect(socket.readyState).toBe(FakeSocket.CLOSED);
    session.doc.getText("t").insert(0, "on the train");
    expect(session.save.status()).toBe("unsaved");
    network.dispatchEvent(new Event("online"));
    const reconnected = FakeSocket.last;
    expect(reconnected).not.toBe(socket);
    reconnected?.open();
    // The server asks with its (empty) state vector; the client's step 2 carries the edit.
    const server = new Y.Doc();
    reconnected?.receive(syncFrame((e) => syncProtocol.writeSyncStep1(e, server)));
    const sent = reconnected?.sent.find((f) => classifyFrame(f) === "update");
    expect(sent).toBeDefined();
    const decoder = decoding.createDecoder(sent as Uint8Array);
    decoding.readVarUint(decoder);
    decoding.readVarUint(decoder);
    Y.applyUpdate(server, decoding.readVarUint8Array(decoder));
    expect(server.getText("t").toString()).toBe("on the train");
    expect(session.save.status()).toBe("saving");
    reconnected?.receive(savedFrame(1));
    expect(session.save.status()).toBe("saved");
  });

  it("is not ended by the old socket's close event arriving after the reconnect", () => {
    FakeSocket.slowClose = true;
    const { socket, session, network } = open();
    socket.open();
    network.dispatchEvent(new Event("offline"));
    session.doc.getText("t").insert(0, "on the train");
    network.dispatchEvent(new Event("online"));
    const reconnected = FakeSocket.last;
    expect(reconnected).not.toBe(socket);
    reconnected?.open();
    reconnected?.receive(syncFrame((e) => syncProtocol.writeSyncStep1(e, new Y.Doc())));
    expect(session.save.status()).toBe("saving");
    // The first socket's closing handshake ends only now.
    socket.closed();
    expect(session.save.isConnected()).toBe(true);
    expect(session.save.status()).toBe("saving");
    reconnected?.receive(savedFrame(1));
    expect(session.save.status()).toBe("saved");
  });
});
