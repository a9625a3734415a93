//! Checking authify-api's rows against Authify's rules, table by table, parents before their
//! dependents: what passes goes into the [`ImportBatch`], what does not is reported and skipped.
//! A row that depends on a row not imported (or on none: authify-api had no foreign keys) is an
//! orphan. With `--merge`, a row whose id or unique value the target already holds is
//! `already_present`, and its dependents are orphans too.

use std::collections::{HashMap, HashSet};

use super::report::Report;
use super::source::Row;
use crate::crypto::legacy_digest::is_legacy;
use crate::domain::{Email, FullName, Handle};
use crate::store::import::{ExistingKeys, ImportBatch};
use crate::store::users::Model as UserRow;

/// The checking state shared by the tables: what the target holds, what is in the batch so far,
/// and which source ids exist at all (to tell "skipped" from "does not exist"). Tables are checked
/// parents first, each as it is read, so only one source table is in memory at a time.
pub struct Checker<'a> {
    pub existing: &'a ExistingKeys,
    pub now: i64,
    pub batch: ImportBatch,
    pub report: Report,
    pub source_user_ids: HashSet<i64>,
    pub source_organization_ids: HashSet<i64>,
    pub source_group_ids: HashSet<i64>,
    /// Imported users by id, with their admin flag (API-key scopes follow it).
    pub users: HashMap<i64, bool>,
    pub organizations: HashSet<i64>,
    pub groups: HashSet<i64>,
}

/// Ids of the rows of a source table.
pub fn ids(rows: &[Row]) -> HashSet<i64> {
    rows.iter().filter_map(|r| r.int("id")).collect()
}

/// Why a dependent row cannot be imported: its parent `kind` `id` was skipped or never existed.
pub fn orphan_detail(kind: &str, id: Option<i64>, in_source: bool) -> String {
    match (id, in_source) {
        (None, _) => format!("no {kind}"),
        (Some(id), true) => format!("{kind} {id} was not imported"),
        (Some(id), false) => format!("{kind} {id} does not exist"),
    }
}

/// `Some(text)` when `text` fits `max` characters; blank is `None`.
pub fn fitting(text: Option<String>, max: usize) -> Result<Option<String>, String> {
    match text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        Some(t) if t.chars().count() > max => Err(format!("longer than {max} characters")),
        other => Ok(other),
    }
}

impl<'a> Checker<'a> {
    pub fn new(existing: &'a ExistingKeys, now: i64, report: Report) -> Self {
        Self {
            existing,
            now,
            batch: ImportBatch::default(),
            report,
            source_user_ids: HashSet::new(),
            source_organization_ids: HashSet::new(),
            source_group_ids: HashSet::new(),
            users: HashMap::new(),
            organizations: HashSet::new(),
            groups: HashSet::new(),
        }
    }

    pub fn user_ok(&self, id: Option<i64>) -> Result<i64, String> {
        match id {
            Some(id) if self.users.contains_key(&id) => Ok(id),
            _ => Err(orphan_detail("user", id, id.is_some_and(|id| self.source_user_ids.contains(&id)))),
        }
    }

    pub fn organization_ok(&self, id: Option<i64>) -> Result<i64, String> {
        match id {
            Some(id) if self.organizations.contains(&id) => Ok(id),
            _ => {
                Err(orphan_detail("organization", id, id.is_some_and(|id| self.source_organization_ids.contains(&id))))
            }
        }
    }

    pub fn group_ok(&self, id: Option<i64>) -> Result<i64, String> {
        match id {
            Some(id) if self.groups.contains(&id) => Ok(id),
            _ => Err(orphan_detail("group", id, id.is_some_and(|id| self.source_group_ids.contains(&id)))),
        }
    }

    /// Users: the email must be one Authify accepts (authify-api's pattern was unanchored), email
    /// and handle unique after normalising (lower case, trimmed); a missing handle is derived from
    /// the email as signup does; `verified` NULL is false; a password digest must have
    /// authify-api's shape (it is kept and replaced at the first login).
    pub fn users(&mut self, rows: &[Row]) {
        const T: &str = "users";
        self.report.read(T, rows.len());
        self.source_user_ids = ids(rows);
        // Handles named in the source are reserved first, so a derived one never takes them.
        let named: HashSet<String> = rows
            .iter()
            .filter_map(|r| r.text("handle"))
            .filter_map(|h| Handle::parse(&h).ok())
            .map(|h| h.as_str().to_owned())
            .collect();
        let mut emails = HashSet::new();
        let mut handles = HashSet::new();
        for row in rows {
            let id = row.int("id");
            match self.user(row, &named, &emails, &handles) {
                Ok(user) => {
                    emails.insert(user.email.clone());
                    handles.insert(user.handle.clone());
                    self.users.insert(user.id, user.admin);
                    self.batch.users.push(user);
                    self.report.imported(T);
                }
                Err((code, detail)) => self.report.skip(T, id, code, detail),
            }
        }
    }

    fn user(
        &self,
        row: &Row,
        named: &HashSet<String>,
        emails: &HashSet<String>,
        handles: &HashSet<String>,
    ) -> Result<UserRow, (&'static str, String)> {
        let id = row.int("id").ok_or(("missing_value", "no id".to_owned()))?;
        if self.existing.user_ids.contains(&id) {
            return Err(("already_present", format!("the target already has a user with id {id}")));
        }
        let raw = row.text("email").unwrap_or_default();
        let parsed = Email::parse(&raw)
            .map_err(|_| ("invalid_email", format!("`{raw}` is not an email address Authify accepts")))?;
        let email = parsed.as_str().to_owned();
        if self.existing.emails.contains(&email) {
            return Err(("already_present", format!("the target already has a user with email {email}")));
        }
        if emails.contains(&email) {
            return Err(("duplicate_email", format!("{email} is already taken by an earlier user")));
        }
        let handle = match row.text("handle").filter(|h| !h.trim().is_empty()) {
            Some(raw) => Handle::parse(&raw).map_err(|e| ("invalid_handle", format!("`{raw}`: {}", e.problem)))?,
            None => self.derived_handle(&parsed, named, handles),
        };
        let handle = handle.as_str().to_owned();
        if self.existing.handles.contains(&handle) {
            return Err(("already_present", format!("the target already has a user with handle {handle}")));
        }
        if handles.contains(&handle) {
            return Err(("duplicate_handle", format!("{handle} is already taken by an earlier user")));
        }
        let full_name = match row.text("full_name") {
            Some(raw) => FullName::parse(&raw, "full_name")
                .map_err(|e| ("invalid_value", e.to_string()))?
                .map(FullName::into_inner),
            None => None,
        };
        let password_digest = match row.text("password_digest").filter(|d| !d.is_empty()) {
            Some(d) if is_legacy(&d) => Some(d),
            Some(_) => {
                return Err((
                    "invalid_digest",
                    "password_digest is not hex(SHA-512(password + salt)) + salt".to_owned(),
                ));
            }
            None => None,
        };
        let created_at = row.time("created_at").unwrap_or(self.now);
        Ok(UserRow {
            id,
            email,
            handle,
            full_name,
            password_digest,
            admin: row.boolean("admin").unwrap_or(false),
            verified: row.boolean("verified").unwrap_or(false),
            disabled: false,
            password_changed_at: self.now,
            created_at,
            updated_at: row.time("updated_at").unwrap_or(created_at),
        })
    }

    fn derived_handle(&self, email: &Email, named: &HashSet<String>, handles: &HashSet<String>) -> Handle {
        let base = Handle::derive_from(email);
        let taken = |h: &Handle| {
            named.contains(h.as_str()) || handles.contains(h.as_str()) || self.existing.handles.contains(h.as_str())
        };
        (1u32..)
            .map(|n| if n == 1 { base.clone() } else { base.with_suffix(n) })
            .find(|h| !taken(h))
            .unwrap_or_else(|| Handle::derive_from(email))
    }
}
