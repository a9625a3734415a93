//! `authify import authify-api`: moving an authify-api 0.5 deployment into Authify with every
//! credential still working. The source is read (`source`), every row checked against Authify's
//! rules (`check*`), and what passes written in one transaction through the store
//! (`store::import`); the [`Report`] says what was imported and what was skipped and why. See
//! docs/migrating-from-authify-api.md.

mod check;
mod check_credentials;
mod check_directory;
pub mod report;
mod source;

pub use report::Report;

use crate::store::{Store, StoreError};
use check::{Checker, SourceRows};
use source::Source;

/// Why an import did not run; nothing was committed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read the authify-api database: {0}")]
    Source(String),
    #[error("not an authify-api database: {0}")]
    NotAuthifyApi(String),
    #[error(
        "the Authify database already holds {users} users, {organizations} organizations and {delegates} \
         trusted delegates; import into an empty database, or pass --merge to add only rows whose ids and \
         unique values are not taken"
    )]
    TargetNotEmpty { users: usize, organizations: usize, delegates: usize },
    #[error("writing the import failed and nothing was committed: {0}")]
    Write(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Everything but the commit.
    pub dry_run: bool,
    /// Import into a database that is not empty, skipping rows it already has.
    pub merge: bool,
}

/// Imports the authify-api database at `from` into `target`; `now` stamps what the source has no
/// time for.
pub async fn import_authify_api(target: &Store, from: &str, options: Options, now: i64) -> Result<Report, ImportError> {
    let source = Source::open(from).await?;
    let read = read_all(&source).await;
    source.close().await;
    let rows = read?;
    let existing = target.import_existing_keys().await?;
    if !existing.is_empty() && !options.merge {
        return Err(ImportError::TargetNotEmpty {
            users: existing.user_ids.len(),
            organizations: existing.organization_ids.len(),
            delegates: existing.delegate_ids.len(),
        });
    }
    let mut checker = Checker::new(&existing, &rows, now, Report::new(options.dry_run, options.merge));
    checker.users(&rows.users);
    checker.organizations(&rows.organizations);
    checker.organization_memberships(&rows.organization_memberships);
    checker.groups(&rows.groups);
    checker.groups_users(&rows.groups_users);
    checker.identities(&rows.identities);
    checker.apikeys(&rows.apikeys);
    checker.trusted_delegates(&rows.trusted_delegates);
    let (batch, mut report) = (checker.batch, checker.report);
    target.write_import(&batch, !options.dry_run).await?;
    report.committed = !options.dry_run;
    Ok(report)
}

async fn read_all(source: &Source) -> Result<SourceRows, ImportError> {
    source.check_schema().await?;
    Ok(SourceRows {
        users: source.rows("users").await?,
        organizations: source.rows("organizations").await?,
        organization_memberships: source.rows("organization_memberships").await?,
        groups: source.rows("groups").await?,
        groups_users: source.rows("groups_users").await?,
        identities: source.rows("identities").await?,
        apikeys: source.rows("apikeys").await?,
        trusted_delegates: source.rows("trusted_delegates").await?,
    })
}
