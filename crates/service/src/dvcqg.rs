//! The national public service portal's outbound sink (Cổng Dịch vụ công quốc gia, DVCQG):
//! posts each `dvcqg_sync` record to the portal over HTTP, then hands it on to the next sink
//! (the file log). Owns the request's shape and the reading of the answer; when to retry and
//! when to give up is the outbox worker's (`crate::outbox`).

use crate::outbox::{Failure, Message, Outcome, Sink};
use std::time::Duration;

/// The outbox topic whose records go to the portal.
pub const TOPIC: &str = "dvcqg_sync";

/// Transient failures in a row after which a pass stops trying the portal: it is down or
/// silent, and the next pass (or the backoff) tries again.
const FAILURES_PER_PASS: usize = 3;

/// Posts `dvcqg_sync` records to the portal (docs/integration.md, "National portal
/// (DVCQG), outbound"): `POST URL`, `Authorization: Bearer TOKEN`, `Idempotency-Key` (the
/// same on every retry of a record), the record as JSON. Every message, the portal's or
/// not, then goes to `next`.
pub struct DvcqgSink {
    client: reqwest::Client,
    url: String,
    token: String,
    timeout: Duration,
    pub next: Box<dyn Sink>,
}

/// What the portal's answer means for a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 2xx, or 409 (it has the record already: a retry after a lost answer).
    Delivered,
    /// 400, 413, 415, 422: the record itself is refused; sending it again would not help.
    Refused,
    /// Anything else (5xx, 408, 429, 401/403/404 — a setting to fix on one side —, 3xx):
    /// tried again later.
    Retry,
}

/// The meaning of an HTTP status from the portal.
pub fn answer_of(status: u16) -> Answer {
    match status {
        200..=299 | 409 => Answer::Delivered,
        400 | 413 | 415 | 422 => Answer::Refused,
        _ => Answer::Retry,
    }
}

/// The record's idempotency key, the same on every retry: `MaHoSo:event_seq` (a dossier's
/// code, unique in the country as it starts with the agency's, and the number of the change
/// in its event chain). A dossier without a code yet (an online one before the desk receives
/// it: `online-N`, which another province's server may use too) or a record without them
/// gets `sha256:` and the hash of the record.
pub fn idempotency_key(payload: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
    match (v["MaHoSo"].as_str(), v["event_seq"].as_i64()) {
        (Some(code), Some(seq))
            if !code.is_empty()
                && !code.starts_with("online-")
                && code.chars().all(|c| c.is_ascii_graphic() && c != ':') =>
        {
            format!("{code}:{seq}")
        }
        _ => {
            use sha2::Digest;
            format!(
                "sha256:{}",
                motcua_domain::text::hex(&sha2::Sha256::digest(payload.as_bytes()))
            )
        }
    }
}

impl DvcqgSink {
    /// `url`: `http://HOST[:PORT]/PATH` of the portal's receiving endpoint (or of the
    /// province's integration platform relaying to it); `timeout`: how long an answer is
    /// waited for before the record counts as not delivered.
    pub fn new(url: &str, token: &str, timeout: Duration, next: Box<dyn Sink>) -> Result<Self, String> {
        if url.starts_with("https://") {
            return Err(format!(
                "--dvcqg-url {url:?}: this build speaks plain HTTP; reach an HTTPS portal through \
                 the province's integration platform (LGSP) or a local TLS relay"
            ));
        }
        match url.strip_prefix("http://") {
            Some(rest)
                if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace) => {}
            _ => {
                return Err(format!(
                    "unsupported --dvcqg-url {url:?}: use http://HOST[:PORT]/PATH"
                ));
            }
        }
        if token.contains(|c: char| c.is_control()) {
            return Err("--dvcqg-token must not hold control characters".into());
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            url: url.to_string(),
            token: token.to_string(),
            timeout,
            next,
        })
    }

    /// Posts one record and reads the answer.
    fn post(&self, payload: &str) -> Result<(), Failure> {
        // Sinks run on the blocking pool (`deliver_pending`), inside the runtime.
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| Failure::transient(e.to_string()))?;
        let mut request = self
            .client
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", idempotency_key(payload))
            .body(payload.to_string());
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        let answered = runtime.block_on(async {
            let res = request.send().await?;
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            Ok::<_, reqwest::Error>((status, body))
        });
        let (status, body) = answered.map_err(|e| {
            Failure::transient(match e.is_timeout() {
                true => format!("portal: no answer within {} s", self.timeout.as_secs_f32()),
                false => format!("portal: {}", error_chain(&e)),
            })
        })?;
        let said = || {
            let text: String = body.trim().chars().take(300).collect();
            format!(
                "portal answered {status}{}{text}",
                if text.is_empty() { "" } else { ": " }
            )
        };
        match answer_of(status) {
            Answer::Delivered => Ok(()),
            Answer::Refused => Err(Failure {
                error: said(),
                permanent: true,
            }),
            Answer::Retry => Err(Failure::transient(said())),
        }
    }
}

/// An error and its causes on one line (reqwest's own text hides the cause: "error sending
/// request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl Sink for DvcqgSink {
    fn deliver(&self, topic: &str, payload: &str) -> Result<(), String> {
        if topic == TOPIC {
            self.post(payload).map_err(|f| f.error)?;
        }
        self.next.deliver(topic, payload)
    }

    /// Posts the portal's records one by one, in order; a failed one holds back its dossier's
    /// later records in the pass, not the other dossiers'. After a few transient failures in a
    /// row the rest wait for the next pass. The records the portal took then go to the next
    /// sink together; one it fails is not delivered (posted again later: the portal keys on
    /// `Idempotency-Key`). Other topics go to the next sink as they are.
    fn deliver_each(&self, messages: &[Message]) -> Vec<Outcome> {
        if messages.iter().all(|m| m.topic != TOPIC) {
            return self.next.deliver_each(messages);
        }
        let mut outcomes = vec![Outcome::NotTried; messages.len()];
        let mut held: std::collections::HashSet<i64> = Default::default();
        let mut in_a_row = 0;
        let mut posted = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            if in_a_row >= FAILURES_PER_PASS {
                break;
            }
            if m.dossier_id.is_some_and(|d| held.contains(&d)) {
                continue;
            }
            let sent = match m.topic == TOPIC {
                true => self.post(&m.payload),
                // A mixed batch (the worker sends one topic at a time): handed on one by one.
                false => self
                    .next
                    .deliver(&m.topic, &m.payload)
                    .map_err(Failure::transient),
            };
            match sent {
                Ok(()) if m.topic == TOPIC => {
                    in_a_row = 0;
                    posted.push(i);
                }
                Ok(()) => outcomes[i] = Outcome::Delivered,
                Err(f) => {
                    if !f.permanent {
                        in_a_row += 1;
                    }
                    held.extend(m.dossier_id);
                    outcomes[i] = Outcome::Failed(f);
                }
            }
        }
        let logged: Vec<Message> = posted.iter().map(|&i| messages[i].clone()).collect();
        for (&i, outcome) in posted.iter().zip(self.next.deliver_each(&logged)) {
            outcomes[i] = outcome;
        }
        outcomes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portals_answers_are_read_as_delivered_refused_or_to_retry() {
        for s in [200, 201, 202, 204, 409] {
            assert_eq!(answer_of(s), Answer::Delivered, "{s}");
        }
        for s in [400, 413, 415, 422] {
            assert_eq!(answer_of(s), Answer::Refused, "{s}");
        }
        for s in [301, 401, 403, 404, 408, 429, 500, 502, 503, 504] {
            assert_eq!(answer_of(s), Answer::Retry, "{s}");
        }
    }

    #[test]
    fn the_idempotency_key_is_the_dossier_and_its_change() {
        let record = r#"{"MaHoSo":"000.00.01.H56-261207-0001","event_seq":3,"TrangThaiHoSo":2}"#;
        assert_eq!(idempotency_key(record), "000.00.01.H56-261207-0001:3");
        assert_eq!(idempotency_key(record), idempotency_key(record));
        let other = r#"{"MaHoSo":"000.00.01.H56-261207-0001","event_seq":4,"TrangThaiHoSo":2}"#;
        assert_ne!(idempotency_key(record), idempotency_key(other));
        // Without them (or a code that cannot go in a header): the record's hash.
        for odd in [
            r#"{"x":1}"#,
            "not json",
            r#"{"MaHoSo":"Hồ sơ 1","event_seq":1}"#,
            r#"{"MaHoSo":"online-5","event_seq":1}"#,
        ] {
            let key = idempotency_key(odd);
            assert!(
                key.starts_with("sha256:") && key.len() == 71 && key.is_ascii(),
                "{key}"
            );
        }
    }

    #[test]
    fn only_a_plain_http_url_is_taken() {
        let files = || {
            Box::new(crate::outbox::FileSink {
                dir: std::env::temp_dir(),
            }) as Box<dyn Sink>
        };
        let t = Duration::from_secs(1);
        assert!(DvcqgSink::new("http://127.0.0.1:9/dvcqg", "t", t, files()).is_ok());
        for bad in [
            "https://dichvucong.gov.vn/api",
            "ftp://x",
            "http://",
            "http:///x",
            "127.0.0.1:9",
            "http://a b/",
        ] {
            assert!(DvcqgSink::new(bad, "t", t, files()).is_err(), "{bad}");
        }
        assert!(DvcqgSink::new("http://x/", "a\nb", t, files()).is_err());
    }
}
