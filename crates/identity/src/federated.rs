//! Upstream sign-in ("Sign in with Google") as the accounts see it: who an upstream identity
//! is here, the first-sign-in-method binding, and the pending upstream flows.
//!
//! ```text
//!  (provider, subject) linked ─────────────────────────────▶ SignIn(that account)
//!  no verified email ──────────────────────────────────────▶ Refuse(NoVerifiedEmail)
//!  verified email, no account ─────────────────────────────▶ Create (verified, no password,
//!                                                            bound to the provider)
//!  imported, never claimed ────────────────────────────────▶ Claim (bound to the provider)
//!  account bound to this provider (another subject) ───────▶ Link
//!  account bound to another method:
//!      first-method (the guide's rule) ────────────────────▶ Refuse(BoundToOther { method })
//!      link-verified-email, the account's email verified ──▶ Link (audited)
//! ```
//!
//! The guide: "You will not be able to log in using other options after the initial log in".
//! The same rule refuses a password or emailed code for an account bound to a provider.

use tokens::TokenHash;

use crate::{Account, AccountId, CreateAccount, Email, NewAccount, StoreError};

/// The method every account created by email (sign-up, password, code, import) is bound to.
pub const LOCAL_METHOD: &str = "email";

/// An upstream identity, after the upstream's ID token was validated. Only a verified email
/// is given here: an unverified one must never reach an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamIdentity {
    pub provider: String,
    pub subject: String,
    pub verified_email: Option<Email>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

/// `accounts.method_binding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodBinding {
    FirstMethod,
    LinkVerifiedEmail,
}

impl MethodBinding {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "first-method" => Some(Self::FirstMethod),
            "link-verified-email" => Some(Self::LinkVerifiedEmail),
            _ => None,
        }
    }
}

/// The account that has the upstream identity's email, with what the binding rule needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundAccount {
    pub account: Account,
    /// `email`, or the provider it first signed in with.
    pub first_method: String,
    /// Imported by an operator and never claimed.
    pub unclaimed_import: bool,
}

/// What to do with an upstream identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    SignIn(AccountId),
    Create(NewAccount),
    Claim(AccountId),
    Link(AccountId),
    Refuse(Refusal),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The account signs in with `method` (`email` or a provider's name).
    BoundToOther { method: String },
    /// The provider vouched for no email, so no account can be found or made.
    NoVerifiedEmail,
    /// The matching account's own email was never verified: linking would hand it over.
    UnverifiedAccount,
}

/// The rule. `linked` is the account already linked to (provider, subject); `by_email` the
/// account with the identity's verified email.
pub fn resolve(
    identity: &UpstreamIdentity,
    linked: Option<AccountId>,
    by_email: Option<&BoundAccount>,
    binding: MethodBinding,
    new_id: AccountId,
    now: i64,
) -> Resolution {
    if let Some(id) = linked {
        return Resolution::SignIn(id);
    }
    let Some(email) = &identity.verified_email else {
        return Resolution::Refuse(Refusal::NoVerifiedEmail);
    };
    let Some(known) = by_email else {
        return Resolution::Create(NewAccount {
            id: new_id,
            email: email.clone(),
            email_verified: true,
            name: identity.name.clone(),
            given_name: identity.given_name.clone(),
            family_name: identity.family_name.clone(),
            phone_number: None,
            password_hash: None,
            created_at: now,
        });
    };
    let id = known.account.id.clone();
    if known.unclaimed_import {
        return Resolution::Claim(id);
    }
    if known.first_method == identity.provider {
        return Resolution::Link(id);
    }
    match binding {
        MethodBinding::FirstMethod => {
            Resolution::Refuse(Refusal::BoundToOther { method: known.first_method.clone() })
        }
        MethodBinding::LinkVerifiedEmail if known.account.email_verified => Resolution::Link(id),
        MethodBinding::LinkVerifiedEmail => Resolution::Refuse(Refusal::UnverifiedAccount),
    }
}

/// A sign-in started upstream, waiting for its callback. Kept in the database by the hash of
/// its `state` (RFC 6749 §10.12), so any node can finish it; used once.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUpstreamFlow {
    pub state_hash: TokenHash,
    pub provider: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The pending `continue` path (an authorization request), possibly empty.
    pub continue_to: String,
    pub keep_signed_in: bool,
    /// The hash of the browser-binding cookie set at the start.
    pub binding_hash: TokenHash,
    pub created_at: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for NewUpstreamFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUpstreamFlow").field("provider", &self.provider).finish_non_exhaustive()
    }
}

/// What a callback's `state` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TakeFlow {
    /// Live; now used up.
    Taken(NewUpstreamFlow),
    /// It existed but had expired; now deleted.
    Expired,
    /// Unknown or already used.
    Unknown,
}

pub trait FederationStore {
    /// Stores a pending flow; flows expired at `created_at` are deleted in the same transaction.
    fn create_upstream_flow(&self, flow: &NewUpstreamFlow) -> Result<(), StoreError>;
    /// Deletes the flow (the single-use step: one caller wins) and returns it.
    fn take_upstream_flow(&self, state_hash: &TokenHash, now: i64) -> Result<TakeFlow, StoreError>;
    /// The account linked to (provider, subject).
    fn find_linked_account(&self, provider: &str, subject: &str) -> Result<Option<AccountId>, StoreError>;
    /// The account with `email` and its binding.
    fn find_bound_account(&self, email: &Email) -> Result<Option<BoundAccount>, StoreError>;
    /// The method the account is bound to (`email` or a provider), `None` if it does not exist.
    fn first_method(&self, account: &AccountId) -> Result<Option<String>, StoreError>;
    /// Creates the account bound to `provider` and links (provider, subject), in one
    /// transaction. `EmailTaken` when the email got an account meanwhile.
    fn create_upstream_account(
        &self,
        account: &NewAccount,
        provider: &str,
        subject: &str,
    ) -> Result<CreateAccount, StoreError>;
    /// Claims an imported, never-claimed account for (provider, subject): verified, bound to the
    /// provider, names filled where empty. `false` when it was claimed meanwhile.
    fn claim_for_upstream(
        &self,
        account: &AccountId,
        identity: &UpstreamIdentity,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Links (provider, subject) to the account and records `event`, in one transaction.
    /// `false` when the pair was linked meanwhile.
    fn link_upstream(
        &self,
        account: &AccountId,
        provider: &str,
        subject: &str,
        event: &crate::NewAuditEvent,
        now: i64,
    ) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(email: Option<&str>) -> UpstreamIdentity {
        UpstreamIdentity {
            provider: "google".into(),
            subject: "g-1".into(),
            verified_email: email.map(|e| Email::parse(e).unwrap()),
            name: Some("Ole Mae".into()),
            given_name: Some("Ole".into()),
            family_name: Some("Mae".into()),
        }
    }

    fn known(method: &str, imported: bool, verified: bool) -> BoundAccount {
        BoundAccount {
            account: Account {
                id: AccountId::from_stored("acc".into()),
                email: Email::parse("ole@x.org").unwrap(),
                email_verified: verified,
                name: None,
                given_name: None,
                family_name: None,
                phone_number: None,
                password_hash: None,
                created_at: 1,
                updated_at: 1,
            },
            first_method: method.into(),
            unclaimed_import: imported,
        }
    }

    fn run(
        id: &UpstreamIdentity,
        linked: Option<&str>,
        by: Option<&BoundAccount>,
        b: MethodBinding,
    ) -> Resolution {
        let linked = linked.map(|l| AccountId::from_stored(l.into()));
        resolve(id, linked, by, b, AccountId::from_stored("new".into()), 100)
    }

    const FIRST: MethodBinding = MethodBinding::FirstMethod;
    const LINK: MethodBinding = MethodBinding::LinkVerifiedEmail;

    #[test]
    fn a_linked_identity_signs_in_to_its_account() {
        let k = known("email", false, true);
        let r = run(&identity(Some("ole@x.org")), Some("linked"), Some(&k), FIRST);
        assert_eq!(r, Resolution::SignIn(AccountId::from_stored("linked".into())));
    }

    #[test]
    fn a_new_verified_email_creates_a_verified_account_without_password() {
        let Resolution::Create(new) = run(&identity(Some("ole@x.org")), None, None, FIRST) else {
            panic!("expected Create");
        };
        assert!(new.email_verified && new.password_hash.is_none());
        assert_eq!((new.id.as_str(), new.email.as_str(), new.created_at), ("new", "ole@x.org", 100));
        assert_eq!(new.given_name.as_deref(), Some("Ole"));
    }

    #[test]
    fn no_verified_email_is_refused() {
        assert_eq!(run(&identity(None), None, None, LINK), Resolution::Refuse(Refusal::NoVerifiedEmail));
    }

    #[test]
    fn an_unclaimed_import_is_claimed() {
        let k = known("email", true, false);
        assert!(matches!(run(&identity(Some("ole@x.org")), None, Some(&k), FIRST), Resolution::Claim(_)));
    }

    #[test]
    fn first_method_refuses_an_account_bound_elsewhere_and_names_the_method() {
        let k = known("email", false, true);
        let r = run(&identity(Some("ole@x.org")), None, Some(&k), FIRST);
        assert_eq!(r, Resolution::Refuse(Refusal::BoundToOther { method: "email".into() }));
        let k = known("microsoft", false, true);
        let r = run(&identity(Some("ole@x.org")), None, Some(&k), FIRST);
        assert_eq!(r, Resolution::Refuse(Refusal::BoundToOther { method: "microsoft".into() }));
    }

    #[test]
    fn the_same_provider_links_another_subject() {
        let k = known("google", false, true);
        assert!(matches!(run(&identity(Some("ole@x.org")), None, Some(&k), FIRST), Resolution::Link(_)));
    }

    #[test]
    fn link_mode_links_only_a_verified_account() {
        let k = known("email", false, true);
        assert!(matches!(run(&identity(Some("ole@x.org")), None, Some(&k), LINK), Resolution::Link(_)));
        let k = known("email", false, false);
        let r = run(&identity(Some("ole@x.org")), None, Some(&k), LINK);
        assert_eq!(r, Resolution::Refuse(Refusal::UnverifiedAccount));
    }

    #[test]
    fn binding_names_parse() {
        assert_eq!(MethodBinding::parse("first-method"), Some(FIRST));
        assert_eq!(MethodBinding::parse("link-verified-email"), Some(LINK));
        assert_eq!(MethodBinding::parse("x"), None);
    }
}
