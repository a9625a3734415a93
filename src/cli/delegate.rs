//! `authify delegate add|list|remove`: trusted delegates, the services that act for users.

use clap::Subcommand;
use serde_json::{Value, json};

use super::rfc3339;
use crate::app::Handles;
use crate::config::Settings;
use crate::error::Error;
use crate::runtime::audit::{Actor, AuditEvent};
use crate::service::directory::delegates;
use crate::store::delegates::Delegate;

#[derive(Debug, Subcommand)]
pub enum DelegateCommand {
    /// Register a trusted delegate; prints its access key and secret (the secret only this once).
    Add {
        /// 1 to 64 letters, digits, '.', '_' or '-'; shown in tokens as `act.sub = "delegate:<name>"`.
        name: String,
        /// What the delegate is, for the people who read the list.
        #[arg(long)]
        description: Option<String>,
        /// Print `{"access": …, "secret": …}` and nothing else on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List trusted delegates: name, access key and creation time (never the secret).
    List {
        /// Print a JSON array of `{"name", "access", "description", "created_at"}`.
        #[arg(long)]
        json: bool,
    },
    /// Remove a trusted delegate; its access key and secret stop working.
    Remove {
        /// The name given to `delegate add`.
        name: String,
    },
}

pub async fn run(settings: &Settings, command: DelegateCommand) -> Result<(), String> {
    let handles = Handles::open(settings).await.map_err(|e| e.to_string())?;
    let result = run_with(&handles, command).await;
    handles.finish().await;
    result
}

async fn run_with(handles: &Handles, command: DelegateCommand) -> Result<(), String> {
    let (directory, audit) = (&handles.directory, &handles.directory.audit);
    match command {
        DelegateCommand::Add { name, description, json } => {
            let created = delegates::create_delegate(directory, &name, description, None)
                .await
                .map_err(|e| describe(e, &name))?;
            let delegate = &created.delegate;
            let event = AuditEvent::new(Actor::cli(), "trusted-delegates.create")
                .target(format!("trusted-delegates:{}", delegate.id))
                .detail(json!({"attributes": {"name": delegate.name, "description": delegate.description}}));
            audit.record(event).await;
            let access = &created.delegate.access_key;
            if json {
                println!("{}", json!({ "access": access, "secret": created.secret }));
            } else {
                println!("access key: {access}");
                println!("secret:     {}", created.secret);
                println!("Store the secret now: it is not kept and cannot be shown again.");
            }
        }
        DelegateCommand::List { json } => {
            let all = delegates::list_delegates(directory).await.map_err(|e| e.to_string())?;
            if json {
                println!("{}", Value::Array(all.iter().map(as_json).collect()));
            } else {
                print!("{}", table(&all));
            }
        }
        DelegateCommand::Remove { name } => {
            let removed = delegates::remove_delegate(directory, &handles.sessions, &name)
                .await
                .map_err(|e| describe(e, &name))?;
            let event = AuditEvent::new(Actor::cli(), "trusted-delegates.delete")
                .target(format!("trusted-delegates:{}", removed.id))
                .detail(json!({"name": removed.name}));
            audit.record(event).await;
            println!("removed delegate {name}");
        }
    }
    Ok(())
}

/// The error line, naming the delegate where the generic text would not.
fn describe(err: Error, name: &str) -> String {
    match err {
        Error::Taken { field: "name" } => format!("a delegate named {name} already exists"),
        Error::NotFound => format!("no delegate named {name}"),
        other => other.to_string(),
    }
}

fn as_json(delegate: &Delegate) -> Value {
    json!({
        "name": delegate.name,
        "access": delegate.access_key,
        "description": delegate.description,
        "created_at": rfc3339(delegate.created_at),
    })
}

/// Aligned columns with a header line; only the header when there are no delegates.
fn table(all: &[Delegate]) -> String {
    let width = all.iter().map(|d| d.name.len()).max().unwrap_or(0).max("NAME".len());
    let access_width = all.iter().map(|d| d.access_key.len()).max().unwrap_or(0).max("ACCESS KEY".len());
    let mut out = format!("{:width$}  {:access_width$}  CREATED AT\n", "NAME", "ACCESS KEY");
    for d in all {
        out.push_str(&format!("{:width$}  {:access_width$}  {}\n", d.name, d.access_key, rfc3339(d.created_at)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delegate(name: &str, created_at: i64) -> Delegate {
        Delegate {
            id: 1,
            name: name.into(),
            description: None,
            access_key: "a".repeat(40),
            secret_hash: "h".repeat(64),
            scopes: "user_access".into(),
            created_at,
        }
    }

    #[test]
    fn the_table_aligns_columns_and_shows_times_in_utc() {
        let out = table(&[delegate("ci", 0), delegate("a-much-longer-name", 1_795_435_200)]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("NAME                {:40}  CREATED AT", "ACCESS KEY"));
        assert_eq!(lines[1], format!("ci                  {}  1970-01-01T00:00:00Z", "a".repeat(40)));
        assert!(lines[2].ends_with("  2026-11-23T12:00:00Z"), "{}", lines[2]);
        assert_eq!(table(&[]).lines().count(), 1);
    }
}
