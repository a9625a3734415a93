//! `authify keys generate`: write a new key pair where the settings point; `authify keys list`: the
//! key the service signs and verifies with, by the `kid` it publishes.

use clap::Subcommand;

use crate::config::Settings;
use crate::crypto::{Algorithm, Keyring, keyfile};
use crate::service::audit::{Actor, AuditEvent};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a key pair at AUTHIFY_PRIVKEY_PATH / AUTHIFY_PUBKEY_PATH (never overwrites).
    Generate {
        /// ES256, ES384 or ES512 (default: AUTHIFY_JWT_ALGORITHM).
        #[arg(long)]
        algorithm: Option<Algorithm>,
    },
    /// Show the key at AUTHIFY_PRIVKEY_PATH / AUTHIFY_PUBKEY_PATH: its kid (as published in the JWKS),
    /// algorithm and files, after the same checks `serve` makes.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
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
            audit_generation(settings, algorithm);
            println!("generated an {algorithm} key pair: {} (mode 0600) and {}", private.display(), public.display());
            if algorithm != settings.jwt_algorithm {
                println!("set AUTHIFY_JWT_ALGORITHM={algorithm} to use it");
            }
            Ok(())
        }
        KeysCommand::List { json } => list(settings, json),
    }
}

fn list(settings: &Settings, json: bool) -> Result<(), String> {
    let (private, public) = (&settings.privkey_path, &settings.pubkey_path);
    let pair = keyfile::load(settings.jwt_algorithm, private, public).map_err(|e| e.to_string())?;
    let keyring = Keyring::new(&pair).map_err(|e| format!("AUTHIFY_PRIVKEY_PATH: the key cannot be used: {e}"))?;
    let (kid, algorithm) = (keyring.kid(), keyring.algorithm());
    if json {
        let key = serde_json::json!({
            "kid": kid, "alg": algorithm.name(), "use": "signing and verifying",
            "private_key": private, "public_key": public,
        });
        println!("{}", serde_json::json!([key]));
    } else {
        println!("{:<43}  {:<5}  {:<21}  FILES", "KID", "ALG", "USE");
        println!(
            "{kid:<43}  {algorithm:<5}  {:<21}  {}, {}",
            "signing and verifying",
            private.display(),
            public.display()
        );
    }
    Ok(())
}

/// Records the generation on the audit trail when the database can be reached (keys may be made
/// before there is one, so a failure is only a warning).
fn audit_generation(settings: &Settings, algorithm: Algorithm) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        eprintln!("warning: could not write the audit trail: no async runtime");
        return;
    };
    runtime.block_on(async {
        match crate::app::open_store(settings).await {
            Ok(store) => {
                let event = AuditEvent::new(Actor::cli(), "keys.generate")
                    .detail(serde_json::json!({"algorithm": algorithm.name(), "private_key": settings.privkey_path}));
                super::audit(&store, event).await;
                let _ = store.close().await;
            }
            Err(err) => eprintln!("warning: could not write the audit trail: {err}"),
        }
    });
}
