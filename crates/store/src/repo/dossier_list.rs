//! Lists of dossiers for officers: filtered by scope, status, procedure, text, deadlines and
//! assignment, most urgent first, one page at a time.

use super::plan::{Bind, Read, bind_read};
use super::scope::{Scope, all_of, id_in, list as id_list, open_step};
use super::{Code, IN_PROCESS, OPEN, record_from};
use crate::{Backend, Db, StoreResult, on_read};
use chrono::{DateTime, Utc};
use motcua_domain::dossier::{Channel, Status};

/// List filters; agency scope is required (the caller decides what the user may see).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Dossiers received by, or with a step at, one of these agencies.
    pub agency_ids: Vec<i64>,
    pub status: Option<Status>,
    pub procedure: Option<String>,
    /// Only dossiers in process past their due instant (at `now`).
    pub overdue: bool,
    /// Only dossiers in process due before this instant (e.g. within 2 working days).
    pub due_before: Option<DateTime<Utc>>,
    /// Only dossiers whose open step is assigned to this user.
    pub assignee_id: Option<i64>,
    /// Only dossiers whose open step is at one of these agencies.
    pub open_step_agency_ids: Vec<i64>,
    pub q: Option<String>,
    pub now: Option<DateTime<Utc>>,
}

/// One row of a dossier list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub key: String,
    pub code: Option<String>,
    pub status: Status,
    pub channel: Channel,
    pub applicant_name: String,
    pub procedure_code: String,
    pub procedure_name: String,
    pub agency_code: String,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub accept_due_at: Option<DateTime<Utc>>,
    /// The national portal's dossier id, for one submitted there.
    pub portal_id: Option<String>,
}

/// A list row as it reads.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    code: Option<String>,
    status: Code<Status>,
    channel: Code<Channel>,
    applicant_name: String,
    procedure_code: String,
    procedure_name: String,
    agency_code: String,
    received_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    accept_due_at: Option<DateTime<Utc>>,
    portal_id: Option<String>,
}

impl From<SummaryRow> for Summary {
    fn from(r: SummaryRow) -> Summary {
        let key = r.code.clone().unwrap_or_else(|| format!("online-{}", r.id));
        let (status, channel) = (r.status.0, r.channel.0);
        record_from!(r => Summary {
            code, applicant_name, procedure_code, procedure_name, agency_code, received_at, due_at,
            accept_due_at, portal_id; key, status, channel
        })
    }
}

/// What `list` reads for a filter and a page, in order (`plan::explain` shows how each is
/// planned).
#[derive(Debug, Clone)]
pub struct ListReads {
    /// How many dossiers the filter keeps.
    pub count: Read,
    /// The page read from the open dossiers alone, tried first on a list narrowed only by
    /// scope and procedure: a full page from them means no closed dossier sorts before its end.
    pub open_page: Option<Read>,
    /// The page read from every dossier the filter keeps.
    pub page: Read,
}

/// The reads of `list` (its scope resolved: one short query on the agencies), or None when
/// the filter can keep nothing.
pub async fn reads(db: &Db, f: &ListFilter, page: u32, per_page: u32) -> StoreResult<Option<ListReads>> {
    let scope = Scope::of(db, &f.agency_ids).await?;
    Ok(reads_in(db.backend(), &scope, f, page, per_page))
}

/// The reads of `list` over a scope already resolved.
///
/// Each read is led by one index (issue 25; `scope` says why two parts):
/// - a list of open steps (my inbox: `dossier_steps_assignee`; the unit's:
///   `dossier_steps_open`) reads those steps' dossiers by key, and asks each of them the
///   scope, unless its open steps are all in the scope anyway (the unit inbox);
/// - any other list reads the scope's two parts (`dossiers_agency_status`, and
///   `dossier_steps_agency` then each dossier by key), counts each and sorts each part's first
///   rows of the page; the other filters (status, procedure, text, deadlines) are asked of the
///   rows they give. For every agency there is no scope: a status, the procedure
///   (`dossiers_procedure`) or a deadline (`dossiers_due`) leads, or the whole table is read.
pub fn reads_in(
    backend: Backend,
    scope: &Scope,
    f: &ListFilter,
    page: u32,
    per_page: u32,
) -> Option<ListReads> {
    if *scope == Scope::Nothing {
        return None;
    }
    let mut conds: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut bind = |b: Bind| {
        binds.push(b);
        format!("${}", binds.len())
    };
    if let Some(s) = f.status {
        conds.push(format!("d.status = {}", bind(Bind::Text(s.as_str().to_string()))));
        if OPEN.contains(&format!("'{}'", s.as_str())) {
            // Repeated so that the partial index `dossiers_status` may lead when no scope does.
            conds.push(format!("d.status IN {OPEN}"));
        }
    }
    if let Some(p) = &f.procedure {
        let n = bind(Bind::Text(p.clone()));
        conds.push(format!(
            "d.procedure_id IN (SELECT pr.id FROM procedures pr WHERE pr.code = {n})"
        ));
    }
    if let Some(q) = &f.q {
        for word in motcua_domain::text::fold_vi(q)
            .split(' ')
            .filter(|w| !w.is_empty())
            .take(6)
        {
            let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let n = bind(Bind::Text(format!("%{escaped}%")));
            conds.push(format!("d.search_text LIKE {n} ESCAPE '\\'"));
        }
    }
    if f.overdue {
        let n = bind(Bind::Instant(f.now.unwrap_or_else(Utc::now)));
        conds.push(format!(
            "d.status IN {IN_PROCESS} AND d.paused_at IS NULL AND d.due_at < {n}"
        ));
    }
    if let Some(before) = f.due_before {
        let n = bind(Bind::Instant(before));
        conds.push(format!("d.status IN {IN_PROCESS} AND d.due_at < {n}"));
    }
    let open_steps = |extra: String| {
        id_in(
            backend,
            "d.id",
            &format!(
                "SELECT so.dossier_id FROM dossier_steps so WHERE {} AND {extra}",
                open_step("so")
            ),
        )
    };
    if let Some(a) = f.assignee_id {
        conds.push(open_steps(format!("so.assignee_id = {a}")));
    }
    if !f.open_step_agency_ids.is_empty() {
        conds.push(open_steps(format!(
            "so.agency_id IN ({})",
            id_list(&f.open_step_agency_ids)
        )));
    }
    let led_by_steps = f.assignee_id.is_some() || !f.open_step_agency_ids.is_empty();
    let parts: Vec<String> = if !led_by_steps {
        scope.parts(backend)
    } else if !f.open_step_agency_ids.is_empty() && scope.holds_all(&f.open_step_agency_ids) {
        vec![String::new()]
    } else {
        vec![scope.probe().unwrap_or_default()]
    };
    let filters: Vec<String> = parts
        .iter()
        .map(|part| all_of(conds.iter().map(String::as_str).chain([part.as_str()])))
        .collect();
    let count = match filters.as_slice() {
        [one] => format!("SELECT COUNT(*) FROM dossiers d WHERE {one}"),
        many => format!(
            "SELECT {}",
            many.iter()
                .map(|w| format!("(SELECT COUNT(*) FROM dossiers d WHERE {w})"))
                .collect::<Vec<_>>()
                .join(" + ")
        ),
    };
    // Open dossiers first: the same `OPEN` the open-first read below relies on.
    let open_key = format!("CASE WHEN d.status IN {OPEN} THEN 0 ELSE 1 END");
    let due_key = "COALESCE(d.due_at, d.accept_due_at)";
    let order = format!("{open_key}, {due_key}, d.id DESC");
    let offset = u64::from(page.saturating_sub(1)) * u64::from(per_page);
    // On a list narrowed only by scope (and procedure), a page that holds only open ones is
    // read from them alone (the partial index `dossiers_status`, its term repeated verbatim).
    // The other filters narrow by status or text already, and trying the open ones first only
    // added a read (at 1M dossiers: 0.3 → 0.6 s for the returned ones).
    let open_first =
        f.status.is_none() && f.q.is_none() && !f.overdue && f.due_before.is_none() && !led_by_steps;
    // The filter reads `dossiers` alone: the count and the page's ordering run on it without
    // joins, and the agency and procedure names are joined to the page's rows only. Joined
    // first, a supervisor's list at 1M dossiers looked up 2M names to show 25 (1.27 s).
    let page_read = |only_open: bool| {
        let open = if only_open {
            format!(" AND d.status IN {OPEN}")
        } else {
            String::new()
        };
        let ids = match filters.as_slice() {
            [one] => format!(
                "SELECT d.id FROM dossiers d WHERE {one}{open} ORDER BY {order} LIMIT {per_page} OFFSET {offset}"
            ),
            // Each part sorts its own first rows of the page; the page is taken from those.
            many => format!(
                "SELECT c.id FROM ({}) c ORDER BY c.open_key, c.due_key, c.id DESC LIMIT {per_page} OFFSET {offset}",
                many.iter()
                    .enumerate()
                    .map(|(i, w)| format!(
                        "SELECT * FROM (SELECT d.id, {open_key} AS open_key, {due_key} AS due_key FROM dossiers d
                         WHERE {w}{open} ORDER BY open_key, due_key, d.id DESC LIMIT {}) p{i}",
                        offset + u64::from(per_page)
                    ))
                    .collect::<Vec<_>>()
                    .join(" UNION ALL ")
            ),
        };
        Read {
            sql: format!(
                "SELECT d.id, d.code, d.status, d.channel, d.applicant_name, p.code AS procedure_code, p.name AS procedure_name,
                   a.code AS agency_code, d.received_at, d.due_at, d.accept_due_at, d.portal_id
                 FROM ({ids}) page
                 JOIN dossiers d ON d.id = page.id JOIN agencies a ON a.id = d.agency_id JOIN procedures p ON p.id = d.procedure_id
                 ORDER BY {order}"
            ),
            binds: binds.clone(),
        }
    };
    Some(ListReads {
        count: Read {
            sql: count,
            binds: binds.clone(),
        },
        open_page: open_first.then(|| page_read(true)),
        page: page_read(false),
    })
}

/// How many dossiers the filter holds (the total of [`list`], without a page).
pub async fn count(db: &Db, f: &ListFilter) -> StoreResult<i64> {
    let Some(reads) = reads(db, f, 1, 1).await? else {
        return Ok(0);
    };
    Ok(on_read!(db, pool => {
        bind_read!(sqlx::query_scalar::<_, i64>(&reads.count.sql), reads.count).fetch_one(pool).await?
    }))
}

/// A page of dossiers (most urgent first) and the total.
pub async fn list(db: &Db, f: &ListFilter, page: u32, per_page: u32) -> StoreResult<(Vec<Summary>, i64)> {
    let Some(reads) = reads(db, f, page, per_page).await? else {
        return Ok((Vec::new(), 0));
    };
    let total = on_read!(db, pool => {
        bind_read!(sqlx::query_scalar::<_, i64>(&reads.count.sql), reads.count).fetch_one(pool).await?
    });
    let mut list = Vec::new();
    for read in reads.open_page.iter().chain([&reads.page]) {
        let rows: Vec<SummaryRow> = on_read!(db, pool => {
            bind_read!(sqlx::query_as(&read.sql), read).fetch_all(pool).await?
        });
        list = rows.into_iter().map(Summary::from).collect();
        if list.len() == per_page as usize {
            break;
        }
    }
    Ok((list, total))
}
