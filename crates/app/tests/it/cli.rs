//! The command line as a user runs it: help, configuration errors (exit 2, one line),
//! migrate, and demo started twice on the same data directory with a clean shutdown.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_motcua");

fn motcua(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("MOTCUA_DATABASE_URL")
        .env_remove("MOTCUA_DATA_DIR")
        .env_remove("MOTCUA_LISTEN")
        .output()
        .expect("run motcua")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 2 and exactly one line on stderr containing `needle`.
fn assert_usage_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].contains(needle), "{:?} lacks {needle:?}", lines[0]);
}

#[test]
fn help_documents_commands_options_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let o = motcua(dir.path(), &["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "serve",
        "demo",
        "migrate",
        "--database-url",
        "--listen",
        "--data-dir",
        "--log-format",
        "MOTCUA_DATABASE_URL",
        "MOTCUA_LISTEN",
        "MOTCUA_DATA_DIR",
    ] {
        assert!(out.contains(needle), "--help lacks {needle}: {out}");
    }
}

#[test]
fn outbox_days_kept_must_be_a_number_of_days() {
    let dir = tempfile::tempdir().unwrap();
    let help = motcua(dir.path(), &["serve", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("MOTCUA_OUTBOX_KEEP_DAYS"));
    for bad in ["-1", "ninety", "40000"] {
        let o = motcua(dir.path(), &["serve", &format!("--outbox-keep-days={bad}")]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        assert!(stderr(&o).contains("--outbox-keep-days"), "{}", stderr(&o));
        assert!(!dir.path().join("motcua-data").exists(), "nothing is opened");
    }
}

#[test]
fn unknown_database_scheme_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = motcua(
        dir.path(),
        &["migrate", "--database-url", "mysql://root@localhost/x"],
    );
    assert_usage_error(&o, "unsupported database URL");
}

#[test]
fn database_url_comes_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["migrate"])
        .current_dir(dir.path())
        .env("MOTCUA_DATABASE_URL", "oracle://x")
        .output()
        .unwrap();
    assert_usage_error(&o, "unsupported database URL");
}

#[test]
fn unreachable_database_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = motcua(
        dir.path(),
        &[
            "migrate",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/nothing",
        ],
    );
    assert_usage_error(&o, "cannot open database");
    assert!(!stderr(&o).contains("secret"));
    let o = motcua(
        dir.path(),
        &[
            "migrate",
            "--database-url",
            "postgres://me:secret@127.0.0.1:1/nothing",
        ],
    );
    assert_usage_error(&o, "cannot open database");
    assert!(!stderr(&o).contains("secret"), "password leaked: {}", stderr(&o));
}

#[test]
fn port_in_use_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = motcua(dir.path(), &["serve", "--listen", &addr, "--log", "off"]);
    assert_usage_error(&o, "cannot listen on");
}

#[test]
fn bad_public_url_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = motcua(
        dir.path(),
        &[
            "serve",
            "--public-url",
            "motcua.example",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert_usage_error(&o, "invalid --public-url");
}

#[test]
fn bad_smtp_url_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = motcua(
        dir.path(),
        &[
            "serve",
            "--smtp-url",
            "http://mail.example",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert_usage_error(&o, "unsupported SMTP URL");
}

#[test]
fn bad_listen_address_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = motcua(dir.path(), &["serve", "--listen", "localhost-8080"]);
    assert_usage_error(&o, "invalid --listen");
}

#[test]
fn unwritable_data_dir_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let data = file.join("data");
    let o = motcua(dir.path(), &["migrate", "--data-dir", data.to_str().unwrap()]);
    assert_usage_error(&o, "data directory");
}

#[test]
fn migrate_creates_the_embedded_database_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let o = motcua(dir.path(), &["migrate"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("applied"));
    assert!(dir.path().join("motcua-data/motcua.db").exists());
    let o = motcua(dir.path(), &["migrate"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("up to date"));
}

/// A running `motcua` server process, its address read from its log.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    pub(crate) fn start(dir: &Path, args: &[&str]) -> Server {
        let child = Command::new(BIN)
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .env_remove("MOTCUA_DATABASE_URL")
            .env_remove("MOTCUA_DATA_DIR")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn motcua");
        let (tx, rx) = mpsc::channel();
        // Owned by `Server` from here on, so a failed start still kills the process.
        let mut server = Server {
            child,
            addr: String::new(),
            lines: rx,
        };
        let err = server.child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        loop {
            let line = server
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("server did not start; log: {seen:#?}"));
            if let Some(i) = line.find("http://") {
                let rest = &line[i + 7..];
                server.addr = rest[..rest.find('/').unwrap()].to_string();
                return server;
            }
            seen.push(line);
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        reqwest::blocking_free_get(&format!("http://{}{}", self.addr, path))
    }

    /// Sends SIGTERM and waits for a clean exit; returns the remaining log lines.
    fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status}");
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Every line the process wrote: the reader thread ends (and the channel closes) at EOF.
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            rest.push(line);
        }
        rest
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

mod reqwest {
    /// A tiny blocking GET over a fresh runtime, so CLI tests stay synchronous.
    pub fn blocking_free_get(url: &str) -> (u16, String) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let res = ::reqwest::get(url).await.expect("GET");
            let status = res.status().as_u16();
            (status, res.text().await.unwrap())
        })
    }
}

#[test]
fn demo_twice_on_the_same_data_dir_reuses_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(dir.path(), &["demo"]);
    let (status, html) = first.get("/");
    assert_eq!(status, 200);
    assert!(html.contains("tiepnhan"), "landing page lists demo logins");
    let (status, _) = first.get("/readyz");
    assert_eq!(status, 200);
    // Without an SMS or e-mail service, the page asking for a one-time code says where it went.
    let (status, verify) = first.get("/cong-dan/xac-thuc");
    assert_eq!(status, 200);
    let outbox = dir
        .path()
        .join("motcua-data")
        .join("outbox")
        .display()
        .to_string();
    assert!(
        verify.contains("chế độ thử nghiệm") && verify.contains(&outbox),
        "{verify}"
    );
    let log = first.stop();
    assert!(log.iter().any(|l| l.contains("stopped")), "{log:#?}");

    let second = Server::start(dir.path(), &["demo"]);
    let (status, html2) = second.get("/");
    assert_eq!(status, 200);
    // Same counts: nothing seeded twice.
    let table = |h: &str| h[h.find("status-heading").unwrap()..].to_string();
    assert_eq!(table(&html), table(&html2));
    second.stop();
}

#[test]
fn json_logs_are_one_object_per_line_with_request_ids() {
    // At the default level a successful request writes no line…
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["serve", "--log-format", "json"]);
    let (status, _) = server.get("/healthz");
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(200));
    let log = server.stop();
    assert!(
        !log.iter().any(|l| l.contains("\"response\"")),
        "a 200 is not logged at info: {log:#?}"
    );
    // …and with the web crate at debug, each one does, with its request id.
    let server = Server::start(
        dir.path(),
        &["serve", "--log-format", "json", "--log", "info,motcua_web=debug"],
    );
    let (status, _) = server.get("/healthz");
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(200));
    let log = server.stop();
    let mut saw_request = false;
    for line in &log {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        // The span carries the request id; the response line its method, path and status.
        if v["span"]["request_id"].is_string()
            && v["path"] == "/healthz"
            && v["method"] == "GET"
            && v["status"] == 200
        {
            saw_request = true;
        }
    }
    assert!(saw_request, "no request log with a request id: {log:#?}");
}
