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
