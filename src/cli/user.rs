//! `authify user create|grant-admin`.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::crypto::password::PasswordHasher;
use crate::service::users;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a verified user; the password is asked for (or read from the first line of stdin).
    Create {
        email: String,
        /// Make the user a global admin.
        #[arg(long)]
        admin: bool,
    },
    /// Make an existing user a global admin.
    GrantAdmin { email: String },
}

pub async fn run(settings: &Settings, command: UserCommand) -> Result<(), String> {
    let store = crate::app::open_store(settings).await.map_err(|e| e.to_string())?;
    let now = SystemClock.now();
    match command {
        UserCommand::Create { email, admin } => {
            let password = read_password()?;
            let hasher = PasswordHasher::new(1, 0);
            let user =
                users::create_user(&store, &hasher, now, &email, &password, admin).await.map_err(|e| e.to_string())?;
            let role = if user.admin { "admin" } else { "user" };
            println!("created {role} {} (id {}, handle {})", user.email, user.id, user.handle);
        }
        UserCommand::GrantAdmin { email } => {
            let user = users::grant_admin(&store, now, &email).await.map_err(|e| match e {
                crate::error::Error::NotFound => format!("no user with email {email}"),
                other => other.to_string(),
            })?;
            println!("{} is now an admin", user.email);
        }
    }
    Ok(())
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
