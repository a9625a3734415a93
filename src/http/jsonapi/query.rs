//! The query parameters of a {json:api} read: `include`, `fields[type]`, `filter[name]`, `sort`,
//! `page[number]`, `page[size]`. Anything else is refused with 400 naming the parameter; whether a
//! name is allowed for a given resource is checked by the resource layer.

use std::collections::HashMap;

use crate::error::Error;

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

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
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            let key = key.as_ref();
            if key == "include" {
                query.include = list(&value).map(|path| path.split('.').map(str::to_owned).collect()).collect();
            } else if key == "sort" {
                query.sort = list(&value)
                    .map(|field| match field.strip_prefix('-') {
                        Some(field) => SortKey { field: field.to_owned(), descending: true },
                        None => SortKey { field: field.to_owned(), descending: false },
                    })
                    .collect();
            } else if let Some(kind) = bracketed(key, "fields") {
                query.fields.insert(kind.to_owned(), list(&value).map(str::to_owned).collect());
            } else if let Some(name) = bracketed(key, "filter") {
                query.filters.push((name.to_owned(), list(&value).map(str::to_owned).collect()));
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

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
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
    use super::*;

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
        ] {
            match ReadQuery::parse(raw) {
                Err(Error::BadParameter { parameter: p, .. }) => assert_eq!(p, parameter),
                other => panic!("{raw}: {other:?}"),
            }
        }
    }
}
