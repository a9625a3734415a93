//! `authify import authify-api`: argument parsing and printing; the work is in `crate::import`.

use clap::Subcommand;
use serde_json::json;

use crate::app::Handles;
use crate::config::Settings;
use crate::import::{self, Options};
use crate::runtime::audit::{Actor, AuditEvent};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import an authify-api 0.5 database (users, organizations, groups, identities, API keys,
    /// trusted delegates) into this Authify's database, in one transaction, keeping ids and every
    /// credential. Prints a report of what was imported and what was skipped and why.
    #[command(name = "authify-api")]
    AuthifyApi {
        /// The authify-api database: sqlite://path, postgres://… or mysql://… (read only).
        #[arg(long, value_name = "DATABASE URL")]
        from: String,
        /// Check and write everything, then roll back: nothing is committed.
        #[arg(long)]
        dry_run: bool,
        /// Import into a database that is not empty: rows whose id or unique value (email,
        /// handle, name, access key) is already there are skipped, and so are rows depending on them.
        #[arg(long)]
        merge: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(settings: &Settings, command: ImportCommand) -> Result<(), String> {
    let ImportCommand::AuthifyApi { from, dry_run, merge, json } = command;
    let handles = Handles::open(settings).await.map_err(|e| e.to_string())?;
    let directory = &handles.directory;
    let started = std::time::Instant::now();
    let result =
        import::import_authify_api(&directory.store, &from, Options { dry_run, merge }, directory.clock.now()).await;
    if let Ok(report) = &result
        && report.committed
    {
        let event =
            AuditEvent::new(Actor::cli(), "import.authify-api").detail(json!({"tables": report.to_json()["tables"]}));
        directory.audit.record(event).await;
    }
    handles.finish().await;
    let report = result.map_err(|e| e.to_string())?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "import finished");
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}
