//! Request ids: every request gets one, carried on every log line of the request and returned
//! in the `X-Request-Id` response header, so an operator can go from a citizen's complaint (or
//! a proxy's log) to the lines that request wrote.
//!
//! An incoming `X-Request-Id` (set by a load balancer or a calling service) is kept when it is
//! sane: 1 to [`MAX_LEN`] characters from `A-Z a-z 0-9 - _ .`. Anything else (too long, spaces,
//! quotes, control characters, non-ASCII) is replaced by a fresh UUID, so a client cannot
//! inject text into the logs or grow them without bound.

pub const HEADER: &str = "x-request-id";

/// Longest accepted incoming id; a UUID is 36, a W3C trace id 32.
pub const MAX_LEN: usize = 64;

/// The incoming id if it is sane, else a new one.
pub fn accept(incoming: Option<&[u8]>) -> String {
    match incoming {
        Some(bytes) if is_sane(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => generate(),
    }
}

/// A fresh id: a random (v4) UUID.
pub fn generate() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn is_sane(bytes: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_generated(id: &str) -> bool {
        uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 4)
    }

    #[test]
    fn sane_incoming_ids_are_kept() {
        for id in ["abc", "7f1c2a9e-5b1d-4c7e-9a63-0f6f7e1d2c3b", "lb.node-3_000042", &"a".repeat(MAX_LEN)] {
            assert_eq!(accept(Some(id.as_bytes())), id);
        }
    }

    #[test]
    fn missing_or_unsafe_ids_are_replaced_by_a_fresh_uuid() {
        let too_long = "a".repeat(MAX_LEN + 1);
        for bad in [
            "",
            too_long.as_str(),
            "two words",
            "line\nbreak",
            "quote\"d",
            "{\"json\":1}",
            "semi;colon",
            "ünïcode",
            "tab\tbed",
            "a/b",
        ] {
            let id = accept(Some(bad.as_bytes()));
            assert_ne!(id, bad);
            assert!(is_generated(&id), "{bad:?} gave {id}");
        }
        assert!(is_generated(&accept(Some(&[0xff, 0xfe]))));
        assert!(is_generated(&accept(None)));
    }

    #[test]
    fn generated_ids_differ() {
        assert_ne!(generate(), generate());
    }
}
