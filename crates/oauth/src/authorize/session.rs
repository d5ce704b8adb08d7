//! After validation: whether the browser's session can answer the request, and the code.
//!
//! ```text
//!             prompt=login ─────────────────────────▶ ShowSignIn
//! no session / older than max_age /
//! another account than id_token_hint names ─┬─ prompt=none ─▶ Fail(login_required)
//!                                           └─ otherwise ────▶ ShowSignIn
//! a fresh enough session ───────────────────────────▶ UseSession ─▶ consent ─▶ issue_code
//! ```
//!
//! After a sign-in the request has just been answered by a new authentication: the server
//! issues the code directly, it does not ask `decide` again (prompt=login would loop).

use tokens::OpaqueToken;

use super::AuthorizationRequest;
use crate::error::OAuthError;
use crate::store::{GrantId, NewCode};

/// What to do with the End-User's browser session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionDecision {
    UseSession,
    ShowSignIn,
    /// Redirect back with this error (prompt=none could not be honoured).
    Fail(OAuthError),
}

/// Who signed in, and how: what the code carries into the tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeGrant {
    /// The account id (`sub`).
    pub subject: String,
    /// The browser session's public id (`sid`).
    pub session_id: String,
    /// When the End-User authenticated (OIDC Core §2 `auth_time`), unix seconds.
    pub auth_time: i64,
    /// RFC 8176 authentication method references.
    pub amr: Vec<String>,
    /// The upstream provider that authenticated the End-User, if any (the `idp` claim).
    pub idp: Option<String>,
}

impl AuthorizationRequest {
    /// `session` is the `auth_time` and account id of the browser's session, if it has one.
    pub fn decide(&self, session: Option<(i64, &str)>, now: i64) -> SessionDecision {
        // OIDC Core §3.1.2.1 prompt=login: "The Authorization Server SHOULD prompt the End-User
        // for reauthentication." (validate() refused it combined with none.)
        if self.prompt_login {
            return SessionDecision::ShowSignIn;
        }
        // OIDC Core §3.1.2.1 id_token_hint: "If the End-User identified by the ID Token is not
        // logged in or is logged in by the request, then the Authorization Server returns a
        // login_required error" (with prompt=none); otherwise that End-User signs in.
        let session_auth_time = session
            .filter(|(_, subject)| self.required_subject.as_deref().is_none_or(|r| r == *subject))
            .map(|(at, _)| at);
        let fresh = match (session_auth_time, self.max_age) {
            (None, _) => false,
            // OIDC Core §3.1.2.1 max_age: if more time has passed, "the OP MUST attempt to
            // actively re-authenticate the End-User".
            (Some(at), Some(max)) => now.saturating_sub(at) <= max,
            (Some(_), None) => true,
        };
        match (fresh, self.prompt_none) {
            (true, _) => SessionDecision::UseSession,
            // OIDC Core §3.1.2.1 prompt=none: "An error is returned if an End-User is not
            // already authenticated"; §3.1.2.6 login_required.
            (false, true) => SessionDecision::Fail(OAuthError::login_required(
                "the End-User must sign in again, and prompt=none forbids asking",
            )),
            (false, false) => SessionDecision::ShowSignIn,
        }
    }

    /// Mints a single-use code for this request: the code to send (once) and the row to store.
    /// `ttl` is its lifetime in seconds (RFC 6749 §4.1.2: "A maximum authorization code lifetime
    /// of 10 minutes is RECOMMENDED"; gatehouse uses 60 s). Each code starts a new grant.
    pub fn issue_code(&self, grant: CodeGrant, now: i64, ttl: i64) -> (OpaqueToken, NewCode) {
        let code = OpaqueToken::generate();
        let row = NewCode {
            code_hash: code.hash(),
            grant_id: GrantId::generate(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            subject: grant.subject,
            scope: self.scopes.to_string(),
            nonce: self.nonce.clone(),
            code_challenge: self.code_challenge.clone(),
            auth_time: grant.auth_time,
            amr: grant.amr,
            session_id: grant.session_id,
            idp: grant.idp,
            claims: self.claims.as_ref().map(|c| c.to_json()),
            created_at: now,
            expires_at: now.saturating_add(ttl),
        };
        (code, row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::scope::Scopes;
    use crate::store::ClientId;

    fn req(prompt_none: bool, prompt_login: bool, max_age: Option<i64>) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: ClientId::from_stored("c1".into()),
            redirect_uri: "https://a.example/cb".into(),
            scopes: Scopes::parse("openid email").unwrap(),
            state: Some("st".into()),
            nonce: Some("n-1".into()),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            prompt_none,
            prompt_login,
            prompt_consent: false,
            max_age,
            login_hint: None,
            response_mode: Default::default(),
            claims: None,
            id_token_hint: None,
            required_subject: None,
        }
    }

    fn s(at: i64) -> Option<(i64, &'static str)> {
        Some((at, "acct-1"))
    }

    fn is_login_required(d: SessionDecision) -> bool {
        matches!(d, SessionDecision::Fail(e) if e.code == ErrorCode::LoginRequired)
    }

    const NOW: i64 = 10_000;

    #[test]
    fn decide_table() {
        use SessionDecision::{ShowSignIn, UseSession};
        // (prompt_none, prompt_login, max_age, session auth_time) -> decision
        assert_eq!(req(false, false, None).decide(s(NOW - 86_400), NOW), UseSession);
        assert_eq!(req(false, false, None).decide(None, NOW), ShowSignIn);
        assert!(is_login_required(req(true, false, None).decide(None, NOW)));
        assert_eq!(req(true, false, None).decide(s(NOW - 5), NOW), UseSession);
        assert_eq!(req(false, true, None).decide(s(NOW), NOW), ShowSignIn);
        assert_eq!(req(false, true, None).decide(None, NOW), ShowSignIn);
        // max_age: exactly max_age seconds old is still fresh; one more is not.
        assert_eq!(req(false, false, Some(300)).decide(s(NOW - 300), NOW), UseSession);
        assert_eq!(req(false, false, Some(300)).decide(s(NOW - 301), NOW), ShowSignIn);
        assert!(is_login_required(req(true, false, Some(300)).decide(s(NOW - 301), NOW)));
        assert_eq!(req(true, false, Some(300)).decide(s(NOW - 300), NOW), UseSession);
        // max_age=0 forces a new sign-in unless the session was made this very second.
        assert_eq!(req(false, false, Some(0)).decide(s(NOW - 1), NOW), ShowSignIn);
        assert_eq!(req(false, false, Some(0)).decide(s(NOW), NOW), UseSession);
    }

    #[test]
    fn a_session_of_another_account_than_required_counts_as_none() {
        use SessionDecision::{ShowSignIn, UseSession};
        let mut r = req(false, false, None);
        r.required_subject = Some("acct-1".into());
        assert_eq!(r.decide(s(NOW), NOW), UseSession);
        assert_eq!(r.decide(Some((NOW, "acct-2")), NOW), ShowSignIn);
        r.prompt_none = true;
        assert!(is_login_required(r.decide(Some((NOW, "acct-2")), NOW)));
    }

    #[test]
    fn issue_code_binds_the_request_and_the_sign_in() {
        let r = req(false, false, None);
        let grant = CodeGrant {
            subject: "acct-1".into(),
            session_id: "sid-1".into(),
            auth_time: NOW - 10,
            amr: vec!["pwd".into()],
            idp: None,
        };
        let (code, row) = r.issue_code(grant, NOW, 60);
        assert_eq!(row.code_hash, code.hash());
        assert_eq!(row.client_id.as_str(), "c1");
        assert_eq!(row.redirect_uri, "https://a.example/cb");
        assert_eq!(row.subject, "acct-1");
        assert_eq!(row.scope, "openid email");
        assert_eq!(row.nonce.as_deref(), Some("n-1"));
        assert_eq!(row.code_challenge, r.code_challenge);
        assert_eq!(row.auth_time, NOW - 10);
        assert_eq!(row.amr, ["pwd"]);
        assert_eq!(row.session_id, "sid-1");
        assert_eq!((row.created_at, row.expires_at), (NOW, NOW + 60));
        let grant2 =
            CodeGrant { subject: "a".into(), session_id: "s".into(), auth_time: 0, amr: vec![], idp: None };
        let (code2, row2) = r.issue_code(grant2, NOW, 60);
        assert_ne!(code.expose(), code2.expose());
        assert_ne!(row.grant_id, row2.grant_id);
    }
}
