//! A document as DOCX (Word), written with docx-rs: Word's own style names (Heading 1–3, List
//! Paragraph, Quote, Source Code), real list numbering (a numbered list restarts at 1, nesting
//! indents), tables with a header row, embedded images and links.

use docx_rs::{
    AbstractNumbering, AlignmentType, Docx, Hyperlink, HyperlinkType, IndentLevel, Level, LevelJc,
    LevelText, NumberFormat, Numbering, NumberingId, Paragraph, Pic, Run, RunFonts, Shading, Start,
    Style, StyleType, Table, TableCell, TableRow,
};
use hubring_doc::tree::{Align, Block, Cell, Document, Inlines, ListItem, ListKind, Span};

use crate::{AssetSource, colours};

/// Why a DOCX could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DocxError {
    #[error("writing the DOCX failed: {0}")]
    Write(String),
}

/// docx-rs writes a decimal numbering of its own as 1: ours start after it.
const BULLETS: usize = 2;
/// Check lists: a numbering that draws nothing, the box being the item's first character.
const CHECKS: usize = 3;
/// Numbered lists each get their own numbering from here up, so each starts at 1.
const FIRST_NUMBERED: usize = 100;
/// A4 in twentieths of a point, and 2 cm margins.
const A4: (u32, u32) = (11_906, 16_838);
/// The widest an image may be: the text width of A4 with 2 cm margins, in EMU.
const MAX_IMAGE_EMU: u32 = 6_120_000;

struct Writer<'a> {
    assets: AssetSource<'a>,
    docx: Docx,
    numbered: usize,
}

/// The document as a DOCX file, titled `title`.
pub fn to_docx(doc: &Document, title: &str, assets: AssetSource<'_>) -> Result<Vec<u8>, DocxError> {
    let mut docx = Docx::new()
        .page_size(A4.0, A4.1)
        .default_fonts(RunFonts::new().ascii("Calibri").hi_ansi("Calibri").cs("Calibri"))
        .default_size(22)
        .custom_property("title", title);
    for style in styles() {
        docx = docx.add_style(style);
    }
    docx = docx.add_abstract_numbering(bullet_levels(AbstractNumbering::new(BULLETS)));
    docx = docx.add_numbering(Numbering::new(BULLETS, BULLETS));
    let mut checks = AbstractNumbering::new(CHECKS);
    for i in 0..9 {
        checks = checks.add_level(level(i, "bullet", ""));
    }
    docx = docx.add_abstract_numbering(checks).add_numbering(Numbering::new(CHECKS, CHECKS));
    let mut w = Writer { assets, docx, numbered: FIRST_NUMBERED };
    w.blocks(&doc.blocks, 0);
    let mut out = std::io::Cursor::new(Vec::new());
    w.docx.build().pack(&mut out).map_err(|e| DocxError::Write(e.to_string()))?;
    Ok(out.into_inner())
}

/// Word's built-in styles, by their ids and names (what Word, LibreOffice and pandoc read).
fn styles() -> Vec<Style> {
    let heading = |level: usize, size: usize| {
        Style::new(format!("Heading{level}"), StyleType::Paragraph)
            .name(format!("Heading {level}"))
            .based_on("Normal")
            .next("Normal")
            .q_format(true)
            .size(size)
            .bold()
            .color("1F3864")
            .outline_lvl(level - 1)
    };
    vec![
        heading(1, 36),
        heading(2, 30),
        heading(3, 26),
        Style::new("ListParagraph", StyleType::Paragraph).name("List Paragraph").based_on("Normal"),
        Style::new("Quote", StyleType::Paragraph)
            .name("Quote")
            .based_on("Normal")
            .italic()
            .color("4B5563"),
        Style::new("SourceCode", StyleType::Paragraph)
            .name("Source Code")
            .based_on("Normal")
            .fonts(RunFonts::new().ascii("Consolas").hi_ansi("Consolas"))
            .size(19),
        Style::new("Caption", StyleType::Paragraph)
            .name("Caption")
            .based_on("Normal")
            .italic()
            .size(18),
        Style::new("Hyperlink", StyleType::Character)
            .name("Hyperlink")
            .color("0563C1")
            .underline("single"),
        Style::new("VerbatimChar", StyleType::Character)
            .name("Verbatim Char")
            .fonts(RunFonts::new().ascii("Consolas").hi_ansi("Consolas")),
    ]
}

fn level(i: usize, format: &str, text: &str) -> Level {
    let indent = 720 * (i as i32 + 1);
    Level::new(
        i,
        Start::new(1),
        NumberFormat::new(format),
        LevelText::new(text),
        LevelJc::new("left"),
    )
    .indent(Some(indent), Some(docx_rs::SpecialIndentType::Hanging(360)), None, None)
}

fn bullet_levels(mut n: AbstractNumbering) -> AbstractNumbering {
    for i in 0..9 {
        n = n.add_level(level(i, "bullet", ["•", "◦", "▪"][i % 3]));
    }
    n
}

fn numbered_levels(mut n: AbstractNumbering) -> AbstractNumbering {
    for i in 0..9 {
        let format = ["decimal", "lowerLetter", "lowerRoman"][i % 3];
        n = n.add_level(level(i, format, &format!("%{}.", i + 1)));
    }
    n
}

fn alignment(align: Align) -> Option<AlignmentType> {
    match align {
        Align::Left => None,
        Align::Center => Some(AlignmentType::Center),
        Align::Right => Some(AlignmentType::Right),
        Align::Justify => Some(AlignmentType::Both),
    }
}

impl Writer<'_> {
    /// A numbering of its own for a numbered list, so it starts at 1.
    fn new_numbering(&mut self) -> usize {
        self.numbered += 1;
        let n = self.numbered;
        let docx = std::mem::take(&mut self.docx);
        self.docx = docx
            .add_abstract_numbering(numbered_levels(AbstractNumbering::new(n)))
            .add_numbering(Numbering::new(n, n));
        n
    }

    fn push(&mut self, p: Paragraph) {
        let docx = std::mem::take(&mut self.docx);
        self.docx = docx.add_paragraph(p);
    }

    fn blocks(&mut self, blocks: &[Block], depth: usize) {
        for block in blocks {
            match block {
                Block::Heading { level, align, content } => {
                    let p = runs(Paragraph::new().style(&format!("Heading{level}")), content);
                    self.push(aligned(p, *align));
                }
                Block::Paragraph { align, content } => {
                    self.push(aligned(runs(Paragraph::new(), content), *align));
                }
                Block::Other { content, .. } => self.push(runs(Paragraph::new(), content)),
                Block::Quote { content } => {
                    self.push(runs(Paragraph::new().style("Quote"), content))
                }
                Block::Code { text, .. } => {
                    for line in text.split('\n') {
                        let run = Run::new().add_text(line);
                        self.push(Paragraph::new().style("SourceCode").add_run(run));
                    }
                }
                Block::List { kind, items } => {
                    let id = match kind {
                        ListKind::Numbered => self.new_numbering(),
                        ListKind::Bullet => BULLETS,
                        ListKind::Check => CHECKS,
                    };
                    self.list(id, items, depth);
                }
                Block::Table { header_rows, rows } => {
                    let table = table(*header_rows, rows);
                    let docx = std::mem::take(&mut self.docx);
                    self.docx = docx.add_table(table);
                }
                Block::Image { url, caption, name } => {
                    match (self.assets)(url).and_then(|a| picture(&a.bytes)) {
                        Some(pic) => self.push(Paragraph::new().add_run(Run::new().add_image(pic))),
                        None => {
                            let label = if caption.is_empty() { name } else { caption };
                            self.push(
                                Paragraph::new()
                                    .add_run(Run::new().add_text(format!("[{label}]")).italic()),
                            );
                        }
                    }
                    if !caption.is_empty() {
                        self.push(
                            Paragraph::new().style("Caption").add_run(Run::new().add_text(caption)),
                        );
                    }
                }
            }
        }
    }

    fn list(&mut self, numbering: usize, items: &[ListItem], depth: usize) {
        for item in items {
            let mut p = Paragraph::new()
                .style("ListParagraph")
                .numbering(NumberingId::new(numbering), IndentLevel::new(depth.min(8)));
            if numbering == CHECKS {
                p = p.add_run(Run::new().add_text(if item.checked { "☑ " } else { "☐ " }));
            }
            self.push(runs(p, &item.content));
            // Lists inside an item are its children, one level deeper; other blocks follow it.
            for child in &item.children {
                match child {
                    Block::List { kind, items } => {
                        let id = match kind {
                            ListKind::Bullet => BULLETS,
                            ListKind::Check => CHECKS,
                            // Nested in a numbered list: the same numbering, one level deeper.
                            ListKind::Numbered if numbering > FIRST_NUMBERED => numbering,
                            ListKind::Numbered => self.new_numbering(),
                        };
                        self.list(id, items, depth + 1);
                    }
                    other => self.blocks(std::slice::from_ref(other), depth + 1),
                }
            }
        }
    }
}

fn aligned(p: Paragraph, align: Align) -> Paragraph {
    match alignment(align) {
        Some(a) => p.align(a),
        None => p,
    }
}

fn table(header_rows: usize, rows: &[Vec<Cell>]) -> Table {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let width = 9_000 / columns;
    let rows: Vec<TableRow> = rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let cells = (0..columns)
                .map(|i| {
                    let mut p = Paragraph::new();
                    if let Some(cell) = row.get(i) {
                        let content: Inlines = if r < header_rows {
                            cell.content
                                .iter()
                                .map(|s| Span {
                                    text: s.text.clone(),
                                    style: hubring_doc::tree::Style {
                                        bold: true,
                                        ..s.style.clone()
                                    },
                                })
                                .collect()
                        } else {
                            cell.content.clone()
                        };
                        p = aligned(runs(p, &content), cell.align);
                    }
                    let mut cell =
                        TableCell::new().add_paragraph(p).width(width, docx_rs::WidthType::Dxa);
                    if r < header_rows {
                        cell = cell.shading(Shading::new().fill("F3F4F6"));
                    }
                    cell
                })
                .collect();
            // docx-rs has no repeated-header-row switch: the header row is shaded and bold.
            TableRow::new(cells).cant_split()
        })
        .collect();
    Table::new(rows).set_grid(vec![width; columns])
}

/// An image as Word takes it (PNG; other formats are converted), at its size up to the text's
/// width. A file that does not decode is left out (the caller names it instead).
fn picture(bytes: &[u8]) -> Option<Pic> {
    let size = imagesize::blob_size(bytes).ok()?;
    let (w, h) = (u32::try_from(size.width).ok()?, u32::try_from(size.height).ok()?);
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > 40_000_000 {
        return None;
    }
    let is_png = bytes.starts_with(&[137, 80, 78, 71, 13, 10, 26, 10]);
    // docx-rs converts other formats through the `image` crate and panics on a file it cannot
    // read; the header was checked above, and a panic is still caught here.
    let pic = if is_png {
        Pic::new_with_dimensions(bytes.to_vec(), w, h)
    } else {
        let owned = bytes.to_vec();
        std::panic::catch_unwind(move || Pic::new(&owned)).ok()?
    };
    // 9525 EMU per pixel at 96 dpi, scaled down to the text width.
    let (mut ew, mut eh) = (w.saturating_mul(9525), h.saturating_mul(9525));
    if ew > MAX_IMAGE_EMU {
        eh = (u64::from(eh) * u64::from(MAX_IMAGE_EMU) / u64::from(ew)) as u32;
        ew = MAX_IMAGE_EMU;
    }
    Some(pic.size(ew, eh))
}

fn runs(mut p: Paragraph, content: &Inlines) -> Paragraph {
    for span in content {
        match &span.style.link {
            Some(href) => {
                let link = Hyperlink::new(href, HyperlinkType::External)
                    .add_run(run(span).style("Hyperlink"));
                p = p.add_hyperlink(link);
            }
            None => p = p.add_run(run(span)),
        }
    }
    p
}

fn run(span: &Span) -> Run {
    let s = &span.style;
    let mut run = Run::new();
    for (i, piece) in span.text.split('\n').enumerate() {
        if i > 0 {
            run = run.add_break(docx_rs::BreakType::TextWrapping);
        }
        if !piece.is_empty() {
            run = run.add_text(piece);
        }
    }
    if s.bold {
        run = run.bold();
    }
    if s.italic {
        run = run.italic();
    }
    if s.underline {
        run = run.underline("single");
    }
    if s.strike {
        run = run.strike();
    }
    if s.code {
        run = run.style("VerbatimChar");
    }
    if let Some(c) = s.color.as_deref().and_then(colours::text) {
        run = run.color(c.trim_start_matches('#'));
    }
    if let Some(c) = s.background.as_deref().and_then(colours::background) {
        run = run.shading(Shading::new().fill(c.trim_start_matches('#')));
    }
    run
}
