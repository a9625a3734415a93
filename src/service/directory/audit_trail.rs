//! Reading the audit trail: global admins only. Writing it is `runtime::audit`; the trail is kept
//! beside the directory because what it mostly records is who changed which user, key or delegate.

use super::Directory;
use crate::error::Error;
use crate::service::auth::access::Caller;
use crate::store::audit_events::StoredAuditEvent;
use crate::store::listing::{ListParams, Page};

fn require_admin(caller: &Caller) -> Result<(), Error> {
    if caller.is_admin() { Ok(()) } else { Err(Error::forbidden("Only admins read the audit trail")) }
}

/// `GET /audit-events`: one page of the trail.
pub async fn list(
    directory: &Directory,
    caller: &Caller,
    params: &ListParams,
) -> Result<Page<StoredAuditEvent>, Error> {
    require_admin(caller)?;
    Ok(directory.store.list_audit_events_page(params).await?)
}

/// One event of the trail.
pub async fn show(directory: &Directory, caller: &Caller, id: i64) -> Result<StoredAuditEvent, Error> {
    require_admin(caller)?;
    directory.store.audit_event_by_id(id).await?.ok_or(Error::NotFound)
}
