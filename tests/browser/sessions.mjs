// Browser test of sessions, against the real server:
//   node sessions.mjs BASE_URL SCREENSHOT_DIR
// Ana schedules a peer-learning session from her project's page (Lisbon time); Ben, a member
// in Madrid, sees it under Upcoming with the bell showing 1, answers going, and when the
// session's start is moved to now (the test moves the start, not the clock) joins its room
// from the session page.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { acceptInvites, apiCall, assertNoProblems, fail, launch, newContext, seriousViolations, signupByApi } from "./lib.mjs";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) fail("usage: node sessions.mjs BASE_URL SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });
const steps = [];
function step(name) {
  steps.push(name);
  console.log(`- ${name}`);
}

/** `ms` on a wall clock in `zone`, as `YYYY-MM-DDTHH:MM`. */
function wallClock(ms, zone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** An hour on a clock as English shows it: 18:00 or 6:00 PM. */
const at = (hour) => new RegExp(`(^|\\D)(${hour}:00|${hour - 12}:00\\s?PM)`);

const browser = await launch();
try {
  const ana = await newContext(browser, base, { viewport: { width: 1280, height: 900 }, timezoneId: "Europe/Lisbon" });
  const ben = await newContext(browser, base, { viewport: { width: 1280, height: 900 }, timezoneId: "Europe/Madrid" });
  await signupByApi(ana, base, "ana@hubs.example", "Ana Ferreira");
  await signupByApi(ben, base, "ben@hubs.example", "Ben Okafor");
  const project = await apiCall(ana, base, "POST", "/projects", { title: "Creative hubs of the Atlantic", visibility: "private" });
  await apiCall(ana, base, "POST", `/projects/${project.id}/members`, { email: "ben@hubs.example", role: "editor" });
  if ((await acceptInvites(ben, base)) !== 1) fail("Ben's invitation is waiting for him");

  // Ana schedules it from the project page: next week, 18:00 Lisbon, an hour, capacity 10.
  const pageA = await ana.newPage();
  await pageA.goto(`/projects/${project.id}`);
  await pageA.getByRole("button", { name: "Schedule a session" }).click();
  const form = pageA.getByRole("form", { name: "Schedule a session" });
  const nextWeek = wallClock(Date.now() + 7 * 86_400_000, "Europe/Lisbon").slice(0, 10);
  await form.getByLabel("Title").fill("Pricing creative services");
  await form.getByLabel("Starts (date and time)").fill(`${nextWeek}T18:00`);
  await form.getByLabel("Time zone").fill("Europe/Lisbon");
  await form.getByLabel("Duration (minutes)").fill("60");
  await form.getByLabel("Places (empty: no limit)").fill("10");
  await form.getByLabel("Agenda").fill("1. Rounds\n2. Day rates across our cities");
  await form.getByRole("button", { name: "Schedule and invite" }).click();
  await pageA.waitForURL(/\/sessions\//, { timeout: 10_000 });
  await pageA.getByRole("heading", { name: "Pricing creative services" }).waitFor();
  const sessionUrl = new URL(pageA.url());
  const sessionId = sessionUrl.pathname.split("/").pop();
  const whenA = await pageA.getByTestId("session-when").textContent();
  if (!at(18).test(whenA)) fail(`Ana (Lisbon) should see 18:00: ${whenA}`);
  step("Ana schedules a session from the project page, at 18:00 Lisbon time");

  // Ben: the bell shows 1, Upcoming lists it, his page shows 19:00 (Madrid) and Ana's 18:00.
  const pageB = await ben.newPage();
  await pageB.goto("/");
  await pageB.getByTestId("bell-count").filter({ hasText: "1" }).waitFor({ timeout: 5_000 });
  const upcoming = pageB.getByTestId("upcoming").getByRole("link", { name: "Pricing creative services" });
  await upcoming.waitFor({ timeout: 5_000 });
  await pageB.screenshot({ path: join(shots, "sessions-upcoming.png") });
  await upcoming.click();
  await pageB.waitForURL(/\/sessions\//);
  const whenB = await pageB.getByTestId("session-when").textContent();
  if (!at(19).test(whenB) || !at(18).test(whenB) || !whenB.includes("Europe/Lisbon")) {
    fail(`Ben (Madrid) should see 19:00, and 18:00 for the organiser in Lisbon: ${whenB}`);
  }
  step("Ben sees it under Upcoming with the bell at 1, at 19:00 his time and 18:00 Ana's");

  await pageB.getByRole("button", { name: "Going", exact: true }).click();
  await pageB.locator('[data-testid="my-status"][data-status="going"]').waitFor({ timeout: 5_000 });
  if (!(await pageB.getByTestId("room-closed").isVisible())) fail("the room is open a week early");
  const peopleA = await apiCall(ana, base, "GET", `/sessions/${sessionId}`);
  if (!peopleA.attendees.some((a) => a.user.display_name === "Ben Okafor" && a.status === "going")) {
    fail(`Ana does not see Ben going: ${JSON.stringify(peopleA.attendees)}`);
  }
  step("Ben answers going; the room stays closed a week ahead");

  // The session moves to start in two minutes: the room opens (10 minutes early) and Ben joins.
  const soon = wallClock(Date.now() + 2 * 60_000, "Europe/Lisbon");
  await apiCall(ana, base, "PATCH", `/sessions/${sessionId}`, { starts: soon });
  await pageB.reload();
  const joinButton = pageB.getByTestId("join-session");
  await joinButton.waitFor({ timeout: 10_000 });
  const found = await seriousViolations(pageB);
  if (found.length) fail(`axe: serious or critical violations on the session page: ${JSON.stringify(found, null, 2)}`);
  await pageB.screenshot({ path: join(shots, "session-page.png"), fullPage: true });
  await joinButton.click();
  await pageB.waitForURL(/\/rooms\//, { timeout: 10_000 });
  await pageB.getByTestId("join").waitFor({ timeout: 10_000 });
  const expected = pageB.getByTestId("room-expected");
  await expected.waitFor({ timeout: 5_000 });
  const names = await expected.textContent();
  if (!names.includes("Ana Ferreira") || !names.includes("Ben Okafor")) fail(`the room does not say who is expected: ${names}`);
  step("the start moves to now: the room opens, shows who is expected, and Ben joins it from the session page");

  // The move reached Ben's bell too, and the project's calendar lists the session.
  const notes = await apiCall(ben, base, "GET", "/me/notifications");
  if (!notes.items.some((n) => n.kind === "session" && n.subject.session_change === "updated")) {
    fail(`Ben was not told of the change: ${JSON.stringify(notes.items)}`);
  }
  await pageA.goto(`/projects/${project.id}`);
  await pageA.getByTestId("project-calendar").getByRole("link", { name: "Pricing creative services" }).waitFor();
  step("Ben was told of the change; the project's calendar lists the session");
  assertNoProblems(ana, ben);
  console.log(JSON.stringify({ ok: true, steps }));
} finally {
  await browser.close();
}
