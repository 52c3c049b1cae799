import { describe, expect, it } from "vitest";
import { SaveTracker } from "./saveState";

function tracker() {
  const t = new SaveTracker();
  const seen: string[] = [];
  t.subscribe(() => seen.push(t.status()));
  return { t, seen };
}

describe("SaveTracker", () => {
  it("is saved only once every update sent is acknowledged", () => {
    const { t } = tracker();
    t.opened();
    t.updateSent(false);
    t.updateSent(false);
    expect(t.status()).toBe("saving");
    t.acknowledged(1);
    expect(t.status()).toBe("saving");
    t.acknowledged(2);
    expect(t.status()).toBe("saved");
  });

  it("does not count empty updates, as the server does not", () => {
    const { t } = tracker();
    t.opened();
    t.updateSent(true);
    expect(t.status()).toBe("saved");
    t.updateSent(false);
    t.acknowledged(1);
    expect(t.status()).toBe("saved");
  });

  it("marks edits made while closed as unsaved until the reconnect's step 2 is acknowledged", () => {
    const { t, seen } = tracker();
    t.opened();
    t.closed();
    t.changedOffline();
    expect(t.status()).toBe("unsaved");
    t.opened();
    expect(t.status()).toBe("unsaved");
    t.updateSent(false);
    expect(t.status()).toBe("saving");
    t.acknowledged(1);
    expect(t.status()).toBe("saved");
    expect(seen).toEqual(["unsaved", "saving", "saved"]);
  });

  it("treats sent but unacknowledged updates as unsaved when the socket closes", () => {
    const { t } = tracker();
    t.opened();
    t.updateSent(false);
    t.closed();
    expect(t.status()).toBe("unsaved");
    // A new connection counts from zero: an old acknowledgement number means nothing there.
    t.opened();
    t.acknowledged(5);
    expect(t.status()).toBe("unsaved");
  });

  it("clears offline edits when the reconnect shows the server already had them", () => {
    const { t } = tracker();
    t.opened();
    t.updateSent(false);
    t.closed();
    t.opened();
    // The step 2 against the server's state vector is empty: nothing was missing there.
    t.updateSent(true);
    expect(t.status()).toBe("saved");
  });

  it("counts a frame sent on a closing socket as not saved", () => {
    const { t } = tracker();
    t.opened();
    t.closed();
    t.updateSent(false);
    expect(t.status()).toBe("unsaved");
  });
});
