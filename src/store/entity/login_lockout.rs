use sea_orm::entity::prelude::*;

/// Consecutive failed logins of one account, keyed by the SHA-256 hex of its normalised email (so
/// unknown emails are counted like known ones). `failures` includes attempts still being checked;
/// `lockouts` counts locks since the last success and picks the next, longer, interval.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_lockouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_key: String,
    pub failures: i32,
    pub locked_until: i64,
    pub lockouts: i32,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
