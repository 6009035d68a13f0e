//! The citizen-facing pages in English (the `motcua_lang=en` cookie) and, without the cookie,
//! in Vietnamese: the catalog, the account pages, online submission, the citizen's dossier,
//! feedback and petitions, the landing and error pages. Forms sent in English answer in
//! English; procedure data stays as stored.

use crate::support::{TestApp, TestDb, add_user, code_for, load_fixtures};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A visitor with a cookie jar, reading the pages in one language (None: Vietnamese).
struct Visitor<'a> {
    app: &'a TestApp,
    jar: BTreeMap<String, String>,
}

struct Page {
    status: StatusCode,
    location: String,
    html: String,
}

impl Page {
    /// The CSRF token of the page's form.
    fn csrf(&self) -> String {
        crate::support::hidden_value(&self.html, "csrf").expect("a csrf field")
    }

    fn has(&self, texts: &[&str]) -> &Self {
        for text in texts {
            assert!(self.html.contains(text), "{text:?} missing from:\n{}", self.html);
        }
        self
    }

    fn lacks(&self, texts: &[&str]) -> &Self {
        for text in texts {
            assert!(!self.html.contains(text), "{text:?} present in:\n{}", self.html);
        }
        self
    }

    fn english(&self) -> &Self {
        self.has(&[r#"<html lang="en">"#, ">Tiếng Việt<"])
    }

    fn vietnamese(&self) -> &Self {
        self.has(&[r#"<html lang="vi">"#, ">English<"])
    }
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp, lang: Option<&str>) -> Self {
        let mut jar = BTreeMap::new();
        if let Some(l) = lang {
            jar.insert("motcua_lang".to_string(), l.to_string());
        }
        Visitor { app, jar }
    }

    fn english(app: &'a TestApp) -> Self {
        Self::new(app, Some("en"))
    }

    fn vietnamese(app: &'a TestApp) -> Self {
        Self::new(app, None)
    }

    fn cookie(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn take(&mut self, res: reqwest::Response) -> Page {
        for v in res.headers().get_all("set-cookie") {
            let first = v.to_str().expect("ascii").split(';').next().unwrap_or("");
            if let Some((k, val)) = first.split_once('=') {
                if val.is_empty() {
                    self.jar.remove(k);
                } else {
                    self.jar.insert(k.to_string(), val.to_string());
                }
            }
        }
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().expect("ascii").to_string())
            .unwrap_or_default();
        Page {
            status,
            location,
            html: res.text().await.expect("body"),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let res = self
            .app
            .client
            .get(self.app.url(path))
            .header("cookie", self.cookie())
            .send()
            .await
            .expect("get");
        self.take(res).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let res = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", self.cookie())
            .form(fields)
            .send()
            .await
            .expect("post");
        self.take(res).await
    }

    /// GETs a form, then posts it with its CSRF token and these fields.
    async fn fill(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(path).await.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    async fn multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Page {
        let (content_type, body) = crate::journey::multipart(fields, files);
        let res = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", self.cookie())
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("multipart");
        self.take(res).await
    }

    /// Registers, confirms and signs in a citizen (the code read from the outbox).
    async fn sign_up(&mut self, t: &TestDb, name: &str, login: &str) {
        let password = "mat-khau-an-toan";
        let res = self
            .fill(
                "/cong-dan/dang-ky",
                &[("full_name", name), ("login", login), ("password", password)],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
        let code = code_for(t, login).await;
        let res = self
            .fill("/cong-dan/xac-thuc", &[("login", login), ("code", &code)])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
        let res = self
            .fill("/cong-dan/dang-nhap", &[("login", login), ("password", password)])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
        assert!(self.jar.contains_key("motcua_citizen"));
    }
}

async fn api(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("api");
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.expect("json")
}

#[tokio::test]
async fn the_catalog_reads_in_english() {
    let t = TestDb::sqlite().await;
    load_fixtures(&t).await;
    let app = TestApp::spawn(&t).await;
    let (mut en, mut vi) = (Visitor::english(&app), Visitor::vietnamese(&app));

    en.get("/thu-tuc")
        .await
        .english()
        .has(&[
            "<h1>Administrative procedures</h1>",
            r#"<label for="q">Find a procedure</label>"#,
            "All fields",
            "Implementing level",
            r#"<h2 id="results">2 procedures found</h2>"#,
            "<td>1 working day</td>",
            "<td>20 working days</td>",
            "Commune level",
            "Full online public service",
            "Partial online public service",
            "4 on the spot",
            // Procedure data stays as stored.
            "Đăng ký khai sinh",
            "Hộ tịch",
        ])
        .lacks(&["Thời hạn giải quyết", "ngày làm việc", "Cấp xã", "Tìm thấy"]);
    en.get("/thu-tuc?q=zzzz").await.english().has(&[
        "0 procedures found",
        "No procedure matches.",
        "see the whole catalog",
    ]);
    en.get("/thu-tuc?q=khai+sinh").await.has(&["1 procedure found"]);
    vi.get("/thu-tuc")
        .await
        .vietnamese()
        .has(&[
            "<h1>Thủ tục hành chính</h1>",
            r#"<h2 id="results">Tìm thấy 2 thủ tục</h2>"#,
            "<td>1 ngày làm việc</td>",
            "Cấp xã",
            "Dịch vụ công trực tuyến toàn trình",
            "4 tại chỗ",
        ])
        .lacks(&["procedures found", "working day"]);

    en.get("/thu-tuc/1.001193")
        .await
        .english()
        .has(&[
            "← Procedure catalog",
            "<dt>Procedure code</dt>",
            "<dt>Time limit</dt><dd>1 working day</dd>",
            "Dossiers submitted before 15:00 get their result the same day",
            "Yes: received, appraised, approved and returned on the spot at the one-stop desk",
            "Where to submit",
            r#"<span class="tag">One-stop desk</span>"#,
            "<li>In person</li><li>By public postal service</li><li>Online</li>",
            "Required documents",
            "<td>Required</td>",
            r#"<span lang="vi">Lệ phí</span>: 0 VND (<span lang="vi">Miễn lệ phí</span>)"#,
            "Requirements and conditions</h2>\n<p>None</p>",
            r#"Case: <span lang="vi">Đăng ký đúng hạn</span>"#,
            "<p>Time limit: 3 working days</p>",
            "<td>Receiving officer</td><td>Receiving agency</td><td>0.25 days</td>",
            "Version 1, in force from",
        ])
        .lacks(&["Thành phần hồ sơ", "Bắt buộc", "Cơ quan tiếp nhận", "0,25 ngày"]);
    en.get("/thu-tuc/1.009972").await.english().has(&[
        r#"<span lang="vi">Lệ phí cấp giấy phép xây dựng</span>: 150,000 VND"#,
        r#"Download the form: <span lang="vi">Mẫu đơn đề nghị cấp giấy phép xây dựng</span>"#,
        "<td>Handling specialist</td><td>Sở Xây dựng</td><td>15 days</td>",
        "Provincial level",
    ]);
    vi.get("/thu-tuc/1.001193")
        .await
        .vietnamese()
        .has(&[
            "<dt>Mã thủ tục</dt>",
            "<dt>Thời hạn giải quyết</dt><dd>1 ngày làm việc</dd>",
            r#"Trường hợp: <span lang="vi">Đăng ký đúng hạn</span>"#,
            "<td>Công chức tiếp nhận</td><td>Cơ quan tiếp nhận</td><td>0,25 ngày</td>",
        ])
        .lacks(&["Required documents"]);
    vi.get("/thu-tuc/1.009972")
        .await
        .has(&[r#"<span lang="vi">Lệ phí cấp giấy phép xây dựng</span>: 150.000 đồng"#]);
}

#[tokio::test]
async fn the_account_pages_and_their_errors_read_in_english() {
    let t = TestDb::sqlite().await;
    let app = TestApp::spawn(&t).await;
    let (mut en, mut vi) = (Visitor::english(&app), Visitor::vietnamese(&app));

    en.get("/cong-dan/dang-ky").await.english().has(&[
        "<h1>Create an account</h1>",
        r#"<label for="full_name">Full name</label>"#,
        r#"<label for="login">Phone number or email</label>"#,
        r#"<label for="password">Password (at least 8 characters)</label>"#,
        r#"<button class="button" type="submit">Register</button>"#,
        "Already have an account? Sign in",
    ]);
    // A bad phone, a missing name and a short password: the service's checks, in English.
    let bad = [("full_name", ""), ("login", "12345"), ("password", "short")];
    let res = en.fill("/cong-dan/dang-ky", &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    res.english()
        .has(&[
            "Please correct the following",
            r##"<a href="#login">The phone number is not valid (10 digits, starting with 0).</a>"##,
            r##"<a href="#full_name">Enter your full name (at most 200 characters).</a>"##,
            r##"<a href="#password">The password needs at least 8 characters.</a>"##,
        ])
        .lacks(&["Số điện thoại không hợp lệ", "Có lỗi cần sửa"]);
    let res = vi.fill("/cong-dan/dang-ky", &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    res.vietnamese().has(&[
        "Có lỗi cần sửa",
        "Số điện thoại không hợp lệ (10 chữ số, bắt đầu bằng 0).",
        "Mật khẩu cần ít nhất 8 ký tự.",
    ]);
    let res = en
        .fill(
            "/cong-dan/dang-ky",
            &[
                ("full_name", "A"),
                ("login", "a@b"),
                ("password", "mat-khau-an-toan"),
            ],
        )
        .await;
    res.has(&["The email address is not valid."]);
    // Without the form cookie: the form expired.
    let mut stranger = Visitor::english(&app);
    let res = stranger
        .post(
            "/cong-dan/dang-ky",
            &[("csrf", "x"), ("full_name", "A"), ("login", "0912345678")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    res.has(&["The form has expired. Please send it again."]);

    // Register, confirm with a wrong code, then the right one, sign in.
    let res = en
        .fill(
            "/cong-dan/dang-ky",
            &[
                ("full_name", "Trần Thị Bích"),
                ("login", "0912345678"),
                ("password", "mat-khau-an-toan"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    en.get(&res.location).await.english().has(&[
        "<h1>Confirm your account</h1>",
        "Enter the 6-digit code just sent to your phone or email (valid for 10 minutes).",
        "A confirmation code has been sent.",
        r#"<label for="code">Confirmation code</label>"#,
    ]);
    let res = en
        .fill(
            "/cong-dan/dang-nhap",
            &[("login", "0912345678"), ("password", "mat-khau-an-toan")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    res.has(&["The account is not confirmed yet. Enter the code we sent you."]);
    let code = code_for(&t, "0912345678").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = en
        .fill("/cong-dan/xac-thuc", &[("login", "0912345678"), ("code", wrong)])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    res.has(&["The code is wrong or has expired. You can ask for a new code."]);
    let res = en
        .fill("/cong-dan/xac-thuc", &[("login", "0912345678"), ("code", &code)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    en.get(&res.location).await.english().has(&[
        "<h1>Citizen sign-in</h1>",
        "Your account is confirmed. Please sign in.",
        "No account yet? Register",
        "Forgot your password?",
    ]);
    let res = en
        .fill(
            "/cong-dan/dang-nhap",
            &[("login", "0912345678"), ("password", "sai-mat-khau")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    res.has(&["Wrong account or password."]);
    let res = en
        .fill(
            "/cong-dan/dang-ky",
            &[
                ("full_name", "Kẻ khác"),
                ("login", "0912345678"),
                ("password", "mat-khau-khac-1"),
            ],
        )
        .await;
    res.has(&["This phone number or email already has an account. Sign in or reset the password."]);
    en.get("/cong-dan/quen-mat-khau").await.english().has(&[
        "<h1>Forgotten password</h1>",
        "Send the code",
        "Back to sign-in",
    ]);
    en.get("/cong-dan/dat-lai-mat-khau?login=0912345678&sent=1")
        .await
        .english()
        .has(&[
            "<h1>Reset your password</h1>",
            "If the account exists, a code has been sent.",
            "New password (at least 8 characters)",
        ]);
    let res = en
        .fill(
            "/cong-dan/dang-nhap",
            &[("login", "0912345678"), ("password", "mat-khau-an-toan")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    en.get("/cong-dan").await.english().has(&[
        "<h1>Hello, Trần Thị Bích</h1>",
        "<h2>My dossiers</h2>",
        "You have no dossiers yet.",
        r#"<button class="button" type="submit">Sign out</button>"#,
    ]);
    vi.get("/cong-dan/dang-nhap?verified=1").await.vietnamese().has(&[
        "<h1>Đăng nhập công dân</h1>",
        "Tài khoản đã được xác thực. Mời bạn đăng nhập.",
    ]);
}

#[tokio::test]
async fn online_submission_reads_in_english_and_keeps_the_sandbox_label() {
    let t = TestDb::sqlite().await;
    load_fixtures(&t).await;
    let app = TestApp::spawn(&t).await;
    let mut en = Visitor::english(&app);
    en.sign_up(&t, "Phạm Thị Dung", "0911222333").await;

    en.get("/cong-dan/nop-ho-so?procedure=1.001193")
        .await
        .has(&["<legend>Case</legend>", "Start now →</button>"]);
    let start = en.get("/cong-dan/nop-ho-so?procedure=1.009972").await;
    start.english().has(&[
        "<h1>Submit a dossier online</h1>",
        "<h2>Before you start</h2>",
        "Fees and charges: <strong>150,000 VND</strong>, paid online after you submit.",
        "<strong lang=\"en\">(required)</strong>",
    ]);
    let res = en
        .post(
            "/cong-dan/nop-ho-so",
            &[
                ("csrf", &start.csrf()),
                ("procedure", "1.009972"),
                ("case", "cong-trinh"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let draft = res.location.clone();
    en.get(&draft).await.english().has(&[
        "<h1>Your application</h1>",
        "You have completed 0 of 4 parts.",
        "About the applicant",
        "Not yet started",
    ]);
    let part = en.get(&format!("{draft}/nguoi-nop")).await;
    part.english().has(&[
        ">Citizen (personal ID number)</label>",
        r#"<label for="id_number">Personal ID number (12 digits) or tax code</label>"#,
        "Part 1 of 4",
        r#"<button class="button" type="submit">Save and continue</button>"#,
    ]);
    let fields = [
        ("kind", "person"),
        ("name", "Phạm Thị Dung"),
        ("id_number", "015192002345"),
        ("phone", "0911222333"),
        ("email", ""),
        ("address", "Yên Bái"),
    ];
    let mut all = vec![("csrf", part.csrf())];
    all.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = en.multipart(&format!("{draft}/nguoi-nop"), &refs, &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
    let part = en.get(&format!("{draft}/yeu-cau")).await;
    let res = en
        .multipart(
            &format!("{draft}/yeu-cau"),
            &[
                ("csrf", &part.csrf()),
                ("agency", "000.00.01.H56"),
                ("request", "Xin cấp phép"),
            ],
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
    let part = en.get(&format!("{draft}/giay-to")).await;
    part.english()
        .has(&["Documents (PDF, JPEG or PNG files, at most 10 MB each)"]);
    let res = en
        .multipart(
            &format!("{draft}/giay-to"),
            &[("csrf", &part.csrf())],
            &[("file_0", "don.pdf", b"%PDF-1.4 don")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    res.english()
        .has(&[
            "<title>Error: ",
            "Please correct the following",
            "A required document is missing",
            "Uploaded: <strong>don.pdf</strong>",
        ])
        .lacks(&["Thiếu thành phần hồ sơ bắt buộc"]);
    let res = en
        .multipart(
            &format!("{draft}/giay-to"),
            &[("csrf", &res.csrf())],
            &[("file_1", "ban-ve.png", b"\x89PNG\r\n\x1a\n....")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
    let part = en.get(&format!("{draft}/nhan-ket-qua")).await;
    part.english()
        .has(&["Collect it at the one-stop desk", "By the public postal service"]);
    let res = en
        .multipart(
            &format!("{draft}/nhan-ket-qua"),
            &[("csrf", &part.csrf()), ("delivery", "desk")],
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
    assert!(res.location.ends_with("/kiem-tra"));
    let check = en.get(&res.location).await;
    check.english().has(&[
        "<h1>Check your answers before submitting</h1>",
        "Change",
        "ban-ve.png",
    ]);
    let res = en.multipart(&res.location, &[("csrf", &check.csrf())], &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
    let submitted = res.location.clone();
    let key = submitted
        .trim_start_matches("/cong-dan/da-nop/")
        .split('?')
        .next()
        .expect("key")
        .to_string();
    let page = en.get(&submitted).await;
    // The payment's reference, from the checkout form (the address holds the receipt secret).
    let reference = page
        .html
        .split("/cong-dan/thanh-toan/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the checkout form")
        .to_string();
    page.english()
        .has(&[
            "<h1>Dossier submitted</h1>",
            &format!("Keep this reference to look the dossier up: <strong class=\"code\" id=\"reference\">{key}</strong>"),
            "What happens next",
            "An officer will check the dossier before <strong>",
            "tracking page",
            "<strong>TEST ENVIRONMENT (sandbox)</strong>: no real money is transferred.",
            "Amount: <strong>150,000 VND</strong>",
            "Make a test payment",
            "See my dossiers",
        ])
        .lacks(&["MÔI TRƯỜNG THỬ NGHIỆM"]);
    Visitor::vietnamese(&app)
        .get(&submitted)
        .await
        .vietnamese()
        .has(&[
            "<h1>Đã nộp hồ sơ</h1>",
            "<strong>MÔI TRƯỜNG THỬ NGHIỆM (sandbox)</strong>: không có tiền thật được chuyển.",
            "Số tiền: <strong>150.000 đồng</strong>",
        ]);
    let csrf = en.jar.get("motcua_form_csrf").cloned().expect("form cookie");
    let res = en
        .post(
            &format!("/cong-dan/thanh-toan/{reference}"),
            &[("csrf", "wrong"), ("key", &key)],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    res.english().has(&[
        "<h1>Access denied</h1>",
        "The form is not valid (CSRF).",
        "Error code: 403",
    ]);
    let res = en
        .post(
            &format!("/cong-dan/thanh-toan/{reference}"),
            &[("csrf", &csrf), ("key", &key)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    en.get(&submitted)
        .await
        .has(&[&format!("Paid 150,000 VND (transaction {reference}).")]);
    // Paying again with a fresh form token: already paid.
    let csrf = en.jar.get("motcua_form_csrf").cloned().expect("form cookie");
    let res = en
        .post(
            &format!("/cong-dan/thanh-toan/{reference}"),
            &[("csrf", &csrf), ("key", &key)],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    res.has(&["This payment does not exist or has already been paid."]);
    en.get("/cong-dan")
        .await
        .has(&[&key, "<td>Submitted online</td>"])
        .lacks(&["Mới nộp trực tuyến"]);
}

#[tokio::test]
async fn the_citizens_dossier_reads_in_english() {
    let t = TestDb::sqlite().await;
    load_fixtures(&t).await;
    add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
    add_user(&t.db, "cv.xa", "000.30.01.H56", &["specialist"]).await;
    let app = TestApp::spawn(&t).await;
    let mut en = Visitor::english(&app);
    en.sign_up(&t, "Phạm Thị Dung", "0911222333").await;
    let desk = app.token("tn.xa").await;
    let body = json!({"procedure": "1.001193", "agency": "000.30.01.H56", "channel": "online",
        "applicant": {"kind": "person", "name": "Phạm Thị Dung", "id_number": "015192002345", "phone": "0911222333"},
        "components": [{"index": 0, "provided": true}, {"index": 1, "provided": true}]});
    let d = api(&app, &desk, "/api/v1/dossiers", body).await;
    let online_key = d["key"].as_str().expect("key").to_string();
    let citizen = motcua_store::repo::citizens::by_login(&t.db, "0911222333")
        .await
        .expect("citizen")
        .expect("exists");
    let found = motcua_store::repo::dossiers::find(&t.db, &online_key)
        .await
        .expect("find")
        .expect("dossier");
    let mut tx = t.db.begin().await.expect("begin");
    motcua_store::repo::citizens::own_dossier(&mut tx, found.id, citizen.id)
        .await
        .expect("own");
    tx.commit().await.expect("commit");
    let d = api(
        &app,
        &desk,
        &format!("/api/v1/dossiers/{online_key}/actions/accept"),
        json!({}),
    )
    .await;
    let key = d["code"].as_str().expect("code").to_string();
    api(
        &app,
        &desk,
        &format!("/api/v1/dossiers/{key}/actions/transfer"),
        json!({}),
    )
    .await;
    let cv = app.token("cv.xa").await;
    api(
        &app,
        &cv,
        &format!("/api/v1/dossiers/{key}/actions/request_supplement"),
        json!({"note": "Ảnh giấy chứng sinh bị mờ"}),
    )
    .await;

    let path = format!("/cong-dan/ho-so/{key}");
    let page = en.get(&path).await;
    page.english()
        .has(&[
            &format!("<h1>Dossier {key}</h1>"),
            "← My dossiers",
            "<dt>Status</dt><dd><strong>Awaiting additional documents</strong></dd>",
            "<strong>The agency asks you to add:</strong> <span lang=\"vi\">Ảnh giấy chứng sinh bị mờ</span>",
            "<h2>What you submitted</h2>",
            "<h2>Hand in additional documents</h2>",
            "Additional file (PDF, JPEG or PNG, at most 10 MB)",
            "<h2>Withdraw the dossier</h2>",
        ])
        .lacks(&["Chờ bổ sung", "Nộp hồ sơ bổ sung"]);
    let csrf = page.csrf();
    let res = en
        .multipart(&format!("{path}/bo-sung"), &[("csrf", &csrf)], &[])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    res.has(&[
        "<title>Error: ",
        "Please correct the following",
        "Choose the file to hand in (PDF, JPEG or PNG).",
    ]);
    let res = en
        .multipart(&format!("{path}/danh-gia"), &[("csrf", &csrf)], &[])
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    res.has(&["Only finished dossiers can be rated."]);
    let res = en
        .multipart(&format!("{path}/rut"), &[("csrf", &csrf), ("reason", " ")], &[])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    res.has(&["Give the reason for withdrawing."]);
    let res = en
        .multipart(
            &format!("{path}/rut"),
            &[("csrf", &csrf), ("reason", "Nộp nhầm")],
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = en.get(&res.location).await;
    // Withdrawn: the rating questions, in English.
    res.english().has(&[
        "The dossier has been withdrawn.",
        "<strong>Withdrawn</strong>",
        "<h2>Rate the service</h2>",
        "Was your dossier handled “4 on the spot”",
        "Yes, fully",
        "Polite and helpful",
        "<legend>Overall satisfaction</legend>",
        r#"value="very_satisfied"><label for="satisfaction-very_satisfied">Very satisfied</label>"#,
        "Send the rating",
    ]);
    let res = en
        .multipart(
            &format!("{path}/danh-gia"),
            &[("csrf", &csrf), ("q5", "2"), ("q6", "1")],
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    res.has(&["Answer every question."]);
    let rating = [
        ("csrf", csrf.as_str()),
        ("q5", "2"),
        ("q6", "1"),
        ("q7", "2"),
        ("satisfaction", "very_satisfied"),
    ];
    let res = en.multipart(&format!("{path}/danh-gia"), &rating, &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = en.get(&res.location).await;
    res.has(&[
        "Thank you for your rating.",
        "Your rating: <strong>Very satisfied</strong>.",
    ]);
    let res = en.multipart(&format!("{path}/danh-gia"), &rating, &[]).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    res.has(&["This dossier has already been rated."]);

    // The same citizen without the cookie reads it in Vietnamese.
    let mut vi = Visitor::vietnamese(&app);
    vi.jar.insert(
        "motcua_citizen".into(),
        en.jar.get("motcua_citizen").cloned().expect("session"),
    );
    vi.get(&path)
        .await
        .vietnamese()
        .has(&[
            &format!("<h1>Hồ sơ {key}</h1>"),
            "<strong>Đã rút hồ sơ</strong>",
            "Bạn đã đánh giá: <strong>Rất hài lòng</strong>.",
        ])
        .lacks(&["Withdrawn"]);
    vi.get("/cong-dan").await.has(&["<td>Đã rút hồ sơ</td>"]);
    en.get("/cong-dan").await.has(&["<td>Withdrawn</td>"]);
    let res = en.get("/cong-dan/ho-so/khong-co").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    res.english().has(&[
        "<h1>Page not found</h1>",
        "The page you asked for does not exist.",
    ]);
}

#[tokio::test]
async fn feedback_pages_read_in_english() {
    let t = TestDb::sqlite().await;
    load_fixtures(&t).await;
    add_user(&t.db, "canbo.tp", "000.00.06.H56", &["specialist"]).await;
    let app = TestApp::spawn(&t).await;
    let (mut en, mut vi) = (Visitor::english(&app), Visitor::vietnamese(&app));

    en.get("/phan-anh").await.english().has(&[
        "<h1>Send feedback or a petition</h1>",
        "your name,\nphone number and email are never made public",
        "See feedback and petitions already answered",
        "Dossier code (if it is about a particular dossier)",
        r#"<label for="agency">Agency concerned</label>"#,
        r#"<option value="">— Choose an agency —</option>"#,
        r#"<button class="button" type="submit">Send</button>"#,
    ]);
    let empty = [
        ("dossier_code", "sai ma"),
        ("name", ""),
        ("phone", ""),
        ("email", ""),
        ("agency", ""),
        ("subject", ""),
        ("content", ""),
    ];
    let res = en.fill("/phan-anh", &empty).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    res.english()
        .has(&[
            "<title>Error: Send feedback or a petition",
            "Please correct the following",
            "The dossier code is not valid",
            "Enter your full name (at most 200 characters).",
            "Enter a phone number or email so that the agency can send its answer.",
            "Choose the agency concerned.",
            "Enter a subject (at most 200 characters).",
            "Enter your feedback or petition (at most 5,000 characters).",
        ])
        .lacks(&["Nhập họ và tên"]);
    let res = vi.fill("/phan-anh", &empty).await;
    res.vietnamese().has(&[
        "<title>Lỗi: Gửi phản ánh, kiến nghị",
        "Nhập họ và tên (tối đa 200 ký tự).",
    ]);
    let res = en
        .fill(
            "/phan-anh",
            &[
                ("dossier_code", ""),
                ("name", "Lê Thị Hoa"),
                ("phone", "123"),
                ("email", "x@"),
                ("agency", "000.00.06.H56"),
                ("subject", "Tiêu đề"),
                ("content", "Nội dung"),
            ],
        )
        .await;
    res.has(&[
        "The phone number is not valid: 10 digits starting with 0 (or +84).",
        "The email address is not valid.",
    ]);
    let sent = [
        ("dossier_code", ""),
        ("name", "Lê Thị Hoa"),
        ("phone", "0987654321"),
        ("email", ""),
        ("agency", "000.00.06.H56"),
        ("subject", "Phản ánh về thời gian giải quyết hồ sơ"),
        ("content", "Đã quá hẹn trả kết quả."),
    ];
    let res = en.fill("/phan-anh", &sent).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = en.get(&res.location).await;
    res.english().has(&[
        "<h1>We have received your feedback</h1>",
        "Your reference:<br>",
        "<dt>Reviewing agency</dt><dd>Sở Tư pháp</dd>",
        "<dt>Channel</dt><dd>Online</dd>",
        "<dt>Answer due</dt>",
        "Send other feedback",
    ]);
    let at = res.html.find(r#"id="reference">"#).expect("reference") + r#"id="reference">"#.len();
    let reference = res.html[at..].split('<').next().expect("reference").to_string();
    let res = vi.fill("/phan-anh", &sent).await;
    vi.get(&res.location).await.vietnamese().has(&[
        "<h1>Đã nhận phản ánh, kiến nghị</h1>",
        "<dt>Hình thức</dt><dd>Trực tuyến</dd>",
    ]);

    en.get("/phan-anh/da-tra-loi").await.english().has(&[
        "<h1>Answered feedback and petitions</h1>",
        r#"<h2 id="list">0 answers</h2>"#,
        "No answered feedback.",
        "Page 1/1",
    ]);
    let officer = app.token("canbo.tp").await;
    for action in ["classify", "process"] {
        api(
            &app,
            &officer,
            &format!("/api/v1/feedback/{reference}/actions/{action}"),
            json!({}),
        )
        .await;
    }
    let answer = json!({"answer": "Sở Tư pháp đã đôn đốc trả kết quả đúng hẹn."});
    api(
        &app,
        &officer,
        &format!("/api/v1/feedback/{reference}/actions/answer"),
        answer,
    )
    .await;
    api(
        &app,
        &officer,
        &format!("/api/v1/feedback/{reference}/actions/publish"),
        json!({}),
    )
    .await;
    en.get("/phan-anh/da-tra-loi?q=phan+anh")
        .await
        .english()
        .has(&[
            "1 answer for “phan anh”",
            &format!("Ref. {reference} · Sở Tư pháp · received "),
            r#"<span class="tag">On time</span>"#,
            r#"<h4>Answer from <span lang="vi">Sở Tư pháp</span></h4>"#,
            "Clear the search",
        ])
        .lacks(&["câu trả lời", "Đúng hạn"]);
    en.get("/phan-anh/da-tra-loi?q=khong+co+gi").await.has(&[
        "0 answers for “khong co gi”",
        "No answered feedback matches your search.",
    ]);
    vi.get("/phan-anh/da-tra-loi")
        .await
        .vietnamese()
        .has(&["1 câu trả lời", r#"<span class="tag">Đúng hạn</span>"#]);
    let res = en.get("/phan-anh/da-tra-loi?page=x").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    res.english()
        .has(&["<h1>Invalid request</h1>", "Not a valid page number: “x”."]);
}

#[tokio::test]
async fn the_landing_and_error_pages_read_in_english() {
    let t = TestDb::sqlite().await;
    let mut config = t.web_config();
    config.demo_accounts = vec![motcua_web::DemoAccount {
        role: "receiving_officer".into(),
        role_label: "Công chức tiếp nhận".into(),
        username: "tiepnhan".into(),
        password: "demo-pass".into(),
        agency: "Trung tâm Phục vụ hành chính công tỉnh".into(),
    }];
    let app = TestApp::spawn_with(&t, config).await;
    let (mut en, mut vi) = (Visitor::english(&app), Visitor::vietnamese(&app));

    en.get("/")
        .await
        .english()
        .has(&[
            "<title>Home — ",
            "under Decree 118/2025/NĐ-CP",
            r#"<h2 id="demo-heading">Demo: sign in with a role</h2>"#,
            "the password of all sample accounts is <code>demo-pass</code>.",
            "<h2 id=\"status-heading\">Dossiers by status</h2>",
            "<p>No dossiers yet.</p>",
            "For integrators",
            "API documentation",
        ])
        .lacks(&["Hồ sơ theo trạng thái"]);
    vi.get("/").await.vietnamese().has(&[
        "<title>Trang chủ — ",
        "mật khẩu của tất cả tài khoản mẫu là <code>demo-pass</code>.",
        "<p>Chưa có hồ sơ nào.</p>",
    ]);

    let res = en.get("/khong-co-trang").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    res.english()
        .has(&[
            "<h1>Page not found</h1>",
            "The page you asked for does not exist.",
            r#"<a href="/">go back to the home page</a>"#,
            "Error code: 404",
        ])
        .lacks(&["Không tìm thấy"]);
    let res = vi.get("/khong-co-trang").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    res.vietnamese().has(&[
        "<h1>Không tìm thấy trang</h1>",
        "Không tìm thấy trang bạn yêu cầu.",
        "Mã lỗi: 404",
    ]);
    let res = en.get("/cong-dan/nop-ho-so?procedure=9.999999").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    res.english().has(&["<h1>Page not found</h1>"]);
}
