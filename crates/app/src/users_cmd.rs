//! `motcua user …`: officers and machine tokens from the command line.

use crate::config::{Common, usage};
use clap::Subcommand;
use motcua_service::ServiceError;
use motcua_service::users::{RoleInput, UserInput};
use motcua_store::repo::users;
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

pub async fn run(common: &Common, cmd: UserCommand) -> anyhow::Result<()> {
    let db = crate::serve::open_database(common).await?;
    motcua_store::migrate::run(&db)
        .await
        .map_err(|e| usage(e.to_string()))?;
    let result = run_on(common, &db, cmd).await;
    db.close().await;
    result
}

async fn run_on(common: &Common, db: &motcua_store::Db, cmd: UserCommand) -> anyhow::Result<()> {
    let services = crate::serve::services_of(common, db.clone());
    match cmd {
        UserCommand::Add {
            username,
            password_stdin: _,
            agency,
            roles,
            full_name,
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| usage(format!("cannot read the password: {e}")))?;
            let password = password.strip_suffix('\n').unwrap_or(&password);
            let password = password.strip_suffix('\r').unwrap_or(password);
            let input = UserInput {
                full_name: full_name.clone().unwrap_or_else(|| username.clone()),
                username: username.clone(),
                password: Some(password.to_string()),
                disabled: false,
                roles: roles
                    .iter()
                    .map(|r| RoleInput {
                        agency: agency.clone(),
                        role: r.clone(),
                    })
                    .collect(),
            };
            services
                .save_user_unchecked(input, true)
                .await
                .map_err(|e| refused(&e))?;
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
            let token = services
                .issue_api_token(user.id, &name, days)
                .await
                .map_err(|e| refused(&e))?;
            eprintln!("token {} for {username} ({}); shown once:", token.id, name.trim());
            println!("{}", token.secret);
        }
    }
    Ok(())
}

/// A refusal of the services as the command line says it: one line, exit code 2 for bad
/// input; anything else is a failure.
fn refused(e: &ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Invalid(errors) => usage(
            errors
                .iter()
                .map(|f| match f.path.as_str() {
                    "" => f.msg.en(),
                    path => format!("{}: {}", option_of(path), f.msg.en()),
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => match other.msg() {
            Some(m) => usage(m.en()),
            None => anyhow::anyhow!("{other}"),
        },
    }
}

/// The command-line option an input field comes from.
fn option_of(path: &str) -> String {
    match path {
        p if p.starts_with("roles[") && p.ends_with(".agency") => "--agency".into(),
        p if p.starts_with("roles[") => "--role".into(),
        "full_name" => "--full-name".into(),
        "name" => "--name".into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}
