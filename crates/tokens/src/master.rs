//! The master key: seals private signing keys at rest (AES-256-GCM) and derives subkeys
//! (HKDF-SHA256) such as the CSRF HMAC key, so an operator configures one secret.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::{hkdf, rand};
use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::TokenError;

const KEY_LEN: usize = 32;

/// A 256-bit AES-GCM key. `Debug` prints nothing secret.
#[derive(Clone)]
pub struct MasterKey([u8; KEY_LEN]);

impl MasterKey {
    /// 32 bytes from the system RNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        #[expect(clippy::expect_used, reason = "the OS random source does not fail in practice")]
        rand::fill(&mut bytes).expect("system random number generator");
        Self(bytes)
    }

    /// Accepts standard or url-safe base64, padded or not, surrounding whitespace ignored.
    pub fn from_base64(s: &str) -> Result<Self, TokenError> {
        let s = s.trim();
        let config = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
        let engine = if s.contains(['-', '_']) {
            GeneralPurpose::new(&alphabet::URL_SAFE, config)
        } else {
            GeneralPurpose::new(&alphabet::STANDARD, config)
        };
        let bytes = engine.decode(s).map_err(|_| TokenError::InvalidMasterKey("not valid base64"))?;
        let bytes: [u8; KEY_LEN] =
            bytes.try_into().map_err(|_| TokenError::InvalidMasterKey("wrong length"))?;
        Ok(Self(bytes))
    }

    /// Standard base64 with padding (44 characters), as `openssl rand -base64 32` prints.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn aead(&self) -> RandomizedNonceKey {
        #[expect(clippy::expect_used, reason = "a 32-byte key is always valid for AES-256-GCM")]
        RandomizedNonceKey::new(&AES_256_GCM, &self.0).expect("AES-256-GCM key")
    }

    /// Encrypts with a fresh random 96-bit nonce; returns nonce ‖ ciphertext ‖ tag.
    /// `aad` binds the ciphertext to its context (e.g. the key's `kid`).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut in_out = plaintext.to_vec();
        #[expect(
            clippy::expect_used,
            reason = "sealing fails only if the RNG fails or the input exceeds GCM's 64 GiB limit"
        )]
        let nonce = self.aead().seal_in_place_append_tag(Aad::from(aad), &mut in_out).expect("AES-GCM seal");
        let mut sealed = Vec::with_capacity(NONCE_LEN + in_out.len());
        sealed.extend_from_slice(nonce.as_ref());
        sealed.extend_from_slice(&in_out);
        sealed
    }

    /// Reverses [`MasterKey::seal`]; fails on a wrong key, wrong `aad` or any modification.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, TokenError> {
        if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(TokenError::Unseal);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| TokenError::Unseal)?;
        let mut in_out = ciphertext.to_vec();
        let plaintext =
            self.aead().open_in_place(nonce, Aad::from(aad), &mut in_out).map_err(|_| TokenError::Unseal)?;
        Ok(plaintext.to_vec())
    }

    /// A 32-byte subkey for one purpose, named by `label` (HKDF-SHA256, RFC 5869). No salt is
    /// needed: the master key is already uniformly random (RFC 5869 §3.1); `label` is the info.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(&self.0);
        let info = [label.as_bytes()];
        let mut out = [0u8; 32];
        #[expect(clippy::expect_used, reason = "32 bytes is far below HKDF-SHA256's 8160-byte limit")]
        prk.expand(&info, hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut out))
            .expect("HKDF expand of 32 bytes");
        out
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

    #[test]
    fn seal_open_round_trip() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"private key", b"kid-1");
        assert_eq!(sealed.len(), 12 + 11 + 16);
        assert_eq!(key.open(&sealed, b"kid-1").unwrap(), b"private key");
        // Fresh nonce per seal.
        assert_ne!(key.seal(b"private key", b"kid-1"), sealed);
    }

    #[test]
    fn open_rejects_wrong_aad_tampering_wrong_key_and_truncation() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"private key", b"kid-1");
        assert!(matches!(key.open(&sealed, b"kid-2"), Err(TokenError::Unseal)));
        for i in [0, 12, sealed.len() - 1] {
            let mut tampered = sealed.clone();
            tampered[i] ^= 1;
            assert!(matches!(key.open(&tampered, b"kid-1"), Err(TokenError::Unseal)));
        }
        assert!(MasterKey::generate().open(&sealed, b"kid-1").is_err());
        assert!(key.open(&sealed[..20], b"kid-1").is_err());
    }

    #[test]
    fn base64_forms_are_accepted_and_round_trip() {
        let key = MasterKey::generate();
        let b64 = key.to_base64();
        assert_eq!(b64.len(), 44);
        assert_eq!(MasterKey::from_base64(&b64).unwrap().0, key.0);
        // A key whose encoding contains url-safe characters, in every form.
        let bytes = [0xfbu8; 32];
        for s in [
            STANDARD.encode(bytes),
            URL_SAFE.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
            format!(" {}\n", STANDARD.encode(bytes)),
        ] {
            assert_eq!(MasterKey::from_base64(&s).unwrap().0, bytes, "{s}");
        }
    }

    #[test]
    fn bad_master_keys_are_rejected_with_a_clear_message() {
        let short = STANDARD.encode([1u8; 16]);
        let err = MasterKey::from_base64(&short).unwrap_err();
        assert!(err.to_string().contains("exactly 32 bytes"), "{err}");
        assert!(MasterKey::from_base64("not base64!").is_err());
        assert!(MasterKey::from_base64(&STANDARD.encode([1u8; 33])).is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let key = MasterKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "MasterKey(..)");
    }

    #[test]
    fn derive_is_deterministic_and_label_separated() {
        let key = MasterKey::generate();
        assert_eq!(key.derive("csrf"), key.derive("csrf"));
        assert_ne!(key.derive("csrf"), key.derive("other"));
        assert_ne!(MasterKey::generate().derive("csrf"), key.derive("csrf"));
        assert_ne!(key.derive("csrf"), key.0);
    }

    #[test]
    fn derive_matches_rfc5869_hkdf_sha256() {
        // Independent check: HKDF with an empty salt is HMAC(HMAC(zeros, ikm), info ‖ 0x01).
        use aws_lc_rs::hmac;
        let key = MasterKey::from_base64(&STANDARD.encode([0x0bu8; 32])).unwrap();
        let prk = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &[0u8; 32]), &key.0);
        let okm = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref()), b"csrf\x01");
        assert_eq!(key.derive("csrf").as_slice(), okm.as_ref());
    }
}
