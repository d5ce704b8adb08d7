//! Showing an address without giving it away, as the identifier-first sign-in guide does on
//! "Verify it's you with a security method" (`o***e@gmail.com`).

/// Masks an address: the first and last character of the local part around `***`, the domain
/// kept (`oledivaladymae@gmail.com` -> `o***e@gmail.com`). A local part of one or two characters
/// shows only its first (`jo@x.org` -> `j***@x.org`), so the mask never reveals it whole. Input
/// that is not `local@domain` becomes `***`.
#[must_use]
pub fn mask_email(address: &str) -> String {
    // The last '@' splits: a quoted local part (RFC 5321 §4.1.2) may itself hold an '@'.
    let Some((local, domain)) = address.trim().rsplit_once('@') else {
        return "***".into();
    };
    let chars: Vec<char> = local.chars().collect();
    match chars.as_slice() {
        [] => "***".into(),
        [first] | [first, _] => format!("{first}***@{domain}"),
        [first, .., last] => format!("{first}***{last}@{domain}"),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_email;

    #[test]
    fn masks_like_the_guide() {
        assert_eq!(mask_email("oledivaladymae@gmail.com"), "o***e@gmail.com");
        assert_eq!(mask_email("olemanstevie@gmail.com"), "o***e@gmail.com");
    }

    #[test]
    fn short_local_parts_show_only_the_first_character() {
        assert_eq!(mask_email("jo@example.org"), "j***@example.org");
        assert_eq!(mask_email("j@example.org"), "j***@example.org");
        assert_eq!(mask_email("abc@example.org"), "a***c@example.org");
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(mask_email("élodie@exemple.fr"), "é***e@exemple.fr");
        assert_eq!(mask_email("ñá@x.es"), "ñ***@x.es");
    }

    #[test]
    fn splits_on_the_last_at_sign() {
        assert_eq!(mask_email("\"a@b\"@example.org"), "\"***\"@example.org");
    }

    #[test]
    fn non_addresses_are_fully_masked() {
        assert_eq!(mask_email("no-at-sign"), "***");
        assert_eq!(mask_email("@example.org"), "***");
        assert_eq!(mask_email(""), "***");
    }
}
