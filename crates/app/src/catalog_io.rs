//! Import and export of the catalog (agencies CSV, procedures JSON with their form files) and
//! of officers: all-or-nothing, every error with its line or record number, idempotent
//! (upsert by code). Used by the command line and the demo seed alike.

use motcua_domain::access::Role;
use motcua_domain::import::{self, ImportErrors, LineError};
use motcua_domain::procedure::{FieldError, ProcedureSpec};
use motcua_store::Db;
use motcua_store::repo::{agencies, catalog, files::FileStore, users};
use std::collections::HashSet;
use std::fmt;

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum ImportError {
    /// The file itself is wrong: fix it and try again (exit 2).
    Invalid(Vec<String>),
    Store(motcua_store::StoreError),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Invalid(errors) => {
                write!(
                    f,
                    "nothing imported, {} error(s): {}",
                    errors.len(),
                    errors.join("; ")
                )
            }
            ImportError::Store(e) => write!(f, "nothing imported: {e}"),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<motcua_store::StoreError> for ImportError {
    fn from(e: motcua_store::StoreError) -> Self {
        ImportError::Store(e)
    }
}

impl From<ImportErrors> for ImportError {
    fn from(e: ImportErrors) -> Self {
        ImportError::Invalid(e.0.iter().map(ToString::to_string).collect())
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} unchanged",
            self.created, self.updated, self.unchanged
        )
    }
}

/// Imports agencies from CSV text (see docs/catalog.md).
pub async fn import_agencies(db: &Db, text: &str) -> Result<Report, ImportError> {
    let rows = import::agencies(text)?;
    let existing = agencies::list(db).await?;
    let known: HashSet<&str> = existing.iter().map(|a| a.code.as_str()).collect();
    let in_file: HashSet<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    let missing: Vec<LineError> = rows
        .iter()
        .filter_map(|r| {
            let p = r.parent_code.as_deref()?;
            (!known.contains(p) && !in_file.contains(p)).then(|| LineError {
                line: r.line,
                message: format!("unknown parent agency {p:?}"),
            })
        })
        .collect();
    if !missing.is_empty() {
        return Err(ImportErrors(missing).into());
    }
    let mut report = Report::default();
    let mut tx = db.begin().await?;
    for r in &rows {
        let before = existing.iter().find(|a| a.code == r.code);
        let after = agencies::Agency {
            id: before.map(|b| b.id).unwrap_or(0),
            code: r.code.clone(),
            name: r.name.clone(),
            level: r.level.clone(),
            parent_code: r.parent_code.clone(),
            address: r.address.clone(),
            is_one_stop: r.one_stop,
            office_hours: r.office_hours.clone(),
        };
        match before {
            None => report.created += 1,
            Some(b) if *b == after => report.unchanged += 1,
            Some(_) => report.updated += 1,
        }
        agencies::upsert(
            &mut tx,
            &agencies::NewAgency {
                code: &r.code,
                name: &r.name,
                level: &r.level,
                parent_code: r.parent_code.as_deref(),
                address: &r.address,
                is_one_stop: r.one_stop,
                office_hours: r.office_hours.as_deref(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// Agencies as CSV, parents before children, in the import format.
pub async fn export_agencies(db: &Db) -> anyhow::Result<String> {
    let mut list = agencies::list(db).await?;
    // Parents first: order by depth, then code.
    let depth = |code: &str, list: &[agencies::Agency]| {
        let mut d = 0;
        let mut cur = list
            .iter()
            .find(|a| a.code == code)
            .and_then(|a| a.parent_code.clone());
        while let Some(p) = cur {
            d += 1;
            cur = list
                .iter()
                .find(|a| a.code == p)
                .and_then(|a| a.parent_code.clone());
            if d > 64 {
                break;
            }
        }
        d
    };
    let depths: Vec<(usize, String)> = list
        .iter()
        .map(|a| (depth(&a.code, &list), a.code.clone()))
        .collect();
    list.sort_by_key(|a| {
        depths
            .iter()
            .find(|(_, c)| *c == a.code)
            .map(|(d, c)| (*d, c.clone()))
    });
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(import::AGENCIES_HEADER)?;
    for a in &list {
        w.write_record([
            a.code.as_str(),
            a.name.as_str(),
            a.level.as_str(),
            a.parent_code.as_deref().unwrap_or(""),
            a.address.as_str(),
            a.office_hours.as_deref().unwrap_or(""),
            if a.is_one_stop { "yes" } else { "no" },
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// Where the bytes of a component's form template come from during an import.
pub trait FormSource {
    /// The bytes of `path` (relative to the import file), or an error message.
    fn read(&self, path: &str) -> Result<Vec<u8>, String>;
}

/// Form files next to the import file on disk.
pub struct DirSource(pub std::path::PathBuf);

impl FormSource for DirSource {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        let rel = std::path::Path::new(path);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(format!(
                "form file {path:?} must be a relative path inside the import folder"
            ));
        }
        std::fs::read(self.0.join(rel)).map_err(|e| format!("cannot read form file {path:?}: {e}"))
    }
}

/// Content type of a form template by its extension.
pub fn content_type_of(path: &str) -> &'static str {
    match path.rsplit('.').next().map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("pdf") => "application/pdf",
        Some("doc") => "application/msword",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("xls") => "application/vnd.ms-excel",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("odt") => "application/vnd.oasis.opendocument.text",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Imports procedures from a JSON array (see docs/catalog.md). Form files are read through
/// `forms`, stored content-addressed, and referenced as `sha256:…` in the stored spec; a
/// `sha256:…` reference to an already stored file is accepted as is.
pub async fn import_procedures(
    db: &Db,
    store: &FileStore,
    text: &str,
    forms: &dyn FormSource,
    by: &str,
) -> Result<Report, ImportError> {
    let values: Vec<serde_json::Value> = serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(text))
        .map_err(|e| {
            ImportError::Invalid(vec![format!(
                "line {}: not a JSON array of procedures: {e}",
                e.line()
            )])
        })?;
    let known: HashSet<String> = agencies::list(db).await?.into_iter().map(|a| a.code).collect();
    let mut errors = Vec::new();
    let mut specs = Vec::new();
    let mut codes = HashSet::new();
    for (i, v) in values.into_iter().enumerate() {
        let record = i + 1;
        match serde_json::from_value::<ProcedureSpec>(v) {
            Err(e) => errors.push(format!("record {record}: {e}")),
            Ok(spec) => {
                let spec = spec.normalised();
                let problems: Vec<FieldError> = spec.validate(&|c| known.contains(c));
                if !codes.insert(spec.code.clone()) {
                    errors.push(format!(
                        "record {record} ({}): the code appears twice in the file",
                        spec.code
                    ));
                }
                errors.extend(
                    problems
                        .iter()
                        .map(|p| format!("record {record} ({}): {p}", spec.code)),
                );
                specs.push((record, spec));
            }
        }
        if errors.len() >= 50 {
            break;
        }
    }
    // Read every form before writing anything.
    let mut form_bytes: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    for (si, (record, spec)) in specs.iter().enumerate() {
        for (ci, c) in spec.components.iter().enumerate() {
            let Some(form) = &c.form else { continue };
            if let Some(sha) = form.file.strip_prefix("sha256:") {
                if motcua_store::repo::files::meta(db, sha).await?.is_none() {
                    errors.push(format!(
                        "record {record} ({}): components[{ci}].form: no stored file {sha}",
                        spec.code
                    ));
                }
                continue;
            }
            match forms.read(&form.file) {
                Ok(bytes) if bytes.len() <= 10 * 1024 * 1024 => form_bytes.push((si, ci, bytes)),
                Ok(_) => errors.push(format!(
                    "record {record} ({}): components[{ci}].form: larger than 10 MiB",
                    spec.code
                )),
                Err(e) => errors.push(format!(
                    "record {record} ({}): components[{ci}].form: {e}",
                    spec.code
                )),
            }
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Invalid(errors));
    }
    let today = motcua_domain::calendar::local_date(chrono::Utc::now());
    let mut report = Report::default();
    let mut tx = db.begin().await?;
    for (si, ci, bytes) in form_bytes {
        let form = specs[si].1.components[ci]
            .form
            .as_mut()
            .expect("a form was read for this component");
        let filename = form.file.rsplit('/').next().unwrap_or(&form.file).to_string();
        let meta = store
            .put(&mut tx, &bytes, &filename, content_type_of(&filename))
            .await?;
        form.file = format!("sha256:{}", meta.sha256);
    }
    for (_, spec) in &specs {
        match catalog::save_procedure(&mut tx, spec, by, today).await? {
            catalog::Saved::Created => report.created += 1,
            catalog::Saved::NewVersion(_) => report.updated += 1,
            catalog::Saved::Unchanged => report.unchanged += 1,
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// The current version of every procedure as an import-format JSON array. With `forms_dir`,
/// form files are written there and referenced as `forms/NAME`; without, they stay
/// `sha256:…` references (importable into the same installation).
pub async fn export_procedures(
    db: &Db,
    store: &FileStore,
    forms_dir: Option<&std::path::Path>,
) -> anyhow::Result<String> {
    let mut specs = catalog::all_current(db).await?;
    if let Some(dir) = forms_dir {
        for spec in &mut specs {
            for c in &mut spec.components {
                let Some(form) = c.form.as_mut() else { continue };
                let Some(sha) = form.file.strip_prefix("sha256:").map(str::to_string) else {
                    continue;
                };
                let Some((meta, bytes)) = store.get(db, &sha).await? else {
                    continue;
                };
                let name = format!("{}-{}", &sha[..8], meta.filename);
                std::fs::create_dir_all(dir.join("forms"))?;
                std::fs::write(dir.join("forms").join(&name), bytes)?;
                form.file = format!("forms/{name}");
            }
        }
    }
    Ok(serde_json::to_string_pretty(&specs)?)
}

/// Officers from CSV `username,full_name,agency_code,roles` (roles separated by `|`), all
/// sharing one password hash. Existing users keep their password.
pub async fn import_officers(db: &Db, text: &str, password_hash: &str) -> Result<Report, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header_ok = reader
        .headers()
        .map(|h| h.iter().collect::<Vec<_>>() == ["username", "full_name", "agency_code", "roles"])
        .unwrap_or(false);
    if !header_ok {
        return Err(ImportError::Invalid(vec![
            "line 1: the header must be exactly: username,full_name,agency_code,roles".into(),
        ]));
    }
    let known: HashSet<String> = agencies::list(db).await?.into_iter().map(|a| a.code).collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Invalid(vec![format!("unreadable CSV: {e}")]))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() != 4 {
            errors.push(format!("line {line}: expected 4 fields"));
            continue;
        }
        if !known.contains(&record[2]) {
            errors.push(format!("line {line}: unknown agency {:?}", &record[2]));
        }
        let mut roles = Vec::new();
        for role in record[3].split('|') {
            match role.parse::<Role>() {
                Ok(role) => roles.push(role),
                Err(_) => errors.push(format!("line {line}: unknown role {role:?}")),
            }
        }
        if let Err(e) = motcua_domain::identity::Username::parse(&record[0]) {
            errors.push(format!("line {line}: invalid username {:?}: {e}", &record[0]));
        }
        rows.push((
            record[0].to_string(),
            record[1].to_string(),
            record[2].to_string(),
            roles,
        ));
    }
    if !errors.is_empty() {
        return Err(ImportError::Invalid(errors));
    }
    let mut report = Report::default();
    let mut tx = db.begin().await?;
    for (username, full_name, agency, roles) in &rows {
        let pairs: Vec<(&str, Role)> = roles.iter().map(|r| (agency.as_str(), *r)).collect();
        let existing = users::by_username(db, username).await?;
        let id = match existing {
            Some(u) => {
                report.updated += 1;
                users::set_profile(&mut tx, u.id, full_name, u.disabled).await?;
                u.id
            }
            None => {
                report.created += 1;
                users::create(&mut tx, username, full_name, password_hash).await?
            }
        };
        users::set_roles(&mut tx, id, &pairs).await?;
    }
    tx.commit().await?;
    Ok(report)
}
