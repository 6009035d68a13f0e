//! The national portal's outbound sink (DVCQG) against a separate process that plays the
//! portal (scripts/sim/dvcqg_portal.py) and fails at random: every change of every dossier
//! reaches it once in effect and in order; a record that keeps failing goes to the dead
//! letter, is seen on `motcua outbox status` and the admin page, and is sent again by
//! `motcua outbox retry` or the page's "Gửi lại"; a kill -9 of `motcua serve` while it
//! delivers loses nothing and reorders nothing.

use crate::cli::Server;
use crate::support::{TestApp, TestDb, add_user, hidden_value, load_fixtures, officer, on_both_backends};
use motcua_domain::dossier::machine::Action;
use motcua_service::dossiers::{ActionInput, Actor, IntakeInput};
use motcua_service::dvcqg::DvcqgSink;
use motcua_service::outbox::{FileSink, RetryPolicy, spawn_worker};
use motcua_store::repo::outbox;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_motcua");
const TOKEN: &str = "portal-s3cret";

/// The simulated portal, killed when dropped.
struct Portal {
    child: std::process::Child,
    base: String,
    log: std::path::PathBuf,
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Portal {
    /// Starts the simulator; None (the test skipped) where python3 is missing outside CI.
    fn start(dir: &std::path::Path, odds: &[&str]) -> Option<Portal> {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/sim/dvcqg_portal.py");
        let log = dir.join("portal.jsonl");
        let spawned = std::process::Command::new("python3")
            .arg(&script)
            .args(["0", log.to_str().unwrap(), "--token", TOKEN])
            .args(odds)
            .stdout(std::process::Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
                eprintln!(
                    "\n!!!!!!!! skipped: python3 is not available ({e}): the DVCQG portal simulator cannot run\n"
                );
                return None;
            }
            Err(e) => panic!("python3 is needed for the DVCQG portal simulator: {e}"),
        };
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("ready ")
            .expect("the simulator's ready line")
            .to_string();
        Some(Portal {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        })
    }

    /// Where motcua posts the records.
    fn url(&self) -> String {
        format!("{}/api/hoso/dongbo", self.base)
    }

    /// New odds of the faults, e.g. `{"reject": 0}`.
    async fn set(&self, odds: Value) {
        let res = reqwest::Client::new()
            .post(format!("{}/control", self.base))
            .bearer_auth(TOKEN)
            .json(&odds)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    fn entries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.ends_with('}'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn of_kind(&self, kind: &str) -> Vec<Value> {
        self.entries().into_iter().filter(|e| e["kind"] == kind).collect()
    }

    /// The records the portal took, per dossier code, in the order they arrived.
    fn received(&self) -> BTreeMap<String, Vec<Value>> {
        let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for e in self.of_kind("accepted") {
            out.entry(e["code"].as_str().unwrap().to_string())
                .or_default()
                .push(e["record"].clone());
        }
        out
    }
}

/// The portal's records queued for each dossier, in the order of their changes.
async fn queued(t: &TestDb, codes: &[String]) -> BTreeMap<String, Vec<Value>> {
    let mut out = BTreeMap::new();
    for code in codes {
        let id = motcua_store::repo::dossiers::find(&t.db, code)
            .await
            .unwrap()
            .unwrap()
            .id;
        let records: Vec<Value> = outbox::of_dossier(&t.db, id)
            .await
            .unwrap()
            .into_iter()
            .filter(|(topic, _)| topic == "dvcqg_sync")
            .map(|(_, p)| serde_json::from_str(&p).unwrap())
            .collect();
        out.insert(code.clone(), records);
    }
    out
}

/// Each dossier's changes reached the portal exactly once, in order, as queued; and the
/// portal saw nothing out of order or malformed.
async fn assert_received_once_in_order(t: &TestDb, portal: &Portal, codes: &[String]) {
    let errors = portal.of_kind("error");
    assert!(errors.is_empty(), "the portal saw errors: {errors:?}");
    let expected = queued(t, codes).await;
    let received = portal.received();
    for code in codes {
        let seqs = |v: &[Value]| {
            v.iter()
                .map(|r| r["event_seq"].as_i64().unwrap())
                .collect::<Vec<_>>()
        };
        let (want, got) = (
            &expected[code],
            received.get(code).map(Vec::as_slice).unwrap_or(&[]),
        );
        assert_eq!(seqs(got), seqs(want), "{code}: the changes the portal took");
        assert_eq!(got, want.as_slice(), "{code}: the records as queued");
    }
    assert_eq!(received.len(), codes.len(), "records of dossiers not made here");
}

/// Waits until the outbox has nothing to deliver (no message pending or dead).
async fn drained(t: &TestDb, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let status = outbox::status(&t.db).await.unwrap();
        if status.iter().all(|s| s.pending == 0 && s.dead == 0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox was not drained: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `cond` holds on the portal's topic's counts.
async fn until_sync(
    t: &TestDb,
    what: &str,
    cond: impl Fn(&outbox::TopicCounts) -> bool,
) -> outbox::TopicCounts {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = outbox::status(&t.db).await.unwrap();
        let sync = status
            .iter()
            .find(|s| s.topic == "dvcqg_sync")
            .cloned()
            .unwrap_or(outbox::TopicCounts {
                topic: "dvcqg_sync".into(),
                pending: 0,
                retrying: 0,
                dead: 0,
                oldest_pending: None,
            });
        if cond(&sync) {
            return sync;
        }
        assert!(Instant::now() < deadline, "{what}: never reached; {status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: never reached");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The officers of the commune desk (receiving, then handling).
async fn officers(t: &TestDb) {
    load_fixtures(t).await;
    add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
    add_user(&t.db, "cv.xa", "000.30.01.H56", &["specialist"]).await;
}

/// A birth registration received at the commune desk, then `steps` more changes (transfer,
/// then the specialist's step done): 1 + steps records for the portal.
async fn dossier(t: &TestDb, n: usize, steps: usize) -> String {
    let state = t.services();
    let (desk, cv) = (officer(t, "tn.xa").await, officer(t, "cv.xa").await);
    let body: IntakeInput = serde_json::from_value(json!({
        "procedure": "1.001193", "agency": "000.30.01.H56", "channel": "direct",
        "applicant": {"kind": "person", "name": format!("Nguyễn Văn Số {n}"), "id_number": "015093000123", "phone": "0912345678"},
        "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]}))
    .unwrap();
    // The desks' intakes take turns (intakes at once are dossiers.rs's subject); their other
    // changes go at once, while the worker delivers.
    static INTAKE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let turn = INTAKE.lock().await;
    let key = state
        .intake(Actor::Officer(&desk), body)
        .await
        .unwrap()
        .dossier
        .key();
    drop(turn);
    for (i, step) in [Action::Transfer, Action::CompleteStep]
        .into_iter()
        .take(steps)
        .enumerate()
    {
        let who = if i == 0 { &desk } else { &cv };
        state
            .act(Actor::Officer(who), &key, step, ActionInput::default())
            .await
            .unwrap();
    }
    key
}

/// The sink the server builds with `--dvcqg-url`: the portal, then the file log.
fn sink(t: &TestDb, portal: &Portal) -> Arc<DvcqgSink> {
    let files = Box::new(FileSink {
        dir: t.data_dir().join("outbox"),
    });
    Arc::new(DvcqgSink::new(&portal.url(), TOKEN, Duration::from_secs(1), files).unwrap())
}

/// `motcua ARGS` on the test's database, as an operator runs it.
fn motcua(t: &TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(args)
        .args([
            "--database-url",
            &t.url,
            "--data-dir",
            &t.data_dir().display().to_string(),
        ])
        .env_remove("MOTCUA_DATABASE_URL")
        .output()
        .unwrap()
}

fn text(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

on_both_backends! {
    async fn every_change_reaches_a_failing_portal_once_and_in_order(t) {
        officers(t).await;
        let dir = tempfile::tempdir().unwrap();
        // A portal that is busy (503), drops connections (having taken the record or not) and
        // answers too late (having taken it) on one request in three.
        let odds = ["--seed", "27", "--reject", "0.15", "--drop", "0.12", "--delay", "0.06", "--delay-seconds", "1.3"];
        let Some(portal) = Portal::start(dir.path(), &odds) else { return };
        let policy = RetryPolicy { base: Duration::from_millis(20), cap: Duration::from_millis(400), max_attempts: Some(60) };
        let worker = spawn_worker(t.services(), sink(t, &portal), policy);
        // Desks make changes while the worker delivers: 4 desks, 6 dossiers each, 3 changes each.
        let desk = |d: usize| async move {
            let mut codes = Vec::new();
            for n in 0..6 {
                codes.push(dossier(t, d * 100 + n, 2).await);
            }
            codes
        };
        let (d0, d1, d2, d3) = tokio::join!(desk(0), desk(1), desk(2), desk(3));
        let codes: Vec<String> = [d0, d1, d2, d3].concat();
        drained(t, Duration::from_secs(180)).await;
        worker.abort();
        assert_received_once_in_order(t, &portal, &codes).await;
        let records: usize = queued(t, &codes).await.values().map(Vec::len).sum();
        assert_eq!(records, 24 * 3);
        // The faults happened, and records the portal took without motcua learning it were
        // sent again and recognised by their Idempotency-Key.
        let faults = portal.of_kind("fault");
        assert!(faults.len() >= 5, "too few faults to mean anything: {faults:?}");
        assert!(!portal.of_kind("duplicate").is_empty(), "no record was sent twice");
        // The file log has each record once too (after the portal took it).
        let logged = std::fs::read_to_string(t.data_dir().join("outbox/dvcqg_sync.jsonl")).unwrap();
        assert_eq!(logged.lines().count(), records);
        assert!(outbox::dead(&t.db, None, 10).await.unwrap().is_empty());
    }
}

on_both_backends! {
    async fn a_record_the_portal_keeps_refusing_goes_to_the_dead_letter_and_is_sent_again(t) {
        officers(t).await;
        add_user(&t.db, "quantri", "000.00.01.H56", &["admin"]).await;
        let dir = tempfile::tempdir().unwrap();
        let Some(portal) = Portal::start(dir.path(), &["--reject", "1"]) else { return };
        let policy = RetryPolicy { base: Duration::from_millis(10), cap: Duration::from_millis(50), max_attempts: Some(3) };
        let worker = spawn_worker(t.services(), sink(t, &portal), policy);
        let app = TestApp::spawn(t).await;

        // The portal is down (503): the intake's record is tried 3 times, then dead; the
        // transfer's waits behind it, never tried; the citizen's notices go on.
        let a = dossier(t, 1, 1).await;
        let dead = until_sync(t, "A's first record dead", |s| s.dead == 1).await;
        assert_eq!((dead.pending, dead.retrying), (1, 0), "A's second record waits, untried");
        let dead_row = outbox::dead(&t.db, None, 10).await.unwrap().remove(0);
        assert_eq!((dead_row.topic.as_str(), dead_row.dossier.as_deref(), dead_row.attempts), ("dvcqg_sync", Some(a.as_str()), 3));
        assert!(dead_row.last_error.as_deref().unwrap().starts_with("portal answered 503"), "{dead_row:?}");
        let tried: Vec<Value> = portal.of_kind("fault");
        assert_eq!(tried.iter().map(|f| f["key"].as_str().unwrap()).collect::<Vec<_>>(), vec![format!("{a}:1"); 3]);
        let notices = outbox::status(&t.db).await.unwrap().into_iter().find(|s| s.topic == "notify_citizen");
        assert!(notices.as_ref().is_none_or(|n| n.pending == 0), "the notices were held back too: {notices:?}");

        // The portal is back: another dossier flows while A's stays held.
        portal.set(json!({"reject": 0})).await;
        let b = dossier(t, 2, 2).await;
        until("B's three records taken", || portal.received().get(&b).is_some_and(|r| r.len() == 3)).await;
        assert!(!portal.received().contains_key(&a), "A's records went past its dead one");
        until_sync(t, "B's records marked delivered", |s| s.pending == 1 && s.dead == 1).await;

        // Seen by the operator: the command line and the admin page.
        let o = motcua(t, &["outbox", "status"]);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{out}{err}");
        let line = out.lines().find(|l| l.starts_with("dvcqg_sync")).unwrap_or_else(|| panic!("{out}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cols[1..4], &["1", "0", "1"], "pending, retrying, dead: {out}");
        assert!(out.contains(&format!("#{}", dead_row.id)) && out.contains(&a) && out.contains("portal answered 503"), "{out}");
        let o = motcua(t, &["outbox", "dead", "--topic", "dvcqg_sync"]);
        let (out, _) = text(&o);
        assert!(out.starts_with(&format!("{}\tdvcqg_sync\t{a}\t3\t", dead_row.id)), "{out}");
        let (cookie, csrf) = app.browser_login("quantri").await;
        let page = app.client.get(app.url("/admin/outbox")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!(r#"id="dead-{}""#, dead_row.id)) && html.contains("portal answered 503"), "{html}");
        assert!(html.contains(&format!(r#"action="/admin/outbox/{}/retry""#, dead_row.id)) && html.contains("Gửi lại"), "{html}");
        assert!(html.contains(r#"href="/admin/outbox" aria-current="page""#), "the admin menu links to the page");

        // Bad input on the command line: one line, exit 2, nothing changed.
        for (args, says) in [
            (vec!["outbox", "retry", "987654"], "no outbox message has id 987654"),
            (vec!["outbox", "dead", "--topic", "sms"], "unknown topic \"sms\""),
        ] {
            let o = motcua(t, &args);
            let (_, err) = text(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(says) && err.trim().lines().count() == 1, "{args:?}: {err}");
        }
        let id = dead_row.id.to_string();

        // `retry`: the dead record goes, then the one held behind it, in order.
        let o = motcua(t, &["outbox", "retry", &id]);
        let (out, err) = text(&o);
        assert!(o.status.success() && out.starts_with("1 message(s) back in the queue"), "{out}{err}");
        drained(t, Duration::from_secs(60)).await;
        assert_eq!(portal.received()[&a].len(), 2);
        let o = motcua(t, &["outbox", "retry", &id]);
        assert_eq!(o.status.code(), Some(2));
        assert!(text(&o).1.contains("was delivered already"), "{:?}", text(&o));

        // A record the portal refuses for good (422) is dead at once; the page sends it again.
        portal.set(json!({"refuse": 1})).await;
        let c = dossier(t, 3, 0).await;
        let dead = until_sync(t, "C's record dead", |s| s.dead == 1).await;
        assert_eq!(dead.pending, 0);
        let refused = outbox::dead(&t.db, Some("dvcqg_sync"), 10).await.unwrap().remove(0);
        assert_eq!((refused.dossier.as_deref(), refused.attempts), (Some(c.as_str()), 1), "dead at the first refusal");
        assert!(refused.last_error.as_deref().unwrap().starts_with("portal answered 422"), "{refused:?}");
        portal.set(json!({"refuse": 0})).await;
        // Only an administrator, only with the session's CSRF token.
        let forged = app.client.post(app.url("/admin/outbox/retry-dead")).header("cookie", &cookie).form(&[("csrf", "forged")]).send().await.unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let (desk_cookie, desk_csrf) = app.browser_login("tn.xa").await;
        let desk = app.client.post(app.url("/admin/outbox/retry-dead")).header("cookie", &desk_cookie).form(&[("csrf", desk_csrf.as_str())]).send().await.unwrap();
        assert_eq!(desk.status(), StatusCode::FORBIDDEN);
        assert_eq!(outbox::dead(&t.db, None, 10).await.unwrap().len(), 1, "nothing was sent again");
        let html = app.client.get(app.url("/admin/outbox")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        let csrf_on_page = hidden_value(&html, "csrf").unwrap();
        assert_eq!(csrf_on_page, csrf);
        let res = app.client.post(app.url("/admin/outbox/retry-dead")).header("cookie", &cookie).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/admin/outbox?retried=1");
        let after = app.client.get(app.url("/admin/outbox?retried=1")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
        assert!(after.contains("Đã đưa 1 tin trở lại hàng đợi"), "{after}");
        drained(t, Duration::from_secs(60)).await;
        worker.abort();
        assert_received_once_in_order(t, &portal, &[a, b, c]).await;
    }
}

/// The real binary serving the test's database, posting to the portal.
fn serve(t: &TestDb, portal: &Portal) -> Server {
    let dir = t.data_dir();
    let (url, data, portal_url) = (t.url.clone(), dir.display().to_string(), portal.url());
    tokio::task::block_in_place(|| {
        Server::start(
            &dir,
            &[
                "serve",
                "--database-url",
                &url,
                "--data-dir",
                &data,
                "--log-format",
                "text",
                "--dvcqg-url",
                &portal_url,
                "--dvcqg-token",
                TOKEN,
                "--dvcqg-timeout-seconds",
                "1",
                "--outbox-retry-base-ms",
                "50",
                "--outbox-retry-max-seconds",
                "1",
                "--outbox-max-attempts",
                "1000",
            ],
        )
    })
}

on_both_backends! {
    async fn a_kill_9_while_delivering_loses_no_record_and_reorders_none(t) {
        officers(t).await;
        let dir = tempfile::tempdir().unwrap();
        let odds = ["--seed", "9", "--reject", "0.1", "--drop", "0.1", "--delay", "0.05", "--delay-seconds", "1.2"];
        let Some(portal) = Portal::start(dir.path(), &odds) else { return };
        // A backlog queued while no server runs.
        let mut codes = Vec::new();
        for n in 0..40 {
            codes.push(dossier(t, n, 2).await);
        }
        let total = 40 * 3;
        // Killed twice while it delivers; more changes made while it is down.
        for (round, kill_at) in [(0, 10), (1, 50)] {
            let mut server = serve(t, &portal);
            until("records taken before the kill", || portal.of_kind("accepted").len() >= kill_at).await;
            server.child.kill().unwrap(); // SIGKILL
            server.child.wait().unwrap();
            let taken = portal.of_kind("accepted").len();
            assert!(taken < total + round * 20, "the server was killed only after delivering everything ({taken})");
            for n in 0..10 {
                codes.push(dossier(t, 1000 + round * 100 + n, 1).await);
            }
        }
        let server = serve(t, &portal);
        drained(t, Duration::from_secs(180)).await;
        drop(server);
        assert_received_once_in_order(t, &portal, &codes).await;
        assert_eq!(portal.of_kind("accepted").len(), total + 2 * 10 * 2);
    }
}
