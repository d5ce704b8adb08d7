//! Accounts and who is signed in: emails (the username), password hashing (argon2id on a
//! bounded pool), the password rules (policy, common passwords, history), lockout, one-time
//! codes (reset, unlock and verification links, typed sign-in codes), the password sign-in rule,
//! browser sign-in sessions and their inactivity timeout (`idle`), the citizen's profile, the
//! audit trail, and the first-sign-in-method binding rule for upstream sign-in (`federated`).
//!
//! Pure domain: no actix-web, no diesel. Storage is the [`AccountStore`], [`SessionStore`],
//! [`PasswordHistoryStore`], [`LockoutStore`], [`OneTimeCodeStore`], [`ProfileStore`] and
//! [`AuditStore`] and [`FederationStore`] traits, implemented by the `store` crate.

mod account;
mod audit;
mod codes;
mod common;
mod federated;
mod hasher;
mod idle;
mod lockout;
#[cfg(test)]
mod memory;
mod password;
mod policy;
mod profile;
mod redeem;
mod registration;
mod rules;
mod sign_in;
mod signup;
mod store;
mod throttle;

pub use account::{Account, AccountId, Email, EmailError, NewAccount};
pub use audit::{AuditEvent, AuditKind, AuditStore, NewAuditEvent};
pub use codes::{
    CodeKey, CodeKind, CodePolicy, NewOneTimeCode, Purpose, TypedCode, issue_link, issue_typed_code,
};
pub use federated::{
    BoundAccount, FederationStore, LOCAL_METHOD, MethodBinding, NewUpstreamFlow, Refusal, Resolution,
    TakeFlow, UpstreamIdentity, resolve,
};
pub use idle::{IdleCheck, IdleTimeout, MAX_IDLE_STEP};
pub use lockout::{
    LockoutPolicy, LockoutState, LockoutStore, OPERATOR_LOCK, PasswordAttempt, locked_message,
};
pub use password::{Argon2Params, HashPool, PasswordError};
pub use policy::{PasswordPolicy, PolicyViolation};
pub use profile::{
    MAX_FIELD_CHARS, PHONE_DIGITS, ProfileField, ProfileProblem, ProfileStore, ProfileUpdate,
    ProfileViolation,
};
pub use redeem::{Consume, OneTimeCode, OneTimeCodeStore, TypedAttempt, judge_link, judge_typed_code};
pub use registration::{AccountRegistration, RegistrationError};
pub use rules::{MAX_HISTORY_DEPTH, PasswordHistoryStore, PasswordRules};
pub use sign_in::{SignIn, SignInOutcome, sign_in_with_password, verify_sign_in};
pub use signup::{
    CompleteRegistration, FieldError, Imported, ImportedAccount, NewRegistration, RegistrationStore,
    SignUpForm, ValidSignUp, validate_sign_up,
};
pub use store::{
    AccountStore, CreateAccount, NewSession, RevocationStore, Session, SessionStore, StoreError,
};
pub use throttle::{Throttle, ThrottlePolicy, ThrottleState, ThrottleStore, mail_key, sign_in_key};
