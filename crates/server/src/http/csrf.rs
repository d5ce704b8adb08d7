//! CSRF protection for the hosted forms: the signed double-submit cookie pattern (OWASP CSRF
//! cheat sheet). The browser holds a random `gatehouse_csrf` cookie; every form carries
//! HMAC-SHA256(key, cookie). An attacker's page can neither read the cookie nor compute the
//! token, and a cookie planted from a sibling domain fails without the key. The key derives
//! from the master key, so every node accepts every node's forms.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokens::OpaqueToken;

pub struct CsrfKey(hmac::Key);

impl CsrfKey {
    pub fn new(secret: &[u8; 32]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The form token for a cookie value.
    pub fn token_for(&self, cookie: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.0, cookie.as_bytes()).as_ref())
    }

    /// Checks a submitted token in constant time.
    pub fn verify(&self, cookie: &str, token: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(token) {
            Ok(tag) => hmac::verify(&self.0, cookie.as_bytes(), &tag).is_ok(),
            Err(_) => false,
        }
    }
}

/// A new cookie value.
pub fn new_cookie_value() -> String {
    OpaqueToken::generate().expose().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_verifies_only_for_its_cookie_and_key() {
        let key = CsrfKey::new(&[7; 32]);
        let token = key.token_for("cookie-a");
        assert!(key.verify("cookie-a", &token));
        assert!(!key.verify("cookie-b", &token));
        assert!(!key.verify("cookie-a", "not-a-token"));
        assert!(!CsrfKey::new(&[8; 32]).verify("cookie-a", &token));
    }
}

/// Helpers for the hosted forms: a page gets the token for the browser's CSRF cookie (setting
/// the cookie when the browser has none); a POST checks it.
pub mod forms {
    use actix_web::HttpRequest;
    use actix_web::cookie::Cookie;
    use actix_web::http::StatusCode;

    use crate::http::cookies;
    use crate::http::error::Failure;
    use crate::state::AppState;

    /// The token to put in a form, and the cookie to set if the browser had none.
    pub fn issue(req: &HttpRequest, state: &AppState) -> (String, Option<Cookie<'static>>) {
        match cookies::value(req, cookies::Name::Csrf, state.secure_cookies()) {
            Some(value) => (state.csrf.token_for(&value), None),
            None => {
                let value = super::new_cookie_value();
                let token = state.csrf.token_for(&value);
                (token, Some(cookies::build(cookies::Name::Csrf, value, state.secure_cookies(), None)))
            }
        }
    }

    /// The token for a form page, and a 200 response builder that sets the CSRF cookie when
    /// the browser had none.
    pub fn page(req: &HttpRequest, state: &AppState) -> (String, actix_web::HttpResponseBuilder) {
        let (token, cookie) = issue(req, state);
        let mut builder = actix_web::HttpResponse::Ok();
        if let Some(cookie) = cookie {
            builder.cookie(cookie);
        }
        (token, builder)
    }

    /// Refuses a form whose token does not match the browser's cookie, with a page that leads
    /// back to `back`.
    pub fn check(req: &HttpRequest, state: &AppState, token: &str, back: String) -> Result<(), Failure> {
        let valid = cookies::value(req, cookies::Name::Csrf, state.secure_cookies())
            .is_some_and(|cookie| state.csrf.verify(&cookie, token));
        if valid {
            return Ok(());
        }
        Err(Failure::page(
            StatusCode::FORBIDDEN,
            "This page has expired",
            "For your security, the page expired. Please start again.",
        )
        .with_back(back))
    }
}
