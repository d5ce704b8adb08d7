//! The messages gatehouse sends, in the wording of the citizens' guides ("Reset password",
//! "Unlock account?", "Verify it's you"). Each is a text and an HTML askama template under
//! `templates/`; the HTML ones are escaped, so a hostile address or link cannot inject markup.
//!
//! Subjects never carry the code or link: the `log` transport prints subjects.

use askama::Template;

use crate::{MailSettings, OutgoingMessage};

/// What every message shows: who sends it, to whom, and where to get help.
struct Common<'a> {
    service_name: &'a str,
    support_contact: &'a str,
    to: &'a str,
}

/// A message whose action is a single-use link.
struct LinkMail<'a> {
    common: Common<'a>,
    link: &'a str,
    valid_for: String,
}

/// A message that carries a one-time code to type in.
struct CodeMail<'a> {
    common: Common<'a>,
    code: &'a str,
    valid_for: String,
}

macro_rules! template {
    ($name:ident, $path:literal, $data:ident) => {
        #[derive(Template)]
        #[template(path = $path)]
        struct $name<'a> {
            m: &'a $data<'a>,
        }
    };
}

template!(PasswordResetText, "password_reset.txt", LinkMail);
template!(PasswordResetHtml, "password_reset.html", LinkMail);
template!(UnlockAccountText, "unlock_account.txt", LinkMail);
template!(UnlockAccountHtml, "unlock_account.html", LinkMail);
template!(VerifyEmailText, "verify_email.txt", LinkMail);
template!(VerifyEmailHtml, "verify_email.html", LinkMail);
template!(SignInCodeText, "sign_in_code.txt", CodeMail);
template!(SignInCodeHtml, "sign_in_code.html", CodeMail);
template!(PasswordChangedText, "password_changed.txt", NoticeMail);
template!(PasswordChangedHtml, "password_changed.html", NoticeMail);

/// A message that tells of a change to the account and links to what to do if it was not the
/// citizen's.
struct NoticeMail<'a> {
    common: Common<'a>,
    /// "in your profile", "with a password reset link".
    how: &'a str,
    /// "8 December 2026 at 01:30 UTC".
    when: String,
    link: &'a str,
}

/// How a password was changed, as the notice says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordChangedBy {
    /// "Change password" in the profile (or its JSON API).
    Profile,
    /// A "Reset password" link.
    ResetLink,
}

/// The reply to "Forgot password?": a "Reset password" link, single use (the guide: "The link
/// expires in 1 hour").
#[must_use]
pub fn password_reset(settings: &MailSettings, to: &str, link: &str, valid_minutes: i64) -> OutgoingMessage {
    let m = link_mail(settings, to, link, valid_minutes);
    message(to, "Reset your password", &PasswordResetText { m: &m }, &PasswordResetHtml { m: &m })
}

/// The reply to "Unlock account?": an "Unlock account" link for an account locked after
/// repeated failed sign-ins.
#[must_use]
pub fn unlock_account(settings: &MailSettings, to: &str, link: &str, valid_minutes: i64) -> OutgoingMessage {
    let m = link_mail(settings, to, link, valid_minutes);
    message(to, "Unlock your account", &UnlockAccountText { m: &m }, &UnlockAccountHtml { m: &m })
}

/// Proves the citizen owns the address: a "Verify email" link.
#[must_use]
pub fn verify_email(settings: &MailSettings, to: &str, link: &str, valid_minutes: i64) -> OutgoingMessage {
    let m = link_mail(settings, to, link, valid_minutes);
    message(to, "Verify your email address", &VerifyEmailText { m: &m }, &VerifyEmailHtml { m: &m })
}

/// The "Email" security method of the identifier-first guide ("a verification code will be
/// sent to the email address"): the code, shown large, to type into the sign-in page.
#[must_use]
pub fn sign_in_code(settings: &MailSettings, to: &str, code: &str, valid_minutes: i64) -> OutgoingMessage {
    let m = CodeMail { common: common(settings, to), code, valid_for: duration_words(valid_minutes) };
    message(to, "Your sign-in code", &SignInCodeText { m: &m }, &SignInCodeHtml { m: &m })
}

/// The notice after a password change (OWASP ASVS 5.0 6.3.7: users are notified after updates
/// to authentication details). It carries no secret: only when and how, and a "Forgot password?"
/// link (`forgot_link`) for a citizen who did not make the change.
#[must_use]
pub fn password_changed(
    settings: &MailSettings,
    to: &str,
    by: PasswordChangedBy,
    at: i64,
    forgot_link: &str,
) -> OutgoingMessage {
    let how = match by {
        PasswordChangedBy::Profile => "in your profile",
        PasswordChangedBy::ResetLink => "with a password reset link",
    };
    let m = NoticeMail { common: common(settings, to), how, when: date_words(at), link: forgot_link };
    message(to, "Your password was changed", &PasswordChangedText { m: &m }, &PasswordChangedHtml { m: &m })
}

fn common<'a>(settings: &'a MailSettings, to: &'a str) -> Common<'a> {
    Common { service_name: &settings.service_name, support_contact: &settings.support_contact, to }
}

fn link_mail<'a>(settings: &'a MailSettings, to: &'a str, link: &'a str, valid_minutes: i64) -> LinkMail<'a> {
    LinkMail { common: common(settings, to), link, valid_for: duration_words(valid_minutes) }
}

fn message(to: &str, subject: &str, text: &impl Template, html: &impl Template) -> OutgoingMessage {
    OutgoingMessage { to: to.to_owned(), subject: subject.to_owned(), text: render(text), html: render(html) }
}

#[expect(
    clippy::expect_used,
    reason = "askama checks the templates at compile time; rendering into a String fails only \
              if a value's Display fails, and these values are str and String"
)]
fn render(template: &impl Template) -> String {
    template.render().expect("mail templates render")
}

/// `60` -> "1 hour", `90` -> "90 minutes", `1440` -> "24 hours": how citizens say it.
fn duration_words(minutes: i64) -> String {
    let minutes = minutes.max(1);
    match (minutes % 60, minutes / 60) {
        (0, 1) => "1 hour".to_owned(),
        (0, hours) => format!("{hours} hours"),
        _ if minutes == 1 => "1 minute".to_owned(),
        _ => format!("{minutes} minutes"),
    }
}

/// Unix seconds -> "8 December 2026 at 01:30 UTC".
fn date_words(at: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(at) {
        Ok(t) => format!("{} {} {} at {:02}:{:02} UTC", t.day(), t.month(), t.year(), t.hour(), t.minute()),
        Err(_) => "an unknown date".to_owned(),
    }
}

#[cfg(test)]
#[path = "messages_tests.rs"]
mod tests;
