//! Documents out and in. Every export is made from the one reading of a document
//! ([`hubring_doc::tree::Document`]): Markdown (CommonMark with GFM tables), a standalone HTML
//! file, DOCX and PDF; imports read Markdown and DOCX into the same tree, which
//! `hubring_doc::tree::write` turns into the editor's document.
//!
//! Nothing here touches the network or the store: images come through an [`AssetSource`] the
//! caller gives (the project's assets), and every function is plain CPU work that the server
//! runs on its blocking threads.

pub mod colours;
pub mod docx;
pub mod html;
pub mod import;
mod import_md;
pub mod markdown;
pub mod pdf;

/// An image a document shows, as its bytes.
#[derive(Debug, Clone)]
pub struct Asset {
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Finds the image behind a document's image URL (`/api/v1/assets/{id}`), if the document may
/// show it.
pub type AssetSource<'a> = &'a (dyn Fn(&str) -> Option<Asset> + Sync);

/// No images: each is exported as its caption and link.
pub fn no_assets(_: &str) -> Option<Asset> {
    None
}
