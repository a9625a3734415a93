//! What an import did: rows read, imported, folded and skipped per source table, and every skipped
//! row with the reason, as text for a person or JSON for a script.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// The source tables in the order they are reported (and imported).
pub const ORDER: [&str; 8] = [
    "users",
    "organizations",
    "organization_memberships",
    "groups",
    "groups_users",
    "identities",
    "apikeys",
    "trusted_delegates",
];

/// Counts for one source table. `read = imported + folded + skipped`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TableCount {
    pub read: usize,
    pub imported: usize,
    /// Duplicate rows merged into another (membership rows naming the same pair).
    pub folded: usize,
    pub skipped: usize,
}

/// A row that was not imported; `id` is the source row's id (join-table rows have none, `row`
/// names them instead).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skipped {
    pub table: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    /// Stable: `invalid_email`, `duplicate_email`, `invalid_handle`, `duplicate_handle`,
    /// `invalid_value`, `missing_value`, `duplicate`, `invalid_digest`, `orphan`, `already_present`.
    pub code: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub dry_run: bool,
    pub merge: bool,
    /// Whether the import was committed (false on a dry run).
    pub committed: bool,
    pub tables: Vec<(&'static str, TableCount)>,
    pub skipped: Vec<Skipped>,
}

impl Report {
    pub fn new(dry_run: bool, merge: bool) -> Self {
        let tables = ORDER.iter().map(|t| (*t, TableCount::default())).collect();
        Self { dry_run, merge, committed: false, tables, skipped: Vec::new() }
    }

    pub fn count(&mut self, table: &'static str) -> &mut TableCount {
        let index = ORDER.iter().position(|t| *t == table).unwrap_or(0);
        &mut self.tables[index].1
    }

    pub fn read(&mut self, table: &'static str, rows: usize) {
        self.count(table).read = rows;
    }

    pub fn imported(&mut self, table: &'static str) {
        self.count(table).imported += 1;
    }

    pub fn folded(&mut self, table: &'static str) {
        self.count(table).folded += 1;
    }

    pub fn skip(&mut self, table: &'static str, id: Option<i64>, code: &'static str, detail: impl Into<String>) {
        self.count(table).skipped += 1;
        self.skipped.push(Skipped { table, id, row: None, code, detail: detail.into() });
    }

    pub fn skip_row(&mut self, table: &'static str, row: String, code: &'static str, detail: impl Into<String>) {
        self.count(table).skipped += 1;
        self.skipped.push(Skipped { table, id: None, row: Some(row), code, detail: detail.into() });
    }

    pub fn to_json(&self) -> Value {
        let tables: Map<String, Value> = self.tables.iter().map(|(t, c)| ((*t).to_owned(), json!(c))).collect();
        json!({
            "dry_run": self.dry_run,
            "merge": self.merge,
            "committed": self.committed,
            "tables": tables,
            "skipped": self.skipped,
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let width = ORDER.iter().map(|t| t.len()).max().unwrap_or(0);
        out.push_str(&format!(
            "{:width$}  {:>8}  {:>8}  {:>6}  {:>7}\n",
            "TABLE", "READ", "IMPORTED", "FOLDED", "SKIPPED"
        ));
        for (table, c) in &self.tables {
            out.push_str(&format!(
                "{table:width$}  {:>8}  {:>8}  {:>6}  {:>7}\n",
                c.read, c.imported, c.folded, c.skipped
            ));
        }
        if !self.skipped.is_empty() {
            out.push_str("\nSkipped rows:\n");
            for s in &self.skipped {
                let which = s.id.map_or_else(|| s.row.clone().unwrap_or_default(), |id| format!("id {id}"));
                out.push_str(&format!("  {} {which}: {} ({})\n", s.table, s.detail, s.code));
            }
        }
        out.push('\n');
        out.push_str(match (self.committed, self.dry_run) {
            (true, _) => "Imported: committed.\n",
            (false, true) => "Dry run: everything above was written and rolled back; nothing was committed.\n",
            (false, false) => "Nothing was committed.\n",
        });
        out
    }
}
