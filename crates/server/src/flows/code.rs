//! Authorization code issuance: session → code row (and the client recorded as a participant of
//! the session, for back-channel logout) → the response back to the portal.

use identity::Session;
use oauth::{AuthorizationRequest, AuthorizationResponse, BackChannelStore, CodeGrant, CodeStore};

use crate::http::error::Failure;
use crate::state::AppState;

/// Stores a fresh code for `request`, bound to `session`, and returns the response (a redirect,
/// or a form for `response_mode=form_post`).
pub async fn issue(
    state: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
    now: i64,
) -> Result<AuthorizationResponse, Failure> {
    let grant = CodeGrant {
        subject: session.account_id.as_str().to_owned(),
        session_id: session.id.clone(),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
        idp: session.idp.clone(),
    };
    let (code, row) = request.issue_code(grant, now, state.settings.tokens.code_ttl);
    state
        .db(move |s| {
            s.insert_code(&row)?;
            s.record_session_client(&row.session_id, &row.client_id, &row.subject, now)
        })
        .await?;
    Ok(AuthorizationResponse::success(
        request.response_mode,
        &request.redirect_uri,
        code.expose(),
        request.state.as_deref(),
        &state.settings.issuer,
    ))
}
