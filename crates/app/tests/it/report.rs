//! II.06a by recount, as an integrator runs it (`motcua report`), over dossiers made through the
//! real service at controlled instants: carried over, early, late, withdrawn, in process at
//! the end, and an instant whose UTC date differs from its local date.

use crate::support::{TestDb, add_user, load_fixtures, officer, on_both_backends};
use chrono::{NaiveDate, NaiveTime};
use motcua_domain::dossier::machine::Action;
use motcua_service::dossiers::{ActionInput, Actor, IntakeInput};
use serde_json::{Value, json};

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<chrono::Utc> {
    motcua_domain::calendar::local_instant(
        NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        NaiveTime::from_hms_opt(h, min, 0).unwrap(),
    )
}

fn report(t: &TestDb, from: &str, to: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    // The dossiers here are made at instants up to 2030: the reports are judged after them.
    let mut args = vec![
        "report",
        "--database-url",
        &t.url,
        "--from",
        from,
        "--to",
        to,
        "--as-of",
        "2031-12-31",
    ];
    args.extend_from_slice(extra);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(&args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

on_both_backends! {
    async fn the_report_recounts_every_edge(t) {
        load_fixtures(t).await;
        add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
        add_user(&t.db, "cv.xa", "000.30.01.H56", &["specialist"]).await;
        add_user(&t.db, "pd.xa", "000.30.01.H56", &["approver"]).await;
        let state = t.services();
        let (desk, cv, pd) = (officer(t, "tn.xa").await, officer(t, "cv.xa").await, officer(t, "pd.xa").await);
        let result = {
            let mut tx = t.db.begin().await.unwrap();
            let m = state.files().put(&mut tx, b"%PDF-1.4 ket qua", "kq.pdf", "application/pdf").await.unwrap();
            tx.commit().await.unwrap();
            format!("sha256:{}", m.sha256)
        };
        let body = |online: bool| -> IntakeInput {
            serde_json::from_value(json!({"procedure": "1.001193", "agency": "000.30.01.H56", "channel": if online { "online" } else { "direct" },
                "applicant": {"kind": "person", "name": "Nguyễn Văn An", "id_number": "015093000123", "phone": "0912345678"},
                "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]})).unwrap()
        };
        let finish = |key: String, at: chrono::DateTime<chrono::Utc>| {
            let (state, desk, cv, pd, result) = (&state, &desk, &cv, &pd, result.clone());
            async move {
                state.at(at).act(Actor::Officer(desk), &key, Action::Transfer, ActionInput::default()).await.map(|v| v.dossier).unwrap();
                state.at(at).act(Actor::Officer(cv), &key, Action::CompleteStep, ActionInput::default()).await.map(|v| v.dossier).unwrap();
                let input = ActionInput { file: Some(result), ..Default::default() };
                state.at(at).act(Actor::Officer(pd), &key, Action::Approve, input).await.map(|v| v.dossier).unwrap();
            }
        };
        // A: received 20 Oct (due 21 Oct), resolved 3 Nov: carried over into November, late.
        let a = state.at(local(2026, 10, 20, 9, 0)).intake(Actor::Officer(&desk), body(false)).await.map(|v| v.dossier).unwrap();
        finish(a.key(), local(2026, 11, 3, 9, 0)).await;
        // B: received Monday 2 Nov 09:00 (due Tuesday 09:00), resolved the same day: early.
        let b = state.at(local(2026, 11, 2, 9, 0)).intake(Actor::Officer(&desk), body(false)).await.map(|v| v.dossier).unwrap();
        finish(b.key(), local(2026, 11, 2, 15, 0)).await;
        // C: online, accepted Friday 27 Nov 16:00, due Monday 30 Nov 16:00, unfinished: within time.
        let c = state.at(local(2026, 11, 27, 15, 0)).intake(Actor::Officer(&desk), body(true)).await.map(|v| v.dossier).unwrap();
        state.at(local(2026, 11, 27, 16, 0)).act(Actor::Officer(&desk), &c.key(), Action::Accept, ActionInput::default()).await.map(|v| v.dossier).unwrap();
        // D: received 4 Nov, withdrawn 10 Nov: resolved on time whatever its due.
        let d = state.at(local(2026, 11, 4, 9, 0)).intake(Actor::Officer(&desk), body(false)).await.map(|v| v.dossier).unwrap();
        let reason = ActionInput { note: "Công dân rút".into(), ..Default::default() };
        state.at(local(2026, 11, 10, 9, 0)).act(Actor::Officer(&desk), &d.key(), Action::Withdraw, reason).await.map(|v| v.dossier).unwrap();
        // E: received 12 Nov (due 13 Nov), unfinished: overdue at the end of November.
        state.at(local(2026, 11, 12, 9, 0)).intake(Actor::Officer(&desk), body(false)).await.map(|v| v.dossier).unwrap();
        // F: 30 Nov 23:30 local is 16:30 UTC on 30 Nov, but the desk opens 1 Dec: December's.
        state.at(local(2026, 11, 30, 23, 30)).intake(Actor::Officer(&desk), body(false)).await.map(|v| v.dossier).unwrap();
        // G: refused online submission: never counted.
        let g = state.at(local(2026, 11, 5, 9, 0)).intake(Actor::Officer(&desk), body(true)).await.map(|v| v.dossier).unwrap();
        let refuse = ActionInput { note: "Sai thẩm quyền".into(), ..Default::default() };
        state.at(local(2026, 11, 5, 10, 0)).act(Actor::Officer(&desk), &g.key(), Action::Refuse, refuse).await.map(|v| v.dossier).unwrap();

        let nov: Value = serde_json::from_str(&report(t, "2026-11-01", "2026-11-30", &[])).unwrap();
        let total = &nov["total"];
        let expect = json!({"received": 5, "received_online": 1, "received_direct": 3, "carried_over": 1, "resolved": 3,
            "early": 1, "on_time": 1, "late": 1, "in_process": 2, "within_time": 1, "overdue": 1});
        assert_eq!(total, &expect, "{nov}");
        assert_eq!(nov["rows"][0]["key"], "HT");
        assert_eq!(nov["rows"][0]["name"], "Hộ tịch");
        // The counters (the default path) equal a recount over every period touched here.
        for (from, to) in [("2026-10-01", "2026-10-31"), ("2026-11-01", "2026-11-30"), ("2026-11-15", "2026-12-14"), ("2026-11-03", "2026-11-03"), ("2026-01-01", "2027-12-31")] {
            report(t, from, to, &["--verify", "--by", "agency"]);
        }
        let oct: Value = serde_json::from_str(&report(t, "2026-10-01", "2026-10-31", &[])).unwrap();
        assert_eq!(oct["total"]["in_process"], nov["total"]["carried_over"], "column 6 = previous column 11");
        let dec: Value = serde_json::from_str(&report(t, "2026-12-01", "2026-12-31", &["--by", "agency"])).unwrap();
        assert_eq!(dec["total"]["carried_over"], nov["total"]["in_process"]);
        assert_eq!(dec["total"]["received_direct"], 1, "the after-hours intake is December's");
        // By agency, rows roll up: the province row includes its commune's dossiers.
        let codes: Vec<&str> = dec["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
        assert_eq!(codes, vec!["000.00.00.H56", "000.30.01.H56"]);
        assert_eq!(dec["rows"][0]["received"], dec["rows"][1]["received"]);
        assert_eq!(dec["rows"][1]["parent"], "000.00.00.H56");
        assert!(dec["rows"][0].get("parent").is_none());
        let csv = report(t, "2026-11-01", "2026-11-30", &["--format", "csv", "--by", "procedure"]);
        assert!(csv.starts_with('\u{feff}'), "a BOM for spreadsheets");
        let mut lines = csv.trim_start_matches('\u{feff}').lines();
        assert!(lines.next().unwrap().starts_with("key,name,received,received_online"));
        assert!(lines.next().unwrap().starts_with("1.001193,Đăng ký khai sinh,5,1,3,1,3,1,1,1,2,1,1"));
        // XLSX laid out like the form, read back.
        let out = tempfile::tempdir().unwrap();
        let file = out.path().join("ii06a.xlsx");
        report(t, "2026-11-01", "2026-11-30", &["--format", "xlsx", "--out", file.to_str().unwrap()]);
        {
            use calamine::{Reader, Xlsx, open_workbook};
            let mut wb: Xlsx<_> = open_workbook(&file).unwrap();
            let sheet = wb.worksheet_range("II.06a").unwrap();
            let text = |r: u32, c: u32| sheet.get_value((r, c)).map(|v| v.to_string()).unwrap_or_default();
            assert_eq!(text(0, 0), "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH");
            assert!(text(1, 0).contains("01/11/2026") && text(1, 0).contains("30/11/2026"));
            assert_eq!(text(3, 2), "Số hồ sơ nhận giải quyết");
            assert_eq!(text(3, 6), "Số hồ sơ đã giải quyết");
            assert_eq!(text(3, 10), "Số hồ sơ đang giải quyết");
            assert_eq!(text(6, 12), "(13)");
            assert_eq!(text(7, 1), "Hộ tịch");
            assert_eq!(text(8, 1), "Tổng cộng");
            let totals: Vec<String> = (2..13).map(|c| text(8, c)).collect();
            assert_eq!(totals, ["5", "1", "3", "1", "3", "1", "1", "1", "2", "1", "1"]);
            let merged = wb.merge_cells_by_sheet_name("II.06a").unwrap();
            assert!(merged.len() >= 15, "{merged:?}");
        }
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(["report", "--database-url", &t.url, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "xlsx needs --out");

        // March 2030 (a period that ends after today whenever this runs): H waits for a supplement
        // asked after its due, so it counts within time; I's pause moved its legal due, so
        // finishing after the first due is still early. Counters follow both (--verify).
        let h = state.at(local(2030, 3, 4, 9, 0)).intake(Actor::Officer(&desk), body(false)).await.map(|v| v.dossier).unwrap();
        state.at(local(2030, 3, 4, 10, 0)).act(Actor::Officer(&desk), &h.key(), Action::Transfer, ActionInput::default()).await.map(|v| v.dossier).unwrap();
        let ask = ActionInput { note: "Thiếu giấy chứng sinh".into(), ..Default::default() };
        state.at(local(2030, 3, 6, 9, 0)).act(Actor::Officer(&cv), &h.key(), Action::RequestSupplement, ask.clone()).await.map(|v| v.dossier).unwrap();
        let i = state.at(local(2030, 3, 11, 9, 0)).intake(Actor::Officer(&desk), body(false)).await.map(|v| v.dossier).unwrap();
        state.at(local(2030, 3, 11, 9, 30)).act(Actor::Officer(&desk), &i.key(), Action::Transfer, ActionInput::default()).await.map(|v| v.dossier).unwrap();
        state.at(local(2030, 3, 11, 10, 0)).act(Actor::Officer(&cv), &i.key(), Action::RequestSupplement, ask).await.map(|v| v.dossier).unwrap();
        state.at(local(2030, 3, 13, 9, 0)).act(Actor::Officer(&desk), &i.key(), Action::ReceiveSupplement, ActionInput::default()).await.map(|v| v.dossier).unwrap();
        state.at(local(2030, 3, 13, 10, 0)).act(Actor::Officer(&cv), &i.key(), Action::CompleteStep, ActionInput::default()).await.map(|v| v.dossier).unwrap();
        let input = ActionInput { file: Some(result.clone()), ..Default::default() };
        state.at(local(2030, 3, 13, 15, 0)).act(Actor::Officer(&pd), &i.key(), Action::Approve, input).await.map(|v| v.dossier).unwrap();
        let mar: Value = serde_json::from_str(&report(t, "2030-03-01", "2030-03-31", &["--verify"])).unwrap();
        // C, E and F from 2026 are still open, long overdue, and carried over.
        assert_eq!(mar["total"], json!({"received": 5, "received_online": 0, "received_direct": 2, "carried_over": 3, "resolved": 1,
            "early": 1, "on_time": 0, "late": 0, "in_process": 4, "within_time": 1, "overdue": 3}), "{mar}");

        // Counters that drifted from the dossiers fail --verify (exit 1, each difference named);
        // --rebuild makes them whole again.
        {
            let mut tx = t.db.begin().await.unwrap();
            match &mut tx {
                motcua_store::Tx::Sqlite(c) => { sqlx::query("UPDATE report_counts SET n = n + 1 WHERE metric = 1").execute(&mut **c).await.unwrap(); }
                motcua_store::Tx::Postgres(c) => { sqlx::query("UPDATE report_counts SET n = n + 1 WHERE metric = 1").execute(&mut **c).await.unwrap(); }
            }
            tx.commit().await.unwrap();
        }
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(["report", "--database-url", &t.url, "--from", "2026-11-01", "--to", "2026-11-30", "--verify"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("TOTAL received_online: counters 2, recount 1"), "{err}");
        report(t, "2026-11-01", "2026-11-30", &["--rebuild", "--verify"]);
        assert_eq!(serde_json::from_str::<Value>(&report(t, "2026-11-01", "2026-11-30", &[])).unwrap()["total"], expect);

        // Another agency's subtree has nothing.
        let other: Value = serde_json::from_str(&report(t, "2026-11-01", "2026-11-30", &["--agency", "000.00.10.H56"])).unwrap();
        assert_eq!(other["total"]["received"], 0);

        // The JSON API gives the same figures, within what the caller may see.
        add_user(&t.db, "cv.xd", "000.00.10.H56", &["specialist"]).await;
        let app = crate::support::TestApp::spawn(t).await;
        let url = "/api/v1/reports/ii06a?from=2026-11-01&to=2026-11-30";
        let mine = app.token("tn.xa").await;
        let got: Value = app.client.get(app.url(url)).bearer_auth(&mine).send().await.unwrap().json().await.unwrap();
        assert_eq!(got["total"], expect);
        assert_eq!(got["rows"][0]["key"], "HT");
        // Every number opens onto the dossiers behind it: as many as the number says.
        for column in ["received", "carried_over", "late", "overdue", "within_time", "on_time"] {
            let list: Value = app.client.get(app.url(&format!("/api/v1/reports/ii06a/dossiers?from=2026-11-01&to=2026-11-30&by=field&key=HT&column={column}")))
                .bearer_auth(&mine).send().await.unwrap().json().await.unwrap();
            assert_eq!(list.as_array().unwrap().len() as i64, expect[column].as_i64().unwrap(), "{column}: {list}");
        }
        let late: Value = app.client.get(app.url("/api/v1/reports/ii06a/dossiers?from=2026-11-01&to=2026-11-30&column=late"))
            .bearer_auth(&mine).send().await.unwrap().json().await.unwrap();
        assert_eq!(late[0]["code"], a.key().as_str(), "{late}");
        let on_time: Value = app.client.get(app.url("/api/v1/reports/ii06a/dossiers?from=2026-11-01&to=2026-11-30&column=on_time"))
            .bearer_auth(&mine).send().await.unwrap().json().await.unwrap();
        assert_eq!(on_time[0]["code"], d.key().as_str(), "the withdrawn dossier counts on time");
        let res = app.client.get(app.url("/api/v1/reports/ii06a/dossiers?from=2026-11-01&to=2026-11-30&column=colour"))
            .bearer_auth(&mine).send().await.unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST);
        let theirs = app.token("cv.xd").await;
        let got: Value = app.client.get(app.url(url)).bearer_auth(&theirs).send().await.unwrap().json().await.unwrap();
        assert_eq!(got["total"]["received"], 0, "another agency's officer sees none of it");
        let res = app.client.get(app.url(&format!("{url}&agency=000.30.01.H56"))).bearer_auth(&theirs).send().await.unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::FORBIDDEN);
        assert_eq!(app.get(url).await.status(), reqwest::StatusCode::UNAUTHORIZED);
        for bad in ["from=2026-11-31&to=2026-12-01", "from=2026-12-01&to=2026-11-01", "from=2026-11-01&to=2026-11-30&by=colour"] {
            let res = app.client.get(app.url(&format!("/api/v1/reports/ii06a?{bad}"))).bearer_auth(&mine).send().await.unwrap();
            assert_eq!(res.status(), reqwest::StatusCode::BAD_REQUEST, "{bad}");
        }
    }
}

#[test]
fn bad_report_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["report", "--from", "2026-11-31", "--to", "2026-12-01"][..],
        &["report", "--from", "2026-12-01", "--to", "2026-11-01"],
        &[
            "report",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--by",
            "color",
        ],
        &[
            "report",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--agency",
            "9.9.9",
        ],
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("MOTCUA_DATABASE_URL")
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// Legacy rows over three years (so every report has whole years before it), in agencies at
/// three levels of the tree, for both procedures, from a fixed seed.
fn spread_csv(n: usize) -> String {
    use chrono::{Duration, TimeZone, Utc};
    let mut seed: u64 = 0x0a11_2025;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let base = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
    // A unit below a department below the province, departments, communes, the root itself.
    let agencies = [
        "000.06.01.H56",
        "000.00.06.H56",
        "000.00.10.H56",
        "000.30.01.H56",
        "000.30.02.H56",
        "000.00.00.H56",
    ];
    let procedures = ["1.009972", "1.001193"];
    let channels = ["direct", "online", "postal"];
    let mut s =
        String::from("code,procedure_code,agency_code,channel,received_at,due_at,finished_at,outcome\n");
    for i in 0..n {
        let received = base + Duration::minutes(next(900 * 24 * 60) as i64);
        let due = received + Duration::hours(next(40 * 24) as i64 + 1);
        let (finished, outcome) = match next(10) {
            0 | 1 => (None, ""),
            2 => (Some(received + Duration::hours(next(24) as i64)), "refused"),
            3 => (Some(received + Duration::hours(next(300) as i64)), "withdrawn"),
            4 => (Some(due + Duration::minutes(next(60) as i64)), "resolved"),
            5 | 6 => (Some(received + Duration::hours(next(90 * 24) as i64)), "returned"),
            _ => (Some(received + Duration::hours(next(60 * 24) as i64)), "resolved"),
        };
        let t = |x: Option<chrono::DateTime<Utc>>| x.map(|x| x.to_rfc3339()).unwrap_or_default();
        s.push_str(&format!(
            "SPREAD-{i:05},{},{},{},{},{},{},{}\n",
            procedures[next(2) as usize],
            agencies[next(agencies.len() as u64) as usize],
            channels[next(3) as usize],
            t(Some(received)),
            t(Some(due)),
            t(finished),
            outcome
        ));
    }
    s
}

on_both_backends! {
    async fn rows_summed_by_the_database_equal_the_recount(t) {
        use motcua_domain::report::Period;
        use motcua_store::repo::{agencies, report::{self, By}};
        load_fixtures(t).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("spread.csv");
        std::fs::write(&file, spread_csv(1500)).unwrap();
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(["import", "dossiers", file.to_str().unwrap(), "--database-url", &t.url])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));

        let tree = report::tree(&t.db).await.unwrap();
        let all: Vec<i64> = agencies::list(&t.db).await.unwrap().iter().map(|a| a.id).collect();
        let department = agencies::subtree_ids(&t.db, "000.00.06.H56").await.unwrap();
        assert_eq!(department.len(), 2, "the department and its unit");
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let periods = [
            ("2025-01-01", "2025-12-31"), // a year: whole years only
            ("2024-01-01", "2024-12-31"), // nothing before it
            ("2025-11-01", "2025-11-30"), // a month: both ends read the same year's months
            ("2025-03-01", "2026-06-30"), // the ends' months in different years
            ("2025-10-15", "2026-02-14"), // cut-off months: days at both ends
            ("2025-06-10", "2025-06-20"), // days of one month at both ends
            ("2025-12-31", "2025-12-31"), // one day ending a year
            ("2026-01-01", "2026-01-01"), // one day starting a year
            ("2024-02-29", "2026-09-03"),
            ("2026-01-01", "2035-12-31"), // ends after today (pauses are read)
        ];
        let mut nonzero = 0;
        for (from, to) in periods {
            let period = Period::new(d(from), d(to)).unwrap();
            for scope in [None, Some(&all[..]), Some(&department[..]), Some(&[][..])] {
                let counted = report::counted(&t.db, period.from, period.to, scope).await.unwrap();
                let per_pair = report::fast(&t.db, &period, scope).await.unwrap();
                for by in [By::Field, By::Procedure, By::Agency] {
                    let recount = report::group(&counted, &period, by, &tree).unwrap();
                    let pairs = report::group_rows(per_pair.iter().map(|(k, r)| (k, *r)), by, &tree).unwrap();
                    let summed = report::fast_by(&t.db, &period, scope, by).await.unwrap();
                    let got = report::group_rows(summed.iter().map(|(k, r)| (k, *r)), by, &tree).unwrap();
                    assert_eq!(got, recount, "{from}..{to} {by:?} {scope:?}");
                    assert_eq!(pairs, recount, "{from}..{to} {by:?} {scope:?} per (agency, procedure)");
                    // The database sums to one row per agency or per procedure.
                    let per = |k: &report::Keys| match by {
                        By::Agency => k.agency_code.clone(),
                        _ => k.procedure_code.clone(),
                    };
                    let mut keys: Vec<String> = summed.iter().map(|(k, _)| per(k)).collect();
                    keys.dedup();
                    assert_eq!(keys.len(), summed.len(), "{from}..{to} {by:?}");
                    nonzero += usize::from(recount.1.received > 0);
                }
            }
        }
        assert!(nonzero > 60, "the periods hold dossiers: {nonzero}");

        // By agency, every ancestor's row is its whole subtree: the province row is the total,
        // the department's row includes its unit's.
        let year = Period::new(d("2025-01-01"), d("2025-12-31")).unwrap();
        let summed = report::fast_by(&t.db, &year, None, By::Agency).await.unwrap();
        let (rows, total) = report::group_rows(summed.iter().map(|(k, r)| (k, *r)), By::Agency, &tree).unwrap();
        let row = |code: &str| rows.iter().find(|r| r.key == code).unwrap_or_else(|| panic!("{code}: {rows:?}")).clone();
        assert_eq!(row("000.00.00.H56").row, total);
        let (dept, unit) = (row("000.00.06.H56"), row("000.06.01.H56"));
        assert!(dept.row.received > unit.row.received && unit.row.received > 0, "{dept:?} {unit:?}");
        assert_eq!(unit.parent.as_deref(), Some("000.00.06.H56"));

        // The API (an administrator: every agency) gives the recount, by agency and by field.
        add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
        let app = crate::support::TestApp::spawn(t).await;
        let token = app.token("quantri").await;
        let counted = report::counted(&t.db, year.from, year.to, None).await.unwrap();
        for by in [By::Agency, By::Field, By::Procedure] {
            let (rows, total) = report::group(&counted, &year, by, &tree).unwrap();
            let name = motcua_service::reports::by_name(by);
            let got: Value = app.client.get(app.url(&format!("/api/v1/reports/ii06a?from=2025-01-01&to=2025-12-31&by={name}")))
                .bearer_auth(&token).send().await.unwrap().json().await.unwrap();
            assert_eq!(got["rows"], serde_json::to_value(&rows).unwrap(), "{name}");
            assert_eq!(got["total"], serde_json::to_value(total).unwrap(), "{name}");
        }
    }
}

on_both_backends! {
    async fn a_month_not_yet_ended_counts_overdue_as_of_today(t) {
        // Received on 2 November, due within days: November's report on the 2nd has it in
        // process within time (judged at 30 November it would be overdue already), and says
        // it is as of the 2nd; once November has ended, it is overdue.
        load_fixtures(t).await;
        add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
        add_user(&t.db, "ld.xa", "000.30.01.H56", &["leader"]).await;
        let on = |at| t.services().with_clock(std::sync::Arc::new(motcua_service::FixedClock(at)));
        let nov2 = on(local(2026, 11, 2, 9, 0));
        let body: IntakeInput = serde_json::from_value(json!({"procedure": "1.001193", "agency": "000.30.01.H56", "channel": "direct",
            "applicant": {"kind": "person", "name": "Nguyễn Văn An", "id_number": "015093000123"},
            "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]})).unwrap();
        let v = nov2.intake(Actor::Officer(&officer(t, "tn.xa").await), body).await.unwrap();
        let due = motcua_domain::calendar::local_date(v.dossier.due_at.unwrap());
        assert!(due < NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(), "due {due}");
        for (clock, within, overdue, as_of) in [(nov2, 1, 0, json!("2026-11-02")), (on(local(2026, 12, 7, 9, 0)), 0, 1, Value::Null)] {
            let app = crate::support::TestApp::serve(clock, t.web_config()).await;
            let token = app.token("ld.xa").await;
            let res = app.client.get(app.url("/api/v1/reports/ii06a?from=2026-11-01&to=2026-11-30")).bearer_auth(&token).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let r: Value = res.json().await.unwrap();
            assert_eq!((r["total"]["within_time"].as_i64(), r["total"]["overdue"].as_i64()), (Some(within), Some(overdue)), "{r}");
            assert_eq!(r["as_of"], as_of);
        }
    }
}
