//! The SMS gateway adapter against a separate process that plays the gateway
//! (scripts/sim/sms_gateway.py): happy path, a busy gateway, a wrong token, a gateway down.

use crate::support::{TestApp, TestDb, on_both_backends};
use motcua_service::outbox::{FileSink, SmsSink, deliver_pending};
use reqwest::StatusCode;
use std::io::BufRead;
use std::sync::Arc;

/// The simulator, killed when dropped.
struct Gateway {
    child: std::process::Child,
    url: String,
    log: std::path::PathBuf,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the simulator; None (the test skipped) where python3 is missing outside CI.
fn gateway(dir: &std::path::Path, extra: &[&str]) -> Option<Gateway> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/sim/sms_gateway.py");
    let log = dir.join("sms.jsonl");
    let spawned = std::process::Command::new("python3")
        .arg(&script)
        .args(["0", log.to_str().unwrap()])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: python3 is not available ({e})");
            return None;
        }
        Err(e) => panic!("python3 is needed for the SMS gateway simulator: {e}"),
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
    Some(Gateway {
        child,
        url: format!("http://127.0.0.1:{port}/send"),
        log,
    })
}

fn sent(g: &Gateway) -> Vec<serde_json::Value> {
    std::fs::read_to_string(&g.log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

on_both_backends! {
    async fn notices_reach_phones_through_the_sms_gateway_once_despite_failures(t) {
        crate::support::load_fixtures(t).await;
        crate::support::add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
        let dir = tempfile::tempdir().unwrap();
        let Some(g) = gateway(dir.path(), &["--token", "s3cret", "--fail-first", "1", "--ascii"]) else {
            return;
        };
        let app = TestApp::spawn(t).await;
        let desk = app.token("tn.xa").await;
        let body = serde_json::json!({"procedure": "1.001193", "agency": "000.30.01.H56", "channel": "direct",
            "applicant": {"kind": "person", "name": "Phạm Thị Dung", "id_number": "015192002345", "phone": "0911222333"},
            "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]});
        let (s, d) = app.call(reqwest::Method::POST, "/api/v1/dossiers", &desk, Some(&body)).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let code = d["code"].as_str().unwrap().to_string();
        let services = t.services();
        let files = || Box::new(FileSink { dir: dir.path().join("outbox") });
        // A wrong token: refused, nothing sent, everything still pending.
        let wrong = Arc::new(SmsSink::new(&g.url, "wrong", "MOTCUA", true, files()).unwrap());
        deliver_pending(&services, wrong, 100).await.unwrap();
        assert!(sent(&g).is_empty());
        let pending = || async { motcua_store::repo::outbox::pending(&t.db, 100).await.unwrap().len() };
        assert!(pending().await >= 1);
        // The gateway is busy once (503), then takes it: sent once, in ASCII, with what matters.
        let sink = Arc::new(SmsSink::new(&g.url, "s3cret", "MOTCUA", true, files()).unwrap());
        deliver_pending(&services, sink.clone(), 100).await.unwrap();
        deliver_pending(&services, sink.clone(), 100).await.unwrap();
        assert_eq!(pending().await, 0);
        let messages = sent(&g);
        assert_eq!(messages.len(), 1, "{messages:?}");
        let m = &messages[0];
        let text = m["text"].as_str().unwrap();
        assert_eq!(m["to"], "0911222333");
        assert_eq!(m["from"], "MOTCUA");
        assert!(text.is_ascii() && text.contains(&code) && text.contains("da duoc tiep nhan") && text.contains("/tra-cuu?ma="), "{text}");
        // The gateway down: the next notice waits in the outbox.
        let (s, _) = app.call(reqwest::Method::POST, &format!("/api/v1/dossiers/{code}/actions/transfer"), &desk, Some(&serde_json::json!({}))).await;
        assert_eq!(s, StatusCode::OK);
        drop(g);
        deliver_pending(&services, sink, 100).await.unwrap();
        // Each topic is its own queue: the portal's sync went through, the notice waits.
        let left: Vec<String> = motcua_store::repo::outbox::pending(&t.db, 100).await.unwrap().into_iter().map(|r| r.1).collect();
        assert_eq!(left, vec!["notify_citizen".to_string()], "kept for later, alone");
    }
}

#[test]
fn a_bad_gateway_configuration_is_refused() {
    let files = || {
        Box::new(FileSink {
            dir: std::env::temp_dir(),
        })
    };
    assert!(SmsSink::new("ftp://x", "", "MOTCUA", false, files()).is_err());
    assert!(SmsSink::new("http://x/send", "", "MỘT CỬA ĐIỆN TỬ", false, files()).is_err());
    assert!(SmsSink::new("http://x/send", "", "MOTCUA", false, files()).is_ok());
    let _ = TestDb::sqlite;
}
