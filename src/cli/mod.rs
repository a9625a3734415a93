//! The command line: one binary, one subcommand per job; `serve` is the default. Every subcommand
//! reads the same settings as the server.

mod client;
mod delegate;
mod import;
mod keys;
mod keys_shared;
mod serve;
mod user;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(name = "authify", version, about = "Authify: an authentication service that signs ECDSA JWTs")]
pub struct Cli {
    /// A TOML settings file, layered under the AUTHIFY_* environment variables.
    #[arg(long, env = "AUTHIFY_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage OAuth / OpenID Connect clients (relying parties).
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Manage trusted delegates (services that act for users).
    #[command(subcommand)]
    Delegate(delegate::DelegateCommand),
    /// Import another service's database (`authify import authify-api --from <URL>`).
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Print the OpenAPI document (JSON).
    Openapi,
}

/// Logs go to stderr; RUST_LOG sets the level (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

/// Runs a parsed command line; the error is the one line to print.
pub fn run(cli: Cli) -> Result<(), String> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        println!("{}", crate::http::openapi_json());
        return Ok(());
    }
    let settings = Settings::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    if let Command::Keys(command) = command {
        return keys::run(&settings, command);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        match command {
            Command::Serve => serve::run(settings).await,
            Command::Migrate => {
                crate::app::open_store(&settings).await.map_err(|e| e.to_string())?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Command::User(command) => user::run(&settings, command).await,
            Command::Delegate(command) => delegate::run(&settings, command).await,
            Command::Client(command) => client::run(&settings, command).await,
            Command::Import(command) => import::run(&settings, command).await,
            Command::Keys(_) | Command::Openapi => Ok(()),
        }
    })
}

/// Unix seconds as RFC 3339 in UTC (`2026-11-23T10:00:00Z`).
fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map_or_else(|| seconds.to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}
