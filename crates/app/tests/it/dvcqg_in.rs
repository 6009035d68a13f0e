//! Dossiers submitted on the national portal (Cổng DVCQG), pushed to motcua, against a
//! separate process that plays the portal (scripts/sim/dvcqg_inbound.py): it serves the
//! documents (failing on purpose) and, in its pushing runs, pushes dossiers until each is
//! acknowledged. The happy path into the online queue, repeated and concurrent pushes, the
//! token, refusals, documents that cannot be fetched or are not what was declared, a run
//! with failures at random, and a kill -9 of the real `motcua serve` in the middle of one.

use crate::support::{TestApp, TestDb, add_user, count, load_fixtures, on_both_backends, scalar};
use motcua_service::dvcqg_inbound::Inbound;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_motcua");
const TOKEN: &str = "portal-token-0123456789";
const PROCEDURE: &str = "1.001193";
const AGENCY: &str = "000.30.01.H56";
const PATH: &str = "/api/v1/dvcqg/dossiers";

/// The simulator, killed when dropped.
struct Portal {
    child: Child,
    port: u16,
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the simulator with these arguments; None (the test skipped) where python3 is
/// missing outside CI.
fn portal(extra: &[&str]) -> Option<Portal> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/sim/dvcqg_inbound.py");
    let spawned = Command::new("python3")
        .arg(&script)
        .args(extra)
        .stdout(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("\n!!!!!!!! skipped: python3 is not available for the DVCQG simulator ({e})\n");
            return None;
        }
        Err(e) => panic!("python3 is needed for the DVCQG simulator: {e}"),
    };
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("the simulator's ready line, not {line:?}"))
        .parse()
        .unwrap();
    // The rest of its output ("done N") is read by `finish`.
    child.stdout = Some(out.into_inner());
    Some(Portal { child, port })
}

impl Portal {
    /// A document the simulator serves, as the portal describes it (`query`: its failures).
    async fn document(&self, component: usize, name: &str, query: &str) -> Value {
        let meta: Value = reqwest::get(format!("http://127.0.0.1:{}/meta/{name}", self.port))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        json!({"component": component, "name": name, "size": meta["size"], "sha256": meta["sha256"],
               "url": format!("http://127.0.0.1:{}/files/{name}{query}", self.port)})
    }

    /// A dossier with both documents of the birth registration (`query` on the second).
    async fn dossier(&self, portal_id: &str, query: &str) -> Value {
        json!({
            "portal_id": portal_id, "procedure": PROCEDURE, "agency": AGENCY,
            "applicant": {"kind": "person", "name": "Lê Thị Hồng", "id_number": "001199012345", "phone": "0912000111"},
            "request": "Đăng ký khai sinh cho con",
            "documents": [self.document(0, &format!("{portal_id}-to-khai.pdf"), "").await,
                          self.document(1, &format!("{portal_id}-chung-sinh.pdf"), query).await],
        })
    }

    /// Waits for a pushing run to end: its exit code and last line.
    fn finish(mut self, within: Duration) -> (Option<i32>, String) {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut rest = String::new();
                let _ = std::io::Read::read_to_string(self.child.stdout.as_mut().unwrap(), &mut rest);
                return (status.code(), rest.trim().to_string());
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the simulator did not finish in {within:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The inbound side as the tests configure it: fetches of 2 s, each tried `attempts` times.
fn inbound(attempts: u32) -> Inbound {
    Inbound::new(TOKEN, Duration::from_secs(2), attempts, Duration::from_secs(60)).unwrap()
}

async fn app_trying(t: &TestDb, attempts: u32) -> TestApp {
    TestApp::spawn_with(
        t,
        motcua_web::WebConfig {
            dvcqg_inbound: Some(inbound(attempts)),
            ..t.web_config()
        },
    )
    .await
}

async fn app(t: &TestDb) -> TestApp {
    app_trying(t, 3).await
}

async fn push(app: &TestApp, token: &str, body: &Value) -> (StatusCode, Value, Option<String>) {
    let res = app
        .client
        .post(app.url(PATH))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, res.json().await.unwrap_or(Value::Null), retry)
}

async fn setup(t: &TestDb) {
    load_fixtures(t).await;
    add_user(&t.db, "tn.xa", AGENCY, &["receiving_officer"]).await;
}

/// Dossiers, and files recorded from the portal (their names begin with its ids; the
/// fixtures' form templates are files too): nothing is half-written by a refused push.
async fn written(t: &TestDb) -> (i64, i64) {
    (
        count(&t.db, "dossiers").await,
        scalar(&t.db, "SELECT COUNT(*) FROM files WHERE filename LIKE 'G22%'").await,
    )
}

/// Files recorded from the portal that no dossier names.
const ORPHANS: &str = "SELECT COUNT(*) FROM files f WHERE f.filename LIKE 'G22%'
    AND NOT EXISTS (SELECT 1 FROM dossier_components c WHERE c.file_sha256 = f.sha256)";

on_both_backends! {
    async fn a_portal_dossier_enters_the_online_queue_once_with_its_documents(t) {
        setup(t).await;
        let Some(p) = portal(&["--seed", "1"]) else { return };
        let app = app(t).await;
        let body = p.dossier("G22.99-250301-000001", "").await;
        let (s, r, _) = push(&app, TOKEN, &body).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let reference = r["reference"].as_str().unwrap().to_string();
        assert!(reference.starts_with("online-") && r["code"].is_null() && r["status"]["number"] == 1, "{r}");
        assert_eq!(r["portal_id"], "G22.99-250301-000001");

        // In the online queue, channel online, with both documents as the portal sent them.
        let desk = app.token("tn.xa").await;
        let (s, d) = app.call(reqwest::Method::GET, &format!("/api/v1/dossiers/{reference}"), &desk, None).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!((d["channel"].as_str(), d["status"]["name"].as_str()), (Some("online"), Some("submitted")));
        let docs = body["documents"].as_array().unwrap();
        for (c, doc) in d["components"].as_array().unwrap().iter().zip(docs) {
            assert_eq!(c["provided"], true);
            assert_eq!(c["file"], format!("sha256:{}", doc["sha256"].as_str().unwrap()), "{c}");
        }
        let (s, q) = app.call(reqwest::Method::GET, "/api/v1/dossiers?inbox=queue", &desk, None).await;
        assert_eq!(s, StatusCode::OK);
        let item = q["items"].as_array().unwrap().iter().find(|i| i["key"] == reference.as_str()).expect("in the queue");
        assert_eq!(item["portal_id"], "G22.99-250301-000001");

        // The officer's pages: the portal's id, the mark in the queue, the documents.
        let (cookie, _) = app.browser_login("tn.xa").await;
        let page = |path: String| {
            let (client, url, cookie) = (app.client.clone(), app.url(&path), cookie.clone());
            async move { client.get(url).header("cookie", cookie).send().await.unwrap().text().await.unwrap() }
        };
        let html = page(format!("/ho-so/{reference}")).await;
        assert!(html.contains("Mã hồ sơ trên Cổng DVCQG") && html.contains("G22.99-250301-000001"), "{html}");
        assert!(html.contains("qua Cổng Dịch vụ công quốc gia"));
        assert!(html.contains(&format!("{}.pdf", "G22.99-250301-000001-to-khai")), "the file's name is shown");
        let inbox = page("/ho-so?inbox=queue".into()).await;
        assert!(inbox.contains(&reference) && inbox.contains("Cổng DVCQG"), "{inbox}");
        let sha = docs[0]["sha256"].as_str().unwrap();
        let file = app.client.get(app.url(&format!("/ho-so/{reference}/tep/{sha}"))).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(file.status(), StatusCode::OK);
        let bytes = file.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-") && bytes.len() as u64 == docs[0]["size"].as_u64().unwrap());

        // Pushed again: the same dossier, nothing new.
        let before = written(t).await;
        let (s, again, _) = push(&app, TOKEN, &body).await;
        assert_eq!(s, StatusCode::OK, "{again}");
        assert_eq!(again["reference"], reference.as_str());
        assert_eq!(written(t).await, before);

        // Accepted: its code is what the sync reports, with the portal's id to match it by.
        let (s, d) = app.call(reqwest::Method::POST, &format!("/api/v1/dossiers/{reference}/actions/accept"), &desk, Some(&json!({}))).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let code = d["code"].as_str().unwrap().to_string();
        let syncs: Vec<Value> = motcua_store::repo::outbox::pending(&t.db, 1000).await.unwrap().into_iter()
            .filter(|r| r.1 == "dvcqg_sync").map(|r| serde_json::from_str(&r.2).unwrap()).collect();
        let last = syncs.last().unwrap();
        assert_eq!((last["MaHoSo"].as_str(), last["MaHoSoQG"].as_str()), (Some(code.as_str()), Some("G22.99-250301-000001")), "{last}");
        assert!(syncs.iter().all(|s| s["MaHoSoQG"] == "G22.99-250301-000001" && s["KenhThucHien"] == 2));
        // A push after the acceptance: the same reference, the code now known.
        let (s, again, _) = push(&app, TOKEN, &body).await;
        assert_eq!((s, again["reference"].as_str(), again["code"].as_str()), (StatusCode::OK, Some(reference.as_str()), Some(code.as_str())));
        // Searchable by the portal's id.
        let (_, found) = app.call(reqwest::Method::GET, "/api/v1/dossiers?q=G22.99-250301-000001", &desk, None).await;
        assert_eq!(found["total"], 1, "{found}");
    }

    async fn concurrent_pushes_of_one_portal_dossier_make_one_submission(t) {
        setup(t).await;
        let Some(p) = portal(&["--seed", "2"]) else { return };
        let app = app(t).await;
        let body = p.dossier("G22.99-250301-000002", "").await;
        let mut pushes = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let (client, url, body) = (app.client.clone(), app.url(PATH), body.clone());
            pushes.spawn(async move {
                let res = client.post(url).bearer_auth(TOKEN).json(&body).send().await.unwrap();
                (res.status(), res.json::<Value>().await.unwrap())
            });
        }
        let mut answers = Vec::new();
        while let Some(a) = pushes.join_next().await {
            answers.push(a.unwrap());
        }
        let created = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
        assert_eq!(created, 1, "{answers:?}");
        assert!(answers.iter().all(|(s, _)| s.is_success()), "{answers:?}");
        let refs: HashSet<&str> = answers.iter().map(|(_, a)| a["reference"].as_str().unwrap()).collect();
        assert_eq!(refs.len(), 1, "{answers:?}");
        assert_eq!(count(&t.db, "dossiers").await, 1);
        assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM dossier_components WHERE file_sha256 IS NOT NULL").await, 2);
    }

    async fn pushes_are_refused_without_the_token_or_with_a_bad_dossier(t) {
        setup(t).await;
        let Some(p) = portal(&["--seed", "3"]) else { return };
        // Not configured: the endpoint is not there.
        let off = TestApp::spawn(t).await;
        let body = p.dossier("G22.99-250301-000003", "").await;
        let (s, r, _) = push(&off, TOKEN, &body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{r}");
        let app = app(t).await;
        for token in ["", "wrong-token-0123456789", &TOKEN[1..]] {
            let res = app.client.post(app.url(PATH)).bearer_auth(token).json(&body).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(res.headers()["www-authenticate"], "Bearer");
            let problem: Value = res.json().await.unwrap();
            assert!(problem["detail"].as_str().unwrap().contains("token"), "{problem}");
        }
        // An officer's token is not the portal's.
        let desk = app.token("tn.xa").await;
        assert_eq!(push(&app, &desk, &body).await.0, StatusCode::UNAUTHORIZED);

        let refused = |mut b: Value, f: fn(&mut Value)| { f(&mut b); b };
        let cases: Vec<(Value, &str)> = vec![
            (refused(body.clone(), |b| b["procedure"] = json!("9.999999")), "procedure"),
            (refused(body.clone(), |b| b["agency"] = json!("000.99.99.H56")), "agency"),
            (refused(body.clone(), |b| { b["documents"].as_array_mut().unwrap().pop(); }), "components"),
            (refused(body.clone(), |b| b["portal_id"] = json!("có dấu")), "portal_id"),
            (refused(body.clone(), |b| b["documents"][1]["sha256"] = json!("abc")), "documents[1].sha256"),
            (refused(body.clone(), |b| b["documents"][1]["url"] = json!("file:///etc/passwd")), "documents[1].url"),
            (refused(body.clone(), |b| b["documents"][1]["component"] = json!(0)), "documents[1].component"),
            (refused(body.clone(), |b| b["documents"][1]["size"] = json!(20 * 1024 * 1024)), "documents[1].size"),
            (refused(body.clone(), |b| b["applicant"]["phone"] = json!("")), "applicant.phone"),
        ];
        for (b, field) in cases {
            let (s, r, _) = push(&app, TOKEN, &b).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {r}");
            let fields: Vec<&str> = r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert!(fields.contains(&field), "{field} not in {r}");
        }
        let (s, r, _) = push(&app, TOKEN, &json!({"portal_id": "x"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
        assert_eq!(written(t).await, (0, 0), "nothing written by a refused push");
    }

    async fn a_document_not_fetched_or_not_as_declared_creates_nothing_until_a_push_succeeds(t) {
        setup(t).await;
        let Some(p) = portal(&["--seed", "4", "--slow-seconds", "4"]) else { return };
        let app = app(t).await;
        // Each fails the 3 tries of the first push, then serves it right.
        for (n, mode) in ["5xx", "drop", "slow"].into_iter().enumerate() {
            let id = format!("G22.99-250301-10000{n}");
            let body = p.dossier(&id, &format!("?fail={mode}&times=3")).await;
            let (s, r, retry) = push(&app, TOKEN, &body).await;
            assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{mode}: {r}");
            assert_eq!(retry.as_deref(), Some("30"), "{mode}");
            assert!(r["detail"].as_str().unwrap().contains("push the dossier again later"), "{r}");
            assert_eq!(written(t).await, (n as i64, 2 * n as i64), "{mode}: nothing written");
            let (s, r, _) = push(&app, TOKEN, &body).await;
            assert_eq!(s, StatusCode::CREATED, "{mode}, pushed again: {r}");
        }
        // Other bytes than declared, three times: a bad document (422), nothing written; the
        // push succeeds once the right file is served.
        let body = p.dossier("G22.99-250301-200000", "?fail=wrong&times=3").await;
        let before = written(t).await;
        let (s, r, _) = push(&app, TOKEN, &body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
        assert_eq!(r["errors"][0]["field"], "documents[1]", "{r}");
        assert_eq!(r["errors"][0]["code"], "dvcqg.attachment_mismatch", "{r}");
        assert_eq!(written(t).await, before);
        assert_eq!(push(&app, TOKEN, &body).await.0, StatusCode::CREATED);
        // Once other bytes, then the right ones: taken within the same push.
        let body = p.dossier("G22.99-250301-200001", "?fail=wrong&times=1").await;
        assert_eq!(push(&app, TOKEN, &body).await.0, StatusCode::CREATED);
        // The file server refusing it (404): not worth a retry.
        let mut body = p.dossier("G22.99-250301-200002", "").await;
        body["documents"][1]["url"] = json!(format!("http://127.0.0.1:{}/missing/x.pdf", p.port));
        let (s, r, _) = push(&app, TOKEN, &body).await;
        assert_eq!((s, r["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("dvcqg.attachment_status")), "{r}");
        // The file server gone: try again later.
        let body = p.dossier("G22.99-250301-200003", "").await;
        drop(p);
        let before = written(t).await;
        let (s, _, retry) = push(&app, TOKEN, &body).await;
        assert_eq!((s, retry.as_deref()), (StatusCode::SERVICE_UNAVAILABLE, Some("30")));
        assert_eq!(written(t).await, before);
        // No orphan recorded: every file row is named by a dossier.
        assert_eq!(scalar(&t.db, ORPHANS).await, 0);
    }

    async fn pushes_failing_at_random_end_with_every_dossier_exactly_once(t) {
        setup(t).await;
        // One try per push: every failure of the file server reaches the portal's retries.
        let app = app_trying(t, 1).await;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("acks.jsonl");
        let target = app.url(PATH);
        let Some(p) = portal(&["--seed", "5", "--target", &target, "--token", TOKEN, "--count", "12",
            "--log", log.to_str().unwrap(), "--fail-rate", "0.25", "--slow-seconds", "3",
            "--repeat-rate", "0.4", "--workers", "3", "--deadline", "240"]) else { return };
        let (code, last) = tokio::task::spawn_blocking(move || p.finish(Duration::from_secs(300))).await.unwrap();
        assert_eq!(code, Some(0), "simulator: {last}");
        assert_eq!(last, "done 12");
        let acks = acknowledged(&log);
        assert!(acks.iter().any(|a| a["repeat"] == true), "some pushes were repeated on purpose");
        assert!(acks.iter().filter(|a| a["repeat"] == true).all(|a| a["http"] == 200), "a repeat finds the first: {acks:?}");
        assert!(acks.iter().any(|a| a["attempts"].as_u64() > Some(1)), "some pushes failed first: {acks:?}");
        exactly_once(t, &acks, 12).await;
    }
}

/// The acknowledgements a pushing run logged.
fn acknowledged(log: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every portal id acknowledged has one dossier, the one every acknowledgement of it named,
/// with its two documents; `n` of them in all.
async fn exactly_once(t: &TestDb, acks: &[Value], n: i64) {
    let mut refs: HashMap<String, String> = HashMap::new();
    for a in acks {
        let (id, r) = (a["portal_id"].as_str().unwrap(), a["reference"].as_str().unwrap());
        let first = refs.entry(id.to_string()).or_insert_with(|| r.to_string());
        assert_eq!(first, r, "{id} acknowledged with two references");
    }
    assert_eq!(refs.len() as i64, n);
    assert_eq!(
        scalar(&t.db, "SELECT COUNT(*) FROM dossiers WHERE portal_id IS NOT NULL").await,
        n
    );
    assert_eq!(count(&t.db, "dossiers").await, n, "no dossier twice");
    for (id, reference) in &refs {
        let (dossier, _) = motcua_store::repo::portal::find(&t.db, id)
            .await
            .unwrap()
            .expect(id);
        assert_eq!(&format!("online-{dossier}"), reference);
        let files = scalar(
            &t.db,
            &format!("SELECT COUNT(*) FROM dossier_components WHERE dossier_id = {dossier} AND file_sha256 IS NOT NULL"),
        )
        .await;
        assert_eq!(files, 2, "{id}");
    }
    assert_eq!(
        scalar(&t.db, ORPHANS).await,
        0,
        "no file recorded without its dossier"
    );
}

/// The real binary serving the test's database on a given port, with the portal's token.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(t: &TestDb, port: u16) -> Served {
    let data = t.data_dir().display().to_string();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--database-url",
            &t.url,
            "--data-dir",
            &data,
            "--log-format",
            "text",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--dvcqg-inbound-token",
            TOKEN,
            "--dvcqg-fetch-timeout-seconds",
            "2",
        ])
        .current_dir(t.data_dir())
        .env_remove("MOTCUA_DATABASE_URL")
        .env_remove("MOTCUA_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn motcua");
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if line.contains("serving on http://") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("motcua serve started");
    Served(child)
}

on_both_backends! {
    async fn a_kill_9_mid_run_loses_and_doubles_nothing(t) {
        setup(t).await;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = tokio::task::block_in_place(|| serve(t, port));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("acks.jsonl");
        let target = format!("http://127.0.0.1:{port}{PATH}");
        let Some(p) = portal(&["--seed", "6", "--target", &target, "--token", TOKEN, "--count", "30",
            "--log", log.to_str().unwrap(), "--fail-rate", "0.05", "--slow-seconds", "3",
            "--repeat-rate", "0.3", "--workers", "4", "--deadline", "240", "--max-wait", "0.5"]) else { return };
        // Killed once pushes are being acknowledged, while others are on their way.
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while std::fs::read_to_string(&log).map(|s| s.lines().count()).unwrap_or(0) < 8 {
            assert!(std::time::Instant::now() < deadline, "no push acknowledged");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.0.kill().unwrap(); // SIGKILL
        server.0.wait().unwrap();
        let at_kill = acknowledged(&log).len();
        assert!(at_kill < 30, "killed before the run ended");
        tokio::time::sleep(Duration::from_millis(500)).await;
        server = tokio::task::block_in_place(|| serve(t, port));
        let (code, last) = tokio::task::spawn_blocking(move || p.finish(Duration::from_secs(300))).await.unwrap();
        assert_eq!(code, Some(0), "simulator: {last}");
        assert!(acknowledged(&log).len() > at_kill, "pushes went on after the restart");
        drop(server);
        exactly_once(t, &acknowledged(&log), 30).await;
        // Every chain sound.
        let out = Command::new(BIN).args(["audit", "verify", "--database-url", &t.url]).output().unwrap();
        assert!(out.status.success(), "audit verify: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn a_short_inbound_token_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--dvcqg-inbound-token",
            "short",
        ])
        .current_dir(dir.path())
        .env_remove("MOTCUA_DATABASE_URL")
        .env_remove("MOTCUA_DATA_DIR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("--dvcqg-inbound-token"), "{err}");
}
