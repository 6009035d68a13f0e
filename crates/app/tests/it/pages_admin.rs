//! The administrator's pages as a browser uses them: sign in, open a form, change what is
//! shown, submit what the page holds. Only administrators get in; every form needs the
//! session's CSRF token; no page ever shows a password hash or a token hash.

use crate::pages_catalog::{PERMIT_FORM, first_file_link, seed};
use crate::support::{TestApp, TestDb, add_user, on_both_backends, password_of};
use motcua_store::repo::{agencies, catalog, users};
use reqwest::StatusCode;
use std::sync::Mutex;

const ADMIN_AGENCY: &str = "000.00.90.H56";
const OFFICER_AGENCY: &str = "000.00.91.H56";

/// A signed-in browser that keeps every page it was shown.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
    seen: Mutex<Vec<String>>,
}

struct Reply {
    status: StatusCode,
    location: String,
    body: String,
}

impl<'a> Browser<'a> {
    async fn login(app: &'a TestApp, username: &str) -> Browser<'a> {
        let (cookie, csrf) = app.browser_login(username).await;
        Browser {
            app,
            cookie,
            csrf,
            seen: Mutex::new(Vec::new()),
        }
    }

    async fn reply(&self, res: reqwest::Response) -> Reply {
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = res.text().await.unwrap();
        self.seen.lock().unwrap().push(body.clone());
        Reply {
            status,
            location,
            body,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        let res = self
            .app
            .client
            .get(self.app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        self.reply(res).await
    }

    /// A page that must open (200).
    async fn page(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        r.body
    }

    async fn post(&self, path: &str, fields: &[(String, String)]) -> Reply {
        let res = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", &self.cookie)
            .form(fields)
            .send()
            .await
            .unwrap();
        self.reply(res).await
    }

    /// Posts `fields` with this session's CSRF token.
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut all = owned(fields);
        all.push(("csrf".into(), self.csrf.clone()));
        self.post(path, &all).await
    }

    /// Every page shown so far.
    fn pages(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn owned(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// --- Reading forms as a browser would submit them -------------------------------------

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| e.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The attributes of a tag (the text between its name and `>`).
fn attrs(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag.trim_end_matches('/');
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return out;
        }
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = rest[..end].to_string();
        rest = &rest[end..];
        match rest.strip_prefix("=\"") {
            Some(r) => {
                let close = r.find('"').expect("closing quote");
                out.push((key, unescape(&r[..close])));
                rest = &r[close + 1..];
            }
            None => out.push((key, String::new())),
        }
    }
}

fn attr<'x>(attrs: &'x [(String, String)], name: &str) -> Option<&'x str> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// What a browser sends for the POST form with this action: inputs, checked boxes,
/// textareas, selected options — in page order.
fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let marker = format!("<form method=\"post\" action=\"{action}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let form = &html[start..];
    let form = &form[..form.find("</form>").expect("end of form")];
    let mut out = Vec::new();
    let mut rest = &form[marker.len()..];
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '>')
            .unwrap_or(rest.len());
        let tag_name = &rest[..name_end];
        let tag_end = rest.find('>').expect("end of tag");
        let a = attrs(&rest[name_end..tag_end]);
        let after = &rest[tag_end + 1..];
        match tag_name {
            "input" => {
                let kind = attr(&a, "type").unwrap_or("text");
                let checked = attr(&a, "checked").is_some();
                if let Some(name) = attr(&a, "name")
                    && kind != "submit"
                    && (kind != "checkbox" || checked)
                {
                    let value = attr(&a, "value").unwrap_or(if kind == "checkbox" { "on" } else { "" });
                    out.push((name.to_string(), value.to_string()));
                }
            }
            "textarea" => {
                let close = after.find("</textarea>").expect("end of textarea");
                let text = &after[..close];
                let text = text.strip_prefix('\n').unwrap_or(text);
                out.push((
                    attr(&a, "name").expect("textarea name").to_string(),
                    unescape(text),
                ));
            }
            "select" => {
                let close = after.find("</select>").expect("end of select");
                let options: Vec<Vec<(String, String)>> = after[..close]
                    .split("<option")
                    .skip(1)
                    .map(|o| attrs(&o[..o.find('>').unwrap()]))
                    .collect();
                let chosen = options
                    .iter()
                    .find(|o| attr(o, "selected").is_some())
                    .or(options.first())
                    .and_then(|o| attr(o, "value"))
                    .unwrap_or("");
                out.push((
                    attr(&a, "name").expect("select name").to_string(),
                    chosen.to_string(),
                ));
            }
            _ => {}
        }
    }
    out
}

/// Sets a field (the first with that name), or adds it.
fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(f) => f.1 = value.to_string(),
        None => fields.push((name.to_string(), value.to_string())),
    }
}

fn value_of<'x>(fields: &'x [(String, String)], name: &str) -> &'x str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no field {name}"))
}

fn assert_error_summary(r: &Reply, anchors: &[&str]) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("class=\"error-summary\""), "{}", r.body);
    for a in anchors {
        assert!(
            r.body.contains(&format!("href=\"#{a}\"")),
            "no error linking to #{a}"
        );
        assert!(
            r.body.contains(&format!("id=\"{a}\"")),
            "no field #{a} to link to"
        );
    }
}

/// No page shows a password hash or the hash of a token.
fn assert_no_secrets(pages: &[String], token_hashes: &[String]) {
    for html in pages {
        assert!(!html.contains("$argon2"), "a password hash was shown");
        for h in token_hashes {
            assert!(!html.contains(h.as_str()), "a token hash was shown");
        }
    }
}

async fn setup(t: &TestDb) -> TestApp {
    seed(t).await;
    add_user(&t.db, "quantri", ADMIN_AGENCY, &["admin"]).await;
    add_user(
        &t.db,
        "chuyenvien",
        OFFICER_AGENCY,
        &["specialist", "receiving_officer"],
    )
    .await;
    TestApp::spawn(t).await
}

const ADMIN_PAGES: [&str; 10] = [
    "/admin/agencies",
    "/admin/agencies/new",
    "/admin/agencies/000.00.10.H56/edit",
    "/admin/procedures",
    "/admin/procedures/new",
    "/admin/procedures/1.001193/edit",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/quantri/edit",
    "/admin/calendar",
];

const ADMIN_POSTS: [&str; 5] = [
    "/admin/agencies",
    "/admin/procedures",
    "/admin/users",
    "/admin/users/quantri/tokens",
    "/admin/users/quantri/tokens/1/revoke",
];

on_both_backends! {
    async fn only_administrators_open_the_admin_pages(t) {
        let app = setup(t).await;
        for path in ADMIN_PAGES {
            let res = app.get(path).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
            let to = res.headers()["location"].to_str().unwrap().to_string();
            assert!(to.starts_with("/login?next="), "{path} → {to}");
        }
        for path in ADMIN_POSTS {
            let res = app.client.post(app.url(path)).form(&[("name", "x")]).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        }

        let officer = Browser::login(&app, "chuyenvien").await;
        for path in ADMIN_PAGES {
            let r = officer.get(path).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
            assert!(r.body.contains("Bạn không có quyền"), "{path}");
        }
        let before = agencies::list(&t.db).await.unwrap();
        let form = [
            ("mode", "new"), ("code", "000.05.05.H56"), ("name", "Cơ quan lạ"), ("level", "unit"),
            ("username", "hacker"), ("full_name", "X"), ("password", "longenough1"),
            ("r0_agency", OFFICER_AGENCY), ("r0_role", "admin"),
        ];
        for path in ADMIN_POSTS {
            let r = officer.submit(path, &form).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert_eq!(agencies::list(&t.db).await.unwrap(), before, "nothing changed");
        assert!(users::by_username(&t.db, "hacker").await.unwrap().is_none());

        let admin = Browser::login(&app, "quantri").await;
        for path in ADMIN_PAGES {
            let html = admin.page(path).await;
            for link in ["/admin/agencies", "/admin/procedures", "/admin/users", "/admin/calendar"] {
                assert!(html.contains(&format!("href=\"{link}\"")), "{path} links to {link}");
            }
            // One nav for all of them, marking the page's own section.
            let section = path.split(['/', '?']).nth(2).unwrap();
            let current = format!("href=\"/admin/{section}\" aria-current=\"page\"");
            assert!(html.contains(&current), "{path} marks {section}");
            assert_eq!(html.matches("class=\"admin-nav").count(), 1, "{path}");
        }
        assert_eq!(admin.get("/admin/agencies/999.99.99.H56/edit").await.status, StatusCode::NOT_FOUND);
        assert_eq!(admin.get("/admin/procedures/9.999999/edit").await.status, StatusCode::NOT_FOUND);
        assert_eq!(admin.get("/admin/users/nobody/edit").await.status, StatusCode::NOT_FOUND);
        assert_no_secrets(&admin.pages(), &[]);
    }

    async fn an_administrator_adds_and_edits_agencies(t) {
        let app = setup(t).await;
        let admin = Browser::login(&app, "quantri").await;

        let html = admin.page("/admin/agencies").await;
        for expected in ["Sở Xây dựng", "000.00.10.H56", "Sở, ban, ngành", "Mặc định", "07:30-11:30,13:30-17:00",
                         "href=\"/admin/agencies/000.00.10.H56/edit\""] {
            assert!(html.contains(expected), "missing {expected:?}");
        }

        let mut form = form_fields(&admin.page("/admin/agencies/new").await, "/admin/agencies");
        assert_eq!(value_of(&form, "mode"), "new");
        set(&mut form, "code", "000.02.10.H56");
        set(&mut form, "name", "Phòng Quản lý xây dựng");
        set(&mut form, "level", "unit");
        set(&mut form, "parent_code", "000.00.10.H56");
        set(&mut form, "address", "Đường Nguyễn Tất Thành");
        set(&mut form, "office_hours", "07:00-11:30,13:30-17:00");
        let r = admin.post("/admin/agencies", &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, "/admin/agencies?saved=1");
        let html = admin.page(&r.location).await;
        assert!(html.contains("Đã lưu cơ quan."));
        let parent_at = html.find(">Sở Xây dựng<").unwrap();
        let child_at = html.find(">Phòng Quản lý xây dựng<").unwrap();
        assert!(parent_at < child_at, "a child is listed under its parent");
        assert!(html.contains("class=\"tree-name depth-2\">Phòng Quản lý xây dựng"), "indented below province and department");
        let stored = agencies::by_code(&t.db, "000.02.10.H56").await.unwrap().unwrap();
        assert_eq!(stored.parent_code.as_deref(), Some("000.00.10.H56"));
        assert_eq!(stored.office_hours.as_deref(), Some("07:00-11:30,13:30-17:00"));
        assert!(!stored.is_one_stop);

        // Edit: the code is read-only, everything else changes.
        let html = admin.page("/admin/agencies/000.02.10.H56/edit").await;
        assert!(html.contains("value=\"000.02.10.H56\" aria-describedby=\"code-hint\" spellcheck=\"false\" readonly"));
        let mut form = form_fields(&html, "/admin/agencies");
        assert_eq!(value_of(&form, "parent_code"), "000.00.10.H56");
        set(&mut form, "name", "Phòng Quản lý hoạt động xây dựng");
        set(&mut form, "office_hours", "");
        form.push(("one_stop".into(), "on".into()));
        let r = admin.post("/admin/agencies", &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let stored = agencies::by_code(&t.db, "000.02.10.H56").await.unwrap().unwrap();
        assert_eq!(stored.name, "Phòng Quản lý hoạt động xây dựng");
        assert_eq!(stored.office_hours, None);
        assert!(stored.is_one_stop);

        // Invalid input comes back with an error summary linking to each field.
        let before = agencies::list(&t.db).await.unwrap();
        let r = admin.submit("/admin/agencies", &[
            ("mode", "new"), ("code", "abc"), ("name", ""), ("level", "village"), ("office_hours", "25:00-26:00"),
        ]).await;
        assert_error_summary(&r, &["code", "name", "level", "office_hours"]);
        assert!(r.body.contains("value=\"25:00-26:00\""), "the typed value is kept");
        // A new agency cannot take an existing code; a parent cannot sit below its child.
        let r = admin.submit("/admin/agencies", &[
            ("mode", "new"), ("code", "000.00.10.H56"), ("name", "Trùng mã"), ("level", "department"),
        ]).await;
        assert_error_summary(&r, &["code"]);
        let mut form = form_fields(&admin.page("/admin/agencies/000.00.10.H56/edit").await, "/admin/agencies");
        set(&mut form, "parent_code", "000.02.10.H56");
        assert_error_summary(&admin.post("/admin/agencies", &form).await, &["parent_code"]);
        // Without the CSRF token: refused, nothing changed.
        let mut form = form_fields(&admin.page("/admin/agencies/000.00.10.H56/edit").await, "/admin/agencies");
        set(&mut form, "name", "Đổi tên trái phép");
        form.retain(|(k, _)| k != "csrf");
        assert_eq!(admin.post("/admin/agencies", &form).await.status, StatusCode::FORBIDDEN);
        set(&mut form, "csrf", "forged");
        assert_eq!(admin.post("/admin/agencies", &form).await.status, StatusCode::FORBIDDEN);
        assert_eq!(agencies::list(&t.db).await.unwrap(), before);
        assert_no_secrets(&admin.pages(), &[]);
    }

    async fn editing_a_procedure_makes_a_new_version_and_keeps_the_old(t) {
        let app = setup(t).await;
        let admin = Browser::login(&app, "quantri").await;

        let html = admin.page("/admin/procedures?q=dang+ky+khai+sinh").await;
        assert!(html.contains("href=\"/admin/procedures/1.001193/edit\""));
        assert!(html.contains("href=\"/thu-tuc/1.001193\""));
        assert!(!html.contains("1.009994"));
        assert!(admin.page("/admin/procedures").await.contains("Tìm thấy 25 thủ tục"));

        let html = admin.page("/admin/procedures/1.009994/edit").await;
        assert!(html.contains("không làm thay đổi hồ sơ đã tiếp nhận"));
        assert!(html.contains("motcua import procedures"), "how to change form files");
        let form = form_fields(&html, "/admin/procedures");
        assert_eq!(value_of(&form, "mode"), "edit");
        assert_eq!(value_of(&form, "k0_s0_quota"), "0,5");
        assert_eq!(value_of(&form, "k0_s1_agency"), "000.00.10.H56");
        assert!(value_of(&form, "c0_form_file").starts_with("sha256:"));
        assert_eq!(value_of(&form, "f0_amount"), "200000");
        assert_eq!(value_of(&form, "legal_basis"), "Luật Xây dựng năm 2014\nNghị định 175/2024/NĐ-CP");
        // Blank rows to add to, without JavaScript.
        for blank in ["c2_name", "c3_name", "f2_name", "f3_name", "k0_s4_name", "k0_s5_name", "k1_code", "k1_s2_name"] {
            assert_eq!(value_of(&form, blank), "", "{blank}");
        }

        // Saving the form as shown changes nothing.
        let r = admin.post("/admin/procedures", &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, "/admin/procedures?saved=1.009994&unchanged=1");
        assert_eq!(catalog::versions(&t.db, "1.009994").await.unwrap().len(), 1);

        // A change is a new version, shown to the public; version 1 stays as it was.
        let mut changed = form.clone();
        set(&mut changed, "name", "Cấp giấy phép xây dựng (sửa đổi)");
        set(&mut changed, "time_limit", "25 working-days");
        set(&mut changed, "f0_amount", "250.000");
        set(&mut changed, "c2_name", "Giấy tờ về quyền sử dụng đất");
        set(&mut changed, "c2_copies", "1");
        let r = admin.post("/admin/procedures", &changed).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, "/admin/procedures?saved=1.009994&version=2");
        assert!(admin.page(&r.location).await.contains("Đã lưu thủ tục 1.009994: phiên bản 2."));

        let public = app.get("/thu-tuc/1.009994").await.text().await.unwrap();
        assert!(public.contains("Cấp giấy phép xây dựng (sửa đổi)"));
        assert!(public.contains("25 ngày làm việc"));
        assert!(public.contains("250.000 đồng"));
        assert!(public.contains("Giấy tờ về quyền sử dụng đất"));
        assert!(public.contains("Phiên bản 2"));
        let download = app.get(&first_file_link(&public)).await;
        assert_eq!(download.status(), StatusCode::OK, "the form reference was kept");
        assert_eq!(download.bytes().await.unwrap().as_ref(), PERMIT_FORM);

        let v1 = catalog::procedure_version(&t.db, "1.009994", 1).await.unwrap().unwrap();
        assert_eq!(v1.spec.name, "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II");
        assert_eq!(v1.spec.components.len(), 2);
        let v2 = catalog::procedure_version(&t.db, "1.009994", 2).await.unwrap().unwrap();
        assert_eq!(v2.spec.components.len(), 3);
        assert_eq!(v2.spec.fees[0].amount_vnd, Some(250_000));
        assert_eq!(v2.spec.components[0].form, v1.spec.components[0].form);

        let html = admin.page("/admin/procedures/1.009994/edit").await;
        assert!(html.contains("<td>2 (mới nhất)</td>"), "version history");
        assert!(html.contains("<td>quantri</td>"));

        // Deleting a step and adding a case.
        let mut form = form_fields(&html, "/admin/procedures");
        form.push(("k0_s3_delete".into(), "on".into()));
        set(&mut form, "k1_code", "gia-han");
        set(&mut form, "k1_name", "Gia hạn giấy phép");
        set(&mut form, "k1_time_limit", "5 working-days");
        set(&mut form, "k1_s0_name", "Tiếp nhận");
        set(&mut form, "k1_s0_role", "receiving_officer");
        set(&mut form, "k1_s0_agency", "receiving");
        set(&mut form, "k1_s0_quota", "0,5");
        set(&mut form, "k1_s1_name", "Ký gia hạn");
        set(&mut form, "k1_s1_role", "approver");
        set(&mut form, "k1_s1_agency", "receiving");
        set(&mut form, "k1_s1_quota", "1");
        let r = admin.post("/admin/procedures", &form).await;
        assert_eq!(r.location, "/admin/procedures?saved=1.009994&version=3", "{}", r.body);
        let v3 = catalog::procedure_version(&t.db, "1.009994", 3).await.unwrap().unwrap().spec;
        assert_eq!(v3.cases[0].steps.len(), 3);
        assert_eq!(v3.cases[1].code, "gia-han");
        assert_eq!(v3.cases[1].steps[0].quota_days, 0.5);

        // What cannot be read, and what the domain refuses, comes back with an error summary.
        let html = admin.page("/admin/procedures/1.009994/edit").await;
        let form = form_fields(&html, "/admin/procedures");
        let mut bad = form.clone();
        set(&mut bad, "k0_s1_quota", "mười lăm");
        assert_error_summary(&admin.post("/admin/procedures", &bad).await, &["k0_s1_quota"]);
        let mut bad = form.clone();
        set(&mut bad, "name", "");
        set(&mut bad, "time_limit", "3 tuần");
        set(&mut bad, "k0_s1_role", "");
        set(&mut bad, "k0_s1_quota", "40");
        bad.retain(|(k, v)| !(k == "method" && v == "online") && k != "level");
        let r = admin.post("/admin/procedures", &bad).await;
        assert_error_summary(&r, &["name", "time_limit", "k0_s1_role", "levels"]);
        assert!(r.body.contains("value=\"3 tuần\""), "typed values are kept");
        assert!(r.body.contains("Thời hạn giải quyết: không đúng dạng thời hạn"));
        // Without the CSRF token nothing is saved.
        let mut forged = form.clone();
        set(&mut forged, "name", "Giả mạo");
        forged.retain(|(k, _)| k != "csrf");
        assert_eq!(admin.post("/admin/procedures", &forged).await.status, StatusCode::FORBIDDEN);
        assert_eq!(catalog::versions(&t.db, "1.009994").await.unwrap().len(), 3);

        // A new procedure from the blank form.
        let html = admin.page("/admin/procedures/new").await;
        let mut form = form_fields(&html, "/admin/procedures");
        for (k, v) in [
            ("code", "2.002516"), ("name", "Đăng ký giám hộ"), ("field_code", "HT"), ("field_name", "Hộ tịch"),
            ("time_limit", "3 working-days"), ("online_level", "partial"),
            ("c0_name", "Tờ khai đăng ký giám hộ"), ("c0_originals", "1"), ("c0_required", "on"),
            ("f0_name", "Lệ phí"), ("f0_note", "Theo quy định của Hội đồng nhân dân tỉnh"),
            ("k0_code", "dung-han"), ("k0_name", "Đúng hạn"),
            ("k0_s0_name", "Tiếp nhận"), ("k0_s0_role", "receiving_officer"), ("k0_s0_agency", "receiving"), ("k0_s0_quota", "0,5"),
            ("k0_s1_name", "Thẩm định"), ("k0_s1_role", "specialist"), ("k0_s1_agency", "000.30.01.H56"), ("k0_s1_quota", "2"),
            ("k0_s2_name", "Ký"), ("k0_s2_role", "approver"), ("k0_s2_agency", "000.30.01.H56"), ("k0_s2_quota", "0,5"),
        ] {
            set(&mut form, k, v);
        }
        form.push(("level".into(), "commune".into()));
        form.push(("agency".into(), "000.30.01.H56".into()));
        form.push(("method".into(), "direct".into()));
        form.push(("method".into(), "online".into()));
        let r = admin.post("/admin/procedures", &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, "/admin/procedures?saved=2.002516");
        let public = app.get("/thu-tuc/2.002516").await.text().await.unwrap();
        for expected in ["Đăng ký giám hộ", "Tờ khai đăng ký giám hộ", r#"<span lang="vi">Lệ phí</span>: <span lang="vi">Theo quy định của Hội đồng nhân dân tỉnh</span>"#,
                         "Ủy ban nhân dân xã Trấn Yên", "3 ngày làm việc", "Phiên bản 1"] {
            assert!(public.contains(expected), "missing {expected:?}");
        }
        // Adding again under the same code is refused.
        assert_error_summary(&admin.post("/admin/procedures", &form).await, &["code"]);
        assert_no_secrets(&admin.pages(), &[]);
    }

    async fn an_administrator_manages_users_roles_and_tokens(t) {
        let app = setup(t).await;
        let admin = Browser::login(&app, "quantri").await;

        let html = admin.page("/admin/users").await;
        assert!(html.contains("Quản trị hệ thống @ Cơ quan thử nghiệm"));
        assert!(html.contains("Chuyên viên thụ lý @ Cơ quan thử nghiệm"));

        // Invalid input: everything reported, the typed password never echoed.
        let r = admin.submit("/admin/users", &[
            ("mode", "new"), ("username", "AB"), ("full_name", ""), ("password", "short77"),
            ("r0_agency", "000.00.10.H56"), ("r0_role", ""),
        ]).await;
        assert_error_summary(&r, &["r0_role"]);
        assert!(!r.body.contains("short77"));
        let r = admin.submit("/admin/users", &[
            ("mode", "new"), ("username", "AB"), ("full_name", ""), ("password", "short77"),
            ("r0_agency", "000.00.10.H56"), ("r0_role", "specialist"),
        ]).await;
        assert_error_summary(&r, &["username", "full_name", "password"]);
        assert!(!r.body.contains("short77"));
        assert!(r.body.contains("<option value=\"specialist\" selected>"), "role rows are kept");

        // A new officer with two roles, who can then sign in.
        let password = password_of("canbo.moi");
        let mut form = form_fields(&admin.page("/admin/users/new").await, "/admin/users");
        for (k, v) in [
            ("username", "canbo.moi"), ("full_name", "Trần Thị Mới"), ("password", password.as_str()),
            ("r0_agency", "000.00.10.H56"), ("r0_role", "specialist"),
            ("r1_agency", "000.30.01.H56"), ("r1_role", "receiving_officer"),
        ] {
            set(&mut form, k, v);
        }
        let r = admin.post("/admin/users", &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, "/admin/users?saved=1");
        let html = admin.page(&r.location).await;
        assert!(html.contains("Chuyên viên thụ lý @ Sở Xây dựng"));
        assert!(html.contains("Công chức tiếp nhận @ Ủy ban nhân dân xã Trấn Yên"));
        app.token("canbo.moi").await;
        assert_error_summary(&admin.post("/admin/users", &form).await, &["username"]);

        // Edit: a role removed, the password kept when left blank.
        let html = admin.page("/admin/users/canbo.moi/edit").await;
        let mut form = form_fields(&html, "/admin/users");
        assert_eq!(value_of(&form, "password"), "");
        set(&mut form, "full_name", "Trần Thị Mới Sửa");
        set(&mut form, "r1_agency", "");
        set(&mut form, "r1_role", "");
        let r = admin.post("/admin/users", &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let u = users::by_username(&t.db, "canbo.moi").await.unwrap().unwrap();
        assert_eq!(u.full_name, "Trần Thị Mới Sửa");
        assert_eq!(u.roles, vec![("000.00.10.H56".to_string(), motcua_domain::access::Role::Specialist)]);
        let api_token = app.token("canbo.moi").await;

        // An API token: shown once, works, can be revoked.
        let r = admin.submit("/admin/users/canbo.moi/tokens", &[("name", "")]).await;
        assert_error_summary(&r, &["token_name"]);
        let r = admin.submit("/admin/users/canbo.moi/tokens", &[("name", "Cổng dịch vụ công")]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Sao chép mã này ngay"));
        let marker = "id=\"secret\" type=\"text\" value=\"";
        let start = r.body.find(marker).unwrap() + marker.len();
        let secret = r.body[start..].split('"').next().unwrap().to_string();
        assert_eq!(secret.len(), 64);
        let put_override = |token: String| {
            app.client
                .put(app.url("/api/v1/calendar/overrides/2026-11-07"))
                .bearer_auth(token)
                .json(&serde_json::json!({"kind": "workday", "name": "x"}))
                .send()
        };
        // A signed-in officer, not an administrator: forbidden, not unauthenticated.
        assert_eq!(put_override(secret.clone()).await.unwrap().status(), StatusCode::FORBIDDEN);

        let html = admin.page("/admin/users/canbo.moi/edit").await;
        assert!(html.contains("Cổng dịch vụ công"));
        assert!(!html.contains(&secret), "the secret is shown once only");
        let action_start = html.find("action=\"/admin/users/canbo.moi/tokens/").unwrap() + "action=\"".len();
        let revoke = html[action_start..].split('"').next().unwrap().to_string();
        assert!(revoke.ends_with("/revoke"));
        let r = admin.post(&revoke, &owned(&[("csrf", "forged")])).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(put_override(secret.clone()).await.unwrap().status(), StatusCode::FORBIDDEN, "still valid");
        let wrong_user = revoke.replace("/canbo.moi/", "/quantri/");
        assert_eq!(admin.submit(&wrong_user, &[]).await.status, StatusCode::NOT_FOUND);
        let r = admin.submit(&revoke, &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let html = admin.page(&r.location).await;
        assert!(html.contains("Đã thu hồi mã truy cập."));
        assert!(html.contains("Đã thu hồi lúc"));
        assert_eq!(put_override(secret.clone()).await.unwrap().status(), StatusCode::UNAUTHORIZED);

        // Disabling the account stops sign-in.
        let mut form = form_fields(&admin.page("/admin/users/canbo.moi/edit").await, "/admin/users");
        form.push(("disabled".into(), "on".into()));
        assert_eq!(admin.post("/admin/users", &form).await.status, StatusCode::SEE_OTHER);
        let res = app.client.post(app.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "canbo.moi", "password": password}))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(admin.page("/admin/users").await.contains("Đã khóa"));

        // Without the CSRF token nothing changes.
        let mut form = form_fields(&admin.page("/admin/users/chuyenvien/edit").await, "/admin/users");
        set(&mut form, "full_name", "Giả mạo");
        form.retain(|(k, _)| k != "csrf");
        assert_eq!(admin.post("/admin/users", &form).await.status, StatusCode::FORBIDDEN);
        assert_eq!(users::by_username(&t.db, "chuyenvien").await.unwrap().unwrap().full_name, "Nguyễn Văn Thử");
        let r = admin.post("/admin/users/chuyenvien/tokens", &owned(&[("name", "x")])).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        assert_no_secrets(
            &admin.pages(),
            &[motcua_service::auth::secret_hash(&secret), motcua_service::auth::secret_hash(&api_token)],
        );
        // The last administrator can neither lock themselves out nor give up the role.
        let mut form = form_fields(&admin.page("/admin/users/quantri/edit").await, "/admin/users");
        form.push(("disabled".into(), "on".into()));
        assert_error_summary(&admin.post("/admin/users", &form).await, &["disabled"]);
        let mut form = form_fields(&admin.page("/admin/users/quantri/edit").await, "/admin/users");
        set(&mut form, "r0_role", "supervisor");
        let r = admin.post("/admin/users", &form).await;
        assert_error_summary(&r, &["r0_role"]);
        assert!(r.body.contains("quản trị viên cuối cùng"), "{}", r.body);
        let still = users::by_username(&t.db, "quantri").await.unwrap().unwrap();
        assert!(!still.disabled && still.roles.iter().any(|(_, r)| *r == motcua_domain::access::Role::Admin));
        // With a second administrator, the first may step down.
        let mut form = form_fields(&admin.page("/admin/users/chuyenvien/edit").await, "/admin/users");
        set(&mut form, "r1_agency", "000.00.10.H56");
        set(&mut form, "r1_role", "admin");
        assert_eq!(admin.post("/admin/users", &form).await.status, StatusCode::SEE_OTHER);
        let mut form = form_fields(&admin.page("/admin/users/quantri/edit").await, "/admin/users");
        set(&mut form, "r0_role", "supervisor");
        assert_eq!(admin.post("/admin/users", &form).await.status, StatusCode::SEE_OTHER);
        let successor = Browser::login(&app, "chuyenvien").await;
        let mut form = form_fields(&successor.page("/admin/users/chuyenvien/edit").await, "/admin/users");
        let admin_row = form.iter().find(|(k, v)| k.ends_with("_role") && v == "admin").unwrap().0.clone();
        set(&mut form, &admin_row, "specialist");
        let r = successor.post("/admin/users", &form).await;
        assert!(r.body.contains("quản trị viên cuối cùng"), "now the last one is chuyenvien");

    }
}

#[test]
fn the_form_reader_sends_what_a_browser_sends() {
    let html = r#"<form method="post" action="/x" novalidate>
  <input type="hidden" name="csrf" value="t&amp;k">
  <input id="a" name="a" type="text" value="&#34;quoted&#34; &#60;b&#62; &#x27;&#39; &amp;&nbsp;">
  <input id="b" name="b" type="checkbox" value="on">
  <input id="c" name="c" type="checkbox" value="v" checked>
  <textarea id="d" name="d" rows="2">
line 1
line 2</textarea>
  <select id="e" name="e"><option value="">—</option><option value="two" selected>Hai</option></select>
  <select id="f" name="f"><option value="first">Một</option></select>
  <button type="submit">Lưu</button>
</form>"#;
    assert_eq!(
        form_fields(html, "/x"),
        owned(&[
            ("csrf", "t&k"),
            ("a", "\"quoted\" <b> '' &&nbsp;"),
            ("c", "v"),
            ("d", "line 1\nline 2"),
            ("e", "two"),
            ("f", "first"),
        ])
    );
}
