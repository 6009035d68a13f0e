//! Delivery of outbox rows (national-portal sync, citizen notifications): at least once, in
//! order, retried with backoff by a background worker. Sinks are ports: the built-in one
//! appends JSON lines to files under `DATA_DIR/outbox/` (development, audits, a relay); with
//! `--smtp-url`, messages for an e-mail address also go out by SMTP.

use crate::AppState;
use chrono::Utc;
use motcua_store::repo::lifecycle;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where a topic's messages go.
pub trait Sink: Send + Sync {
    fn deliver(&self, topic: &str, payload: &str) -> Result<(), String>;
}

/// Appends each message as one JSON line to `DIR/{topic}.jsonl`.
pub struct FileSink {
    pub dir: PathBuf,
}

impl Sink for FileSink {
    fn deliver(&self, topic: &str, payload: &str) -> Result<(), String> {
        use std::io::Write;
        if !topic.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("bad topic {topic:?}"));
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{topic}.jsonl")))
            .map_err(|e| e.to_string())?;
        writeln!(f, "{payload}")
            .and_then(|_| f.sync_data())
            .map_err(|e| e.to_string())
    }
}

/// Sends messages addressed to an e-mail (one-time codes, dossier notices with an e-mail)
/// through an SMTP relay, then hands every message to the next sink (the file log).
pub struct SmtpSink {
    transport: lettre::SmtpTransport,
    from: lettre::message::Mailbox,
    pub next: Box<dyn Sink>,
}

impl SmtpSink {
    /// `url`: `smtp://HOST[:PORT]` of a relay that accepts mail from this server (plain SMTP,
    /// e.g. the local MTA). `from`: the sender, e.g. `Một cửa <noreply@example.gov.vn>`.
    pub fn new(url: &str, from: &str, next: Box<dyn Sink>) -> Result<Self, String> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| format!("unsupported SMTP URL {url:?}: use smtp://HOST[:PORT]"))?
            .trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse::<u16>()
                    .map_err(|_| format!("bad SMTP port in {url:?}"))?,
            ),
            None => (rest.to_string(), 25),
        };
        if host.is_empty() {
            return Err(format!("no host in SMTP URL {url:?}"));
        }
        let from = from
            .parse()
            .map_err(|e| format!("invalid sender {from:?}: {e}"))?;
        let transport = lettre::SmtpTransport::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Self {
            transport,
            from,
            next,
        })
    }
}

/// The e-mail address and text of a citizen notification, if it has one.
fn email_of(payload: &serde_json::Value) -> Option<(String, String)> {
    let to = match payload["channel"].as_str() {
        Some("email") => payload["to"].as_str(),
        Some(_) => None,
        None => payload["email"].as_str(),
    }?;
    (!to.is_empty()).then(|| {
        (
            to.to_string(),
            payload["message"].as_str().unwrap_or_default().to_string(),
        )
    })
}

impl Sink for SmtpSink {
    fn deliver(&self, topic: &str, payload: &str) -> Result<(), String> {
        use lettre::Transport;
        if topic == "notify_citizen"
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(payload)
            && let Some((to, text)) = email_of(&v)
        {
            let to = to.parse().map_err(|e| format!("bad recipient {to:?}: {e}"))?;
            let email = lettre::Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject("Thông báo từ Hệ thống một cửa điện tử")
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(text)
                .map_err(|e| e.to_string())?;
            self.transport.send(&email).map_err(|e| format!("SMTP: {e}"))?;
        }
        self.next.deliver(topic, payload)
    }
}

/// Delivers what is pending (up to `limit`); returns how many were delivered. Sinks may block
/// (files, SMTP), so they run on the blocking pool.
pub async fn deliver_pending(
    state: &AppState,
    sink: Arc<dyn Sink>,
    limit: i64,
) -> Result<usize, motcua_store::StoreError> {
    let rows = lifecycle::pending_outbox(&state.db, limit).await?;
    let mut delivered = 0;
    for (id, topic, payload, _attempts) in rows {
        let s = sink.clone();
        let t = topic.clone();
        let result = tokio::task::spawn_blocking(move || s.deliver(&t, &payload))
            .await
            .unwrap_or_else(|e| Err(format!("sink failed: {e}")));
        let mut tx = state.db.begin().await?;
        lifecycle::outbox_attempt(&mut tx, id, result.as_ref().err().map(String::as_str), Utc::now()).await?;
        tx.commit().await?;
        match result {
            Ok(()) => delivered += 1,
            Err(e) => {
                tracing::warn!(id, topic, error = %e, "outbox delivery failed; will retry");
                // Keep order: stop at the first failure and retry later.
                break;
            }
        }
    }
    Ok(delivered)
}

/// Runs delivery every second until the process stops; backs off to 30 s on failures.
pub fn spawn_worker(state: AppState, sink: Arc<dyn Sink>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        loop {
            match deliver_pending(&state, sink.clone(), 200).await {
                Ok(_) => wait = Duration::from_secs(1),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox worker error");
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            }
            tokio::time::sleep(wait).await;
        }
    })
}
