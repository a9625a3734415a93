//! The query parameters of a {json:api} read: `include`, `fields[type]`, `filter[name]`, `sort`,
//! `page[number]`, `page[size]`. Anything else is refused with 400 naming the parameter; whether a
//! name is allowed for a given resource is checked by the resource layer.
//!
//! Each parameter is bounded here, before any work is done for it (docs/limits.md): it may be given
//! once, hold at most [`MAX_LIST_ITEMS`] comma-separated items of at most [`MAX_ITEM_BYTES`] each,
//! and `include` at most [`MAX_INCLUDE_PATHS`] paths of at most [`MAX_INCLUDE_DEPTH`] relationships.

use std::collections::{HashMap, HashSet};

use crate::error::Error;

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;
/// Distinct `include` paths, once repeats and paths that a longer one walks anyway are folded.
pub const MAX_INCLUDE_PATHS: usize = 8;
/// Relationships in one `include` path: the longest path in this model that never comes back to a
/// type it passed (`user.organizations.groups` from an API key).
pub const MAX_INCLUDE_DEPTH: usize = 3;
/// Comma-separated items in one parameter (filter values, field names, sort keys, paths).
pub const MAX_LIST_ITEMS: usize = 100;
/// Bytes in one item: an email address is at most 254.
pub const MAX_ITEM_BYTES: usize = 256;

/// One `sort` key: the field and whether it is descending (`-name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub field: String,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based.
    pub number: u64,
    pub size: u64,
}

impl PageRequest {
    pub fn offset(&self) -> u64 {
        (self.number - 1).saturating_mul(self.size)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { number: 1, size: DEFAULT_PAGE_SIZE }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ReadQuery {
    /// Relationship paths, each split at the dots.
    pub include: Vec<Vec<String>>,
    pub fields: HashMap<String, Vec<String>>,
    pub filters: Vec<(String, Vec<String>)>,
    pub sort: Vec<SortKey>,
    pub page: PageRequest,
}

impl ReadQuery {
    /// Parses a raw (still percent-encoded) query string.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let mut query = ReadQuery::default();
        let mut seen = HashSet::new();
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            let key = key.as_ref();
            if !seen.insert(key.to_owned()) {
                return Err(Error::bad_parameter(key, "may be given once (list values with commas)"));
            }
            if key == "include" {
                query.include = include_paths(&value)?;
            } else if key == "sort" {
                query.sort = list(key, &value)?
                    .into_iter()
                    .map(|field| match field.strip_prefix('-') {
                        Some(field) => SortKey { field: field.to_owned(), descending: true },
                        None => SortKey { field: field.to_owned(), descending: false },
                    })
                    .collect();
            } else if let Some(kind) = bracketed(key, "fields") {
                query.fields.insert(kind.to_owned(), owned(list(key, &value)?));
            } else if let Some(name) = bracketed(key, "filter") {
                query.filters.push((name.to_owned(), owned(list(key, &value)?)));
            } else if key == "page[number]" {
                query.page.number = number(key, &value, 1, u64::MAX / MAX_PAGE_SIZE)?;
            } else if key == "page[size]" {
                query.page.size = number(key, &value, 1, MAX_PAGE_SIZE)?;
            } else {
                return Err(Error::bad_parameter(key, "is not a supported query parameter"));
            }
        }
        Ok(query)
    }
}

/// The comma-separated items of a parameter, blanks dropped, within the list bounds.
fn list<'v>(key: &str, value: &'v str) -> Result<Vec<&'v str>, Error> {
    let items: Vec<&str> = value.split(',').map(str::trim).filter(|s| !s.is_empty()).take(MAX_LIST_ITEMS + 1).collect();
    if items.len() > MAX_LIST_ITEMS {
        return Err(Error::bad_parameter(key, format!("may list at most {MAX_LIST_ITEMS} items")));
    }
    if items.iter().any(|item| item.len() > MAX_ITEM_BYTES) {
        return Err(Error::bad_parameter(key, format!("items may be at most {MAX_ITEM_BYTES} bytes long")));
    }
    Ok(items)
}

fn owned(items: Vec<&str>) -> Vec<String> {
    items.into_iter().map(str::to_owned).collect()
}

/// `include`'s paths, split at the dots. A repeated path, or one that a longer path walks anyway
/// (`organizations` beside `organizations.groups`), adds nothing and is folded away; the rest
/// keep their order.
fn include_paths(value: &str) -> Result<Vec<Vec<String>>, Error> {
    let mut paths: Vec<Vec<&str>> = Vec::new();
    for item in list("include", value)? {
        let path: Vec<&str> = item.split('.').collect();
        if path.len() > MAX_INCLUDE_DEPTH {
            return Err(Error::bad_parameter(
                "include",
                format!("each path may be at most {MAX_INCLUDE_DEPTH} relationships deep"),
            ));
        }
        paths.push(path);
    }
    let walked_by_another = |i: usize, path: &[&str]| {
        paths.iter().enumerate().any(|(j, other)| {
            other.starts_with(path) && (other.len() > path.len() || (other.len() == path.len() && j < i))
        })
    };
    let folded: Vec<Vec<String>> = paths
        .iter()
        .enumerate()
        .filter(|(i, path)| !walked_by_another(*i, path))
        .map(|(_, path)| owned(path.clone()))
        .collect();
    if folded.len() > MAX_INCLUDE_PATHS {
        return Err(Error::bad_parameter(
            "include",
            format!("may name at most {MAX_INCLUDE_PATHS} distinct relationship paths"),
        ));
    }
    Ok(folded)
}

/// `name` out of `family[name]`.
fn bracketed<'a>(key: &'a str, family: &str) -> Option<&'a str> {
    key.strip_prefix(family)?.strip_prefix('[')?.strip_suffix(']').filter(|name| !name.is_empty())
}

fn number(key: &str, value: &str, min: u64, max: u64) -> Result<u64, Error> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| Error::bad_parameter(key, format!("must be a whole number from {min} to {max}")))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("include".to_owned()),
            Just("sort".to_owned()),
            Just("page[number]".to_owned()),
            Just("page[size]".to_owned()),
            "fields\\[[a-z%]{0,6}\\]",
            "filter\\[[a-z.%]{0,6}\\]",
            "\\PC{0,12}",
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z.,0-9 %+-]{0,60}", "[0-9]{0,25}", "\\PC{0,40}", "([a-z]{1,3}[.,]){0,120}"]
    }

    fn encoded(text: &str) -> String {
        form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }

    proptest! {
        /// Any query string is parsed within the bounds or refused naming a parameter; never a panic.
        #[test]
        fn any_query_is_bounded_or_refused(pairs in prop::collection::vec((key(), value()), 0..6), raw in any::<bool>()) {
            let query = pairs
                .iter()
                .map(|(k, v)| if raw { format!("{k}={v}") } else { format!("{}={}", encoded(k), encoded(v)) })
                .collect::<Vec<_>>()
                .join("&");
            match ReadQuery::parse(&query) {
                Ok(parsed) => {
                    prop_assert!(parsed.include.len() <= MAX_INCLUDE_PATHS);
                    prop_assert!(parsed.include.iter().all(|p| !p.is_empty() && p.len() <= MAX_INCLUDE_DEPTH));
                    prop_assert!((1..=MAX_PAGE_SIZE).contains(&parsed.page.size) && parsed.page.number >= 1);
                    prop_assert!(parsed.sort.len() <= MAX_LIST_ITEMS);
                    let within = |items: &Vec<String>| {
                        items.len() <= MAX_LIST_ITEMS && items.iter().all(|i| i.len() <= MAX_ITEM_BYTES)
                    };
                    let lists_within = parsed.fields.values().chain(parsed.filters.iter().map(|(_, v)| v)).all(within);
                    prop_assert!(lists_within);
                    let known = |k: &str| {
                        matches!(k, "include" | "sort" | "page[number]" | "page[size]")
                            || k.starts_with("fields[") || k.starts_with("filter[")
                    };
                    for (k, _) in form_urlencoded::parse(query.as_bytes()) {
                        prop_assert!(known(&k), "an unknown parameter was accepted: {:?}", k);
                    }
                }
                Err(err) => prop_assert!(matches!(err, Error::BadParameter { .. }), "{err:?}"),
            }
        }
    }

    #[test]
    fn every_family_of_parameters_is_parsed() {
        let query = ReadQuery::parse(
            "include=organizations.groups,apikeys&fields%5Busers%5D=handle,email&filter[handle]=a,b\
             &sort=-created-at,handle&page[number]=3&page[size]=10",
        )
        .expect("parses");
        assert_eq!(query.include, vec![vec!["organizations", "groups"], vec!["apikeys"]]);
        assert_eq!(query.fields["users"], vec!["handle", "email"]);
        assert_eq!(query.filters, vec![("handle".to_owned(), vec!["a".to_owned(), "b".to_owned()])]);
        assert_eq!(query.sort[0], SortKey { field: "created-at".into(), descending: true });
        assert_eq!(query.page, PageRequest { number: 3, size: 10 });
        assert_eq!(query.page.offset(), 20);
    }

    #[test]
    fn unknown_parameters_and_bad_pages_name_the_parameter() {
        for (raw, parameter) in [
            ("color=red", "color"),
            ("page[size]=501", "page[size]"),
            ("page[size]=0", "page[size]"),
            ("page[number]=x", "page[number]"),
            ("filter[]=x", "filter[]"),
            ("include=a.b.c.d", "include"),
            ("include=a,b,c,d,e,f,g,h,i", "include"),
            ("sort=a&sort=b", "sort"),
            ("fields[users]=a&fields%5Busers%5D=b", "fields[users]"),
        ] {
            match ReadQuery::parse(raw) {
                Err(Error::BadParameter { parameter: p, .. }) => assert_eq!(p, parameter),
                other => panic!("{raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn repeated_and_prefix_include_paths_fold_keeping_their_order() {
        let query = ReadQuery::parse("include=groups,organizations,groups,organizations.users,groups.users.apikeys")
            .expect("parses");
        assert_eq!(query.include, vec![vec!["organizations", "users"], vec!["groups", "users", "apikeys"]]);
        let nine: Vec<String> = (0..9).map(|n| format!("a{n}")).collect();
        let repeated = format!("include={},{}", nine[..8].join(","), nine[..8].join(","));
        assert_eq!(ReadQuery::parse(&repeated).expect("8 distinct paths").include.len(), 8);
    }

    #[test]
    fn lists_are_bounded_in_items_and_item_length() {
        let hundred = vec!["x"; MAX_LIST_ITEMS].join(",");
        assert!(ReadQuery::parse(&format!("filter[handle]={hundred}")).is_ok());
        assert!(ReadQuery::parse(&format!("filter[handle]={hundred},y")).is_err());
        assert!(ReadQuery::parse(&format!("filter[handle]={}", "x".repeat(MAX_ITEM_BYTES))).is_ok());
        assert!(ReadQuery::parse(&format!("sort={}", "x".repeat(MAX_ITEM_BYTES + 1))).is_err());
    }
}
