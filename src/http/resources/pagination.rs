//! `self`, `first`, `prev`, `next` and `last` links and `meta.total` for a page of a collection.

use serde_json::json;

use crate::http::jsonapi::document::Document;
use crate::http::jsonapi::query::ReadQuery;

pub fn add_links(document: &mut Document, path: &str, query: &ReadQuery, total: u64) {
    let size = query.page.size;
    let number = query.page.number;
    let last = total.div_ceil(size).max(1);
    let kept = kept_parameters(query);
    let link = |n: u64| format!("{path}?{kept}page[number]={n}&page[size]={size}");
    document.links.insert("self", json!(link(number)));
    document.links.insert("first", json!(link(1)));
    document.links.insert("last", json!(link(last)));
    document.links.insert("prev", if number > 1 { json!(link((number - 1).min(last))) } else { json!(null) });
    document.links.insert("next", if number < last { json!(link(number + 1)) } else { json!(null) });
    document.meta = Some(json!({ "total": total }));
}

/// The other read parameters, re-encoded, each followed by `&`.
fn kept_parameters(query: &ReadQuery) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    if !query.include.is_empty() {
        out.append_pair("include", &query.include.iter().map(|p| p.join(".")).collect::<Vec<_>>().join(","));
    }
    let mut fields: Vec<_> = query.fields.iter().collect();
    fields.sort();
    for (kind, names) in fields {
        out.append_pair(&format!("fields[{kind}]"), &names.join(","));
    }
    for (name, values) in &query.filters {
        out.append_pair(&format!("filter[{name}]"), &values.join(","));
    }
    if !query.sort.is_empty() {
        let keys: Vec<String> =
            query.sort.iter().map(|k| format!("{}{}", if k.descending { "-" } else { "" }, k.field)).collect();
        out.append_pair("sort", &keys.join(","));
    }
    let encoded = out.finish();
    if encoded.is_empty() { encoded } else { format!("{encoded}&") }
}
