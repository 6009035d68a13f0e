//! The report and dashboard pages as an officer sees them: II.06a with every number opening
//! onto exactly that many dossiers, the same figures as the JSON API, CSV / XLSX / JSON
//! downloads, the print view, and the dashboard's charts, lists and workloads — within what the
//! officer may see, on both backends.

use crate::support::{TestApp, TestDb, add_user, load_fixtures, officer, on_both_backends};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use motcua_domain::dossier::machine::Action;
use motcua_service::dossiers::{ActionInput, Actor, IntakeInput};
use reqwest::StatusCode;
use serde_json::{Value, json};

const COMMUNE: &str = "000.30.01.H56";
const OTHER: &str = "000.00.10.H56";
const OCTOBER: &str = "from=2026-10-01&to=2026-10-31";

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    motcua_domain::calendar::local_instant(
        NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        NaiveTime::from_hms_opt(h, min, 0).unwrap(),
    )
}

fn intake(online: bool) -> IntakeInput {
    serde_json::from_value(json!({"procedure": "1.001193", "agency": COMMUNE, "channel": if online { "online" } else { "direct" },
        "applicant": {"kind": "person", "name": "Trần Thị Bình", "id_number": "015093000123", "phone": "0912345678"},
        "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]}))
    .unwrap()
}

struct Page {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Page {
    fn html(&self) -> String {
        String::from_utf8(self.bytes.clone()).expect("utf-8")
    }
}

async fn get(app: &TestApp, cookie: Option<&str>, path: &str) -> Page {
    let mut req = app.client.get(app.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.expect("request");
    Page {
        status: res.status(),
        headers: res.headers().clone(),
        bytes: res.bytes().await.expect("body").to_vec(),
    }
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&#38;", "&")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
}

/// The `(href, number)` of every link in the table row whose `data-key` is `key` ("" = total).
fn row_links(html: &str, key: &str) -> Vec<(String, i64)> {
    let start = html
        .find(&format!(r#"data-key="{key}">"#))
        .unwrap_or_else(|| panic!("no row {key:?} in:\n{html}"));
    let row = &html[start..start + html[start..].find("</tr>").expect("row end")];
    row.split(r#"<a href=""#)
        .skip(1)
        .map(|part| {
            let href = unescape(&part[..part.find('"').unwrap()]);
            let text = &part[part.find('>').unwrap() + 1..part.find("</a>").unwrap()];
            (
                href,
                text.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("not a number: {text:?}")),
            )
        })
        .collect()
}

const COLUMNS: [&str; 11] = [
    "received",
    "received_online",
    "received_direct",
    "carried_over",
    "resolved",
    "early",
    "on_time",
    "late",
    "in_process",
    "within_time",
    "overdue",
];

/// Officers of the commune (desk, leader, specialist, approver) and of another agency.
async fn people(t: &TestDb) {
    load_fixtures(t).await;
    add_user(&t.db, "tn.xa", COMMUNE, &["receiving_officer"]).await;
    add_user(&t.db, "ld.xa", COMMUNE, &["leader"]).await;
    add_user(&t.db, "cv.xa", COMMUNE, &["specialist"]).await;
    add_user(&t.db, "pd.xa", COMMUNE, &["approver"]).await;
    add_user(&t.db, "cv.xd", OTHER, &["specialist"]).await;
}

on_both_backends! {
    async fn every_number_of_the_report_page_opens_onto_its_dossiers(t) {
        people(t).await;
        let state = t.services();
        let (desk, cv, pd) = (officer(t, "tn.xa").await, officer(t, "cv.xa").await, officer(t, "pd.xa").await);
        let result = {
            let mut tx = t.db.begin().await.unwrap();
            let m = state.files().put(&mut tx, b"%PDF-1.4 ket qua", "kq.pdf", "application/pdf").await.unwrap();
            tx.commit().await.unwrap();
            format!("sha256:{}", m.sha256)
        };
        let finish = |key: String, at: DateTime<Utc>| {
            let (state, desk, cv, pd, result) = (&state, &desk, &cv, &pd, result.clone());
            async move {
                state.at(at).act(Actor::Officer(desk), &key, Action::Transfer, ActionInput::default()).await.map(|v| v.dossier).unwrap();
                state.at(at).act(Actor::Officer(cv), &key, Action::CompleteStep, ActionInput::default()).await.map(|v| v.dossier).unwrap();
                let input = ActionInput { file: Some(result), ..Default::default() };
                state.at(at).act(Actor::Officer(pd), &key, Action::Approve, input).await.map(|v| v.dossier).unwrap();
            }
        };
        // A: received Monday 5 Oct 09:00, resolved the same day: early.
        let a = state.at(local(2026, 10, 5, 9, 0)).intake(Actor::Officer(&desk), intake(false)).await.map(|v| v.dossier).unwrap();
        finish(a.key(), local(2026, 10, 5, 15, 0)).await;
        // B: received 6 Oct (due 7 Oct), never finished: overdue at the end of October.
        let b = state.at(local(2026, 10, 6, 9, 0)).intake(Actor::Officer(&desk), intake(false)).await.map(|v| v.dossier).unwrap();
        // C: online, accepted 20 Oct (due 21 Oct), resolved 26 Oct: late.
        let c = state.at(local(2026, 10, 20, 9, 0)).intake(Actor::Officer(&desk), intake(true)).await.map(|v| v.dossier).unwrap();
        // Accepting gives it its code.
        let c = state.at(local(2026, 10, 20, 10, 0)).act(Actor::Officer(&desk), &c.key(), Action::Accept, ActionInput::default()).await.map(|v| v.dossier).unwrap();
        finish(c.key(), local(2026, 10, 26, 10, 0)).await;

        let app = TestApp::spawn(t).await;
        let (cookie, _) = app.browser_login("tn.xa").await;
        let cookie = Some(cookie.as_str());
        let token = app.token("tn.xa").await;
        let api: Value = app.client.get(app.url(&format!("/api/v1/reports/ii06a?{OCTOBER}"))).bearer_auth(&token)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(api["total"], json!({"received": 3, "received_online": 1, "received_direct": 2, "carried_over": 0,
            "resolved": 2, "early": 1, "on_time": 0, "late": 1, "in_process": 1, "within_time": 0, "overdue": 1}));

        // The table: official headers, column numbers, and the API's numbers in every row.
        let page = get(&app, cookie, &format!("/bao-cao?{OCTOBER}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.html();
        for text in ["Số hồ sơ nhận giải quyết", "Số hồ sơ đã giải quyết", "Số hồ sơ đang giải quyết", "Trực tuyến",
            "Trực tiếp, dịch vụ bưu chính", "Từ kỳ trước chuyển qua", "Trước hạn", "Đúng hạn", "Trong hạn", "(1)", "(13)",
            "Hộ tịch", "Tổng cộng", "từ ngày 01/10/2026 đến ngày 31/10/2026"] {
            assert!(html.contains(text), "{text:?} missing");
        }
        for (key, json_row) in [("", &api["total"]), ("HT", &api["rows"][0])] {
            let links = row_links(&html, key);
            let numbers: Vec<i64> = links.iter().map(|(_, n)| *n).collect();
            let expected: Vec<i64> = COLUMNS.iter().map(|c| json_row[c].as_i64().unwrap()).collect();
            assert_eq!(numbers, expected, "row {key:?}");
        }
        // Every number of the total line links to a list of exactly that many dossiers.
        for (href, n) in row_links(&html, "") {
            assert!(href.starts_with("/bao-cao/ho-so?"), "{href}");
            let list = get(&app, cookie, &href).await;
            assert_eq!(list.status, StatusCode::OK, "{href}");
            let list = list.html();
            assert_eq!(list.matches(r#"class="dossier-code""#).count() as i64, n, "{href}:\n{list}");
        }
        // The late dossier's line: its code links to the dossier page, dates are dd/mm/yyyy.
        let (late_href, _) = row_links(&html, "HT").into_iter().find(|(h, _)| h.contains("column=late")).unwrap();
        let late = get(&app, cookie, &late_href).await.html();
        assert!(late.contains(&format!(r#"href="/ho-so/{}""#, c.key())), "{late}");
        assert!(!late.contains(&a.key()) && !late.contains(&b.key()));
        for text in ["20/10/2026", "21/10/2026", "26/10/2026", "Đăng ký khai sinh", "Ủy ban nhân dân phường Yên Bái"] {
            assert!(late.contains(text), "{text:?} missing from:\n{late}");
        }
        let overdue = get(&app, cookie, &format!("/bao-cao/ho-so?{OCTOBER}&column=overdue")).await.html();
        assert!(overdue.contains(&b.key()));

        // Periods from the form: calendar month, the reporting-regime cut-off month and year.
        let by_kind = get(&app, cookie, "/bao-cao?kind=month&year=2026&n=10").await.html();
        assert_eq!(row_links(&by_kind, ""), row_links(&html, ""));
        let cutoff = get(&app, cookie, "/bao-cao?kind=cutoff_month&year=2026&n=11").await.html();
        assert!(cutoff.contains("từ ngày 15/10/2026 đến ngày 14/11/2026"));
        assert_eq!(row_links(&cutoff, "")[0].1, 2, "C received after the 15th, B carried over");
        let year = get(&app, cookie, "/bao-cao?kind=cutoff_year&year=2026").await.html();
        assert!(year.contains("từ ngày 15/12/2025 đến ngày 14/12/2026"));
        let quarter = get(&app, cookie, "/bao-cao?kind=quarter&year=2026&n=4").await.html();
        assert!(quarter.contains("từ ngày 01/10/2026 đến ngày 31/12/2026"));

        // By agency: the commune's row sits under the province's, both count its dossiers.
        let by_agency = get(&app, cookie, &format!("/bao-cao?{OCTOBER}&by=agency")).await.html();
        assert_eq!(row_links(&by_agency, "000.00.00.H56")[0].1, 3);
        assert_eq!(row_links(&by_agency, COMMUNE)[0].1, 3);
        assert!(by_agency.contains(r#"class="depth-1">Ủy ban nhân dân phường Yên Bái"#), "{by_agency}");

        // Downloads: CSV with a BOM, XLSX laid out like the form, JSON like the API.
        let csv = get(&app, cookie, &format!("/bao-cao/tai-ve.csv?{OCTOBER}")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(csv.headers["content-disposition"].to_str().unwrap().contains("attachment"));
        assert!(csv.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a byte-order mark");
        let text = csv.html();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert!(lines[0].starts_with("Mã,Tên,Tổng số hồ sơ tiếp nhận,Tiếp nhận trực tuyến"), "{}", lines[0]);
        assert_eq!(lines[1], "HT,Hộ tịch,3,1,2,0,2,1,0,1,1,0,1");
        assert_eq!(lines[2], ",Tổng cộng,3,1,2,0,2,1,0,1,1,0,1");
        let xlsx = get(&app, cookie, &format!("/bao-cao/tai-ve.xlsx?{OCTOBER}&by=agency")).await;
        assert_eq!(xlsx.status, StatusCode::OK);
        {
            use calamine::{Reader, Xlsx};
            let mut wb = Xlsx::new(std::io::Cursor::new(xlsx.bytes.clone())).expect("an xlsx file");
            let sheet = wb.worksheet_range("II.06a").unwrap();
            let text = |r: u32, c: u32| sheet.get_value((r, c)).map(|v| v.to_string()).unwrap_or_default();
            assert_eq!(text(0, 0), "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH");
            assert_eq!(text(3, 1), "Cơ quan");
            assert_eq!(text(3, 10), "Số hồ sơ đang giải quyết");
            assert_eq!(text(8, 1), "Ủy ban nhân dân phường Yên Bái");
            assert_eq!(text(9, 1), "Tổng cộng");
            let totals: Vec<String> = (2..13).map(|c| text(9, c)).collect();
            assert_eq!(totals, ["3", "1", "2", "0", "2", "1", "0", "1", "1", "0", "1"]);
        }
        let json_file: Value = serde_json::from_slice(&get(&app, cookie, &format!("/bao-cao/tai-ve.json?{OCTOBER}")).await.bytes).unwrap();
        assert_eq!(json_file["total"], api["total"]);
        assert_eq!(json_file["rows"], api["rows"]);

        // The print view: national motto, form number, title, unit, period, table, signatures.
        let print = get(&app, cookie, &format!("/bao-cao/in?{OCTOBER}")).await;
        assert_eq!(print.status, StatusCode::OK);
        let print = print.html();
        for text in ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Biểu số II.06a/VPCP/KSTT",
            "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", "Ủy ban nhân dân phường Yên Bái", "từ ngày 01/10/2026 đến ngày 31/10/2026",
            "NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG ĐƠN VỊ", "print-landscape", r#"class="button no-print" onclick="window.print()""#] {
            assert!(print.contains(text), "{text:?} missing from the print view");
        }
        assert_eq!(row_links(&print, ""), row_links(&html, ""));
        // Officers find the page from the navigation.
        let home = get(&app, cookie, "/").await.html();
        assert!(home.contains(r#"href="/bao-cao""#) && home.contains(r#"href="/bang-dieu-khien""#));

        // Bad query values: a 400 page in Vietnamese, never a panic.
        for (bad, says) in [
            ("/bao-cao?from=2026-13-01&to=2026-10-31", "Ngày bắt đầu không hợp lệ"),
            ("/bao-cao?from=2026-10-31&to=2026-10-01", "Ngày kết thúc phải sau"),
            ("/bao-cao?from=1990-01-01&to=2026-10-01", "mười năm"),
            ("/bao-cao?kind=week", "Không có loại kỳ báo cáo"),
            ("/bao-cao?kind=month&year=abc", "Năm không hợp lệ"),
            ("/bao-cao?kind=month&year=2026&n=13", "Tháng không hợp lệ"),
            ("/bao-cao?kind=quarter&n=5", "Quý không hợp lệ"),
            (&format!("/bao-cao?{OCTOBER}&by=colour"), "Không có cách nhóm"),
            (&format!("/bao-cao/ho-so?{OCTOBER}&column=colour"), "Không có cột"),
            (&format!("/bao-cao/tai-ve.csv?{OCTOBER}&by=colour"), "Không có cách nhóm"),
            ("/bao-cao/in?from=x&to=y", "không hợp lệ"),
        ] {
            let res = get(&app, cookie, bad).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(res.html().contains(says), "{bad}: {says:?} missing from:\n{}", res.html());
        }

        // Another agency's officer sees none of it, and may not ask for the commune.
        let (theirs, _) = app.browser_login("cv.xd").await;
        let theirs = Some(theirs.as_str());
        let other = get(&app, theirs, &format!("/bao-cao?{OCTOBER}")).await;
        assert_eq!(other.status, StatusCode::OK);
        assert!(row_links(&other.html(), "").iter().all(|(_, n)| *n == 0));
        let list = get(&app, theirs, &format!("/bao-cao/ho-so?{OCTOBER}&column=received")).await.html();
        assert!(!list.contains(&a.key()) && !list.contains(&b.key()) && !list.contains(&c.key()));
        let res = get(&app, theirs, &format!("/bao-cao?{OCTOBER}&agency={COMMUNE}")).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let csv = get(&app, theirs, &format!("/bao-cao/tai-ve.csv?{OCTOBER}")).await.html();
        assert!(csv.contains(",Tổng cộng,0,0,0,0,0,0,0,0,0,0,0"), "{csv}");

        // Signed out: to the login page, wherever one starts.
        for path in ["/bao-cao", "/bao-cao/ho-so?column=late", "/bao-cao/in", "/bao-cao/tai-ve.xlsx", "/bang-dieu-khien"] {
            let res = get(&app, None, path).await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}");
            assert!(res.headers["location"].to_str().unwrap().starts_with("/login?next="), "{path}");
        }
    }

    async fn the_dashboard_shows_trends_late_work_and_workloads(t) {
        people(t).await;
        let state = t.services();
        let (desk, leader, cv, pd) = (officer(t, "tn.xa").await, officer(t, "ld.xa").await, officer(t, "cv.xa").await, officer(t, "pd.xa").await);
        let now = Utc::now();
        let to_specialist = |key: String, at: DateTime<Utc>| {
            let (state, desk, leader) = (&state, &desk, &leader);
            async move {
                state.at(at).act(Actor::Officer(desk), &key, Action::Transfer, ActionInput::default()).await.map(|v| v.dossier).unwrap();
                let input = ActionInput { assignee: Some("cv.xa".into()), ..Default::default() };
                state.at(at + Duration::minutes(5)).act(Actor::Officer(leader), &key, Action::Assign, input).await.map(|v| v.dossier).unwrap();
            }
        };
        // Late: received twenty days ago, with the specialist since.
        let late_at = now - Duration::days(20);
        let late = state.at(late_at).intake(Actor::Officer(&desk), intake(false)).await.map(|v| v.dossier).unwrap();
        to_specialist(late.key(), late_at + Duration::minutes(10)).await;
        // Due soon: received now, due within a working day, with the specialist.
        let soon = state.at(now).intake(Actor::Officer(&desk), intake(false)).await.map(|v| v.dossier).unwrap();
        to_specialist(soon.key(), now + Duration::seconds(1)).await;
        // Resolved twenty days ago (early): it counts in the months, not in the open work.
        let done = state.at(late_at).intake(Actor::Officer(&desk), intake(false)).await.map(|v| v.dossier).unwrap();
        let done_at = late_at + Duration::minutes(30);
        to_specialist(done.key(), done_at).await;
        state.at(done_at + Duration::minutes(10)).act(Actor::Officer(&cv), &done.key(), Action::CompleteStep, ActionInput::default()).await.map(|v| v.dossier).unwrap();
        let result = {
            let mut tx = t.db.begin().await.unwrap();
            let m = state.files().put(&mut tx, b"%PDF-1.4 ket qua", "kq.pdf", "application/pdf").await.unwrap();
            tx.commit().await.unwrap();
            format!("sha256:{}", m.sha256)
        };
        let input = ActionInput { file: Some(result), ..Default::default() };
        state.at(done_at + Duration::minutes(20)).act(Actor::Officer(&pd), &done.key(), Action::Approve, input).await.map(|v| v.dossier).unwrap();

        let app = TestApp::spawn(t).await;
        let (cookie, _) = app.browser_login("tn.xa").await;
        let page = get(&app, Some(&cookie), "/bang-dieu-khien").await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.html();
        // Charts: inline SVG with a title and a label, each beside its data table.
        assert!(html.contains(r#"<svg class="chart""#) && html.contains(r#"role="img""#));
        assert!(html.contains("<title>Toàn bộ phạm vi được xem: hồ sơ tiếp nhận và đã giải quyết theo tháng</title>"), "{html}");
        assert!(html.contains(r#"aria-label="Toàn bộ phạm vi được xem: tỷ lệ giải quyết đúng hạn theo tháng (%)""#));
        assert!(html.contains("<caption>Số liệu theo tháng"));
        let sum_at = html.find("Cộng 12 tháng").expect("the twelve-month line");
        let sum = &html[sum_at..sum_at + html[sum_at..].find("</tr>").unwrap()];
        assert!(sum.contains(r#"<td class="num">3</td><td class="num">1</td><td class="num">1</td><td class="num">0</td><td class="num">100,0%</td>"#), "{sum}");
        // Overdue and due-soon lists, each holding its own dossier.
        let section = |from: &str, to: &str| html[html.find(from).unwrap()..html.find(to).unwrap()].to_string();
        let overdue = section(r#"id="qua-han""#, r#"id="sap-den-han""#);
        assert!(overdue.contains(&format!(r#"href="/ho-so/{}""#, late.key())), "{overdue}");
        assert!(!overdue.contains(&soon.key()) && !overdue.contains(&done.key()));
        let due_soon = section(r#"id="sap-den-han""#, r#"id="can-bo""#);
        assert!(due_soon.contains(&soon.key()) && !due_soon.contains(&late.key()), "{due_soon}");
        // Workloads: the specialist holds two open steps, one overdue; the commune two open, one overdue.
        assert!(html.contains(r#"<tr data-user="cv.xa"><th scope="row">Nguyễn Văn Thử <span class="muted">(cv.xa)</span></th><td class="num">2</td><td class="num">1</td></tr>"#), "{html}");
        assert!(html.contains(&format!(r#"<tr data-agency="{COMMUNE}"><th scope="row">Ủy ban nhân dân phường Yên Bái</th><td class="num">2</td><td class="num">1</td></tr>"#)));

        // The JSON twin says the same.
        let token = app.token("tn.xa").await;
        let api: Value = app.client.get(app.url("/api/v1/dashboard")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let months = api["trends"][0]["months"].as_array().unwrap();
        assert_eq!(months.len(), 12);
        assert_eq!(months.iter().map(|m| m["received"].as_i64().unwrap()).sum::<i64>(), 3);
        assert_eq!(api["overdue"][0]["key"], late.key().as_str());
        assert_eq!(api["due_soon"][0]["key"], soon.key().as_str());
        assert_eq!(api["officers"][0], json!({"username": "cv.xa", "full_name": "Nguyễn Văn Thử", "open_steps": 2, "overdue_steps": 1}));
        assert_eq!(api["agencies"][0]["open"], 2);
        let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
        assert!(doc["paths"]["/api/v1/dashboard"]["get"].is_object());
        assert_eq!(app.get("/api/v1/dashboard").await.status(), StatusCode::UNAUTHORIZED);

        // Another agency's officer: nothing of the commune's.
        let (theirs, _) = app.browser_login("cv.xd").await;
        let other = get(&app, Some(&theirs), "/bang-dieu-khien").await.html();
        assert!(other.contains("Không có hồ sơ quá hạn") && other.contains("Không có hồ sơ sắp đến hạn"));
        assert!(!other.contains(&late.key()) && !other.contains(&soon.key()) && !other.contains(r#"data-user="cv.xa""#));
        let res = get(&app, Some(&theirs), &format!("/bang-dieu-khien?agency={COMMUNE}")).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        // Bad query: 400.
        let res = get(&app, Some(&cookie), "/bang-dieu-khien?thang=13").await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST);
        assert!(res.html().contains("không nhận tham số"));
    }
}
