//! Checking a read's query parameters against a resource type's declarations: includes name real
//! relationship paths, sparse fieldsets name real types and fields, filters and sort keys are on
//! the type's allow-lists (never on secret or private columns), each sort key at most once.

use std::collections::HashMap;

use super::kind::{FilterType, ResourceKind};
use super::kind_named;
use crate::error::Error;
use crate::http::jsonapi::query::ReadQuery;
use crate::store::listing::{FilterValue, ListParams};

/// Checks `include` paths and `fields[...]` for any read rooted at `kind`.
pub fn check_shape(kind: &dyn ResourceKind, query: &ReadQuery) -> Result<(), Error> {
    for path in &query.include {
        let mut current = kind;
        for segment in path {
            let rel = current.relationships().iter().find(|r| r.name == segment).ok_or_else(|| {
                Error::bad_parameter("include", format!("{} has no relationship {segment}", current.name()))
            })?;
            current = kind_named(rel.target).ok_or_else(|| Error::bad_parameter("include", "unknown type"))?;
        }
    }
    check_fields(&query.fields)
}

fn check_fields(fields: &HashMap<String, Vec<String>>) -> Result<(), Error> {
    for (kind_name, names) in fields {
        let parameter = format!("fields[{kind_name}]");
        let kind = kind_named(kind_name).ok_or_else(|| Error::bad_parameter(&parameter, "is not a resource type"))?;
        for name in names {
            let known = kind.attributes().iter().any(|a| a.name == name && !a.write_only)
                || kind.relationships().iter().any(|r| r.name == name);
            if !known {
                return Err(Error::bad_parameter(&parameter, format!("{kind_name} has no field {name}")));
            }
        }
    }
    Ok(())
}

/// Filters, sort keys and the page of a collection read, as storage parameters.
pub fn list_params(kind: &dyn ResourceKind, query: &ReadQuery) -> Result<ListParams, Error> {
    let mut params = ListParams { offset: query.page.offset(), limit: query.page.size, ..ListParams::default() };
    for (name, raw_values) in &query.filters {
        let parameter = format!("filter[{name}]");
        let filter =
            kind.filters().iter().find(|f| f.name == name).ok_or_else(|| {
                Error::bad_parameter(&parameter, format!("{} cannot be filtered by {name}", kind.name()))
            })?;
        if matches!(filter.ty, FilterType::Since | FilterType::Until) && raw_values.len() != 1 {
            return Err(Error::bad_parameter(&parameter, "takes exactly one date-time"));
        }
        let values = raw_values
            .iter()
            .map(|raw| {
                filter_value(filter.ty, raw).ok_or_else(|| match filter.ty {
                    FilterType::Since | FilterType::Until => {
                        Error::bad_parameter(&parameter, "must be an RFC 3339 date-time such as 2026-11-23T16:50:44Z")
                    }
                    _ => Error::bad_parameter(&parameter, "has a value of the wrong type"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        params.filters.push((filter.column.to_owned(), values));
    }
    for key in &query.sort {
        let sort = kind.sorts().iter().find(|s| s.name == key.field).ok_or_else(|| {
            Error::bad_parameter("sort", format!("{} cannot be sorted by {}", kind.name(), key.field))
        })?;
        if params.sort.iter().any(|(column, _)| column == sort.column) {
            return Err(Error::bad_parameter("sort", format!("names {} more than once", key.field)));
        }
        params.sort.push((sort.column.to_owned(), key.descending));
    }
    Ok(params)
}

fn filter_value(ty: FilterType, raw: &str) -> Option<FilterValue> {
    match ty {
        FilterType::Text => Some(FilterValue::Text(raw.to_owned())),
        FilterType::Boolean => raw.parse().ok().map(FilterValue::Bool),
        FilterType::Integer => raw.parse().ok().map(FilterValue::Int),
        FilterType::Since => unix_seconds(raw).map(FilterValue::AtLeast),
        FilterType::Until => unix_seconds(raw).map(FilterValue::AtMost),
    }
}

fn unix_seconds(raw: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(raw).ok().map(|t| t.timestamp())
}
