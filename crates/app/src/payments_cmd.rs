//! `motcua payments reconcile`: the daily reconciliation of payments for a legal day
//! (Asia/Ho_Chi_Minh) — paid, pending, mismatched — as a table or CSV. Read-only.

use crate::config::{Common, usage};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use motcua_domain::calendar;
use motcua_service::payments::Reconciliation;
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// What was paid, what is still pending and what does not match, for one legal day.
    Reconcile(ReconcileArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The legal day (Asia/Ho_Chi_Minh), YYYY-MM-DD; default today.
    #[arg(long)]
    pub date: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub async fn run(common: &Common, cmd: PaymentsCommand) -> anyhow::Result<()> {
    match cmd {
        PaymentsCommand::Reconcile(args) => reconcile(common, args).await,
    }
}

/// A day as given, or why not (one line).
fn day_of(text: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| calendar::check_date(*d).is_ok())
        .ok_or_else(|| usage(format!("invalid --date {text:?}: expected YYYY-MM-DD")))
}

async fn reconcile(common: &Common, args: ReconcileArgs) -> anyhow::Result<()> {
    // The input first: a bad date is refused before anything is opened.
    let day = args.date.as_deref().map(day_of).transpose()?;
    let db = crate::serve::open_database(common).await?;
    let services = crate::serve::services_of(common, db.clone());
    let day = day.unwrap_or_else(|| calendar::local_date(services.now()));
    let r = services
        .reconcile(day)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    db.close().await;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Csv => write_csv(&mut out, &r)?,
        Format::Table => write_table(&mut out, &r)?,
    }
    out.flush()?;
    Ok(())
}

const HEADER: [&str; 8] = [
    "kind",
    "dossier",
    "order_id",
    "amount_vnd",
    "transaction_id",
    "at",
    "provider",
    "note",
];

fn cells(r: &Reconciliation) -> Vec<[String; 8]> {
    r.lines
        .iter()
        .map(|l| {
            [
                l.kind.to_string(),
                l.dossier.clone(),
                l.order_id.clone(),
                l.amount_vnd.map(|a| a.to_string()).unwrap_or_default(),
                l.transaction_id.clone(),
                // Legal time, with its offset.
                calendar::to_local(l.at)
                    .format("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string(),
                l.provider.clone(),
                l.note.clone(),
            ]
        })
        .collect()
}

fn write_csv(out: &mut impl Write, r: &Reconciliation) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for row in cells(r) {
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

fn write_table(out: &mut impl Write, r: &Reconciliation) -> anyhow::Result<()> {
    writeln!(out, "Payments of {} (Asia/Ho_Chi_Minh)", r.day)?;
    let rows = cells(r);
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 8]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(HEADER))?;
    for row in &rows {
        writeln!(out, "{}", line(row.each_ref().map(String::as_str)))?;
    }
    let refused: Vec<String> = r.refused.iter().map(|(o, n)| format!("{o} {n}")).collect();
    writeln!(
        out,
        "paid: {} ({} VND); pending: {}; mismatched: {}; other refused callbacks: {}",
        r.count("paid"),
        r.total("paid"),
        r.count("pending"),
        r.count("mismatched"),
        if refused.is_empty() {
            "none".to_string()
        } else {
            refused.join(", ")
        }
    )?;
    Ok(())
}
