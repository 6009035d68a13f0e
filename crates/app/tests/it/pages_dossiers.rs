//! The officers' dossier pages as a browser uses them, on both backends: intake with a scan,
//! Form 01, a two-agency workflow with a supplement through the page forms, the timeline and
//! the control sheet, inboxes, stale pages, other agencies, CSRF, refused uploads.

use crate::support::{TestApp, TestDb, add_user, hidden_value, load_fixtures, on_both_backends};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use reqwest::StatusCode;
use serde_json::Value;

pub(crate) const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
pub(crate) const DESK_AGENCY: &str = "000.00.01.H56";
pub(crate) const PROCEDURE: &str = "1.009972";

pub(crate) async fn setup(t: &TestDb) -> TestApp {
    load_fixtures(t).await;
    add_user(
        &t.db,
        "tiepnhan",
        DESK_AGENCY,
        &["receiving_officer", "result_officer"],
    )
    .await;
    add_user(&t.db, "tiepnhan2", DESK_AGENCY, &["receiving_officer"]).await;
    add_user(&t.db, "lanhdao.xd", "000.00.10.H56", &["leader"]).await;
    add_user(&t.db, "chuyenvien.xd", "000.00.10.H56", &["specialist"]).await;
    add_user(&t.db, "pheduyet.xd", "000.00.10.H56", &["approver"]).await;
    add_user(&t.db, "tiepnhan.xa", "000.30.02.H56", &["receiving_officer"]).await;
    TestApp::spawn(t).await
}

/// A signed-in browser session.
pub(crate) struct Officer<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

pub(crate) struct Reply {
    pub status: StatusCode,
    pub location: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

/// A file part of a multipart form: (field, filename, bytes).
pub(crate) type FilePart<'x> = (&'x str, &'x str, &'x [u8]);

/// A `multipart/form-data` body built by hand (reqwest is built without its multipart feature).
fn multipart(fields: &[(String, String)], files: &[FilePart<'_>]) -> (String, Vec<u8>) {
    let boundary = "----motcua-test-boundary-5f1c0e";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (name, filename, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn owned(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl<'a> Officer<'a> {
    pub(crate) async fn login(app: &'a TestApp, username: &str) -> Officer<'a> {
        let (cookie, csrf) = app.browser_login(username).await;
        Officer { app, cookie, csrf }
    }

    async fn reply(res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        Reply {
            status,
            location,
            headers,
            body: res.text().await.unwrap_or_default(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        let res = self
            .app
            .client
            .get(self.app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        Self::reply(res).await
    }

    /// A page that must open (200).
    pub(crate) async fn page(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        r.body
    }

    /// Posts a multipart form as is (no CSRF token added).
    pub(crate) async fn post_raw(
        &self,
        path: &str,
        fields: &[(String, String)],
        files: &[FilePart<'_>],
    ) -> Reply {
        let (content_type, body) = multipart(fields, files);
        let res = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", &self.cookie)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        Self::reply(res).await
    }

    /// Posts a multipart form with this session's CSRF token.
    pub(crate) async fn submit(&self, path: &str, fields: &[(&str, &str)], files: &[FilePart<'_>]) -> Reply {
        let mut all = owned(fields);
        all.push(("csrf".into(), self.csrf.clone()));
        self.post_raw(path, &all, files).await
    }

    /// Takes an action through the form the dossier page shows (its version and token).
    pub(crate) async fn act(
        &self,
        key: &str,
        action: &str,
        fields: &[(&str, &str)],
        files: &[FilePart<'_>],
    ) -> Reply {
        let mut html = self.page(&format!("/ho-so/{key}")).await;
        // An action that ends the dossier has its form on a confirmation page of its own.
        let confirm = format!("/ho-so/{key}/xac-nhan/{action}");
        if !offers(&html, key, action) && html.contains(&format!("href=\"{confirm}\"")) {
            html = self.page(&confirm).await;
        }
        let form = action_form(&html, key, action);
        let version = hidden_value(form, "expected_version").expect("expected_version in the form");
        let csrf = hidden_value(form, "csrf").expect("csrf in the form");
        let mut all = owned(fields);
        all.push(("expected_version".into(), version));
        all.push(("csrf".into(), csrf));
        self.post_raw(&format!("/ho-so/{key}/xu-ly/{action}"), &all, files)
            .await
    }

    /// An action that must succeed: 303 back to the dossier with a flash message.
    pub(crate) async fn act_ok(
        &self,
        key: &str,
        action: &str,
        fields: &[(&str, &str)],
        files: &[FilePart<'_>],
    ) {
        let r = self.act(key, action, fields, files).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
        assert_eq!(r.location, format!("/ho-so/{key}?done={action}"));
        let page = self.page(&r.location).await;
        assert!(page.contains("Đã thực hiện:"), "flash after {action}");
    }
}

/// The HTML of the page's form for an action (panics when the page offers none).
pub(crate) fn action_form<'h>(html: &'h str, key: &str, action: &str) -> &'h str {
    let marker = format!("action=\"/ho-so/{key}/xu-ly/{action}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no form for {action} on the page"));
    let rest = &html[start..];
    &rest[..rest.find("</form>").expect("end of form")]
}

pub(crate) fn offers(html: &str, key: &str, action: &str) -> bool {
    html.contains(&format!("action=\"/ho-so/{key}/xu-ly/{action}\""))
}

/// An instant as the pages show it: hh:mm dd/mm/yyyy at UTC+7.
fn local(t: &str) -> String {
    let t: DateTime<Utc> = DateTime::parse_from_rfc3339(t).unwrap().to_utc();
    t.with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

/// The texts of the timing cells of the timeline (one per step, in order).
fn timings(html: &str) -> Vec<String> {
    let table = &html[html.find("class=\"timeline\"").expect("timeline")..];
    let table = &table[..table.find("</table>").unwrap()];
    table
        .split("<td class=\"timing ")
        .skip(1)
        .map(|cell| {
            let text = &cell[cell.find('>').unwrap() + 1..];
            text[..text.find("</td>").unwrap()].trim().to_string()
        })
        .collect()
}

pub(crate) fn intake_fields<'x>(name: &'x str, id_number: &'x str) -> Vec<(&'x str, &'x str)> {
    vec![
        ("procedure", PROCEDURE),
        ("agency", DESK_AGENCY),
        ("channel", "direct"),
        ("case", "cong-trinh"),
        ("kind", "person"),
        ("name", name),
        ("id_number", id_number),
        ("phone", "0912 345 678"),
        ("email", "an@example.vn"),
        ("address", "Tổ 5, phường Yên Bái"),
        ("submitter_name", ""),
        ("request", "Cấp giấy phép xây dựng nhà văn phòng 9 tầng"),
        ("c0_provided", "on"),
        ("c1_provided", "on"),
    ]
}

/// Receives a dossier through the intake page; its code.
pub(crate) async fn intake(desk: &Officer<'_>, name: &str) -> String {
    let form = desk
        .page(&format!(
            "/ho-so/tiep-nhan?procedure={PROCEDURE}&agency={DESK_AGENCY}"
        ))
        .await;
    assert!(form.contains("enctype=\"multipart/form-data\""));
    let r = desk
        .submit(
            "/ho-so/tiep-nhan",
            &intake_fields(name, "015093000123"),
            &[("c0_file", "don.pdf", PDF)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let code = r
        .location
        .strip_prefix("/ho-so/")
        .and_then(|l| l.strip_suffix("/phieu-tiep-nhan"))
        .unwrap_or_else(|| panic!("intake went to {}", r.location))
        .to_string();
    assert!(code.starts_with("000.00.01.H56-"), "{code}");
    code
}

async fn api(app: &TestApp, username: &str, path: &str) -> Value {
    let token = app.token(username).await;
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

async fn file_count(db: &motcua_store::Db) -> i64 {
    match db {
        motcua_store::Db::Sqlite { read, .. } => sqlx::query_scalar("SELECT COUNT(*) FROM files")
            .fetch_one(&mut *read.acquire().await.unwrap())
            .await
            .unwrap(),
        motcua_store::Db::Postgres(pg) => sqlx::query_scalar("SELECT COUNT(*) FROM files")
            .fetch_one(&mut *pg.read.acquire().await.unwrap())
            .await
            .unwrap(),
    }
}

/// Moves a due instant into the past (tests of lateness cannot wait for days to pass).
async fn set_due(db: &motcua_store::Db, sql: &str, code: &str, at: DateTime<Utc>) {
    match db {
        motcua_store::Db::Sqlite { write, .. } => {
            sqlx::query(sql)
                .bind(at)
                .bind(code)
                .execute(&mut **write.lock().await.unwrap())
                .await
                .unwrap();
        }
        motcua_store::Db::Postgres(pg) => {
            sqlx::query(sql)
                .bind(at)
                .bind(code)
                .execute(&pg.write)
                .await
                .unwrap();
        }
    }
}

on_both_backends! {
    async fn a_dossier_goes_from_the_desk_to_the_department_and_back_through_the_pages(t) {
        let app = setup(t).await;
        let desk = Officer::login(&app, "tiepnhan").await;
        let inbox = desk.page("/ho-so").await;
        assert!(inbox.contains("href=\"/ho-so/tiep-nhan\""), "receiving officers get the intake link");
        let choose = desk.page("/ho-so/tiep-nhan?q=giay%20phep%20xay%20dung").await;
        assert!(choose.contains(&format!("href=\"/ho-so/tiep-nhan?procedure={PROCEDURE}&#38;agency={DESK_AGENCY}\"")), "{choose}");

        let code = intake(&desk, "Nguyễn Văn An").await;
        let d = api(&app, "tiepnhan", &format!("/api/v1/dossiers/{code}")).await;
        assert_eq!(d["status"]["number"], 2);
        assert_eq!(d["components"][0]["provided"], true);
        let scan = d["components"][0]["file"].as_str().unwrap().trim_start_matches("sha256:").to_string();

        // Form 01: code, applicant, appointment, QR.
        let receipt = desk.page(&format!("/ho-so/{code}/phieu-tiep-nhan")).await;
        for needle in [code.as_str(), "Nguyễn Văn An", "015093000123", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "20 ngày làm việc", "Đơn đề nghị cấp giấy phép xây dựng",
            "<svg", "Ctrl+P", &format!("/tra-cuu?ma={code}")] {
            assert!(receipt.contains(needle), "Form 01 lacks {needle}");
        }
        assert!(receipt.contains(&local(d["due_at"].as_str().unwrap())), "appointment on the legal clock");
        assert!(receipt.contains(&local(d["received_at"].as_str().unwrap())));
        assert!(!receipt.contains("onclick"), "no inline scripts");
        assert!(receipt.contains(&format!("số thứ tự: <strong>{}</strong>", code.rsplit('-').next().unwrap())));

        // The scan is downloadable from the dossier, as an attachment.
        let r = desk.get(&format!("/ho-so/{code}/tep/{scan}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        assert_eq!(r.body.as_bytes(), PDF);
        let r = desk.get(&format!("/ho-so/{code}/tep/{}", "0".repeat(64))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "only the dossier's own files");

        // The desk sees transfer (and withdraw) only; no assign.
        let page = desk.page(&format!("/ho-so/{code}")).await;
        assert!(offers(&page, &code, "transfer") && !offers(&page, &code, "assign"));
        assert!(page.contains("Đã tiếp nhận") && page.contains("trạng thái DVCQG số 2"));
        desk.act_ok(&code, "transfer", &[("note", "Chuyển Sở Xây dựng")], &[]).await;

        // The department's leader assigns a specialist chosen from a list.
        let leader = Officer::login(&app, "lanhdao.xd").await;
        let unit = leader.page("/ho-so?inbox=unit").await;
        assert!(unit.contains(&code), "the unit inbox holds the dossier");
        let page = leader.page(&format!("/ho-so/{code}")).await;
        assert!(action_form(&page, &code, "assign").contains("value=\"chuyenvien.xd\""));
        assert!(!offers(&page, &code, "transfer"));
        leader.act_ok(&code, "assign", &[("assignee", "chuyenvien.xd"), ("note", "")], &[]).await;

        // The specialist asks for a supplement (a reason is required), Form 02 prints it.
        let specialist = Officer::login(&app, "chuyenvien.xd").await;
        let mine = specialist.page("/ho-so?inbox=mine").await;
        assert!(mine.contains(&code), "the specialist's own inbox");
        let r = specialist.act(&code, "request_supplement", &[("note", "  ")], &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Cần nhập lý do"), "{}", r.body);
        specialist.act_ok(&code, "request_supplement", &[("note", "Thiếu bản vẽ mặt cắt công trình")], &[]).await;
        let form02 = specialist.page(&format!("/ho-so/{code}/phieu-bo-sung")).await;
        assert!(form02.contains("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ") && form02.contains("Thiếu bản vẽ mặt cắt công trình") && form02.contains("<svg"));
        let page = specialist.page(&format!("/ho-so/{code}")).await;
        assert!(page.contains("Chờ bổ sung") && page.contains("Tạm dừng tính thời gian"));

        desk.act_ok(&code, "receive_supplement", &[("note", "Đã nhận bản vẽ")], &[("file", "bo-sung.pdf", b"%PDF-1.5 bo sung")]).await;
        let page = desk.page(&format!("/ho-so/{code}")).await;
        assert!(page.contains("Hồ sơ bổ sung") && page.contains("bo-sung.pdf"));

        // The examination runs late: the open step shows overdue, the completed one late.
        set_due(&t.db, "UPDATE dossier_steps SET due_at = $1 WHERE seq = 3 AND dossier_id = (SELECT id FROM dossiers WHERE code = $2)",
            &code, Utc::now() - Duration::days(3)).await;
        let page = specialist.page(&format!("/ho-so/{code}")).await;
        assert_eq!(timings(&page)[2], "Quá hạn");
        let r = specialist.act(&code, "request_supplement", &[("note", "Lần nữa")], &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "one supplement only");
        assert!(r.body.contains("không được yêu cầu bổ sung thêm"), "{}", r.body);
        specialist.act_ok(&code, "complete_step", &[("note", "Đủ điều kiện cấp phép")], &[]).await;

        // The approver must attach the signed result.
        let approver = Officer::login(&app, "pheduyet.xd").await;
        let page = approver.page(&format!("/ho-so/{code}")).await;
        assert!(action_form(&page, &code, "approve").contains("type=\"file\""));
        assert!(!offers(&page, &code, "complete_step"), "the approver approves");
        let r = approver.act(&code, "approve", &[("result_number", "123/GPXD")], &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Đính kèm văn bản kết quả"), "{}", r.body);
        approver.act_ok(&code, "approve", &[("result_number", "123/GPXD"), ("note", "Đồng ý cấp phép")], &[("file", "giay-phep.pdf", b"%PDF-1.7 giay phep")]).await;

        let page = desk.page(&format!("/ho-so/{code}")).await;
        assert!(page.contains("Đã có kết quả") && page.contains("123/GPXD"));
        let form = action_form(&page, &code, "return_result");
        assert!(form.contains("value=\"desk\"") && form.contains("value=\"post\"") && form.contains("value=\"electronic\""));
        desk.act_ok(&code, "return_result", &[("method", "desk")], &[]).await;
        let page = desk.page(&format!("/ho-so/{code}")).await;
        assert!(page.contains("Đã trả kết quả") && page.contains("Tại bộ phận một cửa"));
        assert!(!page.contains("/xu-ly/"), "nothing more to do");
        let steps = timings(&page);
        assert_eq!(steps.len(), 5, "{steps:?}");
        assert_eq!(steps[2], "Quá hạn");
        for (i, s) in steps.iter().enumerate().filter(|(i, _)| *i != 2) {
            assert!(s == "Trước hạn" || s == "Đúng hạn", "step {} is {s}", i + 1);
        }
        assert!(page.contains("Chuỗi nhật ký toàn vẹn"));

        // Form 06: the handovers, with the late step.
        let sheet = desk.page(&format!("/ho-so/{code}/phieu-kiem-soat")).await;
        assert!(sheet.contains("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ") && sheet.contains("<svg"));
        assert_eq!(sheet.matches("<tr class=\"handover\">").count(), 8, "receive, transfer, assign, supplement ×2, complete, approve, return");
        assert!(sheet.contains("<dd id=\"lead-agency\">Sở Xây dựng</dd>"));
        assert!(sheet.contains("Trung tâm Phục vụ hành chính công tỉnh"), "the desk coordinates");
        assert!(sheet.contains("Quá hạn") && sheet.contains("Phân công thụ lý"));

        // Forms of actions that never happened do not exist.
        for form in ["phieu-tu-choi", "phieu-xin-loi", "thong-bao-dung"] {
            assert_eq!(desk.get(&format!("/ho-so/{code}/{form}")).await.status, StatusCode::NOT_FOUND, "{form}");
        }
        // The register of the month lists it.
        let register = desk.page("/so-theo-doi").await;
        assert!(register.contains("SỔ THEO DÕI HỒ SƠ") && register.contains(&code) && register.contains("Sở Xây dựng"));
        let all = desk.page("/ho-so?inbox=all").await;
        assert!(all.contains(&code) && all.contains("Đã trả kết quả"));
    }

    async fn a_stale_page_gets_a_conflict_not_a_double_action(t) {
        let app = setup(t).await;
        let first = Officer::login(&app, "tiepnhan").await;
        let second = Officer::login(&app, "tiepnhan2").await;
        let code = intake(&first, "Trần Thị Bích").await;
        // Both open the dossier; the first transfers it.
        let seen = second.page(&format!("/ho-so/{code}")).await;
        let stale = hidden_value(action_form(&seen, &code, "transfer"), "expected_version").unwrap();
        first.act_ok(&code, "transfer", &[], &[]).await;
        let r = second
            .submit(&format!("/ho-so/{code}/xu-ly/transfer"), &[("expected_version", stale.as_str()), ("note", "")], &[])
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains("vừa được người khác xử lý"), "{}", r.body);
        assert!(r.body.contains("Đang xử lý"), "the page shows the dossier as it is now");
        let ev = api(&app, "tiepnhan", &format!("/api/v1/dossiers/{code}/events")).await;
        let transfers = ev["events"].as_array().unwrap().iter().filter(|e| e["action"] == "transfer").count();
        assert_eq!(transfers, 1, "no double action");
        // Once withdrawn, an action no longer legal is a conflict too, said in plain words.
        let r = second.act(&code, "withdraw", &[("note", "Người nộp rút")], &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = second.submit(&format!("/ho-so/{code}/xu-ly/transfer"), &[("note", "")], &[]).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("Không thể thực hiện"), "{}", r.body);
    }

    async fn other_agencies_see_neither_the_dossier_nor_its_files(t) {
        let app = setup(t).await;
        let desk = Officer::login(&app, "tiepnhan").await;
        let code = intake(&desk, "Lê Văn Cường").await;
        let d = api(&app, "tiepnhan", &format!("/api/v1/dossiers/{code}")).await;
        let scan = d["components"][0]["file"].as_str().unwrap().trim_start_matches("sha256:").to_string();
        let commune = Officer::login(&app, "tiepnhan.xa").await;
        for path in [format!("/ho-so/{code}"), format!("/ho-so/{code}/tep/{scan}"), format!("/ho-so/{code}/phieu-tiep-nhan"),
            format!("/ho-so/{code}/phieu-kiem-soat")] {
            assert_eq!(commune.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
        }
        let r = commune.submit(&format!("/ho-so/{code}/xu-ly/transfer"), &[("note", "")], &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let list = commune.page("/ho-so").await;
        assert!(!list.contains(&code));
        assert_eq!(commune.get(&format!("/ho-so?agency={DESK_AGENCY}")).await.status, StatusCode::FORBIDDEN);
        let register = commune.page("/so-theo-doi").await;
        assert!(!register.contains(&code));
        // Not signed in: to the login page.
        let r = app.get(&format!("/ho-so/{code}")).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?next="));
        // No receiving role: no intake.
        let leader = Officer::login(&app, "lanhdao.xd").await;
        assert_eq!(leader.get("/ho-so/tiep-nhan").await.status, StatusCode::FORBIDDEN);
        assert!(!leader.page("/ho-so").await.contains("href=\"/ho-so/tiep-nhan\""));
        let r = leader.submit("/ho-so/tiep-nhan", &intake_fields("X", "015093000123"), &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }

    async fn forms_without_the_csrf_token_are_refused(t) {
        let app = setup(t).await;
        let desk = Officer::login(&app, "tiepnhan").await;
        let code = intake(&desk, "Phạm Thị Dung").await;
        let page = desk.page(&format!("/ho-so/{code}")).await;
        let version = hidden_value(action_form(&page, &code, "transfer"), "expected_version").unwrap();
        let r = desk.post_raw(&format!("/ho-so/{code}/xu-ly/transfer"), &owned(&[("expected_version", &version)]), &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = desk.post_raw(&format!("/ho-so/{code}/xu-ly/transfer"), &owned(&[("expected_version", &version), ("csrf", "forged")]), &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let files_before = file_count(&t.db).await;
        let r = desk.post_raw("/ho-so/tiep-nhan", &owned(&intake_fields("Phạm Thị Dung", "015093000123")), &[("c0_file", "khac.pdf", b"%PDF-1.4 another scan")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(file_count(&t.db).await, files_before, "nothing stored without the token");
        let d = api(&app, "tiepnhan", &format!("/api/v1/dossiers/{code}")).await;
        assert_eq!(d["status"]["number"], 2, "nothing happened");
        let list = api(&app, "tiepnhan", "/api/v1/dossiers").await;
        assert_eq!(list["total"], 1);
    }

    async fn refused_intakes_come_back_with_what_was_typed(t) {
        let app = setup(t).await;
        let desk = Officer::login(&app, "tiepnhan").await;
        let files_before = file_count(&t.db).await;
        // A fake scan: a field error, nothing stored, nothing received.
        let r = desk.submit("/ho-so/tiep-nhan", &intake_fields("Hoàng Văn Em", "015093000123"), &[("c0_file", "don.pdf", b"MZ\x90\x00 this is a program")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("không phải PDF, JPEG hoặc PNG"), "{}", r.body);
        assert!(r.body.contains("href=\"#c0_file\""), "the summary links to the field");
        assert!(r.body.contains("value=\"Hoàng Văn Em\""), "typed values kept");
        assert_eq!(file_count(&t.db).await, files_before, "nothing stored");
        assert_eq!(api(&app, "tiepnhan", "/api/v1/dossiers").await["total"], 0);

        // A wrong ID number: the scan is kept so it need not be chosen again.
        let r = desk.submit("/ho-so/tiep-nhan", &intake_fields("Hoàng Văn Em", "12345"), &[("c0_file", "don.pdf", PDF)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Số định danh cá nhân phải gồm đúng 12 chữ số"), "{}", r.body);
        assert!(r.body.contains("value=\"12345\""));
        let kept = hidden_value(&r.body, "c0_ref").expect("the stored scan is kept");
        let mut fields = intake_fields("Hoàng Văn Em", "015093000123");
        fields.push(("c0_ref", &kept));
        fields.push(("c0_ref_name", "don.pdf"));
        let r = desk.submit("/ho-so/tiep-nhan", &fields, &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let code = r.location.trim_start_matches("/ho-so/").trim_end_matches("/phieu-tiep-nhan").to_string();
        let d = api(&app, "tiepnhan", &format!("/api/v1/dossiers/{code}")).await;
        assert_eq!(d["components"][0]["file"].as_str(), Some(kept.as_str()));

        // An incomplete dossier is not received.
        let mut fields = intake_fields("Hoàng Văn Em", "015093000123");
        fields.retain(|(k, _)| *k != "c1_provided");
        let r = desk.submit("/ho-so/tiep-nhan", &fields, &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("Còn thiếu: Bản vẽ thiết kế xây dựng"), "{}", r.body);
        // Bad addresses of the intake form.
        assert_eq!(desk.get("/ho-so/tiep-nhan?procedure=9.999999").await.status, StatusCode::BAD_REQUEST);
        assert_eq!(desk.get("/ho-so/tiep-nhan?agency=000.30.02.H56").await.status, StatusCode::FORBIDDEN);
    }

    async fn inboxes_filter_and_refuse_bad_queries(t) {
        let app = setup(t).await;
        let desk = Officer::login(&app, "tiepnhan").await;
        let an = intake(&desk, "Nguyễn Văn An").await;
        let bich = intake(&desk, "Trần Thị Bích").await;
        let found = desk.page("/ho-so?inbox=all&q=tran%20thi%20bich").await;
        assert!(found.contains(&bich) && !found.contains(&an), "search without diacritics");
        let found = desk.page(&format!("/ho-so?inbox=all&status=received&procedure={PROCEDURE}&agency={DESK_AGENCY}")).await;
        assert!(found.contains(&bich) && found.contains(&an));
        assert!(found.contains("<option value=\"received\" selected>Đã tiếp nhận</option>"));
        let none = desk.page("/ho-so?status=returned").await;
        assert!(!none.contains(&an) && none.contains("Không có hồ sơ nào"));
        let queue = desk.page("/ho-so?inbox=queue").await;
        assert!(queue.contains("aria-current=\"page\">Chờ tiếp nhận") && !queue.contains(&an));
        // An appointment in the past: the overdue tab and the marker.
        set_due(&t.db, "UPDATE dossiers SET due_at = $1 WHERE code = $2", &an, Utc::now() - Duration::days(2)).await;
        let overdue = desk.page("/ho-so?inbox=overdue").await;
        assert!(overdue.contains(&an) && !overdue.contains(&bich));
        assert!(overdue.contains("tag-warn\">Quá hạn"));
        let soon = desk.page("/ho-so?inbox=due_soon").await;
        assert!(soon.contains(&an), "overdue is also due soon");
        for bad in ["/ho-so?inbox=everything", "/ho-so?status=flying", "/ho-so?page=abc", "/ho-so?page=0",
            "/ho-so?agency=9.9.9", "/so-theo-doi?from=2025-13-01", "/so-theo-doi?from=2025-10-31&to=2025-10-01"] {
            let r = desk.get(bad).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        }
        let r = desk.get("/ho-so?agency=000.30.02.H56").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let empty = desk.page("/so-theo-doi?from=2001-01-01&to=2001-01-31").await;
        assert!(empty.contains("Không có hồ sơ nào"));
    }

    async fn notices_print_the_reason_of_their_action(t) {
        let app = setup(t).await;
        let desk = Officer::login(&app, "tiepnhan").await;
        let code = intake(&desk, "Vũ Thị Giang").await;
        desk.act_ok(&code, "transfer", &[], &[]).await;
        let leader = Officer::login(&app, "lanhdao.xd").await;
        leader.act_ok(&code, "assign", &[("assignee", "chuyenvien.xd")], &[]).await;
        let specialist = Officer::login(&app, "chuyenvien.xd").await;
        specialist.act_ok(&code, "complete_step", &[], &[]).await;

        // Form 04: apology with the old and the new appointment (typed on the legal clock).
        let approver = Officer::login(&app, "pheduyet.xd").await;
        let d = api(&app, "tiepnhan", &format!("/api/v1/dossiers/{code}")).await;
        let old_due = d["due_at"].as_str().unwrap().to_string();
        let at = |days: i64| {
            (DateTime::parse_from_rfc3339(&old_due).unwrap().to_utc() + Duration::days(days))
                .with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        };
        let page = approver.page(&format!("/ho-so/{code}")).await;
        assert!(action_form(&page, &code, "reschedule").contains("type=\"datetime-local\""));
        let r = approver.act(&code, "reschedule", &[("note", "Cần thẩm tra thêm"), ("new_due", &at(-1))], &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("phải sau ngày hẹn hiện tại"), "{}", r.body);
        let r = approver.act(&code, "reschedule", &[("note", "Cần thẩm tra thêm"), ("new_due", "ngày mai")], &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        approver.act_ok(&code, "reschedule", &[("note", "Cần thẩm tra thêm hồ sơ địa chất"), ("new_due", &at(5))], &[]).await;
        let form04 = approver.page(&format!("/ho-so/{code}/phieu-xin-loi")).await;
        assert!(form04.contains("PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ") && form04.contains("Cần thẩm tra thêm hồ sơ địa chất"));
        assert!(form04.contains(&format!("<strong id=\"old-due\">{}</strong>", local(&old_due))), "{form04}");
        let new_due = at(5).replace('T', " ");
        let (date, time) = new_due.split_once(' ').unwrap();
        let shown = format!("{time} {}", chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap().format("%d/%m/%Y"));
        assert!(form04.contains(&format!("<strong id=\"new-due\">{shown}</strong>")), "{form04}");
        let page = approver.page(&format!("/ho-so/{code}")).await;
        assert!(page.contains("Hạn theo quy định") && page.contains(&local(&old_due)), "the legal due stays for statistics");

        // Form 05: stop, reasoned.
        approver.act_ok(&code, "stop", &[("note", "Công trình nằm trong hành lang bảo vệ đê điều")], &[]).await;
        let form05 = approver.page(&format!("/ho-so/{code}/thong-bao-dung")).await;
        assert!(form05.contains("THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ") && form05.contains("hành lang bảo vệ đê điều") && form05.contains("<svg"));
        assert_eq!(approver.get(&format!("/ho-so/{code}/phieu-tu-choi")).await.status, StatusCode::NOT_FOUND);

        // Form 03: an online dossier refused at the desk.
        let token = app.token("tiepnhan").await;
        let body = serde_json::json!({
            "procedure": PROCEDURE, "case": "cong-trinh", "agency": DESK_AGENCY, "channel": "online",
            "applicant": {"kind": "organisation", "name": "Công ty TNHH Xây dựng Hòa Bình", "id_number": "0101234567", "phone": "0912345678"},
            "request": "Cấp phép xây dựng nhà xưởng",
            "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]
        });
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&token).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let key = res.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_string();
        let queue = desk.page("/ho-so?inbox=queue").await;
        assert!(queue.contains(&format!("href=\"/ho-so/{key}\"")) && queue.contains("Hạn tiếp nhận"), "{queue}");
        let page = desk.page(&format!("/ho-so/{key}")).await;
        assert!(page.contains("Chưa cấp mã") && page.contains("Hạn kiểm tra, tiếp nhận") && page.contains("Mã số thuế"));
        assert!(offers(&page, &key, "accept") && page.contains(&format!("href=\"/ho-so/{key}/xac-nhan/refuse\"")));
        assert_eq!(desk.get(&format!("/ho-so/{key}/phieu-tiep-nhan")).await.status, StatusCode::NOT_FOUND, "no receipt before acceptance");
        let r = desk.act(&key, "refuse", &[("note", "Không thuộc thẩm quyền giải quyết của tỉnh")], &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let refused = r.location.trim_start_matches("/ho-so/").split('?').next().unwrap().to_string();
        assert!(refused.starts_with("000.00.01.H56-"), "a refused dossier gets its code: {refused}");
        let form03 = desk.page(&format!("/ho-so/{refused}/phieu-tu-choi")).await;
        assert!(form03.contains("PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ") && form03.contains("Không thuộc thẩm quyền giải quyết của tỉnh"));
        assert!(form03.contains("Công ty TNHH Xây dựng Hòa Bình") && form03.contains(&refused));
    }
}
