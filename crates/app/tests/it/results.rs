//! Authentic electronic results: the public check by verification code or by the file.

use crate::journey::multipart;
use crate::support::{TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends! {
    async fn anyone_checks_a_result_by_its_code_or_its_file(t) {
        crate::support::load_fixtures(t).await;
        crate::support::add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer", "result_officer"]).await;
        crate::support::add_user(&t.db, "cv.xa", "000.30.01.H56", &["specialist"]).await;
        crate::support::add_user(&t.db, "pd.xa", "000.30.01.H56", &["approver"]).await;
        let app = TestApp::spawn(t).await;
        let desk = app.token("tn.xa").await;
        let body = json!({"procedure": "1.001193", "agency": "000.30.01.H56", "channel": "direct",
            "applicant": {"kind": "person", "name": "Phạm Thị Dung", "id_number": "015192002345", "phone": "0911222333"},
            "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]});
        let (s, d) = app.call(reqwest::Method::POST, "/api/v1/dossiers", &desk, Some(&body)).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let code = d["code"].as_str().unwrap().to_string();
        let act = |token: String, action: &'static str, body: serde_json::Value| {
            let app = &app;
            let code = code.clone();
            async move { app.call(reqwest::Method::POST, &format!("/api/v1/dossiers/{code}/actions/{action}"), &token, Some(&body)).await }
        };
        act(desk.clone(), "transfer", json!({})).await;
        let cv = app.token("cv.xa").await;
        act(cv, "complete_step", json!({})).await;
        let pdf = b"%PDF-1.4 giay khai sinh so 15/2026";
        let up: serde_json::Value = app.client.post(app.url("/api/v1/uploads?filename=giay-khai-sinh.pdf")).bearer_auth(&desk).body(pdf.to_vec()).send().await.unwrap().json().await.unwrap();
        let sha = up["sha256"].as_str().unwrap().to_string();
        let (s, d) = act(app.token("pd.xa").await, "approve", json!({"file": format!("sha256:{sha}"), "result_number": "15/2026/KS"})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let verification = motcua_domain::authentic::verification_code(&sha);

        // By its code, however typed: the procedure, agency, number and date; nothing personal.
        for typed in [verification.clone(), verification.to_lowercase().replace('-', " ")] {
            let res = app.get(&format!("/kiem-tra-ket-qua?ma={}", motcua_web::urls::url_encode(&typed))).await;
            assert_eq!(res.status(), StatusCode::OK);
            let html = res.text().await.unwrap();
            for shown in ["Kết quả xác thực", "Đăng ký khai sinh", "15/2026/KS", verification.as_str(), code.as_str()] {
                assert!(html.contains(shown), "{shown}: {html}");
            }
            assert!(!html.contains("Phạm Thị Dung") && !html.contains("015192002345"), "{html}");
        }
        // By the file: hashed, then the answer for its digest.
        let (ct, body) = multipart(&[], &[("file", "ket-qua.pdf", pdf)]);
        let res = app.client.post(app.url("/kiem-tra-ket-qua")).header("content-type", ct).body(body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(to, format!("/kiem-tra-ket-qua?ma={sha}"));
        assert!(app.get(&to).await.text().await.unwrap().contains("Kết quả xác thực"));
        // A file changed by one byte is not ours.
        let (ct, body) = multipart(&[], &[("file", "ket-qua.pdf", b"%PDF-1.4 giay khai sinh so 16/2026")]);
        let res = app.client.post(app.url("/kiem-tra-ket-qua")).header("content-type", ct).body(body).send().await.unwrap();
        let to = res.headers()["location"].to_str().unwrap().to_string();
        let html = app.get(&to).await.text().await.unwrap();
        assert!(html.contains("Không tìm thấy kết quả nào") && !html.contains("Kết quả xác thực<"), "{html}");
        // Not a code: the error at the field; no file chosen: at the file field.
        let res = app.get("/kiem-tra-ket-qua?ma=khong-phai-ma").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let html = res.text().await.unwrap();
        assert!(html.contains("<title>Lỗi: ") && html.contains("id=\"ma-error\"") && html.contains("aria-invalid=\"true\""), "{html}");
        let (ct, body) = multipart(&[], &[]);
        let res = app.client.post(app.url("/kiem-tra-ket-qua")).header("content-type", ct).body(body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // The officers' page shows the code, linked to the check; every page's footer links there.
        let (officer, _) = app.browser_login("tn.xa").await;
        let html = app.client.get(app.url(&format!("/ho-so/{code}"))).header("cookie", &officer).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("href=\"/kiem-tra-ket-qua?ma={verification}\"")), "{html}");
        assert!(app.get("/").await.text().await.unwrap().contains("href=\"/kiem-tra-ket-qua\""));
    }
}

on_both_backends! {
    async fn a_citizens_result_is_stamped_filed_in_their_store_and_reused(t) {
        use crate::journey::Journey;
        crate::support::load_fixtures(t).await;
        crate::support::add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer", "result_officer"]).await;
        crate::support::add_user(&t.db, "cv.xa", "000.30.01.H56", &["specialist"]).await;
        crate::support::add_user(&t.db, "pd.xa", "000.30.01.H56", &["approver"]).await;
        let app = TestApp::spawn(t).await;
        let session = crate::citizens::signed_in_citizen(t, &app).await;
        let j = Journey::citizen(&app, &session);
        // Nothing in the store yet; the citizen's page links to it.
        assert!(j.get("/cong-dan").await.text().await.unwrap().contains("href=\"/cong-dan/kho-du-lieu\""));
        let html = j.get("/cong-dan/kho-du-lieu").await.text().await.unwrap();
        assert!(html.contains("Chưa có kết quả điện tử nào"), "{html}");
        // Submitted online, accepted, processed and approved with an electronic result.
        let to = j.submit_birth("000.30.01.H56").await;
        let reference = to.trim_start_matches("/cong-dan/da-nop/").split('?').next().unwrap().to_string();
        let desk = app.token("tn.xa").await;
        let (s, d) = app.call(reqwest::Method::POST, &format!("/api/v1/dossiers/{reference}/actions/accept"), &desk, Some(&json!({}))).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let code = d["code"].as_str().unwrap().to_string();
        let act = |token: String, action: &'static str, body: serde_json::Value| {
            let (app, code) = (&app, code.clone());
            async move { app.call(reqwest::Method::POST, &format!("/api/v1/dossiers/{code}/actions/{action}"), &token, Some(&body)).await }
        };
        act(desk.clone(), "transfer", json!({})).await;
        act(app.token("cv.xa").await, "complete_step", json!({})).await;
        let pdf = b"%PDF-1.4 trich luc khai sinh".to_vec();
        let up: serde_json::Value = app.client.post(app.url("/api/v1/uploads?filename=trich-luc.pdf")).bearer_auth(&desk).body(pdf.clone()).send().await.unwrap().json().await.unwrap();
        let sha = up["sha256"].as_str().unwrap().to_string();
        let (s, d) = act(app.token("pd.xa").await, "approve", json!({"file": format!("sha256:{sha}"), "result_number": "7/2026/KS"})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let verification = motcua_domain::authentic::verification_code(&sha);

        // The stamp: from the citizen's dossier page, printable, its QR opening the check.
        let page = j.get(&format!("/cong-dan/ho-so/{code}")).await.text().await.unwrap();
        let stamp_href = format!("/cong-dan/ho-so/{code}/tem-xac-thuc");
        assert!(page.contains(&format!("href=\"{stamp_href}\"")), "{page}");
        let stamp = j.get(&stamp_href).await.text().await.unwrap();
        for shown in ["<svg", verification.as_str(), "7/2026/KS", "Nguyễn Văn Thử", sha.as_str(), &format!("/kiem-tra-ket-qua?ma={verification}")] {
            assert!(stamp.contains(shown), "{shown}: {stamp}");
        }
        // The officers print the same stamp; a guest cannot open the citizen's.
        let (officer, _) = app.browser_login("tn.xa").await;
        let res = app.client.get(app.url(&format!("/ho-so/{code}/tem-xac-thuc"))).header("cookie", &officer).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains(&verification));
        let res = app.client.get(app.url(&stamp_href)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "to sign in");
        // The public check names the approving officer too.
        let html = app.get(&format!("/kiem-tra-ket-qua?ma={verification}")).await.text().await.unwrap();
        assert!(html.contains("Người phê duyệt") && html.contains("Nguyễn Văn Thử"), "{html}");

        // Filed in the citizen's data store, downloadable by them only.
        let html = j.get("/cong-dan/kho-du-lieu").await.text().await.unwrap();
        let download = format!("/cong-dan/kho-du-lieu/{sha}");
        assert!(html.contains(&format!("href=\"{download}\"")) && html.contains("7/2026/KS") && html.contains(&verification), "{html}");
        assert!(html.contains("to-khai.pdf") || html.contains("Tờ khai"), "the documents handed in: {html}");
        let res = j.get(&download).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
        let res = j.get(&format!("/cong-dan/kho-du-lieu/{}", "0".repeat(64))).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app.client.get(app.url(&download)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "a guest is sent to sign in");
        // Offered for reuse in the next submission, and taken.
        let draft = j.begin("1.001193", "dung-han").await;
        let html = j.get(&format!("{draft}/giay-to")).await.text().await.unwrap();
        assert!(html.contains(&format!("value=\"{sha}\"")) && html.contains("Kết quả: "), "{html}");
        j.answer(&draft, "giay-to", &[("reuse_0", sha.as_str())], &[("file_1", "giay-chung-sinh.pdf", b"%PDF-1.4 chung sinh 2")]).await;
    }
}
