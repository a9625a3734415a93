//! Checking the attributes of a create or update against the type's declarations before any
//! resource code sees them.

use chrono::DateTime;
use serde_json::{Map, Value};

use super::kind::{AttrDef, AttrType, Attributes, ResourceKind, Writable};
use crate::domain::InvalidValue;
use crate::error::Error;

/// Unknown or read-only names give 400 pointing at the attribute; values of the wrong type 422.
pub fn check_attributes(
    kind: &dyn ResourceKind,
    sent: Map<String, Value>,
    creating: bool,
) -> Result<Attributes, Error> {
    let mut checked = Map::new();
    for (name, value) in sent {
        let pointer = format!("/data/attributes/{name}");
        let def =
            kind.attributes().iter().find(|a| a.name == name).ok_or_else(|| {
                Error::bad_document(&pointer, format!("{name} is not an attribute of {}", kind.name()))
            })?;
        match def.writable {
            Writable::Never => return Err(Error::bad_document(&pointer, format!("{name} is read-only"))),
            Writable::OnCreate if !creating => {
                return Err(Error::bad_document(&pointer, format!("{name} can only be set when creating")));
            }
            _ => {}
        }
        checked.insert(name, checked_value(def, value)?);
    }
    Ok(Attributes(checked))
}

fn checked_value(def: &AttrDef, value: Value) -> Result<Value, Error> {
    let wrong = |what: &str| Error::from(InvalidValue::new(def.name, format!("must be {what}")));
    if value.is_null() {
        return if def.nullable { Ok(Value::Null) } else { Err(wrong("present (not null)")) };
    }
    match def.ty {
        AttrType::String if value.is_string() => Ok(value),
        AttrType::String => Err(wrong("a string")),
        AttrType::Boolean if value.is_boolean() => Ok(value),
        AttrType::Boolean => Err(wrong("true or false")),
        AttrType::Count if value.as_u64().is_some_and(|n| n >= 1) => Ok(value),
        AttrType::Count => Err(wrong("a whole number of at least 1")),
        AttrType::StringList if value.as_array().is_some_and(|a| a.iter().all(Value::is_string)) => Ok(value),
        AttrType::StringList => Err(wrong("an array of strings")),
        AttrType::Object if value.is_object() => Ok(value),
        AttrType::Object => Err(wrong("an object")),
        AttrType::DateTime => value
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| Value::from(t.timestamp()))
            .ok_or_else(|| wrong("an RFC 3339 date-time")),
    }
}

/// Unix seconds as RFC 3339 UTC, as every date-time attribute is shown.
pub fn rfc3339(seconds: i64) -> Value {
    DateTime::from_timestamp(seconds, 0)
        .map_or(Value::Null, |t| Value::from(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
}
