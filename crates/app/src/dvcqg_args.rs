//! The national portal's (DVCQG) outbound settings and the outbox's retry policy: flags with
//! `MOTCUA_*` fallbacks, flattened into `Common` (so it must not import `config`). Builds
//! the portal's sink and the policy; never connects at start (an unreachable portal is the
//! worker's to retry).

use clap::Args;
use motcua_service::dvcqg::DvcqgSink;
use motcua_service::outbox::{RetryPolicy, Sink};
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct DvcqgArgs {
    /// The national public service portal's (DVCQG) endpoint for dossier records:
    /// http://HOST[:PORT]/PATH, POSTed each `dvcqg_sync` record as JSON with an
    /// Idempotency-Key (docs/integration.md). Without it, the records go only to
    /// DATA_DIR/outbox/dvcqg_sync.jsonl.
    #[arg(long, env = "MOTCUA_DVCQG_URL", global = true)]
    pub dvcqg_url: Option<String>,

    /// Bearer token motcua presents to the portal.
    #[arg(
        long,
        env = "MOTCUA_DVCQG_TOKEN",
        default_value = "",
        global = true,
        hide_env_values = true
    )]
    pub dvcqg_token: String,

    /// Seconds the portal has to answer a record; then it counts as not delivered and is
    /// tried again (the portal drops the repeat by its Idempotency-Key).
    #[arg(long, env = "MOTCUA_DVCQG_TIMEOUT_SECONDS", default_value_t = 10, global = true,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub dvcqg_timeout_seconds: u64,

    /// Failed attempts after which an outbox message (any topic) is dead: no longer tried
    /// until `motcua outbox retry` or the admin page sends it again.
    #[arg(long, env = "MOTCUA_OUTBOX_MAX_ATTEMPTS", default_value_t = 16, global = true,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub outbox_max_attempts: u32,

    /// Milliseconds the first retry of a failed outbox message waits at most; each further
    /// one up to twice as long as the one before (a random wait below that: full jitter).
    #[arg(long, env = "MOTCUA_OUTBOX_RETRY_BASE_MS", default_value_t = 10_000, global = true,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub outbox_retry_base_ms: u64,

    /// Seconds a retry of a failed outbox message waits at most, however many failures.
    #[arg(long, env = "MOTCUA_OUTBOX_RETRY_MAX_SECONDS", default_value_t = 3600, global = true,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub outbox_retry_max_seconds: u64,
}

impl DvcqgArgs {
    /// The outbox worker's retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(self.outbox_retry_base_ms),
            cap: Duration::from_secs(self.outbox_retry_max_seconds),
            max_attempts: Some(self.outbox_max_attempts),
        }
    }

    /// `next` behind the portal's sink when `--dvcqg-url` is set (the outermost of the
    /// chain: it keeps each dossier's records in order and reads the portal's refusals).
    /// The error is a configuration error's one line.
    pub fn wrap(&self, next: Box<dyn Sink>) -> Result<Box<dyn Sink>, String> {
        let Some(url) = &self.dvcqg_url else {
            return Ok(next);
        };
        let timeout = Duration::from_secs(self.dvcqg_timeout_seconds);
        let sink = DvcqgSink::new(url, &self.dvcqg_token, timeout, next)?;
        tracing::info!(url = %url, "national portal (DVCQG): dossier records are posted to it");
        Ok(Box::new(sink))
    }
}
