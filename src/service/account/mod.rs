//! What a person does to their own account, and the lockout that guards every secret they present.

pub mod change_password;
pub mod email_change;
pub mod email_tokens;
pub mod lockout;
pub mod mail_sign_in;
pub mod reset_password;
pub mod signup;
pub mod totp;
pub mod verify_email;
