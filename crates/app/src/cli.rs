//! The command line: `motcua serve | demo | migrate`, global options, exit codes.

use crate::config::{Common, LogFormat, UsageError};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "motcua",
    version,
    about = "motcua — Hệ thống thông tin một cửa điện tử (electronic one-stop-shop system for administrative procedures)",
    long_about = "motcua — Hệ thống thông tin một cửa điện tử: the electronic one-stop-shop system for \
administrative procedures (Decree 118/2025/NĐ-CP).\n\nOne binary. Embedded SQLite by default \
(sqlite://DATA_DIR/motcua.db); PostgreSQL when --database-url is postgres://…\n\n\
Exit codes: 0 success, 1 runtime failure, 2 bad input or configuration.",
    after_help = "Environment: MOTCUA_DATABASE_URL, MOTCUA_DATA_DIR, MOTCUA_LISTEN, MOTCUA_LOG_FORMAT, MOTCUA_LOG \
stand in for the flags of the same name."
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply database migrations, then serve HTTP until SIGINT/SIGTERM.
    Serve,
    /// Migrate, seed a demo province once (agencies, officers of every role, procedures,
    /// dossiers in every status), then serve HTTP. Re-running re-uses the data.
    Demo,
    /// Apply database migrations and exit.
    Migrate,
    /// The legal calendar: holidays of a year, due instants, lunar dates, overrides import.
    #[command(subcommand)]
    Calendar(crate::calendar_cmd::CalendarCommand),
    /// Import the catalog: agencies (CSV) or procedures (JSON), all or nothing, idempotent.
    #[command(subcommand)]
    Import(crate::catalog_cmd::ImportCommand),
    /// Export the catalog in the import formats.
    #[command(subcommand)]
    Export(crate::catalog_cmd::ExportCommand),
    /// Officers and API tokens.
    #[command(subcommand)]
    User(crate::users_cmd::UserCommand),
    /// The statutory report II.06a for a date range (from counters; --verify recounts).
    Report(crate::report_cmd::ReportArgs),
    /// Check the audit trail: every dossier's event hash chain against its head.
    #[command(subcommand)]
    Audit(crate::audit_cmd::AuditCommand),
    /// Back up the database and its files into a new directory, online (docs/operations.md).
    Backup(crate::backup_cmd::BackupArgs),
    /// Restore a backup into an empty data directory or database; resume code sequences.
    Restore(crate::backup_cmd::RestoreArgs),
    /// Payments: the daily reconciliation (paid / pending / mismatched).
    #[command(subcommand)]
    Payments(crate::payments_cmd::PaymentsCommand),
    /// The outbox (national portal sync, citizen notices): its state, dead messages, retries.
    #[command(subcommand)]
    Outbox(crate::outbox_cmd::OutboxCommand),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_tracing(&cli.common);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("motcua: error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(e),
    }
}

/// One line on stderr; 2 for usage/configuration errors, 1 otherwise.
fn report(e: anyhow::Error) -> ExitCode {
    if let Some(u) = e.downcast_ref::<UsageError>() {
        eprintln!("motcua: error: {u}");
        ExitCode::from(2)
    } else {
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        eprintln!("motcua: error: {}", chain.join(": ").replace('\n', " "));
        ExitCode::from(1)
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve => crate::serve::serve(&cli.common).await,
        Command::Demo => crate::serve::demo(&cli.common).await,
        Command::Calendar(cmd) => crate::calendar_cmd::run(&cli.common, cmd).await,
        Command::Import(cmd) => crate::catalog_cmd::import(&cli.common, cmd).await,
        Command::Export(cmd) => crate::catalog_cmd::export(&cli.common, cmd).await,
        Command::User(cmd) => crate::users_cmd::run(&cli.common, cmd).await,
        Command::Report(args) => crate::report_cmd::run(&cli.common, args).await,
        Command::Audit(cmd) => crate::audit_cmd::run(&cli.common, cmd).await,
        Command::Backup(args) => crate::backup_cmd::backup(&cli.common, args).await,
        Command::Restore(args) => crate::backup_cmd::restore(&cli.common, args).await,
        Command::Payments(cmd) => crate::payments_cmd::run(&cli.common, cmd).await,
        Command::Outbox(cmd) => crate::outbox_cmd::run(&cli.common, cmd).await,
        Command::Migrate => {
            let db = crate::serve::open_database(&cli.common).await?;
            let applied = motcua_store::migrate::run(&db)
                .await
                .map_err(|e| crate::config::usage(e.to_string()))?;
            let version = motcua_store::migrate::current_version(&db).await?;
            db.close().await;
            if applied.is_empty() {
                println!("database is up to date (schema version {version})");
            } else {
                println!("applied {} migration(s); schema version {version}", applied.len());
            }
            Ok(())
        }
    }
}

fn init_tracing(common: &Common) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&common.log).unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match common.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
