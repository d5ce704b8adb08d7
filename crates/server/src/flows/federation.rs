//! "Sign in with Google" (and Apple, Microsoft, Facebook and generic OIDC providers), across
//! domains:
//!
//! ```text
//!  start:    provider enabled? ─▶ secrets (state, nonce, PKCE verifier, binding cookie)
//!            ─▶ authorization URL (discovery, may be unreachable) ─▶ pending flow row ─▶ redirect
//!  callback: state ─▶ flow taken once (RFC 6749 §10.12) ─▶ same provider, same browser (cookie),
//!            answered as the provider answers (a GET, or Apple's form post)
//!            ─▶ code or error (access_denied: cancelled) ─▶ code exchange + ID token validation
//!            ─▶ identity::resolve (first-method binding) ─▶ session (amr "fed" + upstream amr, idp)
//! ```
//!
//! Nothing stays in memory between the two requests: the pending flow is a database row keyed
//! by the SHA-256 of `state`, so any node finishes a flow another started.

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use federation::{Callback, ExternalIdentity, FederationError, FlowSecrets};
use identity::{
    Account, AccountId, AccountStore, CreateAccount, Email, FederationStore, LOCAL_METHOD, MethodBinding,
    NewAuditEvent, NewUpstreamFlow, Refusal, Resolution, TakeFlow, UpstreamIdentity,
};
use tokens::{OpaqueToken, TokenHash};

use crate::flows;
use crate::http::cookies;
use crate::http::error::Failure;
use crate::state::AppState;

/// Why an upstream sign-in ended without a session; each becomes a page.
#[derive(Debug)]
pub enum Stopped {
    Failed(FederationError),
    Refused(Refusal),
}

impl From<FederationError> for Stopped {
    fn from(e: FederationError) -> Self {
        Self::Failed(e)
    }
}

/// An upstream sign-in that stopped, with where "Back to sign in" leads.
pub struct Outcome<T> {
    pub result: Result<T, Stopped>,
    pub continue_to: String,
}

/// Where to send the browser, and the cookie that binds the flow to it.
pub struct Started {
    pub location: String,
    pub binding: Cookie<'static>,
}

/// Starts a sign-in at `provider`: stores the pending flow and returns the upstream URL.
pub async fn start(
    state: &AppState,
    provider: &str,
    continue_to: &str,
    keep: bool,
) -> Result<Result<Started, FederationError>, Failure> {
    let secrets = FlowSecrets {
        state: OpaqueToken::generate().expose().to_owned(),
        nonce: OpaqueToken::generate().expose().to_owned(),
        // RFC 7636 §4.1: 43 base64url characters are 256 bits from the system RNG.
        pkce_verifier: OpaqueToken::generate().expose().to_owned(),
    };
    let location = match state.federation.authorization_url(provider, &secrets).await {
        Ok(url) => url,
        Err(e) => return Ok(Err(e)),
    };
    let binding = OpaqueToken::generate();
    let now = AppState::now();
    let ttl = state.settings.federation.flow_ttl_secs;
    let flow = NewUpstreamFlow {
        state_hash: TokenHash::of(&secrets.state),
        provider: provider.to_owned(),
        nonce: secrets.nonce,
        pkce_verifier: secrets.pkce_verifier,
        continue_to: continue_to.to_owned(),
        keep_signed_in: keep,
        binding_hash: binding.hash(),
        created_at: now,
        expires_at: now + ttl,
    };
    state.db(move |s| s.create_upstream_flow(&flow)).await?;
    let form_post = state.federation.uses_form_post(provider);
    let binding =
        cookies::federation_binding(binding.expose().to_owned(), &state.settings.issuer, ttl, form_post);
    Ok(Ok(Started { location, binding }))
}

/// Finishes a sign-in: the session cookie, the account and where to go next, or why not.
/// `posted`: the answer came as a form post, which only a `form_post` provider (Apple) sends.
pub async fn callback(
    req: &HttpRequest,
    state: &AppState,
    provider: &str,
    params: &Callback,
    posted: bool,
) -> Result<Outcome<(Cookie<'static>, Account)>, Failure> {
    let now = AppState::now();
    let Some(raw_state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(Outcome { result: Err(FederationError::BadState.into()), continue_to: String::new() });
    };
    let hash = TokenHash::of(raw_state);
    let flow = match state.db(move |s| s.take_upstream_flow(&hash, now)).await? {
        TakeFlow::Taken(flow) => flow,
        TakeFlow::Expired => {
            return Ok(Outcome { result: Err(FederationError::Expired.into()), continue_to: String::new() });
        }
        TakeFlow::Unknown => {
            return Ok(Outcome { result: Err(FederationError::BadState.into()), continue_to: String::new() });
        }
    };
    let continue_to = flow.continue_to.clone();
    let stop = |e: Stopped| Ok(Outcome { result: Err(e), continue_to: continue_to.clone() });
    // RFC 6749 §10.12: the state must come back to the browser that started the flow.
    let same_browser = cookies::value(req, cookies::Name::Federation, state.secure_cookies())
        .is_some_and(|b| TokenHash::of(&b) == flow.binding_hash);
    if flow.provider != provider || !same_browser || posted != state.federation.uses_form_post(provider) {
        return stop(FederationError::BadState.into());
    }
    let secrets = FlowSecrets {
        state: raw_state.to_owned(),
        nonce: flow.nonce.clone(),
        pkce_verifier: flow.pkce_verifier.clone(),
    };
    let external = match state.federation.finish(provider, params, &secrets).await {
        Ok(identity) => identity,
        Err(e) => return stop(e.into()),
    };
    // "fed", then how the upstream authenticated the citizen (`ExternalIdentity::session_amr`).
    let amr = external.session_amr();
    let account = match account_for(state, external, flows::session::client_ip(req), now).await? {
        Ok(account) => account,
        Err(refusal) => return stop(Stopped::Refused(refusal)),
    };
    let idp = Some(provider.to_owned());
    let cookie =
        flows::session::start_with_idp(req, state, &account, amr, idp, flow.keep_signed_in, now).await?;
    Ok(Outcome { result: Ok((cookie, account)), continue_to })
}

/// The account an upstream identity signs in to, created, claimed or linked as the binding
/// rule says. A race lost to a parallel sign-in (the email or the link taken meanwhile) is
/// resolved once more against what the winner stored.
async fn account_for(
    state: &AppState,
    external: ExternalIdentity,
    ip: Option<String>,
    now: i64,
) -> Result<Result<Account, Refusal>, Failure> {
    let upstream = UpstreamIdentity {
        verified_email: external.verified_email().and_then(|e| Email::parse(e).ok()),
        provider: external.provider,
        subject: external.subject,
        name: external.name,
        given_name: external.given_name,
        family_name: external.family_name,
    };
    let binding =
        MethodBinding::parse(&state.settings.accounts.method_binding).unwrap_or(MethodBinding::FirstMethod);
    for _ in 0..2 {
        let (provider, subject) = (upstream.provider.clone(), upstream.subject.clone());
        let linked = state.db(move |s| s.find_linked_account(&provider, &subject)).await?;
        let by_email = match (&linked, upstream.verified_email.clone()) {
            (None, Some(email)) => state.db(move |s| s.find_bound_account(&email)).await?,
            _ => None,
        };
        let decided =
            identity::resolve(&upstream, linked, by_email.as_ref(), binding, AccountId::generate(), now);
        let up = upstream.clone();
        let id = match decided {
            Resolution::Refuse(refusal) => return Ok(Err(refusal)),
            Resolution::SignIn(id) => id,
            Resolution::Create(new) => {
                match state.db(move |s| s.create_upstream_account(&new, &up.provider, &up.subject)).await? {
                    CreateAccount::Created(account) => return Ok(Ok(account)),
                    CreateAccount::EmailTaken => continue,
                }
            }
            Resolution::Claim(id) => {
                let target = id.clone();
                if !state.db(move |s| s.claim_for_upstream(&target, &up, now)).await? {
                    continue;
                }
                id
            }
            Resolution::Link(id) => {
                let event = NewAuditEvent::upstream_linked(&id, &up.provider, ip.clone(), now);
                let target = id.clone();
                if !state
                    .db(move |s| s.link_upstream(&target, &up.provider, &up.subject, &event, now))
                    .await?
                {
                    continue;
                }
                tracing::info!(provider = %upstream.provider, account = %id, "linked an upstream identity by verified email");
                id
            }
        };
        if let Some(account) = state.db(move |s| s.find_account(&id)).await? {
            return Ok(Ok(account));
        }
    }
    Err(Failure::internal(std::io::Error::other("upstream sign-in lost a race twice")))
}

/// The provider an account is bound to, when it is not `email`: a password or an emailed code
/// must not sign it in (the guide's first-method rule). `None` under `link-verified-email`.
pub async fn bound_provider(state: &AppState, account: &AccountId) -> Result<Option<String>, Failure> {
    if MethodBinding::parse(&state.settings.accounts.method_binding) == Some(MethodBinding::LinkVerifiedEmail)
    {
        return Ok(None);
    }
    let id = account.clone();
    let method = state.db(move |s| s.first_method(&id)).await?;
    Ok(method.filter(|m| m != LOCAL_METHOD))
}

/// The button text a method goes by: "Google", "City ID", or "email and password".
pub fn method_label(state: &AppState, method: &str) -> String {
    match method {
        LOCAL_METHOD => "your email address".to_owned(),
        name => state.federation.provider(name).map_or_else(|| name.to_owned(), |p| p.label),
    }
}
