//! Consent (OIDC Core §3.1.2.4): whether the End-User must be asked before the client gets a
//! code, and what to show.
//!
//! ```text
//! prompt=consent ───────────────────────────────────────────▶ Ask
//! first-party client ───────────────────────────────────────▶ NotNeeded
//! the account already granted every scope asked for ────────▶ NotNeeded
//! otherwise ─┬─ prompt=none ─▶ Fail(consent_required)  (§3.1.2.6)
//!            └─ otherwise ───▶ Ask
//! ```
//!
//! What is remembered is the union of every scope the account allowed the client, so a request
//! for a scope not yet allowed asks again, and allowing it keeps the earlier ones.

use super::AuthorizationRequest;
use crate::error::{ErrorCode, OAuthError};
use crate::store::Client;

/// What to do before issuing a code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentDecision {
    NotNeeded,
    /// Show the consent page for these scopes.
    Ask(Vec<String>),
    Fail(OAuthError),
}

impl AuthorizationRequest {
    /// The scopes consent must cover: those requested, and those the `claims` parameter stands
    /// for (OIDC Core §5.5).
    pub fn consent_scopes(&self, client: &Client) -> Vec<String> {
        let mut out: Vec<String> = self.scopes.iter().map(str::to_owned).collect();
        if let Some(claims) = &self.claims {
            for scope in claims.scopes(&client.scopes) {
                if !out.iter().any(|s| s == scope) {
                    out.push(scope.to_owned());
                }
            }
        }
        out
    }

    /// `granted`: the scopes the account allowed this client so far, if ever.
    pub fn consent(&self, client: &Client, granted: Option<&[String]>) -> ConsentDecision {
        let wanted = self.consent_scopes(client);
        // §3.1.2.1 prompt=consent: "The Authorization Server SHOULD prompt the End-User for
        // consent before returning information to the Client."
        if self.prompt_consent {
            return ConsentDecision::Ask(wanted);
        }
        if client.first_party {
            return ConsentDecision::NotNeeded;
        }
        let covered = granted.is_some_and(|g| wanted.iter().all(|w| g.contains(w)));
        match (covered, self.prompt_none) {
            (true, _) => ConsentDecision::NotNeeded,
            // §3.1.2.6 consent_required: "The Authorization Server requires End-User consent."
            (false, true) => ConsentDecision::Fail(OAuthError::new(
                ErrorCode::ConsentRequired,
                "the End-User has not allowed this client these scopes, and prompt=none forbids asking",
            )),
            (false, false) => ConsentDecision::Ask(wanted),
        }
    }
}

/// What to remember after "Allow": everything allowed before, and what was just allowed.
pub fn merged(granted: Option<&[String]>, allowed: &[String]) -> Vec<String> {
    let mut out: Vec<String> = granted.unwrap_or_default().to_vec();
    for s in allowed {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// A scope in the End-User's words, for the consent page.
pub fn describe_scope(scope: &str) -> &'static str {
    match scope {
        "openid" => "Know who you are when you sign in",
        "profile" => "See your name",
        "email" => "See your email address",
        "phone" => "See your phone number",
        "offline_access" => "Stay connected to your account when you are not using it",
        _ => "Use other information in your account",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::{AuthorizationParams, validate};
    use crate::testutil::{CHALLENGE, client};

    fn request(prompt: Option<&str>, scope: &str, claims: Option<&str>) -> AuthorizationRequest {
        let p = AuthorizationParams {
            response_type: Some("code".into()),
            client_id: Some("client-1".into()),
            scope: Some(scope.into()),
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
            prompt: prompt.map(str::to_owned),
            claims: claims.map(str::to_owned),
            ..Default::default()
        };
        validate(&p, &client(), "https://portal.example.org/cb?tenant=atl".into()).unwrap()
    }

    fn third_party() -> Client {
        Client { first_party: false, ..client() }
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn first_party_clients_skip_consent_unless_prompt_consent() {
        assert_eq!(request(None, "openid email", None).consent(&client(), None), ConsentDecision::NotNeeded);
        assert_eq!(
            request(Some("consent"), "openid email", None).consent(&client(), Some(&v(&["openid", "email"]))),
            ConsentDecision::Ask(v(&["openid", "email"]))
        );
    }

    #[test]
    fn third_party_clients_ask_until_every_scope_is_granted() {
        let r = request(None, "openid email", None);
        assert_eq!(r.consent(&third_party(), None), ConsentDecision::Ask(v(&["openid", "email"])));
        assert_eq!(
            r.consent(&third_party(), Some(&v(&["openid"]))),
            ConsentDecision::Ask(v(&["openid", "email"]))
        );
        assert_eq!(
            r.consent(&third_party(), Some(&v(&["email", "openid", "profile"]))),
            ConsentDecision::NotNeeded
        );
    }

    #[test]
    fn prompt_none_fails_with_consent_required() {
        let r = request(Some("none"), "openid email", None);
        assert!(matches!(r.consent(&third_party(), None),
            ConsentDecision::Fail(e) if e.code == ErrorCode::ConsentRequired));
        assert_eq!(r.consent(&third_party(), Some(&v(&["openid", "email"]))), ConsentDecision::NotNeeded);
    }

    #[test]
    fn claims_asked_for_by_name_need_their_scope_consented() {
        let r = request(None, "openid", Some(r#"{"id_token":{"email":null}}"#));
        assert_eq!(
            r.consent(&third_party(), Some(&v(&["openid"]))),
            ConsentDecision::Ask(v(&["openid", "email"]))
        );
    }

    #[test]
    fn merged_keeps_earlier_grants() {
        assert_eq!(
            merged(Some(&v(&["openid", "email"])), &v(&["openid", "profile"])),
            v(&["openid", "email", "profile"])
        );
        assert_eq!(merged(None, &v(&["openid"])), v(&["openid"]));
        assert_eq!(describe_scope("email"), "See your email address");
    }
}
