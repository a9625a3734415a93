//! The people and machines Authify knows, and the rules over who may see and change them.

pub mod api_keys;
pub mod delegates;
pub mod users;
