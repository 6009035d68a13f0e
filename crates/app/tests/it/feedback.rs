//! Feedback and petitions (phản ánh, kiến nghị) over HTTP, on both backends: submission with
//! and without a dossier code, field errors, the classify / forward / answer / publish flow with
//! its deadlines and on-time status, who may see and act, the public list (published answers
//! only, nothing personal, folded search), reference codes under concurrency, rate limiting,
//! and the pages as a browser without JavaScript uses them.

use crate::support::{TestApp, TestDb, add_user, hidden_value, load_fixtures, on_both_backends, set_cookie};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

const JUSTICE: &str = "000.00.06.H56";
const CONSTRUCTION: &str = "000.00.10.H56";
const COMMUNE: &str = "000.30.02.H56";
const NAME: &str = "Lê Thị Hoa";
const PHONE: &str = "0987654321";
const EMAIL: &str = "hoa.le@example.vn";

struct Setup {
    app: TestApp,
    /// Specialist at the Department of Justice.
    justice: String,
    /// Receiving officer of the commune.
    commune: String,
    /// Leader at the Department of Construction.
    construction: String,
    supervisor: String,
    admin: String,
}

async fn setup(t: &TestDb) -> Setup {
    load_fixtures(t).await;
    add_user(&t.db, "canbo.tp", JUSTICE, &["specialist"]).await;
    add_user(&t.db, "canbo.xa", COMMUNE, &["receiving_officer"]).await;
    add_user(&t.db, "lanhdao.xd", CONSTRUCTION, &["leader"]).await;
    add_user(&t.db, "giamsat", "000.00.00.H56", &["supervisor"]).await;
    add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
    let app = TestApp::spawn(t).await;
    Setup {
        justice: app.token("canbo.tp").await,
        commune: app.token("canbo.xa").await,
        construction: app.token("lanhdao.xd").await,
        supervisor: app.token("giamsat").await,
        admin: app.token("quantri").await,
        app,
    }
}

fn submission(agency: &str, subject: &str, content: &str) -> Value {
    json!({"name": NAME, "phone": PHONE, "email": EMAIL, "agency": agency, "subject": subject, "content": content})
}

async fn post(app: &TestApp, token: Option<&str>, path: &str, body: &Value) -> (StatusCode, Value) {
    let mut req = app.client.post(app.url(path)).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> (StatusCode, Value) {
    let mut req = app.client.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Submits anonymously; returns the reference.
async fn submit(app: &TestApp, body: &Value) -> String {
    let (s, r) = post(app, None, "/api/v1/feedback", body).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    r["reference"].as_str().expect("reference").to_string()
}

async fn act(app: &TestApp, token: &str, reference: &str, action: &str, body: Value) -> (StatusCode, Value) {
    post(
        app,
        Some(token),
        &format!("/api/v1/feedback/{reference}/actions/{action}"),
        &body,
    )
    .await
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("an instant: {v}")))
        .expect("RFC 3339")
        .to_utc()
}

/// The due instant the calendar API gives for a limit from an instant at an agency.
async fn due(app: &TestApp, from: &Value, limit: &str, agency: &str) -> DateTime<Utc> {
    let (s, r) = post(
        app,
        None,
        "/api/v1/calendar/due",
        &json!({"received": from, "limit": limit, "agency": agency}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    instant(&r["due"])
}

fn today() -> String {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(7 * 3600).expect("UTC+7"))
        .format("%y%m%d")
        .to_string()
}

fn field_errors(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("field errors in {problem}"))
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_string())
        .collect()
}

/// Moves a stored deadline (tests of lateness cannot wait for days to pass).
async fn set_deadline(t: &TestDb, reference: &str, column: &str, at: DateTime<Utc>) {
    let mut tx = t.db.begin().await.expect("begin");
    let sql = format!("UPDATE feedback SET {column} = $1 WHERE ref = $2");
    let set = async {
        motcua_store::on_tx!(&mut tx, c => {
            sqlx::query(&sql).bind(at).bind(reference).execute(c).await?;
        });
        Ok::<_, motcua_store::StoreError>(())
    };
    set.await.expect("update");
    tx.commit().await.expect("commit");
}

on_both_backends! {
    async fn citizens_submit_with_or_without_a_dossier_code(t) {
        let Setup { app, justice, .. } = setup(t).await;
        let (s, r) = post(&app, None, "/api/v1/feedback", &submission(JUSTICE, "Thủ tục chứng thực", "Quy định chưa rõ ràng.")).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r["reference"], format!("PAKN-{}-0001", today()));
        assert_eq!(r["status"]["name"], "received");
        assert_eq!(r["agency"], JUSTICE);
        // 5 and 10 working days from receipt, on the agency's own office hours (07:30).
        assert_eq!(instant(&r["forward_due_at"]), due(&app, &r["received_at"], "5 working-days", JUSTICE).await);
        assert_eq!(instant(&r["answer_due_at"]), due(&app, &r["received_at"], "10 working-days", JUSTICE).await);
        for secret in [NAME, PHONE, EMAIL] {
            assert!(!r.to_string().contains(secret), "the receipt repeats nothing personal");
        }

        let mut with_code = submission(JUSTICE, "Hồ sơ chậm", "Hồ sơ của tôi đã quá hẹn.");
        with_code["dossier_code"] = json!("000.00.01.H56-251127-0005");
        with_code["phone"] = json!("+84 987 654 321");
        with_code["email"] = json!("");
        let reference = submit(&app, &with_code).await;
        assert_eq!(reference, format!("PAKN-{}-0002", today()));

        let (s, f) = get(&app, Some(&justice), &format!("/api/v1/feedback/{reference}")).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["dossier_code"], "000.00.01.H56-251127-0005");
        assert_eq!(f["submitter"], json!({"name": NAME, "phone": PHONE, "email": ""}));
        assert_eq!(f["channel"], "online");
        assert_eq!(f["timing"]["name"], "within_time");
        assert_eq!(f["allowed_actions"], json!(["classify", "forward", "reject"]));
        assert_eq!(f["may_act"], true);
        assert_eq!(f["events"][0]["action"], "submit");
        assert_eq!(f["events"][0]["actor"], "citizen");

        let (s, list) = get(&app, Some(&justice), "/api/v1/feedback?status=received").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["total"], 2);
        assert_eq!(get(&app, Some(&justice), "/api/v1/feedback?status=bogus").await.0, StatusCode::BAD_REQUEST);
        assert_eq!(get(&app, Some(&justice), "/api/v1/feedback?page=0").await.0, StatusCode::BAD_REQUEST);
        assert_eq!(get(&app, None, "/api/v1/feedback").await.0, StatusCode::UNAUTHORIZED);
    }

    async fn bad_submissions_get_field_errors(t) {
        let Setup { app, justice, commune, .. } = setup(t).await;
        let good = submission(JUSTICE, "Tiêu đề", "Nội dung");
        let cases: Vec<(&str, Value, &str)> = vec![
            ("content", json!(""), "content"),
            ("content", json!("   "), "content"),
            ("content", json!("à".repeat(5001)), "content"),
            ("subject", json!("s".repeat(201)), "subject"),
            ("phone", json!("12345"), "phone"),
            ("email", json!("hoa-at-example"), "email"),
            ("name", json!(""), "name"),
            ("agency", json!("999.99.99.H99"), "agency"),
            ("agency", json!(""), "agency"),
            ("dossier_code", json!("HS-123"), "dossier_code"),
            ("channel", json!("fax"), "channel"),
            ("channel", json!("phone"), "channel"),
        ];
        for (field, value, expected) in cases {
            let mut body = good.clone();
            body[field] = value;
            let (s, problem) = post(&app, None, "/api/v1/feedback", &body).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {problem}");
            assert_eq!(field_errors(&problem), [expected], "{field}: {problem}");
        }
        // No way to answer, several problems at once: all reported, in form order.
        let (s, problem) = post(&app, None, "/api/v1/feedback",
            &json!({"name": "", "phone": "", "email": "", "agency": "", "subject": "", "content": ""})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_errors(&problem), ["name", "phone", "agency", "subject", "content"]);
        // Not JSON at all.
        let res = app.client.post(app.url("/api/v1/feedback")).body("name=x").send().await.unwrap();
        assert!(res.status().is_client_error());

        // Phone feedback is noted by an officer of that agency, and only by one.
        let mut phoned = good.clone();
        phoned["channel"] = json!("phone");
        let (s, _) = post(&app, Some(&commune), "/api/v1/feedback", &phoned).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, r) = post(&app, Some(&justice), "/api/v1/feedback", &phoned).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let (_, f) = get(&app, Some(&justice), &format!("/api/v1/feedback/{}", r["reference"].as_str().unwrap())).await;
        assert_eq!(f["channel"], "phone");
        assert_eq!(f["noted_by"], "canbo.tp");
        assert_eq!(f["events"][0]["actor"], "canbo.tp");
    }

    async fn classify_process_answer_publish_on_time(t) {
        let Setup { app, justice, .. } = setup(t).await;
        let reference = submit(&app, &submission(JUSTICE, "Phí chứng thực", "Mức phí niêm yết khác mức thu.")).await;
        let (s, problem) = act(&app, &justice, &reference, "answer", json!({"answer": "Sớm quá"})).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(problem["allowed_actions"], json!(["classify", "forward", "reject"]));
        assert_eq!(act(&app, &justice, &reference, "approve", json!({})).await.0, StatusCode::NOT_FOUND);

        let (s, f) = act(&app, &justice, &reference, "classify", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["status"]["name"], "classified");
        assert_eq!(f["category"], "regulation", "no dossier named: about a regulation");
        let stale = f["version"].as_i64().unwrap() - 1;
        let (s, _) = act(&app, &justice, &reference, "process", json!({"expected_version": stale})).await;
        assert_eq!(s, StatusCode::CONFLICT, "a stale page is refused");
        let (s, f) = act(&app, &justice, &reference, "process", json!({"note": "Giao chuyên viên xác minh"})).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["status"]["name"], "processing");
        assert_eq!(f["allowed_actions"], json!(["answer"]));

        let (s, problem) = act(&app, &justice, &reference, "answer", json!({"answer": "  "})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_errors(&problem), ["answer"]);
        let (s, f) = act(&app, &justice, &reference, "answer",
            json!({"answer": "Sở đã điều chỉnh bảng niêm yết theo Thông tư hiện hành."})).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["status"]["name"], "answered");
        assert_eq!(f["timing"]["name"], "on_time");
        assert_eq!(f["answered_by"], "canbo.tp");
        assert!(instant(&f["closed_at"]) <= instant(&f["answer_due_at"]));
        assert_eq!(f["published"], false);

        let (s, f) = act(&app, &justice, &reference, "publish", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["status"]["name"], "published");
        assert_eq!(f["published"], true);
        assert!(f["published_at"].is_string());
        assert_eq!(f["allowed_actions"], json!([]));
        let actions: Vec<&str> = f["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["submit", "classify", "process", "answer", "publish"]);
        assert_eq!(f["events"][1]["timing"], "on_time", "classified within the forward deadline");
        assert_eq!(f["events"][3]["timing"], "on_time");
        assert_eq!(f["events"][3]["note"], "", "the answer lives on the feedback, not in the log");
        assert_eq!(act(&app, &justice, &reference, "publish", json!({})).await.0, StatusCode::CONFLICT);
    }

    async fn forwarding_restarts_the_clock_at_the_competent_agency(t) {
        let Setup { app, justice, commune, .. } = setup(t).await;
        let mut body = submission(COMMUNE, "Cấp bản sao trích lục", "Xã hướng dẫn tôi lên Sở Tư pháp.");
        body["dossier_code"] = json!("000.30.02.H56-251120-0001");
        let reference = submit(&app, &body).await;
        for (to, field) in [(json!(null), "to_agency"), (json!("999.99.99.H99"), "to_agency"), (json!(COMMUNE), "to_agency")] {
            let (s, problem) = act(&app, &commune, &reference, "forward", json!({"to_agency": to})).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{to}: {problem}");
            assert_eq!(field_errors(&problem), [field]);
        }
        let (_, before) = get(&app, Some(&commune), &format!("/api/v1/feedback/{reference}")).await;
        let (s, f) = act(&app, &commune, &reference, "forward", json!({"to_agency": JUSTICE, "note": "Thuộc thẩm quyền của Sở"})).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["status"]["name"], "forwarded");
        assert_eq!(f["agency"], JUSTICE);
        assert_eq!(f["may_act"], false, "the commune keeps sight of it but no longer acts");
        // Both clocks restart at the forward instant, on the competent agency's hours.
        assert!(instant(&f["clock_started_at"]) > instant(&f["received_at"]));
        assert_eq!(instant(&f["answer_due_at"]), due(&app, &f["clock_started_at"], "10 working-days", JUSTICE).await);
        assert_eq!(instant(&f["forward_due_at"]), due(&app, &f["clock_started_at"], "5 working-days", JUSTICE).await);
        assert!(instant(&f["answer_due_at"]) >= instant(&before["answer_due_at"]));
        let forward = &f["events"][1];
        assert_eq!(forward["agency"], COMMUNE);
        assert_eq!(forward["to_agency"], JUSTICE);
        assert_eq!(forward["timing"], "on_time", "forwarded within the commune's 5 days");
        assert_eq!(forward["due_at"], before["forward_due_at"]);
        assert_eq!(act(&app, &commune, &reference, "classify", json!({})).await.0, StatusCode::FORBIDDEN);

        let (s, f) = act(&app, &justice, &reference, "classify", json!({"category": "bogus"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{f}");
        let (s, f) = act(&app, &justice, &reference, "classify", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["category"], "handling", "a dossier is named: about its handling");
        act(&app, &justice, &reference, "process", json!({})).await;
        let (s, f) = act(&app, &justice, &reference, "answer", json!({"answer": "Sở đã cấp bản sao."})).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["timing"]["name"], "on_time");
        let (s, list) = get(&app, Some(&commune), "/api/v1/feedback").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["total"], 0, "the list is the commune's own feedback");
    }

    async fn late_answers_and_overdue_decisions_are_marked(t) {
        let Setup { app, justice, .. } = setup(t).await;
        let late = submit(&app, &submission(JUSTICE, "Trễ", "Sẽ trả lời trễ.")).await;
        act(&app, &justice, &late, "classify", json!({})).await;
        act(&app, &justice, &late, "process", json!({})).await;
        set_deadline(t, &late, "answer_due_at", Utc::now() - Duration::days(3)).await;
        let (_, f) = get(&app, Some(&justice), &format!("/api/v1/feedback/{late}")).await;
        assert_eq!(f["timing"]["name"], "overdue");
        let (s, f) = act(&app, &justice, &late, "answer", json!({"answer": "Xin lỗi vì trả lời chậm."})).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["timing"], json!({"name": "late", "label": "Quá hạn"}));
        assert_eq!(f["events"][3]["timing"], "late");

        let undecided = submit(&app, &submission(JUSTICE, "Chưa phân loại", "Để quá hạn phân loại.")).await;
        set_deadline(t, &undecided, "forward_due_at", Utc::now() - Duration::days(2)).await;
        let fresh = submit(&app, &submission(JUSTICE, "Mới", "Còn trong hạn.")).await;
        let (_, list) = get(&app, Some(&justice), "/api/v1/feedback").await;
        let items = list["items"].as_array().unwrap();
        let refs: Vec<&str> = items.iter().map(|i| i["reference"].as_str().unwrap()).collect();
        assert_eq!(refs, [undecided.as_str(), fresh.as_str(), late.as_str()], "open first, nearest deadline first");
        assert_eq!(items[0]["timing"]["name"], "overdue");
        assert_eq!(items[1]["timing"]["name"], "within_time");
        assert_eq!(items[2]["timing"]["name"], "late");

        let (s, r) = act(&app, &justice, &undecided, "reject", json!({"note": ""})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
        assert_eq!(field_errors(&r), ["note"]);
        let (s, f) = act(&app, &justice, &undecided, "reject", json!({"note": "Nội dung không phải phản ánh, kiến nghị"})).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        assert_eq!(f["status"]["name"], "rejected");
        assert_eq!(f["reject_reason"], "Nội dung không phải phản ánh, kiến nghị");
        assert_eq!(f["timing"]["name"], "late", "decided after the forward deadline");
        assert_eq!(f["allowed_actions"], json!([]));
    }

    async fn officers_of_other_agencies_neither_see_nor_act(t) {
        let Setup { app, justice, construction, supervisor, admin, .. } = setup(t).await;
        let reference = submit(&app, &submission(JUSTICE, "Riêng Sở Tư pháp", "Nội dung")).await;
        let path = format!("/api/v1/feedback/{reference}");
        assert_eq!(get(&app, Some(&construction), &path).await.0, StatusCode::NOT_FOUND);
        let (s, _) = act(&app, &construction, &reference, "classify", json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "not even told it exists");
        let (_, list) = get(&app, Some(&construction), "/api/v1/feedback").await;
        assert_eq!(list["total"], 0);
        assert_eq!(get(&app, Some(&justice), "/api/v1/feedback/PAKN-991231-9999").await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(&app, None, &path).await.0, StatusCode::UNAUTHORIZED);

        // Supervisors (of an ancestor) and administrators read, and never act.
        for token in [&supervisor, &admin] {
            let (s, f) = get(&app, Some(token), &path).await;
            assert_eq!(s, StatusCode::OK, "{f}");
            assert_eq!(f["may_act"], false);
            assert_eq!(act(&app, token, &reference, "classify", json!({})).await.0, StatusCode::FORBIDDEN);
            let (_, list) = get(&app, Some(token), "/api/v1/feedback").await;
            assert_eq!(list["total"], 1);
        }
        let (_, f) = get(&app, Some(&justice), &path).await;
        assert_eq!(f["status"]["name"], "received", "nothing changed");
    }

    async fn the_public_list_shows_only_published_answers_without_personal_data(t) {
        let Setup { app, justice, .. } = setup(t).await;
        let published = submit(&app, &submission(JUSTICE, "Phản ánh về thời gian giải quyết hồ sơ", "Đã quá hẹn trả kết quả.")).await;
        let answered = submit(&app, &submission(JUSTICE, "Phản ánh chưa công khai", "Đã trả lời, chưa công khai.")).await;
        submit(&app, &submission(JUSTICE, "Phản ánh mới", "Chưa xử lý.")).await;
        for (reference, publish) in [(&published, true), (&answered, false)] {
            act(&app, &justice, reference, "classify", json!({})).await;
            act(&app, &justice, reference, "process", json!({})).await;
            act(&app, &justice, reference, "answer", json!({"answer": "Sở Tư pháp đã đôn đốc trả kết quả đúng hẹn."})).await;
            if publish {
                assert_eq!(act(&app, &justice, reference, "publish", json!({})).await.0, StatusCode::OK);
            }
        }
        let res = app.get("/api/v1/feedback/public").await;
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.unwrap();
        for secret in [NAME, PHONE, EMAIL, "canbo.tp"] {
            assert!(!text.contains(secret), "{secret} must not be public: {text}");
        }
        let page: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(page["total"], 1);
        let item = &page["items"][0];
        assert_eq!(item["reference"], published.as_str());
        assert_eq!(item["answer"], "Sở Tư pháp đã đôn đốc trả kết quả đúng hẹn.");
        assert_eq!(item["on_time"], true);
        assert_eq!(item["agency_name"], "Sở Tư pháp");

        for (q, found) in [
            ("phan anh", 1), ("PHẢN ÁNH", 1), ("thoi gian giai quyet", 1), ("don doc", 1), ("so tu phap", 1),
            (published.as_str(), 1), ("chua cong khai", 0), ("phan anh moi", 0), ("50%", 0), ("hoa le", 0),
        ] {
            let (s, r) = get(&app, None, &format!("/api/v1/feedback/public?q={}", urlencode(q))).await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(r["total"], found, "{q}: {r}");
        }
        assert_eq!(get(&app, None, "/api/v1/feedback/public?page=0").await.0, StatusCode::BAD_REQUEST);
        let (_, empty) = get(&app, None, "/api/v1/feedback/public?page=2").await;
        assert_eq!(empty["items"], json!([]));

        let page = app.get("/phan-anh/da-tra-loi?q=phan+anh").await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("Phản ánh về thời gian giải quyết hồ sơ") && html.contains("đôn đốc"), "{html}");
        assert!(!html.contains("Phản ánh chưa công khai"));
        for secret in [NAME, PHONE, EMAIL] {
            assert!(!html.contains(secret), "{secret} must not be public");
        }
        let none = app.get("/phan-anh/da-tra-loi?q=khong+co+gi").await.text().await.unwrap();
        assert!(none.contains("Không có phản ánh, kiến nghị nào"));
        assert_eq!(app.get("/phan-anh/da-tra-loi?page=x").await.status(), StatusCode::BAD_REQUEST);
    }

    async fn reference_codes_are_unique_under_concurrency(t) {
        let Setup { app, .. } = setup(t).await;
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for n in 0..12 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                submit(&app, &submission(JUSTICE, &format!("Cùng lúc {n}"), "Nội dung")).await
            }));
        }
        let mut refs = Vec::new();
        for task in tasks {
            refs.push(task.await.expect("task"));
        }
        refs.sort();
        let expected: Vec<String> = (1..=12).map(|n| format!("PAKN-{}-{n:04}", today())).collect();
        assert_eq!(refs, expected);
    }

    async fn the_pages_work_without_javascript(t) {
        let Setup { app, .. } = setup(t).await;
        // The public form: a double-submit CSRF token in a cookie and a hidden field.
        let res = app.get(&format!("/phan-anh?ma=000.00.01.H56-251127-0005&co-quan={JUSTICE}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = set_cookie(&res, "motcua_pakn_csrf").expect("csrf cookie");
        let html = res.text().await.unwrap();
        let csrf = hidden_value(&html, "csrf").expect("csrf field");
        assert_eq!(csrf, cookie);
        assert!(html.contains("value=\"000.00.01.H56-251127-0005\""), "the dossier code is pre-filled");
        assert!(html.contains(&format!("<option value=\"{JUSTICE}\" selected lang=\"vi\">")), "the agency is pre-selected");
        assert!(!html.contains("name=\"channel\""), "citizens submit online only");

        let fields = |csrf: &str, content: &str| -> Vec<(String, String)> {
            [("csrf", csrf), ("dossier_code", ""), ("name", NAME), ("phone", PHONE), ("email", ""),
             ("agency", JUSTICE), ("subject", "Phản ánh qua trang"), ("content", content)]
                .iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let post_form = |fields: Vec<(String, String)>, cookie: Option<String>| {
            let mut req = app.client.post(app.url("/phan-anh")).form(&fields);
            if let Some(c) = cookie {
                req = req.header("cookie", format!("motcua_pakn_csrf={c}"));
            }
            req.send()
        };
        let res = post_form(fields(&csrf, "Nội dung"), None).await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "no cookie, no submission");
        let res = post_form(fields(&csrf, ""), Some(cookie.clone())).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("error-summary") && html.contains("href=\"#content\""), "{html}");
        assert!(html.contains("Nhập nội dung phản ánh, kiến nghị"));
        assert!(html.contains(&format!("value=\"{NAME}\"")), "what was typed is kept");
        let res = post_form(fields(&csrf, "Cán bộ hướng dẫn chưa rõ."), Some(cookie.clone())).await.unwrap();
        // Post, redirect, get: a refresh does not send it again.
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let reference = format!("PAKN-{}-0001", today());
        let sent = res.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(sent, format!("/phan-anh/da-gui/{reference}"));
        let html = app.get(&sent).await.text().await.unwrap();
        assert!(!html.contains(NAME) && !html.contains("Cán bộ hướng dẫn chưa rõ"), "nothing of what was written: {html}");
        assert!(html.contains(&reference) && html.contains("Hạn trả lời"), "{html}");

        // The officer's list and detail, and an action through its form.
        let (session, officer_csrf) = app.browser_login("canbo.tp").await;
        let page = |path: String| app.client.get(app.url(&path)).header("cookie", &session).send();
        let res = page("/ho-so/phan-anh".into()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains(&format!("href=\"/ho-so/phan-anh/{reference}\"")) && html.contains("Trong hạn"), "{html}");
        let res = page(format!("/ho-so/phan-anh/{reference}")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains(NAME) && html.contains(PHONE), "officers see who wrote");
        assert!(html.contains("/xu-ly/classify") && html.contains("/xu-ly/forward") && html.contains("/xu-ly/reject"));
        assert!(!html.contains("/xu-ly/answer"));
        let version = hidden_value(&html, "version").expect("version field");

        let act_form = |action: &str, fields: Vec<(&str, String)>| {
            app.client
                .post(app.url(&format!("/ho-so/phan-anh/{reference}/xu-ly/{action}")))
                .header("cookie", &session)
                .form(&fields)
                .send()
        };
        let res = act_form("classify", vec![("csrf", "wrong".into()), ("version", version.clone())]).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = act_form("reject", vec![("csrf", officer_csrf.clone()), ("version", version.clone()), ("note", "".into())]).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("href=\"#reject-note\""));
        let res = act_form("answer", vec![("csrf", officer_csrf.clone()), ("version", version.clone()), ("answer", "Sớm".into())]).await.unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let res = act_form("classify", vec![("csrf", officer_csrf.clone()), ("version", version.clone()), ("category", "handling".into())]).await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(to, format!("/ho-so/phan-anh/{reference}?da-luu=classify"));
        let html = page(to).await.unwrap().text().await.unwrap();
        assert!(html.contains("Đã xác nhận phản ánh, kiến nghị thuộc thẩm quyền") && html.contains("/xu-ly/process"));
        assert!(html.contains("Về hành vi hành chính"));
        let res = act_form("process", vec![("csrf", officer_csrf.clone()), ("version", version)]).await.unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT, "the page was stale");

        // An officer also notes phone feedback on the same form, choosing the channel.
        let res = page("/phan-anh".into()).await.unwrap();
        let html = res.text().await.unwrap();
        assert!(html.contains("name=\"channel\" value=\"phone\""));
        let mut noted = fields(&officer_csrf, "Gọi điện phản ánh.");
        noted.push(("channel".into(), "phone".into()));
        let res = app.client.post(app.url("/phan-anh")).header("cookie", &session).form(&noted).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(page(to).await.unwrap().text().await.unwrap().contains("Qua điện thoại"));

        let other = app.browser_login("lanhdao.xd").await.0;
        let res = app.client.get(app.url(&format!("/ho-so/phan-anh/{reference}"))).header("cookie", &other).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.get("/ho-so/phan-anh").await.status(), StatusCode::SEE_OTHER, "sign in first");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn public_submissions_are_rate_limited_per_address() {
    let t = TestDb::sqlite().await;
    let Setup { app, justice, .. } = setup(&t).await;
    let limit = motcua_service::limits::PUBLIC_SUBMISSIONS_PER_HOUR;
    for n in 0..limit {
        // Refused submissions count too: a flood of junk is a flood all the same.
        let body = if n % 2 == 0 {
            submission(JUSTICE, "Nhiều lần", "Nội dung")
        } else {
            submission(JUSTICE, "Nhiều lần", "")
        };
        let (s, _) = post(&app, None, "/api/v1/feedback", &body).await;
        assert!(
            s == StatusCode::CREATED || s == StatusCode::UNPROCESSABLE_ENTITY,
            "{n}: {s}"
        );
    }
    let res = app
        .client
        .post(app.url("/api/v1/feedback"))
        .json(&submission(JUSTICE, "Một lần nữa", "Nội dung"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("retry-after").is_some());
    // Officers noting feedback are not limited.
    let mut phoned = submission(JUSTICE, "Qua điện thoại", "Nội dung");
    phoned["channel"] = json!("phone");
    assert_eq!(
        post(&app, Some(&justice), "/api/v1/feedback", &phoned).await.0,
        StatusCode::CREATED
    );
    // The public list stays readable.
    assert_eq!(app.get("/api/v1/feedback/public").await.status(), StatusCode::OK);
}
