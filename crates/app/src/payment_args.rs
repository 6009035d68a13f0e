//! The flags of the national payment platform (docs/integration.md, "National payment
//! platform"). Without `--payment-url` the built-in sandbox stays, labelled on every page.

use clap::Args;
use motcua_service::payments::gateway::Gateway;
use motcua_service::payments::{PaymentProvider, Sandbox};
use std::sync::Arc;

#[derive(Debug, Clone, Args)]
pub struct PaymentArgs {
    /// The national payment platform's checkout: http(s)://HOST/PATH, where citizens are sent
    /// with a signed request (docs/integration.md). Without it, fees are paid in the built-in
    /// sandbox (no real money; the pages say so).
    #[arg(long, env = "MOTCUA_PAYMENT_URL", global = true)]
    pub payment_url: Option<String>,

    /// This system's merchant code at the payment platform.
    #[arg(long, env = "MOTCUA_PAYMENT_MERCHANT", default_value = "", global = true)]
    pub payment_merchant: String,

    /// The secret shared with the payment platform (HMAC-SHA256 of requests and callbacks;
    /// at least 16 characters).
    #[arg(
        long,
        env = "MOTCUA_PAYMENT_SECRET",
        default_value = "",
        global = true,
        hide_env_values = true
    )]
    pub payment_secret: String,

    /// Minutes a citizen has to pay at the platform once sent there (the order's expiry).
    #[arg(long, env = "MOTCUA_PAYMENT_EXPIRY_MINUTES", default_value_t = 15, global = true,
          value_parser = clap::value_parser!(u32).range(1..=10080))]
    pub payment_expiry_minutes: u32,

    /// Hours after an order's expiry that the platform's notification of a payment made in
    /// time is still taken (its retries); later ones are refused as late.
    #[arg(long, env = "MOTCUA_PAYMENT_LATE_HOURS", default_value_t = 24, global = true,
          value_parser = clap::value_parser!(u32).range(0..=720))]
    pub payment_late_hours: u32,
}

impl PaymentArgs {
    /// The payment provider configured: the platform's gateway, or the sandbox. `public_url`
    /// is where the platform sends citizens and notifications back. Err: what to fix, as the
    /// flags are named (a configuration error).
    pub fn provider(&self, public_url: &str) -> Result<Arc<dyn PaymentProvider>, String> {
        let Some(url) = &self.payment_url else {
            if !self.payment_merchant.is_empty() || !self.payment_secret.is_empty() {
                return Err(
                    "--payment-merchant and --payment-secret need --payment-url (the platform's checkout)"
                        .into(),
                );
            }
            return Ok(Arc::new(Sandbox));
        };
        let gateway = Gateway::new(
            url,
            &self.payment_merchant,
            &self.payment_secret,
            public_url,
            chrono::Duration::minutes(i64::from(self.payment_expiry_minutes)),
            chrono::Duration::hours(i64::from(self.payment_late_hours)),
        )?;
        Ok(Arc::new(gateway))
    }
}
