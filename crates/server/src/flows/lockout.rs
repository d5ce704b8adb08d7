//! "Unlock account?" links: look at one (the page shows its button only while it is live),
//! spend one (the lockout is lifted).

use identity::{Consume, LockoutStore, OneTimeCodeStore, Purpose};
use tokens::TokenHash;

use crate::http::error::Failure;
use crate::state::AppState;

pub async fn link_is_live(state: &AppState, token: &str) -> Result<bool, Failure> {
    let (now, hash) = (AppState::now(), TokenHash::of(token));
    let peek = state.db(move |s| s.peek_link(&hash, Purpose::Unlock, now)).await?;
    Ok(matches!(peek, Consume::Accepted { .. }))
}

/// Spends the link and lifts the lockout. `false`: the link was used, expired or unknown.
pub async fn unlock_with_link(state: &AppState, token: &str) -> Result<bool, Failure> {
    let (now, hash) = (AppState::now(), TokenHash::of(token));
    let Consume::Accepted { account_id } =
        state.db(move |s| s.consume_link(&hash, Purpose::Unlock, now)).await?
    else {
        return Ok(false);
    };
    state.db(move |s| s.clear_lockout(&account_id)).await?;
    Ok(true)
}
