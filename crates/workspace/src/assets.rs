//! Uploaded files: who may upload into a project (those who may write its documents), what is
//! accepted (images, and the documents proposals carry as annexes, whose type the content
//! itself shows, within the size limit), and who may fetch one (whoever may open a document of
//! a project it was uploaded into).

use hubring_protocol::ProjectId;
use hubring_protocol::api::AssetCreated;
use hubring_store::{AssetRecord, StoreError};
use sha2::{Digest, Sha256};

use crate::access::Action;
use crate::projects::hide_as;
use crate::{Caller, Workspace, WorkspaceError};

/// The image types accepted. SVG is not among them: it can carry scripts.
const IMAGE_TYPES: [&str; 5] = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"];

/// The documents accepted as annexes, each with the extension it is downloaded under: PDF,
/// Word, Excel, PowerPoint and their OpenDocument kin. Told by content (a DOCX is a ZIP whose
/// parts say so), never by the name a browser gives.
const DOCUMENT_TYPES: [(&str, &str); 7] = [
    ("application/pdf", "pdf"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
    ("application/vnd.oasis.opendocument.text", "odt"),
    ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    ("application/vnd.oasis.opendocument.presentation", "odp"),
];

/// The type of an accepted document, from its bytes.
pub fn sniff_document(bytes: &[u8]) -> Option<&'static str> {
    let kind = infer::get(bytes)?;
    DOCUMENT_TYPES.iter().map(|(mime, _)| *mime).find(|mime| *mime == kind.mime_type())
}

/// The extension a document of type `mime` is downloaded under (`None` for an image).
pub fn document_extension(mime: &str) -> Option<&'static str> {
    DOCUMENT_TYPES.iter().find(|(m, _)| *m == mime).map(|(_, ext)| *ext)
}

/// Most pixels an uploaded image may have: a 24-megapixel camera photo fits; a drawing decodes
/// an image whole (4 bytes a pixel), so this bounds what one image costs a render to 100 MB
/// (a 389 KB PNG of 20,000 x 20,000 pixels once cost 2 GB per thumbnail).
pub const MAX_IMAGE_PIXELS: u64 = 25_000_000;

/// An image's width and height in pixels, read from its header without decoding it; `None` if
/// the header does not say.
pub fn image_size(bytes: &[u8]) -> Option<(u64, u64)> {
    let size = imagesize::blob_size(bytes).ok()?;
    Some((size.width as u64, size.height as u64))
}

/// The type of an image, from its first bytes.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    let kind = infer::get(bytes)?;
    IMAGE_TYPES.iter().copied().find(|mime| *mime == kind.mime_type())
}

pub(crate) fn is_asset_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Workspace {
    /// The largest file an upload may carry.
    pub fn max_asset_bytes(&self) -> usize {
        self.config.max_asset_bytes
    }

    /// Stores an image or a document uploaded into `project_id`.
    pub async fn upload_asset(
        &self,
        caller: &Caller,
        project_id: &ProjectId,
        bytes: Vec<u8>,
    ) -> Result<AssetCreated, WorkspaceError> {
        let user = caller.signed_in()?.clone();
        self.project_for(caller, project_id, Action::WriteDocument)
            .await
            .map_err(hide_as("project"))?;
        if bytes.len() > self.config.max_asset_bytes {
            return Err(WorkspaceError::TooLarge(self.config.max_asset_bytes));
        }
        let mime = if let Some(mime) = sniff_image(&bytes) {
            let (width, height) = image_size(&bytes)
                .ok_or(WorkspaceError::UnsupportedMedia("the image's size cannot be read"))?;
            if width.saturating_mul(height) > MAX_IMAGE_PIXELS {
                return Err(WorkspaceError::TooManyPixels { width, height });
            }
            mime
        } else {
            sniff_document(&bytes).ok_or(WorkspaceError::UnsupportedMedia(
                "only images (PNG, JPEG, GIF, WebP, AVIF) and documents (PDF, Word, Excel, \
                 PowerPoint, OpenDocument) may be uploaded",
            ))?
        };
        let (sha256, bytes) = tokio::task::spawn_blocking(move || {
            let digest = Sha256::digest(&bytes);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            (hex, bytes)
        })
        .await
        // Hashing cannot fail; the blocking pool only refuses work while the server shuts down.
        .map_err(|_| WorkspaceError::Store(StoreError::Closed))?;
        let size = bytes.len() as u64;
        let record = AssetRecord { sha256: sha256.clone(), mime: mime.to_owned(), bytes };
        self.store.put_asset(project_id, &user.id, record).await?;
        Ok(AssetCreated {
            url: format!("/api/v1/assets/{sha256}"),
            id: sha256,
            mime: mime.to_owned(),
            size,
        })
    }

    /// An uploaded file, for a caller who may open a document of a project it is in; anyone
    /// else is told it does not exist.
    pub async fn asset(&self, caller: &Caller, id: &str) -> Result<AssetRecord, WorkspaceError> {
        if !is_asset_id(id) {
            return Err(WorkspaceError::NotFound("asset"));
        }
        let mut refusal = WorkspaceError::NotFound("asset");
        for project_id in self.store.asset_projects(id).await? {
            match self.project_for(caller, &project_id, Action::OpenDocument).await {
                Ok(_) => {
                    return self.store.asset(id).await?.ok_or(WorkspaceError::NotFound("asset"));
                }
                Err(WorkspaceError::Unauthenticated) => refusal = WorkspaceError::Unauthenticated,
                Err(WorkspaceError::Store(err)) => return Err(err.into()),
                Err(_) => {}
            }
        }
        Err(refusal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_by_their_content() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff_image(png), Some("image/png"));
        assert_eq!(sniff_image(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), Some("image/jpeg"));
        assert_eq!(sniff_image(b"GIF89a\x01\0\x01\0"), Some("image/gif"));
        assert_eq!(sniff_image(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(sniff_image(b"%PDF-1.7\n"), None);
        assert_eq!(sniff_image(b"<html><script>"), None);
        assert_eq!(sniff_image(b""), None);
    }

    #[test]
    fn asset_ids_are_sha256_hex() {
        assert!(is_asset_id(&"a".repeat(64)));
        assert!(!is_asset_id(&"A".repeat(64)));
        assert!(!is_asset_id("../etc/passwd"));
        assert!(!is_asset_id(&"a".repeat(63)));
    }
}
