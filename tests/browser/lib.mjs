// Shared helpers of the browser tests: Debian's Chromium through playwright-core, accounts made
// through the real UI or API, and axe-core run inside the page.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const CHROMIUM = process.env.HUBRING_CHROMIUM ?? "/usr/bin/chromium";

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** Chromium with a fake camera and microphone, granted without asking, and a fake screen that
 * screen sharing picks without asking. */
export async function launchWithFakeMedia() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      "--auto-select-desktop-capture-source=Entire screen",
    ],
  });
}

export function fail(message) {
  throw new Error(message);
}

/** A context that fails the test on any page error or CSP violation. */
export async function newContext(browser, base, options = {}) {
  const context = await browser.newContext({ baseURL: base, locale: "en-US", ...options });
  context.problems = [];
  context.on("page", (page) => watch(context, page));
  return context;
}

function watch(context, page) {
  page.on("pageerror", (err) => context.problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    const text = msg.text();
    if (msg.type() === "error" && /Content Security Policy|Refused to/.test(text)) {
      context.problems.push(`CSP: ${text}`);
    }
  });
}

export function assertNoProblems(...contexts) {
  const problems = contexts.flatMap((c) => c.problems);
  if (problems.length) fail(`the pages reported problems:\n${problems.join("\n")}`);
}

/** Signs up through the API of this context (its cookie jar then holds the session). */
export async function signupByApi(context, base, email, name) {
  const res = await context.request.post("/api/v1/auth/signup", {
    headers: { origin: base },
    data: { email, password: "a long enough passphrase", display_name: name },
  });
  if (res.status() !== 201) fail(`signup ${email}: ${res.status()} ${await res.text()}`);
  return res.json();
}

export async function apiCall(context, base, method, path, data) {
  const res = await context.request.fetch(`/api/v1${path}`, {
    method,
    headers: { origin: base },
    data,
  });
  if (!res.ok()) fail(`${method} ${path}: ${res.status()} ${await res.text()}`);
  return res.status() === 204 ? null : res.json();
}

/** Accepts every invitation waiting for the person signed in on `context`. */
export async function acceptInvites(context, base) {
  const invites = await apiCall(context, base, "GET", "/me/invites");
  for (const invite of invites) await apiCall(context, base, "POST", `/me/invites/${invite.id}/accept`);
  return invites.length;
}

/** axe-core on the current page: every serious or critical violation, described. */
export async function seriousViolations(page) {
  // Evaluated through the debugging protocol, so the page's CSP (script-src 'self') still
  // holds for everything the app itself does.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** The document's text, block by block, without the other people's cursors and names. */
export function editorText(page) {
  return page.evaluate(() => {
    const root = document.querySelector(".bn-editor")?.cloneNode(true);
    if (!root) return null;
    for (const cursor of root.querySelectorAll(".bn-collaboration-cursor__base")) cursor.remove();
    return [...root.querySelectorAll(".bn-block-content")].map((b) => b.textContent).join("\n");
  });
}

/** Waits until the editor of `page` contains every one of `texts`. */
export async function waitForText(page, texts, timeout) {
  await page.waitForFunction(
    (wanted) => {
      const text = document.querySelector(".bn-editor")?.textContent ?? "";
      return wanted.every((w) => text.includes(w));
    },
    texts,
    { timeout },
  );
}

export async function waitForStatus(page, testId, status, timeout = 10_000) {
  await page.waitForSelector(`[data-testid="${testId}"][data-status="${status}"]`, { timeout });
}
