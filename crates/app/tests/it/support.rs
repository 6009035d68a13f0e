//! Test fixtures: a fresh database per test (SQLite temp file, or a PostgreSQL database
//! created and dropped around the test), and a real HTTP server on an ephemeral port.

use motcua_store::Db;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A migrated database that disappears after the test.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    dir: tempfile::TempDir,
    pg_drop: Option<(String, String)>,
}

/// What the servers under test log as errors (the cause of a 500, which the answer does not
/// say) goes to the output of the test, shown when it fails.
fn log_server_errors() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::ERROR)
            .with_test_writer()
            .try_init();
    });
}

/// The PostgreSQL server tests use: `MOTCUA_TEST_PG_URL`, else the local server on 5432.
pub fn pg_admin_url() -> String {
    std::env::var("MOTCUA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub async fn sqlite() -> TestDb {
        Self::sqlite_until(i64::MAX).await
    }

    /// `sqlite`, migrated up to version `last` only.
    pub async fn sqlite_until(last: i64) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("motcua.db").display());
        let db = Db::connect(&url).await.expect("open sqlite");
        motcua_store::migrate::run_until(&db, last)
            .await
            .expect("migrate sqlite");
        TestDb {
            db,
            url,
            dir,
            pg_drop: None,
        }
    }

    /// A fresh PostgreSQL database, or None (after a loud warning) when no server can be
    /// reached outside CI. In CI (`CI=true`) a missing server fails the test.
    pub async fn postgres() -> Option<TestDb> {
        Self::postgres_until(i64::MAX).await
    }

    /// `postgres`, migrated up to version `last` only.
    pub async fn postgres_until(last: i64) -> Option<TestDb> {
        let admin_url = pg_admin_url();
        let admin = match sqlx::PgPool::connect(&admin_url).await {
            Ok(p) => p,
            Err(e) => {
                let msg = format!(
                    "NO POSTGRESQL at {} ({e}): PostgreSQL tests NOT RUN. Set MOTCUA_TEST_PG_URL or run scripts/test.",
                    motcua_store::redact(&admin_url)
                );
                if in_ci() {
                    panic!("{msg}");
                }
                eprintln!("\n!!!!!!!! {msg}\n");
                return None;
            }
        };
        let name = format!(
            "motcua_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            chrono::Utc::now().timestamp_subsec_micros()
        );
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let db = Db::connect(&url).await.expect("open postgres");
        motcua_store::migrate::run_until(&db, last)
            .await
            .expect("migrate postgres");
        Some(TestDb {
            db,
            url,
            dir: tempfile::tempdir().expect("temp dir"),
            pg_drop: Some((admin_url, name)),
        })
    }
}

/// The same server URL naming another database.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDb {
    /// The data directory of this test (files, embedded database).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn files(&self) -> motcua_store::repo::files::FileStore {
        motcua_store::repo::files::FileStore::new(self.dir.path())
    }

    pub fn web_config(&self) -> motcua_web::WebConfig {
        motcua_web::WebConfig::default()
    }

    /// The use cases over this database, with files in its data directory.
    pub fn services(&self) -> motcua_service::Services {
        self.services_with(motcua_service::Rules::default())
    }

    /// `services`, with other rules.
    pub fn services_with(&self, rules: motcua_service::Rules) -> motcua_service::Services {
        motcua_service::Services::new(self.db.clone(), &self.data_dir(), rules)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_drop.take() {
            // Async drop is not a thing: drop the database from a thread with its own runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(admin) = sqlx::PgPool::connect(&admin_url).await {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&admin)
                            .await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Generates one test per backend from a body taking `&TestDb`.
macro_rules! on_both_backends {
    ($(async fn $name:ident($t:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn body($t: &$crate::support::TestDb) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let t = $crate::support::TestDb::sqlite().await;
                    body(&t).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(t) = $crate::support::TestDb::postgres().await else { return };
                    body(&t).await;
                }
            }
        )*
    };
}
pub(crate) use on_both_backends;

/// A real server on 127.0.0.1:0 in front of a test database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn spawn(t: &TestDb) -> TestApp {
        Self::spawn_with(t, t.web_config()).await
    }

    pub async fn spawn_with(t: &TestDb, config: motcua_web::WebConfig) -> TestApp {
        Self::serve(t.services(), config).await
    }

    /// A server with these rules.
    pub async fn spawn_with_rules(t: &TestDb, rules: motcua_service::Rules) -> TestApp {
        Self::serve(t.services_with(rules), t.web_config()).await
    }

    pub async fn serve(services: motcua_service::Services, config: motcua_web::WebConfig) -> TestApp {
        log_server_errors();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = motcua_web::router(motcua_web::AppState::new(services, config));
        let task = tokio::spawn(async move {
            let limits = motcua_web::server::ServerLimits::default();
            motcua_web::server::serve(listener, app, limits, std::future::pending())
                .await
                .expect("serve");
        });
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends `head` (request line and headers, no blank line) and the whole `body` on a fresh
    /// connection, and only then reads the answer, as a client streaming an upload does:
    /// the status and the raw answer.
    pub async fn send_whole(&self, head: &str, body: &[u8]) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.base.trim_start_matches("http://");
        let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let head = format!(
            "{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).await.expect("send the head");
        conn.write_all(body).await.expect("send the whole body");
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).await.expect("read the answer");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
        (status, answer)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// `method path` with a bearer token and, if given, a JSON body: the status and the JSON
    /// answer (`Null` if the body is not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut req = self.client.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Creates a user holding `roles` in an agency (creating the agency as a root if it does not
/// exist); the password is `password_of(username)` (tests only).
pub async fn add_user(db: &Db, username: &str, agency: &str, roles: &[&str]) {
    use motcua_store::repo::{agencies, users};
    let hash = motcua_service::auth::password::hash(&password_of(username)).expect("hash");
    // An agency the fixtures already hold keeps its place in the tree.
    let exists = agencies::by_code(db, agency)
        .await
        .expect("agency lookup")
        .is_some();
    let mut tx = db.begin().await.expect("begin");
    if !exists {
        agencies::upsert(
            &mut tx,
            &agencies::NewAgency {
                code: agency,
                name: "Cơ quan thử nghiệm",
                level: "province",
                parent_code: None,
                address: "",
                is_one_stop: true,
                office_hours: None,
            },
        )
        .await
        .expect("agency");
    }
    let pairs: Vec<(&str, motcua_domain::access::Role)> = roles
        .iter()
        .map(|r| (agency, r.parse().expect("a role")))
        .collect();
    users::upsert(
        &mut tx,
        &users::NewUser {
            username,
            full_name: "Nguyễn Văn Thử",
            password_hash: &hash,
            roles: &pairs,
        },
    )
    .await
    .expect("user");
    tx.commit().await.expect("commit");
}

pub fn password_of(username: &str) -> String {
    format!("pw-{}", username.chars().rev().collect::<String>())
}

impl TestApp {
    /// A bearer token for a user made by `add_user`.
    pub async fn token(&self, username: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"username": username, "password": password_of(username)}))
            .send()
            .await
            .expect("login");
        assert_eq!(res.status(), 200, "login of {username}");
        let body: serde_json::Value = res.json().await.expect("json");
        body["token"].as_str().expect("token").to_string()
    }

    /// Signs in through the login page like a browser; returns the session cookie header
    /// value and the session's CSRF token (read from the logout form).
    pub async fn browser_login(&self, username: &str) -> (String, String) {
        let res = self.get("/login?next=/").await;
        let login_cookie = set_cookie(&res, "motcua_login_csrf").expect("login csrf cookie");
        let html = res.text().await.expect("html");
        let csrf = hidden_value(&html, "csrf").expect("csrf field");
        let res = self
            .client
            .post(self.url("/login"))
            .header("cookie", format!("motcua_login_csrf={login_cookie}"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("next", "/"),
                ("username", username),
                ("password", &password_of(username)),
            ])
            .send()
            .await
            .expect("post login");
        assert_eq!(res.status(), 303, "login of {username}");
        let session = set_cookie(&res, "motcua_session").expect("session cookie");
        let cookie = format!("motcua_session={session}");
        let home = self
            .client
            .get(self.url("/"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("home");
        let html = home.text().await.expect("html");
        let csrf = hidden_value(&html, "csrf").expect("session csrf in the logout form");
        (cookie, csrf)
    }
}

/// The value a response sets for a cookie.
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_string())
        })
}

/// The value of the first hidden input with this name.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let needle = format!(r#"name="{name}" value=""#);
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

/// The folder of test fixtures (agencies.csv, procedures.json, forms/).
pub fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures")
}

/// Imports the fixture agencies and procedures through the real import paths.
pub async fn load_fixtures(t: &TestDb) {
    let dir = fixtures_dir();
    let agencies = std::fs::read_to_string(dir.join("agencies.csv")).expect("agencies fixture");
    motcua::catalog_io::import_agencies(&t.db, &agencies)
        .await
        .expect("import agencies");
    let procedures = std::fs::read_to_string(dir.join("procedures.json")).expect("procedures fixture");
    motcua::catalog_io::import_procedures(
        &t.db,
        &t.files(),
        &procedures,
        &motcua::catalog_io::DirSource(dir),
        "test",
    )
    .await
    .expect("import procedures");
}

/// A signed-in officer, for calling the application service directly.
pub async fn officer(t: &TestDb, username: &str) -> motcua_service::auth::CurrentUser {
    let u = motcua_store::repo::users::by_username(&t.db, username)
        .await
        .expect("user lookup")
        .expect("user exists");
    let principal = motcua_store::repo::auth::principal(&t.db, u.id)
        .await
        .expect("principal")
        .expect("enabled");
    motcua_service::auth::CurrentUser {
        principal,
        csrf_token: None,
        reference_version: None,
    }
}

/// The rows of a table.
pub async fn count(db: &Db, table: &str) -> i64 {
    scalar(db, &format!("SELECT COUNT(*) FROM {table}")).await
}

/// The one integer a query answers.
pub async fn scalar(db: &Db, sql: &str) -> i64 {
    let sql = sql.to_string();
    match db {
        Db::Sqlite { write, .. } => sqlx::query_scalar(&sql)
            .fetch_one(&mut **write.lock().await.unwrap())
            .await
            .unwrap(),
        Db::Postgres(pg) => sqlx::query_scalar(&sql).fetch_one(&pg.write).await.unwrap(),
    }
}

/// Runs one SQL statement outside the server, as another process (psql, the CLI) would.
pub async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite { write, .. } => {
            sqlx::query(sql)
                .execute(&mut **write.lock().await.unwrap())
                .await
                .unwrap();
        }
        Db::Postgres(pg) => {
            sqlx::query(sql).execute(&pg.write).await.unwrap();
        }
    }
}

/// The texts of the citizen notices (and one-time codes) waiting in the outbox, oldest first.
pub async fn citizen_messages(db: &Db) -> Vec<String> {
    motcua_store::repo::outbox::pending(db, 10_000)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|(_, topic, _, _)| topic == "notify_citizen")
        .map(|(_, _, payload, _)| {
            let msg: serde_json::Value = serde_json::from_str(&payload).expect("json");
            msg["message"].as_str().expect("message").to_string()
        })
        .collect()
}

/// The latest one-time code queued for a login.
pub async fn code_for(t: &TestDb, login: &str) -> String {
    let rows = motcua_store::repo::outbox::pending(&t.db, 10_000)
        .await
        .expect("outbox");
    let (_, _, payload, _) = rows
        .iter()
        .rev()
        .find(|(_, topic, p, _)| topic == "notify_citizen" && p.contains(login))
        .expect("a code was sent");
    let msg: serde_json::Value = serde_json::from_str(payload).expect("json");
    let text = msg["message"].as_str().expect("message");
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("6 digits")
        .to_string()
}
