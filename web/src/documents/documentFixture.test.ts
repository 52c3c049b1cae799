// The document every export is tested on (`tests/fixtures/document.ydoc`), written by
// BlockNote itself: the blocks below, through the editor's own schema and its Yjs conversion,
// into the fragment the server reads. The Rust golden tests (`tests/tests/exports.rs`) read that
// file; this test fails when BlockNote would now write something else (run it with
// `UPDATE_FIXTURES=1` to write the file anew, then look at the golden files' diff).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BlockNoteEditor, type PartialBlock } from "@blocknote/core";
import { blocksToYXmlFragment, yXmlFragmentToBlocks } from "@blocknote/core/yjs";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";

const FIXTURES = join(__dirname, "../../../tests/fixtures");
const FRAGMENT = "document-store";

const text = (t: string, styles: Record<string, unknown> = {}) => ({
  type: "text",
  text: t,
  styles,
});

/** Every block and mark the exports handle, with the accents of the four languages. */
const FIXTURE_BLOCKS = [
  { type: "heading", props: { level: 1 }, content: "Résidences créatives atlânticas" },
  {
    type: "paragraph",
    content: [
      text("A proposal by hubs in Lisbon, Nantes, Bilbao and Cork: "),
      text("bold", { bold: true }),
      text(", "),
      text("italic", { italic: true }),
      text(", "),
      text("underlined", { underline: true }),
      text(", "),
      text("struck", { strike: true }),
      text(", "),
      text("code()", { code: true }),
      text(", "),
      text("red text", { textColor: "red" }),
      text(" and "),
      text("on yellow", { backgroundColor: "yellow" }),
      text(". See "),
      {
        type: "link",
        href: "https://creative-hubs.example/call?year=2027&lang=fr",
        content: "the call",
      },
      text("."),
    ],
  },
  { type: "heading", props: { level: 2 }, content: "1. Pertinence et coopération" },
  {
    type: "paragraph",
    props: { textAlignment: "center" },
    content: "Año de cooperación, coração da ação, « élan » <script>&amp;",
  },
  { type: "heading", props: { level: 3 }, content: "1.1 Objectives" },
  {
    type: "bulletListItem",
    content: "Staff exchanges between hubs",
    children: [
      { type: "bulletListItem", content: "Hub-manager shadowing (5 days)" },
      { type: "bulletListItem", content: "Residencies (1 week to 3 months)" },
    ],
  },
  { type: "bulletListItem", content: "Hot desking" },
  { type: "numberedListItem", content: "Kick-off in Lisbon" },
  {
    type: "numberedListItem",
    content: "Peer-learning sessions",
    children: [{ type: "numberedListItem", content: "Monthly, online" }],
  },
  { type: "checkListItem", props: { checked: true }, content: "Partners confirmed" },
  { type: "checkListItem", props: { checked: false }, content: "Budget signed" },
  {
    type: "table",
    content: {
      type: "tableContent",
      headerRows: 1,
      rows: [
        { cells: ["Work package", "Lead", "Budget (€)"] },
        { cells: ["WP1 Management", "Lisboa", "12 500"] },
        { cells: ["WP2 Échanges", "Nantes", "30 000"] },
      ],
    },
  },
  { type: "quote", content: "Creative hubs are the R&D labs of their cities." },
  {
    type: "codeBlock",
    props: { language: "rust" },
    content: 'fn main() {\n    println!("olá");\n}',
  },
  {
    type: "image",
    props: {
      url: "/api/v1/assets/FIXTURE_ASSET",
      caption: "The Porto hub",
      name: "porto.png",
    },
  },
  { type: "paragraph", content: "The end." },
] as PartialBlock[];

/** Block ids are random in the editor; the fixture's are numbered, so its bytes never change. */
function numbered(blocks: PartialBlock[], next = { n: 0 }): PartialBlock[] {
  return blocks.map((b) => ({
    ...b,
    id: `block-${++next.n}`,
    children: b.children ? numbered(b.children as PartialBlock[], next) : [],
  })) as PartialBlock[];
}

function fixtureUpdate(): Uint8Array {
  const editor = BlockNoteEditor.create();
  const doc = new Y.Doc();
  // A fixed client id: the same blocks always encode to the same bytes.
  doc.clientID = 1;
  blocksToYXmlFragment(editor, numbered(FIXTURE_BLOCKS) as never, doc.getXmlFragment(FRAGMENT));
  return Y.encodeStateAsUpdate(doc);
}

describe("the export fixture", () => {
  it("is what BlockNote writes for the fixture's blocks", () => {
    const path = join(FIXTURES, "document.ydoc");
    const bytes = fixtureUpdate();
    if (process.env.UPDATE_FIXTURES) writeFileSync(path, bytes);
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("reads back as the same blocks", () => {
    const editor = BlockNoteEditor.create();
    const doc = new Y.Doc();
    Y.applyUpdate(doc, readFileSync(join(FIXTURES, "document.ydoc")));
    const blocks = yXmlFragmentToBlocks(editor, doc.getXmlFragment(FRAGMENT));
    expect(blocks.map((b) => b.type)).toEqual(FIXTURE_BLOCKS.map((b) => b.type));
  });
});
