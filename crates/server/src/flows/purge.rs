//! The retention worker: every `maintenance.purge_interval_secs`, this node deletes what
//! `store::Retention` says has lapsed. Nodes need not agree on who purges: two purges at once
//! only race to delete the same rows.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::http::error::Failure;
use crate::settings::{SessionSettings, TokenSettings};
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
    let retention = state.settings.maintenance.retention(&state.settings.tokens, &state.settings.sessions);
    let purged = state.db(move |s| s.purge(&retention, now)).await?;
    let total: usize = purged.iter().map(|(_, n)| n).sum();
    if total > 0 {
        let detail: Vec<String> =
            purged.iter().filter(|(_, n)| *n > 0).map(|(t, n)| format!("{t}={n}")).collect();
        tracing::info!(total, tables = %detail.join(" "), "purged lapsed rows");
    }
    Ok(purged)
}

/// The purge of rows that have stopped mattering (`store::Retention`), run by every node.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaintenanceSettings {
    /// Seconds between two purges; 0 turns the schedule off (`gatehouse purge` still works).
    pub purge_interval_secs: u64,
    /// Seconds expired codes, links, refresh tokens, upstream flows and lapsed throttles are
    /// kept past their expiry.
    pub expired_grace_secs: i64,
    /// Days sent mail and delivered back-channel logouts are kept.
    pub delivered_retention_days: i64,
    /// Days mail and back-channel logouts that failed for good are kept.
    pub failed_retention_days: i64,
    /// Days audit events are kept; 0 keeps them forever.
    pub audit_retention_days: i64,
}

impl MaintenanceSettings {
    pub fn retention(&self, tokens: &TokenSettings, sessions: &SessionSettings) -> store::Retention {
        const DAY: i64 = 86_400;
        store::Retention {
            grace: self.expired_grace_secs,
            token_lifetime: tokens.access_token_ttl.max(tokens.id_token_ttl),
            delivered: self.delivered_retention_days.saturating_mul(DAY),
            failed: self.failed_retention_days.saturating_mul(DAY),
            audit: (self.audit_retention_days > 0).then(|| self.audit_retention_days.saturating_mul(DAY)),
            idle: sessions.idle(),
        }
    }
}

impl Default for MaintenanceSettings {
    fn default() -> Self {
        Self {
            purge_interval_secs: 3600,
            expired_grace_secs: 86_400,
            delivered_retention_days: 7,
            failed_retention_days: 30,
            audit_retention_days: 0,
        }
    }
}
