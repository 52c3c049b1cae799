// Browser test of exports and templates, against the real server:
//   node exports.mjs BASE_URL SCREENSHOT_DIR
// Ana types a document through the editor (a heading, a list, a table, an image), exports it to
// PDF and DOCX from the Export menu, and the files are read back by independent readers
// (poppler's pdftotext, pandoc). Then she starts a proposal from the EU template and its
// sections appear in the editor.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiCall, assertNoProblems, fail, launch, newContext, signupByApi } from "./lib.mjs";

const [base, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const LIVE_MS = 8000;
const steps = [];
function step(name) {
  steps.push(name);
  console.log(`- ${name}`);
}

// A 1×1 PNG (the same as the Rust tests' `board::PNG`).
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP438AAAAQBAYDFKhhdAAAAAElFTkSuQmCC", "base64");

const browser = await launch();
try {
  const ana = await newContext(browser, base, { viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await signupByApi(ana, base, "ana@hubs.example", "Ana Ferreira");
  const project = await apiCall(ana, base, "POST", "/projects", { title: "Atlantic residencies", visibility: "private" });
  const item = await apiCall(ana, base, "POST", `/projects/${project.id}/items`, { kind: "document", title: "Proposta" });
  const page = await ana.newPage();
  await page.goto(`/projects/${project.id}/documents/${item.id}`);
  await page.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  const editor = page.locator(".editor-with-panel > .bn-container > .bn-editor");
  await editor.click();
  // Markdown shortcuts, as people type them.
  await page.keyboard.type("# Résidences atlânticas");
  await page.keyboard.press("Enter");
  await page.keyboard.type("- Shadowing in Porto");
  await page.keyboard.press("Enter");
  await page.keyboard.type("Residencies in Nantes");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  await page.keyboard.type("/table");
  await page.locator(".bn-suggestion-menu-item", { hasText: "Table" }).first().waitFor({ timeout: LIVE_MS });
  await page.keyboard.press("Enter");
  const cell = editor.locator("table td, table th").first();
  await cell.waitFor({ timeout: LIVE_MS });
  await cell.click();
  await page.keyboard.type("Work package");
  await page.keyboard.press("Tab");
  await page.keyboard.type("Budget €");
  await editor.locator("p, [data-content-type]").last().click();
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  await page.keyboard.type("/image");
  await page.locator(".bn-suggestion-menu-item", { hasText: "Image" }).first().waitFor({ timeout: LIVE_MS });
  await page.keyboard.press("Enter");
  const file = join(shots, "porto.png");
  writeFileSync(file, PNG);
  await page.locator(".bn-file-panel input[type=file], .bn-panel input[type=file]").first().setInputFiles(file);
  await editor.locator("img").first().waitFor({ timeout: LIVE_MS });
  await page.waitForSelector('[data-testid="save-state"][data-status="saved"]', { timeout: LIVE_MS }).catch(() => {});
  step("Ana types a heading, a list, a table and an image");

  for (const format of ["pdf", "docx"]) {
    const probe = await ana.request.get(`/api/v1/items/${item.id}/export?format=${format}&lang=en`);
    if (probe.status() !== 200) {
      const md = await (await ana.request.get(`/api/v1/items/${item.id}/export?format=md`)).text();
      fail(`export ${format}: ${probe.status()} ${await probe.text()}\n${md}`);
    }
  }
  const downloads = {};
  for (const format of ["pdf", "docx"]) {
    const menu = page.getByTestId("export-menu");
    if (!(await menu.evaluate((el) => el.open))) await menu.locator("summary").click();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      menu.locator(`a[data-format="${format}"]`).click(),
    ]);
    const path = join(shots, `exported.${format}`);
    await download.saveAs(path);
    if (!download.suggestedFilename().endsWith(`.${format}`)) fail(`downloaded as ${download.suggestedFilename()}`);
    downloads[format] = path;
  }
  const pdfText = execFileSync("pdftotext", ["-enc", "UTF-8", downloads.pdf, "-"], { encoding: "utf8" });
  const order = ["Résidences atlânticas", "Shadowing in Porto", "Residencies in Nantes", "Work package", "Budget €"];
  let at = 0;
  for (const piece of order) {
    const found = pdfText.indexOf(piece, at);
    if (found < 0) fail(`the PDF lacks ${JSON.stringify(piece)} after ${at}:\n${pdfText}`);
    at = found + piece.length;
  }
  const images = execFileSync("pdfimages", ["-list", downloads.pdf], { encoding: "utf8" });
  if (images.trim().split("\n").length < 3) fail(`the PDF has no image:\n${images}`);
  step("the PDF from the Export menu reads in order and holds the image");

  const md = execFileSync("pandoc", ["-f", "docx", "-t", "gfm", "--wrap=none", downloads.docx], { encoding: "utf8" });
  for (const piece of [/^# Résidences atlânticas$/m, /^-\s+Shadowing in Porto$/m, /^-\s+Residencies in Nantes$/m, /\| Work package \| Budget € \|/, /<img src="media\/|!\[[^\]]*\]\(media\//]) {
    if (!piece.test(md)) fail(`pandoc's reading lacks ${piece}:\n${md}`);
  }
  step("pandoc reads the DOCX from the Export menu as the same structure");

  await page.goto(`/projects/${project.id}`);
  await page.getByLabel("Title").fill("");
  await page.getByLabel("Start from").selectOption({ label: "Cooperation project proposal" });
  await page.getByRole("button", { name: /new item|add/i }).first().click();
  await page.waitForSelector('[data-testid="connection"][data-status="connected"]', { timeout: 10_000 });
  for (const section of ["2. Relevance", "3. Quality of content and activities", "6. Impact and sustainability", "Work package"]) {
    await page.locator(".bn-editor", { hasText: section }).first().waitFor({ timeout: LIVE_MS });
  }
  await page.screenshot({ path: join(shots, "proposal-from-template.png") });
  step("a proposal started from the EU template shows its sections");

  assertNoProblems(ana);
  console.log(JSON.stringify({ ok: true, steps: steps.length }));
} catch (err) {
  for (const [i, context] of browser.contexts().entries()) {
    for (const [j, page] of context.pages().entries()) {
      await page.screenshot({ path: join(shots, `exports-failure-${i}-${j}.png`) }).catch(() => {});
    }
  }
  console.error(err);
  process.exitCode = 1;
} finally {
  await browser.close();
}
