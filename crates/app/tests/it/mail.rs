//! E-mail against a real SMTP server process (aiosmtpd, installed by `scripts/sim/setup`
//! into `target/sim-venv`) writing what it receives to a Maildir; and the applicant's choice
//! of channels for a dossier's notices.

use crate::citizens::post;
use crate::journey::Journey;
use crate::support::{TestApp, TestDb, code_for, on_both_backends};
use motcua_service::outbox::{FileSink, SmtpSink, deliver_pending};
use reqwest::StatusCode;
use std::sync::Arc;

/// The SMTP server, killed when dropped.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: std::path::PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts aiosmtpd on a free port; None (the test skipped) where it is not installed
/// outside CI.
async fn smtp_server(dir: &std::path::Path) -> Option<SmtpServer> {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/sim-venv/bin/python");
    let installed = std::process::Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "aiosmtpd is needed: run scripts/sim/setup"
        );
        eprintln!("skipped: aiosmtpd is not installed (run scripts/sim/setup)");
        return None;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let maildir = dir.join("maildir");
    let child = std::process::Command::new(&python)
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(&maildir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("aiosmtpd starts");
    let server = SmtpServer { child, port, maildir };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Some(server);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("aiosmtpd did not listen on {port}");
}

impl SmtpServer {
    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received, decoded enough to read: headers and (quoted-printable or
    /// base64) body as text.
    fn received(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        entries
            .map(|e| readable(&std::fs::read_to_string(e.unwrap().path()).unwrap()))
            .collect()
    }
}

/// A mail as text: its headers, then its body decoded from quoted-printable or base64.
fn readable(raw: &str) -> String {
    let (head, body) = raw
        .split_once("\n\n")
        .or_else(|| raw.split_once("\r\n\r\n"))
        .unwrap_or((raw, ""));
    let lower = head.to_ascii_lowercase();
    let body = if lower.contains("content-transfer-encoding: base64") {
        String::from_utf8(base64(body)).unwrap()
    } else if lower.contains("content-transfer-encoding: quoted-printable") {
        let soft = body.replace("=\r\n", "").replace("=\n", "");
        let mut bytes = Vec::new();
        let mut it = soft.bytes();
        while let Some(b) = it.next() {
            if b == b'=' {
                let h: Vec<u8> = it.by_ref().take(2).collect();
                bytes.push(u8::from_str_radix(std::str::from_utf8(&h).unwrap(), 16).unwrap());
            } else {
                bytes.push(b);
            }
        }
        String::from_utf8(bytes).unwrap()
    } else {
        body.to_string()
    };
    format!("{head}\n\n{body}")
}

/// Standard base64, whitespace ignored.
fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_codes_go_out_to_a_real_smtp_server() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let dir = tempfile::tempdir().unwrap();
    let Some(smtp) = smtp_server(dir.path()).await else {
        return;
    };
    post(
        &app,
        "/cong-dan/dang-ky",
        &[
            ("full_name", "Lê Văn E"),
            ("login", "e@example.vn"),
            ("password", "mat-khau-an-toan"),
        ],
    )
    .await;
    let code = code_for(&t, "e@example.vn").await;
    let files = Box::new(FileSink {
        dir: t.data_dir().join("outbox"),
    });
    let sink = SmtpSink::new(&smtp.url(), "Một cửa <noreply@example.gov.vn>", files).unwrap();
    let n = deliver_pending(&t.services(), Arc::new(sink), 100).await.unwrap();
    assert_eq!(n, 1);
    let mails = smtp.received();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert!(m.contains("To: e@example.vn"), "{m}");
    assert!(m.contains("noreply@example.gov.vn"), "{m}");
    assert!(
        m.contains(&format!("motcua: {code}")) && m.contains("Không chia sẻ mã này"),
        "{m}"
    );
    // Not an SMTP address: refused at start.
    assert!(SmtpSink::new("mysql://x", "a@b.c", Box::new(FileSink { dir: t.data_dir() })).is_err());
}

on_both_backends! {
    async fn notices_go_only_where_the_applicant_chose(t) {
        crate::support::load_fixtures(t).await;
        crate::support::add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
        let dir = tempfile::tempdir().unwrap();
        let Some(smtp) = smtp_server(dir.path()).await else {
            return;
        };
        let app = TestApp::spawn(t).await;
        let desk = app.token("tn.xa").await;
        let intake = |notify: &str, email: &str| serde_json::json!({"procedure": "1.001193", "agency": "000.30.01.H56", "channel": "direct",
            "applicant": {"kind": "person", "name": "Phạm Thị Dung", "id_number": "015192002345", "phone": "0911222333", "email": email},
            "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}], "notify": notify});
        // Only by e-mail, without an e-mail address: refused at the field.
        let (s, d) = app.call(reqwest::Method::POST, "/api/v1/dossiers", &desk, Some(&intake("email", ""))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{d}");
        assert!(d.to_string().contains("notify"), "{d}");
        let (s, d) = app.call(reqwest::Method::POST, "/api/v1/dossiers", &desk, Some(&intake("fax", ""))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{d}");
        // Only by e-mail: the notice goes by mail and carries no phone for the SMS gateway.
        let (s, d) = app.call(reqwest::Method::POST, "/api/v1/dossiers", &desk, Some(&intake("email", "dung@example.vn"))).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let only_mail = d["code"].as_str().unwrap().to_string();
        // Every contact (the default): both.
        let (s, d) = app.call(reqwest::Method::POST, "/api/v1/dossiers", &desk, Some(&intake("all", "dung@example.vn"))).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let both = d["code"].as_str().unwrap().to_string();
        let outbox = dir.path().join("outbox");
        let sink = SmtpSink::new(&smtp.url(), "noreply@example.gov.vn", Box::new(FileSink { dir: outbox.clone() })).unwrap();
        deliver_pending(&t.services(), Arc::new(sink), 100).await.unwrap();
        let mails = smtp.received();
        for code in [&only_mail, &both] {
            assert_eq!(mails.iter().filter(|m| m.contains(code.as_str())).count(), 1, "{code}: {mails:?}");
        }
        let notices: Vec<serde_json::Value> = std::fs::read_to_string(outbox.join("notify_citizen.jsonl")).unwrap()
            .lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let of = |code: &str| notices.iter().find(|n| n["code"] == code).unwrap().clone();
        assert_eq!(of(&only_mail)["phone"], "", "no SMS for a mail-only choice");
        assert_eq!(of(&both)["phone"], "0911222333");
        // The SMTP server down: the notice waits in the outbox, nothing lost.
        let port = smtp.port;
        drop(smtp);
        let (s, _) = app.call(reqwest::Method::POST, &format!("/api/v1/dossiers/{only_mail}/actions/transfer"), &desk, Some(&serde_json::json!({}))).await;
        assert_eq!(s, StatusCode::OK);
        let sink = SmtpSink::new(&format!("smtp://127.0.0.1:{port}"), "noreply@example.gov.vn", Box::new(FileSink { dir: outbox })).unwrap();
        deliver_pending(&t.services(), Arc::new(sink), 100).await.unwrap();
        let left: Vec<String> = motcua_store::repo::outbox::pending(&t.db, 100).await.unwrap().into_iter().map(|r| r.1).collect();
        assert_eq!(left, vec!["notify_citizen".to_string()]);
    }

    async fn a_citizen_chooses_the_channels_on_the_last_part(t) {
        crate::support::load_fixtures(t).await;
        let app = TestApp::spawn(t).await;
        let j = Journey::guest(&app);
        let draft = j.begin("1.001193", "dung-han").await;
        // The applicant gave a phone only: "e-mail only" is refused at its field.
        j.answer(&draft, "nguoi-nop", &crate::journey::BIRTH_APPLICANT, &[]).await;
        let res = j.part(&draft, "nhan-ket-qua", &[("delivery", "desk"), ("notify", "email")], &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("id=\"notify-error\"") && html.contains("chưa khai địa chỉ thư điện tử") || html.contains("hãy khai địa chỉ thư điện tử"), "{html}");
        j.answer(&draft, "nhan-ket-qua", &[("delivery", "desk"), ("notify", "sms")], &[]).await;
        let check = j.get(&format!("{draft}/kiem-tra")).await.text().await.unwrap();
        assert!(check.contains("Nhận thông báo về hồ sơ qua") && check.contains("Chỉ tin nhắn SMS"), "{check}");
    }
}
