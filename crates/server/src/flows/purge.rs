//! The retention worker: every `maintenance.purge_interval_secs`, this node deletes what
//! `store::Retention` says has lapsed. Nodes need not agree on who purges: two purges at once
//! only race to delete the same rows.

use std::time::Duration;

use crate::http::error::Failure;
use crate::state::AppState;

pub async fn run(state: AppState) {
    let every = state.settings.maintenance.purge_interval_secs;
    if every == 0 {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(every));
    loop {
        // The first tick is at once: a node that starts after a long stop catches up.
        ticks.tick().await;
        if let Err(e) = purge(&state, AppState::now()).await {
            tracing::error!(error = %e, "purge: cannot reach the store; will try at the next interval");
        }
    }
}

/// One purge; logs what went.
pub async fn purge(state: &AppState, now: i64) -> Result<store::Purged, Failure> {
    let retention = state.settings.maintenance.retention(&state.settings.tokens);
    let purged = state.db(move |s| s.purge(&retention, now)).await?;
    let total: usize = purged.iter().map(|(_, n)| n).sum();
    if total > 0 {
        let detail: Vec<String> =
            purged.iter().filter(|(_, n)| *n > 0).map(|(t, n)| format!("{t}={n}")).collect();
        tracing::info!(total, tables = %detail.join(" "), "purged lapsed rows");
    }
    Ok(purged)
}
