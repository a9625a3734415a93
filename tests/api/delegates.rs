//! The trusted-delegate services on every backend: the unique name index, listing and removal.

use authify::error::Error;
use authify::service::auth::delegate_auth::authenticate_delegate;
use authify::service::directory::delegates::{create_delegate, list_delegates, remove_delegate};

use crate::backend_tests;
use crate::support::app::{Backend, spawn};

backend_tests!(delegates_are_created_listed_and_removed_and_a_taken_name_is_refused);

async fn delegates_are_created_listed_and_removed_and_a_taken_name_is_refused(backend: Backend) {
    let app = spawn(backend).start().await;
    let directory = &app.state.directory;
    let now = app.clock_now();
    assert!(list_delegates(directory).await.expect("list").is_empty());

    let first = create_delegate(directory, "ci-bot", Some("CI".into()), None).await.expect("create");
    assert_eq!(first.delegate.scopes, "user_access admin_access");
    assert_eq!(first.delegate.created_at, now);
    assert_ne!(first.delegate.secret_hash, first.secret);
    let found = authenticate_delegate(&app.state.auth, &first.delegate.access_key, &first.secret, &Default::default())
        .await
        .expect("auth");
    assert_eq!(found, first.delegate);

    let scopes = Some(vec!["user_access".to_owned()]);
    let second = create_delegate(directory, "mailer", None, scopes).await.expect("create");
    assert_eq!(second.delegate.scopes, "user_access");
    assert_ne!(second.delegate.access_key, first.delegate.access_key);
    assert_ne!(second.secret, first.secret);

    let taken = create_delegate(directory, "ci-bot", None, None).await;
    assert!(matches!(taken, Err(Error::Taken { field: "name" })), "{taken:?}");
    let invalid = create_delegate(directory, "no spaces", None, None).await;
    assert!(matches!(&invalid, Err(Error::Invalid(v)) if v.field == "name"), "{invalid:?}");
    let listed = list_delegates(directory).await.expect("list");
    assert_eq!(listed, vec![first.delegate.clone(), second.delegate.clone()]);

    remove_delegate(directory, app.state.sessions(), "ci-bot").await.expect("remove");
    assert!(matches!(remove_delegate(directory, app.state.sessions(), "ci-bot").await, Err(Error::NotFound)));
    assert_eq!(list_delegates(directory).await.expect("list"), vec![second.delegate]);
    let gone =
        authenticate_delegate(&app.state.auth, &first.delegate.access_key, &first.secret, &Default::default()).await;
    assert!(matches!(gone, Err(Error::InvalidCredentials)), "{gone:?}");
}
