//! Citizens' accounts: registration by phone or e-mail with a one-time code sent through the
//! notification port (the outbox), sign-in with throttling, password reset, sessions.

use crate::AppState;
use crate::auth::{constant_time_eq, new_secret, secret_hash};
use chrono::{DateTime, Duration, Utc};
use motcua_domain::dossier::identity::PhoneVn;
use motcua_store::StoreError;
use motcua_store::repo::{citizens as repo, lifecycle};
use rand::Rng;

pub const SESSION_COOKIE: &str = "motcua_citizen";
pub const SESSION_HOURS: i64 = 24;
/// One-time codes live 10 minutes and allow 5 attempts.
pub const CODE_MINUTES: i64 = 10;
pub const CODE_ATTEMPTS: i64 = 5;

#[derive(Debug, PartialEq, Eq)]
pub enum CitizenError {
    /// (field, message in Vietnamese)
    Invalid(Vec<(&'static str, String)>),
    WrongCode,
    WrongPassword,
    NotVerified,
    TooMany(u64),
    Internal,
}

impl From<StoreError> for CitizenError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => CitizenError::Invalid(vec![(
                "login",
                "Số điện thoại hoặc thư điện tử này đã có tài khoản. Hãy đăng nhập hoặc lấy lại mật khẩu."
                    .into(),
            )]),
            other => {
                tracing::error!(error = %other, "citizen storage error");
                CitizenError::Internal
            }
        }
    }
}

/// A phone number (normalised to 0XXXXXXXXX) or an e-mail address (lower case).
pub fn normalise_login(s: &str) -> Result<(String, &'static str), String> {
    let s = s.trim();
    if s.contains('@') {
        let lower = s.to_lowercase();
        let ok = lower.len() <= 200
            && lower.split_once('@').is_some_and(|(u, d)| {
                !u.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
            })
            && !lower.contains(' ');
        if ok {
            Ok((lower, "email"))
        } else {
            Err("Thư điện tử không hợp lệ.".into())
        }
    } else {
        PhoneVn::parse(s)
            .map(|p| (p.as_str().to_string(), "phone"))
            .map_err(|_| "Số điện thoại không hợp lệ (10 chữ số, bắt đầu bằng 0).".into())
    }
}

fn check_password(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if n < 8 {
        Err("Mật khẩu cần ít nhất 8 ký tự.".into())
    } else if n > 256 {
        Err("Mật khẩu quá dài.".into())
    } else {
        Ok(())
    }
}

async fn hash(password: &str) -> Result<String, CitizenError> {
    let p = password.to_string();
    tokio::task::spawn_blocking(move || crate::auth::password::hash(&p))
        .await
        .map_err(|_| CitizenError::Internal)?
        .map_err(|_| CitizenError::Internal)
}

/// Issues a 6-digit code and queues it to the citizen's phone or e-mail.
async fn send_code(
    state: &AppState,
    tx: &mut motcua_store::Tx,
    c_id: i64,
    login: &str,
    kind: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<(), CitizenError> {
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
    repo::new_code(
        tx,
        c_id,
        purpose,
        &secret_hash(&code),
        now + Duration::minutes(CODE_MINUTES),
        now,
    )
    .await?;
    let what = if purpose == "verify" {
        "xác thực tài khoản"
    } else {
        "đặt lại mật khẩu"
    };
    let payload = serde_json::json!({
        "to": login,
        "channel": if kind == "phone" { "sms" } else { "email" },
        "purpose": purpose,
        "message": format!("Mã {what} motcua: {code}. Mã có hiệu lực {CODE_MINUTES} phút. Không chia sẻ mã này cho ai."),
    });
    lifecycle::enqueue_message(tx, "notify_citizen", &payload.to_string(), now).await?;
    let _ = state;
    Ok(())
}

/// Registers (or re-registers an unverified) account and sends a verification code.
pub async fn register(
    state: &AppState,
    login: &str,
    full_name: &str,
    password: &str,
) -> Result<String, CitizenError> {
    let mut errors = Vec::new();
    let norm = normalise_login(login);
    if let Err(e) = &norm {
        errors.push(("login", e.clone()));
    }
    if full_name.trim().is_empty() || full_name.chars().count() > 200 {
        errors.push(("full_name", "Nhập họ và tên (tối đa 200 ký tự).".into()));
    }
    if let Err(e) = check_password(password) {
        errors.push(("password", e));
    }
    let Ok((login, kind)) = norm else {
        return Err(CitizenError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(CitizenError::Invalid(errors));
    }
    if let Err(wait) = state.lookup_limits_register(&login) {
        return Err(CitizenError::TooMany(wait));
    }
    let hash = hash(password).await?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let id = repo::upsert_unverified(&mut tx, &login, kind, full_name.trim(), &hash, now).await?;
    send_code(state, &mut tx, id, &login, kind, "verify", now).await?;
    tx.commit().await?;
    Ok(login)
}

async fn check_code(
    state: &AppState,
    citizen_id: i64,
    purpose: &str,
    code: &str,
) -> Result<(), CitizenError> {
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let Some((id, stored, expires, attempts)) = repo::live_code(&mut tx, citizen_id, purpose).await? else {
        return Err(CitizenError::WrongCode);
    };
    if expires <= now || attempts >= CODE_ATTEMPTS {
        return Err(CitizenError::WrongCode);
    }
    let ok = constant_time_eq(stored.as_bytes(), secret_hash(code.trim()).as_bytes());
    repo::code_attempt(&mut tx, id, ok, now).await?;
    if ok && purpose == "verify" {
        repo::mark_verified(&mut tx, citizen_id, now).await?;
    }
    tx.commit().await?;
    if ok { Ok(()) } else { Err(CitizenError::WrongCode) }
}

/// Confirms an account with its code.
pub async fn verify(state: &AppState, login: &str, code: &str) -> Result<(), CitizenError> {
    let (login, _) = normalise_login(login).map_err(|e| CitizenError::Invalid(vec![("login", e)]))?;
    let c = repo::by_login(&state.db, &login)
        .await?
        .ok_or(CitizenError::WrongCode)?;
    check_code(state, c.id, "verify", code).await
}

/// Signs in; returns the Set-Cookie value of a new session.
pub async fn login(
    state: &AppState,
    login: &str,
    password: &str,
    address: &str,
) -> Result<String, CitizenError> {
    let (login, _) = normalise_login(login).map_err(|_| CitizenError::WrongPassword)?;
    let key = format!("citizen:{login}");
    state
        .login_throttle
        .check(&key, address)
        .map_err(CitizenError::TooMany)?;
    let c = repo::by_login(&state.db, &login).await?;
    let p = password.to_string();
    let stored = c.as_ref().map(|c| c.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || match stored {
        Some(h) => crate::auth::password::verify(&p, &h),
        None => {
            crate::auth::password::dummy_verify(&p);
            false
        }
    })
    .await
    .map_err(|_| CitizenError::Internal)?;
    let Some(c) = c.filter(|_| ok) else {
        state.login_throttle.failed(&key, address);
        return Err(CitizenError::WrongPassword);
    };
    state.login_throttle.succeeded(&key);
    if !c.verified {
        return Err(CitizenError::NotVerified);
    }
    let secret = new_secret();
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    repo::create_session(
        &mut tx,
        &secret_hash(&secret),
        c.id,
        &new_secret(),
        now,
        now + Duration::hours(SESSION_HOURS),
    )
    .await?;
    tx.commit().await?;
    Ok(session_cookie(state, &secret, SESSION_HOURS * 3600))
}

pub fn session_cookie(state: &AppState, secret: &str, max_age: i64) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Sends a reset code if the account exists; answers the same either way.
pub async fn request_reset(state: &AppState, login: &str) -> Result<(), CitizenError> {
    let Ok((login, kind)) = normalise_login(login) else {
        return Ok(());
    };
    if let Err(wait) = state.lookup_limits_register(&login) {
        return Err(CitizenError::TooMany(wait));
    }
    if let Some(c) = repo::by_login(&state.db, &login).await? {
        let now = Utc::now();
        let mut tx = state.db.begin().await?;
        send_code(state, &mut tx, c.id, &login, kind, "reset", now).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Sets a new password with a reset code (and verifies the account: the code proves it).
pub async fn reset(state: &AppState, login: &str, code: &str, password: &str) -> Result<(), CitizenError> {
    check_password(password).map_err(|e| CitizenError::Invalid(vec![("password", e)]))?;
    let (login, _) = normalise_login(login).map_err(|e| CitizenError::Invalid(vec![("login", e)]))?;
    let c = repo::by_login(&state.db, &login)
        .await?
        .ok_or(CitizenError::WrongCode)?;
    check_code(state, c.id, "reset", code).await?;
    let hash = hash(password).await?;
    let mut tx = state.db.begin().await?;
    repo::set_password(&mut tx, c.id, &hash).await?;
    repo::mark_verified(&mut tx, c.id, Utc::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// The signed-in citizen of a request, if any: (account, csrf token).
pub async fn current(state: &AppState, headers: &axum::http::HeaderMap) -> Option<(repo::Citizen, String)> {
    let secret = crate::auth::cookie(headers, SESSION_COOKIE)?;
    let (id, csrf) = repo::session(&state.db, &secret_hash(secret), Utc::now())
        .await
        .ok()??;
    let c = repo::by_id(&state.db, id).await.ok()??;
    Some((c, csrf))
}

pub async fn logout(state: &AppState, headers: &axum::http::HeaderMap) {
    if let Some(secret) = crate::auth::cookie(headers, SESSION_COOKIE)
        && let Ok(mut tx) = state.db.begin().await
    {
        let _ = repo::delete_session(&mut tx, &secret_hash(secret)).await;
        let _ = tx.commit().await;
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_login;

    #[test]
    fn logins_are_phones_or_emails() {
        assert_eq!(
            normalise_login("+84 912 345 678").unwrap(),
            ("0912345678".into(), "phone")
        );
        assert_eq!(
            normalise_login(" An@Example.VN ").unwrap(),
            ("an@example.vn".into(), "email")
        );
        for bad in ["an@", "@x.vn", "an@localhost", "12345", "an @x.vn"] {
            assert!(normalise_login(bad).is_err(), "{bad}");
        }
    }
}
