//! The authorization request across domains: the stored client and pushed request (store), the
//! request rules (oauth), the browser session (identity), consent (store + oauth), the code.
//!
//! ```text
//! load:  query ──client_id + request_uri──▶ take the pushed request (single use) ──┐
//!          │ otherwise                                                             │
//!          ▼                                                                       ▼
//!        client + redirect_uri ──bad──▶ page      PAR required? / validate / id_token_hint
//!                                                    └─bad──▶ Rejected ──reject──▶ signed in or
//!                                                       prompt=none? error response (query or
//!                                                       form_post); otherwise sign in first and
//!                                                       come back with the same request
//!                                                       (RFC 9700 §4.11.2)
//! step:  session decision ──sign in──▶ /signin?continue=…  (a PAR request travels as a new
//!          │ use session                                     single-use request_uri)
//!          ▼
//!        consent ──ask──▶ consent page ──Allow/Deny──▶ answer
//!          │ not needed
//!          ▼
//!        code ──▶ success response
//! ```

use identity::Session;
use oauth::authorize::{self, ErrorDelivery, consent, par};
use oauth::{
    AuthorizationParams, AuthorizationRequest, AuthorizationResponse, Client, ClientId, ClientStore,
    ConsentDecision, ConsentStore, ErrorCode, OAuthError, PushedRequestStore, ResponseMode, SessionDecision,
};

use crate::flows;
use crate::http::error::Failure;
use crate::state::AppState;

/// An authorization request whose client and redirect URI are known good.
pub struct Loaded {
    pub client: Client,
    /// The effective parameters (a pushed request's, when it came by `request_uri`).
    pub params: AuthorizationParams,
    pub request: AuthorizationRequest,
    pub pushed: bool,
}

/// An erroneous request whose redirect URI is registered: its error response, and what it takes
/// to send the same request again after the sign-in pages (see [`reject`]).
pub struct Rejected {
    response: AuthorizationResponse,
    /// The parameters the error was judged on.
    params: AuthorizationParams,
    /// For a pushed request: its client, and the parameters sent beside `request_uri` (whose
    /// difference from the pushed ones was the error). The pushed row itself is spent.
    pushed: Option<(Client, Vec<(String, String)>)>,
}

/// What the authorization endpoint answers.
pub enum Step {
    Respond(AuthorizationResponse),
    /// Redirect to the hosted sign-in, which returns to this path.
    SignIn(String),
    /// Show the consent page; the answer goes to `/authorize/consent` with `continue_to`.
    Consent {
        continue_to: String,
        client_name: String,
        third_party: bool,
        scopes: Vec<String>,
    },
}

/// Parses and checks an authorization request (`raw`: its query or form body). `Err` is a page
/// (the client or redirect URI cannot be trusted); `Ok(Err(_))` an error for the client.
pub async fn load(state: &AppState, raw: &str, now: i64) -> Result<Result<Loaded, Rejected>, Failure> {
    // A repeated parameter fails here too (RFC 6749 §3.1): we cannot tell which client is meant.
    let outer: AuthorizationParams = serde_urlencoded::from_str(raw).map_err(|_| malformed())?;
    let client = match outer.client_id.clone().filter(|id| !id.is_empty()) {
        Some(id) => state.db(move |s| s.find_client(&ClientId::from_stored(id))).await?,
        None => None,
    };
    let issuer = state.settings.issuer.as_str();
    let (params, pushed) = match outer.request_uri.as_deref().and_then(par::uri_hash) {
        None => (outer, false),
        Some(hash) => {
            let Some(owner) = client.as_ref() else {
                return Err(page(authorize::AuthorizePageError::UnknownClient.to_string()));
            };
            let taken = state.db(move |s| s.take_pushed_request(&hash, now)).await?;
            let Some(row) = taken.filter(|row| row.client_id == owner.id) else {
                return Err(page(EXPIRED.to_owned()));
            };
            let pairs: Vec<(String, String)> =
                url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
            match par::expand(&pairs, &row) {
                Ok(params) => (params, true),
                Err(e) if e.code == ErrorCode::InvalidRequestUri => return Err(page(EXPIRED.to_owned())),
                Err(e) => {
                    // The pushed request was validated when it was pushed: its redirect URI is
                    // registered, so the error can go there (RFC 6749 §4.1.2.1).
                    let stored: AuthorizationParams = serde_json::from_str(&row.params).unwrap_or_default();
                    let uri = authorize::resolve_redirect(&stored, client.as_ref())
                        .map_err(|e| page(e.to_string()))?;
                    let outer = pairs.into_iter().filter(|(k, _)| k != "client_id" && k != "request_uri");
                    return Ok(Err(Rejected {
                        response: error_response(&stored, &uri, &e, issuer),
                        pushed: Some((owner.clone(), outer.collect())),
                        params: stored,
                    }));
                }
            }
        }
    };
    let redirect_uri =
        authorize::resolve_redirect(&params, client.as_ref()).map_err(|e| page(e.to_string()))?;
    let Some(client) = client else {
        return Err(malformed());
    };
    let fail = |e: OAuthError| {
        let response = error_response(&params, &redirect_uri, &e, issuer);
        Ok(Err(Rejected { response, params: params.clone(), pushed: None }))
    };
    if let Err(e) = par::check_required(&client, pushed) {
        return fail(e);
    }
    let mut request = match authorize::validate(&params, &client, redirect_uri.clone()) {
        Ok(request) => request,
        Err(e) => return fail(e),
    };
    if let Some(hint) = &request.id_token_hint {
        match authorize::hint_subject(&state.keys.current(), issuer, &client.id, hint) {
            Ok(subject) => request.required_subject = Some(subject),
            Err(e) => return fail(e),
        }
    }
    Ok(Ok(Loaded { client, params, request, pushed }))
}

/// The error of a rejected request, sent once the citizen is signed in (RFC 9700 §4.11.2): now if
/// the browser has a session or the request is silent, otherwise after the sign-in pages, which
/// return here with the same request (a pushed one as a new single-use `request_uri`).
pub async fn reject(
    req: &actix_web::HttpRequest,
    state: &AppState,
    rejected: Rejected,
    now: i64,
) -> Result<Step, Failure> {
    let signed_in = flows::session::current(req, state, now).await?.is_some();
    let Rejected { response, params, pushed } = rejected;
    if params.error_delivery(signed_in) == ErrorDelivery::Redirect {
        return Ok(Step::Respond(response));
    }
    let continue_to = match pushed {
        None => format!("/authorize?{}", serde_urlencoded::to_string(&params).map_err(Failure::internal)?),
        Some((client, outer)) => {
            let again = continuation(state, &params, &client, true, now).await?;
            let mut query = url::form_urlencoded::Serializer::new(again);
            query.extend_pairs(outer);
            query.finish()
        }
    };
    Ok(Step::SignIn(sign_in_url(&continue_to, params.login_hint.as_deref().filter(|h| !h.is_empty()))))
}

/// What to do with a loaded request, given the browser's session.
pub async fn step(
    req: &actix_web::HttpRequest,
    state: &AppState,
    loaded: Loaded,
    now: i64,
) -> Result<Step, Failure> {
    let session = flows::session::current(req, state, now).await?;
    let Loaded { client, params, request, pushed } = loaded;
    let issuer = state.settings.issuer.as_str();
    let decision = request.decide(session.as_ref().map(|s| (s.auth_time, s.account_id.as_str())), now);
    let session = match (decision, session) {
        (SessionDecision::UseSession, Some(session)) => session,
        (SessionDecision::Fail(e), _) => return Ok(Step::Respond(request_error(&request, &e, issuer))),
        (_, _) => {
            let continue_to = continuation(state, &params.for_return_trip(), &client, pushed, now).await?;
            return Ok(Step::SignIn(sign_in_url(&continue_to, request.login_hint.as_deref())));
        }
    };
    let granted = find_consent(state, &session, &client).await?;
    match request.consent(&client, granted.as_deref()) {
        ConsentDecision::NotNeeded => {
            Ok(Step::Respond(flows::code::issue(state, &request, &session, now).await?))
        }
        ConsentDecision::Fail(e) => Ok(Step::Respond(request_error(&request, &e, issuer))),
        ConsentDecision::Ask(scopes) => {
            let continue_to = continuation(state, &params.for_return_trip(), &client, pushed, now).await?;
            Ok(Step::Consent {
                continue_to,
                third_party: !client.first_party,
                client_name: client.name,
                scopes,
            })
        }
    }
}

/// "Allow" or "Deny" on the consent page for the request at `continue_to`.
pub async fn answer(
    req: &actix_web::HttpRequest,
    state: &AppState,
    continue_to: &str,
    allow: bool,
    now: i64,
) -> Result<Step, Failure> {
    let raw = continue_to.strip_prefix("/authorize?").ok_or_else(malformed)?;
    let Loaded { client, params, request, pushed } = match load(state, raw, now).await? {
        Ok(loaded) => loaded,
        Err(rejected) => return reject(req, state, rejected, now).await,
    };
    let Some(session) = flows::session::current(req, state, now).await? else {
        let continue_to = continuation(state, &params, &client, pushed, now).await?;
        return Ok(Step::SignIn(sign_in_url(&continue_to, None)));
    };
    if !allow {
        // OIDC Core §3.1.2.6 / RFC 6749 §4.1.2.1 access_denied: the End-User said no.
        let e = OAuthError::access_denied("the End-User denied the request");
        return Ok(Step::Respond(request_error(&request, &e, &state.settings.issuer)));
    }
    let granted = find_consent(state, &session, &client).await?;
    let scopes = consent::merged(granted.as_deref(), &request.consent_scopes(&client));
    let account = session.account_id.as_str().to_owned();
    let client_id = client.id.clone();
    state.db(move |s| s.save_consent(&account, &client_id, &scopes, now)).await?;
    Ok(Step::Respond(flows::code::issue(state, &request, &session, now).await?))
}

async fn find_consent(
    state: &AppState,
    session: &Session,
    client: &Client,
) -> Result<Option<Vec<String>>, Failure> {
    let account = session.account_id.as_str().to_owned();
    let client_id = client.id.clone();
    state.db(move |s| s.find_consent(&account, &client_id)).await
}

/// The path that brings the browser back to this request: the parameters themselves, or for a
/// pushed request a new single-use `request_uri` (see `oauth::authorize::par`).
async fn continuation(
    state: &AppState,
    params: &AuthorizationParams,
    client: &Client,
    pushed: bool,
    now: i64,
) -> Result<String, Failure> {
    let query = if pushed {
        let (uri, row) = par::store(params, client, par::RESUME_TTL, now);
        state.db(move |s| s.insert_pushed_request(&row)).await?;
        serde_urlencoded::to_string([("client_id", client.id.as_str()), ("request_uri", uri.as_str())])
    } else {
        serde_urlencoded::to_string(params)
    };
    Ok(format!("/authorize?{}", query.map_err(Failure::internal)?))
}

/// The hosted sign-in page, carrying `continue_to` back once the citizen has signed in.
pub fn sign_in_url(continue_to: &str, login_hint: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("continue", continue_to);
    if let Some(hint) = login_hint {
        query.append_pair("login_hint", hint);
    }
    format!("/signin?{}", query.finish())
}

fn request_error(request: &AuthorizationRequest, e: &OAuthError, issuer: &str) -> AuthorizationResponse {
    AuthorizationResponse::error(
        request.response_mode,
        &request.redirect_uri,
        e,
        request.state.as_deref(),
        issuer,
    )
}

/// An error before validation finished: `response_mode` is honoured when it is one we know.
fn error_response(
    params: &AuthorizationParams,
    uri: &str,
    e: &OAuthError,
    issuer: &str,
) -> AuthorizationResponse {
    let mode = params.response_mode.as_deref().and_then(ResponseMode::parse).unwrap_or_default();
    let state = params.state.as_deref().filter(|s| !s.is_empty());
    AuthorizationResponse::error(mode, uri, e, state, issuer)
}

const EXPIRED: &str =
    "This sign-in link has expired or was already used. Go back to the portal and try again.";

fn page(message: String) -> Failure {
    Failure::page(actix_web::http::StatusCode::BAD_REQUEST, "This sign-in link is not valid", message)
}

pub fn malformed() -> Failure {
    page(
        "The portal sent an incomplete or malformed sign-in request. Go back to the portal and try again."
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_requests_travel_as_their_parameters_without_absent_ones() {
        let p = AuthorizationParams {
            client_id: Some("c".into()),
            state: Some("a b".into()),
            prompt: Some("login".into()),
            ..Default::default()
        };
        let q = serde_urlencoded::to_string(p.for_return_trip()).unwrap();
        assert_eq!(q, "client_id=c&state=a+b");
        let url = sign_in_url(&format!("/authorize?{q}"), Some("ole@x.org"));
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(url.strip_prefix("/signin?").unwrap().as_bytes())
                .into_owned()
                .collect();
        assert_eq!(pairs[0], ("continue".into(), "/authorize?client_id=c&state=a+b".into()));
        assert_eq!(pairs[1], ("login_hint".into(), "ole@x.org".into()));
    }
}
