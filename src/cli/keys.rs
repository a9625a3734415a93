//! `authify keys generate`: write a new key pair where the settings point.

use clap::Subcommand;

use crate::config::Settings;
use crate::crypto::{Algorithm, keyfile};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a key pair at AUTHIFY_PRIVKEY_PATH / AUTHIFY_PUBKEY_PATH (never overwrites).
    Generate {
        /// ES256, ES384 or ES512 (default: AUTHIFY_JWT_ALGORITHM).
        #[arg(long)]
        algorithm: Option<Algorithm>,
    },
}

pub fn run(settings: &Settings, command: KeysCommand) -> Result<(), String> {
    match command {
        KeysCommand::Generate { algorithm } => {
            let algorithm = algorithm.unwrap_or(settings.jwt_algorithm);
            let (private, public) = (&settings.privkey_path, &settings.pubkey_path);
            if private.exists() || public.exists() {
                return Err(format!(
                    "AUTHIFY_PRIVKEY_PATH: {} or {} already exists; move them away first",
                    private.display(),
                    public.display()
                ));
            }
            keyfile::generate_files(algorithm, private, public).map_err(|e| e.to_string())?;
            println!("generated an {algorithm} key pair: {} (mode 0600) and {}", private.display(), public.display());
            if algorithm != settings.jwt_algorithm {
                println!("set AUTHIFY_JWT_ALGORITHM={algorithm} to use it");
            }
            Ok(())
        }
    }
}
