//! The password sign-in rule. Responses never reveal whether an email has an account
//! (DESIGN.md, "Accounts"): an unknown email, an account without a password and a wrong password
//! all cost one argon2 verification and all answer [`SignIn::Invalid`].

use crate::{Account, HashPool};

/// The outcome of a password sign-in. Expected outcomes are values, not errors (STYLE.md);
/// `Locked { until }` joins with the lockout work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignIn {
    Authenticated(Account),
    /// No such account, no password on it, or the wrong password: the citizen is told only that
    /// the email or password is wrong.
    Invalid,
}

/// Checks `password` for `account`, what the email resolved to (`None`: no such account).
/// Always runs exactly one argon2 verification, so "no account" and "wrong password" take the
/// same time and give the same answer.
pub async fn sign_in_with_password(pool: &HashPool, account: Option<Account>, password: &str) -> SignIn {
    let phc = account.as_ref().and_then(|a| a.password_hash.clone());
    let matches = pool.verify(password.to_owned(), phc).await;
    match account {
        Some(account) if matches => SignIn::Authenticated(account),
        _ => SignIn::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::tests::{cheap_pool, started};
    use crate::{AccountId, Email};

    async fn account(pool: &HashPool, password: Option<&str>) -> Account {
        let password_hash = match password {
            Some(p) => Some(pool.hash(p.to_owned()).await.unwrap()),
            None => None,
        };
        Account {
            id: AccountId::generate(),
            email: Email::parse("betty@x.org").unwrap(),
            email_verified: true,
            name: None,
            given_name: None,
            family_name: None,
            phone_number: None,
            password_hash,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[tokio::test]
    async fn right_password_authenticates() {
        let pool = cheap_pool();
        let betty = account(&pool, Some("Rubble2020!")).await;
        let before = started(&pool);
        let outcome = sign_in_with_password(&pool, Some(betty.clone()), "Rubble2020!").await;
        assert_eq!(outcome, SignIn::Authenticated(betty));
        assert_eq!(started(&pool) - before, 1);
    }

    #[tokio::test]
    async fn wrong_password_is_invalid() {
        let pool = cheap_pool();
        let betty = account(&pool, Some("Rubble2020!")).await;
        let before = started(&pool);
        assert_eq!(sign_in_with_password(&pool, Some(betty), "rubble2020!").await, SignIn::Invalid);
        assert_eq!(started(&pool) - before, 1);
    }

    #[tokio::test]
    async fn absent_account_is_invalid_after_one_verification() {
        let pool = cheap_pool();
        let before = started(&pool);
        assert_eq!(sign_in_with_password(&pool, None, "Rubble2020!").await, SignIn::Invalid);
        assert_eq!(started(&pool) - before, 1);
    }

    #[tokio::test]
    async fn account_without_password_is_invalid_after_one_verification() {
        let pool = cheap_pool();
        let upstream_only = account(&pool, None).await;
        let before = started(&pool);
        assert_eq!(sign_in_with_password(&pool, Some(upstream_only), "").await, SignIn::Invalid);
        assert_eq!(started(&pool) - before, 1);
    }
}
