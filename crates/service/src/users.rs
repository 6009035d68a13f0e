//! Officers' accounts as administrators manage them — users, their roles per agency, their
//! API tokens — shared by the admin pages, the JSON API and the command line.

use crate::auth::{CurrentUser, forbidden};
use crate::{ServiceError, ServiceResult, Services};
use chrono::Duration;
use motcua_domain::access::{Role, TokenKind};
use motcua_domain::identity::{Password, Username};
use motcua_domain::msg;
use motcua_domain::msg::FieldError;
use motcua_domain::msg::quoted;
use motcua_store::repo::{agencies, auth as auth_repo, users};
use std::collections::HashSet;

pub use auth_repo::TokenView;
pub use users::UserView;

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

/// A token issued: its id and its secret (shown this once).
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: i64,
    pub secret: String,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Longest full name.
const MAX_NAME: usize = 200;

fn may_manage(user: &CurrentUser) -> ServiceResult<()> {
    if user.access().may_manage_users() {
        Ok(())
    } else {
        Err(forbidden())
    }
}

fn no_such_token() -> ServiceError {
    ServiceError::NotFound(msg!("token.not_found"))
}

impl Services {
    /// Every user (administrators).
    pub async fn users(&self, user: &CurrentUser) -> ServiceResult<Vec<UserView>> {
        may_manage(user)?;
        Ok(users::list(self.db(), None).await?)
    }

    /// Officers holding a role in an agency: for its members, supervisors above it and
    /// administrators.
    pub async fn agency_users(&self, user: &CurrentUser, code: &str) -> ServiceResult<Vec<UserView>> {
        self.require_read_agency(user, code).await?;
        Ok(users::list(self.db(), Some(code)).await?)
    }

    /// One user by username (administrators).
    pub async fn user(&self, user: &CurrentUser, username: &str) -> ServiceResult<UserView> {
        may_manage(user)?;
        users::by_username(self.db(), username)
            .await?
            .ok_or_else(|| ServiceError::NotFound(msg!("user.unknown", quoted(username))))
    }

    /// Creates a user, or updates one (by username; `create` false): ends their sessions when
    /// the password changes or the account is disabled. Administrators.
    pub async fn save_user(&self, user: &CurrentUser, u: UserInput, create: bool) -> ServiceResult<UserView> {
        may_manage(user)?;
        let username = self.save_user_unchecked(u, create).await?;
        users::by_username(self.db(), &username)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("user {username} saved but not found")))
    }

    /// `save_user` without a signed-in administrator (the command line, the demo): the
    /// username saved.
    pub async fn save_user_unchecked(&self, u: UserInput, create: bool) -> ServiceResult<String> {
        let mut errors = Vec::new();
        let username = Username::parse(&u.username).map_err(|e| errors.push(FieldError::new("username", e)));
        if u.full_name.trim().is_empty() || u.full_name.chars().count() > MAX_NAME {
            errors.push(FieldError::new("full_name", msg!("length", 1, MAX_NAME)));
        }
        let password = match u.password.as_deref().filter(|p| !p.is_empty()) {
            None if create => {
                errors.push(FieldError::new("password", msg!("user.password_required")));
                None
            }
            None => None,
            Some(p) => Password::parse(p)
                .map_err(|e| errors.push(FieldError::new("password", e)))
                .ok(),
        };
        let known: HashSet<String> = agencies::list(self.db())
            .await?
            .into_iter()
            .map(|a| a.code)
            .collect();
        let mut pairs: Vec<(&str, Role)> = Vec::with_capacity(u.roles.len());
        for (i, r) in u.roles.iter().enumerate() {
            match r.role.parse::<Role>() {
                Ok(role) => pairs.push((r.agency.as_str(), role)),
                Err(_) => errors.push(FieldError::new(
                    format!("roles[{i}].role"),
                    msg!("user.role_unknown", quoted(&r.role)),
                )),
            }
            if !known.contains(&r.agency) {
                errors.push(FieldError::new(
                    format!("roles[{i}].agency"),
                    msg!("agency.unknown", quoted(&r.agency)),
                ));
            }
        }
        let existing = match &username {
            Ok(name) => users::by_username(self.db(), name.as_str()).await?,
            Err(()) => None,
        };
        match (&existing, create, &username) {
            (Some(_), true, _) => errors.push(FieldError::new("username", msg!("user.taken"))),
            (None, false, Ok(name)) => {
                return Err(ServiceError::NotFound(msg!(
                    "user.unknown",
                    quoted(name.as_str())
                )));
            }
            _ => {}
        }
        let Ok(username) = username else {
            return Err(ServiceError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let hash = match password {
            Some(p) => Some(
                tokio::task::spawn_blocking(move || crate::auth::password::hash(p.as_str()))
                    .await?
                    .map_err(|e| ServiceError::Internal(e.to_string()))?,
            ),
            None => None,
        };
        let mut tx = self.db().begin().await?;
        let admins_before = users::enabled_admins(&mut tx).await?;
        let id = match existing {
            None => match users::create(
                &mut tx,
                username.as_str(),
                u.full_name.trim(),
                hash.as_deref().unwrap_or_default(),
            )
            .await
            {
                // Another request created the same user at the same moment.
                Err(motcua_store::StoreError::Conflict(_)) => {
                    return Err(ServiceError::invalid("username", msg!("user.taken")));
                }
                other => other?,
            },
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
        // Someone must be left to manage users: the last administrator stays one, enabled.
        if admins_before > 0 && users::enabled_admins(&mut tx).await? == 0 {
            let field = if u.disabled { "disabled" } else { "roles" };
            return Err(ServiceError::invalid(field, msg!("user.last_admin")));
        }
        tx.commit().await?;
        Ok(username.as_str().to_string())
    }

    /// Issues a long-lived API token for a machine client: the caller's own, or (for an
    /// administrator) another user's by username.
    pub async fn create_token(
        &self,
        user: &CurrentUser,
        name: &str,
        for_username: Option<&str>,
        expires_in_days: Option<u32>,
    ) -> ServiceResult<IssuedToken> {
        let owner = match for_username {
            None => user.principal.user_id,
            Some(u) if u == user.principal.username => user.principal.user_id,
            Some(u) => {
                may_manage(user)?;
                users::by_username(self.db(), u)
                    .await?
                    .ok_or_else(|| ServiceError::invalid("username", msg!("user.unknown", quoted(u))))?
                    .id
            }
        };
        self.issue_api_token(owner, name, expires_in_days).await
    }

    /// Issues an API token to a user by id (the command line): checks its name and expiry.
    pub async fn issue_api_token(
        &self,
        owner: i64,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> ServiceResult<IssuedToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ServiceError::invalid("name", msg!("length", 1, 100)));
        }
        if expires_in_days == Some(0) {
            return Err(ServiceError::invalid("expires_in_days", msg!("token.days")));
        }
        let hours = expires_in_days.map(|d| i64::from(d) * 24);
        let secret = self.issue_token(owner, name, TokenKind::Api, hours).await?;
        let id = auth_repo::list_tokens(self.db(), Some(owner))
            .await?
            .last()
            .map(|t| t.id)
            .unwrap_or(0);
        Ok(IssuedToken {
            id,
            secret,
            expires_at: hours.map(|h| self.now() + Duration::hours(h)),
        })
    }

    /// API tokens (never their secrets): the caller's own, or everyone's for an
    /// administrator asking for all.
    pub async fn tokens(&self, user: &CurrentUser, all: bool) -> ServiceResult<Vec<TokenView>> {
        let whose = if all {
            may_manage(user)?;
            None
        } else {
            Some(user.principal.user_id)
        };
        Ok(auth_repo::list_tokens(self.db(), whose).await?)
    }

    /// Revokes an API token: one's own, or any as administrator.
    pub async fn revoke_token(&self, user: &CurrentUser, id: i64) -> ServiceResult<()> {
        let owner = auth_repo::token_owner(self.db(), id)
            .await?
            .ok_or_else(no_such_token)?;
        if owner != user.principal.user_id && !user.access().may_manage_users() {
            // Do not reveal other users' token ids.
            return Err(no_such_token());
        }
        let mut tx = self.db().begin().await?;
        let revoked = auth_repo::revoke_token(&mut tx, id, self.now()).await?;
        tx.commit().await?;
        if revoked {
            Ok(())
        } else {
            Err(ServiceError::NotFound(msg!("token.revoked")))
        }
    }
}
