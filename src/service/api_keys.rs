//! API keys: creation for a user, and token issuance from an access key and its secret.
