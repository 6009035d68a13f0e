//! `motcua import dossiers FILE.csv [--create-missing]`: historic dossiers from a legacy
//! system (docs/reports.md). Validated in full (every bad line named) while it is read again
//! and written in chunks in one transaction with the report counters, which commits only if
//! the file passed; the rows are never all in memory. A progress bar on a terminal.

use crate::config::{Common, usage};
use motcua_domain::import::{self, ImportErrors, LegacyCheck, LegacyDossier, LineError};
use motcua_store::repo::legacy::{self, ImportFailure};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

    // The whole file is checked before anything is committed, keeping only a hash per code
    // (docs/reports.md). The check runs on a thread of its own while the rows are written in
    // the import's transaction, as if every agency and procedure code were known; the
    // transaction commits only once the check has passed.
    let path = file.clone();
    let refused = Arc::new(AtomicBool::new(false));
    let refusing = refused.clone();
    let checking = tokio::task::spawn_blocking(move || {
        let checked = import::check_legacy_dossiers(input, || std::fs::File::open(&path), |_| {});
        tracing::debug!(check_ms = started.elapsed().as_millis() as u64, "import checked");
        // The writing ahead stops at once: its rows will not be kept.
        refusing.store(checked.is_err(), Ordering::Relaxed);
        checked
    });
    let db = match crate::serve::open_database_for(common, true).await {
        Ok(db) => db,
        Err(e) => {
            // A bad file is told first, as when nothing had been opened.
            checked(checking).await.map_err(|e| nothing(&e))?;
            return Err(e);
        }
    };
    if let Err(e) = motcua_store::migrate::run(&db).await {
        db.close().await;
        checked(checking).await.map_err(|e| nothing(&e))?;
        return Err(usage(e.to_string()));
    }
    let mut result = import(&db, file, checking, &refused, create_missing, size).await;
    if result.is_ok() {
        // Codes of today's shape (AGENCY-YYMMDD-NNNN) in the file: the next issued is beyond.
        if let Err(e) = motcua_store::backup::resume_sequences(&db).await {
            result = Err(ImportFailure::Store(e));
        }
    }
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

/// The check's answer (a thread that died is an error too).
async fn checked(
    checking: tokio::task::JoinHandle<Result<LegacyCheck, ImportErrors>>,
) -> Result<LegacyCheck, ImportErrors> {
    checking.await.unwrap_or_else(|e| {
        Err(ImportErrors(vec![LineError {
            line: 0,
            message: format!("checking the file failed: {e}"),
        }]))
    })
}

/// Writes the file while it is checked, and commits if the check passes and the rows written
/// are the rows checked. If the check fails, its errors are the answer and nothing is
/// written. If the writing stopped short (a code it did not know, which the check may answer
/// with placeholders or named errors; any other refusal), it is rolled back and done again
/// the plain way, from the check's answer.
async fn import(
    db: &motcua_store::Db,
    file: &Path,
    checking: tokio::task::JoinHandle<Result<LegacyCheck, ImportErrors>>,
    refused: &AtomicBool,
    create_missing: bool,
    size: u64,
) -> Result<legacy::Summary, ImportFailure> {
    let ahead = write(db, file, &[], &[], false, size, Some(refused)).await;
    // If the check failed, its errors are the answer, and what was written ahead is rolled
    // back (dropped on return).
    let check = checked(checking).await.map_err(ImportFailure::Invalid)?;
    if db.loads_through_wal() {
        tracing::info!("the database is open elsewhere: loading through the WAL");
    }
    if let Ok(written) = ahead {
        if !written.importer.failed() && written.read == Some((check.rows, check.fingerprint)) {
            return written.importer.finish().await;
        }
        tracing::debug!("the rows written ahead of the check are rolled back and written again");
        // Dropped: rolled back before the next transaction can take the tables.
        drop(written);
    }
    let written = write(
        db,
        file,
        &check.agencies,
        &check.procedures,
        create_missing,
        size,
        None,
    )
    .await?;
    if !written.importer.failed() && written.read != Some((check.rows, check.fingerprint)) {
        return Err(ImportFailure::Invalid(ImportErrors(vec![LineError {
            line: 0,
            message: "the file changed after it was checked".into(),
        }])));
    }
    // With errors found, `finish` lists them and writes nothing.
    written.importer.finish().await
}

/// An import written and not yet committed, and what the reading thread read (rows and
/// fingerprint; None if it stopped short).
struct Written {
    importer: legacy::Importer,
    read: Option<(u64, u64)>,
}

/// A thread reads the file in chunks while this task writes them, in one transaction begun
/// for the agency and procedure codes given; it stops early once `stop` is set.
async fn write(
    db: &motcua_store::Db,
    file: &Path,
    agencies: &[(String, u64)],
    procedures: &[(String, u64)],
    create_missing: bool,
    size: u64,
    stop: Option<&AtomicBool>,
) -> Result<Written, ImportFailure> {
    let mut importer = legacy::Importer::begin(db, agencies, procedures, create_missing).await?;
    let chunk_rows = importer.chunk_rows();
    let (send, mut chunks) = tokio::sync::mpsc::channel::<Chunk>(2);
    let path = file.to_path_buf();
    let reading = tokio::task::spawn_blocking(move || read_chunks(&path, chunk_rows, send));
    let mut bar = Progress::new("importing");
    while let Some((rows, byte)) = chunks.recv().await {
        importer.write(&rows).await?;
        bar.show(byte, size);
        if importer.failed() || stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            break;
        }
    }
    drop(chunks);
    bar.finish();
    let stopped = stop.is_some_and(|s| s.load(Ordering::Relaxed));
    if bar.on && !importer.failed() && !stopped {
        // The indexes and the counters take a while after the last row (seconds per million).
        eprintln!("finishing: indexes and report counters…");
    }
    let read = match reading.await {
        Ok(Ok(read)) if !importer.failed() => Some(read),
        _ => None,
    };
    Ok(Written { importer, read })
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
