//! What the account and session stores must do. The `store` crate implements them.
//! Each method is one transaction.

use crate::{Account, AccountId, Email, IdleTimeout, NewAccount};
use tokens::TokenHash;

/// An infrastructure failure in a store; opaque to the domain, logged with its chain.
#[derive(Debug, thiserror::Error)]
#[error("store failure")]
pub struct StoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// The outcome of inserting an account: a taken email is an expected outcome, not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateAccount {
    Created(Account),
    EmailTaken,
}

pub trait AccountStore {
    fn create_account(&self, account: &NewAccount) -> Result<CreateAccount, StoreError>;
    fn find_account(&self, id: &AccountId) -> Result<Option<Account>, StoreError>;
    fn find_account_by_email(&self, email: &Email) -> Result<Option<Account>, StoreError>;
    /// Accounts ordered by email, `limit` at most, from `offset`.
    fn list_accounts(&self, limit: i64, offset: i64) -> Result<Vec<Account>, StoreError>;
}

/// A browser sign-in session. The cookie holds a secret whose hash is `token_hash`; `id` is the
/// public session id that ID tokens carry as `sid` (OpenID Connect Front/Back-Channel Logout).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub account_id: AccountId,
    /// When the citizen last proved who they are (the `auth_time` claim), unix seconds.
    pub auth_time: i64,
    /// Authentication methods used, RFC 8176 values (`pwd`, `otp`, …).
    pub amr: Vec<String>,
    /// Whether "Keep me signed in" was ticked (a persistent cookie).
    pub persistent: bool,
    pub created_at: i64,
    /// The absolute expiry (`sessions.ttl` or `sessions.persistent_ttl` after the sign-in).
    pub expires_at: i64,
    /// The last recorded use, unix seconds: moved at most once a step (`crate::idle`), so it
    /// may lag the real last use by up to a minute.
    pub last_seen_at: i64,
    /// The upstream provider that authenticated the citizen ("Sign in with Google"), if any.
    pub idp: Option<String>,
}

/// A session to store; its `last_seen_at` starts at `created_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    pub id: String,
    pub token_hash: TokenHash,
    pub account_id: AccountId,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub persistent: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub idp: Option<String>,
}

pub trait SessionStore {
    fn create_session(&self, session: &NewSession) -> Result<(), StoreError>;
    /// The live session whose cookie secret hashes to `token_hash`: `None` when unknown,
    /// expired at `now`, idle-expired under `idle`, or revoked. Finding it is a use: when
    /// [`IdleTimeout::check`] says so, `last_seen_at` moves to `now` (a conditional update, so
    /// parallel uses write once); otherwise nothing is written.
    fn find_session(
        &self,
        token_hash: &TokenHash,
        now: i64,
        idle: &IdleTimeout,
    ) -> Result<Option<Session>, StoreError>;
    /// Ends a session (sign-out, `prompt=login` replacing it). Ending an unknown one is not an error.
    fn delete_session(&self, token_hash: &TokenHash) -> Result<(), StoreError>;
}

/// Ending everything an account has open: after a password reset or change, or a deletion.
pub trait RevocationStore {
    /// Ends every session of the account except `keep` (the one making the change, if any),
    /// and marks every token issued to the account up to `now` as revoked. One transaction.
    fn revoke_account_access(
        &self,
        account: &AccountId,
        keep: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError>;
    /// When the account's tokens were last revoked: a token issued at or before it is inactive.
    fn tokens_revoked_at(&self, account: &AccountId) -> Result<Option<i64>, StoreError>;
}
