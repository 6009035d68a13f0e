//! `motcua calendar …`: the legal calendar from the command line. Integrators script against
//! this output; keep it stable (docs/time.md).

use crate::config::{Common, usage};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime};
use clap::{Subcommand, ValueEnum};
use motcua_domain::calendar::{
    self, LegalClock, LunarDate, OfficeHours, Override, TimeLimit, WorkCalendar, lunar_to_solar,
    solar_to_lunar, to_local,
};
use motcua_store::Db;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// The effective days off of a year (rules + overrides), sorted by date.
    Holidays {
        /// 1900–2199
        year: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// The due instant of a time limit, in RFC 3339 at +07:00.
    Due {
        /// When the dossier was received, RFC 3339 (any offset).
        #[arg(long)]
        received: String,
        /// "N working-days", "N working-hours" or "N days" (N may be fractional: 0.5).
        #[arg(long, allow_hyphen_values = true)]
        limit: String,
        /// Same-day cut-off HH:MM of the procedure, if any.
        #[arg(long)]
        cutoff: Option<String>,
        /// Office hours, e.g. "07:00-11:30,13:30-17:00" (the default).
        #[arg(long)]
        office_hours: Option<String>,
    },
    /// Solar date → Vietnamese lunar date (`YYYY-MM-DD`, then ` leap` in a leap month).
    Lunar {
        /// YYYY-MM-DD
        date: String,
    },
    /// Vietnamese lunar date → solar date.
    Solar {
        /// Lunar YYYY-MM-DD
        date: String,
        /// The month is the leap month of that lunar year.
        #[arg(long)]
        leap: bool,
    },
    /// Import overrides from CSV (header date,kind,name; kind day_off|workday|remove),
    /// all or nothing.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
    },
}

fn parse_date(s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| usage(format!("invalid date {s:?}: expected YYYY-MM-DD")))
}

/// Overrides from the configured database if there is one; none otherwise. An embedded
/// database that does not exist yet means "rules only"; a configured PostgreSQL that cannot
/// be reached is an error (silently dropping overrides would give wrong deadlines).
async fn stored_overrides(common: &Common) -> anyhow::Result<Vec<Override>> {
    let url = common.check_database_url()?;
    if url.starts_with("sqlite:") && !motcua_store::db_path_of(&url).exists() {
        return Ok(Vec::new());
    }
    let db = open(common).await?;
    let list = motcua_store::repo::calendar::list_overrides(&db).await?;
    db.close().await;
    Ok(list)
}

async fn open(common: &Common) -> anyhow::Result<Db> {
    let db = crate::serve::open_database(common).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    Ok(db)
}

pub async fn run(common: &Common, cmd: CalendarCommand) -> anyhow::Result<()> {
    match cmd {
        CalendarCommand::Holidays { year, format } => {
            let year: i32 = year
                .trim()
                .parse()
                .map_err(|_| usage(format!("invalid year {year:?}")))?;
            calendar::check_year(year).map_err(|e| usage(e.to_string()))?;
            let overrides = stored_overrides(common).await?;
            let days = calendar::effective_days(year, &overrides).map_err(|e| usage(e.to_string()))?;
            match format {
                Format::Json => {
                    let rows: Vec<serde_json::Value> = days
                        .iter()
                        .map(|d| serde_json::json!({"date": d.date.to_string(), "name": d.name, "kind": d.kind.as_str()}))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&rows)?);
                }
                Format::Text => {
                    println!("{:<10}  {:<3}  {:<12}  name", "date", "day", "kind");
                    for d in &days {
                        println!(
                            "{}  {:<3}  {:<12}  {}",
                            d.date,
                            d.date.weekday(),
                            d.kind.as_str(),
                            d.name
                        );
                    }
                }
            }
        }
        CalendarCommand::Due {
            received,
            limit,
            cutoff,
            office_hours,
        } => {
            let received = DateTime::parse_from_rfc3339(received.trim())
                .map_err(|_| {
                    usage(format!(
                        "invalid --received {received:?}: expected RFC 3339, e.g. 2026-09-01T10:00:00+07:00"
                    ))
                })?
                .to_utc();
            calendar::check_instant(received).map_err(|e| usage(e.to_string()))?;
            let limit = TimeLimit::parse(&limit).map_err(|e| usage(format!("invalid --limit: {e}")))?;
            let cutoff = cutoff
                .map(|c| {
                    NaiveTime::parse_from_str(c.trim(), "%H:%M")
                        .map_err(|_| usage(format!("invalid --cutoff {c:?}: expected HH:MM")))
                })
                .transpose()?;
            let hours = match office_hours {
                Some(h) => {
                    OfficeHours::parse(&h).map_err(|e| usage(format!("invalid --office-hours: {e}")))?
                }
                None => OfficeHours::default(),
            };
            let overrides = stored_overrides(common).await?;
            let cal = WorkCalendar::new(&overrides).map_err(|e| usage(e.to_string()))?;
            let due = LegalClock::new(&cal, &hours).due(received, &limit, cutoff);
            println!("{}", to_local(due).to_rfc3339());
        }
        CalendarCommand::Lunar { date } => {
            let d = parse_date(&date)?;
            let l = solar_to_lunar(d).map_err(|e| usage(e.to_string()))?;
            println!(
                "{:04}-{:02}-{:02}{}",
                l.year,
                l.month,
                l.day,
                if l.leap { " leap" } else { "" }
            );
        }
        CalendarCommand::Solar { date, leap } => {
            let parts: Vec<&str> = date.trim().split('-').collect();
            let bad = || usage(format!("invalid lunar date {date:?}: expected YYYY-MM-DD"));
            let [y, m, d] = parts.as_slice() else {
                return Err(bad());
            };
            let lunar = LunarDate {
                year: y.parse().map_err(|_| bad())?,
                month: m.parse().map_err(|_| bad())?,
                day: d.parse().map_err(|_| bad())?,
                leap,
            };
            let solar = lunar_to_solar(lunar).map_err(|e| usage(e.to_string()))?;
            println!("{solar}");
        }
        CalendarCommand::Import { file } => {
            let text =
                std::fs::read(&file).map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
            let text =
                String::from_utf8(text).map_err(|_| usage(format!("{} is not UTF-8", file.display())))?;
            let rows = motcua_domain::import::calendar_overrides(&text)
                .map_err(|e| usage(format!("{}: nothing imported: {e}", file.display())))?;
            let db = open(common).await?;
            let mut all = motcua_store::repo::calendar::list_overrides(&db).await?;
            all.retain(|o| !rows.iter().any(|n| n.date == o.date));
            all.extend_from_slice(&rows);
            WorkCalendar::new(&all).map_err(|e| usage(format!("nothing imported: {e}")))?;
            let mut tx = db.begin().await?;
            for o in &rows {
                motcua_store::repo::calendar::upsert_override(&mut tx, o, "cli").await?;
            }
            tx.commit().await?;
            db.close().await;
            println!("imported {} override(s) from {}", rows.len(), file.display());
        }
    }
    Ok(())
}
