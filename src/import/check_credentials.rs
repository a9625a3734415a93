//! Identities, API keys and trusted delegates (see `check.rs` for the rules every table follows).
//! Secrets keep authify-api's digests, which `crypto::legacy_digest` checks at their first use and
//! replaces then; a digest of another shape could never match, so its row is skipped.

use std::collections::HashSet;

use super::check::{Checker, fitting};
use super::source::Row;
use crate::crypto::legacy_digest::is_legacy;
use crate::service::auth::issue_token::{ADMIN_ACCESS, USER_ACCESS};
use crate::service::directory::delegates::{check_description, check_name};
use crate::store::entity::{api_key, identity, trusted_delegate};

type Failure = (&'static str, String);

fn missing(what: &str) -> Failure {
    ("missing_value", format!("no {what}"))
}

fn legacy_digest(row: &Row) -> Result<String, Failure> {
    match row.text("secret_key_digest") {
        Some(d) if is_legacy(&d) => Ok(d),
        _ => Err(("invalid_digest", "secret_key_digest is not hex(SHA-512(secret + salt)) + salt".to_owned())),
    }
}

impl Checker<'_> {
    pub fn identities(&mut self, rows: &[Row]) {
        const T: &str = "identities";
        self.report.read(T, rows.len());
        let mut seen = HashSet::new();
        for row in rows {
            match self.identity(row, &seen) {
                Ok(identity) => {
                    seen.insert((identity.provider.clone(), identity.uid.clone()));
                    self.batch.identities.push(identity);
                    self.report.imported(T);
                }
                Err((code, detail)) => self.report.skip(T, row.int("id"), code, detail),
            }
        }
    }

    fn identity(&self, row: &Row, seen: &HashSet<(String, String)>) -> Result<identity::Model, Failure> {
        let id = row.int("id").ok_or_else(|| missing("id"))?;
        if self.existing.identity_ids.contains(&id) {
            return Err(("already_present", format!("the target already has an identity with id {id}")));
        }
        let user_id = self.user_ok(row.int("user_id")).map_err(|d| ("orphan", d))?;
        let invalid = |column: &'static str| move |p: String| ("invalid_value", format!("{column}: {p}"));
        let provider =
            fitting(row.text("provider"), 64).map_err(invalid("provider"))?.ok_or_else(|| missing("provider"))?;
        let uid = fitting(row.text("uid"), 255).map_err(invalid("uid"))?.ok_or_else(|| missing("uid"))?;
        let key = (provider.clone(), uid.clone());
        if self.existing.identity_keys.contains(&key) {
            return Err(("already_present", format!("the target already links {provider} uid {uid}")));
        }
        if seen.contains(&key) {
            return Err(("duplicate", format!("{provider} uid {uid} is already linked by an earlier identity")));
        }
        Ok(identity::Model {
            id,
            user_id,
            provider,
            uid,
            created_at: row.time("created_at").unwrap_or(self.now),
            delegate_id: None,
        })
    }

    /// API keys: the access key is unique in Authify (authify-api only indexed it; its login took
    /// the first row, so the first is kept). An imported key may do what its owner may, as in
    /// authify-api: it gets the scopes its owner holds (admins also `admin_access`).
    pub fn apikeys(&mut self, rows: &[Row]) {
        const T: &str = "apikeys";
        self.report.read(T, rows.len());
        let mut seen = HashSet::new();
        for row in rows {
            match self.apikey(row, &seen) {
                Ok(key) => {
                    seen.insert(key.access_key.clone());
                    self.batch.api_keys.push(key);
                    self.report.imported(T);
                }
                Err((code, detail)) => self.report.skip(T, row.int("id"), code, detail),
            }
        }
    }

    fn apikey(&self, row: &Row, seen: &HashSet<String>) -> Result<api_key::Model, Failure> {
        let id = row.int("id").ok_or_else(|| missing("id"))?;
        if self.existing.api_key_ids.contains(&id) {
            return Err(("already_present", format!("the target already has an API key with id {id}")));
        }
        let user_id = self.user_ok(row.int("user_id")).map_err(|d| ("orphan", d))?;
        let access_key = fitting(row.text("access_key"), 64)
            .map_err(|p| ("invalid_value", format!("access_key: {p}")))?
            .ok_or_else(|| missing("access_key"))?;
        if self.existing.access_keys.contains(&access_key) {
            return Err(("already_present", format!("the target already has the access key {access_key}")));
        }
        if seen.contains(&access_key) {
            return Err(("duplicate", format!("the access key {access_key} belongs to an earlier key")));
        }
        let secret_hash = legacy_digest(row)?;
        let admin = self.users.get(&user_id).copied().unwrap_or(false);
        let scopes = if admin { format!("{USER_ACCESS} {ADMIN_ACCESS}") } else { USER_ACCESS.to_owned() };
        Ok(api_key::Model {
            id,
            user_id,
            name: None,
            access_key,
            secret_hash,
            scopes,
            expires_at: None,
            last_used_at: None,
            created_at: row.time("created_at").unwrap_or(self.now),
        })
    }

    /// Trusted delegates: names follow `authify delegate add`'s rule; every delegate gets
    /// `user_access admin_access`, as `delegate add` gives by default (authify-api's delegates
    /// could do anything).
    pub fn trusted_delegates(&mut self, rows: &[Row]) {
        const T: &str = "trusted_delegates";
        self.report.read(T, rows.len());
        let (mut names, mut keys) = (HashSet::new(), HashSet::new());
        for row in rows {
            match self.delegate(row, &names, &keys) {
                Ok(d) => {
                    names.insert(d.name.clone());
                    keys.insert(d.access_key.clone());
                    self.batch.delegates.push(d);
                    self.report.imported(T);
                }
                Err((code, detail)) => self.report.skip(T, row.int("id"), code, detail),
            }
        }
    }

    fn delegate(
        &self,
        row: &Row,
        names: &HashSet<String>,
        keys: &HashSet<String>,
    ) -> Result<trusted_delegate::Model, Failure> {
        let id = row.int("id").ok_or_else(|| missing("id"))?;
        let name = row.text("name").unwrap_or_default();
        check_name(&name).map_err(|e| ("invalid_value", e.to_string()))?;
        let access_key = fitting(row.text("access_key"), 64)
            .map_err(|p| ("invalid_value", format!("access_key: {p}")))?
            .ok_or_else(|| missing("access_key"))?;
        let e = self.existing;
        if e.delegate_ids.contains(&id)
            || e.delegate_names.contains(&name)
            || e.delegate_access_keys.contains(&access_key)
        {
            return Err((
                "already_present",
                format!("the target already has delegate {id}, its name or its access key"),
            ));
        }
        if names.contains(&name) || keys.contains(&access_key) {
            return Err(("duplicate", format!("the name {name} or its access key belongs to an earlier delegate")));
        }
        Ok(trusted_delegate::Model {
            id,
            name,
            description: check_description(row.text("description")).map_err(|e| ("invalid_value", e.to_string()))?,
            access_key,
            secret_hash: legacy_digest(row)?,
            scopes: format!("{USER_ACCESS} {ADMIN_ACCESS}"),
            created_at: row.time("created_at").unwrap_or(self.now),
        })
    }
}
