//! Redeeming one-time codes: the lifecycle every code follows, as pure rules over the stored row
//! ([`judge_link`], [`judge_typed_code`]) and the store trait that applies them atomically
//! ([`OneTimeCodeStore`]).
//!
//! ```text
//!  issue ──replace_code: the older code of the same account + purpose is deleted──┐
//!                                                                                  ▼
//!        ┌──────────── right link / right code, now < expires_at ──────────── Live (tries k)
//!        ▼                                                                   │        │
//!      Used ──▶ AlreadyUsed for ever                      wrong typed code:  │        │ now ≥ expires_at
//!                                                       k+1; at max_tries ───┘        ▼
//!                                                       Spent ──▶ TooManyTries     Expired
//! ```
//!
//! The order of the checks is: purpose and kind (else `Unknown`), used, expired, spent, then the
//! code itself. So a used or expired code never counts a try, and a spent code refuses even the
//! right digits.

use tokens::TokenHash;

use crate::{AccountId, CodeKind, NewOneTimeCode, Purpose, StoreError};

/// A stored code, as the store reads it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneTimeCode {
    pub account_id: AccountId,
    pub purpose: Purpose,
    pub kind: CodeKind,
    pub code_hash: TokenHash,
    pub created_at: i64,
    pub expires_at: i64,
    /// Typed attempts counted so far, right or wrong.
    pub tries: u32,
    /// When it was redeemed; `None` while unused.
    pub used_at: Option<i64>,
}

impl From<NewOneTimeCode> for OneTimeCode {
    fn from(new: NewOneTimeCode) -> Self {
        Self {
            account_id: new.account_id,
            purpose: new.purpose,
            kind: new.kind,
            code_hash: new.code_hash,
            created_at: new.created_at,
            expires_at: new.expires_at,
            tries: 0,
            used_at: None,
        }
    }
}

/// What presenting a code did. Expected outcomes are values (STYLE.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Consume {
    /// This presentation won: the code is now used and belongs to `account_id`.
    Accepted {
        account_id: AccountId,
    },
    /// A typed code that does not match; a try was counted and tries remain. Links never answer
    /// this (an unmatched link is `Unknown`). For a sign-in code, show it exactly like `Unknown`
    /// so the page does not tell whether the email has an account.
    WrongCode,
    /// A typed code whose tries are spent, by this attempt or before; ask for a new one.
    TooManyTries,
    Expired,
    AlreadyUsed,
    /// No such code for this purpose (or it was voided by a newer one).
    Unknown,
}

/// What one typed attempt does to the row: its outcome, and whether it counts a try. The code is
/// marked used exactly when the outcome is `Accepted`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedAttempt {
    pub outcome: Consume,
    pub counts_try: bool,
}

/// The rule for a link: `code` is the row whose hash is the presented link's hash (`None`: no
/// such row), `purpose` what the link is being used for.
pub fn judge_link(code: Option<&OneTimeCode>, purpose: Purpose, now: i64) -> Consume {
    match code {
        Some(c) if c.purpose == purpose && c.kind == CodeKind::Link => lifecycle(c, now, u32::MAX)
            .unwrap_or_else(|| Consume::Accepted { account_id: c.account_id.clone() }),
        _ => Consume::Unknown,
    }
}

/// The rule for one typed attempt: `code` is the account's latest code for `purpose` (`None`:
/// none), `presented` the attempt's [`CodeKey::hash`](crate::CodeKey::hash).
pub fn judge_typed_code(
    code: Option<&OneTimeCode>,
    purpose: Purpose,
    presented: &TokenHash,
    now: i64,
    max_tries: u32,
) -> TypedAttempt {
    let settled = |outcome| TypedAttempt { outcome, counts_try: false };
    let Some(c) = code.filter(|c| c.purpose == purpose && c.kind == CodeKind::Typed) else {
        return settled(Consume::Unknown);
    };
    if let Some(outcome) = lifecycle(c, now, max_tries) {
        return settled(outcome);
    }
    let outcome = if same_hash(&c.code_hash, presented) {
        Consume::Accepted { account_id: c.account_id.clone() }
    } else if c.tries.saturating_add(1) >= max_tries {
        Consume::TooManyTries
    } else {
        Consume::WrongCode
    };
    TypedAttempt { outcome, counts_try: true }
}

/// `Some(outcome)` when the row can no longer be redeemed, whatever is presented.
fn lifecycle(c: &OneTimeCode, now: i64, max_tries: u32) -> Option<Consume> {
    if c.used_at.is_some() {
        Some(Consume::AlreadyUsed)
    } else if now >= c.expires_at {
        Some(Consume::Expired)
    } else if c.tries >= max_tries {
        Some(Consume::TooManyTries)
    } else {
        None
    }
}

fn same_hash(a: &TokenHash, b: &TokenHash) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_str().as_bytes(), b.as_str().as_bytes()).is_ok()
}

/// Where one-time codes live. Implemented by the `store` crate; every method is one transaction,
/// and a redemption's single-use step is a conditional update whose one affected row is the
/// winner (STYLE.md): fifty parallel presentations of one code, one `Accepted`.
pub trait OneTimeCodeStore {
    /// Deletes every code of `code.account_id` + `code.purpose` (used, live or expired) and
    /// inserts `code`, in one transaction: at most one code per account and purpose exists, so
    /// issuing a new one voids the old.
    fn replace_code(&self, code: &NewOneTimeCode) -> Result<(), StoreError>;

    /// Redeems a link by [`judge_link`] over the row with `code_hash = hash`. The winning step is
    /// one statement — `UPDATE … SET used_at = now WHERE code_hash = ? AND purpose = ? AND kind =
    /// 'link' AND used_at IS NULL AND expires_at > now RETURNING account_id` — and only when it
    /// affects no row does the store read the row to tell `Expired`, `AlreadyUsed` and `Unknown`
    /// apart.
    fn consume_link(&self, hash: &TokenHash, purpose: Purpose, now: i64) -> Result<Consume, StoreError>;

    /// What [`consume_link`](Self::consume_link) would answer, without using the link: a page
    /// shows its form (and checks the new password against the rules) before the link is spent.
    /// A read, by [`judge_link`].
    fn peek_link(&self, hash: &TokenHash, purpose: Purpose, now: i64) -> Result<Consume, StoreError>;

    /// One attempt at `account`'s typed code for `purpose`, by [`judge_typed_code`]. Counting the
    /// try and marking the code used are one atomic step — `UPDATE … SET tries = tries + 1,
    /// used_at = CASE WHEN code_hash = ? THEN now END WHERE account_id = ? AND purpose = ? AND
    /// kind = 'typed' AND used_at IS NULL AND expires_at > now AND tries < max_tries RETURNING
    /// used_at, tries` — so parallel guesses never get more than `max_tries` evaluations in all
    /// and a right one wins at most once; when no row is affected, the row is read to classify.
    fn attempt_typed_code(
        &self,
        account: &AccountId,
        purpose: Purpose,
        presented: &TokenHash,
        now: i64,
        max_tries: u32,
    ) -> Result<Consume, StoreError>;
}

#[cfg(test)]
#[path = "redeem_tests.rs"]
mod tests;
