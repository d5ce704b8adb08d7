//! The token request as the token, revocation and introspection endpoints read it: the form
//! body parsed into `TokenParams` (what actix's `web::Form` does), client authentication from
//! the Authorization header and the body (RFC 6749 §2.3), the PKCE check and the scope.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth::client_auth::{PresentedCredentials, parse_basic};
use oauth::{Scopes, TokenParams};

fuzz_target!(|data: &[u8]| {
    // The first line, if any, is the Authorization header; the rest the body.
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (std::str::from_utf8(&data[..i]).ok(), &data[i + 1..]),
        None => (None, data),
    };
    if let Some(header) = header
        && let Some((id, _secret)) = parse_basic(header)
    {
        assert!(!id.is_empty(), "Basic credentials with an empty client_id");
    }
    let Ok(params) = serde_urlencoded::from_bytes::<TokenParams>(body) else { return };
    let presented = PresentedCredentials::from_parts(
        header,
        params.client_id.as_deref(),
        params.client_secret.as_deref(),
    );
    if let Ok(Some(creds)) = presented {
        assert!(!creds.client_id().is_empty());
    }
    if let (Some(verifier), Some(challenge)) = (&params.code_verifier, &params.code) {
        let _ = oauth::pkce::verify(verifier, challenge);
        let _ = oauth::pkce::validate_challenge(challenge, params.grant_type.as_deref());
    }
    if let Some(scope) = &params.scope
        && let Ok(scopes) = Scopes::parse(scope)
    {
        let _ = scopes.allowed_by(&["openid".to_owned(), "email".to_owned()]);
    }
});
