//! Dossiers submitted on the national portal (Cổng DVCQG) entering the online queue. The
//! portal hands each one to the province (through its data-sharing platform, LGSP/NDXP) as a
//! push: the dossier's facts and, for each document, where to fetch it with its name, size
//! and SHA-256. Each document is fetched (bounded in time and size, tried again when the
//! fetch fails on the way), checked as an upload is — size, type by content — and against
//! the size and digest the portal gave, and put on disk; only then is the submission written,
//! its files recorded and the portal's id kept with it, in one transaction. Nothing is
//! written when a fetch fails: the portal pushes again later.
//!
//! Once per portal dossier id (`dossiers.portal_id`, unique): a repeated push — the portal
//! retries until it has an answer, so it may push what it already pushed, even twice at
//! once — gets the dossier the first made.

use crate::dossiers::{ApplicantInput, ComponentInput, DeliveryInput, Fetched, FromPortal, IntakeInput};
use crate::files::{MAX_SCAN_BYTES, sniff_scan};
use crate::{ServiceError, ServiceResult, Services};
use motcua_domain::dossier::Status;
use motcua_domain::msg;
use motcua_domain::msg::{FieldError, Msg, quoted};
use motcua_store::repo::incoming::Arrived;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// Longest portal dossier id accepted.
pub const MAX_PORTAL_ID: usize = 100;
/// Seconds the portal is told to wait before pushing again after a fetch failed on the way.
pub const RETRY_AFTER_SECONDS: u64 = 30;

/// A dossier as the portal pushes it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PortalDossier {
    /// The portal's dossier id (*MaHoSoQG*): 1–100 printable ASCII characters. A push with an
    /// id already received answers with the dossier it made.
    pub portal_id: String,
    /// Procedure code (*MaTTHC*), as in the catalog.
    pub procedure: String,
    /// Case variant code (default: the procedure's first).
    #[serde(default)]
    pub case: Option<String>,
    /// Receiving agency code.
    pub agency: String,
    /// The applicant (*chủ hồ sơ*); a phone or an e-mail address is required.
    pub applicant: ApplicantInput,
    /// Authorised submitter, when not the applicant.
    #[serde(default)]
    pub submitter_name: String,
    /// What is asked for (*trích yếu*).
    #[serde(default)]
    pub request: String,
    /// How the applicant wants the result (default: at the desk).
    #[serde(default)]
    pub delivery: Option<DeliveryInput>,
    /// The documents handed in (*tài liệu nộp*), one per component at most.
    #[serde(default)]
    pub documents: Vec<PortalDocument>,
}

/// A document of a portal dossier: where to fetch it, and what it must be.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PortalDocument {
    /// Index of the component in the procedure's list (`GET /api/v1/procedures/{code}`).
    pub component: usize,
    /// The file's name (*TenTepDinhKem*).
    pub name: String,
    /// Where it is fetched from (*DuongDanTaiTepTin*): `http://…`.
    pub url: String,
    /// Its size in bytes (at most 10 MiB).
    pub size: u64,
    /// Its SHA-256, 64 hexadecimal digits.
    pub sha256: String,
}

/// What a push made: the dossier, and whether this push created it.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: i64,
    /// The local reference, the same for every push of the portal id: `online-ID`.
    pub reference: String,
    /// The dossier code, once an officer has received it.
    pub code: Option<String>,
    pub status: Status,
    pub created: bool,
}

/// Why a push was not taken.
#[derive(Debug)]
pub enum InboundError {
    /// Refused as any intake is (invalid, unknown procedure, a bad document), or failed.
    Service(ServiceError),
    /// A document could not be fetched now (its server failing, too slow, the connection
    /// lost): nothing was written; the portal pushes again after `retry_after` seconds.
    FetchLater { msg: Msg, retry_after: u64 },
}

impl From<ServiceError> for InboundError {
    fn from(e: ServiceError) -> Self {
        InboundError::Service(e)
    }
}

impl From<motcua_store::StoreError> for InboundError {
    fn from(e: motcua_store::StoreError) -> Self {
        InboundError::Service(e.into())
    }
}

impl std::fmt::Display for InboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InboundError::Service(e) => write!(f, "{e}"),
            InboundError::FetchLater { msg, .. } => write!(f, "{msg}"),
        }
    }
}

/// The inbound side's configuration: who may push, and how documents are fetched.
#[derive(Clone)]
pub struct Inbound {
    token: String,
    client: reqwest::Client,
    /// Tries of one document's fetch within one push.
    attempts: u32,
    /// How long the fetches of one push may take in all (within the server's request bound).
    budget: Duration,
    fetch_timeout: Duration,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound")
            .field("attempts", &self.attempts)
            .field("budget", &self.budget)
            .field("fetch_timeout", &self.fetch_timeout)
            .finish_non_exhaustive()
    }
}

impl Inbound {
    /// Pushes carry `token` as a bearer token (at least 16 characters); one fetch of a
    /// document may take `fetch_timeout`, tried `attempts` times, all of a push's fetches
    /// `budget`.
    pub fn new(
        token: &str,
        fetch_timeout: Duration,
        attempts: u32,
        budget: Duration,
    ) -> Result<Self, String> {
        let token = token.trim();
        if token.chars().count() < 16 || !token.chars().all(|c| c.is_ascii_graphic()) {
            return Err(
                "the national portal's inbound token must be at least 16 printable ASCII characters".into(),
            );
        }
        if attempts == 0 || fetch_timeout.is_zero() || budget.is_zero() {
            return Err("the portal's fetch timeout, attempts and budget must be above zero".into());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(fetch_timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Inbound {
            token: token.to_string(),
            client,
            attempts,
            budget,
            fetch_timeout,
        })
    }

    /// Whether a bearer token given is the configured one (compared in constant time).
    pub fn token_matches(&self, given: &str) -> bool {
        use sha2::{Digest, Sha256};
        let (a, b) = (
            Sha256::digest(given.as_bytes()),
            Sha256::digest(self.token.as_bytes()),
        );
        a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// A document checked before anything is fetched.
struct Wanted<'a> {
    field: String,
    doc: &'a PortalDocument,
    filename: String,
    sha256: String,
}

/// Why one try of a fetch failed.
enum Failed {
    /// Worth another try (the server failing or slow, the connection lost, other bytes than
    /// declared arriving): the reason.
    Again(String),
    /// Not worth another try (the server refused it, a type not accepted).
    Refused(Msg),
}

impl Services {
    /// Takes a dossier pushed by the national portal into the online queue (once per portal
    /// id): its documents fetched and checked, then the submission written in one
    /// transaction. A repeated push answers with the dossier the first made.
    pub async fn receive_from_portal(
        &self,
        inbound: &Inbound,
        input: PortalDossier,
    ) -> Result<Received, InboundError> {
        let portal_id = input.portal_id.trim().to_string();
        if portal_id.is_empty()
            || portal_id.len() > MAX_PORTAL_ID
            || !portal_id.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(ServiceError::invalid("portal_id", msg!("dvcqg.portal_id", MAX_PORTAL_ID)).into());
        }
        if let Some(known) = self.portal_dossier(&portal_id, false).await? {
            return Ok(known);
        }
        let wanted = check_documents(&input.documents)?;
        let intake = IntakeInput {
            procedure: input.procedure.clone(),
            case: input.case.clone(),
            agency: input.agency.clone(),
            channel: "online".into(),
            applicant: input.applicant.clone(),
            submitter_name: input.submitter_name.clone(),
            request: input.request.clone(),
            components: wanted
                .iter()
                .map(|w| ComponentInput {
                    index: w.doc.component,
                    provided: true,
                    file: None,
                })
                .collect(),
            delivery: input.delivery.clone(),
            // The portal's notices are its own; motcua's go to every contact given.
            notify: None,
        };
        // Everything the intake checks (procedure, agency, applicant, the required
        // components), before anything is fetched.
        self.check_intake(crate::dossiers::Actor::Portal, intake.clone())
            .await?;
        let procedure = self.procedure(input.procedure.trim(), None).await?;
        if !procedure.spec.accepts_online() {
            return Err(ServiceError::invalid(
                "procedure",
                msg!("dvcqg.not_online", quoted(&procedure.spec.code)),
            )
            .into());
        }

        let deadline = Instant::now() + inbound.budget;
        let mut arrived = Vec::with_capacity(wanted.len());
        for w in &wanted {
            arrived.push(self.fetch(inbound, w, deadline).await?);
        }
        // On disk under their digests before the transaction that records them.
        let mut fetched = Vec::with_capacity(arrived.len());
        for (w, a) in wanted.iter().zip(arrived) {
            fetched.push(Fetched {
                written: self.files().adopt(a.0).await?,
                filename: w.filename.clone(),
                content_type: a.1,
            });
        }
        let mut intake = intake;
        for (c, f) in intake.components.iter_mut().zip(&fetched) {
            c.file = Some(format!("sha256:{}", f.written.sha256));
        }
        let portal = FromPortal {
            id: &portal_id,
            files: &fetched,
        };
        match self.intake_from_portal(intake, &portal).await {
            Ok(view) => Ok(Received {
                id: view.dossier.id,
                reference: format!("online-{}", view.dossier.id),
                code: view.dossier.code.clone(),
                status: view.dossier.status,
                created: true,
            }),
            // Another push of the same id wrote first: its dossier is the answer. The files
            // this one put on disk are named by it, or left to the orphan sweep.
            Err(e) if e.is_lost_race() => match self.portal_dossier(&portal_id, true).await? {
                Some(known) => Ok(known),
                None => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// The dossier made from a portal id, if any; `wait`: looked for again for a moment (a
    /// push that lost the race may learn so before the winner's commit is visible).
    async fn portal_dossier(&self, portal_id: &str, wait: bool) -> ServiceResult<Option<Received>> {
        let tries = if wait { 50 } else { 1 };
        for _ in 0..tries {
            if let Some((id, _)) = motcua_store::repo::portal::find(self.db(), portal_id).await? {
                let d = motcua_store::repo::dossiers::find_by_id(self.db(), id)
                    .await?
                    .ok_or_else(|| ServiceError::Internal(format!("dossier {id} vanished")))?;
                return Ok(Some(Received {
                    id,
                    reference: format!("online-{id}"),
                    code: d.code,
                    status: d.status,
                    created: false,
                }));
            }
            if wait {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(None)
    }

    /// Fetches one document, tried again while it fails on the way: the file received whole
    /// and checked (not yet in the store), with its content type.
    async fn fetch(
        &self,
        inbound: &Inbound,
        w: &Wanted<'_>,
        deadline: Instant,
    ) -> Result<(Arrived, &'static str), InboundError> {
        let mut why = String::from("no time was left to fetch it");
        for attempt in 1..=inbound.attempts {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self
                .fetch_once(inbound, w, left.min(inbound.fetch_timeout))
                .await?
            {
                Ok(done) => return Ok(done),
                Err(Failed::Refused(m)) => return Err(ServiceError::invalid(&w.field, m).into()),
                Err(Failed::Again(reason)) => {
                    tracing::warn!(url = %w.doc.url, attempt, reason = %reason, "DVCQG: a document's fetch failed");
                    why = reason;
                }
            }
            if attempt < inbound.attempts {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
        }
        if let Some(what) = why.strip_prefix(MISMATCH) {
            // Tried again and still not what the portal declared: its file or its digest is
            // wrong.
            return Err(ServiceError::invalid(
                &w.field,
                msg!("dvcqg.attachment_mismatch", quoted(&w.doc.url), what),
            )
            .into());
        }
        Err(InboundError::FetchLater {
            msg: msg!("dvcqg.fetch_later", quoted(&w.doc.url), why),
            retry_after: RETRY_AFTER_SECONDS,
        })
    }

    /// One try: the outer error a failure of motcua itself (its disk), the inner one the
    /// fetch's.
    async fn fetch_once(
        &self,
        inbound: &Inbound,
        w: &Wanted<'_>,
        timeout: Duration,
    ) -> ServiceResult<Result<(Arrived, &'static str), Failed>> {
        let sent = inbound.client.get(&w.doc.url).timeout(timeout).send().await;
        let mut res = match sent {
            Ok(r) => r,
            Err(e) => return Ok(Err(Failed::Again(reason(&e)))),
        };
        let status = res.status();
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            return Ok(Err(Failed::Again(format!("the file server answered {status}"))));
        }
        if !status.is_success() {
            return Ok(Err(Failed::Refused(msg!(
                "dvcqg.attachment_status",
                status.as_u16(),
                quoted(&w.doc.url)
            ))));
        }
        let mut incoming = self.files().incoming().await?;
        let mut head = Vec::with_capacity(8);
        loop {
            let piece = match res.chunk().await {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => return Ok(Err(Failed::Again(reason(&e)))),
            };
            if incoming.size() + piece.len() as u64 > w.doc.size {
                return Ok(Err(Failed::Again(format!(
                    "{MISMATCH}more than the {} bytes declared",
                    w.doc.size
                ))));
            }
            if head.len() < 8 {
                let more = (8 - head.len()).min(piece.len());
                head.extend_from_slice(&piece[..more]);
            }
            incoming.write(&piece).await?;
        }
        let arrived = incoming.finish().await?;
        if arrived.size != w.doc.size {
            return Ok(Err(Failed::Again(format!(
                "{MISMATCH}{} bytes, not the {} declared",
                arrived.size, w.doc.size
            ))));
        }
        if arrived.sha256 != w.sha256 {
            return Ok(Err(Failed::Again(format!(
                "{MISMATCH}SHA-256 {}, not the {} declared",
                arrived.sha256, w.sha256
            ))));
        }
        // What the portal declared arrived: its type is the file's own.
        match sniff_scan(&head) {
            Some(content_type) => Ok(Ok((arrived, content_type))),
            None => Ok(Err(Failed::Refused(msg!("file.scan_type")))),
        }
    }
}

/// How a fetch's failure reason begins when other bytes than declared arrived.
const MISMATCH: &str = "mismatch: ";

/// A fetch's failure, said briefly (the error's chain, without the URL).
fn reason(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "the file server cannot be reached"
    } else if e.is_body() || e.is_decode() {
        "the connection was lost while the file arrived"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = Vec::new();
    while let Some(s) = source {
        detail.push(s.to_string());
        source = s.source();
    }
    match detail.last() {
        Some(d) => format!("{what}: {d}"),
        None => what.to_string(),
    }
}

/// Checks the documents' descriptions (every problem at once), before anything is fetched.
fn check_documents(docs: &[PortalDocument]) -> ServiceResult<Vec<Wanted<'_>>> {
    let mut errors = Vec::new();
    let mut wanted = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        let field = format!("documents[{i}]");
        let before = errors.len();
        if docs[..i].iter().any(|d| d.component == doc.component) {
            errors.push(FieldError::new(
                format!("{field}.component"),
                msg!("dvcqg.document_twice"),
            ));
        }
        let url = doc.url.trim();
        let rest = url.strip_prefix("http://").unwrap_or("");
        if rest.is_empty()
            || rest.starts_with('/')
            || url.chars().any(char::is_whitespace)
            || url.len() > 2000
        {
            errors.push(FieldError::new(
                format!("{field}.url"),
                msg!("dvcqg.document_url"),
            ));
        }
        if doc.size == 0 || doc.size > MAX_SCAN_BYTES as u64 {
            errors.push(FieldError::new(
                format!("{field}.size"),
                msg!("dvcqg.document_size", MAX_SCAN_BYTES / (1024 * 1024)),
            ));
        }
        let sha256 = doc.sha256.trim().to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            errors.push(FieldError::new(
                format!("{field}.sha256"),
                msg!("dvcqg.document_sha256"),
            ));
        }
        let filename = match crate::files::file_name(&doc.name) {
            Ok(n) => n,
            Err(_) => {
                errors.push(FieldError::new(format!("{field}.name"), msg!("file.name")));
                String::new()
            }
        };
        if errors.len() == before {
            wanted.push(Wanted {
                field,
                doc,
                filename,
                sha256,
            });
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(component: usize, url: &str, size: u64, sha256: &str) -> PortalDocument {
        PortalDocument {
            component,
            name: "to-khai.pdf".into(),
            url: url.into(),
            size,
            sha256: sha256.into(),
        }
    }

    #[test]
    fn documents_are_checked_before_anything_is_fetched() {
        let sha = "ab".repeat(32);
        let ok = [
            doc(0, "http://lgsp.local/f/1", 10, &sha),
            doc(1, "http://lgsp.local/f/2", 10, &sha.to_uppercase()),
        ];
        let wanted = check_documents(&ok).unwrap_or_else(|_| panic!("valid documents"));
        assert_eq!(wanted[1].sha256, sha, "the digest is taken in lower case");
        let bad = [
            doc(0, "ftp://x/f", 0, "xyz"),
            doc(0, "http://x/f", MAX_SCAN_BYTES as u64 + 1, &sha),
        ];
        let Err(ServiceError::Invalid(errors)) = check_documents(&bad) else {
            panic!("refused")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            fields,
            [
                "documents[0].url",
                "documents[0].size",
                "documents[0].sha256",
                "documents[1].component",
                "documents[1].size"
            ]
        );
    }

    #[test]
    fn the_token_is_long_enough_and_compared_whole() {
        assert!(Inbound::new("short", Duration::from_secs(1), 1, Duration::from_secs(1)).is_err());
        let i = Inbound::new(
            "0123456789abcdef",
            Duration::from_secs(1),
            3,
            Duration::from_secs(5),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(i.token_matches("0123456789abcdef"));
        assert!(!i.token_matches("0123456789abcde"));
        assert!(!i.token_matches(""));
        assert!(
            Inbound::new(
                "0123456789abcdef",
                Duration::from_secs(1),
                0,
                Duration::from_secs(5)
            )
            .is_err()
        );
    }
}
