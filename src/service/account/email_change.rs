//! A user changing their own email: the new address is not stored on the account until it is
//! confirmed. A verification mail goes to it with an email-change token (which carries the
//! address); `POST /registration/verify` with the new address, the password and that token makes
//! it the account's email.

use std::net::IpAddr;

use crate::domain::Email;
use crate::email::MailKind;
use crate::error::Error;
use crate::service::account::Account;
use crate::service::account::email_tokens::{
    LIMIT_WINDOW_SECONDS, MailAudience, MailRequest, mail_allowed, prepare_mail,
};
use crate::store::users::User;

/// Mails a confirmation token to `new_email` for `user`. A taken address is refused at once.
#[tracing::instrument(skip_all, fields(user_id = user.id))]
pub async fn request_email_change(
    account: &Account,
    user: &User,
    new_email: &Email,
    client_ip: Option<IpAddr>,
) -> Result<(), Error> {
    if account.store().user_by_email(new_email.as_str()).await?.is_some() {
        return Err(Error::Taken { field: "email" });
    }
    let audience = MailAudience { recipient: new_email.as_str(), client_ip, user_id: Some(user.id) };
    if !mail_allowed(account, audience).await? {
        return Err(Error::MailLimit { retry_after: LIMIT_WINDOW_SECONDS as u32 });
    }
    let request = MailRequest {
        kind: MailKind::Verify,
        email: new_email.as_str(),
        name: user.full_name.as_deref().unwrap_or_default(),
        handle: &user.handle,
        overrides: None,
        client_ip,
        new_email: true,
    };
    let prepared = prepare_mail(account, request).await?;
    account.store().issue_email_token(user.id, &prepared.token, &prepared.mail, account.now()).await?;
    account.mail_queued();
    Ok(())
}
