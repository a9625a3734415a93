//! `authify keys generate`: write a new key pair where the settings point; `authify keys rotate`:
//! start a rotation (SPEC §6, [`crate::crypto::rotation`]); `authify keys list`: the keys the
//! service signs and verifies with, by the `kid` it publishes, and what each does when. With the
//! shared key store (AUTHIFY_KEY_STORE=database) `rotate` and `list` work on the database
//! ([`super::keys_shared`]).

use std::path::Path;

use clap::Subcommand;

use super::keys_shared;
use crate::app::Handles;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::crypto::keyfile::{self, KeyPair};
use crate::crypto::rotation::{KeySet, RotationPaths, RotationTimes};
use crate::crypto::{Algorithm, kid_of};
use crate::runtime::audit::{Actor, AuditEvent};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a key pair at AUTHIFY_PRIVKEY_PATH / AUTHIFY_PUBKEY_PATH (never overwrites).
    Generate {
        /// ES256, ES384 or ES512 (default: AUTHIFY_JWT_ALGORITHM).
        #[arg(long)]
        algorithm: Option<Algorithm>,
    },
    /// Start a rotation: a new pair is published at the next start of the service and signs after
    /// AUTHIFY_KEY_ROTATION_DELAY; the current one verifies until every token it signed has expired.
    /// Once the new key signs, the next rotation first makes it the pair at the configured paths.
    /// With AUTHIFY_KEY_STORE=database the new key goes to the database and running instances
    /// publish it within AUTHIFY_KEY_POLL_MS, without a restart.
    Rotate {
        /// The new key signs at once (shared key store only): for a compromised key.
        #[arg(long)]
        now: bool,
        /// Retire this kid at once: its tokens are refused by every instance within
        /// AUTHIFY_KEY_POLL_MS (shared key store only; needs --now). A kid may begin with '-'.
        #[arg(long, requires = "now", value_name = "KID", allow_hyphen_values = true)]
        retire: Option<String>,
    },
    /// Show the keys: kid (as published in the JWKS), algorithm, what each does when, and files,
    /// after the same checks `serve` makes.
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
            let detail = serde_json::json!({"algorithm": algorithm.name(), "private_key": private});
            audit_key_event(settings, "keys.generate", detail);
            println!("generated an {algorithm} key pair: {} (mode 0600) and {}", private.display(), public.display());
            if algorithm != settings.jwt_algorithm {
                println!("set AUTHIFY_JWT_ALGORITHM={algorithm} to use it");
            }
            Ok(())
        }
        KeysCommand::Rotate { now, retire } if settings.shared_keys() => {
            keys_shared::run(settings, keys_shared::Request::Rotate { now, retire })
        }
        KeysCommand::List { json } if settings.shared_keys() => {
            keys_shared::run(settings, keys_shared::Request::List { json })
        }
        KeysCommand::Rotate { now: false, .. } => rotate(settings),
        KeysCommand::Rotate { .. } => {
            Err("AUTHIFY_KEY_STORE: --now and --retire need the shared key store (AUTHIFY_KEY_STORE=database)".into())
        }
        KeysCommand::List { json } => list(settings, json),
    }
}

fn rotate(settings: &Settings) -> Result<(), String> {
    let paths = RotationPaths::new(&settings.privkey_path, &settings.pubkey_path);
    let now = SystemClock.now();
    let keys = KeySet::load(settings.jwt_algorithm, &paths, now)?;
    let mut times = keys.times;
    if let Some((next, signs_from)) = &keys.next {
        if now < *signs_from {
            return Err(format!(
                "AUTHIFY_PRIVKEY_PATH: a rotation is in progress: {} signs from {}; rotate again after that",
                kid_of(next),
                timestamp(*signs_from)
            ));
        }
        if let Some((previous, until)) = &keys.previous {
            return Err(format!(
                "AUTHIFY_PRIVKEY_PATH: {} still verifies tokens until {}; rotate again after that",
                kid_of(previous),
                timestamp(*until)
            ));
        }
        // The next pair signs already: it becomes the configured pair, the current one the previous.
        let moves = [
            (&paths.private, &paths.previous_private),
            (&paths.public, &paths.previous_public),
            (&paths.next_private, &paths.private),
            (&paths.next_public, &paths.public),
        ];
        for (from, to) in moves {
            std::fs::rename(from, to).map_err(|e| {
                format!("AUTHIFY_PRIVKEY_PATH: cannot move {} to {}: {e}", from.display(), to.display())
            })?;
        }
        times = RotationTimes {
            next_signs_from: None,
            previous_verifies_until: Some(signs_from.saturating_add(settings.token_lifetime())),
        };
        paths.write_times(&times)?;
    }
    keyfile::generate_files(settings.jwt_algorithm, &paths.next_private, &paths.next_public)
        .map_err(|e| e.to_string())?;
    let signs_from = now + i64::from(settings.key_rotation_delay);
    paths.write_times(&RotationTimes { next_signs_from: Some(signs_from), ..times })?;
    let next = kid_of(
        &keyfile::load(settings.jwt_algorithm, &paths.next_private, &paths.next_public).map_err(|e| e.to_string())?,
    );
    audit_key_event(settings, "keys.rotate", serde_json::json!({"kid": next, "signs_from": timestamp(signs_from)}));
    println!(
        "new key {next} ({}, {}); it signs from {}",
        paths.next_private.display(),
        paths.next_public.display(),
        timestamp(signs_from)
    );
    println!("restart every instance before then, so that each publishes it before it signs");
    Ok(())
}

/// One row of `keys list`.
struct Listed<'a> {
    pair: &'a KeyPair,
    state: String,
    private: &'a Path,
    public: &'a Path,
}

fn list(settings: &Settings, json: bool) -> Result<(), String> {
    let paths = RotationPaths::new(&settings.privkey_path, &settings.pubkey_path);
    let now = SystemClock.now();
    let keys = KeySet::load(settings.jwt_algorithm, &paths, now)?;
    let lifetime = settings.token_lifetime();
    let mut rows = Vec::new();
    let current_state = match &keys.next {
        None => "signing".to_owned(),
        Some((_, from)) if now < *from => format!("signing until {}", timestamp(*from)),
        Some((_, from)) => format!("verifying until {}", timestamp(from.saturating_add(lifetime))),
    };
    rows.push(Listed { pair: &keys.current, state: current_state, private: &paths.private, public: &paths.public });
    if let Some((pair, from)) = &keys.next {
        let state =
            if now < *from { format!("published, signing from {}", timestamp(*from)) } else { "signing".to_owned() };
        rows.push(Listed { pair, state, private: &paths.next_private, public: &paths.next_public });
    }
    if let Some((pair, until)) = &keys.previous {
        let state = format!("verifying until {}", timestamp(*until));
        rows.push(Listed { pair, state, private: &paths.previous_private, public: &paths.previous_public });
    }
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|row| {
                serde_json::json!({
                    "kid": kid_of(row.pair), "alg": row.pair.algorithm.name(), "state": row.state,
                    "private_key": row.private, "public_key": row.public,
                })
            })
            .collect();
        println!("{}", serde_json::Value::from(rows));
    } else {
        println!("{:<43}  {:<5}  {:<49}  FILES", "KID", "ALG", "STATE");
        for row in rows {
            let (kid, algorithm) = (kid_of(row.pair), row.pair.algorithm);
            println!(
                "{kid:<43}  {algorithm:<5}  {:<49}  {}, {}",
                row.state,
                row.private.display(),
                row.public.display()
            );
        }
    }
    Ok(())
}

fn timestamp(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map_or_else(|| unix.to_string(), |t| t.to_rfc3339())
}

/// Records a key event on the audit trail when the database can be reached (keys may be made
/// before there is one, so a failure is only a warning).
fn audit_key_event(settings: &Settings, action: &'static str, detail: serde_json::Value) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        eprintln!("warning: could not write the audit trail: no async runtime");
        return;
    };
    runtime.block_on(async {
        match Handles::open(settings).await {
            Ok(handles) => {
                handles.directory.audit.record(AuditEvent::new(Actor::cli(), action).detail(detail)).await;
                handles.finish().await;
                let _ = handles.directory.store.close().await;
            }
            Err(err) => eprintln!("warning: could not write the audit trail: {err}"),
        }
    });
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::KeysCommand;
    use crate::cli::{Cli, Command};

    #[test]
    fn a_kid_beginning_with_a_hyphen_is_a_value_of_retire() {
        // kids are base64url: one in 64 begins with '-' (a flaky test found it).
        let parsed = Cli::try_parse_from(["authify", "keys", "rotate", "--now", "--retire", "-5Jq2"]).expect("parses");
        let rotate = match parsed.command {
            Some(Command::Keys(KeysCommand::Rotate { now, retire })) => (now, retire),
            other => panic!("{other:?}"),
        };
        assert_eq!(rotate, (true, Some("-5Jq2".to_owned())));
        assert!(
            Cli::try_parse_from(["authify", "keys", "rotate", "--retire", "-5Jq2"]).is_err(),
            "--retire needs --now"
        );
    }
}
