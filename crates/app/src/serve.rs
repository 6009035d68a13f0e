//! Wiring for the serving commands: open the database, migrate, bind, serve until a signal,
//! then shut down cleanly.

use crate::config::{Common, usage};
use motcua_service::outbox::{FileSink, RetryPolicy, Sink, SmsSink, SmtpSink};
use motcua_service::{Rules, Services};
use motcua_store::Db;
use motcua_web::server::ServerLimits;
use motcua_web::{AppState, WebConfig};
use tokio::net::TcpListener;

/// Opens the configured database (creating the data directory for the embedded one).
/// Every failure here is a configuration error (exit 2).
pub async fn open_database(common: &Common) -> anyhow::Result<Db> {
    open_database_for(common, false).await
}

/// `open_database`, for a bulk load when `bulk` (`Db::connect_bulk`).
pub async fn open_database_for(common: &Common, bulk: bool) -> anyhow::Result<Db> {
    open(common, bulk, None).await
}

/// The database, its statements stopped after `statement_timeout` if any (a server's:
/// `Db::connect_bounded`); a command's run as long as they take.
async fn open(
    common: &Common,
    bulk: bool,
    statement_timeout: Option<std::time::Duration>,
) -> anyhow::Result<Db> {
    let url = common.check_database_url()?;
    if url.starts_with("sqlite:") {
        common.ensure_data_dir()?;
        let path = motcua_store::db_path_of(&url);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return Err(usage(format!(
                "database directory {} does not exist",
                parent.display()
            )));
        }
    }
    let db = if bulk {
        Db::connect_bulk(&url).await
    } else {
        Db::connect_bounded(&url, statement_timeout).await
    };
    db.map_err(|e| usage(e.to_string()))
}

/// `motcua serve`.
pub async fn serve(common: &Common) -> anyhow::Result<()> {
    let sink = sink_of(common)?;
    let web = web_config(common)?;
    let payments = common.payment.provider(&common.public_url()?).map_err(usage)?;
    let (db, listener) = prepare(common).await?;
    let services = services_of(common, db).with_payments(payments);
    run_server(
        services,
        listener,
        web,
        server_limits(common),
        (sink, common.dvcqg.retry_policy()),
        common.outbox_keep_days,
        common.orphan_grace_hours,
    )
    .await
}

/// The server's own limits, from the flags.
pub fn server_limits(common: &Common) -> ServerLimits {
    ServerLimits {
        header_timeout: std::time::Duration::from_secs(common.header_timeout_seconds),
        max_connections: common.max_connections as usize,
        max_connections_per_client: common.max_connections_per_client as usize,
        shutdown_grace: std::time::Duration::from_secs(common.shutdown_grace_seconds),
        trusted_proxies: common.trusted_proxies.clone(),
    }
}

fn web_config(common: &Common) -> anyhow::Result<WebConfig> {
    Ok(WebConfig {
        public_url: common.public_url()?,
        secure_cookies: common.secure_cookies,
        trusted_proxies: common.trusted_proxies.clone(),
        request_timeout: std::time::Duration::from_secs(common.request_timeout_seconds),
        // Without SMTP the codes are written as files in the outbox folder (no SMS gateway
        // is wired yet): the pages asking for one say where it went.
        codes_to: common.smtp_url.is_none().then(|| {
            let dir = common.data_dir.join("outbox");
            std::path::absolute(&dir).unwrap_or(dir).display().to_string()
        }),
        dvcqg_inbound: common
            .dvcqg_inbound
            .inbound(std::time::Duration::from_secs(common.request_timeout_seconds))
            .map_err(usage)?,
        vneid: common.oidc.vneid(&common.public_url()?).map_err(usage)?,
        ..Default::default()
    })
}

/// The services over the database, with the configured rules and data directory.
pub fn services_of(common: &Common, db: Db) -> Services {
    let rules = Rules {
        lookups_per_minute: common.lookups_per_minute.max(1),
        lookup_cache_seconds: common.lookup_cache_seconds,
        public_url: common.public_url().unwrap_or_default(),
        ..Default::default()
    };
    Services::new(db, &common.data_dir, rules)
}

/// `motcua demo`: like serve, after seeding the demo province once.
pub async fn demo(common: &Common) -> anyhow::Result<()> {
    let sink = sink_of(common)?;
    let payments = common.payment.provider(&common.public_url()?).map_err(usage)?;
    let (db, listener) = prepare(common).await?;
    let services = services_of(common, db).with_payments(payments);
    let seeded = crate::demo::seed(&services).await?;
    if seeded {
        tracing::info!("demo province seeded");
    } else {
        tracing::info!("demo data already present; re-using it");
    }
    let web = WebConfig {
        demo_accounts: crate::demo::accounts(),
        ..web_config(common)?
    };
    run_server(
        services,
        listener,
        web,
        server_limits(common),
        (sink, common.dvcqg.retry_policy()),
        common.outbox_keep_days,
        common.orphan_grace_hours,
    )
    .await
}

async fn prepare(common: &Common) -> anyhow::Result<(Db, TcpListener)> {
    let addr = common.listen_addr()?;
    let db = open(common, false, common.statement_timeout()).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| usage(format!("cannot listen on {addr}: {e}")))?;
    Ok((db, listener))
}

/// The notification sinks: the file log, behind SMTP, the SMS gateway and the national
/// portal when configured.
fn sink_of(common: &Common) -> anyhow::Result<std::sync::Arc<dyn Sink>> {
    let mut sink: Box<dyn Sink> = Box::new(FileSink {
        dir: common.data_dir.join("outbox"),
    });
    if let Some(url) = &common.smtp_url {
        sink = Box::new(SmtpSink::new(url, &common.smtp_from, sink).map_err(usage)?);
    }
    if let Some(url) = &common.sms_url {
        sink = Box::new(
            SmsSink::new(url, &common.sms_token, &common.sms_sender, common.sms_ascii, sink)
                .map_err(usage)?,
        );
    }
    let sink = common.dvcqg.wrap(sink).map_err(usage)?;
    Ok(std::sync::Arc::from(sink))
}

async fn run_server(
    services: Services,
    listener: TcpListener,
    web: WebConfig,
    limits: ServerLimits,
    (sink, retry): (std::sync::Arc<dyn Sink>, RetryPolicy),
    outbox_keep_days: u32,
    orphan_grace_hours: u32,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let db = services.db().clone();
    let worker = motcua_service::outbox::spawn_worker(services.clone(), sink, retry);
    let trimmer = motcua_service::outbox::spawn_trimmer(services.clone(), outbox_keep_days);
    let grace = std::time::Duration::from_secs(u64::from(orphan_grace_hours) * 3600);
    let upkeep = motcua_service::upkeep::spawn(services.clone(), grace);
    let app = motcua_web::router(AppState::new(services, web));
    tracing::info!("serving on http://{addr}/ (Ctrl-C to stop)");
    motcua_web::server::serve(listener, app, limits, shutdown_signal()).await?;
    worker.abort();
    upkeep.abort();
    if let Some(t) = trimmer {
        t.abort();
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
