//! `/jwt/verify` refuses every bad token with Authify's message, and garbage never breaks it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use crate::plain_tests;
use crate::support::app::{Backend, spawn};

plain_tests!(
    bad_tokens_get_authify_error_messages,
    a_token_from_another_key_or_issuer_is_refused,
    garbage_of_any_size_or_shape_is_an_invalid_token_never_a_500
);

/// Signs `claims` with the instance's own private key through an independent JWT library.
fn sign_es256(pem: &str, kid: &str, claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(pem.as_bytes()).expect("ES256 key");
    let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

fn segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn bad_tokens_get_authify_error_messages() {
    let app = spawn(Backend::Sqlite).start().await;
    app.insert_user("v@example.com", true, false).await;
    let token = app.token_for("v@example.com").await;
    let parts: Vec<&str> = token.split('.').collect();
    let kid = crate::support::app::jwt_segment(&token, 0)["kid"].as_str().expect("kid").to_owned();

    assert_eq!(app.verify_error("").await, "Nil JSON web token");
    assert_eq!(app.verify_error("abc").await, "Not enough or too many segments");
    assert_eq!(app.verify_error(&format!("{token}.x")).await, "Not enough or too many segments");
    assert_eq!(app.verify_error("a.b.c").await, "Invalid segment encoding");
    assert_eq!(app.verify_error("!!.??.##").await, "Invalid segment encoding");

    // A flipped signature byte.
    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("signature");
    signature[10] ^= 1;
    let tampered = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(&signature));
    assert_eq!(app.verify_error(&tampered).await, "Signature verification raised");

    // Another payload under the original signature.
    let mut claims = crate::support::app::jwt_segment(&token, 1);
    claims["scopes"] = json!(["user_access", "admin_access"]);
    let forged = format!("{}.{}.{}", parts[0], segment(&claims), parts[2]);
    assert_eq!(app.verify_error(&forged).await, "Signature verification raised");

    // alg other than the key's, including none and HMAC.
    for alg in ["ES512", "none", "HS256"] {
        let header = json!({"typ": "JWT", "alg": alg, "kid": kid});
        let swapped = format!("{}.{}.{}", segment(&header), parts[1], parts[2]);
        assert_eq!(app.verify_error(&swapped).await, "Expected a different algorithm", "alg {alg}");
    }
    let unsigned = format!("{}.{}.", segment(&json!({"alg": "none"})), parts[1]);
    assert_eq!(app.verify_error(&unsigned).await, "Expected a different algorithm");

    // A kid that names no key of ours.
    let header = json!({"typ": "JWT", "alg": "ES256", "kid": "someone-else"});
    assert_eq!(
        app.verify_error(&format!("{}.{}.{}", segment(&header), parts[1], parts[2])).await,
        "Signature verification raised"
    );

    // Claims checked after the signature, signed with our own key by an independent library.
    let pem = app.private_key_pem();
    let now = app.clock_now();
    let base = json!({"iss": "My Awesome Company Inc.", "iat": now, "exp": now + 60});
    let with = |patch: Value| {
        let mut claims = base.clone();
        for (k, v) in patch.as_object().expect("object") {
            claims[k] = v.clone();
        }
        sign_es256(&pem, &kid, &claims)
    };
    assert_eq!(app.verify(&with(json!({}))).await["valid"], true);
    assert_eq!(app.verify_error(&with(json!({"nbf": now + 30}))).await, "Signature nbf has not been reached");
    assert_eq!(app.verify_error(&with(json!({"iat": now + 30}))).await, "Invalid iat");
    assert_eq!(app.verify_error(&with(json!({"exp": now}))).await, "Signature has expired");
    assert_eq!(
        app.verify_error(&with(json!({"iss": "Mallory"}))).await,
        "Invalid issuer. Expected My Awesome Company Inc., received Mallory"
    );
}

async fn a_token_from_another_key_or_issuer_is_refused() {
    let first = spawn(Backend::Sqlite).start().await;
    first.insert_user("x@example.com", true, false).await;
    let token = first.token_for("x@example.com").await;

    // Same database and keys, other issuer.
    let other_issuer = first.second_instance(|s| s.jwt_issuer = "Other Inc.".into()).await;
    assert_eq!(
        other_issuer.verify_error(&token).await,
        "Invalid issuer. Expected Other Inc., received My Awesome Company Inc."
    );
    // Other keys altogether.
    let stranger = spawn(Backend::Sqlite).start().await;
    assert_eq!(stranger.verify_error(&token).await, "Signature verification raised");
    // A clock behind the issuer's sees a token issued in its future.
    first.clock.advance(3600);
    let late = first.token_for("x@example.com").await;
    let same_keys_real_clock = first.second_instance(|_| {}).await;
    assert_eq!(same_keys_real_clock.verify_error(&late).await, "Invalid iat");
}

async fn garbage_of_any_size_or_shape_is_an_invalid_token_never_a_500() {
    let app = spawn(Backend::Sqlite).start().await;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: Vec<char> = "ab.-_=+/ \u{0}\u{7f}é😀{}\"\\eyJ".chars().collect();
    for round in 0..200 {
        let len = (next() % 300) as usize;
        let garbage: String = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
        let response = app.post_json("/jwt/verify", &json!({ "token": garbage })).await;
        assert_eq!(response.status().as_u16(), 200, "round {round}: {garbage:?}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["valid"], false, "round {round}: {garbage:?}");
    }
    let huge = format!("{}.{}.{}", "e".repeat(10_000), "y".repeat(10_000), "J".repeat(10_000));
    let response = app.client.get(app.url("/jwt/verify")).query(&[("token", &huge)]).send().await.expect("get");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.json::<Value>().await.expect("json")["errors"][0], "Invalid segment encoding");
    // No token at all, by GET and by POST.
    assert_eq!(app.get("/jwt/verify").await.json::<Value>().await.expect("json")["errors"][0], "Nil JSON web token");
    assert_eq!(app.verify_error("   ").await, "Nil JSON web token");
}
