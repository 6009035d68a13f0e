//! `motcua audit verify`: checks every dossier's event hash chain against the head its row
//! keeps (number of events, last hash), a page of dossiers at a time (keyset by id, the
//! page's events fetched with it), the next page read while this one is checked. Prints each
//! break on one line (`KEY: what`), then a summary; exit 1 if any break was found.

use crate::config::{Common, usage};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every dossier's event hash chain: each event follows the one before it, and the
    /// last is the head the dossier keeps (so a removed last event, or all of them, shows).
    /// Prints each break on one line and a summary; exit code 1 if any chain is broken.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Dossiers read per query, with their events.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=100_000))]
    pub page_size: i64,
}

/// What a whole audit found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Audit {
    pub dossiers: u64,
    pub events: u64,
    /// Broken chains (each told to the caller as found, not kept).
    pub breaks: u64,
}

pub async fn run(common: &Common, cmd: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify(args) = cmd;
    let db = crate::serve::open_database(common).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let services = crate::serve::services_of(common, db.clone());
    let audit = verify_all(&services, args.page_size, |b| println!("{b}")).await;
    db.close().await;
    let audit = audit?;
    println!(
        "audit: {} dossiers, {} events checked; {} broken chains",
        audit.dossiers, audit.events, audit.breaks
    );
    if audit.breaks > 0 {
        anyhow::bail!(
            "{} of {} dossiers have a broken event chain",
            audit.breaks,
            audit.dossiers
        );
    }
    Ok(())
}

/// Checks every chain, `page_size` dossiers at a time; `each` is told every break as found.
pub async fn verify_all(
    services: &motcua_service::Services,
    page_size: i64,
    mut each: impl FnMut(&motcua_service::audit::Broken),
) -> anyhow::Result<Audit> {
    let fetch = |after: i64| {
        let services = services.clone();
        tokio::spawn(async move { services.chains_after(after, page_size).await })
    };
    let mut audit = Audit::default();
    let mut next = fetch(0);
    loop {
        let page = next.await??;
        let Some(last) = page.last() else { break };
        // The next page is read while this one is hashed.
        next = fetch(last.dossier_id);
        audit.dossiers += page.len() as u64;
        audit.events += page.iter().map(|c| c.events.len() as u64).sum::<u64>();
        let breaks = tokio::task::spawn_blocking(move || motcua_service::audit::check(&page)).await?;
        for b in breaks {
            each(&b);
            audit.breaks += 1;
        }
    }
    Ok(audit)
}
