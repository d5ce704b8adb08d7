//! Email normalisation (`identity::Email::parse`): one person, one account. Properties: a
//! normalised address is accepted again unchanged, and stays within RFC 5321 §4.5.3.1 limits.
#![no_main]

use identity::Email;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let Ok(email) = Email::parse(input) else { return };
    let normal = email.as_str();
    assert!(normal.len() <= 254, "{} bytes: {normal:?}", normal.len());
    assert!(email.local_part().len() <= 64, "local part of {normal:?}");
    assert_eq!(Email::parse(normal).as_ref(), Ok(&email), "normalising {input:?} twice");
});
