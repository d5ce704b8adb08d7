//! The audit trail (`identity::AuditStore`): one row per event, `detail` as JSON text.

use diesel::prelude::*;
use identity::{AccountId, AuditEvent, AuditStore, NewAuditEvent};

use crate::Store;
use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::audit_events;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub(crate) struct AuditRow {
    id: String,
    at: i64,
    account_id: Option<String>,
    kind: String,
    ip: Option<String>,
    detail: String,
    client_id: Option<String>,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEvent {
            id: r.id,
            at: r.at,
            account_id: r.account_id.map(AccountId::from_stored),
            client_id: r.client_id,
            kind: r.kind,
            ip: r.ip,
            detail: serde_json::from_str(&r.detail)
                .map_err(|source| StoreError::Malformed { column: "audit_events.detail", source })?,
        })
    }
}

/// Inserts `event` inside the caller's transaction (a change and its audit row commit together).
pub(crate) fn insert_event(c: &mut DbConnection, event: &NewAuditEvent) -> Result<(), StoreError> {
    diesel::insert_into(audit_events::table).values(&AuditRow::from(event)).execute(c)?;
    Ok(())
}

/// `token.issued`: tokens issued to an account, filed with the grant's own write.
pub(crate) fn insert_issuance(c: &mut DbConnection, issued: &oauth::Issuance) -> Result<(), StoreError> {
    let account = identity::AccountId::from_stored(issued.subject.clone());
    let event = NewAuditEvent::token_issued(
        &account,
        issued.client_id.as_str(),
        issued.grant_type,
        issued.ip.clone(),
        issued.at,
    );
    insert_event(c, &event)
}

impl From<&NewAuditEvent> for AuditRow {
    fn from(event: &NewAuditEvent) -> Self {
        AuditRow {
            id: event.id.clone(),
            at: event.at,
            account_id: event.account_id.as_ref().map(|a| a.as_str().to_owned()),
            kind: event.kind.as_str().to_owned(),
            ip: event.ip.clone(),
            detail: event.detail.to_string(),
            client_id: event.client_id.clone(),
        }
    }
}

impl AuditStore for Store {
    fn record_event(&self, event: &NewAuditEvent) -> Result<(), identity::StoreError> {
        self.transaction(|c| insert_event(c, event))?;
        Ok(())
    }

    /// Newest first by `at`; events within one second come in no particular order.
    fn list_events_for(
        &self,
        account: &AccountId,
        limit: usize,
    ) -> Result<Vec<AuditEvent>, identity::StoreError> {
        let rows = self.read(|c| {
            Ok(audit_events::table
                .filter(audit_events::account_id.eq(account.as_str()))
                .order((audit_events::at.desc(), audit_events::id.desc()))
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .select(AuditRow::as_select())
                .load(c)?)
        })?;
        Ok(rows.into_iter().map(AuditEvent::try_from).collect::<Result<_, _>>()?)
    }
}
