//! Catalog and user management as one set of operations shared by the admin pages and the
//! JSON API: validation in the domain, one transaction in the store.

use crate::AppState;
use motcua_domain::access::Role;
use motcua_domain::procedure::{FieldError, ProcedureSpec};
use motcua_store::StoreError;
use motcua_store::repo::{agencies, auth as auth_repo, catalog, users};
use std::collections::HashSet;

/// Why a change was refused.
#[derive(Debug)]
pub enum Refused {
    /// The input is wrong; each problem located by field path.
    Invalid(Vec<FieldError>),
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(e)
    }
}

fn invalid(path: &str, message: impl Into<String>) -> Refused {
    Refused::Invalid(vec![FieldError {
        path: path.into(),
        message: message.into(),
    }])
}

impl From<Refused> for crate::error::ApiError {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Invalid(errors) => {
                let list: Vec<serde_json::Value> = errors
                    .iter()
                    .map(|e| serde_json::json!({"field": e.path, "message": e.message}))
                    .collect();
                crate::error::ApiError::unprocessable(format!("{} invalid field(s)", list.len()))
                    .with("errors", serde_json::Value::Array(list))
            }
            Refused::Store(e) => e.into(),
        }
    }
}

/// Validates and saves a procedure (a new version when anything changed). Form files must
/// already be stored (`sha256:…` references).
pub async fn save_procedure(
    state: &AppState,
    spec: ProcedureSpec,
    by: &str,
) -> Result<catalog::Saved, Refused> {
    let spec = spec.normalised();
    let known: HashSet<String> = agencies::list(&state.db)
        .await?
        .into_iter()
        .map(|a| a.code)
        .collect();
    let mut errors = spec.validate(&|c| known.contains(c));
    for (i, c) in spec.components.iter().enumerate() {
        if let Some(f) = &c.form {
            let stored = match f.file.strip_prefix("sha256:") {
                Some(sha) => state.file_stored(sha).await?,
                None => false,
            };
            if !stored {
                errors.push(FieldError {
                    path: format!("components[{i}].form.file"),
                    message: "upload the form file first (sha256:… reference)".into(),
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(Refused::Invalid(errors));
    }
    let today = motcua_domain::calendar::local_date(chrono::Utc::now());
    let mut tx = state.db.begin().await?;
    let saved = catalog::save_procedure(&mut tx, &spec, by, today).await?;
    tx.commit().await?;
    Ok(saved)
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

/// Validates and saves (upserts by code) an agency.
pub async fn save_agency(state: &AppState, a: AgencyInput) -> Result<(), Refused> {
    let mut errors = Vec::new();
    let mut err = |path: &str, m: String| {
        errors.push(FieldError {
            path: path.into(),
            message: m,
        })
    };
    let code = a.code.trim();
    if motcua_domain::code::AgencyCode::parse(code).is_err() {
        err(
            "code",
            format!("{code:?} is not an agency code such as 000.00.06.H56"),
        );
    }
    if a.name.trim().is_empty() || a.name.chars().count() > 300 {
        err("name", "must be 1–300 characters".into());
    }
    if !motcua_domain::import::AGENCY_LEVELS.contains(&a.level.as_str()) {
        err(
            "level",
            format!(
                "must be one of {}",
                motcua_domain::import::AGENCY_LEVELS.join(", ")
            ),
        );
    }
    let parent = a.parent_code.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let own_id = agencies::by_code(&state.db, code).await?.map(|x| x.id);
    if let Some(p) = parent {
        if p == code {
            err("parent_code", "an agency cannot be its own parent".into());
        } else if agencies::by_code(&state.db, p).await?.is_none() {
            err("parent_code", format!("unknown agency {p:?}"));
        } else if let Some(own) = own_id
            && agencies::chain(&state.db, p).await?.contains(&own)
        {
            // The new parent lies below this agency: the tree would loop.
            err(
                "parent_code",
                "that parent is inside this agency's own subtree".into(),
            );
        }
    }
    let hours = match a.office_hours.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        None => None,
        Some(h) => match motcua_domain::calendar::OfficeHours::parse(h) {
            Ok(h) => Some(h.to_string()),
            Err(e) => {
                err("office_hours", e.to_string());
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(Refused::Invalid(errors));
    }
    let mut tx = state.db.begin().await?;
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

/// A user as created or edited by an administrator.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct UserInput {
    pub username: String,
    pub full_name: String,
    /// Required when creating; when editing, empty keeps the current password.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    /// Roles as (agency code, role id) pairs; replaces the current roles.
    pub roles: Vec<RoleInput>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct RoleInput {
    pub agency: String,
    pub role: String,
}

/// Creates a user or updates one (by username); ends their sessions when the password
/// changes or the account is disabled.
pub async fn save_user(state: &AppState, u: UserInput, create: bool) -> Result<i64, Refused> {
    let mut errors = Vec::new();
    let username = u.username.trim().to_string();
    let valid_name = (3..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !valid_name {
        errors.push(FieldError {
            path: "username".into(),
            message: "3–64 of a-z 0-9 . _ -".into(),
        });
    }
    if u.full_name.trim().is_empty() || u.full_name.chars().count() > 200 {
        errors.push(FieldError {
            path: "full_name".into(),
            message: "must be 1–200 characters".into(),
        });
    }
    let password = u.password.as_deref().filter(|p| !p.is_empty());
    match password {
        None if create => errors.push(FieldError {
            path: "password".into(),
            message: "required for a new user".into(),
        }),
        Some(p) if p.chars().count() < 8 || p.chars().count() > 256 => errors.push(FieldError {
            path: "password".into(),
            message: "8–256 characters".into(),
        }),
        _ => {}
    }
    let known: HashSet<String> = agencies::list(&state.db)
        .await?
        .into_iter()
        .map(|a| a.code)
        .collect();
    for (i, r) in u.roles.iter().enumerate() {
        if r.role.parse::<Role>().is_err() {
            errors.push(FieldError {
                path: format!("roles[{i}].role"),
                message: format!("unknown role {:?}", r.role),
            });
        }
        if !known.contains(&r.agency) {
            errors.push(FieldError {
                path: format!("roles[{i}].agency"),
                message: format!("unknown agency {:?}", r.agency),
            });
        }
    }
    let existing = users::by_username(&state.db, &username).await?;
    match (&existing, create) {
        (Some(_), true) => errors.push(FieldError {
            path: "username".into(),
            message: "already taken".into(),
        }),
        (None, false) => return Err(Refused::Store(StoreError::NotFound)),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(Refused::Invalid(errors));
    }
    let hash = match password {
        Some(p) => {
            let p = p.to_string();
            Some(
                tokio::task::spawn_blocking(move || crate::auth::password::hash(&p))
                    .await
                    .map_err(|_| invalid("password", "could not hash"))?
                    .map_err(|e| invalid("password", e.to_string()))?,
            )
        }
        None => None,
    };
    let pairs: Vec<(&str, &str)> = u
        .roles
        .iter()
        .map(|r| (r.agency.as_str(), r.role.as_str()))
        .collect();
    let mut tx = state.db.begin().await?;
    let id = match existing {
        None => {
            users::create(
                &mut tx,
                &username,
                u.full_name.trim(),
                hash.as_deref().unwrap_or_default(),
            )
            .await?
        }
        Some(e) => {
            users::set_profile(&mut tx, e.id, u.full_name.trim(), u.disabled).await?;
            if let Some(h) = &hash {
                users::set_password(&mut tx, e.id, h).await?;
            }
            if hash.is_some() || u.disabled {
                auth_repo::end_sessions(&mut tx, e.id).await?;
            }
            e.id
        }
    };
    users::set_roles(&mut tx, id, &pairs).await?;
    tx.commit().await?;
    Ok(id)
}
