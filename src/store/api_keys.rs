//! The `api_keys` table.
