//! Citizens' accounts through the pages: register, the one-time code (read from the outbox,
//! where the notification port takes it), sign-in, password reset, and bad input.

use crate::support::{TestApp, TestDb, code_for, hidden_value, on_both_backends, set_cookie};
use reqwest::StatusCode;

/// GETs a form page; returns (cookie header, csrf).
async fn form(app: &TestApp, path: &str) -> (String, String) {
    let res = app.get(path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let cookie = set_cookie(&res, "motcua_form_csrf").expect("form cookie");
    let csrf = hidden_value(&res.text().await.unwrap(), "csrf").expect("csrf");
    (format!("motcua_form_csrf={cookie}"), csrf)
}

pub(crate) async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let (cookie, csrf) = form(app, path).await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    app.client
        .post(app.url(path))
        .header("cookie", cookie)
        .form(&all)
        .send()
        .await
        .unwrap()
}

on_both_backends! {
    async fn a_citizen_registers_verifies_and_signs_in(t) {
        let app = TestApp::spawn(t).await;
        let res = post(&app, "/cong-dan/dang-ky", &[("full_name", "Trần Thị Bích"), ("login", "0912 345 678"), ("password", "mat-khau-an-toan")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(res.headers()["location"].to_str().unwrap().starts_with("/cong-dan/xac-thuc?login=0912345678"));
        // Not verified yet: no sign-in.
        let res = post(&app, "/cong-dan/dang-nhap", &[("login", "0912345678"), ("password", "mat-khau-an-toan")]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let code = code_for(t, "0912345678").await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let res = post(&app, "/cong-dan/xac-thuc", &[("login", "0912345678"), ("code", wrong)]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = post(&app, "/cong-dan/xac-thuc", &[("login", "0912345678"), ("code", &code)]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = post(&app, "/cong-dan/dang-nhap", &[("login", "+84912345678"), ("password", "mat-khau-an-toan")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let session = set_cookie(&res, "motcua_citizen").unwrap();
        let home = app.client.get(app.url("/cong-dan")).header("cookie", format!("motcua_citizen={session}")).send().await.unwrap();
        assert_eq!(home.status(), StatusCode::OK);
        let html = home.text().await.unwrap();
        assert!(html.contains("Trần Thị Bích") && html.contains("Hồ sơ của tôi"));
        // A verified account cannot be registered again.
        let res = post(&app, "/cong-dan/dang-ky", &[("full_name", "Kẻ khác"), ("login", "0912345678"), ("password", "mat-khau-khac-1")]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Sign out ends the session.
        let csrf = hidden_value(&html, "csrf").unwrap();
        let res = app.client.post(app.url("/cong-dan/dang-xuat")).header("cookie", format!("motcua_citizen={session}")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let home = app.client.get(app.url("/cong-dan")).header("cookie", format!("motcua_citizen={session}")).send().await.unwrap();
        assert_eq!(home.status(), StatusCode::SEE_OTHER);
    }

    async fn a_forgotten_password_is_reset_with_a_code(t) {
        let app = TestApp::spawn(t).await;
        post(&app, "/cong-dan/dang-ky", &[("full_name", "Lê Văn C"), ("login", "c@example.vn"), ("password", "mat-khau-cu-1")]).await;
        let code = code_for(t, "c@example.vn").await;
        post(&app, "/cong-dan/xac-thuc", &[("login", "c@example.vn"), ("code", &code)]).await;
        // The answer is the same whether or not the account exists.
        let a = post(&app, "/cong-dan/quen-mat-khau", &[("login", "C@Example.vn")]).await;
        let b = post(&app, "/cong-dan/quen-mat-khau", &[("login", "nobody@example.vn")]).await;
        assert_eq!(a.status(), StatusCode::SEE_OTHER);
        assert_eq!(b.status(), StatusCode::SEE_OTHER);
        let code = code_for(t, "c@example.vn").await;
        let res = post(&app, "/cong-dan/dat-lai-mat-khau", &[("login", "c@example.vn"), ("code", &code), ("password", "short")]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = post(&app, "/cong-dan/dat-lai-mat-khau", &[("login", "c@example.vn"), ("code", &code), ("password", "mat-khau-moi-2")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(post(&app, "/cong-dan/dang-nhap", &[("login", "c@example.vn"), ("password", "mat-khau-cu-1")]).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(post(&app, "/cong-dan/dang-nhap", &[("login", "c@example.vn"), ("password", "mat-khau-moi-2")]).await.status(), StatusCode::SEE_OTHER);
        // A used code does not work twice.
        let res = post(&app, "/cong-dan/dat-lai-mat-khau", &[("login", "c@example.vn"), ("code", &code), ("password", "mat-khau-moi-3")]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn bad_input_and_guessing_are_refused() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let res = post(
        &app,
        "/cong-dan/dang-ky",
        &[("full_name", ""), ("login", "12345"), ("password", "short")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("error-summary")
            && html.contains("href=\"#login\"")
            && html.contains("href=\"#password\"")
            && html.contains("href=\"#full_name\"")
    );
    // Without the form cookie the post is refused.
    let res = app
        .client
        .post(app.url("/cong-dan/dang-ky"))
        .form(&[
            ("csrf", "x"),
            ("full_name", "A"),
            ("login", "0912345678"),
            ("password", "mat-khau-an-toan"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Five wrong codes use the code up; the right one then fails too.
    post(
        &app,
        "/cong-dan/dang-ky",
        &[
            ("full_name", "Ngô D"),
            ("login", "0987654321"),
            ("password", "mat-khau-an-toan"),
        ],
    )
    .await;
    let code = code_for(&t, "0987654321").await;
    for _ in 0..5 {
        let wrong = if code == "999999" { "111111" } else { "999999" };
        post(
            &app,
            "/cong-dan/xac-thuc",
            &[("login", "0987654321"), ("code", wrong)],
        )
        .await;
    }
    let res = post(
        &app,
        "/cong-dan/xac-thuc",
        &[("login", "0987654321"), ("code", &code)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

use crate::journey::{Journey, multipart};

pub(crate) async fn signed_in_citizen(t: &TestDb, app: &TestApp) -> String {
    post(
        app,
        "/cong-dan/dang-ky",
        &[
            ("full_name", "Phạm Thị Dung"),
            ("login", "0911222333"),
            ("password", "mat-khau-an-toan"),
        ],
    )
    .await;
    let code = code_for(t, "0911222333").await;
    post(
        app,
        "/cong-dan/xac-thuc",
        &[("login", "0911222333"), ("code", &code)],
    )
    .await;
    let res = post(
        app,
        "/cong-dan/dang-nhap",
        &[("login", "0911222333"), ("password", "mat-khau-an-toan")],
    )
    .await;
    format!("motcua_citizen={}", set_cookie(&res, "motcua_citizen").unwrap())
}

/// Every page's header names the signed-in citizen, links to their dossiers and signs them
/// out; without a session it offers the two sign-ins.
#[tokio::test]
async fn every_page_names_the_signed_in_citizen() {
    let t = TestDb::sqlite().await;
    crate::support::load_fixtures(&t).await;
    let app = TestApp::spawn(&t).await;
    let session = signed_in_citizen(&t, &app).await;
    let header = |html: &str| html.split("</header>").next().unwrap_or("").to_string();
    let page = |path: &'static str| {
        let req = app.client.get(app.url(path)).header("cookie", &session);
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    for path in [
        "/",
        "/thu-tuc",
        "/thu-tuc/1.001193",
        "/tra-cuu",
        "/phan-anh",
        "/phan-anh/da-tra-loi",
        "/cong-dan",
        "/cong-dan/nop-ho-so",
        "/cong-dan/nop-ho-so?procedure=1.001193",
        "/khong-co-trang-nay",
    ] {
        let h = header(&page(path).await);
        assert!(
            h.contains("Phạm Thị Dung")
                && h.contains(r#"<a href="/cong-dan">Hồ sơ của tôi</a>"#)
                && h.contains(r#"action="/cong-dan/dang-xuat""#)
                && !h.contains(r#"href="/login""#),
            "{path}: {h}"
        );
    }
    let anonymous = header(&app.get("/thu-tuc").await.text().await.unwrap());
    assert!(
        anonymous.contains(r#"<a href="/cong-dan/dang-nhap">Đăng nhập công dân</a>"#)
            && anonymous.contains(r#"<a href="/login">Đăng nhập cán bộ</a>"#)
            && !anonymous.contains("dang-xuat"),
        "{anonymous}"
    );
    // The header's sign-out form ends the session, with the session's token only.
    let token = hidden_value(&page("/thu-tuc").await, "session_csrf").expect("the header's token");
    let sign_out = |token: String| {
        let req = app
            .client
            .post(app.url("/cong-dan/dang-xuat"))
            .header("cookie", &session);
        async move { req.form(&[("session_csrf", token)]).send().await.unwrap() }
    };
    assert_eq!(sign_out("forged".into()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(sign_out(token).await.status(), StatusCode::SEE_OTHER);
    let home = app
        .client
        .get(app.url("/cong-dan"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER, "signed out");
}

on_both_backends! {
    async fn a_citizen_submits_online_with_uploads_and_pays_in_the_sandbox(t) {
        crate::support::load_fixtures(t).await;
        crate::support::add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer"]).await;
        let app = TestApp::spawn(t).await;
        let session = signed_in_citizen(t, &app).await;
        let j = Journey::citizen(&app, &session);
        let html = j.get("/cong-dan/nop-ho-so?procedure=1.009972").await.text().await.unwrap();
        assert!(html.contains("Bắt đầu") && html.contains("150.000 đồng"), "the start page says what it takes: {html}");
        let draft = j.begin("1.009972", "cong-trinh").await;
        assert!(draft.starts_with("/cong-dan/ho-so-nhap/"), "{draft}");
        // The applicant's part is pre-filled from the account.
        let html = j.get(&format!("{draft}/nguoi-nop")).await.text().await.unwrap();
        assert!(html.contains("value=\"Phạm Thị Dung\"") && html.contains("value=\"0911222333\""), "{html}");
        // Every error of a part at once, in the summary and at its field.
        let res = j.part(&draft, "nguoi-nop", &[("kind", "person"), ("name", ""), ("id_number", "123"), ("phone", "0911222333")], &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("<title>Lỗi: "), "the title says so");
        for field in ["name", "id_number"] {
            assert!(html.contains(&format!("href=\"#{field}\"")), "{field} in the summary: {html}");
            assert!(html.contains(&format!("id=\"{field}-error\"")), "{field} at its field");
            assert!(html.contains(&format!("name=\"{field}\" type=\"text\" value=")) , "{field}");
        }
        assert_eq!(html.matches("aria-invalid=\"true\"").count(), 2, "{html}");
        j.answer(&draft, "nguoi-nop", &[("kind", "person"), ("name", "Phạm Thị Dung"), ("id_number", "015192002345"), ("phone", "0911222333"), ("address", "Yên Bái")], &[]).await;
        j.answer(&draft, "yeu-cau", &[("case", "cong-trinh"), ("agency", "000.00.01.H56"), ("request", "Xin cấp phép")], &[]).await;
        // A fake PDF is refused by content; the good file of the same round is kept.
        let res = j.part(&draft, "giay-to", &[], &[("file_0", "don.pdf", b"MZ not a pdf"), ("file_1", "ban-ve.pdf", b"%PDF-1.4 ban ve")]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("href=\"#file_0\"") && html.contains("ban-ve.pdf"), "{html}");
        // The missing required file is named.
        let res = j.part(&draft, "giay-to", &[], &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("href=\"#components\""));
        j.answer(&draft, "giay-to", &[], &[("file_0", "don.pdf", b"%PDF-1.4 don")]).await;
        // By post wants an address.
        let res = j.part(&draft, "nhan-ket-qua", &[("delivery", "post"), ("delivery_address", " ")], &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("href=\"#delivery_address\""));
        j.answer(&draft, "nhan-ket-qua", &[("delivery", "post"), ("delivery_address", "12 Đinh Tiên Hoàng, Yên Bái")], &[]).await;
        // Check your answers, then send.
        let html = j.get(&format!("{draft}/kiem-tra")).await.text().await.unwrap();
        for answer in ["015192002345", "Xin cấp phép", "don.pdf", "ban-ve.pdf", "Qua dịch vụ bưu chính", "12 Đinh Tiên Hoàng"] {
            assert!(html.contains(answer), "{answer}: {html}");
        }
        let to = j.send(&draft).await;
        assert!(to.starts_with("/cong-dan/da-nop/online-") && to.contains("ref="), "{to}");
        // Sent: the draft is gone, so a refresh of its pages finds nothing to send twice.
        assert_eq!(j.get(&draft).await.status(), StatusCode::NOT_FOUND);
        let page = app.client.get(app.url(&to)).header("cookie", &session).send().await.unwrap();
        let pay_cookie = set_cookie(&page, "motcua_form_csrf").unwrap();
        let html = page.text().await.unwrap();
        assert!(html.contains("sandbox") && html.contains("150.000 đồng"), "{html}");
        let csrf = hidden_value(&html, "csrf").unwrap();
        // The payment's reference, from the page's checkout form (the address holds the
        // submission's receipt secret, not the payment's reference).
        let reference = html.split("/cong-dan/thanh-toan/").nth(1).unwrap().split('"').next().unwrap().to_string();
        let reference = reference.as_str();
        let key = to.trim_start_matches("/cong-dan/da-nop/").split('?').next().unwrap();
        let res = app.client.post(app.url(&format!("/cong-dan/thanh-toan/{reference}"))).header("cookie", format!("{session}; motcua_form_csrf={pay_cookie}"))
            .form(&[("csrf", csrf.as_str()), ("key", key)]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = app.client.get(app.url(&to)).header("cookie", &session).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Đã thanh toán 150.000 đồng"), "{html}");
        // Paying twice is refused (same form, replayed).
        let res = app.client.post(app.url(&format!("/cong-dan/thanh-toan/{reference}"))).header("cookie", format!("motcua_form_csrf={pay_cookie}"))
            .form(&[("csrf", csrf.as_str()), ("key", key)]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT);

        let mine = app.client.get(app.url("/cong-dan")).header("cookie", &session).send().await.unwrap().text().await.unwrap();
        assert!(mine.contains(key) && mine.contains("Mới nộp trực tuyến"), "{mine}");
        // The confirmation shows nothing to anyone but its owner or the holder of its address.
        let bare = format!("/cong-dan/da-nop/{key}");
        assert_eq!(app.get(&bare).await.status(), StatusCode::NOT_FOUND, "a stranger with the key only");
        assert_eq!(app.get(&format!("{bare}?ref=0123abcd")).await.status(), StatusCode::NOT_FOUND, "a wrong secret");
        assert_eq!(app.get(&to).await.status(), StatusCode::OK, "the holder of the address, signed out");
        let owner = app.client.get(app.url(&bare)).header("cookie", &session).send().await.unwrap();
        assert_eq!(owner.status(), StatusCode::OK, "the owner, signed in");
        // A second dossier re-uses the documents handed in before, without uploading again.
        let again = j.begin("1.009972", "cong-trinh").await;
        let html = j.get(&format!("{again}/giay-to")).await.text().await.unwrap();
        assert!(html.contains("name=\"reuse_0\""), "earlier documents are offered");
        let first_option = html.split("name=\"reuse_0\"").nth(1).unwrap().split("<option value=\"").nth(2).unwrap();
        let sha = first_option.split('"').next().unwrap().to_string();
        j.answer(&again, "nguoi-nop", &[("kind", "person"), ("name", "Phạm Thị Dung"), ("id_number", "015192002345"), ("phone", "0911222333")], &[]).await;
        j.answer(&again, "yeu-cau", &[("agency", "000.00.01.H56")], &[]).await;
        j.answer(&again, "giay-to", &[("reuse_0", &sha), ("reuse_1", &sha)], &[]).await;
        j.answer(&again, "nhan-ket-qua", &[("delivery", "desk")], &[]).await;
        j.send(&again).await;
        // Someone else's file cannot be claimed.
        let guest = Journey::guest(&app);
        let stolen = guest.begin("1.009972", "cong-trinh").await;
        let res = guest.part(&stolen, "giay-to", &[("reuse_0", &sha), ("reuse_1", &sha)], &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // A stranger with a citizen's draft address is sent to sign in.
        let third = j.begin("1.009972", "cong-trinh").await;
        let res = guest.get(&third).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(res.headers()["location"].to_str().unwrap().starts_with("/cong-dan/dang-nhap?next="));
        // The citizen finds the draft on their page.
        let mine = j.get("/cong-dan").await.text().await.unwrap();
        assert!(mine.contains(&third) && mine.contains("chưa nộp"), "{mine}");

        // It waits in the receiving officers' queue.
        let desk = app.token("tiepnhan").await;
        let queue: serde_json::Value = app.client.get(app.url("/api/v1/dossiers?inbox=queue")).bearer_auth(&desk).send().await.unwrap().json().await.unwrap();
        assert_eq!(queue["total"], 2);
        assert!(queue["items"].as_array().unwrap().iter().any(|i| i["key"] == key));
        // The officer sees how the applicant wants the result, and the return form offers it first.
        let (officer, _) = app.browser_login("tiepnhan").await;
        let html = app.client.get(app.url(&format!("/ho-so/{key}"))).header("cookie", &officer).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Người nộp muốn nhận kết quả") && html.contains("Qua bưu chính: 12 Đinh Tiên Hoàng, Yên Bái"), "{html}");
    }
}

on_both_backends! {
    async fn a_citizen_supplements_downloads_the_result_and_rates_it(t) {
        use serde_json::json;
        crate::support::load_fixtures(t).await;
        crate::support::add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer", "result_officer"]).await;
        crate::support::add_user(&t.db, "cv.xa", "000.30.01.H56", &["specialist"]).await;
        crate::support::add_user(&t.db, "pd.xa", "000.30.01.H56", &["approver"]).await;
        let app = TestApp::spawn(t).await;
        let session = signed_in_citizen(t, &app).await;
        let desk = app.token("tn.xa").await;
        let body = json!({"procedure": "1.001193", "agency": "000.30.01.H56", "channel": "online",
            "applicant": {"kind": "person", "name": "Phạm Thị Dung", "id_number": "015192002345", "phone": "0911222333"},
            "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]});
        let d: serde_json::Value = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&body).send().await.unwrap().json().await.unwrap();
        let online_key = d["key"].as_str().unwrap().to_string();
        let citizen = motcua_store::repo::citizens::by_login(&t.db, "0911222333").await.unwrap().unwrap();
        let found = motcua_store::repo::dossiers::find(&t.db, &online_key).await.unwrap().unwrap();
        let mut tx = t.db.begin().await.unwrap();
        motcua_store::repo::citizens::own_dossier(&mut tx, found.id, citizen.id).await.unwrap();
        tx.commit().await.unwrap();
        let act = |token: String, key: String, action: &'static str, body: serde_json::Value| {
            let req = app.client.post(app.url(&format!("/api/v1/dossiers/{key}/actions/{action}"))).bearer_auth(token).json(&body);
            async move { let r = req.send().await.unwrap(); (r.status(), r.json::<serde_json::Value>().await.unwrap()) }
        };
        let (s, d) = act(desk.clone(), online_key.clone(), "accept", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let key = d["code"].as_str().unwrap().to_string();
        act(desk.clone(), key.clone(), "transfer", json!({})).await;
        let cv = app.token("cv.xa").await;
        let (s, _) = act(cv.clone(), key.clone(), "request_supplement", json!({"note": "Ảnh giấy chứng sinh bị mờ"})).await;
        assert_eq!(s, StatusCode::OK);
        // The notice says what to supplement, by when and where.
        let asked = crate::support::citizen_messages(&t.db).await.into_iter()
            .find(|m| m.contains("cần bổ sung")).expect("the supplement notice");
        assert!(asked.contains(&key) && asked.contains("Ảnh giấy chứng sinh bị mờ") && asked.contains("nộp bổ sung trước ") && asked.contains("/tra-cuu?ma="), "{asked}");

        let page = app.client.get(app.url(&format!("/cong-dan/ho-so/{key}"))).header("cookie", &session).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("Ảnh giấy chứng sinh bị mờ") && html.contains("Nộp hồ sơ bổ sung"));
        let csrf = hidden_value(&html, "csrf").unwrap();
        let (ct, body) = multipart(&[("csrf", &csrf)], &[("file", "giay-chung-sinh.jpg", b"\xFF\xD8\xFF\xE0 jpeg")]);
        // No file chosen: the error is at the field.
        let (ct0, body0) = multipart(&[("csrf", &csrf)], &[]);
        let res = app.client.post(app.url(&format!("/cong-dan/ho-so/{key}/bo-sung"))).header("cookie", &session).header("content-type", ct0).body(body0).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("<title>Lỗi: ") && html.contains("id=\"file-error\"") && html.contains("href=\"#file\""), "{html}");
        let res = app.client.post(app.url(&format!("/cong-dan/ho-so/{key}/bo-sung"))).header("cookie", &session).header("content-type", ct).body(body).send().await.unwrap();
        // Post, redirect, get: a refresh sends nothing again.
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let back = res.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(back, format!("/cong-dan/ho-so/{key}?xong=bo-sung"));
        let html = app.client.get(app.url(&back)).header("cookie", &session).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Đã nộp hồ sơ bổ sung"), "{html}");
        // What was submitted, with the dates that never move.
        for shown in ["Ngày nộp", "Thời điểm tiếp nhận", "Thông tin đã nộp", "Phạm Thị Dung", "Giấy chứng sinh", "đã nộp tệp", "Mẫu 01"] {
            assert!(html.contains(shown), "{shown}: {html}");
        }
        // Form 01, from its link, printable by the owner only.
        let form01 = format!("/cong-dan/ho-so/{key}/phieu-tiep-nhan");
        assert!(html.contains(&format!("href=\"{form01}\"")));
        let res = app.client.get(app.url(&form01)).header("cookie", &session).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let slip = res.text().await.unwrap();
        assert!(slip.contains("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ") && slip.contains(&key) && slip.contains(&format!("href=\"/cong-dan/ho-so/{key}\"")), "{slip}");
        assert_eq!(app.get(&form01).await.status(), StatusCode::SEE_OTHER, "sign in first");
        let view: serde_json::Value = app.client.get(app.url(&format!("/api/v1/dossiers/{key}"))).bearer_auth(&desk).send().await.unwrap().json().await.unwrap();
        assert_eq!(view["status"]["number"], 4, "the clock resumed");

        act(cv.clone(), key.clone(), "complete_step", json!({})).await;
        let up: serde_json::Value = app.client.post(app.url("/api/v1/uploads?filename=giay-khai-sinh.pdf")).bearer_auth(&desk).body("%PDF-1.4 giay khai sinh").send().await.unwrap().json().await.unwrap();
        let pd = app.token("pd.xa").await;
        let (s, d) = act(pd, key.clone(), "approve", json!({"file": format!("sha256:{}", up["sha256"].as_str().unwrap())})).await;
        assert_eq!(s, StatusCode::OK, "{d}");

        let res = app.client.get(app.url(&format!("/cong-dan/ho-so/{key}/ket-qua"))).header("cookie", &session).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert_eq!(res.bytes().await.unwrap().as_ref(), b"%PDF-1.4 giay khai sinh");
        // Nobody else gets it.
        assert_eq!(app.get(&format!("/cong-dan/ho-so/{key}/ket-qua")).await.status(), StatusCode::SEE_OTHER);

        let html = app.client.get(app.url(&format!("/cong-dan/ho-so/{key}"))).header("cookie", &session).send().await.unwrap().text().await.unwrap();
        let csrf = hidden_value(&html, "csrf").unwrap();
        let (ct, body) = multipart(&[("csrf", &csrf), ("q5", "2"), ("q6", "1")], &[]);
        let res = app.client.post(app.url(&format!("/cong-dan/ho-so/{key}/danh-gia"))).header("cookie", &session).header("content-type", ct).body(body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "every question must be answered");
        let html = res.text().await.unwrap();
        assert!(html.contains("href=\"#q7\"") && html.contains("id=\"q7-error\""), "at the question: {html}");
        let (ct, body) = multipart(&[("csrf", &csrf), ("q5", "2"), ("q6", "1"), ("q7", "2"), ("satisfaction", "very_satisfied")], &[]);
        let res = app.client.post(app.url(&format!("/cong-dan/ho-so/{key}/danh-gia"))).header("cookie", &session).header("content-type", ct).body(body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = app.client.get(app.url(&format!("/cong-dan/ho-so/{key}?xong=danh-gia"))).header("cookie", &session).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Rất hài lòng"));
        let (answers, satisfaction) = motcua_store::repo::citizens::rating(&t.db, found.id).await.unwrap().unwrap();
        assert_eq!(satisfaction.as_str(), "very_satisfied");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&answers).unwrap(), json!({"q5": 2, "q6": 1, "q7": 2}));
        let (ct, body) = multipart(&[("csrf", &csrf), ("q5", "0"), ("q6", "0"), ("q7", "0"), ("satisfaction", "not_satisfied")], &[]);
        let res = app.client.post(app.url(&format!("/cong-dan/ho-so/{key}/danh-gia"))).header("cookie", &session).header("content-type", ct).body(body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT, "one rating per dossier");

        // Another citizen sees nothing of it.
        post(&app, "/cong-dan/dang-ky", &[("full_name", "Người khác"), ("login", "0933444555"), ("password", "mat-khau-an-toan")]).await;
        let code = code_for(t, "0933444555").await;
        post(&app, "/cong-dan/xac-thuc", &[("login", "0933444555"), ("code", &code)]).await;
        let other = post(&app, "/cong-dan/dang-nhap", &[("login", "0933444555"), ("password", "mat-khau-an-toan")]).await;
        let other = format!("motcua_citizen={}", set_cookie(&other, "motcua_citizen").unwrap());
        assert_eq!(app.client.get(app.url(&format!("/cong-dan/ho-so/{key}"))).header("cookie", &other).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(app.client.get(app.url(&format!("/cong-dan/ho-so/{key}/ket-qua"))).header("cookie", &other).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
}

on_both_backends! {
    async fn a_failure_inside_a_citizen_submission_leaves_nothing(t) {
        // The dossier, its steps, components, event, outbox rows, report counters, its owner
        // and its fee are one transaction: a fee that cannot be written leaves none of them.
        use crate::support::{count, exec};
        use motcua_service::dossiers::{Actor, ApplicantInput, ComponentInput, IntakeInput};
        crate::support::load_fixtures(t).await;
        exec(&t.db, "INSERT INTO citizens (id, login, login_kind, full_name, password_hash, verified_at, created_at)
            VALUES (7, '0911222333', 'phone', 'Phạm Thị Dung', 'x', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')").await;
        let postgres = t.db.backend() == motcua_store::Backend::Postgres;
        if postgres {
            exec(&t.db, "CREATE FUNCTION no_payments() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'payments are down'; END $$ LANGUAGE plpgsql").await;
            exec(&t.db, "CREATE TRIGGER payments_down BEFORE INSERT ON payments FOR EACH ROW EXECUTE FUNCTION no_payments()").await;
        } else {
            exec(&t.db, "CREATE TRIGGER payments_down BEFORE INSERT ON payments BEGIN SELECT RAISE(ABORT, 'payments are down'); END").await;
        }
        let tables = ["dossiers", "dossier_steps", "dossier_components", "dossier_events", "outbox", "payments", "report_counts"];
        let mut before = Vec::new();
        for table in tables {
            before.push(count(&t.db, table).await);
        }
        let input = IntakeInput {
            procedure: "1.009972".into(),
            case: Some("cong-trinh".into()),
            agency: "000.00.01.H56".into(),
            channel: "online".into(),
            applicant: ApplicantInput {
                kind: "person".into(),
                name: "Phạm Thị Dung".into(),
                id_number: "015192002345".into(),
                phone: "0911222333".into(),
                email: String::new(),
                address: "Yên Bái".into(),
            },
            submitter_name: String::new(),
            request: "Xin cấp phép".into(),
            components: (0..2).map(|index| ComponentInput { index, provided: true, file: None }).collect(),
            delivery: None,
            notify: None,
        };
        let services = t.services();
        let citizen = Actor::Citizen { id: 7, login: "0911222333" };
        let e = services.intake(citizen, input.clone()).await.unwrap_err();
        assert!(e.to_string().contains("payments are down"), "{e}");
        for (table, n) in tables.iter().zip(&before) {
            assert_eq!(count(&t.db, table).await, *n, "{table}: nothing of the submission");
        }
        // With payments back, the same submission is written whole: owned, with its fee.
        exec(&t.db, if postgres { "DROP TRIGGER payments_down ON payments" } else { "DROP TRIGGER payments_down" }).await;
        let v = services.intake(citizen, input).await.unwrap();
        assert_eq!(v.payment.as_ref().map(|p| p.amount_vnd), Some(150_000));
        let mine = services.dossiers_of_citizen(7).await.unwrap();
        assert_eq!(mine.iter().map(|d| d.key.clone()).collect::<Vec<_>>(), vec![v.dossier.key()]);
        assert_eq!(count(&t.db, "payments").await, before[5] + 1);
    }
}

#[tokio::test]
async fn an_oversized_upload_is_refused_and_the_other_file_is_kept() {
    let t = TestDb::sqlite().await;
    crate::support::load_fixtures(&t).await;
    let app = TestApp::spawn(&t).await;
    let j = Journey::guest(&app);
    let draft = j.begin("1.001193", "dung-han").await;
    let mut big = b"%PDF-1.4 ".to_vec();
    big.resize(11 * 1024 * 1024, b'x');
    let res = j
        .part(
            &draft,
            "giay-to",
            &[],
            &[
                ("file_0", "to-khai.pdf", &big),
                ("file_1", "giay-chung-sinh.pdf", b"%PDF-1.4 ok"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("href=\"#file_0\"") && html.contains("10 MB"),
        "{html}"
    );
    assert!(
        html.contains("Đã tải lên: <strong>giay-chung-sinh.pdf</strong>"),
        "the good file is kept: {html}"
    );
    // Chosen again, the refused one goes in; nothing was submitted meanwhile.
    assert_eq!(
        motcua_store::repo::dossiers::count_by_status(&t.db)
            .await
            .unwrap(),
        vec![]
    );
    j.answer(
        &draft,
        "giay-to",
        &[],
        &[("file_0", "to-khai.pdf", b"%PDF-1.4 to khai")],
    )
    .await;
    let html = j.get(&format!("{draft}/kiem-tra")).await.text().await.unwrap();
    assert!(
        html.contains("to-khai.pdf") && html.contains("giay-chung-sinh.pdf"),
        "{html}"
    );
}

/// Files on disk under the store (the temporary ones included).
fn stored_files(dir: &std::path::Path) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&dir.join("files"))
}

/// A refused file leaves nothing behind (checked as it streams in), and an address may
/// begin only so many submissions as a guest per hour.
#[tokio::test]
async fn refused_files_leave_nothing_and_guest_submissions_are_counted() {
    let t = TestDb::sqlite().await;
    crate::support::load_fixtures(&t).await;
    let app = TestApp::spawn(&t).await;
    let j = Journey::guest(&app);
    let files_before = crate::support::count(&t.db, "files").await;
    let on_disk = stored_files(&t.data_dir());
    let draft = j.begin("1.001193", "dung-han").await;
    let res = j
        .part(
            &draft,
            "giay-to",
            &[],
            &[
                ("file_0", "to-khai.pdf", b"MZ\x90\x00 not a scan"),
                ("file_1", "giay.exe", b"MZ\x90\x00 again"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        crate::support::count(&t.db, "files").await,
        files_before,
        "no file recorded"
    );
    assert_eq!(
        stored_files(&t.data_dir()),
        on_disk,
        "no file left on disk, temporary ones included"
    );
    let limit = motcua_service::limits::PUBLIC_SUBMISSIONS_PER_HOUR as usize;
    let mut answers = Vec::new();
    for _ in 1..limit + 1 {
        answers.push(j.start("1.001193", "dung-han").await.status().as_u16());
    }
    assert!(answers[..limit - 1].iter().all(|s| *s == 303), "{answers:?}");
    assert_eq!(answers[limit - 1], 429, "then the address waits: {answers:?}");
}

on_both_backends! {
    async fn online_submission_is_reachable_from_the_catalog_and_sign_in_returns_there(t) {
        crate::support::load_fixtures(t).await;
        // One procedure not (yet) taken online: no offer to submit it online anywhere.
        let services = t.services();
        let mut spec = services.procedure("1.009972", None).await.unwrap().spec;
        spec.online_level = motcua_domain::procedure::OnlineLevel::None;
        services.save_procedure_as(spec, "test").await.unwrap();
        let app = TestApp::spawn(t).await;
        let start = "href=\"/cong-dan/nop-ho-so?procedure=1.001193\"";
        let page = app.get("/thu-tuc/1.001193").await.text().await.unwrap();
        assert!(page.contains(start) && page.contains("Nộp hồ sơ trực tuyến"), "{page}");
        let page = app.get("/thu-tuc/1.009972").await.text().await.unwrap();
        assert!(!page.contains("/cong-dan/nop-ho-so"));
        assert!(page.contains("chưa nhận hồ sơ trực tuyến"));
        let list = app.get("/thu-tuc").await.text().await.unwrap();
        assert!(list.contains(start));
        assert!(!list.contains("nop-ho-so?procedure=1.009972"));

        // The chooser: online procedures only, found with or without diacritics.
        let res = app.get("/cong-dan/nop-ho-so").await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(page.contains(start) && !page.contains("procedure=1.009972"), "{page}");
        let page = app.get("/cong-dan/nop-ho-so?q=dang+ky+khai+sinh").await.text().await.unwrap();
        assert!(page.contains(start));
        let page = app.get("/cong-dan/nop-ho-so?q=x%C3%A2y+d%E1%BB%B1ng").await.text().await.unwrap();
        assert!(page.contains("Không có thủ tục nộp trực tuyến nào khớp"), "{page}");
        assert_eq!(app.get("/cong-dan/nop-ho-so?procedure=1.009972").await.status(), StatusCode::NOT_FOUND);

        // A guest on the form signs in and comes back to it.
        let page = app.get("/cong-dan/nop-ho-so?procedure=1.001193").await.text().await.unwrap();
        let back = "/cong-dan/nop-ho-so?procedure=1.001193&case=dung-han";
        let sign_in = format!("/cong-dan/dang-nhap?next={}", motcua_web::urls::url_encode(back));
        assert!(page.contains(&sign_in.replace('&', "&amp;")) || page.contains(&sign_in), "{page}");
        signed_in_citizen(t, &app).await;
        let res = post(&app, &sign_in, &[("login", "0911222333"), ("password", "mat-khau-an-toan")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], back);
        // Never off-site.
        for bad in ["//evil.example/", "/\t/evil.example/", "/\\evil.example/", "https://evil.example/"] {
            let path = format!("/cong-dan/dang-nhap?next={}", motcua_web::urls::url_encode(bad));
            let res = post(&app, &path, &[("login", "0911222333"), ("password", "mat-khau-an-toan")]).await;
            assert_eq!(res.headers()["location"], "/cong-dan", "{bad}");
        }
        // A citizen's page asked for while signed out: sign in, then back there.
        let res = app.get("/cong-dan/ho-so/ABC123").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/cong-dan/dang-nhap?next=/cong-dan/ho-so/ABC123");
    }
}
