//! The public catalog (*niêm yết công khai thủ tục hành chính*): search procedures, read one,
//! download its form templates. Anonymous and read-only; it must never serve a private file.

use crate::AppState;
use crate::error::PageError;
use crate::i18n;
use crate::pages::Chrome;
use crate::pages::common::{date_vi, file_response, is_sha256, list_url, page_count, param};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::get;
use motcua_domain::access::Role;
use motcua_domain::calendar::{LimitUnit, TimeLimit};
use motcua_domain::procedure::{AgencyRule, Method, OnlineLevel, quota_thousandths};
use motcua_service::catalog::{PROCEDURES_PER_PAGE as PER_PAGE, ProcedureFilter};
use std::collections::HashMap;

/// Implementing levels in the order citizens look for them.
pub const LEVEL_CHOICES: [&str; 4] = ["province", "commune", "district", "central"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/thu-tuc", get(list))
        .route("/thu-tuc/{code}", get(detail))
        .route("/files/{sha256}", get(download))
}

/// One option of a `<select>` (or one checkbox of a group).
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: &str, label: &str, current: &str) -> Self {
        Choice {
            value: value.to_string(),
            label: label.to_string(),
            selected: value == current,
        }
    }
}

/// The Vietnamese name of an implementing level (*cấp thực hiện*).
pub fn level_vi(level: &str) -> &str {
    match level {
        "province" => "Cấp tỉnh",
        "commune" => "Cấp xã",
        "district" => "Cấp huyện (trước 01/7/2025)",
        "central" => "Trung ương",
        other => other,
    }
}

/// Levels joined for a table cell: "Cấp tỉnh, Cấp xã".
pub fn levels_vi(levels: &[String]) -> String {
    levels.iter().map(|l| level_vi(l)).collect::<Vec<_>>().join(", ")
}

/// An amount in thousandths with a Vietnamese decimal comma: 500 → "0,5", 3000 → "3".
pub fn thousandths_vi(t: u64) -> String {
    let (whole, fraction) = (t / 1000, t % 1000);
    if fraction == 0 {
        whole.to_string()
    } else {
        format!("{whole},{}", format!("{fraction:03}").trim_end_matches('0'))
    }
}

/// A time limit as citizens read it: "1 working-days" → "1 ngày làm việc",
/// "4 working-hours" → "4 giờ làm việc", "15 days" → "15 ngày". Unreadable text is shown as is.
pub fn limit_vi(limit: &str) -> String {
    match TimeLimit::parse(limit) {
        Ok(l) => {
            let unit = match l.unit() {
                LimitUnit::WorkingDays => "ngày làm việc",
                LimitUnit::WorkingHours => "giờ làm việc",
                LimitUnit::CalendarDays => "ngày",
            };
            format!("{} {unit}", thousandths_vi(l.thousandths()))
        }
        Err(_) => limit.to_string(),
    }
}

/// A step quota in working days: 0.5 → "0,5 ngày".
pub fn quota_vi(days: f64) -> String {
    match quota_thousandths(days) {
        Some(t) => format!("{} ngày", thousandths_vi(t)),
        None => format!("{days} ngày"),
    }
}

/// An amount of money with thousands separators: 200000 → "200.000 đồng".
pub fn vnd(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{out} đồng")
}

pub fn method_vi(m: Method) -> &'static str {
    match m {
        Method::Direct => "Trực tiếp",
        Method::Postal => "Qua bưu chính công ích",
        Method::Online => "Trực tuyến",
    }
}

/// The label of a role id, or the id itself when unknown.
pub fn role_vi(role: &str) -> String {
    role.parse::<Role>()
        .map(|r| r.label_vi().to_string())
        .unwrap_or_else(|_| role.to_string())
}

/// The English name of an implementing level.
pub fn level_en(level: &str) -> &str {
    match level {
        "province" => "Provincial level",
        "commune" => "Commune level",
        "district" => "District level (before 01/07/2025)",
        "central" => "Central level",
        other => other,
    }
}

/// The name of an implementing level in the language of the page.
pub fn level_label(level: &str) -> &str {
    if i18n::is_en() {
        level_en(level)
    } else {
        level_vi(level)
    }
}

/// Levels joined for a table cell, in the language of the page.
pub fn levels_label(levels: &[String]) -> String {
    levels
        .iter()
        .map(|l| level_label(l))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An amount in thousandths with a decimal point: 500 → "0.5", 3000 → "3".
pub fn thousandths_en(t: u64) -> String {
    thousandths_vi(t).replace(',', ".")
}

/// A time limit in English: "1 working-days" → "1 working day", "4 working-hours" →
/// "4 working hours", "15 days" → "15 days". Unreadable text is shown as is.
pub fn limit_en(limit: &str) -> String {
    match TimeLimit::parse(limit) {
        Ok(l) => {
            let one = l.thousandths() == 1000;
            let unit = match (l.unit(), one) {
                (LimitUnit::WorkingDays, true) => "working day",
                (LimitUnit::WorkingDays, false) => "working days",
                (LimitUnit::WorkingHours, true) => "working hour",
                (LimitUnit::WorkingHours, false) => "working hours",
                (LimitUnit::CalendarDays, true) => "day",
                (LimitUnit::CalendarDays, false) => "days",
            };
            format!("{} {unit}", thousandths_en(l.thousandths()))
        }
        Err(_) => limit.to_string(),
    }
}

/// A time limit in the language of the page.
pub fn limit_label(limit: &str) -> String {
    if i18n::is_en() {
        limit_en(limit)
    } else {
        limit_vi(limit)
    }
}

/// A step quota in working days, in English: 0.5 → "0.5 days", 1 → "1 day".
pub fn quota_en(days: f64) -> String {
    match quota_thousandths(days) {
        Some(1000) => "1 day".into(),
        Some(t) => format!("{} days", thousandths_en(t)),
        None => format!("{days} days"),
    }
}

/// A step quota in the language of the page.
pub fn quota_label(days: f64) -> String {
    if i18n::is_en() {
        quota_en(days)
    } else {
        quota_vi(days)
    }
}

/// An amount of money in English: 200000 → "200,000 VND".
pub fn vnd_en(amount: u64) -> String {
    let vi = vnd(amount);
    format!("{} VND", vi.trim_end_matches(" đồng").replace('.', ","))
}

/// An amount of money in the language of the page.
pub fn money(amount: u64) -> String {
    if i18n::is_en() {
        vnd_en(amount)
    } else {
        vnd(amount)
    }
}

/// The English label of an online level.
pub fn online_level_en(level: OnlineLevel) -> &'static str {
    match level {
        OnlineLevel::Full => "Full online public service",
        OnlineLevel::Partial => "Partial online public service",
        OnlineLevel::None => "Not available online",
    }
}

/// The label of an online level in the language of the page.
pub fn online_level_label(level: OnlineLevel) -> &'static str {
    if i18n::is_en() {
        online_level_en(level)
    } else {
        level.label_vi()
    }
}

pub fn method_en(m: Method) -> &'static str {
    match m {
        Method::Direct => "In person",
        Method::Postal => "By public postal service",
        Method::Online => "Online",
    }
}

/// A method of submission in the language of the page.
pub fn method_label(m: Method) -> &'static str {
    if i18n::is_en() { method_en(m) } else { method_vi(m) }
}

/// The English label of a role id, or the id itself when unknown.
pub fn role_en(role: &str) -> String {
    match role.parse::<Role>() {
        Ok(r) => match r {
            Role::ReceivingOfficer => "Receiving officer",
            Role::Leader => "Head of division (assigns)",
            Role::Specialist => "Handling specialist",
            Role::Approver => "Signing leader",
            Role::Clerk => "Clerk",
            Role::ResultOfficer => "Result officer",
            Role::DeskHead => "Head of the one-stop desk",
            Role::Supervisor => "Supervisor (read only)",
            Role::Admin => "System administrator",
        }
        .to_string(),
        Err(_) => role.to_string(),
    }
}

/// The label of a role id in the language of the page.
pub fn role_label(role: &str) -> String {
    if i18n::is_en() {
        role_en(role)
    } else {
        role_vi(role)
    }
}

/// The download address of a stored form (`sha256:HEX`), if it is stored.
pub fn form_url(file: &str) -> Option<String> {
    file.strip_prefix("sha256:").map(|sha| format!("/files/{sha}"))
}

// ---------------------------------------------------------------------------------------
// GET /thu-tuc

struct ListRow {
    code: String,
    name: String,
    field_name: String,
    levels: String,
    limit: String,
    online: &'static str,
    /// Citizens may submit it online: the row offers to.
    submit_online: bool,
    four_on_the_spot: bool,
}

#[derive(Template)]
#[template(path = "catalog_list.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    fields: Vec<Choice>,
    agencies: Vec<Choice>,
    levels: Vec<Choice>,
    filtered: bool,
    rows: Vec<ListRow>,
    total: i64,
    page: u32,
    pages: u64,
    prev_url: Option<String>,
    next_url: Option<String>,
}

/// A page number from the query: anything unreadable, or 0, is page 1; past the last page
/// a list may have, that page (it is empty).
pub fn page_of(text: &str) -> u32 {
    text.parse::<u32>()
        .ok()
        .filter(|p| *p > 0)
        .unwrap_or(1)
        .min(100_000)
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

async fn list(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    let (q, field, agency, level) = (
        param(&pairs, "q"),
        param(&pairs, "field"),
        param(&pairs, "agency"),
        param(&pairs, "level"),
    );
    let page = page_of(param(&pairs, "page"));
    let filter = ProcedureFilter {
        q: some(q),
        field: some(field),
        agency: some(agency),
        level: some(level),
        online: false,
    };
    let services = &state.services;
    let (found, total) = services.search_procedures(&filter, page).await?;
    let pages = page_count(total, PER_PAGE);
    let filters = [("q", q), ("field", field), ("agency", agency), ("level", level)];
    let fields = services.fields().await?;
    let all_agencies = services.agencies().await?;
    let html = ListPage {
        chrome: Chrome::current(),
        q: q.to_string(),
        fields: fields
            .iter()
            .map(|(code, name, n)| Choice::new(code, &format!("{name} ({n})"), field))
            .collect(),
        agencies: all_agencies
            .iter()
            .map(|a| Choice::new(&a.code, &a.name, agency))
            .collect(),
        levels: LEVEL_CHOICES
            .iter()
            .map(|l| Choice::new(l, level_label(l), level))
            .collect(),
        filtered: filters.iter().any(|(_, v)| !v.is_empty()),
        rows: found
            .into_iter()
            .map(|p| ListRow {
                levels: levels_label(&p.levels),
                limit: limit_label(&p.time_limit),
                online: online_level_label(p.online_level),
                submit_online: p.online_level != motcua_domain::procedure::OnlineLevel::None,
                four_on_the_spot: p.four_on_the_spot,
                code: p.code,
                name: p.name,
                field_name: p.field_name,
            })
            .collect(),
        total,
        page,
        pages,
        prev_url: (page > 1).then(|| list_url("/thu-tuc", &filters, page - 1)),
        next_url: (u64::from(page) < pages).then(|| list_url("/thu-tuc", &filters, page + 1)),
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// GET /thu-tuc/{code}

struct AgencyView {
    code: String,
    name: String,
    address: String,
    one_stop: bool,
}

struct ComponentView {
    name: String,
    originals: u32,
    copies: u32,
    required: bool,
    form_name: Option<String>,
    form_url: Option<String>,
}

struct FeeView {
    name: String,
    amount: String,
    note: String,
}

struct StepView {
    name: String,
    role: String,
    agency: String,
    quota: String,
}

struct CaseView {
    name: String,
    limit: String,
    online_limit: Option<String>,
    steps: Vec<StepView>,
}

#[derive(Template)]
#[template(path = "catalog_detail.html")]
struct DetailPage {
    chrome: Chrome,
    code: String,
    name: String,
    field_name: String,
    levels: String,
    agencies: Vec<AgencyView>,
    methods: Vec<&'static str>,
    applicants: String,
    components: Vec<ComponentView>,
    time_limit: String,
    online_time_limit: Option<String>,
    same_day_cutoff: Option<String>,
    fees: Vec<FeeView>,
    result: String,
    conditions: String,
    legal_basis: Vec<String>,
    online_level: &'static str,
    /// Citizens may submit it online: the page's main action.
    submit_online: bool,
    four_on_the_spot: bool,
    cases: Vec<CaseView>,
    version: i64,
    effective_from: String,
}

fn agency_rule_label(rule: &AgencyRule, names: &HashMap<String, String>) -> String {
    let en = i18n::is_en();
    match rule {
        AgencyRule::Receiving if en => "Receiving agency".into(),
        AgencyRule::Parent if en => "Higher-level agency".into(),
        AgencyRule::Child if en => "Lower-level agency".into(),
        AgencyRule::Receiving => "Cơ quan tiếp nhận".into(),
        AgencyRule::Parent => "Cơ quan cấp trên".into(),
        AgencyRule::Child => "Cơ quan cấp dưới".into(),
        AgencyRule::Fixed(code) => names.get(code).cloned().unwrap_or_else(|| code.clone()),
    }
}

async fn detail(State(state): State<AppState>, Path(code): Path<String>) -> Result<Html<String>, PageError> {
    let stored = state.services.procedure(&code, None).await?;
    let all = state.services.agencies().await?;
    let names: HashMap<String, String> = all.iter().map(|a| (a.code.clone(), a.name.clone())).collect();
    let spec = stored.spec;
    let limit = limit_label(&spec.time_limit);
    let online_limit = spec
        .online_time_limit
        .as_deref()
        .map(limit_label)
        .filter(|l| *l != limit);
    let html = DetailPage {
        chrome: Chrome::current(),
        agencies: spec
            .agencies
            .iter()
            .map(|code| match all.iter().find(|a| &a.code == code) {
                Some(a) => AgencyView {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    address: a.address.clone(),
                    one_stop: a.is_one_stop,
                },
                None => AgencyView {
                    code: code.clone(),
                    name: code.clone(),
                    address: String::new(),
                    one_stop: false,
                },
            })
            .collect(),
        methods: spec.methods.iter().map(|m| method_label(*m)).collect(),
        components: spec
            .components
            .iter()
            .map(|c| ComponentView {
                name: c.name.clone(),
                originals: c.originals,
                copies: c.copies,
                required: c.required,
                form_name: c.form.as_ref().map(|f| f.name.clone()),
                form_url: c.form.as_ref().and_then(|f| form_url(&f.file)),
            })
            .collect(),
        fees: spec
            .fees
            .iter()
            .map(|f| FeeView {
                name: f.name.clone(),
                amount: f.amount_vnd.map(money).unwrap_or_default(),
                note: f.note.clone(),
            })
            .collect(),
        cases: spec
            .cases
            .iter()
            .map(|c| {
                let case_limit = c
                    .time_limit
                    .as_deref()
                    .map(limit_label)
                    .unwrap_or_else(|| limit.clone());
                CaseView {
                    name: c.name.clone(),
                    online_limit: c
                        .online_time_limit
                        .as_deref()
                        .map(limit_label)
                        .filter(|l| *l != case_limit),
                    limit: case_limit,
                    steps: c
                        .steps
                        .iter()
                        .map(|s| StepView {
                            name: s.name.clone(),
                            role: role_label(&s.role),
                            agency: agency_rule_label(&s.agency, &names),
                            quota: quota_label(s.quota_days),
                        })
                        .collect(),
                }
            })
            .collect(),
        time_limit: limit,
        online_time_limit: online_limit,
        same_day_cutoff: spec.same_day_cutoff.clone(),
        levels: levels_label(&spec.levels),
        online_level: online_level_label(spec.online_level),
        submit_online: spec.accepts_online(),
        four_on_the_spot: spec.four_on_the_spot,
        version: stored.version,
        effective_from: date_vi(stored.effective_from),
        code: spec.code,
        name: spec.name,
        field_name: spec.field.name,
        applicants: spec.applicants,
        result: spec.result,
        conditions: spec.conditions,
        legal_basis: spec.legal_basis,
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// GET /files/{sha256}

/// Serves a stored file only when it is the form template of a procedure: the same store
/// holds citizens' private scans, which are never public.
async fn download(State(state): State<AppState>, Path(sha): Path<String>) -> Result<Response, PageError> {
    if !is_sha256(&sha) {
        return Err(PageError::not_found());
    }
    let reference = format!("sha256:{sha}");
    let is_form = state.services.current_procedures().await?.iter().any(|spec| {
        spec.components
            .iter()
            .filter_map(|c| c.form.as_ref())
            .any(|f| f.file == reference)
    });
    if !is_form {
        return Err(PageError::not_found());
    }
    let Some((meta, bytes)) = state.services.file(&sha).await? else {
        return Err(PageError::not_found());
    };
    Ok(file_response(&meta, bytes, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_in_vietnamese() {
        assert_eq!(limit_vi("1 working-days"), "1 ngày làm việc");
        assert_eq!(limit_vi("4 working-hours"), "4 giờ làm việc");
        assert_eq!(limit_vi("15 days"), "15 ngày");
        assert_eq!(limit_vi("0.5 working-days"), "0,5 ngày làm việc");
        assert_eq!(limit_vi("2 tuần"), "2 tuần");
    }

    #[test]
    fn limits_read_in_english() {
        assert_eq!(limit_en("1 working-days"), "1 working day");
        assert_eq!(limit_en("4 working-hours"), "4 working hours");
        assert_eq!(limit_en("1 working-hours"), "1 working hour");
        assert_eq!(limit_en("15 days"), "15 days");
        assert_eq!(limit_en("1 days"), "1 day");
        assert_eq!(limit_en("0.5 working-days"), "0.5 working days");
        assert_eq!(limit_en("2 tuần"), "2 tuần");
        assert_eq!(quota_en(0.25), "0.25 days");
        assert_eq!(quota_en(1.0), "1 day");
        assert_eq!(vnd_en(1_500_000), "1,500,000 VND");
        assert_eq!(vnd_en(0), "0 VND");
        assert_eq!(role_en("specialist"), "Handling specialist");
        assert_eq!(level_en("district"), "District level (before 01/07/2025)");
    }

    #[tokio::test]
    async fn labels_follow_the_page_language() {
        assert_eq!(limit_label("1 working-days"), "1 ngày làm việc");
        assert_eq!(method_label(Method::Postal), "Qua bưu chính công ích");
        assert_eq!(
            online_level_label(OnlineLevel::Full),
            OnlineLevel::Full.label_vi()
        );
        assert_eq!(
            levels_label(&["province".into(), "commune".into()]),
            "Cấp tỉnh, Cấp xã"
        );
        let en = i18n::with_lang(i18n::Lang::En, async {
            (
                limit_label("1 working-days"),
                method_label(Method::Postal),
                online_level_label(OnlineLevel::Full),
                levels_label(&["province".into(), "commune".into()]),
                money(200_000),
                quota_label(0.5),
            )
        })
        .await;
        assert_eq!(
            en,
            (
                "1 working day".into(),
                "By public postal service",
                "Full online public service",
                "Provincial level, Commune level".into(),
                "200,000 VND".into(),
                "0.5 days".into()
            )
        );
    }

    #[test]
    fn money_has_thousands_separators() {
        assert_eq!(vnd(0), "0 đồng");
        assert_eq!(vnd(500), "500 đồng");
        assert_eq!(vnd(200_000), "200.000 đồng");
        assert_eq!(vnd(1_500_000), "1.500.000 đồng");
    }

    #[test]
    fn quotas_use_a_decimal_comma() {
        assert_eq!(quota_vi(0.5), "0,5 ngày");
        assert_eq!(quota_vi(0.25), "0,25 ngày");
        assert_eq!(quota_vi(2.0), "2 ngày");
    }

    #[test]
    fn bad_page_numbers_mean_the_first_page() {
        assert_eq!(page_of("3"), 3);
        assert_eq!(page_of("0"), 1);
        assert_eq!(page_of("-2"), 1);
        assert_eq!(page_of("abc"), 1);
        assert_eq!(page_of(""), 1);
    }

    #[test]
    fn filenames_are_percent_encoded() {
        assert_eq!(
            crate::pages::common::rfc8187("Tờ khai.pdf"),
            "T%E1%BB%9D%20khai.pdf"
        );
        assert_eq!(crate::pages::common::rfc8187("a\"b;c.doc"), "a%22b%3Bc.doc");
    }
}
