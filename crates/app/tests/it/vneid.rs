//! Signing in with the national identity (VNeID) against a real OpenID Connect provider run
//! as a separate process (scripts/sim/oidc/provider.mjs, the npm `oidc-provider`), through a
//! browser-like client with a cookie jar that follows redirects by hand: the happy path and
//! sign-out at both ends, linking to an existing account, a wrong state, a replayed code, a
//! token for another audience, an expired token, and the provider down.

use crate::support::{TestDb, count, hidden_value, on_both_backends, scalar};
use reqwest::{StatusCode, Url};
use std::io::BufRead;
use std::time::Duration;

/// Citizens of the simulator (its default accounts).
const AN: &str = "001090001234";
const AN_PHONE: &str = "0912000111";
const BINH: &str = "079185004321";

/// The provider process, killed when dropped.
struct Provider {
    child: std::process::Child,
    issuer: String,
}

impl Provider {
    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop();
    }
}

fn sim_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/sim/oidc")
}

/// Starts the provider for a site at `base`; None (the test skipped, loudly) where node or
/// the simulator's packages are missing outside CI.
fn provider(base: &str, extra: &[&str]) -> Option<Provider> {
    let dir = sim_dir();
    let missing = |why: String| {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("the VNeID tests need the OpenID provider simulator: {why}");
        }
        eprintln!("skipped: {why} (scripts/test installs it: npm ci in scripts/sim/oidc)");
        None
    };
    if !dir.join("node_modules/oidc-provider").is_dir() {
        return missing(format!("{} has no node_modules", dir.display()));
    }
    let spawned = std::process::Command::new("node")
        .arg(dir.join("provider.mjs"))
        .args(["--redirect-uri", &format!("{base}/cong-dan/vneid/ve")])
        .args(["--post-logout-redirect-uri", &format!("{base}/")])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return missing(format!("node is not available ({e})")),
    };
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the simulator's ready line");
    let port = line
        .trim()
        .strip_prefix("ready ")
        .expect("ready PORT")
        .to_string();
    Some(Provider {
        child,
        issuer: format!("http://127.0.0.1:{port}"),
    })
}

/// motcua on a port known before it serves (the provider must know its callback first).
struct Site {
    base: String,
    listener: Option<tokio::net::TcpListener>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Site {
    async fn bind() -> Site {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        Site {
            base,
            listener: Some(listener),
            task: None,
        }
    }

    /// Serves with VNeID at `issuer` configured through the command line's flags.
    fn serve(&mut self, t: &TestDb, issuer: &str) {
        let args = motcua::oidc_args::OidcArgs {
            oidc_issuer: Some(issuer.to_string()),
            oidc_client_id: "motcua".into(),
            oidc_client_secret: "motcua-secret".into(),
            oidc_scopes: "openid profile phone email".into(),
            oidc_id_claim: "sub".into(),
            oidc_label: "VNeID".into(),
        };
        let config = motcua_web::WebConfig {
            vneid: args.vneid(&self.base).expect("valid settings"),
            ..t.web_config()
        };
        let rules = motcua_service::Rules {
            public_url: self.base.clone(),
            ..Default::default()
        };
        let app = motcua_web::router(motcua_web::AppState::new(t.services_with(rules), config));
        let listener = self.listener.take().expect("served once");
        self.task = Some(tokio::spawn(async move {
            let limits = motcua_web::server::ServerLimits::default();
            motcua_web::server::serve(listener, app, limits, std::future::pending())
                .await
                .expect("serve");
        }));
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

/// motcua served with VNeID at a provider started for it (with `extra` switches); None
/// where the test is skipped.
async fn start(t: &TestDb, extra: &[&str]) -> Option<(Site, Provider)> {
    let mut site = Site::bind().await;
    let p = provider(&site.base, extra)?;
    site.serve(t, &p.issuer);
    Some((site, p))
}

/// A browser: a cookie jar, redirects followed by hand.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn location(res: &reqwest::Response) -> Url {
    let to = res
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("{} redirects", res.url()))
        .to_str()
        .unwrap();
    res.url().join(to).expect("a URL")
}

/// Follows redirects from `url` until one points at `stop` (a URL prefix), which is not
/// visited; signs in at the provider's interaction page as the citizen `id` on the way.
async fn until(b: &reqwest::Client, url: &str, stop: &str, id: &str) -> Url {
    let mut next = Url::parse(url).unwrap();
    for _ in 0..12 {
        if next.as_str().starts_with(stop) {
            return next;
        }
        let res = b.get(next.clone()).send().await.expect("request");
        if res.status().is_redirection() {
            next = location(&res);
            continue;
        }
        assert_eq!(res.status(), StatusCode::OK, "{next}");
        assert!(next.path().starts_with("/interaction/"), "stopped at {next}");
        // The provider's sign-in form: one field, the personal identification number.
        let res = b
            .post(next.join(&format!("{}/login", next.path())).unwrap())
            .form(&[("id", id)])
            .send()
            .await
            .expect("sign in at the provider");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        next = location(&res);
    }
    panic!("too many redirects from {url}");
}

/// Starts a sign-in on the site and signs in at the provider: the callback URL the provider
/// sends the browser to, not visited yet.
async fn to_callback(b: &reqwest::Client, site: &Site, id: &str) -> Url {
    let cb = until(
        b,
        &site.url("/cong-dan/vneid"),
        &site.url("/cong-dan/vneid/ve"),
        id,
    )
    .await;
    let q: std::collections::HashMap<_, _> = cb.query_pairs().into_owned().collect();
    assert!(q.contains_key("code") && q.contains_key("state"), "{cb}");
    cb
}

/// The answer of a GET without following it.
async fn get(b: &reqwest::Client, url: impl reqwest::IntoUrl) -> reqwest::Response {
    b.get(url).send().await.expect("request")
}

/// Nothing of a sign-in was written: no account, link, session.
async fn nothing_created(t: &TestDb, citizens: i64, sessions: i64) {
    assert_eq!(count(&t.db, "citizens").await, citizens, "no account created");
    assert_eq!(
        count(&t.db, "citizen_sessions").await,
        sessions,
        "no session opened"
    );
    assert_eq!(count(&t.db, "vneid_links").await, citizens, "no link made");
    assert_eq!(count(&t.db, "vneid_pending").await, 0, "no link waiting");
}

/// A refusal page: its status, and its Vietnamese text contains `says`.
async fn refused(res: reqwest::Response, status: StatusCode, says: &str) {
    assert_eq!(res.status(), status, "{}", res.url());
    let html = res.text().await.unwrap();
    assert!(html.contains(says), "the page says {says:?}: {html}");
}

/// An online submission by a citizen (the service directly: the pages are tested elsewhere).
async fn submit_as(t: &TestDb, actor: motcua_service::dossiers::Actor<'_>) -> String {
    use motcua_service::dossiers::{ApplicantInput, ComponentInput, IntakeInput};
    let input = IntakeInput {
        procedure: "1.009972".into(),
        case: Some("cong-trinh".into()),
        agency: "000.00.01.H56".into(),
        channel: "online".into(),
        applicant: ApplicantInput {
            kind: "person".into(),
            name: "Nguyễn Văn An".into(),
            id_number: AN.into(),
            phone: AN_PHONE.into(),
            email: String::new(),
            address: "Yên Bái".into(),
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
    };
    let v = t.services().intake(actor, input).await.expect("submitted");
    v.dossier.key()
}

/// The DVCQG sync records queued, as JSON.
async fn sync_records(t: &TestDb) -> Vec<serde_json::Value> {
    motcua_store::repo::outbox::pending(&t.db, 10_000)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|(_, topic, _, _)| topic == "dvcqg_sync")
        .map(|(_, _, payload, _)| serde_json::from_str(&payload).expect("json"))
        .collect()
}

on_both_backends! {
    async fn the_first_sign_in_creates_the_account_the_next_finds_it_and_sign_out_ends_both(t) {
        crate::support::load_fixtures(t).await;
        let Some((site, _p)) = start(t, &[]).await else { return };
        let b = browser();

        // The sign-in page offers VNeID.
        let html = get(&b, site.url("/cong-dan/dang-nhap")).await.text().await.unwrap();
        assert!(html.contains(r#"href="/cong-dan/vneid""#) && html.contains("Đăng nhập bằng VNeID"), "{html}");

        // First sign-in: the account is created from the claims, confirmed, linked, signed in.
        let cb = to_callback(&b, &site, AN).await;
        let res = get(&b, cb).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res).path(), "/cong-dan");
        assert_eq!(count(&t.db, "citizens").await, 1);
        let id = scalar(&t.db, &format!("SELECT citizen_id FROM vneid_links WHERE personal_id = '{AN}'")).await;
        let login = motcua_store::repo::citizens::by_id(&t.db, id).await.unwrap().unwrap();
        assert_eq!((login.login.as_str(), login.full_name.as_str(), login.verified), (AN_PHONE, "Nguyễn Văn An", true));
        let res = get(&b, site.url("/cong-dan")).await;
        let home = res.text().await.unwrap();
        assert!(home.contains("Nguyễn Văn An") && home.contains("đã được xác thực định danh bằng VNeID"), "{home}");
        // It has no password: nobody signs in to it with one.
        assert!(t.services().citizen_sign_in(AN_PHONE, "", "test").await.is_err());

        // A dossier it sends carries the flag: its pages and the portal's sync record say so.
        use motcua_service::dossiers::Actor;
        let key = submit_as(t, Actor::Citizen { id, login: AN_PHONE }).await;
        assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM dossiers WHERE vneid_verified").await, 1);
        let page = get(&b, site.url(&format!("/cong-dan/ho-so/{key}"))).await.text().await.unwrap();
        assert!(page.contains("Nộp từ tài khoản đã xác thực bằng VNeID"), "{page}");
        let records = sync_records(t).await;
        assert!(!records.is_empty());
        assert!(records.iter().all(|r| r["XacThucVNeID"] == 1), "{records:?}");
        // A guest's dossier does not.
        submit_as(t, Actor::Guest).await;
        assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM dossiers WHERE vneid_verified").await, 1);
        assert_eq!(count(&t.db, "dossiers").await, 2);

        // Sign-out ends the local session and sends the browser to the provider's sign-out.
        let csrf = hidden_value(&home, "csrf").expect("the sign-out form's token");
        let res = b.post(site.url("/cong-dan/dang-xuat")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let end = location(&res);
        assert!(end.as_str().starts_with(&format!("{}/session/end", _p.issuer)), "{end}");
        let q: std::collections::HashMap<_, _> = end.query_pairs().into_owned().collect();
        assert!(q.get("id_token_hint").is_some_and(|h| h.split('.').count() == 3), "{end}");
        assert_eq!(q.get("post_logout_redirect_uri").map(String::as_str), Some(site.url("/").as_str()));
        assert_eq!(count(&t.db, "citizen_sessions").await, 0);
        assert_eq!(count(&t.db, "vneid_sessions").await, 0);
        assert_eq!(get(&b, site.url("/cong-dan")).await.status(), StatusCode::SEE_OTHER, "signed out here");
        // The provider asks to confirm (its form), then returns the browser to this site.
        let confirm = get(&b, end).await;
        assert_eq!(confirm.status(), StatusCode::OK);
        let url = confirm.url().clone();
        let form = confirm.text().await.unwrap();
        let xsrf = hidden_value(&form, "xsrf").expect("the provider's logout form");
        let action = form.split("action=\"").nth(1).and_then(|s| s.split('"').next()).expect("its action");
        let res = b.post(url.join(action).unwrap()).form(&[("xsrf", xsrf.as_str()), ("logout", "yes")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res).as_str(), site.url("/"));

        // Signed out there too: the next sign-in asks who it is again, and finds the same account.
        let start = get(&b, site.url("/cong-dan/vneid")).await;
        let auth = get(&b, location(&start)).await;
        assert_eq!(auth.status(), StatusCode::SEE_OTHER);
        assert!(location(&auth).path().starts_with("/interaction/"), "the provider asks again");
        let cb = until(&b, location(&auth).as_str(), &site.url("/cong-dan/vneid/ve"), AN).await;
        let res = get(&b, cb).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(count(&t.db, "citizens").await, 1, "the same account");
        assert_eq!(count(&t.db, "citizen_sessions").await, 1);
        let mine = t.services().dossiers_of_citizen(id).await.unwrap();
        assert_eq!(mine.len(), 1);
    }

    async fn an_existing_account_is_linked_only_once_its_password_confirms_it(t) {
        let Some((site, _p)) = start(t, &[]).await else { return };
        // An account registered with the phone number VNeID gives.
        let s = t.services();
        s.register(AN_PHONE, "Nguyễn Văn An", "mat-khau-cu-9").await.unwrap();
        let code = crate::support::code_for(t, AN_PHONE).await;
        s.verify_citizen(AN_PHONE, &code).await.unwrap();
        let existing = s.citizen_sign_in(AN_PHONE, "mat-khau-cu-9", "test").await.unwrap();
        let existing_id = s.citizen_of_session(&existing).await.unwrap().unwrap().0.id;
        let sessions = count(&t.db, "citizen_sessions").await;

        let b = browser();
        let cb = to_callback(&b, &site, AN).await;
        let res = get(&b, cb).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res).path(), "/cong-dan/vneid/xac-nhan");
        assert_eq!(count(&t.db, "vneid_links").await, 0, "not linked before confirmation");
        assert_eq!(count(&t.db, "citizen_sessions").await, sessions, "not signed in yet");
        let page = get(&b, site.url("/cong-dan/vneid/xac-nhan")).await.text().await.unwrap();
        assert!(page.contains(AN_PHONE) && page.contains("Liên kết tài khoản với VNeID"), "{page}");
        let csrf = hidden_value(&page, "csrf").unwrap();

        // A wrong password links nothing.
        let res = b.post(site.url("/cong-dan/vneid/xac-nhan")).form(&[("csrf", csrf.as_str()), ("password", "doan-sai-1")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("Mật khẩu không đúng."), "{html}");
        assert_eq!(count(&t.db, "vneid_links").await, 0);
        assert_eq!(count(&t.db, "citizen_sessions").await, sessions);

        // The right one links the account and signs it in; no second account.
        let csrf = hidden_value(&html, "csrf").unwrap();
        let res = b.post(site.url("/cong-dan/vneid/xac-nhan")).form(&[("csrf", csrf.as_str()), ("password", "mat-khau-cu-9")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res).path(), "/cong-dan");
        assert_eq!(count(&t.db, "citizens").await, 1);
        assert_eq!(scalar(&t.db, &format!("SELECT citizen_id FROM vneid_links WHERE personal_id = '{AN}'")).await, existing_id);
        assert_eq!(count(&t.db, "vneid_pending").await, 0);
        let home = get(&b, site.url("/cong-dan")).await.text().await.unwrap();
        assert!(home.contains("đã được xác thực định danh bằng VNeID"), "{home}");
        // The link is used once: confirming again finds nothing waiting.
        let res = b.post(site.url("/cong-dan/vneid/xac-nhan")).form(&[("csrf", csrf.as_str()), ("password", "mat-khau-cu-9")]).send().await.unwrap();
        refused(res, StatusCode::BAD_REQUEST, "không hợp lệ hoặc đã hết hạn").await;

        // A signed-in citizen links from their page too, after the same confirmation.
        let b2 = browser();
        s.register("binh@example.vn", "Trần Thị Bình", "mat-khau-binh-7").await.unwrap();
        let code = crate::support::code_for(t, "binh@example.vn").await;
        s.verify_citizen("binh@example.vn", &code).await.unwrap();
        let login = b2.get(site.url("/cong-dan/dang-nhap")).send().await.unwrap().text().await.unwrap();
        let csrf = hidden_value(&login, "csrf").unwrap();
        let res = b2.post(site.url("/cong-dan/dang-nhap")).form(&[("csrf", csrf.as_str()), ("login", "binh@example.vn"), ("password", "mat-khau-binh-7")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let home = get(&b2, site.url("/cong-dan")).await.text().await.unwrap();
        assert!(home.contains("Liên kết tài khoản với VNeID"), "{home}");
        let csrf = hidden_value(&home, "csrf").unwrap();
        let res = b2.post(site.url("/cong-dan/vneid/lien-ket")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let cb = until(&b2, location(&res).as_str(), &site.url("/cong-dan/vneid/ve"), BINH).await;
        let res = get(&b2, cb).await;
        assert_eq!(location(&res).path(), "/cong-dan/vneid/xac-nhan");
        let page = get(&b2, site.url("/cong-dan/vneid/xac-nhan")).await.text().await.unwrap();
        let csrf = hidden_value(&page, "csrf").unwrap();
        let res = b2.post(site.url("/cong-dan/vneid/xac-nhan")).form(&[("csrf", csrf.as_str()), ("password", "mat-khau-binh-7")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(count(&t.db, "vneid_links").await, 2);
        assert_eq!(count(&t.db, "citizens").await, 2);
    }

    async fn a_wrong_state_or_a_replayed_code_is_refused_and_creates_nothing(t) {
        let Some((site, _p)) = start(t, &[]).await else { return };
        let b = browser();

        // A state that is not this browser's sign-in.
        let mut cb = to_callback(&b, &site, AN).await;
        let pairs: Vec<(String, String)> = cb.query_pairs().into_owned().collect();
        cb.query_pairs_mut().clear();
        for (k, v) in &pairs {
            cb.query_pairs_mut().append_pair(k, if k == "state" { "forged-state" } else { v });
        }
        refused(get(&b, cb).await, StatusCode::BAD_REQUEST, "Phiên đăng nhập bằng VNeID không hợp lệ hoặc đã hết hạn").await;
        nothing_created(t, 0, 0).await;
        // A callback from a browser that started nothing.
        let fresh = browser();
        let cb = to_callback(&b, &site, AN).await;
        refused(get(&fresh, cb.clone()).await, StatusCode::BAD_REQUEST, "không hợp lệ hoặc đã hết hạn").await;
        nothing_created(t, 0, 0).await;

        // A code used once already, presented again with a new sign-in's state: the provider
        // refuses it.
        let cb = to_callback(&b, &site, AN).await;
        let used_code = cb.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
        assert_eq!(get(&b, cb).await.status(), StatusCode::SEE_OTHER, "signed in once");
        assert_eq!(count(&t.db, "citizens").await, 1);
        let sessions = count(&t.db, "citizen_sessions").await;
        let mut again = to_callback(&b, &site, AN).await;
        let state = again.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
        again.set_query(None);
        again.query_pairs_mut().append_pair("code", &used_code).append_pair("state", &state);
        refused(get(&b, again).await, StatusCode::BAD_REQUEST, "mã xác thực đã dùng hoặc hết hạn").await;
        nothing_created(t, 1, sessions).await;
    }

    async fn a_token_for_another_audience_is_refused(t) {
        let Some((site, _p)) = start(t, &["--audience", "other-service"]).await else { return };
        let b = browser();
        let cb = to_callback(&b, &site, AN).await;
        let res = get(&b, cb).await;
        let cookie_set = res.headers().get_all("set-cookie").iter().any(|v| v.to_str().unwrap().starts_with("motcua_citizen="));
        assert!(!cookie_set, "no session cookie");
        refused(res, StatusCode::BAD_REQUEST, "Thông tin định danh nhận từ VNeID không hợp lệ").await;
        nothing_created(t, 0, 0).await;
    }

    async fn an_expired_token_is_refused(t) {
        // The provider's clock is two hours behind: its one-hour ID tokens come out expired.
        let Some((site, _p)) = start(t, &["--clock-offset=-7200"]).await else { return };
        let b = browser();
        let cb = to_callback(&b, &site, AN).await;
        refused(get(&b, cb).await, StatusCode::BAD_REQUEST, "Thông tin định danh nhận từ VNeID không hợp lệ").await;
        nothing_created(t, 0, 0).await;
    }

    async fn the_provider_down_is_a_clear_page_and_nothing_is_created(t) {
        let Some((site, mut p)) = start(t, &[]).await else { return };
        let b = browser();
        // Down between the sign-in at the provider and the callback: the code cannot be
        // exchanged.
        let cb = to_callback(&b, &site, AN).await;
        p.stop();
        refused(get(&b, cb).await, StatusCode::SERVICE_UNAVAILABLE, "Không kết nối được với hệ thống định danh điện tử VNeID").await;
        nothing_created(t, 0, 0).await;

        // Down before anything: a site that has not read its metadata yet says so at once.
        let mut other = Site::bind().await;
        other.serve(t, &p.issuer);
        let res = get(&b, other.url("/cong-dan/vneid")).await;
        refused(res, StatusCode::SERVICE_UNAVAILABLE, "Chưa có tài khoản hay phiên đăng nhập nào được tạo").await;
        assert_eq!(count(&t.db, "vneid_flows").await, 0, "no sign-in kept");
        nothing_created(t, 0, 0).await;
    }
}
