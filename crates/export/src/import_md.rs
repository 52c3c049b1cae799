//! Markdown read into a document tree: CommonMark with GFM tables, task lists and
//! strikethrough, read by pulldown-cmark.
//!
//! Images become image blocks only when they come with the file (`data:` URLs): their bytes are
//! handed back to be stored as assets, and the block points at them. An image elsewhere (a web
//! address) is kept as a link with its text, so importing never makes the server fetch anything.

use base64::Engine;
use hubring_doc::tree::{
    Align, Block, Cell, Document, Inlines, ListItem, ListKind, MAX_DEPTH, Span, Style,
};
use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::import::{ImportError, Imported, ImportedImage};

/// What is being built: blocks at each open container, innermost last.
enum Frame {
    /// The document, a quote or a list item's children.
    Blocks(Vec<Block>),
    List {
        kind: ListKind,
        items: Vec<ListItem>,
    },
    Item {
        checked: Option<bool>,
        content: Inlines,
        children: Vec<Block>,
    },
}

struct Reader {
    frames: Vec<Frame>,
    /// The runs of the paragraph, heading or cell being read.
    inline: Inlines,
    style: Vec<Style>,
    heading: Option<u8>,
    table: Option<(Vec<Alignment>, Vec<Vec<Cell>>, usize)>,
    code: Option<(Option<String>, String)>,
    quote_depth: usize,
    images: Vec<ImportedImage>,
    /// The alt text of an image being read.
    image: Option<(String, String)>,
}

/// Reads Markdown into a document, with the images it carries.
pub fn from_markdown(text: &str) -> Result<Imported, ImportError> {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut r = Reader {
        frames: vec![Frame::Blocks(Vec::new())],
        inline: Vec::new(),
        style: vec![Style::default()],
        heading: None,
        table: None,
        code: None,
        quote_depth: 0,
        images: Vec::new(),
        image: None,
    };
    for event in Parser::new_ext(text, options) {
        r.event(event)?;
    }
    r.flush_paragraph();
    while r.frames.len() > 1 {
        r.close_frame();
    }
    let Some(Frame::Blocks(blocks)) = r.frames.pop() else { unreachable!("the document frame") };
    Ok(Imported { doc: Document { blocks }, images: r.images })
}

impl Reader {
    fn current_style(&self) -> Style {
        self.style.last().cloned().unwrap_or_default()
    }

    fn push_style(&mut self, change: impl FnOnce(&mut Style)) {
        let mut s = self.current_style();
        change(&mut s);
        self.style.push(s);
    }

    fn text(&mut self, text: &str, extra: impl FnOnce(&mut Style)) {
        if let Some((_, alt)) = &mut self.image {
            alt.push_str(text);
            return;
        }
        if let Some((_, code)) = &mut self.code {
            code.push_str(text);
            return;
        }
        let mut style = self.current_style();
        extra(&mut style);
        match self.inline.last_mut() {
            Some(last) if last.style == style => last.text.push_str(text),
            _ => self.inline.push(Span { text: text.to_owned(), style }),
        }
    }

    fn push_block(&mut self, block: Block) {
        match self.frames.last_mut() {
            Some(Frame::Blocks(blocks)) | Some(Frame::Item { children: blocks, .. }) => {
                blocks.push(block);
            }
            Some(Frame::List { .. }) | None => {}
        }
    }

    /// The runs read so far become a block: the item's text, a heading or a paragraph.
    fn flush_paragraph(&mut self) {
        let content = std::mem::take(&mut self.inline);
        if content.is_empty() {
            return;
        }
        if let Some(Frame::Item { content: c, children, .. }) = self.frames.last_mut()
            && c.is_empty()
            && children.is_empty()
        {
            *c = content;
            return;
        }
        let block = if self.quote_depth > 0 {
            Block::Quote { content }
        } else {
            Block::Paragraph { align: Align::Left, content }
        };
        self.push_block(block);
    }

    fn close_frame(&mut self) {
        self.flush_paragraph();
        match self.frames.pop() {
            Some(Frame::Item { checked, content, children }) => {
                let kind_check = checked.is_some();
                if let Some(Frame::List { kind, items }) = self.frames.last_mut() {
                    if kind_check && *kind == ListKind::Bullet {
                        *kind = ListKind::Check;
                    }
                    items.push(ListItem { checked: checked.unwrap_or(false), content, children });
                }
            }
            Some(Frame::List { kind, items }) => self.push_block(Block::List { kind, items }),
            Some(Frame::Blocks(blocks)) => {
                for b in blocks {
                    self.push_block(b);
                }
            }
            None => {}
        }
    }

    fn open(&mut self, frame: Frame) -> Result<(), ImportError> {
        if self.frames.len() > MAX_DEPTH * 2 {
            return Err(ImportError::TooDeep(MAX_DEPTH));
        }
        self.frames.push(frame);
        Ok(())
    }

    fn event(&mut self, event: Event<'_>) -> Result<(), ImportError> {
        match event {
            Event::Start(tag) => self.start(tag)?,
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.text(&t, |_| {}),
            Event::Code(t) => self.text(&t, |s| s.code = true),
            Event::SoftBreak => self.text(" ", |_| {}),
            Event::HardBreak => self.text("\n", |_| {}),
            Event::TaskListMarker(done) => {
                if let Some(Frame::Item { checked, .. }) = self.frames.last_mut() {
                    *checked = Some(done);
                }
            }
            Event::InlineHtml(h) | Event::Html(h) => match h.trim() {
                // Underline has no Markdown of its own; the export writes it as `<u>`.
                "<u>" => self.push_style(|s| s.underline = true),
                "</u>" => {
                    if self.style.len() > 1 {
                        self.style.pop();
                    }
                }
                "<br>" | "<br/>" | "<br />" => self.text("\n", |_| {}),
                other => self.text(other, |_| {}),
            },
            Event::Rule => {}
            Event::FootnoteReference(t) => self.text(&format!("[^{t}]"), |_| {}),
            _ => {}
        }
        Ok(())
    }

    fn start(&mut self, tag: Tag<'_>) -> Result<(), ImportError> {
        match tag {
            Tag::Paragraph => {}
            Tag::Heading { level, .. } => {
                self.flush_paragraph();
                self.heading = Some(match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    _ => 3,
                });
            }
            Tag::BlockQuote(_) => {
                self.flush_paragraph();
                self.quote_depth += 1;
                if self.quote_depth > MAX_DEPTH {
                    return Err(ImportError::TooDeep(MAX_DEPTH));
                }
            }
            Tag::CodeBlock(kind) => {
                self.flush_paragraph();
                let lang = match kind {
                    CodeBlockKind::Fenced(l) if !l.is_empty() => {
                        Some(l.split_whitespace().next().unwrap_or_default().to_owned())
                    }
                    _ => None,
                };
                self.code = Some((lang, String::new()));
            }
            Tag::List(start) => {
                self.flush_paragraph();
                let kind = if start.is_some() { ListKind::Numbered } else { ListKind::Bullet };
                self.open(Frame::List { kind, items: Vec::new() })?;
            }
            Tag::Item => {
                self.open(Frame::Item {
                    checked: None,
                    content: Vec::new(),
                    children: Vec::new(),
                })?;
            }
            Tag::Table(aligns) => {
                self.flush_paragraph();
                self.table = Some((aligns, Vec::new(), 0));
            }
            Tag::TableHead => {
                if let Some((_, rows, head)) = &mut self.table {
                    rows.push(Vec::new());
                    *head = 1;
                }
            }
            Tag::TableRow => {
                if let Some((_, rows, _)) = &mut self.table {
                    rows.push(Vec::new());
                }
            }
            Tag::TableCell => self.inline.clear(),
            Tag::Emphasis => self.push_style(|s| s.italic = true),
            Tag::Strong => self.push_style(|s| s.bold = true),
            Tag::Strikethrough => self.push_style(|s| s.strike = true),
            Tag::Link { dest_url, .. } => {
                let href = crate::import::safe_link(&dest_url);
                self.push_style(|s| s.link = href);
            }
            Tag::Image { dest_url, .. } => self.image = Some((dest_url.to_string(), String::new())),
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.flush_paragraph(),
            TagEnd::Heading(_) => {
                let content = std::mem::take(&mut self.inline);
                let level = self.heading.take().unwrap_or(1);
                self.push_block(Block::Heading { level, align: Align::Left, content });
            }
            TagEnd::BlockQuote(_) => {
                self.flush_paragraph();
                self.quote_depth = self.quote_depth.saturating_sub(1);
            }
            TagEnd::CodeBlock => {
                if let Some((language, mut text)) = self.code.take() {
                    if text.ends_with('\n') {
                        text.pop();
                    }
                    self.push_block(Block::Code { language, text });
                }
            }
            TagEnd::List(_) | TagEnd::Item => self.close_frame(),
            TagEnd::TableCell => {
                let content = std::mem::take(&mut self.inline);
                if let Some((aligns, rows, _)) = &mut self.table
                    && let Some(row) = rows.last_mut()
                {
                    {
                        let align = match aligns.get(row.len()) {
                            Some(Alignment::Center) => Align::Center,
                            Some(Alignment::Right) => Align::Right,
                            _ => Align::Left,
                        };
                        row.push(Cell { content, align });
                    }
                }
            }
            TagEnd::Table => {
                if let Some((_, rows, header_rows)) = self.table.take() {
                    self.push_block(Block::Table { header_rows, rows });
                }
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link
                if self.style.len() > 1 =>
            {
                self.style.pop();
            }
            TagEnd::Image => {
                if let Some((url, alt)) = self.image.take() {
                    self.image_read(&url, alt);
                }
            }
            _ => {}
        }
    }

    /// An image: a block of its own if the file carries it, else a link.
    fn image_read(&mut self, url: &str, alt: String) {
        match data_url(url) {
            Some((mime, bytes)) => {
                self.flush_paragraph();
                let key = format!("import:{}", self.images.len());
                self.images.push(ImportedImage { key: key.clone(), mime, bytes });
                self.push_block(Block::Image { url: key, caption: alt.clone(), name: alt });
            }
            None => {
                let label = if alt.is_empty() { url.to_owned() } else { alt };
                let href = crate::import::safe_link(url);
                self.text(&label, move |s| s.link = href);
            }
        }
    }
}

/// The bytes of a `data:image/...;base64,` URL.
fn data_url(url: &str) -> Option<(String, Vec<u8>)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let mime = meta.strip_suffix(";base64")?;
    if !mime.starts_with("image/") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(data.trim()).ok()?;
    Some((mime.to_owned(), bytes))
}
