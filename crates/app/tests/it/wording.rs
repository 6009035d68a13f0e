//! What the pages say, as a user reads them: no English left on Vietnamese pages (crawled
//! over the demo province as a visitor, a citizen and each kind of officer), dates as
//! dd/mm/yyyy, Vietnamese CSV headers, organisations named in full in the lookup,
//! `lang="vi"` on Vietnamese data inside English pages, and the demo's commune desks.

use crate::support::{TestApp, TestDb, code_for, on_both_backends};
use motcua_service::dossiers::{Actor, ApplicantInput, ComponentInput, IntakeInput};
use reqwest::StatusCode;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// Words that are English (or Rust, or JSON) leftovers when read on a Vietnamese page.
const LEFTOVERS: &[&str] = &[
    "desk_officer",
    "receiving_officer",
    "result_officer",
    "desk_head",
    "approver",
    "specialist",
    "supervisor",
    "leader",
    "clerk",
    "Error",
    "error",
    "guest",
    "system",
    "citizen",
    "None",
    "Some(",
    "null",
    "undefined",
    "TOTAL",
    "online",
    "direct",
    "pending",
];

/// A browser without JavaScript: a cookie jar, Vietnamese unless told otherwise.
struct Visitor<'a> {
    app: &'a TestApp,
    jar: BTreeMap<String, String>,
}

struct Page {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Self {
        Visitor {
            app,
            jar: BTreeMap::new(),
        }
    }

    fn english(app: &'a TestApp) -> Self {
        let mut v = Self::new(app);
        v.jar.insert("motcua_lang".into(), "en".into());
        v
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
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Page {
            status,
            content_type,
            body: res.text().await.unwrap_or_default(),
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

    /// GETs a form, then posts it with its CSRF token and these fields.
    async fn fill(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(path).await;
        let csrf = crate::support::hidden_value(&page.body, "csrf").expect("a csrf field");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let res = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", self.cookie())
            .form(&all)
            .send()
            .await
            .expect("post");
        self.take(res).await
    }

    /// Posts a multipart form (the page's CSRF token added) with these fields and files.
    async fn upload(
        &mut self,
        form: &str,
        to: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Page {
        let page = self.get(form).await;
        let csrf = crate::support::hidden_value(&page.body, "csrf").expect("a csrf field");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let (content_type, body) = crate::journey::multipart(&all, files);
        let res = self
            .app
            .client
            .post(self.app.url(to))
            .header("cookie", self.cookie())
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("multipart");
        self.take(res).await
    }

    /// Signs in a demo officer through the login page.
    async fn officer(app: &'a TestApp, username: &str) -> Visitor<'a> {
        let mut v = Visitor::new(app);
        let res = v
            .fill(
                "/login",
                &[
                    ("next", "/"),
                    ("username", username),
                    ("password", motcua::demo::DEMO_PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::SEE_OTHER,
            "login of {username}: {}",
            res.body
        );
        v
    }

    /// Registers, confirms and signs in a citizen (the code read from the outbox).
    async fn citizen(app: &'a TestApp, t: &TestDb, name: &str, login: &str) -> Visitor<'a> {
        let mut v = Visitor::new(app);
        let password = "mat-khau-an-toan";
        let res = v
            .fill(
                "/cong-dan/dang-ky",
                &[("full_name", name), ("login", login), ("password", password)],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let code = code_for(t, login).await;
        v.fill("/cong-dan/xac-thuc", &[("login", login), ("code", &code)])
            .await;
        let res = v
            .fill("/cong-dan/dang-nhap", &[("login", login), ("password", password)])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        v
    }

    /// Visits every page reachable by links from `start` (same site, GET, no downloads, no
    /// sign-out), at most a few per path; answers each HTML page's address and body.
    async fn crawl(&mut self, start: &[String], limit: usize) -> Vec<(String, String)> {
        let mut queue: VecDeque<String> = start.iter().cloned().collect();
        let mut seen: HashSet<String> = queue.iter().cloned().collect();
        let mut per_path: HashMap<String, usize> = HashMap::new();
        let mut pages = Vec::new();
        while let Some(url) = queue.pop_front() {
            if pages.len() >= limit {
                break;
            }
            let page = self.get(&url).await;
            assert!(
                !page.status.is_server_error(),
                "{url} answered {}: {}",
                page.status,
                page.body
            );
            if !page.status.is_success() || !page.content_type.starts_with("text/html") {
                continue;
            }
            for link in links(&page.body) {
                let path = link.split('?').next().unwrap_or("").to_string();
                let n = per_path.entry(path).or_default();
                if *n < 3 && seen.insert(link.clone()) {
                    *n += 1;
                    queue.push_back(link);
                }
            }
            pages.push((url, page.body));
        }
        pages
    }
}

/// The same-site links of a page worth following without side effects.
fn links(html: &str) -> Vec<String> {
    const SKIP: &[&str] = &[
        "/logout",
        "/cong-dan/dang-xuat",
        "/ngon-ngu/",
        "/static/",
        "/files/",
        "/api",
        "/tai-ve",
        "/tep/",
        "/ket-qua",
        "/thanh-toan/",
        "/swagger",
        "/metrics",
    ];
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .map(|h| h.split('#').next().unwrap_or("").to_string())
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .filter(|h| !SKIP.iter().any(|s| h.contains(s)))
        .filter(|h| !h.ends_with(".csv") && !h.ends_with(".xlsx") && !h.ends_with(".json"))
        .collect()
}

/// The text a reader sees: tags (and their attributes), scripts and styles removed, the
/// common entities decoded.
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push(' ');
        let tag = &rest[i..];
        let lower = tag.get(..8).unwrap_or(tag).to_ascii_lowercase();
        let skip_to = if lower.starts_with("<style") {
            tag.find("</style>").map(|j| j + 8)
        } else if lower.starts_with("<script") {
            tag.find("</script>").map(|j| j + 9)
        } else if lower.starts_with("<!--") {
            tag.find("-->").map(|j| j + 3)
        } else {
            tag_end(tag)
        };
        rest = &tag[skip_to.unwrap_or(tag.len())..];
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
}

/// Where a tag ends: the first `>` outside quotes.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in tag.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// The English leftovers and ISO dates in a page's visible text.
fn leftovers(text: &str) -> Vec<String> {
    let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for word in LEFTOVERS {
        for (i, _) in text.match_indices(word) {
            let before = text[..i].chars().next_back();
            let after = text[i + word.len()..].chars().next();
            let alone = !before.is_some_and(|c| word_char(c) || c == '.' || c == '-')
                && (word.ends_with('(') || !after.is_some_and(|c| word_char(c) || c == '.' || c == '-'));
            if alone {
                found.push(context(text, i));
            }
        }
    }
    let bytes = text.as_bytes();
    for i in 0..bytes.len().saturating_sub(9) {
        let d = |j: usize| bytes[i + j].is_ascii_digit();
        let iso = d(0)
            && d(1)
            && d(2)
            && d(3)
            && bytes[i + 4] == b'-'
            && d(5)
            && d(6)
            && bytes[i + 7] == b'-'
            && d(8)
            && d(9);
        let alone =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'-' || bytes[i - 1] == b'.');
        let after = bytes.get(i + 10).copied();
        // A dossier code (`000.00.01.H56-251127-0005`) is not a date.
        if iso && alone && !after.is_some_and(|b| b.is_ascii_digit() || b == b'-') {
            found.push(context(text, i));
        }
    }
    found
}

fn context(text: &str, i: usize) -> String {
    let start = text[..i].char_indices().rev().nth(40).map_or(0, |(j, _)| j);
    let end = text[i..]
        .char_indices()
        .nth(40)
        .map_or(text.len(), |(j, _)| i + j);
    text[start..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first text a query answers.
async fn text_scalar(db: &motcua_store::Db, sql: &str) -> String {
    use motcua_store::Db;
    match db {
        Db::Sqlite { write, .. } => sqlx::query_scalar(sql)
            .fetch_one(&mut **write.lock().await.unwrap())
            .await
            .unwrap(),
        Db::Postgres(pg) => sqlx::query_scalar(sql).fetch_one(&pg.write).await.unwrap(),
    }
}

async fn demo_app(t: &TestDb) -> TestApp {
    motcua::demo::seed(&t.services()).await.unwrap();
    TestApp::spawn_with(
        t,
        motcua_web::WebConfig {
            demo_accounts: motcua::demo::accounts(),
            ..t.web_config()
        },
    )
    .await
}

/// An online dossier handed in by someone not signed in (the pages' guest submission).
fn online(
    procedure: &str,
    agency: &str,
    kind: &str,
    name: &str,
    id_number: &str,
    components: usize,
) -> IntakeInput {
    IntakeInput {
        procedure: procedure.into(),
        case: None,
        agency: agency.into(),
        channel: "online".into(),
        applicant: ApplicantInput {
            kind: kind.into(),
            name: name.into(),
            id_number: id_number.into(),
            phone: "0912345678".into(),
            email: String::new(),
            address: "Thôn Đồng Tâm, xã Trấn Yên, tỉnh Yên Bái".into(),
        },
        submitter_name: String::new(),
        request: "Đề nghị giải quyết".into(),
        components: (0..components)
            .map(|index| ComponentInput {
                index,
                provided: false,
                file: None,
            })
            .collect(),
        delivery: None,
        notify: None,
    }
}

/// Đăng ký khai sinh (fully online) handed in by a guest at the commune of Trấn Yên; its key.
async fn submit_at_commune(t: &TestDb, services: &motcua_service::Services) -> String {
    let spec = motcua_store::repo::catalog::procedure(&t.db, "1.001193", chrono::Utc::now().date_naive())
        .await
        .unwrap()
        .unwrap()
        .spec;
    let scan = services
        .store_scan("to-khai.pdf", b"%PDF-1.4\n% to khai\n%%EOF\n")
        .await
        .unwrap()
        .sha256;
    let mut input = online(
        "1.001193",
        "000.30.02.H56",
        "person",
        "Lò Thị Mai",
        "015199001234",
        spec.components.len(),
    );
    for c in &mut input.components {
        c.provided = true;
        c.file = Some(format!("sha256:{scan}"));
    }
    services.intake(Actor::Guest, input).await.unwrap().dossier.key()
}

/// Checks every crawled page; answers the list of leftovers, one line each.
fn check(who: &str, pages: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (url, html) in pages {
        if html.contains(r#"<html lang="en">"#) {
            continue;
        }
        for l in leftovers(&visible_text(html)) {
            bad.push(format!("{who} {url}: …{l}…"));
        }
    }
    bad
}

on_both_backends! {
    async fn vietnamese_pages_carry_no_english_leftovers(t) {
        let app = demo_app(t).await;
        let services = t.services();
        // A petition, so that the feedback pages have a history to show.
        let fb = motcua_service::feedback::SubmitInput {
            dossier_code: None,
            name: "Nguyễn Văn An".into(),
            phone: "0912345678".into(),
            email: String::new(),
            agency: "000.00.06.H56".into(),
            subject: "Thái độ phục vụ".into(),
            content: "Cán bộ hướng dẫn chưa rõ.".into(),
            channel: None,
        };
        services.submit_feedback(None, "127.0.0.1", &fb).await.unwrap();
        // An online dossier from someone not signed in, accepted at the commune: its history
        // names a citizen.
        let key = submit_at_commune(t, &services).await;
        let desk = crate::support::officer(t, "tiepnhan.xa.tranyen").await;
        let accepted = services
            .act(Actor::Officer(&desk), &key, motcua_domain::dossier::machine::Action::Accept, Default::default())
            .await
            .unwrap()
            .dossier
            .key();
        let code = text_scalar(&t.db, "SELECT code FROM dossiers WHERE code IS NOT NULL AND status = 'processing' ORDER BY id LIMIT 1").await;
        let phone = text_scalar(&t.db, &format!("SELECT phone FROM dossiers WHERE code = '{code}'")).await;
        let last4 = &phone[phone.len() - 4..];

        let mut bad = Vec::new();
        let public = [
            "/".to_string(),
            "/thu-tuc".into(),
            "/thu-tuc?page=2".into(),
            format!("/tra-cuu?ma={code}&verify={last4}"),
            "/phan-anh".into(),
            "/phan-anh/da-tra-loi".into(),
            "/danh-gia".into(),
            "/danh-gia/giai-thich".into(),
            "/cong-dan/dang-ky".into(),
            "/cong-dan/dang-nhap".into(),
            "/login".into(),
            "/khong-co-trang-nay".into(),
        ];
        let pages = Visitor::new(&app).crawl(&public, 60).await;
        assert!(pages.len() >= 10, "the crawl reached few pages: {}", pages.len());
        bad.extend(check("visitor", &pages));

        let mut citizen = Visitor::citizen(&app, t, "Trần Thị Bích", "0988777666").await;
        let pages = citizen.crawl(&["/cong-dan".to_string(), "/cong-dan/nop-ho-so".into()], 40).await;
        bad.extend(check("citizen", &pages));
        // The demo citizen, whose birth registration waits at the commune.
        let mut demo_citizen = Visitor::new(&app);
        let (login, _) = motcua::demo::DEMO_CITIZEN;
        demo_citizen.fill("/cong-dan/dang-nhap", &[("login", login), ("password", motcua::demo::DEMO_PASSWORD)]).await;
        let pages = demo_citizen.crawl(&["/cong-dan".to_string()], 40).await;
        assert!(pages.iter().any(|(u, _)| u.starts_with("/cong-dan/ho-so/")), "the demo citizen's dossier page was not reached");
        bad.extend(check("demo citizen", &pages));

        let mut reached: HashSet<String> = HashSet::new();
        for officer in ["tiepnhan", "chuyenvien", "pheduyet", "lanhdao", "giamsat", "quantri", "tiepnhan.xa.tranyen"] {
            let mut v = Visitor::officer(&app, officer).await;
            let start = ["/".to_string(), format!("/ho-so/{accepted}"), format!("/ho-so/{accepted}/phieu-kiem-soat"), format!("/ho-so/{accepted}/phieu-tiep-nhan"), "/ho-so".into(), "/ho-so/phan-anh".into(), "/bao-cao".into(), "/bang-dieu-khien".into(), "/admin/users".into(), "/admin/procedures".into(), "/admin/agencies".into(), "/admin/calendar".into(), "/bao-cao/ho-so?column=received".into(), "/so-theo-doi".into(), "/danh-gia".into()];
            let pages = v.crawl(&start, 120).await;
            reached.extend(pages.iter().map(|(url, _)| url.clone()));
            bad.extend(check(officer, &pages));
        }
        // The history names the citizen who submitted, in Vietnamese.
        let history = visible_text(&Visitor::officer(&app, "tiepnhan.xa.tranyen").await.get(&format!("/ho-so/{accepted}")).await.body);
        assert!(history.contains("Công dân"), "{history}");
        // The crawl reached the pages that show histories, actors and dates.
        for kind in ["/ho-so/phan-anh/PAKN-", "/admin/users/", "/thu-tuc/", "/bao-cao/ho-so"] {
            assert!(reached.iter().any(|u| u.starts_with(kind)), "the crawl never reached {kind}…");
        }
        assert!(
            reached.iter().any(|u| u.starts_with("/ho-so/") && !u.starts_with("/ho-so/phan-anh") && u.matches('/').count() == 2),
            "the crawl never reached a dossier page"
        );
        bad.sort();
        bad.dedup();
        assert!(bad.is_empty(), "English or ISO dates on Vietnamese pages:\n{}", bad.join("\n"));
    }

    async fn report_csv_from_the_pages_has_vietnamese_headers(t) {
        let app = demo_app(t).await;
        let mut v = Visitor::officer(&app, "giamsat").await;
        let today = chrono::Utc::now().date_naive();
        let from = today - chrono::Duration::days(60);
        let page = v.get(&format!("/bao-cao/tai-ve.csv?from={from}&to={today}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let first = page.body.trim_start_matches('\u{feff}').lines().next().unwrap().to_string();
        assert!(first.starts_with("Mã,Tên,Tổng số hồ sơ tiếp nhận,"), "{first}");
        assert!(first.contains("Đã giải quyết quá hạn") && first.contains("Đang giải quyết quá hạn"), "{first}");
        assert!(page.body.contains(",Tổng cộng,"), "{}", page.body);
        assert!(leftovers(&page.body).is_empty(), "{:?}", leftovers(&page.body));
    }

    async fn the_lookup_masks_people_but_names_organisations(t) {
        let app = demo_app(t).await;
        let services = t.services();
        let desk = crate::support::officer(t, "tiepnhan.xa.tranyen").await;
        let mut codes = Vec::new();
        for (kind, name, id) in [("person", "Nguyễn Văn An", "015093000123"), ("organisation", "Công ty TNHH Thương mại Trấn Yên", "5200123456")] {
            let mut input = online("1.001612", "000.30.02.H56", kind, name, id, 0);
            input.channel = "direct".into();
            let n = motcua_store::repo::catalog::procedure(&t.db, "1.001612", chrono::Utc::now().date_naive()).await.unwrap().unwrap().spec.components.len();
            input.components = (0..n).map(|index| ComponentInput { index, provided: true, file: None }).collect();
            let v = services.intake(Actor::Officer(&desk), input).await.unwrap();
            codes.push(v.dossier.code.clone().expect("a code"));
        }
        let person = app.get(&format!("/tra-cuu?ma={}&verify=5678", codes[0])).await.text().await.unwrap();
        assert!(person.contains("N. V. An") && !person.contains("Nguyễn Văn An"), "{person}");
        let org = app.get(&format!("/tra-cuu?ma={}&verify=5678", codes[1])).await.text().await.unwrap();
        assert!(org.contains("Công ty TNHH Thương mại Trấn Yên"), "{org}");
    }

    async fn english_pages_mark_vietnamese_data(t) {
        let app = demo_app(t).await;
        let services = t.services();
        let fb = motcua_service::feedback::SubmitInput {
            dossier_code: None,
            name: "Nguyễn Văn An".into(),
            phone: "0912345678".into(),
            email: String::new(),
            agency: "000.00.06.H56".into(),
            subject: "Thái độ phục vụ".into(),
            content: "Cán bộ hướng dẫn chưa rõ.".into(),
            channel: None,
        };
        services.submit_feedback(None, "127.0.0.1", &fb).await.unwrap();
        let mut en = Visitor::english(&app);
        // The demo logins' roles in English, Vietnamese names marked.
        let landing = en.get("/").await.body;
        for role in ["<td>Receiving officer</td>", "<td>Signing leader</td>", "<td>Citizen (citizen sign-in)</td>"] {
            assert!(landing.contains(role), "{role} missing from {landing}");
        }
        let list = en.get("/thu-tuc?q=khai+sinh").await.body;
        assert!(list.contains(r#"<html lang="en">"#));
        assert!(list.contains(r#"lang="vi">Đăng ký khai sinh"#), "{list}");
        let detail = en.get("/thu-tuc/1.001193").await.body;
        assert!(detail.contains(r#"lang="vi">Đăng ký khai sinh"#), "{detail}");
        assert!(detail.contains(r#"lang="vi">Ủy ban nhân dân xã Trấn Yên"#), "{detail}");
        let code = text_scalar(&t.db, "SELECT code FROM dossiers WHERE code IS NOT NULL AND status = 'processing' ORDER BY id LIMIT 1").await;
        let phone = text_scalar(&t.db, &format!("SELECT phone FROM dossiers WHERE code = '{code}'")).await;
        let found = en.get(&format!("/tra-cuu?ma={code}&verify={}", &phone[phone.len() - 4..])).await.body;
        assert!(found.contains(&format!("<h2 id=\"result-heading\">Dossier {code}</h2>")), "{found}");
        for id in ["result-applicant", "result-procedure", "result-agency"] {
            assert!(found.contains(&format!(r#"id="{id}" lang="vi""#)), "{id} in {found}");
        }
        let form = en.get("/phan-anh").await.body;
        assert!(form.contains(r#"lang="vi">Sở Tư pháp"#), "{form}");
    }

    // The README's "first five minutes", with the demo's own accounts.
    async fn the_readme_walk_through_works_with_the_demo_accounts(t) {
        use motcua_domain::dossier::machine::Action;
        use motcua_service::dossiers::ActionInput;
        let app = demo_app(t).await;
        let services = t.services();
        // The demo citizen signs in with the demo password.
        let (login, name) = motcua::demo::DEMO_CITIZEN;
        let mut citizen = Visitor::new(&app);
        let res = citizen.fill("/cong-dan/dang-nhap", &[("login", login), ("password", motcua::demo::DEMO_PASSWORD)]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        assert!(citizen.get("/cong-dan").await.body.contains(name));
        // … and submits a birth registration to the commune of Trấn Yên.
        let id = motcua_store::repo::citizens::by_login(&t.db, login).await.unwrap().unwrap().id;
        let spec = motcua_store::repo::catalog::procedure(&t.db, "1.001193", chrono::Utc::now().date_naive()).await.unwrap().unwrap().spec;
        let scan = services.store_scan("to-khai.pdf", b"%PDF-1.4\n% to khai\n%%EOF\n").await.unwrap().sha256;
        let mut input = online("1.001193", "000.30.02.H56", "person", name, "015093000123", spec.components.len());
        input.applicant.phone = login.into();
        for c in &mut input.components {
            c.provided = true;
            c.file = Some(format!("sha256:{scan}"));
        }
        let key = services.intake(Actor::Citizen { id, login }, input).await.unwrap().dossier.key();
        // The commune's desk officer, specialist and leader take it to the end.
        let act = |user: &'static str, key: String, action: Action, input: ActionInput| {
            let services = services.clone();
            async move {
                let u = crate::support::officer(t, user).await;
                services.act(Actor::Officer(&u), &key, action, input).await.unwrap_or_else(|e| panic!("{user} {action}: {e:?}")).dossier.key()
            }
        };
        let code = act("tiepnhan.xa.tranyen", key, Action::Accept, ActionInput::default()).await;
        act("tiepnhan.xa.tranyen", code.clone(), Action::Transfer, ActionInput::default()).await;
        act("chuyenvien.xa.tranyen", code.clone(), Action::CompleteStep, ActionInput::default()).await;
        let result = ActionInput { file: Some(format!("sha256:{scan}")), result_number: Some("15/TLKS".into()), ..Default::default() };
        act("lanhdao.xa.tranyen", code.clone(), Action::Approve, result).await;
        act("tiepnhan.xa.tranyen", code.clone(), Action::ReturnResult, ActionInput { method: Some("desk".into()), ..Default::default() }).await;
        // Anyone looks it up with the last 4 digits of the phone; the citizen sees it as theirs.
        let found = visible_text(&Visitor::new(&app).get(&format!("/tra-cuu?ma={code}&verify={}", &login[login.len() - 4..])).await.body);
        assert!(found.contains("Đã trả kết quả"), "{found}");
        let mine = citizen.get(&format!("/cong-dan/ho-so/{code}")).await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    }

    async fn upload_errors_on_pages_are_vietnamese(t) {
        let app = demo_app(t).await;
        let mut desk = Visitor::officer(&app, "tiepnhan.xa.tranyen").await;
        let form = "/ho-so/tiep-nhan?procedure=1.001193&agency=000.30.02.H56";
        let fields = [("procedure", "1.001193"), ("agency", "000.30.02.H56"), ("channel", "direct"), ("kind", "person"),
            ("name", "Lò Thị Mai"), ("id_number", "015199001234"), ("phone", "0912345678"), ("email", ""),
            ("address", "Thôn Đồng Tâm, xã Trấn Yên"), ("submitter_name", ""), ("request", "Đăng ký khai sinh"),
            ("c0_provided", "on"), ("c1_provided", "on")];
        let big = vec![b'%'; 10 * 1024 * 1024 + 1];
        for (file, said) in [(&b"MZ\x90\x00 a program"[..], "không phải PDF, JPEG hoặc PNG"), (&big[..], "lớn")] {
            let page = desk.upload(form, "/ho-so/tiep-nhan", &fields, &[("c0_file", "to-khai.pdf", file)]).await;
            assert!(page.status.is_client_error(), "{}", page.status);
            let text = visible_text(&page.body);
            assert!(text.contains(said), "{said:?} missing from: {text}");
            assert!(leftovers(&text).is_empty(), "{:?}", leftovers(&text));
            for english in ["files are limited", "only PDF", "too large", "Payload", "length limit"] {
                assert!(!text.contains(english), "{english:?} in: {text}");
            }
        }
    }

    async fn a_commune_online_dossier_reaches_the_commune_desk(t) {
        let app = demo_app(t).await;
        let services = t.services();
        // Đăng ký khai sinh, fully online, at the commune of Trấn Yên.
        let mut desk = Visitor::officer(&app, "tiepnhan.xa.tranyen").await;
        // The demo citizen's own birth registration already waits there.
        let queue = desk.get("/ho-so?inbox=queue").await;
        assert!(queue.body.contains(motcua::demo::DEMO_CITIZEN.1), "{}", queue.body);
        let key = submit_at_commune(t, &services).await;
        let queue = desk.get("/ho-so?inbox=queue").await;
        assert_eq!(queue.status, StatusCode::OK);
        assert!(queue.body.contains(&key) && queue.body.contains("Lò Thị Mai"), "{}", queue.body);
        // Not in another commune's queue.
        let mut other = Visitor::officer(&app, "tiepnhan.xa.quymong").await;
        assert!(!other.get("/ho-so?inbox=queue").await.body.contains(&key));
        // The landing page offers the commune's accounts.
        let landing = Visitor::new(&app).get("/").await.body;
        for login in ["tiepnhan.xa.tranyen", "chuyenvien.xa.tranyen", "lanhdao.xa.tranyen"] {
            assert!(landing.contains(&format!("<code>{login}</code>")), "{login} missing from the landing page");
        }
    }
}

#[test]
fn visible_text_drops_tags_and_attributes() {
    let html = r#"<p title="system">Ngày <input type="date" value="2026-12-07"> <b>07/12/2026</b></p><style>.error{}</style>"#;
    let text = visible_text(html);
    assert!(leftovers(&text).is_empty(), "{text}");
    assert_eq!(leftovers("Lỗi: None"), vec!["Lỗi: None".to_string()]);
    assert_eq!(leftovers("ngày 2026-12-07").len(), 1);
    assert!(leftovers("mã 000.00.01.H56-251127-0005, tiepnhan.system").is_empty());
}
