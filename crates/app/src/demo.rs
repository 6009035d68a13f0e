//! The demo province: real procedures, agencies and officers (files in `crates/app/demo/`,
//! embedded in the binary) plus dossiers in every status, so a newcomer can click through
//! every role. Seeded once through the same import paths as real data; re-running re-uses it.

use crate::catalog_io::{self, FormSource};
use chrono::{DateTime, Duration, Utc};
use motcua_domain::access::Role;
use motcua_domain::calendar::{self, LegalClock, OfficeHours, WorkCalendar};
use motcua_domain::dossier::Status;
use motcua_domain::dossier::machine::Action;
use motcua_service::Services;
use motcua_service::auth::CurrentUser;
use motcua_service::dossiers::{ActionInput, Actor, ApplicantInput, ComponentInput, IntakeInput};
use motcua_store::repo::{catalog, dossiers, meta, steps};
use motcua_web::DemoAccount;

include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));

/// Bump when the seed changes shape; an existing older seed is left as it is.
const SEED_KEY: &str = "demo_seed";
const SEED_VERSION: &str = "2";
/// Password of every demo account (shown on the landing page in demo mode only).
pub const DEMO_PASSWORD: &str = "motcua-demo";
/// The demo citizen's login (a phone number) and name: an account already confirmed, so a
/// newcomer can submit online without waiting for a one-time code.
pub const DEMO_CITIZEN: (&str, &str) = ("0912345678", "Nguyễn Văn An");

/// The demo logins shown on the landing page: one per role at the province, then a commune's
/// desk officer, specialist (also clerk) and leader (also approver), who receive and settle
/// the commune's procedures submitted online.
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
    "tiepnhan.xa.tranyen",
    "chuyenvien.xa.tranyen",
    "lanhdao.xa.tranyen",
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
    out.insert(
        0,
        DemoAccount {
            role: "citizen".into(),
            role_label: "Công dân".into(),
            username: DEMO_CITIZEN.0.into(),
            password: DEMO_PASSWORD.into(),
            agency: String::new(),
        },
    );
    out
}

/// Seeds the demo province unless already seeded; returns whether it seeded now. Dossiers go
/// through the real intake and action service, backdated over the last weeks, so they have
/// steps, events, counters and outbox rows like live ones.
pub async fn seed(services: &Services) -> anyhow::Result<bool> {
    let db = services.db();
    if meta::get(db, SEED_KEY).await?.is_some() {
        return Ok(false);
    }
    catalog_io::import_agencies(db, demo_text("agencies.csv")?).await?;
    // Hash once: it is slow on purpose.
    let hash = motcua_service::auth::password::hash(DEMO_PASSWORD)?;
    catalog_io::import_officers(db, demo_text("officers.csv")?, &hash).await?;
    seed_citizen(db, &hash).await?;
    catalog_io::import_procedures(
        db,
        services.files(),
        demo_text("procedures.json")?,
        &Embedded,
        "demo",
    )
    .await?;
    // Marked before the dossiers: an interrupted seed is not repeated (no duplicates).
    let mut tx = db.begin().await?;
    if meta::get_tx(&mut tx, SEED_KEY).await?.is_some() {
        return Ok(false);
    }
    meta::set(&mut tx, SEED_KEY, "dossiers-in-progress").await?;
    tx.commit().await?;
    seed_dossiers(services, Utc::now()).await?;
    let mut tx = db.begin().await?;
    meta::set(&mut tx, SEED_KEY, SEED_VERSION).await?;
    tx.commit().await?;
    Ok(true)
}

/// The demo citizen's account, confirmed (an existing one is left as it is).
async fn seed_citizen(db: &motcua_store::Db, hash: &str) -> anyhow::Result<()> {
    use motcua_store::repo::citizens;
    if citizens::by_login(db, DEMO_CITIZEN.0).await?.is_some() {
        return Ok(());
    }
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let id = citizens::upsert_unverified(
        &mut tx,
        DEMO_CITIZEN.0,
        motcua_domain::identity::LoginKind::Phone,
        DEMO_CITIZEN.1,
        hash,
        now,
    )
    .await?;
    citizens::mark_verified(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(())
}

const APPLICANTS: &[(&str, &str)] = &[
    ("Nguyễn Văn An", "015093000123"),
    ("Trần Thị Bích", "015189000456"),
    ("Lê Hoàng Cường", "015095001789"),
    ("Phạm Thị Dung", "015192002345"),
    ("Hoàng Văn Em", "015088003456"),
    ("Vũ Thị Giang", "015196004567"),
    ("Đặng Minh Hải", "015090005678"),
    ("Bùi Thị Hoa", "015194006789"),
    ("Đỗ Văn Khánh", "015087007890"),
    ("Ngô Thị Loan", "015198008901"),
];

/// A minimal PDF standing in for scans and signed results in the demo.
const DEMO_PDF: &[u8] =
    b"%PDF-1.4\n% motcua demo\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

struct Seeder<'a> {
    services: &'a Services,
    officers: Vec<motcua_store::repo::users::UserView>,
    scan: String,
}

impl Seeder<'_> {
    /// A signed-in officer holding `role` in `agency`.
    async fn officer(&self, agency: &str, role: &str) -> anyhow::Result<CurrentUser> {
        let u = self
            .officers
            .iter()
            .find(|u| u.roles.iter().any(|(a, r)| a == agency && r.as_str() == role))
            .ok_or_else(|| anyhow::anyhow!("no demo officer with {role} in {agency}"))?;
        let principal = motcua_store::repo::auth::principal(self.services.db(), u.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("officer disabled"))?;
        Ok(CurrentUser {
            principal,
            csrf_token: None,
            reference_version: None,
        })
    }

    async fn act(
        &self,
        key: &str,
        agency: &str,
        role: &str,
        action: Action,
        input: ActionInput,
        at: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let user = self.officer(agency, role).await?;
        let v = self
            .services
            .at(at)
            .act(Actor::Officer(&user), key, action, input)
            .await
            .map_err(|e| anyhow::anyhow!("demo {action} on {key}: {e}"))?;
        Ok(v.dossier.key())
    }

    /// The open step of a dossier: (agency code, role, next step's role and agency).
    async fn open_step(
        &self,
        key: &str,
    ) -> anyhow::Result<Option<(String, String, Option<(String, String)>)>> {
        let d = dossiers::find(self.services.db(), key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no dossier {key}"))?;
        let steps = steps::steps(self.services.db(), d.id).await?;
        let Some(i) = motcua_domain::dossier::record::open_step(&steps) else {
            return Ok(None);
        };
        let next = steps
            .get(i + 1)
            .map(|n| (n.role.to_string(), n.agency_code.clone().unwrap_or_default()));
        Ok(Some((
            steps[i].agency_code.clone().unwrap_or_default(),
            steps[i].role.to_string(),
            next,
        )))
    }
}

/// Dossiers in every status, received over the last weeks; some late, some overdue.
async fn seed_dossiers(services: &Services, now: DateTime<Utc>) -> anyhow::Result<()> {
    let cal = WorkCalendar::rules_only();
    let hours = OfficeHours::default();
    let clock = LegalClock::new(&cal, &hours);
    let db = services.db();
    let officers = motcua_store::repo::users::list(db, None).await?;
    let scan = format!(
        "sha256:{}",
        services.store_scan("ban-scan.pdf", DEMO_PDF).await?.sha256
    );
    let seeder = Seeder {
        services,
        officers,
        scan,
    };
    let today = calendar::local_date(now);
    // Procedures whose workflow ends with an approver, received where a desk officer sits.
    let (list, _) = catalog::list_procedures(db, &Default::default(), 1, 200).await?;
    let mut usable = Vec::new();
    for s in &list {
        let Some(p) = catalog::procedure(db, &s.code, today).await? else {
            continue;
        };
        let Some(case) = p.spec.cases.first() else {
            continue;
        };
        if !case.steps.iter().any(|st| st.role == "approver") {
            continue;
        }
        let desk = p.spec.agencies.iter().find(|a| {
            seeder.officers.iter().any(|u| {
                u.roles
                    .iter()
                    .any(|(ua, r)| ua == *a && *r == Role::ReceivingOfficer)
            })
        });
        if let Some(desk) = desk {
            usable.push((p.spec.clone(), desk.clone()));
        }
    }
    anyhow::ensure!(
        !usable.is_empty(),
        "the demo catalog has no procedure the demo officers can process"
    );
    let mut n = 0usize;
    for target in Status::ALL {
        for k in 0..3usize {
            n += 1;
            let (spec, desk) = &usable[(n * 7) % usable.len()];
            let (name, id) = APPLICANTS[n % APPLICANTS.len()];
            // Received 2–25 working days ago; the last of each kind long enough ago to be late.
            let days_ago = 2 + ((n * 5) % 18) as i64 + if k == 2 { 10 } else { 0 };
            let start =
                clock.normalise_intake(now - Duration::days(days_ago) - Duration::hours((n % 4) as i64));
            seed_one(&seeder, spec, desk, target, name, id, start, now, &clock, k == 2).await?;
        }
    }
    seed_commune_submission(&seeder, now).await
}

/// Where the demo's commune walk-through happens: birth registration (fully online) at the
/// commune of Trấn Yên, whose desk, specialist and leader are on the landing page.
const COMMUNE_PROCEDURE: &str = "1.001193";
const COMMUNE_DESK: &str = "000.30.02.H56";

/// The demo citizen's birth registration, submitted online and waiting in the commune desk's
/// queue: a commune officer signing in for the first time has something to receive.
async fn seed_commune_submission(s: &Seeder<'_>, now: DateTime<Utc>) -> anyhow::Result<()> {
    let db = s.services.db();
    let Some(p) = catalog::procedure(db, COMMUNE_PROCEDURE, calendar::local_date(now)).await? else {
        return Ok(());
    };
    let citizen = motcua_store::repo::citizens::by_login(db, DEMO_CITIZEN.0)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo citizen is missing"))?;
    let input = IntakeInput {
        procedure: p.spec.code.clone(),
        case: None,
        agency: COMMUNE_DESK.into(),
        channel: "online".into(),
        applicant: ApplicantInput {
            kind: "person".into(),
            name: DEMO_CITIZEN.1.into(),
            id_number: "015093000123".into(),
            phone: DEMO_CITIZEN.0.into(),
            email: String::new(),
            address: "Thôn Đồng Tâm, xã Trấn Yên, tỉnh Yên Bái".into(),
        },
        submitter_name: String::new(),
        request: "Đăng ký khai sinh cho con".into(),
        components: (0..p.spec.components.len())
            .map(|i| ComponentInput {
                index: i,
                provided: true,
                file: Some(s.scan.clone()),
            })
            .collect(),
        delivery: Some(motcua_service::dossiers::DeliveryInput {
            method: "electronic".into(),
            address: String::new(),
        }),
        notify: None,
    };
    let by = Actor::Citizen {
        id: citizen.id,
        login: DEMO_CITIZEN.0,
    };
    s.services
        .at(now)
        .intake(by, input)
        .await
        .map_err(|e| anyhow::anyhow!("demo commune submission: {e}"))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn seed_one(
    s: &Seeder<'_>,
    spec: &motcua_domain::procedure::ProcedureSpec,
    desk: &str,
    target: Status,
    name: &str,
    id: &str,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    clock: &LegalClock<'_>,
    late: bool,
) -> anyhow::Result<()> {
    let online = matches!(target, Status::Submitted | Status::Refused) || name.len().is_multiple_of(3);
    let input = IntakeInput {
        procedure: spec.code.clone(),
        case: None,
        agency: desk.to_string(),
        channel: if online { "online".into() } else { "direct".into() },
        applicant: ApplicantInput {
            kind: "person".into(),
            name: name.into(),
            id_number: id.into(),
            phone: format!("09{}", &id[4..12]),
            email: String::new(),
            address: "Phường Yên Bái, tỉnh Yên Bái".into(),
        },
        submitter_name: String::new(),
        request: spec.name.clone(),
        components: (0..spec.components.len())
            .map(|i| ComponentInput {
                index: i,
                provided: true,
                file: Some(s.scan.clone()),
            })
            .collect(),
        delivery: None,
        notify: None,
    };
    let desk_user = s.officer(desk, "receiving_officer").await?;
    let d = s
        .services
        .at(start)
        .intake(Actor::Officer(&desk_user), input)
        .await
        .map_err(|e| anyhow::anyhow!("demo intake: {e}"))?
        .dossier;
    let mut key = d.key();
    let mut t = start;
    let step = |t: DateTime<Utc>| clock.add_working_minutes(t, 90);
    let note = |text: &str| ActionInput {
        note: text.into(),
        ..Default::default()
    };
    if online {
        t = step(t);
        match target {
            Status::Submitted => return Ok(()),
            Status::Refused => {
                s.act(
                    &key,
                    desk,
                    "receiving_officer",
                    Action::Refuse,
                    note("Hồ sơ không thuộc thẩm quyền giải quyết"),
                    t,
                )
                .await?;
                return Ok(());
            }
            _ => {
                key = s
                    .act(
                        &key,
                        desk,
                        "receiving_officer",
                        Action::Accept,
                        ActionInput::default(),
                        t,
                    )
                    .await?
            }
        }
    }
    if target == Status::Received {
        return Ok(());
    }
    if target == Status::Withdrawn {
        s.act(
            &key,
            desk,
            "receiving_officer",
            Action::Withdraw,
            note("Công dân đề nghị rút hồ sơ"),
            step(t),
        )
        .await?;
        return Ok(());
    }
    t = step(t);
    s.act(
        &key,
        desk,
        "receiving_officer",
        Action::Transfer,
        ActionInput::default(),
        t,
    )
    .await?;
    // Walk the workflow up to the approver's step (stopping early for in-process targets).
    let stop_early = matches!(
        target,
        Status::Processing | Status::AwaitingSupplement | Status::AwaitingPayment
    );
    while let Some((agency, role, next)) = s.open_step(&key).await? {
        if role == "approver" || (stop_early && role == "specialist") {
            break;
        }
        t = step(t);
        if role == "leader"
            && let Some((next_role, next_agency)) = next.filter(|(r, _)| r == "specialist")
        {
            let specialist = s
                .officers
                .iter()
                .find(|u| {
                    u.roles
                        .iter()
                        .any(|(a, r)| *a == next_agency && r.as_str() == next_role)
                })
                .map(|u| u.username.clone());
            s.act(
                &key,
                &agency,
                &role,
                Action::Assign,
                ActionInput {
                    assignee: specialist,
                    ..Default::default()
                },
                t,
            )
            .await?;
        } else {
            s.act(&key, &agency, &role, Action::CompleteStep, note("Đã xử lý"), t)
                .await?;
        }
    }
    let Some((agency, role, _)) = s.open_step(&key).await? else {
        return Ok(());
    };
    t = step(t);
    match target {
        Status::Processing => {}
        Status::AwaitingSupplement => {
            s.act(
                &key,
                &agency,
                &role,
                Action::RequestSupplement,
                note("Bổ sung bản sao giấy tờ tùy thân có chứng thực"),
                t,
            )
            .await?;
        }
        Status::AwaitingPayment => {
            s.act(
                &key,
                &agency,
                &role,
                Action::RequestPayment,
                note("Nộp lệ phí theo quy định"),
                t,
            )
            .await?;
        }
        Status::Stopped => {
            s.act(
                &key,
                &agency,
                "approver",
                Action::Stop,
                note("Hồ sơ không đủ điều kiện theo quy định"),
                t,
            )
            .await?;
        }
        Status::Resolved | Status::Returned => {
            let d = dossiers::find(s.services.db(), &key)
                .await?
                .ok_or_else(|| anyhow::anyhow!("lost {key}"))?;
            // The last of each kind is resolved a day after its due date (late).
            let at = match (late, d.original_due_at) {
                (true, Some(due)) if due + Duration::days(1) < now => due + Duration::days(1),
                _ => t,
            };
            let input = ActionInput {
                file: Some(s.scan.clone()),
                result_number: Some(format!("{}/QĐ", 100 + key.len())),
                ..Default::default()
            };
            s.act(&key, &agency, "approver", Action::Approve, input, at)
                .await?;
            if target == Status::Returned {
                let method = ActionInput {
                    method: Some("desk".into()),
                    ..Default::default()
                };
                let holder = if s.officers.iter().any(|u| {
                    u.roles
                        .iter()
                        .any(|(a, r)| a == desk && *r == Role::ResultOfficer)
                }) {
                    "result_officer"
                } else {
                    "receiving_officer"
                };
                s.act(
                    &key,
                    desk,
                    holder,
                    Action::ReturnResult,
                    method,
                    clock.add_working_minutes(at, 60),
                )
                .await?;
            }
        }
        _ => {}
    }
    Ok(())
}
