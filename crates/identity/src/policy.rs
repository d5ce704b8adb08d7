//! The password policy citizens already know from the ATLCORE guide ("Reset your password",
//! "Password requirements"): at least 8 characters, a lowercase letter, an uppercase letter, a
//! number, no parts of the username. Every part is configurable. The guide's last rule, "none of
//! your last 10 passwords", needs the stored history and lives with it in
//! [`PasswordRules`](crate::PasswordRules), as does the common-password check.

use std::fmt;

use crate::Email;

/// The password policy. Defaults follow the guides: 8 characters, a lowercase letter, an
/// uppercase letter, a number, no part of the username.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Fewest characters (Unicode scalar values, not bytes); 0 disables the rule. Default 8.
    pub min_length: usize,
    /// Require a lowercase letter. Default true.
    pub require_lowercase: bool,
    /// Require an uppercase letter. Default true.
    pub require_uppercase: bool,
    /// Require a number (any Unicode numeric character). Default true.
    pub require_digit: bool,
    /// Reject passwords containing a 3+ character part of the email's local part or of a name.
    /// Default true.
    pub forbid_username_parts: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            require_lowercase: true,
            require_uppercase: true,
            require_digit: true,
            forbid_username_parts: true,
        }
    }
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort {
        min: usize,
    },
    NoLowercase,
    NoUppercase,
    NoDigit,
    ContainsUsernamePart,
    /// Found in the shipped list of the most common passwords ([`PasswordRules`](crate::PasswordRules)).
    Common,
    /// The same as one of the account's last `depth` passwords ([`PasswordRules`](crate::PasswordRules)).
    Reused {
        depth: usize,
    },
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { min } => {
                write!(f, "Password must be at least {min} {}.", characters(*min))
            }
            Self::NoLowercase => f.write_str("Password must contain a lowercase letter."),
            Self::NoUppercase => f.write_str("Password must contain an uppercase letter."),
            Self::NoDigit => f.write_str("Password must contain a number."),
            Self::ContainsUsernamePart => f.write_str("Password must not contain parts of your username."),
            Self::Common => f.write_str("Password is too common; choose one that is harder to guess."),
            Self::Reused { depth: 1 } => f.write_str("Password must not be your current password."),
            Self::Reused { depth } => write!(f, "Password must not be one of your last {depth} passwords."),
        }
    }
}

/// Parts shorter than this are too common ("a", "jo") to forbid.
const MIN_USERNAME_PART: usize = 3;

impl PasswordPolicy {
    /// Every rule `password` breaks, in the order of [`rules`](Self::rules); empty means
    /// acceptable. Username parts: the email's local part and each name are split on
    /// non-alphanumeric characters; any part of 3+ characters found in the password, ignoring
    /// case, fails.
    pub fn violations(&self, password: &str, email: &Email, names: &[&str]) -> Vec<PolicyViolation> {
        let mut broken = Vec::new();
        if password.chars().count() < self.min_length {
            broken.push(PolicyViolation::TooShort { min: self.min_length });
        }
        if self.require_lowercase && !password.chars().any(char::is_lowercase) {
            broken.push(PolicyViolation::NoLowercase);
        }
        if self.require_uppercase && !password.chars().any(char::is_uppercase) {
            broken.push(PolicyViolation::NoUppercase);
        }
        if self.require_digit && !password.chars().any(char::is_numeric) {
            broken.push(PolicyViolation::NoDigit);
        }
        if self.forbid_username_parts && contains_username_part(password, email, names) {
            broken.push(PolicyViolation::ContainsUsernamePart);
        }
        broken
    }

    /// The rules as sentences for pages to list before the citizen types, in the guide's
    /// wording ("At least 8 characters", "A lowercase letter", …). Disabled rules are left out.
    pub fn rules(&self) -> Vec<String> {
        let mut rules = Vec::new();
        if self.min_length > 0 {
            rules.push(format!("At least {} {}", self.min_length, characters(self.min_length)));
        }
        if self.require_lowercase {
            rules.push("A lowercase letter".to_owned());
        }
        if self.require_uppercase {
            rules.push("An uppercase letter".to_owned());
        }
        if self.require_digit {
            rules.push("A number".to_owned());
        }
        if self.forbid_username_parts {
            rules.push("No parts of your username".to_owned());
        }
        rules
    }
}

fn characters(n: usize) -> &'static str {
    if n == 1 { "character" } else { "characters" }
}

fn contains_username_part(password: &str, email: &Email, names: &[&str]) -> bool {
    let password = password.to_lowercase();
    std::iter::once(email.local_part())
        .chain(names.iter().copied())
        .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()))
        .filter(|part| part.chars().count() >= MIN_USERNAME_PART)
        .any(|part| password.contains(&part.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use PolicyViolation::*;

    fn email() -> Email {
        Email::parse("ole.mae-diva@x.org").unwrap()
    }

    fn check(policy: &PasswordPolicy, password: &str) -> Vec<PolicyViolation> {
        policy.violations(password, &email(), &["Ole Mae"])
    }

    #[test]
    fn a_password_meeting_every_rule_is_accepted() {
        assert_eq!(check(&PasswordPolicy::default(), "Tr0ub4dor&3"), vec![]);
    }

    #[test]
    fn length_rule() {
        let policy = PasswordPolicy::default();
        assert_eq!(check(&policy, "Abcdef1"), vec![TooShort { min: 8 }]);
        assert_eq!(check(&policy, "Abcdefg1"), vec![]);
        // Characters, not bytes: 7 characters of 2 bytes each are still too short.
        assert_eq!(check(&policy, "Ééééé1é"), vec![TooShort { min: 8 }]);
        let policy = PasswordPolicy { min_length: 12, ..PasswordPolicy::default() };
        assert_eq!(check(&policy, "Abcdefghij1"), vec![TooShort { min: 12 }]);
        assert_eq!(check(&policy, "Abcdefghijk1"), vec![]);
    }

    #[test]
    fn lowercase_rule() {
        let policy = PasswordPolicy::default();
        assert_eq!(check(&policy, "ABCDEFG1"), vec![NoLowercase]);
        let off = PasswordPolicy { require_lowercase: false, ..policy };
        assert_eq!(check(&off, "ABCDEFG1"), vec![]);
    }

    #[test]
    fn uppercase_rule() {
        let policy = PasswordPolicy::default();
        assert_eq!(check(&policy, "abcdefg1"), vec![NoUppercase]);
        let off = PasswordPolicy { require_uppercase: false, ..policy };
        assert_eq!(check(&off, "abcdefg1"), vec![]);
    }

    #[test]
    fn digit_rule() {
        let policy = PasswordPolicy::default();
        assert_eq!(check(&policy, "Abcdefgh"), vec![NoDigit]);
        let off = PasswordPolicy { require_digit: false, ..policy };
        assert_eq!(check(&off, "Abcdefgh"), vec![]);
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        assert_eq!(
            check(&PasswordPolicy::default(), "ole"),
            vec![TooShort { min: 8 }, NoUppercase, NoDigit, ContainsUsernamePart]
        );
        assert_eq!(
            check(&PasswordPolicy::default(), "!!"),
            vec![TooShort { min: 8 }, NoLowercase, NoUppercase, NoDigit]
        );
    }

    #[test]
    fn username_parts_come_from_the_local_part_split_on_punctuation() {
        let policy = PasswordPolicy::default();
        for containing in ["Xdiva2024", "zzOLE.Zz9", "Bigmae123", "Ole.Mae-Diva9"] {
            let none: &[&str] = &[];
            assert_eq!(
                policy.violations(containing, &email(), none),
                vec![ContainsUsernamePart],
                "{containing}"
            );
        }
    }

    #[test]
    fn username_parts_come_from_names_too() {
        let policy = PasswordPolicy::default();
        let email = Email::parse("zz@x.org").unwrap();
        assert_eq!(policy.violations("Rubble2020x", &email, &["Betty Rubble"]), vec![ContainsUsernamePart]);
        assert_eq!(policy.violations("Rubble2020x", &email, &["Barney"]), vec![]);
    }

    #[test]
    fn username_parts_under_three_characters_are_ignored() {
        let policy = PasswordPolicy::default();
        let email = Email::parse("jo.li-x@example.org").unwrap();
        assert_eq!(policy.violations("JoLi-x99", &email, &["Al Bo"]), vec![]);
        // The domain is not part of the username.
        assert_eq!(policy.violations("Example99", &email, &[]), vec![]);
    }

    #[test]
    fn username_rule_can_be_disabled() {
        let policy = PasswordPolicy { forbid_username_parts: false, ..PasswordPolicy::default() };
        assert_eq!(check(&policy, "OleMae2024"), vec![]);
    }

    #[test]
    fn default_rules_use_the_guide_wording() {
        assert_eq!(
            PasswordPolicy::default().rules(),
            vec![
                "At least 8 characters",
                "A lowercase letter",
                "An uppercase letter",
                "A number",
                "No parts of your username",
            ]
        );
    }

    #[test]
    fn rules_follow_the_configuration() {
        let policy = PasswordPolicy {
            min_length: 12,
            require_uppercase: false,
            forbid_username_parts: false,
            ..PasswordPolicy::default()
        };
        assert_eq!(policy.rules(), vec!["At least 12 characters", "A lowercase letter", "A number"]);
        let none = PasswordPolicy {
            min_length: 0,
            require_lowercase: false,
            require_uppercase: false,
            require_digit: false,
            forbid_username_parts: false,
        };
        assert!(none.rules().is_empty());
        assert_eq!(none.violations("", &email(), &[]), vec![]);
    }

    #[test]
    fn violations_read_as_sentences() {
        assert_eq!(TooShort { min: 8 }.to_string(), "Password must be at least 8 characters.");
        assert_eq!(TooShort { min: 1 }.to_string(), "Password must be at least 1 character.");
        assert_eq!(NoDigit.to_string(), "Password must contain a number.");
        assert_eq!(Reused { depth: 10 }.to_string(), "Password must not be one of your last 10 passwords.");
        assert_eq!(Reused { depth: 1 }.to_string(), "Password must not be your current password.");
        assert!(Common.to_string().contains("too common"));
    }

    #[test]
    fn policy_deserializes_with_defaults_and_rejects_unknown_keys() {
        let p: PasswordPolicy = serde_json::from_str(r#"{"min_length": 12}"#).unwrap();
        assert_eq!(p, PasswordPolicy { min_length: 12, ..PasswordPolicy::default() });
        assert!(serde_json::from_str::<PasswordPolicy>(r#"{"min_len": 12}"#).is_err());
    }
}
