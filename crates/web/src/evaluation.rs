//! The evaluation service shared by the JSON API and the pages (docs/evaluation.md): one
//! dossier's nine indicators, aggregates per officer / agency / procedure over a period, the
//! Decision 766 index and its scales. Turns stored rows into domain facts; scores nothing itself.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::evaluation::{
    self, Answers, Criterion, DossierEvaluation, DossierFacts, Index766, Measure, Measures, Scales,
    StepFacts, Summary, Tally,
};
use motcua_domain::feedback::{self as fb, Timing};
use motcua_domain::procedure::OnlineLevel;
use motcua_domain::report::{Ending, Period};
use motcua_store::repo::evaluation::{self as repo, EvalDossier, EvalFeedback};
use serde::Serialize;
use std::collections::BTreeMap;

/// How aggregates are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// Every officer who received the dossier or completed one of its steps.
    Officer,
    /// The receiving agency.
    Agency,
    Procedure,
}

impl By {
    pub fn parse(s: Option<&str>) -> Result<By, ApiError> {
        match s.map(str::trim).unwrap_or("") {
            "" | "agency" => Ok(By::Agency),
            "officer" => Ok(By::Officer),
            "procedure" => Ok(By::Procedure),
            other => Err(ApiError::bad_request(format!(
                "by must be officer, agency or procedure, not {other:?}"
            ))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            By::Officer => "officer",
            By::Agency => "agency",
            By::Procedure => "procedure",
        }
    }
}

/// The query string of the aggregate and index endpoints.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct RawQuery {
    /// First local date, YYYY-MM-DD.
    pub from: Option<String>,
    /// Last local date (inclusive), YYYY-MM-DD.
    pub to: Option<String>,
    /// `officer`, `agency` (default) or `procedure` (aggregates only).
    pub by: Option<String>,
    /// Agency code: that agency and the ones below it (within what you may see).
    pub agency: Option<String>,
}

/// A validated request.
#[derive(Debug, Clone)]
pub struct Request {
    pub period: Period,
    pub by: By,
    pub agency: Option<String>,
}

fn date(s: Option<&str>, name: &str) -> Result<NaiveDate, ApiError> {
    let s = s.map(str::trim).unwrap_or("");
    if s.is_empty() {
        return Err(ApiError::bad_request(format!("{name} is required (YYYY-MM-DD)")));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("{name} must be a date YYYY-MM-DD, not {s:?}")))
}

impl RawQuery {
    pub fn parse(&self) -> Result<Request, ApiError> {
        let period = Period::new(
            date(self.from.as_deref(), "from")?,
            date(self.to.as_deref(), "to")?,
        )
        .map_err(ApiError::bad_request)?;
        if period.days() > crate::reports::MAX_DAYS {
            return Err(ApiError::bad_request("a period covers at most ten years"));
        }
        Ok(Request {
            period,
            by: By::parse(self.by.as_deref())?,
            agency: self
                .agency
                .clone()
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty()),
        })
    }
}

fn timing(f: &EvalFeedback, now: DateTime<Utc>) -> Timing {
    let status = f.status.parse().unwrap_or(fb::Status::Received);
    fb::timing(status, f.forward_due_at, f.answer_due_at, f.closed_at, now)
}

/// The domain facts of a stored dossier.
pub fn facts_of(d: &EvalDossier, now: DateTime<Utc>) -> DossierFacts {
    let ending = match d.status.as_str() {
        "resolved" | "returned" => Some(Ending::Resolved),
        "withdrawn" | "stopped" => Some(Ending::WithdrawnOrStopped),
        _ => None,
    };
    let step_agency = |seq: i64| {
        d.steps
            .iter()
            .find(|s| s.seq == seq)
            .and_then(|s| s.agency_code.clone())
    };
    let mut contact_agencies = vec![d.agency_code.clone()];
    contact_agencies.extend(
        d.supplement_requests
            .iter()
            .flatten()
            .filter_map(|seq| step_agency(*seq)),
    );
    contact_agencies.extend(
        d.steps
            .iter()
            .filter(|s| s.role == "result_officer")
            .filter_map(|s| s.agency_code.clone()),
    );
    DossierFacts {
        original_due_at: d.original_due_at,
        finished: ending.zip(d.finished_at).map(|(e, t)| (t, e)),
        steps: d
            .steps
            .iter()
            .map(|s| StepFacts {
                agency: s.agency_code.clone(),
                started_at: s.started_at,
                due_at: s.due_at,
                completed_at: s.completed_at,
            })
            .collect(),
        supplement_requests: d.supplement_requests.len() as u32,
        contact_agencies,
        feedback: d.feedback.iter().map(|f| timing(f, now)).collect(),
        online: d.channel == "online",
        online_level: match d.online_level.as_str() {
            "full" => Some(OnlineLevel::Full),
            "partial" => Some(OnlineLevel::Partial),
            "none" => Some(OnlineLevel::None),
            _ => None,
        },
        answers: d.rating.as_ref().map(|(a, s)| Answers::from_stored(a, s)),
    }
}

/// One dossier's evaluation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DossierReport {
    pub code: String,
    pub agency: String,
    pub procedure: String,
    pub status: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub evaluation: DossierEvaluation,
}

/// The nine indicators of a dossier the user may read (404 otherwise).
pub async fn dossier(state: &AppState, user: &CurrentUser, key: &str) -> Result<DossierReport, ApiError> {
    let v = crate::dossiers::view(state, user, key).await?;
    let d = repo::dossier(&state.db, v.dossier.id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such dossier"))?;
    Ok(DossierReport {
        evaluation: evaluation::evaluate(&facts_of(&d, Utc::now()), Utc::now()),
        code: d.key,
        agency: d.agency_code,
        procedure: d.procedure_code,
        status: d.status,
    })
}

/// One group's figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupRow {
    pub key: String,
    pub name: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub summary: Summary,
}

/// Aggregates over a period: a row per group and the total (each dossier once).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Aggregates {
    #[schema(value_type = Object)]
    pub period: Period,
    pub by: String,
    pub agency: Option<String>,
    pub rows: Vec<GroupRow>,
    #[schema(value_type = Object)]
    pub total: Summary,
}

/// Aggregates of the dossiers finished in the period, over what the user may see.
pub async fn aggregates(state: &AppState, user: &CurrentUser, req: &Request) -> Result<Aggregates, ApiError> {
    let scope = crate::reports::scope(state, user, req.agency.as_deref()).await?;
    let now = Utc::now();
    let dossiers = repo::finished_between(&state.db, req.period.from, req.period.to, &scope).await?;
    let names: BTreeMap<String, String> = if req.by == By::Officer {
        repo::officer_names(&state.db).await?.into_iter().collect()
    } else {
        BTreeMap::new()
    };
    let mut groups: BTreeMap<String, (String, Tally)> = BTreeMap::new();
    let mut total = Tally::default();
    for d in &dossiers {
        let e = evaluation::evaluate(&facts_of(d, now), now);
        total.add(&e);
        let keys: Vec<(String, String)> = match req.by {
            By::Agency => vec![(d.agency_code.clone(), d.agency_name.clone())],
            By::Procedure => vec![(d.procedure_code.clone(), d.procedure_name.clone())],
            By::Officer => {
                let mut who: Vec<String> = std::iter::once(d.received_by.clone())
                    .chain(d.steps.iter().filter_map(|s| s.completed_by.clone()))
                    .filter(|u| !u.is_empty())
                    .collect();
                who.sort();
                who.dedup();
                who.into_iter()
                    .map(|u| {
                        let name = names.get(&u).cloned().unwrap_or_else(|| u.clone());
                        (u, name)
                    })
                    .collect()
            }
        };
        for (key, name) in keys {
            groups
                .entry(key)
                .or_insert_with(|| (name, Tally::default()))
                .1
                .add(&e);
        }
    }
    Ok(Aggregates {
        period: req.period,
        by: req.by.as_str().into(),
        agency: req.agency.clone(),
        rows: groups
            .into_iter()
            .map(|(key, (name, t))| GroupRow {
                key,
                name,
                summary: t.summary(),
            })
            .collect(),
        total: total.summary(),
    })
}

/// The scales in force: the administrator's, or the defaults. A stored value that no longer
/// validates is reported and replaced by the defaults rather than breaking every page.
pub async fn scales(state: &AppState) -> Result<Scales, ApiError> {
    match repo::scales(&state.db).await? {
        None => Ok(Scales::default()),
        Some(json) => Scales::parse_json(&json).or_else(|e| {
            tracing::error!(error = %e, "stored evaluation scales are invalid; using the defaults");
            Ok(Scales::default())
        }),
    }
}

/// Replaces the scales (administrators only); 400 with the reason when they do not add up.
pub async fn set_scales(
    state: &AppState,
    user: &CurrentUser,
    body: &serde_json::Value,
) -> Result<Scales, ApiError> {
    user.require_admin()?;
    let scales = Scales::parse_json(&body.to_string()).map_err(|e| ApiError::bad_request(e.0))?;
    let json = serde_json::to_string(&scales).map_err(|_| ApiError::internal())?;
    let mut tx = state.db.begin().await?;
    repo::set_scales(&mut tx, &json).await?;
    tx.commit().await?;
    Ok(scales)
}

/// The index of an agency (with everything below it) or of all the user may see.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndexReport {
    #[schema(value_type = Object)]
    pub period: Period,
    pub agency: Option<String>,
    #[schema(value_type = Object)]
    pub scales: Scales,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub index: Index766,
}

fn share(num: usize, den: usize) -> Measure {
    Measure::Share {
        num: num as u64,
        den: den as u64,
    }
}

/// The Decision 766 index for the request's period and agency.
pub async fn index766(state: &AppState, user: &CurrentUser, req: &Request) -> Result<IndexReport, ApiError> {
    let scope = crate::reports::scope(state, user, req.agency.as_deref()).await?;
    let (from, to) = (req.period.from, req.period.to);
    let now = Utc::now();
    let procedures = repo::procedures_of(&state.db, &scope).await?;
    let received = repo::received_between(&state.db, from, to, &scope).await?;
    let finished = repo::finished_between(&state.db, from, to, &scope).await?;
    let feedback = repo::feedback_between(&state.db, from, to, &scope).await?;
    let ii06a = crate::reports::Request {
        period: req.period,
        by: crate::reports::By::Field,
        agency: None,
    };
    let row = crate::reports::ii06a_in(state, &scope, &ii06a).await?.total;
    let resolved: Vec<&EvalDossier> = finished
        .iter()
        .filter(|d| matches!(d.status.as_str(), "resolved" | "returned"))
        .collect();
    let ratios: Vec<f64> = resolved
        .iter()
        .filter_map(|d| {
            let (start, due, done) = (d.received_at?, d.original_due_at?, d.finished_at?);
            let allowed = (due - start).num_seconds();
            (allowed > 0).then(|| (done - start).num_seconds().max(0) as f64 / allowed as f64)
        })
        .collect();
    let synced = received
        .iter()
        .filter(|r| r.sync_messages > 0 && r.sync_pending == 0)
        .count();
    let provided: i64 = received.iter().map(|r| r.components_provided).sum();
    let scanned: i64 = received.iter().map(|r| r.components_scanned).sum();
    let paying: Vec<_> = received
        .iter()
        .filter(|r| r.payment_requests > 0 || r.paid_online > 0)
        .collect();
    let timings: Vec<Timing> = feedback.iter().map(|f| timing(f, now)).collect();
    let overdue = timings
        .iter()
        .filter(|t| matches!(t, Timing::Late | Timing::Overdue))
        .count();
    let mut tally = Tally::default();
    for d in &finished {
        tally.add(&evaluation::evaluate(&facts_of(d, now), now));
    }
    let measures: Measures = vec![
        (
            Criterion::ProceduresPublished,
            share(procedures.iter().filter(|p| p.1).count(), procedures.len()),
        ),
        (Criterion::DossiersSynced, share(synced, received.len())),
        (Criterion::OnTime, evaluation::on_time_measure(&row)),
        (
            Criterion::AverageTime,
            Measure::TimeRatio {
                mean: if ratios.is_empty() {
                    0.0
                } else {
                    ratios.iter().sum::<f64>() / ratios.len() as f64
                },
                count: ratios.len() as u64,
            },
        ),
        (
            Criterion::ComponentsDigitised,
            Measure::Share {
                num: scanned.max(0) as u64,
                den: provided.max(0) as u64,
            },
        ),
        (
            Criterion::DataReused,
            Measure::NotTracked(
                "reuse of digitised documents and results (the personal data store) is not recorded".into(),
            ),
        ),
        (
            Criterion::ResultsElectronic,
            share(
                resolved.iter().filter(|d| d.has_result_file).count(),
                resolved.len(),
            ),
        ),
        (
            Criterion::ProceduresOnline,
            share(
                procedures.iter().filter(|p| p.2 == "full").count(),
                procedures.len(),
            ),
        ),
        (
            Criterion::OnlineDossiers,
            share(received.iter().filter(|r| r.online).count(), received.len()),
        ),
        (
            Criterion::OnlinePayment,
            share(paying.iter().filter(|r| r.paid_online > 0).count(), paying.len()),
        ),
        (
            Criterion::FeedbackOnTime,
            share(timings.len() - overdue, timings.len()),
        ),
        (
            Criterion::FeedbackSatisfaction,
            evaluation::feedback_satisfaction_measure(timings.len() as u64, None, overdue as u64),
        ),
        (
            Criterion::DossierSatisfaction,
            Measure::Share {
                num: tally.very_satisfied + tally.satisfied,
                den: tally.very_satisfied + tally.satisfied + tally.not_satisfied,
            },
        ),
    ];
    let scales = scales(state).await?;
    Ok(IndexReport {
        period: req.period,
        agency: req.agency.clone(),
        index: evaluation::index(&measures, &scales),
        scales,
    })
}
