//! The dossier lifecycle over the JSON API, on both backends: a two-agency workflow with a
//! supplement, online acceptance, authorisation, concurrency, the hash chain, inboxes.

use crate::support::{TestApp, TestDb, add_user, load_fixtures, officer, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

struct Desk {
    app: TestApp,
    desk: String,
    leader: String,
    specialist: String,
    approver: String,
}

async fn setup(t: &TestDb) -> Desk {
    load_fixtures(t).await;
    add_user(
        &t.db,
        "tiepnhan",
        "000.00.01.H56",
        &["receiving_officer", "result_officer"],
    )
    .await;
    add_user(&t.db, "lanhdao.xd", "000.00.10.H56", &["leader"]).await;
    add_user(&t.db, "chuyenvien.xd", "000.00.10.H56", &["specialist"]).await;
    add_user(&t.db, "pheduyet.xd", "000.00.10.H56", &["approver"]).await;
    add_user(&t.db, "tiepnhan.xa", "000.30.02.H56", &["receiving_officer"]).await;
    let app = TestApp::spawn(t).await;
    let desk = app.token("tiepnhan").await;
    let leader = app.token("lanhdao.xd").await;
    let specialist = app.token("chuyenvien.xd").await;
    let approver = app.token("pheduyet.xd").await;
    Desk {
        app,
        desk,
        leader,
        specialist,
        approver,
    }
}

async fn upload(app: &TestApp, token: &str, name: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let res = app
        .client
        .post(app.url(&format!("/api/v1/uploads?filename={name}")))
        .bearer_auth(token)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn intake_body(file: &str) -> Value {
    json!({
        "procedure": "1.009972", "case": "cong-trinh", "agency": "000.00.01.H56", "channel": "direct",
        "applicant": {"kind": "person", "name": "Nguyễn Văn An", "id_number": "015093000123", "phone": "0912 345 678",
                      "email": "an@example.vn", "address": "Tổ 5, phường Yên Bái"},
        "request": "Cấp giấy phép xây dựng nhà văn phòng 9 tầng",
        "components": [{"index": 0, "provided": true, "file": format!("sha256:{file}")}, {"index": 1, "provided": true}]
    })
}

async fn act(app: &TestApp, token: &str, key: &str, action: &str, body: Value) -> (StatusCode, Value) {
    let res = app
        .client
        .post(app.url(&format!("/api/v1/dossiers/{key}/actions/{action}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    if status == StatusCode::OK {
        // The answer is built from what the action wrote: it equals a fresh read.
        let (s, fresh) = get(
            app,
            token,
            &format!("/api/v1/dossiers/{}", body["key"].as_str().unwrap()),
        )
        .await;
        if s == StatusCode::OK {
            assert_eq!(
                without_timing(&body),
                without_timing(&fresh),
                "{action}: answer differs from a fresh read"
            );
        }
    }
    (status, body)
}

/// A dossier view without step timings (they depend on the instant of the read).
fn without_timing(v: &Value) -> Value {
    let mut v = v.clone();
    for s in v["steps"].as_array_mut().into_iter().flatten() {
        s.as_object_mut().unwrap().remove("timing");
    }
    v
}

async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    app.call(reqwest::Method::GET, path, token, None).await
}

on_both_backends! {
    async fn intakes_at_once_with_clients_giving_up_lose_nothing_and_leave_the_writer_free(t) {
        // 24 intakes at once; half of the clients give up within a few milliseconds, so
        // their requests are dropped mid-transaction (on SQLite, inside a shared group
        // commit). Every intake that was answered is stored under its own code, and the
        // server takes the next one.
        let Desk { app, desk, .. } = setup(t).await;
        let (_, file) = upload(&app, &desk, "don.pdf", PDF).await;
        let sha = file["sha256"].as_str().unwrap().to_string();
        let mut tasks = Vec::new();
        for i in 0..24u64 {
            let (url, desk, body) = (app.url("/api/v1/dossiers"), desk.clone(), intake_body(&sha));
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut req = client.post(url).bearer_auth(desk).json(&body);
                if i % 2 == 1 {
                    req = req.timeout(std::time::Duration::from_millis(1 + i % 5));
                }
                match req.send().await {
                    Ok(res) => {
                        let status = res.status();
                        let body: Value = res.json().await.unwrap_or(Value::Null);
                        Some((status, body))
                    }
                    Err(e) => {
                        assert!(i % 2 == 1 && e.is_timeout(), "only a client that gave up fails: {e}");
                        None
                    }
                }
            }));
        }
        let mut codes = std::collections::HashSet::new();
        for task in tasks {
            if let Some((status, body)) = task.await.unwrap() {
                assert_eq!(status, StatusCode::CREATED, "{body}");
                let code = body["code"].as_str().unwrap().to_string();
                let (s, stored) = get(&app, &desk, &format!("/api/v1/dossiers/{code}")).await;
                assert_eq!(s, StatusCode::OK, "answered {code} but did not store it: {stored}");
                assert!(codes.insert(code.clone()), "code {code} issued twice");
            }
        }
        assert!(codes.len() >= 12, "every client that waited got its dossier: {}", codes.len());
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(&sha)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "the writer is free afterwards");
        let code = res.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();
        assert!(!codes.contains(&code), "a new code: {code}");
    }

    async fn actions_with_clients_giving_up_leave_every_dossier_whole_and_the_writer_free(t) {
        // Twelve transfers at once; half of the clients give up within a few milliseconds,
        // so their actions are dropped wherever they are (reading, beginning, committing).
        // Every dossier is then either untouched or transferred, never in between: status,
        // version and events agree and the hash chain holds. Each untouched one can still
        // be transferred, and none can be transferred twice.
        let Desk { app, desk, .. } = setup(t).await;
        let (_, file) = upload(&app, &desk, "don.pdf", PDF).await;
        let sha = file["sha256"].as_str().unwrap().to_string();
        let mut codes = Vec::new();
        for _ in 0..12 {
            let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(&sha)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            codes.push(res.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string());
        }
        let tasks: Vec<_> = codes
            .iter()
            .enumerate()
            .map(|(i, code)| {
                let (url, desk) = (app.url(&format!("/api/v1/dossiers/{code}/actions/transfer")), desk.clone());
                tokio::spawn(async move {
                    let mut req = reqwest::Client::new().post(url).bearer_auth(desk).json(&json!({}));
                    if i % 2 == 1 {
                        req = req.timeout(std::time::Duration::from_millis(1 + i as u64 % 5));
                    }
                    match req.send().await {
                        Ok(res) => assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap_or_default()),
                        Err(e) => assert!(i % 2 == 1 && e.is_timeout(), "only a client that gave up fails: {e}"),
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        for code in &codes {
            let (_, d) = get(&app, &desk, &format!("/api/v1/dossiers/{code}")).await;
            let (_, ev) = get(&app, &desk, &format!("/api/v1/dossiers/{code}/events")).await;
            let events = ev["events"].as_array().unwrap().len();
            assert_eq!(ev["chain_valid"], true, "{code}");
            match d["status"]["number"].as_i64() {
                Some(2) => {
                    assert_eq!((d["version"].as_i64(), events), (Some(1), 1), "{code} untouched: {d}");
                    let (s, after) = act(&app, &desk, code, "transfer", json!({})).await;
                    assert_eq!(s, StatusCode::OK, "{code} can still be transferred: {after}");
                }
                Some(4) => {
                    assert_eq!((d["version"].as_i64(), events), (Some(2), 2), "{code} transferred once: {d}");
                    let (s, _) = act(&app, &desk, code, "transfer", json!({})).await;
                    assert!(s.is_client_error(), "{code} transferred twice: {s}");
                }
                other => panic!("{code}: status {other:?}: {d}"),
            }
        }
    }

    async fn a_two_agency_workflow_with_a_supplement_runs_to_the_end(t) {
        let Desk { app, desk, leader, specialist, approver } = setup(t).await;
        let (status, file) = upload(&app, &desk, "don.pdf", PDF).await;
        assert_eq!(status, StatusCode::CREATED);
        let sha = file["sha256"].as_str().unwrap();
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(sha)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let d: Value = res.json().await.unwrap();
        let code = d["code"].as_str().unwrap().to_string();
        assert_eq!(without_timing(&d), without_timing(&get(&app, &desk, &format!("/api/v1/dossiers/{code}")).await.1));
        let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap()).format("%y%m%d").to_string();
        assert_eq!(code, format!("000.00.01.H56-{today}-0001"));
        assert_eq!(d["status"], json!({"name": "received", "number": 2, "label": "Đã tiếp nhận"}));
        assert_eq!(d["due_at"], d["original_due_at"]);
        assert_eq!(d["steps"].as_array().unwrap().len(), 5);
        assert!(d["steps"][0]["started_at"].is_string());
        assert_eq!(d["components"][0]["file"], format!("sha256:{sha}"));
        assert_eq!(d["allowed_actions"], json!(["transfer", "withdraw"]));
        // An action on a dossier that does not exist is a 404, by code or by online id.
        for key in ["000.00.01.H56-991231-9999", "online-999999"] {
            let (s, body) = act(&app, &desk, key, "transfer", json!({})).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{key}: {body}");
        }

        // The desk hands over to the construction department (liên thông).
        let (s, d) = act(&app, &desk, &code, "transfer", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["status"]["number"], 4);
        assert_eq!(d["steps"][1]["agency"], "000.00.10.H56");
        assert!(d["steps"][0]["completed_at"].is_string());
        // The specialist cannot jump the leader's step.
        let (s, _) = act(&app, &specialist, &code, "complete_step", json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, d) = act(&app, &leader, &code, "assign", json!({"assignee": "chuyenvien.xd"})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["steps"][2]["assignee"], "chuyenvien.xd");
        let (s, _) = act(&app, &leader, &code, "assign", json!({"assignee": "tiepnhan"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "only a specialist of that agency");
        // A disabled specialist is refused too (their roles are read before the transaction).
        add_user(&t.db, "chuyenvien2.xd", "000.00.10.H56", &["specialist"]).await;
        crate::support::exec(&t.db, "UPDATE users SET disabled = TRUE WHERE username = 'chuyenvien2.xd'").await;
        let (s, body) = act(&app, &leader, &code, "assign", json!({"assignee": "chuyenvien2.xd"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.to_string().contains("that user is disabled"), "{body}");

        // One supplement after receipt pauses the clock; a second one is refused.
        let (s, _) = act(&app, &specialist, &code, "request_supplement", json!({})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a reason is required");
        let (s, d) = act(&app, &specialist, &code, "request_supplement", json!({"note": "Thiếu bản vẽ mặt cắt"})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["status"]["number"], 5);
        assert!(d["paused_at"].is_string());
        let (_, up) = upload(&app, &desk, "bo-sung.pdf", b"%PDF-1.5 bo sung").await;
        let (s, d) = act(&app, &desk, &code, "receive_supplement", json!({"file": format!("sha256:{}", up["sha256"].as_str().unwrap())})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["status"]["number"], 4);
        assert!(d["paused_at"].is_null());
        assert!(d["components"].as_array().unwrap().iter().any(|c| c["kind"] == "supplement"));
        // The answer's components (read in the action's transaction, the new one added) are
        // the stored ones.
        let (_, stored) = get(&app, &desk, &format!("/api/v1/dossiers/{code}")).await;
        assert_eq!(d["components"], stored["components"]);
        let (s, body) = act(&app, &specialist, &code, "request_supplement", json!({"note": "Lần nữa"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

        let (s, d) = act(&app, &specialist, &code, "complete_step", json!({"note": "Đủ điều kiện"})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["steps"][3]["role"], "approver");

        // Apology and a new appointment, once; statistics keep the original due.
        let original = d["original_due_at"].clone();
        let later = (chrono::DateTime::parse_from_rfc3339(d["due_at"].as_str().unwrap()).unwrap() + chrono::Duration::days(5)).to_rfc3339();
        let (s, d) = act(&app, &approver, &code, "reschedule", json!({"note": "Xin lỗi vì cần thẩm tra thêm", "new_due": later})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["original_due_at"], original);
        assert_ne!(d["due_at"], original);
        let (s, _) = act(&app, &approver, &code, "reschedule", json!({"note": "Lần hai", "new_due": later})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

        let (s, _) = act(&app, &approver, &code, "approve", json!({})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a result document is required");
        let (_, result) = upload(&app, &approver, "giay-phep.pdf", b"%PDF-1.7 giay phep").await;
        let (s, d) = act(&app, &approver, &code, "approve", json!({"file": format!("sha256:{}", result["sha256"].as_str().unwrap()), "result_number": "123/GPXD"})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["status"]["number"], 9);
        assert_eq!(d["steps"][4]["role"], "result_officer");
        assert!(d["steps"][4]["started_at"].is_string());
        let kinds: Vec<&str> = d["components"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.last(), Some(&"result"), "{kinds:?}");
        let (_, stored) = get(&app, &desk, &format!("/api/v1/dossiers/{code}")).await;
        assert_eq!(d["components"], stored["components"]);
        let (s, d) = act(&app, &desk, &code, "return_result", json!({"method": "desk"})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["status"], json!({"name": "returned", "number": 10, "label": "Đã trả kết quả"}));
        assert!(d["steps"].as_array().unwrap().iter().all(|s| s["completed_at"].is_string() && s["timing"].is_string()));

        // Terminal: nothing more, and the answer lists what is allowed (nothing).
        let (s, body) = act(&app, &desk, &code, "withdraw", json!({"note": "x"})).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(body["allowed_actions"], json!([]));

        let (s, ev) = get(&app, &desk, &format!("/api/v1/dossiers/{code}/events")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(ev["chain_valid"], true);
        let actions: Vec<&str> = ev["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["receive", "transfer", "assign", "request_supplement", "receive_supplement", "complete_step", "reschedule", "approve", "return_result"]);
        let id: i64 = match &t.db {
            motcua_store::Db::Sqlite { read, .. } => sqlx::query_scalar("SELECT id FROM dossiers WHERE code = $1").bind(&code).fetch_one(&mut *read.acquire().await.unwrap()).await.unwrap(),
            motcua_store::Db::Postgres(pg) => sqlx::query_scalar("SELECT id FROM dossiers WHERE code = $1").bind(&code).fetch_one(&mut *pg.read.acquire().await.unwrap()).await.unwrap(),
        };
        let outbox = motcua_store::repo::outbox::of_dossier(&t.db, id).await.unwrap();
        assert_eq!(outbox.iter().filter(|(t, _)| t == "dvcqg_sync").count(), 9, "one sync per change");
        assert!(outbox.iter().any(|(t, p)| t == "notify_citizen" && p.contains("đã trả kết quả")));
        let last_sync: Value = serde_json::from_str(&outbox.iter().rev().find(|(t, _)| t == "dvcqg_sync").unwrap().1).unwrap();
        assert_eq!(last_sync["TrangThaiHoSo"], 10);
        assert_eq!(last_sync["MaHoSo"], code.as_str());
    }

    async fn online_dossiers_wait_for_acceptance_or_refusal(t) {
        let Desk { app, desk, .. } = setup(t).await;
        let mut body = intake_body("unused");
        body["channel"] = json!("online");
        body["components"] = json!([{"index": 0, "provided": true}, {"index": 1, "provided": true}]);
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let d: Value = res.json().await.unwrap();
        assert_eq!(d["status"]["number"], 1);
        assert!(d["code"].is_null() && d["accept_due_at"].is_string());
        let key = d["key"].as_str().unwrap().to_string();
        assert!(key.starts_with("online-"));
        assert_eq!(without_timing(&d), without_timing(&get(&app, &desk, &format!("/api/v1/dossiers/{key}")).await.1));
        let (_, queue) = get(&app, &desk, "/api/v1/dossiers?inbox=queue").await;
        assert_eq!(queue["total"], 1);

        // Ask the citizen to complete before acceptance: back to the queue afterwards.
        let (s, d) = act(&app, &desk, &key, "request_supplement", json!({"note": "Ảnh chụp bản vẽ bị mờ"})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["status"]["number"], 5);
        let (s, d) = act(&app, &desk, &key, "receive_supplement", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["status"]["number"], 1);
        assert_eq!(d["supplements_after_receipt"], 0, "a pre-receipt request does not count");

        let (s, d) = act(&app, &desk, &key, "accept", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["status"]["number"], 2);
        let code = d["code"].as_str().unwrap().to_string();
        assert!(code.starts_with("000.00.01.H56-"));
        assert!(d["due_at"].is_string());
        let (s, _) = get(&app, &desk, &format!("/api/v1/dossiers/{code}")).await;
        assert_eq!(s, StatusCode::OK);
        let (_, ev) = get(&app, &desk, &format!("/api/v1/dossiers/{code}/events")).await;
        assert_eq!(ev["chain_valid"], true, "the chain survives the code being issued");

        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&body).send().await.unwrap();
        let other: Value = res.json().await.unwrap();
        let key2 = other["key"].as_str().unwrap().to_string();
        let (s, _) = act(&app, &desk, &key2, "refuse", json!({})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "Form 03 needs a reason");
        let (s, d) = act(&app, &desk, &key2, "refuse", json!({"note": "Không thuộc thẩm quyền"})).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(d["status"]["number"], 3);
        assert!(d["code"].as_str().unwrap().ends_with("-0002"), "refused dossiers get a code too, never reused");
    }

    async fn officers_cannot_see_or_touch_other_agencies_dossiers(t) {
        let Desk { app, desk, specialist, .. } = setup(t).await;
        let (_, f) = upload(&app, &desk, "a.pdf", PDF).await;
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(f["sha256"].as_str().unwrap())).send().await.unwrap();
        let code = res.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();
        let commune = app.token("tiepnhan.xa").await;
        let (s, _) = get(&app, &commune, &format!("/api/v1/dossiers/{code}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = act(&app, &commune, &code, "transfer", json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = get(&app, &commune, &format!("/api/v1/dossiers/{code}/events")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, list) = get(&app, &commune, "/api/v1/dossiers").await;
        assert_eq!(list["total"], 0);
        let (s, _) = get(&app, &commune, "/api/v1/dossiers?agency=000.00.01.H56").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // The department's specialist sees nothing until the dossier reaches the department…
        let (s, _) = get(&app, &specialist, &format!("/api/v1/dossiers/{code}")).await;
        assert_eq!(s, StatusCode::OK, "a step of the department is planned for this dossier");
        let (s, _) = act(&app, &specialist, &code, "transfer", json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "only the receiving desk transfers");
        // …and a commune officer cannot receive at the provincial desk.
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&commune).json(&intake_body(f["sha256"].as_str().unwrap())).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // Supervisors and administrators never act.
        add_user(&t.db, "giamsat", "000.00.00.H56", &["supervisor"]).await;
        let sup = app.token("giamsat").await;
        let (s, _) = get(&app, &sup, &format!("/api/v1/dossiers/{code}")).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = act(&app, &sup, &code, "transfer", json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }

    async fn bad_intakes_are_refused_with_field_errors(t) {
        let Desk { app, desk, .. } = setup(t).await;
        let mut body = intake_body("0000000000000000000000000000000000000000000000000000000000000000");
        body["applicant"]["id_number"] = json!("12345");
        body["applicant"]["phone"] = json!("abc");
        body["components"] = json!([{"index": 0, "provided": true, "file": "sha256:0000000000000000000000000000000000000000000000000000000000000000"}, {"index": 9, "provided": true}]);
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let err: Value = res.json().await.unwrap();
        let fields: Vec<&str> = err["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        for f in ["applicant.id_number", "applicant.phone", "components[0].file", "components[1].index", "components"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        let (_, list) = get(&app, &desk, "/api/v1/dossiers").await;
        assert_eq!(list["total"], 0, "nothing half-written");
        let (s, _) = upload(&app, &desk, "fake.pdf", b"MZ this is an exe").await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let big = reqwest::Client::new().post(app.url("/api/v1/uploads?filename=big.pdf")).bearer_auth(&desk).body(vec![b'%'; 11 * 1024 * 1024]).send().await.unwrap();
        assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let (s, _) = act(&app, &desk, "000.00.01.H56-991231-0001", "transfer", json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let res = app.client.post(app.url("/api/v1/dossiers/x/actions/fly")).bearer_auth(&desk).json(&json!({})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    async fn the_same_new_file_uploaded_at_once_is_stored_whole_for_all(t) {
        // Eight desks scanning the same document at once: every upload is answered 201 with
        // the same digest, and the one file on disk is whole.
        let Desk { app, desk, .. } = setup(t).await;
        let mut bytes = b"%PDF-1.4 ".to_vec();
        bytes.extend((0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (url, desk, body) = (app.url("/api/v1/uploads?filename=same.pdf"), desk.clone(), bytes.clone());
                tokio::spawn(async move {
                    let res = reqwest::Client::new().post(url).bearer_auth(desk).body(body).send().await.unwrap();
                    (res.status(), res.json::<Value>().await.unwrap_or(Value::Null))
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        let digest = answers[0].1["sha256"].as_str().unwrap_or_default().to_string();
        for (status, file) in &answers {
            assert_eq!(*status, StatusCode::CREATED, "{file}");
            assert_eq!(file["sha256"], digest.as_str());
        }
        let (_, stored) = t.files().get(&t.db, &digest).await.unwrap().expect("stored");
        assert!(stored == bytes, "the file on disk is whole ({} of {} bytes)", stored.len(), bytes.len());
    }

    async fn two_officers_at_once_exactly_one_wins(t) {
        let Desk { app, desk, .. } = setup(t).await;
        let (_, f) = upload(&app, &desk, "a.pdf", PDF).await;
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(f["sha256"].as_str().unwrap())).send().await.unwrap();
        let d: Value = res.json().await.unwrap();
        let code = d["code"].as_str().unwrap().to_string();
        let version = d["version"].as_i64().unwrap();
        let body = json!({"expected_version": version});
        let (a, b) = tokio::join!(act(&app, &desk, &code, "transfer", body.clone()), act(&app, &desk, &code, "transfer", body.clone()));
        let mut statuses = vec![a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, vec![StatusCode::OK, StatusCode::CONFLICT], "{a:?} {b:?}");
        let (_, ev) = get(&app, &desk, &format!("/api/v1/dossiers/{code}/events")).await;
        assert_eq!(ev["events"].as_array().unwrap().len(), 2, "one receive, one transfer");
        // Many rounds of three at once: each loser is told 409, never 403 from the steps the
        // winner moved (the permission is judged on the same read as the version).
        for _ in 0..15 {
            let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(f["sha256"].as_str().unwrap())).send().await.unwrap();
            let d: Value = res.json().await.unwrap();
            let code = d["code"].as_str().unwrap().to_string();
            let body = json!({"expected_version": d["version"]});
            let (a, b, c) = tokio::join!(
                act(&app, &desk, &code, "transfer", body.clone()),
                act(&app, &desk, &code, "transfer", body.clone()),
                act(&app, &desk, &code, "transfer", body.clone())
            );
            let mut statuses = vec![a.0, b.0, c.0];
            statuses.sort();
            assert_eq!(statuses, vec![StatusCode::OK, StatusCode::CONFLICT, StatusCode::CONFLICT], "{a:?} {b:?} {c:?}");
        }
    }

    async fn an_intake_after_another_server_took_a_number_gets_the_next_one(t) {
        // A PostgreSQL server hands out the number after the last one it knows; another
        // server (or the CLI) on the same database taking one meanwhile makes that intake's
        // write fail, and it is written again, with the next free number, in the same request.
        let Desk { app, desk, .. } = setup(t).await;
        let (_, f) = upload(&app, &desk, "a.pdf", PDF).await;
        let body = intake_body(f["sha256"].as_str().unwrap());
        let intake = || async {
            let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&body).send().await.unwrap();
            let status = res.status();
            let d: Value = res.json().await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{d}");
            d["code"].as_str().unwrap().to_string()
        };
        let number = |code: &str| code.rsplit('-').next().unwrap().parse::<u32>().unwrap();
        let first = intake().await;
        let second = intake().await;
        assert_eq!(number(&second), number(&first) + 1);
        let day = chrono::NaiveDate::parse_from_str(&format!("20{}", first.split('-').nth(1).unwrap()), "%Y%m%d").unwrap();
        let other = motcua_store::Db::connect(&t.url).await.unwrap();
        let mut tx = other.begin().await.unwrap();
        let taken = motcua_store::repo::codes::next_code(&mut tx, "000.00.01.H56", day).await.unwrap().to_string();
        tx.commit().await.unwrap();
        other.close().await;
        assert_eq!(number(&taken), number(&second) + 1);
        let third = intake().await;
        assert_eq!(number(&third), number(&taken) + 1, "the number taken elsewhere is skipped, none is left out");
        let fourth = intake().await;
        assert_eq!(number(&fourth), number(&third) + 1);
    }

    async fn parallel_intakes_never_duplicate_a_code(t) {
        let Desk { app, desk, .. } = setup(t).await;
        let (_, f) = upload(&app, &desk, "a.pdf", PDF).await;
        let body = intake_body(f["sha256"].as_str().unwrap());
        let mut handles = Vec::new();
        for _ in 0..12 {
            let req = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&body);
            handles.push(tokio::spawn(async move { req.send().await.unwrap().json::<Value>().await.unwrap() }));
        }
        let mut codes = std::collections::HashSet::new();
        for h in handles {
            let d = h.await.unwrap();
            assert!(codes.insert(d["code"].as_str().unwrap().to_string()), "duplicate {}", d["code"]);
        }
        assert_eq!(codes.len(), 12);
    }

    async fn inboxes_filter_and_search(t) {
        let Desk { app, desk, leader, specialist, .. } = setup(t).await;
        let (_, f) = upload(&app, &desk, "a.pdf", PDF).await;
        let mut codes = Vec::new();
        for name in ["Nguyễn Văn An", "Trần Thị Bích"] {
            let mut body = intake_body(f["sha256"].as_str().unwrap());
            body["applicant"]["name"] = json!(name);
            let d: Value = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&body).send().await.unwrap().json().await.unwrap();
            codes.push(d["code"].as_str().unwrap().to_string());
        }
        let (_, found) = get(&app, &desk, "/api/v1/dossiers?q=tran%20thi%20bich").await;
        assert_eq!(found["total"], 1);
        assert_eq!(found["items"][0]["applicant_name"], "Trần Thị Bích");
        let (_, found) = get(&app, &desk, "/api/v1/dossiers?q=015093000123&status=received").await;
        assert_eq!(found["total"], 2);
        act(&app, &desk, &codes[0], "transfer", json!({})).await;
        act(&app, &leader, &codes[0], "assign", json!({"assignee": "chuyenvien.xd"})).await;
        let (_, mine) = get(&app, &specialist, "/api/v1/dossiers?inbox=mine").await;
        assert_eq!(mine["total"], 1);
        assert_eq!(mine["items"][0]["code"], codes[0].as_str());
        let (_, unit) = get(&app, &leader, "/api/v1/dossiers?inbox=unit").await;
        assert_eq!(unit["total"], 1);
        let (_, overdue) = get(&app, &desk, "/api/v1/dossiers?inbox=overdue").await;
        assert_eq!(overdue["total"], 0);
        let (s, _) = get(&app, &desk, "/api/v1/dossiers?inbox=everything").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _) = get(&app, &desk, "/api/v1/dossiers?status=flying").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn a_tampered_event_breaks_the_chain() {
    let t = TestDb::sqlite().await;
    let Desk { app, desk, .. } = setup(&t).await;
    let (_, f) = upload(&app, &desk, "a.pdf", PDF).await;
    let body = intake_body(f["sha256"].as_str().unwrap());
    let (_, d) = app
        .call(reqwest::Method::POST, "/api/v1/dossiers", &desk, Some(&body))
        .await;
    let code = d["code"].as_str().unwrap().to_string();
    act(&app, &desk, &code, "transfer", json!({"note": "chuyển"})).await;
    let (_, ev) = get(&app, &desk, &format!("/api/v1/dossiers/{code}/events")).await;
    assert_eq!(ev["chain_valid"], true);
    let motcua_store::Db::Sqlite { write, .. } = &t.db else {
        unreachable!()
    };
    sqlx::query("UPDATE dossier_events SET note = 'sửa lén' WHERE seq = 2")
        .execute(&mut **write.lock().await.unwrap())
        .await
        .unwrap();
    let (_, ev) = get(&app, &desk, &format!("/api/v1/dossiers/{code}/events")).await;
    assert_eq!(ev["chain_valid"], false);
}

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<chrono::Utc> {
    motcua_domain::calendar::local_instant(
        chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        chrono::NaiveTime::from_hms_opt(h, min, 0).unwrap(),
    )
}

on_both_backends! {
    async fn a_supplement_pauses_the_clock_and_reschedule_needs_a_working_day(t) {
        use motcua_domain::dossier::machine::Action;
        use motcua_service::dossiers::{Actor, ActionInput, IntakeInput};
        let Desk { app, .. } = setup(t).await;
        drop(app);
        let state = t.services();
        let desk = officer(t, "tiepnhan").await;
        let leader = officer(t, "lanhdao.xd").await;
        let specialist = officer(t, "chuyenvien.xd").await;
        let approver = officer(t, "pheduyet.xd").await;
        let mut body = intake_body("x");
        body["components"] = json!([{"index": 0, "provided": true}, {"index": 1, "provided": true}]);
        let input: IntakeInput = serde_json::from_value(body).unwrap();
        // Monday 2 November 2026, 09:00 at the desk.
        let d = state.at(local(2026, 11, 2, 9, 0)).intake(Actor::Officer(&desk), input).await.map(|v| v.dossier).unwrap();
        let key = d.key();
        assert!(key.ends_with("-261102-0001"), "{key}");
        let due = d.due_at.unwrap();
        let cal = motcua_domain::calendar::WorkCalendar::rules_only();
        let hours = motcua_domain::calendar::OfficeHours::default();
        let clock = motcua_domain::calendar::LegalClock::new(&cal, &hours);
        assert_eq!(due, clock.add_working_minutes(local(2026, 11, 2, 9, 0), 20 * 480), "20 working days");
        let note = |s: &str| ActionInput { note: s.into(), ..Default::default() };
        state.at(local(2026, 11, 2, 10, 0)).act(Actor::Officer(&desk), &key, Action::Transfer, ActionInput::default()).await.map(|v| v.dossier).unwrap();
        let assign = ActionInput { assignee: Some("chuyenvien.xd".into()), ..Default::default() };
        state.at(local(2026, 11, 2, 11, 0)).act(Actor::Officer(&leader), &key, Action::Assign, assign).await.map(|v| v.dossier).unwrap();
        let step_due_before = motcua_store::repo::steps::steps(&t.db, d.id).await.unwrap()[2].due_at.unwrap();
        // Paused from Tuesday 09:00 to Thursday 09:00: two working days.
        state.at(local(2026, 11, 3, 9, 0)).act(Actor::Officer(&specialist), &key, Action::RequestSupplement, note("Thiếu bản vẽ")).await.map(|v| v.dossier).unwrap();
        let after = state.at(local(2026, 11, 5, 9, 0)).act(Actor::Officer(&desk), &key, Action::ReceiveSupplement, ActionInput::default()).await.map(|v| v.dossier).unwrap();
        assert_eq!(after.due_at.unwrap(), clock.add_working_minutes(due, 2 * 480));
        assert_eq!(after.original_due_at, after.due_at, "a pause moves the legal due too");
        let step_due_after = motcua_store::repo::steps::steps(&t.db, d.id).await.unwrap()[2].due_at.unwrap();
        assert_eq!(step_due_after, clock.add_working_minutes(step_due_before, 2 * 480), "open steps move with the pause");
        state.at(local(2026, 11, 6, 9, 0)).act(Actor::Officer(&specialist), &key, Action::CompleteStep, note("Đạt")).await.map(|v| v.dossier).unwrap();
        // Less than one working day before the due: too late to reschedule.
        let due = after.due_at.unwrap();
        let too_late = clock.add_working_minutes(local(2026, 11, 6, 9, 0), clock.working_minutes_between(local(2026, 11, 6, 9, 0), due) - 120);
        let later = (due + chrono::Duration::days(3)).to_rfc3339();
        let input = ActionInput { note: "Xin lỗi".into(), new_due: Some(later.clone()), ..Default::default() };
        let refused = state.at(too_late).act(Actor::Officer(&approver), &key, Action::Reschedule, input.clone()).await.map(|v| v.dossier).unwrap_err();
        assert!(refused.to_string().contains("at least 1 working day"), "{refused}");
        let ok = state.at(local(2026, 11, 9, 9, 0)).act(Actor::Officer(&approver), &key, Action::Reschedule, input).await.map(|v| v.dossier).unwrap();
        assert_eq!(ok.original_due_at.unwrap(), due);
        assert!(ok.due_at.unwrap() > due);
    }
}

struct Failing;

impl motcua_service::outbox::Sink for Failing {
    fn deliver(&self, _: &str, _: &str) -> Result<(), String> {
        Err("portal unreachable".into())
    }
}

/// Delivers N messages to a file sink, then fails.
struct FailsAfter(
    usize,
    std::sync::atomic::AtomicUsize,
    motcua_service::outbox::FileSink,
);

impl motcua_service::outbox::Sink for FailsAfter {
    fn deliver(&self, topic: &str, payload: &str) -> Result<(), String> {
        if self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < self.0 {
            self.2.deliver(topic, payload)
        } else {
            Err("portal unreachable".into())
        }
    }
}

on_both_backends! {
    async fn the_outbox_is_delivered_at_least_once_in_order(t) {
        let Desk { app, desk, .. } = setup(t).await;
        let (_, f) = upload(&app, &desk, "a.pdf", PDF).await;
        let d: Value = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(f["sha256"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
        let code = d["code"].as_str().unwrap().to_string();
        act(&app, &desk, &code, "transfer", json!({})).await;
        let state = t.services();
        // A failing receiver keeps everything pending.
        assert_eq!(motcua_service::outbox::deliver_pending(&state, std::sync::Arc::new(Failing), 100).await.unwrap(), 0);
        assert_eq!(motcua_store::repo::outbox::pending(&t.db, 100).await.unwrap().len(), 4);
        let dir = t.data_dir().join("outbox");
        let sink = std::sync::Arc::new(motcua_service::outbox::FileSink { dir: dir.clone() });
        // A receiver failing at the second message: the first is delivered, the rest waits.
        let partly = std::sync::Arc::new(FailsAfter(1, Default::default(), motcua_service::outbox::FileSink { dir: dir.clone() }));
        assert_eq!(motcua_service::outbox::deliver_pending(&state, partly, 100).await.unwrap(), 1);
        assert_eq!(motcua_store::repo::outbox::pending(&t.db, 100).await.unwrap().len(), 3);
        assert_eq!(motcua_service::outbox::deliver_pending(&state, sink, 100).await.unwrap(), 3);
        assert!(motcua_store::repo::outbox::pending(&t.db, 100).await.unwrap().is_empty());
        let sync = std::fs::read_to_string(dir.join("dvcqg_sync.jsonl")).unwrap();
        let seqs: Vec<i64> = sync.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["event_seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, vec![1, 2]);
        let notices = std::fs::read_to_string(dir.join("notify_citizen.jsonl")).unwrap();
        assert!(notices.contains("đang được xử lý"), "{notices}");
    }
}

on_both_backends! {
    async fn delivered_messages_lose_their_content_after_the_days_kept_and_keep_their_record(t) {
        use motcua_store::repo::{dossiers, evaluation, outbox};
        let Desk { app, desk, .. } = setup(t).await;
        let (_, f) = upload(&app, &desk, "a.pdf", PDF).await;
        let d: Value = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(f["sha256"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
        let code = d["code"].as_str().unwrap().to_string();
        let stored = dossiers::find(&t.db, &code).await.unwrap().unwrap();
        let id = stored.id;
        act(&app, &desk, &code, "transfer", json!({})).await;
        let state = t.services();
        let dir = t.data_dir().join("outbox");
        // Two messages delivered first, the other two a moment later.
        let partly = std::sync::Arc::new(FailsAfter(2, Default::default(), motcua_service::outbox::FileSink { dir: dir.clone() }));
        assert_eq!(motcua_service::outbox::deliver_pending(&state, partly, 100).await.unwrap(), 2);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let between = chrono::Utc::now();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let sink = std::sync::Arc::new(motcua_service::outbox::FileSink { dir: dir.clone() });
        assert_eq!(motcua_service::outbox::deliver_pending(&state, sink.clone(), 100).await.unwrap(), 2);
        let before = outbox::of_dossier(&t.db, id).await.unwrap();
        assert_eq!(before.len(), 4);
        assert!(before.iter().all(|(_, p)| !p.is_empty()));
        let day = motcua_domain::calendar::local_date(stored.received_at.unwrap());
        let synced = || async {
            let r = evaluation::received_between(&t.db, day, day, &[stored.agency_id]).await.unwrap();
            r.iter().map(|x| (x.sync_messages, x.sync_pending)).collect::<Vec<_>>()
        };
        assert_eq!(synced().await, vec![(2, 0)]);

        // Each topic is its own queue: the portal's two messages (rows 1 and 3) went first, the
        // notices (rows 2 and 4) a moment later. 90 days on from `between`, the walk by id
        // clears row 1 and stops at row 2, not old enough.
        let keep = chrono::Duration::days(90);
        assert_eq!(motcua_service::outbox::trim_delivered(&state.at(between + keep), keep).await.unwrap(), 1);
        let after = outbox::of_dossier(&t.db, id).await.unwrap();
        assert_eq!(after.iter().map(|(t, _)| t).collect::<Vec<_>>(), before.iter().map(|(t, _)| t).collect::<Vec<_>>(), "every row stays");
        assert_eq!(after.iter().map(|(_, p)| p.is_empty()).collect::<Vec<_>>(), vec![true, false, false, false]);
        assert_eq!(synced().await, vec![(2, 0)], "the 766 index still sees the sync delivered");

        // Another dossier's messages, not delivered yet, stop the next pass before them.
        let d2: Value = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(f["sha256"].as_str().unwrap())).send().await.unwrap().json().await.unwrap();
        let id2 = dossiers::find(&t.db, d2["code"].as_str().unwrap()).await.unwrap().unwrap().id;
        let far = chrono::Utc::now() + keep + chrono::Duration::days(1);
        assert_eq!(motcua_service::outbox::trim_delivered(&state.at(far), keep).await.unwrap(), 3);
        assert!(outbox::of_dossier(&t.db, id).await.unwrap().iter().all(|(_, p)| p.is_empty()));
        let pending = outbox::of_dossier(&t.db, id2).await.unwrap();
        assert!(!pending.is_empty() && pending.iter().all(|(_, p)| !p.is_empty()), "undelivered messages keep their content");
        // Delivered, then old enough: cleared too; the file sink had them whole.
        assert_eq!(motcua_service::outbox::deliver_pending(&state, sink, 100).await.unwrap(), pending.len());
        assert_eq!(motcua_service::outbox::trim_delivered(&state.at(far), keep).await.unwrap(), pending.len() as u64);
        assert!(outbox::of_dossier(&t.db, id2).await.unwrap().iter().all(|(_, p)| p.is_empty()));
        assert_eq!(motcua_service::outbox::trim_delivered(&state.at(far), keep).await.unwrap(), 0);
        let sync = std::fs::read_to_string(dir.join("dvcqg_sync.jsonl")).unwrap();
        assert_eq!(sync.lines().count(), 3, "{sync}");
    }
}

on_both_backends! {
    async fn reference_data_changed_by_another_process_is_seen_by_the_next_request(t) {
        let Desk { app, desk, .. } = setup(t).await;
        let (_, f) = upload(&app, &desk, "a.pdf", PDF).await;
        let sha = f["sha256"].as_str().unwrap().to_string();
        let intake = || async {
            let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(&sha)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            res.json::<Value>().await.unwrap()
        };
        let before = intake().await;
        assert_eq!(before["steps"][1]["agency_name"], "Sở Xây dựng");
        // Renamed behind the server's back: the database triggers bump the reference stamp,
        // so the server's in-memory copy of the agencies is reloaded.
        crate::support::exec(&t.db, "UPDATE agencies SET name = 'Sở Xây dựng (đổi tên)' WHERE code = '000.00.10.H56'").await;
        let after = intake().await;
        assert_eq!(after["steps"][1]["agency_name"], "Sở Xây dựng (đổi tên)");
    }
}

on_both_backends! {
    async fn a_retried_intake_with_its_idempotency_key_creates_one_dossier(t) {
        // A client that lost the answer to a committed intake sends it again with the same
        // key: it gets the same dossier back, once or eight times at once, never a second one.
        let Desk { app, desk, .. } = setup(t).await;
        let (_, f) = upload(&app, &desk, "don.pdf", b"%PDF-1.4 don").await;
        let body = intake_body(f["sha256"].as_str().unwrap());
        let send = |key: &'static str, body: Value| {
            app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).header("idempotency-key", key).json(&body).send()
        };
        let before = crate::support::count(&t.db, "dossiers").await;
        let first = send("may-tinh-1/lan-1", body.clone()).await.unwrap();
        assert_eq!(first.status(), StatusCode::CREATED);
        assert!(first.headers().get("idempotent-replay").is_none());
        let first: Value = first.json().await.unwrap();
        let again = send("may-tinh-1/lan-1", body.clone()).await.unwrap();
        assert_eq!(again.status(), StatusCode::CREATED);
        assert_eq!(again.headers()["idempotent-replay"], "true");
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["code"], first["code"]);
        assert_eq!(crate::support::count(&t.db, "dossiers").await, before + 1);
        // Eight tries at once with a new key: one dossier, the same code in every answer.
        let mut tries = tokio::task::JoinSet::new();
        for _ in 0..8 {
            tries.spawn(send("may-tinh-1/lan-2", body.clone()));
        }
        let mut codes: Vec<String> = Vec::new();
        while let Some(res) = tries.join_next().await {
            let res = res.unwrap().unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            codes.push(res.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string());
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 1, "{codes:?}");
        assert_eq!(crate::support::count(&t.db, "dossiers").await, before + 2);
        // The same key with another request is refused.
        let mut other = body.clone();
        other["request"] = json!("Một yêu cầu khác");
        let res = send("may-tinh-1/lan-1", other).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
        // Feedback, anonymous: the same.
        let feedback = json!({"name": "Lê Văn Bình", "phone": "0911222333", "agency": "000.00.01.H56",
                              "subject": "Thời gian chờ", "content": "Chờ lâu ở quầy."});
        let post = || app.client.post(app.url("/api/v1/feedback")).header("idempotency-key", "gop-y-1").json(&feedback).send();
        let a: Value = post().await.unwrap().json().await.unwrap();
        let b = post().await.unwrap();
        assert_eq!(b.headers()["idempotent-replay"], "true");
        assert_eq!(b.json::<Value>().await.unwrap()["reference"], a["reference"]);
        assert_eq!(crate::support::count(&t.db, "feedback").await, 1);
        // The upkeep forgets keys once their week is over, not before.
        let services = t.services();
        assert_eq!(services.forget_idempotency_keys().await.unwrap(), 0);
        let later = chrono::Utc::now() + chrono::Duration::days(8);
        let later = services.with_clock(std::sync::Arc::new(motcua_service::FixedClock(later)));
        assert_eq!(later.forget_idempotency_keys().await.unwrap(), 3);
        assert_eq!(crate::support::count(&t.db, "idempotency_keys").await, 0);
    }
}

on_both_backends! {
    async fn the_upkeep_sweeps_orphan_files_and_keeps_every_named_one(t) {
        // Files no dossier names are moved aside, then removed; a file a dossier names stays
        // readable, even one named while it was being swept.
        let Desk { app, desk, .. } = setup(t).await;
        let services = t.services();
        let files = t.files();
        let (_, used) = upload(&app, &desk, "don.pdf", b"%PDF-1.4 don").await;
        let used = used["sha256"].as_str().unwrap().to_string();
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(&used)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let (_, unused) = upload(&app, &desk, "thua.pdf", b"%PDF-1.4 never used").await;
        let unused = unused["sha256"].as_str().unwrap().to_string();
        // A file a crash left on disk with no row, and a write cut short.
        let stray = "ab".repeat(32);
        std::fs::create_dir_all(files.root().join("ab")).unwrap();
        std::fs::write(files.root().join("ab").join(&stray), b"stray").unwrap();
        std::fs::write(files.root().join("ab").join(".x.1.2.tmp"), b"half").unwrap();
        let forms_before = crate::support::count(&t.db, "files").await;

        // A sweep with a day's grace leaves all of them: they are new.
        let day = std::time::Duration::from_secs(86_400);
        assert_eq!(services.sweep_files(day, true).await.unwrap(), Default::default());
        // With no grace: the unused upload and the stray go, the used file and forms stay.
        let swept = services.sweep_files(std::time::Duration::ZERO, true).await.unwrap();
        assert_eq!((swept.swept, swept.removed, swept.restored), (2, 2, 0), "{swept:?}");
        assert!(services.file(&used).await.unwrap().is_some());
        assert!(services.file(&unused).await.unwrap().is_none());
        assert!(!files.root().join("ab").join(&stray).exists());
        assert!(!files.root().join("ab").join(".x.1.2.tmp").exists());
        assert!(std::fs::read_dir(files.swept_dir()).unwrap().next().is_none(), "nothing left aside");
        assert_eq!(crate::support::count(&t.db, "files").await, forms_before - 1);
        // The removed upload is no longer offered to a new dossier: it must be sent again.
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(&unused)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _) = upload(&app, &desk, "thua.pdf", b"%PDF-1.4 never used").await;
        assert_eq!(status, StatusCode::CREATED);
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(&unused)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);

        // A dossier that named a file while the sweep moved it aside (its check came before
        // the sweep, its commit after): the file stays readable and is put back.
        let (_, late) = upload(&app, &desk, "muon.pdf", b"%PDF-1.4 named late").await;
        let late = late["sha256"].as_str().unwrap().to_string();
        let res = app.client.post(app.url("/api/v1/dossiers")).bearer_auth(&desk).json(&intake_body(&late)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        crate::support::exec(&t.db, &format!("UPDATE files SET swept_at = created_at WHERE sha256 = '{late}'")).await;
        assert!(files.sweep(&late).await.unwrap());
        assert!(services.file(&late).await.unwrap().is_some(), "read from where it was moved");
        let swept = services.sweep_files(std::time::Duration::ZERO, false).await.unwrap();
        assert_eq!((swept.swept, swept.removed, swept.restored), (0, 0, 1), "{swept:?}");
        assert!(files.root().join(&late[..2]).join(&late).exists());
        assert!(services.file(&late).await.unwrap().is_some());
    }
}
