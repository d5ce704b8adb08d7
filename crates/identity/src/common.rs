//! The "not a common password" rule: a shipped list of the 10,000 most common passwords
//! (`data/common-passwords.txt`, lower-cased, from the zxcvbn crate's frequency list), embedded
//! in the binary and parsed into a `HashSet` the first time it is needed.
//!
//! Why a list and not the zxcvbn crate: zxcvbn estimates guessability with dictionaries, keyboard
//! patterns and regexes (≈1 MB of tables, regex and time dependencies), and answers a score, not
//! a rule a citizen can read. The rule the city wants is the NIST SP 800-63B §5.1.1.2 one —
//! "compare against a list of commonly-used passwords" — and 80 KB of text checks it in one
//! hash look-up.

use std::collections::HashSet;
use std::sync::LazyLock;

static LIST: &str = include_str!("../data/common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| LIST.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect());

/// Whether `password` is on the list, ignoring case: the composition rules already force an
/// uppercase letter, so "Password1" must be caught as "password1".
pub(crate) fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_loaded_whole_without_comments() {
        assert_eq!(COMMON.len(), 10_000);
        assert!(COMMON.iter().all(|p| !p.starts_with('#') && *p == p.to_lowercase()));
    }

    #[test]
    fn common_passwords_are_caught_ignoring_case() {
        for common in ["123456", "password", "Password1", "QWERTY123", "Welcome1", "passw0rd"] {
            assert!(is_common(common), "{common}");
        }
    }

    #[test]
    fn uncommon_passwords_pass() {
        for rare in ["Tr0ub4dor&3", "Rubble2020!", "correct horse battery staple", ""] {
            assert!(!is_common(rare), "{rare}");
        }
    }
}
