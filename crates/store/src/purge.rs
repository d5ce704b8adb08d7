//! Retention: deleting the rows nobody can use any more, so tables holding short-lived
//! secrets do not grow without bound. Every rule keeps a row as long as it can still change an
//! answer: a used code until it has expired (its replay revokes the grant), a revoked grant
//! until every access token that carries it has expired, a refresh token until its own expiry
//! (its reuse revokes the family). Each table is one statement in its own transaction, so a
//! purge never holds a lock for long, and several nodes purging at once only race to delete
//! the same rows.

use diesel::prelude::*;
use identity::IdleTimeout;

use crate::Store;
use crate::error::StoreError;
use crate::logout as logout_status;
use crate::outbox as outbox_status;
use crate::schema::{
    audit_events, backchannel_logouts, client_assertion_jtis, codes, federation_flows, grant_claims,
    lockouts, one_time_codes, outbox, pushed_requests, refresh_tokens, registrations, revoked_grants,
    session_clients, sessions, throttles,
};

/// How long rows are kept past the point where they stop mattering; seconds.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    /// Past expiry, for single-use secrets (codes, links, PAR requests, upstream flows,
    /// refresh tokens) and lapsed throttles and lockouts. Raised to `token_lifetime` when
    /// shorter, so no access token outlives its grant's rows.
    pub grace: i64,
    /// The longest lifetime of an access or ID token: a revoked grant is kept this long (plus
    /// `grace`) after its revocation, because a token issued before it is refused only while
    /// the row exists.
    pub token_lifetime: i64,
    /// Sent mail and delivered back-channel logouts.
    pub delivered: i64,
    /// Mail and logout tokens that failed for good (or whose delivery is in doubt), kept for
    /// operators to inspect.
    pub failed: i64,
    /// Audit events; `None` keeps them forever.
    pub audit: Option<i64>,
    /// The sessions' inactivity timeout: a session unused past it goes as an expired one does.
    pub idle: IdleTimeout,
}

/// How many rows each table lost, in a fixed order.
pub type Purged = Vec<(&'static str, usize)>;

impl Store {
    /// Deletes what `retention` says has lapsed at `now`.
    pub fn purge(&self, retention: &Retention, now: i64) -> Result<Purged, StoreError> {
        let grace = retention.grace.max(retention.token_lifetime).max(0);
        let lapsed = now.saturating_sub(grace);
        let mut purged = Purged::new();
        let mut run =
            |table: &'static str, f: &dyn Fn(&mut crate::conn::DbConnection) -> QueryResult<usize>| {
                let n = self.transaction(|c| Ok(f(c)?))?;
                purged.push((table, n));
                Ok::<_, StoreError>(())
            };
        run("codes", &|c| diesel::delete(codes::table.filter(codes::expires_at.lt(lapsed))).execute(c))?;
        run("pushed_requests", &|c| {
            diesel::delete(pushed_requests::table.filter(pushed_requests::expires_at.lt(lapsed))).execute(c)
        })?;
        run("one_time_codes", &|c| {
            diesel::delete(one_time_codes::table.filter(one_time_codes::expires_at.lt(lapsed))).execute(c)
        })?;
        run("registrations", &|c| {
            diesel::delete(registrations::table.filter(registrations::expires_at.lt(lapsed))).execute(c)
        })?;
        run("federation_flows", &|c| {
            diesel::delete(federation_flows::table.filter(federation_flows::expires_at.lt(lapsed))).execute(c)
        })?;
        // An expired or idle-expired session signs nobody in; its participants list goes with it
        // (and with sessions some other path deleted). No back-channel logout: nobody signed
        // out. `last_seen_at` has no index (every recorded use would update it); the purge reads
        // the table once an interval.
        let idle_cutoff = |persistent| retention.idle.cutoff(persistent, now).unwrap_or(i64::MIN);
        let (cutoff, persistent_cutoff) = (idle_cutoff(false), idle_cutoff(true));
        run("sessions", &|c| {
            diesel::delete(
                sessions::table.filter(
                    sessions::expires_at
                        .lt(now)
                        .or(sessions::persistent.eq(false).and(sessions::last_seen_at.le(cutoff)))
                        .or(sessions::persistent.eq(true).and(sessions::last_seen_at.le(persistent_cutoff))),
                ),
            )
            .execute(c)
        })?;
        run("session_clients", &|c| {
            let live = sessions::table.select(sessions::id);
            diesel::delete(session_clients::table.filter(session_clients::session_id.ne_all(live))).execute(c)
        })?;
        // Refresh tokens past their expiry, and those of a grant revoked longer than `grace`
        // ago (presenting one gets invalid_grant either way).
        run("refresh_tokens", &|c| {
            let revoked = revoked_grants::table
                .filter(revoked_grants::revoked_at.lt(now.saturating_sub(retention.grace.max(0))))
                .select(revoked_grants::grant_id);
            diesel::delete(
                refresh_tokens::table.filter(
                    refresh_tokens::expires_at.lt(lapsed).or(refresh_tokens::grant_id.eq_any(revoked)),
                ),
            )
            .execute(c)
        })?;
        // Once no refresh token of the grant is left, its last access token has expired too.
        run("revoked_grants", &|c| {
            let alive = refresh_tokens::table.select(refresh_tokens::grant_id);
            diesel::delete(
                revoked_grants::table
                    .filter(revoked_grants::revoked_at.lt(lapsed))
                    .filter(revoked_grants::grant_id.ne_all(alive)),
            )
            .execute(c)
        })?;
        run("grant_claims", &|c| {
            let alive = refresh_tokens::table.select(refresh_tokens::grant_id);
            diesel::delete(
                grant_claims::table
                    .filter(grant_claims::created_at.lt(lapsed))
                    .filter(grant_claims::grant_id.ne_all(alive)),
            )
            .execute(c)
        })?;
        // A spent assertion id matters only until its assertion expires (RFC 7523 §3, 7.).
        run("client_assertion_jtis", &|c| {
            diesel::delete(client_assertion_jtis::table.filter(client_assertion_jtis::expires_at.lt(now)))
                .execute(c)
        })?;
        run("throttles", &|c| {
            diesel::delete(throttles::table.filter(throttles::last_at.lt(lapsed))).execute(c)
        })?;
        // A lockout row that locks nothing and counts no open window is the same as no row.
        run("lockouts", &|c| {
            diesel::delete(
                lockouts::table
                    .filter(lockouts::operator_locked.eq(false))
                    .filter(lockouts::locked_until.is_null().or(lockouts::locked_until.lt(lapsed)))
                    .filter(lockouts::window_started_at.is_null().or(lockouts::window_started_at.lt(lapsed))),
            )
            .execute(c)
        })?;
        let delivered = now.saturating_sub(retention.delivered);
        let failed = now.saturating_sub(retention.failed);
        run("outbox", &|c| {
            diesel::delete(
                outbox::table.filter(
                    outbox::status.eq(outbox_status::SENT).and(outbox::sent_at.lt(delivered)).or(
                        outbox::status
                            .eq_any([outbox_status::FAILED, outbox_status::IN_DOUBT])
                            .and(outbox::created_at.lt(failed)),
                    ),
                ),
            )
            .execute(c)
        })?;
        run("backchannel_logouts", &|c| {
            diesel::delete(
                backchannel_logouts::table.filter(
                    backchannel_logouts::status
                        .eq(logout_status::DELIVERED)
                        .and(backchannel_logouts::delivered_at.lt(delivered))
                        .or(backchannel_logouts::status
                            .eq(logout_status::FAILED)
                            .and(backchannel_logouts::created_at.lt(failed))),
                ),
            )
            .execute(c)
        })?;
        if let Some(keep) = retention.audit {
            let before = now.saturating_sub(keep);
            run("audit_events", &|c| {
                diesel::delete(audit_events::table.filter(audit_events::at.lt(before))).execute(c)
            })?;
        }
        Ok(purged)
    }
}
