//! Boards rendered to PNG: the SVG that `hubring-doc` draws, rasterised by resvg with the
//! system's fonts. Drawing and rendering are CPU work: [`Renderer::run`] does them on blocking
//! threads, a few at a time, so exports never hold up the runtime's workers and a burst of
//! exports queues instead of taking every core and gigabytes of pixels at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use hubring_protocol::DocId;
use tokio::sync::Semaphore;

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{self, ImageHrefResolver, fontdb};

/// Largest side of an exported PNG, in pixels.
pub(crate) const MAX_SIDE: u32 = 4096;

/// Thumbnails kept; past this the cache starts over (each is a few tens of KB).
const MAX_CACHED_THUMBNAILS: usize = 1024;

/// Bounded drawing and the thumbnails drawn so far.
#[derive(Debug)]
pub(crate) struct Renderer {
    /// One permit per core: a drawing is one core's work, and a PNG's pixels are held only while
    /// it holds a permit.
    slots: Semaphore,
    /// Each board's last thumbnail, with the hash of the state it was drawn from.
    thumbnails: Mutex<HashMap<DocId, (u64, Bytes)>>,
}

impl Default for Renderer {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self { slots: Semaphore::new(cores), thumbnails: Mutex::default() }
    }
}

impl Renderer {
    /// Runs `job` on a blocking thread once a slot is free.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let _slot = self.slots.acquire().await?;
        Ok(tokio::task::spawn_blocking(job).await?)
    }

    /// The thumbnail drawn from the board state with hash `version`, if it is still the last.
    pub(crate) fn thumbnail(&self, doc: &DocId, version: u64) -> Option<Bytes> {
        let cache = self.thumbnails.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(doc).filter(|(v, _)| *v == version).map(|(_, png)| png.clone())
    }

    pub(crate) fn keep_thumbnail(&self, doc: DocId, version: u64, png: Bytes) {
        let mut cache = self.thumbnails.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_CACHED_THUMBNAILS && !cache.contains_key(&doc) {
            cache.clear();
        }
        cache.insert(doc, (version, png));
    }
}

/// The fonts, loaded once per process (loading scans the system's font folders).
fn fonts() -> Arc<fontdb::Database> {
    static FONTS: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    Arc::clone(FONTS.get_or_init(|| {
        let mut db = fontdb::Database::new();
        db.load_system_fonts();
        for family in ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial"] {
            let has = db.faces().any(|f| f.families.iter().any(|(name, _)| name == family));
            if has {
                db.set_sans_serif_family(family);
                break;
            }
        }
        Arc::new(db)
    }))
}

/// Rasterises `svg` so that it fits `max_w` × `max_h` pixels at no more than `scale` pixels per
/// unit, on an opaque background.
pub(crate) fn png(svg: &str, scale: f32, max_w: u32, max_h: u32) -> anyhow::Result<Vec<u8>> {
    let options = usvg::Options {
        fontdb: fonts(),
        font_family: "DejaVu Sans".to_owned(),
        // Only the data URLs the drawing embeds: never a path on this machine.
        image_href_resolver: ImageHrefResolver {
            resolve_data: ImageHrefResolver::default_data_resolver(),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)?;
    let size = tree.size();
    let fit = (max_w as f32 / size.width()).min(max_h as f32 / size.height());
    let scale = scale.min(fit);
    let (w, h) = ((size.width() * scale).ceil() as u32, (size.height() * scale).ceil() as u32);
    let mut pixmap = Pixmap::new(w.max(1), h.max(1))
        .ok_or_else(|| anyhow::anyhow!("a {w}x{h} image cannot be made"))?;
    resvg::render(&tree, Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    Ok(pixmap.encode_png()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thumbnail_is_kept_for_its_board_state_only() {
        let renderer = Renderer::default();
        let doc: DocId = "board-1".parse().unwrap();
        assert_eq!(renderer.thumbnail(&doc, 1), None);
        renderer.keep_thumbnail(doc.clone(), 1, Bytes::from_static(b"png"));
        assert_eq!(renderer.thumbnail(&doc, 1), Some(Bytes::from_static(b"png")));
        assert_eq!(renderer.thumbnail(&doc, 2), None, "the board changed");
        for i in 0..MAX_CACHED_THUMBNAILS {
            renderer.keep_thumbnail(format!("b{i}").parse().unwrap(), 0, Bytes::new());
        }
        let n = renderer.thumbnails.lock().unwrap().len();
        assert!(n <= MAX_CACHED_THUMBNAILS, "bounded: {n}");
    }

    #[test]
    fn a_drawing_becomes_a_png_that_fits() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="500" viewBox="0 0 1000 500"><rect width="1000" height="500" fill="#fef08a"/><text x="10" y="40" font-size="30">Hi</text></svg>"##;
        let png = png(svg, 1.0, 400, 400).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoded = Pixmap::decode_png(&png).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (400, 200));
    }

    #[test]
    fn images_from_paths_are_not_read() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="/etc/hostname" width="10" height="10"/></svg>"#;
        let png = png(svg, 1.0, 10, 10).unwrap();
        let decoded = Pixmap::decode_png(&png).unwrap();
        assert!(decoded.pixels().iter().all(|p| p.alpha() == 0));
    }
}
