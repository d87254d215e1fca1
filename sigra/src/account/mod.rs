//! Changes a signed-in user makes to their own account: password, email address, and the
//! forced password change an operator can require.

mod email_change;
mod password_change;
