//! `motcua import dossiers FILE.csv [--create-missing]`: historic dossiers from a legacy
//! system (docs/reports.md). Validated in full first (every bad line named), then read again
//! and written in chunks in one transaction with the report counters; the rows are never all
//! in memory. A progress bar on a terminal.

use crate::config::{Common, usage};
use motcua_domain::import::{self, ImportErrors, LegacyCheck, LegacyDossier, LineError};
use motcua_store::repo::legacy::{self, ImportFailure};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
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

/// What the reading thread sends: a chunk of rows and the bytes read so far.
type Chunk = (Vec<LegacyDossier>, u64);

pub async fn run(common: &Common, file: &PathBuf, create_missing: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let nothing = |e: &dyn std::fmt::Display| usage(format!("{}: nothing imported: {e}", file.display()));
    let open = || std::fs::File::open(file);
    let input = open().map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);

    // First pass: the whole file is checked before anything is written, keeping only a hash
    // per code (docs/reports.md).
    let mut bar = Progress::new("checking");
    let check =
        import::check_legacy_dossiers(input, open, |byte| bar.show(byte, size)).map_err(|e| nothing(&e))?;
    bar.show(size, size);
    bar.finish();
    tracing::debug!(
        rows = check.rows,
        check_ms = started.elapsed().as_millis() as u64,
        "import checked"
    );

    let db = crate::serve::open_database_for(common, true).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let result = write(&db, file, &check, create_missing, size).await;
    db.close().await;
    let s = result.map_err(|e| match e {
        ImportFailure::Invalid(errors) => nothing(&errors),
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

/// Second pass: a thread reads the file again in chunks while this task writes them, in one
/// transaction. The file must read exactly as when it was checked.
async fn write(
    db: &motcua_store::Db,
    file: &Path,
    check: &LegacyCheck,
    create_missing: bool,
    size: u64,
) -> Result<legacy::Summary, ImportFailure> {
    let mut importer =
        legacy::Importer::begin(db, &check.agencies, &check.procedures, create_missing).await?;
    let chunk_rows = importer.chunk_rows();
    let (send, mut chunks) = tokio::sync::mpsc::channel::<Chunk>(2);
    let path = file.to_path_buf();
    let reading = tokio::task::spawn_blocking(move || read_chunks(&path, chunk_rows, send));
    let mut bar = Progress::new("importing");
    while let Some((rows, byte)) = chunks.recv().await {
        importer.write(&rows).await?;
        bar.show(byte, size);
        if importer.failed() {
            break;
        }
    }
    drop(chunks);
    bar.finish();
    if bar.on && !importer.failed() {
        // The indexes and the counters take a while after the last row (seconds per million).
        eprintln!("finishing: indexes and report counters…");
    }
    if !importer.failed() {
        let changed = match reading.await {
            Ok(Ok((rows, fingerprint))) => rows != check.rows || fingerprint != check.fingerprint,
            Ok(Err(_)) | Err(_) => true,
        };
        if changed {
            return Err(ImportFailure::Invalid(ImportErrors(vec![LineError {
                line: 0,
                message: "the file changed after it was checked".into(),
            }])));
        }
    }
    importer.finish().await
}

/// Reads the file's rows in chunks of `chunk_rows` into `send`; returns the number of rows
/// and their fingerprint (as [`import::check_legacy_dossiers`] computes it), or an error if a
/// row is not valid (the file changed) or the receiver stopped.
fn read_chunks(
    path: &Path,
    chunk_rows: usize,
    send: tokio::sync::mpsc::Sender<Chunk>,
) -> Result<(u64, u64), ()> {
    let input = std::fs::File::open(path).map_err(|_| ())?;
    let mut reader = import::LegacyReader::new(input).map_err(|_| ())?;
    let (mut rows, mut fingerprint) = (0u64, 0u64);
    let mut chunk = Vec::with_capacity(chunk_rows);
    while let Some(read) = reader.next_row() {
        chunk.push(read.row.map_err(|_| ())?);
        rows += 1;
        fingerprint = import::fold_fingerprint(fingerprint, read.fingerprint);
        if chunk.len() == chunk_rows {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(chunk_rows));
            send.blocking_send((full, reader.bytes_read())).map_err(|_| ())?;
        }
    }
    if !chunk.is_empty() {
        send.blocking_send((chunk, reader.bytes_read())).map_err(|_| ())?;
    }
    Ok((rows, fingerprint))
}
