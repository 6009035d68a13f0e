//! Lists of dossiers: what an officer may see (their scope), the inboxes, filters, pages.

use crate::auth::CurrentUser;
use crate::{ServiceError, ServiceResult, Services};
use motcua_domain::access::Role;
use motcua_domain::dossier::Status;
use motcua_domain::dossier::{Dossier, Step};
use motcua_domain::msg;
use motcua_domain::msg::quoted;
use motcua_store::repo::{agencies, dossier_list, dossiers, steps};
use serde::Deserialize;

/// Dossiers a page of a list shows.
pub const PER_PAGE: u32 = 25;

/// The inboxes of the officers' list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbox {
    All,
    /// Open steps assigned to me.
    Mine,
    /// Open steps at my agencies.
    Unit,
    Overdue,
    /// Due within 2 working days.
    DueSoon,
    /// Online dossiers waiting for acceptance.
    Queue,
}

impl Inbox {
    /// The inbox an officer's list opens on: their own queue. A specialist's dossiers are
    /// assigned to them; the desk's own work is the online queue; leaders, approvers, clerks
    /// and result officers work on their unit's open steps; others (supervisors,
    /// administrators) see everything.
    pub fn own(user: &CurrentUser) -> Inbox {
        let holds = |role: Role| user.principal.roles.iter().any(|(_, _, r)| *r == role);
        if holds(Role::Specialist) {
            Inbox::Mine
        } else if holds(Role::ReceivingOfficer) {
            Inbox::Queue
        } else if [
            Role::Leader,
            Role::Approver,
            Role::Clerk,
            Role::ResultOfficer,
            Role::DeskHead,
        ]
        .into_iter()
        .any(holds)
        {
            Inbox::Unit
        } else {
            Inbox::All
        }
    }

    /// The name of the inbox in a query string.
    pub fn as_str(self) -> &'static str {
        match self {
            Inbox::All => "all",
            Inbox::Mine => "mine",
            Inbox::Unit => "unit",
            Inbox::Overdue => "overdue",
            Inbox::DueSoon => "due_soon",
            Inbox::Queue => "queue",
        }
    }

    pub fn parse(s: &str) -> ServiceResult<Inbox> {
        Ok(match s {
            "" | "all" => Inbox::All,
            "mine" => Inbox::Mine,
            "unit" => Inbox::Unit,
            "overdue" => Inbox::Overdue,
            "due_soon" => Inbox::DueSoon,
            "queue" => Inbox::Queue,
            other => return Err(ServiceError::BadRequest(msg!("dossier.inbox", quoted(other)))),
        })
    }
}

/// A list request as it comes in a query string.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Our status name (e.g. `processing`).
    pub status: Option<String>,
    /// Agency code (within what you may see).
    pub agency: Option<String>,
    /// Procedure code.
    pub procedure: Option<String>,
    /// Only dossiers in process past their due.
    #[serde(default)]
    pub overdue: bool,
    /// `mine` (open steps assigned to me), `unit` (open steps at my agencies), `due_soon`
    /// (due within 2 working days), `queue` (online dossiers waiting for acceptance).
    pub inbox: Option<String>,
    /// Applicant name, ID number, phone or code; with or without diacritics.
    pub q: Option<String>,
    pub page: Option<u32>,
}

impl Services {
    /// Agencies whose dossiers the user may see: where they hold an officer role, every
    /// agency below a supervisor's, everything for an administrator.
    pub async fn scope(&self, user: &CurrentUser) -> ServiceResult<Vec<i64>> {
        if user.is_admin() {
            return Ok(agencies::list(self.db()).await?.iter().map(|a| a.id).collect());
        }
        let mut ids = user.access().officer_agencies();
        for (_, code, role) in &user.principal.roles {
            if *role == Role::Supervisor {
                ids.extend(agencies::subtree_ids(self.db(), code).await?);
            }
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// The store's filter for a list request of a user.
    pub async fn dossier_filter(
        &self,
        user: &CurrentUser,
        q: &ListQuery,
    ) -> ServiceResult<dossier_list::ListFilter> {
        let mut scope_ids = self.scope(user).await?;
        if let Some(code) = q.agency.as_deref().filter(|c| !c.is_empty()) {
            let a = agencies::by_code(self.db(), code)
                .await?
                .ok_or_else(|| ServiceError::BadRequest(msg!("agency.unknown", quoted(code))))?;
            if !scope_ids.contains(&a.id) {
                return Err(ServiceError::Forbidden(msg!("dossier.agency_not_yours")));
            }
            scope_ids = vec![a.id];
        }
        let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.parse::<Status>()
                    .map_err(|_| ServiceError::BadRequest(msg!("dossier.status_unknown", quoted(s))))?,
            ),
            None => None,
        };
        let now = self.now();
        let mut f = dossier_list::ListFilter {
            agency_ids: scope_ids.clone(),
            status,
            procedure: q.procedure.clone().filter(|s| !s.is_empty()),
            overdue: q.overdue,
            q: crate::search_query(q.q.as_deref())?,
            now: Some(now),
            ..Default::default()
        };
        match Inbox::parse(q.inbox.as_deref().unwrap_or(""))? {
            Inbox::All => {}
            Inbox::Mine => f.assignee_id = Some(user.principal.user_id),
            Inbox::Unit => {
                f.open_step_agency_ids = user
                    .access()
                    .officer_agencies()
                    .into_iter()
                    .filter(|a| scope_ids.contains(a))
                    .collect()
            }
            Inbox::Overdue => f.overdue = true,
            Inbox::DueSoon => {
                let legal = self.legal_time(None).await?;
                let clock = legal.clock();
                f.due_before = Some(clock.add_working_minutes(clock.normalise_intake(now), 2 * 480));
            }
            Inbox::Queue => f.status = Some(Status::Submitted),
        }
        Ok(f)
    }

    /// How many dossiers a list request holds (its page aside): the inbox tabs' counts.
    pub async fn dossier_count(&self, user: &CurrentUser, q: &ListQuery) -> ServiceResult<i64> {
        let f = self.dossier_filter(user, q).await?;
        Ok(dossier_list::count(self.db(), &f).await?)
    }

    /// A page of the dossiers a user may see, most urgent first, and how many there are.
    pub async fn dossiers(
        &self,
        user: &CurrentUser,
        q: &ListQuery,
    ) -> ServiceResult<(Vec<dossier_list::Summary>, i64)> {
        let page = crate::check_page(q.page)?;
        let f = self.dossier_filter(user, q).await?;
        Ok(dossier_list::list(self.db(), &f, page, PER_PAGE).await?)
    }

    /// The dossier register (Form 07): the dossiers received from `from` to `to` (local
    /// dates) at `agency` (or everything the user may see), oldest first, each with its steps;
    /// at most `max`, and whether more were left out.
    pub async fn dossier_register(
        &self,
        user: &CurrentUser,
        agency: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        max: usize,
    ) -> ServiceResult<(Vec<(Dossier, Vec<Step>)>, bool)> {
        let query = ListQuery {
            agency: Some(agency.to_string()),
            ..Default::default()
        };
        let filter = self.dossier_filter(user, &query).await?;
        let mut found = Vec::new();
        let mut truncated = false;
        let per_page = 500;
        for page in 1.. {
            let (items, total) = dossier_list::list(self.db(), &filter, page, per_page).await?;
            let n = items.len();
            found.extend(items.into_iter().filter(|s| {
                s.received_at
                    .map(motcua_domain::calendar::local_date)
                    .is_some_and(|d| d >= from && d <= to)
            }));
            if found.len() >= max {
                truncated = true;
                found.truncate(max);
                break;
            }
            if n < per_page as usize || i64::from(page) * i64::from(per_page) >= total {
                break;
            }
        }
        found.sort_by_key(|s| (s.received_at, s.key.clone()));
        let mut rows = Vec::with_capacity(found.len());
        for s in found {
            let Some(d) = dossiers::find(self.db(), &s.key).await? else {
                continue;
            };
            let steps = steps::steps(self.db(), d.id).await?;
            rows.push((d, steps));
        }
        Ok((rows, truncated))
    }
}
