// Browser test of the web app and its live documents, against the real server:
//   node documents.mjs BASE_URL SCREENSHOT_DIR
// Two people sign up in two browser contexts, share a project and co-edit a document; then a
// viewer, an offline spell, the server's save acknowledgements, and axe-core on every page.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  apiCall,
  assertNoProblems,
  editorText,
  fail,
  launch,
  newContext,
  seriousViolations,
  signupByApi,
  waitForStatus,
  waitForText,
} from "./lib.mjs";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) fail("usage: node documents.mjs BASE_URL SCREENSHOT_DIR");
mkdirSync(shots, { recursive: true });

/** What "live" means here: each sees the other's edit and cursor within this. */
const LIVE_MS = 2000;
const PASSWORD = "a long enough passphrase";
/** A real 1×1 PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4/58BAAT/Af9jgNErAAAAAElFTkSuQmCC",
  "base64",
);
const steps = [];
function step(name) {
  steps.push(name);
  console.log(`- ${name}`);
}
const a11y = [];
async function checkA11y(page, name) {
  const found = await seriousViolations(page);
  a11y.push({ page: name, serious: found.length });
  if (found.length) fail(`axe: serious or critical violations on ${name}: ${JSON.stringify(found, null, 2)}`);
}

/** Drops a file onto the editor's first block, as a person dragging it from their desktop
 * would: `text` as its content, or `zeros` bytes of zeros. */
async function dropFile(page, { name, type, text, zeros }) {
  await page.evaluate(([name, type, text, zeros]) => {
    const file = new File([text ?? new Uint8Array(zeros)], name, { type });
    const target = document.querySelector(".bn-editor .bn-block-content");
    const data = new DataTransfer();
    data.items.add(file);
    const rect = target.getBoundingClientRect();
    const at = { clientX: rect.left + 5, clientY: rect.top + rect.height / 2, bubbles: true, cancelable: true };
    target.dispatchEvent(new DragEvent("dragover", { ...at, dataTransfer: data }));
    target.dispatchEvent(new DragEvent("drop", { ...at, dataTransfer: data }));
  }, [name, type, text, zeros ?? 0]);
}

async function until(test, timeout, what) {
  const end = Date.now() + timeout;
  while (!test()) {
    if (Date.now() > end) fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const browser = await launch();
try {
  const ana = await newContext(browser, base);
  const ben = await newContext(browser, base);
  const pageA = await ana.newPage();
  const pageB = await ben.newPage();

  step("a signed-out visitor is sent to sign in");
  await pageA.goto("/people?skill=ceramics");
  await pageA.waitForURL(/\/signin\?next=/);
  await checkA11y(pageA, "sign-in");

  step("Ana signs up through the form and lands where she was going");
  await pageA.getByRole("link", { name: "Create an account" }).click();
  await pageA.getByLabel("Your name").fill("Ana Lisboa");
  await pageA.getByLabel("Email").fill("ana@hub.example");
  await pageA.getByLabel("Password").fill(PASSWORD);
  await pageA.getByRole("button", { name: "Create an account" }).click();
  await pageA.waitForURL((url) => url.pathname === "/people" && url.search === "?skill=ceramics");
  await pageA.getByRole("heading", { name: /people/ }).waitFor();
  await checkA11y(pageA, "directory");

  step("Ana creates a project from her home page");
  await pageA.getByRole("link", { name: "Home" }).click();
  await pageA.getByRole("heading", { name: "Welcome, Ana Lisboa" }).waitFor();
  await checkA11y(pageA, "home");
  await pageA.getByRole("link", { name: "New project" }).click();
  await pageA.getByLabel("Title").fill("Atlantic residencies 2027");
  await pageA.getByLabel("Summary").fill("A funding proposal for artist exchanges between Lisbon, Nantes and Vigo.");
  await pageA.getByRole("button", { name: "Create the project" }).click();
  await pageA.waitForURL((url) => /^\/projects\/[^/]+$/.test(url.pathname) && url.pathname !== "/projects/new");
  await pageA.getByRole("heading", { name: "Atlantic residencies 2027" }).waitFor();
  const projectUrl = new URL(pageA.url()).pathname;

  step("Ana invites Ben (no account yet) as an editor");
  await pageA.getByLabel("Email", { exact: true }).fill("ben@hub.example");
  await pageA.getByRole("button", { name: "Invite by email" }).click();
  await pageA.getByText("ben@hub.example was invited: they join once they accept.").waitFor();
  // This server sends no email: Ana is given the invitation's own link to pass on herself.
  await pageA.getByText("This server sends no email: send them this link yourself.", { exact: false }).waitFor();
  const passOn = await pageA.locator(".notice .copy code").first().textContent();
  if (!/\/invite\/hri_[0-9a-f]{64}$/.test(passOn)) fail(`the link to pass on is ${passOn}`);

  step("Ana creates a document and opens it");
  await pageA.getByLabel("Name").fill("Proposal");
  await pageA.getByRole("button", { name: "Add", exact: true }).click();
  await pageA.waitForURL(/\/documents\/[^/]+$/);
  const docUrl = new URL(pageA.url()).pathname;
  await waitForStatus(pageA, "connection", "connected");

  step("Ben opens the document link signed out, signs up, and comes back to it");
  await pageB.goto(docUrl);
  await pageB.waitForURL(/\/signin\?next=/);
  await pageB.getByRole("link", { name: "Create an account" }).click();
  await pageB.getByLabel("Your name").fill("Ben Nantes");
  await pageB.getByLabel("Email").fill("ben@hub.example");
  await pageB.getByLabel("Password").fill(PASSWORD);
  await pageB.getByRole("button", { name: "Create an account" }).click();
  await pageB.waitForURL((url) => url.pathname === docUrl);
  await waitForStatus(pageB, "connection", "connected");

  step("Ana writes an outline; Ben sees it");
  await pageA.locator(".bn-editor").click();
  await pageA.keyboard.type("Timeline:");
  await pageA.keyboard.press("Enter");
  await pageA.keyboard.type("Budget:");
  await waitForText(pageB, ["Timeline:", "Budget:"], LIVE_MS);

  step("both type at the same time, each in a paragraph; each sees the other's text and cursor label within 2 s");
  await pageA.locator(".bn-block-content", { hasText: "Timeline:" }).click();
  await pageA.keyboard.press("End");
  await pageB.locator(".bn-block-content", { hasText: "Budget:" }).click();
  await pageB.keyboard.press("End");
  await Promise.all([
    pageA.keyboard.type(" Lisbon hosts in spring.", { delay: 15 }),
    pageB.keyboard.type(" Nantes hosts in autumn.", { delay: 15 }),
  ]);
  const both = ["Timeline: Lisbon hosts in spring.", "Budget: Nantes hosts in autumn."];
  const typed = Date.now();
  await Promise.all([
    waitForText(pageA, both, LIVE_MS),
    waitForText(pageB, both, LIVE_MS),
    pageA.locator(".bn-collaboration-cursor__label", { hasText: "Ben Nantes" }).waitFor({ timeout: LIVE_MS }),
    pageB.locator(".bn-collaboration-cursor__label", { hasText: "Ana Lisboa" }).waitFor({ timeout: LIVE_MS }),
  ]);
  console.log(`  both texts and both cursor labels seen ${Date.now() - typed} ms after typing`);
  await Promise.all([waitForStatus(pageA, "save", "saved"), waitForStatus(pageB, "save", "saved")]);
  if ((await pageA.getByTestId("presence").locator("li").count()) !== 2) fail("Ana should see two avatars");
  await pageA.screenshot({ path: join(shots, "document-two-cursors.png"), fullPage: true });
  await checkA11y(pageA, "document");

  step("the slash menu makes a heading; an image is uploaded as an asset, not inlined");
  await pageA.locator(".bn-block-content", { hasText: "Budget:" }).click();
  await pageA.keyboard.press("End");
  await pageA.keyboard.press("Enter");
  await pageA.keyboard.type("/heading");
  await pageA.getByRole("option", { name: /Heading 1/ }).first().waitFor();
  await pageA.keyboard.press("Enter");
  await pageA.keyboard.type("Partners");
  await pageB.locator('[data-content-type="heading"]', { hasText: "Partners" }).waitFor({ timeout: LIVE_MS });
  await pageA.keyboard.press("Enter");
  await pageA.keyboard.type("/image");
  await pageA.getByRole("option", { name: /Image/ }).first().waitFor();
  await pageA.keyboard.press("Enter");
  const chooser = pageA.waitForEvent("filechooser");
  await pageA.getByRole("button", { name: /Upload image/i }).click();
  await (await chooser).setFiles({ name: "dot.png", mimeType: "image/png", buffer: PNG });
  const image = pageB.locator('img[src^="/api/v1/assets/"]');
  await image.waitFor({ timeout: 10_000 });
  const src = await image.getAttribute("src");
  const fetched = await ben.request.get(src);
  if (fetched.status() !== 200 || fetched.headers()["content-type"] !== "image/png") {
    fail(`the uploaded image is not served: ${fetched.status()}`);
  }
  if ((await pageA.locator('img[src^="data:"]').count()) > 0) fail("an image was inlined into the document");

  step("after a reload the text is still there");
  await pageA.reload();
  await waitForText(pageA, both, 10_000);

  step("the project page shows the document, its members and the invitation form");
  await pageA.goto(projectUrl);
  await pageA.getByRole("link", { name: "Proposal" }).waitFor();
  await pageA.getByRole("link", { name: "Ben Nantes" }).waitFor();
  await pageA.screenshot({ path: join(shots, "project.png"), fullPage: true });
  await checkA11y(pageA, "project");

  step("a viewer sees the text but cannot change it");
  const cleo = await newContext(browser, base);
  await signupByApi(cleo, base, "cleo@hub.example", "Cleo Vigo");
  const projectId = projectUrl.split("/").pop();
  await apiCall(ana, base, "POST", `/projects/${projectId}/members`, { email: "cleo@hub.example", role: "viewer" });
  const pageC = await cleo.newPage();
  // Cleo has an account, so she is invited, not added: she joins from her home page.
  await pageC.goto("/");
  await pageC.getByText("invites you to Atlantic residencies 2027 as Viewer").waitFor();
  await pageC.getByRole("button", { name: "Join" }).click();
  await pageC.waitForURL((url) => url.pathname === projectUrl);
  await pageC.goto(docUrl);
  await waitForText(pageC, both, 10_000);
  await waitForStatus(pageC, "save", "read-only");
  if ((await pageC.locator(".bn-editor").getAttribute("contenteditable")) !== "false") {
    fail("the viewer's editor must not be editable");
  }
  const before = await editorText(pageC);
  await pageC.locator(".bn-editor").click();
  await pageC.keyboard.type("viewer was here");
  if ((await editorText(pageC)) !== before) fail("typing changed a viewer's document");

  step("Ben goes offline, types, comes back; both converge");
  await pageA.goto(docUrl);
  await waitForStatus(pageA, "connection", "connected");
  await ben.setOffline(true);
  await waitForStatus(pageB, "connection", "offline");
  await pageB.locator(".bn-editor").click();
  await pageB.keyboard.press("End");
  await pageB.keyboard.type("Written on the train. ");
  await waitForStatus(pageB, "save", "unsaved");
  await pageA.locator(".bn-editor").click();
  await pageA.keyboard.press("End");
  await pageA.keyboard.type("Written in the office. ");
  await waitForText(pageA, ["Written in the office."], LIVE_MS);
  if ((await editorText(pageA)).includes("Written on the train.")) fail("an offline edit arrived");
  await ben.setOffline(false);
  const all = [...both, "Written on the train.", "Written in the office."];
  await Promise.all([waitForText(pageA, all, 10_000), waitForText(pageB, all, 10_000)]);
  await waitForStatus(pageB, "save", "saved");
  const [textA, textB] = await Promise.all([editorText(pageA), editorText(pageB)]);
  if (textA !== textB) fail(`after reconnecting the documents differ:\n${textA}\n---\n${textB}`);

  step("\"Saved\" appears only once the server has acknowledged the edit");
  const held = [];
  let holding = true;
  let sentUpdate = false;
  const pageS = await ben.newPage();
  let toPage = null;
  await pageS.routeWebSocket(/\/ws\/doc\//, (ws) => {
    toPage = ws;
    const server = ws.connectToServer();
    ws.onMessage((msg) => {
      // Client to server: note a document update (message 0, sync step 2 or update).
      if (typeof msg !== "string" && msg[0] === 0 && (msg[1] === 1 || msg[1] === 2)) sentUpdate = true;
      server.send(msg);
    });
    server.onMessage((msg) => {
      // Server to client: hold back Hubring message 101 (saved) while `holding`.
      if (holding && typeof msg !== "string" && msg[0] === 101) held.push(msg);
      else ws.send(msg);
    });
  });
  await pageS.goto(docUrl);
  await waitForStatus(pageS, "connection", "connected");
  await waitForText(pageS, all, 10_000);
  sentUpdate = false;
  await pageS.locator(".bn-editor").click();
  await pageS.keyboard.press("End");
  await pageS.keyboard.type("Acknowledged? ");
  await waitForStatus(pageS, "save", "saving");
  await waitForText(pageA, ["Acknowledged?"], LIVE_MS);
  await until(() => held.length > 0, 10_000, "the server's acknowledgement");
  if (!sentUpdate) fail("no update frame went through the route");
  // The edit is committed and broadcast (Ana has it) and acknowledged, but the acknowledgement
  // is held back on its way to the page: the page must not claim the edit is saved.
  const shown = await pageS.getByTestId("save").getAttribute("data-status");
  if (shown !== "saving") fail(`before the acknowledgement the page showed "${shown}"`);
  // Release what was held; every later acknowledgement flows through.
  holding = false;
  for (const msg of held.splice(0)) toPage.send(msg);
  await waitForStatus(pageS, "save", "saved");

  step("a phone-width screen has no sideways scrolling");
  const phone = await newContext(browser, base, { viewport: { width: 390, height: 844 } });
  await signupByApi(phone, base, "dora@hub.example", "Dora Porto");
  const pageP = await phone.newPage();
  for (const path of ["/", "/people", "/settings"]) {
    await pageP.goto(path);
    await pageP.locator("main h1").first().waitFor();
    const overflow = await pageP.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) fail(`${path} scrolls sideways by ${overflow}px at 390px wide`);
  }

  step("signing out ends the session and the pages ask to sign in again");
  await pageP.getByRole("button", { name: "Sign out" }).click();
  await pageP.waitForURL(/\/signin/);
  await pageP.goto("/settings");
  await pageP.waitForURL(/\/signin\?next=%2Fsettings/);

  step("a 50 MB image dropped in says it is too big and leaves no block, for anyone");
  await pageA.goto(docUrl);
  await waitForStatus(pageA, "connection", "connected");
  await pageC.goto(docUrl);
  await waitForStatus(pageC, "connection", "connected");
  const textBefore = await editorText(pageA);
  const imagesBefore = await pageA.locator('[data-content-type="image"]').count();
  await dropFile(pageA, { name: "poster.png", type: "image/png", zeros: 50 * 1024 * 1024 });
  await pageA.getByTestId("upload-problem").getByText("The file is larger than 10 MB.").waitFor({ timeout: 10_000 });
  for (const page of [pageA, pageC]) {
    await page
      .waitForFunction((n) => document.querySelectorAll('[data-content-type="image"]').length === n, imagesBefore, {
        timeout: 10_000,
      })
      .catch(async () =>
        fail(
          `an image block is left: ${await page.evaluate(() => [...document.querySelectorAll('[data-content-type="image"]')].map((e) => e.outerHTML.slice(0, 300)).join("\n"))}`,
        ),
      );
    if ((await editorText(page)) !== textBefore) fail("the failed upload changed the document's text");
  }

  step("a PDF annex dropped in uploads, and downloads under its name; the slash menu offers File, not Video or Audio");
  await dropFile(pageA, {
    name: "Budget annex 2027.pdf",
    type: "application/pdf",
    text: "%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n",
  });
  const annex = pageC.locator('[data-content-type="file"][data-url*="name="]');
  await annex.waitFor({ timeout: 10_000 });
  const annexUrl = await annex.getAttribute("data-url");
  await pageC.getByText("Budget annex 2027.pdf").first().waitFor();
  const download = await cleo.request.get(annexUrl);
  if (download.status() !== 200 || download.headers()["content-type"] !== "application/pdf") {
    fail(`the annex downloads as ${download.status()} ${download.headers()["content-type"]}`);
  }
  const disposition = download.headers()["content-disposition"] ?? "";
  if (!disposition.startsWith("attachment") || !disposition.includes("Budget%20annex%202027.pdf")) {
    fail(`the annex is not downloaded under its name: ${disposition}`);
  }
  await pageA.locator(".bn-editor").click();
  await pageA.keyboard.press("Control+End");
  await pageA.keyboard.press("Enter");
  await pageA.keyboard.type("/");
  const menu = pageA.locator(".bn-suggestion-menu");
  await menu.getByText("File", { exact: true }).waitFor();
  for (const absent of ["Video", "Audio"]) {
    if ((await menu.getByText(absent, { exact: true }).count()) !== 0) fail(`the slash menu offers ${absent}`);
  }
  await pageA.keyboard.press("Escape");
  await pageA.keyboard.press("Backspace");
  await pageA.keyboard.press("Backspace");

  step("an editor renames the document from its page; a viewer cannot");
  await pageA.goto(docUrl);
  await pageA.getByRole("button", { name: "Rename" }).click();
  await pageA.getByLabel("Name", { exact: true }).fill("Proposal: Atlantic residencies");
  await pageA.keyboard.press("Enter");
  await pageA.getByRole("heading", { level: 1, name: "Proposal: Atlantic residencies" }).waitFor();
  await pageC.goto(docUrl);
  await pageC.getByRole("heading", { level: 1, name: "Proposal: Atlantic residencies" }).waitFor();
  if ((await pageC.getByRole("button", { name: "Rename" }).count()) !== 0) fail("a viewer is offered to rename");
  await pageA.goto(projectUrl);
  await pageA.getByRole("link", { name: "Proposal: Atlantic residencies" }).waitFor();

  step("an invitation link is for editors unless said otherwise; revoked, it says so");
  await pageA.getByRole("button", { name: "Create a link" }).click();
  const linkText = await pageA.locator(".notice code").first().textContent();
  if (!linkText?.includes("/invite/")) fail(`no invitation link shown: ${linkText}`);
  const pending = pageA.locator(".members li", { hasText: "Invitation links" });
  await pending.getByText("Editor", { exact: false }).waitFor();
  await pending.getByRole("button", { name: "Revoke" }).click();
  await pending.waitFor({ state: "detached" });
  const dan = await newContext(browser, base, { timezoneId: "Europe/Dublin" });
  await signupByApi(dan, base, "dan@hub.example", "Dan Cork");
  const pageD = await dan.newPage();
  await pageD.goto(new URL(linkText).pathname);
  await pageD.getByText("This invitation link has been revoked.").waitFor();
  await pageD.getByText("Ask the person who invited you for a new link.").waitFor();

  step("a deleted document waits in the trash, and comes back");
  await apiCall(ana, base, "POST", `/projects/${projectId}/items`, { kind: "document", title: "Scratch notes" });
  await pageA.goto(projectUrl);
  const scratch = pageA.locator("li", { hasText: "Scratch notes" }).first();
  pageA.once("dialog", (dialog) => dialog.accept());
  await scratch.getByRole("button", { name: "Delete" }).click();
  await pageA.getByText("Trash (1)").click();
  const trashed = pageA.locator(".trash li", { hasText: "Scratch notes" });
  await trashed.getByText("deleted by Ana Lisboa", { exact: false }).waitFor();
  await trashed.getByRole("button", { name: "Restore" }).click();
  await pageA.getByRole("link", { name: "Scratch notes" }).waitFor();
  await pageA.locator(".trash").waitFor({ state: "detached" });

  step("Ben (an editor) invites Dan to the project from his page in the directory, without seeing his address");
  const danId = (await apiCall(dan, base, "GET", "/me")).id;
  await pageB.goto(`/people/${danId}`);
  await pageB.getByRole("heading", { name: "Invite to a project" }).waitFor();
  if ((await pageB.getByText("dan@hub.example").count()) !== 0) fail("Dan's hidden address is shown");
  await pageB.getByRole("button", { name: "Invite", exact: true }).click();
  await pageB.getByText("Dan Cork is invited to Atlantic residencies 2027", { exact: false }).waitFor();
  await pageD.goto("/");
  await pageD.getByText("invites you to Atlantic residencies 2027 as Editor").waitFor();

  step("a hub's time zone is picked from the IANA list, the browser's own to begin with");
  await pageD.goto("/hubs/new");
  const zone = pageD.getByLabel("Time zone");
  if ((await zone.inputValue()) !== "Europe/Dublin") fail(`the zone offered is ${await zone.inputValue()}`);
  await pageD.getByLabel("Name", { exact: true }).fill("Cork Creative Hub");
  await pageD.getByLabel("City").fill("Cork");
  await pageD.getByLabel("Country").fill("Ireland");
  await zone.selectOption("Europe/Lisbon");
  await pageD.getByRole("button", { name: "Create", exact: true }).click();
  await pageD.waitForURL(/\/hubs\/[^/]+$/);
  await pageD.getByText("Cork, Ireland · Europe/Lisbon").waitFor();

  step("the language follows the browser");
  const french = await newContext(browser, base, { locale: "fr-FR" });
  const pageF = await french.newPage();
  await pageF.goto("/signin");
  await pageF.getByRole("heading", { name: "Se connecter" }).waitFor();

  step("languages and countries are codes: typed by name in one language, found and shown in another");
  await pageD.goto("/profile");
  await pageD.getByLabel("Languages").fill("Irish, english");
  await pageD.getByLabel("Country").fill("ireland");
  await pageD.getByRole("button", { name: "Save" }).click();
  await pageD.getByText("Your profile is saved.").waitFor();
  await signupByApi(french, base, "fanny@hub.example", "Fanny Brest");
  await pageF.goto("/people");
  await pageF.getByLabel("Langue").fill("irlandais");
  await pageF.getByRole("button", { name: "Rechercher" }).click();
  await pageF.waitForURL(/language=ga/);
  const card = pageF.locator(".person-card", { hasText: "Dan Cork" });
  await card.waitFor();
  await card.getByText("Irlande").waitFor();
  // By the language's own name too.
  await pageF.goto("/people");
  await pageF.getByLabel("Langue").fill("Gaeilge");
  await pageF.getByRole("button", { name: "Rechercher" }).click();
  await pageF.waitForURL(/language=/);
  await pageF.locator(".person-card", { hasText: "Dan Cork" }).waitFor();

  assertNoProblems(ana, ben, cleo, phone, dan, french);
  console.log(JSON.stringify({ ok: true, steps: steps.length, a11y }));
} catch (err) {
  // Whatever each page showed when it failed, for the person reading the CI log.
  let n = 0;
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      await page.screenshot({ path: join(shots, `failure-${n++}.png`), fullPage: true }).catch(() => {});
    }
  }
  console.error(`failed at step: ${steps.at(-1)} (screenshots in ${shots})`);
  throw err;
} finally {
  await browser.close();
}

