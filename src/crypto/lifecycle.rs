//! The lifecycle of the keys in the shared key store (docs/key-lifecycle.md): each key is `next`
//! (published, signs from `signs_at`), then `signing`, then `verifying` (until every token it
//! signed has expired), then `retired` (neither published nor accepted). Pure rules: what is due
//! at a time, and which key does what; the store performs the steps, one instance each.

use std::fmt;

/// A key's state in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Next,
    Signing,
    Verifying,
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Signing => "signing",
            KeyState::Verifying => "verifying",
            KeyState::Retired => "retired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [KeyState::Next, KeyState::Signing, KeyState::Verifying, KeyState::Retired]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the rules need of one stored key (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub seq: i64,
    pub kid: String,
    pub state: KeyState,
    pub signs_at: Option<i64>,
    pub signing_since: Option<i64>,
    pub verifies_until: Option<i64>,
}

/// The rotation settings the rules follow (seconds).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// AUTHIFY_KEY_ROTATION_DAYS in seconds; none without scheduled rotation.
    pub period: Option<i64>,
    /// AUTHIFY_KEY_ROTATION_DELAY: how long a new key is published before it signs.
    pub publish_delay: i64,
    /// Token lifetime plus leeway: how long a key verifies after it stops signing.
    pub token_lifetime: i64,
}

/// A step that is due; the store performs it only if the key is still in the state it expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The next key `kid` signs from `at`; the signing key verifies until `old_verifies_until`.
    Promote { kid: String, at: i64, old_verifies_until: i64 },
    /// The verifying key `kid` stopped verifying at `at`.
    Retire { kid: String, at: i64 },
    /// A scheduled rotation: a new key numbered `seq`, signing from `signs_at`.
    Schedule { seq: i64, signs_at: i64 },
}

/// The keys that sign and verify: the signing key, the next one with the time it signs from, and
/// those that only verify, with the time they stop.
pub struct Plan<'a> {
    pub current: &'a KeyRecord,
    pub next: Option<(&'a KeyRecord, i64)>,
    pub previous: Vec<(&'a KeyRecord, i64)>,
}

fn in_state(records: &[KeyRecord], state: KeyState) -> impl Iterator<Item = &KeyRecord> {
    records.iter().filter(move |r| r.state == state)
}

fn signing(records: &[KeyRecord]) -> Option<&KeyRecord> {
    in_state(records, KeyState::Signing).max_by_key(|r| r.seq)
}

fn next(records: &[KeyRecord]) -> Option<(&KeyRecord, i64)> {
    in_state(records, KeyState::Next).filter_map(|r| Some((r, r.signs_at?))).min_by_key(|(r, _)| r.seq)
}

/// Which key does what; none when no key signs (an empty store).
pub fn plan(records: &[KeyRecord]) -> Option<Plan<'_>> {
    let current = signing(records)?;
    let previous = in_state(records, KeyState::Verifying).map(|r| (r, r.verifies_until.unwrap_or(0))).collect();
    Some(Plan { current, next: next(records), previous })
}

/// When a scheduled rotation adds the next key: a publish delay before the signing key's period
/// ends; none without scheduled rotation or while a next key waits.
pub fn schedule_at(records: &[KeyRecord], policy: &Policy) -> Option<i64> {
    let period = policy.period?;
    if next(records).is_some() {
        return None;
    }
    let since = signing(records)?.signing_since?;
    Some(since.saturating_add(period).saturating_sub(policy.publish_delay))
}

/// The steps due at `now`, in the order to perform them.
pub fn due_steps(records: &[KeyRecord], policy: &Policy, now: i64) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some((key, at)) = next(records).filter(|(_, at)| *at <= now) {
        steps.push(Step::Promote {
            kid: key.kid.clone(),
            at,
            old_verifies_until: at.saturating_add(policy.token_lifetime),
        });
    }
    for key in in_state(records, KeyState::Verifying) {
        let until = key.verifies_until.unwrap_or(0);
        if until <= now {
            steps.push(Step::Retire { kid: key.kid.clone(), at: until });
        }
    }
    if let Some(at) = schedule_at(records, policy).filter(|at| *at <= now) {
        let seq = records.iter().map(|r| r.seq).max().unwrap_or(0) + 1;
        let ends = at.saturating_add(policy.publish_delay);
        steps.push(Step::Schedule { seq, signs_at: ends.max(now.saturating_add(policy.publish_delay)) });
    }
    steps
}

/// When the next step falls due after `now` (a key starts signing, stops verifying, or a
/// scheduled rotation adds a key); none when nothing is scheduled.
pub fn next_step_at(records: &[KeyRecord], policy: &Policy) -> Option<i64> {
    let next_signs = next(records).map(|(_, at)| at);
    let stops = in_state(records, KeyState::Verifying).filter_map(|r| r.verifies_until);
    next_signs.into_iter().chain(stops).chain(schedule_at(records, policy)).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64, state: KeyState, signs_at: Option<i64>, since: Option<i64>, until: Option<i64>) -> KeyRecord {
        KeyRecord { seq, kid: format!("k{seq}"), state, signs_at, signing_since: since, verifies_until: until }
    }

    #[test]
    fn a_scheduled_rotation_publishes_first_then_hands_over_then_retires() {
        let policy = Policy { period: Some(1000), publish_delay: 100, token_lifetime: 50 };
        let mut keys = vec![record(1, KeyState::Signing, None, Some(0), None)];
        assert!(due_steps(&keys, &policy, 899).is_empty());
        assert_eq!(next_step_at(&keys, &policy), Some(900));
        assert_eq!(due_steps(&keys, &policy, 900), vec![Step::Schedule { seq: 2, signs_at: 1000 }]);
        assert_eq!(due_steps(&keys, &policy, 950), vec![Step::Schedule { seq: 2, signs_at: 1050 }], "late poll");
        keys.push(record(2, KeyState::Next, Some(1000), None, None));
        assert!(due_steps(&keys, &policy, 999).is_empty());
        assert_eq!(next_step_at(&keys, &policy), Some(1000));
        let promote = Step::Promote { kid: "k2".into(), at: 1000, old_verifies_until: 1050 };
        assert_eq!(due_steps(&keys, &policy, 1003), vec![promote]);
        keys[0] = record(1, KeyState::Verifying, None, Some(0), Some(1050));
        keys[1] = record(2, KeyState::Signing, Some(1000), Some(1000), None);
        let plan = plan(&keys).expect("plan");
        assert_eq!((plan.current.kid.as_str(), plan.previous.len()), ("k2", 1));
        assert_eq!(next_step_at(&keys, &policy), Some(1050));
        assert_eq!(due_steps(&keys, &policy, 1050), vec![Step::Retire { kid: "k1".into(), at: 1050 }]);
    }

    #[test]
    fn without_a_period_nothing_is_scheduled() {
        let policy = Policy { period: None, publish_delay: 100, token_lifetime: 50 };
        let keys =
            vec![record(1, KeyState::Signing, None, Some(0), None), record(2, KeyState::Retired, None, None, None)];
        assert!(due_steps(&keys, &policy, i64::MAX / 2).is_empty());
        assert_eq!(next_step_at(&keys, &policy), None);
        assert!(plan(&keys).is_some_and(|p| p.previous.is_empty() && p.next.is_none()));
        assert_eq!(KeyState::parse("retired"), Some(KeyState::Retired));
    }
}
