//! The browser's cookies: the session, the CSRF cookie and the upstream flow's binding. The
//! session's value is a 256-bit secret; the database keeps only its SHA-256 (DESIGN.md,
//! "Secrets at rest"). All are HttpOnly and SameSite=Lax, so the session rides along on the
//! top-level redirect from a portal to `/authorize` but not on cross-site subrequests.
//!
//! Served over https (an https issuer), they are `Secure` and carry the prefixes of RFC 6265bis
//! §4.1.3: `__Host-` for the session and CSRF cookies (Secure, `Path=/`, no `Domain`: no
//! sibling subdomain and no plain-http response can set or shadow them), `__Secure-` for the
//! binding cookie, which keeps its `Path=/federation` so it travels only to the callback
//! (`__Host-` demands `Path=/`; the binding only proves which browser started a flow whose
//! `state` an attacker cannot know, so `Secure` plus the path is the better trade). Over plain
//! http (development, tests) the names have no prefix: a browser refuses a prefixed cookie
//! without `Secure`.

use actix_web::HttpRequest;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Cookie, SameSite};

/// The cookies gatehouse sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Name {
    Session,
    Csrf,
    /// Binds an upstream sign-in ("Sign in with Google") to the browser that started it: the
    /// callback's `state` is honoured only with this cookie (RFC 6749 §10.12). Lax, so it rides
    /// along on the provider's top-level redirect back; see [`federation_binding`] for Apple.
    Federation,
}

impl Name {
    /// The cookie's name over https (`secure`) or plain http.
    pub fn as_str(self, secure: bool) -> &'static str {
        match (self, secure) {
            (Self::Session, false) => "gatehouse_session",
            (Self::Session, true) => "__Host-gatehouse_session",
            (Self::Csrf, false) => "gatehouse_csrf",
            (Self::Csrf, true) => "__Host-gatehouse_csrf",
            (Self::Federation, false) => "gatehouse_federation",
            (Self::Federation, true) => "__Secure-gatehouse_federation",
        }
    }
}

/// The binding cookie is needed only under `/federation`.
const FEDERATION_PATH: &str = "/federation";

/// `max_age` of `None` makes a cookie that ends with the browser session.
pub fn build(name: Name, value: String, secure: bool, max_age: Option<i64>) -> Cookie<'static> {
    let mut cookie = Cookie::build(name.as_str(secure), value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    if let Some(seconds) = max_age {
        cookie.set_max_age(Duration::seconds(seconds));
    }
    cookie
}

/// The value of the cookie `name` as this deployment names it (`secure`: https), if set.
pub fn value(req: &HttpRequest, name: Name, secure: bool) -> Option<String> {
    req.cookie(name.as_str(secure)).map(|c| c.value().to_owned()).filter(|v| !v.is_empty())
}

/// The upstream flow's binding cookie. Apple answers with a cross-site POST (`form_post`), on
/// which browsers send no Lax cookie (RFC 6265bis §5.6.7.1: Lax only rides along on "safe"
/// top-level navigations); its flows get `SameSite=None; Secure` instead whenever browsers
/// accept a `Secure` cookie from `issuer` ([`secure_context`]: https, as Apple requires of
/// return URLs, or loopback for a developer's machine and the browser tests). It is HttpOnly,
/// limited to `/federation`, and proves only which browser started a flow whose `state` an
/// attacker cannot know.
pub fn federation_binding(
    value: String,
    issuer: &str,
    max_age: i64,
    cross_site_post: bool,
) -> Cookie<'static> {
    let mut cookie = build(Name::Federation, value, issuer.starts_with("https://"), Some(max_age));
    cookie.set_path(FEDERATION_PATH);
    if cross_site_post && secure_context(issuer) {
        // RFC 6265bis §4.1.2.7: a "SameSite=None" cookie must also be "Secure".
        cookie.set_same_site(SameSite::None);
        cookie.set_secure(true);
    }
    cookie
}

/// Whether browsers take a `Secure` cookie from `issuer`: over https, and over plain http on
/// loopback (`localhost`, 127.0.0.0/8, `[::1]`), which Chromium and Firefox treat as a secure
/// context ("potentially trustworthy", W3C Secure Contexts §3.2).
pub fn secure_context(issuer: &str) -> bool {
    use url::Host;
    let Ok(url) = url::Url::parse(issuer) else { return false };
    match (url.scheme(), url.host()) {
        ("https", _) => true,
        ("http", Some(Host::Domain(d))) => d == "localhost" || d.ends_with(".localhost"),
        ("http", Some(Host::Ipv4(ip))) => ip.is_loopback(),
        ("http", Some(Host::Ipv6(ip))) => ip.is_loopback(),
        _ => false,
    }
}

/// Removes the binding cookie once its flow has finished, either way.
pub fn federation_removal(secure: bool) -> Cookie<'static> {
    let mut spent = Cookie::build(Name::Federation.as_str(secure), "")
        .path(FEDERATION_PATH)
        .http_only(true)
        .secure(secure)
        .finish();
    spent.make_removal();
    spent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_apples_binding_cookie_crosses_sites_and_only_from_a_secure_context() {
        let apple = federation_binding("v".into(), "https://id.example.gov", 600, true);
        assert_eq!(
            (apple.same_site(), apple.secure(), apple.http_only()),
            (Some(SameSite::None), Some(true), Some(true))
        );
        assert_eq!(apple.path(), Some("/federation"));
        let google = federation_binding("v".into(), "https://id.example.gov", 600, false);
        assert_eq!((google.same_site(), google.secure()), (Some(SameSite::Lax), Some(true)));
        // Loopback over http is a secure context to browsers: Apple's cookie crosses there too.
        for dev in ["http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"] {
            let apple = federation_binding("v".into(), dev, 600, true);
            assert_eq!((apple.same_site(), apple.secure()), (Some(SameSite::None), Some(true)), "{dev}");
            let google = federation_binding("v".into(), dev, 600, false);
            assert_eq!((google.same_site(), google.secure()), (Some(SameSite::Lax), Some(false)), "{dev}");
        }
        let plain = federation_binding("v".into(), "http://id.example.gov", 600, true);
        assert_eq!((plain.same_site(), plain.secure()), (Some(SameSite::Lax), Some(false)));
    }

    #[test]
    fn secure_contexts_are_https_and_loopback() {
        for yes in
            ["https://id.example.gov", "http://localhost", "http://a.localhost:1", "http://127.0.0.2:9"]
        {
            assert!(secure_context(yes), "{yes}");
        }
        for no in ["http://id.example.gov", "http://10.0.0.1", "http://localhost.example", "nonsense"] {
            assert!(!secure_context(no), "{no}");
        }
    }

    #[test]
    fn over_https_the_session_and_csrf_cookies_are_host_prefixed_and_secure() {
        for name in [Name::Session, Name::Csrf] {
            let cookie = build(name, "v".into(), true, Some(60));
            assert!(cookie.name().starts_with("__Host-"), "{cookie}");
            // RFC 6265bis §4.1.3.2: Secure, Path=/, no Domain.
            assert_eq!((cookie.secure(), cookie.path(), cookie.domain()), (Some(true), Some("/"), None));
            assert_eq!((cookie.http_only(), cookie.same_site()), (Some(true), Some(SameSite::Lax)));
        }
        let binding = federation_binding("v".into(), "https://id.example.gov", 600, false);
        assert_eq!(binding.name(), "__Secure-gatehouse_federation");
        assert_eq!((binding.secure(), binding.path()), (Some(true), Some("/federation")));
        let spent = federation_removal(true);
        assert_eq!((spent.name(), spent.secure()), ("__Secure-gatehouse_federation", Some(true)));
    }

    #[test]
    fn over_plain_http_the_names_have_no_prefix_and_no_secure_flag() {
        for (name, expected) in [
            (Name::Session, "gatehouse_session"),
            (Name::Csrf, "gatehouse_csrf"),
            (Name::Federation, "gatehouse_federation"),
        ] {
            let cookie = build(name, "v".into(), false, None);
            assert_eq!((cookie.name(), cookie.secure()), (expected, Some(false)));
        }
        assert_eq!(federation_removal(false).name(), "gatehouse_federation");
    }
}
