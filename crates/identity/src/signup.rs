//! Sign-up ("Don't have an account? Sign up") and claiming imported accounts.
//!
//! A sign-up does not create an account: it is held as a pending registration until the
//! citizen follows the emailed link, so nobody can put a password on an address they do not
//! own, and the page never tells whether the address already has an account.
//!
//! ```text
//!  sign-up form ──valid──▶ pending registration + "Verify your email" mail ──▶ "Check your email"
//!                                   │ link followed (once, before it expires)
//!                                   ▼
//!      no account ──▶ Created (verified)
//!      imported, never claimed (no password, unverified) ──▶ Claimed: password and names set,
//!                                                           imported attributes kept
//!      any other account ──▶ AlreadyActive (nothing changes; "sign in or reset your password")
//! ```

use std::collections::BTreeMap;

use tokens::{OpaqueToken, TokenHash};

use crate::{Account, AccountId, Email, HashPool, PasswordRules, PolicyViolation, StoreError};

/// The sign-up form as typed.
#[derive(Clone)]
pub struct SignUpForm {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub password: String,
    pub repeat: String,
}

impl std::fmt::Debug for SignUpForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUpForm").field("email", &self.email).finish_non_exhaustive()
    }
}

/// One problem with the form, tied to its field so the page can show it there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// `email`, `given_name`, `family_name`, `password` or `repeat`.
    pub field: &'static str,
    pub message: String,
}

/// A checked sign-up, not yet hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidSignUp {
    pub email: Email,
    pub given_name: String,
    pub family_name: String,
}

const NAME_MAX: usize = 100;

/// Every problem at once: a blank or malformed field, the password rules (there is no history
/// for a new account), the repeat not matching.
pub async fn validate_sign_up(
    form: &SignUpForm,
    rules: &PasswordRules,
    pool: &HashPool,
) -> Result<ValidSignUp, Vec<FieldError>> {
    let mut errors = Vec::new();
    let blank = |field| FieldError { field, message: "This field cannot be left blank".into() };
    let email = match form.email.trim() {
        "" => {
            errors.push(blank("email"));
            None
        }
        raw => match Email::parse(raw) {
            Ok(e) => Some(e),
            Err(e) => {
                errors.push(FieldError { field: "email", message: format!("{e}.") });
                None
            }
        },
    };
    let given = form.given_name.trim().to_owned();
    let family = form.family_name.trim().to_owned();
    for (field, value) in [("given_name", &given), ("family_name", &family)] {
        if value.is_empty() {
            errors.push(blank(field));
        } else if value.chars().count() > NAME_MAX || value.chars().any(char::is_control) {
            errors.push(FieldError { field, message: format!("Use at most {NAME_MAX} letters.") });
        }
    }
    if form.password.is_empty() {
        errors.push(blank("password"));
    } else if let Some(email) = &email {
        let names = [given.as_str(), family.as_str()];
        let broken: Vec<PolicyViolation> = rules.violations(pool, &form.password, email, &names, &[]).await;
        errors.extend(broken.into_iter().map(|v| FieldError { field: "password", message: v.to_string() }));
    }
    if form.password != form.repeat {
        errors.push(FieldError { field: "repeat", message: "The passwords do not match.".into() });
    }
    match email {
        Some(email) if errors.is_empty() => Ok(ValidSignUp { email, given_name: given, family_name: family }),
        _ => Err(errors),
    }
}

/// A sign-up waiting for its email to be verified. Only the link's hash is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRegistration {
    pub code_hash: TokenHash,
    pub email: Email,
    pub given_name: String,
    pub family_name: String,
    pub password_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl NewRegistration {
    /// The link to mail, and the row to keep until it is followed or expires.
    pub fn issue(
        valid: ValidSignUp,
        password_hash: String,
        now: i64,
        ttl: i64,
    ) -> (OpaqueToken, NewRegistration) {
        let token = OpaqueToken::generate();
        let row = NewRegistration {
            code_hash: token.hash(),
            email: valid.email,
            given_name: valid.given_name,
            family_name: valid.family_name,
            password_hash,
            created_at: now,
            expires_at: now + ttl,
        };
        (token, row)
    }

    /// The display name a new account gets.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

/// What following a verification link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompleteRegistration {
    Created(Account),
    Claimed(Account),
    /// The address already has an account in use: nothing changed.
    AlreadyActive,
}

/// An account an operator imported (`gatehouse user import`), waiting to be claimed by a
/// sign-up with the same email. `attributes` are the extra columns (a legacy license-account
/// number, …), released as claims to clients allowed to see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedAccount {
    pub id: AccountId,
    pub email: Email,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub created_at: i64,
}

/// The outcome of importing one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    Created,
    /// The email already has an account: left as it is.
    Exists,
}

pub trait RegistrationStore {
    /// The registration the link `hash` names, if it is live at `now` (a page shows its button
    /// before the link is used). A read.
    fn peek_registration(&self, hash: &TokenHash, now: i64) -> Result<bool, StoreError>;
    /// Uses the link and applies the registration, in ONE transaction: the link is deleted by a
    /// conditional statement whose one affected row is the winner (`None`: unknown, used or
    /// expired), then the account is created, claimed (only an imported account: no password
    /// and email unverified; its attributes stay) or left alone. A created or claimed account is
    /// email-verified and its password goes into the history. Parallel uses of one link, or of
    /// two links for one email, create at most one account.
    fn complete_registration(
        &self,
        hash: &TokenHash,
        new_id: &AccountId,
        now: i64,
    ) -> Result<Option<CompleteRegistration>, StoreError>;
    /// Imports accounts in one transaction; an email that already has an account is skipped.
    fn import_accounts(&self, accounts: &[ImportedAccount]) -> Result<Vec<Imported>, StoreError>;
    /// The account's imported attributes (empty for most accounts).
    fn account_attributes(&self, account: &AccountId) -> Result<BTreeMap<String, String>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Argon2Params;

    fn pool() -> HashPool {
        HashPool::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }, 1).unwrap()
    }

    fn form(email: &str, given: &str, family: &str, password: &str, repeat: &str) -> SignUpForm {
        SignUpForm {
            email: email.into(),
            given_name: given.into(),
            family_name: family.into(),
            password: password.into(),
            repeat: repeat.into(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[tokio::test]
    async fn a_good_form_is_accepted_trimmed() {
        let ok = validate_sign_up(
            &form(" Betty@Example.org ", " Betty ", "Rubble", "Stone-Age-2020", "Stone-Age-2020"),
            &PasswordRules::default(),
            &pool(),
        )
        .await
        .unwrap();
        assert_eq!(ok.email.as_str(), "betty@example.org");
        assert_eq!(ok.given_name, "Betty");
    }

    #[tokio::test]
    async fn every_problem_is_reported_with_its_field() {
        let errors = validate_sign_up(&form("", " ", "", "", "x"), &PasswordRules::default(), &pool())
            .await
            .unwrap_err();
        assert_eq!(fields(&errors), ["email", "given_name", "family_name", "password", "repeat"]);
        assert!(errors[0].message.contains("cannot be left blank"));
    }

    #[tokio::test]
    async fn the_password_rules_apply_including_names_and_common_passwords() {
        let errors = validate_sign_up(
            &form("betty@example.org", "Betty", "Rubble", "rubble", "rubble"),
            &PasswordRules::default(),
            &pool(),
        )
        .await
        .unwrap_err();
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(errors.iter().all(|e| e.field == "password"), "{messages:?}");
        assert!(messages.len() >= 4, "short, no uppercase, no digit, contains a name: {messages:?}");
        let errors = validate_sign_up(
            &form("b@x.org", "B", "R", "Password1", "Password1"),
            &PasswordRules::default(),
            &pool(),
        )
        .await
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
    }

    #[tokio::test]
    async fn a_malformed_email_is_named() {
        let errors = validate_sign_up(
            &form("not-an-email", "B", "R", "Stone-Age-2020", "Stone-Age-2020"),
            &PasswordRules::default(),
            &pool(),
        )
        .await
        .unwrap_err();
        assert_eq!(fields(&errors), ["email"]);
        assert!(errors[0].message.contains("not-an-email"));
    }

    #[test]
    fn a_registration_keeps_only_the_link_hash() {
        let valid = ValidSignUp {
            email: Email::parse("b@x.org").unwrap(),
            given_name: "B".into(),
            family_name: "R".into(),
        };
        let (token, row) = NewRegistration::issue(valid, "$argon2id$…".into(), 100, 86_400);
        assert_eq!(row.code_hash, TokenHash::of(token.expose()));
        assert_eq!(row.expires_at, 86_500);
        assert_eq!(row.display_name(), "B R");
    }
}
