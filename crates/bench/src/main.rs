//! `motcua-bench`: starts the real `motcua` server on fresh databases, drives it over HTTP,
//! measures the database's own ceiling in the same run, prints a table and writes JSON.

mod baseline;
mod http1;
mod load;
mod province;
mod scenario;
mod server;

use anyhow::{Context, bail};
use baseline::Ceiling;
use clap::{Parser, ValueEnum};
use load::Stats;
use province::Province;
use serde_json::{Value, json};
use server::Install;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendChoice {
    Sqlite,
    Postgres,
    Both,
}

/// A load phase on the live server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LoadPhase {
    Intake,
    Lifecycle,
    Lookup,
}

#[derive(Debug, Parser)]
#[command(
    name = "motcua-bench",
    version,
    about = "Benchmarks motcua over HTTP (intake, lifecycles, public lookups, II.06a reports, \
historic import, peak RSS, bytes on disk) on SQLite and PostgreSQL, next to the database's own \
ceiling (pgbench; SQLite from Rust). Prints a table and writes JSON."
)]
struct Args {
    /// The motcua binary (default: the one next to this executable).
    #[arg(long)]
    motcua: Option<PathBuf>,
    /// Which backends to measure.
    #[arg(long, value_enum, default_value = "both")]
    backend: BackendChoice,
    /// A PostgreSQL server URL whose role may create databases; each phase gets a fresh one.
    #[arg(
        long,
        env = "MOTCUA_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg_url: String,
    /// Concurrent HTTP clients (tokio tasks sharing one connection pool).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds per load phase and per baseline measurement (default 10; 2 with --quick).
    #[arg(long)]
    duration: Option<u64>,
    /// Runs of each load phase (intake, lifecycles, lookups, taken in turn on the same
    /// server); the median run is the figure and every run's rate is in the JSON.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// The load phases to run, in their usual order (lookups need codes from one of the
    /// others).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "intake,lifecycle,lookup"
    )]
    phases: Vec<LoadPhase>,
    /// Historic dossiers to import before timing reports, comma-separated (default
    /// 100000,1000000; 2000 with --quick). 10000000 is opt-in: it takes a while.
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<u64>>,
    /// One-stop desks receiving live traffic (each with its own officer).
    #[arg(long)]
    desks: Option<usize>,
    /// Report requests timed per report kind and size (the median is the figure).
    #[arg(long, default_value_t = 20)]
    report_requests: usize,
    /// Seconds allowed for each report kind and size: fewer requests are timed (at least 3)
    /// when reports are slow.
    #[arg(long, default_value_t = 60)]
    report_budget: u64,
    /// Public lookups per client connection before moving to a fresh loopback address. The
    /// bench starts the server with `--lookups-per-minute` lifted, so by default clients keep
    /// their connections; 60 reproduces a server with the default limit.
    #[arg(long, default_value_t = u64::MAX)]
    lookups_per_address: u64,
    /// The server's log filter (default: what motcua ships with).
    #[arg(long, default_value = "info,sqlx=warn")]
    server_log: String,
    /// Where to write the JSON (default: target/bench/bench-DATE.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Tiny sizes, 2-second phases, few clients: a smoke test.
    #[arg(long)]
    quick: bool,
    /// Keep the temporary directory (databases, generated files, server logs).
    #[arg(long)]
    keep: bool,
}

/// The run's parameters after defaults.
struct Plan {
    motcua: PathBuf,
    clients: usize,
    duration: Duration,
    baseline_secs: u64,
    sizes: Vec<u64>,
    desks: usize,
    work: PathBuf,
}

/// One line of the results table.
struct Row {
    phase: String,
    backend: &'static str,
    size: Option<u64>,
    stats: Stats,
    /// What `rate` is compared to, and the comparison.
    basis: Option<(&'static str, f64)>,
    extra: Value,
}

/// The run with the median rate (the upper one of an even count), and every run's rate.
fn median_run(mut runs: Vec<Stats>) -> (Stats, Vec<f64>) {
    let rates = runs.iter().map(Stats::rate).collect();
    runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    let mid = runs.len() / 2;
    (runs.swap_remove(mid), rates)
}

impl Row {
    /// A live phase's line for the progress output.
    fn live(phase: &str, backend: &'static str, stats: &Stats, basis: Option<(&'static str, f64)>) -> Row {
        Row {
            phase: phase.into(),
            backend,
            size: None,
            stats: stats.clone(),
            basis,
            extra: json!({}),
        }
    }

    fn ratio(&self) -> Option<f64> {
        self.basis
            .filter(|(_, b)| *b > 0.0)
            .map(|(_, b)| self.stats.rate() / b)
    }

    fn to_json(&self) -> Value {
        let mut v = self.stats.to_json();
        v["phase"] = json!(self.phase);
        v["backend"] = json!(self.backend);
        v["size"] = json!(self.size);
        v["ratio"] = json!(self.ratio());
        v["ratio_basis"] = json!(self.basis.map(|(name, _)| name));
        v["baseline_per_s"] = json!(self.basis.map(|(_, b)| b));
        v["extra"] = self.extra.clone();
        v
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("motcua-bench: error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let motcua = match &args.motcua {
        Some(p) => p.clone(),
        None => server::default_motcua().context(
            "no motcua binary next to motcua-bench; build it (cargo build --release -p motcua) or pass --motcua PATH",
        )?,
    };
    if !motcua.is_file() {
        bail!("{} is not a file", motcua.display());
    }
    let motcua = std::fs::canonicalize(&motcua)?;
    let work = std::env::temp_dir().join(format!("motcua-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let plan = Plan {
        motcua,
        clients: args.clients.max(1),
        duration: Duration::from_secs(args.duration.unwrap_or(if args.quick { 2 } else { 10 }).max(1)),
        baseline_secs: args.duration.unwrap_or(if args.quick { 1 } else { 10 }).max(1),
        sizes: args.sizes.clone().unwrap_or_else(|| {
            if args.quick {
                vec![2_000]
            } else {
                vec![100_000, 1_000_000]
            }
        }),
        desks: args.desks.unwrap_or(if args.quick { 2 } else { 8 }).max(1),
        work: work.clone(),
    };
    let started = chrono::Utc::now();
    let backends: Vec<&'static str> = match args.backend {
        BackendChoice::Sqlite => vec!["sqlite"],
        BackendChoice::Postgres => vec!["postgres"],
        BackendChoice::Both => vec!["sqlite", "postgres"],
    };
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "target/bench/bench-{}.json",
            started.format("%Y%m%d-%H%M%S")
        ))
    });
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let params = json!({
        "motcua": plan.motcua.display().to_string(),
        "backends": backends,
        "clients": plan.clients,
        "phase_seconds": plan.duration.as_secs(),
        "baseline_seconds": plan.baseline_secs,
        "sizes": plan.sizes,
        "desks": plan.desks,
        "report_requests": args.report_requests,
        "report_budget_seconds": args.report_budget,
        "lookups_per_address": args.lookups_per_address,
        "server_log": args.server_log,
        "quick": args.quick,
    });
    let machine = machine(&plan.motcua);
    // Written after every group of phases, so a long run that stops keeps what it measured.
    let write =
        |ceilings: &serde_json::Map<String, Value>, rows: &[Row], servers: &[Value], complete: bool| {
            let doc = json!({
                "tool": "motcua-bench",
                "version": env!("CARGO_PKG_VERSION"),
                "started_at": started.to_rfc3339(),
                "finished_at": chrono::Utc::now().to_rfc3339(),
                "complete": complete,
                "machine": machine,
                "params": params,
                "baselines": ceilings,
                "phases": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
                "servers": servers,
            });
            std::fs::write(
                &out,
                serde_json::to_vec_pretty(&doc).expect("JSON values serialise"),
            )
        };
    let mut rows = Vec::new();
    let mut ceilings = serde_json::Map::new();
    let mut servers = Vec::new();
    let result = async {
        for backend in &backends {
            eprintln!("== {backend}");
            let ceiling = measure_ceiling(backend, &plan, &args).await;
            eprintln!(
                "   ceiling: insert {:?}/s, select {:?}/s {:?}",
                ceiling.insert_per_s, ceiling.select_per_s, ceiling.notes
            );
            ceilings.insert(backend.to_string(), ceiling.to_json());
            live_phases(backend, &plan, &args, &ceiling, &mut rows, &mut servers).await?;
            write(&ceilings, &rows, &servers, false)?;
            for &size in &plan.sizes {
                history_phases(backend, size, &plan, &args, &ceiling, &mut rows, &mut servers).await?;
                write(&ceilings, &rows, &servers, false)?;
            }
        }
        anyhow::Ok(())
    }
    .await;
    if !args.keep {
        let _ = std::fs::remove_dir_all(&work);
    }
    print_table(&rows, &servers);
    write(&ceilings, &rows, &servers, result.is_ok())?;
    println!("\nJSON written to {}", out.display());
    result?;
    let failed: u64 = rows.iter().map(|r| r.stats.errors).sum();
    if failed > 0 {
        eprintln!("motcua-bench: {failed} operation(s) failed; see first_errors in the JSON");
    }
    Ok(())
}

/// A fresh database for one phase: a new SQLite file, or a new PostgreSQL database.
struct FreshDb {
    url: String,
    /// PostgreSQL: the admin URL and the database name to drop after.
    pg: Option<(String, String)>,
    sqlite_file: Option<PathBuf>,
}

fn pg_url_with_db(url: &str, db: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let scheme_end = main.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match main[scheme_end..].find('/') {
        Some(i) => &main[..scheme_end + i],
        None => main,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

impl FreshDb {
    async fn create(backend: &str, label: &str, plan: &Plan, args: &Args) -> anyhow::Result<FreshDb> {
        if backend == "sqlite" {
            let dir = plan.work.join(format!("sqlite-{label}"));
            std::fs::create_dir_all(&dir)?;
            let file = dir.join("motcua.db");
            return Ok(FreshDb {
                url: format!("sqlite://{}", file.display()),
                pg: None,
                sqlite_file: Some(file),
            });
        }
        let name = format!(
            "motcua_bench_{}_{}",
            std::process::id(),
            label.replace(['-', '.'], "_")
        );
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&args.pg_url)
            .await
            .with_context(|| format!("cannot reach PostgreSQL at {} (--pg-url)", args.pg_url))?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        Ok(FreshDb {
            url: pg_url_with_db(&args.pg_url, &name),
            pg: Some((args.pg_url.clone(), name)),
            sqlite_file: None,
        })
    }

    /// Bytes the database takes on disk now.
    async fn bytes(&self) -> anyhow::Result<u64> {
        match (&self.pg, &self.sqlite_file) {
            (Some((_, name)), _) => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&self.url)
                    .await?;
                let n: i64 = sqlx::query_scalar("SELECT pg_database_size($1)")
                    .bind(name)
                    .fetch_one(&pool)
                    .await?;
                pool.close().await;
                Ok(n as u64)
            }
            (None, Some(file)) => Ok(server::sqlite_bytes(file)),
            _ => Ok(0),
        }
    }

    /// Dossiers stored, and the bytes of outbox payloads (the content the server clears after
    /// `--outbox-keep-days`), read after a live server has stopped.
    async fn dossiers_and_payload_bytes(&self) -> anyhow::Result<(i64, i64)> {
        const SQL: &str = "SELECT (SELECT COUNT(*) FROM dossiers), \
            (SELECT CAST(COALESCE(SUM(LENGTH(payload)), 0) AS BIGINT) FROM outbox)";
        Ok(match &self.sqlite_file {
            Some(file) => {
                use sqlx::Connection;
                let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display())).await?;
                let r = sqlx::query_as(SQL).fetch_one(&mut c).await?;
                c.close().await?;
                r
            }
            None => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&self.url)
                    .await?;
                let r = sqlx::query_as(SQL).fetch_one(&pool).await?;
                pool.close().await;
                r
            }
        })
    }

    async fn drop_db(self) {
        if let Some((admin, name)) = self.pg
            && let Ok(pool) = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&admin)
                .await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await;
            pool.close().await;
        }
    }
}

fn install_of(db: &FreshDb, label: &str, backend: &str, plan: &Plan, args: &Args) -> anyhow::Result<Install> {
    let data_dir = plan.work.join(format!("data-{backend}-{label}"));
    std::fs::create_dir_all(&data_dir)?;
    Ok(Install {
        motcua: plan.motcua.clone(),
        database_url: db.url.clone(),
        data_dir,
        log: args.server_log.clone(),
    })
}

async fn measure_ceiling(backend: &str, plan: &Plan, args: &Args) -> Ceiling {
    if backend == "sqlite" {
        let dir = plan.work.join("baseline-sqlite");
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return Ceiling {
                notes: vec![format!("not available: {e}")],
                ..Default::default()
            };
        }
        return baseline::sqlite(&dir, 4, plan.baseline_secs).await;
    }
    let db = match FreshDb::create(backend, "pgbench", plan, args).await {
        Ok(db) => db,
        Err(e) => {
            return Ceiling {
                notes: vec![format!("not available: {e:#}")],
                ..Default::default()
            };
        }
    };
    let c = baseline::postgres(&db.url, plan.clients, plan.baseline_secs, &plan.work).await;
    db.drop_db().await;
    c
}

fn phase_line(r: &Row) {
    eprintln!(
        "   {:<18} {:>10.1}/s  p50 {:>8.2} ms  p99 {:>8.2} ms  errors {}",
        r.phase,
        r.stats.rate(),
        r.stats.quantile_ms(0.5),
        r.stats.quantile_ms(0.99),
        r.stats.errors
    );
    for e in &r.stats.first_errors {
        eprintln!("      error: {e}");
    }
}

/// Intake, lifecycles and lookups on one server over a fresh database.
async fn live_phases(
    backend: &'static str,
    plan: &Plan,
    args: &Args,
    ceiling: &Ceiling,
    rows: &mut Vec<Row>,
    servers: &mut Vec<Value>,
) -> anyhow::Result<()> {
    let db = FreshDb::create(backend, "live", plan, args).await?;
    let result = async {
        let install = install_of(&db, "live", backend, plan, args)?;
        let province = Province::new(20, 100, 30, plan.desks);
        let live = scenario::load_catalog(&install, &province, &install.data_dir, true)?;
        let mut server = install.serve(server::free_port()?).await?;
        let ctx = scenario::Ctx::new(&server.base, live, plan.clients).await?;
        let insert = ceiling.insert_per_s.map(|b| ("db_insert_per_s", b));
        let select = ceiling.select_per_s.map(|b| ("db_select_per_s", b));

        // Each phase's runs, in `LoadPhase` order.
        let mut runs: [Vec<Stats>; 3] = Default::default();
        for run in 1..=args.repeat.max(1) {
            if args.repeat > 1 {
                eprintln!("   run {run} of {}", args.repeat);
            }
            for phase in [LoadPhase::Intake, LoadPhase::Lifecycle, LoadPhase::Lookup] {
                if !args.phases.contains(&phase) {
                    continue;
                }
                let (name, stats, basis) = match phase {
                    LoadPhase::Intake => (
                        "intake",
                        scenario::intakes(&ctx, plan.clients, plan.duration).await,
                        insert,
                    ),
                    LoadPhase::Lifecycle => (
                        "lifecycle",
                        scenario::lifecycles(&ctx, plan.clients, plan.duration).await,
                        insert,
                    ),
                    LoadPhase::Lookup => (
                        "lookup",
                        scenario::lookups(&ctx, plan.clients, plan.duration, args.lookups_per_address)
                            .await?,
                        select,
                    ),
                };
                phase_line(&Row::live(name, backend, &stats, basis));
                runs[phase as usize].push(stats);
            }
        }
        let [intakes, lifecycles, lookups] = runs;
        let before = rows.len();
        let phases = [
            ("intake", intakes, insert, json!({})),
            (
                "lifecycle",
                lifecycles,
                insert,
                json!({"requests_per_lifecycle": "8 (10 with the supplement, 30% of them)"}),
            ),
            (
                "lookup",
                lookups,
                select,
                json!({"lookups_per_source_address": args.lookups_per_address}),
            ),
        ];
        for (phase, runs, basis, mut extra) in phases {
            if runs.is_empty() {
                continue;
            }
            let (stats, rates) = median_run(runs);
            extra["runs_per_s"] = json!(rates);
            rows.push(Row {
                phase: phase.into(),
                backend,
                size: None,
                stats,
                basis,
                extra,
            });
        }
        if args.repeat > 1 {
            for r in &rows[before..] {
                eprint!("   median: ");
                phase_line(r);
            }
        }

        let dossiers = ctx.codes.lock().map(|c| c.len()).unwrap_or(0);
        let peak = server.stop();
        let bytes = db.bytes().await.unwrap_or(0);
        let (stored, payload) = db.dossiers_and_payload_bytes().await.unwrap_or((0, 0));
        let per = |b: i64| b as f64 / stored.max(1) as f64;
        servers.push(json!({
            "backend": backend, "server": "live", "peak_rss_bytes": peak,
            "db_bytes": bytes, "dossiers_kept_for_lookup": dossiers,
            "dossiers_stored": stored,
            "bytes_per_dossier": per(bytes as i64),
            "outbox_payload_bytes_per_dossier": per(payload),
        }));
        eprintln!(
            "   live server peak RSS {:.1} MB; on disk {:.0} bytes/dossier over {stored} dossiers handled live, \
             {:.0} of them outbox payloads",
            peak as f64 / 1e6,
            per(bytes as i64),
            per(payload)
        );
        anyhow::Ok(())
    }
    .await;
    db.drop_db().await;
    result
}

/// Historic import of `size` dossiers, bytes on disk, then report latency and peak RSS.
async fn history_phases(
    backend: &'static str,
    size: u64,
    plan: &Plan,
    args: &Args,
    ceiling: &Ceiling,
    rows: &mut Vec<Row>,
    servers: &mut Vec<Value>,
) -> anyhow::Result<()> {
    let label = format!("hist{size}");
    let province = Province::new(20, 100, 30, 1);
    let csv = plan.work.join(format!("dossiers-{size}.csv"));
    if !csv.is_file() {
        eprintln!("   generating {size} historic dossiers");
        province.write_dossiers(&csv, size)?;
    }
    let db = FreshDb::create(backend, &label, plan, args).await?;
    let result = async {
        let install = install_of(&db, &label, backend, plan, args)?;
        let live = scenario::load_catalog(&install, &province, &install.data_dir, false)?;
        let empty_bytes = db.bytes().await.unwrap_or(0);
        let ran = install.run(&["import", "dossiers", &csv.to_string_lossy()], None)?;
        let stats = Stats::from_samples(vec![ran.elapsed.as_micros() as u64], 0, vec![], ran.elapsed);
        let stats = Stats { count: size, ..stats };
        let bytes = db.bytes().await.unwrap_or(0);
        rows.push(Row {
            phase: "import".into(),
            backend,
            size: Some(size),
            stats,
            basis: ceiling.insert_per_s.map(|b| ("db_insert_per_s", b)),
            extra: json!({
                "rows": size,
                "seconds_whole_command": ran.elapsed.as_secs_f64(),
                "import_peak_rss_bytes": ran.peak_rss_bytes,
                "db_bytes_before": empty_bytes,
                "db_bytes_after": bytes,
                "bytes_per_dossier": bytes as f64 / size.max(1) as f64,
                "bytes_per_dossier_net": bytes.saturating_sub(empty_bytes) as f64 / size.max(1) as f64,
            }),
        });
        phase_line(rows.last().expect("pushed"));
        eprintln!(
            "   on disk {:.1} MB = {:.0} bytes/dossier; import peak RSS {:.1} MB",
            bytes as f64 / 1e6,
            bytes as f64 / size.max(1) as f64,
            ran.peak_rss_bytes as f64 / 1e6
        );

        let mut server = install.serve(server::free_port()?).await?;
        let received = scenario::report_total_received(&server.base, &live.admin_token).await?;
        for (phase, by) in [("report_total", None), ("report_by_agency", Some("agency"))] {
            let stats = scenario::reports(
                &server.base,
                &live.admin_token,
                by,
                args.report_requests,
                Duration::from_secs(args.report_budget),
            )
            .await;
            rows.push(Row {
                phase: phase.into(),
                backend,
                size: Some(size),
                stats,
                basis: None,
                extra: json!({"received_in_report": received}),
            });
            phase_line(rows.last().expect("pushed"));
        }
        let peak = server.stop();
        servers.push(json!({
            "backend": backend, "server": format!("report@{size}"), "peak_rss_bytes": peak,
            "db_bytes": bytes, "dossiers": size,
        }));
        eprintln!("   report server peak RSS {:.1} MB", peak as f64 / 1e6);
        anyhow::Ok(())
    }
    .await;
    db.drop_db().await;
    result
}

fn print_table(rows: &[Row], servers: &[Value]) {
    println!(
        "\n{:<18} {:<9} {:>9} {:>9} {:>6} {:>12} {:>9} {:>9} {:>9} {:>8}  basis",
        "phase", "backend", "size", "count", "errors", "rate/s", "p50 ms", "p99 ms", "max ms", "ratio"
    );
    for r in rows {
        println!(
            "{:<18} {:<9} {:>9} {:>9} {:>6} {:>12.1} {:>9.2} {:>9.2} {:>9.2} {:>8}  {}",
            r.phase,
            r.backend,
            r.size.map(|s| s.to_string()).unwrap_or_default(),
            r.stats.count,
            r.stats.errors,
            r.stats.rate(),
            r.stats.quantile_ms(0.5),
            r.stats.quantile_ms(0.99),
            r.stats.max_ms(),
            r.ratio().map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into()),
            r.basis.map(|(n, b)| format!("{n} {b:.0}")).unwrap_or_default(),
        );
    }
    for r in rows.iter().filter(|r| r.phase == "import") {
        println!(
            "on disk     {:<9} {:>9} {:>9.0} bytes/dossier (whole database / dossiers)",
            r.backend,
            r.size.unwrap_or(0),
            r.extra["bytes_per_dossier"].as_f64().unwrap_or(0.0)
        );
    }
    for s in servers.iter().filter(|s| s["server"] == "live") {
        println!(
            "on disk     {:<9} {:>9} {:>9.0} bytes/dossier handled live ({:.0} of them outbox payloads)",
            s["backend"].as_str().unwrap_or(""),
            s["dossiers_stored"].as_i64().unwrap_or(0),
            s["bytes_per_dossier"].as_f64().unwrap_or(0.0),
            s["outbox_payload_bytes_per_dossier"].as_f64().unwrap_or(0.0)
        );
    }
    for s in servers {
        println!(
            "peak RSS    {:<9} {:>14} {:>9.1} MB",
            s["backend"].as_str().unwrap_or(""),
            s["server"].as_str().unwrap_or(""),
            s["peak_rss_bytes"].as_f64().unwrap_or(0.0) / 1e6
        );
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn machine(motcua: &Path) -> Value {
    let meminfo = read("/proc/meminfo");
    let mem_kb = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    let cpu = read("/proc/cpuinfo").lines().find_map(|l| {
        l.strip_prefix("model name")
            .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
    });
    let git = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let motcua_version = std::process::Command::new(motcua)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu": cpu,
        "memory_bytes": mem_kb.map(|k| k * 1024),
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "git_commit": git,
        "motcua_version": motcua_version,
    })
}
