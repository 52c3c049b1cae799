// Whether the server holds the user's edits, from the server's own acknowledgements (Hubring
// messages 100/101 on /ws/doc), never from a timer. The server counts, per connection, the
// non-empty updates it received (sync step 2 and update messages) and reports with message 101
// each time the first `n` of them are committed. This tracker counts the same frames on the
// way out, so "saved" means: connected, and every update sent on this connection is committed.

export type SaveStatus = "saved" | "saving" | "unsaved";

type Listener = () => void;

export class SaveTracker {
  private connected = false;
  /** Non-empty updates sent on the current connection. */
  private sent = 0;
  /** How many of them the server committed. */
  private acked = 0;
  /** Local changes the server may not have: made offline, or sent and never acknowledged. */
  private pending = false;
  private status_: SaveStatus = "saved";
  private readonly listeners = new Set<Listener>();

  /** The socket opened: a new connection, whose counts start from zero on both sides. */
  opened(): void {
    this.connected = true;
    this.sent = 0;
    this.acked = 0;
    this.update();
  }

  /**
   * The socket closed, or the browser reported the network gone (a socket can take long to
   * report closing then). Anything sent and not acknowledged goes again on reconnect.
   */
  closed(): void {
    if (this.acked < this.sent) this.pending = true;
    this.connected = false;
    this.update();
  }

  /**
   * An update left on the socket. `empty`: it carried nothing (the usual sync step 2 after
   * connecting), which the server does not count, and which also tells that the server already
   * has everything this client has, since a step 2 is computed against the server's state.
   */
  updateSent(empty: boolean): void {
    if (!this.connected) {
      // Sent on a socket that is closing: the browser drops it; it goes again on reconnect.
      if (!empty) this.pending = true;
    } else if (empty) {
      if (this.acked === this.sent) this.pending = false;
    } else {
      this.sent += 1;
      this.pending = false;
    }
    this.update();
  }

  /** Message 101: the first `n` updates of this connection are committed. */
  acknowledged(n: number): void {
    if (n > this.acked) this.acked = Math.min(n, this.sent);
    this.update();
  }

  /** The document changed here while the socket was closed; it is sent on reconnect. */
  changedOffline(): void {
    this.pending = true;
    this.update();
  }

  isConnected(): boolean {
    return this.connected;
  }

  status(): SaveStatus {
    return this.status_;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private update(): void {
    const inFlight = this.acked < this.sent;
    const next: SaveStatus =
      this.pending || (!this.connected && inFlight) ? "unsaved" : inFlight ? "saving" : "saved";
    if (next !== this.status_) {
      this.status_ = next;
      for (const listener of this.listeners) listener();
    }
  }
}
