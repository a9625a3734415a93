//! Accounts imported from authify-api keep their salted SHA-512 digests; the first successful login
//! accepts one and replaces it with argon2id. Hashes of earlier argon2 parameters are replaced the
//! same way.

use authify::store::users::{NewUser, User};

use crate::backend_tests;
use crate::support::app::{Backend, TestApp, spawn};

/// `printf '%s' 'b@d!dea1234567890123456' | sha512sum` followed by the salt, as authify-core stores it.
const LEGACY: &str = "2811ec9689e8fbfd8769066424209b2143ce7d4839b5d76755cb0c09fc79fa05\
                      be3af560378b430b2fb4977f872be6475a0e550d53e021104205f262abeb4ed61234567890123456";

backend_tests!(
    an_imported_digest_logs_in_once_and_is_replaced_by_argon2id,
    a_hash_of_earlier_argon2_parameters_is_replaced_at_the_next_login
);

/// A verified user whose stored digest is `digest`, as an import or an earlier release left it.
async fn insert_with_digest(app: &TestApp, email: &str, handle: &str, digest: &str) -> User {
    let new = NewUser {
        email: email.into(),
        handle: handle.into(),
        full_name: None,
        password_digest: Some(digest.into()),
        admin: false,
        verified: true,
        now: app.clock_now(),
    };
    app.state.store.insert_user(new).await.expect("insert")
}

async fn an_imported_digest_logs_in_once_and_is_replaced_by_argon2id(backend: Backend) {
    let app = spawn(backend).start().await;
    let user = insert_with_digest(&app, "someuser@mycompany.com", "someuser", LEGACY).await;
    assert_eq!(app.login("someuser@mycompany.com", "b@d!deA").await.0, 401, "a wrong password is still wrong");
    let (status, body) = app.login("someuser@mycompany.com", "b@d!dea").await;
    assert_eq!(status, 200, "{body}");
    let stored = app.state.store.user_by_id(user.id).await.expect("read").expect("user");
    let digest = stored.password_digest.expect("a digest");
    assert!(digest.starts_with("$argon2id$"), "replaced: {digest}");
    assert_eq!(app.login("someuser@mycompany.com", "b@d!dea").await.0, 200, "the new hash works");
    assert_eq!(app.login("someuser@mycompany.com", "b@d!deA").await.0, 401);
}

async fn a_hash_of_earlier_argon2_parameters_is_replaced_at_the_next_login(backend: Backend) {
    let app = spawn(backend).start().await;
    let earlier = argon2::PasswordHasher::hash_password(&argon2::Argon2::default(), b"an earlier password")
        .expect("hash")
        .to_string();
    assert!(earlier.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{earlier}");
    let user = insert_with_digest(&app, "earlier@example.com", "earlier", &earlier).await;
    assert_eq!(app.login("earlier@example.com", "an earlier passworD").await.0, 401);
    let stored = app.state.store.user_by_id(user.id).await.expect("read").expect("user");
    assert_eq!(stored.password_digest.as_deref(), Some(earlier.as_str()), "a failed login changes nothing");
    let (status, body) = app.login("earlier@example.com", "an earlier password").await;
    assert_eq!(status, 200, "{body}");
    let stored = app.state.store.user_by_id(user.id).await.expect("read").expect("user");
    let digest = stored.password_digest.expect("a digest");
    assert!(digest.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"), "replaced: {digest}");
    assert_eq!(stored.password_changed_at, user.password_changed_at, "same password: sessions stay");
    assert_eq!(app.login("earlier@example.com", "an earlier password").await.0, 200, "the new hash works");
    assert_eq!(app.login("earlier@example.com", "an earlier passworD").await.0, 401);
}
