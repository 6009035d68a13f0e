//! Delivery of outbox rows (national-portal sync, citizen notifications): at least once, in
//! order, retried with backoff by a background worker. Sinks are ports: the built-in one
//! appends JSON lines to files under `DATA_DIR/outbox/` (development, audits, a relay); with
//! `--smtp-url`, messages for an e-mail address also go out by SMTP; with `--sms-url`, those
//! for a phone go to an HTTP SMS gateway.

use crate::Services;
use motcua_store::repo::outbox;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where a topic's messages go.
pub trait Sink: Send + Sync {
    fn deliver(&self, topic: &str, payload: &str) -> Result<(), String>;

    /// Delivers `(topic, payload)` messages in order, stopping at the first failure: how many
    /// were delivered, and that failure. Sinks that can make a batch durable at once (one
    /// fsync per file instead of one per message) override it.
    fn deliver_all(&self, messages: &[(String, String)]) -> (usize, Option<String>) {
        for (i, (topic, payload)) in messages.iter().enumerate() {
            if let Err(e) = self.deliver(topic, payload) {
                return (i, Some(e));
            }
        }
        (messages.len(), None)
    }
}

/// Appends each message as one JSON line to `DIR/{topic}.jsonl`.
pub struct FileSink {
    pub dir: PathBuf,
}

impl FileSink {
    fn open(&self, topic: &str) -> Result<std::fs::File, String> {
        if !topic.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("bad topic {topic:?}"));
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{topic}.jsonl")))
            .map_err(|e| e.to_string())
    }
}

impl Sink for FileSink {
    fn deliver(&self, topic: &str, payload: &str) -> Result<(), String> {
        self.deliver_all(&[(topic.to_string(), payload.to_string())])
            .1
            .map_or(Ok(()), Err)
    }

    /// Appends every message to its topic's file, then makes each file durable once. A
    /// failed write stops the batch; a failed fsync counts nothing as delivered (they are
    /// delivered again: receivers are idempotent on `event_seq`).
    fn deliver_all(&self, messages: &[(String, String)]) -> (usize, Option<String>) {
        use std::io::Write;
        let mut files: Vec<(&str, std::fs::File)> = Vec::new();
        let mut written = 0;
        let mut failure = None;
        for (topic, payload) in messages {
            let file = match files.iter().position(|(t, _)| *t == topic.as_str()) {
                Some(i) => &mut files[i].1,
                None => match self.open(topic) {
                    Ok(f) => {
                        files.push((topic, f));
                        &mut files.last_mut().expect("just pushed").1
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                },
            };
            if let Err(e) = writeln!(file, "{payload}") {
                failure = Some(e.to_string());
                break;
            }
            written += 1;
        }
        for (_, f) in &files {
            if let Err(e) = f.sync_data() {
                return (0, Some(e.to_string()));
            }
        }
        (written, failure)
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

/// Sends messages for a phone (one-time codes, dossier notices) through an HTTP SMS gateway,
/// then hands every message to the next sink. The gateway's shape (docs/integration.md):
/// `POST URL` with `Authorization: Bearer TOKEN` and JSON `{"id", "to", "from", "text"}`; any
/// 2xx is accepted, anything else (or no answer within 10 s) is a failure the outbox retries
/// with backoff. `id` is the SHA-256 of the message, the same on every retry, so the gateway
/// sends a retried message once.
pub struct SmsSink {
    client: reqwest::Client,
    url: String,
    token: String,
    sender: String,
    /// Send Vietnamese without diacritics (gateways or handsets that take only ASCII).
    ascii: bool,
    pub next: Box<dyn Sink>,
}

impl SmsSink {
    pub fn new(
        url: &str,
        token: &str,
        sender: &str,
        ascii: bool,
        next: Box<dyn Sink>,
    ) -> Result<Self, String> {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(format!(
                "unsupported SMS gateway URL {url:?}: use http(s)://HOST/PATH"
            ));
        }
        if sender.trim().is_empty() || sender.chars().count() > 11 {
            return Err(format!("SMS sender name {sender:?} must be 1 to 11 characters"));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            url: url.to_string(),
            token: token.to_string(),
            sender: sender.trim().to_string(),
            ascii,
            next,
        })
    }
}

/// The phone number and text of a citizen notification, if it goes to a phone.
fn phone_of(payload: &serde_json::Value) -> Option<(String, String)> {
    let to = match payload["channel"].as_str() {
        Some("sms") => payload["to"].as_str(),
        Some(_) => None,
        None => payload["phone"].as_str(),
    }?;
    (!to.is_empty()).then(|| {
        (
            to.to_string(),
            payload["message"].as_str().unwrap_or_default().to_string(),
        )
    })
}

impl Sink for SmsSink {
    fn deliver(&self, topic: &str, payload: &str) -> Result<(), String> {
        if topic == "notify_citizen"
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(payload)
            && let Some((to, text)) = phone_of(&v)
        {
            use sha2::Digest;
            let text = match self.ascii {
                true => motcua_domain::text::strip_marks(&text),
                false => text,
            };
            let id = motcua_domain::text::hex(&sha2::Sha256::digest(payload.as_bytes()));
            let body = serde_json::json!({"id": id, "to": to, "from": self.sender, "text": text});
            // Sinks run on the blocking pool (`deliver_pending`), inside the runtime.
            let runtime = tokio::runtime::Handle::try_current().map_err(|e| e.to_string())?;
            let request = self.client.post(&self.url).bearer_auth(&self.token).json(&body);
            let res = runtime
                .block_on(request.send())
                .map_err(|e| format!("SMS gateway: {e}"))?;
            if !res.status().is_success() {
                return Err(format!("SMS gateway answered {}", res.status()));
            }
        }
        self.next.deliver(topic, payload)
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

/// A topic's pending rows in a pass: the topic, the rows' ids, their (topic, payload).
type TopicQueue = (String, Vec<i64>, Vec<(String, String)>);

/// Delivers what is pending (up to `limit`, oldest first); returns how many were delivered.
/// Each topic is its own queue: its messages go in order and its first failure holds back
/// the rest of that topic only (a citizen-notice gateway that is down does not hold back the
/// portal's sync). Sinks may block (files, SMTP, HTTP), so they run on the blocking pool.
pub async fn deliver_pending(
    services: &Services,
    sink: Arc<dyn Sink>,
    limit: i64,
) -> Result<usize, motcua_store::StoreError> {
    // Each topic's oldest rows (up to `limit` each): a topic held back by a failing
    // counterpart never fills the window of the others.
    let mut queues: Vec<TopicQueue> = Vec::new();
    for topic in outbox::pending_topics(services.db()).await? {
        let rows = outbox::pending_of(services.db(), &topic, limit).await?;
        let ids = rows.iter().map(|r| r.0).collect();
        let messages = rows.into_iter().map(|(_, t, p, _)| (t, p)).collect();
        queues.push((topic, ids, messages));
    }
    if queues.is_empty() {
        return Ok(0);
    }
    let batches: Vec<Vec<(String, String)>> = queues.iter().map(|q| q.2.clone()).collect();
    let outcomes =
        tokio::task::spawn_blocking(move || batches.iter().map(|b| sink.deliver_all(b)).collect::<Vec<_>>())
            .await
            .unwrap_or_else(|e| vec![(0, Some(format!("sink failed: {e}"))); queues.len()]);
    // One write transaction for the whole pass: the delivered rows, then each topic's failed
    // one. Short, so it joins the requests' group commit rather than ending their group.
    let now = services.now();
    let mut tx = services.db().begin_grouped().await?;
    let mut total = 0;
    for ((topic, ids, _), (delivered, failure)) in queues.iter().zip(&outcomes) {
        outbox::delivered(&mut tx, &ids[..*delivered], now).await?;
        total += delivered;
        if let Some(e) = failure
            && let Some(&id) = ids.get(*delivered)
        {
            outbox::attempt(&mut tx, id, Some(e), now).await?;
            // Keep order: the rest of this topic waits for the failed one to go through.
            tracing::warn!(id, topic, error = %e, "outbox delivery failed; will retry");
        }
    }
    tx.commit().await?;
    Ok(total)
}

/// Outbox ids looked at per trimming transaction: short, so requests keep the writer.
const TRIM_CHUNK: i64 = 1000;

/// One trimming pass (docs/operations.md): clears the payloads of messages delivered more
/// than `keep` before now, a chunk per short transaction with a pause between, until it
/// reaches a row not old enough. Returns how many were cleared.
pub async fn trim_delivered(
    services: &Services,
    keep: chrono::Duration,
) -> Result<u64, motcua_store::StoreError> {
    let cutoff = services.now() - keep;
    let mut cleared = 0;
    while let Some(n) = outbox::trim(services.db(), cutoff, TRIM_CHUNK).await? {
        cleared += n;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(cleared)
}

/// Trims delivered payloads kept longer than `keep_days` (0: never): a pass at start, then
/// every hour.
pub fn spawn_trimmer(services: Services, keep_days: u32) -> Option<tokio::task::JoinHandle<()>> {
    if keep_days == 0 {
        return None;
    }
    let keep = chrono::Duration::days(i64::from(keep_days));
    Some(tokio::spawn(async move {
        loop {
            match trim_delivered(&services, keep).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    cleared = n,
                    keep_days,
                    "outbox: payloads of old deliveries cleared"
                ),
                Err(e) => tracing::warn!(error = %e, "outbox trimming error; trying again in an hour"),
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }))
}

/// Rows delivered per batch (one sink call, one write transaction).
const BATCH: i64 = 500;

/// Runs delivery every second until the process stops (at once again after a full batch, so
/// a backlog drains); backs off to 30 s on failures.
pub fn spawn_worker(services: Services, sink: Arc<dyn Sink>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        loop {
            match deliver_pending(&services, sink.clone(), BATCH).await {
                Ok(n) if n as i64 >= BATCH => continue,
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
