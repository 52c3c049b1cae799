// Browser test of who sees whom in a video room, whatever the order people come in:
//   node room_joins.mjs BASE_URL SCREENSHOT_DIR [ROUNDS]
// Two and three people (Chromium contexts with fake cameras and microphones) join one room at
// once, 1 s apart and 5 s apart, and one leaves and comes back. In every case, every page
// decodes every other person's video at 15 frames a second or more over 3 s and receives their
// audio, and every page's signaling ends `stable`. Each case runs ROUNDS times (default 2; the
// README says how to run 20).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { acceptInvites, apiCall, assertNoProblems, fail, launchWithFakeMedia, newContext, signupByApi } from "./lib.mjs";

const [base, shots, roundsArg] = process.argv.slice(2);
if (!base || !shots) fail("usage: node room_joins.mjs BASE_URL SCREENSHOT_DIR [ROUNDS]");
const rounds = Number(roundsArg ?? 2);
mkdirSync(shots, { recursive: true });

/** Frames a second each remote video must decode, measured over WINDOW_MS. */
const MIN_FPS = 15;
const WINDOW_MS = 3_000;
/** How long media may take to start flowing to everyone after the last person joined. */
const SETTLE_MS = 20_000;

const CASES = [
  { name: "two at once", gaps: [0, 0] },
  { name: "two, 1 s apart", gaps: [0, 1_000] },
  { name: "two, 5 s apart", gaps: [0, 5_000] },
  { name: "three at once", gaps: [0, 0, 0] },
  { name: "three, 1 s apart", gaps: [0, 1_000, 1_000] },
  { name: "three, 5 s apart", gaps: [0, 5_000, 5_000] },
  { name: "two, the second leaves and comes back", gaps: [0, 1_000], rejoin: true },
];

/** Per inbound stream of the page's connection: kind, frames decoded, audio samples received. */
async function inbound(page) {
  return page.evaluate(async () => {
    const room = window.__hubringRoom;
    const pc = room?.peerConnection();
    const out = { signaling: pc?.signalingState ?? "none", streams: {} };
    if (!pc) return out;
    out.sent = [];
    for (const s of (await pc.getStats()).values()) {
      if (s.type === "outbound-rtp")
        out.sent.push(
          `${s.kind}/${s.rid ?? ""}: packets ${s.packetsSent} frames ${s.framesEncoded} fps ${s.framesPerSecond} size ${s.frameWidth}x${s.frameHeight} limit ${s.qualityLimitationReason} pli ${s.pliCount}`,
        );
      if (s.type === "candidate-pair" && s.nominated && s.availableOutgoingBitrate)
        out.sent.push(`estimate ${Math.round(s.availableOutgoingBitrate / 1000)} kbit/s`);
      if (s.type !== "inbound-rtp") continue;
      out.streams[`${s.kind}/${s.mid}`] = {
        kind: s.kind,
        frames: s.framesDecoded ?? 0,
        samples: s.totalSamplesReceived ?? 0,
        packets: s.packetsReceived ?? 0,
        detail: `packets ${s.packetsReceived} lost ${s.packetsLost} frames ${s.framesReceived}/${s.framesDecoded} keyframes ${s.keyFramesDecoded} pli ${s.pliCount} freezes ${s.freezeCount}`,
      };
    }
    out.transceivers = pc.getTransceivers().map((t) => `${t.mid}:${t.direction}/${t.currentDirection}`);
    out.reconnecting = room.view.reconnecting;
    out.error = room.view.error;
    return out;
  });
}

/** Streams that carry media (the receive-only transceivers of a client's first offer carry none). */
function live(snapshot) {
  return Object.entries(snapshot.streams).filter(([, s]) => s.packets > 0);
}

/** Waits until each page receives the video and audio of `others` people, then measures a
 * window: every video decodes MIN_FPS, every audio rises by most of the window's samples. */
async function everyoneSeesEveryone(pages, label) {
  const others = pages.length - 1;
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const snaps = await Promise.all(pages.map(inbound));
    const ready = snaps.every((snap) => {
      const streams = live(snap).map(([, s]) => s);
      return (
        snap.signaling === "stable" &&
        streams.filter((s) => s.kind === "video" && s.frames > 0).length >= others &&
        streams.filter((s) => s.kind === "audio" && s.samples > 0).length >= others
      );
    });
    if (ready) break;
    if (Date.now() > deadline) fail(`${label}: media did not reach everyone within ${SETTLE_MS} ms: ${JSON.stringify(snaps)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const before = await Promise.all(pages.map(inbound));
  const began = Date.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const after = await Promise.all(pages.map(inbound));
  const seconds = (Date.now() - began) / 1000;
  const rates = [];
  for (const [i, snap] of after.entries()) {
    if (snap.signaling !== "stable") fail(`${label}: page ${i} is left in signaling state ${snap.signaling}`);
    const videos = live(snap).filter(([, s]) => s.kind === "video");
    const audios = live(snap).filter(([, s]) => s.kind === "audio");
    if (videos.length < others || audios.length < others) fail(`${label}: page ${i} receives ${videos.length} videos and ${audios.length} audios of ${others} people: ${JSON.stringify(snap)}`);
    for (const [key, s] of videos) {
      const fps = (s.frames - (before[i].streams[key]?.frames ?? 0)) / seconds;
      rates.push(Math.round(fps));
      // Every page's side, senders included: a slow video is the publisher's encoder, the
      // network or the SFU, and only all of them together tell which.
      if (fps < MIN_FPS) fail(`${label}: page ${i} decodes ${key} at ${fps.toFixed(1)} frames a second (${s.detail}); ${JSON.stringify(after)}`);
    }
    for (const [key, s] of audios) {
      const gained = s.samples - (before[i].streams[key]?.samples ?? 0);
      if (gained < 48_000 * seconds * 0.8) fail(`${label}: page ${i} received ${gained} audio samples of ${key} in ${seconds} s (${s.detail})`);
    }
  }
  return rates;
}

async function openRoom(context, path) {
  const page = await context.newPage();
  await page.goto(path);
  await page.getByTestId("join").waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-testid="join"]')?.disabled);
  return page;
}

const browser = await launchWithFakeMedia();
let current = "setup";
let open = [];
const measured = {};
try {
  const people = [
    ["ana@hubs.example", "Ana"],
    ["ben@hubs.example", "Ben"],
    ["cleo@hubs.example", "Cleo"],
  ];
  const contexts = [];
  for (const [email, name] of people) {
    const context = await newContext(browser, base, { permissions: ["camera", "microphone"] });
    await signupByApi(context, base, email, name);
    contexts.push(context);
  }
  const project = await apiCall(contexts[0], base, "POST", "/projects", { title: "Peer learning", visibility: "private" });
  for (const [i, [email]] of people.entries()) {
    if (i === 0) continue;
    await apiCall(contexts[0], base, "POST", `/projects/${project.id}/members`, { email, role: "editor" });
    if ((await acceptInvites(contexts[i], base)) !== 1) fail(`${email}'s invitation is waiting`);
  }

  for (let round = 1; round <= rounds; round++) {
    for (const c of CASES.filter((c) => !process.env.ROOM_CASES || process.env.ROOM_CASES.split("|").includes(c.name))) {
      current = `${c.name} (round ${round})`;
      const item = await apiCall(contexts[0], base, "POST", `/projects/${project.id}/items`, { kind: "room", title: current });
      const path = `/projects/${project.id}/rooms/${item.id}`;
      open = await Promise.all(c.gaps.map((_, i) => openRoom(contexts[i], path)));
      // Joining: clicks at the case's intervals, the simultaneous ones together.
      const clicks = [];
      for (const [i, gap] of c.gaps.entries()) {
        if (gap > 0) await new Promise((r) => setTimeout(r, gap));
        clicks.push(open[i].getByTestId("join").click());
      }
      await Promise.all(clicks);
      let rates = await everyoneSeesEveryone(open, current);
      if (c.rejoin) {
        // The last person leaves (closing the page), and comes back into the room.
        await open[open.length - 1].close();
        open[open.length - 1] = await openRoom(contexts[open.length - 1], path);
        await open[open.length - 1].getByTestId("join").click();
        rates = rates.concat(await everyoneSeesEveryone(open, `${current}, after coming back`));
      }
      // What each person's browser sends: the simulcast layers, their frame rates and sizes.
      const sent = (await Promise.all(open.map(inbound))).map((snap) => snap.sent ?? []);
      measured[current] = { fps: rates, sent };
      console.log(`- ${current}: frames a second decoded ${rates.join(", ")}`);
      if (process.env.ROOM_VERBOSE) console.log(JSON.stringify(sent));
      await Promise.all(open.map((p) => p.close()));
      open = [];
    }
  }
  assertNoProblems(...contexts);
  console.log(JSON.stringify({ ok: true, cases: CASES.length, rounds, measured }));
} catch (err) {
  console.error(`failed at: ${current} (screenshots in ${shots})`);
  for (const [i, page] of open.entries()) {
    await page.screenshot({ path: join(shots, `room-joins-failure-${i}.png`), fullPage: true }).catch(() => {});
  }
  throw err;
} finally {
  await browser.close();
}
