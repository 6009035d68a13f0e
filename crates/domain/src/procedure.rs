//! The procedure catalog entry (*thủ tục hành chính*) as one validated value: components,
//! limits, fees, case variants and their workflow templates. The import/export JSON is its
//! serde form. Validation is here; storage keeps versions of it.

use crate::calendar::{LimitUnit, TimeLimit};
use crate::code::{AgencyCode, ProcedureCode};
use crate::msg;
use crate::msg::Msg;
use crate::msg::quoted;
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Levels a procedure may be implemented at.
pub const LEVELS: [&str; 4] = ["central", "province", "district", "commune"];
/// Roles a workflow step may belong to.
pub const STEP_ROLES: [&str; 6] = [
    "receiving_officer",
    "leader",
    "specialist",
    "approver",
    "clerk",
    "result_officer",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Direct,
    Postal,
    Online,
}

crate::stored_text! {
    /// Online service level (Decree 42/2022): full online (*toàn trình*), partial (*một phần*).
    OnlineLevel, "online level" { Full = "full", Partial = "partial", None = "none" }
}

impl OnlineLevel {
    pub fn label_vi(self) -> &'static str {
        match self {
            OnlineLevel::Full => "Dịch vụ công trực tuyến toàn trình",
            OnlineLevel::Partial => "Dịch vụ công trực tuyến một phần",
            OnlineLevel::None => "Chưa cung cấp trực tuyến",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormRef {
    pub name: String,
    /// Path of the template file (relative to the import file), or once stored, its sha256.
    pub file: String,
}

/// A dossier component (*thành phần hồ sơ*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    pub originals: u32,
    pub copies: u32,
    pub required: bool,
    #[serde(default)]
    pub form: Option<FormRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub name: String,
    /// In đồng; None when the amount is a formula (explained in `note`).
    #[serde(default)]
    pub amount_vnd: Option<u64>,
    #[serde(default)]
    pub note: String,
}

/// Which agency handles a workflow step.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AgencyRule {
    /// The agency that received the dossier.
    Receiving,
    /// The parent of the agency of the previous step.
    Parent,
    /// A child agency of the previous step's, chosen by the officer at handover.
    Child,
    /// A fixed agency.
    Fixed(String),
}

impl AgencyRule {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "receiving" => Ok(AgencyRule::Receiving),
            "parent" => Ok(AgencyRule::Parent),
            "child" => Ok(AgencyRule::Child),
            code => AgencyCode::parse(code)
                .map(|c| AgencyRule::Fixed(c.as_str().to_string()))
                .map_err(|_| {
                    format!("agency must be receiving, parent, child or an agency code, not {code:?}")
                }),
        }
    }
    pub fn as_string(&self) -> String {
        match self {
            AgencyRule::Receiving => "receiving".into(),
            AgencyRule::Parent => "parent".into(),
            AgencyRule::Child => "child".into(),
            AgencyRule::Fixed(code) => code.clone(),
        }
    }
}

impl std::str::FromStr for AgencyRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AgencyRule::parse(s)
    }
}

crate::try_from_text!(AgencyRule);

impl Serialize for AgencyRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for AgencyRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AgencyRule::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One step of a workflow template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTemplate {
    pub name: String,
    pub role: String,
    pub agency: AgencyRule,
    /// Time quota in working days (often 0.5).
    pub quota_days: f64,
}

/// A case variant (*trường hợp*) with its own limits and workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseVariant {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub time_limit: Option<String>,
    #[serde(default)]
    pub online_time_limit: Option<String>,
    pub steps: Vec<StepTemplate>,
}

/// A procedure as imported, exported, edited and versioned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcedureSpec {
    pub code: String,
    pub name: String,
    pub field: FieldRef,
    pub levels: Vec<String>,
    pub agencies: Vec<String>,
    pub methods: Vec<Method>,
    #[serde(default)]
    pub applicants: String,
    pub components: Vec<Component>,
    pub time_limit: String,
    #[serde(default)]
    pub online_time_limit: Option<String>,
    #[serde(default)]
    pub same_day_cutoff: Option<String>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    #[serde(default)]
    pub result: String,
    #[serde(default)]
    pub conditions: String,
    #[serde(default)]
    pub legal_basis: Vec<String>,
    pub online_level: OnlineLevel,
    #[serde(default)]
    pub four_on_the_spot: bool,
    pub cases: Vec<CaseVariant>,
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
}

pub use crate::msg::FieldError;

fn limit_of(path: &str, s: &str, errors: &mut Vec<FieldError>) -> Option<TimeLimit> {
    match TimeLimit::parse(s) {
        Ok(l) => Some(l),
        Err(e) => {
            errors.push(FieldError::new(path, msg!("procedure.time_limit", e)));
            None
        }
    }
}

impl ProcedureSpec {
    /// Whether citizens may submit it online: its online level (Decree 42/2022) is partial or
    /// full (partial: submitted online, the result collected at the desk).
    pub fn accepts_online(&self) -> bool {
        self.online_level != OnlineLevel::None
    }

    /// The required components not handed in, `provided[i]` telling whether component `i`
    /// was: what keeps a paper dossier from being received at the desk, and what Form 02
    /// (*phiếu hướng dẫn bổ sung, hoàn thiện*) lists. A component absent from `provided` was not.
    pub fn missing_components(&self, provided: &[bool]) -> Vec<&Component> {
        self.components
            .iter()
            .enumerate()
            .filter(|(i, c)| c.required && !provided.get(*i).copied().unwrap_or(false))
            .map(|(_, c)| c)
            .collect()
    }

    /// Every problem with this procedure; `known_agency` tells whether an agency code exists.
    pub fn validate(&self, known_agency: &dyn Fn(&str) -> bool) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut err = |path: &str, msg: Msg| errors.push(FieldError::new(path, msg));
        if ProcedureCode::parse(&self.code).is_err() {
            err("code", msg!("procedure.code", quoted(&self.code)));
        }
        if self.name.trim().is_empty() {
            err("name", msg!("required"));
        }
        if self.name.chars().count() > 500 {
            err("name", msg!("too_long", 500));
        }
        if self.field.code.trim().is_empty() || self.field.name.trim().is_empty() {
            err("field", msg!("procedure.field"));
        }
        if self.levels.is_empty() {
            err("levels", msg!("procedure.levels"));
        }
        for (i, l) in self.levels.iter().enumerate() {
            if !LEVELS.contains(&l.as_str()) {
                err(&format!("levels[{i}]"), msg!("one_of", LEVELS.join(", ")));
            }
        }
        for (i, a) in self.agencies.iter().enumerate() {
            if !known_agency(a) {
                err(&format!("agencies[{i}]"), msg!("agency.unknown", quoted(a)));
            }
        }
        if self.methods.is_empty() {
            err("methods", msg!("procedure.methods"));
        }
        if self.online_level == OnlineLevel::Full && !self.methods.contains(&Method::Online) {
            err("online_level", msg!("procedure.full_online"));
        }
        if self.components.is_empty() {
            err("components", msg!("procedure.components"));
        }
        for (i, c) in self.components.iter().enumerate() {
            if c.name.trim().is_empty() {
                err(&format!("components[{i}].name"), msg!("required"));
            }
            if c.originals == 0 && c.copies == 0 {
                err(&format!("components[{i}]"), msg!("procedure.copies"));
            }
            if let Some(f) = &c.form
                && (f.name.trim().is_empty() || f.file.trim().is_empty())
            {
                err(&format!("components[{i}].form"), msg!("procedure.form"));
            }
        }

        let limit = limit_of("time_limit", &self.time_limit, &mut errors);
        if let Some(s) = &self.online_time_limit {
            limit_of("online_time_limit", s, &mut errors);
        }
        if let Some(c) = &self.same_day_cutoff
            && NaiveTime::parse_from_str(c, "%H:%M").is_err()
        {
            errors.push(FieldError::new(
                "same_day_cutoff",
                msg!("procedure.cutoff", quoted(c)),
            ));
        }
        if self.cases.is_empty() {
            errors.push(FieldError::new("cases", msg!("procedure.cases")));
        }
        let mut case_codes = HashSet::new();
        for (i, case) in self.cases.iter().enumerate() {
            let p = format!("cases[{i}]");
            let valid_code = !case.code.is_empty()
                && case.code.len() <= 60
                && case
                    .code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid_code {
                errors.push(FieldError::new(
                    format!("{p}.code"),
                    msg!("procedure.case_code", quoted(&case.code)),
                ));
            }
            if !case_codes.insert(case.code.as_str()) {
                errors.push(FieldError::new(
                    format!("{p}.code"),
                    msg!("procedure.case_twice", quoted(&case.code)),
                ));
            }
            if case.name.trim().is_empty() {
                errors.push(FieldError::new(format!("{p}.name"), msg!("required")));
            }
            let case_limit = match &case.time_limit {
                Some(s) => limit_of(&format!("{p}.time_limit"), s, &mut errors),
                None => limit,
            };
            if let Some(s) = &case.online_time_limit {
                limit_of(&format!("{p}.online_time_limit"), s, &mut errors);
            }
            if case.steps.is_empty() {
                errors.push(FieldError::new(format!("{p}.steps"), msg!("procedure.steps")));
            }
            let mut total = 0u64;
            for (j, s) in case.steps.iter().enumerate() {
                let sp = format!("{p}.steps[{j}]");
                if s.name.trim().is_empty() {
                    errors.push(FieldError::new(format!("{sp}.name"), msg!("required")));
                }
                if !STEP_ROLES.contains(&s.role.as_str()) {
                    errors.push(FieldError::new(
                        format!("{sp}.role"),
                        msg!("one_of", STEP_ROLES.join(", ")),
                    ));
                }
                if let AgencyRule::Fixed(code) = &s.agency
                    && !known_agency(code)
                {
                    errors.push(FieldError::new(
                        format!("{sp}.agency"),
                        msg!("agency.unknown", quoted(code)),
                    ));
                }
                match quota_thousandths(s.quota_days) {
                    Some(q) => total += q,
                    None => errors.push(FieldError::new(
                        format!("{sp}.quota_days"),
                        msg!("procedure.quota", s.quota_days),
                    )),
                }
            }
            if !case.steps.is_empty() {
                for (path, m) in workflow_problems(&case.steps) {
                    errors.push(FieldError::new(format!("{p}.steps{path}"), m));
                }
            }
            if let Some(l) = case_limit
                && l.unit() == LimitUnit::WorkingDays
                && total > l.thousandths()
            {
                errors.push(FieldError::new(
                    format!("{p}.steps"),
                    msg!("procedure.quotas_over", total as f64 / 1000.0, l),
                ));
            }
        }
        if let Some(d) = self.effective_from
            && crate::calendar::check_date(d).is_err()
        {
            errors.push(FieldError::new("effective_from", msg!("date_range", d)));
        }
        errors
    }

    /// The time limit of a case as written, for a dossier received online or not: an online
    /// limit may be shorter (the case's own, else the procedure's).
    pub fn limit_text<'a>(&'a self, case: &'a CaseVariant, online: bool) -> &'a str {
        if online {
            case.online_time_limit
                .as_deref()
                .or(case.time_limit.as_deref())
                .or(self.online_time_limit.as_deref())
                .unwrap_or(&self.time_limit)
        } else {
            case.time_limit.as_deref().unwrap_or(&self.time_limit)
        }
    }

    /// The text folded for search: code, name, field.
    pub fn search_text(&self) -> String {
        crate::text::fold_vi(&format!("{} {} {}", self.code, self.name, self.field.name))
    }

    /// The same procedure with presentation-only whitespace trimmed, so that re-importing an
    /// unchanged file is recognised as unchanged.
    pub fn normalised(mut self) -> Self {
        self.code = self.code.trim().to_string();
        self.name = self.name.trim().to_string();
        self.levels.sort();
        self.levels.dedup();
        self.agencies.iter_mut().for_each(|a| *a = a.trim().to_string());
        self
    }

    /// The case variant with this code.
    pub fn case(&self, code: &str) -> Option<&CaseVariant> {
        self.cases.iter().find(|c| c.code == code)
    }
}

/// What keeps a workflow from reaching its result, each with the path below `steps` it is
/// about: the first step is the receiving desk's (handed over by `transfer`), an approver's
/// step signs the result (`approve`), and the result officer's step, which ends by
/// returning the result, comes after it. Any workflow these allow can reach a result from
/// every state its officers can lead a dossier to (`dossier::decide`'s tests).
pub fn workflow_problems(steps: &[StepTemplate]) -> Vec<(String, Msg)> {
    let mut out = Vec::new();
    if steps.first().is_some_and(|s| s.role != "receiving_officer") {
        out.push(("[0].role".to_string(), msg!("procedure.first_step")));
    }
    match steps.iter().rposition(|s| s.role == "approver") {
        None => out.push((String::new(), msg!("procedure.approver_step"))),
        Some(last_approver) => {
            if let Some(i) = steps[..last_approver]
                .iter()
                .position(|s| s.role == "result_officer")
            {
                out.push((format!("[{i}].role"), msg!("procedure.result_step")));
            }
        }
    }
    out
}

/// A step quota in thousandths of a working day, if valid (> 0, at most 3 decimals).
pub fn quota_thousandths(days: f64) -> Option<u64> {
    if !days.is_finite() || days <= 0.0 || days > 10_000.0 {
        return None;
    }
    let t = (days * 1000.0).round();
    ((t - days * 1000.0).abs() < 1e-6).then_some(t as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> ProcedureSpec {
        serde_json::from_str(
            r#"{
            "code": "1.001193", "name": "Đăng ký khai sinh", "field": {"code": "HT", "name": "Hộ tịch"},
            "levels": ["commune"], "agencies": ["000.30.01.H56"], "methods": ["direct", "online"],
            "applicants": "Cá nhân",
            "components": [{"name": "Tờ khai", "originals": 1, "copies": 0, "required": true, "form": null}],
            "time_limit": "1 working-days", "online_time_limit": null, "same_day_cutoff": "15:00",
            "fees": [{"name": "Lệ phí", "amount_vnd": 0, "note": ""}], "result": "Giấy khai sinh",
            "conditions": "", "legal_basis": ["Luật Hộ tịch 2014"], "online_level": "full", "four_on_the_spot": true,
            "cases": [{"code": "dung-han", "name": "Đúng hạn", "time_limit": null, "online_time_limit": null,
              "steps": [{"name": "Tiếp nhận", "role": "receiving_officer", "agency": "receiving", "quota_days": 0.25},
                        {"name": "Thụ lý", "role": "specialist", "agency": "000.00.06.H56", "quota_days": 0.5},
                        {"name": "Ký duyệt", "role": "approver", "agency": "000.00.06.H56", "quota_days": 0.25}]}],
            "effective_from": "2025-07-01"
        }"#,
        )
        .unwrap()
    }

    #[test]
    fn only_required_components_not_handed_in_are_missing() {
        let mut p = sample();
        p.components.push(Component {
            name: "Bản sao giấy chứng sinh".into(),
            required: false,
            ..p.components[0].clone()
        });
        let names = |provided: &[bool]| -> Vec<String> {
            p.missing_components(provided)
                .iter()
                .map(|c| c.name.clone())
                .collect()
        };
        assert_eq!(names(&[false, false]), vec!["Tờ khai".to_string()]);
        assert_eq!(names(&[]), vec!["Tờ khai".to_string()]);
        assert!(names(&[true, false]).is_empty());
    }

    fn known(code: &str) -> bool {
        ["000.30.01.H56", "000.00.06.H56"].contains(&code)
    }

    #[test]
    fn a_complete_procedure_is_valid_and_round_trips() {
        let p = sample();
        assert_eq!(p.validate(&known), vec![]);
        let json = serde_json::to_string(&p).unwrap();
        let back: ProcedureSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        assert_eq!(
            p.cases[0].steps[1].agency,
            AgencyRule::Fixed("000.00.06.H56".into())
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut p = sample();
        p.code = "1.1193".into();
        p.levels.push("village".into());
        p.agencies.push("000.99.99.H56".into());
        p.methods = vec![Method::Direct];
        p.components[0].originals = 0;
        p.time_limit = "2 weeks".into();
        p.cases[0].steps[0].role = "citizen".into();
        p.cases[0].steps[1].quota_days = -1.0;
        let paths: Vec<String> = p.validate(&known).into_iter().map(|e| e.path).collect();
        for expected in [
            "code",
            "levels[1]",
            "agencies[1]",
            "online_level",
            "components[0]",
            "time_limit",
            "cases[0].steps[0].role",
            "cases[0].steps[1].quota_days",
        ] {
            assert!(
                paths.iter().any(|x| x == expected),
                "{expected} missing from {paths:?}"
            );
        }
    }

    #[test]
    fn step_quotas_cannot_exceed_the_case_limit() {
        let mut p = sample();
        p.cases[0].steps[1].quota_days = 1.0;
        let errs = p.validate(&known);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].path, "cases[0].steps");
        p.cases[0].time_limit = Some("2 working-days".into());
        assert!(p.validate(&known).is_empty());
    }

    #[test]
    fn a_workflow_starts_at_the_desk_and_signs_before_it_returns() {
        let roles = |p: &ProcedureSpec| {
            p.validate(&known)
                .into_iter()
                .map(|e| (e.path, e.msg.code))
                .collect::<Vec<_>>()
        };
        let mut p = sample();
        p.cases[0].steps.swap(0, 1);
        assert_eq!(
            roles(&p),
            vec![("cases[0].steps[0].role".to_string(), "procedure.first_step")]
        );
        let mut p = sample();
        p.cases[0].steps.pop();
        assert_eq!(
            roles(&p),
            vec![("cases[0].steps".to_string(), "procedure.approver_step")]
        );
        let mut p = sample();
        p.cases[0].steps[1].role = "result_officer".into();
        assert_eq!(
            roles(&p),
            vec![("cases[0].steps[1].role".to_string(), "procedure.result_step")]
        );
        // After the last approver's step, a result officer's is where it belongs.
        let mut p = sample();
        let mut last = p.cases[0].steps[1].clone();
        last.role = "result_officer".into();
        p.cases[0].steps.push(last);
        p.cases[0].time_limit = Some("2 working-days".into());
        assert_eq!(roles(&p), vec![]);
    }

    #[test]
    fn case_codes_are_unique() {
        let mut p = sample();
        p.cases.push(p.cases[0].clone());
        assert!(
            p.validate(&known)
                .iter()
                .any(|e| e.msg.code == "procedure.case_twice")
        );
    }

    #[test]
    fn quotas_are_exact_thousandths() {
        assert_eq!(quota_thousandths(0.5), Some(500));
        assert_eq!(quota_thousandths(0.25), Some(250));
        assert_eq!(quota_thousandths(0.0), None);
        assert_eq!(quota_thousandths(0.0001), None);
        assert_eq!(quota_thousandths(f64::NAN), None);
    }

    #[test]
    fn agency_rules_parse() {
        assert_eq!(AgencyRule::parse("receiving").unwrap(), AgencyRule::Receiving);
        assert_eq!(AgencyRule::parse("child").unwrap(), AgencyRule::Child);
        assert!(AgencyRule::parse("somewhere").is_err());
    }
}
