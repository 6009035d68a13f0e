//! Faults a real province meets: the server process killed (kill -9, a power cut) while
//! desks are receiving dossiers. What was acknowledged is stored, no code is issued twice,
//! every chain (`motcua audit verify`) and the report counters stay sound, and the server
//! starts again on the data.

use crate::cli::Server;
use crate::support::{add_user, load_fixtures, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_motcua");

/// The real binary serving the test's database and data directory.
fn serve(t: &crate::support::TestDb) -> Server {
    let dir = t.data_dir();
    let (url, data) = (t.url.clone(), dir.display().to_string());
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
            ],
        )
    })
}

async fn login(client: &reqwest::Client, base: &str) -> String {
    let res = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "tiepnhan", "password": crate::support::password_of("tiepnhan")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn intake(file: &str, n: usize) -> Value {
    json!({
        "procedure": "1.009972", "case": "cong-trinh", "agency": "000.00.01.H56", "channel": "direct",
        "applicant": {"kind": "person", "name": format!("Người nộp {n}"), "id_number": "015093000123",
                      "phone": "0912345678", "address": "Tổ 5, phường Yên Bái"},
        "request": "Cấp giấy phép xây dựng",
        "components": [{"index": 0, "provided": true, "file": format!("sha256:{file}")}, {"index": 1, "provided": true}]
    })
}

on_both_backends! {
    async fn a_kill_9_under_intake_load_loses_no_acknowledged_dossier(t) {
        load_fixtures(t).await;
        add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer", "result_officer"]).await;
        let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        let acknowledged: Arc<Mutex<Vec<String>>> = Default::default();
        // Two rounds: desks sending intakes from 6 connections, the process killed mid-stream.
        for round in 0..2 {
            let mut server = serve(t);
            let base = format!("http://{}", server.addr);
            let token = login(&client, &base).await;
            let res = client
                .post(format!("{base}/api/v1/uploads?filename=don.pdf"))
                .bearer_auth(&token)
                .body(format!("%PDF-1.4 round {round}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            let file = res.json::<Value>().await.unwrap()["sha256"].as_str().unwrap().to_string();
            let mut desks = tokio::task::JoinSet::new();
            for desk in 0..6 {
                let (client, base, token, file, acknowledged) =
                    (client.clone(), base.clone(), token.clone(), file.clone(), acknowledged.clone());
                desks.spawn(async move {
                    for n in 0.. {
                        let sent = client
                            .post(format!("{base}/api/v1/dossiers"))
                            .bearer_auth(&token)
                            .json(&intake(&file, desk * 10_000 + n))
                            .send()
                            .await;
                        let Ok(res) = sent else { return };
                        if res.status() != StatusCode::CREATED {
                            return;
                        }
                        let Ok(body) = res.json::<Value>().await else { return };
                        acknowledged.lock().unwrap().push(body["code"].as_str().unwrap().to_string());
                    }
                });
            }
            // Kill once intakes are flowing (at least 20 more acknowledged this round).
            let start = acknowledged.lock().unwrap().len();
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while acknowledged.lock().unwrap().len() < start + 20 {
                assert!(std::time::Instant::now() < deadline, "no intakes acknowledged");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            server.child.kill().unwrap(); // SIGKILL
            server.child.wait().unwrap();
            while desks.join_next().await.is_some() {}
        }

        // Started again on the same data: every acknowledged dossier is there with a sound chain.
        let server = serve(t);
        let base = format!("http://{}", server.addr);
        let token = login(&client, &base).await;
        let acknowledged = acknowledged.lock().unwrap().clone();
        let unique: HashSet<&String> = acknowledged.iter().collect();
        assert_eq!(unique.len(), acknowledged.len(), "a code acknowledged twice");
        for code in &acknowledged {
            let res = client.get(format!("{base}/api/v1/dossiers/{code}/events")).bearer_auth(&token).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "acknowledged {code} is lost");
            assert_eq!(res.json::<Value>().await.unwrap()["chain_valid"], true, "{code}");
        }
        let stored = crate::support::count(&t.db, "dossiers").await;
        assert!(stored >= acknowledged.len() as i64);
        let dup: i64 = crate::support::scalar(
            &t.db,
            "SELECT COUNT(*) FROM (SELECT code FROM dossiers WHERE code IS NOT NULL GROUP BY code HAVING COUNT(*) > 1) d",
        )
        .await;
        assert_eq!(dup, 0, "no code stored twice");
        // A new intake after the restart gets a code no dossier has.
        let res = client
            .post(format!("{base}/api/v1/uploads?filename=don.pdf"))
            .bearer_auth(&token)
            .body("%PDF-1.4 after")
            .send()
            .await
            .unwrap();
        let file = res.json::<Value>().await.unwrap()["sha256"].as_str().unwrap().to_string();
        let res = client.post(format!("{base}/api/v1/dossiers")).bearer_auth(&token).json(&intake(&file, 99_999)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let code = res.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();
        assert!(!unique.contains(&code), "{code} issued again");
        drop(server);
        // The report counters equal a recount of the dossiers.
        let vietnam = chrono::FixedOffset::east_opt(7 * 3600).unwrap();
        let today = chrono::Utc::now().with_timezone(&vietnam).date_naive().to_string();
        let out = std::process::Command::new(BIN)
            .args(["report", "--database-url", &t.url, "--data-dir", &t.data_dir().display().to_string()])
            .args(["--from", "2020-01-01", "--to", &today, "--verify"])
            .output()
            .unwrap();
        assert!(out.status.success(), "report --verify: {}", String::from_utf8_lossy(&out.stderr));
        // Every dossier's chain, checked against the head its row holds.
        let out = std::process::Command::new(BIN).args(["audit", "verify", "--database-url", &t.url]).output().unwrap();
        assert!(out.status.success(), "audit verify: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
}
