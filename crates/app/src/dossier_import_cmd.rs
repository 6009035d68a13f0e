//! `motcua import dossiers FILE.csv [--create-missing]`: historic dossiers from a legacy
//! system (docs/reports.md). Validated in full first (every bad line named), then written in
//! one transaction with the report counters; a progress bar on a terminal.

use crate::config::{Common, usage};
use motcua_store::repo::legacy::{self, ImportFailure};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

/// A one-line progress bar on stderr, drawn only on a terminal.
struct Progress {
    on: bool,
    label: &'static str,
    last: Instant,
}

impl Progress {
    fn new(label: &'static str) -> Self {
        Progress {
            on: std::io::stderr().is_terminal(),
            label,
            last: Instant::now(),
        }
    }

    fn show(&mut self, done: u64, total: u64) {
        if !self.on || (self.last.elapsed().as_millis() < 100 && done < total) {
            return;
        }
        self.last = Instant::now();
        let share = if total == 0 {
            1.0
        } else {
            done as f64 / total as f64
        };
        let filled = (share * 30.0).round() as usize;
        eprint!(
            "\r{:<10} [{}{}] {:>5.1}%",
            self.label,
            "#".repeat(filled),
            " ".repeat(30 - filled.min(30)),
            share * 100.0
        );
        let _ = std::io::stderr().flush();
    }

    fn finish(&mut self) {
        if self.on {
            eprintln!();
        }
    }
}

pub async fn run(common: &Common, file: &PathBuf, create_missing: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let text = crate::catalog_cmd::read(file)?;
    let mut bar = Progress::new("checking");
    let size = text.len() as u64;
    let rows = motcua_domain::import::legacy_dossiers(&text, |byte| bar.show(byte, size))
        .map_err(|e| usage(format!("{}: nothing imported: {e}", file.display())))?;
    bar.show(size, size);
    bar.finish();
    drop(text);
    let db = crate::serve::open_database(common).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let mut bar = Progress::new("importing");
    let result = legacy::import(&db, &rows, create_missing, |done, total| {
        bar.show(done as u64, total as u64)
    })
    .await;
    bar.finish();
    db.close().await;
    let s = result.map_err(|e| match e {
        ImportFailure::Invalid(errors) => usage(format!("{}: nothing imported: {errors}", file.display())),
        ImportFailure::Store(s) => {
            anyhow::Error::new(s).context(format!("{}: nothing imported", file.display()))
        }
    })?;
    let secs = started.elapsed().as_secs_f64();
    let mut created = String::new();
    if !s.created_agencies.is_empty() || !s.created_procedures.is_empty() {
        created = format!(
            "; placeholders created: {} agencies, {} procedures",
            s.created_agencies.len(),
            s.created_procedures.len()
        );
    }
    println!(
        "{}: {} rows: {} new, {} updated, {} unchanged{created} ({:.1} s, {:.0} rows/s)",
        file.display(),
        s.rows,
        s.inserted,
        s.updated,
        s.unchanged,
        secs,
        s.rows as f64 / secs.max(1e-9)
    );
    Ok(())
}
