//! Ids as tokens carry them. `UserId` is a number in `user.uid` and a string in `sub`; a session
//! (`sid`) and an API key (`akid`) are named by their id as a string.

use std::fmt;
use std::num::ParseIntError;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A user's id (`users.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

/// A session's id (`sessions.id`): a string in tokens, a number in tokens signed by older builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub i64);

/// An API key's id (`api_keys.id`): a string in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiKeyId(pub i64);

macro_rules! id_text {
    ($($id:ident),*) => {$(
        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $id {
            type Err = ParseIntError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map(Self)
            }
        }
    )*};
}

id_text!(UserId, SessionId, ApiKeyId);

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StringOrNumber;

        impl Visitor<'_> for StringOrNumber {
            type Value = SessionId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a session id, as a string or a number")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<SessionId, E> {
                text.parse().map_err(E::custom)
            }

            fn visit_i64<E: de::Error>(self, id: i64) -> Result<SessionId, E> {
                Ok(SessionId(id))
            }

            fn visit_u64<E: de::Error>(self, id: u64) -> Result<SessionId, E> {
                i64::try_from(id).map(SessionId).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(StringOrNumber)
    }
}

impl Serialize for ApiKeyId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ApiKeyId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(de::Error::custom)
    }
}

/// `sub`: the user id as a string.
pub(crate) mod user_id_as_string {
    use serde::{Deserialize, Deserializer, Serializer, de};

    use super::UserId;

    pub fn serialize<S: Serializer>(id: &Option<UserId>, serializer: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => serializer.collect_str(id),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<UserId>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => text.parse().map(Some).map_err(de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_session_id_is_written_as_a_string_and_read_as_a_string_or_a_number() {
        assert_eq!(serde_json::to_value(SessionId(7)).expect("json"), json!("7"));
        assert_eq!(serde_json::from_value::<SessionId>(json!("7")).expect("string"), SessionId(7));
        assert_eq!(serde_json::from_value::<SessionId>(json!(7)).expect("number"), SessionId(7));
        assert!(serde_json::from_value::<SessionId>(json!("seven")).is_err());
        assert!(serde_json::from_value::<SessionId>(json!(7.5)).is_err());
    }

    #[test]
    fn an_api_key_id_is_a_string() {
        assert_eq!(serde_json::to_value(ApiKeyId(3)).expect("json"), json!("3"));
        assert_eq!(serde_json::from_value::<ApiKeyId>(json!("3")).expect("string"), ApiKeyId(3));
        assert!(serde_json::from_value::<ApiKeyId>(json!(3)).is_err());
    }

    #[test]
    fn a_user_id_is_a_number() {
        assert_eq!(serde_json::to_value(UserId(172)).expect("json"), json!(172));
    }
}
