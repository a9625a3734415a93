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

use crate::store::import::ImportBatch;
use crate::store::{Store, StoreError};
use check::Checker;
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
    let existing = target.import_existing_keys().await?;
    if !existing.is_empty() && !options.merge {
        return Err(ImportError::TargetNotEmpty {
            users: existing.user_ids.len(),
            organizations: existing.organization_ids.len(),
            delegates: existing.delegate_ids.len(),
        });
    }
    let source = Source::open(from).await?;
    let checked = check_all(&source, Checker::new(&existing, now, Report::new(options.dry_run, options.merge))).await;
    source.close().await;
    let (batch, mut report) = checked?;
    target.write_import(&batch, !options.dry_run).await?;
    report.committed = !options.dry_run;
    Ok(report)
}

/// Reads and checks the source table by table, parents first; each table's rows are dropped once
/// checked.
async fn check_all(source: &Source, mut checker: Checker<'_>) -> Result<(ImportBatch, Report), ImportError> {
    source.check_schema().await?;
    checker.users(&source.rows("users").await?);
    checker.organizations(&source.rows("organizations").await?);
    checker.organization_memberships(&source.rows("organization_memberships").await?);
    checker.groups(&source.rows("groups").await?);
    checker.groups_users(&source.rows("groups_users").await?);
    checker.identities(&source.rows("identities").await?);
    checker.apikeys(&source.rows("apikeys").await?);
    checker.trusted_delegates(&source.rows("trusted_delegates").await?);
    Ok((checker.batch, checker.report))
}
