//! A document as Markdown: CommonMark, with GFM tables, task lists and strikethrough.
//!
//! What Markdown cannot say is left out, never the text: colours and alignment go, underline is
//! written as `<u>` (raw HTML is CommonMark), an image is `![caption](url)`.

use hubring_doc::tree::{Block, Document, Inlines, ListItem, ListKind, Span, text_of};

/// The document as Markdown, ending with one newline.
pub fn to_markdown(doc: &Document) -> String {
    let mut out = String::new();
    blocks(&doc.blocks, "", &mut out);
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out == "\n" {
        out.clear();
    }
    out
}

/// An empty paragraph (the editor's trailing one, a blank line typed): nothing in Markdown.
fn blank(block: &Block) -> bool {
    match block {
        Block::Paragraph { content, .. } | Block::Other { content, .. } => {
            content.iter().all(|s| s.text.trim().is_empty())
        }
        _ => false,
    }
}

fn blocks(list: &[Block], indent: &str, out: &mut String) {
    for (i, block) in list.iter().filter(|b| !blank(b)).enumerate() {
        if i > 0 {
            // Blocks are separated by a blank line (indented, inside a list item).
            out.push_str(indent.trim_end());
            out.push('\n');
        }
        block_md(block, indent, out);
    }
}

fn block_md(block: &Block, indent: &str, out: &mut String) {
    match block {
        Block::Heading { level, content, .. } => {
            let hashes = "#".repeat(usize::from(*level));
            out.push_str(indent);
            out.push_str(&hashes);
            out.push(' ');
            out.push_str(&inline_text(content).replace("\\\n", " "));
            out.push('\n');
        }
        Block::Paragraph { content, .. } | Block::Other { content, .. } => {
            let text = inline(content);
            if text.trim().is_empty() {
                return;
            }
            for l in text.split('\n') {
                out.push_str(indent);
                out.push_str(l);
                out.push('\n');
            }
        }
        Block::List { kind, items } => list(*kind, items, indent, out),
        Block::Table { rows, .. } => table(rows, indent, out),
        Block::Quote { content } => {
            for l in inline(content).split('\n') {
                out.push_str(indent);
                out.push_str("> ");
                out.push_str(l.trim_end_matches("\\"));
                out.push('\n');
            }
        }
        Block::Code { language, text } => {
            // A fence longer than any run of backticks in the code.
            let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
            let fence = "`".repeat(longest.max(2) + 1);
            out.push_str(indent);
            out.push_str(&fence);
            out.push_str(language.as_deref().unwrap_or(""));
            out.push('\n');
            for l in text.split('\n') {
                out.push_str(indent);
                out.push_str(l);
                out.push('\n');
            }
            out.push_str(indent);
            out.push_str(&fence);
            out.push('\n');
        }
        Block::Image { url, caption, name } => {
            let alt = if caption.is_empty() { name } else { caption };
            out.push_str(indent);
            out.push_str(&format!("![{}]({})\n", escape(alt), url_md(url)));
        }
    }
}

fn list(kind: ListKind, items: &[ListItem], indent: &str, out: &mut String) {
    for (n, item) in items.iter().enumerate() {
        let marker = match kind {
            ListKind::Bullet => "- ".to_owned(),
            ListKind::Numbered => format!("{}. ", n + 1),
            ListKind::Check => if item.checked { "- [x] " } else { "- [ ] " }.to_owned(),
        };
        // Continuation lines and children sit under the item's text.
        let width = match kind {
            ListKind::Check => 2,
            _ => marker.len(),
        };
        let inner = format!("{indent}{}", " ".repeat(width));
        let text = inline(&item.content);
        for (i, l) in text.split('\n').enumerate() {
            if i == 0 {
                out.push_str(indent);
                out.push_str(&marker);
            } else {
                out.push_str(&inner);
            }
            out.push_str(l);
            out.push('\n');
        }
        if !item.children.is_empty() {
            let mut nested = String::new();
            blocks(&item.children, &inner, &mut nested);
            out.push_str(&nested);
        }
    }
}

fn table(rows: &[Vec<hubring_doc::tree::Cell>], indent: &str, out: &mut String) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    if columns == 0 {
        return;
    }
    let cell = |c: Option<&hubring_doc::tree::Cell>| {
        c.map(|c| inline(&c.content).replace("\\\n", "<br>")).unwrap_or_default()
    };
    let row_md = |row: &[hubring_doc::tree::Cell]| {
        let cells: Vec<String> = (0..columns).map(|i| cell(row.get(i))).collect();
        format!("{indent}| {} |\n", cells.join(" | "))
    };
    // GFM tables need a header row: the first row is it.
    out.push_str(&row_md(&rows[0]));
    let rule: Vec<String> = (0..columns)
        .map(|i| {
            use hubring_doc::tree::Align;
            match rows[0].get(i).map(|c| c.align) {
                Some(Align::Center) => ":---:",
                Some(Align::Right) => "---:",
                _ => "---",
            }
            .to_owned()
        })
        .collect();
    out.push_str(&format!("{indent}| {} |\n", rule.join(" | ")));
    for row in &rows[1..] {
        out.push_str(&row_md(row));
    }
}

/// Characters that would otherwise start Markdown syntax.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        // `&` only where it would read as an entity (`&amp;`, `&#38;`); "R&D" stays.
        let entity = c == '&' && {
            let rest = &text[i + 1..];
            let name = rest.split(';').next().unwrap_or_default();
            rest.contains(';')
                && !name.is_empty()
                && name.len() <= 32
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'#')
        };
        if entity || matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '~' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A text that starts a line: what would read as a heading, a list or a quote is escaped.
fn escape_start(text: String) -> String {
    let t = text.trim_start();
    let lead = &text[..text.len() - t.len()];
    // "1. " or "1) " starts an ordered list; "1.1" does not.
    let ordered = t.find(['.', ')']).is_some_and(|i| {
        i > 0
            && i <= 9
            && t[..i].bytes().all(|b| b.is_ascii_digit())
            && matches!(t.as_bytes().get(i + 1), None | Some(b' ' | b'\t'))
    });
    let marker = t.starts_with('#')
        || (t.starts_with(['-', '+', '='])
            && matches!(t.as_bytes().get(1), None | Some(b' ' | b'\t')));
    if marker || ordered {
        if ordered {
            let i = t.find(['.', ')']).unwrap_or(0);
            return format!("{lead}{}\\{}", &t[..i], &t[i..]);
        }
        return format!("{lead}\\{t}");
    }
    text
}

fn url_md(url: &str) -> String {
    if url.contains([' ', '(', ')', '<', '>']) {
        format!("<{}>", url.replace('<', "%3C").replace('>', "%3E"))
    } else {
        url.to_owned()
    }
}

/// Runs as Markdown. Delimiters go around the text without its outer spaces (`** a**` is not
/// bold in CommonMark).
fn inline(runs: &Inlines) -> String {
    escape_start(inline_text(runs))
}

/// Runs as Markdown, where nothing can start a block (a heading's text).
fn inline_text(runs: &Inlines) -> String {
    let mut out = String::new();
    for span in runs {
        out.push_str(&span_md(span));
    }
    // A hard line break inside a block: a backslash at the end of the line.
    out.replace('\n', "\\\n")
}

fn span_md(span: &Span) -> String {
    let s = &span.style;
    let text = &span.text;
    let core = text.trim_matches(' ');
    if core.is_empty() {
        return text.clone();
    }
    let lead = &text[..text.len() - text.trim_start_matches(' ').len()];
    let trail = &text[text.trim_end_matches(' ').len()..];
    let mut body = if s.code {
        let ticks = if core.contains('`') { "``" } else { "`" };
        let pad = if core.starts_with('`') || core.ends_with('`') { " " } else { "" };
        format!("{ticks}{pad}{core}{pad}{ticks}")
    } else {
        escape(core)
    };
    if s.strike {
        body = format!("~~{body}~~");
    }
    if s.italic {
        body = format!("*{body}*");
    }
    if s.bold {
        body = format!("**{body}**");
    }
    if s.underline {
        body = format!("<u>{body}</u>");
    }
    if let Some(href) = &s.link {
        body = format!("[{body}]({})", url_md(href));
    }
    format!("{lead}{body}{trail}")
}

/// The plain text of a document (what a search indexes, what a preview shows).
pub fn to_text(doc: &Document) -> String {
    fn walk(blocks: &[Block], out: &mut Vec<String>) {
        for b in blocks {
            match b {
                Block::Heading { content, .. }
                | Block::Paragraph { content, .. }
                | Block::Quote { content }
                | Block::Other { content, .. } => out.push(text_of(content)),
                Block::List { items, .. } => {
                    for i in items {
                        out.push(text_of(&i.content));
                        walk(&i.children, out);
                    }
                }
                Block::Table { rows, .. } => {
                    for r in rows {
                        out.push(
                            r.iter().map(|c| text_of(&c.content)).collect::<Vec<_>>().join("\t"),
                        );
                    }
                }
                Block::Code { text, .. } => out.push(text.clone()),
                Block::Image { caption, .. } => out.push(caption.clone()),
            }
        }
    }
    let mut out = Vec::new();
    walk(&doc.blocks, &mut out);
    out.join("\n")
}
