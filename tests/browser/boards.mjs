// Browser test of live boards, against the real server:
//   node boards.mjs BASE_URL SCREENSHOT_DIR SCALE_EMAIL SCALE_PASSWORD SCALE_PATH
// Ana (owner, the facilitator) and Ben (editor) work on one board in two browser contexts:
// a sticky note and a connector, a live drag, per-user undo, a lock, a dot vote, the timer,
// "bring everyone to me", the PNG export and the thumbnail. Then a 2,000-shape board (written
// by the Rust side) is panned and its frame times are reported.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { acceptInvites, apiCall, assertNoProblems, fail, launch, newContext, seriousViolations, signupByApi } from "./lib.mjs";

const [base, shots, scaleEmail, scalePassword, scalePath] = process.argv.slice(2);
if (!base || !shots || !scaleEmail || !scalePassword || !scalePath) {
  fail("usage: node boards.mjs BASE_URL SCREENSHOT_DIR SCALE_EMAIL SCALE_PASSWORD SCALE_PATH");
}
mkdirSync(shots, { recursive: true });

const LIVE_MS = 2000;
const steps = [];
const measured = {};
function step(name) {
  steps.push(name);
  console.log(`- ${name}`);
}

/** The centre of a shape on screen. */
async function centerOf(page, id) {
  const box = await page.locator(`[data-shape-id="${id}"]`).first().boundingBox();
  if (!box) fail(`shape ${id} is not on screen`);
  return [box.x + box.width / 2, box.y + box.height / 2];
}

async function canvasPoint(page, fx, fy) {
  const box = await page.getByTestId("board-canvas").boundingBox();
  return [box.x + box.width * fx, box.y + box.height * fy];
}

async function shapeIds(page, type) {
  return page.$$eval(`[data-type="${type}"]`, (els) => els.map((e) => e.getAttribute("data-shape-id")));
}

async function attr(page, id, name) {
  return page.locator(`[data-shape-id="${id}"]`).first().getAttribute(name);
}

/** Waits until `page` shows shape `id` with attribute `name` satisfying `test`. */
async function waitAttr(page, id, name, test, what) {
  const end = Date.now() + LIVE_MS * 2;
  for (;;) {
    const value = await attr(page, id, name).catch(() => null);
    if (value !== null && test(Number(value))) return Number(value);
    if (Date.now() > end) fail(`timed out waiting for ${what} (last ${name}=${value})`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** Pans with the wheel for 2.5 s and returns the frame times requestAnimationFrame saw. */
async function panFrames(page, zoom) {
  if (zoom === "100%") {
    await page.getByTestId("board-canvas").focus();
    await page.keyboard.press("0");
  }
  await page.mouse.move(...(await canvasPoint(page, 0.5, 0.5)));
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const tick = (t) => {
      window.__frames.push(t - last);
      last = t;
      if (window.__frames.length < 400) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const start = Date.now();
  let n = 0;
  while (Date.now() - start < 2500) {
    await page.mouse.wheel(n % 80 < 40 ? 25 : -25, n % 60 < 30 ? 12 : -12);
    n++;
  }
  const frames = (await page.evaluate(() => window.__frames)).slice(5).sort((a, b) => a - b);
  const pct = (p) => Math.round(frames[Math.min(frames.length - 1, Math.floor(frames.length * p))] * 10) / 10;
  return { wheel_events: n, frames: frames.length, p50_ms: pct(0.5), p95_ms: pct(0.95), max_ms: pct(1) };
}

const browser = await launch();
try {
  const ana = await newContext(browser, base, { viewport: { width: 1280, height: 860 } });
  const ben = await newContext(browser, base, { viewport: { width: 1280, height: 860 } });
  await signupByApi(ana, base, "ana@hubs.example", "Ana Ferreira");
  await signupByApi(ben, base, "ben@hubs.example", "Ben Okafor");
  const project = await apiCall(ana, base, "POST", "/projects", { title: "Kick-off", visibility: "private" });
  await apiCall(ana, base, "POST", `/projects/${project.id}/members`, { email: "ben@hubs.example", role: "editor" });
  if ((await acceptInvites(ben, base)) !== 1) fail("Ben's invitation is waiting for him");
  const item = await apiCall(ana, base, "POST", `/projects/${project.id}/items`, { kind: "board", title: "Ideas" });
  const path = `/projects/${project.id}/boards/${item.id}`;

  const pageA = await ana.newPage();
  const pageB = await ben.newPage();
  await pageA.goto(path);
  await pageB.goto(path);
  for (const page of [pageA, pageB]) {
    await page.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  }
  step("both open the board");

  // A sticky note with text, placed and typed through the UI.
  await pageA.locator('[data-tool="sticky"]').click();
  let [x, y] = await canvasPoint(pageA, 0.25, 0.3);
  await pageA.mouse.click(x, y);
  await pageA.getByTestId("text-editor").waitFor();
  await pageA.keyboard.type("Ceramics residency in Porto");
  await pageA.keyboard.press("Escape");
  const [sticky] = await shapeIds(pageA, "sticky");
  if (!sticky) fail("no sticky note was made");
  // Double-clicking a note edits it, as in every whiteboard (not only select, then Enter).
  await pageB.waitForSelector(`[data-shape-id="${sticky}"]`, { timeout: 5_000 });
  const [sx, sy] = await centerOf(pageB, sticky);
  await pageB.mouse.dblclick(sx, sy);
  await pageB.getByTestId("text-editor").waitFor({ timeout: 5_000 });
  await pageB.keyboard.press("Control+End");
  await pageB.keyboard.type(" 2027");
  await pageB.keyboard.press("Escape");
  await pageA.waitForFunction(
    (id) => document.querySelector(`[data-shape-id="${id}"]`)?.textContent?.includes("Porto 2027"),
    sticky,
    { timeout: 5_000 },
  );
  step("a double-click edits a note");
  // Two rectangles and a connector dragged from one to the other.
  for (const fx of [0.5, 0.75]) {
    await pageA.locator('[data-tool="rect"]').click();
    [x, y] = await canvasPoint(pageA, fx, 0.3);
    await pageA.mouse.click(x, y);
  }
  const [r1, r2] = await shapeIds(pageA, "rect");
  const rects = await Promise.all([r1, r2].map(async (id) => [id, Number(await attr(pageA, id, "data-x"))]));
  rects.sort((a, b) => a[1] - b[1]);
  const [left, right] = [rects[0][0], rects[1][0]];
  await pageA.locator('[data-tool="connector"]').click();
  const from = await centerOf(pageA, left);
  const to = await centerOf(pageA, right);
  const made = Date.now();
  await pageA.mouse.move(...from);
  await pageA.mouse.down();
  await pageA.mouse.move((from[0] + to[0]) / 2, from[1] + 5, { steps: 4 });
  await pageA.mouse.move(...to, { steps: 4 });
  await pageA.mouse.up();
  const [connector] = await shapeIds(pageA, "connector");
  if (!connector) fail("no connector was made");
  if ((await attr(pageA, connector, "data-from")) !== left || (await attr(pageA, connector, "data-to")) !== right) {
    fail("the connector is not attached to both rectangles");
  }
  step("A adds a sticky note with text and a connector between two shapes");

  await pageB.waitForSelector(`[data-shape-id="${connector}"][data-to="${right}"]`, { timeout: LIVE_MS });
  await pageB.waitForFunction(
    ([id, text]) => document.querySelector(`[data-shape-id="${id}"]`)?.textContent?.includes(text),
    [sticky, "Ceramics residency in Porto"],
    { timeout: LIVE_MS },
  );
  measured.seenByB_ms = Date.now() - made;
  step(`B sees both within two seconds (${measured.seenByB_ms} ms after the connector was drawn)`);

  // B drags the right rectangle down; A sees it move while B still holds it, and the
  // connector follows.
  const x2Before = Number(await attr(pageA, connector, "data-x2"));
  const y2Before = Number(await attr(pageA, connector, "data-y2"));
  const yBefore = Number(await attr(pageA, right, "data-y"));
  const grab = await centerOf(pageB, right);
  await pageB.mouse.move(...grab);
  await pageB.mouse.down();
  await pageB.mouse.move(grab[0] + 40, grab[1] + 90, { steps: 6 });
  await pageB.mouse.move(grab[0] + 60, grab[1] + 180, { steps: 6 });
  await waitAttr(pageA, right, "data-y", (v) => v > yBefore + 100, "A to see B's drag in progress");
  step("A sees B's drag while it is in progress (awareness)");
  await pageB.mouse.up();
  // Written when the drag ends: A ends up with the rectangle exactly 180 lower.
  await waitAttr(pageA, right, "data-y", (v) => Math.abs(v - (yBefore + 180)) <= 1, "the drop to arrive");
  await waitAttr(pageA, connector, "data-y2", (v) => v > y2Before + 100, "the connector to follow");
  const x2After = Number(await attr(pageA, connector, "data-x2"));
  const rightBox = [Number(await attr(pageA, right, "data-x")), Number(await attr(pageA, right, "data-y"))];
  measured.connectorEnd = { before: [x2Before, y2Before], after: [x2After, Number(await attr(pageA, connector, "data-y2"))] };
  step("B moves a shape and A sees the connector follow");

  // Cursors: each sees the other's, with a name.
  await pageA.mouse.move(...(await canvasPoint(pageA, 0.4, 0.7)));
  await pageB.mouse.move(...(await canvasPoint(pageB, 0.6, 0.75)));
  await pageA.waitForSelector('[data-testid="remote-cursor"][data-name="Ben Okafor"]', { timeout: LIVE_MS });
  await pageB.waitForSelector('[data-testid="remote-cursor"][data-name="Ana Ferreira"]', { timeout: LIVE_MS });
  await pageA.screenshot({ path: join(shots, "board-two-cursors.png") });
  step("each sees the other's named cursor (screenshot board-two-cursors.png)");

  // Undo is per person: Ana's undo takes back her connector, not Ben's move.
  await pageA.getByTestId("board-canvas").focus();
  await pageA.keyboard.press("Control+z");
  await pageA.waitForSelector(`[data-shape-id="${connector}"]`, { state: "detached", timeout: LIVE_MS });
  if (Math.abs(Number(await attr(pageA, right, "data-y")) - rightBox[1]) > 1) fail("Ana's undo moved Ben's shape");
  await pageA.keyboard.press("Control+Shift+z");
  await pageB.waitForSelector(`[data-shape-id="${connector}"]`, { timeout: LIVE_MS });
  step("undo and redo are per person: Ana's undo leaves Ben's move alone");

  // The facilitator locks the sticky note: Ben's drag does not move it.
  const stickyX = Number(await attr(pageA, sticky, "data-x"));
  await pageA.mouse.click(...(await centerOf(pageA, sticky)));
  await pageA.getByTestId("lock").click();
  await pageB.waitForSelector(`[data-shape-id="${sticky}"][data-locked="true"]`, { timeout: LIVE_MS });
  const s0 = await centerOf(pageB, sticky);
  await pageB.mouse.move(...s0);
  await pageB.mouse.down();
  await pageB.mouse.move(s0[0] + 120, s0[1], { steps: 5 });
  await pageB.mouse.up();
  await pageA.waitForTimeout(300);
  if (Number(await attr(pageA, sticky, "data-x")) !== stickyX) fail("a locked sticky note moved");
  step("a locked shape does not move");

  // Dot vote: two dots each; Ana puts both on the sticky, Ben one on the sticky and one on the
  // left rectangle. The server counts; the closed vote shows 3 and 1.
  await pageA.getByTestId("dots-per-person").fill("2");
  await pageA.getByTestId("open-vote").click();
  for (const page of [pageA, pageB]) await page.getByTestId("dots-left").waitFor({ timeout: LIVE_MS });
  for (const [page, id] of [
    [pageA, sticky],
    [pageA, sticky],
    [pageB, sticky],
    [pageB, left],
  ]) {
    const before = await page.getByTestId("dots-left").textContent();
    await page.mouse.click(...(await centerOf(page, id)));
    await page.waitForFunction((b) => document.querySelector('[data-testid="dots-left"]')?.textContent !== b, before);
  }
  for (const page of [pageA, pageB]) {
    await page.waitForFunction(() => /\b0\b/.test(document.querySelector('[data-testid="dots-left"]')?.textContent ?? ""));
  }
  // A third dot is refused by the server.
  const refused = await ben.request.post(`/api/v1/boards/${item.id}/votes/${(await apiCall(ben, base, "GET", `/boards/${item.id}`)).vote.id}/dots`, {
    headers: { origin: base },
    data: { shape: right },
  });
  if (refused.status() !== 409) fail(`a third dot got ${refused.status()}`);
  await pageA.getByTestId("close-vote").click();
  for (const page of [pageA, pageB]) {
    await page.waitForSelector(`[data-testid="vote-results"] li[data-shape="${sticky}"][data-dots="3"]`, { timeout: LIVE_MS });
    await page.waitForSelector(`[data-testid="vote-results"] li[data-shape="${left}"][data-dots="1"]`, { timeout: LIVE_MS });
  }
  await pageB.screenshot({ path: join(shots, "board-vote-results.png") });
  step("the facilitator opens a vote, both cast dots, the closed vote shows 3 and 1");

  // The shared timer, in the server's clock.
  await pageA.getByTestId("start-timer").click();
  await pageB.waitForFunction(() => /^[45]:\d\d$/.test(document.querySelector('[data-testid="timer"]')?.textContent ?? ""), null, { timeout: LIVE_MS });
  step("the facilitator starts a 5-minute timer and Ben sees it count down");

  // Bring everyone to me: Ben's view follows Ana's zoom.
  await pageA.getByTestId("board-canvas").focus();
  for (let i = 0; i < 3; i++) await pageA.keyboard.press("+");
  const zoomA = await pageA.getByTestId("zoom").textContent();
  await pageA.getByTestId("summon").click();
  await pageB.waitForFunction((z) => document.querySelector('[data-testid="zoom"]')?.textContent === z, zoomA, { timeout: LIVE_MS });
  step(`"bring everyone to me": Ben's view follows Ana's (${zoomA})`);

  // Exports: a real PNG, and the thumbnail on the project page.
  const png = await ana.request.get(`/api/v1/boards/${item.id}/export.png`);
  const bytes = await png.body();
  if (png.status() !== 200 || png.headers()["content-type"] !== "image/png") fail(`export.png: ${png.status()}`);
  if (!bytes.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))) fail("export.png is not a PNG");
  const [w, h] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  if (w < 100 || h < 100 || bytes.length < 2000) fail(`export.png is ${w}x${h}, ${bytes.length} bytes`);
  measured.png = { width: w, height: h, bytes: bytes.length };
  await pageA.goto(`/projects/${project.id}`);
  await pageA.waitForFunction(() => {
    const img = document.querySelector('[data-testid="board-thumbnail"]');
    return img?.complete && img.naturalWidth > 0;
  });
  step(`the PNG export is a valid ${w}x${h} image; the project page shows a thumbnail`);

  // A template asked for where notes already are lands beside them, covering none.
  const boxOf = async (id) =>
    Promise.all(["data-x", "data-y", "data-w", "data-h"].map(async (a) => Number(await attr(pageB, id, a))));
  const there = (await pageB.$$eval("[data-shape-id][data-w]", (els) => els.map((e) => e.getAttribute("data-shape-id")))).filter(Boolean);
  const before = await Promise.all(there.map(boxOf));
  await pageB.locator("select", { has: pageB.locator("option", { hasText: "Insert a template" }) }).selectOption("brainstorm");
  await pageB.waitForFunction(
    (ids) => [...document.querySelectorAll('[data-type="frame"]')].some((e) => !ids.includes(e.getAttribute("data-shape-id"))),
    there,
    { timeout: 5_000 },
  );
  const templateFrame = (await shapeIds(pageB, "frame")).find((id) => !there.includes(id));
  const placed = await boxOf(templateFrame);
  for (const b of before) {
    const overlaps = placed[0] < b[0] + b[2] && b[0] < placed[0] + placed[2] && placed[1] < b[1] + b[3] && b[1] < placed[1] + placed[3];
    if (overlaps) fail(`the template (${placed}) covers a shape already there (${b})`);
  }
  step("a template lands in free space, beside the notes already there");

  // A frame placed at the very top keeps its title in view; the selection bar sits beside the
  // selection, never on it, and not on the top of the canvas where that title is.
  const framesBefore = await shapeIds(pageB, "frame");
  await pageB.locator('[data-tool="frame"]').click();
  const [tx, ty] = await canvasPoint(pageB, 0.5, 0.02);
  await pageB.mouse.click(tx, ty);
  await pageB.waitForFunction(
    (ids) => [...document.querySelectorAll('[data-type="frame"]')].some((e) => !ids.includes(e.getAttribute("data-shape-id"))),
    framesBefore,
    { timeout: 5_000 },
  );
  const topFrame = (await shapeIds(pageB, "frame")).find((id) => !framesBefore.includes(id));
  const canvasBox = await pageB.getByTestId("board-canvas").boundingBox();
  const title = await pageB.locator(`[data-shape-id="${topFrame}"] .frame-title`).boundingBox();
  if (!title || title.y < canvasBox.y) fail(`the new frame's title is cut off: ${JSON.stringify({ title, canvasBox })}`);
  const bar = await pageB.getByRole("toolbar", { name: "Selected shapes" }).boundingBox();
  const body = await pageB.locator(`[data-shape-id="${topFrame}"] .frame-body`).boundingBox();
  const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  if (!bar || overlap(bar, title) || overlap(bar, body)) {
    fail(`the selection bar covers the selection: ${JSON.stringify({ bar, title, body })}`);
  }
  step("a frame placed at the top keeps its title in view, and the selection bar sits beside it");

  await pageB.goto(path);
  await pageB.waitForSelector(`[data-shape-id="${sticky}"]`);
  measured.pan_baseline = await panFrames(pageB, "fit");
  const found = await seriousViolations(pageB);
  if (found.length) fail(`axe: serious or critical violations on the board: ${JSON.stringify(found, null, 2)}`);
  step("axe-core: no serious or critical violations on the board page");

  // A phone (touch, 390×844): the board is the page, and a note tapped into place keeps what is
  // typed, through a keyboard that shrinks the screen and an input method composing a word.
  const phone = await newContext(browser, base, {
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
  });
  await phone.request.post("/api/v1/auth/login", {
    headers: { origin: base },
    data: { email: "ana@hubs.example", password: "a long enough passphrase" },
  });
  const pageP = await phone.newPage();
  await pageP.goto(path);
  await pageP.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  const onPhone = await pageP.getByTestId("board-canvas").boundingBox();
  const screen = pageP.viewportSize();
  measured.phone_canvas_share = Math.round((onPhone.height * onPhone.width * 100) / (screen.height * screen.width));
  if (onPhone.height < screen.height * 0.7 || onPhone.y + onPhone.height > screen.height + 1) {
    fail(`on a phone the canvas has too little of the screen: ${JSON.stringify({ onPhone, screen })}`);
  }
  if (await pageP.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)) {
    fail("the board page scrolls sideways on a phone");
  }
  await pageP.screenshot({ path: join(shots, "board-phone.png") });
  await pageP.locator('[data-tool="sticky"]').tap();
  await pageP.touchscreen.tap(onPhone.x + onPhone.width * 0.5, onPhone.y + onPhone.height * 0.6);
  await pageP.getByTestId("text-editor").waitFor({ timeout: 5_000 });
  await pageP.setViewportSize({ width: 390, height: 480 });
  await pageP.keyboard.type("Hot desk in ");
  const ime = await phone.newCDPSession(pageP);
  await ime.send("Input.imeSetComposition", { text: "Nan", selectionStart: 3, selectionEnd: 3 });
  await ime.send("Input.imeSetComposition", { text: "Nantes", selectionStart: 6, selectionEnd: 6 });
  await pageP.setViewportSize(screen);
  await pageP.touchscreen.tap(onPhone.x + 30, onPhone.y + 30);
  await pageP.getByTestId("text-editor").waitFor({ state: "detached", timeout: 5_000 });
  // What the server kept, read from the board's SVG (lines wrap into separate text runs, so
  // spaces are not compared).
  const kept = async () => {
    const svg = await (await phone.request.get(`/api/v1/boards/${item.id}/export.svg`)).text();
    return svg.replace(/<[^>]*>|\s/g, "").includes("HotdeskinNantes");
  };
  const keptBy = Date.now() + 5_000;
  while (!(await kept())) {
    if (Date.now() > keptBy) fail("the note tapped in on a phone lost its text");
    await new Promise((r) => setTimeout(r, 100));
  }
  const sheet = pageP.locator("#board-side");
  if (await sheet.isVisible()) fail("on a phone the side panel starts closed, over nothing");
  await pageP.getByRole("button", { name: "Side panel" }).tap();
  await sheet.waitFor({ state: "visible", timeout: 5_000 });
  step(`on a phone the canvas has ${measured.phone_canvas_share}% of the screen, and a tapped note keeps its text`);
  assertNoProblems(ana, ben, phone);

  // Scale: a 2,000-shape board, panned with the wheel; frame times from requestAnimationFrame.
  const big = await newContext(browser, base, { viewport: { width: 1280, height: 860 } });
  const login = await big.request.post("/api/v1/auth/login", {
    headers: { origin: base },
    data: { email: scaleEmail, password: scalePassword },
  });
  if (!login.ok()) fail(`login: ${login.status()}`);
  const pageC = await big.newPage();
  const opened = Date.now();
  await pageC.goto(scalePath);
  await pageC.waitForFunction(() => document.querySelectorAll("[data-shape-id]").length >= 2000, null, { timeout: 30_000 });
  measured.open2000_ms = Date.now() - opened;
  for (const zoom of ["fit", "100%"]) measured[`pan2000_${zoom}`] = await panFrames(pageC, zoom);
  await pageC.screenshot({ path: join(shots, "board-2000-shapes.png") });
  step(
    `a 2,000-shape board pans: frame times ${JSON.stringify(measured.pan2000_fit)} at fit, ` +
      `${JSON.stringify(measured["pan2000_100%"])} at 100%, against ${JSON.stringify(measured.pan_baseline)} ` +
      "for the four-shape board",
  );
  assertNoProblems(big);
  console.log(JSON.stringify({ ok: true, steps: steps.length, measured }));
} catch (err) {
  for (const [i, context] of browser.contexts().entries()) {
    for (const [j, page] of context.pages().entries()) {
      await page.screenshot({ path: join(shots, `board-failure-${i}-${j}.png`) }).catch(() => {});
    }
  }
  console.error(err);
  process.exitCode = 1;
} finally {
  await browser.close();
}
