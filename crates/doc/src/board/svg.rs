//! A board drawn as a standalone SVG document: what the export and the thumbnail are made of.
//!
//! Every shape is one `<g data-id data-type>`, so a reader (or a test) can find each of them.
//! Images are embedded as data URLs, so the file stands alone; text is wrapped here, with an
//! average glyph width, because SVG 1.1 (and resvg) cannot wrap text.

use std::collections::HashMap;
use std::fmt::Write as _;

use base64::Engine as _;

use super::{Board, Resolved, ShapeKind};

/// The bytes of an image asset, for embedding, and its size in pixels.
#[derive(Debug, Clone)]
pub struct AssetImage {
    pub mime: String,
    pub bytes: Vec<u8>,
    pub width: u64,
    pub height: u64,
}

/// How much to draw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Detail {
    /// Everything.
    #[default]
    Full,
    /// No words: for a picture too small to read them, where laying out text is most of the
    /// cost of rendering.
    Shapes,
}

/// What to draw.
#[derive(Debug, Clone, Default)]
pub struct SvgOptions {
    /// Draw only this frame's area (a frame's id); the whole board when absent.
    pub frame: Option<String>,
    pub detail: Detail,
}

/// An SVG document and its size in user units.
#[derive(Debug, Clone)]
pub struct Svg {
    pub text: String,
    pub width: f64,
    pub height: f64,
}

/// Space around the whole board's content.
const PADDING: f64 = 32.0;
/// Average advance of a glyph, in ems, used to wrap text.
const GLYPH_EM: f64 = 0.56;
const LINE_HEIGHT: f64 = 1.25;
const FONT: &str = "DejaVu Sans, Liberation Sans, Arial, sans-serif";

/// Draws the board, or `None` if the frame asked for does not exist.
pub fn to_svg(
    board: &Board,
    options: &SvgOptions,
    asset: &dyn Fn(&str) -> Option<AssetImage>,
) -> Option<Svg> {
    let [x, y, w, h] = match &options.frame {
        Some(id) => {
            let frame = board.shapes.get(id).filter(|s| s.kind == ShapeKind::Frame)?;
            board.abs_box(frame)
        }
        None => match board.bounds() {
            Some([x, y, w, h]) => [x - PADDING, y - PADDING, w + 2.0 * PADDING, h + 2.0 * PADDING],
            None => [0.0, 0.0, 800.0, 600.0],
        },
    };
    let (w, h) = (w.max(1.0), h.max(1.0));
    let mut out = String::with_capacity(256 + board.shapes.len() * 256);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="{x} {y} {w} {h}" font-family="{FONT}"><rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#f8fafc"/>"##,
        w = num(w),
        h = num(h),
        x = num(x),
        y = num(y),
    );
    // Each image asset is embedded once, as a symbol the image shapes use: 200 shapes showing
    // one 1 MB photo made a 288 MB file when each carried its own copy.
    let mut images = Images { asset, ids: HashMap::new(), defs: String::new() };
    let mut body = String::with_capacity(board.shapes.len() * 256);
    for mut shape in board.resolve() {
        if options.detail == Detail::Shapes {
            shape.text.clear();
        }
        draw(&mut body, &shape, &mut images);
    }
    if !images.defs.is_empty() {
        let _ = write!(out, "<defs>{}</defs>", images.defs);
    }
    out.push_str(&body);
    out.push_str("</svg>");
    Some(Svg { text: out, width: w, height: h })
}

/// The image assets a drawing embeds, each once.
struct Images<'a> {
    asset: &'a dyn Fn(&str) -> Option<AssetImage>,
    /// Asset id to its symbol's id (`None`: not available, drawn as a placeholder).
    ids: HashMap<String, Option<String>>,
    defs: String,
}

impl Images<'_> {
    /// The id of the symbol showing asset `id`, embedding it on first use.
    fn symbol(&mut self, id: &str) -> Option<String> {
        if let Some(symbol) = self.ids.get(id) {
            return symbol.clone();
        }
        let symbol = (self.asset)(id).map(|image| {
            let symbol = format!("asset-{}", self.ids.len());
            let data = base64::engine::general_purpose::STANDARD.encode(&image.bytes);
            let (w, h) = (image.width.max(1), image.height.max(1));
            // The symbol's view box is the image's own size, so a shape of any size shows it
            // whole and centred (`xMidYMid meet`, the symbol's default), as before.
            let _ = write!(
                self.defs,
                r##"<symbol id="{symbol}" viewBox="0 0 {w} {h}"><image width="{w}" height="{h}" href="data:{};base64,{data}"/></symbol>"##,
                escape(&image.mime)
            );
            symbol
        });
        self.ids.insert(id.to_owned(), symbol.clone());
        symbol
    }
}

fn draw(out: &mut String, s: &Resolved, images: &mut Images<'_>) {
    let [x, y] = s.xy;
    let [w, h] = s.wh;
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let _ = write!(out, r##"<g data-id="{}" data-type="{}""##, escape(&s.id), s.kind.as_str());
    if s.rot != 0.0 && s.kind != ShapeKind::Connector {
        let _ = write!(out, r##" transform="rotate({} {} {})""##, num(s.rot), num(cx), num(cy));
    }
    out.push('>');
    let fill = |default: &'static str| color(s.style.get("fill").and_then(|v| v.as_str()), default);
    let stroke = color(s.style.get("stroke").and_then(|v| v.as_str()), "#1f2937");
    let ink = color(s.style.get("color").and_then(|v| v.as_str()), "#111827");
    let size = s.style.get("size").and_then(|v| v.as_f64()).filter(|v| *v > 0.0 && *v < 400.0);
    match s.kind {
        ShapeKind::Sticky => {
            let _ = write!(
                out,
                r##"<rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="{}" stroke="#00000022"/>"##,
                num(x),
                num(y),
                num(w),
                num(h),
                fill("#fef08a")
            );
            text_block(
                out,
                &s.text,
                [x + 12.0, y + 12.0, w - 24.0, h - 24.0],
                size.unwrap_or(18.0),
                &ink,
                Align::Start,
            );
        }
        ShapeKind::Rect | ShapeKind::Ellipse | ShapeKind::Diamond => {
            let (f, st) = (fill("#ffffff"), &stroke);
            let _ = match s.kind {
                ShapeKind::Rect => write!(
                    out,
                    r##"<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="{f}" stroke="{st}" stroke-width="2"/>"##,
                    num(x),
                    num(y),
                    num(w),
                    num(h)
                ),
                ShapeKind::Ellipse => write!(
                    out,
                    r##"<ellipse cx="{}" cy="{}" rx="{}" ry="{}" fill="{f}" stroke="{st}" stroke-width="2"/>"##,
                    num(cx),
                    num(cy),
                    num(w / 2.0),
                    num(h / 2.0)
                ),
                _ => write!(
                    out,
                    r##"<polygon points="{},{} {},{} {},{} {},{}" fill="{f}" stroke="{st}" stroke-width="2"/>"##,
                    num(cx),
                    num(y),
                    num(x + w),
                    num(cy),
                    num(cx),
                    num(y + h),
                    num(x),
                    num(cy)
                ),
            };
            text_block(
                out,
                &s.text,
                [x + 8.0, y + 8.0, w - 16.0, h - 16.0],
                size.unwrap_or(16.0),
                &ink,
                Align::Middle,
            );
        }
        ShapeKind::Text => {
            text_block(out, &s.text, [x, y, w, h], size.unwrap_or(20.0), &ink, Align::Start);
        }
        ShapeKind::Frame => {
            let _ = write!(
                out,
                r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#94a3b8" stroke-width="1.5"/>"##,
                num(x),
                num(y),
                num(w),
                num(h),
                fill("#ffffff")
            );
            let _ = write!(
                out,
                r##"<text x="{}" y="{}" font-size="14" fill="#475569">{}</text>"##,
                num(x),
                num(y - 8.0),
                escape(label(&s.text))
            );
        }
        ShapeKind::Image => match s.asset.as_deref().and_then(|id| images.symbol(id)) {
            Some(symbol) => {
                let _ = write!(
                    out,
                    r##"<use href="#{symbol}" x="{}" y="{}" width="{}" height="{}"/>"##,
                    num(x),
                    num(y),
                    num(w),
                    num(h),
                );
            }
            None => {
                let _ = write!(
                    out,
                    r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#e2e8f0" stroke="#94a3b8" stroke-dasharray="6 4"/>"##,
                    num(x),
                    num(y),
                    num(w),
                    num(h)
                );
            }
        },
        ShapeKind::Pen => {
            let width =
                s.style.get("width").and_then(|v| v.as_f64()).filter(|v| *v > 0.0 && *v < 100.0);
            out.push_str(r##"<polyline fill="none" stroke-linecap="round" stroke-linejoin="round" points=""##);
            for p in s.points.chunks_exact(2) {
                let _ = write!(out, "{},{} ", num(x + p[0]), num(y + p[1]));
            }
            let _ = write!(
                out,
                r##"" stroke="{stroke}" stroke-width="{}"/>"##,
                num(width.unwrap_or(3.0))
            );
        }
        ShapeKind::Connector => {
            if let (Some(from), Some(to)) = (&s.from, &s.to) {
                let [x1, y1] = from.xy;
                let [x2, y2] = to.xy;
                let _ = write!(
                    out,
                    r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="2"/>"##,
                    num(x1),
                    num(y1),
                    num(x2),
                    num(y2)
                );
                if s.style.get("head").and_then(|v| v.as_str()) != Some("none") {
                    let _ = write!(
                        out,
                        r##"<polygon fill="{stroke}" points="{}"/>"##,
                        arrow_head(from.xy, to.xy)
                    );
                }
                if !s.text.is_empty() {
                    let _ = write!(
                        out,
                        r##"<text x="{}" y="{}" font-size="14" text-anchor="middle" fill="{ink}">{}</text>"##,
                        num((x1 + x2) / 2.0),
                        num((y1 + y2) / 2.0 - 6.0),
                        escape(label(&s.text))
                    );
                }
            }
        }
    }
    out.push_str("</g>");
}

/// The three corners of an arrow head at `to`, pointing away from `from`.
pub(crate) fn arrow_head(from: [f64; 2], to: [f64; 2]) -> String {
    let (dx, dy) = (to[0] - from[0], to[1] - from[1]);
    let len = dx.hypot(dy);
    if len == 0.0 {
        return format!("{0},{1} {0},{1} {0},{1}", num(to[0]), num(to[1]));
    }
    let (ux, uy) = (dx / len, dy / len);
    let (bx, by) = (to[0] - ux * 12.0, to[1] - uy * 12.0);
    let (px, py) = (-uy * 6.0, ux * 6.0);
    format!(
        "{},{} {},{} {},{}",
        num(to[0]),
        num(to[1]),
        num(bx + px),
        num(by + py),
        num(bx - px),
        num(by - py)
    )
}

#[derive(Clone, Copy)]
enum Align {
    Start,
    Middle,
}

/// Wrapped text inside `[x, y, w, h]`; lines that do not fit the height are left out.
fn text_block(
    out: &mut String,
    text: &str,
    [x, y, w, h]: [f64; 4],
    size: f64,
    ink: &str,
    align: Align,
) {
    if text.trim().is_empty() {
        return;
    }
    let max_chars = ((w / (size * GLYPH_EM)).floor() as usize).max(1);
    let max_lines = ((h / (size * LINE_HEIGHT)).floor() as usize).max(1);
    let lines = wrap(text, max_chars, max_lines);
    let (tx, anchor) = match align {
        Align::Start => (x, "start"),
        Align::Middle => (x + w / 2.0, "middle"),
    };
    let top = match align {
        Align::Start => y + size,
        Align::Middle => {
            y + h / 2.0 - (lines.len() as f64 - 1.0) * size * LINE_HEIGHT / 2.0 + size * 0.35
        }
    };
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" font-size="{}" fill="{ink}" text-anchor="{anchor}">"##,
        num(tx),
        num(top),
        num(size)
    );
    for (i, line) in lines.iter().enumerate() {
        let dy = if i == 0 { 0.0 } else { size * LINE_HEIGHT };
        let _ =
            write!(out, r##"<tspan x="{}" dy="{}">{}</tspan>"##, num(tx), num(dy), escape(line));
    }
    out.push_str("</text>");
}

/// Greedy word wrap to `max` characters a line, at most `max_lines` lines; words longer than a
/// line are cut. Linear in what it reads, and it stops reading once the lines are full, so a
/// shape holding 600,000 characters in one word costs what its box can show. (It used to cut
/// long words with `drain` from the front, quadratic: two such exports held every request for
/// 30 s.)
fn wrap(text: &str, max: usize, max_lines: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_chars = 0;
        for word in paragraph.split_whitespace() {
            let mut rest = word;
            let mut n = rest.chars().count();
            while n > max {
                if line_chars > 0 {
                    lines.push(std::mem::take(&mut line));
                    line_chars = 0;
                }
                let cut = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
                lines.push(rest[..cut].to_owned());
                if lines.len() >= max_lines {
                    return lines;
                }
                rest = &rest[cut..];
                n -= max;
            }
            if line_chars > 0 && line_chars + 1 + n > max {
                lines.push(std::mem::take(&mut line));
                line_chars = 0;
                if lines.len() >= max_lines {
                    return lines;
                }
            }
            if line_chars > 0 {
                line.push(' ');
                line_chars += 1;
            }
            line.push_str(rest);
            line_chars += n;
        }
        lines.push(line);
        if lines.len() >= max_lines {
            return lines;
        }
    }
    lines
}

/// A style colour if it is `#rgb` or `#rrggbb` (with optional alpha); the default otherwise, so
/// nothing a client writes reaches an attribute unchecked.
fn color(value: Option<&str>, default: &str) -> String {
    match value {
        Some(v)
            if v.starts_with('#')
                && matches!(v.len(), 4 | 5 | 7 | 9)
                && v[1..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            v.to_owned()
        }
        Some("none" | "transparent") => "none".to_owned(),
        _ => default.to_owned(),
    }
}

/// A number as SVG writes it: finite, at most two decimals.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_owned();
    }
    let rounded = (v * 100.0).round() / 100.0;
    if rounded == rounded.trunc() { format!("{}", rounded as i64) } else { format!("{rounded}") }
}

/// Characters drawn of a one-line label (a frame's title, a connector's text): more could not
/// be read on the board, and a shape may hold any amount.
const MAX_LABEL_CHARS: usize = 200;

fn label(text: &str) -> &str {
    text.char_indices().nth(MAX_LABEL_CHARS).map_or(text, |(end, _)| &text[..end])
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Characters XML 1.0 forbids (its `Char` production): controls but tab and line
            // ends, and U+FFFE and U+FFFF (a Rust `char` is never a surrogate).
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_words_and_cuts_long_ones() {
        assert_eq!(wrap("one two three", 7, 10), vec!["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4, 10), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\nb", 10, 10), vec!["a", "b"]);
        assert_eq!(wrap("ab cdefghij k", 4, 10), vec!["ab", "cdef", "ghij", "k"]);
        assert_eq!(wrap("ééééé", 2, 10), vec!["éé", "éé", "é"]);
    }

    #[test]
    fn wrap_stops_at_the_last_line_that_fits() {
        let word = "x".repeat(600_000);
        assert_eq!(wrap(&word, 10, 3), vec!["x".repeat(10); 3]);
        let many = "a\n".repeat(100_000);
        assert_eq!(wrap(&many, 10, 2), vec!["a", "a"]);
    }

    #[test]
    fn characters_xml_forbids_are_dropped() {
        assert_eq!(escape("a\u{FFFF}b\u{FFFE}\u{1}c\td"), "abc\td");
        assert_eq!(escape("<&>"), "&lt;&amp;&gt;");
    }

    #[test]
    fn colours_are_checked() {
        assert_eq!(color(Some("#abc"), "#000"), "#abc");
        assert_eq!(color(Some("red\" onload=\"x"), "#000"), "#000");
        assert_eq!(color(Some("url(#x)"), "#000"), "#000");
    }

    #[test]
    fn numbers_are_short_and_finite() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.234), "1.23");
        assert_eq!(num(f64::NAN), "0");
    }
}
