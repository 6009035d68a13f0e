//! The database's own ceiling on this machine: single-row durable INSERTs and primary-key
//! SELECTs, with pgbench on PostgreSQL and with sqlx on an SQLite file (motcua's pragmas).

use crate::load::{self, Stats};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// Rows in the table the SELECT baselines read.
const SELECT_ROWS: i64 = 100_000;

/// A baseline figure: operations per second (with the tool's own latency figures if any).
#[derive(Debug, Clone, Default)]
pub struct Ceiling {
    pub insert_per_s: Option<f64>,
    pub select_per_s: Option<f64>,
    /// Why a figure is missing, or how it was made.
    pub notes: Vec<String>,
    pub detail: Value,
}

impl Ceiling {
    pub fn to_json(&self) -> Value {
        json!({
            "insert_per_s": self.insert_per_s,
            "select_per_s": self.select_per_s,
            "notes": self.notes,
            "detail": self.detail,
        })
    }
}

/// pgbench on PATH or in the Debian PostgreSQL layout.
pub fn find_pgbench() -> Option<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join("pgbench");
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin/pgbench"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop()
}

/// The parts of a `postgres://user[:pass]@host[:port]/db` URL pgbench needs.
pub struct PgParts {
    pub user: String,
    pub password: Option<String>,
    pub host: String,
    pub port: String,
    pub db: String,
}

pub fn pg_parts(url: &str) -> anyhow::Result<PgParts> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .context("a PostgreSQL URL starts with postgres://")?;
    let rest = rest.split('?').next().unwrap_or(rest);
    let (auth, hostpart) = rest.rsplit_once('@').unwrap_or(("postgres", rest));
    let (user, password) = match auth.split_once(':') {
        Some((u, p)) => (u.to_string(), Some(p.to_string())),
        None => (auth.to_string(), None),
    };
    let (hostport, db) = hostpart.split_once('/').unwrap_or((hostpart, "postgres"));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    Ok(PgParts {
        user,
        password,
        host: host.to_string(),
        port: port.to_string(),
        db: db.to_string(),
    })
}

/// pgbench against `db_url` (a scratch database the caller made and drops).
pub async fn postgres(db_url: &str, clients: usize, secs: u64, work: &Path) -> Ceiling {
    let Some(pgbench) = find_pgbench() else {
        return Ceiling {
            notes: vec!["not available: pgbench not found".into()],
            ..Default::default()
        };
    };
    match postgres_with(&pgbench, db_url, clients, secs, work).await {
        Ok(c) => c,
        Err(e) => Ceiling {
            notes: vec![format!("not available: {e:#}")],
            ..Default::default()
        },
    }
}

async fn postgres_with(
    pgbench: &Path,
    db_url: &str,
    clients: usize,
    secs: u64,
    work: &Path,
) -> anyhow::Result<Ceiling> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(db_url)
        .await?;
    for sql in [
        "CREATE TABLE bench_insert (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, n BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL)",
        "CREATE TABLE bench_select (id BIGINT PRIMARY KEY, name TEXT NOT NULL, n BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL)",
    ] {
        sqlx::query(sql).execute(&pool).await?;
    }
    sqlx::query(
        "INSERT INTO bench_select SELECT g, 'dossier ' || g, g * 7, now() FROM generate_series(1, $1) g",
    )
    .bind(SELECT_ROWS)
    .execute(&pool)
    .await?;
    sqlx::query("ANALYZE bench_select").execute(&pool).await?;
    let sync: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&pool)
        .await?;
    let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(&pool).await?;
    pool.close().await;

    let insert = work.join("pgbench-insert.sql");
    std::fs::write(
        &insert,
        "\\set n random(1, 1000000)\nINSERT INTO bench_insert (name, n, at) VALUES ('dossier', :n, now());\n",
    )?;
    let select = work.join("pgbench-select.sql");
    std::fs::write(
        &select,
        format!(
            "\\set id random(1, {SELECT_ROWS})\nSELECT id, name, n, at FROM bench_select WHERE id = :id;\n"
        ),
    )?;
    let parts = pg_parts(db_url)?;
    let run = |script: &Path| -> anyhow::Result<(f64, Option<f64>)> {
        let mut c = Command::new(pgbench);
        // As motcua talks to PostgreSQL: prepared statements (sqlx prepares each one), and no
        // TLS (motcua's sqlx is built without it; pgbench would otherwise encrypt, as libpq
        // prefers it when the server offers it, and measure a lower ceiling).
        c.env("PGSSLMODE", "disable");
        c.args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &clients.to_string(),
            "-j",
            &clients.clamp(1, 2).to_string(),
        ])
        .args(["-T", &secs.to_string(), "-f"])
        .arg(script)
        .args(["-h", &parts.host, "-p", &parts.port, "-U", &parts.user, &parts.db]);
        if let Some(p) = &parts.password {
            c.env("PGPASSWORD", p);
        }
        let out = c.output().context("cannot run pgbench")?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if !out.status.success() {
            bail!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        let tps = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("tps = "))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("no tps in pgbench output: {text}"))?;
        let latency = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("latency average = "))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok());
        Ok((tps, latency))
    };
    let (insert_tps, insert_latency) = run(&insert)?;
    let (select_tps, select_latency) = run(&select)?;
    Ok(Ceiling {
        insert_per_s: Some(insert_tps),
        select_per_s: Some(select_tps),
        notes: vec![format!(
            "pgbench {} clients, -M prepared, no TLS, -T {secs}; synchronous_commit={sync}, fsync={fsync}",
            clients
        )],
        detail: json!({
            "pgbench": pgbench.display().to_string(),
            "insert_latency_avg_ms": insert_latency,
            "select_latency_avg_ms": select_latency,
            "synchronous_commit": sync,
            "fsync": fsync,
        }),
    })
}

/// SQLite from Rust with motcua's pragmas (WAL, synchronous=NORMAL, busy timeout): one writer
/// doing single-row INSERT transactions, `readers` tasks doing primary-key SELECTs; plus the
/// INSERT rate under synchronous=FULL for reference.
pub async fn sqlite(dir: &Path, readers: usize, secs: u64) -> Ceiling {
    match sqlite_with(dir, readers, secs).await {
        Ok(c) => c,
        Err(e) => Ceiling {
            notes: vec![format!("not available: {e:#}")],
            ..Default::default()
        },
    }
}

async fn sqlite_inserts(path: &Path, sync: SqliteSynchronous, secs: u64) -> anyhow::Result<Stats> {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(sync)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_insert (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER NOT NULL, at TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    let p = pool.clone();
    let stats = load::run(1, Duration::from_secs(secs), move |_, i| {
        let pool = p.clone();
        async move {
            sqlx::query("INSERT INTO bench_insert (name, n, at) VALUES ('dossier', ?1, ?2)")
                .bind(i as i64)
                .bind(chrono::Utc::now().to_rfc3339())
                .execute(&pool)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
    .await;
    pool.close().await;
    Ok(stats)
}

async fn sqlite_with(dir: &Path, readers: usize, secs: u64) -> anyhow::Result<Ceiling> {
    let normal = sqlite_inserts(&dir.join("baseline-normal.db"), SqliteSynchronous::Normal, secs).await?;
    let full = sqlite_inserts(&dir.join("baseline-full.db"), SqliteSynchronous::Full, secs).await?;

    let path = dir.join("baseline-select.db");
    let opts = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts.clone())
        .await?;
    sqlx::query("CREATE TABLE bench_select (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER NOT NULL, at TEXT NOT NULL)")
        .execute(&write)
        .await?;
    sqlx::query(
        "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ?1) \
         INSERT INTO bench_select SELECT x, 'dossier ' || x, x * 7, datetime('now') FROM g",
    )
    .bind(SELECT_ROWS)
    .execute(&write)
    .await?;
    write.close().await;
    let read = SqlitePoolOptions::new()
        .max_connections(readers.max(1) as u32)
        .connect_with(opts.read_only(true))
        .await?;
    let r = Arc::new(read.clone());
    let selects = load::run(readers.max(1), Duration::from_secs(secs), move |task, i| {
        let pool = r.clone();
        async move {
            let id = (crate::province::mix(i ^ ((task as u64) << 40)) % SELECT_ROWS as u64) as i64 + 1;
            sqlx::query("SELECT id, name, n, at FROM bench_select WHERE id = ?1")
                .bind(id)
                .fetch_one(&*pool)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
    .await;
    read.close().await;
    Ok(Ceiling {
        insert_per_s: Some(normal.rate()),
        select_per_s: Some(selects.rate()),
        notes: vec![format!(
            "sqlx, WAL, synchronous=NORMAL as motcua; 1 writer, {} readers",
            readers.max(1)
        )],
        detail: json!({
            "insert_normal": normal.to_json(),
            "insert_full": full.to_json(),
            "select": selects.to_json(),
        }),
    })
}
