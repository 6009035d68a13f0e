//! `motcua user …`: officers and machine tokens from the command line.

use crate::config::{Common, usage};
use clap::Subcommand;
use motcua_domain::access::Role;
use motcua_store::repo::{agencies, auth, users};
use std::io::Read;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an officer with roles in an agency; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Agency code the roles apply to, e.g. 000.00.06.H56.
        #[arg(long)]
        agency: String,
        /// Role id (repeatable): receiving_officer, leader, specialist, approver, clerk,
        /// result_officer, desk_head, supervisor, admin.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Full name shown on pages (default: the username).
        #[arg(long)]
        full_name: Option<String>,
    },
    /// List users and their roles (never passwords).
    List,
    /// Issue a long-lived API token for a machine client (printed once; store it safely).
    Token {
        #[arg(long)]
        username: String,
        /// What the token is for, e.g. "dvcqg-sync".
        #[arg(long)]
        name: String,
        /// Expire after this many days (default: never; revoke with the API).
        #[arg(long)]
        days: Option<u32>,
    },
}

/// Usernames: 3–64 characters of lowercase ASCII letters, digits, `.`, `_`, `-`.
pub fn check_username(u: &str) -> Result<(), String> {
    let ok = (3..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid username {u:?}: 3–64 of a-z 0-9 . _ -"))
    }
}

/// Minimum password policy.
pub fn check_password(p: &str) -> Result<(), String> {
    if p.chars().count() < 8 {
        return Err("the password must have at least 8 characters".into());
    }
    if p.chars().count() > 256 {
        return Err("the password is longer than 256 characters".into());
    }
    Ok(())
}

pub async fn run(common: &Common, cmd: UserCommand) -> anyhow::Result<()> {
    let db = crate::serve::open_database(common).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let result = run_on(&db, cmd).await;
    db.close().await;
    result
}

async fn run_on(db: &motcua_store::Db, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            username,
            password_stdin: _,
            agency,
            roles,
            full_name,
        } => {
            check_username(&username).map_err(usage)?;
            let roles: Vec<Role> = roles
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<_, _>>()
                .map_err(usage)?;
            if agencies::by_code(db, &agency).await?.is_none() {
                return Err(usage(format!("unknown agency {agency:?}")));
            }
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| usage(format!("cannot read the password: {e}")))?;
            let password = password.strip_suffix('\n').unwrap_or(&password);
            let password = password.strip_suffix('\r').unwrap_or(password);
            check_password(password).map_err(usage)?;
            let hash = motcua_web::auth::password::hash(password)?;
            let mut tx = db.begin().await?;
            let id = match users::create(
                &mut tx,
                &username,
                full_name.as_deref().unwrap_or(&username),
                &hash,
            )
            .await
            {
                Ok(id) => id,
                Err(motcua_store::StoreError::Conflict(m)) => return Err(usage(m)),
                Err(e) => return Err(e.into()),
            };
            let pairs: Vec<(&str, &str)> = roles.iter().map(|r| (agency.as_str(), r.as_str())).collect();
            users::set_roles(&mut tx, id, &pairs).await?;
            tx.commit().await?;
            println!("created user {username} with {} role(s) in {agency}", roles.len());
        }
        UserCommand::List => {
            for u in users::list(db, None).await? {
                let roles: Vec<String> = u.roles.iter().map(|(a, r)| format!("{r}@{a}")).collect();
                println!(
                    "{}\t{}\t{}{}",
                    u.username,
                    u.full_name,
                    roles.join(","),
                    if u.disabled { "\tdisabled" } else { "" }
                );
            }
        }
        UserCommand::Token { username, name, days } => {
            let user = users::by_username(db, &username)
                .await?
                .ok_or_else(|| usage(format!("unknown user {username:?}")))?;
            if name.trim().is_empty() {
                return Err(usage("--name must not be empty"));
            }
            let secret = motcua_web::auth::new_secret();
            let mut tx = db.begin().await?;
            let expires = days.map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d)));
            let id = auth::create_token(
                &mut tx,
                &motcua_web::auth::secret_hash(&secret),
                user.id,
                name.trim(),
                "api",
                expires,
            )
            .await?;
            tx.commit().await?;
            eprintln!("token {id} for {username} ({name}); shown once:");
            println!("{secret}");
        }
    }
    Ok(())
}
