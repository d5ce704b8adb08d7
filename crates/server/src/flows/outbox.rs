//! The mail worker: delivers what the outbox holds, when a request wakes it and every few
//! seconds anyway (another node may have queued mail, or a retry may have come due).

use std::sync::Arc;
use std::time::Duration;

use crate::state::AppState;

const POLL: Duration = Duration::from_secs(2);
const BATCH: usize = 20;

pub async fn run(state: AppState) {
    let outbox = Arc::new(state.store.clone());
    loop {
        match mail::outbox::deliver_due(outbox.clone(), &state.mailer, AppState::now, BATCH).await {
            // A full batch may mean more is due: go again at once.
            Ok(n) if n == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "outbox: cannot reach the store"),
        }
        let _ = tokio::time::timeout(POLL, state.outbox_waker.notified()).await;
    }
}
