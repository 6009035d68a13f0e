//! Prometheus metrics for HTTP requests (count and latency by route and status) and the
//! database pools. Per-process registry, rendered in the text exposition format.

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// By route, then (method, status). The route is the matched pattern, never the raw path, so
/// cardinality stays bounded. Keyed so that counting a request of a known series allocates
/// nothing.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<String, Vec<MethodStatus>>>,
}

/// A route's series: method, status and figures.
type MethodStatus = (String, u16, Series);

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self.series.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(route) {
            map.insert(route.to_string(), Vec::new());
        }
        let of_route = map.get_mut(route).expect("just inserted");
        let i = match of_route
            .iter()
            .position(|(m, st, _)| m == method && *st == status)
        {
            Some(i) => i,
            None => {
                of_route.push((method.to_string(), status, Series::default()));
                of_route.len() - 1
            }
        };
        let s = &mut of_route[i].2;
        s.count += 1;
        s.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    /// The text exposition of every series plus the given pool figures and, on SQLite, the
    /// group commit figures (`Db::group_stats`: groups, transactions in them).
    pub fn render(&self, pools: &[(&str, motcua_store::PoolStats)], groups: Option<(u64, u64)>) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP motcua_http_requests_total HTTP requests served, by method, route and status.\n",
        );
        out.push_str("# TYPE motcua_http_requests_total counter\n");
        let map = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<(&str, &str, u16, &Series)> = map
            .iter()
            .flat_map(|(r, v)| v.iter().map(move |(m, st, s)| (m.as_str(), r.as_str(), *st, s)))
            .collect();
        all.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        for &(m, r, st, s) in &all {
            let _ = writeln!(
                out,
                "motcua_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{st}\"}} {}",
                esc(r),
                s.count
            );
        }
        out.push_str("# HELP motcua_http_request_duration_seconds Time to produce the response head.\n");
        out.push_str("# TYPE motcua_http_request_duration_seconds histogram\n");
        for &(m, r, st, s) in &all {
            let labels = format!("method=\"{m}\",route=\"{}\",status=\"{st}\"", esc(r));
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "motcua_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "motcua_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "motcua_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "motcua_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        drop(map);
        out.push_str("# HELP motcua_db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE motcua_db_pool_connections gauge\n");
        for (pool, st) in pools {
            let busy = st.size.saturating_sub(st.idle);
            let _ = writeln!(
                out,
                "motcua_db_pool_connections{{pool=\"{pool}\",state=\"idle\"}} {}",
                st.idle
            );
            let _ = writeln!(
                out,
                "motcua_db_pool_connections{{pool=\"{pool}\",state=\"busy\"}} {busy}"
            );
            let _ = writeln!(
                out,
                "motcua_db_pool_connections{{pool=\"{pool}\",state=\"max\"}} {}",
                st.max
            );
        }
        if let Some((groups, members)) = groups {
            out.push_str("# HELP motcua_db_write_groups_total SQLite transactions committed together (group commit).\n");
            out.push_str("# TYPE motcua_db_write_groups_total counter\n");
            let _ = writeln!(out, "motcua_db_write_groups_total {groups}");
            out.push_str(
                "# HELP motcua_db_grouped_transactions_total Request transactions that joined a group.\n",
            );
            out.push_str("# TYPE motcua_db_grouped_transactions_total counter\n");
            let _ = writeln!(out, "motcua_db_grouped_transactions_total {members}");
        }
        out
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Middleware recording every request: counts it and logs its response, at `info` server
/// errors and answers slower than 500 ms, at `debug` every other (inside the request's span,
/// which carries its id).
pub async fn track(State(state): State<crate::AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let res = next.run(req).await;
    let latency = start.elapsed();
    let status = res.status();
    state.metrics.observe(
        method.as_str(),
        route.as_ref().map_or("unmatched", |r| r.as_str()),
        status.as_u16(),
        latency.as_secs_f64(),
    );
    let (code, latency_ms, path) = (status.as_u16(), latency.as_secs_f64() * 1000.0, uri.path());
    if logged_at_info(status, latency) {
        tracing::info!(status = code, latency_ms, method = %method, path, "response");
    } else {
        tracing::debug!(status = code, latency_ms, method = %method, path, "response");
    }
    res
}

/// Server errors and slow answers are logged at `info`; every other response at `debug`
/// (`--log debug`): a line per request written to stderr cost about a tenth of a lookup's CPU.
fn logged_at_info(status: StatusCode, latency: Duration) -> bool {
    status.is_server_error() || latency >= SLOW_RESPONSE
}

/// A response this slow is logged at `info` whatever its status.
const SLOW_RESPONSE: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe("GET", "/healthz", 200, 0.003);
        m.observe("GET", "/healthz", 200, 0.2);
        let text = m.render(&[], None);
        assert!(
            text.contains("motcua_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2")
        );
        assert!(text.contains("le=\"0.0025\"} 0"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.25\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}

#[cfg(test)]
mod logging_tests {
    use super::*;

    #[test]
    fn only_server_errors_and_slow_answers_are_logged_at_info() {
        let fast = Duration::from_millis(3);
        assert!(!logged_at_info(StatusCode::OK, fast));
        assert!(!logged_at_info(StatusCode::NOT_FOUND, fast));
        assert!(logged_at_info(StatusCode::INTERNAL_SERVER_ERROR, fast));
        assert!(logged_at_info(StatusCode::SERVICE_UNAVAILABLE, fast));
        assert!(logged_at_info(StatusCode::OK, SLOW_RESPONSE));
    }
}
