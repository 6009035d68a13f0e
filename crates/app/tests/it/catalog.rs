//! The catalog and access control as users see them: import/export and `user` on the command
//! line, the catalog and user JSON API with authorisation across agencies, tokens, throttling.

use crate::support::{TestApp, TestDb, add_user, fixtures_dir, load_fixtures, on_both_backends, password_of};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let res = app.get(&format!("/api/v1/procedures?{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    let body: Value = res.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

fn assert_no_secrets(text: &str) {
    assert!(!text.contains("$argon2"), "a password hash leaked: {text}");
}

on_both_backends! {
    async fn search_matches_with_or_without_diacritics_in_any_case(t) {
        load_fixtures(t).await;
        let app = TestApp::spawn(t).await;
        let gpxd = "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II";
        for q in ["cap%20giay%20phep%20xay%20dung", "C%E1%BA%A5p%20gi%E1%BA%A5y%20ph%C3%A9p", "CAP%20GIAY", "xay dung", "XÂY%20DỰNG", "1.009972"] {
            assert_eq!(names(&app, &format!("q={q}")).await, vec![gpxd.to_string()], "q={q}");
        }
        assert_eq!(names(&app, "q=%C4%90%C4%82NG%20K%C3%9D%20khai%20sinh").await, vec!["Đăng ký khai sinh".to_string()], "đ/Đ fold to d");
        assert_eq!(names(&app, "q=dang%20ky%20khai%20sinh").await, vec!["Đăng ký khai sinh".to_string()]);
        assert!(names(&app, "q=qwertyuiop").await.is_empty());
        assert!(names(&app, "q=100%25").await.is_empty(), "LIKE wildcards are literal");
        assert_eq!(names(&app, "level=commune").await, vec!["Đăng ký khai sinh".to_string()]);
        assert_eq!(names(&app, "field=XD").await, vec![gpxd.to_string()]);
        assert_eq!(names(&app, "agency=000.30.02.H56").await, vec!["Đăng ký khai sinh".to_string()]);
        assert_eq!(names(&app, "").await.len(), 2);
        assert!(names(&app, "page=2").await.is_empty());
        assert_eq!(app.get("/api/v1/procedures?page=0").await.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app.get("/api/v1/procedures?page=abc").await.status(), StatusCode::BAD_REQUEST);
    }

    async fn procedure_detail_has_everything_a_citizen_needs(t) {
        load_fixtures(t).await;
        let app = TestApp::spawn(t).await;
        let body: Value = app.get("/api/v1/procedures/1.009972").await.json().await.unwrap();
        assert_eq!(body["version"], 1);
        let p = &body["procedure"];
        assert_eq!(p["fees"][0]["amount_vnd"], 150000);
        assert_eq!(p["cases"][0]["steps"].as_array().unwrap().len(), 5);
        assert_eq!(p["cases"][0]["steps"][2]["agency"], "000.00.10.H56");
        let form = p["components"][0]["form"]["file"].as_str().unwrap();
        assert!(form.starts_with("sha256:"), "{form}");
        assert_eq!(app.get("/api/v1/procedures/9.999999").await.status(), StatusCode::NOT_FOUND);
        let agencies: Value = app.get("/api/v1/agencies").await.json().await.unwrap();
        let justice = agencies.as_array().unwrap().iter().find(|a| a["code"] == "000.00.06.H56").unwrap();
        assert_eq!(justice["parent_code"], "000.00.00.H56");
        assert_eq!(justice["level"], "department");
        let fields: Value = app.get("/api/v1/fields").await.json().await.unwrap();
        assert_eq!(fields.as_array().unwrap().len(), 2);
    }

    async fn editing_a_procedure_makes_a_new_version_and_keeps_the_old(t) {
        load_fixtures(t).await;
        add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
        add_user(&t.db, "chuyenvien", "000.00.10.H56", &["specialist"]).await;
        let app = TestApp::spawn(t).await;
        let mut spec: Value = app.get("/api/v1/procedures/1.001193").await.json::<Value>().await.unwrap()["procedure"].clone();
        spec["time_limit"] = json!("2 working-days");
        let url = app.url("/api/v1/procedures/1.001193");

        let officer = app.token("chuyenvien").await;
        let res = app.client.put(&url).bearer_auth(&officer).json(&spec).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.client.put(&url).json(&spec).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

        let admin = app.token("quantri").await;
        let res = app.client.put(&url).bearer_auth(&admin).json(&spec).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body, json!({"outcome": "new_version", "version": 2}));
        let res = app.client.put(&url).bearer_auth(&admin).json(&spec).send().await.unwrap();
        assert_eq!(res.json::<Value>().await.unwrap(), json!({"outcome": "unchanged", "version": 2}));

        let now: Value = app.get("/api/v1/procedures/1.001193").await.json().await.unwrap();
        assert_eq!(now["procedure"]["time_limit"], "2 working-days");
        let old: Value = app.get("/api/v1/procedures/1.001193?version=1").await.json().await.unwrap();
        assert_eq!(old["procedure"]["time_limit"], "1 working-days", "what earlier dossiers were received under");

        let mut bad = spec.clone();
        bad["levels"] = json!(["village"]);
        bad["cases"][0]["steps"][0]["role"] = json!("citizen");
        let res = app.client.put(&url).bearer_auth(&admin).json(&bad).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = res.json().await.unwrap();
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&"levels[0]") && fields.contains(&"cases[0].steps[0].role"), "{fields:?}");
        let res = app.client.put(app.url("/api/v1/procedures/1.000001")).bearer_auth(&admin).json(&spec).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "body code must match the URL");
    }

    async fn officers_see_only_their_agencies_and_supervisors_a_subtree(t) {
        load_fixtures(t).await;
        add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
        add_user(&t.db, "chuyenvien", "000.00.06.H56", &["specialist"]).await;
        add_user(&t.db, "tiepnhan.xa", "000.30.02.H56", &["receiving_officer"]).await;
        add_user(&t.db, "giamsat.tp", "000.00.06.H56", &["supervisor"]).await;
        let app = TestApp::spawn(t).await;
        let get = |token: String, code: &'static str| {
            let req = app.client.get(app.url(&format!("/api/v1/agencies/{code}/users"))).bearer_auth(token);
            async move { req.send().await.unwrap().status() }
        };
        let specialist = app.token("chuyenvien").await;
        let commune = app.token("tiepnhan.xa").await;
        let supervisor = app.token("giamsat.tp").await;
        let admin = app.token("quantri").await;
        assert_eq!(get(specialist.clone(), "000.00.06.H56").await, StatusCode::OK);
        assert_eq!(get(specialist.clone(), "000.30.02.H56").await, StatusCode::FORBIDDEN);
        assert_eq!(get(specialist.clone(), "000.06.01.H56").await, StatusCode::FORBIDDEN, "not a child unit either");
        assert_eq!(get(commune.clone(), "000.00.06.H56").await, StatusCode::FORBIDDEN);
        assert_eq!(get(commune.clone(), "000.30.02.H56").await, StatusCode::OK);
        assert_eq!(get(supervisor.clone(), "000.06.01.H56").await, StatusCode::OK, "a supervisor reads the subtree");
        assert_eq!(get(supervisor.clone(), "000.30.01.H56").await, StatusCode::FORBIDDEN);
        assert_eq!(get(admin.clone(), "000.30.01.H56").await, StatusCode::OK);
        assert_eq!(get(admin.clone(), "9.9.9").await, StatusCode::NOT_FOUND);

        // Every administrator endpoint refuses officers and supervisors.
        for token in [&specialist, &commune, &supervisor] {
            let checks = [
                app.client.get(app.url("/api/v1/users")).bearer_auth(token),
                app.client.post(app.url("/api/v1/users")).bearer_auth(token).json(&json!({"username": "x", "full_name": "x", "roles": []})),
                app.client.put(app.url("/api/v1/users/chuyenvien")).bearer_auth(token).json(&json!({"username": "chuyenvien", "full_name": "x", "roles": []})),
                app.client.put(app.url("/api/v1/agencies/000.30.09.H56")).bearer_auth(token).json(&json!({"code": "000.30.09.H56", "name": "x", "level": "commune"})),
                app.client.post(app.url("/api/v1/files?filename=a.txt")).bearer_auth(token).header("content-type", "text/plain").body("x"),
                app.client.get(app.url("/api/v1/tokens?all=true")).bearer_auth(token),
                app.client.post(app.url("/api/v1/tokens")).bearer_auth(token).json(&json!({"name": "x", "username": "quantri"})),
                app.client.put(app.url("/api/v1/calendar/overrides/2026-12-26")).bearer_auth(token).json(&json!({"kind": "workday"})),
            ];
            for req in checks {
                let res = req.send().await.unwrap();
                assert_eq!(res.status(), StatusCode::FORBIDDEN, "{:?}", res.url());
            }
        }
    }

    async fn the_same_user_created_twice_at_once_is_created_once_and_the_other_told(t) {
        // Two administrators adding the same officer at the same moment: both pass the
        // "already taken" check before either writes (hashing the password takes a while).
        // One is created; the other is told of the conflict (409), never a 500.
        load_fixtures(t).await;
        add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
        let app = TestApp::spawn(t).await;
        let admin = app.token("quantri").await;
        for round in 0..3 {
            let new_user = json!({"username": format!("hoa.{round}"), "full_name": "Trần Thị Hoa", "password": "mat-khau-du-dai",
                "roles": [{"agency": "000.00.01.H56", "role": "receiving_officer"}]});
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let (url, admin, body) = (app.url("/api/v1/users"), admin.clone(), new_user.clone());
                    tokio::spawn(async move {
                        let res = reqwest::Client::new().post(url).bearer_auth(admin).json(&body).send().await.unwrap();
                        (res.status(), res.text().await.unwrap_or_default())
                    })
                })
                .collect();
            let mut created = 0;
            for task in tasks {
                let (status, body) = task.await.unwrap();
                match status {
                    StatusCode::CREATED => created += 1,
                    StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => {
                        assert!(body.contains("hoa.") || body.contains("taken") || body.contains("same moment"), "{body}")
                    }
                    other => panic!("{other}: {body}"),
                }
            }
            assert_eq!(created, 1, "round {round}");
        }
    }

    async fn administrators_manage_users_and_nothing_leaks_secrets(t) {
        load_fixtures(t).await;
        add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
        let app = TestApp::spawn(t).await;
        let admin = app.token("quantri").await;
        let new_user = json!({"username": "lan.tn", "full_name": "Nguyễn Thị Lan", "password": "mat-khau-du-dai",
            "roles": [{"agency": "000.00.01.H56", "role": "receiving_officer"}]});
        let res = app.client.post(app.url("/api/v1/users")).bearer_auth(&admin).json(&new_user).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_no_secrets(&res.text().await.unwrap());
        let res = app.client.post(app.url("/api/v1/users")).bearer_auth(&admin).json(&new_user).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "username taken");
        let bad = json!({"username": "X", "full_name": "", "password": "short", "roles": [{"agency": "nope", "role": "king"}]});
        let res = app.client.post(app.url("/api/v1/users")).bearer_auth(&admin).json(&bad).send().await.unwrap();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"].as_array().unwrap().len(), 5, "{body}");

        let login = |u: &str, p: &str| app.client.post(app.url("/api/v1/auth/login")).json(&json!({"username": u, "password": p})).send();
        let res = login("lan.tn", "mat-khau-du-dai").await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let lan: Value = res.json().await.unwrap();
        let me: Value = app.client.get(app.url("/api/v1/me")).bearer_auth(lan["token"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["roles"], json!([{"agency": "000.00.01.H56", "role": "receiving_officer"}]));

        // Disabling ends access at once.
        let update = json!({"username": "lan.tn", "full_name": "Nguyễn Thị Lan", "disabled": true, "roles": []});
        let res = app.client.put(app.url("/api/v1/users/lan.tn")).bearer_auth(&admin).json(&update).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(login("lan.tn", "mat-khau-du-dai").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        let res = app.client.get(app.url("/api/v1/me")).bearer_auth(lan["token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        let list = app.client.get(app.url("/api/v1/users")).bearer_auth(&admin).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("lan.tn"));
        assert_no_secrets(&list);
        let res = app.client.put(app.url("/api/v1/users/nobody")).bearer_auth(&admin).json(&json!({"username": "nobody", "full_name": "x", "roles": []})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    async fn api_tokens_are_shown_once_hashed_at_rest_and_revocable(t) {
        load_fixtures(t).await;
        add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
        add_user(&t.db, "chuyenvien", "000.00.06.H56", &["specialist"]).await;
        let app = TestApp::spawn(t).await;
        let officer = app.token("chuyenvien").await;
        let res = app.client.post(app.url("/api/v1/tokens")).bearer_auth(&officer).json(&json!({"name": "máy quét"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let created: Value = res.json().await.unwrap();
        let secret = created["token"].as_str().unwrap().to_string();
        assert_eq!(secret.len(), 64);
        let me = app.client.get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::OK);
        let listed = app.client.get(app.url("/api/v1/tokens")).bearer_auth(&officer).send().await.unwrap().text().await.unwrap();
        assert!(listed.contains("máy quét") && !listed.contains(&secret), "{listed}");
        let hash = motcua_service::auth::secret_hash(&secret);
        assert!(!listed.contains(&hash));
        // Another officer cannot revoke it; the owner can.
        add_user(&t.db, "khac", "000.30.01.H56", &["specialist"]).await;
        let other = app.token("khac").await;
        let id = created["id"].as_i64().unwrap();
        let res = app.client.delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&other).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app.client.delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&officer).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let me = app.client.get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    }

    async fn form_templates_upload_and_reference(t) {
        load_fixtures(t).await;
        add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
        let app = TestApp::spawn(t).await;
        let admin = app.token("quantri").await;
        let res = app.client.post(app.url("/api/v1/files?filename=to-khai.pdf")).bearer_auth(&admin)
            .header("content-type", "application/pdf").body("%PDF-1.4 minimal").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let file: Value = res.json().await.unwrap();
        let sha = file["sha256"].as_str().unwrap();
        let res = app.client.post(app.url("/api/v1/files?filename=x.pdf")).bearer_auth(&admin)
            .header("content-type", "application/pdf").body("not a pdf").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let res = app.client.post(app.url("/api/v1/files?filename=x.exe")).bearer_auth(&admin)
            .header("content-type", "application/x-msdownload").body("MZ").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        // A fresh connection for the refused upload, as a browser's would be.
        let res = reqwest::Client::new().post(app.url("/api/v1/files?filename=big.pdf")).bearer_auth(&admin)
            .header("content-type", "application/pdf").body(vec![b'%'; 11 * 1024 * 1024]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

        let mut spec: Value = app.get("/api/v1/procedures/1.001193").await.json::<Value>().await.unwrap()["procedure"].clone();
        spec["components"][0]["form"] = json!({"name": "Tờ khai", "file": format!("sha256:{sha}")});
        let res = app.client.put(app.url("/api/v1/procedures/1.001193")).bearer_auth(&admin).json(&spec).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        spec["components"][1]["form"] = json!({"name": "Khác", "file": "sha256:0000000000000000000000000000000000000000000000000000000000000000"});
        let res = app.client.put(app.url("/api/v1/procedures/1.001193")).bearer_auth(&admin).json(&spec).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "a form must be stored first");
    }
}

#[tokio::test]
async fn repeated_wrong_passwords_are_throttled() {
    let t = TestDb::sqlite().await;
    add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
    let app = TestApp::spawn(&t).await;
    let login = |p: String| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "quantri", "password": p}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            login("wrong".into()).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = login(password_of("quantri")).await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(
        res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
}

#[tokio::test]
async fn expired_sessions_sign_out() {
    let t = TestDb::sqlite().await;
    add_user(&t.db, "quantri", "000.00.00.H56", &["admin"]).await;
    let app = TestApp::spawn(&t).await;
    let (cookie, _) = app.browser_login("quantri").await;
    assert!(cookie.len() > 20);
    let res = app
        .client
        .get(app.url("/admin/calendar"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let login = app.get("/login").await;
    let set = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(
        set.iter()
            .all(|c| c.contains("HttpOnly") && c.contains("SameSite")),
        "{set:?}"
    );
    let motcua_store::Db::Sqlite { write, .. } = &t.db else {
        unreachable!()
    };
    sqlx::query("UPDATE sessions SET expires_at = '2000-01-01T00:00:00+00:00'")
        .execute(&mut **write.lock().await.unwrap())
        .await
        .unwrap();
    let res = app
        .client
        .get(app.url("/admin/calendar"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

mod cli {
    use super::fixtures_dir;
    use std::io::Write;
    use std::path::Path;
    use std::process::{Command, Output, Stdio};

    const BIN: &str = env!("CARGO_BIN_EXE_motcua");

    fn motcua(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(BIN)
            .args(args)
            .current_dir(dir)
            .env_remove("MOTCUA_DATABASE_URL")
            .env_remove("MOTCUA_DATA_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    fn ok(o: &Output) -> String {
        assert_eq!(
            o.status.code(),
            Some(0),
            "stderr: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout.clone()).unwrap()
    }

    fn usage(o: &Output) -> String {
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "stderr: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        err
    }

    fn copy_fixtures(to: &Path) {
        let from = fixtures_dir();
        std::fs::create_dir_all(to.join("forms")).unwrap();
        for f in [
            "agencies.csv",
            "procedures.json",
            "forms/don-de-nghi-cap-gpxd.html",
        ] {
            std::fs::copy(from.join(f), to.join(f)).unwrap();
        }
    }

    #[test]
    fn import_is_validated_all_or_nothing_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        copy_fixtures(d);
        std::fs::write(d.join("bad.csv"), "code,name,level,parent_code,address,office_hours,one_stop\n000.00.00.H56,Tỉnh,province,,,,no\nH56,x,province,,,,no\n000.00.02.H56,x,village,,,,no\n000.00.03.H56,x,province,000.99.99.H56,,,no\n").unwrap();
        let err = usage(&motcua(d, &["import", "agencies", "bad.csv"], None));
        assert!(err.contains("line 3") && err.contains("line 4"), "{err}");
        std::fs::write(d.join("orphan.csv"), "code,name,level,parent_code,address,office_hours,one_stop\n000.00.03.H56,x,province,000.99.99.H56,,,no\n").unwrap();
        let err = usage(&motcua(d, &["import", "agencies", "orphan.csv"], None));
        assert!(err.contains("line 2") && err.contains("unknown parent"), "{err}");
        let out = ok(&motcua(d, &["export", "agencies"], None));
        assert_eq!(out.lines().count(), 1, "nothing was imported: {out}");

        assert!(ok(&motcua(d, &["import", "agencies", "agencies.csv"], None)).contains("7 created"));
        assert!(ok(&motcua(d, &["import", "agencies", "agencies.csv"], None)).contains("7 unchanged"));
        assert!(ok(&motcua(d, &["import", "procedures", "procedures.json"], None)).contains("2 created"));
        assert!(ok(&motcua(d, &["import", "procedures", "procedures.json"], None)).contains("2 unchanged"));

        let mut procs: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("procedures.json")).unwrap()).unwrap();
        procs[1]["fees"][0]["amount_vnd"] = serde_json::json!(5000);
        procs[0]["cases"][0]["steps"][0]["role"] = serde_json::json!("janitor");
        procs[1]["components"][0]["form"] = serde_json::json!({"name": "x", "file": "forms/missing.pdf"});
        std::fs::write(d.join("bad.json"), serde_json::to_string(&procs).unwrap()).unwrap();
        let err = usage(&motcua(d, &["import", "procedures", "bad.json"], None));
        assert!(
            err.contains("record 1 (1.009972): cases[0].steps[0].role"),
            "{err}"
        );
        assert!(err.contains("record 2 (1.001193): components[0].form"), "{err}");
        std::fs::write(d.join("broken.json"), "[{\"code\": 1}").unwrap();
        let err = usage(&motcua(d, &["import", "procedures", "broken.json"], None));
        assert!(err.contains("line 1"), "{err}");

        procs[0]["cases"][0]["steps"][0]["role"] = serde_json::json!("receiving_officer");
        procs[1]["components"][0]["form"] = serde_json::Value::Null;
        std::fs::write(d.join("changed.json"), serde_json::to_string(&procs).unwrap()).unwrap();
        assert!(
            ok(&motcua(d, &["import", "procedures", "changed.json"], None))
                .contains("1 updated, 1 unchanged")
        );
    }

    #[test]
    fn export_round_trips_into_a_fresh_installation() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        copy_fixtures(d);
        ok(&motcua(d, &["import", "agencies", "agencies.csv"], None));
        ok(&motcua(d, &["import", "procedures", "procedures.json"], None));
        let out = d.join("out");
        std::fs::create_dir(&out).unwrap();
        ok(&motcua(
            d,
            &["export", "agencies", "--out", "out/agencies.csv"],
            None,
        ));
        ok(&motcua(
            d,
            &["export", "procedures", "--out", "out/procedures.json"],
            None,
        ));
        let exported = std::fs::read_to_string(out.join("procedures.json")).unwrap();
        assert!(
            exported.contains("\"file\": \"forms/"),
            "form files travel with the export"
        );
        let fresh = d.join("fresh");
        let data = fresh.to_str().unwrap();
        assert!(
            ok(&motcua(
                &out,
                &["import", "agencies", "agencies.csv", "--data-dir", data],
                None
            ))
            .contains("7 created")
        );
        assert!(
            ok(&motcua(
                &out,
                &["import", "procedures", "procedures.json", "--data-dir", data],
                None
            ))
            .contains("2 created")
        );
        let again = ok(&motcua(&out, &["export", "procedures", "--data-dir", data], None));
        let a: serde_json::Value = serde_json::from_str(&again).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(&ok(&motcua(d, &["export", "procedures"], None))).unwrap();
        assert_eq!(a, b, "same procedures and the same stored form files (sha256)");
    }

    #[test]
    fn user_add_reads_the_password_from_stdin_and_checks_everything() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        copy_fixtures(d);
        ok(&motcua(d, &["import", "agencies", "agencies.csv"], None));
        let add = |u: &str, agency: &str, roles: &[&str], pw: &str| {
            let mut args = vec![
                "user",
                "add",
                "--username",
                u,
                "--password-stdin",
                "--agency",
                agency,
            ];
            for r in roles {
                args.push("--role");
                args.push(r);
            }
            motcua(d, &args, Some(pw))
        };
        let out = ok(&add(
            "lan.tn",
            "000.00.01.H56",
            &["receiving_officer", "desk_head"],
            "mat-khau-du-dai\n",
        ));
        assert!(out.contains("2 role(s)"), "{out}");
        assert!(
            usage(&add("lan.tn", "000.00.01.H56", &["leader"], "mat-khau-du-dai")).contains("already exists")
        );
        assert!(usage(&add("hung", "000.00.01.H56", &["king"], "mat-khau-du-dai")).contains("unknown role"));
        assert!(
            usage(&add("hung", "000.99.99.H56", &["leader"], "mat-khau-du-dai")).contains("unknown agency")
        );
        assert!(usage(&add("hung", "000.00.01.H56", &["leader"], "short")).contains("at least 8"));
        assert!(
            usage(&add("Hùng", "000.00.01.H56", &["leader"], "mat-khau-du-dai")).contains("invalid username")
        );
        let list = ok(&motcua(d, &["user", "list"], None));
        assert!(
            list.contains("lan.tn") && list.contains("desk_head@000.00.01.H56"),
            "{list}"
        );
        assert!(!list.contains("argon2"));
        let token = ok(&motcua(
            d,
            &["user", "token", "--username", "lan.tn", "--name", "may-quet"],
            None,
        ));
        assert_eq!(token.trim().len(), 64);
    }
}
