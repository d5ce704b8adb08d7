//! The back-channel logout worker (OpenID Connect Back-Channel Logout 1.0 §2.5): delivers the
//! logouts queued when sessions end, when a request wakes it and every few seconds anyway
//! (another node may have queued some, or a retry may have come due). The rule for what an
//! answer means is `oauth::logout::backchannel::judge`.

use std::time::Duration;

use oauth::BackChannelStore;
use oauth::PendingLogout;
use oauth::logout::backchannel::{Delivery, DeliveryOutcome, LEASE_SECS, judge, logout_token_claims};
use tokens::{Algorithm, LOGOUT_TOKEN_TYP};

use crate::http::error::Failure;
use crate::http::outbound::LazyClient;
use crate::state::AppState;

const POLL: Duration = Duration::from_secs(2);
const BATCH: usize = 20;
/// How long one relying party may take to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

pub async fn run(state: AppState) {
    // Back-Channel §2.5: the OP "SHOULD NOT follow redirects"; and a slow relying party must
    // not hold up the others for long. Built when the first logout is due.
    let http = LazyClient::new(|| {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(TIMEOUT)
    });
    loop {
        match deliver_due(&state, &http, AppState::now()).await {
            // A full batch may mean more is due: go again at once.
            Ok(n) if n == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "back-channel logout: cannot reach the store"),
        }
        let _ = tokio::time::timeout(POLL, state.backchannel_waker.notified()).await;
    }
}

/// Claims what is due and tries to deliver it; returns how many logouts were handled.
async fn deliver_due(state: &AppState, http: &LazyClient, now: i64) -> Result<usize, Failure> {
    let due = state.db(move |s| s.claim_due_logouts(now, LEASE_SECS, BATCH)).await?;
    let handled = due.len();
    for pending in due {
        let delivery = deliver(state, http, &pending, now).await;
        let (id, client, attempts) = (pending.id.clone(), pending.client_id.clone(), pending.attempts + 1);
        match judge(&delivery, pending.attempts, now) {
            DeliveryOutcome::Delivered => state.db(move |s| s.mark_logout_delivered(&id, now)).await?,
            DeliveryOutcome::Retry { at, error } => {
                tracing::warn!(%id, %client, attempts, %error, "back-channel logout failed; will retry");
                state.db(move |s| s.mark_logout_retry(&id, at, &error)).await?;
            }
            DeliveryOutcome::Failed { error } => {
                tracing::error!(%id, %client, attempts, %error, "back-channel logout failed for good");
                state.db(move |s| s.mark_logout_failed(&id, &error, now)).await?;
            }
        }
    }
    Ok(handled)
}

/// One attempt: a fresh logout token, signed like the client's ID tokens, POSTed as
/// `logout_token` (Back-Channel §2.5).
async fn deliver(state: &AppState, http: &LazyClient, pending: &PendingLogout, now: i64) -> Delivery {
    let Some(uri) = pending.uri.as_deref() else {
        return Delivery::Failed("the client no longer has a backchannel_logout_uri".into());
    };
    let alg = Algorithm::parse(&pending.alg).unwrap_or(Algorithm::Rs256);
    let claims = logout_token_claims(&state.settings.issuer, pending, now);
    let token = match state.keys.current().signer(alg).sign_jwt(LOGOUT_TOKEN_TYP, &claims) {
        Ok(token) => token,
        Err(e) => return Delivery::Failed(format!("signing the logout token: {e}")),
    };
    let http = match http.get() {
        Ok(http) => http,
        Err(e) => return Delivery::Failed(format!("cannot build an HTTP client: {}", one_line(&e))),
    };
    match http.post(uri).form(&[("logout_token", token.as_str())]).send().await {
        Ok(response) => Delivery::Status(response.status().as_u16()),
        Err(e) => Delivery::Failed(one_line(&e)),
    }
}

/// reqwest's error and its causes, on one line.
fn one_line(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
