//! HTTP basics on both backends: health, readiness, metrics, errors, gzip, limits, docs.

use crate::support::{TestApp, on_both_backends};
use reqwest::StatusCode;

on_both_backends! {
    async fn healthz_and_readyz_answer(t) {
        let app = TestApp::spawn(t).await;
        let res = app.get("/healthz").await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        let res = app.get("/readyz").await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: serde_json::Value = res.json().await.unwrap();
        let expected = if t.url.starts_with("sqlite") { "sqlite" } else { "postgres" };
        assert_eq!(body["database"], expected);
    }

    async fn readyz_fails_when_the_database_is_gone(t) {
        let app = TestApp::spawn(t).await;
        t.db.close().await;
        let res = app.get("/readyz").await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], 503);
        // Liveness does not depend on the database.
        assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    }

    async fn metrics_count_requests_by_route_and_status(t) {
        let app = TestApp::spawn(t).await;
        app.get("/healthz").await;
        app.get("/healthz").await;
        app.get("/no/such/page").await;
        let res = app.get("/metrics").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = res.text().await.unwrap();
        assert!(text.contains(r#"motcua_http_requests_total{method="GET",route="/healthz",status="200"} 2"#), "{text}");
        assert!(text.contains(r#"motcua_http_requests_total{method="GET",route="unmatched",status="404"} 1"#), "{text}");
        assert!(text.contains("motcua_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"+Inf\"} 2"));
        assert!(text.contains("motcua_db_pool_connections{pool="), "{text}");
        assert_eq!(
            text.contains("motcua_db_write_groups_total "),
            t.db.group_stats().is_some(),
            "group commit figures on SQLite only: {text}"
        );
    }

    async fn landing_page_is_vietnamese_and_counts_dossiers(t) {
        motcua::demo::seed(&t.services()).await.unwrap();
        let app = TestApp::spawn_with(t, motcua_web::WebConfig { demo_accounts: motcua::demo::accounts(), ..t.web_config() }).await;
        let res = app.get("/").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = res.text().await.unwrap();
        assert!(html.contains(r#"<html lang="vi">"#));
        assert!(html.contains("Hệ thống thông tin một cửa điện tử"));
        for role in ["receiving_officer", "leader", "specialist", "approver", "clerk", "result_officer", "desk_head", "supervisor", "admin"] {
            let label = role.parse::<motcua_domain::access::Role>().unwrap().label_vi();
            assert!(html.contains(&format!("<tr><td>{label}</td>")), "landing page lacks the {role} demo login");
            assert!(!html.contains(&format!("({role})")), "the page shows the role's slug");
        }
        assert!(html.contains(motcua::demo::DEMO_PASSWORD));
        assert!(html.contains("Đã trả kết quả"));
        assert!(html.contains("Số liệu được tính lại sau mỗi 30 giây."), "the counts say how old they may be");
    }

    async fn unknown_pages_get_a_friendly_404_and_api_gets_problem_json(t) {
        let app = TestApp::spawn(t).await;
        let res = app.get("/khong-co-trang-nay").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = res.text().await.unwrap();
        assert!(html.contains("Không tìm thấy trang"));
        assert!(html.contains(r#"href="/""#));

        let res = app.get("/api/v1/khong-co").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], 404);
        assert_eq!(body["title"], "Not Found");
    }
}

#[tokio::test]
async fn every_response_carries_a_unique_request_id() {
    let t = crate::support::TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let a = app.get("/healthz").await.headers()["x-request-id"].clone();
    let b = app.get("/healthz").await.headers()["x-request-id"].clone();
    assert_ne!(a, b);
    // A caller's own id is kept, so logs can be correlated across services.
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn responses_are_gzipped_when_asked() {
    let t = crate::support::TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let res = app
        .client
        .get(app.url("/api/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
    let plain = app.get("/api/openapi.json").await;
    assert!(plain.headers().get("content-encoding").is_none());
}

/// The client sends its whole body before it reads: the refusal must still reach it, not a
/// reset (the server drains a body it refused unread).
#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let t = crate::support::TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let body = vec![b'x'; 21 * 1024 * 1024];
    let (status, answer) = app
        .send_whole(
            "POST /api/v1/anything HTTP/1.1\r\nContent-Type: application/json",
            &body,
        )
        .await;
    assert_eq!(status, 413, "{answer}");
    let (status, answer) = app
        .send_whole(
            "POST /api/v1/uploads?filename=scan.pdf HTTP/1.1\r\nContent-Type: application/pdf",
            &body[..5 * 1024 * 1024],
        )
        .await;
    assert_eq!(status, 401, "refused before the body is read: {answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
}

#[tokio::test]
async fn openapi_document_lists_the_endpoints_and_docs_work_offline() {
    let t = crate::support::TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/auth/login",
        "/api/v1/calendar/{year}",
        "/api/v1/calendar/due",
        "/api/v1/calendar/overrides",
        "/api/v1/calendar/overrides/{date}",
        "/api/v1/calendar/overrides/import",
        "/api/v1/agencies",
        "/api/v1/procedures",
        "/api/v1/procedures/{code}",
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/dossiers",
        "/api/v1/dossiers/{code}",
        "/api/v1/dossiers/{code}/actions/{action}",
        "/api/v1/dossiers/{code}/events",
        "/api/v1/uploads",
        "/api/v1/public/dossiers/{code}",
        "/api/v1/feedback",
        "/api/v1/feedback/public",
        "/api/v1/feedback/{reference}",
        "/api/v1/reports/ii06a",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from OpenAPI");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // Every reference resolves: no schema is missing or shadowed by a namesake.
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(doc["components"]["schemas"][name].is_object(), "unresolved {r}");
    }
    assert!(doc["components"]["schemas"]["FeedbackActionInput"].is_object());
    assert!(doc["components"]["schemas"]["ActionInput"].is_object());

    let res = app.get("/api/docs/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(
        !html.contains("https://"),
        "docs page must not load from the internet: {html}"
    );
    // Its assets are served by us.
    for asset in [
        "/api/docs/swagger-ui.css",
        "/api/docs/swagger-ui-bundle.js",
        "/api/docs/swagger-initializer.js",
    ] {
        let res = app.get(asset).await;
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
    }
    let init = app
        .get("/api/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/openapi.json"));
}

/// The API's contract, pinned: `/api/openapi.json` equals `tests/it/openapi.json`. A change to
/// the API shows in review as a change to that file; after a deliberate one, write it anew
/// with `MOTCUA_UPDATE_SNAPSHOTS=1 cargo test -p motcua --test it openapi_document_matches`.
#[tokio::test]
async fn openapi_document_matches_its_snapshot() {
    let t = crate::support::TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let doc: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let actions = &doc["paths"]["/api/v1/dossiers/{code}/actions/{action}"]["post"]["parameters"];
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "action")
        .expect("the action parameter");
    let ids: Vec<&str> = action["schema"]["enum"]
        .as_array()
        .expect("the action is an enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let expected: Vec<&str> = motcua_domain::dossier::machine::Action::ALL
        .iter()
        .map(|a| a.as_str())
        .collect();
    assert_eq!(ids, expected);
    // Every operation has its own id (the document is validated in full by
    // openapi-spec-validator in scripts/fuzz-api).
    let mut operation_ids = std::collections::HashMap::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            if let Some(other) = operation_ids.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId {id:?} of {method} {path} is also {other}'s");
            }
        }
    }
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/openapi.json");
    if std::env::var_os("MOTCUA_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let pinned = std::fs::read_to_string(&path).expect("tests/it/openapi.json");
    if pinned != text {
        let line = pinned.lines().zip(text.lines()).position(|(a, b)| a != b);
        panic!(
            "/api/openapi.json differs from tests/it/openapi.json (first at line {}); if the change is \
             meant, run with MOTCUA_UPDATE_SNAPSHOTS=1 and review the file's diff",
            line.map_or_else(|| "the end".to_string(), |l| (l + 1).to_string())
        );
    }
}

#[tokio::test]
async fn static_stylesheet_has_print_rules() {
    let t = crate::support::TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let res = app.get("/static/motcua.css").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(res.text().await.unwrap().contains("@media print"));
}

/// Signing in never sends the officer to another site, whatever `next` says (`%09` is a tab,
/// which browsers drop: `/\t/evil.example/` would read as `//evil.example/`).
#[tokio::test]
async fn signing_in_returns_only_to_a_page_of_this_site() {
    use crate::support::{hidden_value, password_of, set_cookie};
    let t = crate::support::TestDb::sqlite().await;
    crate::support::load_fixtures(&t).await;
    crate::support::add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer"]).await;
    let app = TestApp::spawn(&t).await;
    for (asked, back) in [
        ("/%09/evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/%5Cevil.example", "/"),
        ("https://evil.example/", "/"),
        ("/ho-so%3Finbox%3Dmine", "/ho-so?inbox=mine"),
    ] {
        let res = app.get(&format!("/login?next={asked}")).await;
        let cookie = set_cookie(&res, "motcua_login_csrf").unwrap();
        let html = res.text().await.unwrap();
        assert_eq!(hidden_value(&html, "next").as_deref(), Some(back), "{asked}");
        let decoded = asked
            .replace("%09", "\t")
            .replace("%5C", "\\")
            .replace("%3F", "?")
            .replace("%3D", "=");
        let res = app
            .client
            .post(app.url("/login"))
            .header("cookie", format!("motcua_login_csrf={cookie}"))
            .form(&[
                ("csrf", hidden_value(&html, "csrf").unwrap().as_str()),
                ("next", decoded.as_str()),
                ("username", "tiepnhan"),
                ("password", &password_of("tiepnhan")),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{asked}");
        assert_eq!(res.headers()["location"], back, "{asked}");
    }
}

/// Signing in without a `next` lands on the officer's work list, on the tab of their first
/// job; from then on every page, the public ones and the error pages too, names them and
/// offers the sign-out.
#[tokio::test]
async fn an_officer_lands_on_their_work_list_and_every_page_names_them() {
    use crate::support::{add_user, hidden_value, password_of, set_cookie};
    let t = crate::support::TestDb::sqlite().await;
    crate::support::load_fixtures(&t).await;
    let desk = "000.00.01.H56";
    add_user(&t.db, "tiepnhan", desk, &["receiving_officer", "result_officer"]).await;
    add_user(&t.db, "chuyenvien", desk, &["specialist"]).await;
    add_user(&t.db, "lanhdao", desk, &["leader"]).await;
    add_user(&t.db, "giamsat", desk, &["supervisor"]).await;
    add_user(&t.db, "quantri", desk, &["admin"]).await;
    let app = TestApp::spawn(&t).await;
    let header = |html: &str| html.split("</header>").next().unwrap_or("").to_string();
    for (username, lands) in [
        ("tiepnhan", "/ho-so?inbox=queue"),
        ("chuyenvien", "/ho-so?inbox=mine"),
        ("lanhdao", "/ho-so?inbox=unit"),
        ("giamsat", "/ho-so"),
        ("quantri", "/admin/agencies"),
    ] {
        let res = app.get("/login").await;
        let cookie = set_cookie(&res, "motcua_login_csrf").unwrap();
        let html = res.text().await.unwrap();
        assert_eq!(hidden_value(&html, "next").as_deref(), Some(""));
        let res = app
            .client
            .post(app.url("/login"))
            .header("cookie", format!("motcua_login_csrf={cookie}"))
            .form(&[
                ("csrf", hidden_value(&html, "csrf").unwrap().as_str()),
                ("next", ""),
                ("username", username),
                ("password", &password_of(username)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{username}");
        assert_eq!(res.headers()["location"], lands, "{username}");
        let session = format!("motcua_session={}", set_cookie(&res, "motcua_session").unwrap());
        let res = app
            .client
            .get(app.url(lands))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{username} lands on {lands}");
        for path in [
            "/",
            "/thu-tuc",
            "/tra-cuu",
            "/phan-anh/da-tra-loi",
            "/khong-co-trang-nay",
        ] {
            let html = app
                .client
                .get(app.url(path))
                .header("cookie", &session)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let h = header(&html);
            assert!(
                h.contains("Nguyễn Văn Thử")
                    && h.contains(&format!("({username})"))
                    && h.contains(r#"<form method="post" action="/logout""#)
                    && !h.contains(r#"href="/login""#),
                "{username} on {path}: {h}"
            );
        }
    }
}

// A NUL character anywhere a stranger can type is a 400 that says so, on both backends
// (PostgreSQL cannot store it; the answer was a 500), and a search too long for a query is a
// 400 too (SQLite refuses LIKE patterns past 50,000 bytes; the answer was a 500).
on_both_backends! {
    async fn bad_text_is_a_clear_400_never_a_500(t) {
        crate::support::load_fixtures(t).await;
        let app = TestApp::spawn(t).await;
        let client = &app.client;
        let json = |path: &str, body: &str| {
            client.post(app.url(path)).header("content-type", "application/json").body(body.to_string()).send()
        };
        let form = |path: &str, body: &str| {
            client.post(app.url(path)).header("content-type", "application/x-www-form-urlencoded").body(body.to_string()).send()
        };
        let nul = [
            app.client.get(app.url("/tra-cuu?code=000.00.01.H56-260101-0001%00&verify=1234")).send().await.unwrap(),
            app.client.get(app.url("/api/v1/public/dossiers/X%00Y?verify=1234")).send().await.unwrap(),
            app.client.get(app.url("/thu-tuc?q=kh%00ai")).send().await.unwrap(),
            app.client.get(app.url("/api/v1/procedures?q=%00")).send().await.unwrap(),
            json("/api/v1/feedback", r#"{"name":"A\u0000","phone":"0911222333","agency":"000.00.01.H56","subject":"x","content":"y"}"#).await.unwrap(),
            json("/api/v1/auth/login", r#"{"username":"a\u0000","password":"x"}"#).await.unwrap(),
            form("/phan-anh", "name=A%00&phone=0911222333&agency=000.00.01.H56&subject=x&content=y").await.unwrap(),
            form("/cong-dan/dang-ky", "full_name=A%00&login=0911222333&password=mat-khau-an-toan").await.unwrap(),
            form("/login", "username=a%00&password=x&csrf=x").await.unwrap(),
        ];
        for res in nul {
            let url = res.url().to_string();
            let api = url.contains("/api/");
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{url}");
            let body = res.text().await.unwrap();
            if api {
                assert!(body.contains("NUL"), "{url}: {body}");
            } else {
                assert!(body.contains("ký tự NUL"), "{url}: {body}");
            }
        }
        let long = "a".repeat(60_000);
        for path in [format!("/api/v1/procedures?q={long}"), format!("/api/v1/feedback/public?q={long}"), format!("/thu-tuc?q={long}")] {
            let res = app.get(&path).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{}", &path[..30]);
        }
        let desk = {
            crate::support::add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer"]).await;
            app.token("tiepnhan").await
        };
        let res = app.client.get(app.url(&format!("/api/v1/dossiers?q={long}"))).bearer_auth(&desk).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.text().await.unwrap().contains("search is too long"));
    }
}

/// Pages and API answers carry the security headers: a policy that allows no script and no
/// framing, no sniffing, no referrer to other sites, nothing cached; HSTS once the site says
/// it is served over HTTPS. A browser session writes through the API only with its CSRF token.
#[tokio::test]
async fn answers_carry_security_headers_and_api_writes_need_the_csrf_token() {
    let t = crate::support::TestDb::sqlite().await;
    crate::support::load_fixtures(&t).await;
    crate::support::add_user(&t.db, "quantri", "000.00.01.H56", &["admin"]).await;
    let app = TestApp::spawn(&t).await;
    for path in ["/", "/login", "/thu-tuc", "/api/v1/procedures", "/khong-co"] {
        let res = app.get(path).await;
        let h = res.headers();
        let policy = h["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains("script-src"), "{path}: pages run no script");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "{path}: plain HTTP here"
        );
    }
    let css = app.get("/static/motcua.css").await;
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public")
    );
    let docs = app.get("/api/docs/").await;
    assert!(
        docs.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );

    // A session cookie (a browser) writes through the API only with the session's token.
    let (cookie, csrf) = app.browser_login("quantri").await;
    let put = |with: Option<&str>| {
        let mut req = app
            .client
            .put(app.url("/api/v1/calendar/overrides/2026-11-07"))
            .header("cookie", &cookie)
            .json(&serde_json::json!({"kind": "workday", "name": "Làm bù"}));
        if let Some(token) = with {
            req = req.header("x-csrf-token", token);
        }
        req.send()
    };
    let res = put(None).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("X-CSRF-Token"));
    assert_eq!(put(Some("forged")).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert!(put(Some(&csrf)).await.unwrap().status().is_success());
    // Reading needs no token; a bearer token needs none either.
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let token = app.token("quantri").await;
    let res = app
        .client
        .put(app.url("/api/v1/calendar/overrides/2026-11-08"))
        .bearer_auth(token)
        .json(&serde_json::json!({"kind": "workday", "name": "Làm bù"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    // Served over HTTPS (as --secure-cookies says): HSTS.
    let secure = TestApp::spawn_with(
        &t,
        motcua_web::WebConfig {
            secure_cookies: true,
            ..t.web_config()
        },
    )
    .await;
    let res = secure.get("/").await;
    assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000");
}

/// A stranger guessing an officer's password slows only their own tries (growing waits per
/// client and account), never the owner's sign-in from elsewhere. Behind a proxy the client is
/// the one the proxy names, only if the proxy is trusted (`--trusted-proxy`).
#[tokio::test]
async fn a_stranger_guessing_a_password_cannot_lock_its_owner_out() {
    use crate::support::password_of;
    let t = crate::support::TestDb::sqlite().await;
    crate::support::load_fixtures(&t).await;
    crate::support::add_user(&t.db, "quantri", "000.00.01.H56", &["admin"]).await;
    let login = |app: &TestApp, from: &str, password: String| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", from.to_string())
            .json(&serde_json::json!({"username": "quantri", "password": password}))
            .send()
    };
    let behind_proxy = TestApp::spawn_with(
        &t,
        motcua_web::WebConfig {
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..t.web_config()
        },
    )
    .await;
    let mut refused = Vec::new();
    for _ in 0..8 {
        let res = login(&behind_proxy, "203.0.113.9", "doan-bua".into())
            .await
            .unwrap();
        refused.push(res.status().as_u16());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=900).contains(&wait));
        }
    }
    assert_eq!(
        refused,
        [401, 401, 401, 429, 429, 429, 429, 429],
        "three free tries, then a wait"
    );
    let owner = login(&behind_proxy, "198.51.100.7", password_of("quantri"))
        .await
        .unwrap();
    assert_eq!(
        owner.status(),
        StatusCode::OK,
        "the owner signs in from their own address"
    );

    // Without a trusted proxy the header is ignored: everyone is the socket's peer.
    let direct = TestApp::spawn(&t).await;
    for _ in 0..8 {
        login(&direct, "203.0.113.9", "doan-bua".into()).await.unwrap();
    }
    let res = login(&direct, "198.51.100.7", password_of("quantri"))
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged header changes nothing"
    );
}

/// A server with small limits, on its own: its address and the task serving it, which ends
/// when `stop` is sent.
async fn small_server(
    t: &crate::support::TestDb,
    limits: motcua_web::server::ServerLimits,
    request_timeout: std::time::Duration,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = motcua_web::WebConfig {
        request_timeout,
        ..t.web_config()
    };
    let app = motcua_web::router(motcua_web::AppState::new(t.services(), config));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        motcua_web::server::serve(listener, app, limits, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (addr, stop, task)
}

/// Reads a socket until the server closes it (or `within` passes): what it answered.
async fn read_to_close(s: &mut tokio::net::TcpStream, within: std::time::Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    match tokio::time::timeout(within, s.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

/// Idle sockets cannot starve the server: one client's connections are capped (others still
/// get in), a connection that sends no request is closed after the header deadline, and a
/// request whose body never finishes is answered 408 at its deadline. On shutdown the server
/// stops within its grace period even with a request half sent.
#[tokio::test]
async fn idle_and_half_sent_connections_cannot_hold_the_server() {
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    let t = crate::support::TestDb::sqlite().await;
    let limits = motcua_web::server::ServerLimits {
        header_timeout: Duration::from_secs(2),
        max_connections: 400,
        max_connections_per_client: 50,
        shutdown_grace: Duration::from_secs(2),
        trusted_proxies: Vec::new(),
    };
    let (addr, stop, task) = small_server(&t, limits, Duration::from_secs(3)).await;
    // A stranger from another address (127.0.0.2 is the loopback too) opens 120 idle sockets.
    let mut idle = Vec::new();
    for _ in 0..120 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        idle.push(socket.connect(addr).await.unwrap());
    }
    // Everyone else is served at once.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let res = client.get(format!("http://{addr}/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Past the cap, the stranger's sockets are closed as they come; the others once the header
    // deadline passes without a request.
    let mut closed_at_once = 0;
    for s in &mut idle[50..] {
        if read_to_close(s, Duration::from_millis(500)).await.is_some() {
            closed_at_once += 1;
        }
    }
    assert_eq!(closed_at_once, 70, "sockets over the per-client cap");
    for s in &mut idle[..50] {
        assert!(
            read_to_close(s, Duration::from_secs(10)).await.is_some(),
            "an idle socket is closed"
        );
    }
    // A body that never finishes: 408 at the request deadline.
    let mut half = tokio::net::TcpStream::connect(addr).await.unwrap();
    half.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user")
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    tokio::time::timeout(
        Duration::from_secs(15),
        tokio::io::AsyncReadExt::read_exact(&mut half, &mut answer),
    )
    .await
    .expect("answered")
    .unwrap();
    assert_eq!(&answer, b"HTTP/1.1 408", "{}", String::from_utf8_lossy(&answer));
    // Shutdown with a request half sent: the server is gone within its grace.
    let mut stuck = tokio::net::TcpStream::connect(addr).await.unwrap();
    stuck
        .write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("stopped within the grace")
        .unwrap();
}
