//! The pages in a real headless Chromium, driven over the W3C WebDriver protocol (chromedriver,
//! spoken with reqwest, which the test binary already has: no WebDriver client crate to build
//! at all). A dossier goes desk → Sở Xây dựng → desk with one supplement; and a citizen
//! registers, submits online (and pays a fee in the sandbox), hands in a supplement, looks the
//! dossier up, downloads the result and rates it, while officers work in their own browser;
//! and every public and citizen page fits a 360 px phone and a laptop without sideways scroll.
//! Every failure leaves a screenshot and the page source of each browser under
//! `target/browser-failures/`.

use crate::support::{TestApp, TestDb, add_user, load_fixtures, password_of};
use motcua_store::Db;
use serde_json::{Value, json};
use std::future::Future;
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

/// The screen a browser renders for.
#[derive(Debug, Clone, Copy)]
enum Screen {
    /// A desktop window, in CSS pixels.
    Desktop { width: u32, height: u32 },
    /// A phone, through Chromium's mobile emulation (touch, the viewport meta tag, a device
    /// pixel ratio of 2).
    Phone { width: u32, height: u32 },
}

impl Screen {
    const DESKTOP: Screen = Screen::Desktop {
        width: 1280,
        height: 1024,
    };

    fn width(self) -> u32 {
        match self {
            Screen::Desktop { width, .. } | Screen::Phone { width, .. } => width,
        }
    }
}

/// A WebDriver session in Chromium, spoken to over HTTP.
struct Browser {
    http: reqwest::Client,
    session: String,
    app: String,
    /// Whose browser this is ("officer", "citizen"): names the screenshots and the steps.
    label: String,
    /// What the scenario is doing now (for the failure message), shared by its browsers.
    step: Arc<Mutex<String>>,
}

impl Browser {
    async fn open(
        driver: &Driver,
        app: &str,
        profile: &Path,
        label: &str,
        screen: Screen,
        step: Arc<Mutex<String>>,
    ) -> Browser {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let mut options = json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.display())]
        });
        match screen {
            Screen::Desktop { width, height } => {
                options["args"]
                    .as_array_mut()
                    .expect("the arguments")
                    .push(json!(format!("--window-size={width},{height}")));
            }
            Screen::Phone { width, height } => {
                options["mobileEmulation"] =
                    json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}});
            }
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options
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
            label: label.to_string(),
            step,
        }
    }

    fn step(&self, what: &str) {
        *self.step.lock().expect("step") = format!("[{}] {what}", self.label);
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

    /// The current value of a form field.
    async fn value(&self, css: &str) -> Step<String> {
        Ok(self
            .on_element(css, "property/value", None)
            .await?
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    /// An attribute as written in the page (`href` stays relative).
    async fn attribute(&self, css: &str, name: &str) -> Step<String> {
        Ok(self
            .on_element(css, &format!("attribute/{name}"), None)
            .await?
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    /// The value of one of the browser's cookies for the current page (HttpOnly ones too).
    async fn cookie(&self, name: &str) -> Step<String> {
        let c = self.get(&format!("/cookie/{name}")).await?;
        c["value"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("the browser has no cookie {name}: {c}"))
    }

    /// Runs a script in the page and returns its value. WebDriver's scripts are the
    /// browser's own: the pages' Content-Security-Policy, which allows none, does not apply.
    async fn script(&self, body: &str) -> Step<Value> {
        self.post("/execute/sync", json!({"script": body, "args": []}))
            .await
    }

    /// The text of the error summary, when the page shows one (for failure messages).
    async fn error_summary(&self) -> String {
        match self.try_find(".error-summary").await {
            Ok(Some(_)) => self.text(".error-summary").await.unwrap_or_default(),
            _ => String::new(),
        }
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

    /// Waits (bounded) until the browser's path and query contain a text.
    async fn arrive_containing(&self, part: &str) -> Step<String> {
        let started = Instant::now();
        loop {
            let path = self.current_path().await?;
            if path.contains(part) {
                return Ok(path);
            }
            if started.elapsed() > WAIT {
                return Err(format!(
                    "expected an address with {part:?}, still at {path}; the page says: {:?}",
                    self.error_summary().await
                ));
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

/// Submits an action form of the dossier page and waits for the confirmation of this very
/// action (the flash of the previous one may still be on the page).
async fn submit_action(b: &Browser, action: &str) -> Step<()> {
    b.click(&format!("#{action}-submit")).await?;
    b.arrive_containing(&format!("done={action}")).await?;
    b.see("Đã thực hiện:").await
}

async fn two_agencies(b: Arc<Browser>, files: PathBuf) -> Step<()> {
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

/// Runs a scenario in one desktop browser per label: see `in_browsers_on`.
async fn in_browsers<F, Fut>(name: &str, app: &str, labels: &[&str], scenario: F)
where
    F: FnOnce(Vec<Arc<Browser>>, PathBuf) -> Fut,
    Fut: Future<Output = Step<()>> + Send + 'static,
{
    let browsers: Vec<(&str, Screen)> = labels.iter().map(|l| (*l, Screen::DESKTOP)).collect();
    in_browsers_on(name, app, &browsers, scenario).await
}

/// Runs a scenario in one browser per label, each on its screen (one chromedriver, separate
/// profiles, so separate cookies) within 90 s. The scenario runs in its own task so that a
/// panic in it is caught here too: either way every browser is still open to be photographed
/// before the test fails.
async fn in_browsers_on<F, Fut>(name: &str, app: &str, browsers_on: &[(&str, Screen)], scenario: F)
where
    F: FnOnce(Vec<Arc<Browser>>, PathBuf) -> Fut,
    Fut: Future<Output = Step<()>> + Send + 'static,
{
    let started = Instant::now();
    let work = tempfile::tempdir().expect("temp dir");
    let files = work.path().join("files");
    std::fs::create_dir_all(&files).expect("files dir");
    let driver = start_driver(work.path()).await;
    let step = Arc::new(Mutex::new("starting".to_string()));
    let mut browsers = Vec::new();
    for (label, screen) in browsers_on {
        let profile = work.path().join(format!("profile-{label}"));
        std::fs::create_dir_all(&profile).expect("profile dir");
        browsers.push(Arc::new(
            Browser::open(&driver, app, &profile, label, *screen, step.clone()).await,
        ));
    }
    let mut task = tokio::spawn(scenario(browsers.clone(), files));
    let failure = match tokio::time::timeout(Duration::from_secs(90), &mut task).await {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(e))) => Some(e),
        Ok(Err(join)) => Some(format!("the scenario panicked: {join}")),
        Err(_) => {
            task.abort();
            Some("the scenario took longer than 90 s".into())
        }
    };
    if let Some(error) = failure {
        let step = step.lock().expect("step").clone();
        let name = format!(
            "{name}-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        );
        let mut saved = Vec::new();
        for b in &browsers {
            let what = b.capture(&failures_dir(), &format!("{name}-{}", b.label)).await;
            saved.push(format!("{}: {what}", b.label));
            b.close().await;
        }
        // The driver's log lives in a temporary directory: keep a copy with the screenshots.
        let log = failures_dir().join(format!("{name}-chromedriver.log"));
        let log = match std::fs::copy(&driver.log, &log) {
            Ok(_) => log.display().to_string(),
            Err(_) => "(not saved)".into(),
        };
        panic!(
            "browser test failed while {step}: {error}\nsaved: {}\nchromedriver log: {log}",
            saved.join("; ")
        );
    }
    for b in &browsers {
        b.close().await;
    }
    eprintln!("browser scenario {name} took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dossier_crosses_two_agencies_in_a_real_browser() {
    if !browsers_present() {
        return;
    }
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
    in_browsers("two-agencies", &app.base, &["officer"], |mut b, files| {
        two_agencies(b.remove(0), files)
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// A citizen's dossier, end to end.

const CITIZEN_NAME: &str = "Hoàng Thị Mai";
/// As the citizen types it; the account stores `0903112358`.
const CITIZEN_PHONE: &str = "0903 112 358";
const CITIZEN_LOGIN: &str = "0903112358";
const CITIZEN_PASSWORD: &str = "mat-khau-cua-mai";
/// Đăng ký khai sinh: commune level, fully online, no fee.
const BIRTH: &str = "1.001193";
const COMMUNE: &str = "000.30.01.H56";
/// Building permit: 150.000 đồng, paid online.
const PERMIT: &str = "1.009972";
const SUPPLEMENT_REASON: &str = "Ảnh giấy chứng sinh bị mờ, đề nghị nộp lại bản rõ nét";
const RESULT: &[u8] = b"%PDF-1.7 giay khai sinh so 15/2025";

/// The latest one-time code the notification port was asked to send to a login (read from
/// the outbox, where the port's queue is), waited for a bounded time.
async fn one_time_code(db: &Db, login: &str) -> Step<String> {
    let started = Instant::now();
    loop {
        let rows = motcua_store::repo::outbox::pending(db, 1000)
            .await
            .map_err(|e| format!("reading the outbox: {e}"))?;
        let code = rows
            .iter()
            .rev()
            .filter(|(_, topic, payload, _)| topic == "notify_citizen" && payload.contains(login))
            .find_map(|(_, _, payload, _)| {
                let msg: Value = serde_json::from_str(payload).ok()?;
                msg["message"]
                    .as_str()?
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 6)
                    .map(str::to_string)
            });
        if let Some(code) = code {
            return Ok(code);
        }
        if started.elapsed() > WAIT {
            return Err(format!("no one-time code for {login} in the outbox"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A part's "Lưu và tiếp tục" (and the check page's "Nộp hồ sơ"): the form's own button.
const SAVE_PART: &str = "main form[method='post'][enctype='multipart/form-data'] button[type='submit']";

/// From the landing page, finds a procedure with the chooser and submits it online for the
/// signed-in citizen; the dossier's key.
async fn submit_online(
    c: &Browser,
    procedure: &str,
    agency: &str,
    request: &str,
    scans: [&Path; 2],
) -> Step<String> {
    c.click(".site-header a.brand").await?;
    c.click("main a.button-start[href='/cong-dan/nop-ho-so']").await?;
    c.type_in("#q", procedure).await?;
    c.click("form[role='search'] button[type='submit']").await?;
    c.click(&format!(
        "main a.choice[href='/cong-dan/nop-ho-so?procedure={procedure}']"
    ))
    .await?;
    c.see(procedure).await?;
    Ok(send_online_form(c, agency, request, scans, None).await?.0)
}

/// From the start page on the screen, walks the submission journey for the signed-in citizen
/// by its links and buttons and sends it: the dossier's key, and the pages passed (each
/// measured on `screen` when given).
async fn send_online_form(
    c: &Browser,
    agency: &str,
    request: &str,
    scans: [&Path; 2],
    screen: Option<Screen>,
) -> Step<(String, Vec<String>)> {
    let mut passed = Vec::new();
    let measure = |passed: &mut Vec<String>, path: String| passed.push(path);
    macro_rules! here {
        () => {
            match screen {
                Some(s) => measure(&mut passed, fits(c, s).await?),
                None => measure(&mut passed, c.current_path().await?),
            }
        };
    }
    here!();
    c.click("main form[action='/cong-dan/nop-ho-so'] button[type='submit']")
        .await?;
    c.arrive("/cong-dan/ho-so-nhap/").await?;
    c.see("Đã xong 0 trên 4 phần.").await?;
    here!();
    c.click("main ol.task-list a[href$='/nguoi-nop']").await?;
    c.see("Phần 1 trên 4").await?;
    // Pre-filled from the account.
    let (name, phone) = (c.value("#name").await?, c.value("#phone").await?);
    if name != CITIZEN_NAME || phone != CITIZEN_LOGIN {
        return Err(format!(
            "the form is not pre-filled from the account: name {name:?}, phone {phone:?}"
        ));
    }
    here!();
    // A wrong ID number first: the error is in the summary and at the field.
    c.type_in("#id_number", "0151").await?;
    c.click(SAVE_PART).await?;
    c.see("Có lỗi cần sửa").await?;
    if c.attribute("#id_number", "aria-invalid").await? != "true" {
        return Err("the refused ID number is not marked aria-invalid".into());
    }
    c.find("#id_number-error").await?;
    c.find(".error-summary a[href='#id_number']").await?;
    here!();
    c.type_in("#id_number", "015192002345").await?;
    c.type_in("#address", "Tổ 3, phường Yên Bái").await?;
    c.click(SAVE_PART).await?;
    c.see("Phần 2 trên 4").await?;
    here!();
    c.click(&format!("#agency option[value='{agency}']")).await?;
    c.type_in("#request", request).await?;
    c.click(SAVE_PART).await?;
    c.see("Phần 3 trên 4").await?;
    here!();
    c.choose_file("#file_0", scans[0]).await?;
    c.choose_file("#file_1", scans[1]).await?;
    c.click(SAVE_PART).await?;
    c.see("Phần 4 trên 4").await?;
    here!();
    c.click("#delivery-desk").await?;
    c.click(SAVE_PART).await?;
    c.see("Kiểm tra thông tin trước khi nộp").await?;
    c.see("015192002345").await?;
    here!();
    c.click(SAVE_PART).await?;
    let path = c.arrive("/cong-dan/da-nop/").await?;
    c.see("Đã nộp hồ sơ").await?;
    c.see("Việc tiếp theo").await?;
    here!();
    let key = path
        .trim_start_matches("/cong-dan/da-nop/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_string();
    if !key.starts_with("online-") {
        return Err(format!("the submission went to {path}"));
    }
    Ok((key, passed))
}

async fn citizen_flow(c: Arc<Browser>, o: Arc<Browser>, db: Db, files: PathBuf) -> Step<()> {
    let form = files.join("to-khai-khai-sinh.pdf");
    let birth_cert = files.join("giay-chung-sinh.jpg");
    let supplement = files.join("giay-chung-sinh-ro-net.pdf");
    let application = files.join("don-de-nghi.pdf");
    let drawings = files.join("ban-ve.png");
    let result = files.join("giay-khai-sinh.pdf");
    for (path, bytes) in [
        (&form, b"%PDF-1.4 to khai dang ky khai sinh".as_slice()),
        (&birth_cert, b"\xFF\xD8\xFF\xE0 jpeg giay chung sinh".as_slice()),
        (&supplement, b"%PDF-1.5 giay chung sinh ro net".as_slice()),
        (&application, PDF),
        (&drawings, b"\x89PNG\r\n\x1a\n ban ve".as_slice()),
        (&result, RESULT),
    ] {
        std::fs::write(path, bytes).map_err(|e| e.to_string())?;
    }

    // The citizen's walk is on a phone, from the landing page by links and buttons only.
    c.step("registering with a phone number, from the landing page");
    c.goto("/").await?;
    c.click(".site-header a[href='/cong-dan/dang-nhap']").await?;
    c.click("main ul.links a[href='/cong-dan/dang-ky']").await?;
    c.arrive("/cong-dan/dang-ky").await?;
    c.type_in("#full_name", CITIZEN_NAME).await?;
    c.type_in("#login", CITIZEN_PHONE).await?;
    c.type_in("#password", CITIZEN_PASSWORD).await?;
    c.click("form[action='/cong-dan/dang-ky'] button[type='submit']")
        .await?;
    c.arrive(&format!("/cong-dan/xac-thuc?login={CITIZEN_LOGIN}"))
        .await?;
    c.see("Đã gửi mã xác thực.").await?;

    c.step("verifying the account with the one-time code");
    let code = one_time_code(&db, CITIZEN_LOGIN).await?;
    let login = c.value("#login").await?;
    if login != CITIZEN_LOGIN {
        return Err(format!("the verify form holds login {login:?}"));
    }
    c.type_in("#code", &code).await?;
    c.click("form[action='/cong-dan/xac-thuc'] button[type='submit']")
        .await?;
    c.arrive("/cong-dan/dang-nhap?verified=1").await?;
    c.see("Tài khoản đã được xác thực").await?;

    c.step("signing in as a citizen");
    c.type_in("#login", CITIZEN_PHONE).await?;
    c.type_in("#password", CITIZEN_PASSWORD).await?;
    c.click("form[action='/cong-dan/dang-nhap'] button[type='submit']")
        .await?;
    c.see(&format!("Xin chào, {CITIZEN_NAME}")).await?;
    c.see("Bạn chưa có hồ sơ nào").await?;

    c.step("submitting Đăng ký khai sinh online with two scans");
    let online_key = submit_online(
        &c,
        BIRTH,
        COMMUNE,
        "Đăng ký khai sinh cho con: Nguyễn Hoàng An",
        [&form, &birth_cert],
    )
    .await?;
    c.see("Đăng ký khai sinh").await?;
    if c.count(".sandbox-notice").await? != 0 {
        return Err("a procedure without fee asks for a payment".into());
    }

    c.step("submitting a building permit and paying its fee in the sandbox");
    let permit_key = submit_online(
        &c,
        PERMIT,
        "000.00.01.H56",
        "Cấp giấy phép xây dựng nhà ở",
        [&application, &drawings],
    )
    .await?;
    c.see("MÔI TRƯỜNG THỬ NGHIỆM (sandbox)").await?;
    c.see("Số tiền: 150.000 đồng").await?;
    c.click("form[action^='/cong-dan/thanh-toan/'] button[type='submit']")
        .await?;
    c.see("Đã thanh toán 150.000 đồng").await?;
    if c.count("form[action^='/cong-dan/thanh-toan/']").await? != 0 {
        return Err("the payment is still offered after paying".into());
    }
    c.click("a[href='/cong-dan']").await?;
    c.see(&format!("Xin chào, {CITIZEN_NAME}")).await?;
    for key in [&online_key, &permit_key] {
        c.find(&format!("a[href='/cong-dan/ho-so/{key}']")).await?;
    }
    c.see("Mới nộp trực tuyến").await?;

    o.login("tn.xa").await?;
    o.step("the desk accepts the online dossier from the queue");
    open_from_inbox(&o, "queue", &online_key).await?;
    for text in [
        "Mới nộp trực tuyến",
        CITIZEN_NAME,
        "to-khai-khai-sinh.pdf",
        "giay-chung-sinh.jpg",
    ] {
        o.see(text).await?;
    }
    submit_action(&o, "accept").await?;
    let path = o.current_path().await?;
    let code = path
        .trim_start_matches("/ho-so/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_string();
    if !code.starts_with(&format!("{COMMUNE}-")) {
        return Err(format!("the accepted dossier is at {path}"));
    }
    o.see("Đã tiếp nhận").await?;
    o.step("the desk transfers to the specialist");
    o.type_in("#transfer-note", "Chuyển công chức hộ tịch thụ lý")
        .await?;
    submit_action(&o, "transfer").await?;
    o.see("Đang xử lý").await?;
    o.logout().await?;

    o.login("cv.xa").await?;
    o.step("the specialist asks for a supplement");
    open_from_inbox(&o, "unit", &code).await?;
    o.type_in("#request_supplement-note", SUPPLEMENT_REASON).await?;
    submit_action(&o, "request_supplement").await?;
    o.see("Chờ bổ sung").await?;
    o.logout().await?;

    c.step("the citizen sees the request and hands in the supplement");
    c.click(".site-header a[href='/cong-dan']").await?;
    c.click(&format!("a[href='/cong-dan/ho-so/{code}']")).await?;
    c.arrive(&format!("/cong-dan/ho-so/{code}")).await?;
    c.see("Chờ bổ sung").await?;
    c.see(&format!("Cơ quan yêu cầu bổ sung: {SUPPLEMENT_REASON}"))
        .await?;
    c.choose_file("#file", &supplement).await?;
    c.click(&format!(
        "form[action='/cong-dan/ho-so/{code}/bo-sung'] button[type='submit']"
    ))
    .await?;
    c.see("Đã nộp hồ sơ bổ sung.").await?;
    c.see("Đang xử lý").await?;
    if c.count("form[action$='/bo-sung']").await? != 0 {
        return Err("the supplement form is still offered after handing it in".into());
    }

    o.login("cv.xa").await?;
    o.step("the specialist completes the examination");
    open_from_inbox(&o, "unit", &code).await?;
    o.see("giay-chung-sinh-ro-net.pdf").await?;
    o.type_in("#complete_step-note", "Đủ điều kiện đăng ký khai sinh")
        .await?;
    submit_action(&o, "complete_step").await?;
    o.logout().await?;

    o.login("pd.xa").await?;
    o.step("the approver signs and attaches the result");
    open_from_inbox(&o, "unit", &code).await?;
    o.type_in("#approve-result_number", "15/2025/KS").await?;
    o.choose_file("#approve-file", &result).await?;
    submit_action(&o, "approve").await?;
    o.see("Đã có kết quả").await?;
    o.logout().await?;

    o.login("tn.xa").await?;
    o.step("the desk returns the result electronically");
    open_from_inbox(&o, "all", &code).await?;
    o.click("#return_result-method-electronic").await?;
    submit_action(&o, "return_result").await?;
    o.see("Đã trả kết quả").await?;
    o.logout().await?;

    c.step("the citizen looks the dossier up by code and phone digits");
    c.click("a[href='/tra-cuu']").await?;
    c.arrive("/tra-cuu").await?;
    c.type_in("#ma", &code).await?;
    c.type_in("#verify", &CITIZEN_LOGIN[CITIZEN_LOGIN.len() - 4..])
        .await?;
    c.click("form[action='/tra-cuu'] button[type='submit']").await?;
    c.arrive("/tra-cuu?ma=").await?;
    c.see(&format!("Hồ sơ {code}")).await?;
    c.see("H. T. Mai").await?;
    c.see("Đã trả kết quả").await?;
    let shown = c.text("main").await?;
    if shown.contains(CITIZEN_NAME) || shown.contains(CITIZEN_LOGIN) {
        return Err("the public lookup shows the full name or the phone number".into());
    }

    c.step("the citizen downloads the result");
    c.click(".site-header a[href='/cong-dan']").await?;
    c.click(&format!("main a[href='/cong-dan/ho-so/{code}']")).await?;
    c.arrive(&format!("/cong-dan/ho-so/{code}")).await?;
    c.see("Đã trả kết quả").await?;
    let href = c.attribute("a[href$='/ket-qua']", "href").await?;
    if href != format!("/cong-dan/ho-so/{code}/ket-qua") {
        return Err(format!("the result link points at {href:?}"));
    }
    let session = c.cookie("motcua_citizen").await?;
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?
        .get(format!("{}{href}", c.app))
        .header("cookie", format!("motcua_citizen={session}"))
        .send()
        .await
        .map_err(|e| format!("downloading the result: {e}"))?;
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = res.bytes().await.map_err(|e| e.to_string())?;
    if status != reqwest::StatusCode::OK || content_type != "application/pdf" || bytes.as_ref() != RESULT {
        return Err(format!(
            "the result download answered {status} {content_type:?} with {} bytes",
            bytes.len()
        ));
    }

    c.step("the citizen rates the service");
    for (question, answer) in [
        ("q5", "2"),
        ("q6", "1"),
        ("q7", "2"),
        ("satisfaction", "very_satisfied"),
    ] {
        c.click(&format!("input[name='{question}'][value='{answer}']"))
            .await?;
    }
    c.click(&format!(
        "form[action='/cong-dan/ho-so/{code}/danh-gia'] button[type='submit']"
    ))
    .await?;
    c.see("Cảm ơn bạn đã đánh giá.").await?;
    c.see("Bạn đã đánh giá: Rất hài lòng").await?;
    if c.count("form[action$='/danh-gia']").await? != 0 {
        return Err("the rating form is still offered after rating".into());
    }
    let dossier = motcua_store::repo::dossiers::find(&db, &code)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the dossier is gone")?;
    let (answers, satisfaction) = motcua_store::repo::citizens::rating(&db, dossier.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no rating was stored")?;
    let answers: Value = serde_json::from_str(&answers).map_err(|e| e.to_string())?;
    if answers != json!({"q5": 2, "q6": 1, "q7": 2}) || satisfaction.as_str() != "very_satisfied" {
        return Err(format!("the rating stored is {answers} {satisfaction}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_submits_supplements_downloads_and_rates_in_a_real_browser() {
    if !browsers_present() {
        return;
    }
    let t = TestDb::sqlite().await;
    load_fixtures(&t).await;
    add_user(&t.db, "tn.xa", COMMUNE, &["receiving_officer", "result_officer"]).await;
    add_user(&t.db, "cv.xa", COMMUNE, &["specialist"]).await;
    add_user(&t.db, "pd.xa", COMMUNE, &["approver"]).await;
    let app = TestApp::spawn(&t).await;
    let db = t.db.clone();
    in_browsers_on(
        "citizen",
        &app.base,
        &[("citizen", PHONE), ("officer", Screen::DESKTOP)],
        move |b, files| citizen_flow(b[0].clone(), b[1].clone(), db, files),
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Phones: every public and citizen page at 360 px wide, and at 1366 px.

/// A mid-range Android phone.
const PHONE: Screen = Screen::Phone {
    width: 360,
    height: 740,
};
/// The most common laptop screen.
const LAPTOP: Screen = Screen::Desktop {
    width: 1366,
    height: 768,
};
const FEEDBACK_SUBJECT: &str = "Đề nghị niêm yết lịch tiếp công dân tại bộ phận một cửa";

/// What the page measures of itself: the document's scroll width against the layout
/// viewport's (`innerWidth` will not do: under mobile emulation it grows with what is too
/// wide), the outermost elements that reach past it outside a scrolling box, and the
/// controls smaller than a 44 px touch target.
const MEASURE: &str = r#"
const root = document.documentElement;
const width = root.clientWidth;
const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
  + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '')
  + (e.getAttribute('href') ? '[href=' + e.getAttribute('href') + ']' : '');
const past = (e) => e.getBoundingClientRect().right > width + 0.5;
const scrolled = (e) => {
  for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return true;
  }
  return false;
};
const wide = [];
const reaches = (e) => name(e) + ' reaches ' + Math.round(e.getBoundingClientRect().right) + ' px';
for (const e of document.body.querySelectorAll('*')) {
  if (wide.length < 6 && past(e) && !past(e.parentElement) && !scrolled(e)) wide.push(reaches(e));
}
// Else a positioned element escapes its scrolling box (whose own position is static).
const positioned = (e) => ['absolute', 'fixed'].includes(getComputedStyle(e).position);
if (!wide.length) for (const e of document.body.querySelectorAll('*')) {
  if (wide.length < 6 && past(e) && positioned(e)) wide.push(reaches(e) + ', positioned out of its box');
}
const small = [];
const controls = '.site-header a, .site-header button, main button, main .button, main ul.links a, main .pager a, '
  + 'main input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), main select';
for (const e of document.querySelectorAll(controls)) {
  const r = e.getBoundingClientRect();
  if (r.width > 0 && r.height > 0 && r.height < 43.5) small.push(name(e) + ' ' + r.height.toFixed(1) + ' px tall');
}
return {ready: document.readyState, scroll: root.scrollWidth, client: width, inner: window.innerWidth, wide: wide, small: small};
"#;

/// The page on the screen fits its width: nothing scrolls sideways (else the page, the widths
/// and what is too wide), and on a phone every link and button of the header and the forms
/// is a 44 px touch target. Its path.
async fn fits(b: &Browser, screen: Screen) -> Step<String> {
    b.find(".site-footer").await?;
    let path = b.current_path().await?;
    // Measured once the page and its stylesheet have loaded.
    let started = Instant::now();
    let m = loop {
        let m = b.script(MEASURE).await?;
        if m["ready"] == "complete" || started.elapsed() > WAIT {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let number = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
    let (scroll, client, inner) = (number("scroll"), number("client"), number("inner"));
    let list = |k: &str| {
        m[k].as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "))
            .unwrap_or_default()
    };
    if scroll > client {
        return Err(format!(
            "{path} scrolls sideways on a {} px screen: scrollWidth {scroll} > clientWidth {client} \
             (innerWidth {inner}); too wide: {}",
            screen.width(),
            list("wide")
        ));
    }
    // A page measured at another width than asked would prove nothing (a desktop window
    // keeps room for its scroll bar).
    let asked = f64::from(screen.width());
    if client > asked || client < asked - 20.0 {
        return Err(format!("{path} was laid out {client} px wide, not {asked} px"));
    }
    if matches!(screen, Screen::Phone { .. }) && !list("small").is_empty() {
        return Err(format!(
            "{path}: touch targets under 44 px on a phone: {}",
            list("small")
        ));
    }
    Ok(path)
}

/// The header names the signed-in citizen.
async fn named_in_header(b: &Browser) -> Step<()> {
    let header = b.text(".site-header").await?;
    if !header.contains(CITIZEN_NAME) || !header.contains("Hồ sơ của tôi") {
        return Err(format!(
            "the header of {} does not name the citizen: {header:?}",
            b.current_path().await.unwrap_or_default()
        ));
    }
    Ok(())
}

/// Every public and citizen page on a phone, reached the way a citizen would: from the landing
/// page, by its links and buttons. Then the same pages on a laptop.
async fn phone_pages(p: Arc<Browser>, d: Arc<Browser>, db: Db, code: String, files: PathBuf) -> Step<()> {
    let form = files.join("to-khai-khai-sinh.pdf");
    let birth_cert = files.join("giay-chung-sinh.pdf");
    for path in [&form, &birth_cert] {
        std::fs::write(path, PDF).map_err(|e| e.to_string())?;
    }
    // (path, seen signed in)
    let mut seen: Vec<(String, bool)> = Vec::new();

    p.step("the landing page");
    p.goto("/").await?;
    seen.push((fits(&p, PHONE).await?, false));

    p.step("the check of a result, from the footer");
    p.click(".site-footer a[href='/kiem-tra-ket-qua']").await?;
    p.arrive("/kiem-tra-ket-qua").await?;
    seen.push((fits(&p, PHONE).await?, false));
    p.click(".site-header a.brand").await?;

    p.step("the lookup, from the landing page");
    p.click("main ul.links a[href='/tra-cuu']").await?;
    p.arrive("/tra-cuu").await?;
    seen.push((fits(&p, PHONE).await?, false));
    let mode = p.attribute("#verify", "inputmode").await?;
    if mode != "numeric" {
        return Err(format!("the lookup's digits field has inputmode {mode:?}"));
    }
    p.type_in("#ma", &code).await?;
    p.type_in("#verify", &CITIZEN_LOGIN[CITIZEN_LOGIN.len() - 4..])
        .await?;
    p.click("form[action='/tra-cuu'] button[type='submit']").await?;
    p.arrive("/tra-cuu?ma=").await?;
    p.see(&format!("Hồ sơ {code}")).await?;
    seen.push((fits(&p, PHONE).await?, false));

    p.step("feedback, from the lookup's answer");
    p.click("main a[href^='/phan-anh?ma=']").await?;
    p.arrive("/phan-anh?ma=").await?;
    seen.push((fits(&p, PHONE).await?, false));
    p.click("main a[href='/phan-anh/da-tra-loi']").await?;
    p.arrive("/phan-anh/da-tra-loi").await?;
    p.see(FEEDBACK_SUBJECT).await?;
    seen.push((fits(&p, PHONE).await?, false));

    p.step("the catalog, from the landing page");
    p.click(".site-header a.brand").await?;
    p.click("main ul.links a[href='/thu-tuc']").await?;
    p.arrive("/thu-tuc").await?;
    seen.push((fits(&p, PHONE).await?, false));
    p.click(&format!("main a[href='/thu-tuc/{BIRTH}']")).await?;
    p.arrive(&format!("/thu-tuc/{BIRTH}")).await?;
    seen.push((fits(&p, PHONE).await?, false));
    p.click(&format!(
        "main a.button-start[href='/cong-dan/nop-ho-so?procedure={BIRTH}']"
    ))
    .await?;
    p.arrive(&format!("/cong-dan/nop-ho-so?procedure={BIRTH}"))
        .await?;
    seen.push((fits(&p, PHONE).await?, false));

    p.step("the submission chooser, from the landing page");
    p.click(".site-header a.brand").await?;
    p.click("main a.button-start[href='/cong-dan/nop-ho-so']").await?;
    p.find("main .choice-list").await?;
    seen.push((fits(&p, PHONE).await?, false));

    p.step("registering, from the chooser's sign-in link");
    p.click("main a[href^='/cong-dan/dang-nhap']").await?;
    p.arrive("/cong-dan/dang-nhap").await?;
    seen.push((fits(&p, PHONE).await?, false));
    p.click("main ul.links a[href='/cong-dan/dang-ky']").await?;
    p.arrive("/cong-dan/dang-ky").await?;
    seen.push((fits(&p, PHONE).await?, false));
    p.type_in("#full_name", CITIZEN_NAME).await?;
    p.type_in("#login", CITIZEN_PHONE).await?;
    p.type_in("#password", CITIZEN_PASSWORD).await?;
    p.click("form[action='/cong-dan/dang-ky'] button[type='submit']")
        .await?;
    p.arrive("/cong-dan/xac-thuc").await?;
    seen.push((fits(&p, PHONE).await?, false));
    let mode = p.attribute("#code", "inputmode").await?;
    if mode != "numeric" {
        return Err(format!("the one-time code field has inputmode {mode:?}"));
    }
    p.type_in("#code", &one_time_code(&db, CITIZEN_LOGIN).await?)
        .await?;
    p.click("form[action='/cong-dan/xac-thuc'] button[type='submit']")
        .await?;
    p.arrive("/cong-dan/dang-nhap?verified=1").await?;
    seen.push((fits(&p, PHONE).await?, false));

    // The dossier received at the desk for this phone number becomes the account's, as the
    // desk would link it.
    let citizen = motcua_store::repo::citizens::by_login(&db, CITIZEN_LOGIN)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the account is not there")?;
    let dossier = motcua_store::repo::dossiers::find(&db, &code)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the desk's dossier is not there")?;
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    motcua_store::repo::citizens::own_dossier(&mut tx, dossier.id, citizen.id)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;

    p.step("signing in: my dossiers");
    p.type_in("#login", CITIZEN_PHONE).await?;
    p.type_in("#password", CITIZEN_PASSWORD).await?;
    p.click("form[action='/cong-dan/dang-nhap'] button[type='submit']")
        .await?;
    p.see(&format!("Xin chào, {CITIZEN_NAME}")).await?;
    named_in_header(&p).await?;
    seen.push((fits(&p, PHONE).await?, true));

    p.step("submitting online, from my dossiers");
    p.click("main a.button-start[href='/cong-dan/nop-ho-so']").await?;
    p.find("main .choice-list").await?;
    named_in_header(&p).await?;
    seen.push((fits(&p, PHONE).await?, true));
    p.click(&format!(
        "main a.choice[href='/cong-dan/nop-ho-so?procedure={BIRTH}']"
    ))
    .await?;
    p.arrive(&format!("/cong-dan/nop-ho-so?procedure={BIRTH}"))
        .await?;
    named_in_header(&p).await?;
    seen.push((fits(&p, PHONE).await?, true));
    p.step("the submission journey, part by part");
    // Measured on the phone as it goes (a sent draft's pages are gone: not for the laptop).
    send_online_form(
        &p,
        COMMUNE,
        "Đăng ký khai sinh cho con: Nguyễn Hoàng An",
        [&form, &birth_cert],
        Some(PHONE),
    )
    .await?;
    named_in_header(&p).await?;

    p.step("a dossier of mine, from the header");
    p.click(".site-header a[href='/cong-dan']").await?;
    p.click(&format!("main a[href='/cong-dan/ho-so/{code}']")).await?;
    p.arrive(&format!("/cong-dan/ho-so/{code}")).await?;
    p.see("Quá trình xử lý").await?;
    named_in_header(&p).await?;
    seen.push((fits(&p, PHONE).await?, true));

    p.step("my data store, from my dossiers");
    p.click(".site-header a[href='/cong-dan']").await?;
    p.click("main a#data-store").await?;
    p.arrive("/cong-dan/kho-du-lieu").await?;
    p.see("Kho dữ liệu của tôi").await?;
    named_in_header(&p).await?;
    seen.push((fits(&p, PHONE).await?, true));

    d.step("the same pages on a laptop");
    let mut signed_in = false;
    for (path, signed) in &seen {
        if *signed && !signed_in {
            d.goto("/cong-dan/dang-nhap").await?;
            d.type_in("#login", CITIZEN_PHONE).await?;
            d.type_in("#password", CITIZEN_PASSWORD).await?;
            d.click("form[action='/cong-dan/dang-nhap'] button[type='submit']")
                .await?;
            d.see(&format!("Xin chào, {CITIZEN_NAME}")).await?;
            signed_in = true;
        }
        d.step(&format!("{path} on a laptop"));
        d.goto(path).await?;
        fits(&d, LAPTOP).await?;
        if *signed {
            named_in_header(&d).await?;
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_public_and_citizen_page_fits_a_phone_in_a_real_browser() {
    if !browsers_present() {
        return;
    }
    let t = TestDb::sqlite().await;
    load_fixtures(&t).await;
    add_user(&t.db, "tn.xa", COMMUNE, &["receiving_officer", "result_officer"]).await;
    add_user(&t.db, "cv.xa", COMMUNE, &["specialist"]).await;
    let app = TestApp::spawn(&t).await;
    // A dossier received at the commune's desk for the citizen's phone, one step on.
    let desk = app.token("tn.xa").await;
    let body = json!({"procedure": BIRTH, "agency": COMMUNE, "channel": "direct",
        "applicant": {"kind": "person", "name": CITIZEN_NAME, "id_number": "015192002345", "phone": CITIZEN_LOGIN},
        "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]});
    let (status, d) = app
        .call(reqwest::Method::POST, "/api/v1/dossiers", &desk, Some(&body))
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{d}");
    let code = d["code"].as_str().expect("a code").to_string();
    let (status, d) = app
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/dossiers/{code}/actions/transfer"),
            &desk,
            Some(&json!({"note": "Chuyển công chức hộ tịch thụ lý"})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{d}");
    // An answer published on the public feedback list.
    let res = app
        .client
        .post(app.url("/api/v1/feedback"))
        .json(&json!({"name": "Lê Thị Hoa", "phone": "0987654321", "agency": COMMUNE,
            "subject": FEEDBACK_SUBJECT,
            "content": "Lịch tiếp công dân chưa được niêm yết tại trụ sở UBND xã, người dân không biết ngày nào lãnh đạo tiếp."}))
        .send()
        .await
        .expect("feedback");
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let reference = res.json::<Value>().await.expect("json")["reference"]
        .as_str()
        .expect("a reference")
        .to_string();
    let officer = app.token("cv.xa").await;
    for (action, body) in [
        ("classify", json!({})),
        ("process", json!({})),
        (
            "answer",
            json!({"answer": "UBND xã đã niêm yết lịch tiếp công dân tại bộ phận một cửa và trên cổng thông tin."}),
        ),
        ("publish", json!({})),
    ] {
        let (status, f) = app
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/feedback/{reference}/actions/{action}"),
                &officer,
                Some(&body),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{action}: {f}");
    }
    let db = t.db.clone();
    in_browsers_on(
        "phones",
        &app.base,
        &[("phone", PHONE), ("laptop", LAPTOP)],
        move |b, files| phone_pages(b[0].clone(), b[1].clone(), db, code, files),
    )
    .await;
}
