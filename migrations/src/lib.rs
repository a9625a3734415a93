//! One set of migrations for SQLite, PostgreSQL and MariaDB/MySQL. Append-only: never edit a
//! migration that has shipped; add a new timestamped file instead.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_users;
mod m20261123_000002_create_directory;
mod m20261123_000003_create_registration;
mod m20261123_000005_create_audit_events;
mod m20261123_000006_create_second_factor_and_lockout;
mod m20261201_000007_create_sessions;
mod m20261204_000008_delegate_and_recipient;
mod m20261205_000009_legacy_secret_digests;
mod m20261205_000010_create_oauth;
mod m20261205_000011_create_signing_keys;
mod m20261206_000012_create_external_logins;
mod m20261207_000013_create_passkeys;
mod m20261207_000014_audit_event_occurrences;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_users::Migration),
            Box::new(m20261123_000002_create_directory::Migration),
            Box::new(m20261123_000003_create_registration::Migration),
            Box::new(m20261123_000006_create_second_factor_and_lockout::Migration),
            Box::new(m20261123_000005_create_audit_events::Migration),
            Box::new(m20261201_000007_create_sessions::Migration),
            Box::new(m20261204_000008_delegate_and_recipient::Migration),
            Box::new(m20261205_000009_legacy_secret_digests::Migration),
            Box::new(m20261205_000010_create_oauth::Migration),
            Box::new(m20261205_000011_create_signing_keys::Migration),
            Box::new(m20261206_000012_create_external_logins::Migration),
            Box::new(m20261207_000013_create_passkeys::Migration),
            Box::new(m20261207_000014_audit_event_occurrences::Migration),
        ]
    }
}
