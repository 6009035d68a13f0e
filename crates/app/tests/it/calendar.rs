//! Legal time as users see it: the calendar API (public reads, admin-only writes), the admin
//! page, and `motcua calendar …` on the command line.

use crate::support::{TestApp, add_user, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn due(app: &TestApp, received: &str, limit: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/v1/calendar/due"))
        .json(&json!({"received": received, "limit": limit}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["due"].as_str().unwrap().to_string()
}

on_both_backends! {
    async fn the_year_calendar_lists_rule_holidays(t) {
        let app = TestApp::spawn(t).await;
        let body: Value = app.get("/api/v1/calendar/2026").await.json().await.unwrap();
        assert_eq!(body["year"], 2026);
        let days = body["days"].as_array().unwrap();
        let find = |d: &str| days.iter().find(|x| x["date"] == d).cloned();
        assert_eq!(find("2026-11-24").unwrap()["kind"], "holiday", "Vietnam Culture Day from 2026");
        assert_eq!(find("2026-02-17").unwrap()["name"], "Tết Nguyên đán");
        assert_eq!(find("2026-04-27").unwrap()["kind"], "compensatory");
        assert!(body["working_days"].as_u64().unwrap() > 240);

        let res = app.get("/api/v1/calendar/1800").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        assert_eq!(app.get("/api/v1/calendar/abc").await.status(), StatusCode::BAD_REQUEST);
    }

    async fn due_instants_follow_the_legal_clock(t) {
        let app = TestApp::spawn(t).await;
        // Monday 10:00 + 1 working day = Tuesday 10:00.
        assert_eq!(due(&app, "2026-11-02T10:00:00+07:00", "1 working-days").await, "2026-11-03T10:00:00+07:00");
        // The same instant given in UTC.
        assert_eq!(due(&app, "2026-11-02T03:00:00Z", "1 working-days").await, "2026-11-03T10:00:00+07:00");
        // Received on the 2 September holiday: the clock starts Thursday 07:00.
        assert_eq!(due(&app, "2026-09-01T10:00:00+07:00", "3 working-days").await, "2026-09-07T17:00:00+07:00");
        // Half a day from opening.
        assert_eq!(due(&app, "2026-11-02T07:00:00+07:00", "0.5 working-days").await, "2026-11-02T11:00:00+07:00");

        for (body, status) in [
            (json!({"received": "yesterday", "limit": "1 working-days"}), StatusCode::UNPROCESSABLE_ENTITY),
            (json!({"received": "2026-11-02T10:00:00+07:00", "limit": "3 weeks"}), StatusCode::UNPROCESSABLE_ENTITY),
            (json!({"received": "2026-11-02T10:00:00+07:00", "limit": "-1 working-days"}), StatusCode::UNPROCESSABLE_ENTITY),
            (json!({"received": "2026-11-02T10:00:00+07:00"}), StatusCode::UNPROCESSABLE_ENTITY),
            (json!({"received": "2026-11-02T10:00:00+07:00", "limit": "1 days", "agency": "no.such.agency"}), StatusCode::UNPROCESSABLE_ENTITY),
        ] {
            let res = app.client.post(app.url("/api/v1/calendar/due")).json(&body).send().await.unwrap();
            assert_eq!(res.status(), status, "{body}");
            assert_eq!(res.headers()["content-type"], "application/problem+json");
        }
        let res = app.client.post(app.url("/api/v1/calendar/due")).header("content-type", "application/json").body("{not json").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }

    async fn only_administrators_write_overrides(t) {
        add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
        add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer"]).await;
        let app = TestApp::spawn(t).await;
        let url = app.url("/api/v1/calendar/overrides/2026-11-07");
        let body = json!({"kind": "workday", "name": "Làm bù"});

        let res = app.client.put(&url).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let res = app.client.put(&url).bearer_auth("not-a-token").json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let officer = app.token("tiepnhan").await;
        let res = app.client.put(&url).bearer_auth(&officer).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.client.delete(&url).bearer_auth(&officer).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.client.post(app.url("/api/v1/calendar/overrides/import")).bearer_auth(&officer).body("date,kind,name\n").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // Friday 10:00 + 1 working day: Monday 10:00 normally…
        assert_eq!(due(&app, "2026-11-06T10:00:00+07:00", "1 working-days").await, "2026-11-09T10:00:00+07:00");
        let admin = app.token("quantri").await;
        let res = app.client.put(&url).bearer_auth(&admin).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        // …Saturday 10:00 once Saturday 7 November is a make-up working day.
        assert_eq!(due(&app, "2026-11-06T10:00:00+07:00", "1 working-days").await, "2026-11-07T10:00:00+07:00");
        let cal: Value = app.get("/api/v1/calendar/2026").await.json().await.unwrap();
        assert!(cal["days"].as_array().unwrap().iter().any(|d| d["date"] == "2026-11-07" && d["kind"] == "workday"));

        let res = app.client.delete(&url).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(due(&app, "2026-11-06T10:00:00+07:00", "1 working-days").await, "2026-11-09T10:00:00+07:00");
        let res = app.client.delete(&url).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        let res = app.client.put(app.url("/api/v1/calendar/overrides/2026-02-30")).bearer_auth(&admin).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = app.client.put(&url).bearer_auth(&admin).json(&json!({"kind": "holiday"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn csv_import_is_all_or_nothing_with_line_numbers(t) {
        add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
        let app = TestApp::spawn(t).await;
        let admin = app.token("quantri").await;
        let import = |body: &'static str| {
            app.client.post(app.url("/api/v1/calendar/overrides/import")).bearer_auth(&admin).header("content-type", "text/csv").body(body).send()
        };
        let res = import("date,kind,name\n2027-02-06,workday,Làm bù Tết\n2027-02-13,nghi,x\n2027-13-01,day_off,y\n").await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = res.json().await.unwrap();
        let lines: Vec<u64> = body["errors"].as_array().unwrap().iter().map(|e| e["line"].as_u64().unwrap()).collect();
        assert_eq!(lines, vec![3, 4]);
        let stored: Value = app.get("/api/v1/calendar/overrides").await.json().await.unwrap();
        assert_eq!(stored, json!([]), "nothing imported from a bad file");

        let res = import("date,kind,name\n2027-02-06,workday,\"Làm bù Tết, thứ Bảy\"\n2027-02-15,day_off,Nghỉ thêm\n").await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        // Idempotent: the same file again changes nothing.
        assert_eq!(import("date,kind,name\n2027-02-06,workday,\"Làm bù Tết, thứ Bảy\"\n2027-02-15,day_off,Nghỉ thêm\n").await.unwrap().status(), StatusCode::OK);
        let stored: Value = app.get("/api/v1/calendar/overrides").await.json().await.unwrap();
        assert_eq!(stored.as_array().unwrap().len(), 2);
        assert_eq!(stored[0]["name"], "Làm bù Tết, thứ Bảy");
    }

    async fn the_admin_calendar_page_edits_overrides(t) {
        add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
        add_user(&t.db, "chuyenvien", "000.00.06.H56", &["specialist"]).await;
        let app = TestApp::spawn(t).await;

        let res = app.get("/admin/calendar").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(res.headers()["location"].to_str().unwrap().starts_with("/login?next="));

        let (officer, _) = app.browser_login("chuyenvien").await;
        let res = app.client.get(app.url("/admin/calendar")).header("cookie", &officer).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        let (cookie, csrf) = app.browser_login("quantri").await;
        let res = app.client.get(app.url("/admin/calendar?year=2026")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("Lịch làm việc năm 2026"));
        assert!(html.contains("Ngày Văn hóa Việt Nam"));

        let form = [("csrf", csrf.as_str()), ("date", "2026-12-26"), ("kind", "workday"), ("name", "Làm bù cuối năm")];
        let res = app.client.post(app.url("/admin/calendar/overrides")).header("cookie", &cookie).form(&form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = app.client.get(app.url("/admin/calendar?year=2026&saved=1")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Làm bù cuối năm"));
        assert!(html.contains("Đã lưu"));

        // Without the CSRF token nothing changes.
        let res = app.client.post(app.url("/admin/calendar/overrides")).header("cookie", &cookie)
            .form(&[("csrf", "forged"), ("date", "2026-12-19"), ("kind", "workday"), ("name", "x")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // Bad input re-renders the form with an error summary.
        let res = app.client.post(app.url("/admin/calendar/overrides")).header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("date", "2026-02-31"), ("kind", "workday"), ("name", "")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("error-summary"));

        let res = app.client.post(app.url("/admin/calendar/overrides/2026-12-26/delete")).header("cookie", &cookie).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let stored: Value = app.get("/api/v1/calendar/overrides").await.json().await.unwrap();
        assert_eq!(stored, json!([]));

        // Logging out ends the session.
        let res = app.client.post(app.url("/logout")).header("cookie", &cookie).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = app.client.get(app.url("/admin/calendar")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn a_wrong_password_does_not_sign_in() {
    let t = crate::support::TestDb::sqlite().await;
    add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
    let app = TestApp::spawn(&t).await;
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "quantri", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "nobody", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let text = res.text().await.unwrap();
    assert!(!text.contains("argon2"), "{text}");
}

mod cli {
    use std::path::Path;
    use std::process::{Command, Output};

    const BIN: &str = env!("CARGO_BIN_EXE_motcua");

    fn motcua(dir: &Path, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(dir)
            .env_remove("MOTCUA_DATABASE_URL")
            .env_remove("MOTCUA_DATA_DIR")
            .output()
            .expect("run motcua")
    }

    fn stdout(o: &Output) -> String {
        assert_eq!(
            o.status.code(),
            Some(0),
            "stderr: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout.clone()).unwrap()
    }

    fn usage_error(o: &Output) -> String {
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "stderr: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        err
    }

    #[test]
    fn holidays_as_json_work_without_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let out = stdout(&motcua(
            dir.path(),
            &["calendar", "holidays", "2025", "--format", "json"],
        ));
        let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
        let rows = rows.as_array().unwrap();
        let dates: Vec<&str> = rows.iter().map(|r| r["date"].as_str().unwrap()).collect();
        let mut sorted = dates.clone();
        sorted.sort();
        assert_eq!(dates, sorted, "sorted by date");
        // 2 September 2025 is a Tuesday, so Monday 1 September joins the weekend.
        assert!(
            rows.iter()
                .any(|r| r["date"] == "2025-09-01" && r["kind"] == "holiday")
        );
        assert!(
            rows.iter()
                .all(|r| r.as_object().unwrap().len() == 3 && r["name"].is_string())
        );
        assert!(
            !rows.iter().any(|r| r["date"] == "2025-11-24"),
            "Culture Day starts in 2026"
        );
        assert!(
            !dir.path().join("motcua-data").exists(),
            "a read must not create a database"
        );
        let text = stdout(&motcua(dir.path(), &["calendar", "holidays", "2025"]));
        assert!(text.contains("Tết Nguyên đán"));
    }

    #[test]
    fn due_lunar_and_solar_print_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(
            stdout(&motcua(
                d,
                &[
                    "calendar",
                    "due",
                    "--received",
                    "2026-11-02T10:00:00+07:00",
                    "--limit",
                    "1 working-days"
                ]
            )),
            "2026-11-03T10:00:00+07:00\n"
        );
        // After closing: the clock starts at the next opening.
        assert_eq!(
            stdout(&motcua(
                d,
                &[
                    "calendar",
                    "due",
                    "--received",
                    "2026-11-06T18:30:00+07:00",
                    "--limit",
                    "4 working-hours"
                ]
            )),
            "2026-11-09T11:00:00+07:00\n"
        );
        // 10 calendar days landing on Sunday move to Monday.
        assert_eq!(
            stdout(&motcua(
                d,
                &[
                    "calendar",
                    "due",
                    "--received",
                    "2026-11-05T09:00:00+07:00",
                    "--limit",
                    "10 days"
                ]
            )),
            "2026-11-16T09:00:00+07:00\n"
        );
        assert_eq!(
            stdout(&motcua(d, &["calendar", "lunar", "2026-02-17"])),
            "2026-01-01\n"
        );
        assert_eq!(
            stdout(&motcua(d, &["calendar", "lunar", "2025-07-25"])),
            "2025-06-01 leap\n"
        );
        assert_eq!(
            stdout(&motcua(d, &["calendar", "solar", "2025-06-01", "--leap"])),
            "2025-07-25\n"
        );
        assert_eq!(
            stdout(&motcua(d, &["calendar", "solar", "2025-06-01"])),
            "2025-06-25\n"
        );
    }

    #[test]
    fn bad_calendar_input_is_one_line_and_exit_2() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for args in [
            &["calendar", "lunar", "2026-02-30"][..],
            &["calendar", "solar", "2024-06-01", "--leap"],
            &["calendar", "holidays", "1899"],
            &["calendar", "holidays", "năm"],
            &[
                "calendar",
                "due",
                "--received",
                "2026-11-02 10:00",
                "--limit",
                "1 working-days",
            ],
            &[
                "calendar",
                "due",
                "--received",
                "2026-11-02T10:00:00+07:00",
                "--limit",
                "1 fortnights",
            ],
            &[
                "calendar",
                "due",
                "--received",
                "2026-11-02T10:00:00+07:00",
                "--limit",
                "-2 days",
            ],
            &[
                "calendar",
                "due",
                "--received",
                "2300-01-01T10:00:00+07:00",
                "--limit",
                "1 days",
            ],
        ] {
            let err = usage_error(&motcua(d, args));
            assert!(err.starts_with("motcua: error:"), "{args:?}: {err}");
        }
    }

    #[test]
    fn import_is_all_or_nothing_and_changes_the_effective_calendar() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("bad.csv"),
            "date,kind,name\n2026-11-07,workday,Làm bù\n2026-11-08,nghỉ,x\n",
        )
        .unwrap();
        let err = usage_error(&motcua(d, &["calendar", "import", "bad.csv"]));
        assert!(err.contains("line 3"), "{err}");
        std::fs::write(
            d.join("ok.csv"),
            "date,kind,name\n2026-11-07,workday,Làm bù\n2026-11-24,remove,\n",
        )
        .unwrap();
        let out = stdout(&motcua(d, &["calendar", "import", "ok.csv"]));
        assert!(out.contains("imported 2"), "{out}");
        let json = stdout(&motcua(d, &["calendar", "holidays", "2026", "--format", "json"]));
        let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
        let rows = rows.as_array().unwrap();
        assert!(
            rows.iter()
                .any(|r| r["date"] == "2026-11-07" && r["kind"] == "workday")
        );
        assert!(!rows.iter().any(|r| r["date"] == "2026-11-24"));
        // The override now moves deadlines: Friday + 1 day lands on the worked Saturday.
        assert_eq!(
            stdout(&motcua(
                d,
                &[
                    "calendar",
                    "due",
                    "--received",
                    "2026-11-06T10:00:00+07:00",
                    "--limit",
                    "1 working-days"
                ]
            )),
            "2026-11-07T10:00:00+07:00\n"
        );
        let err = usage_error(&motcua(d, &["calendar", "import", "missing.csv"]));
        assert!(err.contains("cannot read"), "{err}");
    }
}
