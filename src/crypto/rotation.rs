//! Key rotation on disk (SPEC §6). Beside the configured pair (`private.pem` / `public.pem`) a
//! rotation keeps a *next* pair (`private.next.pem` / `public.next.pem`), published at once and
//! signing from a set time, and the *previous* pair (`….previous.pem`), which only verifies until
//! every token it signed has expired. `<private stem>.rotation.json` holds the two times.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::keyfile::{self, KeyPair};
use super::{Algorithm, Keyring, RotatedPair};

/// The two moments of a rotation, in Unix seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationTimes {
    /// When the next pair starts signing (it is published from the start); none without a next pair.
    pub next_signs_from: Option<i64>,
    /// Until when the previous pair still verifies; none without a previous pair.
    pub previous_verifies_until: Option<i64>,
}

/// Where the files of a rotation live, derived from the configured key paths.
#[derive(Debug, Clone)]
pub struct RotationPaths {
    pub private: PathBuf,
    pub public: PathBuf,
    pub next_private: PathBuf,
    pub next_public: PathBuf,
    pub previous_private: PathBuf,
    pub previous_public: PathBuf,
    pub times: PathBuf,
}

impl RotationPaths {
    pub fn new(private: &Path, public: &Path) -> Self {
        Self {
            private: private.to_path_buf(),
            public: public.to_path_buf(),
            next_private: beside(private, "next.pem"),
            next_public: beside(public, "next.pem"),
            previous_private: beside(private, "previous.pem"),
            previous_public: beside(public, "previous.pem"),
            times: beside(private, "rotation.json"),
        }
    }

    /// The recorded times; none recorded (no rotation yet) reads as the default.
    pub fn read_times(&self) -> Result<RotationTimes, String> {
        match fs::read_to_string(&self.times) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                format!("AUTHIFY_PRIVKEY_PATH: {} is not a key rotation record: {e}", self.times.display())
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(RotationTimes::default()),
            Err(err) => Err(format!("AUTHIFY_PRIVKEY_PATH: cannot read {}: {err}", self.times.display())),
        }
    }

    /// Replaces the record in one step (a new file renamed over the old one).
    pub fn write_times(&self, times: &RotationTimes) -> Result<(), String> {
        let fail = |e: std::io::Error| format!("AUTHIFY_PRIVKEY_PATH: cannot write {}: {e}", self.times.display());
        let temporary = beside(&self.times, "tmp");
        let mut file = fs::File::create(&temporary).map_err(fail)?;
        file.write_all(serde_json::to_string_pretty(times).unwrap_or_default().as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        fs::rename(&temporary, &self.times).map_err(fail)
    }
}

/// The pairs on disk at `now`: the current one, the next with the time it signs from, and the
/// previous with the time it verifies until (left out once that time has passed).
pub struct KeySet {
    /// The record the pairs were read by.
    pub times: RotationTimes,
    pub current: KeyPair,
    pub next: Option<(KeyPair, i64)>,
    pub previous: Option<(KeyPair, i64)>,
}

impl KeySet {
    /// Reads and checks every pair the rotation record names, on `algorithm`'s curve.
    pub fn load(algorithm: Algorithm, paths: &RotationPaths, now: i64) -> Result<Self, String> {
        let load = |private: &Path, public: &Path| keyfile::load(algorithm, private, public).map_err(|e| e.to_string());
        let times = paths.read_times()?;
        let current = load(&paths.private, &paths.public)?;
        let next = match times.next_signs_from {
            Some(from) => Some((load(&paths.next_private, &paths.next_public)?, from)),
            None => None,
        };
        let previous = match times.previous_verifies_until {
            Some(until) if now < until => Some((load(&paths.previous_private, &paths.previous_public)?, until)),
            _ => None,
        };
        Ok(Self { times, current, next, previous })
    }

    /// The keyring of these pairs; tokens live `token_lifetime` seconds (expiry plus leeway).
    pub fn keyring(&self, token_lifetime: i64) -> Result<Keyring, String> {
        let mut rotated = Vec::new();
        if let Some((pair, signs_from)) = &self.next {
            rotated.push(RotatedPair::Next { pair, signs_from: *signs_from, token_lifetime });
        }
        if let Some((pair, verifies_until)) = &self.previous {
            rotated.push(RotatedPair::Previous { pair, verifies_until: *verifies_until });
        }
        Keyring::rotating(&self.current, &rotated)
            .map_err(|e| format!("AUTHIFY_PRIVKEY_PATH: the key cannot be used for signing: {e}"))
    }
}

/// `dir/stem.pem` → `dir/stem.<suffix>`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{stem}.{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_files_sit_beside_the_configured_ones_and_times_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = RotationPaths::new(&dir.path().join("private.pem"), &dir.path().join("public.pem"));
        assert_eq!(paths.next_public, dir.path().join("public.next.pem"));
        assert_eq!(paths.previous_private, dir.path().join("private.previous.pem"));
        assert_eq!(paths.read_times(), Ok(RotationTimes::default()));
        let times = RotationTimes { next_signs_from: Some(100), previous_verifies_until: Some(50) };
        paths.write_times(&times).expect("write");
        assert_eq!(paths.read_times(), Ok(times));
        std::fs::write(&paths.times, "{").expect("write");
        assert!(paths.read_times().is_err_and(|e| e.starts_with("AUTHIFY_PRIVKEY_PATH: ")));
    }
}
