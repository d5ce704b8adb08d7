//! The browser session cookie. Its value is a 256-bit secret; the database keeps only its
//! SHA-256 (DESIGN.md, "Secrets at rest"). HttpOnly and SameSite=Lax, so it rides along on the
//! top-level redirect from a portal to `/authorize` but not on cross-site subrequests.

use actix_web::HttpRequest;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, SameSite};

pub const SESSION: &str = "gatehouse_session";
pub const CSRF: &str = "gatehouse_csrf";
/// Binds an upstream sign-in ("Sign in with Google") to the browser that started it: the
/// callback's `state` is honoured only with this cookie (RFC 6749 §10.12). Lax, so it rides
/// along on the provider's top-level redirect back.
pub const FEDERATION: &str = "gatehouse_federation";

/// `max_age` of `None` makes a cookie that ends with the browser session.
pub fn build(name: &'static str, value: String, secure: bool, max_age: Option<i64>) -> Cookie<'static> {
    let mut cookie =
        Cookie::build(name, value).path("/").http_only(true).secure(secure).same_site(SameSite::Lax).finish();
    if let Some(seconds) = max_age {
        cookie.set_max_age(Duration::seconds(seconds));
    }
    cookie
}

pub fn value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name).map(|c| c.value().to_owned()).filter(|v| !v.is_empty())
}
