//! `motcua audit verify` as an operator runs it, on both backends: a clean database passes
//! (exit 0), and each way of breaking a dossier's event log — its last event removed, all of
//! them, one from the middle, one changed — is reported on its own line (exit 1). The
//! officer's view of a truncated log says so too.

use crate::support::{TestDb, add_user, exec, load_fixtures, officer, on_both_backends};
use motcua_domain::dossier::machine::Action;
use motcua_service::dossiers::{ActionInput, Actor, IntakeInput};
use serde_json::json;
use std::process::Output;

fn audit(t: &TestDb, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["audit", "verify", "--database-url", &t.url])
        .args(extra)
        .current_dir(dir.path())
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Dossiers through the real service: each with three events (intake, transfer, complete).
async fn dossiers(t: &TestDb, n: usize) -> Vec<String> {
    load_fixtures(t).await;
    add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
    add_user(&t.db, "cv.xa", "000.30.01.H56", &["specialist"]).await;
    let state = t.services();
    let (desk, cv) = (officer(t, "tn.xa").await, officer(t, "cv.xa").await);
    let mut codes = Vec::new();
    for _ in 0..n {
        let body: IntakeInput = serde_json::from_value(
            json!({"procedure": "1.001193", "agency": "000.30.01.H56", "channel": "direct",
            "applicant": {"kind": "person", "name": "Nguyễn Văn An", "id_number": "015093000123"},
            "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]}),
        )
        .unwrap();
        let key = state
            .intake(Actor::Officer(&desk), body)
            .await
            .unwrap()
            .dossier
            .key();
        state
            .act(
                Actor::Officer(&desk),
                &key,
                Action::Transfer,
                ActionInput::default(),
            )
            .await
            .unwrap();
        state
            .act(
                Actor::Officer(&cv),
                &key,
                Action::CompleteStep,
                ActionInput::default(),
            )
            .await
            .unwrap();
        codes.push(key);
    }
    codes
}

on_both_backends! {
    async fn the_audit_finds_every_broken_chain_and_passes_a_clean_one(t) {
        let codes = dossiers(t, 6).await;
        // Clean: exit 0, every dossier and event counted, across pages of 4.
        let o = audit(t, &["--page-size", "4"]);
        assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), String::from_utf8_lossy(&o.stderr));
        assert_eq!(out(&o).trim(), "audit: 6 dossiers, 18 events checked; 0 broken chains");

        let id = |code: &str| format!("(SELECT id FROM dossiers WHERE code = '{code}')");
        // [0] its last event removed; [1] all of them; [2] one changed; [4] the middle one removed.
        exec(&t.db, &format!("DELETE FROM dossier_events WHERE dossier_id = {} AND seq = 3", id(&codes[0]))).await;
        exec(&t.db, &format!("DELETE FROM dossier_events WHERE dossier_id = {}", id(&codes[1]))).await;
        exec(&t.db, &format!("UPDATE dossier_events SET note = 'sửa lén' WHERE dossier_id = {} AND seq = 2", id(&codes[2]))).await;
        exec(&t.db, &format!("DELETE FROM dossier_events WHERE dossier_id = {} AND seq = 2", id(&codes[4]))).await;

        // The officer's view of the truncated log: not valid (it used to be).
        let state = t.services();
        let desk = officer(t, "tn.xa").await;
        let v = state.dossier(&desk, &codes[0]).await.unwrap();
        assert_eq!(v.events.len(), 2);
        assert!(matches!(v.chain, Some(Err(motcua_domain::dossier::chain::ChainBreak::Truncated { found: 2, expected: 3 }))), "{:?}", v.chain);
        assert_eq!(state.dossier(&desk, &codes[3]).await.unwrap().chain, Some(Ok(())));

        for page in ["1", "500"] {
            let o = audit(t, &["--page-size", page]);
            let text = out(&o);
            assert_eq!(o.status.code(), Some(1), "{text}");
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines, vec![
                format!("{}: truncated: 2 of 3 events, the last 1 missing", codes[0]).as_str(),
                format!("{}: truncated: no events, the dossier counts 3", codes[1]).as_str(),
                format!("{}: hash mismatch at seq 2", codes[2]).as_str(),
                format!("{}: missing events: no event 2, later ones present", codes[4]).as_str(),
                "audit: 6 dossiers, 13 events checked; 4 broken chains",
            ], "page size {page}");
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(err.trim(), "motcua: error: 4 of 6 dossiers have a broken event chain");
        }

        // The head itself changed (the row, not the log): a head mismatch.
        exec(&t.db, &format!("UPDATE dossiers SET last_hash = '{}' WHERE code = '{}'", "ab".repeat(32), codes[5])).await;
        let o = audit(t, &[]);
        assert!(out(&o).contains(&format!("{}: head mismatch: the last event's hash is not the dossier's last hash", codes[5])), "{}", out(&o));
    }
}

#[test]
fn a_bad_page_size_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0", "-3", "many"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(["audit", "verify", &format!("--page-size={bad}")])
            .current_dir(dir.path())
            .env_remove("MOTCUA_DATABASE_URL")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("--page-size"));
        assert!(!dir.path().join("motcua-data").exists(), "nothing is opened");
    }
}
