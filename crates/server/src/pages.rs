//! The hosted sign-in pages: askama templates in the wording of the citizens' guides
//! (`../shared/guides/`), server-rendered, usable without JavaScript.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder};
use askama::Template;

/// The Content Security Policy of every page: no script at all.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/// Unix seconds as a date in words: "8 December 2026" (UTC).
pub fn date_words(at: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(at) {
        Ok(t) => format!("{} {} {}", t.day(), t.month(), t.year()),
        Err(_) => "an unknown date".to_owned(),
    }
}

/// Pages never go in a shared cache, never in a frame, and load nothing from elsewhere.
pub fn html(builder: HttpResponseBuilder, body: String) -> HttpResponse {
    html_with_csp(builder, body, CSP)
}

fn html_with_csp(mut builder: HttpResponseBuilder, body: String, csp: &str) -> HttpResponse {
    builder
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .body(body)
}

/// The one script gatehouse serves: the auto-submit of the form_post response page.
const AUTO_SUBMIT: &str = "document.forms[0].submit();";

/// The form_post response (OAuth 2.0 Form Post Response Mode §2): a form with the response
/// parameters as hidden fields, POSTed to the redirect URI. The pages use no JavaScript, so
/// the form has a visible "Continue" button inside `<noscript>`; for everyone else one inline
/// script submits it at once. That script is allowed by its SHA-256 hash in this page's CSP
/// (`script-src 'sha256-…'`), so no other script can run, inline or loaded. `form-action` is
/// left open: the form's whole point is to post to the client.
pub fn form_post(
    action: &str,
    fields: &[(String, String)],
) -> Result<HttpResponse, crate::http::error::Failure> {
    use base64::Engine;
    let body = FormPost { action, fields, script: AUTO_SUBMIT }
        .render()
        .map_err(crate::http::error::Failure::internal)?;
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, AUTO_SUBMIT.as_bytes());
    let hash = base64::engine::general_purpose::STANDARD.encode(hash.as_ref());
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    Ok(html_with_csp(HttpResponse::Ok(), body, &csp))
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPost<'a> {
    action: &'a str,
    fields: &'a [(String, String)],
    script: &'a str,
}

/// Consent (OIDC Core §3.1.2.4): the client's name, what it asks for in plain words, "Allow"
/// and "Deny".
#[derive(Template)]
#[template(path = "consent.html")]
pub struct Consent<'a> {
    pub csrf: &'a str,
    pub continue_to: &'a str,
    pub client_name: &'a str,
    /// Not a city portal: the page says so.
    pub third_party: bool,
    pub scopes: &'a [&'a str],
    pub action: &'a str,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub back: Option<&'a str>,
}

/// A "Sign in with {label}" button: on the sign-in page a submit button of its one form
/// (`formaction`, so "Keep me signed in" comes along); elsewhere a plain GET form to
/// `/federation/{name}/start`.
#[derive(Clone, Debug)]
pub struct ProviderButton {
    pub name: String,
    pub label: String,
}

/// Step 2–3 of the identifier-first guide: "Sign in", "Email address", "Keep me signed in", "Next",
/// with the first-edition guide's "Sign in with …" buttons above "OR" for configured providers.
#[derive(Template)]
#[template(path = "signin_email.html")]
pub struct SignInEmail<'a> {
    pub providers: &'a [ProviderButton],
    pub csrf: &'a str,
    pub unlock: &'a str,
    pub signup: &'a str,
    pub continue_to: &'a str,
    pub email: &'a str,
    pub keep: bool,
    pub error: Option<&'a str>,
}

/// Step 4: "Verify it's you with a security method": Email (masked) and Password, each with
/// "Select".
#[derive(Template)]
#[template(path = "signin_method.html")]
pub struct SignInMethod<'a> {
    pub csrf: &'a str,
    pub continue_to: &'a str,
    pub email: &'a str,
    /// The email as the guide shows it: `o***e@gmail.com`.
    pub masked: &'a str,
    pub keep: bool,
    pub back: &'a str,
}

/// Step 5: "Verify with your password", "Verify", "Forgot password?", "Back to sign in".
#[derive(Template)]
#[template(path = "signin_password.html")]
pub struct SignInPassword<'a> {
    pub csrf: &'a str,
    pub continue_to: &'a str,
    pub email: &'a str,
    pub keep: bool,
    pub error: Option<&'a str>,
    pub forgot: &'a str,
    pub back: &'a str,
}

/// An upstream sign-in that ended without a session, or a local sign-in refused because the
/// account signs in upstream: what happened, the button to use instead, "Back to sign in".
#[derive(Template)]
#[template(path = "federation_stopped.html")]
pub struct SignInStopped<'a> {
    pub title: &'a str,
    pub message: &'a str,
    pub button: Option<&'a ProviderButton>,
    pub continue_to: &'a str,
    pub back: &'a str,
}

#[derive(Template)]
#[template(path = "signed_in.html")]
pub struct SignedIn<'a> {
    pub email: &'a str,
}

/// A page that only informs: a title, some lines, and where to go next.
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message<'a> {
    pub title: &'a str,
    pub lines: &'a [&'a str],
    pub link: Option<(&'a str, &'a str)>,
}

/// "Email sent!" with the junk-folder hint (first-edition guide, steps 9–10). Shown whether or
/// not the address has an account.
#[derive(Template)]
#[template(path = "email_sent.html")]
pub struct EmailSent<'a> {
    pub email: &'a str,
    /// "resetting your password", "unlocking your account".
    pub purpose: &'a str,
    pub back: &'a str,
}

/// "Reset your password" → "Reset via Email" (first edition), or "Get a verification email" →
/// "Send me an email" when the email is already known (identifier-first guide).
#[derive(Template)]
#[template(path = "forgot.html")]
pub struct Forgot<'a> {
    pub csrf: &'a str,
    pub continue_to: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub back: &'a str,
}

/// "Reset your password": the rules, "New password", "Repeat password" (steps 12–15).
#[derive(Template)]
#[template(path = "reset.html")]
pub struct Reset<'a> {
    pub csrf: &'a str,
    pub token: &'a str,
    pub rules: &'a [String],
    pub errors: &'a [String],
}

/// "Unlock account?": the email to send an unlock link to.
#[derive(Template)]
#[template(path = "unlock.html")]
pub struct Unlock<'a> {
    pub csrf: &'a str,
    pub continue_to: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub back: &'a str,
}

/// The unlock link's page: a button, so a mail scanner fetching the link unlocks nothing.
#[derive(Template)]
#[template(path = "unlock_confirm.html")]
pub struct UnlockConfirm<'a> {
    pub csrf: &'a str,
    pub token: &'a str,
}

/// The emailed-code step: "Verification code", "Verify", "Resend code".
#[derive(Template)]
#[template(path = "signin_code.html")]
pub struct SignInCode<'a> {
    pub csrf: &'a str,
    pub continue_to: &'a str,
    pub email: &'a str,
    pub masked: &'a str,
    pub keep: bool,
    pub minutes: i64,
    pub error: Option<&'a str>,
    pub back: &'a str,
}

/// One input of the sign-up form, with its errors.
pub struct SignUpField<'a> {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub autocomplete: &'static str,
    pub value: &'a str,
    pub errors: Vec<&'a str>,
}

/// "Don't have an account? Sign up".
#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignUp<'a> {
    pub csrf: &'a str,
    pub continue_to: &'a str,
    pub fields: Vec<SignUpField<'a>>,
    pub rules: &'a [String],
    pub back: &'a str,
}

/// The verification link's page: a button, so a mail scanner fetching it changes nothing.
#[derive(Template)]
#[template(path = "verify_email.html")]
pub struct VerifyEmail<'a> {
    pub csrf: &'a str,
    pub token: &'a str,
}

/// RP-initiated logout without proof that the portal speaks for this session: "Sign out?" with
/// a "Sign out" button (a CSRF-protected POST), so a link on another site signs no one out.
#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirm<'a> {
    pub csrf: &'a str,
    /// The portal's name, when the request named one.
    pub portal: &'a str,
    /// The logout request's parameters, carried to the confirmation.
    pub carried: Vec<(&'static str, &'a str)>,
}
