//! The TOTP second factor (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, ±1 step of drift),
//! computed by the `totp-rs` crate. Secrets are sealed at rest (`crypto::sealed`) and shown once,
//! at enrolment; recovery codes are stored as SHA-256 hashes. A code is accepted at most once: the
//! step of the last accepted code is stored and only a later step is accepted (one conditional
//! UPDATE, so a replay racing the original loses).

use totp_rs::{Algorithm, Builder, Totp};

use crate::crypto::secret::{hash_secret, random_hex};
use crate::crypto::tokens::random_bytes;
use crate::error::Error;
use crate::runtime::request_context;
use crate::service::account::lockout;
use crate::service::auth::Auth;
use crate::service::directory::Directory;
use crate::store::second_factor::TotpFactor;
use crate::store::users::User;

/// Recovery codes handed out at confirmation.
pub const RECOVERY_CODES: usize = 10;
/// 160-bit secrets, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

/// What a user needs to set up their authenticator app.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret, base32 (RFC 4648, no padding).
    pub secret: String,
    /// `otpauth://totp/…` for QR codes.
    pub otpauth_uri: String,
}

/// Starts (or restarts) enrolment: a new pending secret, replacing a pending one.
pub async fn begin_enrolment(auth: &Auth, user: &User) -> Result<Enrolment, Error> {
    if auth.store().totp_factor(user.id).await?.is_some_and(|f| f.enabled) {
        return Err(Error::TotpAlreadyEnabled);
    }
    let secret = random_bytes(SECRET_BYTES);
    let totp = build(auth, secret.clone(), &user.email)?;
    let otpauth_uri = totp.to_url().map_err(|e| Error::internal(anyhow::anyhow!("otpauth URI: {e:?}")))?;
    let sealed = auth.sealing.seal(&secret, &context(user.id)).map_err(Error::internal)?;
    // Refused when a factor is enabled. A pending one that a concurrent enrolment stored between our
    // delete and insert also refuses the insert; then it is replaced once more.
    let now = auth.now();
    let mut stored = auth.store().put_pending_totp(user.id, &sealed, now).await?;
    if !stored && !auth.store().totp_factor(user.id).await?.is_some_and(|f| f.enabled) {
        stored = auth.store().put_pending_totp(user.id, &sealed, now).await?;
    }
    if !stored {
        return Err(Error::TotpAlreadyEnabled);
    }
    Ok(Enrolment { secret: totp.secret().to_base32(), otpauth_uri })
}

/// Turns the pending factor on with the account's password and a first good code; answers the
/// recovery codes (shown once). The password and the code are counted attempts (the lockout): a
/// stolen token alone cannot enrol an attacker's factor.
pub async fn confirm(auth: &Auth, user: &User, password: &str, code: &str) -> Result<Vec<String>, Error> {
    let (owned, user, password, code) = (auth.clone(), user.clone(), password.to_owned(), code.to_owned());
    request_context::run_to_completion(async move { confirm_proven(&owned, &user, &password, &code).await }).await
}

async fn confirm_proven(auth: &Auth, user: &User, password: &str, code: &str) -> Result<Vec<String>, Error> {
    let factor = match auth.store().totp_factor(user.id).await? {
        Some(factor) if factor.enabled => return Err(Error::TotpAlreadyEnabled),
        Some(factor) => factor,
        None => return Err(Error::TotpNotPending),
    };
    // One counted attempt for both: a right password must not start the count afresh.
    let step = lockout::counted(auth, &lockout::account_key(&user.email), async {
        lockout::check_password(auth, user, password, "password").await?;
        matching_step(auth, &factor, code, &user.email)?.ok_or(Error::InvalidSecondFactor)
    })
    .await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| hash_secret(&normalize_recovery_code(c))).collect();
    if !auth.store().enable_totp(user.id, step, &hashes, auth.now()).await? {
        return Err(Error::TotpNotPending);
    }
    Ok(codes)
}

/// Turns the factor off, proven by the account's password and a current code or an unused recovery
/// code, each a counted attempt (the lockout).
pub async fn disable(auth: &Auth, user: &User, password: &str, code: &str) -> Result<(), Error> {
    let (owned, user, password, code) = (auth.clone(), user.clone(), password.to_owned(), code.to_owned());
    request_context::run_to_completion(async move { disable_proven(&owned, &user, &password, &code).await }).await
}

async fn disable_proven(auth: &Auth, user: &User, password: &str, code: &str) -> Result<(), Error> {
    let factor = auth.store().totp_factor(user.id).await?.filter(|f| f.enabled).ok_or(Error::TotpNotEnabled)?;
    lockout::counted(auth, &lockout::account_key(&user.email), async {
        lockout::check_password(auth, user, password, "password").await?;
        match accept_code(auth, user, &factor, Some(code), Some(code)).await? {
            true => Ok(()),
            false => Err(Error::InvalidSecondFactor),
        }
    })
    .await?;
    auth.store().delete_totp(user.id).await?;
    Ok(())
}

/// The second-factor part of a password login, after a correct password: nothing to do without an
/// enabled factor; else a fresh TOTP code or an unused recovery code is needed.
pub async fn check_login(
    auth: &Auth,
    user: &User,
    totp_code: Option<&str>,
    recovery_code: Option<&str>,
) -> Result<(), Error> {
    let Some(factor) = auth.store().totp_factor(user.id).await?.filter(|f| f.enabled) else { return Ok(()) };
    if totp_code.is_none() && recovery_code.is_none() {
        return Err(Error::TotpRequired(None));
    }
    match accept_code(auth, user, &factor, totp_code, recovery_code).await? {
        true => Ok(()),
        false => Err(Error::InvalidSecondFactor),
    }
}

/// Removes a user's factor and recovery codes (an admin's reset); whether there was one.
pub async fn reset(directory: &Directory, user_id: i64) -> Result<bool, Error> {
    Ok(directory.store.delete_totp(user_id).await?)
}

/// Accepts a TOTP code (once) or else a recovery code (once).
async fn accept_code(
    auth: &Auth,
    user: &User,
    factor: &TotpFactor,
    totp_code: Option<&str>,
    recovery_code: Option<&str>,
) -> Result<bool, Error> {
    if let Some(code) = totp_code
        && let Some(step) = matching_step(auth, factor, code, &user.email)?
    {
        return Ok(auth.store().accept_totp_step(user.id, step, auth.now()).await?);
    }
    match recovery_code.map(normalize_recovery_code).filter(|c| c.len() == 20) {
        Some(code) => Ok(auth.store().use_recovery_code(user.id, &hash_secret(&code), auth.now()).await?),
        None => Ok(false),
    }
}

/// The time step a code belongs to (within ±1 step of now), if it is right.
fn matching_step(auth: &Auth, factor: &TotpFactor, code: &str, email: &str) -> Result<Option<i64>, Error> {
    let secret = auth.sealing.open(&factor.secret_ciphertext, &context(factor.user_id)).map_err(Error::internal)?;
    let totp = build(auth, secret, email)?;
    let now = u64::try_from(auth.now()).unwrap_or(0);
    Ok(totp.check(code.trim(), now).and_then(|step| i64::try_from(step).ok()))
}

fn build(auth: &Auth, secret: Vec<u8>, email: &str) -> Result<Totp, Error> {
    let issuer = auth.settings.jwt_issuer.replace(':', "");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret)
        .with_issuer(Some(issuer))
        .with_account_name(email.replace(':', ""))
        .build()
        .map_err(|e| Error::internal(anyhow::anyhow!("TOTP parameters: {e:?}")))
}

/// The sealed secret is bound to its user: a ciphertext copied to another row does not open.
fn context(user_id: i64) -> Vec<u8> {
    format!("totp:{user_id}").into_bytes()
}

/// 80 random bits as `xxxxx-xxxxx-xxxxx-xxxxx` (lower-case hex).
fn new_recovery_code() -> String {
    let hex = random_hex(10);
    let groups: Vec<&str> = (0..4).filter_map(|i| hex.get(i * 5..i * 5 + 5)).collect();
    groups.join("-")
}

/// Dashes and spaces do not matter, nor case.
fn normalize_recovery_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 (8 digits), checks the crate the service relies on.
    #[test]
    fn the_totp_crate_matches_the_rfc_6238_sha1_vectors() {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_secret(b"12345678901234567890".to_vec())
            .build_noncompliant();
        for (time, code) in
            [(59, "94287082"), (1_111_111_109, "07081804"), (1_234_567_890, "89005924"), (2_000_000_000, "69279037")]
        {
            assert_eq!(totp.generate(time).to_string(), code, "at {time}");
        }
    }

    #[test]
    fn recovery_codes_are_four_groups_of_five_and_normalise_to_twenty_characters() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 23, "{code}");
        assert_eq!(normalize_recovery_code(&code.to_uppercase()).len(), 20);
    }
}
