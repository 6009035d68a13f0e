//! The evaluation service shared by the JSON API and the pages (docs/evaluation.md): one
//! dossier's nine indicators, aggregates per officer / agency / procedure over a period, the
//! Decision 766 index and its scales. Turns stored rows into domain facts; scores nothing itself.

use crate::auth::CurrentUser;
use crate::{ServiceError, ServiceResult, Services};
use chrono::{DateTime, Utc};
use motcua_domain::access::Role;
use motcua_domain::dossier::{Channel, Status};
use motcua_domain::evaluation::{
    self, Answers, Criterion, DossierEvaluation, DossierFacts, Index766, Measure, Measures, Scales,
    StepFacts, Summary, Tally,
};
use motcua_domain::feedback::{self as fb, Timing};
use motcua_domain::msg;
use motcua_domain::msg::quoted;
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
    pub fn parse(s: Option<&str>) -> ServiceResult<By> {
        match s.map(str::trim).unwrap_or("") {
            "" | "agency" => Ok(By::Agency),
            "officer" => Ok(By::Officer),
            "procedure" => Ok(By::Procedure),
            other => Err(ServiceError::BadRequest(msg!("evaluation.by", quoted(other)))),
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
#[into_params(parameter_in = Query)]
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

impl RawQuery {
    pub fn parse(&self) -> ServiceResult<Request> {
        let period = crate::reports::parse_period(
            self.from.as_deref().unwrap_or(""),
            self.to.as_deref().unwrap_or(""),
        )?;
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
    fb::timing(f.status, f.forward_due_at, f.answer_due_at, f.closed_at, now)
}

/// The domain facts of a stored dossier.
pub fn facts_of(d: &EvalDossier, now: DateTime<Utc>) -> DossierFacts {
    let ending = match d.status {
        Status::Resolved | Status::Returned => Some(Ending::Resolved),
        Status::Withdrawn | Status::Stopped => Some(Ending::WithdrawnOrStopped),
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
            .filter(|s| s.role == Role::ResultOfficer)
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
        online: d.channel == Channel::Online,
        online_level: Some(d.online_level),
        answers: d.rating.as_ref().map(|(a, s)| Answers::from_stored(a, *s)),
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

impl Services {
    /// The nine indicators of a dossier the user may read (not found otherwise).
    pub async fn evaluate_dossier(&self, user: &CurrentUser, key: &str) -> ServiceResult<DossierReport> {
        let v = self.dossier(user, key).await?;
        let d = repo::dossier(self.db(), v.dossier.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(msg!("dossier.not_found")))?;
        let now = self.now();
        Ok(DossierReport {
            evaluation: evaluation::evaluate(&facts_of(&d, now), now),
            code: d.key,
            agency: d.agency_code,
            procedure: d.procedure_code,
            status: d.status.as_str().to_string(),
        })
    }
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

impl Services {}

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

impl Services {
    /// Aggregates of the dossiers finished in the period, over what the user may see.
    pub async fn evaluation_aggregates(
        &self,
        user: &CurrentUser,
        req: &Request,
    ) -> ServiceResult<Aggregates> {
        let scope = self.report_scope(user, req.agency.as_deref()).await?;
        let now = self.now();
        let dossiers = repo::finished_between(self.db(), req.period.from, req.period.to, &scope).await?;
        let names: BTreeMap<String, String> = if req.by == By::Officer {
            repo::officer_names(self.db()).await?.into_iter().collect()
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
    pub async fn evaluation_scales(&self) -> ServiceResult<Scales> {
        match repo::scales(self.db()).await? {
            None => Ok(Scales::default()),
            Some(json) => Scales::parse_json(&json).or_else(|e| {
                tracing::error!(error = %e, "stored evaluation scales are invalid; using the defaults");
                Ok(Scales::default())
            }),
        }
    }

    /// Replaces the scales (administrators only); a bad request with the reason when they do
    /// not add up.
    pub async fn set_evaluation_scales(
        &self,
        user: &CurrentUser,
        body: &serde_json::Value,
    ) -> ServiceResult<Scales> {
        user.require_admin()?;
        let scales = Scales::parse_json(&body.to_string())
            .map_err(|e| ServiceError::BadRequest(msg!("evaluation.scales", e.0)))?;
        let json = serde_json::to_string(&scales).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let mut tx = self.db().begin().await?;
        repo::set_scales(&mut tx, &json).await?;
        tx.commit().await?;
        Ok(scales)
    }
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
    /// Dossiers received in the period that were sent from an account verified with the
    /// national identity (VNeID): DVCQG's flag, counted beside the online-dossier criterion
    /// (Decision 766 scores no criterion on it).
    pub vneid_verified_dossiers: u64,
}

fn share(num: usize, den: usize) -> Measure {
    Measure::Share {
        num: num as u64,
        den: den as u64,
    }
}

impl Services {
    /// The Decision 766 index for the request's period and agency.
    pub async fn index766(&self, user: &CurrentUser, req: &Request) -> ServiceResult<IndexReport> {
        let scope = self.report_scope(user, req.agency.as_deref()).await?;
        let (from, to) = (req.period.from, req.period.to);
        let now = self.now();
        let procedures = repo::procedures_of(self.db(), &scope).await?;
        let received = repo::received_between(self.db(), from, to, &scope).await?;
        let finished = repo::finished_between(self.db(), from, to, &scope).await?;
        let feedback = repo::feedback_between(self.db(), from, to, &scope).await?;
        let ii06a = crate::reports::Request {
            period: req.period,
            by: crate::reports::By::Field,
            agency: None,
        };
        let row = self.ii06a_in(&scope, &ii06a).await?.total;
        let resolved: Vec<&EvalDossier> = finished
            .iter()
            .filter(|d| matches!(d.status, Status::Resolved | Status::Returned))
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
                share(
                    received.iter().filter(|r| r.components_reused > 0).count(),
                    received.len(),
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
                    procedures.iter().filter(|p| p.2 == OnlineLevel::Full).count(),
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
        let scales = self.evaluation_scales().await?;
        Ok(IndexReport {
            vneid_verified_dossiers: received.iter().filter(|r| r.vneid_verified).count() as u64,
            period: req.period,
            agency: req.agency.clone(),
            index: evaluation::index(&measures, &scales),
            scales,
        })
    }
}
