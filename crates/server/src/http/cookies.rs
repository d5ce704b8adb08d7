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
/// along on the provider's top-level redirect back; see [`federation_binding`] for Apple.
pub const FEDERATION: &str = "gatehouse_federation";
/// The binding cookie is needed only under `/federation`.
const FEDERATION_PATH: &str = "/federation";

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

/// The upstream flow's binding cookie. Apple answers with a cross-site POST (`form_post`), on
/// which browsers send no Lax cookie; its flows get `SameSite=None; Secure` instead when
/// gatehouse is served over https (a `SameSite=None` cookie must be `Secure`, and Apple
/// accepts only https return URLs). It is HttpOnly, limited to `/federation`, and proves only
/// which browser started a flow whose `state` an attacker cannot know.
pub fn federation_binding(
    value: String,
    secure: bool,
    max_age: i64,
    cross_site_post: bool,
) -> Cookie<'static> {
    let mut cookie = build(FEDERATION, value, secure, Some(max_age));
    cookie.set_path(FEDERATION_PATH);
    if cross_site_post && secure {
        cookie.set_same_site(SameSite::None);
    }
    cookie
}

/// Removes the binding cookie once its flow has finished, either way.
pub fn federation_removal() -> Cookie<'static> {
    let mut spent = Cookie::build(FEDERATION, "").path(FEDERATION_PATH).http_only(true).finish();
    spent.make_removal();
    spent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_apples_binding_cookie_crosses_sites_and_only_over_https() {
        let apple = federation_binding("v".into(), true, 600, true);
        assert_eq!(
            (apple.same_site(), apple.secure(), apple.http_only()),
            (Some(SameSite::None), Some(true), Some(true))
        );
        assert_eq!(apple.path(), Some("/federation"));
        let google = federation_binding("v".into(), true, 600, false);
        assert_eq!(google.same_site(), Some(SameSite::Lax));
        let dev = federation_binding("v".into(), false, 600, true);
        assert_eq!((dev.same_site(), dev.secure()), (Some(SameSite::Lax), Some(false)));
    }
}
