//! `authify user create|grant-admin|disable|enable|unlock|reset-totp`.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use serde_json::json;

use crate::app::Handles;
use crate::config::Settings;
use crate::crypto::password::PasswordHasher;
use crate::domain::{Email, Password, Submitted};
use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::service::account::lockout;
use crate::service::account::totp;
use crate::service::directory::users::{self, NewUserRequest};
use crate::store::users::User;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a verified user; the password is asked for (or read from the first line of stdin).
    Create {
        /// The user's email address (also their login).
        #[arg(value_parser = parse_email)]
        email: Email,
        /// Make the user a global admin.
        #[arg(long)]
        admin: bool,
    },
    /// Make an existing user a global admin.
    GrantAdmin {
        /// The user's email address.
        #[arg(value_parser = parse_email)]
        email: Email,
    },
    /// Disable a user's account: password logins answer 403 until it is enabled again.
    Disable {
        /// The user's email address.
        #[arg(value_parser = parse_email)]
        email: Email,
    },
    /// Enable a disabled user's account again.
    Enable {
        /// The user's email address.
        #[arg(value_parser = parse_email)]
        email: Email,
    },
    /// Lift a lockout after repeated failed logins and forget the failures.
    Unlock {
        /// The login email (also works for an email that has no account).
        email: String,
    },
    /// Remove a user's TOTP second factor and recovery codes (a lost device); they can enrol again.
    ResetTotp {
        /// The user's email address.
        #[arg(value_parser = parse_email)]
        email: Email,
    },
}

pub async fn run(settings: &Settings, command: UserCommand) -> Result<(), String> {
    let handles = Handles::open(settings).await.map_err(|e| e.to_string())?;
    let result = run_with(&handles, command).await;
    handles.finish().await;
    result
}

async fn run_with(handles: &Handles, command: UserCommand) -> Result<(), String> {
    let (directory, audit) = (&handles.directory, &handles.directory.audit);
    match command {
        UserCommand::Create { email, admin } => {
            let password = Submitted::parse(read_password()?, Password::parse);
            let hasher = PasswordHasher::new(1, 0);
            let request = NewUserRequest {
                email: Submitted::parse(email.as_str(), Email::parse),
                password: Some(password),
                handle: None,
                full_name: None,
                admin,
                verified: true,
            };
            let user = users::create_user(directory, &hasher, request).await.map_err(|e| e.to_string())?;
            let detail = json!({"attributes": {"email": user.email, "admin": user.admin}});
            audit.record(cli_event("users.create", &user).detail(detail)).await;
            let role = if user.admin { "admin" } else { "user" };
            println!("created {role} {} (id {}, handle {})", user.email, user.id, user.handle);
        }
        UserCommand::GrantAdmin { email } => {
            let user = users::user_by_email(directory, &email).await.map_err(|e| unknown_user(e, &email))?;
            let user = users::set_admin(directory, user.id, true).await.map_err(|e| e.to_string())?;
            audit.record(cli_event("users.grant-admin", &user)).await;
            println!("{} is now an admin", user.email);
        }
        UserCommand::Disable { email } => {
            let user = users::user_by_email(directory, &email).await.map_err(|e| unknown_user(e, &email))?;
            let (user, ended) =
                users::set_disabled(directory, &handles.sessions, user.id, true).await.map_err(|e| e.to_string())?;
            audit.record(cli_event("users.disable", &user).detail(json!({"sessions_ended": ended}))).await;
            let plural = if ended == 1 { "" } else { "s" };
            println!("{} is now disabled ({ended} session{plural} ended)", user.email);
        }
        UserCommand::Enable { email } => {
            let user = users::user_by_email(directory, &email).await.map_err(|e| unknown_user(e, &email))?;
            let (user, _) =
                users::set_disabled(directory, &handles.sessions, user.id, false).await.map_err(|e| e.to_string())?;
            audit.record(cli_event("users.enable", &user)).await;
            println!("{} is now enabled", user.email);
        }
        UserCommand::Unlock { email } => {
            let had = lockout::unlock(directory, &email).await.map_err(|e| e.to_string())?;
            let what = if had { "unlocked" } else { "was not locked" };
            println!("{} {what}", email.trim());
        }
        UserCommand::ResetTotp { email } => {
            let user = users::user_by_email(directory, &email).await.map_err(|e| unknown_user(e, &email))?;
            let had = totp::reset(directory, user.id).await.map_err(|e| e.to_string())?;
            let what = if had { "second factor removed" } else { "had no second factor" };
            println!("{}: {what}", user.email);
        }
    }
    Ok(())
}

fn cli_event(action: &str, user: &User) -> AuditEvent {
    AuditEvent::new(Actor::cli(), action).target(format!("users:{}", user.id)).detail(json!({"email": user.email}))
}

fn parse_email(text: &str) -> Result<Email, String> {
    Email::parse(text).map_err(|e| e.problem)
}

fn unknown_user(err: Error, email: &Email) -> String {
    match err {
        Error::NotFound => format!("no user with email {email}"),
        other => other.to_string(),
    }
}

fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| format!("cannot read the password: {e}"))?;
        let second = rpassword::prompt_password("Again: ").map_err(|e| format!("cannot read the password: {e}"))?;
        if first != second {
            return Err("the passwords do not match".into());
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
