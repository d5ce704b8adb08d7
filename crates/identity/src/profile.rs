//! The citizen's profile (first-edition guide, step 16: "My Profile", "Edit profile info",
//! "Delete profile"; 311 guide, step 9: name, display name, phone number): the four fields a
//! citizen may change, their validation, and the store that changes them or deletes the account.
//!
//! Validation trims every field and treats an empty one as "not set". Each field reports at most
//! one problem, as one sentence the page shows beside it.

use std::fmt;

use crate::{Account, AccountId, StoreError};

/// The longest name or phone number kept, in characters.
pub const MAX_FIELD_CHARS: usize = 100;
/// How many digits a phone number has: 7 (a local number) to 20 (E.164's 15, plus extensions).
pub const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 7..=20;

/// The profile fields as they will be stored: trimmed, `None` when left empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    /// The display name (`name` claim).
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone_number: Option<String>,
}

/// A field of the profile, named as its OpenID Connect claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileField {
    Name,
    GivenName,
    FamilyName,
    PhoneNumber,
}

impl ProfileField {
    pub const ALL: [ProfileField; 4] =
        [ProfileField::GivenName, ProfileField::FamilyName, ProfileField::Name, ProfileField::PhoneNumber];

    /// The claim name (OIDC Core §5.1), also what the audit trail records.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileField::Name => "name",
            ProfileField::GivenName => "given_name",
            ProfileField::FamilyName => "family_name",
            ProfileField::PhoneNumber => "phone_number",
        }
    }

    /// The label on the page.
    pub fn label(self) -> &'static str {
        match self {
            ProfileField::Name => "Display name",
            ProfileField::GivenName => "Given name",
            ProfileField::FamilyName => "Family name",
            ProfileField::PhoneNumber => "Phone number",
        }
    }
}

/// What is wrong with one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileProblem {
    TooLong,
    /// A line break, tab or other control character.
    ControlCharacter,
    /// A phone number character other than digits, spaces and `+ - ( ) .`.
    PhoneCharacters,
    /// A phone number with fewer than 7 or more than 20 digits.
    PhoneDigits,
}

/// One field's problem; its `Display` is the sentence shown beside the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileViolation {
    pub field: ProfileField,
    pub problem: ProfileProblem,
}

impl fmt::Display for ProfileViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = self.field.label();
        match self.problem {
            ProfileProblem::TooLong => write!(f, "{label} must be at most {MAX_FIELD_CHARS} characters."),
            ProfileProblem::ControlCharacter => write!(f, "{label} must be on one line."),
            ProfileProblem::PhoneCharacters => {
                write!(f, "{label} may contain only digits, spaces and the characters + - ( ) .")
            }
            ProfileProblem::PhoneDigits => write!(
                f,
                "{label} must have between {} and {} digits.",
                PHONE_DIGITS.start(),
                PHONE_DIGITS.end()
            ),
        }
    }
}

impl ProfileUpdate {
    /// Validates the form's four fields as typed. Every field's problem is reported at once, so
    /// the citizen can fix them all; nothing is stored unless there are none.
    pub fn parse(
        name: &str,
        given_name: &str,
        family_name: &str,
        phone_number: &str,
    ) -> Result<ProfileUpdate, Vec<ProfileViolation>> {
        let mut violations = Vec::new();
        let mut field = |field: ProfileField, raw: &str| match check(field, raw) {
            Ok(value) => value,
            Err(problem) => {
                violations.push(ProfileViolation { field, problem });
                None
            }
        };
        let update = ProfileUpdate {
            given_name: field(ProfileField::GivenName, given_name),
            family_name: field(ProfileField::FamilyName, family_name),
            name: field(ProfileField::Name, name),
            phone_number: field(ProfileField::PhoneNumber, phone_number),
        };
        if violations.is_empty() { Ok(update) } else { Err(violations) }
    }

    /// The fields whose value differs from `account`'s, in [`ProfileField::ALL`] order.
    pub fn changed_fields(&self, account: &Account) -> Vec<ProfileField> {
        ProfileField::ALL.into_iter().filter(|&f| self.get(f) != current(account, f)).collect()
    }

    pub fn get(&self, field: ProfileField) -> Option<&str> {
        match field {
            ProfileField::Name => self.name.as_deref(),
            ProfileField::GivenName => self.given_name.as_deref(),
            ProfileField::FamilyName => self.family_name.as_deref(),
            ProfileField::PhoneNumber => self.phone_number.as_deref(),
        }
    }
}

fn current(account: &Account, field: ProfileField) -> Option<&str> {
    match field {
        ProfileField::Name => account.name.as_deref(),
        ProfileField::GivenName => account.given_name.as_deref(),
        ProfileField::FamilyName => account.family_name.as_deref(),
        ProfileField::PhoneNumber => account.phone_number.as_deref(),
    }
}

/// One field: trimmed, empty is `None`, then the first rule it breaks.
fn check(field: ProfileField, raw: &str) -> Result<Option<String>, ProfileProblem> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(ProfileProblem::TooLong);
    }
    if value.chars().any(char::is_control) {
        return Err(ProfileProblem::ControlCharacter);
    }
    if field == ProfileField::PhoneNumber {
        if !value.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.')) {
            return Err(ProfileProblem::PhoneCharacters);
        }
        if !PHONE_DIGITS.contains(&value.chars().filter(char::is_ascii_digit).count()) {
            return Err(ProfileProblem::PhoneDigits);
        }
    }
    Ok(Some(value.to_owned()))
}

/// Changing and deleting accounts from the profile pages. Implemented by the `store` crate; each
/// method is one transaction.
pub trait ProfileStore {
    /// Sets the account's four profile fields to `update`'s (`None` clears one) and its
    /// `updated_at` to `now`. Returns the account as stored afterwards; `None` when there is no
    /// such account (deleted meanwhile).
    fn update_profile(
        &self,
        account: &AccountId,
        update: &ProfileUpdate,
        now: i64,
    ) -> Result<Option<Account>, StoreError>;

    /// Deletes the account and everything that hangs off it: sessions, one-time codes, pending
    /// authorization codes, lockout state and password history. Its email is free to register
    /// again afterwards; audit events stay ([`AuditStore`](crate::AuditStore)). `false` when
    /// there was no such account.
    fn delete_account(&self, account: &AccountId) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Email;
    use ProfileField::*;
    use ProfileProblem::*;

    fn problems(name: &str, given: &str, family: &str, phone: &str) -> Vec<(ProfileField, ProfileProblem)> {
        ProfileUpdate::parse(name, given, family, phone)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| (v.field, v.problem))
            .collect()
    }

    fn phone(raw: &str) -> Vec<(ProfileField, ProfileProblem)> {
        problems("", "", "", raw)
    }

    #[test]
    fn fields_are_trimmed_and_empty_means_not_set() {
        let update = ProfileUpdate::parse("  Betty Rubble2020 ", " Betty", "   ", "").unwrap();
        assert_eq!(
            update,
            ProfileUpdate {
                name: Some("Betty Rubble2020".into()),
                given_name: Some("Betty".into()),
                family_name: None,
                phone_number: None,
            }
        );
    }

    #[test]
    fn names_up_to_one_hundred_characters_are_kept() {
        let hundred = "é".repeat(100);
        let update = ProfileUpdate::parse(&hundred, "", "", "").unwrap();
        assert_eq!(update.name.as_deref(), Some(hundred.as_str()), "characters, not bytes");
        assert_eq!(problems(&format!("{hundred}x"), "", "", ""), vec![(Name, TooLong)]);
    }

    #[test]
    fn names_must_be_on_one_line() {
        assert_eq!(
            problems("", "Bet\nty", "Rub\tble", ""),
            vec![(GivenName, ControlCharacter), (FamilyName, ControlCharacter)]
        );
    }

    #[test]
    fn common_phone_formats_are_accepted() {
        for ok in ["404-546-0311", "(404) 546-0311", "+1 404.546.0311", "4045460", "+44 20 7946 0958 1234"] {
            let update = ProfileUpdate::parse("", "", "", &format!(" {ok} ")).unwrap();
            assert_eq!(update.phone_number.as_deref(), Some(ok));
        }
    }

    #[test]
    fn phone_numbers_have_only_phone_characters() {
        for bad in ["404-546-0311 ext 2", "404/546/0311", "call me", "４０４５４６０３１１"] {
            assert_eq!(phone(bad), vec![(PhoneNumber, PhoneCharacters)], "{bad}");
        }
    }

    #[test]
    fn phone_numbers_have_seven_to_twenty_digits() {
        assert_eq!(phone("546-031"), vec![(PhoneNumber, PhoneDigits)]);
        assert_eq!(phone(&"1".repeat(21)), vec![(PhoneNumber, PhoneDigits)]);
        assert_eq!(phone("+ ( ) - ."), vec![(PhoneNumber, PhoneDigits)]);
        assert!(phone(&"1".repeat(20)).is_empty());
        assert!(phone("5460311").is_empty());
    }

    #[test]
    fn every_field_reports_its_own_problem_in_one_sentence() {
        let long = "x".repeat(101);
        let violations = ProfileUpdate::parse(&long, &long, "Rubble", "12").unwrap_err();
        let sentences: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert_eq!(
            sentences,
            [
                "Given name must be at most 100 characters.",
                "Display name must be at most 100 characters.",
                "Phone number must have between 7 and 20 digits.",
            ]
        );
        assert_eq!(
            phone("404 546 0311!")[0],
            (PhoneNumber, PhoneCharacters),
            "one problem per field, the character rule first"
        );
        assert_eq!(
            ProfileViolation { field: PhoneNumber, problem: PhoneCharacters }.to_string(),
            "Phone number may contain only digits, spaces and the characters + - ( ) ."
        );
    }

    #[test]
    fn changed_fields_compare_with_the_stored_account() {
        let account = Account {
            id: AccountId::from_stored("a".into()),
            email: Email::parse("betty@x.org").unwrap(),
            email_verified: true,
            name: Some("Betty".into()),
            given_name: Some("Betty".into()),
            family_name: None,
            phone_number: Some("404-546-0311".into()),
            password_hash: None,
            created_at: 0,
            updated_at: 0,
        };
        let same = ProfileUpdate::parse(" Betty ", "Betty", "", "404-546-0311").unwrap();
        assert!(same.changed_fields(&account).is_empty());
        let changed = ProfileUpdate::parse("Betty Rubble2020", "Betty", "Rubble", "").unwrap();
        assert_eq!(changed.changed_fields(&account), vec![FamilyName, Name, PhoneNumber]);
    }
}
