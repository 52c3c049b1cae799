//! One reading of a document: BlockNote's XML fragment (`document-store`) as a small typed tree,
//! and the same tree written back as the fragment the editor reads (imports and templates).
//!
//! Every export is made from this tree (`hubring-export`), so what a format shows of a document
//! is decided once. The fragment is y-prosemirror's copy of BlockNote's ProseMirror document:
//! `blockGroup > blockContainer > (content node, blockGroup?)`; a content node's text is an
//! `XmlText` whose formatting attributes are ProseMirror marks (`bold: {}`, `textColor:
//! {stringValue}`, `link: {href}`). A block this reading does not know is kept as its text
//! ([`Block::Other`]), never dropped.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use yrs::types::xml::{XmlElementPrelim, XmlElementRef, XmlOut, XmlTextPrelim, XmlTextRef};
use yrs::{Any, Out, ReadTxn, Text, TransactionMut, WriteTxn, Xml, XmlFragment};

use crate::comments::FRAGMENT;

/// Blocks nested deeper than this are read as if they were at this depth (a list item's children
/// become its siblings): exports recurse over the tree.
pub const MAX_DEPTH: usize = 32;

/// A block's horizontal alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
    Justify,
}

impl Align {
    fn parse(s: Option<&str>) -> Self {
        match s {
            Some("center") => Self::Center,
            Some("right") => Self::Right,
            Some("justify") => Self::Justify,
            _ => Self::Left,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Center => "center",
            Self::Right => "right",
            Self::Justify => "justify",
        }
    }
}

/// The formatting of a run of text. Colours are BlockNote's names (`red`, `blue`...).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Style {
    #[serde(default, skip_serializing_if = "is_false")]
    pub bold: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub italic: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub underline: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub strike: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub code: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// A run of text with one formatting. A line break inside a block is a `\n` in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub text: String,
    #[serde(flatten)]
    pub style: Style,
}

impl Span {
    pub fn plain(text: impl Into<String>) -> Self {
        Self { text: text.into(), style: Style::default() }
    }
}

/// The text of a block, as runs.
pub type Inlines = Vec<Span>;

/// The plain text of runs.
pub fn text_of(inlines: &[Span]) -> String {
    inlines.iter().map(|s| s.text.as_str()).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    Bullet,
    Numbered,
    Check,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListItem {
    /// For a check list.
    #[serde(default, skip_serializing_if = "is_false")]
    pub checked: bool,
    pub content: Inlines,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub content: Inlines,
    #[serde(default)]
    pub align: Align,
}

/// One block of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Block {
    /// Level 1 to 3 (deeper headings are read as 3).
    Heading {
        level: u8,
        align: Align,
        content: Inlines,
    },
    Paragraph {
        align: Align,
        content: Inlines,
    },
    /// Consecutive list items of one kind.
    List {
        kind: ListKind,
        items: Vec<ListItem>,
    },
    /// Rows of cells; the first `header_rows` rows are headers.
    Table {
        header_rows: usize,
        rows: Vec<Vec<Cell>>,
    },
    Quote {
        content: Inlines,
    },
    Code {
        language: Option<String>,
        text: String,
    },
    /// An image by its URL (an asset of the project: `/api/v1/assets/{id}`).
    Image {
        url: String,
        caption: String,
        name: String,
    },
    /// A block this reading does not know (a video, a file...), kept as its text.
    Other {
        kind: String,
        content: Inlines,
    },
}

/// A document read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Document {
    pub blocks: Vec<Block>,
}

impl Document {
    /// Every image's URL, in order.
    pub fn images(&self) -> Vec<&str> {
        fn walk<'a>(blocks: &'a [Block], out: &mut Vec<&'a str>) {
            for b in blocks {
                match b {
                    Block::Image { url, .. } => out.push(url),
                    Block::List { items, .. } => {
                        items.iter().for_each(|i| walk(&i.children, out));
                    }
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.blocks, &mut out);
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Reads the document of a transaction's `document-store` fragment.
pub fn read<T: ReadTxn>(txn: &T) -> Document {
    let mut blocks = Vec::new();
    if let Some(fragment) = txn.get_xml_fragment(FRAGMENT) {
        for child in fragment.children(txn) {
            if let XmlOut::Element(el) = child {
                read_node(txn, &el, &mut blocks, 0);
            }
        }
    }
    Document { blocks }
}

/// Reads a document from an encoded state (a snapshot or a version).
pub fn read_state(state: &[u8]) -> Result<Document, crate::DocError> {
    let doc = crate::versions::load(state)?;
    let txn = yrs::Transact::transact(&doc);
    Ok(read(&txn))
}

/// A `blockGroup` (its containers) or a `blockContainer`, read into `out`.
fn read_node<T: ReadTxn>(txn: &T, el: &XmlElementRef, out: &mut Vec<Block>, depth: usize) {
    match el.tag().as_ref() {
        "blockGroup" => {
            for child in el.children(txn) {
                if let XmlOut::Element(c) = child {
                    read_node(txn, &c, out, depth);
                }
            }
        }
        "blockContainer" => read_container(txn, el, out, depth),
        // Not where a block belongs: its text is still the document's.
        _ => {
            let content = inlines(txn, el);
            if !content.is_empty() {
                out.push(Block::Other { kind: el.tag().to_string(), content });
            }
        }
    }
}

fn read_container<T: ReadTxn>(txn: &T, el: &XmlElementRef, out: &mut Vec<Block>, depth: usize) {
    let mut content = None;
    let mut group = None;
    for child in el.children(txn) {
        if let XmlOut::Element(c) = child {
            if c.tag().as_ref() == "blockGroup" {
                group = Some(c);
            } else if content.is_none() {
                content = Some(c);
            }
        }
    }
    let children = |out: &mut Vec<Block>| {
        let mut nested = Vec::new();
        if let Some(g) = &group {
            read_node(txn, g, &mut nested, depth + 1);
        }
        if depth + 1 >= MAX_DEPTH {
            out.append(&mut nested);
            Vec::new()
        } else {
            nested
        }
    };
    let Some(node) = content else {
        let mut nested = children(out);
        out.append(&mut nested);
        return;
    };
    let align = Align::parse(attr(txn, &node, "textAlignment").as_deref());
    let list = match node.tag().as_ref() {
        "bulletListItem" | "toggleListItem" => Some(ListKind::Bullet),
        "numberedListItem" => Some(ListKind::Numbered),
        "checkListItem" => Some(ListKind::Check),
        _ => None,
    };
    if let Some(kind) = list {
        let item = ListItem {
            checked: attr(txn, &node, "checked").as_deref() == Some("true"),
            content: inlines(txn, &node),
            children: children(out),
        };
        match out.last_mut() {
            Some(Block::List { kind: k, items }) if *k == kind => items.push(item),
            _ => out.push(Block::List { kind, items: vec![item] }),
        }
        return;
    }
    let block = match node.tag().as_ref() {
        "paragraph" => Block::Paragraph { align, content: inlines(txn, &node) },
        "heading" => {
            let level =
                attr(txn, &node, "level").and_then(|l| l.parse::<f64>().ok()).unwrap_or(1.0);
            Block::Heading {
                level: level.clamp(1.0, 3.0) as u8,
                align,
                content: inlines(txn, &node),
            }
        }
        "quote" => Block::Quote { content: inlines(txn, &node) },
        "codeBlock" => Block::Code {
            language: attr(txn, &node, "language").filter(|l| !l.is_empty() && l != "text"),
            text: text_of(&inlines(txn, &node)),
        },
        "image" => Block::Image {
            url: attr(txn, &node, "url").unwrap_or_default(),
            caption: attr(txn, &node, "caption").unwrap_or_default(),
            name: attr(txn, &node, "name").unwrap_or_default(),
        },
        "table" => read_table(txn, &node),
        other => {
            let mut content = inlines(txn, &node);
            if content.is_empty() {
                // A file, video or audio block: what names it.
                let named = ["name", "caption", "url"]
                    .iter()
                    .find_map(|k| attr(txn, &node, k).filter(|v| !v.is_empty()));
                content.extend(named.map(Span::plain));
            }
            Block::Other { kind: other.to_owned(), content }
        }
    };
    out.push(block);
    // A block that is not a list item may still have children (indented with Tab): they follow
    // it.
    let mut nested = children(out);
    out.append(&mut nested);
}

fn read_table<T: ReadTxn>(txn: &T, table: &XmlElementRef) -> Block {
    let mut rows = Vec::new();
    let mut header_rows = 0;
    let mut in_header = true;
    for row in table.children(txn) {
        let XmlOut::Element(row) = row else { continue };
        let mut cells = Vec::new();
        let mut all_header = true;
        for cell in row.children(txn) {
            let XmlOut::Element(cell) = cell else { continue };
            all_header &= cell.tag().as_ref() == "tableHeader";
            cells.push(Cell {
                content: inlines(txn, &cell),
                align: Align::parse(attr(txn, &cell, "textAlignment").as_deref()),
            });
        }
        if in_header && all_header && !cells.is_empty() {
            header_rows += 1;
        } else {
            in_header = false;
        }
        rows.push(cells);
    }
    Block::Table { header_rows, rows }
}

/// An attribute as text, whatever type y-prosemirror stored it as.
fn attr<T: ReadTxn>(txn: &T, el: &XmlElementRef, name: &str) -> Option<String> {
    match el.get_attribute(txn, name)? {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        Out::Any(Any::Bool(b)) => Some(b.to_string()),
        Out::Any(Any::Number(n)) => Some(n.to_string()),
        Out::Any(Any::Null | Any::Undefined) => None,
        other => Some(other.to_string(txn)),
    }
}

/// The text of an element and its descendants, as runs (a `hardBreak` is a `\n`).
fn inlines<T: ReadTxn>(txn: &T, el: &XmlElementRef) -> Inlines {
    let mut out: Inlines = Vec::new();
    collect_inlines(txn, el, &mut out, 0);
    out
}

fn collect_inlines<T: ReadTxn>(txn: &T, el: &XmlElementRef, out: &mut Inlines, depth: usize) {
    for child in el.children(txn) {
        match child {
            XmlOut::Text(text) => text_runs(txn, &text, out),
            XmlOut::Element(c) if c.tag().as_ref() == "hardBreak" => push(out, Span::plain("\n")),
            XmlOut::Element(c) if depth < MAX_DEPTH => collect_inlines(txn, &c, out, depth + 1),
            _ => {}
        }
    }
}

fn push(out: &mut Inlines, span: Span) {
    if span.text.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(last) if last.style == span.style => last.text.push_str(&span.text),
        _ => out.push(span),
    }
}

fn text_runs<T: ReadTxn>(txn: &T, text: &XmlTextRef, out: &mut Inlines) {
    for chunk in text.diff(txn, yrs::types::text::YChange::identity) {
        let Out::Any(Any::String(s)) = chunk.insert else { continue };
        let style = chunk.attributes.map(|a| style_of(&a)).unwrap_or_default();
        push(out, Span { text: s.to_string(), style });
    }
}

/// A mark's value: `{stringValue: "red"}` (BlockNote's colours), `{href}` (links) or a string.
fn mark_string(value: &Any, key: &str) -> Option<String> {
    match value {
        Any::String(s) => Some(s.to_string()),
        Any::Map(m) => match m.get(key) {
            Some(Any::String(s)) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn style_of(attrs: &HashMap<Arc<str>, Any>) -> Style {
    let on = |k: &str| attrs.get(k).is_some_and(|v| !matches!(v, Any::Null | Any::Bool(false)));
    let colour = |k: &str| {
        attrs.get(k).and_then(|v| mark_string(v, "stringValue")).filter(|c| c != "default")
    };
    Style {
        bold: on("bold"),
        italic: on("italic"),
        underline: on("underline"),
        strike: on("strike"),
        code: on("code"),
        color: colour("textColor"),
        background: colour("backgroundColor"),
        link: attrs.get("link").and_then(|v| mark_string(v, "href")),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Writes `doc` as the document's content, replacing what the fragment held, as y-prosemirror
/// writes BlockNote's blocks. `id` names each block (BlockNote's ids are unique strings).
pub fn write(txn: &mut TransactionMut<'_>, doc: &Document, id: &mut dyn FnMut() -> String) {
    let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
    let n = fragment.len(txn);
    if n > 0 {
        fragment.remove_range(txn, 0, n);
    }
    let group: XmlElementRef = fragment.push_back(txn, XmlElementPrelim::empty("blockGroup"));
    write_blocks(txn, &group, &doc.blocks, id, 0);
}

fn write_blocks(
    txn: &mut TransactionMut<'_>,
    group: &XmlElementRef,
    blocks: &[Block],
    id: &mut dyn FnMut() -> String,
    depth: usize,
) {
    for block in blocks {
        if let Block::List { kind, items } = block {
            let tag = match kind {
                ListKind::Bullet => "bulletListItem",
                ListKind::Numbered => "numberedListItem",
                ListKind::Check => "checkListItem",
            };
            for item in items {
                let container = container(txn, group, id);
                let node = element(txn, &container, tag);
                if *kind == ListKind::Check {
                    node.insert_attribute(txn, "checked", Any::Bool(item.checked));
                }
                write_inlines(txn, &node, &item.content);
                if !item.children.is_empty() {
                    let nested: XmlElementRef =
                        container.push_back(txn, XmlElementPrelim::empty("blockGroup"));
                    if depth + 1 < MAX_DEPTH {
                        write_blocks(txn, &nested, &item.children, id, depth + 1);
                    }
                }
            }
            continue;
        }
        let container = container(txn, group, id);
        match block {
            Block::Heading { level, align, content } => {
                let node = element(txn, &container, "heading");
                node.insert_attribute(txn, "level", Any::from(f64::from((*level).clamp(1, 3))));
                aligned(txn, &node, *align);
                write_inlines(txn, &node, content);
            }
            Block::Paragraph { align, content } => {
                let node = element(txn, &container, "paragraph");
                aligned(txn, &node, *align);
                write_inlines(txn, &node, content);
            }
            Block::Quote { content } => {
                let node = element(txn, &container, "quote");
                write_inlines(txn, &node, content);
            }
            Block::Code { language, text } => {
                let node = element(txn, &container, "codeBlock");
                let lang = language.clone().unwrap_or_else(|| "text".into());
                node.insert_attribute(txn, "language", Any::from(lang));
                write_inlines(txn, &node, &[Span::plain(text.clone())]);
            }
            Block::Image { url, caption, name } => {
                let node = element(txn, &container, "image");
                node.insert_attribute(txn, "url", Any::from(url.clone()));
                node.insert_attribute(txn, "caption", Any::from(caption.clone()));
                node.insert_attribute(txn, "name", Any::from(name.clone()));
                node.insert_attribute(txn, "showPreview", Any::Bool(true));
            }
            Block::Table { header_rows, rows } => {
                let table = element(txn, &container, "table");
                for (r, row) in rows.iter().enumerate() {
                    let tr: XmlElementRef =
                        table.push_back(txn, XmlElementPrelim::empty("tableRow"));
                    let tag = if r < *header_rows { "tableHeader" } else { "tableCell" };
                    for cell in row {
                        let td = element(txn, &tr, tag);
                        td.insert_attribute(txn, "colspan", Any::from(1.0));
                        td.insert_attribute(txn, "rowspan", Any::from(1.0));
                        aligned(txn, &td, cell.align);
                        let p = element(txn, &td, "tableParagraph");
                        write_inlines(txn, &p, &cell.content);
                    }
                }
            }
            Block::Other { content, .. } => {
                let node = element(txn, &container, "paragraph");
                write_inlines(txn, &node, content);
            }
            Block::List { .. } => unreachable!("lists are written above"),
        }
    }
}

/// Removes every comment mark from the text (a template keeps the text, not the threads its
/// marks point at).
pub fn strip_comment_marks(txn: &mut TransactionMut<'_>) {
    let Some(fragment) = txn.get_xml_fragment(FRAGMENT) else { return };
    let mut texts = Vec::new();
    let mut stack: Vec<XmlOut> = fragment.children(txn).collect();
    while let Some(node) = stack.pop() {
        match node {
            XmlOut::Text(t) => texts.push(t),
            XmlOut::Element(el) => stack.extend(el.children(txn)),
            XmlOut::Fragment(f) => stack.extend(f.children(txn)),
        }
    }
    for text in texts {
        let mut at = 0u32;
        let chunks = text.diff(txn, yrs::types::text::YChange::identity);
        let mut changes = Vec::new();
        for chunk in chunks {
            let len = match &chunk.insert {
                Out::Any(Any::String(s)) => s.len() as u32,
                _ => 1,
            };
            let marks: HashMap<Arc<str>, Any> = chunk
                .attributes
                .iter()
                .flat_map(|a| a.keys())
                .filter(|k| k.starts_with("comment"))
                .map(|k| (k.clone(), Any::Null))
                .collect();
            if !marks.is_empty() {
                changes.push((at, len, marks));
            }
            at += len;
        }
        for (at, len, marks) in changes {
            text.format(txn, at, len, marks);
        }
    }
}

fn container(
    txn: &mut TransactionMut<'_>,
    group: &XmlElementRef,
    id: &mut dyn FnMut() -> String,
) -> XmlElementRef {
    let c: XmlElementRef = group.push_back(txn, XmlElementPrelim::empty("blockContainer"));
    c.insert_attribute(txn, "id", Any::from(id()));
    c
}

fn element(txn: &mut TransactionMut<'_>, parent: &XmlElementRef, tag: &str) -> XmlElementRef {
    parent.push_back(txn, XmlElementPrelim::empty(tag))
}

fn aligned(txn: &mut TransactionMut<'_>, node: &XmlElementRef, align: Align) {
    if align != Align::Left {
        node.insert_attribute(txn, "textAlignment", Any::from(align.as_str()));
    }
}

/// Runs as y-prosemirror writes them: one `XmlText`, each run with its marks as attributes
/// (`{}` for a mark without attributes). A `\n` is a `hardBreak` element between texts.
fn write_inlines(txn: &mut TransactionMut<'_>, node: &XmlElementRef, runs: &[Span]) {
    let mut text: Option<XmlTextRef> = None;
    let mut at = 0u32;
    for span in runs {
        for (i, piece) in span.text.split('\n').enumerate() {
            if i > 0 {
                node.push_back(txn, XmlElementPrelim::empty("hardBreak"));
                text = None;
                at = 0;
            }
            if piece.is_empty() {
                continue;
            }
            let t = match &text {
                Some(t) => t.clone(),
                None => {
                    let t: XmlTextRef = node.push_back(txn, XmlTextPrelim::new(""));
                    text = Some(t.clone());
                    t
                }
            };
            t.insert_with_attributes(txn, at, piece, marks(&span.style));
            // Offsets are in the document's offset kind: yrs's default, UTF-8 bytes.
            at += piece.len() as u32;
        }
    }
}

fn marks(style: &Style) -> HashMap<Arc<str>, Any> {
    let empty = || Any::Map(Arc::new(HashMap::new()));
    let with = |key: &str, value: &str| {
        Any::Map(Arc::new(HashMap::from([(key.to_owned(), Any::from(value.to_owned()))])))
    };
    let mut out = HashMap::new();
    for (on, name) in [
        (style.bold, "bold"),
        (style.italic, "italic"),
        (style.underline, "underline"),
        (style.strike, "strike"),
        (style.code, "code"),
    ] {
        if on {
            out.insert(Arc::from(name), empty());
        }
    }
    if let Some(c) = &style.color {
        out.insert(Arc::from("textColor"), with("stringValue", c));
    }
    if let Some(c) = &style.background {
        out.insert(Arc::from("backgroundColor"), with("stringValue", c));
    }
    if let Some(href) = &style.link {
        out.insert(Arc::from("link"), with("href", href));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, Transact};

    fn sample() -> Document {
        let bold = Style { bold: true, ..Style::default() };
        Document {
            blocks: vec![
                Block::Heading {
                    level: 2,
                    align: Align::Left,
                    content: vec![Span::plain("Título")],
                },
                Block::Paragraph {
                    align: Align::Center,
                    content: vec![
                        Span::plain("Año, coração: "),
                        Span { text: "négrita".into(), style: bold },
                        Span::plain(" après\nline"),
                    ],
                },
                Block::List {
                    kind: ListKind::Numbered,
                    items: vec![ListItem {
                        checked: false,
                        content: vec![Span::plain("one")],
                        children: vec![Block::List {
                            kind: ListKind::Check,
                            items: vec![ListItem {
                                checked: true,
                                content: vec![Span::plain("done")],
                                children: vec![],
                            }],
                        }],
                    }],
                },
                Block::Table {
                    header_rows: 1,
                    rows: vec![
                        vec![Cell { content: vec![Span::plain("h")], align: Align::Left }],
                        vec![Cell { content: vec![Span::plain("c")], align: Align::Right }],
                    ],
                },
                Block::Code { language: Some("rust".into()), text: "fn x() {}".into() },
            ],
        }
    }

    #[test]
    fn a_written_tree_reads_back_the_same() {
        let doc = Doc::new();
        let mut n = 0;
        write(&mut doc.transact_mut(), &sample(), &mut || {
            n += 1;
            format!("b{n}")
        });
        assert_eq!(read(&doc.transact()), sample());
    }

    #[test]
    fn comment_marks_are_left_out_of_a_copy() {
        let doc = Doc::new();
        let mut n = 0;
        write(&mut doc.transact_mut(), &sample(), &mut || {
            n += 1;
            format!("b{n}")
        });
        {
            let mut txn = doc.transact_mut();
            crate::comments::anchor(&mut txn, "t1", 3, 6).unwrap();
        }
        assert!(!crate::comments::anchored_threads(&doc.transact()).is_empty());
        strip_comment_marks(&mut doc.transact_mut());
        assert!(crate::comments::anchored_threads(&doc.transact()).is_empty());
        assert_eq!(read(&doc.transact()), sample(), "the text and its formatting stay");
    }

    #[test]
    fn an_unknown_block_keeps_its_text() {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
            let group: XmlElementRef =
                fragment.push_back(&mut txn, XmlElementPrelim::empty("blockGroup"));
            let c: XmlElementRef =
                group.push_back(&mut txn, XmlElementPrelim::empty("blockContainer"));
            let v: XmlElementRef = c.push_back(&mut txn, XmlElementPrelim::empty("video"));
            v.insert_attribute(&mut txn, "name", Any::from("clip.mp4"));
            let c: XmlElementRef =
                group.push_back(&mut txn, XmlElementPrelim::empty("blockContainer"));
            let w: XmlElementRef = c.push_back(&mut txn, XmlElementPrelim::empty("callout"));
            w.push_back(&mut txn, XmlTextPrelim::new("Note well"));
        }
        let read = read(&doc.transact());
        assert_eq!(
            read.blocks,
            vec![
                Block::Other { kind: "video".into(), content: vec![Span::plain("clip.mp4")] },
                Block::Other { kind: "callout".into(), content: vec![Span::plain("Note well")] },
            ]
        );
    }
}
