//! Repeats folded into one row. A machine credential (an OAuth client, an API key, a delegate)
//! may ask for the same thing thousands of times a second: a client that fetches a token per call
//! instead of caching it, a service authenticating each request. Each such event, identical to
//! the last one but for its request id, would be a row and three index entries, most of the cost
//! of a token after its signature (docs/benchmarks.md, "Repeats folded"). The audit writer folds
//! the identical ones of a batch: same second, actor, action, target, details and client address.
//! They become one row whose `occurrences` counts them and whose request id is the first one's.
//! A person's events (logins, logouts) and every change are never folded: each stays a row.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::store::audit_events::NewAuditEvent;

/// What makes two events the same for folding: everything but the request id.
#[derive(PartialEq, Eq, Hash)]
struct Sameness<'a> {
    occurred_at: i64,
    actor: &'a str,
    action: &'a str,
    target: Option<&'a str>,
    detail: Option<&'a str>,
    client_ip: Option<&'a str>,
}

impl<'a> Sameness<'a> {
    fn of(row: &'a NewAuditEvent) -> Self {
        Self {
            occurred_at: row.occurred_at,
            actor: &row.actor,
            action: &row.action,
            target: row.target.as_deref(),
            detail: row.detail.as_deref(),
            client_ip: row.client_ip.as_deref(),
        }
    }
}

/// The rows to write for `events` (each with whether it may be folded), in the order given: each
/// foldable event that repeats an earlier foldable one of the batch is counted in that one's row.
pub fn fold(events: Vec<(NewAuditEvent, bool)>) -> Vec<NewAuditEvent> {
    // Each row's count; 0 for a row folded into an earlier one.
    let mut counts: Vec<i32> = events.iter().map(|(row, _)| row.occurrences).collect();
    let mut first_of: HashMap<Sameness<'_>, usize> = HashMap::new();
    for (at, (row, foldable)) in events.iter().enumerate() {
        if !foldable {
            continue;
        }
        match first_of.entry(Sameness::of(row)) {
            Entry::Occupied(first) => {
                counts[*first.get()] = counts[*first.get()].saturating_add(row.occurrences);
                counts[at] = 0;
            }
            Entry::Vacant(slot) => {
                slot.insert(at);
            }
        }
    }
    drop(first_of);
    events
        .into_iter()
        .zip(counts)
        .filter(|(_, count)| *count > 0)
        .map(|((row, _), count)| NewAuditEvent { occurrences: count, ..row })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(second: i64, actor: &str, ip: &str, request: &str) -> NewAuditEvent {
        NewAuditEvent {
            occurred_at: second,
            actor: actor.to_owned(),
            action: "oauth.token".to_owned(),
            target: None,
            detail: Some(r#"{"grant_type":"client_credentials","outcome":"success"}"#.to_owned()),
            client_ip: Some(ip.to_owned()),
            request_id: Some(request.to_owned()),
            occurrences: 1,
        }
    }

    fn summary(rows: &[NewAuditEvent]) -> Vec<(String, i32)> {
        rows.iter().map(|r| (r.request_id.clone().unwrap_or_default(), r.occurrences)).collect()
    }

    #[test]
    fn a_machines_identical_events_of_one_second_become_one_row_counting_them() {
        let rows = fold(vec![
            (event(10, "client:a", "10.0.0.1", "r1"), true),
            (event(10, "client:b", "10.0.0.1", "r2"), true),
            (event(10, "client:a", "10.0.0.1", "r3"), true),
            (event(10, "client:a", "10.0.0.1", "r4"), true),
            (event(11, "client:a", "10.0.0.1", "r5"), true),
            (event(11, "client:a", "10.0.0.2", "r6"), true),
        ]);
        let kept = vec![("r1".into(), 3), ("r2".into(), 1), ("r5".into(), 1), ("r6".into(), 1)];
        assert_eq!(summary(&rows), kept);
    }

    #[test]
    fn details_or_targets_that_differ_keep_their_rows() {
        let mut failure = event(10, "client:a", "10.0.0.1", "r2");
        failure.detail = Some(r#"{"outcome":"failure"}"#.to_owned());
        let mut targeted = event(10, "client:a", "10.0.0.1", "r3");
        targeted.target = Some("users:7".to_owned());
        let rows = fold(vec![(event(10, "client:a", "10.0.0.1", "r1"), true), (failure, true), (targeted, true)]);
        assert_eq!(summary(&rows), vec![("r1".into(), 1), ("r2".into(), 1), ("r3".into(), 1)]);
    }

    #[test]
    fn events_that_may_not_be_folded_are_never_folded_nor_folded_into() {
        let rows = fold(vec![
            (event(10, "user:1", "10.0.0.1", "r1"), false),
            (event(10, "user:1", "10.0.0.1", "r2"), false),
            (event(10, "user:1", "10.0.0.1", "r3"), true),
            (event(10, "user:1", "10.0.0.1", "r4"), true),
        ]);
        assert_eq!(summary(&rows), vec![("r1".into(), 1), ("r2".into(), 1), ("r3".into(), 2)]);
    }
}
