//! Paged, filtered and sorted listing for any table. Which columns may be filtered or sorted on is
//! decided by the caller (the resource layer keeps allow-lists); here names are only resolved.

use std::str::FromStr;

use sea_orm::sea_query::Order;
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::{Store, StoreError};

/// A value to filter on; several values for one column mean "any of these". `AtLeast` and
/// `AtMost` are bounds (inclusive) and stand alone.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Bool(bool),
    Int(i64),
    AtLeast(i64),
    AtMost(i64),
}

impl From<FilterValue> for sea_orm::Value {
    fn from(value: FilterValue) -> Self {
        match value {
            FilterValue::Text(text) => text.into(),
            FilterValue::Bool(flag) => flag.into(),
            FilterValue::Int(n) | FilterValue::AtLeast(n) | FilterValue::AtMost(n) => n.into(),
        }
    }
}

/// Columns are named as in the table (`created_at`).
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub filters: Vec<(String, Vec<FilterValue>)>,
    /// Column and whether descending; the id always breaks ties so pages are stable.
    pub sort: Vec<(String, bool)>,
    pub offset: u64,
    pub limit: u64,
}

/// One page of rows and how many rows match in all.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: u64,
}

impl Store {
    /// Applies `params` to `select` and fetches one page and the total count.
    pub(crate) async fn fetch_page<E>(
        &self,
        mut select: Select<E>,
        id: E::Column,
        params: &ListParams,
    ) -> Result<Page<E::Model>, StoreError>
    where
        E: EntityTrait,
        E::Model: FromQueryResult + Send + Sync,
        E::Column: FromStr,
    {
        for (name, values) in &params.filters {
            let column = E::Column::from_str(name).map_err(|_| unknown_column(name))?;
            select = match values.as_slice() {
                [FilterValue::AtLeast(bound)] => select.filter(column.gte(*bound)),
                [FilterValue::AtMost(bound)] => select.filter(column.lte(*bound)),
                _ => select.filter(column.is_in(values.iter().cloned().map(sea_orm::Value::from))),
            };
        }
        let total = select.clone().count(self.conn()).await?;
        for (name, descending) in &params.sort {
            let column = E::Column::from_str(name).map_err(|_| unknown_column(name))?;
            select = select.order_by(column, if *descending { Order::Desc } else { Order::Asc });
        }
        let rows = select.order_by_asc(id).offset(params.offset).limit(params.limit).all(self.conn()).await?;
        Ok(Page { rows, total })
    }
}

fn unknown_column(name: &str) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Custom(format!("no column {name}")))
}
