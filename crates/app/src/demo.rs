//! The demo province: a small, realistic data set so a newcomer can click through every role
//! and status. Seeded once, in one transaction, marked in `meta`; re-running re-uses it.

use chrono::{DateTime, Duration, Utc};
use motcua_domain::calendar::{self, LegalClock, OfficeHours, TimeLimit, WorkCalendar};
use motcua_domain::dossier::{Channel, Status};
use motcua_store::repo::{agencies, catalog, dossiers, meta, users};
use motcua_store::{Db, StoreResult};
use motcua_web::DemoAccount;

/// Bump when the seed changes shape; an existing older seed is left as it is.
const SEED_KEY: &str = "demo_seed";
const SEED_VERSION: &str = "1";
/// Password of every demo account (shown on the landing page in demo mode only).
pub const DEMO_PASSWORD: &str = "motcua-demo";

const PROVINCE: &str = "000.00.00.H56";
const DESK: &str = "000.00.01.H56";
const JUSTICE: &str = "000.00.06.H56";
const CONSTRUCTION: &str = "000.00.10.H56";

/// (code, name, level, parent, address, one-stop desk?)
type AgencyRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    bool,
);
const AGENCIES: &[AgencyRow] = &[
    (
        PROVINCE,
        "Ủy ban nhân dân tỉnh Yên Bái",
        "province",
        None,
        "Số 1 đường Yên Ninh, phường Yên Bái",
        false,
    ),
    (
        DESK,
        "Trung tâm Phục vụ hành chính công tỉnh Yên Bái",
        "province",
        Some(PROVINCE),
        "Số 2 đường Hòa Bình, phường Yên Bái",
        true,
    ),
    (
        JUSTICE,
        "Sở Tư pháp",
        "province",
        Some(PROVINCE),
        "Số 3 đường Trần Hưng Đạo, phường Yên Bái",
        false,
    ),
    (
        "000.00.04.H56",
        "Sở Tài chính",
        "province",
        Some(PROVINCE),
        "Đường Điện Biên, phường Yên Bái",
        false,
    ),
    (
        CONSTRUCTION,
        "Sở Xây dựng",
        "province",
        Some(PROVINCE),
        "Đường Nguyễn Tất Thành, phường Yên Bái",
        false,
    ),
    (
        "000.00.11.H56",
        "Sở Nông nghiệp và Môi trường",
        "province",
        Some(PROVINCE),
        "Đường Lê Lợi, phường Yên Bái",
        false,
    ),
    (
        "000.00.13.H56",
        "Sở Công Thương",
        "province",
        Some(PROVINCE),
        "Đường Đinh Tiên Hoàng, phường Yên Bái",
        false,
    ),
    (
        "000.30.01.H56",
        "Ủy ban nhân dân phường Yên Bái",
        "commune",
        Some(PROVINCE),
        "Đường Nguyễn Thái Học, phường Yên Bái",
        true,
    ),
    (
        "000.30.02.H56",
        "Ủy ban nhân dân xã Trấn Yên",
        "commune",
        Some(PROVINCE),
        "Thôn Đồng Tâm, xã Trấn Yên",
        true,
    ),
];

/// (role id, Vietnamese label, username, full name, agency)
const ACCOUNTS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "receiving_officer",
        "Công chức tiếp nhận",
        "tiepnhan",
        "Nguyễn Thị Lan",
        DESK,
    ),
    (
        "leader",
        "Lãnh đạo phòng (phân công)",
        "lanhdao",
        "Trần Văn Hùng",
        JUSTICE,
    ),
    (
        "specialist",
        "Chuyên viên thụ lý",
        "chuyenvien",
        "Lê Minh Đức",
        JUSTICE,
    ),
    (
        "approver",
        "Lãnh đạo ký duyệt",
        "pheduyet",
        "Phạm Quang Vinh",
        JUSTICE,
    ),
    ("clerk", "Văn thư", "vanthu", "Hoàng Thị Mai", JUSTICE),
    (
        "result_officer",
        "Công chức trả kết quả",
        "trakq",
        "Vũ Thị Hạnh",
        DESK,
    ),
    (
        "desk_head",
        "Trưởng bộ phận một cửa",
        "truongbp",
        "Đặng Văn Nam",
        DESK,
    ),
    (
        "supervisor",
        "Giám sát (chỉ xem)",
        "giamsat",
        "Bùi Thị Thu",
        PROVINCE,
    ),
    ("admin", "Quản trị hệ thống", "quantri", "Đỗ Mạnh Tuấn", PROVINCE),
];

const FIELDS: &[(&str, &str)] = &[
    ("HT", "Hộ tịch"),
    ("CT", "Chứng thực"),
    ("LLTP", "Lý lịch tư pháp"),
    ("XD", "Xây dựng"),
    ("DD", "Đất đai"),
];

/// (code, name, field, level, time limit, fees, online level)
const PROCEDURES: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "1.001193",
        "Đăng ký khai sinh",
        "HT",
        "commune",
        "1 working-days",
        "Miễn lệ phí",
        "full",
    ),
    (
        "1.000894",
        "Đăng ký kết hôn",
        "HT",
        "commune",
        "1 working-days",
        "Miễn lệ phí",
        "partial",
    ),
    (
        "1.000656",
        "Đăng ký khai tử",
        "HT",
        "commune",
        "1 working-days",
        "Miễn lệ phí",
        "full",
    ),
    (
        "2.000815",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        "CT",
        "commune",
        "1 working-days",
        "2.000 đồng/trang",
        "partial",
    ),
    (
        "2.000908",
        "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam",
        "LLTP",
        "province",
        "10 working-days",
        "200.000 đồng/lần",
        "full",
    ),
    (
        "1.009972",
        "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II",
        "XD",
        "province",
        "20 working-days",
        "150.000 đồng/giấy phép",
        "partial",
    ),
    (
        "1.004227",
        "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
        "DD",
        "province",
        "10 working-days",
        "Theo quy định của HĐND tỉnh",
        "partial",
    ),
];

/// The demo accounts shown on the landing page.
pub fn accounts() -> Vec<DemoAccount> {
    ACCOUNTS
        .iter()
        .map(|(role, label, username, _, agency)| DemoAccount {
            role: role.to_string(),
            role_label: label.to_string(),
            username: username.to_string(),
            password: DEMO_PASSWORD.to_string(),
            agency: AGENCIES
                .iter()
                .find(|a| a.0 == *agency)
                .map(|a| a.1.to_string())
                .unwrap_or_default(),
        })
        .collect()
}

/// Seeds the demo province unless already seeded; returns whether it seeded now.
pub async fn seed(db: &Db) -> anyhow::Result<bool> {
    if meta::get(db, SEED_KEY).await?.is_some() {
        return Ok(false);
    }
    // Hash outside the transaction: it is slow on purpose.
    let hash = motcua_web::auth::password::hash(DEMO_PASSWORD)?;
    let mut tx = db.begin().await?;
    if meta::get_tx(&mut tx, SEED_KEY).await?.is_some() {
        return Ok(false);
    }
    seed_in(&mut tx, &hash, Utc::now()).await?;
    meta::set(&mut tx, SEED_KEY, SEED_VERSION).await?;
    tx.commit().await?;
    Ok(true)
}

async fn seed_in(tx: &mut motcua_store::Tx, hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
    for (code, name, level, parent, address, one_stop) in AGENCIES {
        agencies::upsert(
            tx,
            &agencies::NewAgency {
                code,
                name,
                level,
                parent_code: *parent,
                address,
                is_one_stop: *one_stop,
            },
        )
        .await?;
    }
    for (role, _, username, full_name, agency) in ACCOUNTS {
        users::upsert(
            tx,
            &users::NewUser {
                username,
                full_name,
                password_hash: hash,
                roles: &[(agency, role)],
            },
        )
        .await?;
    }
    for (code, name) in FIELDS {
        catalog::upsert_field(tx, code, name).await?;
    }
    for (code, name, field_code, level, time_limit, fee_text, online_level) in PROCEDURES {
        catalog::upsert_procedure(
            tx,
            &catalog::NewProcedure {
                code,
                name,
                field_code,
                level,
                time_limit,
                fee_text,
                online_level,
            },
        )
        .await?;
    }
    seed_dossiers(tx, now).await
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
async fn seed_dossiers(tx: &mut motcua_store::Tx, now: DateTime<Utc>) -> StoreResult<()> {
    let calendar = WorkCalendar::rules_only();
    let hours = OfficeHours::default();
    let clock = LegalClock::new(&calendar, &hours);
    let mut n = 0usize;
    for status in Status::ALL {
        for k in 0..3 {
            n += 1;
            let (procedure, _, _, level, limit, _, _) = PROCEDURES[n % PROCEDURES.len()];
            let agency = if level == "commune" { "000.30.01.H56" } else { DESK };
            let channel = match n % 3 {
                0 => Channel::Online,
                1 => Channel::Direct,
                _ => Channel::Postal,
            };
            let channel = if status == Status::Submitted {
                Channel::Online
            } else {
                channel
            };
            let received = clock.normalise_intake(
                now - Duration::days(3 + 2 * k + (n as i64 % 11)) - Duration::hours(n as i64 % 5),
            );
            let limit = TimeLimit::parse(limit).expect("demo limits are valid");
            let due = clock.due(received, &limit, None);
            let has_code = status != Status::Submitted;
            let code = if has_code {
                let local_day = calendar::local_date(received);
                Some(dossiers::next_code(tx, agency, local_day).await?.to_string())
            } else {
                None
            };
            let finished = matches!(
                status,
                Status::Resolved | Status::Returned | Status::Withdrawn | Status::Stopped | Status::Refused
            )
            .then(|| received + Duration::days(4 + k));
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
