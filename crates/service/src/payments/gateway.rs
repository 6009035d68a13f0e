//! The national payment platform's protocol (a redirect and a signed callback, the shape of
//! VNPay-style gateways; docs/integration.md, "National payment platform"): the checkout
//! request motcua signs, the callback it verifies, and what a verified callback may settle.
//! Pure: no database, no clock of its own.

use super::PaymentProvider;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use motcua_domain::calendar::{LEGAL_OFFSET, to_local};
use motcua_domain::dossier::PaymentStatus;
use sha2::Sha256;

/// Where the gateway sends the citizen's browser back (GET, the callback's fields in the query).
pub const RETURN_PATH: &str = "/cong-dan/ket-qua-thanh-toan";
/// Where the gateway notifies motcua, server to server (POST, form-encoded).
pub const NOTIFY_PATH: &str = "/api/v1/payments/notify";
/// The protocol's version, the first field of every message.
pub const VERSION: &str = "1";
/// The checkout request's fields, in the order the checksum covers them.
pub const REQUEST_FIELDS: [&str; 10] = [
    "version",
    "merchant",
    "order_id",
    "amount",
    "currency",
    "order_info",
    "return_url",
    "notify_url",
    "created_at",
    "expires_at",
];
/// The callback's fields (notification and return alike), in the order the checksum covers them.
pub const CALLBACK_FIELDS: [&str; 7] = [
    "version",
    "merchant",
    "order_id",
    "amount",
    "result",
    "transaction_id",
    "paid_at",
];
/// The field holding the checksum.
pub const CHECKSUM: &str = "checksum";
/// The result code of a payment that went through.
pub const PAID: &str = "00";

/// A configured gateway: where its checkout is, who motcua is to it, the shared secret.
pub struct Gateway {
    checkout_url: String,
    merchant: String,
    secret: String,
    public_url: String,
    /// How long an attempt may be paid (sent to the gateway as `expires_at`).
    pub expiry: Duration,
    /// How long after its expiry a notification of an attempt is still taken (a gateway's
    /// retries of a notification it could not deliver).
    pub late_after: Duration,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("checkout_url", &self.checkout_url)
            .field("merchant", &self.merchant)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

fn is_http(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

impl Gateway {
    /// A gateway, or why the configuration cannot work (said as the flags are named).
    pub fn new(
        checkout_url: &str,
        merchant: &str,
        secret: &str,
        public_url: &str,
        expiry: Duration,
        late_after: Duration,
    ) -> Result<Gateway, String> {
        if !is_http(checkout_url) {
            return Err(format!(
                "invalid --payment-url {checkout_url:?}: expected http(s)://HOST[:PORT]/PATH"
            ));
        }
        let merchant = merchant.trim();
        if merchant.is_empty()
            || merchant.len() > 32
            || !merchant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(
                "--payment-merchant is required with --payment-url: 1–32 letters, digits, - or _".into(),
            );
        }
        if secret.len() < 16 {
            return Err("--payment-secret is required with --payment-url: at least 16 characters".into());
        }
        if !is_http(public_url) {
            return Err(format!(
                "the payment gateway needs --public-url (http(s)://HOST…) to send citizens and notifications back; got {public_url:?}"
            ));
        }
        if expiry <= Duration::zero() || late_after < Duration::zero() {
            return Err("--payment-expiry-minutes must be positive".into());
        }
        Ok(Gateway {
            checkout_url: checkout_url.to_string(),
            merchant: merchant.to_string(),
            secret: secret.to_string(),
            public_url: public_url.trim_end_matches('/').to_string(),
            expiry,
            late_after,
        })
    }

    pub fn merchant(&self) -> &str {
        &self.merchant
    }

    pub fn return_url(&self) -> String {
        format!("{}{RETURN_PATH}", self.public_url)
    }

    pub fn notify_url(&self) -> String {
        format!("{}{NOTIFY_PATH}", self.public_url)
    }

    /// The checksum of fields, in the order given.
    pub fn checksum(&self, fields: &[(&str, &str)]) -> String {
        checksum(&self.secret, fields)
    }

    /// The signed checkout request of an attempt: its fields, checksum last.
    pub fn request(
        &self,
        order_id: &str,
        amount_vnd: i64,
        dossier_key: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Vec<(&'static str, String)> {
        let values = [
            VERSION.to_string(),
            self.merchant.clone(),
            order_id.to_string(),
            amount_vnd.to_string(),
            "VND".to_string(),
            // ASCII: gateways print it on bank statements, which drop diacritics.
            format!("Thanh toan phi, le phi ho so {dossier_key}"),
            self.return_url(),
            self.notify_url(),
            stamp(created_at),
            stamp(expires_at),
        ];
        let mut fields: Vec<(&'static str, String)> = REQUEST_FIELDS.into_iter().zip(values).collect();
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let sum = self.checksum(&pairs);
        fields.push((CHECKSUM, sum));
        fields
    }

    /// Where the citizen's browser goes to pay an attempt: the checkout with the signed request.
    pub fn redirect_url(&self, fields: &[(&'static str, String)]) -> String {
        let query: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        let sep = if self.checkout_url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{}", self.checkout_url, query.join("&"))
    }

    /// Reads a callback and checks its checksum and merchant: the callback, or why it is
    /// refused (`Malformed`, `Forged`) with a line saying what was wrong.
    pub fn verify(&self, fields: &[(String, String)]) -> Result<Callback, (Outcome, String)> {
        let get = |name: &str| {
            let mut found = fields.iter().filter(|(k, _)| k == name);
            match (found.next(), found.next()) {
                (Some((_, v)), None) => Ok(v.as_str()),
                (Some(_), Some(_)) => Err((Outcome::Malformed, format!("field {name} given twice"))),
                (None, _) => Err((Outcome::Malformed, format!("field {name} missing"))),
            }
        };
        let mut values = Vec::with_capacity(CALLBACK_FIELDS.len());
        for name in CALLBACK_FIELDS {
            values.push((name, get(name)?));
        }
        let given = get(CHECKSUM)?;
        let expected = self.checksum(&values);
        if !crate::auth::constant_time_eq(expected.as_bytes(), given.to_ascii_lowercase().as_bytes()) {
            return Err((Outcome::Forged, "checksum does not match".into()));
        }
        let value = |name: &str| {
            values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| *v)
                .unwrap_or("")
        };
        if value("version") != VERSION {
            return Err((
                Outcome::Malformed,
                format!("version {:?} is not {VERSION}", value("version")),
            ));
        }
        if value("merchant") != self.merchant {
            return Err((
                Outcome::Forged,
                format!("merchant {:?} is not ours", value("merchant")),
            ));
        }
        let amount = value("amount")
            .parse::<i64>()
            .ok()
            .filter(|a| *a >= 0 && !value("amount").starts_with('+'))
            .ok_or_else(|| {
                (
                    Outcome::Malformed,
                    format!("amount {:?} is not a whole number of đồng", value("amount")),
                )
            })?;
        let order_id = value("order_id");
        if order_id.is_empty() || order_id.len() > 64 {
            return Err((Outcome::Malformed, "order_id empty or longer than 64".into()));
        }
        let result = value("result");
        if result.is_empty() || result.len() > 8 {
            return Err((Outcome::Malformed, "result empty or longer than 8".into()));
        }
        let transaction_id = value("transaction_id");
        if transaction_id.len() > 64 || (result == PAID && transaction_id.is_empty()) {
            return Err((
                Outcome::Malformed,
                "transaction_id missing or longer than 64".into(),
            ));
        }
        let paid_at = parse_stamp(value("paid_at")).ok_or_else(|| {
            (
                Outcome::Malformed,
                format!("paid_at {:?} is not yyyyMMddHHmmss", value("paid_at")),
            )
        })?;
        Ok(Callback {
            order_id: order_id.to_string(),
            amount_vnd: amount,
            result: result.to_string(),
            transaction_id: transaction_id.to_string(),
            paid_at,
        })
    }
}

impl PaymentProvider for Gateway {
    fn id(&self) -> &'static str {
        "gateway"
    }
    fn is_sandbox(&self) -> bool {
        false
    }
    fn checkout_path(&self, reference: &str) -> String {
        format!("/cong-dan/thanh-toan/{reference}")
    }
    fn gateway(&self) -> Option<&Gateway> {
        Some(self)
    }
}

/// HMAC-SHA256 with `secret` over `k1=v1&k2=v2…` (values percent-encoded, RFC 3986), hex.
pub fn checksum(secret: &str, fields: &[(&str, &str)]) -> String {
    let data: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(data.join("&").as_bytes());
    motcua_domain::text::hex(&mac.finalize().into_bytes())
}

/// Percent-encodes every byte but the unreserved (`A-Z a-z 0-9 - . _ ~`), upper-case hex:
/// Python's `urllib.parse.quote(v, safe="")`.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An instant as the gateway writes it: `yyyyMMddHHmmss`, legal time (Asia/Ho_Chi_Minh).
pub fn stamp(at: DateTime<Utc>) -> String {
    to_local(at).format("%Y%m%d%H%M%S").to_string()
}

/// The instant of a `yyyyMMddHHmmss` in legal time.
pub fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").ok()?;
    LEGAL_OFFSET
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// A callback whose checksum and merchant are ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub order_id: String,
    pub amount_vnd: i64,
    /// `00`: paid; anything else: the payment did not go through (the gateway's reason).
    pub result: String,
    pub transaction_id: String,
    /// When the gateway says the money moved (or the payment failed).
    pub paid_at: DateTime<Utc>,
}

/// What was decided about a callback, as logged (`payment_callbacks.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A verified notification of a payment: the payment is paid.
    Accepted,
    /// A verified notification that the payment did not go through: the attempt failed,
    /// the fee is still owed.
    Failed,
    /// An order already settled: answered as before, nothing recorded again.
    Replayed,
    /// The checksum (or the merchant) is not ours.
    Forged,
    /// Fields missing, repeated or unreadable.
    Malformed,
    /// No attempt has this order id.
    UnknownOrder,
    /// The amount is not the fee.
    AmountMismatch,
    /// Paid after the attempt expired, or told too long after.
    Late,
    /// Another attempt already paid the fee: money taken twice, to refund.
    DoublePayment,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Failed => "failed",
            Outcome::Replayed => "replayed",
            Outcome::Forged => "forged",
            Outcome::Malformed => "malformed",
            Outcome::UnknownOrder => "unknown_order",
            Outcome::AmountMismatch => "amount_mismatch",
            Outcome::Late => "late",
            Outcome::DoublePayment => "double_payment",
        }
    }

    /// The answer's code to the gateway (VNPay's IPN codes where one exists).
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Accepted | Outcome::Failed => "00",
            Outcome::UnknownOrder => "01",
            Outcome::Replayed => "02",
            Outcome::AmountMismatch => "04",
            Outcome::DoublePayment => "05",
            Outcome::Late => "11",
            Outcome::Forged => "97",
            Outcome::Malformed => "99",
        }
    }

    /// The answer's message to the gateway.
    pub fn message(self) -> &'static str {
        match self {
            Outcome::Accepted | Outcome::Failed => "Confirm Success",
            Outcome::UnknownOrder => "Order not found",
            Outcome::Replayed => "Order already confirmed",
            Outcome::AmountMismatch => "Invalid amount",
            Outcome::DoublePayment => "Fee already paid by another order",
            Outcome::Late => "Order expired",
            Outcome::Forged => "Invalid checksum",
            Outcome::Malformed => "Invalid request",
        }
    }

    /// Whether the callback was refused (nothing settled by it).
    pub fn refused(self) -> bool {
        !matches!(self, Outcome::Accepted | Outcome::Failed)
    }

    /// Whether the gateway says money moved that motcua did not book (the reconciliation's
    /// "mismatched": to refund or settle by hand).
    pub fn money_unbooked(self) -> bool {
        matches!(
            self,
            Outcome::AmountMismatch | Outcome::Late | Outcome::DoublePayment | Outcome::UnknownOrder
        )
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::Accepted,
            Outcome::Failed,
            Outcome::Replayed,
            Outcome::Forged,
            Outcome::Malformed,
            Outcome::UnknownOrder,
            Outcome::AmountMismatch,
            Outcome::Late,
            Outcome::DoublePayment,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// What is known of the attempt a verified callback names.
#[derive(Debug, Clone, Copy)]
pub struct AttemptState {
    pub status: PaymentStatus,
    pub amount_vnd: i64,
    pub expires_at: DateTime<Utc>,
    /// The fee's payment is paid already (through this attempt or another).
    pub payment_paid: bool,
}

/// What a verified callback does, received at `now`: the outcome and why (empty when accepted).
pub fn decide(
    cb: &Callback,
    attempt: Option<AttemptState>,
    now: DateTime<Utc>,
    late_after: Duration,
) -> (Outcome, String) {
    let Some(a) = attempt else {
        return (
            Outcome::UnknownOrder,
            format!("no attempt has order id {}", cb.order_id),
        );
    };
    if a.status != PaymentStatus::Pending {
        return (
            Outcome::Replayed,
            format!("order already settled ({})", a.status.as_str()),
        );
    }
    if cb.amount_vnd != a.amount_vnd {
        return (
            Outcome::AmountMismatch,
            format!("amount {} is not the fee {}", cb.amount_vnd, a.amount_vnd),
        );
    }
    if cb.result != PAID {
        return (
            Outcome::Failed,
            format!("the gateway says the payment failed (result {})", cb.result),
        );
    }
    if cb.paid_at > a.expires_at {
        return (
            Outcome::Late,
            format!(
                "paid at {} after the order expired at {}",
                stamp(cb.paid_at),
                stamp(a.expires_at)
            ),
        );
    }
    if now > a.expires_at + late_after {
        return (
            Outcome::Late,
            format!(
                "notified at {}, more than {} h after the order expired",
                stamp(now),
                late_after.num_hours()
            ),
        );
    }
    if a.payment_paid {
        return (
            Outcome::DoublePayment,
            "the fee was already paid through another order".into(),
        );
    }
    (Outcome::Accepted, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway() -> Gateway {
        Gateway::new(
            "http://127.0.0.1:9/checkout",
            "MOTCUA01",
            "0123456789abcdef-secret",
            "http://127.0.0.1:8080",
            Duration::minutes(15),
            Duration::hours(24),
        )
        .unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        parse_stamp(s).unwrap()
    }

    fn signed(g: &Gateway, values: [&str; 7]) -> Vec<(String, String)> {
        let pairs: Vec<(&str, &str)> = CALLBACK_FIELDS.into_iter().zip(values).collect();
        let sum = g.checksum(&pairs);
        let mut fields: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        fields.push((CHECKSUM.into(), sum));
        fields
    }

    #[test]
    fn the_checksum_is_hmac_sha256_over_the_encoded_fields_in_order() {
        // RFC 4231 test case 2: the MAC itself.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            motcua_domain::text::hex(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // The same as Python's hmac over the documented string (what the simulator computes).
        let fields = [
            ("version", "1"),
            ("merchant", "MOTCUA01"),
            ("order_id", "MC1"),
            ("amount", "150000"),
            ("result", "00"),
            ("transaction_id", "T123"),
            ("paid_at", "20260305143100"),
        ];
        assert_eq!(
            checksum("0123456789abcdef-secret", &fields),
            "214982af7db2453382f753df56fcb5a4cb678a5da1df17a20f51f4c1b6dd4ac3"
        );
        // Values are percent-encoded (spaces, Vietnamese letters, & and =), keys are not.
        assert_eq!(
            encode("Lệ phí a&b=c ~x_y.z-"),
            "L%E1%BB%87%20ph%C3%AD%20a%26b%3Dc%20~x_y.z-"
        );
        assert_ne!(
            checksum("Jefe", &[("a", "1"), ("b", "2")]),
            checksum("Jefe", &[("b", "2"), ("a", "1")])
        );
    }

    #[test]
    fn a_request_carries_every_field_signed_and_times_in_legal_time() {
        let g = gateway();
        let created = at("20260305143000");
        let fields = g.request(
            "MC1",
            150_000,
            "000.00.01.H56-260305-0001",
            created,
            created + g.expiry,
        );
        let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        assert_eq!(&names[..10], &REQUEST_FIELDS);
        assert_eq!(names[10], CHECKSUM);
        assert_eq!(fields[8].1, "20260305143000");
        assert_eq!(fields[9].1, "20260305144500");
        assert_eq!(fields[7].1, "http://127.0.0.1:8080/api/v1/payments/notify");
        let url = g.redirect_url(&fields);
        assert!(
            url.starts_with(
                "http://127.0.0.1:9/checkout?version=1&merchant=MOTCUA01&order_id=MC1&amount=150000&"
            ),
            "{url}"
        );
        assert!(
            url.contains("return_url=http%3A%2F%2F127.0.0.1%3A8080%2Fcong-dan%2Fket-qua-thanh-toan"),
            "{url}"
        );
        // 14:30 in Hà Nội is 07:30 UTC.
        assert_eq!(created.to_rfc3339(), "2026-03-05T07:30:00+00:00");
    }

    #[test]
    fn a_callback_is_verified_field_by_field() {
        let g = gateway();
        let good = ["1", "MOTCUA01", "MC1", "150000", "00", "T123", "20260305143100"];
        let cb = g.verify(&signed(&g, good)).unwrap();
        assert_eq!(cb.amount_vnd, 150_000);
        assert_eq!(cb.paid_at, at("20260305143100"));
        // A changed value under the old checksum is forged.
        let mut tampered = signed(&g, good);
        tampered[3].1 = "1000".into();
        assert_eq!(g.verify(&tampered).unwrap_err().0, Outcome::Forged);
        // Signed with another secret: forged.
        let other = Gateway::new(
            "http://x/c",
            "MOTCUA01",
            "another-secret-16chars",
            "http://y",
            g.expiry,
            g.late_after,
        )
        .unwrap();
        assert_eq!(g.verify(&signed(&other, good)).unwrap_err().0, Outcome::Forged);
        // Another merchant, even correctly signed: forged.
        let theirs = ["1", "OTHER", "MC1", "150000", "00", "T123", "20260305143100"];
        assert_eq!(g.verify(&signed(&g, theirs)).unwrap_err().0, Outcome::Forged);
        // Missing, repeated or unreadable fields: malformed.
        let mut missing = signed(&g, good);
        missing.remove(4);
        assert_eq!(g.verify(&missing).unwrap_err().0, Outcome::Malformed);
        let mut twice = signed(&g, good);
        twice.push(("amount".into(), "150000".into()));
        assert_eq!(g.verify(&twice).unwrap_err().0, Outcome::Malformed);
        for bad in [
            ["1", "MOTCUA01", "MC1", "-5", "00", "T1", "20260305143100"],
            ["1", "MOTCUA01", "MC1", "150000", "00", "", "20260305143100"],
            ["1", "MOTCUA01", "MC1", "150000", "00", "T1", "2026-03-05"],
            ["2", "MOTCUA01", "MC1", "150000", "00", "T1", "20260305143100"],
        ] {
            assert_eq!(
                g.verify(&signed(&g, bad)).unwrap_err().0,
                Outcome::Malformed,
                "{bad:?}"
            );
        }
        // The checksum's case does not matter.
        let mut upper = signed(&g, good);
        upper[7].1 = upper[7].1.to_uppercase();
        assert!(g.verify(&upper).is_ok());
    }

    #[test]
    fn what_a_verified_callback_settles() {
        let expires = at("20260305144500");
        let pending = AttemptState {
            status: PaymentStatus::Pending,
            amount_vnd: 150_000,
            expires_at: expires,
            payment_paid: false,
        };
        let cb = Callback {
            order_id: "MC1".into(),
            amount_vnd: 150_000,
            result: "00".into(),
            transaction_id: "T1".into(),
            paid_at: at("20260305143100"),
        };
        let now = at("20260305143105");
        let day = Duration::hours(24);
        let outcome = |cb: &Callback, a: Option<AttemptState>, now| decide(cb, a, now, day).0;
        assert_eq!(outcome(&cb, Some(pending), now), Outcome::Accepted);
        assert_eq!(outcome(&cb, None, now), Outcome::UnknownOrder);
        let settled = AttemptState {
            status: PaymentStatus::Paid,
            payment_paid: true,
            ..pending
        };
        assert_eq!(outcome(&cb, Some(settled), now), Outcome::Replayed);
        let failed = AttemptState {
            status: PaymentStatus::Failed,
            ..pending
        };
        assert_eq!(outcome(&cb, Some(failed), now), Outcome::Replayed);
        let more = Callback {
            amount_vnd: 151_000,
            ..cb.clone()
        };
        assert_eq!(outcome(&more, Some(pending), now), Outcome::AmountMismatch);
        let declined = Callback {
            result: "24".into(),
            ..cb.clone()
        };
        assert_eq!(outcome(&declined, Some(pending), now), Outcome::Failed);
        // Paid after the expiry: late, whenever told.
        let after = Callback {
            paid_at: at("20260305144501"),
            ..cb.clone()
        };
        assert_eq!(outcome(&after, Some(pending), now), Outcome::Late);
        // Paid in time, told within the grace: taken; told after it: late.
        assert_eq!(outcome(&cb, Some(pending), expires + day), Outcome::Accepted);
        assert_eq!(
            outcome(&cb, Some(pending), expires + day + Duration::seconds(1)),
            Outcome::Late
        );
        // The fee paid already through another order.
        let other_paid = AttemptState {
            payment_paid: true,
            ..pending
        };
        assert_eq!(outcome(&cb, Some(other_paid), now), Outcome::DoublePayment);
    }

    #[test]
    fn a_bad_configuration_is_refused_with_the_flag_to_fix() {
        let ok = |url: &str, merchant: &str, secret: &str, public: &str| {
            Gateway::new(
                url,
                merchant,
                secret,
                public,
                Duration::minutes(15),
                Duration::hours(24),
            )
        };
        assert!(
            ok("ftp://x/pay", "M1", "0123456789abcdef", "http://h")
                .unwrap_err()
                .contains("--payment-url")
        );
        assert!(
            ok("http://x/pay", "", "0123456789abcdef", "http://h")
                .unwrap_err()
                .contains("--payment-merchant")
        );
        assert!(
            ok("http://x/pay", "M1", "short", "http://h")
                .unwrap_err()
                .contains("--payment-secret")
        );
        assert!(
            ok("http://x/pay", "M1", "0123456789abcdef", "")
                .unwrap_err()
                .contains("--public-url")
        );
        assert!(ok("http://x/pay", "M1", "0123456789abcdef", "http://h/").is_ok());
        for o in ["accepted", "late", "double_payment"] {
            assert_eq!(Outcome::parse(o).map(Outcome::as_str), Some(o));
        }
    }
}
