use sea_orm::entity::prelude::*;

/// One refresh token of a session, stored as the SHA-256 hex of the token. `used_at` is set when it
/// is exchanged; `successor` then holds the pair it was exchanged for, sealed, so a concurrent
/// exchange within the grace window gets the same pair.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub session_id: i64,
    pub token_hash: String,
    pub issued_at: i64,
    pub used_at: Option<i64>,
    pub successor: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::session::Entity", from = "Column::SessionId", to = "super::session::Column::Id")]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
