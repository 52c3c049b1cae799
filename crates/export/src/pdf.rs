//! A document (or a board's drawing) as PDF, typeset by typst used as a library.
//!
//! The tree is written as typst markup in which every piece of the document's text is a typst
//! string literal (`#"..."`), so no text can be read as markup or code whatever it holds; typst
//! lays it out on A4 with page numbers, turns headings into PDF bookmarks, embeds the fonts it
//! ships (Libertinus Serif, DejaVu Sans Mono: Latin with the accents of French, Spanish and
//! Portuguese) and writes selectable, tagged text.
//!
//! Images are the only files typst reads: the `n`th image of a document is `/img/n`, served
//! from the export's own list. typst interns file paths for the life of the process (65,535 at
//! most), so paths are numbered by position, never named after assets: the same few paths serve
//! every export.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use hubring_doc::tree::{Align, Block, Cell, Document, Inlines, ListItem, ListKind, Span};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use crate::{AssetSource, colours};

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("typesetting failed: {0}")]
    Typeset(String),
}

/// Images a single document may embed in its PDF (the rest are named by their captions).
pub const MAX_IMAGES: usize = 500;

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> =
        typst_assets::fonts().flat_map(|data| Font::iter(Bytes::new(data))).collect();
    Fonts { book: LazyHash::new(FontBook::from_fonts(&fonts)), fonts }
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

fn path_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).expect("our own paths are valid");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// One export's world: the markup, its images, and the shared fonts and library.
struct ExportWorld {
    main: Source,
    files: HashMap<FileId, Bytes>,
}

impl World for ExportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }
    fn main(&self) -> FileId {
        self.main.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() { Ok(self.main.clone()) } else { Err(FileError::NotSource) }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.get(&id).cloned().ok_or(FileError::AccessDenied)
    }
    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        None
    }
}

/// Typesets `markup` with `files` (path, bytes) into a PDF.
fn typeset(markup: String, files: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>, PdfError> {
    let world = ExportWorld {
        main: Source::new(path_id("/main.typ"), markup),
        files: files.into_iter().map(|(p, b)| (path_id(&p), Bytes::new(b))).collect(),
    };
    let compiled = typst::compile::<typst_layout::PagedDocument>(&world).output;
    let result = compiled.and_then(|doc| typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default()));
    // typst memoises across compilations; what no later export will ask for again is dropped.
    typst::comemo::evict(4);
    result.map_err(|errors| {
        let messages: Vec<String> = errors.iter().map(|e| e.message.to_string()).collect();
        PdfError::Typeset(messages.join("; "))
    })
}

/// Forgets what typst memoised from earlier exports (the benchmarks measure a first export).
pub fn forget_cache() {
    typst::comemo::evict(0);
}

/// A typst string literal holding `text` exactly.
fn lit(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The document as a PDF titled `title`, hyphenated for `lang`.
pub fn to_pdf(
    doc: &Document,
    title: &str,
    lang: &str,
    assets: AssetSource<'_>,
) -> Result<Vec<u8>, PdfError> {
    let lang: String = lang.chars().filter(char::is_ascii_lowercase).take(3).collect();
    let lang = if lang.len() >= 2 { lang } else { "en".to_owned() };
    let mut out = String::new();
    let _ = writeln!(out, "#set document(title: {})", lit(title));
    out.push_str(concat!(
        "#set page(paper: \"a4\", margin: (x: 2.2cm, y: 2.5cm), numbering: \"1\", ",
        "number-align: center)\n",
        "#set text(font: (\"Libertinus Serif\", \"DejaVu Sans Mono\"), size: 11pt, ",
    ));
    let _ = writeln!(out, "lang: {})", lit(&lang));
    out.push_str(concat!(
        "#set par(spacing: 0.9em)\n",
        "#show raw: set text(font: \"DejaVu Sans Mono\", size: 9pt)\n",
        "#show raw.where(block: true): block.with(fill: luma(246), inset: 8pt, radius: 2pt, ",
        "width: 100%)\n",
        "#set table(stroke: 0.5pt + luma(170), inset: 5pt)\n",
        "#show table.cell.where(y: 0): set text(weight: \"bold\")\n",
        "#show heading: set block(above: 1.3em, below: 0.7em)\n",
        "#set list(tight: true)\n#set enum(tight: true)\n",
    ));
    let mut images = Vec::new();
    let mut markup = out.clone();
    blocks(&doc.blocks, assets, &mut images, &mut markup);
    if images.is_empty() {
        return typeset(markup, images);
    }
    // An image typst cannot decode (a damaged upload whose header read fine) fails the whole
    // typesetting: the document is then typeset again with every image named by its caption.
    typeset(markup, images).or_else(|err| {
        let mut plain = out;
        let none = |_: &str| None;
        blocks(&doc.blocks, &none, &mut Vec::new(), &mut plain);
        typeset(plain, Vec::new()).map_err(|_| err)
    })
}

fn blocks(
    list: &[Block],
    assets: AssetSource<'_>,
    images: &mut Vec<(String, Vec<u8>)>,
    out: &mut String,
) {
    for block in list {
        match block {
            Block::Heading { level, align, content } => {
                let body = format!("#heading(level: {level})[{}]", inline(content));
                out.push_str(&aligned(*align, &body));
            }
            Block::Paragraph { content, .. } | Block::Other { content, .. } => {
                let align =
                    if let Block::Paragraph { align, .. } = block { *align } else { Align::Left };
                if content.is_empty() {
                    out.push_str("#v(0.5em)\n\n");
                    continue;
                }
                let body = if align == Align::Justify {
                    format!("#par(justify: true)[{}]", inline(content))
                } else {
                    format!("#par[{}]", inline(content))
                };
                out.push_str(&aligned(align, &body));
            }
            Block::List { kind, items } => list_block(*kind, items, assets, images, out),
            Block::Table { header_rows, rows } => table(*header_rows, rows, out),
            Block::Quote { content } => {
                let _ = write!(out, "#quote(block: true)[{}]\n\n", inline(content));
            }
            Block::Code { language, text } => {
                let lang =
                    language.as_deref().map(|l| format!(", lang: {}", lit(l))).unwrap_or_default();
                let _ = write!(out, "#raw(block: true{lang}, {})\n\n", lit(text));
            }
            Block::Image { url, caption, name } => {
                let caption_markup = if caption.is_empty() {
                    String::new()
                } else {
                    format!(", caption: [#{}]", lit(caption))
                };
                let found = (images.len() < MAX_IMAGES).then(|| assets(url)).flatten();
                match found.and_then(|a| extension(&a.mime).map(|ext| (a, ext))) {
                    Some((asset, ext)) => {
                        let path = format!("/img/{}.{ext}", images.len());
                        let _ = write!(
                            out,
                            "#figure(image({}, width: 80%){caption_markup})\n\n",
                            lit(&path)
                        );
                        images.push((path, asset.bytes));
                    }
                    None => {
                        let label = if caption.is_empty() { name } else { caption };
                        let _ = write!(out, "#par[#emph[#{}]]\n\n", lit(&format!("[{label}]")));
                    }
                }
            }
        }
    }
}

fn extension(mime: &str) -> Option<&'static str> {
    Some(match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/svg+xml" => "svg",
        "image/webp" => "webp",
        _ => return None,
    })
}

fn aligned(align: Align, body: &str) -> String {
    match align {
        Align::Center => format!("#align(center)[{body}]\n\n"),
        Align::Right => format!("#align(right)[{body}]\n\n"),
        _ => format!("{body}\n\n"),
    }
}

fn list_block(
    kind: ListKind,
    items: &[ListItem],
    assets: AssetSource<'_>,
    images: &mut Vec<(String, Vec<u8>)>,
    out: &mut String,
) {
    let mut body = |item: &ListItem| {
        let mut inner = inline(&item.content);
        if !item.children.is_empty() {
            let mut nested = String::new();
            blocks(&item.children, assets, images, &mut nested);
            inner.push_str(&format!(" #block[\n{nested}]"));
        }
        inner
    };
    match kind {
        ListKind::Bullet | ListKind::Numbered => {
            let f = if kind == ListKind::Bullet { "list" } else { "enum" };
            let items: Vec<String> = items.iter().map(|i| format!("[{}]", body(i))).collect();
            let _ = write!(out, "#{f}({})\n\n", items.join(", "));
        }
        ListKind::Check => {
            let items: Vec<String> = items
                .iter()
                .map(|i| {
                    let mark = if i.checked { "☑" } else { "☐" };
                    format!("list.item[#box[#{}] {}]", lit(mark), body(i))
                })
                .collect();
            let _ = write!(out, "#list(marker: none, {})\n\n", items.join(", "));
        }
    }
}

fn table(header_rows: usize, rows: &[Vec<Cell>], out: &mut String) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    if columns == 0 {
        return;
    }
    let cell = |c: Option<&Cell>| match c {
        Some(c) if c.align != Align::Left => {
            format!("table.cell(align: {})[{}]", c.align.as_str(), inline(&c.content))
        }
        Some(c) => format!("[{}]", inline(&c.content)),
        None => "[]".to_owned(),
    };
    let row = |r: &Vec<Cell>| (0..columns).map(|i| cell(r.get(i))).collect::<Vec<_>>().join(", ");
    let _ = write!(out, "#table(columns: {columns}");
    let header = header_rows.min(rows.len());
    if header > 0 {
        let head: Vec<String> = rows[..header].iter().map(row).collect();
        let _ = write!(out, ", table.header({})", head.join(", "));
    }
    for r in &rows[header..] {
        let _ = write!(out, ", {}", row(r));
    }
    out.push_str(")\n\n");
}

fn inline(runs: &Inlines) -> String {
    runs.iter().map(span).collect()
}

fn span(span: &Span) -> String {
    let s = &span.style;
    let mut parts = Vec::new();
    for (i, piece) in span.text.split('\n').enumerate() {
        if i > 0 {
            parts.push("#linebreak()".to_owned());
        }
        if !piece.is_empty() {
            parts.push(if s.code {
                format!("#raw({})", lit(piece))
            } else {
                format!("#{}", lit(piece))
            });
        }
    }
    let mut body = parts.join("");
    if s.strike {
        body = format!("#strike[{body}]");
    }
    if s.underline {
        body = format!("#underline[{body}]");
    }
    if s.italic {
        body = format!("#emph[{body}]");
    }
    if s.bold {
        body = format!("#strong[{body}]");
    }
    if let Some(c) = s.color.as_deref().and_then(colours::text) {
        body = format!("#text(fill: rgb({}))[{body}]", lit(c));
    }
    if let Some(c) = s.background.as_deref().and_then(colours::background) {
        body = format!("#highlight(fill: rgb({}))[{body}]", lit(c));
    }
    if let Some(href) = &s.link {
        body = format!("#link({})[{body}]", lit(href));
    }
    body
}

/// A board's drawing (a standalone SVG `width` × `height` units) as a one-page vector PDF of
/// that size.
pub fn svg_to_pdf(svg: &str, width: f64, height: f64, title: &str) -> Result<Vec<u8>, PdfError> {
    // One board unit is one PDF point (the PNG export's scale 1 is one pixel per unit).
    let (w, h) = (width.clamp(1.0, 14_400.0), height.clamp(1.0, 14_400.0));
    let markup = format!(
        "#set document(title: {})\n#set page(width: {w}pt, height: {h}pt, margin: 0pt)\n\
         #image(\"/board.svg\", width: 100%, height: 100%)\n",
        lit(title)
    );
    typeset(markup, vec![("/board.svg".to_owned(), svg.as_bytes().to_vec())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_a_string_literal_whatever_it_holds() {
        assert_eq!(lit("a\"b\\c\n#d"), "\"a\\\"b\\\\c\\n#d\"");
    }
}
