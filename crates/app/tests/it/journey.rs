//! The online submission journey over HTTP, as a browser without script walks it: the start
//! page, each part of the draft (a multipart form, its CSRF token from the page), "check your
//! answers", send. `Journey` holds the citizen's session cookie (empty for a guest).

use crate::support::{TestApp, hidden_value, set_cookie};
use reqwest::StatusCode;

/// A multipart/form-data body: text fields and (name, filename, bytes) files.
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----motcuaTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    for (k, filename, bytes) in files {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub struct Journey<'a> {
    pub app: &'a TestApp,
    /// `motcua_citizen=…`, or empty for a guest.
    pub session: String,
}

/// The answers of a birth registration (1.001193) that the intake accepts.
pub const BIRTH_APPLICANT: [(&str, &str); 6] = [
    ("kind", "person"),
    ("name", "Phạm Thị Dung"),
    ("id_number", "015192002345"),
    ("phone", "0911222333"),
    ("email", ""),
    ("address", "Yên Bái"),
];

impl<'a> Journey<'a> {
    pub fn guest(app: &'a TestApp) -> Self {
        Journey {
            app,
            session: String::new(),
        }
    }

    pub fn citizen(app: &'a TestApp, session: &str) -> Self {
        Journey {
            app,
            session: session.to_string(),
        }
    }

    fn cookies(&self, form_cookie: &str) -> String {
        match self.session.is_empty() {
            true => format!("motcua_form_csrf={form_cookie}"),
            false => format!("{}; motcua_form_csrf={form_cookie}", self.session),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut req = self.app.client.get(self.app.url(path));
        if !self.session.is_empty() {
            req = req.header("cookie", &self.session);
        }
        req.send().await.unwrap()
    }

    /// A page's form: (cookie header, csrf).
    async fn form(&self, path: &str) -> (String, String) {
        let res = self.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let cookie = set_cookie(&res, "motcua_form_csrf").expect("form cookie");
        let csrf = hidden_value(&res.text().await.unwrap(), "csrf").expect("csrf");
        (self.cookies(&cookie), csrf)
    }

    /// "Bắt đầu" on a procedure's start page: the draft's address.
    pub async fn start(&self, procedure: &str, case: &str) -> reqwest::Response {
        let (cookies, csrf) = self
            .form(&format!("/cong-dan/nop-ho-so?procedure={procedure}"))
            .await;
        self.app
            .client
            .post(self.app.url("/cong-dan/nop-ho-so"))
            .header("cookie", cookies)
            .form(&[("csrf", csrf.as_str()), ("procedure", procedure), ("case", case)])
            .send()
            .await
            .unwrap()
    }

    /// A new draft's address (`/cong-dan/ho-so-nhap/TOKEN`).
    pub async fn begin(&self, procedure: &str, case: &str) -> String {
        let res = self.start(procedure, case).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        res.headers()["location"].to_str().unwrap().to_string()
    }

    /// Posts one part of a draft (`nguoi-nop`, `yeu-cau`, `giay-to`, `nhan-ket-qua`, or
    /// `kiem-tra` to send) with its form's token.
    pub async fn part(
        &self,
        draft: &str,
        part: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> reqwest::Response {
        let path = format!("{draft}/{part}");
        let (cookies, csrf) = self.form(&path).await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let (ct, body) = multipart(&all, files);
        self.app
            .client
            .post(self.app.url(&path))
            .header("cookie", cookies)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Posts a part that must be accepted.
    pub async fn answer(
        &self,
        draft: &str,
        part: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) {
        let res = self.part(draft, part, fields, files).await;
        let status = res.status();
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{part}: {}",
            res.text().await.unwrap()
        );
    }

    /// Sends a complete draft: the confirmation page's address.
    pub async fn send(&self, draft: &str) -> String {
        let res = self.part(draft, "kiem-tra", &[], &[]).await;
        let status = res.status();
        assert_eq!(status, StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
        res.headers()["location"].to_str().unwrap().to_string()
    }

    /// A birth registration filled in and sent, its confirmation's address.
    pub async fn submit_birth(&self, agency: &str) -> String {
        let draft = self.begin("1.001193", "dung-han").await;
        self.answer(&draft, "nguoi-nop", &BIRTH_APPLICANT, &[]).await;
        self.answer(
            &draft,
            "yeu-cau",
            &[("agency", agency), ("request", "Đăng ký khai sinh")],
            &[],
        )
        .await;
        self.answer(
            &draft,
            "giay-to",
            &[],
            &[
                ("file_0", "to-khai.pdf", b"%PDF-1.4 to khai"),
                ("file_1", "giay-chung-sinh.pdf", b"%PDF-1.4 chung sinh"),
            ],
        )
        .await;
        self.answer(&draft, "nhan-ket-qua", &[("delivery", "desk")], &[])
            .await;
        self.send(&draft).await
    }
}

#[cfg(test)]
mod tests {
    use super::Journey;
    use crate::support::{TestApp, load_fixtures, on_both_backends};
    use reqwest::StatusCode;

    // What a guest holds after submitting works: the reference on the confirmation is
    // accepted by the lookup before and after the dossier is accepted (then with its code).
    on_both_backends! {
        async fn the_reference_of_an_online_submission_is_looked_up(t) {
            load_fixtures(t).await;
            crate::support::add_user(&t.db, "tn.xa", "000.30.01.H56", &["receiving_officer"]).await;
            let app = TestApp::spawn(t).await;
            let guest = Journey::guest(&app);
            let to = guest.submit_birth("000.30.01.H56").await;
            let html = guest.get(&to).await.text().await.unwrap();
            let reference = html.split("id=\"reference\">").nth(1).unwrap().split('<').next().unwrap().to_string();
            assert!(reference.starts_with("online-"), "{reference}");
            assert!(html.contains("Việc tiếp theo") && html.contains("Nhận trực tiếp tại bộ phận một cửa"), "{html}");
            // Looked up by it, with the phone's last digits; pasted in capitals with spaces too.
            let look = |q: String| {
                let app = &app;
                async move { app.get(&format!("/tra-cuu?ma={q}&verify=2333")).await.text().await.unwrap() }
            };
            let page = look(reference.clone()).await;
            assert!(page.contains("Mới nộp trực tuyến"), "{page}");
            assert!(page.contains("Đăng ký khai sinh"), "{page}");
            let page = look(format!("%20{}%20", reference.to_uppercase())).await;
            assert!(page.contains("Đăng ký khai sinh"), "{page}");
            // Wrong digits find nothing.
            let page = app.get(&format!("/tra-cuu?ma={reference}&verify=9999")).await.text().await.unwrap();
            assert!(!page.contains("Đăng ký khai sinh"), "{page}");
            // Accepted: the same reference now shows the code.
            let desk = app.token("tn.xa").await;
            let (status, d) = app.call(reqwest::Method::POST, &format!("/api/v1/dossiers/{reference}/actions/accept"), &desk, Some(&serde_json::json!({}))).await;
            assert_eq!(status, StatusCode::OK, "{d}");
            let code = d["code"].as_str().unwrap().to_string();
            let page = look(reference.clone()).await;
            assert!(page.contains(&code), "{page}");
            // The notices carry what the pages promised: the reference and its deadline, then
            // the code, the due date and the lookup link.
            let notices = crate::support::citizen_messages(&t.db).await;
            let sent = notices.iter().find(|m| m.contains("số tham chiếu")).expect("the submission's notice");
            assert!(sent.contains(&reference) && sent.contains("trước") && sent.contains(&format!("/tra-cuu?ma={reference}")), "{sent}");
            let received = notices.iter().find(|m| m.contains("đã được tiếp nhận")).expect("the receipt's notice");
            let due = motcua_domain::notice::when(chrono::DateTime::parse_from_rfc3339(d["due_at"].as_str().unwrap()).unwrap().into());
            assert!(received.contains(&code) && received.contains(&due) && received.contains(&format!("/tra-cuu?ma={code}")), "{received}");
        }
    }

    // A draft's files outlive the orphan sweep while the draft lives; a draft untouched for
    // 30 days is forgotten, and its files then go with the sweep.
    on_both_backends! {
        async fn a_drafts_files_are_kept_until_the_draft_is_forgotten(t) {
            load_fixtures(t).await;
            let app = TestApp::spawn(t).await;
            let guest = Journey::guest(&app);
            let draft = guest.begin("1.001193", "dung-han").await;
            let res = guest.part(&draft, "giay-to", &[], &[("file_0", "to-khai.pdf", b"%PDF-1.4 nhap")]).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "the other document is missing");
            let services = t.services();
            let token = draft.rsplit('/').next().unwrap();
            let held = services.draft(token, None).await.unwrap().files;
            assert_eq!(held.len(), 1, "kept though the part was refused");
            let sha = held[0].sha256.clone();
            let swept = services.sweep_files(std::time::Duration::ZERO, true).await.unwrap();
            assert_eq!(swept.swept, 0, "{swept:?}");
            assert!(services.file(&sha).await.unwrap().is_some());
            // A month on, untouched: forgotten, and its file with the next sweep.
            let later = services.with_clock(std::sync::Arc::new(motcua_service::FixedClock(
                chrono::Utc::now() + chrono::Duration::days(31),
            )));
            assert_eq!(services.forget_old_drafts().await.unwrap(), 0, "not yet");
            assert_eq!(later.forget_old_drafts().await.unwrap(), 1);
            assert_eq!(guest.get(&draft).await.status(), StatusCode::NOT_FOUND);
            let swept = services.sweep_files(std::time::Duration::ZERO, true).await.unwrap();
            assert_eq!(swept.swept, 1, "{swept:?}");
        }
    }
}
