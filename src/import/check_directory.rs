//! Organizations, their memberships, groups and group members (see `check.rs` for the rules
//! every table follows). Membership rows naming the same pair are folded into one: authify-api
//! had no unique index there; an organization membership is an admin one when any of its rows was.

use std::collections::{HashMap, HashSet};

use super::check::{Checker, fitting, ids};
use super::source::Row;
use crate::store::entity::{group, group_membership, organization, organization_membership};

type Failure = (&'static str, String);

fn too_long(column: &str) -> impl Fn(String) -> Failure + '_ {
    move |problem| ("invalid_value", format!("{column}: {problem}"))
}

impl Checker<'_> {
    pub fn organizations(&mut self, rows: &[Row]) {
        const T: &str = "organizations";
        self.report.read(T, rows.len());
        self.source_organization_ids = ids(rows);
        let mut names = HashSet::new();
        for row in rows {
            match self.organization(row, &names) {
                Ok(org) => {
                    names.insert(org.name.clone());
                    self.organizations.insert(org.id);
                    self.batch.organizations.push(org);
                    self.report.imported(T);
                }
                Err((code, detail)) => self.report.skip(T, row.int("id"), code, detail),
            }
        }
    }

    fn organization(&self, row: &Row, names: &HashSet<String>) -> Result<organization::Model, Failure> {
        let id = row.int("id").ok_or(("missing_value", "no id".to_owned()))?;
        if self.existing.organization_ids.contains(&id) {
            return Err(("already_present", format!("the target already has an organization with id {id}")));
        }
        let name =
            fitting(row.text("name"), 255).map_err(too_long("name"))?.ok_or(("missing_value", "no name".to_owned()))?;
        if self.existing.organization_names.contains(&name) {
            return Err(("already_present", format!("the target already has an organization named {name}")));
        }
        if names.contains(&name) {
            return Err(("duplicate", format!("the name {name} is already taken by an earlier organization")));
        }
        let created_at = row.time("created_at").unwrap_or(self.now);
        Ok(organization::Model {
            id,
            name,
            public_email: fitting(row.text("public_email"), 254).map_err(too_long("public_email"))?,
            gravatar_email: fitting(row.text("gravatar_email"), 254).map_err(too_long("gravatar_email"))?,
            billing_email: fitting(row.text("billing_email"), 254).map_err(too_long("billing_email"))?,
            description: row.text("description").filter(|d| !d.trim().is_empty()),
            url: fitting(row.text("url"), 2048).map_err(too_long("url"))?,
            location: fitting(row.text("location"), 255).map_err(too_long("location"))?,
            created_at,
            updated_at: row.time("updated_at").unwrap_or(created_at),
        })
    }

    pub fn organization_memberships(&mut self, rows: &[Row]) {
        const T: &str = "organization_memberships";
        self.report.read(T, rows.len());
        let mut index: HashMap<(i64, i64), usize> = HashMap::new();
        for row in rows {
            let pair = self
                .organization_ok(row.int("organization_id"))
                .and_then(|org| self.user_ok(row.int("user_id")).map(|user| (org, user)));
            let (org, user) = match pair {
                Ok(pair) => pair,
                Err(detail) => {
                    self.report.skip(T, row.int("id"), "orphan", detail);
                    continue;
                }
            };
            let admin = row.boolean("admin").unwrap_or(false);
            if let Some(&at) = index.get(&(org, user)) {
                self.batch.organization_memberships[at].admin |= admin;
                self.report.folded(T);
                continue;
            }
            index.insert((org, user), self.batch.organization_memberships.len());
            self.batch.organization_memberships.push(organization_membership::Model {
                id: 0,
                organization_id: org,
                user_id: user,
                admin,
                created_at: self.now,
            });
            self.report.imported(T);
        }
    }

    pub fn groups(&mut self, rows: &[Row]) {
        const T: &str = "groups";
        self.report.read(T, rows.len());
        self.source_group_ids = ids(rows);
        let mut names = HashSet::new();
        for row in rows {
            match self.group(row, &names) {
                Ok(g) => {
                    names.insert((g.organization_id, g.name.clone()));
                    self.groups.insert(g.id);
                    self.batch.groups.push(g);
                    self.report.imported(T);
                }
                Err((code, detail)) => self.report.skip(T, row.int("id"), code, detail),
            }
        }
    }

    fn group(&self, row: &Row, names: &HashSet<(i64, String)>) -> Result<group::Model, Failure> {
        let id = row.int("id").ok_or(("missing_value", "no id".to_owned()))?;
        if self.existing.group_ids.contains(&id) {
            return Err(("already_present", format!("the target already has a group with id {id}")));
        }
        let org = self.organization_ok(row.int("organization_id")).map_err(|d| ("orphan", d))?;
        let name =
            fitting(row.text("name"), 255).map_err(too_long("name"))?.ok_or(("missing_value", "no name".to_owned()))?;
        if names.contains(&(org, name.clone())) {
            return Err(("duplicate", format!("organization {org} already has a group named {name}")));
        }
        let created_at = row.time("created_at").unwrap_or(self.now);
        Ok(group::Model {
            id,
            organization_id: org,
            name,
            description: row.text("description").filter(|d| !d.trim().is_empty()),
            created_at,
            updated_at: row.time("updated_at").unwrap_or(created_at),
        })
    }

    pub fn groups_users(&mut self, rows: &[Row]) {
        const T: &str = "groups_users";
        self.report.read(T, rows.len());
        let mut seen = HashSet::new();
        for row in rows {
            let (group_id, user_id) = (row.int("group_id"), row.int("user_id"));
            let pair = self.group_ok(group_id).and_then(|g| self.user_ok(user_id).map(|u| (g, u)));
            match pair {
                Err(detail) => {
                    let which = format!("group {} user {}", show(group_id), show(user_id));
                    self.report.skip_row(T, which, "orphan", detail);
                }
                Ok(pair) if !seen.insert(pair) => self.report.folded(T),
                Ok((group_id, user_id)) => {
                    self.batch.group_memberships.push(group_membership::Model {
                        id: 0,
                        group_id,
                        user_id,
                        created_at: self.now,
                    });
                    self.report.imported(T);
                }
            }
        }
    }
}

fn show(id: Option<i64>) -> String {
    id.map_or_else(|| "NULL".to_owned(), |id| id.to_string())
}
