//! Flags of the national portal's inbound side (`motcua_service::dvcqg_inbound`): the token
//! its pushes carry, and how the documents of a pushed dossier are fetched.

use clap::Args;
use motcua_service::dvcqg_inbound::Inbound;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct DvcqgInboundArgs {
    /// Bearer token the national portal (through the province's LGSP) sends with the
    /// dossiers it pushes to POST /api/v1/dvcqg/dossiers: at least 16 printable ASCII
    /// characters. Without it that endpoint answers 404.
    #[arg(
        long,
        env = "MOTCUA_DVCQG_INBOUND_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub dvcqg_inbound_token: Option<String>,

    /// Seconds one fetch of a pushed dossier's document may take.
    #[arg(long, env = "MOTCUA_DVCQG_FETCH_TIMEOUT_SECONDS", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub dvcqg_fetch_timeout_seconds: u64,

    /// Tries of one document's fetch within one push (a fetch failing on the way is tried
    /// again; then the portal is told to push again later).
    #[arg(long, env = "MOTCUA_DVCQG_FETCH_ATTEMPTS", default_value_t = 3, global = true,
          value_parser = clap::value_parser!(u32).range(1..=10))]
    pub dvcqg_fetch_attempts: u32,
}

impl DvcqgInboundArgs {
    /// The inbound side, if a token is set; the fetches of one push kept within three
    /// quarters of the server's request bound (`request_timeout`), the rest for the write.
    /// A bad value: the one line to say (a usage error).
    pub fn inbound(&self, request_timeout: Duration) -> Result<Option<Inbound>, String> {
        let Some(token) = &self.dvcqg_inbound_token else {
            return Ok(None);
        };
        let budget = (request_timeout * 3 / 4).max(Duration::from_secs(1));
        Inbound::new(
            token,
            Duration::from_secs(self.dvcqg_fetch_timeout_seconds),
            self.dvcqg_fetch_attempts,
            budget,
        )
        .map(Some)
        .map_err(|e| format!("--dvcqg-inbound-token: {e}"))
    }
}
