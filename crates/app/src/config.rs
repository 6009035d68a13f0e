//! Configuration: flags with `MOTCUA_*` environment fallbacks, validated once at start with
//! errors a person can act on.

use clap::{Args, ValueEnum};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// An error in configuration or input: printed as one line, exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Options shared by every command that touches the database or serves.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Database URL: sqlite://PATH (embedded, the default) or postgres://USER@HOST/DB.
    /// Default: sqlite://DATA_DIR/motcua.db
    #[arg(long, env = "MOTCUA_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Directory for the embedded database and uploaded files.
    #[arg(long, env = "MOTCUA_DATA_DIR", default_value = "./motcua-data", global = true)]
    pub data_dir: PathBuf,

    /// Address to serve HTTP on.
    #[arg(long, env = "MOTCUA_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: String,

    /// Log format on stderr.
    #[arg(
        long,
        env = "MOTCUA_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// Public base URL of this service (printed in the QR codes of forms), e.g.
    /// https://motcua.example.gov.vn. Default: http://LISTEN.
    #[arg(long, env = "MOTCUA_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// SMTP relay for e-mail notices (one-time codes, dossier news): smtp://HOST[:PORT].
    /// Without it, notices go only to DATA_DIR/outbox/*.jsonl.
    #[arg(long, env = "MOTCUA_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// HTTP SMS gateway for notices to phones (one-time codes, dossier news):
    /// http(s)://HOST/PATH, POSTed JSON {"id","to","from","text"} (docs/integration.md).
    /// Without it, messages for phones go only to DATA_DIR/outbox/*.jsonl.
    #[arg(long, env = "MOTCUA_SMS_URL", global = true)]
    pub sms_url: Option<String>,

    /// Bearer token of the SMS gateway.
    #[arg(
        long,
        env = "MOTCUA_SMS_TOKEN",
        default_value = "",
        global = true,
        hide_env_values = true
    )]
    pub sms_token: String,

    /// Sender name of SMS (brandname registered with the carriers, at most 11 characters).
    #[arg(long, env = "MOTCUA_SMS_SENDER", default_value = "MOTCUA", global = true)]
    pub sms_sender: String,

    /// Send SMS without Vietnamese diacritics (gateways that take only ASCII).
    #[arg(long, env = "MOTCUA_SMS_ASCII", global = true)]
    pub sms_ascii: bool,

    /// Sender of e-mail notices.
    #[arg(
        long,
        env = "MOTCUA_SMTP_FROM",
        default_value = "Một cửa điện tử <noreply@localhost>",
        global = true
    )]
    pub smtp_from: String,

    /// Reverse proxies (IP addresses, comma-separated) whose X-Forwarded-For names the client:
    /// throttles then count the client, not the proxy. From anyone else the header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "MOTCUA_TRUSTED_PROXY",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Seconds a client has to send a request's headers; also how long an idle keep-alive
    /// connection is kept.
    #[arg(long, env = "MOTCUA_HEADER_TIMEOUT_SECONDS", default_value_t = 15, global = true,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_seconds: u64,

    /// Seconds a request may take, its body included (a slow upload); then it is stopped (408).
    #[arg(long, env = "MOTCUA_REQUEST_TIMEOUT_SECONDS", default_value_t = 120, global = true,
          value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub request_timeout_seconds: u64,

    /// Seconds a database statement of the server may run before it is stopped with an error
    /// (0: no limit): on SQLite every read, on PostgreSQL every statement. A read whose
    /// request went away is stopped at once. Commands (import, report, migrate) are not bounded.
    #[arg(long, env = "MOTCUA_STATEMENT_TIMEOUT_SECONDS", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(u64).range(0..=86400))]
    pub statement_timeout_seconds: u64,

    /// Open connections in all; more are closed as they arrive.
    #[arg(long, env = "MOTCUA_MAX_CONNECTIONS", default_value_t = 2048, global = true,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// Open connections of one client address (trusted proxies are not capped).
    #[arg(long, env = "MOTCUA_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 256, global = true,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections_per_client: u64,

    /// Seconds requests in flight get to finish after SIGTERM or Ctrl-C; then the process
    /// exits anyway.
    #[arg(long, env = "MOTCUA_SHUTDOWN_GRACE_SECONDS", default_value_t = 10, global = true,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_grace_seconds: u64,

    /// Mark session cookies Secure; set this when serving behind HTTPS.
    #[arg(long, env = "MOTCUA_SECURE_COOKIES", global = true)]
    pub secure_cookies: bool,

    /// Log filter (tracing env-filter syntax), e.g. `info` or `debug,sqlx=warn`.
    #[arg(long, env = "MOTCUA_LOG", default_value = "info,sqlx=warn", global = true)]
    pub log: String,

    /// Public lookups allowed per client address per minute (raise it behind a trusted
    /// gateway, or for load tests).
    #[arg(long, env = "MOTCUA_LOOKUPS_PER_MINUTE", default_value_t = 60, global = true)]
    pub lookups_per_minute: u32,

    /// Seconds a public lookup's answer is kept in memory (0: never). A change made through
    /// this server shows at once; one made by another process (another server on the same
    /// PostgreSQL, a CLI import) shows within this many seconds.
    #[arg(long, env = "MOTCUA_LOOKUP_CACHE_SECONDS", default_value_t = 5, global = true)]
    pub lookup_cache_seconds: u32,

    /// Days a delivered outbox message keeps its content (0: for ever). After that its payload
    /// is cleared; the row (topic, dossier, when queued and delivered) stays.
    #[arg(long, env = "MOTCUA_OUTBOX_KEEP_DAYS", default_value_t = 90, global = true,
          value_parser = clap::value_parser!(u32).range(0..=36500))]
    pub outbox_keep_days: u32,

    /// Hours an uploaded file no dossier refers to is kept before the hourly upkeep moves it
    /// aside (removed for good after as long again); 0: never swept.
    #[arg(long, env = "MOTCUA_ORPHAN_GRACE_HOURS", default_value_t = 24, global = true,
          value_parser = clap::value_parser!(u32).range(0..=8760))]
    pub orphan_grace_hours: u32,

    #[command(flatten)]
    pub payment: crate::payment_args::PaymentArgs,

    /// The national portal's pushes of dossiers (docs/integration.md).
    #[command(flatten)]
    pub dvcqg_inbound: crate::dvcqg_inbound_args::DvcqgInboundArgs,

    /// The national portal (DVCQG) outbound, and the outbox's retries.
    #[command(flatten)]
    pub dvcqg: crate::dvcqg_args::DvcqgArgs,

    /// National-identity sign-in (VNeID over OpenID Connect).
    #[command(flatten)]
    pub oidc: crate::oidc_args::OidcArgs,
}

impl Common {
    /// The database URL to use: the flag/env, or the embedded file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("motcua.db").display()),
        }
    }

    /// The public base URL, validated: http(s)://host[:port][/path], no trailing slash.
    pub fn public_url(&self) -> anyhow::Result<String> {
        let url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        match rest {
            Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace) => {
                Ok(url.trim_end_matches('/').to_string())
            }
            _ => Err(usage(format!(
                "invalid --public-url {url:?}: expected http(s)://HOST[:PORT][/PATH]"
            ))),
        }
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().map_err(|_| {
            usage(format!(
                "invalid --listen {:?}: expected ADDR:PORT such as 127.0.0.1:8080",
                self.listen
            ))
        })
    }

    /// The server's statement bound (`--statement-timeout-seconds`), None for no limit.
    pub fn statement_timeout(&self) -> Option<std::time::Duration> {
        (self.statement_timeout_seconds > 0)
            .then(|| std::time::Duration::from_secs(self.statement_timeout_seconds))
    }

    /// Validates the database URL's scheme without connecting.
    pub fn check_database_url(&self) -> anyhow::Result<String> {
        let url = self.database_url();
        motcua_store::Backend::of_url(&url).map_err(|e| usage(e.to_string()))?;
        Ok(url)
    }

    /// Creates the data directory if needed and proves it is writable.
    pub fn ensure_data_dir(&self) -> anyhow::Result<&Path> {
        let dir = self.data_dir.as_path();
        std::fs::create_dir_all(dir)
            .map_err(|e| usage(format!("data directory {} cannot be created: {e}", dir.display())))?;
        let probe = dir.join(".write-probe");
        std::fs::write(&probe, b"ok")
            .map_err(|e| usage(format!("data directory {} is not writable: {e}", dir.display())))?;
        let _ = std::fs::remove_file(probe);
        Ok(dir)
    }
}
