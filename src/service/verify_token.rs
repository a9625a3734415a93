//! Verifying a token against this instance's keys, issuer and clock.

use crate::crypto::jwt::{self, Expectations, VerifiedToken, VerifyError};
use crate::state::AppState;

pub fn verify(state: &AppState, token: &str) -> Result<VerifiedToken, VerifyError> {
    let expect = Expectations {
        issuer: &state.settings.jwt_issuer,
        now: state.now(),
        leeway: i64::from(state.settings.jwt_leeway),
    };
    jwt::verify(&state.keyring, token, expect)
}
