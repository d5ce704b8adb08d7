//! Accounts: an email is the username (DESIGN.md, "Accounts").

use serde::Serialize;

/// The stable, opaque account id; it is the `sub` claim. A UUID v4, never reassigned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }
    /// Wraps an id read from storage or a token.
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, trimmed and lower-cased so that one person has one account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("an email address is required")]
    Empty,
    #[error("\"{0}\" is not an email address")]
    Invalid(String),
}

impl Email {
    /// Accepts `local@domain` with a dot-free-or-dotted domain, no spaces, at most 254 characters
    /// (RFC 5321 §4.5.3.1.3). Deliverability is proved by the verification email, not here.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        let invalid = || EmailError::Invalid(s.to_owned());
        // The limits hold for the address as stored: lower-casing can lengthen it ('İ' is two
        // bytes, "i̇" three), and an address must normalise to itself when parsed again.
        let normal = s.to_lowercase();
        if normal.len() > 254 || normal.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = normal.rsplit_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || local.len() > 64
            || domain.is_empty()
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
            || domain.contains('@')
        {
            return Err(invalid());
        }
        Ok(Self(normal))
    }

    /// Wraps an address read from storage (already normalised).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`, used by the password policy's "no part of the username" rule.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or(self.0.as_str(), |(l, _)| l)
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub email: Email,
    pub email_verified: bool,
    /// The display name (`name` claim).
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone_number: Option<String>,
    /// argon2id PHC string; `None` for accounts that sign in only upstream or by code.
    pub password_hash: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// What creating an account needs; the id is chosen by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    pub id: AccountId,
    pub email: Email,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone_number: Option<String>,
    pub password_hash: Option<String>,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let e = Email::parse("  Ole.Mae@Gmail.COM ").unwrap();
        assert_eq!(e.as_str(), "ole.mae@gmail.com");
        assert_eq!(e.local_part(), "ole.mae");
    }

    /// The property fuzz/fuzz_targets/email.rs checks; the input is kept in
    /// fuzz/regressions/email/lengthening-lowercase.
    #[test]
    fn limits_apply_to_the_normalised_address_so_it_parses_again() {
        // 'İ' (2 bytes) lower-cases to "i̇" (3 bytes): 30 of them fit 64 bytes only before.
        let input = format!("{}@example.org", "İ".repeat(30));
        assert!(input.rsplit_once('@').unwrap().0.len() <= 64);
        assert!(Email::parse(&input).is_err());
        let fits = format!("{}@example.org", "İ".repeat(21));
        let email = Email::parse(&fits).unwrap();
        assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
        let long = format!("a@{}.org", "İ".repeat(100));
        assert!(long.len() <= 254 && Email::parse(&long).is_err());
    }

    #[test]
    fn malformed_emails_are_rejected() {
        assert_eq!(Email::parse("  "), Err(EmailError::Empty));
        for bad in ["nobody", "@x.org", "a@", "a b@x.org", "a@x..org", "a@.x.org", "a@x.org."] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
