//! The administrator's procedure pages: the list, and one form covering the whole
//! `ProcedureSpec` without JavaScript. Validation and versioning belong to
//! `Services::save_procedure` and the domain; this module only turns form fields into a spec
//! and back.

use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{
    Errors, csrf_rejected, date_vi, require_admin, see_other, unprocessable, url_encode,
};
use crate::pages::public::{
    Choice, LEVEL_CHOICES, form_url, level_vi, levels_vi, limit_vi, method_vi, page_of, role_vi,
    thousandths_vi,
};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::get;
use chrono::NaiveDate;
use motcua_domain::msg;
use motcua_domain::msg::Msg;
use motcua_domain::procedure::{
    AgencyRule, CaseVariant, Component, Fee, FieldError, FieldRef, FormRef, Method, OnlineLevel,
    ProcedureSpec, STEP_ROLES, StepTemplate, quota_thousandths,
};
use motcua_service::catalog::{ProcedureFilter, Saved};
use motcua_service::{Lang, ServiceError};
use std::collections::{BTreeSet, HashMap};

/// Procedures per page of the admin list.
const PER_PAGE: u32 = 50;
/// Blank rows offered in each repeated table, so rows can be added without JavaScript.
const BLANK_ROWS: usize = 2;
/// Blank steps offered in the blank case.
const BLANK_CASE_STEPS: usize = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/procedures", get(list).post(save))
        .route("/admin/procedures/new", get(new_form))
        .route("/admin/procedures/{code}/edit", get(edit_form))
}

// ---------------------------------------------------------------------------------------
// GET /admin/procedures

struct ListRow {
    code: String,
    name: String,
    field_name: String,
    levels: String,
    limit: String,
}

#[derive(Template)]
#[template(path = "admin_procedures.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    rows: Vec<ListRow>,
    total: i64,
    page: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
    flash: Option<String>,
}

#[derive(serde::Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
    saved: Option<String>,
    version: Option<String>,
    unchanged: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(query): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let q = query.q.trim();
    let page = page_of(query.page.trim());
    let filter = ProcedureFilter {
        q: (!q.is_empty()).then(|| q.to_string()),
        ..Default::default()
    };
    let (found, total) = state.services.search_procedures(&filter, page).await?;
    let url = |p: u32| {
        let mut parts = Vec::new();
        if !q.is_empty() {
            parts.push(format!("q={}", url_encode(q)));
        }
        parts.push(format!("page={p}"));
        format!("/admin/procedures?{}", parts.join("&"))
    };
    let flash = query.saved.map(|code| match (query.unchanged, query.version) {
        (Some(_), _) => format!("Thủ tục {code} không có thay đổi nào; không tạo phiên bản mới."),
        (None, Some(v)) => format!("Đã lưu thủ tục {code}: phiên bản {v}."),
        (None, None) => format!("Đã thêm thủ tục {code}."),
    });
    let html = ListPage {
        chrome: Chrome::current(),
        q: q.to_string(),
        rows: found
            .into_iter()
            .map(|p| ListRow {
                levels: levels_vi(&p.levels),
                limit: limit_vi(&p.time_limit),
                code: p.code,
                name: p.name,
                field_name: p.field_name,
            })
            .collect(),
        total,
        page,
        prev_url: (page > 1).then(|| url(page - 1)),
        next_url: (i64::from(page) * i64::from(PER_PAGE) < total).then(|| url(page + 1)),
        flash,
    }
    .render()?;
    Ok(Html(html))
}

// ---------------------------------------------------------------------------------------
// The form model: every field as the text the admin typed, so a refused form comes back
// exactly as sent.
//
// Field names (one flat namespace, parsed by hand because serde_urlencoded has no arrays):
//   scalars       code, name, field_code, field_name, applicants, time_limit,
//                 online_time_limit, same_day_cutoff, result, conditions, online_level,
//                 effective_from, four_on_the_spot (checkbox),
//                 legal_basis (textarea, one entry per line)
//   sets          level, agency, method: one checkbox each, repeated key
//   fees          f{i}_name, f{i}_amount, f{i}_note, f{i}_delete
//   components    c{i}_name, c{i}_originals, c{i}_copies, c{i}_required, c{i}_form_name,
//                 c{i}_form_file (hidden `sha256:…`), c{i}_form_remove, c{i}_delete
//   cases         k{i}_code, k{i}_name, k{i}_time_limit, k{i}_online_time_limit, k{i}_delete
//   steps         k{i}_s{j}_name, k{i}_s{j}_role, k{i}_s{j}_agency, k{i}_s{j}_quota,
//                 k{i}_s{j}_delete
//   control       csrf, mode (`new` or `edit`)
// Row numbers only order the rows; blank rows and rows marked for deletion are dropped, and
// the remaining rows are renumbered from 0 — which is also how error paths count them.

#[derive(Debug, Clone, Default)]
struct FeeRow {
    name: String,
    amount: String,
    note: String,
}

#[derive(Debug, Clone, Default)]
struct ComponentRow {
    name: String,
    originals: String,
    copies: String,
    required: bool,
    form_name: String,
    form_file: String,
}

#[derive(Debug, Clone, Default)]
struct StepRow {
    name: String,
    role: String,
    agency: String,
    quota: String,
}

#[derive(Debug, Clone, Default)]
struct CaseRow {
    code: String,
    name: String,
    time_limit: String,
    online_time_limit: String,
    steps: Vec<StepRow>,
}

#[derive(Debug, Clone, Default)]
struct ProcedureForm {
    code: String,
    name: String,
    field_code: String,
    field_name: String,
    levels: Vec<String>,
    agencies: Vec<String>,
    methods: Vec<String>,
    applicants: String,
    time_limit: String,
    online_time_limit: String,
    same_day_cutoff: String,
    result: String,
    conditions: String,
    legal_basis: String,
    online_level: String,
    four_on_the_spot: bool,
    effective_from: String,
    fees: Vec<FeeRow>,
    components: Vec<ComponentRow>,
    cases: Vec<CaseRow>,
}

fn method_str(m: Method) -> &'static str {
    match m {
        Method::Direct => "direct",
        Method::Postal => "postal",
        Method::Online => "online",
    }
}

const METHODS: [Method; 3] = [Method::Direct, Method::Postal, Method::Online];
const ONLINE_LEVELS: [OnlineLevel; 3] = [OnlineLevel::None, OnlineLevel::Partial, OnlineLevel::Full];

/// A quota as typed in the form: 0.5 → "0,5".
fn quota_text(days: f64) -> String {
    match quota_thousandths(days) {
        Some(t) => thousandths_vi(t),
        None => days.to_string(),
    }
}

impl ProcedureForm {
    fn from_spec(spec: &ProcedureSpec) -> Self {
        ProcedureForm {
            code: spec.code.clone(),
            name: spec.name.clone(),
            field_code: spec.field.code.clone(),
            field_name: spec.field.name.clone(),
            levels: spec.levels.clone(),
            agencies: spec.agencies.clone(),
            methods: spec.methods.iter().map(|m| method_str(*m).to_string()).collect(),
            applicants: spec.applicants.clone(),
            time_limit: spec.time_limit.clone(),
            online_time_limit: spec.online_time_limit.clone().unwrap_or_default(),
            same_day_cutoff: spec.same_day_cutoff.clone().unwrap_or_default(),
            result: spec.result.clone(),
            conditions: spec.conditions.clone(),
            legal_basis: spec.legal_basis.join("\n"),
            online_level: spec.online_level.as_str().to_string(),
            four_on_the_spot: spec.four_on_the_spot,
            effective_from: spec.effective_from.map(|d| d.to_string()).unwrap_or_default(),
            fees: spec
                .fees
                .iter()
                .map(|f| FeeRow {
                    name: f.name.clone(),
                    amount: f.amount_vnd.map(|a| a.to_string()).unwrap_or_default(),
                    note: f.note.clone(),
                })
                .collect(),
            components: spec
                .components
                .iter()
                .map(|c| ComponentRow {
                    name: c.name.clone(),
                    originals: c.originals.to_string(),
                    copies: c.copies.to_string(),
                    required: c.required,
                    form_name: c.form.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
                    form_file: c.form.as_ref().map(|f| f.file.clone()).unwrap_or_default(),
                })
                .collect(),
            cases: spec
                .cases
                .iter()
                .map(|c| CaseRow {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    time_limit: c.time_limit.clone().unwrap_or_default(),
                    online_time_limit: c.online_time_limit.clone().unwrap_or_default(),
                    steps: c
                        .steps
                        .iter()
                        .map(|s| StepRow {
                            name: s.name.clone(),
                            role: s.role.clone(),
                            agency: s.agency.as_string(),
                            quota: quota_text(s.quota_days),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn from_fields(fields: &Fields) -> Self {
        let fees = fields
            .rows("f")
            .into_iter()
            .filter(|i| !fields.checked(&format!("f{i}_delete")))
            .map(|i| FeeRow {
                name: fields.get(&format!("f{i}_name")),
                amount: fields.get(&format!("f{i}_amount")),
                note: fields.text(&format!("f{i}_note")),
            })
            .filter(|r| !(blank(&r.name) && blank(&r.amount) && blank(&r.note)))
            .collect();
        let components = fields
            .rows("c")
            .into_iter()
            .filter(|i| !fields.checked(&format!("c{i}_delete")))
            .map(|i| {
                let remove_form = fields.checked(&format!("c{i}_form_remove"));
                ComponentRow {
                    name: fields.get(&format!("c{i}_name")),
                    originals: fields.get(&format!("c{i}_originals")),
                    copies: fields.get(&format!("c{i}_copies")),
                    required: fields.checked(&format!("c{i}_required")),
                    form_name: if remove_form {
                        String::new()
                    } else {
                        fields.get(&format!("c{i}_form_name"))
                    },
                    form_file: if remove_form {
                        String::new()
                    } else {
                        fields.get(&format!("c{i}_form_file"))
                    },
                }
            })
            .filter(|r| {
                !(blank(&r.name)
                    && blank(&r.originals)
                    && blank(&r.copies)
                    && !r.required
                    && blank(&r.form_file))
            })
            .collect();
        let cases = fields
            .rows("k")
            .into_iter()
            .filter(|i| !fields.checked(&format!("k{i}_delete")))
            .map(|i| CaseRow {
                code: fields.get(&format!("k{i}_code")),
                name: fields.get(&format!("k{i}_name")),
                time_limit: fields.get(&format!("k{i}_time_limit")),
                online_time_limit: fields.get(&format!("k{i}_online_time_limit")),
                steps: fields
                    .rows(&format!("k{i}_s"))
                    .into_iter()
                    .filter(|j| !fields.checked(&format!("k{i}_s{j}_delete")))
                    .map(|j| StepRow {
                        name: fields.get(&format!("k{i}_s{j}_name")),
                        role: fields.get(&format!("k{i}_s{j}_role")),
                        agency: fields.get(&format!("k{i}_s{j}_agency")),
                        quota: fields.get(&format!("k{i}_s{j}_quota")),
                    })
                    .filter(|s| !(blank(&s.name) && blank(&s.role) && blank(&s.agency) && blank(&s.quota)))
                    .collect(),
            })
            .filter(|c| {
                !(blank(&c.code)
                    && blank(&c.name)
                    && blank(&c.time_limit)
                    && blank(&c.online_time_limit)
                    && c.steps.is_empty())
            })
            .collect();
        ProcedureForm {
            code: fields.get("code"),
            name: fields.get("name"),
            field_code: fields.get("field_code"),
            field_name: fields.get("field_name"),
            levels: fields.all("level"),
            agencies: fields.all("agency"),
            methods: fields.all("method"),
            applicants: fields.text("applicants"),
            time_limit: fields.get("time_limit"),
            online_time_limit: fields.get("online_time_limit"),
            same_day_cutoff: fields.get("same_day_cutoff"),
            result: fields.text("result"),
            conditions: fields.text("conditions"),
            legal_basis: fields.text("legal_basis"),
            online_level: fields.get("online_level"),
            four_on_the_spot: fields.checked("four_on_the_spot"),
            effective_from: fields.get("effective_from"),
            fees,
            components,
            cases,
        }
    }

    /// The spec this form describes, or what cannot be read (paths as the domain writes
    /// them). The domain's own validation runs after this, in `save_procedure`.
    fn to_spec(&self) -> Result<ProcedureSpec, Vec<FieldError>> {
        let mut errors = Problems::default();
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let mut methods = Vec::new();
        for m in &self.methods {
            match METHODS.iter().find(|x| m.as_str() == method_str(**x)) {
                Some(x) if !methods.contains(x) => methods.push(*x),
                Some(_) => {}
                None => errors.add("methods".into(), msg!("form.choose")),
            }
        }
        let online_level = ONLINE_LEVELS
            .into_iter()
            .find(|l| l.as_str() == self.online_level)
            .unwrap_or_else(|| {
                errors.add("online_level".into(), msg!("form.choose"));
                OnlineLevel::None
            });
        let effective_from = match self.effective_from.trim() {
            "" => None,
            d => NaiveDate::parse_from_str(d, "%Y-%m-%d").ok().or_else(|| {
                errors.add("effective_from".into(), msg!("form.date"));
                None
            }),
        };
        let mut fees = Vec::new();
        for (i, f) in self.fees.iter().enumerate() {
            if f.name.trim().is_empty() {
                errors.add(format!("fees[{i}].name"), msg!("required"));
            }
            let digits: String = f
                .amount
                .chars()
                .filter(|c| !matches!(c, '.' | ' ' | ','))
                .collect();
            let amount_vnd = match digits.as_str() {
                "" => None,
                d => d.parse::<u64>().ok().or_else(|| {
                    errors.add(format!("fees[{i}].amount_vnd"), msg!("form.amount"));
                    None
                }),
            };
            fees.push(Fee {
                name: f.name.trim().to_string(),
                amount_vnd,
                note: f.note.clone(),
            });
        }
        let mut components = Vec::new();
        for (i, c) in self.components.iter().enumerate() {
            let originals = count(&c.originals, format!("components[{i}].originals"), &mut errors);
            let copies = count(&c.copies, format!("components[{i}].copies"), &mut errors);
            let form = (!c.form_file.trim().is_empty()).then(|| FormRef {
                name: c.form_name.clone(),
                file: c.form_file.trim().to_string(),
            });
            components.push(Component {
                name: c.name.clone(),
                originals,
                copies,
                required: c.required,
                form,
            });
        }
        let mut cases = Vec::new();
        for (i, k) in self.cases.iter().enumerate() {
            let mut steps = Vec::new();
            for (j, s) in k.steps.iter().enumerate() {
                let agency = AgencyRule::parse(&s.agency).unwrap_or_else(|_| {
                    errors.add(format!("cases[{i}].steps[{j}].agency"), msg!("form.agency_rule"));
                    AgencyRule::Receiving
                });
                let quota_days = match s.quota.trim().replace(',', ".").parse::<f64>() {
                    Ok(q) => q,
                    Err(_) => {
                        errors.add(format!("cases[{i}].steps[{j}].quota_days"), msg!("form.days"));
                        0.0
                    }
                };
                steps.push(StepTemplate {
                    name: s.name.clone(),
                    role: s.role.clone(),
                    agency,
                    quota_days,
                });
            }
            cases.push(CaseVariant {
                code: k.code.trim().to_string(),
                name: k.name.clone(),
                time_limit: opt(&k.time_limit),
                online_time_limit: opt(&k.online_time_limit),
                steps,
            });
        }
        if !errors.0.is_empty() {
            return Err(errors.0);
        }
        Ok(ProcedureSpec {
            code: self.code.trim().to_string(),
            name: self.name.clone(),
            field: FieldRef {
                code: self.field_code.trim().to_string(),
                name: self.field_name.trim().to_string(),
            },
            levels: self.levels.clone(),
            agencies: self.agencies.clone(),
            methods,
            applicants: self.applicants.clone(),
            components,
            time_limit: self.time_limit.trim().to_string(),
            online_time_limit: opt(&self.online_time_limit),
            same_day_cutoff: opt(&self.same_day_cutoff),
            fees,
            result: self.result.clone(),
            conditions: self.conditions.clone(),
            legal_basis: self
                .legal_basis
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            online_level,
            four_on_the_spot: self.four_on_the_spot,
            cases,
            effective_from,
        })
    }
}

/// Problems found while reading a form.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, path: String, msg: Msg) {
        self.0.push(FieldError::new(path, msg));
    }
}

/// A count of copies: empty is 0.
fn count(text: &str, path: String, problems: &mut Problems) -> u32 {
    match text.trim() {
        "" => 0,
        t => t.parse().unwrap_or_else(|_| {
            problems.add(path, msg!("form.count"));
            0
        }),
    }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// A submitted form: every value of every key, in the order sent.
struct Fields(HashMap<String, Vec<String>>);

impl Fields {
    fn new(pairs: Vec<(String, String)>) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry(k).or_default().push(v);
        }
        Fields(map)
    }
    fn get(&self, key: &str) -> String {
        self.0
            .get(key)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }
    /// A textarea: browsers send CRLF line ends; the spec stores LF.
    fn text(&self, key: &str) -> String {
        self.get(key).replace("\r\n", "\n")
    }
    fn all(&self, key: &str) -> Vec<String> {
        self.0.get(key).cloned().unwrap_or_default()
    }
    fn checked(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|v| v.iter().any(|x| !x.is_empty()))
    }
    /// Row numbers `i` of keys `{prefix}{i}_…`, in order.
    fn rows(&self, prefix: &str) -> BTreeSet<usize> {
        self.0
            .keys()
            .filter_map(|k| {
                let rest = k.strip_prefix(prefix)?;
                let (i, _) = rest.split_once('_')?;
                if i.is_empty() || !i.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                i.parse().ok()
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Error paths (`cases[0].steps[2].role`) → the field they are about and how it reads.

/// `name[3]` → ("name", Some(3)); `name` → ("name", None).
fn segment(s: &str) -> (&str, Option<usize>) {
    match s.split_once('[') {
        Some((name, rest)) => (name, rest.trim_end_matches(']').parse().ok()),
        None => (s, None),
    }
}

/// Which row of which table an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Fee(usize),
    Component(usize),
    Case(usize),
    Step(usize, usize),
}

struct Located {
    anchor: String,
    label: String,
    row: Option<Row>,
}

fn scalar_label(name: &str) -> &'static str {
    match name {
        "code" => "Mã thủ tục",
        "name" => "Tên thủ tục",
        "field" => "Lĩnh vực",
        "levels" => "Cấp thực hiện",
        "agencies" => "Cơ quan thực hiện",
        "methods" => "Cách thức thực hiện",
        "applicants" => "Đối tượng thực hiện",
        "components" => "Thành phần hồ sơ",
        "time_limit" => "Thời hạn giải quyết",
        "online_time_limit" => "Thời hạn khi nộp trực tuyến",
        "same_day_cutoff" => "Giờ nhận hồ sơ để trả trong ngày",
        "fees" => "Phí, lệ phí",
        "result" => "Kết quả thực hiện",
        "conditions" => "Yêu cầu, điều kiện",
        "legal_basis" => "Căn cứ pháp lý",
        "online_level" => "Mức độ dịch vụ công trực tuyến",
        "four_on_the_spot" => "4 tại chỗ",
        "cases" => "Trường hợp giải quyết",
        "effective_from" => "Ngày có hiệu lực",
        _ => "Thông tin",
    }
}

fn locate(path: &str) -> Located {
    let segs: Vec<(&str, Option<usize>)> = path.split('.').map(segment).collect();
    let field = |i: usize| segs.get(i).map(|s| s.0).unwrap_or("");
    match segs.as_slice() {
        [("fees", Some(i)), ..] => {
            let (id, label) = match field(1) {
                "amount_vnd" => ("amount", "Số tiền"),
                "note" => ("note", "Ghi chú"),
                _ => ("name", "Tên"),
            };
            Located {
                anchor: format!("f{i}_{id}"),
                label: format!("Phí, lệ phí {} — {label}", i + 1),
                row: Some(Row::Fee(*i)),
            }
        }
        [("components", Some(i)), ..] => {
            let (id, label) = match field(1) {
                "name" => ("name", "Tên giấy tờ"),
                "copies" => ("copies", "Số bản sao"),
                "form" => ("form_name", "Mẫu đơn"),
                "originals" => ("originals", "Số bản chính"),
                _ => ("originals", "Số bản"),
            };
            Located {
                anchor: format!("c{i}_{id}"),
                label: format!("Thành phần hồ sơ {} — {label}", i + 1),
                row: Some(Row::Component(*i)),
            }
        }
        [("cases", Some(i)), ("steps", Some(j)), ..] => {
            let (id, label) = match field(2) {
                "role" => ("role", "Người thực hiện"),
                "agency" => ("agency", "Cơ quan"),
                "quota_days" => ("quota", "Thời gian"),
                _ => ("name", "Nội dung"),
            };
            Located {
                anchor: format!("k{i}_s{j}_{id}"),
                label: format!("Trường hợp {}, bước {} — {label}", i + 1, j + 1),
                row: Some(Row::Step(*i, *j)),
            }
        }
        [("cases", Some(i)), rest @ ..] => {
            let (id, label) = match rest.first().map(|s| s.0).unwrap_or("") {
                "steps" => ("steps", "Các bước xử lý"),
                "name" => ("name", "Tên trường hợp"),
                "time_limit" => ("time_limit", "Thời hạn"),
                "online_time_limit" => ("online_time_limit", "Thời hạn khi nộp trực tuyến"),
                _ => ("code", "Mã trường hợp"),
            };
            Located {
                anchor: format!("k{i}_{id}"),
                label: format!("Trường hợp {} — {label}", i + 1),
                row: Some(Row::Case(*i)),
            }
        }
        [(name, _), ..] => {
            let anchor = if *name == "field" { "field_code" } else { name };
            Located {
                anchor: anchor.to_string(),
                label: scalar_label(name).to_string(),
                row: None,
            }
        }
        [] => Located {
            anchor: "code".into(),
            label: "Thông tin".into(),
            row: None,
        },
    }
}

// ---------------------------------------------------------------------------------------
// Rendering

struct FeeView {
    key: String,
    number: usize,
    /// A stored row (offered for deletion), not one of the blank ones.
    filled: bool,
    row: FeeRow,
    errors: Vec<String>,
}

struct ComponentView {
    key: String,
    number: usize,
    filled: bool,
    row: ComponentRow,
    form_url: Option<String>,
    errors: Vec<String>,
}

struct StepView {
    key: String,
    number: usize,
    filled: bool,
    row: StepRow,
    errors: Vec<String>,
}

struct CaseView {
    key: String,
    number: usize,
    filled: bool,
    code: String,
    name: String,
    time_limit: String,
    online_time_limit: String,
    steps: Vec<StepView>,
    errors: Vec<String>,
}

struct VersionRow {
    version: i64,
    effective_from: String,
    created_by: String,
}

#[derive(Template)]
#[template(path = "admin_procedures_form.html")]
struct FormPage {
    chrome: Chrome,
    editing: bool,
    form: ProcedureForm,
    levels: Vec<Choice>,
    agencies: Vec<Choice>,
    methods: Vec<Choice>,
    online_levels: Vec<Choice>,
    roles: Vec<Choice>,
    field_options: Vec<Choice>,
    fees: Vec<FeeView>,
    components: Vec<ComponentView>,
    cases: Vec<CaseView>,
    errors: Errors,
    versions: Vec<VersionRow>,
}

/// Checkboxes for a set, chosen values first and in their order: the browser sends checked
/// boxes in page order, and keeping the stored order means an unchanged form saves nothing.
fn ordered_choices(options: Vec<(String, String)>, chosen: &[String]) -> Vec<Choice> {
    let mut out: Vec<Choice> = chosen
        .iter()
        .map(|c| {
            let label = options
                .iter()
                .find(|(v, _)| v == c)
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| c.clone());
            Choice {
                value: c.clone(),
                label,
                selected: true,
            }
        })
        .collect();
    out.extend(
        options
            .into_iter()
            .filter(|(v, _)| !chosen.contains(v))
            .map(|(value, label)| Choice {
                value,
                label,
                selected: false,
            }),
    );
    out
}

async fn render_form(
    state: &AppState,
    editing: bool,
    form: ProcedureForm,
    errors: &[FieldError],
) -> Result<String, PageError> {
    let services = &state.services;
    let all_agencies = services.agencies().await?;
    let fields = services.fields().await?;
    let versions = if editing {
        services.procedure_versions(form.code.trim()).await?
    } else {
        Vec::new()
    };
    let mut fees: Vec<FeeView> = form
        .fees
        .iter()
        .cloned()
        .chain(std::iter::repeat_n(FeeRow::default(), BLANK_ROWS))
        .enumerate()
        .map(|(i, row)| FeeView {
            key: format!("f{i}"),
            number: i + 1,
            filled: i < form.fees.len(),
            row,
            errors: Vec::new(),
        })
        .collect();
    let mut components: Vec<ComponentView> = form
        .components
        .iter()
        .cloned()
        .chain(std::iter::repeat_n(ComponentRow::default(), BLANK_ROWS))
        .enumerate()
        .map(|(i, row)| ComponentView {
            key: format!("c{i}"),
            number: i + 1,
            filled: i < form.components.len(),
            form_url: form_url(&row.form_file),
            row,
            errors: Vec::new(),
        })
        .collect();
    let blank_case = CaseRow {
        steps: vec![StepRow::default(); BLANK_CASE_STEPS],
        ..Default::default()
    };
    let mut cases: Vec<CaseView> = form
        .cases
        .iter()
        .cloned()
        .map(|mut c| {
            let filled = c.steps.len();
            c.steps
                .extend(std::iter::repeat_n(StepRow::default(), BLANK_ROWS));
            (c, filled)
        })
        .chain(std::iter::once((blank_case, 0)))
        .enumerate()
        .map(|(i, (c, filled_steps))| CaseView {
            key: format!("k{i}"),
            number: i + 1,
            filled: i < form.cases.len(),
            steps: c
                .steps
                .into_iter()
                .enumerate()
                .map(|(j, row)| StepView {
                    key: format!("k{i}_s{j}"),
                    number: j + 1,
                    filled: j < filled_steps,
                    row,
                    errors: Vec::new(),
                })
                .collect(),
            code: c.code,
            name: c.name,
            time_limit: c.time_limit,
            online_time_limit: c.online_time_limit,
            errors: Vec::new(),
        })
        .collect();
    let mut summary = Errors::default();
    for e in errors {
        let at = locate(&e.path);
        let text = format!("{}: {}", at.label, e.msg.text(Lang::Vi));
        let slot = match at.row {
            Some(Row::Fee(i)) => fees.get_mut(i).map(|r| &mut r.errors),
            Some(Row::Component(i)) => components.get_mut(i).map(|r| &mut r.errors),
            Some(Row::Case(i)) => cases.get_mut(i).map(|r| &mut r.errors),
            Some(Row::Step(i, j)) => cases
                .get_mut(i)
                .and_then(|c| c.steps.get_mut(j))
                .map(|r| &mut r.errors),
            None => None,
        };
        if let Some(list) = slot {
            list.push(text.clone());
        }
        summary.push(at.anchor, text);
    }
    let page = FormPage {
        chrome: Chrome::current(),
        editing,
        levels: ordered_choices(
            LEVEL_CHOICES
                .iter()
                .map(|l| (l.to_string(), level_vi(l).to_string()))
                .collect(),
            &form.levels,
        ),
        agencies: ordered_choices(
            all_agencies
                .iter()
                .map(|a| (a.code.clone(), format!("{} — {}", a.name, a.code)))
                .collect(),
            &form.agencies,
        ),
        methods: ordered_choices(
            METHODS
                .iter()
                .map(|m| (method_str(*m).to_string(), method_vi(*m).to_string()))
                .collect(),
            &form.methods,
        ),
        online_levels: ONLINE_LEVELS
            .iter()
            .map(|l| Choice::new(l.as_str(), l.label_vi(), &form.online_level))
            .collect(),
        roles: STEP_ROLES
            .iter()
            .map(|r| Choice::new(r, &role_vi(r), ""))
            .collect(),
        field_options: fields
            .into_iter()
            .map(|(code, name, _)| Choice {
                value: code,
                label: name,
                selected: false,
            })
            .collect(),
        fees,
        components,
        cases,
        errors: summary,
        versions: versions
            .into_iter()
            .map(|(version, effective_from, created_by)| VersionRow {
                version,
                effective_from: date_vi(effective_from),
                created_by,
            })
            .collect(),
        form,
    };
    Ok(page.render()?)
}

async fn new_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let form = ProcedureForm {
        online_level: OnlineLevel::None.as_str().into(),
        ..Default::default()
    };
    Ok(Html(render_form(&state, false, form, &[]).await?))
}

/// The latest version of a procedure (not the one in force today: a version may be
/// scheduled for a later date, and editing must start from it).
async fn latest(state: &AppState, code: &str) -> Result<Option<ProcedureSpec>, PageError> {
    let Some((version, _, _)) = state.services.procedure_versions(code).await?.pop() else {
        return Ok(None);
    };
    Ok(Some(state.services.procedure(code, Some(version)).await?.spec))
}

async fn edit_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(code): Path<String>,
) -> Result<Html<String>, PageError> {
    require_admin(&user)?;
    let Some(spec) = latest(&state, &code).await? else {
        return Err(PageError::not_found());
    };
    let form = ProcedureForm::from_spec(&spec);
    Ok(Html(render_form(&state, true, form, &[]).await?))
}

async fn save(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let fields = Fields::new(pairs);
    if !user.csrf_ok(&fields.get("csrf")) {
        return Err(csrf_rejected());
    }
    let editing = fields.get("mode") == "edit";
    let form = ProcedureForm::from_fields(&fields);
    let code = form.code.trim().to_string();
    let exists = !state.services.procedure_versions(&code).await?.is_empty();
    if editing && !exists {
        return Err(PageError::not_found());
    }
    let errors = if !editing && exists {
        vec![FieldError::new("code", msg!("procedure.code_taken"))]
    } else {
        match form.to_spec() {
            Err(errors) => errors,
            Ok(spec) => match state.services.save_procedure(&user, spec).await {
                Ok(saved) => {
                    let code = url_encode(&code);
                    let to = match saved {
                        Saved::Created => format!("/admin/procedures?saved={code}"),
                        Saved::NewVersion(v) => format!("/admin/procedures?saved={code}&version={v}"),
                        Saved::Unchanged => format!("/admin/procedures?saved={code}&unchanged=1"),
                    };
                    return Ok(see_other(&to));
                }
                Err(ServiceError::Invalid(errors)) => errors,
                Err(e) => return Err(e.into()),
            },
        }
    };
    let html = render_form(&state, editing, form, &errors).await?;
    Ok(unprocessable(html))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ProcedureSpec {
        serde_json::from_value(serde_json::json!({
            "code": "1.001193", "name": "Đăng ký khai sinh", "field": {"code": "HT", "name": "Hộ tịch"},
            "levels": ["commune"], "agencies": ["000.30.01.H56", "000.00.06.H56"], "methods": ["online", "direct"],
            "applicants": "Cá nhân\nTổ chức",
            "components": [{"name": "Tờ khai", "originals": 1, "copies": 0, "required": true,
                            "form": {"name": "Mẫu tờ khai", "file": "sha256:ab"}}],
            "time_limit": "1 working-days", "same_day_cutoff": "15:00",
            "fees": [{"name": "Lệ phí", "amount_vnd": 0, "note": ""}, {"name": "Phí", "note": "Theo biểu phí"}],
            "result": "Giấy khai sinh", "conditions": "", "legal_basis": ["Luật Hộ tịch 2014", "Nghị định 123/2015/NĐ-CP"],
            "online_level": "full", "four_on_the_spot": true,
            "cases": [{"code": "dung-han", "name": "Đúng hạn", "time_limit": null, "online_time_limit": "0.5 working-days",
              "steps": [{"name": "Tiếp nhận", "role": "receiving_officer", "agency": "receiving", "quota_days": 0.25},
                        {"name": "Thụ lý", "role": "specialist", "agency": "000.00.06.H56", "quota_days": 0.5}]}],
            "effective_from": "2025-07-01"
        }))
        .unwrap()
    }

    /// What a browser sends for a rendered form (blank rows included).
    fn as_pairs(form: &ProcedureForm) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = Vec::new();
        let mut put = |k: String, v: &str| p.push((k, v.to_string()));
        put("code".into(), &form.code);
        put("name".into(), &form.name);
        put("field_code".into(), &form.field_code);
        put("field_name".into(), &form.field_name);
        for l in &form.levels {
            put("level".into(), l);
        }
        for a in &form.agencies {
            put("agency".into(), a);
        }
        for m in &form.methods {
            put("method".into(), m);
        }
        put("applicants".into(), &form.applicants.replace('\n', "\r\n"));
        put("time_limit".into(), &form.time_limit);
        put("online_time_limit".into(), &form.online_time_limit);
        put("same_day_cutoff".into(), &form.same_day_cutoff);
        put("result".into(), &form.result);
        put("conditions".into(), &form.conditions);
        put("legal_basis".into(), &form.legal_basis.replace('\n', "\r\n"));
        put("online_level".into(), &form.online_level);
        if form.four_on_the_spot {
            put("four_on_the_spot".into(), "on");
        }
        put("effective_from".into(), &form.effective_from);
        for (i, f) in form
            .fees
            .iter()
            .chain([FeeRow::default(), FeeRow::default()].iter())
            .enumerate()
        {
            put(format!("f{i}_name"), &f.name);
            put(format!("f{i}_amount"), &f.amount);
            put(format!("f{i}_note"), &f.note);
        }
        for (i, c) in form
            .components
            .iter()
            .chain([ComponentRow::default()].iter())
            .enumerate()
        {
            put(format!("c{i}_name"), &c.name);
            put(format!("c{i}_originals"), &c.originals);
            put(format!("c{i}_copies"), &c.copies);
            if c.required {
                put(format!("c{i}_required"), "on");
            }
            put(format!("c{i}_form_name"), &c.form_name);
            put(format!("c{i}_form_file"), &c.form_file);
        }
        for (i, k) in form.cases.iter().enumerate() {
            put(format!("k{i}_code"), &k.code);
            put(format!("k{i}_name"), &k.name);
            put(format!("k{i}_time_limit"), &k.time_limit);
            put(format!("k{i}_online_time_limit"), &k.online_time_limit);
            for (j, s) in k.steps.iter().chain([StepRow::default()].iter()).enumerate() {
                put(format!("k{i}_s{j}_name"), &s.name);
                put(format!("k{i}_s{j}_role"), &s.role);
                put(format!("k{i}_s{j}_agency"), &s.agency);
                put(format!("k{i}_s{j}_quota"), &s.quota);
            }
        }
        let n = form.cases.len();
        put(format!("k{n}_code"), "");
        put(format!("k{n}_s0_role"), "");
        p
    }

    #[test]
    fn an_unchanged_form_gives_back_the_same_spec() {
        let spec = sample();
        let form = ProcedureForm::from_spec(&spec);
        let back = ProcedureForm::from_fields(&Fields::new(as_pairs(&form)))
            .to_spec()
            .unwrap();
        assert_eq!(back, spec);
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            serde_json::to_string(&spec).unwrap()
        );
    }

    #[test]
    fn deleted_and_blank_rows_are_dropped() {
        let form = ProcedureForm::from_spec(&sample());
        let mut pairs = as_pairs(&form);
        pairs.push(("f0_delete".into(), "on".into()));
        pairs.push(("k0_s0_delete".into(), "on".into()));
        let spec = ProcedureForm::from_fields(&Fields::new(pairs)).to_spec().unwrap();
        assert_eq!(spec.fees.len(), 1);
        assert_eq!(spec.fees[0].name, "Phí");
        assert_eq!(spec.cases.len(), 1);
        assert_eq!(spec.cases[0].steps.len(), 1);
        assert_eq!(spec.cases[0].steps[0].name, "Thụ lý");
    }

    #[test]
    fn unreadable_numbers_are_reported_where_they_are() {
        let mut form = ProcedureForm::from_spec(&sample());
        form.components[0].originals = "một".into();
        form.cases[0].steps[1].quota = "nửa ngày".into();
        form.cases[0].steps[1].agency = "somewhere".into();
        form.fees[1].amount = "hai trăm".into();
        let paths: Vec<String> = form.to_spec().unwrap_err().into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            vec![
                "fees[1].amount_vnd",
                "components[0].originals",
                "cases[0].steps[1].agency",
                "cases[0].steps[1].quota_days"
            ]
        );
        assert_eq!(locate("cases[0].steps[1].quota_days").anchor, "k0_s1_quota");
        assert_eq!(locate("components[0]").anchor, "c0_originals");
        assert_eq!(locate("field").anchor, "field_code");
        assert_eq!(locate("levels[2]").anchor, "levels");
        assert_eq!(locate("cases[1].steps").anchor, "k1_steps");
        assert_eq!(locate("fees[0].amount_vnd").anchor, "f0_amount");
    }

    #[test]
    fn quotas_are_typed_with_a_comma() {
        assert_eq!(quota_text(0.5), "0,5");
        assert_eq!(quota_text(1.0), "1");
        let mut form = ProcedureForm::from_spec(&sample());
        form.cases[0].steps[0].quota = "0.25".into();
        assert_eq!(form.to_spec().unwrap().cases[0].steps[0].quota_days, 0.25);
    }
}
