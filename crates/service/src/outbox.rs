//! Delivery of outbox rows (national-portal sync, citizen notifications): at least once, in
//! order per dossier, retried with exponential backoff and jitter by a background worker,
//! put aside (dead) after too many failures until an operator sends them again. Sinks are
//! ports: the built-in one appends JSON lines to files under `DATA_DIR/outbox/`
//! (development, audits, a relay); with `--smtp-url`, messages for an e-mail address also go
//! out by SMTP; with `--sms-url`, those for a phone go to an HTTP SMS gateway; with
//! `--dvcqg-url`, the portal's records are posted to it (`crate::dvcqg`).

use crate::auth::CurrentUser;
use crate::{ServiceResult, Services};
use motcua_store::repo::outbox;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A message handed to a sink in a pass of the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: String,
    /// The dossier it reports on: a dossier's messages go in order, so one that fails holds
    /// back that dossier's later ones (None: a message on its own, e.g. a one-time code).
    pub dossier_id: Option<i64>,
}

/// What became of a message in a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Failed(Failure),
    /// Not tried in this pass (a failure before it held it back): no attempt counted.
    NotTried,
}

/// A failed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: String,
    /// The counterpart refused the message for good (it would refuse it again): the message
    /// goes to the dead letter at once instead of being tried again.
    pub permanent: bool,
}

impl Failure {
    /// A failure worth another try (the counterpart down, busy or silent).
    pub fn transient(error: impl Into<String>) -> Self {
        Failure {
            error: error.into(),
            permanent: false,
        }
    }
}

/// Where a topic's messages go.
pub trait Sink: Send + Sync {
    fn deliver(&self, topic: &str, payload: &str) -> Result<(), String>;

    /// Delivers a topic's messages of a pass, oldest first, keeping each dossier's in order:
    /// an outcome per message. This default goes through `deliver_all` and stops at the first
    /// failure (the rest are not tried this pass); a sink that can go on with the other
    /// dossiers after one fails (the portal's) overrides it.
    fn deliver_each(&self, messages: &[Message]) -> Vec<Outcome> {
        let pairs: Vec<(String, String)> = messages
            .iter()
            .map(|m| (m.topic.clone(), m.payload.clone()))
            .collect();
        let (delivered, failure) = self.deliver_all(&pairs);
        let delivered = delivered.min(messages.len());
        let mut outcomes = vec![Outcome::Delivered; delivered];
        if let Some(e) = failure
            && delivered < messages.len()
        {
            outcomes.push(Outcome::Failed(Failure::transient(e)));
        }
        outcomes.resize(messages.len(), Outcome::NotTried);
        outcomes
    }

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

/// When a failed message is tried again, and when it is given up (docs/integration.md,
/// "Delivery through the outbox"): after its n-th failure a message waits a random time
/// between 0 and `base`·2^(n−1), at most `cap` ("full jitter": retries of many messages
/// spread out instead of arriving together when the counterpart comes back); after
/// `max_attempts` failures it is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    /// Failures after which a message is dead (None: never).
    pub max_attempts: Option<u32>,
}

impl Default for RetryPolicy {
    /// The server's defaults (`--outbox-retry-base-ms`, `--outbox-retry-max-seconds`,
    /// `--outbox-max-attempts`): 10 s doubling up to an hour, 16 attempts — about 7 hours of
    /// trying at most (3.7 on average) before a message is dead.
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(3600),
            max_attempts: Some(16),
        }
    }
}

impl RetryPolicy {
    /// Tried again at every pass and never given up: the behaviour of `deliver_pending`.
    pub const EVERY_PASS: RetryPolicy = RetryPolicy {
        base: Duration::ZERO,
        cap: Duration::ZERO,
        max_attempts: None,
    };

    /// The longest wait after the `failures`-th failure: `base`·2^(failures−1), at most `cap`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(63);
        let factor = 1u64 << doublings;
        let base = u64::try_from(self.base.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(base.saturating_mul(factor)).min(self.cap)
    }

    /// The wait after the `failures`-th failure for a draw `unit` in [0, 1): that fraction
    /// of the ceiling.
    pub fn delay(&self, failures: u32, unit: f64) -> Duration {
        self.ceiling(failures).mul_f64(unit.clamp(0.0, 1.0))
    }

    /// Whether a message that has failed `failures` times is given up.
    pub fn gives_up_after(&self, failures: u32) -> bool {
        self.max_attempts.is_some_and(|max| failures >= max)
    }
}

/// Delivers what is due (up to `limit` per topic, oldest first), retrying failures at the
/// next pass and never giving up (`RetryPolicy::EVERY_PASS`); returns how many were
/// delivered. The server's worker uses `deliver_pending_with` and its policy.
pub async fn deliver_pending(
    services: &Services,
    sink: Arc<dyn Sink>,
    limit: i64,
) -> Result<usize, motcua_store::StoreError> {
    deliver_pending_with(services, sink, limit, &RetryPolicy::EVERY_PASS).await
}

/// Delivers what is due (up to `limit` per topic, oldest first); returns how many were
/// delivered. Each topic is its own queue, and within a topic each dossier: a dossier's
/// messages go in order, and one that fails holds back only that dossier's later messages
/// (`outbox::DUE`), which wait until it goes through. A failure is tried again after the
/// policy's backoff, or is dead at once when the counterpart refused it for good, or after
/// the policy's last attempt. Sinks may block (files, SMTP, HTTP), so they run on the
/// blocking pool.
pub async fn deliver_pending_with(
    services: &Services,
    sink: Arc<dyn Sink>,
    limit: i64,
    policy: &RetryPolicy,
) -> Result<usize, motcua_store::StoreError> {
    let now = services.now();
    let mut queues: Vec<Vec<outbox::Due>> = Vec::new();
    for topic in outbox::pending_topics(services.db()).await? {
        let rows = outbox::due_of(services.db(), &topic, now, limit).await?;
        if !rows.is_empty() {
            queues.push(rows);
        }
    }
    if queues.is_empty() {
        return Ok(0);
    }
    let batches: Vec<Vec<Message>> = queues
        .iter()
        .map(|q| {
            q.iter()
                .map(|r| Message {
                    topic: r.topic.clone(),
                    payload: r.payload.clone(),
                    dossier_id: r.dossier_id,
                })
                .collect()
        })
        .collect();
    let outcomes =
        tokio::task::spawn_blocking(move || batches.iter().map(|b| sink.deliver_each(b)).collect::<Vec<_>>())
            .await
            .unwrap_or_else(|e| {
                let failed = Outcome::Failed(Failure::transient(format!("sink failed: {e}")));
                queues
                    .iter()
                    .map(|q| {
                        let mut v = vec![failed.clone()];
                        v.resize(q.len(), Outcome::NotTried);
                        v
                    })
                    .collect()
            });
    // One write transaction for the whole pass: the delivered rows, then the failed ones.
    // Short, so it joins the requests' group commit rather than ending their group.
    let now = services.now();
    let mut tx = services.db().begin_grouped().await?;
    let mut total = 0;
    for (rows, outcomes) in queues.iter().zip(&outcomes) {
        let delivered: Vec<i64> = rows
            .iter()
            .zip(outcomes)
            .filter(|(_, o)| **o == Outcome::Delivered)
            .map(|(r, _)| r.id)
            .collect();
        outbox::delivered(&mut tx, &delivered, now).await?;
        total += delivered.len();
        for (row, outcome) in rows.iter().zip(outcomes) {
            let Outcome::Failed(f) = outcome else { continue };
            let failures = u32::try_from(row.attempts.saturating_add(1)).unwrap_or(u32::MAX);
            let (id, topic, error) = (row.id, row.topic.as_str(), f.error.as_str());
            if f.permanent || policy.gives_up_after(failures) {
                outbox::failed(&mut tx, row.id, &f.error, None, Some(now)).await?;
                tracing::error!(
                    id,
                    topic,
                    failures,
                    permanent = f.permanent,
                    error,
                    "outbox message given up (dead letter): `motcua outbox retry` sends it again"
                );
            } else {
                let wait = policy.delay(failures, rand::random::<f64>());
                let next = chrono::Duration::from_std(wait)
                    .ok()
                    .and_then(|w| now.checked_add_signed(w))
                    .unwrap_or(now);
                outbox::failed(&mut tx, row.id, &f.error, Some(next), None).await?;
                // Keep order: the dossier's later messages wait for this one to go through.
                tracing::warn!(
                    id,
                    topic,
                    failures,
                    error,
                    retry_in_ms = wait.as_millis() as u64,
                    "outbox delivery failed; will retry"
                );
            }
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
/// a backlog drains), failed messages retried and given up by `policy`; backs off to 30 s
/// when the database fails.
pub fn spawn_worker(
    services: Services,
    sink: Arc<dyn Sink>,
    policy: RetryPolicy,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        loop {
            match deliver_pending_with(&services, sink.clone(), BATCH, &policy).await {
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

/// The topics motcua queues: the portal's copy of each dossier change, the citizens' notices
/// (and one-time codes).
pub const TOPICS: &[&str] = &["dvcqg_sync", "notify_citizen"];

/// A topic's messages still to deliver, by state, and its newest delivery (among the newest
/// `outbox::RECENT` messages: None when there is none there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicOverview {
    pub counts: outbox::TopicCounts,
    pub last_delivered: Option<chrono::DateTime<chrono::Utc>>,
}

/// The outbox as an operator sees it (`motcua outbox status`, the admin page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// Every known topic (and any other found), in name order.
    pub topics: Vec<TopicOverview>,
    /// The oldest messages waiting for a retry, at most the limit asked.
    pub retrying: Vec<outbox::Held>,
    /// The oldest dead messages, at most the limit asked.
    pub dead: Vec<outbox::Held>,
}

impl Overview {
    pub fn dead_total(&self) -> i64 {
        self.topics.iter().map(|t| t.counts.dead).sum()
    }

    pub fn retrying_total(&self) -> i64 {
        self.topics.iter().map(|t| t.counts.retrying).sum()
    }
}

/// The outbox's state, with at most `list_limit` messages in each list. Reads only what is
/// undelivered, and the newest `outbox::RECENT` messages for the newest deliveries.
pub async fn overview(services: &Services, list_limit: i64) -> ServiceResult<Overview> {
    let db = services.db();
    let mut counts = outbox::status(db).await?;
    for topic in TOPICS {
        if !counts.iter().any(|c| c.topic == *topic) {
            counts.push(outbox::TopicCounts {
                topic: topic.to_string(),
                pending: 0,
                retrying: 0,
                dead: 0,
                oldest_pending: None,
            });
        }
    }
    counts.sort_by(|a, b| a.topic.cmp(&b.topic));
    let recent = outbox::last_delivered(db).await?;
    let topics = counts
        .into_iter()
        .map(|c| TopicOverview {
            last_delivered: recent.iter().find(|(t, _)| *t == c.topic).map(|(_, at)| *at),
            counts: c,
        })
        .collect();
    Ok(Overview {
        topics,
        retrying: outbox::retrying(db, list_limit).await?,
        dead: outbox::dead(db, None, list_limit).await?,
    })
}

/// Dead messages (of a topic, or all), oldest first.
pub async fn dead(services: &Services, topic: Option<&str>, limit: i64) -> ServiceResult<Vec<outbox::Held>> {
    Ok(outbox::dead(services.db(), topic, limit).await?)
}

/// Puts messages back in the queue, due now with their attempts counted from 0 (all or
/// nothing: an unknown or delivered id changes nothing and is said).
pub async fn retry(services: &Services, ids: &[i64]) -> ServiceResult<outbox::Retried> {
    let r = outbox::retry(services.db(), ids).await?;
    if let outbox::Retried::Queued(n) = r {
        tracing::info!(?ids, queued = n, "outbox messages put back in the queue");
    }
    Ok(r)
}

/// Puts every dead message (of a topic, or all) back in the queue; returns how many.
pub async fn retry_dead(services: &Services, topic: Option<&str>) -> ServiceResult<u64> {
    let n = outbox::retry_dead(services.db(), topic).await?;
    tracing::info!(topic, queued = n, "dead outbox messages put back in the queue");
    Ok(n)
}

/// The same, for an administrator signed in (the admin page).
impl Services {
    pub async fn outbox_overview(&self, user: &CurrentUser, list_limit: i64) -> ServiceResult<Overview> {
        user.require_admin()?;
        overview(self, list_limit).await
    }

    pub async fn outbox_retry(&self, user: &CurrentUser, ids: &[i64]) -> ServiceResult<outbox::Retried> {
        user.require_admin()?;
        retry(self, ids).await
    }

    pub async fn outbox_retry_dead(&self, user: &CurrentUser, topic: Option<&str>) -> ServiceResult<u64> {
        user.require_admin()?;
        retry_dead(self, topic).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base: MS(1000),
            cap: Duration::from_secs(60),
            max_attempts: Some(5),
        }
    }

    #[test]
    fn the_ceiling_doubles_from_the_base_up_to_the_cap() {
        let p = policy();
        let ceilings: Vec<u64> = (1..=8).map(|n| p.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        // Before any failure (0) it is the base; far failures never overflow.
        assert_eq!(p.ceiling(0), MS(1000));
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(60));
        let huge = RetryPolicy {
            base: Duration::from_secs(u64::MAX / 1000),
            cap: Duration::MAX,
            max_attempts: None,
        };
        assert_eq!(huge.ceiling(40), Duration::from_millis(u64::MAX));
    }

    #[test]
    fn full_jitter_draws_between_zero_and_the_ceiling() {
        let p = policy();
        assert_eq!(p.delay(3, 0.0), Duration::ZERO);
        assert_eq!(p.delay(3, 0.5), MS(2000));
        assert!(p.delay(3, 0.999_999) <= p.ceiling(3));
        // A draw out of range is clamped, never past the ceiling nor below zero.
        assert_eq!(p.delay(3, 7.0), p.ceiling(3));
        assert_eq!(p.delay(3, -1.0), Duration::ZERO);
        for n in 1..20 {
            for _ in 0..50 {
                let d = p.delay(n, rand::random::<f64>());
                assert!(d <= p.ceiling(n) && d <= p.cap, "{n}: {d:?}");
            }
        }
    }

    #[test]
    fn a_message_is_given_up_after_the_last_attempt_only() {
        let p = policy();
        assert!(!p.gives_up_after(4));
        assert!(p.gives_up_after(5));
        assert!(p.gives_up_after(6));
        assert!(!RetryPolicy::EVERY_PASS.gives_up_after(u32::MAX));
        assert_eq!(RetryPolicy::EVERY_PASS.delay(9, 0.9), Duration::ZERO);
    }

    #[test]
    fn the_default_gives_up_after_hours_not_minutes() {
        let p = RetryPolicy::default();
        let max = p.max_attempts.unwrap();
        let worst: Duration = (1..max).map(|n| p.ceiling(n)).sum();
        assert!(
            worst > Duration::from_secs(6 * 3600) && worst < Duration::from_secs(8 * 3600),
            "{worst:?}"
        );
    }

    struct FailsAt(usize, std::sync::atomic::AtomicUsize);

    impl Sink for FailsAt {
        fn deliver(&self, _: &str, _: &str) -> Result<(), String> {
            match self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == self.0 {
                true => Err("down".into()),
                false => Ok(()),
            }
        }
    }

    #[test]
    fn the_default_pass_stops_at_the_first_failure() {
        let m = |d| Message {
            topic: "t".into(),
            payload: "{}".into(),
            dossier_id: Some(d),
        };
        let sink = FailsAt(1, Default::default());
        let out = sink.deliver_each(&[m(1), m(2), m(3)]);
        assert_eq!(
            out,
            vec![
                Outcome::Delivered,
                Outcome::Failed(Failure::transient("down")),
                Outcome::NotTried
            ]
        );
    }
}
