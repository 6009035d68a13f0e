//! Delivery of outbox rows (national-portal sync, citizen notifications): at least once, in
//! order, retried with backoff by a background worker. Sinks are ports; the built-in one
//! appends JSON lines to files under `DATA_DIR/outbox/` (development, audits, a relay).

use crate::AppState;
use chrono::Utc;
use motcua_store::repo::lifecycle;
use std::path::PathBuf;
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

/// Delivers what is pending (up to `limit`); returns how many were delivered.
pub async fn deliver_pending(
    state: &AppState,
    sink: &dyn Sink,
    limit: i64,
) -> Result<usize, motcua_store::StoreError> {
    let rows = lifecycle::pending_outbox(&state.db, limit).await?;
    let mut delivered = 0;
    for (id, topic, payload, _attempts) in rows {
        let result = sink.deliver(&topic, &payload);
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
pub fn spawn_worker(state: AppState, sink: Box<dyn Sink>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        loop {
            match deliver_pending(&state, sink.as_ref(), 200).await {
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
