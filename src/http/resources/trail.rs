//! Every successful write through the {json:api} routes lands on the audit trail once, here:
//! `{type}.create`, `{type}.update`, `{type}.delete` and `{type}.relationship.{add,remove,replace}`,
//! naming the resource and the attributes sent (never write-only ones such as passwords).

use serde_json::{Map, Value, json};

use super::kind::{Attributes, Cx, RelOp, ResourceKind};
use crate::runtime::audit::AuditEvent;

/// The attributes sent, without write-only ones.
pub fn sent_attributes(kind: &dyn ResourceKind, attributes: &Attributes) -> Value {
    let shown: Map<String, Value> = attributes
        .0
        .iter()
        .filter(|(name, _)| kind.attributes().iter().any(|a| a.name == name.as_str() && !a.write_only))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    json!({ "attributes": shown })
}

/// Records a write on `kind`'s resource `id` by the caller.
pub async fn record(cx: &Cx<'_>, kind: &dyn ResourceKind, verb: &str, id: &str, mut detail: Value) {
    if let (Some(delegate), Some(_)) = (&cx.caller.delegate, &cx.caller.user) {
        detail["via"] = format!("delegate:{}", delegate.name).into();
    }
    let event = AuditEvent::during(cx.request, cx.caller.actor(), format!("{}.{verb}", kind.name()))
        .target(format!("{}:{id}", kind.name()));
    cx.state.audit.record(event.detail(detail)).await;
}

/// The verb of a relationship write.
pub fn relationship_verb(op: RelOp) -> &'static str {
    match op {
        RelOp::Add => "relationship.add",
        RelOp::Remove => "relationship.remove",
        RelOp::Replace => "relationship.replace",
    }
}
