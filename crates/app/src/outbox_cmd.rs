//! `motcua outbox status | dead | retry`: the outbox as an operator sees it, and sending dead
//! messages again. Reads and writes through the services; delivering is the server's worker's.

use crate::config::{Common, usage};
use clap::{ArgGroup, Args, Subcommand};
use motcua_domain::calendar::to_local;
use motcua_service::outbox::{self, TOPICS};
use motcua_store::repo::outbox::{Held, Retried};

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Messages still to deliver, per topic and state (pending, waiting for a retry, dead),
    /// the oldest pending and the newest delivery; then the messages waiting for a retry and
    /// the dead ones, with their last error. Times are Vietnam's (UTC+7).
    Status {
        /// Messages listed at most in each list.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        limit: i64,
    },
    /// Dead messages, oldest first, one per line: ID, topic, dossier, attempts, when given up,
    /// last error (tab-separated).
    Dead {
        /// Only this topic's: dvcqg_sync or notify_citizen.
        #[arg(long)]
        topic: Option<String>,
        /// Messages listed at most.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
        limit: i64,
    },
    /// Put messages back in the queue, due now, their attempts counted from 0: the ones named
    /// (dead or waiting for a retry), or every dead one. A running server sends them within
    /// seconds, each dossier's in order.
    Retry(RetryArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["ids", "all_dead"])))]
pub struct RetryArgs {
    /// Ids of outbox messages (as `status` and `dead` list them).
    #[arg(value_parser = clap::value_parser!(i64).range(1..))]
    pub ids: Vec<i64>,
    /// Every dead message.
    #[arg(long)]
    pub all_dead: bool,
    /// With --all-dead: only this topic's.
    #[arg(long, requires = "all_dead")]
    pub topic: Option<String>,
}

/// A topic named on the command line: one motcua queues.
fn topic_of(topic: Option<&str>) -> anyhow::Result<Option<&str>> {
    match topic {
        Some(t) if !TOPICS.contains(&t) => {
            Err(usage(format!("unknown topic {t:?}: use {}", TOPICS.join(" or "))))
        }
        t => Ok(t),
    }
}

pub async fn run(common: &Common, cmd: OutboxCommand) -> anyhow::Result<()> {
    // Bad input is refused before the database is opened.
    if let OutboxCommand::Dead { topic, .. } | OutboxCommand::Retry(RetryArgs { topic, .. }) = &cmd {
        topic_of(topic.as_deref())?;
    }
    let db = crate::serve::open_database(common).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let services = crate::serve::services_of(common, db.clone());
    let result = run_on(&services, cmd).await;
    db.close().await;
    result
}

async fn run_on(services: &motcua_service::Services, cmd: OutboxCommand) -> anyhow::Result<()> {
    match cmd {
        OutboxCommand::Status { limit } => {
            let o = outbox::overview(services, limit).await?;
            print!("{}", status_text(&o));
        }
        OutboxCommand::Dead { topic, limit } => {
            for h in outbox::dead(services, topic.as_deref(), limit).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    h.id,
                    h.topic,
                    h.dossier.as_deref().unwrap_or("-"),
                    h.attempts,
                    h.dead_at.map(|t| to_local(t).to_rfc3339()).unwrap_or_default(),
                    one_line(h.last_error.as_deref().unwrap_or(""))
                );
            }
        }
        OutboxCommand::Retry(args) if args.all_dead => {
            let n = outbox::retry_dead(services, args.topic.as_deref()).await?;
            println!("{n} dead message(s) back in the queue; a running server sends them within seconds");
        }
        OutboxCommand::Retry(args) => match outbox::retry(services, &args.ids).await? {
            Retried::Queued(n) => {
                println!("{n} message(s) back in the queue; a running server sends them within seconds")
            }
            Retried::Unknown(id) => {
                return Err(usage(format!(
                    "no outbox message has id {id}; nothing was changed"
                )));
            }
            Retried::Delivered(id) => {
                return Err(usage(format!(
                    "outbox message {id} was delivered already; nothing was changed"
                )));
            }
        },
    }
    Ok(())
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| to_local(t).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

/// An error as one line, at most 200 characters.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.chars().count() > 200 {
        true => flat.chars().take(199).collect::<String>() + "…",
        false => flat,
    }
}

fn held_line(h: &Held, state: &str) -> String {
    format!(
        "  #{:<8} {:<15} {:<28} attempts {:<4} {state} {}  {}\n",
        h.id,
        h.topic,
        h.dossier.as_deref().unwrap_or("-"),
        h.attempts,
        match state {
            "next" => when(h.next_attempt_at),
            _ => when(h.dead_at),
        },
        one_line(h.last_error.as_deref().unwrap_or(""))
    )
}

/// `status`, as printed.
pub fn status_text(o: &outbox::Overview) -> String {
    let mut out = format!(
        "{:<15} {:>8} {:>9} {:>6}  {:<19}  {:<19}\n",
        "topic", "pending", "retrying", "dead", "oldest pending", "last delivered"
    );
    for t in &o.topics {
        let c = &t.counts;
        out += &format!(
            "{:<15} {:>8} {:>9} {:>6}  {:<19}  {:<19}\n",
            c.topic,
            c.pending,
            c.retrying,
            c.dead,
            when(c.oldest_pending),
            when(t.last_delivered)
        );
    }
    out += &format!("\nwaiting for a retry: {}\n", o.retrying_total());
    for h in &o.retrying {
        out += &held_line(h, "next");
    }
    out += &format!("\ndead: {}", o.dead_total());
    if o.dead_total() > 0 {
        out += " (send again: motcua outbox retry ID… or --all-dead; all of them: motcua outbox dead)";
    }
    out += "\n";
    for h in &o.dead {
        out += &held_line(h, "dead");
    }
    out
}
