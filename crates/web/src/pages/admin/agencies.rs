//! The administrator's agency pages: the *cơ quan* tree and one form per agency. Validation
//! belongs to `Services::save_agency`, not here.

use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{Errors, MAX_DEPTH_SHOWN, csrf_rejected, require_admin, see_other, unprocessable};
use crate::pages::public::Choice;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::get;
use motcua_domain::import::AGENCY_LEVELS;
use motcua_service::catalog::{Agency, AgencyInput};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/agencies", get(list).post(save))
        .route("/admin/agencies/new", get(new_form))
        .route("/admin/agencies/{code}/edit", get(edit_form))
}

/// Vietnamese names of the agency levels of `AGENCY_LEVELS`.
pub fn agency_level_vi(level: &str) -> &str {
    match level {
        "central" => "Trung ương",
        "ministry" => "Bộ, cơ quan ngang bộ",
        "province" => "Cấp tỉnh",
        "department" => "Sở, ban, ngành",
        "unit" => "Đơn vị trực thuộc",
        "district" => "Cấp huyện (trước 01/7/2025)",
        "commune" => "Cấp xã",
        other => other,
    }
}

// ---------------------------------------------------------------------------------------
// GET /admin/agencies

struct TreeRow {
    code: String,
    name: String,
    level: String,
    /// Left padding in rem: the depth in the tree.
    /// Depth in the tree (a class `depth-N`, deeper ones shown as the deepest).
    depth: usize,
    parent_name: Option<String>,
    one_stop: bool,
    office_hours: String,
}

#[derive(Template)]
#[template(path = "admin_agencies.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<TreeRow>,
    flash: Option<&'static str>,
}

/// Agencies in tree order (each followed by its subtree), with their depth. Agencies whose
/// parent is missing are treated as roots; a loop in stored data cannot hang the page.
fn tree_order(list: &[Agency]) -> Vec<(&Agency, usize)> {
    let codes: HashSet<&str> = list.iter().map(|a| a.code.as_str()).collect();
    let mut children: HashMap<&str, Vec<&Agency>> = HashMap::new();
    let mut roots = Vec::new();
    for a in list {
        match a.parent_code.as_deref().filter(|p| codes.contains(p)) {
            Some(p) => children.entry(p).or_default().push(a),
            None => roots.push(a),
        }
    }
    let mut out = Vec::with_capacity(list.len());
    let mut seen = HashSet::new();
    let mut stack: Vec<(&Agency, usize)> = roots.into_iter().rev().map(|a| (a, 0)).collect();
    while let Some((a, depth)) = stack.pop() {
        if !seen.insert(a.code.as_str()) {
            continue;
        }
        out.push((a, depth));
        if let Some(kids) = children.get(a.code.as_str()) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    // Members of a parent loop are unreachable from any root: list them last, flat.
    for a in list {
        if !seen.contains(a.code.as_str()) {
            out.push((a, 0));
        }
    }
    out
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<SavedQuery>,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let all = state.services.agencies().await?;
    let names: HashMap<&str, &str> = all.iter().map(|a| (a.code.as_str(), a.name.as_str())).collect();
    let rows = tree_order(&all)
        .into_iter()
        .map(|(a, depth)| TreeRow {
            code: a.code.clone(),
            name: a.name.clone(),
            level: agency_level_vi(&a.level).to_string(),
            depth: depth.min(MAX_DEPTH_SHOWN),
            parent_name: a
                .parent_code
                .as_deref()
                .and_then(|p| names.get(p))
                .map(|n| n.to_string()),
            one_stop: a.is_one_stop,
            office_hours: a.office_hours.clone().unwrap_or_else(|| "Mặc định".into()),
        })
        .collect();
    let html = ListPage {
        chrome: Chrome::current(),
        rows,
        flash: q.saved.map(|_| "Đã lưu cơ quan."),
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// The form: GET /admin/agencies/new, GET /admin/agencies/{code}/edit, POST /admin/agencies

#[derive(Debug, Default, Deserialize)]
struct AgencyForm {
    #[serde(default)]
    csrf: String,
    /// `new` or `edit`: a new agency must not take the code of an existing one.
    #[serde(default)]
    mode: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    parent_code: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    office_hours: String,
    #[serde(default)]
    one_stop: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_agencies_form.html")]
struct FormPage {
    chrome: Chrome,
    editing: bool,
    code: String,
    name: String,
    address: String,
    office_hours: String,
    one_stop: bool,
    levels: Vec<Choice>,
    parents: Vec<Choice>,
    errors: Errors,
}

fn field_label(path: &str) -> &'static str {
    match path {
        "code" => "Mã cơ quan",
        "name" => "Tên cơ quan",
        "level" => "Cấp",
        "parent_code" => "Cơ quan cấp trên",
        "address" => "Địa chỉ",
        "office_hours" => "Giờ làm việc",
        _ => "Thông tin",
    }
}

async fn render_form(
    state: &AppState,
    editing: bool,
    form: &AgencyForm,
    errors: Errors,
) -> Result<String, PageError> {
    let all = state.services.agencies().await?;
    let code = form.code.trim();
    // An agency cannot sit below itself; `save_agency` also refuses deeper loops.
    let parents = all
        .iter()
        .filter(|a| !(editing && a.code == code))
        .map(|a| {
            Choice::new(
                &a.code,
                &format!("{} — {}", a.name, a.code),
                form.parent_code.trim(),
            )
        })
        .collect();
    Ok(FormPage {
        chrome: Chrome::current(),
        editing,
        code: form.code.clone(),
        name: form.name.clone(),
        address: form.address.clone(),
        office_hours: form.office_hours.clone(),
        one_stop: form.one_stop.is_some(),
        levels: AGENCY_LEVELS
            .iter()
            .map(|l| Choice::new(l, agency_level_vi(l), &form.level))
            .collect(),
        parents,
        errors,
    }
    .render()?)
}

async fn new_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let form = AgencyForm {
        level: "department".into(),
        ..Default::default()
    };
    Ok(Html(render_form(&state, false, &form, Errors::default()).await?))
}

async fn edit_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let a = state.services.agency(&code).await?;
    let form = AgencyForm {
        code: a.code,
        name: a.name,
        level: a.level,
        parent_code: a.parent_code.unwrap_or_default(),
        address: a.address,
        office_hours: a.office_hours.unwrap_or_default(),
        one_stop: a.is_one_stop.then(|| "on".into()),
        ..Default::default()
    };
    Ok(Html(render_form(&state, true, &form, Errors::default()).await?))
}

async fn save(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<AgencyForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    if !user.csrf_ok(&form.csrf) {
        return Err(csrf_rejected());
    }
    let editing = form.mode == "edit";
    let input = AgencyInput {
        code: form.code.trim().to_string(),
        name: form.name.clone(),
        level: form.level.clone(),
        parent_code: Some(form.parent_code.clone()),
        address: form.address.clone(),
        office_hours: Some(form.office_hours.clone()),
        one_stop: form.one_stop.is_some(),
    };
    let saved = if editing {
        state.services.agency(&input.code).await?;
        state.services.save_agency(&user, input).await
    } else {
        state.services.create_agency(&user, input).await
    };
    let refused = match saved {
        Ok(()) => return Ok(see_other("/admin/agencies?saved=1")),
        Err(e) => e,
    };
    let Some(errors) = Errors::labelled(&refused, str::to_string, |p| field_label(p).to_string()) else {
        return Err(refused.into());
    };
    let html = render_form(&state, editing, &form, errors).await?;
    Ok(unprocessable(html))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agency(code: &str, parent: Option<&str>) -> Agency {
        Agency {
            id: 0,
            code: code.into(),
            name: code.into(),
            level: "unit".into(),
            parent_code: parent.map(str::to_string),
            address: String::new(),
            is_one_stop: false,
            office_hours: None,
        }
    }

    #[test]
    fn the_tree_lists_each_agency_after_its_parent() {
        let list = vec![
            agency("a", None),
            agency("a.1", Some("a")),
            agency("b", None),
            agency("b.1", Some("b")),
            agency("a.1.x", Some("a.1")),
            agency("orphan", Some("gone")),
        ];
        let order: Vec<(&str, usize)> = tree_order(&list)
            .into_iter()
            .map(|(a, d)| (a.code.as_str(), d))
            .collect();
        assert_eq!(
            order,
            vec![
                ("a", 0),
                ("a.1", 1),
                ("a.1.x", 2),
                ("b", 0),
                ("b.1", 1),
                ("orphan", 0)
            ]
        );
    }

    #[test]
    fn a_parent_loop_does_not_hang() {
        let list = vec![agency("x", Some("y")), agency("y", Some("x"))];
        assert_eq!(tree_order(&list).len(), 2);
    }
}
