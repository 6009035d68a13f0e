//! Evaluation pages: `/danh-gia` (aggregates of the nine indicators and the Decision 766
//! index for a period and agency) and `/danh-gia/giai-thich` (what each figure means). The
//! figures come from `crate::evaluation`; this module only reads the query and formats.

use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use crate::pages::Chrome;
use crate::pages::common::{bad_request, date_vi, param};
use crate::pages::public::Choice;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use chrono::Datelike;
use motcua_domain::calendar::local_date;
use motcua_domain::evaluation::{Criterion, Group, INDICATOR_NAMES_VI, Scales, Summary};
use motcua_service::evaluation::{self, RawQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/danh-gia", get(show))
        .route("/danh-gia/giai-thich", get(explain))
}

/// A number with a decimal comma, or a dash.
fn num(x: Option<f64>) -> String {
    match x {
        Some(v) => format!("{v:.2}").replace('.', ","),
        None => "—".into(),
    }
}

fn pct(x: Option<f64>) -> String {
    match x {
        Some(v) => format!("{:.1} %", v * 100.0).replace('.', ","),
        None => "—".into(),
    }
}

struct SummaryRow {
    key: String,
    name: String,
    dossiers: u64,
    averages: Vec<String>,
    total: String,
    satisfied: String,
    answered: u64,
}

fn summary_row(key: &str, name: &str, s: &Summary) -> SummaryRow {
    let sat = &s.satisfaction;
    SummaryRow {
        key: key.to_string(),
        name: name.to_string(),
        dossiers: s.dossiers,
        averages: s.indicators.iter().map(|i| num(i.average)).collect(),
        total: format!("{} / {}", num(Some(s.average_total)), s.average_max),
        satisfied: pct(match (sat.very_satisfied_share, sat.satisfied_share) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        }),
        answered: sat.answered,
    }
}

struct SubRow {
    label: &'static str,
    max: String,
    score: String,
    value: String,
    note: String,
}

struct GroupRow {
    label: &'static str,
    max: String,
    score: String,
    subs: Vec<SubRow>,
}

#[derive(Template)]
#[template(path = "evaluation.html")]
struct EvaluationPage {
    chrome: Chrome,
    /// The period as the date inputs take it (ISO) and as the text says it (dd/mm/yyyy).
    from: String,
    to: String,
    period_from: String,
    period_to: String,
    agencies: Vec<Choice>,
    bys: Vec<Choice>,
    by_label: &'static str,
    rows: Vec<SummaryRow>,
    total: SummaryRow,
    groups: Vec<GroupRow>,
    index_total: String,
    measured_max: String,
    index: String,
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, PageError> {
    let today = local_date(state.services.now());
    let month_start = today.with_day(1).unwrap_or(today);
    let or = |v: &str, d: String| if v.is_empty() { d } else { v.to_string() };
    let from = or(param(&pairs, "from"), month_start.to_string());
    let to = or(param(&pairs, "to"), today.to_string());
    let by = or(param(&pairs, "by"), "agency".into());
    let agency = param(&pairs, "agency");
    if from.len() > 20 || to.len() > 20 || agency.len() > 60 {
        return Err(bad_request("Tham số quá dài."));
    }
    let raw = RawQuery {
        from: Some(from.clone()),
        to: Some(to.clone()),
        by: Some(by.clone()),
        agency: Some(agency.to_string()),
    };
    let req = raw.parse()?;
    let agg = state.services.evaluation_aggregates(&user, &req).await?;
    let ix = state.services.index766(&user, &req).await?;
    let visible = state.services.scope(&user).await?;
    let all = state.services.agencies().await?;
    let groups = ix
        .index
        .groups
        .iter()
        .map(|g| GroupRow {
            label: g.label_vi,
            max: num(Some(g.max)),
            score: format!("{} / {}", num(Some(g.score)), num(Some(g.measured_max))),
            subs: g
                .criteria
                .iter()
                .map(|s| SubRow {
                    label: s.label_vi,
                    max: num(Some(s.max)),
                    score: if s.measured {
                        num(s.score)
                    } else {
                        "không tính".into()
                    },
                    value: match (s.criterion, s.value) {
                        (Criterion::AverageTime, v) => match v {
                            Some(r) => format!("{} × thời hạn", num(Some(r))),
                            None => "—".into(),
                        },
                        (_, v) => match (v, s.numerator, s.denominator) {
                            (Some(v), Some(n), Some(d)) => format!("{} ({n}/{d})", pct(Some(v))),
                            _ => "—".into(),
                        },
                    },
                    note: if s.measured {
                        String::new()
                    } else {
                        reason_vi(s.reason.as_deref())
                    },
                })
                .collect(),
        })
        .collect();
    let page = EvaluationPage {
        chrome: Chrome::current(),
        agencies: all
            .iter()
            .filter(|a| visible.contains(&a.id))
            .map(|a| Choice::new(&a.code, &a.name, agency))
            .collect(),
        bys: [
            ("agency", "Cơ quan"),
            ("procedure", "Thủ tục"),
            ("officer", "Cán bộ, công chức"),
        ]
        .iter()
        .map(|(v, l)| Choice::new(v, l, &by))
        .collect(),
        by_label: match req.by {
            evaluation::By::Agency => "Cơ quan",
            evaluation::By::Procedure => "Thủ tục",
            evaluation::By::Officer => "Cán bộ, công chức",
        },
        rows: agg
            .rows
            .iter()
            .map(|r| summary_row(&r.key, &r.name, &r.summary))
            .collect(),
        total: summary_row("", "Tổng cộng", &agg.total),
        groups,
        index_total: num(Some(ix.index.total)),
        measured_max: num(Some(ix.index.measured_max)),
        index: num(ix.index.index),
        from,
        to,
        period_from: date_vi(req.period.from),
        period_to: date_vi(req.period.to),
    };
    Ok(Html(page.render()?))
}

/// Why a sub-criterion was not scored, in Vietnamese.
fn reason_vi(reason: Option<&str>) -> String {
    match reason {
        Some(r) if r.starts_with("nothing to measure") || r.starts_with("no dossier") => {
            "Không có số liệu trong kỳ".into()
        }
        Some(r) if r.starts_with("petitioners") => {
            "Người phản ánh chưa đánh giá câu trả lời trên hệ thống nên không biết số không hài lòng".into()
        }
        _ => "Chưa đo được".into(),
    }
}

struct ScaleRow {
    group: &'static str,
    group_max: String,
    label: &'static str,
    points: String,
    key: &'static str,
}

/// Per indicator: how it is scored (2 / 1 / 0 points) and where the data comes from.
const EXPLAIN: [(&str, &str); 9] = [
    (
        "So ngày trả kết quả (theo ngày giờ Việt Nam) với hạn giải quyết theo quy định (hạn ban đầu, không tính lần hẹn lại; thời gian chờ bổ sung không tính). Trước hạn: 2 điểm; đúng ngày hạn: 1 điểm; sau hạn: 0 điểm. Hồ sơ rút hoặc dừng giải quyết, hoặc không có thời hạn: 1 điểm (như báo cáo II.06a tính đúng hạn). Hồ sơ đang giải quyết đã quá hạn: 0 điểm; còn trong hạn: chưa chấm.",
        "Ngày tiếp nhận, hạn giải quyết và ngày có kết quả của hồ sơ.",
    ),
    (
        "Mỗi cơ quan, đơn vị tham gia được xét theo bước xử lý chậm nhất của mình, so ngày hoàn thành với hạn của bước (định mức thời gian của bước, như Phiếu kiểm soát quá trình). Mọi cơ quan đều trước hạn: 2 điểm; không cơ quan nào quá hạn: 1 điểm; có cơ quan quá hạn (kể cả bước đang làm đã quá hạn): 0 điểm.",
        "Các bước của quy trình: cơ quan, định mức, thời điểm bắt đầu, hạn và hoàn thành.",
    ),
    (
        "Số lần liên hệ = 1 lần nộp + số lần được yêu cầu bổ sung, hoàn thiện (Mẫu 02, trước hay sau khi tiếp nhận). 1 lần: 2 điểm; 2 lần: 1 điểm; từ 3 lần: 0 điểm.",
        "Nhật ký xử lý hồ sơ (các lần yêu cầu bổ sung).",
    ),
    (
        "Số cơ quan khác nhau người nộp phải làm việc: cơ quan tiếp nhận, cơ quan của bước đã yêu cầu bổ sung, cơ quan trả kết quả. 1 cơ quan: 2 điểm; 2 cơ quan: 1 điểm; từ 3 cơ quan: 0 điểm.",
        "Cơ quan tiếp nhận, các bước quy trình và nhật ký yêu cầu bổ sung.",
    ),
    (
        "Câu trả lời của người dân: có, hoàn toàn: 2 điểm; một phần: 1 điểm; không: 0 điểm. Chưa trả lời thì không chấm (không tính là 0).",
        "Phiếu đánh giá của người dân khi hồ sơ đã kết thúc.",
    ),
    (
        "Câu trả lời của người dân: công khai đầy đủ, rõ ràng: 2 điểm; có nhưng chưa đầy đủ: 1 điểm; không: 0 điểm. Chưa trả lời thì không chấm.",
        "Phiếu đánh giá của người dân.",
    ),
    (
        "Câu trả lời của người dân: lịch sự, tận tình: 2 điểm; bình thường: 1 điểm; gây phiền hà, sách nhiễu: 0 điểm. Chưa trả lời thì không chấm.",
        "Phiếu đánh giá của người dân.",
    ),
    (
        "Phản ánh, kiến nghị gắn với mã hồ sơ. Không có phản ánh: 2 điểm; có và đều được xử lý đúng hạn (hoặc còn trong hạn): 1 điểm; có phản ánh trả lời trễ hoặc đang quá hạn: 0 điểm.",
        "Phản ánh, kiến nghị (PAKN): trạng thái, hạn chuyển, hạn trả lời, ngày trả lời.",
    ),
    (
        "Nộp trực tuyến với thủ tục trực tuyến toàn trình: 2 điểm; nộp trực tuyến với thủ tục một phần: 1 điểm; nộp trực tiếp hoặc qua bưu chính: 0 điểm.",
        "Kênh nộp của hồ sơ và mức độ trực tuyến của thủ tục trong danh mục.",
    ),
];

struct Explained {
    number: usize,
    name: &'static str,
    scoring: &'static str,
    source: &'static str,
}

#[derive(Template)]
#[template(path = "evaluation_explain.html")]
struct ExplainPage {
    chrome: Chrome,
    indicators: Vec<Explained>,
    scales: Vec<ScaleRow>,
}

async fn explain(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let scales: Scales = state.services.evaluation_scales().await?;
    let rows = Group::ALL
        .iter()
        .flat_map(|g| {
            Criterion::ALL
                .into_iter()
                .filter(move |c| c.group() == *g)
                .map(move |c| ScaleRow {
                    group: g.label_vi(),
                    group_max: num(Some(g.max())),
                    label: c.label_vi(),
                    points: num(Some(scales.points(c))),
                    key: c.as_str(),
                })
        })
        .collect();
    let page = ExplainPage {
        chrome: Chrome::current(),
        indicators: INDICATOR_NAMES_VI
            .iter()
            .zip(EXPLAIN)
            .enumerate()
            .map(|(i, (name, (scoring, source)))| Explained {
                number: i + 1,
                name,
                scoring,
                source,
            })
            .collect(),
        scales: rows,
    };
    Ok(Html(page.render()?))
}
