// Browser test of comments and history on a document, against the real server:
//   node comments.mjs BASE_URL SCREENSHOT_DIR
// Ana (owner) selects a sentence and comments; Ben (a commenter) sees the highlight and the
// thread live, replies, and cannot change the text; Ana resolves the thread and both see it move
// to resolved; after a reload everything is still there. Cy (a viewer) sees the threads but has
// no comment box. Ana names a version in the history panel.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { acceptInvites, apiCall, assertNoProblems, fail, launch, newContext, signupByApi } from "./lib.mjs";

const [base, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const LIVE_MS = 5000;
const steps = [];
function step(name) {
  steps.push(name);
  console.log(`- ${name}`);
}

/** The thread in a page's side panel whose comments include `text`. */
const panelThread = (page, text) => page.getByTestId("comments-panel").locator(".bn-thread", { hasText: text });

const browser = await launch();
try {
  const contexts = {};
  for (const [who, email, name] of [
    ["ana", "ana@hubs.example", "Ana Ferreira"],
    ["ben", "ben@hubs.example", "Ben Okafor"],
    ["cy", "cy@hubs.example", "Cy Viewer"],
  ]) {
    contexts[who] = await newContext(browser, base, { viewport: { width: 1280, height: 860 } });
    await signupByApi(contexts[who], base, email, name);
  }
  const { ana, ben, cy } = contexts;
  const project = await apiCall(ana, base, "POST", "/projects", { title: "Atlantic residencies", visibility: "private" });
  for (const [ctx, email, role] of [
    [ben, "ben@hubs.example", "commenter"],
    [cy, "cy@hubs.example", "viewer"],
  ]) {
    await apiCall(ana, base, "POST", `/projects/${project.id}/members`, { email, role });
    if ((await acceptInvites(ctx, base)) !== 1) fail(`${email} joins`);
  }
  const item = await apiCall(ana, base, "POST", `/projects/${project.id}/items`, { kind: "document", title: "Proposal" });
  const path = `/projects/${project.id}/documents/${item.id}`;
  const pageA = await ana.newPage();
  const pageB = await ben.newPage();
  for (const page of [pageA, pageB]) {
    await page.goto(path);
    await page.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  }
  await pageA.locator(".editor-with-panel > .bn-container > .bn-editor").click();
  await pageA.keyboard.type("The budget line needs the Nantes figure.");
  await pageB.getByText("The budget line needs the Nantes figure.").waitFor({ timeout: LIVE_MS });
  step("Ana writes a sentence; Ben sees it");

  await pageA.keyboard.press("Shift+Home");
  await pageA.getByRole("button", { name: "Add comment" }).click();
  await pageA.keyboard.type("Which figure: 2026 or 2027? Ask ");
  await pageA.keyboard.type("@Ben");
  // Typing "@" offers the project's members; Enter picks the one shown first.
  await pageA.locator(".bn-suggestion-menu-item", { hasText: "Ben Okafor" }).waitFor({ timeout: LIVE_MS });
  if ((await pageA.locator(".bn-suggestion-menu-item", { hasText: "Cy Viewer" }).count()) !== 0) fail("the @ menu does not filter by name");
  await pageA.keyboard.press("Enter");
  await pageA.locator(".bn-thread .mention", { hasText: "@Ben Okafor" }).waitFor({ timeout: LIVE_MS });
  await pageA.keyboard.press("Enter");
  await pageA.locator(".bn-thread-mark").first().waitFor({ timeout: LIVE_MS });
  step("Ana selects the sentence and comments, mentioning Ben from the @ menu");

  await pageB.locator(".bn-thread-mark", { hasText: "Nantes figure" }).waitFor({ timeout: LIVE_MS });
  await panelThread(pageB, "Which figure: 2026 or 2027?").waitFor({ timeout: LIVE_MS });
  step("Ben sees the highlight and the thread live");

  const mentioned = await apiCall(ben, base, "GET", `/items/${item.id}/threads?mentions_me=true`);
  if (mentioned.length !== 1) fail(`Ben is mentioned in ${mentioned.length} threads`);
  await pageB.getByTestId("comments-filter").selectOption("mentions");
  await panelThread(pageB, "Which figure").locator(".mention", { hasText: "@Ben Okafor" }).waitFor({ timeout: LIVE_MS });
  await pageB.getByTestId("comments-filter").selectOption("open");
  step("Ben finds the thread under Mentions");

  // The bell in Ben's top bar rang live with the mention (his invitation, accepted, is read
  // already); its list names the mention.
  await pageB.getByTestId("bell-count").filter({ hasText: "1" }).waitFor({ timeout: LIVE_MS });
  await pageB.getByRole("button", { name: /Notifications, 1 unread/ }).click();
  const notice = pageB.locator(".bell-panel li.unread", { hasText: "mentioned you in" });
  await notice.waitFor({ timeout: LIVE_MS });
  if (!(await notice.getAttribute("class"))?.includes("unread")) fail("the mention is not unread");
  await pageB.getByRole("button", { name: "Mark all read" }).click();
  await pageB.getByTestId("bell-count").waitFor({ state: "detached", timeout: LIVE_MS });
  await pageB.keyboard.press("Escape");
  step("Ben's bell rang live with the mention, and Mark all read clears it");

  const editable = await pageB.locator(".editor-with-panel > .bn-container > .bn-editor").getAttribute("contenteditable");
  if (editable !== "false") fail(`the commenter's editor is editable: ${editable}`);
  step("Ben's text is read-only");

  // Clicking the highlighted text opens its thread, with a reply box.
  await pageB.locator(".bn-thread-mark", { hasText: "Nantes figure" }).click();
  const floating = pageB.locator(".bn-thread").filter({ hasText: "Which figure" }).and(pageB.locator(":not([data-testid=comments-panel] *)"));
  const replyBox = floating.locator(".bn-editor").nth(1);
  await replyBox.waitFor({ timeout: LIVE_MS });
  await replyBox.click();
  await pageB.keyboard.type("2027, from the Nantes budget");
  await pageB.keyboard.press("Enter");
  await panelThread(pageA, "2027, from the Nantes budget").waitFor({ timeout: LIVE_MS });
  step("Ben replies; Ana sees the reply live");

  // Ben reacts to Ana's comment and edits his reply, from the side panel.
  const bThread = panelThread(pageB, "Which figure");
  await bThread.locator(".bn-thread-comment").first().hover();
  await pageB.getByRole("button", { name: "Add reaction" }).first().click();
  await pageB.locator("em-emoji-picker").locator('button[aria-label="👍"]').first().click();
  await panelThread(pageA, "Which figure").locator(".bn-comment-reaction", { hasText: "👍" }).waitFor({ timeout: LIVE_MS });
  step("Ben reacts to Ana's comment; Ana sees the reaction live");

  await pageB.keyboard.press("Escape");
  const reply = bThread.locator(".bn-thread-comment", { hasText: "2027, from the Nantes budget" });
  await reply.hover();
  await pageB.getByRole("button", { name: "More actions" }).first().click();
  await pageB.getByRole("menuitem", { name: "Edit comment" }).click();
  await reply.locator(".bn-editor[contenteditable='true']").click();
  await pageB.keyboard.press("End");
  await pageB.keyboard.type(" (line 4.2)");
  await reply.getByRole("button", { name: "Save" }).click();
  await panelThread(pageA, "2027, from the Nantes budget (line 4.2)").waitFor({ timeout: LIVE_MS });
  step("Ben edits his reply; Ana sees the edit live");

  const threads = await apiCall(ana, base, "GET", `/items/${item.id}/threads`);
  if (threads.length !== 1 || threads[0].comments.length !== 2) fail(`server threads: ${JSON.stringify(threads)}`);
  if (threads[0].quote !== "The budget line needs the Nantes figure.") fail(`anchored on ${threads[0].quote}`);

  // The comment's actions show on hover (BlockNote marks its buttons with `data-test`).
  const aThread = panelThread(pageA, "Which figure");
  await aThread.locator(".bn-thread-comment").first().hover();
  await pageA.getByRole("button", { name: "Resolve" }).first().click();
  for (const page of [pageA, pageB]) {
    await panelThread(page, "Which figure").waitFor({ state: "detached", timeout: LIVE_MS });
    await page.getByTestId("comments-filter").selectOption("resolved");
    await panelThread(page, "Which figure").waitFor({ timeout: LIVE_MS });
  }
  step("Ana resolves the thread; both see it move to resolved");

  await pageB.reload();
  await pageB.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  await pageB.getByTestId("comments-filter").selectOption("resolved");
  await panelThread(pageB, "Which figure").waitFor({ timeout: LIVE_MS });
  await pageB.locator(".bn-thread-mark", { hasText: "Nantes figure" }).waitFor({ state: "attached", timeout: LIVE_MS });
  const kept = await apiCall(ben, base, "GET", `/items/${item.id}/threads`);
  if (!kept[0]?.resolved || kept[0].comments.length !== 2) fail(`after reload: ${JSON.stringify(kept)}`);
  step("after a reload the resolved thread, its reply and its place in the text are still there");

  const pageC = await cy.newPage();
  await pageC.goto(path);
  await pageC.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  await pageC.getByTestId("comments-filter").selectOption("resolved");
  const cThread = panelThread(pageC, "Which figure");
  await cThread.waitFor({ timeout: LIVE_MS });
  if ((await cThread.locator(".bn-editor[contenteditable='true']").count()) !== 0) fail("the viewer has a comment box");
  step("Cy, a viewer, sees the thread without a comment box");

  await pageA.getByRole("tab", { name: "History" }).click();
  await pageA.getByLabel("Version name").fill("Submitted to Creative Europe");
  await pageA.getByRole("button", { name: "Name this version" }).click();
  await pageA.getByTestId("version").filter({ hasText: "Submitted to Creative Europe" }).waitFor({ timeout: LIVE_MS });
  await pageA.screenshot({ path: join(shots, "document-history.png") });
  const versionPdf = await pageA.getByTestId("version").filter({ hasText: "Submitted to Creative Europe" }).getByTestId("version-pdf").getAttribute("href");
  const pdf = await ana.request.get(versionPdf);
  if (pdf.status() !== 200 || !(await pdf.body()).subarray(0, 5).equals(Buffer.from("%PDF-"))) fail(`the version's PDF: ${pdf.status()}`);
  step("Ana names a version in the history panel; it downloads as a PDF");

  await pageA.setViewportSize({ width: 390, height: 844 });
  await pageA.getByTestId("history-panel").waitFor();
  const box = await pageA.locator(".doc-panel").boundingBox();
  if (!box || box.width > 390) fail(`the panel does not fit a phone: ${JSON.stringify(box)}`);
  await pageA.screenshot({ path: join(shots, "document-panel-phone.png"), fullPage: true });
  step("the panel fits a phone's width");

  // Boards: a thread pinned on the canvas, seen live by the commenter through its pin, answered
  // in the side panel; a version of the board drawn in the history panel.
  const boardItem = await apiCall(ana, base, "POST", `/projects/${project.id}/items`, { kind: "board", title: "Ideas" });
  const boardPath = `/projects/${project.id}/boards/${boardItem.id}`;
  const boardA = await ana.newPage();
  const boardB = await ben.newPage();
  for (const page of [boardA, boardB]) {
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(boardPath);
    await page.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  }
  await boardA.getByTestId("add-comment").click();
  await boardA.locator(".board-new-thread .bn-editor").click();
  await boardA.keyboard.type("Put the partner hubs here, ");
  await boardA.keyboard.type("@Ben");
  await boardA.locator(".bn-suggestion-menu-item", { hasText: "Ben Okafor" }).waitFor({ timeout: LIVE_MS });
  await boardA.keyboard.press("Enter");
  await boardA.locator(".board-new-thread").getByRole("button", { name: "Comment" }).click();
  await boardA.getByTestId("board-pin").waitFor({ timeout: LIVE_MS });
  step("Ana pins a comment on the board's canvas, mentioning Ben");

  await boardB.getByTestId("board-pin").click();
  const pinned = boardB.getByTestId("comments-panel").locator(".bn-thread", { hasText: "Put the partner hubs here" });
  await pinned.waitFor({ timeout: LIVE_MS });
  await pinned.locator(".mention", { hasText: "@Ben Okafor" }).waitFor();
  await pinned.locator(".bn-editor[contenteditable='true']").click();
  await boardB.keyboard.type("Cork and Bilbao first");
  await boardB.keyboard.press("Enter");
  await boardA.getByRole("tab", { name: "Comments" }).click();
  await boardA.getByTestId("comments-panel").locator(".bn-thread", { hasText: "Cork and Bilbao first" }).waitFor({ timeout: LIVE_MS });
  const boardThreads = await apiCall(ana, base, "GET", `/items/${boardItem.id}/threads`);
  if (boardThreads.length !== 1 || boardThreads[0].pin?.shape !== null || boardThreads[0].comments.length !== 2)
    fail(`board threads: ${JSON.stringify(boardThreads)}`);
  step("Ben sees the pin live, opens its thread and replies; Ana sees the reply");

  await boardA.getByRole("tab", { name: "History" }).click();
  await boardA.getByLabel("Version name").fill("After the kick-off");
  await boardA.getByRole("button", { name: "Name this version" }).click();
  const boardVersion = boardA.getByTestId("version").filter({ hasText: "After the kick-off" });
  await boardVersion.getByRole("button", { name: "View" }).click();
  const drawing = boardA.getByTestId("version-board");
  await drawing.waitFor({ timeout: LIVE_MS });
  await boardA.waitForFunction((img) => img.complete && img.naturalWidth > 0, await drawing.elementHandle(), { timeout: LIVE_MS });
  await boardA.screenshot({ path: join(shots, "board-comments-history.png") });
  step("Ana names a version of the board and sees it drawn");

  assertNoProblems(ana, ben, cy);
  console.log(JSON.stringify({ ok: true, steps: steps.length }));
} catch (err) {
  for (const [i, context] of browser.contexts().entries()) {
    for (const [j, page] of context.pages().entries()) {
      await page.screenshot({ path: join(shots, `comments-failure-${i}-${j}.png`) }).catch(() => {});
    }
  }
  console.error(err);
  process.exitCode = 1;
} finally {
  await browser.close();
}
