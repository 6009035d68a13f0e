//! `motcua backup` and `motcua restore` as an operator runs them, on both backends: a backup
//! taken while clients keep handing in dossiers with scans restores into a fresh place whose
//! report counters add up, whose every event chain verifies, which has every file its rows
//! name, and whose next intake gets a code not already there. Refusals are one line, exit 2;
//! a damaged backup is caught; the code sequences move beyond the highest code present.

use crate::support::{
    TestApp, TestDb, add_user, exec, load_fixtures, officer, on_both_backends, pg_admin_url, with_database,
};
use motcua_store::Db;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn motcua(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .current_dir(dir.path())
        .env_remove("MOTCUA_DATABASE_URL")
        .env_remove("MOTCUA_DATA_DIR")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", text(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Exit code 2 and exactly one line on stderr containing `needle`.
fn refused(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(o));
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].contains(needle), "{:?} lacks {needle:?}", lines[0]);
}

/// pg_dump and pg_restore are on PATH; outside CI a loud skip when they are not.
fn pg_tools() -> bool {
    let found = ["pg_dump", "pg_restore"].iter().all(|p| {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(p).is_file()))
    });
    if !found {
        let msg = "pg_dump/pg_restore not on PATH: PostgreSQL backup tests NOT RUN (.ci/run installs postgresql-client)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("\n!!!!!!!! {msg}\n");
    }
    found
}

/// Where a restore goes: a new data directory, and for PostgreSQL a new database with no
/// table at all (dropped after the test).
struct Target {
    dir: tempfile::TempDir,
    url: String,
    pg: Option<(String, String)>,
}

impl Target {
    async fn new(t: &TestDb) -> Target {
        let dir = tempfile::tempdir().unwrap();
        if t.url.starts_with("sqlite:") {
            let url = format!("sqlite://{}", dir.path().join("motcua.db").display());
            return Target { dir, url, pg: None };
        }
        let admin = pg_admin_url();
        let name = format!(
            "motcua_restore_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        );
        let pool = sqlx::PgPool::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        Target {
            url: with_database(&admin, &name),
            dir,
            pg: Some((admin, name)),
        }
    }

    fn data_dir(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// `motcua ARGS` on this target.
    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        let dir = self.data_dir();
        all.extend(["--database-url", &self.url, "--data-dir", &dir]);
        motcua(&all)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&pool)
                            .await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// `motcua backup` of the test database into `to`.
fn backup(t: &TestDb, to: &Path) -> Output {
    let data = t.data_dir().display().to_string();
    let to = to.display().to_string();
    motcua(&[
        "backup",
        "--database-url",
        &t.url,
        "--data-dir",
        &data,
        "--to",
        &to,
    ])
}

/// The codes of a database's dossiers.
async fn codes(db: &Db) -> BTreeSet<String> {
    let sql = "SELECT code FROM dossiers WHERE code IS NOT NULL";
    let v: Vec<String> = match db {
        Db::Sqlite { write, .. } => sqlx::query_scalar(sql)
            .fetch_all(&mut **write.lock().await.unwrap())
            .await
            .unwrap(),
        Db::Postgres(pg) => sqlx::query_scalar(sql).fetch_all(&pg.write).await.unwrap(),
    };
    v.into_iter().collect()
}

/// The digests of files the dossiers of a database name.
async fn referenced_files(db: &Db) -> Vec<String> {
    let sql = "SELECT file_sha256 FROM dossier_components WHERE file_sha256 IS NOT NULL
               UNION SELECT result_file FROM dossiers WHERE result_file IS NOT NULL";
    match db {
        Db::Sqlite { write, .. } => sqlx::query_scalar(sql)
            .fetch_all(&mut **write.lock().await.unwrap())
            .await
            .unwrap(),
        Db::Postgres(pg) => sqlx::query_scalar(sql).fetch_all(&pg.write).await.unwrap(),
    }
}

fn intake_body(file: &str) -> Value {
    json!({
        "procedure": "1.009972", "case": "cong-trinh", "agency": "000.00.01.H56", "channel": "direct",
        "applicant": {"kind": "person", "name": "Nguyễn Văn An", "id_number": "015093000123"},
        "components": [{"index": 0, "provided": true, "file": format!("sha256:{file}")}, {"index": 1, "provided": true}]
    })
}

/// One client handing in dossiers, each with a scan of its own, until told to stop; every
/// code answered is added to `done`.
async fn client(
    app: Arc<TestApp>,
    token: String,
    n: usize,
    stop: Arc<AtomicBool>,
    done: Arc<Mutex<Vec<String>>>,
) {
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let scan = format!("%PDF-1.4\n% client {n} scan {i}\n%%EOF\n");
        let res = app
            .client
            .post(app.url(&format!("/api/v1/uploads?filename=scan-{n}-{i}.pdf")))
            .bearer_auth(&token)
            .body(scan)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let file: Value = res.json().await.unwrap();
        let (status, d) = app
            .call(
                reqwest::Method::POST,
                "/api/v1/dossiers",
                &token,
                Some(&intake_body(file["sha256"].as_str().unwrap())),
            )
            .await;
        assert_eq!(status, 201, "{d}");
        let code = d["code"].as_str().unwrap().to_string();
        if i % 2 == 0 {
            let (status, _) = app
                .call(
                    reqwest::Method::POST,
                    &format!("/api/v1/dossiers/{code}/actions/transfer"),
                    &token,
                    Some(&json!({})),
                )
                .await;
            assert_eq!(status, 200);
        }
        done.lock().unwrap().push(code);
    }
}

on_both_backends! {
    async fn a_backup_under_load_restores_whole_and_issues_no_code_twice(t) {
        if t.url.starts_with("postgres") && !pg_tools() {
            return;
        }
        load_fixtures(t).await;
        add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer"]).await;
        let app = Arc::new(TestApp::spawn(t).await);
        let token = app.token("tiepnhan").await;
        let (stop, done) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
        let clients: Vec<_> = (0..4)
            .map(|n| tokio::spawn(client(app.clone(), token.clone(), n, stop.clone(), done.clone())))
            .collect();
        while done.lock().unwrap().len() < 20 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // The backup, while the clients go on.
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("backup");
        let before: Vec<String> = done.lock().unwrap().clone();
        let out = {
            let (t_url, data, to) = (t.url.clone(), t.data_dir(), to.clone());
            tokio::task::spawn_blocking(move || {
                let data = data.display().to_string();
                let to = to.display().to_string();
                motcua(&["backup", "--database-url", &t_url, "--data-dir", &data, "--to", &to])
            })
            .await
            .unwrap()
        };
        let during = done.lock().unwrap().len();
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.await.unwrap();
        }
        let out = ok(&out);
        assert!(out.starts_with("backup: "), "{out}");
        let all: BTreeSet<String> = done.lock().unwrap().iter().cloned().collect();
        assert!(all.len() > during, "the clients went on after the backup");
        let manifest: Value = serde_json::from_str(&std::fs::read_to_string(to.join("manifest.json")).unwrap()).unwrap();
        let backed_up = manifest["counts"]["dossiers"].as_i64().unwrap() as usize;
        assert!(backed_up >= before.len() && backed_up < all.len(), "{backed_up} of {}..{}", before.len(), all.len());

        // Restored into a fresh place.
        let target = Target::new(t).await;
        let restored = ok(&target.run(&["restore", "--from", &to.display().to_string()]));
        assert!(restored.contains(&format!("restored: {backed_up} dossiers")), "{restored}");
        let db = Db::connect(&target.url).await.unwrap();
        let present = codes(&db).await;
        assert_eq!(present.len(), backed_up);
        assert!(present.is_subset(&all), "only dossiers that were handed in");
        assert!(before.iter().all(|c| present.contains(c)), "every dossier answered before the backup began is in it");

        // Report counters equal a recount; every chain verifies; every file named is there, whole.
        let report = ok(&target.run(&["report", "--from", "2000-01-01", "--to", "2100-12-31", "--verify"]));
        let report: Value = serde_json::from_str(&report).unwrap();
        assert_eq!(report["total"]["received"].as_i64().unwrap() as usize, backed_up);
        let audit = ok(&target.run(&["audit", "verify"]));
        assert!(audit.contains(&format!("audit: {backed_up} dossiers")) && audit.contains("; 0 broken chains"), "{audit}");
        let files = motcua_store::repo::files::FileStore::new(target.dir.path());
        let named = referenced_files(&db).await;
        assert_eq!(named.len(), backed_up, "a scan of its own for each dossier");
        for sha in &named {
            assert_eq!(motcua_store::backup::check_file(&files, sha).unwrap(), Some(true), "{sha}");
        }

        // The next intake gets a code not already present, and one more than the day's last.
        let services = motcua_service::Services::new(db.clone(), target.dir.path(), Default::default());
        let desk = {
            let u = motcua_store::repo::users::by_username(&db, "tiepnhan").await.unwrap().unwrap();
            motcua_service::auth::CurrentUser {
                principal: motcua_store::repo::auth::principal(&db, u.id).await.unwrap().unwrap(),
                csrf_token: None,
                reference_version: None,
            }
        };
        let input = serde_json::from_value(intake_body(&named[0])).unwrap();
        let next = services.intake(motcua_service::dossiers::Actor::Officer(&desk), input).await.unwrap().dossier.code.unwrap();
        assert!(!present.contains(&next), "{next} was issued already");
        let number = |c: &str| c.rsplit('-').next().unwrap().parse::<u32>().unwrap();
        assert_eq!(number(&next), present.iter().map(|c| number(c)).max().unwrap() + 1);
        db.close().await;

        // A second restore onto it is refused; with --force it replaces what is there.
        refused(&target.run(&["restore", "--from", &to.display().to_string()]), "already holds");
        let again = ok(&target.run(&["restore", "--from", &to.display().to_string(), "--force"]));
        assert!(again.contains(&format!("restored: {backed_up} dossiers")), "{again}");
        // A backup into a directory that is not empty is refused.
        refused(&backup(t, &to), "is not empty");
    }
}

on_both_backends! {
    async fn code_sequences_resume_beyond_the_highest_code_present(t) {
        load_fixtures(t).await;
        add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer"]).await;
        let services = t.services();
        let desk = officer(t, "tiepnhan").await;
        let body = json!({"procedure": "1.009972", "case": "cong-trinh", "agency": "000.00.01.H56", "channel": "direct",
            "applicant": {"kind": "person", "name": "Nguyễn Văn An", "id_number": "015093000123"},
            "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]});
        let mut issued = Vec::new();
        for _ in 0..3 {
            let v = services.intake(motcua_service::dossiers::Actor::Officer(&desk), serde_json::from_value(body.clone()).unwrap()).await.unwrap();
            issued.push(v.dossier.code.unwrap());
        }
        // Sequences behind the codes (a copy whose sequences lag its dossiers, codes loaded
        // from elsewhere): the day's row gone.
        exec(&t.db, "DELETE FROM dossier_sequences").await;
        let dir = t.data_dir().display().to_string();
        let o = motcua(&["restore", "--sequences-only", "--database-url", &t.url, "--data-dir", &dir]);
        assert_eq!(ok(&o).trim(), "code sequences: 1 moved beyond the highest code present");
        let o = motcua(&["restore", "--sequences-only", "--database-url", &t.url, "--data-dir", &dir]);
        assert_eq!(ok(&o).trim(), "code sequences: 0 moved beyond the highest code present", "once is enough");
        // A fresh process (no numbers remembered) issues the fourth.
        let fresh = Db::connect(&t.url).await.unwrap();
        let services = motcua_service::Services::new(fresh.clone(), &t.data_dir(), Default::default());
        let next = services.intake(motcua_service::dossiers::Actor::Officer(&desk), serde_json::from_value(body).unwrap()).await.unwrap().dossier.code.unwrap();
        assert_eq!(next, issued[2].replace("-0003", "-0004"));
        fresh.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_incomplete_backup_is_refused() {
    let t = TestDb::sqlite().await;
    load_fixtures(&t).await;
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("b");
    ok(&backup(&t, &to));
    let from = to.display().to_string();
    let restore = |data: &Path, extra: &[&str]| {
        let data = data.display().to_string();
        let mut args = vec!["restore", "--data-dir", &data, "--from", &from];
        args.extend_from_slice(extra);
        motcua(&args)
    };

    // One of its files changed: found before anything is put in place, exit 1.
    let list = std::fs::read_to_string(to.join("files.sha256")).unwrap();
    let first = list
        .lines()
        .next()
        .expect("the fixtures' form templates are files")
        .to_string();
    let path = to.join(first.split_whitespace().nth(1).unwrap());
    let good = std::fs::read(&path).unwrap();
    std::fs::write(&path, b"not the form").unwrap();
    let target = tempfile::tempdir().unwrap();
    let o = restore(target.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(first.split_whitespace().next().unwrap()),
        "the file is named: {}",
        text(&o)
    );
    assert!(
        !target.path().join("motcua.db").exists(),
        "no database put in place"
    );
    std::fs::write(&path, good).unwrap();

    // Its database file changed: exit 2, one line.
    let db_file = to.join("motcua.db");
    let bytes = std::fs::read(&db_file).unwrap();
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    std::fs::write(&db_file, &bad).unwrap();
    refused(&restore(target.path(), &[]), "is damaged");
    std::fs::write(&db_file, &bytes).unwrap();

    // Without its manifest (a backup cut short): exit 2.
    std::fs::rename(to.join("manifest.json"), dir.path().join("m")).unwrap();
    refused(&restore(target.path(), &[]), "not a complete motcua backup");
    std::fs::rename(dir.path().join("m"), to.join("manifest.json")).unwrap();
    ok(&restore(target.path(), &[]));

    // Usage: --from or --sequences-only; a backup of SQLite does not go into PostgreSQL.
    let o = motcua(&["restore"]);
    assert_eq!(o.status.code(), Some(2));
    refused(
        &motcua(&[
            "restore",
            "--from",
            &from,
            "--database-url",
            "postgres://postgres@127.0.0.1:1/x",
        ]),
        "is a backup of a sqlite database",
    );
    refused(
        &motcua(&[
            "backup",
            "--data-dir",
            &dir.path().join("none").display().to_string(),
            "--to",
            "x",
        ]),
        "no database at",
    );
}
