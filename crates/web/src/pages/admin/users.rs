//! The administrator's user pages: officers, their roles per agency, their API tokens.
//! Never renders a password, a password hash or a token hash; a new token's secret is shown
//! once, on the page that created it.

use crate::AppState;
use crate::auth::{CurrentUser, PageUser};
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{
    CsrfForm, Errors, csrf_rejected, require_admin, see_other, unprocessable, url_encode,
};
use crate::pages::public::Choice;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use motcua_domain::access::Role;
use motcua_domain::msg;
use motcua_service::users::{RoleInput, UserInput};
use motcua_service::{FieldError, Lang, ServiceError};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

/// Blank role rows offered on the form (adding a role needs no JavaScript).
const BLANK_ROLE_ROWS: usize = 2;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list).post(save))
        .route("/admin/users/new", get(new_form))
        .route("/admin/users/{username}/edit", get(edit_form))
        .route("/admin/users/{username}/tokens", post(create_token))
        .route("/admin/users/{username}/tokens/{id}/revoke", post(revoke_token))
}

fn time_vi(t: DateTime<Utc>) -> String {
    motcua_domain::calendar::to_local(t)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

// ---------------------------------------------------------------------------------------
// GET /admin/users

struct UserRow {
    username: String,
    full_name: String,
    roles: Vec<String>,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<UserRow>,
    flash: Option<&'static str>,
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn agency_names(state: &AppState) -> Result<HashMap<String, String>, PageError> {
    Ok(state
        .services
        .agencies()
        .await?
        .into_iter()
        .map(|a| (a.code, a.name))
        .collect())
}

fn role_label(role: Role) -> &'static str {
    role.label_vi()
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<SavedQuery>,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let names = agency_names(&state).await?;
    let rows = state
        .services
        .users(&user)
        .await?
        .into_iter()
        .map(|u| UserRow {
            roles: u
                .roles
                .iter()
                .map(|(agency, role)| {
                    let agency = names.get(agency).unwrap_or(agency);
                    format!("{} @ {agency}", role_label(*role))
                })
                .collect(),
            username: u.username,
            full_name: u.full_name,
            disabled: u.disabled,
        })
        .collect();
    let html = ListPage {
        chrome: Chrome::current(),
        rows,
        flash: q.saved.map(|_| "Đã lưu người dùng."),
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// The form: GET /admin/users/new, GET /admin/users/{username}/edit, POST /admin/users

/// What the user form holds. Role rows are `r{i}_agency` / `r{i}_role`; rows with both
/// empty are ignored.
#[derive(Debug, Default)]
struct UserForm {
    username: String,
    full_name: String,
    disabled: bool,
    /// (agency code, role id)
    roles: Vec<(String, String)>,
}

struct RoleRow {
    key: String,
    number: usize,
    agency: String,
    role: String,
    errors: Vec<String>,
}

struct TokenRow {
    id: i64,
    name: String,
    created: String,
    expires: String,
    revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_users_form.html")]
struct FormPage {
    chrome: Chrome,
    editing: bool,
    username: String,
    full_name: String,
    disabled: bool,
    roles: Vec<RoleRow>,
    agencies: Vec<Choice>,
    role_choices: Vec<Choice>,
    errors: Errors,
    tokens: Vec<TokenRow>,
    token_name: String,
    flash: Option<&'static str>,
}

/// Where an error path of `save_user` points in the form, and how it reads.
fn locate(path: &str) -> (String, String, Option<usize>) {
    if let Some(rest) = path.strip_prefix("roles[")
        && let Some((i, field)) = rest.split_once("].")
        && let Ok(i) = i.parse::<usize>()
    {
        let (id, label) = match field {
            "agency" => ("agency", "Cơ quan"),
            _ => ("role", "Vai trò"),
        };
        return (
            format!("r{i}_{id}"),
            format!("Vai trò {} — {label}", i + 1),
            Some(i),
        );
    }
    if path == "roles" {
        return ("r0_role".into(), "Vai trò".into(), None);
    }
    let label = match path {
        "username" => "Tên đăng nhập",
        "full_name" => "Họ và tên",
        "password" => "Mật khẩu",
        "disabled" => "Khóa tài khoản",
        "token_name" => "Tên mã truy cập",
        _ => "Thông tin",
    };
    (path.to_string(), label.to_string(), None)
}

struct Extra<'a> {
    errors: &'a [FieldError],
    token_name: &'a str,
    flash: Option<&'static str>,
}

async fn render_form(
    state: &AppState,
    user: &CurrentUser,
    editing: bool,
    form: &UserForm,
    extra: Extra<'_>,
) -> Result<String, PageError> {
    let services = &state.services;
    let all = services.agencies().await?;
    let mut roles: Vec<RoleRow> = form
        .roles
        .iter()
        .chain(std::iter::repeat_n(
            &(String::new(), String::new()),
            BLANK_ROLE_ROWS,
        ))
        .enumerate()
        .map(|(i, (agency, role))| RoleRow {
            key: format!("r{i}"),
            number: i + 1,
            agency: agency.clone(),
            role: role.clone(),
            errors: Vec::new(),
        })
        .collect();
    let mut errors = Errors::default();
    for e in extra.errors {
        let (anchor, label, row) = locate(&e.path);
        let text = format!("{label}: {}", e.msg.text(Lang::Vi));
        if let Some(r) = row.and_then(|i| roles.get_mut(i)) {
            r.errors.push(text.clone());
        }
        errors.push(anchor, text);
    }
    let tokens = match editing {
        true => services
            .tokens(user, true)
            .await?
            .into_iter()
            .filter(|t| t.username == form.username)
            .map(|t| TokenRow {
                id: t.id,
                name: t.name,
                created: time_vi(t.created_at),
                expires: t
                    .expires_at
                    .map(time_vi)
                    .unwrap_or_else(|| "Không hết hạn".into()),
                revoked: t.revoked_at.map(time_vi),
            })
            .collect(),
        false => Vec::new(),
    };
    Ok(FormPage {
        chrome: Chrome::current(),
        editing,
        username: form.username.clone(),
        full_name: form.full_name.clone(),
        disabled: form.disabled,
        roles,
        agencies: all
            .iter()
            .map(|a| Choice::new(&a.code, &format!("{} — {}", a.name, a.code), ""))
            .collect(),
        role_choices: Role::ALL
            .iter()
            .map(|r| Choice::new(r.as_str(), r.label_vi(), ""))
            .collect(),
        errors,
        tokens,
        token_name: extra.token_name.to_string(),
        flash: extra.flash,
    }
    .render()?)
}

async fn new_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let extra = Extra {
        errors: &[],
        token_name: "",
        flash: None,
    };
    Ok(Html(
        render_form(&state, &user, false, &UserForm::default(), extra).await?,
    ))
}

async fn stored_form(
    state: &AppState,
    user: &CurrentUser,
    username: &str,
) -> Result<(i64, UserForm), PageError> {
    let u = state.services.user(user, username).await?;
    Ok((
        u.id,
        UserForm {
            username: u.username,
            full_name: u.full_name,
            disabled: u.disabled,
            roles: u
                .roles
                .into_iter()
                .map(|(agency, role)| (agency, role.as_str().to_string()))
                .collect(),
        },
    ))
}

#[derive(Deserialize)]
struct EditQuery {
    revoked: Option<String>,
}

async fn edit_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(username): Path<String>,
    Query(q): Query<EditQuery>,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let (_, form) = stored_form(&state, &user, &username).await?;
    let extra = Extra {
        errors: &[],
        token_name: "",
        flash: q.revoked.map(|_| "Đã thu hồi mã truy cập."),
    };
    Ok(Html(render_form(&state, &user, true, &form, extra).await?))
}

/// The first value of a form field ("" when absent).
fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Role rows `r{i}_agency` / `r{i}_role` in index order, blank rows left out, and the
/// half-filled ones reported (paths as `save_user` writes them).
fn role_rows(pairs: &[(String, String)]) -> (Vec<(String, String)>, Vec<FieldError>) {
    let indices: BTreeSet<usize> = pairs
        .iter()
        .filter_map(|(k, _)| {
            let rest = k.strip_prefix('r')?;
            let (i, _) = rest.split_once('_')?;
            i.parse().ok()
        })
        .collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for i in indices {
        let agency = value(pairs, &format!("r{i}_agency")).trim().to_string();
        let role = value(pairs, &format!("r{i}_role")).trim().to_string();
        if agency.is_empty() && role.is_empty() {
            continue;
        }
        let n = rows.len();
        if agency.is_empty() {
            errors.push(FieldError::new(
                format!("roles[{n}].agency"),
                msg!("user.choose_agency"),
            ));
        }
        if role.is_empty() {
            errors.push(FieldError::new(
                format!("roles[{n}].role"),
                msg!("user.choose_role"),
            ));
        }
        rows.push((agency, role));
    }
    (rows, errors)
}

async fn save(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    if !user.csrf_ok(value(&pairs, "csrf")) {
        return Err(csrf_rejected());
    }
    let editing = value(&pairs, "mode") == "edit";
    let (roles, mut errors) = role_rows(&pairs);
    let form = UserForm {
        username: value(&pairs, "username").trim().to_string(),
        full_name: value(&pairs, "full_name").to_string(),
        disabled: !value(&pairs, "disabled").is_empty(),
        roles,
    };
    if errors.is_empty() {
        let input = UserInput {
            username: form.username.clone(),
            full_name: form.full_name.clone(),
            password: Some(value(&pairs, "password").to_string()),
            disabled: form.disabled,
            roles: form
                .roles
                .iter()
                .map(|(agency, role)| RoleInput {
                    agency: agency.clone(),
                    role: role.clone(),
                })
                .collect(),
        };
        match state.services.save_user(&user, input, !editing).await {
            Ok(_) => return Ok(see_other("/admin/users?saved=1")),
            Err(ServiceError::Invalid(e)) => errors = e,
            Err(e) => return Err(e.into()),
        }
    }
    // The password is never sent back, not even the one just typed.
    let extra = Extra {
        errors: &errors,
        token_name: "",
        flash: None,
    };
    let html = render_form(&state, &user, editing, &form, extra).await?;
    Ok(unprocessable(html))
}

// ---------------------------------------------------------------------------------------
// API tokens: POST /admin/users/{username}/tokens, …/tokens/{id}/revoke

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

#[derive(Template)]
#[template(path = "admin_users_token.html")]
struct TokenPage {
    chrome: Chrome,
    username: String,
    name: String,
    secret: String,
}

async fn create_token(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(username): Path<String>,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    if !user.csrf_ok(&form.csrf) {
        return Err(csrf_rejected());
    }
    let (user_id, stored) = stored_form(&state, &user, &username).await?;
    let name = form.name.trim();
    let secret = match state.services.issue_api_token(user_id, name, None).await {
        Ok(t) => t.secret,
        Err(ServiceError::Invalid(_)) => {
            let errors = [FieldError::new("token_name", msg!("length", 1, 100))];
            let extra = Extra {
                errors: &errors,
                token_name: &form.name,
                flash: None,
            };
            return Ok(unprocessable(
                render_form(&state, &user, true, &stored, extra).await?,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let html = TokenPage {
        chrome: Chrome::current(),
        username: stored.username,
        name: name.to_string(),
        secret,
    }
    .render()?;
    // Shown once: no redirect (the secret would have to travel in a URL), no caching.
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((username, id)): Path<(String, i64)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    if !user.csrf_ok(&form.csrf) {
        return Err(csrf_rejected());
    }
    stored_form(&state, &user, &username).await?;
    let theirs = state.services.tokens(&user, true).await?;
    if !theirs.iter().any(|t| t.id == id && t.username == username) {
        return Err(PageError::not_found());
    }
    match state.services.revoke_token(&user, id).await {
        // Revoked already: the page shows it so.
        Ok(()) | Err(ServiceError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&format!(
        "/admin/users/{}/edit?revoked=1",
        url_encode(&username)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn blank_role_rows_are_ignored_and_half_rows_reported() {
        let (rows, errors) = role_rows(&pairs(&[
            ("r0_agency", "000.00.06.H56"),
            ("r0_role", "specialist"),
            ("r1_agency", ""),
            ("r1_role", ""),
            ("r2_agency", "000.00.06.H56"),
            ("r2_role", ""),
        ]));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], ("000.00.06.H56".to_string(), "specialist".to_string()));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "roles[1].role");
        assert_eq!(locate(&errors[0].path).0, "r1_role");
    }
}
