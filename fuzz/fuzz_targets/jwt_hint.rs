//! The JWT decode path for tokens a client hands back: `id_token_hint` at `/authorize`
//! (`oauth::authorize::hint_subject`) and at `/logout` (`oauth::logout::verify_hint`), both
//! through `tokens::KeySet::verify`. The input is either a raw token, or three segments that
//! are base64url-encoded here so that the fuzzer reaches the header and claims parsing.
#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use oauth::ClientId;
use tokens::{Algorithm, ID_TOKEN_TYP, KeySet, SigningKey};

const ISS: &str = "https://id.example.org";

fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let keys =
            [Algorithm::Rs256, Algorithm::Es256].map(|alg| SigningKey::generate(alg, 0).expect("a key"));
        KeySet::from_keys(keys.into()).expect("a key set")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else { return };
    let token = match mode % 3 {
        0 => String::from_utf8_lossy(rest).into_owned(),
        // Header, claims and signature as given, each encoded.
        1 => rest
            .split(|b| *b == 0xFF)
            .take(3)
            .map(|p| URL_SAFE_NO_PAD.encode(p))
            .collect::<Vec<_>>()
            .join("."),
        // A header naming one of our keys, so the claims and signature are reached.
        _ => {
            let key = keys().signer(Algorithm::Es256);
            let header = format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{}"}}"#, key.kid());
            let (claims, sig) = rest.split_at(rest.len() / 2);
            [header.as_bytes(), claims, sig].map(|p| URL_SAFE_NO_PAD.encode(p)).join(".")
        }
    };
    let client = ClientId::from_stored("client-1".to_owned());
    // Nothing the fuzzer makes can be signed by our keys.
    assert!(keys().verify::<serde_json::Value>(&token, ID_TOKEN_TYP, ISS, 0).is_err());
    assert!(oauth::authorize::hint_subject(keys(), ISS, &client, &token).is_err());
    assert!(oauth::logout::verify_hint(keys(), &token, ISS).is_err());
});
