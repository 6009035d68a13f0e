//! What citizens see without signing in: the dossier lookup by code and verification digits,
//! masked, rate limited, and closed to enumeration.

use crate::support::{TestApp, TestDb, add_user, load_fixtures, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn received_dossier(t: &TestDb) -> (TestApp, String) {
    load_fixtures(t).await;
    add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer"]).await;
    let app = TestApp::spawn(t).await;
    let code = receive(&app).await;
    (app, code)
}

/// One more dossier received at the counter of 000.00.01.H56: its code.
async fn receive(app: &TestApp) -> String {
    let desk = app.token("tiepnhan").await;
    let body = json!({
        "procedure": "1.009972", "agency": "000.00.01.H56", "channel": "direct",
        "applicant": {"kind": "person", "name": "Nguyễn Văn An", "id_number": "015093000123", "phone": "0912345678"},
        "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]
    });
    let (_, d) = app
        .call(Method::POST, "/api/v1/dossiers", &desk, Some(&body))
        .await;
    d["code"].as_str().unwrap().to_string()
}

/// Renames agency 000.00.01.H56 through `app` (as an administrator).
async fn rename_agency(t: &TestDb, app: &TestApp, name: &str) {
    add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
    let admin = app.token("quantri").await;
    let (_, agencies) = app.call(Method::GET, "/api/v1/agencies", &admin, None).await;
    let mut agency = agencies
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "000.00.01.H56")
        .unwrap()
        .clone();
    assert_ne!(agency["name"], name);
    agency["name"] = json!(name);
    let (status, answer) = app
        .call(
            Method::PUT,
            "/api/v1/agencies/000.00.01.H56",
            &admin,
            Some(&agency),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// A server whose lookup answers live `ttl`.
async fn with_lookup_cache(t: &TestDb, ttl: std::time::Duration) -> TestApp {
    let rules = motcua_service::Rules {
        lookup_cache_seconds: ttl.as_secs() as u32,
        ..Default::default()
    };
    TestApp::spawn_with_rules(t, rules).await
}

on_both_backends! {
    async fn a_citizen_looks_up_with_the_last_four_digits(t) {
        let (app, code) = received_dossier(t).await;
        for verify in ["5678", "0123"] {
            let res = app.get(&format!("/api/v1/public/dossiers/{code}?verify={verify}")).await;
            assert_eq!(res.status(), StatusCode::OK, "{verify}");
            let text = res.text().await.unwrap();
            let d: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(d["applicant"], "N. V. An");
            assert_eq!(d["status_number"], 2);
            assert!(d["due_at"].is_string());
            for secret in ["0912345678", "015093000123", "Nguyễn Văn An"] {
                assert!(!text.contains(secret), "{secret} must not be public: {text}");
            }
        }
        let page = app.get(&format!("/tra-cuu?ma={code}&verify=5678")).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("N. V. An") && html.contains("Đã tiếp nhận") && html.contains("Hẹn trả kết quả"));
        assert!(!html.contains("0912345678"));
        let form = app.get(&format!("/tra-cuu?ma={code}")).await.text().await.unwrap();
        assert!(form.contains(&format!("value=\"{code}\"")), "the QR pre-fills the code");

        // After a handover the timeline has two started steps, as the officers see them.
        let desk = app.token("tiepnhan").await;
        let res = app.client.post(app.url(&format!("/api/v1/dossiers/{code}/actions/transfer"))).bearer_auth(&desk).json(&json!({})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let officer: Value = res.json().await.unwrap();
        let public: Value = app.get(&format!("/api/v1/public/dossiers/{code}?verify=5678")).await.json().await.unwrap();
        for name in ["procedure", "procedure_name", "agency_name"] {
            assert!(public[name].as_str().is_some_and(|n| !n.is_empty()), "{name}: {public}");
            assert_eq!(public[name], officer[name], "{name} as the officers see it");
        }
        let expected: Vec<Value> = officer["steps"].as_array().unwrap().iter().filter(|s| s["started_at"].is_string())
            .map(|s| json!({"name": s["name"], "agency": s["agency_name"], "started_at": s["started_at"], "completed_at": s["completed_at"], "timing": s["timing"]}))
            .collect();
        assert_eq!(expected.len(), 2);
        assert_eq!(public["steps"], json!(expected));
    }

    async fn wrong_digits_and_unknown_codes_look_the_same(t) {
        let (app, code) = received_dossier(t).await;
        let wrong = app.get(&format!("/api/v1/public/dossiers/{code}?verify=0000")).await;
        assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
        let wrong_body = wrong.text().await.unwrap();
        let unknown = app.get("/api/v1/public/dossiers/000.00.01.H56-991231-9999?verify=0000").await;
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
        assert_eq!(unknown.text().await.unwrap(), wrong_body);
        for bad in ["12", "abcd", "12345", ""] {
            let res = app.get(&format!("/api/v1/public/dossiers/{code}?verify={bad}")).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        }
        assert_eq!(app.get(&format!("/api/v1/public/dossiers/{code}")).await.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.get(&format!("/tra-cuu?ma={code}&verify=0000")).await.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn guessing_digits_for_a_code_is_stopped() {
    let t = TestDb::sqlite().await;
    let (app, code) = received_dossier(&t).await;
    for guess in ["0001", "0002", "0003", "0004", "0005"] {
        assert_eq!(
            app.get(&format!("/api/v1/public/dossiers/{code}?verify={guess}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
    }
    let res = app
        .get(&format!("/api/v1/public/dossiers/{code}?verify=5678"))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked even for the right digits"
    );
    assert!(res.headers().get("retry-after").is_some());
}

#[tokio::test]
async fn scanning_many_codes_from_one_address_is_stopped() {
    let t = TestDb::sqlite().await;
    let (app, _) = received_dossier(&t).await;
    let mut statuses = Vec::new();
    for n in 0..25 {
        statuses.push(
            app.get(&format!(
                "/api/v1/public/dossiers/000.00.01.H56-261127-{n:04}?verify=1234"
            ))
            .await
            .status(),
        );
    }
    assert!(statuses[..20].iter().all(|s| *s == StatusCode::NOT_FOUND));
    assert!(
        statuses[20..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn pages_switch_between_vietnamese_and_english() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let vi = app.get("/tra-cuu").await.text().await.unwrap();
    assert!(
        vi.contains(r#"<html lang="vi">"#)
            && vi.contains("Tra cứu tình trạng hồ sơ")
            && vi.contains(">English<")
    );
    let res = app
        .client
        .get(app.url("/ngon-ngu/en"))
        .header("referer", format!("{}/tra-cuu", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/tra-cuu");
    let cookie = crate::support::set_cookie(&res, "motcua_lang").unwrap();
    assert_eq!(cookie, "en");
    let en = app
        .client
        .get(app.url("/tra-cuu"))
        .header("cookie", "motcua_lang=en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains(r#"<html lang="en">"#)
            && en.contains("Track your dossier")
            && en.contains("Dossier code")
            && en.contains(">Tiếng Việt<")
    );
    // A foreign referer never becomes the redirect target.
    let res = app
        .client
        .get(app.url("/ngon-ngu/vi"))
        .header("referer", "https://evil.example//x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
}

#[tokio::test]
async fn form_01_prints_the_public_lookup_address() {
    let t = TestDb::sqlite().await;
    load_fixtures(&t).await;
    add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer"]).await;
    let config = motcua_web::WebConfig {
        public_url: "https://motcua.example.gov.vn".into(),
        ..t.web_config()
    };
    let app = TestApp::spawn_with(&t, config).await;
    let code = receive(&app).await;
    let (cookie, _) = app.browser_login("tiepnhan").await;
    let html = app
        .client
        .get(app.url(&format!("/ho-so/{code}/phieu-tiep-nhan")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("https://motcua.example.gov.vn/tra-cuu?ma={code}")),
        "{html}"
    );
    assert!(html.contains("<svg"));
}

#[tokio::test]
async fn the_lookup_limit_per_address_is_configurable() {
    let t = TestDb::sqlite().await;
    let (_, code) = received_dossier(&t).await;
    let rules = motcua_service::Rules {
        lookups_per_minute: 3,
        ..Default::default()
    };
    let app = TestApp::spawn_with_rules(&t, rules).await;
    let url = format!("/api/v1/public/dossiers/{code}?verify=5678");
    for _ in 0..3 {
        assert_eq!(app.get(&url).await.status(), StatusCode::OK);
    }
    assert_eq!(app.get(&url).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

on_both_backends! {
    async fn a_change_made_by_another_server_shows_once_the_cached_answer_expires(t) {
        // `other` stands for a second server process on the same database: its changes do not
        // reach `app`'s memory, so `app` answers from its cache until the entry expires.
        let (other, code) = received_dossier(t).await;
        let ttl = std::time::Duration::from_secs(2);
        let app = with_lookup_cache(t, ttl).await;
        let url = format!("/api/v1/public/dossiers/{code}?verify=5678");
        let steps = |d: &Value| d["steps"].as_array().unwrap().len();
        let first: Value = app.get(&url).await.json().await.unwrap();
        let read_at = std::time::Instant::now();
        assert_eq!(steps(&first), 1);
        let desk = other.token("tiepnhan").await;
        let res = other.client.post(other.url(&format!("/api/v1/dossiers/{code}/actions/transfer")))
            .bearer_auth(&desk).json(&json!({})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let again: Value = app.get(&url).await.json().await.unwrap();
        if read_at.elapsed() < ttl {
            assert_eq!(steps(&again), 1, "answered from memory within the lifetime");
        }
        let seen: Value = other.get(&url).await.json().await.unwrap();
        assert_eq!(steps(&seen), 2, "the server that made the change shows it at once");
        tokio::time::sleep(ttl.saturating_sub(read_at.elapsed()) + std::time::Duration::from_millis(100)).await;
        let later: Value = app.get(&url).await.json().await.unwrap();
        assert_eq!(steps(&later), 2, "shown once the cached answer expired");
        // Wrong digits are refused from memory as from the database.
        let wrong = app.get(&format!("/api/v1/public/dossiers/{code}?verify=1111")).await;
        assert_eq!(wrong.status(), StatusCode::NOT_FOUND);

        // The agency's name comes from `app`'s reference data: renamed elsewhere, it shows
        // within the same lifetime.
        rename_agency(t, &other, "Trung tâm Phục vụ hành chính công tỉnh (tên mới)").await;
        tokio::time::sleep(ttl + std::time::Duration::from_millis(100)).await;
        let renamed: Value = app.get(&url).await.json().await.unwrap();
        assert_eq!(renamed["agency_name"], "Trung tâm Phục vụ hành chính công tỉnh (tên mới)");
    }

    async fn an_answer_is_not_kept_longer_than_the_names_it_took(t) {
        // `app` reads the reference data once per lifetime; an answer read late in that
        // lifetime took its names from then, and expires with them.
        let (other, first) = received_dossier(t).await;
        let second = receive(&other).await;
        let ttl = std::time::Duration::from_secs(2);
        let app = with_lookup_cache(t, ttl).await;
        let url = |code: &str| format!("/api/v1/public/dossiers/{code}?verify=5678");
        let before: Value = app.get(&url(&first)).await.json().await.unwrap();
        let names_read = std::time::Instant::now();
        rename_agency(t, &other, "Tên mới của trung tâm").await;
        tokio::time::sleep(ttl / 2).await;
        let read_late: Value = app.get(&url(&second)).await.json().await.unwrap();
        if names_read.elapsed() < ttl {
            assert_eq!(read_late["agency_name"], before["agency_name"], "names from the picture read with the first lookup");
        }
        tokio::time::sleep((ttl + std::time::Duration::from_millis(100)).saturating_sub(names_read.elapsed())).await;
        let again: Value = app.get(&url(&second)).await.json().await.unwrap();
        assert_eq!(again["agency_name"], "Tên mới của trung tâm");
    }
}

#[tokio::test]
async fn a_stranger_guessing_digits_cannot_lock_the_citizen_out() {
    // Wrong digits lock that client out of that code; the citizen, from elsewhere, still
    // looks their dossier up.
    let t = TestDb::sqlite().await;
    let (_, code) = received_dossier(&t).await;
    let app = TestApp::spawn_with(
        &t,
        motcua_web::WebConfig {
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..t.web_config()
        },
    )
    .await;
    let from = |client: &'static str, verify: &'static str| {
        app.client
            .get(app.url(&format!("/api/v1/public/dossiers/{code}?verify={verify}")))
            .header("x-forwarded-for", client)
            .send()
    };
    for _ in 0..5 {
        assert_eq!(
            from("203.0.113.9", "0000").await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        from("203.0.113.9", "5678").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        from("198.51.100.7", "5678").await.unwrap().status(),
        StatusCode::OK,
        "the owner is not locked out"
    );
}

on_both_backends! {
    async fn the_lookup_takes_a_code_however_it_was_typed_and_says_what_is_wrong(t) {
        let (app, code) = received_dossier(t).await;
        let enc = motcua_web::urls::url_encode;
        // Pasted from the SMS, lower case, spaces around the dashes, an en dash.
        let (agency, rest) = code.split_once('-').unwrap();
        let (day, seq) = rest.split_once('-').unwrap();
        for typed in [
            format!("  {code}  "),
            code.to_lowercase(),
            format!("{agency} - {day} \u{2013} {seq}"),
            format!("Mã hồ sơ: {code}. Hẹn trả kết quả 15/12/2026."),
        ] {
            let res = app.get(&format!("/tra-cuu?ma={}&verify=5678", enc(&typed))).await;
            assert_eq!(res.status(), StatusCode::OK, "{typed:?}");
            let html = res.text().await.unwrap();
            assert!(html.contains(&format!("Hồ sơ {code}")), "{typed:?}");
            let api = app.get(&format!("/api/v1/public/dossiers/{}?verify=5678", enc(&code.to_lowercase()))).await;
            assert_eq!(api.status(), StatusCode::OK);
        }
        // The QR's address only fills the code in: no error yet.
        let html = app.get(&format!("/tra-cuu?ma={code}")).await.text().await.unwrap();
        assert!(!html.contains("aria-invalid"), "{html}");
        assert!(html.contains("000.00.01.H56-261207-0001"), "the format is shown");
        // Empty: both errors at once, in the summary and at each field.
        let res = app.get("/tra-cuu?ma=&verify=").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let html = res.text().await.unwrap();
        assert!(html.contains("<title>Lỗi: "), "{html}");
        assert_eq!(html.matches("aria-invalid=\"true\"").count(), 2, "{html}");
        assert!(html.contains("href=\"#ma\"") && html.contains("href=\"#verify\""));
        assert!(html.contains("Nhập mã hồ sơ"));
        // Not a code at all.
        let res = app.get(&format!("/tra-cuu?ma={}&verify=5678", enc("hồ sơ của tôi"))).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.text().await.unwrap().contains("Mã hồ sơ không đúng dạng"));
    }
}
