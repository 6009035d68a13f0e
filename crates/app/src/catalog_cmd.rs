//! `motcua import …` and `motcua export …`: the catalog in its exchange formats
//! (docs/catalog.md).

use crate::catalog_io::{self, DirSource, ImportError};
use crate::config::{Common, usage};
use clap::Subcommand;
use motcua_store::repo::files::FileStore;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Agencies from CSV: code,name,level,parent_code,address,office_hours,one_stop.
    Agencies { file: PathBuf },
    /// Procedures from a JSON array; form files are read relative to the JSON file.
    Procedures { file: PathBuf },
    /// Historic dossiers from a legacy system (CSV:
    /// code,procedure_code,agency_code,channel,received_at,due_at,finished_at,outcome).
    /// All or nothing, idempotent on code; counted in reports like live dossiers.
    Dossiers {
        file: PathBuf,
        /// Create placeholder agencies and procedures for unknown codes instead of failing.
        #[arg(long)]
        create_missing: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Agencies as CSV (the import format).
    Agencies {
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Procedures as a JSON array (the import format); with --out, form files go to a
    /// forms/ folder beside it.
    Procedures {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn read(file: &PathBuf) -> anyhow::Result<String> {
    let bytes = std::fs::read(file).map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
    String::from_utf8(bytes).map_err(|_| usage(format!("{} is not UTF-8 text", file.display())))
}

fn import_failed(file: &std::path::Path, e: ImportError) -> anyhow::Error {
    match e {
        ImportError::Invalid(_) => usage(format!("{}: {e}", file.display())),
        ImportError::Store(s) => {
            anyhow::Error::new(s).context(format!("{}: nothing imported", file.display()))
        }
    }
}

pub async fn import(common: &Common, cmd: ImportCommand) -> anyhow::Result<()> {
    let (file, text) = match cmd {
        ImportCommand::Dossiers { file, create_missing } => {
            return crate::dossier_import_cmd::run(common, &file, create_missing).await;
        }
        ImportCommand::Agencies { ref file } | ImportCommand::Procedures { ref file } => {
            (file.clone(), read(file)?)
        }
    };
    let db = crate::serve::open_database(common).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let report = match cmd {
        ImportCommand::Agencies { .. } => catalog_io::import_agencies(&db, &text).await,
        ImportCommand::Dossiers { .. } => unreachable!("handled above"),
        ImportCommand::Procedures { .. } => {
            let base = file.parent().map(PathBuf::from).unwrap_or_default();
            let store = FileStore::new(&common.data_dir);
            catalog_io::import_procedures(&db, &store, &text, &DirSource(base), "cli").await
        }
    };
    db.close().await;
    let report = report.map_err(|e| import_failed(&file, e))?;
    println!("{}: {report}", file.display());
    Ok(())
}

pub async fn export(common: &Common, cmd: ExportCommand) -> anyhow::Result<()> {
    let db = crate::serve::open_database(common).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let (text, out) = match cmd {
        ExportCommand::Agencies { out } => (catalog_io::export_agencies(&db).await?, out),
        ExportCommand::Procedures { out } => {
            let store = FileStore::new(&common.data_dir);
            let dir = out
                .as_ref()
                .map(|o| o.parent().map(PathBuf::from).unwrap_or_default());
            (
                catalog_io::export_procedures(&db, &store, dir.as_deref()).await?,
                out,
            )
        }
    };
    db.close().await;
    match out {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?
        }
        None => print!("{text}"),
    }
    Ok(())
}
