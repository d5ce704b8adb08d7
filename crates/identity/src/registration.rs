//! Creating an account (`gatehouse user create`, and later sign-up): parse the email, check the
//! password policy, hash on the pool. Storing the result is the caller's
//! ([`AccountStore::create_account`](crate::AccountStore::create_account)).

use std::fmt;

use crate::{
    AccountId, Email, EmailError, HashPool, NewAccount, PasswordError, PasswordPolicy, PolicyViolation,
};

/// What a new account is made from. The password is optional: accounts that sign in upstream or
/// by code have none.
#[derive(Clone)]
pub struct AccountRegistration {
    pub email: String,
    pub password: Option<String>,
    pub name: Option<String>,
    pub email_verified: bool,
}

// The password must never reach a log.
impl fmt::Debug for AccountRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountRegistration")
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name)
            .field("email_verified", &self.email_verified)
            .finish()
    }
}

/// Why an account could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error(transparent)]
    Email(#[from] EmailError),
    /// Every broken rule, so the citizen can fix them all at once.
    #[error("password rejected: {}", joined(.0))]
    WeakPassword(Vec<PolicyViolation>),
    #[error("could not hash the password")]
    Hashing(#[from] PasswordError),
}

fn joined(violations: &[PolicyViolation]) -> String {
    violations.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}

impl AccountRegistration {
    /// Validates and hashes into a [`NewAccount`] with a new id, created at `now` (unix seconds).
    /// The name is trimmed (empty means none); given and family names stay unset for now.
    pub async fn prepare(
        self,
        policy: &PasswordPolicy,
        pool: &HashPool,
        now: i64,
    ) -> Result<NewAccount, RegistrationError> {
        let email = Email::parse(&self.email)?;
        let name = self.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        let password_hash = match self.password {
            Some(password) => {
                let names: Vec<&str> = name.as_deref().into_iter().collect();
                let violations = policy.violations(&password, &email, &names);
                if !violations.is_empty() {
                    return Err(RegistrationError::WeakPassword(violations));
                }
                Some(pool.hash(password).await?)
            }
            None => None,
        };
        Ok(NewAccount {
            id: AccountId::generate(),
            email,
            email_verified: self.email_verified,
            name,
            given_name: None,
            family_name: None,
            phone_number: None,
            password_hash,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::tests::cheap_pool;
    use PolicyViolation::*;

    fn registration(email: &str, password: Option<&str>, name: Option<&str>) -> AccountRegistration {
        AccountRegistration {
            email: email.to_owned(),
            password: password.map(str::to_owned),
            name: name.map(str::to_owned),
            email_verified: true,
        }
    }

    #[tokio::test]
    async fn a_good_registration_produces_a_verifying_hash() {
        let pool = cheap_pool();
        let new = registration(" Betty@X.org ", Some("Tr0ub4dor&3"), Some("  Betty Rubble "))
            .prepare(&PasswordPolicy::default(), &pool, 1_700_000_000)
            .await
            .unwrap();
        assert_eq!(new.email.as_str(), "betty@x.org");
        assert_eq!(new.name.as_deref(), Some("Betty Rubble"));
        assert!(new.email_verified);
        assert_eq!(new.created_at, 1_700_000_000);
        assert_eq!((new.given_name, new.family_name), (None, None));
        assert!(!new.id.as_str().is_empty());
        let phc = new.password_hash.unwrap();
        assert!(pool.verify("Tr0ub4dor&3".into(), Some(phc.clone())).await);
        assert!(!pool.verify("tr0ub4dor&3".into(), Some(phc)).await);
    }

    #[tokio::test]
    async fn a_bad_email_is_rejected() {
        let pool = cheap_pool();
        let err = registration("not-an-email", Some("Tr0ub4dor&3"), None)
            .prepare(&PasswordPolicy::default(), &pool, 0)
            .await
            .unwrap_err();
        assert!(matches!(err, RegistrationError::Email(EmailError::Invalid(_))), "{err:?}");
    }

    #[tokio::test]
    async fn a_weak_password_is_rejected_with_every_violation() {
        let pool = cheap_pool();
        let err = registration("betty@x.org", Some("rubble"), Some("Betty Rubble"))
            .prepare(&PasswordPolicy::default(), &pool, 0)
            .await
            .unwrap_err();
        let RegistrationError::WeakPassword(violations) = &err else {
            panic!("expected WeakPassword, got {err:?}");
        };
        assert_eq!(violations, &vec![TooShort { min: 8 }, NoUppercase, NoDigit, ContainsUsernamePart]);
        assert_eq!(
            err.to_string(),
            "password rejected: Password must be at least 8 characters. Password must contain an \
             uppercase letter. Password must contain a number. Password must not contain parts of \
             your username."
        );
    }

    #[tokio::test]
    async fn no_password_and_a_blank_name_give_none() {
        let pool = cheap_pool();
        let new = registration("betty@x.org", None, Some("   "))
            .prepare(&PasswordPolicy::default(), &pool, 0)
            .await
            .unwrap();
        assert_eq!((new.password_hash, new.name), (None, None));
    }

    #[test]
    fn debug_hides_the_password() {
        let text = format!("{:?}", registration("betty@x.org", Some("Secret123"), None));
        assert!(!text.contains("Secret123"), "{text}");
    }
}
