//! `motcua report`: the statutory report II.06a for a date range, by field, procedure or
//! agency, as JSON, CSV or XLSX — read from the counters (the fast path); `--verify` also
//! recounts from the dossiers and fails on any difference, `--rebuild` recomputes them.

use crate::config::{Common, usage};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use motcua_domain::report::{Period, Row};
use motcua_store::repo::{agencies, report};

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum By {
    Field,
    Procedure,
    Agency,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    /// The official layout (needs --out).
    Xlsx,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// First day (local date), YYYY-MM-DD.
    #[arg(long)]
    pub from: String,
    /// Last day (local date, inclusive), YYYY-MM-DD.
    #[arg(long)]
    pub to: String,
    /// Only dossiers received by this agency or the agencies below it.
    #[arg(long)]
    pub agency: Option<String>,
    #[arg(long, value_enum, default_value = "field")]
    pub by: By,
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Also recount from the dossiers themselves; exit 1 on any difference from the counters.
    #[arg(long)]
    pub verify: bool,
    /// Rebuild the counters from the dossiers first (after a restore or a manual repair).
    #[arg(long)]
    pub rebuild: bool,
    /// The day the report is judged on (local date, YYYY-MM-DD; default today): a period not
    /// ended by then is counted up to it, "overdue" included.
    #[arg(long)]
    pub as_of: Option<String>,
}

/// Every cell where the counters and the recount disagree, one line each.
fn compare(
    fast: &[report::KeyedRow],
    fast_total: &Row,
    recount: &[report::KeyedRow],
    recount_total: &Row,
) -> Vec<String> {
    use motcua_domain::report::Column;
    let mut out = Vec::new();
    let mut keys: Vec<&str> = fast.iter().chain(recount).map(|r| r.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    let find = |rows: &[report::KeyedRow], k: &str| {
        rows.iter()
            .find(|r| r.key == k)
            .map(|r| r.row)
            .unwrap_or_default()
    };
    let lines = keys
        .into_iter()
        .map(|k| (k.to_string(), find(fast, k), find(recount, k)))
        .chain(std::iter::once((
            "TOTAL".to_string(),
            *fast_total,
            *recount_total,
        )));
    for (key, f, r) in lines {
        for c in Column::ALL {
            if f.get(c) != r.get(c) {
                out.push(format!(
                    "{key} {}: counters {}, recount {}",
                    c.name(),
                    f.get(c),
                    r.get(c)
                ));
            }
        }
    }
    out
}

fn date(s: &str, flag: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| usage(format!("invalid --{flag} {s:?}: expected YYYY-MM-DD")))
}

pub async fn run(common: &Common, a: ReportArgs) -> anyhow::Result<()> {
    let asked = Period::new(date(&a.from, "from")?, date(&a.to, "to")?).map_err(|e| usage(e.en()))?;
    // A period not yet ended is judged as of today, as the pages and the API do.
    let today = match &a.as_of {
        Some(s) => date(s, "as-of")?,
        None => motcua_domain::calendar::local_date(chrono::Utc::now()),
    };
    let period = asked.as_of(today);
    if a.format == Format::Xlsx && a.out.is_none() {
        return Err(usage("--format xlsx needs --out FILE.xlsx"));
    }
    let db = crate::serve::open_database(common).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let scope = match &a.agency {
        None => None,
        Some(code) => {
            let ids = agencies::subtree_ids(&db, code).await?;
            if ids.is_empty() {
                return Err(usage(format!("unknown agency {code:?}")));
            }
            Some(ids)
        }
    };
    if a.rebuild {
        let n = report::rebuild(&db).await?;
        eprintln!("rebuilt the report counters from {n} counted dossiers");
    }
    let tree = report::tree(&db).await?;
    let by = match a.by {
        By::Field => report::By::Field,
        By::Procedure => report::By::Procedure,
        By::Agency => report::By::Agency,
    };
    let fast = report::fast_by(&db, &period, scope.as_deref(), by).await?;
    let (rows, total) =
        report::group_rows(fast.iter().map(|(k, r)| (k, *r)), by, &tree).map_err(|e| anyhow::anyhow!(e))?;
    if a.verify {
        let counted = report::counted(&db, period.from, period.to, scope.as_deref()).await?;
        let (recount, recount_total) =
            report::group(&counted, &period, by, &tree).map_err(|e| anyhow::anyhow!(e))?;
        let differences = compare(&rows, &total, &recount, &recount_total);
        if !differences.is_empty() {
            db.close().await;
            for d in &differences {
                eprintln!("{d}");
            }
            anyhow::bail!(
                "the counters differ from a recount in {} places; `motcua report --rebuild` rebuilds them",
                differences.len()
            );
        }
        eprintln!(
            "verified: the counters equal a recount of {} dossiers",
            counted.len()
        );
    }
    db.close().await;
    if a.format == Format::Xlsx {
        let path = a.out.as_ref().expect("checked above");
        let bytes = motcua_service::report_export::xlsx(&period, by, &rows, &total)
            .map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?;
        std::fs::write(path, bytes).map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?;
        return Ok(());
    }
    let text = match a.format {
        Format::Json => {
            // The same document as the API's.
            let doc = motcua_service::reports::Report {
                period: asked,
                as_of: (period != asked).then_some(period.to),
                by: motcua_service::reports::by_name(by).into(),
                rows,
                total,
            };
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Xlsx => unreachable!("written above"),
        Format::Csv => String::from_utf8(motcua_service::report_export::csv(
            &rows,
            &total,
            motcua_service::report_export::CsvHeader::Keys,
        )?)?,
    };
    match a.out {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| usage(format!("cannot write {}: {e}", path.display())))?
        }
        None => print!("{text}"),
    }
    Ok(())
}
