//! The national payment platform adapter against a separate process that plays the platform
//! (scripts/sim/payment_gateway.py), on both backends: a citizen pays (the signed
//! notification accepted, the dossier paid, the receipt printed, the officer sees it);
//! forged, replayed, amount-mismatched, late and unknown-order callbacks are refused and
//! logged and change nothing; the day's reconciliation lists them, on the admin page and
//! from the command line. Without the flags the sandbox stays.

use crate::support::{TestApp, TestDb, add_user, hidden_value, on_both_backends, scalar, set_cookie};
use motcua_service::dossiers::{Actor, ApplicantInput, ComponentInput, IntakeInput};
use motcua_service::payments::PaymentProvider;
use motcua_service::payments::gateway::Gateway;
use reqwest::StatusCode;
use std::io::BufRead;
use std::sync::{Arc, OnceLock};

const MERCHANT: &str = "MOTCUA01";
const SECRET: &str = "the-test-shared-secret-0123";

/// The simulator, killed when dropped.
struct Platform {
    child: std::process::Child,
    base: String,
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the simulator; None (the test skipped) where python3 is missing outside CI.
fn platform() -> Option<Platform> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/sim/payment_gateway.py");
    let spawned = std::process::Command::new("python3")
        .arg(&script)
        .args(["0", "--merchant", MERCHANT, "--secret", SECRET])
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!(
                "\n!!!!!!!! skipped: python3 is not available ({e}); the payment platform tests NOT RUN\n"
            );
            return None;
        }
        Err(e) => panic!("python3 is needed for the payment platform simulator: {e}"),
    };
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("ready ")
        .expect("the simulator's ready line")
        .to_string();
    Some(Platform {
        child,
        base: format!("http://127.0.0.1:{port}"),
    })
}

/// The gateway, configured once the server's address is known (it is where the platform
/// sends citizens and notifications back).
struct Later(OnceLock<Gateway>);

impl PaymentProvider for Later {
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
        self.0.get()
    }
}

/// A server paying through the simulator.
async fn serve(t: &TestDb, p: &Platform) -> TestApp {
    let later = Arc::new(Later(OnceLock::new()));
    let app = TestApp::serve(t.services().with_payments(later.clone()), t.web_config()).await;
    let g = Gateway::new(
        &format!("{}/checkout", p.base),
        MERCHANT,
        SECRET,
        &app.base,
        chrono::Duration::minutes(15),
        chrono::Duration::hours(24),
    )
    .unwrap();
    assert!(later.0.set(g).is_ok());
    app
}

fn intake() -> IntakeInput {
    IntakeInput {
        procedure: "1.009972".into(),
        case: Some("cong-trinh".into()),
        agency: "000.00.01.H56".into(),
        channel: "online".into(),
        applicant: ApplicantInput {
            kind: "person".into(),
            name: "Phạm Thị Dung".into(),
            id_number: "015192002345".into(),
            phone: "0911222333".into(),
            email: String::new(),
            address: "12 Đinh Tiên Hoàng, Yên Bái".into(),
        },
        submitter_name: String::new(),
        request: "Xin cấp phép".into(),
        components: (0..2)
            .map(|index| ComponentInput {
                index,
                provided: true,
                file: None,
            })
            .collect(),
        delivery: None,
        notify: None,
    }
}

/// A submission with a fee of 150 000 đồng: (dossier key, the payment's reference, the
/// confirmation page's address).
async fn submit(t: &TestDb, actor: Actor<'_>) -> (String, String, String) {
    let v = t.services().intake(actor, intake()).await.unwrap();
    let key = v.dossier.key();
    let reference = v.payment.expect("a fee").reference;
    let page = match v.receipt {
        Some(secret) => format!("/cong-dan/da-nop/{key}?ref={secret}"),
        None => format!("/cong-dan/da-nop/{key}"),
    };
    (key, reference, page)
}

/// An attribute's text as the browser reads it (named and numeric character references).
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find(';').expect("a character reference ends with ;");
        let name = &tail[1..end];
        let c = match name {
            "amp" => '&',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            _ if name.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&name[2..], 16).unwrap()).unwrap()
            }
            _ => char::from_u32(name[1..].parse().unwrap()).unwrap(),
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The text of the first `href` after `marker`.
fn href_after(html: &str, marker: &str) -> String {
    let at = html.find(marker).unwrap_or_else(|| panic!("{marker} in {html}"));
    let rest = &html[at..];
    let start = rest.find("href=\"").unwrap() + 6;
    unescape(rest[start..].split('"').next().unwrap())
}

/// Presses "pay" on the confirmation page: the order id and the platform's checkout address.
async fn press_pay(app: &TestApp, page: &str, session: &str, reference: &str, key: &str) -> (String, String) {
    let res = app
        .client
        .get(app.url(page))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{page}");
    let form_cookie = set_cookie(&res, "motcua_form_csrf").unwrap();
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Thanh toán trực tuyến") && !html.contains("sandbox-notice"),
        "{html}"
    );
    let csrf = hidden_value(&html, "csrf").unwrap();
    let cookies = match session.is_empty() {
        true => format!("motcua_form_csrf={form_cookie}"),
        false => format!("{session}; motcua_form_csrf={form_cookie}"),
    };
    let res = app
        .client
        .post(app.url(&format!("/cong-dan/thanh-toan/{reference}")))
        .header("cookie", cookies)
        .form(&[("csrf", csrf.as_str()), ("key", key)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/cong-dan/chuyen-thanh-toan/MC"), "{to}");
    let order_id = to.rsplit('/').next().unwrap().to_string();
    let html = app.get(&to).await.text().await.unwrap();
    assert!(
        html.contains("150.000 đồng") && html.contains(&order_id),
        "{html}"
    );
    let checkout = href_after(&html, "id=\"to-gateway\"");
    (order_id, checkout)
}

/// The platform's answer to paying an order in a mode: motcua's status(es) to its
/// notification(s), its last answer, and where the browser is sent back.
async fn pay(
    app: &TestApp,
    p: &Platform,
    checkout: &str,
    order_id: &str,
    mode: &str,
) -> (String, serde_json::Value, String) {
    let res = app.client.get(checkout).send().await.unwrap();
    let (status, html) = (res.status(), res.text().await.unwrap());
    assert_eq!(
        status,
        StatusCode::OK,
        "the platform takes the signed request {checkout}: {html}"
    );
    assert!(html.contains("150000"), "{html}");
    let res = app
        .client
        .get(format!("{}/pay?order_id={order_id}&mode={mode}", p.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let statuses = res.headers()["x-notify-status"].to_str().unwrap().to_string();
    let answer = res.headers()["x-notify-answer"].to_str().unwrap();
    let answer = serde_json::from_str(answer).unwrap_or(serde_json::Value::Null);
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.starts_with(&format!("{}/cong-dan/ket-qua-thanh-toan?", app.base)),
        "{back}"
    );
    (statuses, answer, back)
}

async fn outcomes(t: &TestDb, order_id: &str) -> Vec<String> {
    motcua_store::repo::payments::callbacks_of_order(&t.db, order_id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| format!("{}:{}", c.channel, c.outcome))
        .collect()
}

async fn payment_status(t: &TestDb, reference: &str) -> String {
    motcua_store::repo::payments::by_reference(&t.db, reference)
        .await
        .unwrap()
        .unwrap()
        .status
        .as_str()
        .to_string()
}

on_both_backends! {
    async fn a_citizen_pays_through_the_platform_and_gets_a_receipt(t) {
        crate::support::load_fixtures(t).await;
        add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer"]).await;
        let Some(p) = platform() else { return };
        let app = serve(t, &p).await;
        let session = crate::citizens::signed_in_citizen(t, &app).await;
        let id = scalar(&t.db, "SELECT id FROM citizens WHERE login = '0911222333'").await;
        let (key, reference, page) = submit(t, Actor::Citizen { id, login: "0911222333" }).await;
        let (order_id, checkout) = press_pay(&app, &page, &session, &reference, &key).await;
        // The request is signed: changed on the way, the platform refuses it.
        let tampered = checkout.replace("amount=150000", "amount=1000");
        assert_eq!(app.client.get(&tampered).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
        assert_eq!(payment_status(t, &reference).await, "pending", "nothing is paid by going to the platform");

        let (statuses, answer, back) = pay(&app, &p, &checkout, &order_id, "ok").await;
        assert_eq!(statuses, "200");
        assert_eq!(answer["code"], "00", "{answer}");
        assert_eq!(answer["outcome"], "accepted");
        assert_eq!(payment_status(t, &reference).await, "paid");
        let tx = motcua_store::repo::payments::by_reference(&t.db, &reference).await.unwrap().unwrap().transaction_id.unwrap();
        assert!(tx.starts_with("SIM"), "{tx}");
        // Back from the platform: paid, with the transaction and the way to the receipt.
        let res = app.client.get(&back).header("cookie", &session).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("Thanh toán thành công") && html.contains(&tx) && html.contains("150.000 đồng"), "{html}");
        // The citizen's dossier says paid and links the receipt.
        let html = app.client.get(app.url(&format!("/cong-dan/ho-so/{key}"))).header("cookie", &session).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("đã thanh toán") && html.contains(&format!("/cong-dan/ho-so/{key}/bien-lai")), "{html}");
        // The receipt: payer, fee items, amount in figures and words, instant, transaction.
        let res = app.client.get(app.url(&format!("/cong-dan/ho-so/{key}/bien-lai"))).header("cookie", &session).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        for want in ["BIÊN LAI THU PHÍ, LỆ PHÍ", "Phạm Thị Dung", &key, "Lệ phí cấp giấy phép xây dựng", "150.000 đồng",
            "Một trăm năm mươi nghìn đồng", &tx, &order_id, "Cổng thanh toán quốc gia", "(giờ Việt Nam)"] {
            assert!(html.contains(want), "{want}: {html}");
        }
        assert!(!html.contains("sandbox-notice"), "a real payment is not labelled a test");
        // Nobody else sees it: a stranger, or a wrong reference; the reference itself opens it.
        assert_eq!(app.get(&format!("/cong-dan/ho-so/{key}/bien-lai?ref=wrong")).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.get(&format!("/cong-dan/ho-so/{key}/bien-lai")).await.status(), StatusCode::SEE_OTHER, "sign in first");
        assert_eq!(app.get(&format!("/cong-dan/ho-so/{key}/bien-lai?ref={reference}")).await.status(), StatusCode::OK);
        // Paying again is refused: the fee is paid.
        let res = app.client.get(app.url(&page)).header("cookie", &session).send().await.unwrap();
        let html = res.text().await.unwrap();
        assert!(html.contains("Đã thanh toán 150.000 đồng") && html.contains("/bien-lai?ref="), "{html}");
        // The platform replays the notification: answered as before (02), nothing recorded twice.
        let res: serde_json::Value = app.client.get(format!("{}/replay?order_id={order_id}", p.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(res["status"], 200, "{res}");
        let answer: serde_json::Value = serde_json::from_str(res["answer"].as_str().unwrap()).unwrap();
        assert_eq!(answer["code"], "02");
        assert_eq!(outcomes(t, &order_id).await, ["notify:accepted", "notify:replayed"]);
        assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM payment_attempts WHERE status = 'paid'").await, 1);
        assert_eq!(payment_status(t, &reference).await, "paid");
        // The officer sees the fee, its state and the transaction, and the receipt.
        let (officer, _) = app.browser_login("tiepnhan").await;
        let html = app.client.get(app.url(&format!("/ho-so/{key}"))).header("cookie", &officer).send().await.unwrap().text().await.unwrap();
        let fee = html.split("id=\"fee\"").nth(1).expect("the fee line").split("</dd>").next().unwrap();
        assert!(fee.contains("150.000 đồng") && fee.contains("Đã thanh toán trực tuyến") && fee.contains(&tx), "{fee}");
        assert!(html.contains(&format!("/ho-so/{key}/bien-lai")), "{html}");
        let res = app.client.get(app.url(&format!("/ho-so/{key}/bien-lai"))).header("cookie", &officer).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.text().await.unwrap().contains("Một trăm năm mươi nghìn đồng"));
    }

    async fn forged_replayed_wrong_late_and_unknown_callbacks_are_refused_and_logged(t) {
        crate::support::load_fixtures(t).await;
        add_user(&t.db, "quantri", "000.00.01.H56", &["admin"]).await;
        add_user(&t.db, "tiepnhan", "000.00.01.H56", &["receiving_officer"]).await;
        let Some(p) = platform() else { return };
        let app = serve(t, &p).await;
        let mut orders = std::collections::HashMap::new();
        for (mode, status, code, outcome) in [
            ("forged", "403", "97", "forged"),
            ("wrong-amount", "422", "04", "amount_mismatch"),
            ("late", "409", "11", "late"),
            ("unknown", "404", "01", "unknown_order"),
            ("fail", "200", "00", "failed"),
            ("replay", "200,200", "02", "replayed"),
            ("silent", "", "", ""),
        ] {
            let (key, reference, page) = submit(t, Actor::Guest).await;
            let (order_id, checkout) = press_pay(&app, &page, "", &reference, &key).await;
            let (statuses, answer, back) = pay(&app, &p, &checkout, &order_id, mode).await;
            assert_eq!(statuses, status, "{mode}: {answer}");
            if !code.is_empty() {
                assert_eq!(answer["code"], code, "{mode}: {answer}");
                assert_eq!(answer["outcome"], outcome, "{mode}: {answer}");
            }
            let res = app.client.get(&back).send().await.unwrap();
            let (back_status, html) = (res.status(), res.text().await.unwrap());
            let logged = outcomes(t, &order_id).await;
            let paid = payment_status(t, &reference).await;
            match mode {
                "forged" => {
                    // Neither the notification nor the return is believed; both are logged.
                    assert_eq!(back_status, StatusCode::BAD_REQUEST);
                    assert!(html.contains("không hợp lệ"), "{html}");
                    assert_eq!(logged, ["notify:forged", "return:forged"]);
                    assert_eq!(paid, "pending");
                }
                "wrong-amount" | "late" => {
                    assert_eq!(back_status, StatusCode::OK);
                    assert!(html.contains("Giao dịch cần được đối soát"), "{mode}: {html}");
                    assert_eq!(logged, [format!("notify:{outcome}")]);
                    assert_eq!(paid, "pending");
                }
                "unknown" => {
                    assert_eq!(back_status, StatusCode::NOT_FOUND);
                    assert_eq!(outcomes(t, &format!("{order_id}X")).await, ["notify:unknown_order", "return:unknown_order"]);
                    assert_eq!(paid, "pending");
                }
                "fail" => {
                    assert_eq!(back_status, StatusCode::OK);
                    assert!(html.contains("Thanh toán không thành công") && html.contains("24"), "{html}");
                    assert_eq!(logged, ["notify:failed"]);
                    assert_eq!(paid, "pending");
                    // The citizen pays again: a new order, paid.
                    let again = href_after(&html, "id=\"payment-failed\"");
                    assert!(again.contains("/cong-dan/da-nop/"), "{again}");
                    let (second, checkout) = press_pay(&app, &page, "", &reference, &key).await;
                    assert_ne!(second, order_id, "one order id per attempt");
                    let (statuses, _, _) = pay(&app, &p, &checkout, &second, "ok").await;
                    assert_eq!(statuses, "200");
                    assert_eq!(payment_status(t, &reference).await, "paid");
                    orders.insert("fail-then-ok", second);
                }
                "replay" => {
                    assert!(html.contains("Thanh toán thành công"), "{html}");
                    assert_eq!(logged, ["notify:accepted", "notify:replayed"]);
                    assert_eq!(paid, "paid");
                }
                _ => {
                    // No notification yet: the return alone settles nothing.
                    assert_eq!(back_status, StatusCode::ACCEPTED);
                    assert!(html.contains("Đang chờ xác nhận thanh toán"), "{html}");
                    assert!(logged.is_empty());
                    assert_eq!(paid, "pending");
                }
            }
            orders.insert(mode, order_id);
        }
        // Straight to the endpoint: unreadable, then a forged notification of a real order.
        let res = app.client.post(app.url("/api/v1/payments/notify")).header("content-type", "application/x-www-form-urlencoded")
            .body("version=1&merchant=MOTCUA01").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.json::<serde_json::Value>().await.unwrap()["code"], "99");
        let silent = &orders["silent"];
        let res = app.client.post(app.url("/api/v1/payments/notify")).form(&[
            ("version", "1"), ("merchant", MERCHANT), ("order_id", silent), ("amount", "150000"), ("result", "00"),
            ("transaction_id", "EVIL1"), ("paid_at", "20260101000000"), ("checksum", &"0".repeat(64))]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(outcomes(t, silent).await, ["notify:forged"]);
        assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM payments WHERE status = 'paid'").await, 2, "the replayed one and the second try");

        // The day's reconciliation: paid, pending, mismatched.
        let today = motcua_domain::calendar::local_date(chrono::Utc::now());
        let r = t.services().reconcile(today).await.unwrap();
        let of = |kind: &str| -> Vec<String> {
            let mut v: Vec<String> = r.lines.iter().filter(|l| l.kind == kind).map(|l| l.order_id.clone()).collect();
            v.sort();
            v
        };
        let sorted = |mut v: Vec<String>| { v.sort(); v };
        assert_eq!(of("paid"), sorted(vec![orders["replay"].clone(), orders["fail-then-ok"].clone()]));
        assert_eq!(of("pending"), sorted(vec![orders["forged"].clone(), orders["wrong-amount"].clone(), orders["late"].clone(), orders["unknown"].clone(), orders["silent"].clone()]));
        assert_eq!(of("mismatched"), sorted(vec![orders["wrong-amount"].clone(), orders["late"].clone(), format!("{}X", orders["unknown"])]));
        assert_eq!(r.total("paid"), 300_000);
        let wrong = r.lines.iter().find(|l| l.kind == "mismatched" && l.order_id == orders["wrong-amount"]).unwrap();
        assert_eq!(wrong.amount_vnd, Some(151_000), "the amount the platform claims");
        assert!(r.refused.contains(&("forged", 3)) && r.refused.contains(&("replayed", 1)) && r.refused.contains(&("malformed", 1)), "{:?}", r.refused);

        // The same from the command line, as CSV; a bad date is one line and exit 2.
        let cli = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
                .args(["payments", "reconcile", "--database-url", &t.url])
                .args(args)
                .current_dir(t.data_dir())
                .output()
                .unwrap()
        };
        let o = cli(&["--date", &today.to_string(), "--format", "csv"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let csv = String::from_utf8(o.stdout).unwrap();
        assert!(csv.starts_with("kind,dossier,order_id,amount_vnd,transaction_id,at,provider,note\n"), "{csv}");
        assert_eq!(csv.lines().filter(|l| l.starts_with("paid,")).count(), 2, "{csv}");
        assert_eq!(csv.lines().filter(|l| l.starts_with("pending,")).count(), 5, "{csv}");
        assert_eq!(csv.lines().filter(|l| l.starts_with("mismatched,")).count(), 3, "{csv}");
        assert!(csv.contains("amount_mismatch: amount 151000 is not the fee 150000") && csv.contains("+07:00"), "{csv}");
        let o = cli(&["--date", &today.to_string()]);
        let table = String::from_utf8(o.stdout).unwrap();
        assert!(table.contains("paid: 2 (300000 VND); pending: 5; mismatched: 3"), "{table}");
        let o = cli(&["--date", "2026-02-30"]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("--date"), "{err}");
        let o = cli(&["--date", "1999-01-01"]);
        let table = String::from_utf8(o.stdout).unwrap();
        assert!(table.contains("paid: 0 (0 VND); pending: 0; mismatched: 0"), "another day is empty: {table}");

        // On the administrator's page, for administrators only.
        let (admin, _) = app.browser_login("quantri").await;
        let res = app.client.get(app.url(&format!("/admin/payments?date={today}"))).header("cookie", &admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        for (mode, order) in &orders {
            // A failed attempt moved no money: nothing to reconcile.
            assert_eq!(html.contains(order.as_str()), *mode != "fail", "{mode} {order}: {html}");
        }
        assert!(html.contains("Không khớp (3)") && html.contains("300.000 đồng"), "{html}");
        let res = app.client.get(app.url("/admin/payments?date=2026-99-01")).header("cookie", &admin).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let (desk, _) = app.browser_login("tiepnhan").await;
        let res = app.client.get(app.url("/admin/payments")).header("cookie", &desk).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
}

/// Without the payment flags the sandbox stays: labelled, paying at once, and the platform's
/// endpoints answer that no platform is connected.
#[tokio::test]
async fn the_sandbox_stays_the_default() {
    use clap::Parser;
    let cli = motcua::cli::Cli::try_parse_from(["motcua", "serve"]).unwrap();
    let provider = cli.common.payment.provider("http://127.0.0.1:8080").unwrap();
    assert!(provider.is_sandbox() && provider.gateway().is_none());
    let cli = motcua::cli::Cli::try_parse_from([
        "motcua",
        "--payment-url",
        "https://pay.example.gov.vn/checkout",
        "--payment-merchant",
        MERCHANT,
        "--payment-secret",
        SECRET,
        "serve",
    ])
    .unwrap();
    let provider = cli
        .common
        .payment
        .provider("https://motcua.example.gov.vn")
        .unwrap();
    let g = provider.gateway().expect("the platform");
    assert_eq!(
        g.notify_url(),
        "https://motcua.example.gov.vn/api/v1/payments/notify"
    );
    assert_eq!(g.expiry, chrono::Duration::minutes(15));
    // A half configuration is refused at start, in one line, exit 2.
    for args in [
        &["--payment-url", "https://pay.example/checkout"][..],
        &["--payment-secret", SECRET][..],
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
            .args(args)
            .arg("serve")
            .env(
                "MOTCUA_DATA_DIR",
                std::env::temp_dir().join("motcua-payment-args"),
            )
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(err.lines().count() == 1 && err.contains("--payment-"), "{err}");
    }

    let t = TestDb::sqlite().await;
    crate::support::load_fixtures(&t).await;
    let app = TestApp::spawn(&t).await;
    let (key, reference, page) = submit(&t, Actor::Guest).await;
    let res = app.get(&page).await;
    let form_cookie = set_cookie(&res, "motcua_form_csrf").unwrap();
    let html = res.text().await.unwrap();
    assert!(
        html.contains("sandbox-notice") && html.contains("Thanh toán thử nghiệm"),
        "{html}"
    );
    let csrf = hidden_value(&html, "csrf").unwrap();
    let res = app
        .client
        .post(app.url(&format!("/cong-dan/thanh-toan/{reference}")))
        .header("cookie", format!("motcua_form_csrf={form_cookie}"))
        .form(&[("csrf", csrf.as_str()), ("key", key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/cong-dan/da-nop/")
    );
    assert_eq!(payment_status(&t, &reference).await, "paid");
    // The sandbox's receipt says it is a test.
    let html = app
        .get(&format!("/cong-dan/ho-so/{key}/bien-lai?ref={reference}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("sandbox-notice") && html.contains("Một trăm năm mươi nghìn đồng"),
        "{html}"
    );
    // No platform: its notification endpoint and return page are not there.
    let res = app
        .client
        .post(app.url("/api/v1/payments/notify"))
        .form(&[("order_id", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(
        app.get("/cong-dan/ket-qua-thanh-toan?order_id=x").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM payment_callbacks").await, 0);
}
