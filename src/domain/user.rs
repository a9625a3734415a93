//! A user as the services see it, apart from the `users` row it is stored in
//! (`store::users::Model`): the store converts, so nothing outside it depends on sea-orm.

/// A stored user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub handle: String,
    pub full_name: Option<String>,
    /// The argon2 (or legacy) digest; `None` for a user who signs in only through an identity.
    pub password_digest: Option<String>,
    pub admin: bool,
    pub verified: bool,
    pub disabled: bool,
    /// Unix seconds; sessions that proved an older password end.
    pub password_changed_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}
