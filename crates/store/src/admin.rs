//! Operator queries for the admin API: search accounts, list an account's sessions, end one
//! session, filter the audit trail, replace a client. They serve operators, not citizens, so
//! they are the store's own methods rather than domain traits.

use diesel::prelude::*;
use identity::{AccountId, AuditEvent, Session};

use crate::Store;
use crate::error::StoreError;
use crate::schema::{accounts, audit_events, sessions};

/// Which audit events to list; every set field must match.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub account_id: Option<String>,
    pub client_id: Option<String>,
    /// An exact kind, e.g. `account.deleted`, or a prefix ending in `.` (`admin.`).
    pub kind: Option<String>,
    /// Events with `at >= since`.
    pub since: Option<i64>,
    /// Events with `at < until`.
    pub until: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Ids of the accounts whose email contains `text` (any case), ordered by email.
    pub fn search_accounts(&self, text: &str, limit: i64, offset: i64) -> Result<Vec<AccountId>, StoreError> {
        let pattern = format!("%{}%", escape_like(&text.trim().to_lowercase()));
        let ids: Vec<String> = self.read(|c| {
            Ok(accounts::table
                .filter(accounts::email.like(pattern).escape('\\'))
                .order(accounts::email)
                .limit(limit)
                .offset(offset)
                .select(accounts::id)
                .load(c)?)
        })?;
        Ok(ids.into_iter().map(AccountId::from_stored).collect())
    }

    /// The account's sessions that have not expired at `now`, newest first.
    pub fn sessions_of(&self, account: &AccountId, now: i64) -> Result<Vec<Session>, StoreError> {
        let rows = self.read(|c| {
            Ok(sessions::table
                .filter(sessions::account_id.eq(account.as_str()))
                .filter(sessions::expires_at.gt(now))
                .order(sessions::created_at.desc())
                .select(crate::accounts::SessionRow::as_select())
                .load(c)?)
        })?;
        rows.into_iter().map(Session::try_from).collect()
    }

    /// Ends the session with this public id (an operator's revocation) and queues its
    /// back-channel logouts in the same transaction; `None` when there is none, else its account.
    pub fn end_session_by_id(&self, id: &str, now: i64) -> Result<Option<AccountId>, StoreError> {
        self.transaction(|c| {
            let ended = diesel::delete(sessions::table.find(id))
                .returning(sessions::account_id)
                .get_result::<String>(c)
                .optional()?;
            let Some(account) = ended else {
                return Ok(None);
            };
            crate::logout::queue_logouts_in(c, &[id.to_owned()], now)?;
            Ok(Some(AccountId::from_stored(account)))
        })
    }

    /// Audit events matching `filter`, newest first.
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = self.read(|c| {
            let mut query = audit_events::table.into_boxed();
            if let Some(account) = &filter.account_id {
                query = query.filter(audit_events::account_id.eq(account.clone()));
            }
            if let Some(client) = &filter.client_id {
                query = query.filter(audit_events::client_id.eq(client.clone()));
            }
            match filter.kind.as_deref() {
                Some(prefix) if prefix.ends_with('.') => {
                    query = query
                        .filter(audit_events::kind.like(format!("{}%", escape_like(prefix))).escape('\\'));
                }
                Some(kind) => query = query.filter(audit_events::kind.eq(kind.to_owned())),
                None => {}
            }
            if let Some(since) = filter.since {
                query = query.filter(audit_events::at.ge(since));
            }
            if let Some(until) = filter.until {
                query = query.filter(audit_events::at.lt(until));
            }
            Ok(query
                .order((audit_events::at.desc(), audit_events::id.desc()))
                .limit(filter.limit)
                .select(crate::audit::AuditRow::as_select())
                .load(c)?)
        })?;
        rows.into_iter().map(AuditEvent::try_from).collect()
    }
}

/// `%`, `_` and `\` stand for themselves in a LIKE pattern with `ESCAPE '\'`.
fn escape_like(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}
