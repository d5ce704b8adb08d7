//! Back-Channel Logout 1.0: which relying parties took part in a session, the logout token
//! each is sent when it ends, and the delivery rule (mirroring the mail outbox's).
//!
//! ```text
//!  session ends ──▶ pending (one per client with a backchannel_logout_uri)
//!                     │ claim (lease, so several nodes share the queue)
//!                     ▼
//!                POST logout_token ──200/204──▶ delivered
//!                     │ other status, timeout, refused
//!                     ├── attempts left ──▶ pending at now + back-off (a new token each time)
//!                     └── none left ──────▶ failed (logged, kept for an operator)
//! ```

use tokens::LogoutTokenClaims;
use url::Url;

use crate::store::{ClientId, StoreError};

/// Deliveries tried before a logout is given up (about 20 minutes with [`backoff_secs`]): a
/// relying party that learns of a logout much later gains little.
pub const MAX_ATTEMPTS: u32 = 10;
/// How long a claimed logout stays reserved for the node that claimed it.
pub const LEASE_SECS: i64 = 60;
/// Lifetime of a logout token. Back-Channel §2.4 asks for "short"; each attempt signs a new one.
pub const LOGOUT_TOKEN_TTL: i64 = 120;

/// The rule for a back-channel logout URI (Back-Channel §2.2): an absolute URL without a
/// fragment, https, or http on a loopback address (for development). As the fix to apply.
pub fn check_backchannel_uri(uri: &str) -> Result<(), &'static str> {
    let url = Url::parse(uri).map_err(|_| "use an absolute URL such as https://portal.example.org/logout")?;
    // Back-Channel §2.2: "it MUST NOT include a fragment component".
    if url.fragment().is_some() {
        return Err("remove the fragment (#...)");
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if crate::client::is_loopback(&url) => Ok(()),
        _ => Err("use https, or http on a loopback address"),
    }
}

/// A logout waiting to be delivered to one relying party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingLogout {
    pub id: String,
    pub client_id: ClientId,
    /// The client's `backchannel_logout_uri` now; `None` if it no longer has one.
    pub uri: Option<String>,
    /// The client's ID token algorithm: the logout token is signed the same way.
    pub alg: String,
    /// The account id (`sub`).
    pub subject: String,
    /// The session that ended (`sid`).
    pub session_id: String,
    /// Deliveries already tried.
    pub attempts: u32,
}

/// What the back-channel tables must do. The `store` crate implements it; each method is one
/// transaction. Ending a session and queueing its logouts is one transaction too, but it spans
/// the `identity` sessions, so it is the store's own method (`Store::end_session`).
pub trait BackChannelStore {
    /// Records that `client_id` received a code in browser session `session_id` (recording it
    /// twice is not an error).
    fn record_session_client(
        &self,
        session_id: &str,
        client_id: &ClientId,
        subject: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Leases up to `limit` pending logouts due at `now` whose lease (if any) has ended.
    fn claim_due_logouts(
        &self,
        now: i64,
        lease_secs: i64,
        limit: usize,
    ) -> Result<Vec<PendingLogout>, StoreError>;
    fn mark_logout_delivered(&self, id: &str, now: i64) -> Result<(), StoreError>;
    /// Records a failed attempt and makes the logout due again at `next_attempt_at`.
    fn mark_logout_retry(&self, id: &str, next_attempt_at: i64, error: &str) -> Result<(), StoreError>;
    /// Gives up: kept with its last error.
    fn mark_logout_failed(&self, id: &str, error: &str, now: i64) -> Result<(), StoreError>;
}

/// The logout token for `pending` (Back-Channel §2.4): iss, aud = the client, iat, a short exp,
/// a fresh jti, sub, sid and the back-channel logout event; never a nonce.
pub fn logout_token_claims(issuer: &str, pending: &PendingLogout, now: i64) -> LogoutTokenClaims {
    LogoutTokenClaims::new(
        issuer,
        pending.client_id.as_str(),
        &pending.subject,
        &pending.session_id,
        uuid::Uuid::new_v4().to_string(),
        now,
        LOGOUT_TOKEN_TTL,
    )
}

/// How one POST to the relying party went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// An HTTP answer with this status.
    Status(u16),
    /// No answer (refused, timed out, a redirect not followed …), or no URI to send to.
    Failed(String),
}

/// What becomes of a pending logout after an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    Retry { at: i64, error: String },
    Failed { error: String },
}

/// Seconds before attempt `attempts + 1`: 5 s doubling, at most 5 minutes.
pub fn backoff_secs(attempts: u32) -> i64 {
    5_i64.saturating_mul(1_i64 << attempts.min(20)).min(300)
}

/// Back-Channel §2.8: "If the logout succeeded, the RP MUST respond with HTTP 200 OK" (and OPs
/// "should be prepared to also process an HTTP 204"). Anything else is retried after the
/// back-off until [`MAX_ATTEMPTS`] are used up.
pub fn judge(delivery: &Delivery, attempts_before: u32, now: i64) -> DeliveryOutcome {
    let error = match delivery {
        Delivery::Status(200 | 204) => return DeliveryOutcome::Delivered,
        Delivery::Status(status) => format!("the relying party answered HTTP {status}"),
        Delivery::Failed(reason) => reason.clone(),
    };
    if attempts_before + 1 >= MAX_ATTEMPTS {
        DeliveryOutcome::Failed { error }
    } else {
        DeliveryOutcome::Retry { at: now.saturating_add(backoff_secs(attempts_before)), error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backchannel_uris_are_https_or_loopback_http_without_fragment() {
        for ok in ["https://portal.example/logout?x=1", "http://127.0.0.1:8400/bc", "http://localhost/bc"] {
            assert_eq!(check_backchannel_uri(ok), Ok(()), "{ok}");
        }
        for (bad, fix) in [
            ("http://portal.example/bc", "use https, or http on a loopback address"),
            ("com.example.app:/bc", "use https, or http on a loopback address"),
            ("https://portal.example/bc#x", "remove the fragment (#...)"),
            ("/bc", "use an absolute URL such as https://portal.example.org/logout"),
        ] {
            assert_eq!(check_backchannel_uri(bad), Err(fix), "{bad}");
        }
    }

    fn pending() -> PendingLogout {
        PendingLogout {
            id: "p1".into(),
            client_id: ClientId::from_stored("client-b".into()),
            uri: Some("https://b.example/bc".into()),
            alg: "RS256".into(),
            subject: "acct-1".into(),
            session_id: "sid-1".into(),
            attempts: 0,
        }
    }

    #[test]
    fn logout_token_claims_name_the_client_session_and_event() {
        let claims = logout_token_claims("https://id.example", &pending(), 1_000);
        assert_eq!(claims.iss, "https://id.example");
        assert_eq!(claims.aud, "client-b");
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("acct-1", "sid-1"));
        assert_eq!((claims.iat, claims.exp), (1_000, 1_000 + LOGOUT_TOKEN_TTL));
        assert_eq!(claims.events, serde_json::json!({ tokens::BACKCHANNEL_LOGOUT_EVENT: {} }));
        let other = logout_token_claims("https://id.example", &pending(), 1_000);
        assert_ne!(claims.jti, other.jti, "every token has its own jti");
        assert!(serde_json::to_value(&claims).unwrap().get("nonce").is_none());
    }

    #[test]
    fn ok_and_no_content_are_delivered_the_rest_retries_until_attempts_run_out() {
        assert_eq!(judge(&Delivery::Status(200), 0, 100), DeliveryOutcome::Delivered);
        assert_eq!(judge(&Delivery::Status(204), 3, 100), DeliveryOutcome::Delivered);
        assert!(matches!(judge(&Delivery::Status(500), 0, 100), DeliveryOutcome::Retry { at: 105, .. }));
        assert!(matches!(judge(&Delivery::Status(400), 1, 100), DeliveryOutcome::Retry { at: 110, .. }));
        assert!(matches!(
            judge(&Delivery::Failed("timed out".into()), MAX_ATTEMPTS - 1, 100),
            DeliveryOutcome::Failed { ref error } if error == "timed out"
        ));
        assert_eq!(backoff_secs(0), 5);
        assert_eq!(backoff_secs(5), 160);
        assert_eq!(backoff_secs(6), 300);
        assert_eq!(backoff_secs(40), 300);
    }
}
