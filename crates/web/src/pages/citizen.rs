//! The citizen's account pages under `/cong-dan`: register, confirm with the one-time code,
//! sign in and out, reset the password, and "my dossiers". Forms before sign-in carry a CSRF
//! token bound to a short-lived cookie, like the officers' login.

use super::{Chrome, see_other};
use crate::AppState;
use crate::auth::{constant_time_eq, cookie, new_secret};
use crate::citizens::{self, CitizenError};
use crate::error::PageError;
use crate::i18n;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

/// The cookie binding the CSRF token of the citizen forms shown before (or without) sign-in.
pub(crate) const FORM_COOKIE: &str = "motcua_form_csrf";

#[derive(Template)]
#[template(path = "citizen_form.html")]
struct FormPage<'a> {
    chrome: Chrome,
    title: &'a str,
    intro: &'a str,
    action: &'a str,
    csrf: &'a str,
    fields: Vec<Field>,
    errors: Vec<(String, String)>,
    submit: &'a str,
    links: Vec<(&'a str, &'a str)>,
    flash: Option<&'a str>,
}

struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    autocomplete: &'static str,
}

fn field(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: &str,
    autocomplete: &'static str,
) -> Field {
    Field {
        name,
        label,
        kind,
        value: value.to_string(),
        autocomplete,
    }
}

#[derive(Template)]
#[template(path = "citizen_home.html")]
struct HomePage {
    chrome: Chrome,
    name: String,
    csrf: String,
    dossiers: Vec<(String, String, String, String, String)>,
}

#[derive(Deserialize, Default)]
pub struct CitizenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

#[derive(Deserialize, Default)]
pub struct Q {
    #[serde(default)]
    login: String,
    #[serde(default)]
    sent: Option<String>,
}

pub(crate) fn form_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{FORM_COOKIE}={token}; Path=/cong-dan; HttpOnly; SameSite=Strict; Max-Age=3600{secure}")
}

pub(crate) fn csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    cookie(headers, FORM_COOKIE)
        .is_some_and(|c| !c.is_empty() && constant_time_eq(c.as_bytes(), submitted.as_bytes()))
}

/// Renders a form page with a fresh CSRF cookie.
#[allow(clippy::too_many_arguments)]
fn render(
    state: &AppState,
    status: StatusCode,
    title: &str,
    intro: &str,
    action: &str,
    fields: Vec<Field>,
    errors: Vec<(String, String)>,
    submit: &str,
    links: Vec<(&str, &str)>,
    flash: Option<&str>,
) -> Result<Response, PageError> {
    let token = new_secret();
    let html = FormPage {
        chrome: Chrome::default(),
        title,
        intro,
        action,
        csrf: &token,
        fields,
        errors,
        submit,
        links,
        flash,
    }
    .render()?;
    Ok((status, [(SET_COOKIE, form_cookie(state, &token))], Html(html)).into_response())
}

fn errors_of(e: CitizenError) -> (StatusCode, Vec<(String, String)>) {
    match e {
        // The service words its checks in Vietnamese; the page says them in its language.
        CitizenError::Invalid(list) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            list.into_iter()
                .map(|(f, m)| (f.to_string(), i18n::message(&m)))
                .collect(),
        ),
        CitizenError::WrongCode => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![("code".into(), i18n::t("citizen.wrong_code").into())],
        ),
        CitizenError::WrongPassword => (
            StatusCode::UNAUTHORIZED,
            vec![("login".into(), i18n::t("citizen.wrong_password").into())],
        ),
        CitizenError::NotVerified => (
            StatusCode::FORBIDDEN,
            vec![("login".into(), i18n::t("citizen.not_verified").into())],
        ),
        CitizenError::TooMany(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            vec![("login".into(), i18n::tn1("citizen.too_many", wait.div_ceil(60)))],
        ),
        CitizenError::Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            vec![("login".into(), i18n::t("citizen.internal").into())],
        ),
    }
}

fn csrf_error() -> Vec<(String, String)> {
    vec![("login".into(), i18n::t("form.expired").into())]
}

/// The label of the login field (phone or e-mail).
fn login_label() -> &'static str {
    i18n::t("citizen.login")
}

fn register_page(
    state: &AppState,
    status: StatusCode,
    f: &CitizenForm,
    errors: Vec<(String, String)>,
) -> Result<Response, PageError> {
    render(
        state,
        status,
        i18n::t("citizen.register"),
        i18n::t("citizen.register_intro"),
        "/cong-dan/dang-ky",
        vec![
            field(
                "full_name",
                i18n::t("citizen.full_name"),
                "text",
                &f.full_name,
                "name",
            ),
            field("login", login_label(), "text", &f.login, "username"),
            field(
                "password",
                i18n::t("citizen.new_password"),
                "password",
                "",
                "new-password",
            ),
        ],
        errors,
        i18n::t("citizen.register_submit"),
        vec![("/cong-dan/dang-nhap", i18n::t("citizen.have_account"))],
        None,
    )
}

pub async fn register_form(State(state): State<AppState>) -> Result<Response, PageError> {
    register_page(&state, StatusCode::OK, &CitizenForm::default(), Vec::new())
}

pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    if !csrf_ok(&headers, &f.csrf) {
        return register_page(&state, StatusCode::FORBIDDEN, &f, csrf_error());
    }
    match citizens::register(&state, &f.login, &f.full_name, &f.password).await {
        Ok(login) => Ok(see_other(&format!(
            "/cong-dan/xac-thuc?login={}&sent=1",
            super::url_encode(&login)
        ))),
        Err(e) => {
            let (status, errors) = errors_of(e);
            register_page(&state, status, &f, errors)
        }
    }
}

fn verify_page(
    state: &AppState,
    status: StatusCode,
    login: &str,
    errors: Vec<(String, String)>,
    sent: bool,
) -> Result<Response, PageError> {
    render(
        state,
        status,
        i18n::t("citizen.verify"),
        i18n::t("citizen.verify_intro"),
        "/cong-dan/xac-thuc",
        vec![
            field("login", login_label(), "text", login, "username"),
            field(
                "code",
                i18n::t("citizen.verify_code"),
                "text",
                "",
                "one-time-code",
            ),
        ],
        errors,
        i18n::t("citizen.verify_submit"),
        vec![("/cong-dan/dang-ky", i18n::t("citizen.resend"))],
        sent.then(|| i18n::t("citizen.code_sent")),
    )
}

pub async fn verify_form(State(state): State<AppState>, Query(q): Query<Q>) -> Result<Response, PageError> {
    verify_page(&state, StatusCode::OK, &q.login, Vec::new(), q.sent.is_some())
}

pub async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    if !csrf_ok(&headers, &f.csrf) {
        return verify_page(&state, StatusCode::FORBIDDEN, &f.login, csrf_error(), false);
    }
    match citizens::verify(&state, &f.login, &f.code).await {
        Ok(()) => Ok(see_other("/cong-dan/dang-nhap?verified=1")),
        Err(e) => {
            let (status, errors) = errors_of(e);
            verify_page(&state, status, &f.login, errors, false)
        }
    }
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    login: &str,
    errors: Vec<(String, String)>,
    flash: Option<&str>,
) -> Result<Response, PageError> {
    render(
        state,
        status,
        i18n::t("citizen.sign_in"),
        i18n::t("citizen.sign_in_intro"),
        "/cong-dan/dang-nhap",
        vec![
            field("login", login_label(), "text", login, "username"),
            field(
                "password",
                i18n::t("citizen.password"),
                "password",
                "",
                "current-password",
            ),
        ],
        errors,
        i18n::t("citizen.sign_in_submit"),
        vec![
            ("/cong-dan/dang-ky", i18n::t("citizen.no_account")),
            ("/cong-dan/quen-mat-khau", i18n::t("citizen.forgot_link")),
        ],
        flash,
    )
}

#[derive(Deserialize, Default)]
pub struct LoginQ {
    verified: Option<String>,
    reset: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    Query(q): Query<LoginQ>,
) -> Result<Response, PageError> {
    let flash = if q.verified.is_some() {
        Some(i18n::t("citizen.verified"))
    } else if q.reset.is_some() {
        Some(i18n::t("citizen.was_reset"))
    } else {
        None
    };
    login_page(&state, StatusCode::OK, "", Vec::new(), flash)
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    if !csrf_ok(&headers, &f.csrf) {
        return login_page(&state, StatusCode::FORBIDDEN, &f.login, csrf_error(), None);
    }
    let address = crate::auth::client_address(&extensions);
    match citizens::login(&state, &f.login, &f.password, &address).await {
        Ok(cookie) => {
            let mut res = see_other("/cong-dan");
            res.headers_mut()
                .append(SET_COOKIE, cookie.parse().map_err(|_| PageError::internal())?);
            Ok(res)
        }
        Err(e) => {
            let (status, errors) = errors_of(e);
            login_page(&state, status, &f.login, errors, None)
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    let Some((_, csrf)) = citizens::current(&state, &headers).await else {
        return Ok(see_other("/cong-dan/dang-nhap"));
    };
    if !constant_time_eq(csrf.as_bytes(), f.csrf.as_bytes()) {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: i18n::t("form.csrf").into(),
        });
    }
    citizens::logout(&state, &headers).await;
    let mut res = see_other("/");
    res.headers_mut().append(
        SET_COOKIE,
        citizens::session_cookie(&state, "", 0)
            .parse()
            .map_err(|_| PageError::internal())?,
    );
    Ok(res)
}

fn forgot_page(
    state: &AppState,
    status: StatusCode,
    login: &str,
    errors: Vec<(String, String)>,
) -> Result<Response, PageError> {
    render(
        state,
        status,
        i18n::t("citizen.forgot"),
        i18n::t("citizen.forgot_intro"),
        "/cong-dan/quen-mat-khau",
        vec![field("login", login_label(), "text", login, "username")],
        errors,
        i18n::t("citizen.forgot_submit"),
        vec![("/cong-dan/dang-nhap", i18n::t("citizen.back_to_sign_in"))],
        None,
    )
}

pub async fn forgot_form(State(state): State<AppState>) -> Result<Response, PageError> {
    forgot_page(&state, StatusCode::OK, "", Vec::new())
}

pub async fn forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    if !csrf_ok(&headers, &f.csrf) {
        return forgot_page(&state, StatusCode::FORBIDDEN, &f.login, csrf_error());
    }
    match citizens::request_reset(&state, &f.login).await {
        Ok(()) => Ok(see_other(&format!(
            "/cong-dan/dat-lai-mat-khau?login={}&sent=1",
            super::url_encode(f.login.trim())
        ))),
        Err(e) => {
            let (status, errors) = errors_of(e);
            forgot_page(&state, status, &f.login, errors)
        }
    }
}

fn reset_page(
    state: &AppState,
    status: StatusCode,
    login: &str,
    errors: Vec<(String, String)>,
    sent: bool,
) -> Result<Response, PageError> {
    render(
        state,
        status,
        i18n::t("citizen.reset"),
        i18n::t("citizen.reset_intro"),
        "/cong-dan/dat-lai-mat-khau",
        vec![
            field("login", login_label(), "text", login, "username"),
            field("code", i18n::t("citizen.reset_code"), "text", "", "one-time-code"),
            field(
                "password",
                i18n::t("citizen.reset_password"),
                "password",
                "",
                "new-password",
            ),
        ],
        errors,
        i18n::t("citizen.reset_submit"),
        vec![],
        sent.then(|| i18n::t("citizen.reset_sent")),
    )
}

pub async fn reset_form(State(state): State<AppState>, Query(q): Query<Q>) -> Result<Response, PageError> {
    reset_page(&state, StatusCode::OK, &q.login, Vec::new(), q.sent.is_some())
}

pub async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    if !csrf_ok(&headers, &f.csrf) {
        return reset_page(&state, StatusCode::FORBIDDEN, &f.login, csrf_error(), false);
    }
    match citizens::reset(&state, &f.login, &f.code, &f.password).await {
        Ok(()) => Ok(see_other("/cong-dan/dang-nhap?reset=1")),
        Err(e) => {
            let (status, errors) = errors_of(e);
            reset_page(&state, status, &f.login, errors, false)
        }
    }
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    let Some((c, csrf)) = citizens::current(&state, &headers).await else {
        return Ok(see_other("/cong-dan/dang-nhap"));
    };
    let fmt = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| {
            motcua_domain::calendar::to_local(t)
                .format("%d/%m/%Y")
                .to_string()
        })
        .unwrap_or_default()
    };
    let dossiers = motcua_store::repo::citizens::dossiers_of(&state.db, c.id)
        .await?
        .into_iter()
        .map(|d| {
            let label = d
                .status
                .parse::<motcua_domain::dossier::Status>()
                .map(i18n::status_label)
                .unwrap_or("")
                .to_string();
            (d.key, d.procedure_name, label, fmt(d.submitted), fmt(d.due_at))
        })
        .collect();
    // The header is the officers'; the citizen signs out with the form on this page.
    let page = HomePage {
        chrome: Chrome::default(),
        name: c.full_name,
        csrf,
        dossiers,
    };
    Ok(Html(page.render()?).into_response())
}

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/cong-dan", get(home))
        .route("/cong-dan/dang-ky", get(register_form).post(register))
        .route("/cong-dan/xac-thuc", get(verify_form).post(verify))
        .route("/cong-dan/dang-nhap", get(login_form).post(login))
        .route("/cong-dan/dang-xuat", axum::routing::post(logout))
        .route("/cong-dan/quen-mat-khau", get(forgot_form).post(forgot))
        .route("/cong-dan/dat-lai-mat-khau", get(reset_form).post(reset))
}
