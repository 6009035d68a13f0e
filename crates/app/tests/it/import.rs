//! Historic import (`motcua import dossiers`) as a province moving from a legacy system runs
//! it, on both backends: generated rows with every edge, checked against a recount written
//! here independently of the domain code, over many periods; `--verify`; idempotence; an
//! update; errors by line with nothing written; placeholders with --create-missing.

use crate::support::{TestDb, load_fixtures, officer, on_both_backends};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use std::process::{Command, Output};

const HEADER: &str = "code,procedure_code,agency_code,channel,received_at,due_at,finished_at,outcome";

fn motcua(t: &TestDb, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .args(["--database-url", &t.url])
        .current_dir(dir.path())
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// One generated legacy dossier (what the test knows, in its own terms).
#[derive(Clone)]
struct Gen {
    code: String,
    procedure: &'static str,
    agency: &'static str,
    channel: &'static str,
    received: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
    finished: Option<DateTime<Utc>>,
    outcome: &'static str,
}

fn local_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
        .date_naive()
}

impl Gen {
    fn line(&self, offset_hours: i32) -> String {
        let tz = FixedOffset::east_opt(offset_hours * 3600).unwrap();
        let fmt = |t: Option<DateTime<Utc>>| t.map(|t| t.with_timezone(&tz).to_rfc3339()).unwrap_or_default();
        format!(
            "{},{},{},{},{},{},{},{}",
            self.code,
            self.procedure,
            self.agency,
            self.channel,
            fmt(Some(self.received)),
            fmt(self.due),
            fmt(self.finished),
            self.outcome
        )
    }
}

/// Column values for a period, counted the plain way, straight from DOMAIN.md §5–6.
fn expected(all: &[Gen], from: NaiveDate, to: NaiveDate) -> Value {
    let mut c = [0i64; 11];
    for g in all.iter().filter(|g| g.outcome != "refused") {
        let r = local_day(g.received);
        let done = g.finished.map(local_day);
        let due = g.due.map(local_day);
        if r > to || done.is_some_and(|d| d < from) {
            continue;
        }
        if r < from {
            c[3] += 1;
        } else if g.channel == "online" {
            c[1] += 1;
        } else {
            c[2] += 1;
        }
        c[0] += 1;
        match done {
            Some(d) if d <= to => {
                c[4] += 1;
                let resolved = matches!(g.outcome, "resolved" | "returned");
                match due {
                    Some(due) if resolved && d < due => c[5] += 1,
                    Some(due) if resolved && d > due => c[7] += 1,
                    _ => c[6] += 1,
                }
            }
            _ => {
                c[8] += 1;
                if due.is_some_and(|due| due < to) {
                    c[10] += 1;
                } else {
                    c[9] += 1;
                }
            }
        }
    }
    json!({"received": c[0], "received_online": c[1], "received_direct": c[2], "carried_over": c[3],
        "resolved": c[4], "early": c[5], "on_time": c[6], "late": c[7], "in_process": c[8],
        "within_time": c[9], "overdue": c[10]})
}

/// Rows spread over Sep 2025 – Mar 2026 with every edge, from a fixed seed.
fn generate(n: usize) -> Vec<Gen> {
    let mut seed: u64 = 0x5eed_2026;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let base = Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).unwrap();
    let agencies = ["000.00.01.H56", "000.00.10.H56", "000.30.01.H56", "000.30.02.H56"];
    let procedures = ["1.009972", "1.001193"];
    let channels = ["direct", "online", "postal"];
    let mut out = Vec::new();
    for i in 0..n {
        // Minutes across ~7 months, so some land in the evening UTC (the next local day).
        let received = base + Duration::minutes(next(210 * 24 * 60) as i64);
        let due = received + Duration::hours(next(30 * 24) as i64 + 1);
        let (finished, outcome) = match next(10) {
            0 => (None, ""),
            1 => (Some(received + Duration::hours(next(24) as i64)), "refused"),
            2 => (Some(received + Duration::hours(next(200) as i64)), "withdrawn"),
            3 => (Some(received + Duration::hours(next(200) as i64)), "stopped"),
            // Resolved later on the due date itself.
            4 => (Some(due + Duration::minutes(next(60) as i64)), "resolved"),
            5 | 6 => (Some(received + Duration::hours(next(60 * 24) as i64)), "returned"),
            _ => (Some(received + Duration::hours(next(45 * 24) as i64)), "resolved"),
        };
        let mut g = Gen {
            code: format!("CU-{i:06}"),
            procedure: procedures[next(2) as usize],
            agency: agencies[next(4) as usize],
            channel: channels[next(3) as usize],
            received,
            due: Some(due),
            finished,
            outcome,
        };
        if outcome == "refused" && next(2) == 0 {
            g.due = None;
        }
        out.push(g);
    }
    // Named edges at the end of November 2025.
    let local = |d: u32, h: u32| Utc.with_ymd_and_hms(2025, 11, d, h, 0, 0).unwrap() - Duration::hours(7);
    let mut edge = |code: &str, received, due, finished, outcome| {
        out.push(Gen {
            code: code.into(),
            procedure: "1.001193",
            agency: "000.30.01.H56",
            channel: "direct",
            received,
            due,
            finished,
            outcome,
        })
    };
    // Due on the period's last day, still open: within time.
    edge("EDGE-DUE-LAST", local(20, 9), Some(local(30, 16)), None, "");
    // Finished after the period end: in process (overdue) in November.
    edge(
        "EDGE-AFTER",
        local(3, 9),
        Some(local(10, 16)),
        Some(local(30, 9) + Duration::days(3)),
        "resolved",
    );
    // 17:30 UTC on 30 Nov is 00:30 on 1 Dec local: December's.
    edge(
        "EDGE-UTC",
        local(30, 17) + Duration::hours(7) + Duration::minutes(30),
        Some(local(30, 9) + Duration::days(5)),
        None,
        "",
    );
    out
}

fn csv(all: &[Gen]) -> String {
    let mut s = format!("{HEADER}\n");
    for (i, g) in all.iter().enumerate() {
        // Offsets vary: the same instant written in UTC, at +07:00 or at -05:00.
        s.push_str(&g.line([0, 7, -5][i % 3]));
        s.push('\n');
    }
    s
}

fn report(t: &TestDb, from: &str, to: &str, extra: &[&str]) -> Value {
    let mut args = vec!["report", "--from", from, "--to", to];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(&motcua(t, &args))).unwrap()
}

async fn dossier_count(t: &TestDb) -> i64 {
    motcua_store::repo::dossiers::count_by_status(&t.db)
        .await
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum()
}

on_both_backends! {
    async fn imported_dossiers_count_like_live_ones(t) {
        load_fixtures(t).await;
        let all = generate(2500);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cu.csv");
        std::fs::write(&file, csv(&all)).unwrap();
        let path = file.to_str().unwrap();
        let out = ok(&motcua(t, &["import", "dossiers", path]));
        assert!(out.contains("2503 rows: 2503 new, 0 updated, 0 unchanged"), "{out}");

        let periods = [
            ("2025-11-01", "2025-11-30"), ("2025-10-15", "2025-11-14"), ("2025-10-01", "2025-12-31"),
            ("2025-09-01", "2026-03-31"), ("2025-11-30", "2025-11-30"), ("2025-12-01", "2025-12-01"),
            ("2026-01-01", "2026-06-30"), ("2024-01-01", "2024-12-31"),
        ];
        for (from, to) in periods {
            let f = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
            let l = NaiveDate::parse_from_str(to, "%Y-%m-%d").unwrap();
            let got = report(t, from, to, &["--verify", "--by", "agency"]);
            assert_eq!(got["total"], expected(&all, f, l), "{from}..{to}");
            // Rows roll up: the province row holds its communes' numbers too.
            for row in got["rows"].as_array().unwrap() {
                for (k, v) in row.as_object().unwrap() {
                    if let Some(n) = v.as_i64() { assert!(n >= 0, "{k} {row}"); }
                }
            }
        }
        // The generated data reaches every column.
        let whole = expected(&all, NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(), NaiveDate::from_ymd_opt(2025, 11, 30).unwrap());
        assert!(whole.as_object().unwrap().values().all(|v| v.as_i64().unwrap() > 0), "{whole}");
        let nov = report(t, "2025-11-01", "2025-11-30", &["--agency", "000.30.01.H56"]);
        assert!(nov["total"]["within_time"].as_i64().unwrap() >= 1);

        // Again: nothing changes.
        let again = ok(&motcua(t, &["import", "dossiers", path]));
        assert!(again.contains("0 new, 0 updated, 2503 unchanged"), "{again}");
        assert_eq!(report(t, "2025-11-01", "2025-11-30", &[])["total"], expected(&all, NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(), NaiveDate::from_ymd_opt(2025, 11, 30).unwrap()));

        // The legacy system finished an open dossier: re-importing updates it, counters follow.
        let mut moved = all.clone();
        let open = moved.iter_mut().find(|g| g.code == "EDGE-DUE-LAST").unwrap();
        open.finished = Some(open.received + Duration::days(2));
        open.outcome = "resolved";
        std::fs::write(&file, csv(&moved)).unwrap();
        let upd = ok(&motcua(t, &["import", "dossiers", path]));
        assert!(upd.contains("0 new, 1 updated, 2502 unchanged"), "{upd}");
        let got = report(t, "2025-11-01", "2025-11-30", &["--verify"]);
        assert_eq!(got["total"], expected(&moved, NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(), NaiveDate::from_ymd_opt(2025, 11, 30).unwrap()));

        // Imported dossiers can be looked at like any other.
        let state = t.services();
        crate::support::add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
        let desk = officer(t, "tn.xa").await;
        let v = state.dossier(&desk, "EDGE-DUE-LAST").await.unwrap();
        assert_eq!(v.dossier.status, motcua_domain::dossier::Status::Resolved);
    }
}

on_both_backends! {
    async fn a_bad_file_imports_nothing(t) {
        load_fixtures(t).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.csv");
        let good = "OK-1,1.001193,000.30.01.H56,direct,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,";
        std::fs::write(&file, format!("{HEADER}\n{good}\nBAD-1,1.001193,000.30.01.H56,fax,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,\n")).unwrap();
        let o = motcua(t, &["import", "dossiers", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("line 3: channel \"fax\""), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert_eq!(dossier_count(t).await, 0);

        // Valid rows but a code given twice: the rows are written while the file is checked
        // (into the empty table, without its keys on PostgreSQL), then rolled back.
        let schema = load_schema(t).await;
        let again = good.replacen("OK-1", "OK-2", 1);
        std::fs::write(&file, format!("{HEADER}\n{good}\n{again}\n{good}\n")).unwrap();
        let o = motcua(t, &["import", "dossiers", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("line 4: code \"OK-1\" is already given on line 2"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert_eq!(dossier_count(t).await, 0);
        assert_eq!(load_schema(t).await, schema);

        // Unknown codes are errors naming their first line; --create-missing makes placeholders.
        std::fs::write(&file, format!("{HEADER}\n{good}\nNEW-1,9.999999,000.99.99.H56,online,2025-03-04T08:30:00Z,2025-03-06T08:30:00Z,2025-03-05T08:30:00Z,resolved\n")).unwrap();
        let o = motcua(t, &["import", "dossiers", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("line 3: unknown agency code \"000.99.99.H56\"") && err.contains("line 3: unknown procedure code \"9.999999\""), "{err}");
        assert_eq!(dossier_count(t).await, 0);
        let out = ok(&motcua(t, &["import", "dossiers", file.to_str().unwrap(), "--create-missing"]));
        assert!(out.contains("2 new") && out.contains("placeholders created: 1 agencies, 1 procedures"), "{out}");
        let mar = report(t, "2025-03-01", "2025-03-31", &["--by", "procedure"]);
        assert_eq!(mar["total"]["received"], 2);
        assert!(mar["rows"].as_array().unwrap().iter().any(|r| r["key"] == "9.999999"), "{mar}");

        // A code of a dossier handled here is not the import's to change.
        let state = t.services();
        crate::support::add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
        let desk = officer(t, "tn.xa").await;
        let input: motcua_service::dossiers::IntakeInput = serde_json::from_value(json!({"procedure": "1.001193", "agency": "000.30.01.H56", "channel": "direct",
            "applicant": {"kind": "person", "name": "Nguyễn Văn An", "id_number": "015093000123", "phone": "0912345678"},
            "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]})).unwrap();
        let live = state.intake(motcua_service::dossiers::Actor::Officer(&desk), input).await.map(|v| v.dossier).unwrap();
        std::fs::write(&file, format!("{HEADER}\n{},1.001193,000.30.01.H56,direct,2025-03-04T08:30:00+07:00,2025-03-05T08:30:00+07:00,,\n", live.key())).unwrap();
        let o = motcua(t, &["import", "dossiers", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("line 2:") && err.contains("handled in motcua"), "{err}");
        let o = motcua(t, &["import", "dossiers", "/nonexistent/file.csv"]);
        assert_eq!(o.status.code(), Some(2));
    }
}

/// Every index and constraint of `dossiers` and `report_counts`, as the database states
/// them (the import into an empty table drops some and builds them again).
async fn load_schema(t: &TestDb) -> Vec<String> {
    let mut defs: Vec<String> = match &t.db {
        motcua_store::Db::Sqlite { read, .. } => sqlx::query_scalar(
            "SELECT name || ': ' || COALESCE(sql, '(automatic)') FROM sqlite_master
             WHERE tbl_name IN ('dossiers', 'report_counts')",
        )
        .fetch_all(&mut *read.acquire().await.unwrap())
        .await
        .unwrap(),
        motcua_store::Db::Postgres(pg) => sqlx::query_scalar(
            "SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE tablename IN ('dossiers', 'report_counts')
             UNION ALL
             SELECT conrelid::regclass::text || '.' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conrelid IN ('dossiers'::regclass, 'report_counts'::regclass)
                OR confrelid IN ('dossiers'::regclass, 'report_counts'::regclass)",
        )
        .fetch_all(&mut *pg.read.acquire().await.unwrap())
        .await
        .unwrap(),
    };
    defs.sort();
    defs
}

fn legacy_row(
    line: u64,
    code: &str,
    outcome: motcua_domain::import::Outcome,
) -> motcua_domain::import::LegacyDossier {
    let received = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap() + Duration::microseconds(250_001);
    motcua_domain::import::LegacyDossier {
        line,
        code: code.into(),
        procedure_code: "1.001193".into(),
        agency_code: "000.30.01.H56".into(),
        channel: motcua_domain::dossier::Channel::Postal,
        received_at: received,
        due_at: Some(received + Duration::days(3)),
        finished_at: (outcome != motcua_domain::import::Outcome::InProcess)
            .then(|| received + Duration::days(2)),
        outcome,
    }
}

on_both_backends! {
    async fn an_import_into_an_empty_database_stores_every_value_and_puts_every_key_back(t) {
        use motcua_domain::import::Outcome;
        load_fixtures(t).await;
        let schema = load_schema(t).await;
        assert!(schema.iter().any(|d| d.contains("dossiers_code_key") || d.contains("sqlite_autoindex_dossiers")), "{schema:?}");

        // Two rows of one code (only a file that changed after its check could do it): the
        // import fails when the keys are built again, and leaves nothing behind.
        let twice = [legacy_row(2, "HỒ-SƠ-01", Outcome::Returned), legacy_row(3, "HỒ-SƠ-01", Outcome::Resolved)];
        let failed = motcua_store::repo::legacy::import(&t.db, &twice, false, |_, _| {}).await;
        assert!(failed.is_err(), "{failed:?}");
        assert_eq!(dossier_count(t).await, 0);
        assert_eq!(load_schema(t).await, schema, "a failed import leaves every key and index");
        let counters: i64 = match &t.db {
            motcua_store::Db::Sqlite { read, .. } => sqlx::query_scalar("SELECT COUNT(*) FROM report_counts").fetch_one(&mut *read.acquire().await.unwrap()).await.unwrap(),
            motcua_store::Db::Postgres(pg) => sqlx::query_scalar("SELECT COUNT(*) FROM report_counts").fetch_one(&mut *pg.read.acquire().await.unwrap()).await.unwrap(),
        };
        assert_eq!(counters, 0);

        // Every value a row carries is stored as given, with the fold of a Vietnamese code.
        let rows = [legacy_row(2, "HỒ-SƠ-01", Outcome::Returned), legacy_row(3, "CU-OPEN", Outcome::InProcess)];
        let before = Utc::now() - Duration::seconds(1);
        let done = motcua_store::repo::legacy::import(&t.db, &rows, false, |_, _| {}).await.unwrap();
        assert_eq!(done.inserted, 2);
        assert_eq!(load_schema(t).await, schema, "every key and index is built again");
        type Stored = (String, String, String, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, bool, String, DateTime<Utc>);
        let sql = "SELECT code, channel, status, search_text, submitted_at, received_at, original_due_at, finished_at, returned_at, imported, applicant_name, created_at
                   FROM dossiers ORDER BY code";
        let stored: Vec<Stored> = match &t.db {
            motcua_store::Db::Sqlite { read, .. } => sqlx::query_as(sql).fetch_all(&mut *read.acquire().await.unwrap()).await.unwrap(),
            motcua_store::Db::Postgres(pg) => sqlx::query_as(sql).fetch_all(&mut *pg.read.acquire().await.unwrap()).await.unwrap(),
        };
        let r = &rows[0];
        assert_eq!(stored.len(), 2);
        let open = &stored[0];
        assert_eq!((open.0.as_str(), open.2.as_str(), open.7, open.8), ("CU-OPEN", "processing", None, None));
        let ret = &stored[1];
        assert_eq!((ret.0.as_str(), ret.1.as_str(), ret.2.as_str(), ret.3.as_str()), ("HỒ-SƠ-01", "postal", "returned", "ho-so-01"));
        assert_eq!((ret.4, ret.5, ret.6, ret.7, ret.8), (Some(r.received_at), Some(r.received_at), r.due_at, r.finished_at, r.finished_at));
        assert!(ret.9 && ret.10.is_empty() && ret.11 >= before && ret.11 <= Utc::now(), "{ret:?}");

        // The counters are the recount, and the keys hold: the same code again is refused.
        let got = report(t, "1999-12-01", "2000-01-31", &["--verify"]);
        assert_eq!(got["total"]["received"], 2, "{got}");
        let again = motcua_store::repo::legacy::import(&t.db, &twice[..1], false, |_, _| {}).await.unwrap();
        assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 1));
    }
}

on_both_backends! {
    async fn an_import_in_many_chunks_updates_across_them_and_keeps_counters_exact(t) {
        load_fixtures(t).await;
        let schema = load_schema(t).await;
        // More rows than one chunk on either backend when the table holds dossiers (2,000 on
        // SQLite, 5,000 on PostgreSQL).
        let all = generate(12_000);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cu.csv");
        let first: Vec<Gen> = all[..7_000].to_vec();
        std::fs::write(&file, csv(&first)).unwrap();
        let path = file.to_str().unwrap();
        let out = ok(&motcua(t, &["import", "dossiers", path]));
        assert!(out.contains("7000 rows: 7000 new, 0 updated, 0 unchanged"), "{out}");
        assert_eq!(load_schema(t).await, schema, "keys and indexes are built again");

        // The whole file now: 5,003 new rows after 7,000 known ones, some of which moved on,
        // spread over several chunks (the first and the last row among them).
        let mut moved = all.clone();
        let mut changed = 0;
        for i in (0..7_000).step_by(97).chain([6_999]) {
            let g = &mut moved[i];
            if g.outcome.is_empty() {
                g.finished = Some(g.received + Duration::days(1));
                g.outcome = "resolved";
            } else if g.channel == "online" {
                g.channel = "postal";
            } else {
                g.channel = "online";
            }
            changed += 1;
        }
        std::fs::write(&file, csv(&moved)).unwrap();
        let out = ok(&motcua(t, &["import", "dossiers", path]));
        assert!(
            out.contains(&format!("12003 rows: 5003 new, {changed} updated, {} unchanged", 7_000 - changed)),
            "{out}"
        );
        assert_eq!(dossier_count(t).await, 12_003);
        // The counters equal the recount (--verify exits 1 otherwise) and the plain count.
        for (from, to) in [("2025-09-01", "2026-03-31"), ("2025-11-01", "2025-11-30"), ("2025-10-15", "2025-11-14"), ("2026-01-01", "2026-12-31")] {
            let f = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
            let l = NaiveDate::parse_from_str(to, "%Y-%m-%d").unwrap();
            let got = report(t, from, to, &["--verify", "--by", "procedure"]);
            assert_eq!(got["total"], expected(&moved, f, l), "{from}..{to}");
        }
        // Once more: nothing changes.
        let again = ok(&motcua(t, &["import", "dossiers", path]));
        assert!(again.contains("0 new, 0 updated, 12003 unchanged"), "{again}");

        // A repeated code is named with both lines even far apart, and nothing is written.
        let mut text = csv(&moved[..3]);
        text.push_str(&moved[0].line(7));
        text.push('\n');
        std::fs::write(&file, text).unwrap();
        let o = motcua(t, &["import", "dossiers", path]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("line 5: code \"CU-000000\" is already given on line 2"), "{err}");
    }
}

/// PostgreSQL: the first load takes its tables only if it can within a few seconds; beside a
/// session that keeps `dossiers` busy it loads row by row, and keeps every key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_load_beside_a_session_reading_dossiers_goes_row_by_row() {
    use motcua_domain::import::Outcome;
    let Some(t) = TestDb::postgres().await else { return };
    load_fixtures(&t).await;
    let schema = load_schema(&t).await;
    let motcua_store::Db::Postgres(pg) = &t.db else {
        unreachable!()
    };
    let mut reader = pg.read.acquire().await.unwrap();
    sqlx::query("BEGIN").execute(&mut *reader).await.unwrap();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dossiers")
        .fetch_one(&mut *reader)
        .await
        .unwrap();
    assert_eq!(before, 0);

    let rows = [
        legacy_row(2, "CU-BESIDE-1", Outcome::Resolved),
        legacy_row(3, "CU-BESIDE-2", Outcome::InProcess),
    ];
    let done = motcua_store::repo::legacy::import(&t.db, &rows, false, |_, _| {})
        .await
        .unwrap();
    assert_eq!(done.inserted, 2);
    assert_eq!(load_schema(&t).await, schema);
    // The reading session was never in the way of anything, and goes on.
    let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dossiers")
        .fetch_one(&mut *reader)
        .await
        .unwrap();
    assert_eq!(seen, 2);
    sqlx::query("ROLLBACK").execute(&mut *reader).await.unwrap();
    let got = report(&t, "1999-12-01", "2000-01-31", &["--verify"]);
    assert_eq!(got["total"]["received"], 2, "{got}");
}

/// A command that wrote a lot leaves no WAL behind on SQLite: on close the log is checkpointed
/// into the database file and emptied (or removed).
#[test]
fn an_import_leaves_no_sqlite_wal_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("motcua.db");
    let url = format!("sqlite://{}", db.display());
    let file = dir.path().join("cu.csv");
    std::fs::write(&file, csv(&generate(3000))).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(args)
            .args(["--database-url", &url])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    ok(&run(&["migrate"]));
    let imported = run(&["import", "dossiers", file.to_str().unwrap(), "--create-missing"]);
    let out = ok(&imported);
    assert!(out.contains("3003 rows: 3003 new"), "{out}");
    assert!(db.exists());
    let log = String::from_utf8_lossy(&imported.stderr);
    assert!(
        !log.contains("loading through the WAL"),
        "alone with the file: {log}"
    );
    let wal = dir.path().join("motcua.db-wal");
    let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(left, 0, "WAL left behind: {left} bytes");
    // Loaded alone, through a rollback journal: the file is back in WAL mode, no journal left.
    assert!(!dir.path().join("motcua.db-journal").exists());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mode: String = rt.block_on(async {
        let db = motcua_store::Db::connect(&url).await.unwrap();
        let motcua_store::Db::Sqlite { read, .. } = &db else {
            unreachable!()
        };
        let mode = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *read.acquire().await.unwrap())
            .await
            .unwrap();
        db.close().await;
        mode
    });
    assert_eq!(mode, "wal");
}

/// An import while a server has the SQLite file open goes through the WAL (the file cannot be
/// switched to a rollback journal under it), and the server reads what was imported.
#[tokio::test]
async fn an_import_beside_a_running_server_goes_through_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("motcua.db").display());
    let file = dir.path().join("cu.csv");
    std::fs::write(&file, csv(&generate(500))).unwrap();
    let server = motcua_store::Db::connect(&url).await.unwrap();
    motcua_store::migrate::run(&server).await.unwrap();
    let (url2, file2) = (url.clone(), file.clone());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(["import", "dossiers", file2.to_str().unwrap(), "--create-missing"])
            .args(["--database-url", &url2])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(ok(&out).contains("503 rows: 503 new"));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("loading through the WAL"), "{log}");
    let motcua_store::Db::Sqlite { read, .. } = &server else {
        unreachable!()
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *read.acquire().await.unwrap())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dossiers")
        .fetch_one(&mut *read.acquire().await.unwrap())
        .await
        .unwrap();
    assert_eq!(n, 503);
    server.close().await;
}

on_both_backends! {
    async fn imported_codes_of_the_live_shape_are_never_issued_again(t) {
        // A legacy dossier whose code has the live shape, of today: the next intake at that
        // agency gets a higher number.
        load_fixtures(t).await;
        let today = local_day(Utc::now()).format("%y%m%d").to_string();
        let mut row = generate(1).remove(0);
        row.code = format!("000.30.01.H56-{today}-0042");
        row.agency = "000.30.01.H56";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cu.csv");
        std::fs::write(&file, csv(&[row])).unwrap();
        ok(&motcua(t, &["import", "dossiers", file.to_str().unwrap()]));
        let seq = crate::support::scalar(
            &t.db,
            &format!("SELECT s.last_seq FROM dossier_sequences s JOIN agencies a ON a.id = s.agency_id
                      WHERE a.code = '000.30.01.H56' AND s.day = '20{}-{}-{}'", &today[..2], &today[2..4], &today[4..]),
        )
        .await;
        assert_eq!(seq, 42);
    }
}
