//! Files people hand in: scans of dossier components and results (PDF, JPEG, PNG, checked by
//! content) and the catalog's form templates. On disk before the transaction that records
//! them, so the flush never holds the database's writer.

use crate::{ServiceError, ServiceResult, Services};
use motcua_domain::msg;
use motcua_store::repo::files::{self, FileMeta};
use motcua_store::repo::incoming::{Arrived, Incoming};

/// Largest scan or result accepted.
pub const MAX_SCAN_BYTES: usize = 10 * 1024 * 1024;
/// Largest form template accepted.
pub const MAX_FORM_BYTES: usize = 10 * 1024 * 1024;

/// Files accepted as scans and results: PDF, JPEG, PNG, checked by content.
pub fn sniff_scan(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// The name a file is kept under: its last path segment, 1–200 characters.
pub(crate) fn file_name(filename: &str) -> ServiceResult<String> {
    let name = filename
        .trim()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ServiceError::invalid("filename", msg!("file.name")));
    }
    Ok(name)
}

/// Content types of form templates.
const FORM_TYPES: [&str; 7] = [
    "application/pdf",
    "text/html",
    "application/msword",
    "application/vnd.openxmlformats-officedocument",
    "application/vnd.oasis.opendocument",
    "text/plain",
    "application/vnd.ms-excel",
];

/// Checks a scan before anything is stored (so that a form with several files can refuse
/// them all at once): its content type.
pub fn check_scan(body: &[u8]) -> ServiceResult<&'static str> {
    if body.len() > MAX_SCAN_BYTES {
        return Err(ServiceError::TooLarge(msg!(
            "file.too_large",
            MAX_SCAN_BYTES / (1024 * 1024)
        )));
    }
    if body.is_empty() {
        return Err(ServiceError::invalid("file", msg!("file.empty")));
    }
    sniff_scan(body).ok_or_else(|| ServiceError::Unsupported(msg!("file.scan_type")))
}

/// A scan being received piece by piece (a streamed upload): checked as it comes — its size,
/// and its type from its first bytes —, held in a temporary file, never whole in memory.
pub struct ScanUpload {
    incoming: Incoming,
    head: Vec<u8>,
    filename: String,
}

/// A scan received whole and checked, not kept yet: dropped, it leaves nothing behind.
pub struct PendingScan {
    arrived: Arrived,
    filename: String,
    content_type: &'static str,
}

impl PendingScan {
    pub fn sha256(&self) -> &str {
        &self.arrived.sha256
    }
}

impl ScanUpload {
    /// Appends a piece; refuses a file past the size limit or, from its first bytes, not a
    /// PDF, JPEG or PNG.
    pub async fn write(&mut self, piece: &[u8]) -> ServiceResult<()> {
        if self.incoming.size() + piece.len() as u64 > MAX_SCAN_BYTES as u64 {
            return Err(ServiceError::TooLarge(msg!(
                "file.too_large",
                MAX_SCAN_BYTES / (1024 * 1024)
            )));
        }
        if self.head.len() < SNIFF_BYTES {
            let more = (SNIFF_BYTES - self.head.len()).min(piece.len());
            self.head.extend_from_slice(&piece[..more]);
            if self.head.len() == SNIFF_BYTES && sniff_scan(&self.head).is_none() {
                return Err(ServiceError::Unsupported(msg!("file.scan_type")));
            }
        }
        Ok(self.incoming.write(piece).await?)
    }

    /// The whole scan, checked: None when nothing was sent (an empty file field).
    pub async fn finish(self) -> ServiceResult<Option<PendingScan>> {
        if self.incoming.size() == 0 {
            return Ok(None);
        }
        let content_type =
            sniff_scan(&self.head).ok_or_else(|| ServiceError::Unsupported(msg!("file.scan_type")))?;
        Ok(Some(PendingScan {
            arrived: self.incoming.finish().await?,
            filename: self.filename,
            content_type,
        }))
    }
}

/// Bytes a scan's type is told from.
const SNIFF_BYTES: usize = 8;

impl Services {
    /// Starts receiving a scan piece by piece.
    pub async fn begin_scan(&self, filename: &str) -> ServiceResult<ScanUpload> {
        Ok(ScanUpload {
            filename: file_name(filename)?,
            incoming: self.files().incoming().await?,
            head: Vec::with_capacity(SNIFF_BYTES),
        })
    }

    /// Keeps a scan received whole: in the store under its digest, recorded.
    pub async fn keep_scan(&self, scan: PendingScan) -> ServiceResult<FileMeta> {
        let written = self.files().adopt(scan.arrived).await?;
        let mut tx = self.db().begin().await?;
        let meta = files::record(&mut tx, &written, &scan.filename, scan.content_type).await?;
        tx.commit().await?;
        Ok(meta)
    }

    /// Checks and stores a scan of a dossier's component or result.
    pub async fn store_scan(&self, filename: &str, body: &[u8]) -> ServiceResult<FileMeta> {
        let content_type = check_scan(body)?;
        let name = file_name(filename)?;
        self.keep_file(body, &name, content_type).await
    }

    /// Checks and stores a form template of the catalog, of the type its sender declares.
    pub async fn store_form(
        &self,
        filename: &str,
        content_type: &str,
        body: &[u8],
    ) -> ServiceResult<FileMeta> {
        if body.len() > MAX_FORM_BYTES {
            return Err(ServiceError::TooLarge(msg!(
                "file.too_large",
                MAX_FORM_BYTES / (1024 * 1024)
            )));
        }
        if body.is_empty() {
            return Err(ServiceError::invalid("file", msg!("file.empty")));
        }
        let name = file_name(filename)?;
        if !FORM_TYPES.iter().any(|a| content_type.starts_with(a)) {
            return Err(ServiceError::Unsupported(msg!("file.form_type", content_type)));
        }
        if content_type == "application/pdf" && !body.starts_with(b"%PDF-") {
            return Err(ServiceError::Unsupported(msg!("file.not_pdf")));
        }
        self.keep_file(body, &name, content_type).await
    }

    async fn keep_file(&self, body: &[u8], name: &str, content_type: &str) -> ServiceResult<FileMeta> {
        let written = self.files().write(body).await?;
        let mut tx = self.db().begin().await?;
        let meta = files::record(&mut tx, &written, name, content_type).await?;
        tx.commit().await?;
        Ok(meta)
    }

    /// A stored file and its bytes.
    pub async fn file(&self, sha256: &str) -> ServiceResult<Option<(FileMeta, Vec<u8>)>> {
        Ok(self.files().get(self.db(), sha256).await?)
    }
}
