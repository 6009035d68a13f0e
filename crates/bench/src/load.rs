//! The load generator: N concurrent tokio tasks run one operation in a loop for a fixed time,
//! recording each operation's latency and every failure (a non-2xx answer is a failure).

use serde_json::{Value, json};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Keep this many failure messages to print.
const KEEP_ERRORS: usize = 5;

/// What a phase measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub count: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latencies of successful operations, sorted, in microseconds.
    pub latencies_us: Vec<u64>,
    pub first_errors: Vec<String>,
}

impl Stats {
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { self.count as f64 / secs } else { 0.0 }
    }

    /// The q-quantile latency in milliseconds (nearest rank).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = ((q * self.latencies_us.len() as f64).ceil() as usize).clamp(1, self.latencies_us.len());
        self.latencies_us[rank - 1] as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0
    }

    pub fn to_json(&self) -> Value {
        json!({
            "count": self.count,
            "errors": self.errors,
            "seconds": self.elapsed.as_secs_f64(),
            "rate_per_s": self.rate(),
            "p50_ms": self.quantile_ms(0.50),
            "p99_ms": self.quantile_ms(0.99),
            "max_ms": self.max_ms(),
            "first_errors": self.first_errors,
        })
    }

    /// Stats of operations timed one after another (no concurrency).
    pub fn from_samples(
        mut latencies_us: Vec<u64>,
        errors: u64,
        first_errors: Vec<String>,
        elapsed: Duration,
    ) -> Self {
        latencies_us.sort_unstable();
        Stats {
            count: latencies_us.len() as u64,
            errors,
            elapsed,
            latencies_us,
            first_errors,
        }
    }
}

/// Runs `op(task, iteration)` from `clients` tasks until `duration` has passed; operations
/// started before the deadline finish and count.
pub async fn run<F, Fut>(clients: usize, duration: Duration, op: F) -> Stats
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let op = Arc::new(op);
    let errors: Arc<Mutex<(u64, Vec<String>)>> = Arc::default();
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(clients);
    for task in 0..clients {
        let op = op.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(4096);
            let mut i = 0u64;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                match op(task, i).await {
                    Ok(()) => latencies.push(t0.elapsed().as_micros() as u64),
                    Err(e) => {
                        let mut g = errors.lock().unwrap_or_else(|p| p.into_inner());
                        g.0 += 1;
                        if g.1.len() < KEEP_ERRORS {
                            g.1.push(e);
                        }
                    }
                }
                i += 1;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(mut l) = t.await {
            all.append(&mut l);
        }
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let (errors, first_errors) = std::mem::take(&mut *errors.lock().unwrap_or_else(|p| p.into_inner()));
    Stats {
        count: all.len() as u64,
        errors,
        elapsed,
        latencies_us: all,
        first_errors,
    }
}

/// Sends a request; Ok(JSON body) on 2xx, Err("STATUS what: body") otherwise.
pub async fn send(req: reqwest::RequestBuilder, what: &str) -> Result<Value, String> {
    let res = req.send().await.map_err(|e| format!("{what}: {e}"))?;
    let status = res.status();
    let body = res.bytes().await.map_err(|e| format!("{what}: {e}"))?;
    answer(status.as_u16(), &body, what)
}

/// An answer's JSON body on 2xx, Err("STATUS what: body") otherwise.
pub fn answer(status: u16, body: &[u8], what: &str) -> Result<Value, String> {
    if !(200..300).contains(&status) {
        let text = String::from_utf8_lossy(body);
        return Err(format!(
            "{status} {what}: {}",
            text.chars().take(300).collect::<String>()
        ));
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| format!("{what}: not JSON: {e}"))
}
