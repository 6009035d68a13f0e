//! Service-quality evaluation as officers and integrators see it (docs/evaluation.md): the nine
//! indicators of dossiers made through the real service at controlled instants (early, late,
//! with a supplement, rated by the citizen), aggregates, the Decision 766 index and its scales,
//! who may see what, and bad input.

use crate::support::{TestApp, add_user, load_fixtures, officer, on_both_backends};
use chrono::{NaiveDate, NaiveTime};
use motcua_domain::dossier::machine::Action;
use motcua_service::dossiers::{ActionInput, Actor, IntakeInput};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<chrono::Utc> {
    motcua_domain::calendar::local_instant(
        NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        NaiveTime::from_hms_opt(h, min, 0).unwrap(),
    )
}

fn scores(v: &Value) -> Vec<Value> {
    v["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["score"].clone())
        .collect()
}

const NOV: &str = "from=2026-11-01&to=2026-11-30";

on_both_backends! {
    async fn indicators_aggregates_and_the_766_index(t) {
        load_fixtures(t).await;
        add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
        add_user(&t.db, "cv.xa", "000.30.01.H56", &["specialist"]).await;
        add_user(&t.db, "pd.xa", "000.30.01.H56", &["approver"]).await;
        add_user(&t.db, "cv.xd", "000.00.10.H56", &["specialist"]).await;
        add_user(&t.db, "qt", "000.00.00.H56", &["admin"]).await;
        let state = t.services();
        let (desk, cv, pd) = (officer(t, "tn.xa").await, officer(t, "cv.xa").await, officer(t, "pd.xa").await);
        let result = {
            let mut tx = t.db.begin().await.unwrap();
            let m = state.files().put(&mut tx, b"%PDF-1.4 ket qua", "kq.pdf", "application/pdf").await.unwrap();
            tx.commit().await.unwrap();
            format!("sha256:{}", m.sha256)
        };
        let body = || -> IntakeInput {
            serde_json::from_value(json!({"procedure": "1.001193", "agency": "000.30.01.H56", "channel": "direct",
                "applicant": {"kind": "person", "name": "Nguyễn Văn An", "id_number": "015093000123", "phone": "0912345678"},
                "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]})).unwrap()
        };
        let act = |who: &motcua_service::auth::CurrentUser, key: &str, action: Action, input: ActionInput, at| {
            let (state, who, key) = (&state, who.clone(), key.to_string());
            async move { state.at(at).act(Actor::Officer(&who), &key, action, input).await.map(|v| v.dossier).unwrap(); }
        };
        let approve = || ActionInput { file: Some(result.clone()), ..Default::default() };
        // A: received Monday 2 Nov 09:00 (due Tuesday 09:00), resolved the same day: early.
        let a = state.at(local(2026, 11, 2, 9, 0)).intake(Actor::Officer(&desk), body()).await.map(|v| v.dossier).unwrap().key();
        act(&desk, &a, Action::Transfer, ActionInput::default(), local(2026, 11, 2, 9, 30)).await;
        act(&cv, &a, Action::CompleteStep, ActionInput::default(), local(2026, 11, 2, 10, 0)).await;
        act(&pd, &a, Action::Approve, approve(), local(2026, 11, 2, 15, 0)).await;
        // B: same intake, resolved Wednesday 4 Nov: late, and every step late. The applicant
        // hands in A's result again (reused from their data store).
        let mut reusing = body();
        reusing.components[0].file = Some(result.clone());
        let b = state.at(local(2026, 11, 2, 9, 0)).intake(Actor::Officer(&desk), reusing).await.map(|v| v.dossier).unwrap().key();
        act(&desk, &b, Action::Transfer, ActionInput::default(), local(2026, 11, 4, 8, 0)).await;
        act(&cv, &b, Action::CompleteStep, ActionInput::default(), local(2026, 11, 4, 8, 30)).await;
        act(&pd, &b, Action::Approve, approve(), local(2026, 11, 4, 9, 0)).await;
        // C: one supplement request; the clock pauses, so finishing on 3 Nov is still early.
        let c = state.at(local(2026, 11, 2, 9, 0)).intake(Actor::Officer(&desk), body()).await.map(|v| v.dossier).unwrap().key();
        act(&desk, &c, Action::Transfer, ActionInput::default(), local(2026, 11, 2, 9, 30)).await;
        let note = ActionInput { note: "Thiếu giấy chứng sinh".into(), ..Default::default() };
        act(&cv, &c, Action::RequestSupplement, note, local(2026, 11, 2, 10, 0)).await;
        act(&desk, &c, Action::ReceiveSupplement, ActionInput::default(), local(2026, 11, 3, 9, 0)).await;
        act(&cv, &c, Action::CompleteStep, ActionInput::default(), local(2026, 11, 3, 9, 30)).await;
        act(&pd, &c, Action::Approve, approve(), local(2026, 11, 3, 10, 0)).await;
        // The citizen rates A (the rating store behind the citizen's form).
        let a_id = motcua_store::repo::dossiers::find(&t.db, &a).await.unwrap().unwrap().id;
        let mut tx = t.db.begin().await.unwrap();
        motcua_store::repo::citizens::rate(&mut tx, a_id, None, r#"{"q5": 2, "q6": 1, "q7": 2}"#, motcua_domain::evaluation::Satisfaction::VerySatisfied, local(2026, 11, 5, 9, 0))
            .await.unwrap();
        tx.commit().await.unwrap();

        let app = TestApp::spawn(t).await;
        let mine = app.token("tn.xa").await;
        let get = |path: String, token: String| {
            let app = &app;
            async move { app.client.get(app.url(&path)).bearer_auth(token).send().await.unwrap() }
        };
        let json_of = |res: reqwest::Response| async move {
            assert_eq!(res.status(), StatusCode::OK, "{:?}", res.url().to_string());
            res.json::<Value>().await.unwrap()
        };

        // One dossier's nine indicators.
        let ea = json_of(get(format!("/api/v1/evaluation/dossiers/{a}"), mine.clone()).await).await;
        // 1 early, 2 steps on their due dates, 3 no supplement, 4 one agency, 5–7 answered,
        // 8 no feedback, 9 at the desk.
        assert_eq!(scores(&ea), [json!(2), json!(1), json!(2), json!(2), json!(2), json!(1), json!(2), json!(2), json!(0)], "{ea}");
        assert_eq!((ea["total"].clone(), ea["max"].clone(), ea["satisfaction"].clone()), (json!(14), json!(18), json!("very_satisfied")));
        let eb = json_of(get(format!("/api/v1/evaluation/dossiers/{b}"), mine.clone()).await).await;
        assert_eq!((eb["indicators"][0]["score"].clone(), eb["indicators"][1]["score"].clone()), (json!(0), json!(0)), "{eb}");
        assert_eq!(eb["indicators"][4]["status"], "not_answered", "unanswered is not zero");
        assert_eq!(eb["indicators"][4]["score"], Value::Null);
        assert_eq!((eb["max"].clone(), eb["satisfaction"].clone()), (json!(12), Value::Null));
        let ec = json_of(get(format!("/api/v1/evaluation/dossiers/{c}"), mine.clone()).await).await;
        assert_eq!(ec["indicators"][0]["score"], 2, "the supplement pause moved the due: {ec}");
        assert_eq!(ec["indicators"][2]["score"], 1, "one supplement request: two contacts");
        assert_eq!(ec["indicators"][3]["score"], 2, "the supplement was asked by the same agency");

        // Aggregates.
        let by_agency = json_of(get(format!("/api/v1/evaluation?{NOV}&by=agency"), mine.clone()).await).await;
        let row = &by_agency["rows"][0];
        assert_eq!((row["key"].clone(), row["dossiers"].clone()), (json!("000.30.01.H56"), json!(3)), "{by_agency}");
        let avg1 = row["indicators"][0]["average"].as_f64().unwrap();
        assert!((avg1 - 4.0 / 3.0).abs() < 1e-9, "(2 + 0 + 2) / 3, got {avg1}");
        assert_eq!(row["indicators"][4]["scored"], 1);
        assert_eq!(row["indicators"][4]["average"], 2.0);
        assert_eq!(row["satisfaction"]["answered"], 1);
        assert_eq!(row["satisfaction"]["very_satisfied_share"], 1.0);
        assert_eq!(by_agency["total"]["dossiers"], 3);
        let by_officer = json_of(get(format!("/api/v1/evaluation?{NOV}&by=officer"), mine.clone()).await).await;
        let officers: Vec<(&str, i64)> = by_officer["rows"].as_array().unwrap().iter()
            .map(|r| (r["key"].as_str().unwrap(), r["dossiers"].as_i64().unwrap())).collect();
        assert_eq!(officers, [("cv.xa", 3), ("pd.xa", 3), ("tn.xa", 3)], "{by_officer}");
        assert_eq!(by_officer["total"]["dossiers"], 3, "the total counts each dossier once");
        let by_procedure = json_of(get(format!("/api/v1/evaluation?{NOV}&by=procedure"), mine.clone()).await).await;
        assert_eq!(by_procedure["rows"][0]["key"], "1.001193");
        let october = json_of(get("/api/v1/evaluation?from=2026-10-01&to=2026-10-31".into(), mine.clone()).await).await;
        assert_eq!(october["total"]["dossiers"], 0, "finished in November only");

        // The 766 index.
        let criterion = |ix: &Value, key: &str| -> Value {
            ix["groups"].as_array().unwrap().iter()
                .flat_map(|g| g["criteria"].as_array().unwrap().iter())
                .find(|c| c["criterion"] == key).cloned().unwrap()
        };
        let ix = json_of(get(format!("/api/v1/evaluation/index766?{NOV}&agency=000.30.01.H56"), mine.clone()).await).await;
        let on_time = criterion(&ix, "on_time");
        assert_eq!((on_time["numerator"].clone(), on_time["denominator"].clone()), (json!(2), json!(3)), "{ix}");
        assert_eq!(on_time["score"], 9.33, "14 × 2/3");
        assert_eq!(criterion(&ix, "results_electronic")["score"], 7.0, "every result was a file");
        assert_eq!(criterion(&ix, "procedures_online")["score"], 8.0, "1.001193 is full online");
        assert_eq!(criterion(&ix, "online_dossiers")["score"], 0.0);
        assert_eq!(criterion(&ix, "dossier_satisfaction")["score"], 6.0);
        // B reused A's result; A and C reused nothing (B's file came after A's result only).
        let reuse = criterion(&ix, "data_reused");
        assert_eq!((reuse["numerator"].clone(), reuse["denominator"].clone()), (json!(1), json!(3)), "{reuse}");
        assert_eq!(reuse["score"], 2.33, "7 × 1/3");
        assert_eq!(criterion(&ix, "feedback_on_time")["measured"], false, "no feedback in November");
        let measured_max = ix["measured_max"].as_f64().unwrap();
        assert!(measured_max < 100.0);
        let groups: f64 = ix["groups"].as_array().unwrap().iter().map(|g| g["score"].as_f64().unwrap()).sum();
        assert!((groups - ix["total"].as_f64().unwrap()).abs() < 0.01);
        let index = ix["index"].as_f64().unwrap();
        assert!((index - ix["total"].as_f64().unwrap() * 100.0 / measured_max).abs() < 0.01);

        // Configurable scales: administrators only, validated.
        let scales = json_of(get("/api/v1/evaluation/scales".into(), mine.clone()).await).await;
        assert_eq!(scales["on_time"], 14.0);
        let put = |token: String, body: Value| {
            let app = &app;
            async move { app.client.put(app.url("/api/v1/evaluation/scales")).bearer_auth(token).json(&body).send().await.unwrap() }
        };
        assert_eq!(put(mine.clone(), json!({"on_time": 20, "average_time": 0})).await.status(), StatusCode::FORBIDDEN);
        let admin = app.token("qt").await;
        let res = put(admin.clone(), json!({"on_time": 15})).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let problem: Value = res.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains("progress"), "{problem}");
        let res = put(admin.clone(), json!({"on_tme": 14})).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(put(admin.clone(), json!({"on_time": 20, "average_time": 0})).await.status(), StatusCode::OK);
        let ix = json_of(get(format!("/api/v1/evaluation/index766?{NOV}&agency=000.30.01.H56"), mine.clone()).await).await;
        assert_eq!(criterion(&ix, "on_time")["score"], 13.33, "20 × 2/3 under the new scale");
        assert_eq!(ix["scales"]["on_time"], 20.0);

        // Scope: another agency's officer sees none of it.
        let theirs = app.token("cv.xd").await;
        let other = json_of(get(format!("/api/v1/evaluation?{NOV}"), theirs.clone()).await).await;
        assert_eq!(other["total"]["dossiers"], 0);
        assert_eq!(get(format!("/api/v1/evaluation?{NOV}&agency=000.30.01.H56"), theirs.clone()).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(get(format!("/api/v1/evaluation/index766?{NOV}&agency=000.30.01.H56"), theirs.clone()).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(get(format!("/api/v1/evaluation/dossiers/{a}"), theirs.clone()).await.status(), StatusCode::NOT_FOUND);
        let all = json_of(get(format!("/api/v1/evaluation?{NOV}"), admin.clone()).await).await;
        assert_eq!(all["total"]["dossiers"], 3, "administrators see everything");
        assert_eq!(app.get(&format!("/api/v1/evaluation?{NOV}")).await.status(), StatusCode::UNAUTHORIZED);

        // Bad input is a 400 problem.
        for bad in ["from=2026-11-31&to=2026-12-01", "from=2026-12-01&to=2026-11-01", "to=2026-11-30", &format!("{NOV}&by=colour")] {
            for path in ["/api/v1/evaluation", "/api/v1/evaluation/index766"] {
                let res = get(format!("{path}?{bad}"), mine.clone()).await;
                assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}?{bad}");
                assert_eq!(res.headers()["content-type"], "application/problem+json");
            }
        }

        // The pages.
        let (cookie, _) = app.browser_login("tn.xa").await;
        let page = |path: &str| {
            let (app, cookie, path) = (&app, cookie.clone(), path.to_string());
            async move { app.client.get(app.url(&path)).header("cookie", cookie).send().await.unwrap() }
        };
        let res = page(&format!("/danh-gia?{NOV}&agency=000.30.01.H56")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        for text in ["Đánh giá chất lượng giải quyết thủ tục hành chính", "Ủy ban nhân dân phường Yên Bái",
            "Chỉ số phục vụ người dân, doanh nghiệp", "Tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn", "13,33", "1,33",
            "Tái sử dụng dữ liệu đã số hóa", "Nghị định 118/2025, Thông tư 03/2025"] {
            assert!(html.contains(text), "{text} missing from /danh-gia");
        }
        assert!(!html.contains("61/2018"), "the decree in force is cited, not the one it replaced");
        assert_eq!(page(&format!("{}&by=colour", "/danh-gia?from=2026-11-01")).await.status(), StatusCode::BAD_REQUEST);
        assert_eq!(page("/danh-gia?from=2026-13-01").await.status(), StatusCode::BAD_REQUEST);
        let res = page("/danh-gia/giai-thich").await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        for text in ["Chỉ số 1. Tổng thời gian giải quyết", "Chỉ số 9.", "(trước hạn + đúng hạn) ÷ đã giải quyết",
            "<code>on_time</code></td><td>20,00", "Nguồn số liệu"] {
            assert!(html.contains(text), "{text} missing from /danh-gia/giai-thich");
        }
    }
}
