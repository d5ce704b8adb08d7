//! Accounts and who is signed in: emails (the username), password hashing (argon2id on a
//! bounded pool), the password policy, the password sign-in rule, and browser sign-in sessions.
//! Later: lockout, one-time codes, profiles and the first-sign-in-method binding rule.
//!
//! Pure domain: no actix-web, no diesel. Storage is the [`AccountStore`] and [`SessionStore`]
//! traits, implemented by the `store` crate.

mod account;
mod password;
mod policy;
mod registration;
mod sign_in;
mod store;

pub use account::{Account, AccountId, Email, EmailError, NewAccount};
pub use password::{Argon2Params, HashPool, PasswordError};
pub use policy::{PasswordPolicy, PolicyViolation};
pub use registration::{AccountRegistration, RegistrationError};
pub use sign_in::{SignIn, sign_in_with_password};
pub use store::{AccountStore, CreateAccount, NewSession, Session, SessionStore, StoreError};
