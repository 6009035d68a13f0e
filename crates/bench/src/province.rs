//! The synthetic province: agencies CSV, procedures JSON and historic dossiers CSV in the
//! import formats of docs/catalog.md and docs/reports.md. Deterministic; writes files only.

use std::io::Write;
use std::path::Path;

/// The province code suffix (not a real province, so nothing is mistaken for real data).
const PROVINCE: &str = "H99";
/// The procedure every live phase uses: all six steps at the receiving desk.
pub const LIFECYCLE_PROCEDURE: &str = "1.990001";
pub const LIFECYCLE_CASE: &str = "chung";

pub struct Province {
    pub root: String,
    /// One-stop desks that receive dossiers in the live phases (the centre, then communes).
    pub desks: Vec<String>,
    /// Every agency code (for the historic import).
    pub agencies: Vec<String>,
    /// Every procedure code (for the historic import).
    pub procedures: Vec<String>,
    /// Lines of the agencies CSV, header included.
    agencies_csv: String,
    procedures_json: serde_json::Value,
}

fn agency(a: u32, b: u32) -> String {
    format!("000.{a:02}.{b:02}.{PROVINCE}")
}

impl Province {
    /// A province with a root, a service centre, `departments` departments and `communes`
    /// communes, `procedures` procedures; `desks` of the one-stop agencies serve live traffic.
    pub fn new(departments: u32, communes: u32, procedures: u32, desks: usize) -> Self {
        let root = agency(0, 0);
        let centre = agency(0, 1);
        let mut csv = String::from("code,name,level,parent_code,address,office_hours,one_stop\n");
        csv += &format!("{root},Ủy ban nhân dân tỉnh Thử Nghiệm,province,,Số 1 đường Chính,,no\n");
        csv += &format!("{centre},Trung tâm Phục vụ hành chính công tỉnh,department,{root},,,yes\n");
        let mut agencies = vec![root.clone(), centre.clone()];
        let mut one_stop = vec![centre.clone()];
        for d in 0..departments {
            let code = agency(0, 10 + d);
            csv += &format!("{code},Sở số {},department,{root},,,no\n", d + 1);
            agencies.push(code);
        }
        for c in 0..communes {
            let code = agency(30 + c / 99, 1 + c % 99);
            csv += &format!("{code},Ủy ban nhân dân xã số {},commune,{root},,,yes\n", c + 1);
            agencies.push(code.clone());
            one_stop.push(code);
        }
        let desks: Vec<String> = one_stop.iter().take(desks.max(1)).cloned().collect();

        let step = |name: &str, role: &str, quota: f64| serde_json::json!({"name": name, "role": role, "agency": "receiving", "quota_days": quota});
        let procedure = |code: &str, name: &str, at: &[String]| {
            serde_json::json!({
                "code": code,
                "name": name,
                "field": {"code": "TN", "name": "Thử nghiệm hiệu năng"},
                "levels": ["province", "commune"],
                "agencies": at,
                "methods": ["direct", "postal", "online"],
                "applicants": "Cá nhân",
                "components": [
                    {"name": "Tờ khai", "originals": 1, "copies": 0, "required": true, "form": null},
                    {"name": "Giấy tờ kèm theo", "originals": 0, "copies": 1, "required": false, "form": null}
                ],
                "time_limit": "10 working-days",
                "online_time_limit": null,
                "same_day_cutoff": null,
                "fees": [{"name": "Lệ phí", "amount_vnd": 0, "note": "Miễn lệ phí"}],
                "result": "Văn bản kết quả",
                "conditions": "",
                "legal_basis": ["Quy định thử nghiệm"],
                "online_level": "partial",
                "four_on_the_spot": false,
                "cases": [{"code": LIFECYCLE_CASE, "name": "Trường hợp chung", "time_limit": null, "online_time_limit": null,
                    "steps": [
                        step("Tiếp nhận hồ sơ", "receiving_officer", 0.5),
                        step("Phân công thụ lý", "leader", 0.5),
                        step("Thẩm định hồ sơ", "specialist", 5.0),
                        step("Kiểm tra, trình ký", "clerk", 1.0),
                        step("Ký duyệt", "approver", 1.0),
                        step("Trả kết quả", "result_officer", 0.5)
                    ]}],
                "effective_from": "2025-01-01"
            })
        };
        let mut list = vec![procedure(
            LIFECYCLE_PROCEDURE,
            "Thủ tục thử nghiệm hiệu năng",
            &one_stop,
        )];
        let mut codes = vec![LIFECYCLE_PROCEDURE.to_string()];
        for p in 1..procedures.max(1) {
            let code = format!("1.99{:04}", 1 + p);
            list.push(procedure(&code, &format!("Thủ tục số {}", p + 1), &one_stop));
            codes.push(code);
        }
        Province {
            root,
            desks,
            agencies,
            procedures: codes,
            agencies_csv: csv,
            procedures_json: serde_json::Value::Array(list),
        }
    }

    pub fn write_catalog(&self, agencies: &Path, procedures: &Path) -> anyhow::Result<()> {
        std::fs::write(agencies, &self.agencies_csv)?;
        std::fs::write(procedures, serde_json::to_vec_pretty(&self.procedures_json)?)?;
        Ok(())
    }

    /// Writes `n` historic dossiers received during 2025 (the report period), spread over
    /// every agency and procedure: 70% resolved early/on time/late, 10% in process, the rest
    /// withdrawn, stopped, refused or returned.
    pub fn write_dossiers(&self, path: &Path, n: u64) -> anyhow::Result<()> {
        use chrono::{Duration, NaiveDate, TimeZone};
        let file = std::fs::File::create(path)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        writeln!(
            w,
            "code,procedure_code,agency_code,channel,received_at,due_at,finished_at,outcome"
        )?;
        let start = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a valid date");
        let tz = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7");
        let a = self.agencies.len() as u64;
        let p = self.procedures.len() as u64;
        for i in 0..n {
            // (agency, day, sequence) is a bijection of i, so codes never repeat.
            let agency = &self.agencies[(i % a) as usize];
            let k = i / a;
            let day = start + Duration::days((k % 365) as i64);
            let seq = k / 365 + 1;
            let h = mix(i);
            let received = tz
                .from_local_datetime(
                    &day.and_hms_opt(7 + (h % 9) as u32, (h >> 8) as u32 % 60, 0)
                        .expect("a valid time"),
                )
                .single()
                .expect("a fixed offset is unambiguous");
            let due = received + Duration::days(10);
            let channel = ["direct", "online", "postal", "direct"][(h >> 16) as usize % 4];
            let (finished, outcome) = match (h >> 20) % 100 {
                0..=39 => (Some(received + Duration::days(5)), "returned"),
                40..=59 => (Some(received + Duration::days(9)), "resolved"),
                60..=69 => (Some(received + Duration::days(14)), "resolved"),
                70..=79 => (None, ""),
                80..=89 => (Some(received + Duration::days(2)), "withdrawn"),
                90..=94 => (Some(received + Duration::days(3)), "stopped"),
                _ => (Some(received + Duration::hours(1)), "refused"),
            };
            let due = if outcome == "refused" {
                String::new()
            } else {
                due.to_rfc3339()
            };
            writeln!(
                w,
                "{agency}-{}-{seq:04},{},{agency},{channel},{},{due},{},{outcome}",
                day.format("%y%m%d"),
                self.procedures[(mix(i ^ 0x5555) % p) as usize],
                received.to_rfc3339(),
                finished.map(|f| f.to_rfc3339()).unwrap_or_default(),
            )?;
        }
        w.flush()?;
        Ok(())
    }
}

/// A cheap deterministic hash (splitmix64).
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
