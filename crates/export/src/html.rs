//! A document as one standalone HTML file: its styles inline, its images embedded as data URLs
//! (so the file shows the same on a website, offline, or attached to an email).

use base64::Engine;
use hubring_doc::tree::{Align, Block, Cell, Document, Inlines, ListItem, ListKind, Span};

use crate::{AssetSource, colours};

/// The page's styles: readable text, tables with borders, printed on A4.
const CSS: &str = "body{font-family:'Libertinus Serif',Georgia,serif;max-width:46rem;margin:2rem auto;\
padding:0 1rem;line-height:1.5;color:#1f2328}h1,h2,h3{line-height:1.25}\
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #c8ccd0;padding:.35rem .6rem;\
vertical-align:top}th{background:#f3f4f6}blockquote{border-left:3px solid #c8ccd0;margin:1rem 0;\
padding-left:1rem;color:#4b5563}pre{background:#f6f8fa;padding:.75rem;overflow:auto}\
code{font-family:'DejaVu Sans Mono',monospace;font-size:.9em}figure{margin:1rem 0}\
img{max-width:100%}figcaption{color:#4b5563;font-size:.9em}ul.check{list-style:none;padding-left:1.2rem}\
@page{size:A4;margin:2cm}";

/// The document as a complete HTML page titled `title`, in language `lang` (`en`, `fr`...).
pub fn to_html(doc: &Document, title: &str, lang: &str, assets: AssetSource<'_>) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"");
    out.push_str(&escape(lang));
    out.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(title)));
    out.push_str(&format!("<style>{CSS}</style>\n</head>\n<body>\n"));
    body(&doc.blocks, assets, &mut out);
    out.push_str("</body>\n</html>\n");
    out
}

/// Only the blocks, as HTML (no page around them).
pub fn fragment(doc: &Document, assets: AssetSource<'_>) -> String {
    let mut out = String::new();
    body(&doc.blocks, assets, &mut out);
    out
}

fn body(blocks: &[Block], assets: AssetSource<'_>, out: &mut String) {
    for block in blocks {
        match block {
            Block::Heading { level, align, content } => {
                out.push_str(&format!(
                    "<h{level}{}>{}</h{level}>\n",
                    aligned(*align),
                    inline(content)
                ));
            }
            Block::Paragraph { align, content } => {
                out.push_str(&format!("<p{}>{}</p>\n", aligned(*align), inline(content)));
            }
            Block::Other { kind, content } => {
                out.push_str(&format!(
                    "<p data-block=\"{}\">{}</p>\n",
                    escape(kind),
                    inline(content)
                ));
            }
            Block::List { kind, items } => list(*kind, items, assets, out),
            Block::Table { header_rows, rows } => table(*header_rows, rows, out),
            Block::Quote { content } => {
                out.push_str(&format!("<blockquote><p>{}</p></blockquote>\n", inline(content)));
            }
            Block::Code { language, text } => {
                let class = language
                    .as_deref()
                    .map(|l| format!(" class=\"language-{}\"", escape(l)))
                    .unwrap_or_default();
                out.push_str(&format!("<pre><code{class}>{}</code></pre>\n", escape(text)));
            }
            Block::Image { url, caption, name } => {
                let src = match assets(url) {
                    Some(a) => format!(
                        "data:{};base64,{}",
                        a.mime,
                        base64::engine::general_purpose::STANDARD.encode(&a.bytes)
                    ),
                    None => url.clone(),
                };
                let alt = if caption.is_empty() { name } else { caption };
                out.push_str(&format!(
                    "<figure><img src=\"{}\" alt=\"{}\">",
                    escape(&src),
                    escape(alt)
                ));
                if !caption.is_empty() {
                    out.push_str(&format!("<figcaption>{}</figcaption>", escape(caption)));
                }
                out.push_str("</figure>\n");
            }
        }
    }
}

fn list(kind: ListKind, items: &[ListItem], assets: AssetSource<'_>, out: &mut String) {
    let (open, close) = match kind {
        ListKind::Bullet => ("<ul>", "</ul>"),
        ListKind::Numbered => ("<ol>", "</ol>"),
        ListKind::Check => ("<ul class=\"check\">", "</ul>"),
    };
    out.push_str(open);
    out.push('\n');
    for item in items {
        out.push_str("<li>");
        if kind == ListKind::Check {
            let checked = if item.checked { " checked" } else { "" };
            out.push_str(&format!("<input type=\"checkbox\" disabled{checked}> "));
        }
        out.push_str(&inline(&item.content));
        if !item.children.is_empty() {
            out.push('\n');
            body(&item.children, assets, out);
        }
        out.push_str("</li>\n");
    }
    out.push_str(close);
    out.push('\n');
}

fn table(header_rows: usize, rows: &[Vec<Cell>], out: &mut String) {
    out.push_str("<table>\n");
    for (r, row) in rows.iter().enumerate() {
        let tag = if r < header_rows { "th" } else { "td" };
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!(
                "<{tag}{}>{}</{tag}>",
                aligned(cell.align),
                inline(&cell.content)
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn aligned(align: Align) -> String {
    match align {
        Align::Left => String::new(),
        other => format!(" style=\"text-align:{}\"", other.as_str()),
    }
}

fn inline(runs: &Inlines) -> String {
    runs.iter().map(span).collect()
}

fn span(span: &Span) -> String {
    let s = &span.style;
    let mut body = escape(&span.text).replace('\n', "<br>");
    if s.code {
        body = format!("<code>{body}</code>");
    }
    if s.strike {
        body = format!("<s>{body}</s>");
    }
    if s.underline {
        body = format!("<u>{body}</u>");
    }
    if s.italic {
        body = format!("<em>{body}</em>");
    }
    if s.bold {
        body = format!("<strong>{body}</strong>");
    }
    let mut css = Vec::new();
    if let Some(c) = s.color.as_deref().and_then(colours::text) {
        css.push(format!("color:{c}"));
    }
    if let Some(c) = s.background.as_deref().and_then(colours::background) {
        css.push(format!("background-color:{c}"));
    }
    if !css.is_empty() {
        body = format!("<span style=\"{}\">{body}</span>", css.join(";"));
    }
    if let Some(href) = &s.link {
        body = format!("<a href=\"{}\">{body}</a>", escape(&safe_href(href)));
    }
    body
}

/// A link's target, unless it would run script (`javascript:` and its kin are dropped).
pub fn safe_href(href: &str) -> String {
    let lower: String =
        href.trim().chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    if lower.starts_with("javascript:")
        || lower.starts_with("vbscript:")
        || lower.starts_with("data:")
    {
        "#".to_owned()
    } else {
        href.to_owned()
    }
}

/// Text for HTML content or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
