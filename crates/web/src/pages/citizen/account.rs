//! The citizen's account pages under `/cong-dan`: register, confirm with the one-time code,
//! sign in and out, reset the password, and "my dossiers". Forms before sign-in carry a CSRF
//! token bound to a short-lived cookie, like the officers' login.

use super::FORM_COOKIE;
use crate::AppState;
use crate::auth::{CITIZEN_COOKIE, citizen};
use crate::cookies::{Cookie, cookie};
use crate::error::{PageError, status_of};
use crate::i18n;
use crate::pages::Chrome;
use crate::pages::common::{Errors, FormToken, csrf_rejected, form_token_ok, see_other, url_encode};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use motcua_service::ServiceError;
use motcua_service::auth::constant_time_eq;
use motcua_service::citizens::SESSION_HOURS;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "citizen_form.html")]
struct FormPage<'a> {
    chrome: Chrome,
    title: &'a str,
    intro: &'a str,
    action: &'a str,
    csrf: &'a str,
    fields: Vec<Field>,
    errors: Errors,
    submit: &'a str,
    links: Vec<(&'a str, &'a str)>,
    flash: Option<&'a str>,
    /// Where the one-time code went, when no SMS or e-mail service delivers it.
    note: Option<String>,
    /// Another way through, as a button under the form (sign in with VNeID): (address, text).
    alternative: Option<(String, String)>,
}

pub(super) struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    autocomplete: &'static str,
    /// Digits only (a one-time code): phones show their number pad.
    numeric: bool,
}

impl Field {
    fn numeric(self) -> Field {
        Field {
            numeric: true,
            ..self
        }
    }
}

pub(super) fn field(
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
        numeric: false,
    }
}

#[derive(Template)]
#[template(path = "citizen_home.html")]
struct HomePage {
    chrome: Chrome,
    name: String,
    csrf: String,
    dossiers: Vec<(String, String, String, String, String)>,
    /// Submissions begun, not sent: (procedure, address, saved).
    drafts: Vec<(String, String, String)>,
    /// With VNeID configured: the provider's name, and whether this account is linked.
    vneid: Option<(String, bool)>,
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
    /// The session's token, as the header's sign-out form names it: apart from the `csrf`
    /// of a page's own form, which on some citizen pages is a form token, not the session's.
    #[serde(default)]
    session_csrf: String,
}

#[derive(Deserialize, Default)]
pub struct Q {
    #[serde(default)]
    login: String,
    #[serde(default)]
    sent: Option<String>,
}

/// A fresh CSRF token for a citizen form, in its cookie for an hour.
pub(super) fn form_token(state: &AppState) -> FormToken {
    FormToken::new(state, FORM_COOKIE, "/cong-dan", 3600)
}

/// The token a citizen form sent matches its cookie's.
pub(super) fn csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    form_token_ok(headers, FORM_COOKIE, submitted)
}

/// Renders a form page with a fresh CSRF cookie.
#[allow(clippy::too_many_arguments)]
pub(super) fn render(
    state: &AppState,
    status: StatusCode,
    title: &str,
    intro: &str,
    action: &str,
    fields: Vec<Field>,
    errors: Errors,
    submit: &str,
    links: Vec<(&str, &str)>,
    flash: Option<&str>,
    alternative: Option<(String, String)>,
) -> Result<Response, PageError> {
    let t = form_token(state);
    // A page asking for a one-time code says where it went when no service delivers it.
    let asks_code = fields.iter().any(|f| f.name == "code");
    let note = match (&state.config.codes_to, asks_code) {
        (Some(dir), true) => Some(i18n::t1("citizen.codes_to", dir)),
        _ => None,
    };
    let html = FormPage {
        note,
        chrome: Chrome::current(),
        title,
        intro,
        action,
        csrf: &t.token,
        fields,
        errors,
        submit,
        links,
        flash,
        alternative,
    }
    .render()?;
    Ok((status, [(SET_COOKIE, t.set_cookie)], Html(html)).into_response())
}

/// A refusal as a citizen form shows it: invalid fields where they are, anything else on
/// the login field.
fn errors_of(e: &ServiceError) -> (StatusCode, Errors) {
    (status_of(e), Errors::of(e, i18n::lang(), str::to_string, "login"))
}

fn csrf_error() -> Errors {
    let mut e = Errors::default();
    e.push("login", i18n::t("form.expired"));
    e
}

/// The label of the login field (phone or e-mail).
fn login_label() -> &'static str {
    i18n::t("citizen.login")
}

fn register_page(
    state: &AppState,
    status: StatusCode,
    f: &CitizenForm,
    errors: Errors,
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
        None,
    )
}

async fn register_form(State(state): State<AppState>) -> Result<Response, PageError> {
    register_page(&state, StatusCode::OK, &CitizenForm::default(), Errors::default())
}

async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    if !csrf_ok(&headers, &f.csrf) {
        return register_page(&state, StatusCode::FORBIDDEN, &f, csrf_error());
    }
    match state.services.register(&f.login, &f.full_name, &f.password).await {
        Ok(login) => Ok(see_other(&format!(
            "/cong-dan/xac-thuc?login={}&sent=1",
            url_encode(&login)
        ))),
        Err(e) => {
            let (status, errors) = errors_of(&e);
            register_page(&state, status, &f, errors)
        }
    }
}

fn verify_page(
    state: &AppState,
    status: StatusCode,
    login: &str,
    errors: Errors,
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
            )
            .numeric(),
        ],
        errors,
        i18n::t("citizen.verify_submit"),
        vec![("/cong-dan/dang-ky", i18n::t("citizen.resend"))],
        sent.then(|| i18n::t("citizen.code_sent")),
        None,
    )
}

async fn verify_form(State(state): State<AppState>, Query(q): Query<Q>) -> Result<Response, PageError> {
    verify_page(
        &state,
        StatusCode::OK,
        &q.login,
        Errors::default(),
        q.sent.is_some(),
    )
}

async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    if !csrf_ok(&headers, &f.csrf) {
        return verify_page(&state, StatusCode::FORBIDDEN, &f.login, csrf_error(), false);
    }
    match state.services.verify_citizen(&f.login, &f.code).await {
        Ok(()) => Ok(see_other("/cong-dan/dang-nhap?verified=1")),
        Err(e) => {
            let (status, errors) = errors_of(&e);
            verify_page(&state, status, &f.login, errors, false)
        }
    }
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    login: &str,
    errors: Errors,
    flash: Option<&str>,
    next: Option<&str>,
) -> Result<Response, PageError> {
    // The form posts back with where to go after, if that is a path of this site.
    let action = match next {
        Some(n) if super::after_sign_in(Some(n)) != "/cong-dan" => {
            format!("/cong-dan/dang-nhap?next={}", url_encode(n.trim()))
        }
        _ => "/cong-dan/dang-nhap".to_string(),
    };
    render(
        state,
        status,
        i18n::t("citizen.sign_in"),
        i18n::t("citizen.sign_in_intro"),
        &action,
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
        super::vneid::sign_in_button(state, next),
    )
}

#[derive(Deserialize, Default)]
pub struct LoginQ {
    verified: Option<String>,
    reset: Option<String>,
    /// Where to go once signed in (a path of this site).
    next: Option<String>,
}

async fn login_form(State(state): State<AppState>, Query(q): Query<LoginQ>) -> Result<Response, PageError> {
    let flash = if q.verified.is_some() {
        Some(i18n::t("citizen.verified"))
    } else if q.reset.is_some() {
        Some(i18n::t("citizen.was_reset"))
    } else {
        None
    };
    login_page(
        &state,
        StatusCode::OK,
        "",
        Errors::default(),
        flash,
        q.next.as_deref(),
    )
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    Query(q): Query<LoginQ>,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    let next = q.next.as_deref();
    if !csrf_ok(&headers, &f.csrf) {
        return login_page(&state, StatusCode::FORBIDDEN, &f.login, csrf_error(), None, next);
    }
    let address = crate::auth::client_address(&extensions);
    match state
        .services
        .citizen_sign_in(&f.login, &f.password, &address)
        .await
    {
        Ok(secret) => {
            let cookie = state.set_cookie(Cookie::new(CITIZEN_COOKIE, &secret, SESSION_HOURS * 3600));
            Ok(([(SET_COOKIE, cookie)], see_other(&super::after_sign_in(next))).into_response())
        }
        Err(e) => {
            let (status, errors) = errors_of(&e);
            login_page(&state, status, &f.login, errors, None, next)
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    let Some((_, csrf)) = citizen(&state, &headers).await else {
        return Ok(see_other("/cong-dan/dang-nhap"));
    };
    let sent = if f.session_csrf.is_empty() {
        &f.csrf
    } else {
        &f.session_csrf
    };
    if !constant_time_eq(csrf.as_bytes(), sent.as_bytes()) {
        return Err(csrf_rejected());
    }
    // A session that came from VNeID ends at the provider too.
    let to = match cookie(&headers, CITIZEN_COOKIE) {
        Some(secret) => super::vneid::sign_out(&state, secret).await?,
        None => "/".to_string(),
    };
    let cleared = state.set_cookie(Cookie::new(CITIZEN_COOKIE, "", 0));
    Ok(([(SET_COOKIE, cleared)], see_other(&to)).into_response())
}

fn forgot_page(
    state: &AppState,
    status: StatusCode,
    login: &str,
    errors: Errors,
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
        None,
    )
}

async fn forgot_form(State(state): State<AppState>) -> Result<Response, PageError> {
    forgot_page(&state, StatusCode::OK, "", Errors::default())
}

async fn forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    if !csrf_ok(&headers, &f.csrf) {
        return forgot_page(&state, StatusCode::FORBIDDEN, &f.login, csrf_error());
    }
    match state.services.request_reset(&f.login).await {
        Ok(()) => Ok(see_other(&format!(
            "/cong-dan/dat-lai-mat-khau?login={}&sent=1",
            url_encode(f.login.trim())
        ))),
        Err(e) => {
            let (status, errors) = errors_of(&e);
            forgot_page(&state, status, &f.login, errors)
        }
    }
}

fn reset_page(
    state: &AppState,
    status: StatusCode,
    login: &str,
    errors: Errors,
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
            field("code", i18n::t("citizen.reset_code"), "text", "", "one-time-code").numeric(),
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
        None,
    )
}

async fn reset_form(State(state): State<AppState>, Query(q): Query<Q>) -> Result<Response, PageError> {
    reset_page(
        &state,
        StatusCode::OK,
        &q.login,
        Errors::default(),
        q.sent.is_some(),
    )
}

async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CitizenForm>,
) -> Result<Response, PageError> {
    if !csrf_ok(&headers, &f.csrf) {
        return reset_page(&state, StatusCode::FORBIDDEN, &f.login, csrf_error(), false);
    }
    match state
        .services
        .reset_password(&f.login, &f.code, &f.password)
        .await
    {
        Ok(()) => Ok(see_other("/cong-dan/dang-nhap?reset=1")),
        Err(e) => {
            let (status, errors) = errors_of(&e);
            reset_page(&state, status, &f.login, errors, false)
        }
    }
}

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    let Some((c, csrf)) = citizen(&state, &headers).await else {
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
    let dossiers = state
        .services
        .dossiers_of_citizen(c.id)
        .await?
        .into_iter()
        .map(|d| {
            let label = i18n::status_label(d.status).to_string();
            (d.key, d.procedure_name, label, fmt(d.submitted), fmt(d.due_at))
        })
        .collect();
    // The header signs out too; this form ends the list, where a phone's reader arrives.
    let drafts = super::draft::drafts_of(&state, c.id).await?;
    let vneid = match state.config.vneid.as_deref() {
        Some(v) => Some((
            v.label().to_string(),
            state.services.vneid_link_of(c.id).await?.is_some(),
        )),
        None => None,
    };
    let page = HomePage {
        vneid,
        chrome: Chrome::current(),
        name: c.full_name,
        csrf,
        dossiers,
        drafts,
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
