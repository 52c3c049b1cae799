// Browser test of a video room, against the real server and its SFU:
//   node rooms.mjs BASE_URL SCREENSHOT_DIR
// Ana (owner, moderator) and Ben (editor) join one room from two Chromium contexts with fake
// camera and microphone. Each decodes the other's video and receives audio (getStats rising),
// Ana's raised hand shows on Ben's page, a chat line arrives, when Ana mutes Ben his
// outgoing audio stops, Ben's camera off shows his initials on Ana's page, Ana decodes Ben's
// shared screen beside his camera, and Ana sends Ben to a breakout room by hand and brings him
// back.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { acceptInvites, apiCall, assertNoProblems, fail, launchWithFakeMedia, newContext, signupByApi } from "./lib.mjs";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) fail("usage: node rooms.mjs BASE_URL SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });

const steps = [];
const measured = {};
function step(name) {
  steps.push(name);
  console.log(`- ${name}`);
}

/** Sums `field` over the inbound (or outbound) RTP stats of `kind` of the page's connection. */
async function stat(page, direction, kind, field) {
  return page.evaluate(
    async ([direction, kind, field]) => {
      const pc = window.__hubringRoom?.peerConnection();
      if (!pc) return 0;
      let sum = 0;
      for (const s of (await pc.getStats()).values()) {
        if (s.type === `${direction}-rtp` && s.kind === kind) sum += s[field] ?? 0;
      }
      return sum;
    },
    [direction, kind, field],
  );
}

/** What a page's room connection is doing: its states, and every stream it sends and receives. */
async function explain(page) {
  return page.evaluate(async () => {
    const room = window.__hubringRoom;
    const pc = room?.peerConnection();
    const stats = pc
      ? [...(await pc.getStats()).values()]
          .filter((s) => s.type === "inbound-rtp" || s.type === "outbound-rtp")
          .map((s) =>
            s.type === "inbound-rtp"
              ? `in/${s.kind}/${s.mid}: packets ${s.packetsReceived} lost ${s.packetsLost} frames ${s.framesReceived}/${s.framesDecoded} dropped ${s.framesDropped} keyframes ${s.keyFramesDecoded} pli ${s.pliCount} nack ${s.nackCount} freezes ${s.freezeCount}`
              : `out/${s.kind}/${s.rid ?? ""}: packets ${s.packetsSent} frames ${s.framesEncoded} fps ${s.framesPerSecond} size ${s.frameWidth}x${s.frameHeight} limit ${s.qualityLimitationReason} ${JSON.stringify(s.qualityLimitationDurations ?? {})} pli ${s.pliCount}`,
          )
      : [];
    return {
      connection: pc?.connectionState,
      ice: pc?.iceConnectionState,
      signaling: pc?.signalingState,
      transceivers: pc?.getTransceivers().map((t) => `${t.mid}:${t.direction}/${t.currentDirection}`),
      error: room?.view.error,
      streams: [...(room?.view.streams.keys() ?? [])],
      stats,
    };
  });
}

/** Waits until `field` rises by at least `by` within `ms`; returns [before, after]. */
async function rises(page, direction, kind, field, by, ms) {
  const before = await stat(page, direction, kind, field);
  const deadline = Date.now() + ms;
  for (;;) {
    const now = await stat(page, direction, kind, field);
    if (now - before >= by) return [before, now];
    if (Date.now() > deadline) {
      // Every page's side, senders included: a slow video is the publisher's encoder, the
      // network or the SFU, and only all of them together tell which.
      const state = await Promise.all(pages.map(explain));
      fail(`${direction} ${kind} ${field} went from ${before} to ${now} in ${ms} ms (page ${pages.indexOf(page)}): ${JSON.stringify(state)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const browser = await launchWithFakeMedia();
let current = "setup";
const pages = [];
try {
  const ana = await newContext(browser, base, { permissions: ["camera", "microphone"] });
  const ben = await newContext(browser, base, { permissions: ["camera", "microphone"] });
  current = "Ana and Ben have accounts; Ana's project has a room";
  step(current);
  await signupByApi(ana, base, "ana@hubs.example", "Ana");
  await signupByApi(ben, base, "ben@hubs.example", "Ben");
  const project = await apiCall(ana, base, "POST", "/projects", { title: "Peer learning", visibility: "private" });
  await apiCall(ana, base, "POST", `/projects/${project.id}/members`, { email: "ben@hubs.example", role: "editor" });
  if ((await acceptInvites(ben, base)) !== 1) fail("Ben's invitation is waiting for him");
  await apiCall(ana, base, "POST", `/projects/${project.id}/items`, { kind: "document", title: "Session notes" });
  const item = await apiCall(ana, base, "POST", `/projects/${project.id}/items`, { kind: "room", title: "Thursday session" });
  const path = `/projects/${project.id}/rooms/${item.id}`;

  current = "both check their devices and join";
  step(current);
  const pageA = await ana.newPage();
  const pageB = await ben.newPage();
  pages.push(pageA, pageB);
  for (const page of pages) page.on("console", (m) => m.type() === "error" && console.error(`console: ${m.text()}`));
  for (const page of [pageA, pageB]) {
    await page.goto(path);
    await page.getByTestId("join").waitFor();
    await page.waitForFunction(() => !document.querySelector('[data-testid="join"]')?.disabled);
    // The page keeps its room connection where the test can read its statistics.
    await page.evaluate(() => {
      window.__hubringRoom = null;
    });
  }
  await pageA.getByTestId("join").click();
  await pageB.getByTestId("join").click();
  await pageA.locator('[data-testid="tile"]').first().waitFor({ timeout: 15_000 });
  await pageB.locator('[data-testid="tile"]').first().waitFor({ timeout: 15_000 });

  current = "each decodes the other's video and receives audio";
  step(current);
  const started = Date.now();
  for (const [name, page] of [
    ["Ana", pageA],
    ["Ben", pageB],
  ]) {
    await page.waitForFunction(() => window.__hubringRoom?.peerConnection(), null, { timeout: 10_000 });
    const [f0, f1] = await rises(page, "inbound", "video", "framesDecoded", 30, 15_000);
    const [s0, s1] = await rises(page, "inbound", "audio", "totalSamplesReceived", 48_000, 15_000);
    measured[`${name} frames decoded`] = f1 - f0;
    measured[`${name} audio samples`] = s1 - s0;
  }
  // Over three seconds, both keep rising.
  const [fa0, fa1] = await rises(pageA, "inbound", "video", "framesDecoded", 30, 3_000);
  const [fb0, fb1] = await rises(pageB, "inbound", "video", "framesDecoded", 30, 3_000);
  measured["first media, ms"] = Date.now() - started;
  measured["frames decoded in 3 s (Ana, Ben)"] = [fa1 - fa0, fb1 - fb0];
  await pageA.screenshot({ path: join(shots, "room-two-tiles.png"), fullPage: true });

  current = "Ana's window shrinks and grows: Ben's video switches layers both ways and keeps its frame rate";
  step(current);
  {
    // Each simulcast layer numbers its pictures from its own start: a switch that forwards
    // those numbers unchanged goes backwards one way or the other, after which the receiver
    // takes every frame for an old one. Two round trips cover both directions twice.
    const large = pageA.viewportSize();
    const height = () =>
      pageA.evaluate(async () => {
        const pc = window.__hubringRoom?.peerConnection();
        for (const s of (await pc.getStats()).values()) {
          if (s.type === "inbound-rtp" && s.kind === "video" && s.frameHeight) return s.frameHeight;
        }
        return 0;
      });
    const layerThen = async (want, label) => {
      const deadline = Date.now() + 10_000;
      let seen = await height();
      while (!want(seen)) {
        if (Date.now() > deadline) fail(`${label}: Ana still decodes ${seen}p`);
        await new Promise((r) => setTimeout(r, 200));
        seen = await height();
      }
      // Past the switch: the frame rate is back at once.
      const [f0, f1] = await rises(pageA, "inbound", "video", "framesDecoded", 45, 3_000);
      return [seen, f1 - f0];
    };
    const switches = [];
    for (let round = 0; round < 2; round += 1) {
      await pageA.setViewportSize({ width: 480, height: 360 });
      switches.push(await layerThen((h) => h > 0 && h <= 90, "a small tile gets the small layer"));
      await pageA.setViewportSize(large);
      switches.push(await layerThen((h) => h > 90, "a large tile gets a larger layer"));
    }
    measured["layer switches (height, frames in 3 s after)"] = switches;
  }

  current = "Ana raises her hand; Ben sees it";
  step(current);
  await pageA.getByTestId("hand").click();
  await pageB.locator('[data-testid="tile"] [data-testid="hand-raised"]').waitFor({ timeout: 5_000 });

  current = "a chat line arrives";
  step(current);
  await pageB.getByRole("tab", { name: "Chat" }).click();
  await pageA.getByRole("tab", { name: "Chat" }).click();
  await pageA.getByTestId("chat-input").fill("Welcome to the session!");
  await pageA.getByTestId("chat-input").press("Enter");
  await pageB.getByTestId("chat").getByText("Welcome to the session!").waitFor({ timeout: 5_000 });

  current = "Ana mutes Ben; his outgoing audio stops";
  step(current);
  await rises(pageB, "outbound", "audio", "packetsSent", 20, 5_000);
  await pageA.getByRole("tab", { name: "Participants" }).click();
  await pageA.getByTestId("mute-Ben").click();
  await pageB.waitForFunction(() => document.querySelector('[data-testid="mic"]')?.getAttribute("aria-pressed") === "false", null, {
    timeout: 5_000,
  });
  await new Promise((r) => setTimeout(r, 500));
  const sent0 = await stat(pageB, "outbound", "audio", "packetsSent");
  await new Promise((r) => setTimeout(r, 2_000));
  const sent1 = await stat(pageB, "outbound", "audio", "packetsSent");
  measured["Ben's audio packets in 2 s after the mute"] = sent1 - sent0;
  if (sent1 - sent0 > 5) fail(`Ben still sends audio after being muted: ${sent1 - sent0} packets`);
  // Video keeps flowing.
  await rises(pageA, "inbound", "video", "framesDecoded", 10, 3_000);

  current = "Ben turns his camera off: Ana sees his initials, not a frozen frame";
  step(current);
  const benTile = pageA.locator('[data-testid="tile"]', { hasText: "Ben" });
  await pageB.getByTestId("cam").click();
  await benTile.getByTestId("camera-off").waitFor({ timeout: 5_000 });
  if ((await benTile.getByTestId("camera-off").innerText()).trim() !== "B\nCamera off") {
    fail(`Ben's tile shows ${JSON.stringify(await benTile.getByTestId("camera-off").innerText())}`);
  }
  if (await benTile.locator("video").isVisible()) fail("Ben's last frame is still shown");
  await pageB.getByTestId("cam").click();
  await benTile.getByTestId("camera-off").waitFor({ state: "detached", timeout: 5_000 });
  await rises(pageA, "inbound", "video", "framesDecoded", 10, 5_000);

  current = "Ben shares his screen; Ana decodes it beside his camera";
  step(current);
  await pageB.getByRole("button", { name: "Share screen" }).click();
  await pageA.locator(".tile.screen video").waitFor({ timeout: 10_000 });
  const perVideo = (page) =>
    page.evaluate(async () => {
      const pc = window.__hubringRoom?.peerConnection();
      const frames = {};
      for (const s of (await pc.getStats()).values()) {
        if (s.type === "inbound-rtp" && s.kind === "video") frames[s.mid] = s.framesDecoded ?? 0;
      }
      return frames;
    });
  const deadline = Date.now() + 15_000;
  let screenFrames = [];
  for (;;) {
    const before = await perVideo(pageA);
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await perVideo(pageA);
    screenFrames = Object.keys(after).map((mid) => after[mid] - (before[mid] ?? 0));
    // Two videos of Ben's arrive and decode: his camera and his screen.
    if (screenFrames.filter((n) => n >= 5).length >= 2) break;
    if (Date.now() > deadline) fail(`Ana decodes Ben's videos: ${JSON.stringify(screenFrames)} frames in 2 s`);
  }
  measured["frames in 2 s of Ben's camera and screen on Ana's page"] = screenFrames;
  await pageB.getByRole("button", { name: "Share screen" }).click();
  await pageA.locator(".tile.screen").waitFor({ state: "detached", timeout: 10_000 });

  current = "Ana sends Ben to a breakout room by hand, then brings him back";
  step(current);
  await pageA.getByRole("button", { name: "Split by hand" }).click();
  await pageA.getByLabel("Ben").selectOption("2");
  await pageA.getByRole("button", { name: "Open these rooms" }).click();
  await pageB.getByText("You are in Room 2").waitFor({ timeout: 5_000 });
  await pageA.getByRole("button", { name: "Bring everyone back" }).click();
  await pageB.getByText("You are in Room 2").waitFor({ state: "detached", timeout: 5_000 });

  assertNoProblems(ana, ben);
  console.log(JSON.stringify({ ok: true, steps: steps.length, measured }));
} catch (err) {
  console.error(`failed at step: ${current} (screenshots in ${shots})`);
  for (const [i, page] of pages.entries()) {
    await page.screenshot({ path: join(shots, `room-failure-${i}.png`), fullPage: true }).catch(() => {});
    console.error(`page ${i}: ${(await page.innerText("body").catch(() => "")).slice(0, 500)}`);
  }
  throw err;
} finally {
  await browser.close();
}
