//! The officers' pages in a real headless Chromium, driven over the W3C WebDriver protocol
//! (chromedriver, spoken with reqwest: fantoccini is built without TLS and its connector type
//! cannot be named from here). A dossier goes desk → Sở Xây dựng → desk with one supplement;
//! every failure leaves a screenshot and the page source under `target/browser-failures/`.

use crate::support::{TestApp, TestDb, add_user, load_fixtures, password_of};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long one wait for an element or a page may take.
const WAIT: Duration = Duration::from_secs(10);
/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

type Step<T> = Result<T, String>;

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_driver(dir: &Path) -> Driver {
    let port = free_port();
    let log = dir.join("chromedriver.log");
    let out = std::fs::File::create(&log).expect("chromedriver log");
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::from(out.try_clone().expect("log handle")))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        log,
    };
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(res) = http.get(format!("{}/status", driver.url)).send().await
            && let Ok(v) = res.json::<Value>().await
            && v["value"]["ready"] == true
        {
            return driver;
        }
        assert!(
            started.elapsed() < WAIT,
            "chromedriver did not become ready in {WAIT:?}; see {}",
            driver.log.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A WebDriver session in Chromium, spoken to over HTTP.
struct Browser {
    http: reqwest::Client,
    session: String,
    app: String,
    /// What the scenario is doing now (for the failure message).
    step: Mutex<String>,
}

impl Browser {
    async fn open(driver: &Driver, app: &str, profile: &Path) -> Browser {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1024", format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let res = http
            .post(format!("{}/session", driver.url))
            .json(&caps)
            .send()
            .await
            .expect("new session request");
        let body: Value = res.json().await.expect("new session answer");
        let id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {body}; see {}", driver.log.display()));
        Browser {
            http,
            session: format!("{}/session/{id}", driver.url),
            app: app.to_string(),
            step: Mutex::new("starting".into()),
        }
    }

    fn step(&self, what: &str) {
        *self.step.lock().expect("step") = what.to_string();
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Step<Value> {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| format!("webdriver {path}: {e}"))?;
        let status = res.status();
        let v: Value = res.json().await.map_err(|e| format!("webdriver {path}: {e}"))?;
        if status.is_success() {
            Ok(v["value"].clone())
        } else {
            Err(format!(
                "webdriver {path}: {} {}",
                v["value"]["error"],
                v["value"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("")
            ))
        }
    }

    async fn post(&self, path: &str, body: Value) -> Step<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Step<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn goto(&self, path: &str) -> Step<()> {
        self.post("/url", json!({"url": format!("{}{path}", self.app)}))
            .await?;
        Ok(())
    }

    async fn current_path(&self) -> Step<String> {
        let url = self.get("/url").await?;
        let url = url.as_str().unwrap_or("");
        Ok(url.strip_prefix(&self.app).unwrap_or(url).to_string())
    }

    async fn try_find(&self, css: &str) -> Step<Option<String>> {
        match self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await
        {
            Ok(v) => Ok(v[ELEMENT].as_str().map(str::to_string)),
            Err(e) if e.contains("no such element") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits (bounded) for an element to be there.
    async fn find(&self, css: &str) -> Step<String> {
        let started = Instant::now();
        loop {
            if let Some(id) = self.try_find(css).await? {
                return Ok(id);
            }
            if started.elapsed() > WAIT {
                return Err(format!(
                    "no element {css:?} after {WAIT:?} on {}",
                    self.current_path().await.unwrap_or_default()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn count(&self, css: &str) -> Step<usize> {
        let v = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(v.as_array().map(Vec::len).unwrap_or(0))
    }

    /// A command on an element, found again when the page was replaced under it (a
    /// navigation may still be finishing when the next step starts).
    async fn on_element(&self, css: &str, command: &str, body: Option<Value>) -> Step<Value> {
        let started = Instant::now();
        loop {
            let id = self.find(css).await?;
            let path = format!("/element/{id}/{command}");
            let answer = match &body {
                Some(b) => self.post(&path, b.clone()).await,
                None => self.get(&path).await,
            };
            match answer {
                Err(e) if replaced_under_us(&e) && started.elapsed() < WAIT => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    async fn click(&self, css: &str) -> Step<()> {
        self.on_element(css, "click", Some(json!({}))).await?;
        Ok(())
    }

    /// Types into a field, as a person would (after clearing it).
    async fn type_in(&self, css: &str, text: &str) -> Step<()> {
        self.on_element(css, "clear", Some(json!({}))).await?;
        self.on_element(css, "value", Some(json!({"text": text}))).await?;
        Ok(())
    }

    /// Chooses a file for a file input (its path, as the file dialog would).
    async fn choose_file(&self, css: &str, path: &Path) -> Step<()> {
        self.on_element(css, "value", Some(json!({"text": path.display().to_string()})))
            .await?;
        Ok(())
    }

    async fn text(&self, css: &str) -> Step<String> {
        Ok(self
            .on_element(css, "text", None)
            .await?
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    /// Waits (bounded) until the page shows a text.
    async fn see(&self, text: &str) -> Step<()> {
        let started = Instant::now();
        loop {
            let body = self.text("body").await?;
            if body.contains(text) {
                return Ok(());
            }
            if started.elapsed() > WAIT {
                return Err(format!(
                    "the page {} never showed {text:?}",
                    self.current_path().await.unwrap_or_default()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (bounded) until the browser is at a path.
    async fn arrive(&self, prefix: &str) -> Step<String> {
        let started = Instant::now();
        loop {
            let path = self.current_path().await?;
            if path.starts_with(prefix) {
                return Ok(path);
            }
            if started.elapsed() > WAIT {
                return Err(format!("expected to arrive at {prefix}, still at {path}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn login(&self, username: &str) -> Step<()> {
        self.step(&format!("signing in as {username}"));
        self.goto("/login").await?;
        self.type_in("#username", username).await?;
        self.type_in("#password", &password_of(username)).await?;
        self.click("form[action='/login'] button[type='submit']").await?;
        self.see("Đăng xuất").await
    }

    async fn logout(&self) -> Step<()> {
        self.step("signing out");
        self.click("form[action='/logout'] button").await?;
        self.see("Đăng nhập").await?;
        if self.try_find("form[action='/logout']").await?.is_some() {
            return Err("still signed in after signing out".into());
        }
        Ok(())
    }

    /// Saves a screenshot and the page source; their paths.
    async fn capture(&self, dir: &Path, name: &str) -> String {
        let _ = std::fs::create_dir_all(dir);
        let png = dir.join(format!("{name}.png"));
        let html = dir.join(format!("{name}.html"));
        let mut saved = Vec::new();
        if let Ok(v) = self.get("/screenshot").await
            && let Some(bytes) = v.as_str().and_then(base64_decode)
            && std::fs::write(&png, bytes).is_ok()
        {
            saved.push(png.display().to_string());
        }
        if let Ok(v) = self.get("/source").await
            && std::fs::write(&html, v.as_str().unwrap_or("")).is_ok()
        {
            saved.push(html.display().to_string());
        }
        if saved.is_empty() {
            "(nothing could be saved)".into()
        } else {
            saved.join(" and ")
        }
    }

    async fn close(&self) {
        let _ = self.call(reqwest::Method::DELETE, "", None).await;
    }
}

/// Errors of a command that raced a page being replaced: trying again on the new page is right.
fn replaced_under_us(error: &str) -> bool {
    [
        "stale element",
        "does not belong to the document",
        "no such execution context",
        "frame detached",
    ]
    .iter()
    .any(|m| error.contains(m))
}

/// Standard base64 (what WebDriver screenshots are in).
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn failures_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("browser-failures")
}

/// Whether Chromium and chromedriver are here; in CI their absence is a failure.
fn browsers_present() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "NO BROWSER ({} missing): browser tests NOT RUN. Install chromium and chromium-driver.",
        missing.join(", ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! {msg}\n");
    false
}

/// Opens the dossier from the inbox, as an officer would: by clicking its code.
async fn open_from_inbox(b: &Browser, inbox: &str, code: &str) -> Step<()> {
    b.goto(&format!("/ho-so?inbox={inbox}")).await?;
    b.click(&format!("a[href='/ho-so/{code}']")).await?;
    b.arrive(&format!("/ho-so/{code}")).await?;
    b.see(code).await
}

/// Submits an action form of the dossier page and waits for the confirmation.
async fn submit_action(b: &Browser, action: &str) -> Step<()> {
    b.click(&format!("#{action}-submit")).await?;
    b.see("Đã thực hiện:").await
}

async fn scenario(b: Arc<Browser>, files: PathBuf) -> Step<()> {
    let scan = files.join("don-de-nghi.pdf");
    let supplement = files.join("ban-ve-bo-sung.pdf");
    let result = files.join("giay-phep.pdf");
    for (path, bytes) in [
        (&scan, PDF),
        (&supplement, b"%PDF-1.5 ban ve".as_slice()),
        (&result, b"%PDF-1.7 giay phep".as_slice()),
    ] {
        std::fs::write(path, bytes).map_err(|e| e.to_string())?;
    }

    b.login("tiepnhan").await?;
    b.step("intake: choosing the procedure");
    b.goto("/ho-so").await?;
    b.click("a[href='/ho-so/tiep-nhan']").await?;
    b.type_in("#q", "giay phep xay dung").await?;
    b.click("#procedure-search").await?;
    b.arrive("/ho-so/tiep-nhan?agency=").await?;
    b.click("a.choose-procedure[data-code='1.009972']").await?;
    b.step("intake: filling in the form with a scan");
    b.find("#intake-submit").await?;
    b.type_in("#name", "Nguyễn Văn An").await?;
    b.type_in("#id_number", "015093000123").await?;
    b.type_in("#phone", "0912 345 678").await?;
    b.type_in("#email", "an@example.vn").await?;
    b.type_in("#address", "Tổ 5, phường Yên Bái").await?;
    b.type_in("#request", "Cấp giấy phép xây dựng nhà văn phòng 9 tầng")
        .await?;
    b.click("#c0_provided").await?;
    b.click("#c1_provided").await?;
    b.choose_file("#c0_file", &scan).await?;
    b.click("#intake-submit").await?;

    b.step("Form 01 after intake");
    let path = b.arrive("/ho-so/000.00.01.H56-").await?;
    if !path.ends_with("/phieu-tiep-nhan") {
        return Err(format!("intake went to {path}"));
    }
    b.see("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ").await?;
    let code = b.text(".form-qr .dossier-code").await?;
    if !code.starts_with("000.00.01.H56-") || !path.contains(&code) {
        return Err(format!("Form 01 shows code {code:?} at {path}"));
    }
    if b.count(".form-qr svg").await? != 1 {
        return Err("Form 01 has no QR code".into());
    }
    b.see("Nguyễn Văn An").await?;
    b.see("Dùng Ctrl+P để in").await?;

    b.step("the desk transfers to Sở Xây dựng");
    b.click(".form-toolbar a").await?;
    b.arrive(&format!("/ho-so/{code}")).await?;
    b.type_in("#transfer-note", "Chuyển Sở Xây dựng thẩm định")
        .await?;
    submit_action(&b, "transfer").await?;
    b.see("Đang xử lý").await?;
    b.logout().await?;

    b.login("lanhdao.xd").await?;
    b.step("the leader assigns the specialist");
    open_from_inbox(&b, "unit", &code).await?;
    b.click("#assign-assignee option[value='chuyenvien.xd']").await?;
    submit_action(&b, "assign").await?;
    b.logout().await?;

    b.login("chuyenvien.xd").await?;
    b.step("the specialist asks for a supplement");
    open_from_inbox(&b, "mine", &code).await?;
    b.type_in("#request_supplement-note", "Thiếu bản vẽ mặt cắt công trình")
        .await?;
    submit_action(&b, "request_supplement").await?;
    b.see("Chờ bổ sung").await?;
    b.click(&format!("a[href='/ho-so/{code}/phieu-bo-sung']")).await?;
    b.see("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ").await?;
    b.see("Thiếu bản vẽ mặt cắt công trình").await?;
    b.logout().await?;

    b.login("tiepnhan").await?;
    b.step("the desk receives the supplement");
    b.goto(&format!("/ho-so/{code}")).await?;
    b.choose_file("#receive_supplement-file", &supplement).await?;
    submit_action(&b, "receive_supplement").await?;
    b.see("ban-ve-bo-sung.pdf").await?;
    b.logout().await?;

    b.login("chuyenvien.xd").await?;
    b.step("the specialist completes the examination");
    open_from_inbox(&b, "mine", &code).await?;
    b.type_in("#complete_step-note", "Đủ điều kiện cấp phép").await?;
    submit_action(&b, "complete_step").await?;
    b.logout().await?;

    b.login("pheduyet.xd").await?;
    b.step("the approver signs and attaches the result");
    open_from_inbox(&b, "unit", &code).await?;
    b.type_in("#approve-result_number", "123/GPXD").await?;
    b.choose_file("#approve-file", &result).await?;
    submit_action(&b, "approve").await?;
    b.see("Đã có kết quả").await?;
    b.logout().await?;

    b.login("tiepnhan").await?;
    b.step("the desk returns the result");
    open_from_inbox(&b, "all", &code).await?;
    b.click("#return_result-method-desk").await?;
    submit_action(&b, "return_result").await?;
    b.see("Đã trả kết quả").await?;
    b.see("Tại bộ phận một cửa").await?;

    b.step("Form 06 shows every handover");
    b.click(&format!("a[href='/ho-so/{code}/phieu-kiem-soat']"))
        .await?;
    b.see("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ").await?;
    let rows = b.count("tr.handover").await?;
    if rows != 8 {
        return Err(format!("Form 06 has {rows} handovers, expected 8"));
    }
    let lead = b.text("#lead-agency").await?;
    if lead != "Sở Xây dựng" {
        return Err(format!("Form 06 lead agency is {lead:?}"));
    }
    for text in [
        "Chuyển xử lý",
        "Phân công thụ lý",
        "Yêu cầu bổ sung hồ sơ",
        "Phê duyệt, ban hành kết quả",
        "Trả kết quả",
    ] {
        b.see(text).await?;
    }
    b.logout().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dossier_crosses_two_agencies_in_a_real_browser() {
    if !browsers_present() {
        return;
    }
    let started = Instant::now();
    let t = TestDb::sqlite().await;
    load_fixtures(&t).await;
    add_user(
        &t.db,
        "tiepnhan",
        "000.00.01.H56",
        &["receiving_officer", "result_officer"],
    )
    .await;
    add_user(&t.db, "lanhdao.xd", "000.00.10.H56", &["leader"]).await;
    add_user(&t.db, "chuyenvien.xd", "000.00.10.H56", &["specialist"]).await;
    add_user(&t.db, "pheduyet.xd", "000.00.10.H56", &["approver"]).await;
    let app = TestApp::spawn(&t).await;
    let work = tempfile::tempdir().expect("temp dir");
    let profile = work.path().join("profile");
    std::fs::create_dir_all(&profile).expect("profile dir");
    let driver = start_driver(work.path()).await;
    let browser = Arc::new(Browser::open(&driver, &app.base, &profile).await);

    // The scenario runs in its own task so that a panic in it is caught here too: either way
    // the browser is still open to be photographed.
    let outcome = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::spawn(scenario(browser.clone(), work.path().to_path_buf())),
    )
    .await;
    let failure = match outcome {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(e))) => Some(e),
        Ok(Err(join)) => Some(format!("the scenario panicked: {join}")),
        Err(_) => Some("the scenario took longer than 90 s".into()),
    };
    if let Some(error) = failure {
        let step = browser.step.lock().expect("step").clone();
        let name = format!(
            "two-agencies-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        );
        let saved = browser.capture(&failures_dir(), &name).await;
        browser.close().await;
        // The driver's log lives in a temporary directory: keep a copy with the screenshot.
        let log = failures_dir().join(format!("{name}-chromedriver.log"));
        let log = match std::fs::copy(&driver.log, &log) {
            Ok(_) => log.display().to_string(),
            Err(_) => "(not saved)".into(),
        };
        panic!("browser test failed while {step}: {error}\nsaved: {saved}\nchromedriver log: {log}");
    }
    browser.close().await;
    eprintln!("browser scenario took {:?}", started.elapsed());
}
