//! The officer's work list (`/ho-so`): inbox tabs, filters, paging. What a user may see is
//! decided by `Services::dossiers`; this module only reads the query and shows rows.

use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{bad_request, list_url, page_count, page_number, pager, param, when_opt};
use crate::pages::public::Choice;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use motcua_domain::access::Role;
use motcua_domain::dossier::Status;
use motcua_domain::msg::Lang;
use motcua_service::dossiers::{Inbox, ListQuery, PER_PAGE};

pub fn routes() -> Router<AppState> {
    Router::new().route("/ho-so", get(list))
}

/// The tabs: query value and label.
const TABS: [(&str, &str); 6] = [
    ("mine", "Của tôi"),
    ("unit", "Của đơn vị"),
    ("queue", "Chờ tiếp nhận"),
    ("overdue", "Quá hạn"),
    ("due_soon", "Sắp đến hạn"),
    ("all", "Tất cả"),
];

struct Tab {
    url: String,
    label: &'static str,
    /// How many dossiers the tab holds with the page's filters.
    count: i64,
    current: bool,
}

struct Row {
    key: String,
    code: Option<String>,
    applicant: String,
    procedure_code: String,
    procedure_name: String,
    status: &'static str,
    channel: &'static str,
    /// Submitted on the national portal (Cổng DVCQG).
    from_portal: bool,
    received: String,
    due: String,
    /// For an online dossier waiting to be checked: its acceptance deadline.
    accept_due: Option<String>,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "dossier_inbox.html")]
struct InboxPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    tab_label: &'static str,
    statuses: Vec<Choice>,
    agencies: Vec<Choice>,
    procedure: String,
    q: String,
    inbox: String,
    filtered: bool,
    rows: Vec<Row>,
    total: i64,
    page: u32,
    pages: u64,
    prev_url: Option<String>,
    next_url: Option<String>,
    may_receive: bool,
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    let inbox = param(&pairs, "inbox");
    let status = param(&pairs, "status");
    let procedure = param(&pairs, "procedure");
    let agency = param(&pairs, "agency");
    let q = param(&pairs, "q");
    // Without a choice, the officer's own queue.
    let own = Inbox::own(&user).as_str();
    let tab = match TABS.iter().find(|(v, _)| *v == inbox) {
        Some(t) => *t,
        None if inbox.is_empty() => *TABS.iter().find(|(v, _)| *v == own).unwrap_or(&TABS[5]),
        None => return Err(bad_request(format!("Không có hộp hồ sơ “{inbox}”."))),
    };
    if !status.is_empty() && status.parse::<Status>().is_err() {
        return Err(bad_request(format!("Không có trạng thái hồ sơ “{status}”.")));
    }
    let page = page_number(param(&pairs, "page"))?;
    if q.chars().count() > 200 || procedure.chars().count() > 50 {
        return Err(bad_request("Từ khóa tìm kiếm quá dài."));
    }
    let query = ListQuery {
        status: Some(status.to_string()),
        agency: Some(agency.to_string()),
        procedure: Some(procedure.to_string()),
        overdue: false,
        inbox: Some(tab.0.to_string()),
        q: Some(q.to_string()),
        page: Some(page),
    };
    let services = &state.services;
    let (items, total) = services.dossiers(&user, &query).await?;
    let mut tabs = Vec::with_capacity(TABS.len());
    for (value, label) in TABS {
        let count = if value == tab.0 {
            total
        } else {
            let q = ListQuery {
                inbox: Some(value.to_string()),
                page: None,
                ..query.clone()
            };
            services.dossier_count(&user, &q).await?
        };
        tabs.push((value, label, count));
    }
    let pages = page_count(total, PER_PAGE);
    let now = services.now();
    let visible = services.scope(&user).await?;
    let all = services.agencies().await?;
    let filters = [
        ("inbox", if inbox.is_empty() { "" } else { tab.0 }),
        ("status", status),
        ("procedure", procedure),
        ("agency", agency),
        ("q", q),
    ];
    let tab_url = |value: &str| {
        let mut f = filters;
        f[0].1 = value;
        list_url("/ho-so", &f, 1)
    };
    let (prev_url, next_url) = pager("/ho-so", &filters, page, pages);
    let html = InboxPage {
        chrome: Chrome::current(),
        tabs: tabs
            .into_iter()
            .map(|(value, label, count)| Tab {
                url: tab_url(value),
                label,
                count,
                current: value == tab.0,
            })
            .collect(),
        tab_label: tab.1,
        statuses: Status::ALL
            .iter()
            .map(|s| Choice::new(s.as_str(), s.label_vi(), status))
            .collect(),
        agencies: all
            .iter()
            .filter(|a| visible.contains(&a.id))
            .map(|a| Choice::new(&a.code, &a.name, agency))
            .collect(),
        procedure: procedure.to_string(),
        q: q.to_string(),
        inbox: tab.0.to_string(),
        filtered: [status, procedure, agency, q].iter().any(|v| !v.is_empty()),
        rows: items
            .into_iter()
            .map(|s| {
                let in_process = matches!(
                    s.status,
                    Status::Received | Status::Processing | Status::AwaitingPayment
                );
                let waiting = s.status == Status::Submitted;
                Row {
                    overdue: (in_process && s.due_at.is_some_and(|d| d < now))
                        || (waiting && s.accept_due_at.is_some_and(|d| d < now)),
                    accept_due: s.accept_due_at.filter(|_| waiting).map(|t| when_opt(Some(t))),
                    status: s.status.label_vi(),
                    channel: s.channel.label(Lang::Vi),
                    from_portal: s.portal_id.is_some(),
                    received: when_opt(s.received_at),
                    due: when_opt(s.due_at),
                    key: s.key,
                    code: s.code,
                    applicant: s.applicant_name,
                    procedure_code: s.procedure_code,
                    procedure_name: s.procedure_name,
                }
            })
            .collect(),
        total,
        page,
        pages,
        prev_url,
        next_url,
        may_receive: user.has_role(Role::ReceivingOfficer),
    }
    .render()?;
    Ok(Html(html))
}
