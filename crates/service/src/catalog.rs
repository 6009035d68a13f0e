//! The catalog as administrators edit it — agencies and procedures — shared by the admin
//! pages, the JSON API and the command line: validation in the domain, one transaction in
//! the store.

use crate::auth::CurrentUser;
use crate::{ServiceError, ServiceResult, Services};
use motcua_domain::msg;
use motcua_domain::msg::FieldError;
use motcua_domain::msg::quoted;
use motcua_domain::procedure::ProcedureSpec;
use motcua_store::repo::{agencies, catalog};
use std::collections::HashSet;

impl Services {
    /// Validates and saves a procedure (a new version when anything changed). Form files
    /// must already be stored (`sha256:…` references).
    pub async fn save_procedure(
        &self,
        user: &CurrentUser,
        spec: ProcedureSpec,
    ) -> ServiceResult<catalog::Saved> {
        if !user.access().may_manage_catalog() {
            return Err(crate::auth::forbidden());
        }
        self.save_procedure_as(spec, &user.principal.username).await
    }

    /// `save_procedure` by a name rather than a signed-in officer (imports from the command
    /// line, the demo).
    pub async fn save_procedure_as(&self, spec: ProcedureSpec, by: &str) -> ServiceResult<catalog::Saved> {
        let spec = spec.normalised();
        let known: HashSet<String> = agencies::list(self.db())
            .await?
            .into_iter()
            .map(|a| a.code)
            .collect();
        let mut errors = spec.validate(&|c| known.contains(c));
        for (i, c) in spec.components.iter().enumerate() {
            if let Some(f) = &c.form {
                let stored = match f.file.strip_prefix("sha256:") {
                    Some(sha) => self.file_stored(sha).await?,
                    None => false,
                };
                if !stored {
                    errors.push(FieldError::new(
                        format!("components[{i}].form.file"),
                        msg!("procedure.form_file"),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let today = motcua_domain::calendar::local_date(self.now());
        let mut tx = self.db().begin().await?;
        let saved = catalog::save_procedure(&mut tx, &spec, by, today).await?;
        tx.commit().await?;
        Ok(saved)
    }
}

/// An agency as edited by an administrator.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct AgencyInput {
    pub code: String,
    pub name: String,
    pub level: String,
    #[serde(default)]
    pub parent_code: Option<String>,
    #[serde(default)]
    pub address: String,
    /// `07:00-11:30,13:30-17:00` style, or empty/absent for the default.
    #[serde(default)]
    pub office_hours: Option<String>,
    #[serde(default)]
    pub one_stop: bool,
}

impl Services {
    /// Validates and saves (upserts by code) an agency. Administrators.
    pub async fn save_agency(&self, user: &CurrentUser, a: AgencyInput) -> ServiceResult<()> {
        if !user.access().may_manage_catalog() {
            return Err(crate::auth::forbidden());
        }
        self.save_agency_unchecked(a).await
    }

    /// Adds an agency (administrators): its code must be new.
    pub async fn create_agency(&self, user: &CurrentUser, a: AgencyInput) -> ServiceResult<()> {
        if agencies::by_code(self.db(), a.code.trim()).await?.is_some() {
            return Err(ServiceError::invalid("code", msg!("agency.code_taken")));
        }
        self.save_agency(user, a).await
    }

    /// `save_agency` without a signed-in administrator (the command line).
    pub async fn save_agency_unchecked(&self, a: AgencyInput) -> ServiceResult<()> {
        let mut errors = Vec::new();
        let mut err = |path: &str, m: msg::Msg| errors.push(FieldError::new(path, m));
        let code = a.code.trim();
        if motcua_domain::code::AgencyCode::parse(code).is_err() {
            err("code", msg!("agency.code", quoted(code)));
        }
        if a.name.trim().is_empty() || a.name.chars().count() > 300 {
            err("name", msg!("length", 1, 300));
        }
        if !motcua_domain::import::AGENCY_LEVELS.contains(&a.level.as_str()) {
            err(
                "level",
                msg!("one_of", motcua_domain::import::AGENCY_LEVELS.join(", ")),
            );
        }
        let parent = a.parent_code.as_deref().map(str::trim).filter(|p| !p.is_empty());
        let own_id = agencies::by_code(self.db(), code).await?.map(|x| x.id);
        if let Some(p) = parent {
            if p == code {
                err("parent_code", msg!("agency.own_parent"));
            } else if agencies::by_code(self.db(), p).await?.is_none() {
                err("parent_code", msg!("agency.unknown", quoted(p)));
            } else if let Some(own) = own_id
                && agencies::chain(self.db(), p).await?.contains(&own)
            {
                // The new parent lies below this agency: the tree would loop.
                err("parent_code", msg!("agency.parent_below"));
            }
        }
        let hours = match a.office_hours.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            None => None,
            Some(h) => match motcua_domain::calendar::OfficeHours::parse(h) {
                Ok(h) => Some(h.to_string()),
                Err(e) => {
                    err("office_hours", msg!("agency.office_hours", e));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let mut tx = self.db().begin().await?;
        agencies::upsert(
            &mut tx,
            &agencies::NewAgency {
                code,
                name: a.name.trim(),
                level: &a.level,
                parent_code: parent,
                address: a.address.trim(),
                is_one_stop: a.one_stop,
                office_hours: hours.as_deref(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

pub use agencies::Agency;
pub use catalog::{ProcedureFilter, ProcedureSummary, Saved, StoredProcedure};

/// Procedures a page of the catalog shows.
pub const PROCEDURES_PER_PAGE: u32 = 20;

impl Services {
    /// Every agency, ordered by code.
    pub async fn agencies(&self) -> ServiceResult<Vec<Agency>> {
        Ok(agencies::list(self.db()).await?)
    }

    /// An agency by code.
    pub async fn agency(&self, code: &str) -> ServiceResult<Agency> {
        agencies::by_code(self.db(), code)
            .await?
            .ok_or_else(|| ServiceError::NotFound(msg!("agency.unknown", quoted(code))))
    }

    /// Fields (*lĩnh vực*) with their number of procedures: (code, name, procedures).
    pub async fn fields(&self) -> ServiceResult<Vec<(String, String, i64)>> {
        Ok(catalog::fields(self.db()).await?)
    }

    /// A page of the procedures matching a filter (search words with or without
    /// diacritics), and how many match.
    pub async fn search_procedures(
        &self,
        filter: &ProcedureFilter,
        page: u32,
    ) -> ServiceResult<(Vec<ProcedureSummary>, i64)> {
        let page = crate::check_page(Some(page))?;
        crate::search_query(filter.q.as_deref())?;
        Ok(catalog::list_procedures(self.db(), filter, page, PROCEDURES_PER_PAGE).await?)
    }

    /// A procedure: a given version, or the one in force today.
    pub async fn procedure(&self, code: &str, version: Option<i64>) -> ServiceResult<StoredProcedure> {
        let found = match version {
            Some(v) => catalog::procedure_version(self.db(), code, v).await?,
            None => {
                catalog::procedure(self.db(), code, motcua_domain::calendar::local_date(self.now())).await?
            }
        };
        found.ok_or_else(|| ServiceError::NotFound(msg!("procedure.unknown", quoted(code))))
    }

    /// The versions of a procedure, oldest first: (version, in force from, saved by).
    pub async fn procedure_versions(
        &self,
        code: &str,
    ) -> ServiceResult<Vec<(i64, chrono::NaiveDate, String)>> {
        Ok(catalog::versions(self.db(), code).await?)
    }

    /// Every procedure in force.
    pub async fn current_procedures(&self) -> ServiceResult<Vec<ProcedureSpec>> {
        Ok(catalog::all_current(self.db()).await?)
    }
}
