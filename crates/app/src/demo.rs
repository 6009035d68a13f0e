//! The demo province: real procedures, agencies and officers (files in `crates/app/demo/`,
//! embedded in the binary) plus dossiers in every status, so a newcomer can click through
//! every role. Seeded once through the same import paths as real data; re-running re-uses it.

use crate::catalog_io::{self, FormSource};
use chrono::{DateTime, Duration, Utc};
use motcua_domain::calendar::{self, LegalClock, OfficeHours, TimeLimit, WorkCalendar};
use motcua_domain::dossier::{Channel, Status};
use motcua_store::Db;
use motcua_store::repo::files::FileStore;
use motcua_store::repo::{catalog, dossiers, meta};
use motcua_web::DemoAccount;

include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));

/// Bump when the seed changes shape; an existing older seed is left as it is.
const SEED_KEY: &str = "demo_seed";
const SEED_VERSION: &str = "2";
/// Password of every demo account (shown on the landing page in demo mode only).
pub const DEMO_PASSWORD: &str = "motcua-demo";

/// The demo logins shown on the landing page: one per role.
const LANDING: &[&str] = &[
    "tiepnhan",
    "lanhdao",
    "chuyenvien",
    "pheduyet",
    "vanthu",
    "trakq",
    "truongbp",
    "giamsat",
    "quantri",
];

fn demo_file(name: &str) -> anyhow::Result<&'static [u8]> {
    DEMO_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
        .ok_or_else(|| anyhow::anyhow!("demo file {name} is missing from the build"))
}

fn demo_text(name: &str) -> anyhow::Result<&'static str> {
    std::str::from_utf8(demo_file(name)?).map_err(|_| anyhow::anyhow!("demo file {name} is not UTF-8"))
}

struct Embedded;

impl FormSource for Embedded {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        demo_file(path).map(<[u8]>::to_vec).map_err(|e| e.to_string())
    }
}

/// The demo accounts shown on the landing page.
pub fn accounts() -> Vec<DemoAccount> {
    let officers = demo_text("officers.csv").unwrap_or("");
    let agencies = demo_text("agencies.csv").unwrap_or("");
    let agency_name = |code: &str| {
        agencies
            .lines()
            .find(|l| l.starts_with(&format!("{code},")))
            .and_then(|l| {
                csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_reader(l.as_bytes())
                    .records()
                    .next()
            })
            .and_then(Result::ok)
            .map(|r| r[1].to_string())
            .unwrap_or_else(|| code.to_string())
    };
    let mut out = Vec::new();
    let mut reader = csv::Reader::from_reader(officers.as_bytes());
    for r in reader.records().filter_map(Result::ok) {
        if !LANDING.contains(&&r[0]) {
            continue;
        }
        let role: motcua_domain::access::Role = match r[3].split('|').next().unwrap_or("").parse() {
            Ok(role) => role,
            Err(_) => continue,
        };
        out.push(DemoAccount {
            role: role.as_str().to_string(),
            role_label: role.label_vi().to_string(),
            username: r[0].to_string(),
            password: DEMO_PASSWORD.to_string(),
            agency: agency_name(&r[2]),
        });
    }
    out.sort_by_key(|a| LANDING.iter().position(|u| *u == a.username));
    out
}

/// Seeds the demo province unless already seeded; returns whether it seeded now.
pub async fn seed(db: &Db, files: &FileStore) -> anyhow::Result<bool> {
    if meta::get(db, SEED_KEY).await?.is_some() {
        return Ok(false);
    }
    catalog_io::import_agencies(db, demo_text("agencies.csv")?).await?;
    // Hash once: it is slow on purpose.
    let hash = motcua_web::auth::password::hash(DEMO_PASSWORD)?;
    catalog_io::import_officers(db, demo_text("officers.csv")?, &hash).await?;
    catalog_io::import_procedures(db, files, demo_text("procedures.json")?, &Embedded, "demo").await?;
    let mut tx = db.begin().await?;
    if meta::get_tx(&mut tx, SEED_KEY).await?.is_some() {
        return Ok(false);
    }
    seed_dossiers(db, &mut tx, Utc::now()).await?;
    meta::set(&mut tx, SEED_KEY, SEED_VERSION).await?;
    tx.commit().await?;
    Ok(true)
}

const APPLICANTS: &[&str] = &[
    "Nguyễn Văn An",
    "Trần Thị Bích",
    "Lê Hoàng Cường",
    "Phạm Thị Dung",
    "Hoàng Văn Em",
    "Vũ Thị Giang",
    "Đặng Minh Hải",
    "Bùi Thị Hoa",
    "Đỗ Văn Khánh",
    "Ngô Thị Loan",
];

/// Three dossiers in each of the ten statuses, received over the last weeks.
async fn seed_dossiers(db: &Db, tx: &mut motcua_store::Tx, now: DateTime<Utc>) -> anyhow::Result<()> {
    let cal = WorkCalendar::rules_only();
    let hours = OfficeHours::default();
    let clock = LegalClock::new(&cal, &hours);
    let today = calendar::local_date(now);
    let (list, _) = catalog::list_procedures(db, &Default::default(), 1, 200).await?;
    let mut procedures = Vec::new();
    for s in &list {
        if let Some(p) = catalog::procedure(db, &s.code, today).await?
            && let Some(agency) = p.spec.agencies.first()
        {
            procedures.push((s.code.clone(), agency.clone(), p.spec.time_limit.clone()));
        }
    }
    anyhow::ensure!(!procedures.is_empty(), "the demo catalog has no procedure");
    let mut n = 0usize;
    for status in Status::ALL {
        for k in 0..3i64 {
            n += 1;
            let (procedure, agency, limit) = &procedures[(n * 7) % procedures.len()];
            let channel = match n % 3 {
                _ if status == Status::Submitted => Channel::Online,
                0 => Channel::Online,
                1 => Channel::Direct,
                _ => Channel::Postal,
            };
            let received = clock.normalise_intake(
                now - Duration::days(3 + 2 * k + (n as i64 % 11)) - Duration::hours(n as i64 % 5),
            );
            let limit = TimeLimit::parse(limit).unwrap_or_else(|_| TimeLimit::working_days(5));
            let due = clock.due(received, &limit, None);
            let code = if status != Status::Submitted {
                Some(
                    dossiers::next_code(tx, agency, calendar::local_date(received))
                        .await?
                        .to_string(),
                )
            } else {
                None
            };
            let finished = matches!(
                status,
                Status::Resolved | Status::Returned | Status::Withdrawn | Status::Stopped | Status::Refused
            )
            .then(|| received + Duration::days(1 + k));
            let received_at = (status != Status::Submitted).then_some(received);
            dossiers::insert(
                tx,
                &dossiers::NewDossier {
                    code: code.as_deref(),
                    agency_code: agency,
                    procedure_code: procedure,
                    channel,
                    status,
                    applicant_name: APPLICANTS[n % APPLICANTS.len()],
                    submitted_at: (channel == Channel::Online).then_some(received - Duration::hours(2)),
                    received_at,
                    due_at: (received_at.is_some() && status != Status::Refused).then_some(due),
                    finished_at: finished,
                },
            )
            .await?;
        }
    }
    Ok(())
}
