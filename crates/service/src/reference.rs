//! Reference data kept in memory by each server process: agencies (tree, office hours), the
//! work calendar and the procedures in force. They change rarely, and every change to their
//! tables bumps one stamp in the same transaction (database triggers, migration 0009), so a
//! request checks one small row and re-reads nothing while the stamp is the same. A change
//! made by another process (the CLI, a second server) is seen by the next request.

use crate::{ServiceError, ServiceResult, Services};
use chrono::NaiveDate;
use motcua_domain::calendar::{LegalClock, OfficeHours, WorkCalendar};
use motcua_store::repo::agencies::{self, Agency};
use motcua_store::repo::catalog::{self, StoredProcedure};
use motcua_store::{Db, StoreError, StoreResult};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Procedures read so far, by key (None: no such procedure).
type Memo<K> = Mutex<HashMap<K, Option<Arc<StoredProcedure>>>>;
/// A procedure's code and current name.
type ProcedureName = (String, String);

/// One consistent picture of the reference data at one stamp.
pub struct Reference {
    version: String,
    pub calendar: Arc<WorkCalendar>,
    agencies: Vec<Agency>,
    by_code: HashMap<String, usize>,
    by_id: HashMap<i64, usize>,
    /// Parsed office hours per agency (index as `agencies`); Err: the stored text is invalid.
    hours: Vec<Result<OfficeHours, String>>,
    /// Procedures read so far at this stamp: in force on a date, and by version.
    in_force: Memo<(String, NaiveDate)>,
    versions: Memo<(String, i64)>,
    /// Procedure code and name by id, read so far at this stamp (None: no such procedure).
    names: Mutex<HashMap<i64, Option<Arc<ProcedureName>>>>,
}

impl Reference {
    async fn load(db: &Db, version: String) -> StoreResult<Reference> {
        let overrides = motcua_store::repo::calendar::list_overrides(db).await?;
        let calendar = WorkCalendar::new(&overrides)
            .map_err(|e| StoreError::Conflict(format!("stored calendar overrides are inconsistent: {e}")))?;
        let agencies = agencies::list(db).await?;
        let by_code = agencies
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.clone(), i))
            .collect();
        let by_id = agencies.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
        let hours = agencies
            .iter()
            .map(|a| match &a.office_hours {
                None => Ok(OfficeHours::default()),
                Some(text) => OfficeHours::parse(text).map_err(|e| e.to_string()),
            })
            .collect();
        Ok(Reference {
            version,
            calendar: Arc::new(calendar),
            agencies,
            by_code,
            by_id,
            hours,
            in_force: Mutex::default(),
            versions: Mutex::default(),
            names: Mutex::default(),
        })
    }

    /// Every agency, ordered by code.
    pub fn agencies(&self) -> &[Agency] {
        &self.agencies
    }

    pub fn agency(&self, code: &str) -> Option<&Agency> {
        self.by_code.get(code).map(|&i| &self.agencies[i])
    }

    pub fn agency_by_id(&self, id: i64) -> Option<&Agency> {
        self.by_id.get(&id).map(|&i| &self.agencies[i])
    }

    /// The agency with this code followed by its ancestors (ids), nearest first; empty when
    /// the code is unknown (as `agencies::chain`).
    pub fn chain(&self, code: &str) -> Vec<i64> {
        let mut out = Vec::new();
        let mut next = self.agency(code);
        while let Some(a) = next {
            if out.contains(&a.id) || out.len() > 64 {
                break;
            }
            out.push(a.id);
            next = a.parent_code.as_deref().and_then(|p| self.agency(p));
        }
        out
    }

    /// The id of an agency's parent.
    pub fn parent_of(&self, id: i64) -> Option<i64> {
        let parent = self.agency_by_id(id)?.parent_code.as_deref()?;
        self.agency(parent).map(|a| a.id)
    }

    /// Office hours of an agency: None for an unknown code; Err when stored ones are invalid.
    pub fn office_hours(&self, code: &str) -> Option<Result<OfficeHours, String>> {
        self.by_code.get(code).map(|&i| self.hours[i].clone())
    }

    /// Office hours of an agency, or the default when it has none of its own; an unknown
    /// agency is an invalid input, stored hours that do not parse an internal error.
    pub fn office_hours_of(&self, code: &str) -> ServiceResult<OfficeHours> {
        match self.office_hours(code) {
            None => Err(ServiceError::invalid(
                "agency",
                motcua_domain::msg!("agency.unknown", motcua_domain::msg::quoted(code)),
            )),
            Some(Ok(hours)) => Ok(hours),
            Some(Err(e)) => Err(ServiceError::Internal(format!(
                "stored office hours of {code} are invalid: {e}"
            ))),
        }
    }

    /// The legal clock of an agency: the work calendar and its office hours.
    pub fn legal_time(&self, agency_code: &str) -> ServiceResult<LegalTime> {
        Ok(LegalTime {
            calendar: self.calendar.clone(),
            hours: self.office_hours_of(agency_code)?,
        })
    }

    /// The version of a procedure in force on a date (as `catalog::procedure`).
    pub async fn procedure(
        &self,
        db: &Db,
        code: &str,
        on: NaiveDate,
    ) -> StoreResult<Option<Arc<StoredProcedure>>> {
        let key = (code.to_string(), on);
        if let Some(p) = lock(&self.in_force).get(&key) {
            return Ok(p.clone());
        }
        let p = catalog::procedure(db, code, on).await?.map(Arc::new);
        lock(&self.in_force).insert(key, p.clone());
        Ok(p)
    }

    /// A given version of a procedure (as `catalog::procedure_version`).
    pub async fn procedure_version(
        &self,
        db: &Db,
        code: &str,
        version: i64,
    ) -> StoreResult<Option<Arc<StoredProcedure>>> {
        let key = (code.to_string(), version);
        if let Some(p) = lock(&self.versions).get(&key) {
            return Ok(p.clone());
        }
        let p = catalog::procedure_version(db, code, version).await?.map(Arc::new);
        lock(&self.versions).insert(key, p.clone());
        Ok(p)
    }

    /// A procedure's code and current name by its id.
    pub async fn procedure_name(&self, db: &Db, id: i64) -> StoreResult<Option<Arc<ProcedureName>>> {
        if let Some(n) = lock(&self.names).get(&id) {
            return Ok(n.clone());
        }
        let n = catalog::procedure_name(db, id).await?.map(Arc::new);
        lock(&self.names).insert(id, n.clone());
        Ok(n)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
pub struct ReferenceCache {
    cached: RwLock<Option<Arc<Reference>>>,
    /// When the stamp of `cached` was last read by `get` (before the read); None when
    /// `cached` came from a caller's stamp.
    checked: Mutex<Option<Instant>>,
}

impl ReferenceCache {
    /// The reference data now: one small query to check the stamp, a reload only on change.
    pub async fn get(&self, db: &Db) -> StoreResult<Arc<Reference>> {
        self.get_at(db, None).await
    }

    /// `get`, with the stamp already read in this request (`known`) if it was.
    pub async fn get_at(&self, db: &Db, known: Option<&str>) -> StoreResult<Arc<Reference>> {
        let asked = Instant::now();
        let version = match known {
            Some(v) => v.to_string(),
            None => motcua_store::repo::meta::get(db, motcua_store::repo::meta::REFERENCE_VERSION)
                .await?
                .unwrap_or_default(),
        };
        // Only a stamp read here has a known instant (a caller's was read earlier).
        let read_here = known.is_none().then_some(asked);
        if let Some(r) = self.cached.read().unwrap_or_else(|p| p.into_inner()).as_ref()
            && r.version == version
        {
            if read_here.is_some() {
                *lock(&self.checked) = read_here;
            }
            return Ok(r.clone());
        }
        // The stamp is read before the data: a change committed in between leaves a newer
        // stamp behind, and the next request loads again.
        let r = Arc::new(Reference::load(db, version).await?);
        *self.cached.write().unwrap_or_else(|p| p.into_inner()) = Some(r.clone());
        *lock(&self.checked) = read_here;
        Ok(r)
    }

    /// The reference data as of at most `max_age` ago, without a query when the stamp was
    /// read that recently (the public lookup, whose answers are kept as long anyway), and
    /// the instant its stamp was read (at the latest: now).
    pub async fn get_recent(&self, db: &Db, max_age: Duration) -> StoreResult<(Arc<Reference>, Instant)> {
        if let Some(at) = *lock(&self.checked)
            && at.elapsed() < max_age
            && let Some(r) = self.cached.read().unwrap_or_else(|p| p.into_inner()).as_ref()
        {
            return Ok((r.clone(), at));
        }
        let asked = Instant::now();
        Ok((self.get(db).await?, asked))
    }
}

/// An agency's legal clock: the work calendar and its office hours.
pub struct LegalTime {
    pub calendar: Arc<WorkCalendar>,
    pub hours: OfficeHours,
}

impl LegalTime {
    pub fn clock(&self) -> LegalClock<'_> {
        LegalClock::new(&self.calendar, &self.hours)
    }
}

impl Services {
    /// The reference data now (see `ReferenceCache::get`).
    pub async fn reference(&self) -> ServiceResult<Arc<Reference>> {
        Ok(self.inner.reference.get(self.db()).await?)
    }

    /// `reference`, using the stamp read with the caller's bearer token when there is one
    /// (no second query).
    pub async fn reference_for(
        &self,
        user: Option<&crate::auth::CurrentUser>,
    ) -> ServiceResult<Arc<Reference>> {
        let known = user.and_then(|u| u.reference_version.as_deref());
        Ok(self.inner.reference.get_at(self.db(), known).await?)
    }

    /// The reference data as of at most `max_age` ago (see `ReferenceCache::get_recent`).
    pub(crate) async fn reference_recent(
        &self,
        max_age: Duration,
    ) -> ServiceResult<(Arc<Reference>, Instant)> {
        Ok(self.inner.reference.get_recent(self.db(), max_age).await?)
    }

    /// The current work calendar (rules + stored overrides).
    pub async fn calendar(&self) -> ServiceResult<Arc<WorkCalendar>> {
        Ok(self.reference().await?.calendar.clone())
    }

    /// The legal clock of an agency (by code; the default office hours without one).
    pub async fn legal_time(&self, agency_code: Option<&str>) -> ServiceResult<LegalTime> {
        let reference = self.reference().await?;
        match agency_code {
            Some(code) => reference.legal_time(code),
            None => Ok(LegalTime {
                calendar: reference.calendar.clone(),
                hours: OfficeHours::default(),
            }),
        }
    }
}
