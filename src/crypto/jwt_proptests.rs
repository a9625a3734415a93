//! Property tests of the JWT compact form at the edge (issue 23): whatever text arrives as a
//! token, `jwt::verify` answers without a panic, and nothing but a token we signed passes; a
//! token changed in any one character passes only if it still carries exactly what we signed
//! (base64url's spare low bits of a segment's last character decode to the same bytes).

use proptest::prelude::*;
use serde_json::json;

use super::Algorithm;
use super::jwt::{self, Expectations};
use super::keyfile::generate_pair;
use super::keyring::Keyring;

const NOW: i64 = 1_800_000_000;
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn expect() -> Expectations<'static> {
    Expectations { issuer: "proptest", now: NOW, leeway: 0 }
}

fn signed() -> (Keyring, String) {
    let keyring = Keyring::new(&generate_pair(Algorithm::Es256).expect("a key pair")).expect("keyring");
    let claims = json!({"iss": "proptest", "iat": NOW, "exp": NOW + 60, "scopes": ["user_access"], "sub": "7"});
    let token = jwt::sign(&keyring, &claims, NOW).expect("sign");
    (keyring, token)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_is_refused_without_a_panic(raw in "\\PC{0,400}|[A-Za-z0-9_.-]{0,400}") {
        let (keyring, _) = signed();
        prop_assert!(jwt::verify(&keyring, &raw, expect()).is_err());
    }

    #[test]
    fn a_token_changed_in_one_character_carries_what_we_signed_or_is_refused(at in any::<prop::sample::Index>(), to in 0..BASE64URL.len()) {
        let (keyring, token) = signed();
        let original = jwt::verify(&keyring, &token, expect()).expect("our token verifies");
        let mut bytes = token.clone().into_bytes();
        let at = at.index(bytes.len());
        prop_assume!(bytes[at] != b'.' && bytes[at] != BASE64URL[to]);
        bytes[at] = BASE64URL[to];
        let changed = String::from_utf8(bytes).expect("ascii");
        if let Ok(accepted) = jwt::verify(&keyring, &changed, expect()) {
            prop_assert_eq!(accepted.payload, original.payload, "a changed token passed with other claims");
        }
    }
}
