//! Golden tests of the exports, on the document BlockNote itself wrote
//! (`tests/fixtures/document.ydoc`, made by `web/src/documents/documentFixture.test.ts`):
//! Markdown and HTML compared with checked-in files (`UPDATE_FIXTURES=1` writes them anew), the
//! DOCX read back by pandoc, the PDF's text and bookmarks read by poppler (`pdftotext`,
//! `pdftohtml`). pandoc and poppler-utils must be installed (`scripts/test` installs them): a
//! missing reader fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use hubring_doc::tree::{self, Block, Document, ListKind};
use hubring_export::{Asset, docx, html, markdown, pdf};

const ASSET_URL: &str = "/api/v1/assets/FIXTURE_ASSET";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn fixture() -> Document {
    let bytes = std::fs::read(fixtures().join("document.ydoc")).expect("the fixture is checked in");
    tree::read_state(&bytes).expect("the fixture decodes")
}

/// A 1×1 PNG.
fn png() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
        .unwrap()
}

fn assets(url: &str) -> Option<Asset> {
    (url == ASSET_URL).then(|| Asset { mime: "image/png".into(), bytes: png() })
}

/// Compares `actual` with the checked-in `name`, or writes it with `UPDATE_FIXTURES=1`.
fn golden(name: &str, actual: &str) {
    let path = fixtures().join(name);
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(expected == actual, "{name} differs from the checked-in file:\n{actual}");
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("{program} is required (apt-get install pandoc poppler-utils): {e}")
    });
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn the_fixture_reads_as_every_kind_of_block() {
    let doc = fixture();
    let kinds: Vec<&str> = doc
        .blocks
        .iter()
        .map(|b| match b {
            Block::Heading { .. } => "heading",
            Block::Paragraph { .. } => "paragraph",
            Block::List { kind: ListKind::Bullet, .. } => "bullets",
            Block::List { kind: ListKind::Numbered, .. } => "numbers",
            Block::List { kind: ListKind::Check, .. } => "checks",
            Block::Table { .. } => "table",
            Block::Quote { .. } => "quote",
            Block::Code { .. } => "code",
            Block::Image { .. } => "image",
            Block::Other { .. } => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "heading",
            "paragraph",
            "heading",
            "paragraph",
            "heading",
            "bullets",
            "numbers",
            "checks",
            "table",
            "quote",
            "code",
            "image",
            "paragraph"
        ]
    );
    let Block::Paragraph { content, .. } = &doc.blocks[1] else { unreachable!() };
    let styled: Vec<(&str, bool)> =
        content.iter().map(|s| (s.text.as_str(), s.style != Default::default())).collect();
    assert!(styled.contains(&("bold", true)) && styled.contains(&("the call", true)), "{styled:?}");
    assert!(content.iter().any(|s| s.style.color.as_deref() == Some("red")));
    assert!(content.iter().any(|s| s.style.background.as_deref() == Some("yellow")));
}

#[test]
fn markdown_is_the_checked_in_file() {
    golden("document.md", &markdown::to_markdown(&fixture()));
}

#[test]
fn html_is_the_checked_in_file() {
    let out = html::to_html(&fixture(), "Résidences", "fr", &assets);
    golden("document.html", &out);
}

#[test]
fn pandoc_reads_the_docx_as_the_same_structure() {
    let bytes = docx::to_docx(&fixture(), "Résidences", &assets).expect("a DOCX");
    let path = temp("document.docx", &bytes);
    let md = run("pandoc", &["-f", "docx", "-t", "gfm", "--wrap=none", path.to_str().unwrap()]);
    for expected in [
        "# Résidences créatives atlânticas",
        "## 1. Pertinence et coopération",
        "### 1.1 Objectives",
        "**bold**",
        "*italic*",
        "~~struck~~",
        "[the call](https://creative-hubs.example/call?year=2027&lang=fr)",
        "Año de cooperación, coração da ação, « élan » \\<script\\>&amp;",
        "Staff exchanges between hubs",
        "    -   Hub-manager shadowing (5 days)",
        "1.  Kick-off in Lisbon",
        "    1.  Monthly, online",
        "| **Work package** |",
        "WP2 Échanges",
        "☑ Partners confirmed",
        "Creative hubs are the R&D labs of their cities.",
        "println!(\"olá\");",
        "The Porto hub",
        "The end.",
    ] {
        assert!(md.contains(expected), "pandoc's reading lacks {expected:?}:\n{md}");
    }
    // Headings are Word's heading styles, the image is embedded.
    let json = run("pandoc", &["-f", "docx", "-t", "json", path.to_str().unwrap()]);
    assert_eq!(json.matches("\"t\":\"Header\"").count(), 3, "{json}");
    assert!(json.contains("\"t\":\"Image\""), "no image in {json}");
    assert!(json.contains("\"t\":\"Table\""));
    assert_eq!(json.matches("\"t\":\"OrderedList\"").count(), 2, "one numbered list, one nested");
    assert_eq!(json.matches("\"t\":\"BulletList\"").count(), 3, "bullets, nested bullets, checks");
}

#[test]
fn the_pdf_reads_in_order_with_its_headings_as_bookmarks() {
    let bytes = pdf::to_pdf(&fixture(), "Résidences", "fr", &assets).expect("a PDF");
    assert!(bytes.starts_with(b"%PDF-"));
    let path = temp("document.pdf", &bytes);
    let text = run("pdftotext", &["-enc", "UTF-8", path.to_str().unwrap(), "-"]);
    let order = [
        "Résidences créatives atlânticas",
        "bold",
        "the call",
        "1. Pertinence et coopération",
        "Año de cooperación, coração da ação, « élan » <script>&amp;",
        "1.1 Objectives",
        "Hub-manager shadowing (5 days)",
        "Kick-off in Lisbon",
        "Monthly, online",
        "Partners confirmed",
        "Work package",
        "WP2 Échanges",
        "Creative hubs are the R&D labs of their cities.",
        "println!(\"olá\");",
        "The Porto hub",
        "The end.",
    ];
    let mut at = 0;
    for piece in order {
        let found = text[at..]
            .find(piece)
            .unwrap_or_else(|| panic!("{piece:?} not after byte {at} in:\n{text}"));
        at += found + piece.len();
    }
    // Page numbers, and the fonts embedded.
    assert!(text.contains("\n1\n") || text.trim_end().ends_with('1'), "no page number:\n{text}");
    let fonts = run("pdffonts", &[path.to_str().unwrap()]);
    assert!(fonts.lines().skip(2).all(|l| l.contains(" yes ")), "a font is not embedded:\n{fonts}");
    // The headings are the PDF's outline.
    let xml = run("pdftohtml", &["-xml", "-stdout", "-i", "-q", path.to_str().unwrap()]);
    let outline = &xml[xml.find("<outline>").expect("the PDF has an outline")..];
    for heading in
        ["Résidences créatives atlânticas", "1. Pertinence et coopération", "1.1 Objectives"]
    {
        assert!(outline.contains(heading), "{heading} is not a bookmark:\n{outline}");
    }
}

#[test]
fn a_board_drawing_becomes_a_one_page_vector_pdf() {
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300"><rect x="10" y="10" width="200" height="100" fill="#fde68a"/><text x="20" y="60" font-size="20">Idea</text></svg>"##;
    let bytes = pdf::svg_to_pdf(svg, 400.0, 300.0, "Ideas").expect("a PDF");
    let path = temp("board.pdf", &bytes);
    let info = run("pdfinfo", &[path.to_str().unwrap()]);
    assert!(info.contains("Pages:           1"), "{info}");
    assert!(info.contains("400 x 300 pts"), "{info}");
}

#[test]
fn a_damaged_image_leaves_its_caption_in_the_pdf() {
    use hubring_doc::tree::{Align, Span};
    let doc = Document {
        blocks: vec![
            Block::Paragraph { align: Align::Left, content: vec![Span::plain("Before")] },
            Block::Image {
                url: ASSET_URL.into(),
                caption: "The Porto hub".into(),
                name: "porto.png".into(),
            },
        ],
    };
    // A PNG header whose data is garbage: its size reads, its pixels do not.
    let mut broken = png()[..33].to_vec();
    broken.extend_from_slice(b"garbage garbage garbage");
    let damaged = move |_: &str| Some(Asset { mime: "image/png".into(), bytes: broken.clone() });
    let bytes = pdf::to_pdf(&doc, "T", "en", &damaged).expect("a PDF all the same");
    let path = temp("damaged.pdf", &bytes);
    let text = run("pdftotext", &[path.to_str().unwrap(), "-"]);
    assert!(text.contains("Before") && text.contains("[The Porto hub]"), "{text}");
}
