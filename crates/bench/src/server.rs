//! The `motcua` processes under test: one-shot commands (import, user) and the server, started
//! on a fresh database, waited for on `/readyz`, stopped with SIGTERM; peak RSS from /proc.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where one `motcua` installation lives: its binary, database URL and data directory.
#[derive(Debug, Clone)]
pub struct Install {
    pub motcua: PathBuf,
    pub database_url: String,
    pub data_dir: PathBuf,
    /// The server's `--log` filter.
    pub log: String,
}

/// A finished one-shot command: what it printed, how long it took, its peak RSS.
pub struct Ran {
    pub stdout: String,
    pub elapsed: Duration,
    pub peak_rss_bytes: u64,
}

impl Install {
    fn command(&self) -> Command {
        let mut c = Command::new(&self.motcua);
        c.arg("--database-url")
            .arg(&self.database_url)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--log")
            .arg(&self.log)
            .env_remove("MOTCUA_LISTEN")
            .env_remove("MOTCUA_SMTP_URL");
        c
    }

    /// Runs `motcua ARGS…` to completion (stdin piped from `input`), polling its peak RSS.
    pub fn run(&self, args: &[&str], input: Option<&str>) -> anyhow::Result<Ran> {
        let started = Instant::now();
        let mut child = self
            .command()
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", self.motcua.display()))?;
        if let Some(text) = input {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin was piped");
            stdin.write_all(text.as_bytes())?;
        }
        // Read the pipes on threads so a chatty child never blocks on a full pipe.
        let out = child.stdout.take().expect("stdout was piped");
        let err = child.stderr.take().expect("stderr was piped");
        let out = std::thread::spawn(move || read_all(out));
        let err = std::thread::spawn(move || read_all(err));
        let mut peak = 0;
        let status = loop {
            peak = peak.max(peak_rss(child.id()).unwrap_or(0));
            if let Some(s) = child.try_wait()? {
                break s;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = started.elapsed();
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        if !status.success() {
            bail!("motcua {} failed ({status}): {}", args.join(" "), stderr.trim());
        }
        Ok(Ran {
            stdout,
            elapsed,
            peak_rss_bytes: peak,
        })
    }

    /// Starts `motcua serve` on `127.0.0.1:port` and waits until `/readyz` answers 200.
    pub async fn serve(&self, port: u16) -> anyhow::Result<Server> {
        let log_path = self.data_dir.join(format!("server-{port}.log"));
        let log = std::fs::File::create(&log_path)?;
        let child = self
            .command()
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            // Every lookup client shares 127.0.0.1: lift the per-address limit for the run.
            .arg("--lookups-per-minute")
            .arg(u32::MAX.to_string())
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", self.motcua.display()))?;
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log_path,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("motcua serve exited early ({status}): {}", server.log_tail());
            }
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                server.stop();
                bail!("motcua serve not ready after 60 s: {}", server.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn read_all(mut r: impl std::io::Read) -> String {
    let mut s = String::new();
    let _ = r.read_to_string(&mut s);
    s
}

/// A running `motcua serve`; stopped (SIGTERM, then kill after 20 s) on `stop` or drop.
pub struct Server {
    child: Child,
    pub base: String,
    log_path: PathBuf,
}

impl Server {
    /// Peak resident set size so far (VmHWM).
    pub fn peak_rss(&self) -> u64 {
        peak_rss(self.child.id()).unwrap_or(0)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    /// SIGTERM and wait for the graceful shutdown; returns the peak RSS measured just before.
    pub fn stop(&mut self) -> u64 {
        let peak = self.peak_rss();
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return peak;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return peak;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        peak
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// VmHWM of a process in bytes, from /proc (Linux).
pub fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// A free TCP port on 127.0.0.1 (bound, then released for the server to take).
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// The `motcua` binary next to this executable (same target directory), or `None`.
pub fn default_motcua() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("motcua"), dir.parent()?.join("motcua")]
        .into_iter()
        .find(|p| p.is_file())
}

/// Total bytes of the SQLite database file and its WAL/shared-memory companions.
pub fn sqlite_bytes(db: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(PathBuf::from(p)).ok()
        })
        .map(|m| m.len())
        .sum()
}
