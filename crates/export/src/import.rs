//! Files read into a document tree: Markdown ([`crate::import_md`]) and DOCX (here).
//!
//! An import returns the tree and the images the file carried; the caller stores the images as
//! assets and points the image blocks (`import:n`) at them, so images never go into the
//! document itself.

use std::io::Read;

use hubring_doc::tree::{
    Align, Block, Cell, Document, Inlines, ListItem, ListKind, MAX_DEPTH, Span, Style,
};
use serde_json::Value;

pub use crate::import_md::from_markdown;

/// An image a file carried, to be stored as an asset; image blocks point at it by `key`.
#[derive(Debug, Clone)]
pub struct ImportedImage {
    pub key: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// A file read.
#[derive(Debug, Clone)]
pub struct Imported {
    pub doc: Document,
    pub images: Vec<ImportedImage>,
}

impl Imported {
    /// Points the image blocks at where their images were stored (`key` → URL); an image that
    /// was not stored is dropped with its caption kept as text.
    pub fn link_images(&mut self, url_of: &dyn Fn(&str) -> Option<String>) {
        fn walk(blocks: &mut [Block], url_of: &dyn Fn(&str) -> Option<String>) {
            for block in blocks.iter_mut() {
                match block {
                    Block::Image { url, caption, name } if url.starts_with("import:") => {
                        match url_of(url) {
                            Some(u) => *url = u,
                            None => {
                                let text =
                                    if caption.is_empty() { name.clone() } else { caption.clone() };
                                *block = Block::Paragraph {
                                    align: Align::Left,
                                    content: vec![Span::plain(text)],
                                };
                            }
                        }
                    }
                    Block::List { items, .. } => {
                        items.iter_mut().for_each(|i| walk(&mut i.children, url_of))
                    }
                    _ => {}
                }
            }
        }
        walk(&mut self.doc.blocks, url_of);
    }
}

/// A link's target as an imported document may hold it: web, mail and phone addresses, and
/// relative ones; anything else (`javascript:`, `data:`, `file:`) is dropped, keeping the text.
pub fn safe_link(href: &str) -> Option<String> {
    let href = href.trim();
    let scheme_end = href.find(':');
    let path_start = href.find(['/', '?', '#']).unwrap_or(href.len());
    match scheme_end {
        Some(i) if i < path_start => {
            let scheme = href[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto" | "tel").then(|| href.to_owned())
        }
        _ => (!href.is_empty()).then(|| href.to_owned()),
    }
}

/// Why a file was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file nests more than {0} levels deep")]
    TooDeep(usize),
    #[error("not a DOCX file: {0}")]
    NotDocx(String),
    #[error("the DOCX unpacks to more than {0} MB")]
    TooLarge(u64),
}

/// The most a DOCX may unpack to, in all its parts.
pub const MAX_UNPACKED: u64 = 256 * 1024 * 1024;
/// The most parts a DOCX may have.
const MAX_PARTS: usize = 5_000;

/// Whether bytes are a zip file (a DOCX is one).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Unpacks every part, counting what comes out (never trusting the sizes the file declares),
/// so a file that would unpack to gigabytes is refused before docx-rs reads it.
fn check_zip(bytes: &[u8]) -> Result<(), ImportError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ImportError::NotDocx(e.to_string()))?;
    if archive.len() > MAX_PARTS {
        return Err(ImportError::NotDocx(format!("{} parts", archive.len())));
    }
    if archive.by_name("word/document.xml").is_err() {
        return Err(ImportError::NotDocx("no word/document.xml".into()));
    }
    let mut total = 0u64;
    let mut sink = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).map_err(|e| ImportError::NotDocx(e.to_string()))?;
        loop {
            let n = part.read(&mut sink).map_err(|e| ImportError::NotDocx(e.to_string()))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > MAX_UNPACKED {
                return Err(ImportError::TooLarge(MAX_UNPACKED / 1024 / 1024));
            }
        }
    }
    Ok(())
}

/// Reads a DOCX: headings (Word's heading styles, or an outline level), paragraphs with their
/// alignment, bullet and numbered lists with nesting (from the file's numbering), tables,
/// links, bold, italic, underline, strike, and embedded images.
pub fn from_docx(bytes: &[u8]) -> Result<Imported, ImportError> {
    check_zip(bytes)?;
    // docx-rs panics on some malformed parts; a panic is a refused file, not a crashed server.
    let owned = bytes.to_vec();
    let docx = std::panic::catch_unwind(move || docx_rs::read_docx(&owned))
        .map_err(|_| ImportError::NotDocx("unreadable".into()))?
        .map_err(|e| ImportError::NotDocx(e.to_string()))?;
    // docx-rs's own JSON form of the file: its reading model is walked as plain data.
    let json: Value =
        serde_json::from_str(&docx.json()).map_err(|e| ImportError::NotDocx(e.to_string()))?;
    let mut reader = DocxReader::new(&json, &docx);
    let mut blocks = Vec::new();
    if let Some(children) = json.pointer("/document/children").and_then(Value::as_array) {
        for child in children {
            reader.child(child, &mut blocks, 0);
        }
    }
    Ok(Imported { doc: Document { blocks }, images: reader.images })
}

struct DocxReader<'a> {
    json: &'a Value,
    /// Image relationship id → (mime, bytes).
    media: std::collections::HashMap<String, (String, Vec<u8>)>,
    /// Hyperlink relationship id → URL.
    links: std::collections::HashMap<String, String>,
    images: Vec<ImportedImage>,
}

fn mime_of(bytes: &[u8]) -> Option<&'static str> {
    Some(if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return None;
    })
}

impl<'a> DocxReader<'a> {
    fn new(json: &'a Value, docx: &docx_rs::Docx) -> Self {
        let mut media = std::collections::HashMap::new();
        for (id, _path, image, _png) in &docx.images {
            let bytes = image.0.clone();
            if let Some(mime) = mime_of(&bytes) {
                media.insert(id.clone(), (mime.to_owned(), bytes));
            }
        }
        let links = docx.hyperlinks.iter().map(|(id, url, _)| (id.clone(), url.clone())).collect();
        Self { json, media, links, images: Vec::new() }
    }

    /// Whether a numbering id draws bullets (else it numbers).
    fn is_bullet(&self, num_id: i64, level: i64) -> bool {
        let Some(nums) = self.json.pointer("/numberings/numberings").and_then(Value::as_array)
        else {
            return true;
        };
        let abs = nums
            .iter()
            .find(|n| n["id"].as_i64() == Some(num_id))
            .and_then(|n| n["abstractNumId"].as_i64());
        let Some(abs) = abs else { return true };
        let levels = self
            .json
            .pointer("/numberings/abstractNums")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|n| n["id"].as_i64() == Some(abs)))
            .and_then(|n| n["levels"].as_array());
        levels
            .and_then(|l| l.iter().find(|lv| lv["level"].as_i64() == Some(level)))
            .and_then(|lv| lv["format"].as_str())
            .is_none_or(|f| f == "bullet" || f == "none")
    }

    fn child(&mut self, child: &Value, out: &mut Vec<Block>, depth: usize) {
        match child["type"].as_str() {
            Some("paragraph") => self.paragraph(&child["data"], out),
            Some("table") if depth < MAX_DEPTH => out.push(self.table(&child["data"], depth)),
            Some("structuredDataTag") => {
                if let Some(children) = child["data"]["children"].as_array() {
                    for c in children {
                        self.child(c, out, depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    fn paragraph(&mut self, p: &Value, out: &mut Vec<Block>) {
        let prop = &p["property"];
        let style = prop["style"].as_str().unwrap_or_default().to_owned();
        let align = match prop["alignment"].as_str() {
            Some("center") => Align::Center,
            Some("right" | "end") => Align::Right,
            Some("both" | "distribute") => Align::Justify,
            _ => Align::Left,
        };
        let mut content = Vec::new();
        let mut pictures = Vec::new();
        self.runs(
            p["children"].as_array().map(Vec::as_slice).unwrap_or_default(),
            &Style::default(),
            &mut content,
            &mut pictures,
        );
        let numbering = prop["numberingProperty"]["id"].as_i64().filter(|id| *id > 0);
        let level = prop["numberingProperty"]["level"].as_i64().unwrap_or(0).clamp(0, 8);
        let heading = heading_level(&style).or_else(|| {
            prop["outlineLvl"].as_i64().filter(|l| (0..3).contains(l)).map(|l| l as u8 + 1)
        });
        if let (Some(num), None) = (numbering, heading) {
            let mut kind =
                if self.is_bullet(num, level) { ListKind::Bullet } else { ListKind::Numbered };
            // A task list, as Word and pandoc write one: a ballot box before the text.
            let mut checked = false;
            if let Some(first) = content.first_mut() {
                for (mark, done) in [("☐ ", false), ("☒ ", true), ("☑ ", true)] {
                    if let Some(rest) = first.text.strip_prefix(mark) {
                        first.text = rest.to_owned();
                        kind = ListKind::Check;
                        checked = done;
                        break;
                    }
                }
            }
            self.list_item(out, kind, level as usize, content, checked);
        } else {
            let has_text = content.iter().any(|s: &Span| !s.text.trim().is_empty());
            if let Some(level) = heading {
                out.push(Block::Heading { level, align, content });
            } else if has_text {
                let lower = style.to_lowercase();
                if lower.contains("quote") || lower == "blocktext" {
                    out.push(Block::Quote { content });
                } else if lower.contains("code") || lower == "sourcecode" {
                    out.push(Block::Code {
                        language: None,
                        text: hubring_doc::tree::text_of(&content),
                    });
                } else {
                    out.push(Block::Paragraph { align, content });
                }
            }
        }
        for (key, caption) in pictures {
            out.push(Block::Image { url: key, caption: caption.clone(), name: caption });
        }
    }

    /// Adds an item to the list at `level` of the last block, opening lists as needed.
    fn list_item(
        &mut self,
        out: &mut Vec<Block>,
        kind: ListKind,
        level: usize,
        content: Inlines,
        checked: bool,
    ) {
        let item = ListItem { checked, content, children: Vec::new() };
        let mut target = out;
        for _ in 0..level {
            let has_parent =
                matches!(target.last(), Some(Block::List { items, .. }) if !items.is_empty());
            if !has_parent {
                break;
            }
            let Some(Block::List { items, .. }) = target.last_mut() else { unreachable!() };
            target = &mut items.last_mut().expect("checked above").children;
        }
        match target.last_mut() {
            Some(Block::List { kind: k, items }) if *k == kind => items.push(item),
            _ => target.push(Block::List { kind, items: vec![item] }),
        }
    }

    fn runs(
        &mut self,
        children: &[Value],
        base: &Style,
        out: &mut Inlines,
        pictures: &mut Vec<(String, String)>,
    ) {
        for child in children {
            match child["type"].as_str() {
                Some("run") => self.run(&child["data"], base, out, pictures),
                Some("hyperlink") => {
                    let data = &child["data"];
                    let mut style = base.clone();
                    let href = data["rid"]
                        .as_str()
                        .and_then(|rid| self.links.get(rid))
                        .and_then(|h| safe_link(h));
                    if let Some(href) = href {
                        style.link = Some(href);
                    }
                    let inner = data["children"].as_array().map(Vec::as_slice).unwrap_or_default();
                    self.runs(inner, &style, out, pictures);
                }
                Some("insert") => {
                    let inner =
                        child["data"]["children"].as_array().map(Vec::as_slice).unwrap_or_default();
                    self.runs(inner, base, out, pictures);
                }
                _ => {}
            }
        }
    }

    fn run(
        &mut self,
        run: &Value,
        base: &Style,
        out: &mut Inlines,
        pictures: &mut Vec<(String, String)>,
    ) {
        let rp = &run["runProperty"];
        let on = |k: &str| match &rp[k] {
            Value::Bool(b) => *b,
            Value::Object(_) => true,
            _ => false,
        };
        let mut style = base.clone();
        style.bold |= on("bold");
        style.italic |= on("italic");
        style.strike |= on("strike") || on("dstrike");
        style.underline |= rp["underline"].as_str().is_some_and(|u| u != "none");
        if rp["style"].as_str().is_some_and(|s| s.contains("Verbatim") || s.contains("Code")) {
            style.code = true;
        }
        for child in run["children"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let text = match child["type"].as_str() {
                Some("text") => child["data"]["text"].as_str().map(str::to_owned),
                Some("tab") => Some("\t".to_owned()),
                Some("break") => Some("\n".to_owned()),
                Some("drawing") => {
                    self.drawing(&child["data"], pictures);
                    None
                }
                _ => None,
            };
            if let Some(text) = text.filter(|t| !t.is_empty()) {
                match out.last_mut() {
                    Some(last) if last.style == style => last.text.push_str(&text),
                    _ => out.push(Span { text, style: style.clone() }),
                }
            }
        }
    }

    fn drawing(&mut self, drawing: &Value, pictures: &mut Vec<(String, String)>) {
        let Some(rid) =
            drawing.pointer("/data/id").and_then(Value::as_str).or_else(|| drawing["id"].as_str())
        else {
            return;
        };
        let Some((mime, bytes)) = self.media.get(rid).cloned() else { return };
        let key = format!("import:{}", self.images.len());
        self.images.push(ImportedImage { key: key.clone(), mime, bytes });
        pictures.push((key, String::new()));
    }

    fn table(&mut self, table: &Value, depth: usize) -> Block {
        let mut rows = Vec::new();
        let mut header_rows = 0;
        for (r, row) in
            table["rows"].as_array().map(Vec::as_slice).unwrap_or_default().iter().enumerate()
        {
            let row = &row["data"];
            let mut cells = Vec::new();
            for cell in row["cells"].as_array().map(Vec::as_slice).unwrap_or_default() {
                let cell = &cell["data"];
                let mut blocks = Vec::new();
                for c in cell["children"].as_array().map(Vec::as_slice).unwrap_or_default() {
                    self.child(c, &mut blocks, depth + 1);
                }
                // A cell holds text: its paragraphs, one line each.
                let mut content: Inlines = Vec::new();
                let mut align = Align::Left;
                for (i, b) in blocks.into_iter().enumerate() {
                    let (runs, a) = match b {
                        Block::Paragraph { content, align }
                        | Block::Heading { content, align, .. } => (content, align),
                        other => (
                            vec![Span::plain(crate::markdown::to_text(&Document {
                                blocks: vec![other],
                            }))],
                            Align::Left,
                        ),
                    };
                    if i == 0 {
                        align = a;
                    } else {
                        content.push(Span::plain("\n"));
                    }
                    content.extend(runs);
                }
                cells.push(Cell { content, align });
            }
            let is_header = row["property"]["tableHeader"].as_bool().unwrap_or(false)
                || row["property"]["isHeader"].as_bool().unwrap_or(false);
            if is_header && r == header_rows {
                header_rows += 1;
            }
            rows.push(cells);
        }
        // A table whose file marks no header row still reads with its first row as one, as
        // Markdown and most editors show it.
        Block::Table { header_rows: header_rows.max(usize::from(!rows.is_empty())), rows }
    }
}

/// A heading level from a Word style id (`Heading1`, `heading 2`, `Title`).
fn heading_level(style: &str) -> Option<u8> {
    let lower = style.to_lowercase().replace(' ', "");
    if lower == "title" {
        return Some(1);
    }
    let n = lower.strip_prefix("heading")?.parse::<u8>().ok()?;
    Some(n.clamp(1, 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_that_would_run_script_are_dropped_keeping_their_text() {
        let md = "[safe](https://hub.example) [bad](javascript:alert(1)) [rel](/projects/x) [mail](mailto:a@b.example) [data](data:text/html,x)";
        let doc = from_markdown(md).unwrap().doc;
        let Block::Paragraph { content, .. } = &doc.blocks[0] else { panic!("{doc:?}") };
        let links: Vec<(&str, Option<&str>)> =
            content.iter().map(|s| (s.text.as_str(), s.style.link.as_deref())).collect();
        assert!(links.contains(&("safe", Some("https://hub.example"))), "{links:?}");
        assert!(links.contains(&("rel", Some("/projects/x"))));
        assert!(links.contains(&("mail", Some("mailto:a@b.example"))));
        assert!(links.iter().any(|(t, l)| t.contains("bad") && l.is_none()), "{links:?}");
        assert!(links.iter().any(|(t, l)| t.contains("data") && l.is_none()), "{links:?}");
    }
}
