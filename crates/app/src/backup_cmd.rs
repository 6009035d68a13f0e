//! `motcua backup --to DIR` and `motcua restore --from DIR`: the database and the files its
//! rows refer to, consistent with each other, and a manifest to check a restore against.
//!
//! A backup directory holds `motcua.db` (SQLite: `VACUUM INTO`, online) or `motcua.pgdump`
//! (PostgreSQL: `pg_dump --format=custom` of an exported snapshot), `files/` (the
//! content-addressed files of that snapshot's `files` table, in the data directory's layout),
//! `files.sha256` (one `DIGEST  files/ab/DIGEST` line per file: `sha256sum -c` checks it) and,
//! written last, `manifest.json` (when, which backend and schema, counts, the database file's
//! digest). Files are written, flushed and renamed into place before the row naming them
//! commits, and never removed, so copying them after the snapshot is taken gets every one
//! the snapshot names.
//!
//! A restore goes into an empty data directory or database (`--force` replaces one holding
//! dossiers), checks every file against its digest, then moves the dossier code sequences
//! beyond the highest code present, so no code in the database is issued again.

use crate::config::{Common, usage};
use clap::Args;
use motcua_store::backup::{self, Copied, Counts, Snapshot};
use motcua_store::repo::files::FileStore;
use motcua_store::{Backend, Db};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Directory to write the backup into; it must be new or empty.
    #[arg(long)]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A directory written by `motcua backup`.
    #[arg(
        long,
        required_unless_present = "sequences_only",
        conflicts_with = "sequences_only"
    )]
    pub from: Option<PathBuf>,
    /// Replace a database that already holds dossiers.
    #[arg(long)]
    pub force: bool,
    /// Only move the dossier code sequences of the configured database beyond the highest
    /// code present (after a restore done by hand: pg_restore, a base backup with WAL).
    #[arg(long)]
    pub sequences_only: bool,
}

/// The manifest's format; a restore refuses any other.
const FORMAT: &str = "motcua-backup 1";
const MANIFEST: &str = "manifest.json";
const FILE_LIST: &str = "files.sha256";
const SQLITE_FILE: &str = "motcua.db";
const PG_FILE: &str = "motcua.pgdump";
/// Files listed, and copied, per page of the `files` table.
const FILES_PAGE: i64 = 1000;

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: String,
    pub motcua_version: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub database: DatabaseFile,
    /// Of the snapshot: schema version, dossiers, events, files, largest dossier id.
    pub counts: Counts,
    pub files: FileList,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseFile {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileList {
    /// `files.sha256`.
    pub list: String,
    /// Files copied (each listed).
    pub copied: u64,
    pub bytes: u64,
    /// Recorded in the database but absent from the data directory, or whose bytes did not
    /// match their digest there: not in the backup (each named on stderr when it was taken).
    pub missing: u64,
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// `motcua backup --to DIR`.
pub async fn backup(common: &Common, a: BackupArgs) -> anyhow::Result<()> {
    let url = common.check_database_url()?;
    let kind = Backend::of_url(&url).map_err(|e| usage(e.to_string()))?;
    let pg_dump = match kind {
        Backend::Postgres => Some(program("pg_dump")?),
        Backend::Sqlite => None,
    };
    let live = motcua_store::db_path_of(&url).to_path_buf();
    if kind == Backend::Sqlite && !live.is_file() {
        return Err(usage(format!("no database at {}", live.display())));
    }
    fresh_dir(&a.to)?;
    let to = a.to.as_path();
    let (mut snap, db_file) = match kind {
        Backend::Sqlite => {
            let file = to.join(SQLITE_FILE);
            backup::vacuum_into(&live, &file).await.map_err(open_error)?;
            (Snapshot::open_sqlite(&file).await?, file)
        }
        Backend::Postgres => {
            let (snap, id) = Snapshot::export_postgres(&url).await.map_err(open_error)?;
            let file = to.join(PG_FILE);
            let mut cmd = libpq_command(pg_dump.as_deref().expect("found above"), &url);
            cmd.arg("--format=custom")
                .arg(format!("--snapshot={id}"))
                .arg("--file")
                .arg(&file);
            run_program(cmd, "pg_dump").await?;
            (snap, file)
        }
    };
    let counts = snap.counts().await?;
    let source = FileStore::new(&common.data_dir);
    if counts.files > 0 && !source.root().is_dir() {
        return Err(usage(format!(
            "the database records {} files but there is no {}: is --data-dir the server's?",
            counts.files,
            source.root().display()
        )));
    }
    let files = copy_snapshot_files(&mut snap, &source, to).await;
    snap.close().await?;
    let files = files?;
    let database = DatabaseFile {
        file: db_file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        bytes: std::fs::metadata(&db_file)?.len(),
        sha256: digest(&db_file).await?,
    };
    let manifest = Manifest {
        format: FORMAT.into(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        motcua_version: env!("CARGO_PKG_VERSION").into(),
        backend: backend_name(kind).into(),
        database,
        counts,
        files,
    };
    write_manifest(to, &manifest)?;
    println!(
        "backup: {} dossiers, {} events, {} files ({} bytes) of schema {} ({}) in {}",
        manifest.counts.dossiers,
        manifest.counts.events,
        manifest.files.copied,
        manifest.files.bytes,
        manifest.counts.schema_version,
        manifest.backend,
        to.display()
    );
    if manifest.files.missing > 0 {
        anyhow::bail!(
            "{} recorded files were missing or damaged in {} and are not in the backup (named above)",
            manifest.files.missing,
            FileStore::new(&common.data_dir).root().display()
        );
    }
    Ok(())
}

/// A database that cannot be opened is a configuration error (exit 2); other failures not.
fn open_error(e: motcua_store::StoreError) -> anyhow::Error {
    match e {
        motcua_store::StoreError::Connect { .. } => usage(e.to_string()),
        e => e.into(),
    }
}

/// The backup directory: created, or an existing empty one.
fn fresh_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).map_err(|e| usage(format!("cannot read {}: {e}", dir.display())))?;
        if entries.next().is_some() {
            return Err(usage(format!(
                "backup directory {} is not empty: back up into a new one",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| usage(format!("cannot create backup directory {}: {e}", dir.display())))?;
    Ok(())
}

/// Copies every file of the snapshot's `files` table into `to/files`, a page at a time,
/// listing each in `files.sha256`; a file missing or damaged in the data directory is named
/// on stderr and counted.
async fn copy_snapshot_files(snap: &mut Snapshot, from: &FileStore, to: &Path) -> anyhow::Result<FileList> {
    let target = FileStore::new(to);
    let mut list = std::io::BufWriter::new(std::fs::File::create(to.join(FILE_LIST))?);
    let mut out = FileList {
        list: FILE_LIST.into(),
        copied: 0,
        bytes: 0,
        missing: 0,
    };
    let mut dirs = BTreeSet::new();
    let mut after = String::new();
    loop {
        let page = snap.files_after(&after, FILES_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.sha256.clone();
        let digests: Vec<String> = page.into_iter().map(|f| f.sha256).collect();
        for (d, r) in copy_page(from, &target, digests).await? {
            match r? {
                Copied::Bytes(n) => {
                    out.copied += 1;
                    out.bytes += n;
                }
                Copied::Present => out.copied += 1,
                Copied::Missing | Copied::Corrupt => {
                    eprintln!(
                        "motcua: warning: file {d} is recorded but missing or damaged; not in the backup"
                    );
                    out.missing += 1;
                    continue;
                }
            }
            writeln!(list, "{d}  files/{}/{d}", &d[..2])?;
            if let Some(dir) = backup::dir_of(&target, &d) {
                dirs.insert(dir);
            }
        }
    }
    let list = list.into_inner().map_err(|e| e.into_error())?;
    list.sync_all()?;
    dirs.insert(to.to_path_buf());
    if target.root().is_dir() {
        dirs.insert(target.root().to_path_buf());
    }
    tokio::task::spawn_blocking(move || backup::sync_dirs(&dirs)).await??;
    Ok(out)
}

/// Copies a page of files from one store to another on a blocking thread: each digest with
/// what became of it (`backup::copy_file`).
async fn copy_page(
    from: &FileStore,
    to: &FileStore,
    digests: Vec<String>,
) -> anyhow::Result<Vec<(String, motcua_store::StoreResult<Copied>)>> {
    let (from, to) = (from.clone(), to.clone());
    Ok(tokio::task::spawn_blocking(move || {
        digests
            .into_iter()
            .map(|d| {
                let copied = backup::copy_file(&from, &to, &d);
                (d, copied)
            })
            .collect()
    })
    .await?)
}

/// Writes `manifest.json` last, flushed and renamed into place: its presence says the
/// backup is whole.
fn write_manifest(dir: &Path, m: &Manifest) -> anyhow::Result<()> {
    let tmp = dir.join(".manifest.json.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(serde_json::to_string_pretty(m)?.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(MANIFEST))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

async fn digest(path: &Path) -> anyhow::Result<String> {
    let p = path.to_path_buf();
    tokio::task::spawn_blocking(move || backup::digest_of(&p))
        .await??
        .ok_or_else(|| anyhow::anyhow!("{} disappeared", path.display()))
}

/// `motcua restore`.
pub async fn restore(common: &Common, a: RestoreArgs) -> anyhow::Result<()> {
    if a.sequences_only {
        let db = crate::serve::open_database(common).await?;
        motcua_store::migrate::run(&db)
            .await
            .map_err(|e| usage(e.to_string()))?;
        let moved = backup::resume_sequences(&db).await;
        db.close().await;
        println!("code sequences: {} moved beyond the highest code present", moved?);
        return Ok(());
    }
    let from = a.from.as_deref().expect("required unless --sequences-only");
    let url = common.check_database_url()?;
    let kind = Backend::of_url(&url).map_err(|e| usage(e.to_string()))?;
    let manifest = read_manifest(from)?;
    if manifest.backend != backend_name(kind) {
        return Err(usage(format!(
            "{} is a backup of a {} database; the configured database is {}",
            from.display(),
            manifest.backend,
            backend_name(kind)
        )));
    }
    let pg_restore = match kind {
        Backend::Postgres => Some(program("pg_restore")?),
        Backend::Sqlite => None,
    };
    let expected = match kind {
        Backend::Sqlite => SQLITE_FILE,
        Backend::Postgres => PG_FILE,
    };
    if manifest.database.file != expected {
        return Err(usage(format!(
            "the manifest names the database file {:?}; expected {expected:?}",
            manifest.database.file
        )));
    }
    let db_file = from.join(expected);
    if !db_file.is_file() {
        return Err(usage(format!(
            "the backup lacks its database file {}",
            db_file.display()
        )));
    }
    let found = digest(&db_file).await?;
    if found != manifest.database.sha256 {
        return Err(usage(format!(
            "{} is damaged: its SHA-256 is not the manifest's",
            db_file.display()
        )));
    }
    check_target(common, &url, kind, a.force).await?;

    // The files first: the database then never names a file not there yet.
    let files = restore_files(from, &FileStore::new(&common.data_dir)).await?;
    match kind {
        Backend::Sqlite => replace_sqlite(&db_file, motcua_store::db_path_of(&url)).await?,
        Backend::Postgres => {
            let mut cmd = libpq_command(pg_restore.as_deref().expect("found above"), &url);
            cmd.args([
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
            ])
            .arg(&db_file);
            run_program(cmd, "pg_restore").await?;
        }
    }

    let db = crate::serve::open_database(common).await?;
    let checked = after_restore(common, &db, &manifest).await;
    db.close().await;
    let (counts, moved, problems) = checked?;
    println!(
        "restored: {} dossiers, {} events, {} files ({} copied, {} bytes) of schema {} from {}; \
code sequences: {} moved beyond the highest code present",
        counts.dossiers,
        counts.events,
        counts.files,
        files.copied,
        files.bytes,
        counts.schema_version,
        from.display(),
        moved
    );
    if problems > 0 {
        anyhow::bail!("the restored database has {problems} problems (named above)");
    }
    Ok(())
}

fn read_manifest(from: &Path) -> anyhow::Result<Manifest> {
    let path = from.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|_| {
        usage(format!(
            "{} is not a complete motcua backup: it has no {MANIFEST}",
            from.display()
        ))
    })?;
    let m: Manifest = serde_json::from_str(&text)
        .map_err(|e| usage(format!("{} is not a motcua backup manifest: {e}", path.display())))?;
    if m.format != FORMAT {
        return Err(usage(format!(
            "{} is of format {:?}; this motcua reads {FORMAT:?}",
            path.display(),
            m.format
        )));
    }
    Ok(m)
}

/// Refuses a target that holds dossiers (unless `force`), and an embedded database another
/// process has open.
async fn check_target(common: &Common, url: &str, kind: Backend, force: bool) -> anyhow::Result<()> {
    let path = motcua_store::db_path_of(url);
    if kind == Backend::Sqlite && !path.exists() {
        common.ensure_data_dir()?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return Err(usage(format!(
                "database directory {} does not exist",
                parent.display()
            )));
        }
        return Ok(());
    }
    let db = match kind {
        // Opened for a bulk load: that fails to leave WAL mode when another process has the
        // file open, which is how a running server shows.
        Backend::Sqlite => crate::serve::open_database_for(common, true).await?,
        Backend::Postgres => crate::serve::open_database(common).await?,
    };
    let in_use = kind == Backend::Sqlite && db.loads_through_wal();
    let held = backup::dossiers_held(&db).await;
    db.close().await;
    let shown = match kind {
        Backend::Sqlite => path.display().to_string(),
        Backend::Postgres => motcua_store::redact(url),
    };
    if in_use {
        return Err(usage(format!(
            "the database {shown} is open in another process (a running server?): stop it first"
        )));
    }
    match held? {
        Some(n) if n > 0 && !force => Err(usage(format!(
            "the database {shown} already holds {n} dossiers: restore into an empty one, or --force to replace them"
        ))),
        _ => Ok(()),
    }
}

/// Copies the files the backup lists into the data directory, each checked against its
/// digest; a file already there whole is left alone.
async fn restore_files(from: &Path, to: &FileStore) -> anyhow::Result<FileList> {
    let source = FileStore::new(from);
    let list = std::fs::File::open(from.join(FILE_LIST))
        .map_err(|e| usage(format!("the backup lacks its {FILE_LIST}: {e}")))?;
    let mut out = FileList {
        list: FILE_LIST.into(),
        copied: 0,
        bytes: 0,
        missing: 0,
    };
    let mut dirs = BTreeSet::new();
    let mut lines = std::io::BufReader::new(list).lines();
    loop {
        let mut page = Vec::new();
        for line in lines.by_ref().take(FILES_PAGE as usize) {
            let line = line?;
            let digest = line.split_whitespace().next().unwrap_or("").to_string();
            if digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(usage(format!(
                    "{FILE_LIST} has a line that is not DIGEST  PATH: {line:?}"
                )));
            }
            page.push(digest);
        }
        if page.is_empty() {
            break;
        }
        for (d, r) in copy_page(&source, to, page).await? {
            match r? {
                Copied::Bytes(n) => {
                    out.copied += 1;
                    out.bytes += n;
                    if let Some(dir) = backup::dir_of(to, &d) {
                        dirs.insert(dir);
                    }
                }
                Copied::Present => {}
                Copied::Missing | Copied::Corrupt => {
                    eprintln!("motcua: file {d} is missing or damaged in the backup");
                    out.missing += 1;
                }
            }
        }
    }
    if !dirs.is_empty() {
        dirs.insert(to.root().to_path_buf());
    }
    tokio::task::spawn_blocking(move || backup::sync_dirs(&dirs)).await??;
    if out.missing > 0 {
        anyhow::bail!(
            "{} files of the backup are missing or damaged (named above); nothing else was restored",
            out.missing
        );
    }
    Ok(out)
}

/// Puts the backup's SQLite file in place of the database at `target`: copied beside it,
/// checked, flushed, then renamed over it, with the old database's WAL and shared-memory
/// files removed first (a stale WAL would be replayed into the new file).
async fn replace_sqlite(from: &Path, target: &Path) -> anyhow::Result<()> {
    let (from, target) = (from.to_path_buf(), target.to_path_buf());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let name = target
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let tmp = dir.join(format!(".{name}.restoring"));
        std::fs::copy(&from, &tmp)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        for suffix in ["-wal", "-shm", "-journal"] {
            let side = dir.join(format!("{name}{suffix}"));
            match std::fs::remove_file(&side) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(anyhow::anyhow!("cannot remove {}: {e}", side.display())),
            }
        }
        std::fs::rename(&tmp, &target)?;
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })
    .await?
}

/// After the database is in place: migrate it, move the code sequences on, compare it with
/// the manifest, and check that every file it records is in the data directory. Returns
/// the counts, the sequences moved and the problems found (each named on stderr).
async fn after_restore(common: &Common, db: &Db, manifest: &Manifest) -> anyhow::Result<(Counts, u64, u64)> {
    let mut problems = 0u64;
    // Counted before migrating, as the backup counted them.
    let counts = backup::counts(db).await?;
    for (what, got, want) in [
        ("dossiers", counts.dossiers, manifest.counts.dossiers),
        ("events", counts.events, manifest.counts.events),
        ("files", counts.files, manifest.counts.files),
    ] {
        if got != want {
            eprintln!("motcua: the restored database has {got} {what}; the manifest says {want}");
            problems += 1;
        }
    }
    motcua_store::migrate::run(db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let moved = backup::resume_sequences(db).await?;
    let files = FileStore::new(&common.data_dir);
    let mut after = String::new();
    loop {
        let page = backup::files_after(db, &after, FILES_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.sha256.clone();
        for f in page {
            // Their bytes were checked as they were copied: here, that each is there whole.
            let ok = backup::dir_of(&files, &f.sha256)
                .map(|d| d.join(&f.sha256))
                .and_then(|p| std::fs::metadata(p).ok())
                .is_some_and(|m| m.len() == f.size as u64);
            if !ok {
                eprintln!(
                    "motcua: file {} ({}) is recorded but not in {}",
                    f.sha256,
                    f.filename,
                    files.root().display()
                );
                problems += 1;
            }
        }
    }
    for sha in backup::unrecorded_references(db, 100).await? {
        if !matches!(backup::check_file(&files, &sha), Ok(Some(true))) {
            eprintln!("motcua: file {sha} is named by a dossier but neither recorded nor present");
            problems += 1;
        }
    }
    Ok((backup::counts(db).await?, moved, problems))
}

/// A program of PostgreSQL's client tools on PATH, or a usage error saying how to get it.
fn program(name: &str) -> anyhow::Result<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    found.ok_or_else(|| {
        usage(format!(
            "{name} is not on PATH: install PostgreSQL's client programs (Debian: postgresql-client), \
at least the server's version; or see docs/operations.md, \"Backup and restore\""
        ))
    })
}

/// A libpq program pointed at the database of `url`: the URL without its password on the
/// command line (which other users may read), the password in `PGPASSWORD`.
fn libpq_command(program: &Path, url: &str) -> std::process::Command {
    let (bare, password) = split_password(url);
    let mut cmd = std::process::Command::new(program);
    cmd.arg("--no-password").arg(format!("--dbname={bare}"));
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    cmd
}

/// `postgres://user:secret@host/db` → (`postgres://user@host/db`, `secret` decoded).
fn split_password(url: &str) -> (String, Option<String>) {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((auth, host)) = rest.split_once('@')
        && let Some((user, password)) = auth.split_once(':')
    {
        return (
            format!("{scheme}://{user}@{host}"),
            Some(percent_decode(password)),
        );
    }
    (url.to_string(), None)
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs a client program to its end; its first error line, if it fails.
async fn run_program(mut cmd: std::process::Command, name: &str) -> anyhow::Result<()> {
    let name = name.to_string();
    let out = tokio::task::spawn_blocking(move || cmd.output()).await?;
    let out = out.map_err(|e| usage(format!("cannot run {name}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("error"))
        .or_else(|| err.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("no message");
    anyhow::bail!("{name} failed ({}): {}", out.status, line.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_go_to_the_environment_decoded() {
        assert_eq!(
            split_password("postgres://me:s%40cret@db:5432/x"),
            ("postgres://me@db:5432/x".to_string(), Some("s@cret".to_string()))
        );
        assert_eq!(
            split_password("postgres://me@db/x"),
            ("postgres://me@db/x".to_string(), None)
        );
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
