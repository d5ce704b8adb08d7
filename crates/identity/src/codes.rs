//! One-time codes: emailed links (password reset, unlock, email verification) and typed codes
//! (a 6-digit sign-in code). Issuing is pure: it returns the secret to send and the row to store
//! ([`NewOneTimeCode`]); redeeming is the store's, by the rules in [`crate::redeem`].
//!
//! Secrets at rest (DESIGN.md): a link carries 256 random bits ([`OpaqueToken`]) and is stored as
//! its SHA-256, which is enough for a full-entropy secret. A typed code has only 10⁶ values, so
//! a plain or salted SHA-256 of it is undone offline in a fraction of a second — a salt stops
//! precomputed tables, not a million guesses at one row. Typed codes are therefore stored as
//! HMAC-SHA256 under a server key ([`CodeKey`], derived from the master key, never in the
//! database): a database read alone yields nothing. The MAC input binds the account and the
//! purpose, so a stored hash means nothing on another row.

use std::fmt;

use aws_lc_rs::{hmac, rand};
use tokens::{MasterKey, OpaqueToken, TokenHash};

use crate::AccountId;

/// What a code is for. A code redeems only for the purpose it was issued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// "Forgot password?": a link to set a new password.
    PasswordReset,
    /// "Unlock account?": a link that lifts a lockout.
    Unlock,
    /// Proves the citizen receives mail at the address.
    VerifyEmail,
    /// Signing in with an emailed code instead of a password.
    SignInCode,
}

impl Purpose {
    pub const ALL: [Purpose; 4] = [Self::PasswordReset, Self::Unlock, Self::VerifyEmail, Self::SignInCode];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::Unlock => "unlock",
            Self::VerifyEmail => "verify_email",
            Self::SignInCode => "sign_in_code",
        }
    }

    /// Reads a stored name back.
    pub fn parse(s: &str) -> Option<Purpose> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// How a code reaches the citizen, which decides its hash and whether tries are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// A 256-bit secret in a URL; SHA-256 at rest; looked up by hash.
    Link,
    /// Six digits typed by hand; HMAC at rest; looked up by account and purpose, tries counted.
    Typed,
}

impl CodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Typed => "typed",
        }
    }

    pub fn parse(s: &str) -> Option<CodeKind> {
        [Self::Link, Self::Typed].into_iter().find(|k| k.as_str() == s)
    }
}

/// Lifetimes and tries. Defaults: reset link 1 hour (DESIGN.md), unlock and verification links
/// 24 hours, typed codes 10 minutes and 5 tries.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CodePolicy {
    /// Seconds a password-reset link lives. Default 3600.
    pub reset_link_secs: i64,
    /// Seconds an "Unlock account?" link lives. Default 86400.
    pub unlock_link_secs: i64,
    /// Seconds an email-verification link lives. Default 86400.
    pub verify_email_link_secs: i64,
    /// Seconds a typed code lives, whatever its purpose (a sign-in link too). Default 600.
    pub typed_code_secs: i64,
    /// Wrong entries a typed code survives before it is spent. Default 5.
    pub typed_code_max_tries: u32,
    /// Seconds before another code or link of one purpose may be mailed to one address
    /// ("Resend code"). Default 30.
    pub resend_interval_secs: i64,
    /// Codes and links of one purpose mailed to one address in an hour, at most. Default 5.
    pub sends_per_hour: u32,
}

impl Default for CodePolicy {
    fn default() -> Self {
        Self {
            reset_link_secs: 60 * 60,
            unlock_link_secs: 24 * 60 * 60,
            verify_email_link_secs: 24 * 60 * 60,
            typed_code_secs: 10 * 60,
            typed_code_max_tries: 5,
            resend_interval_secs: 30,
            sends_per_hour: 5,
        }
    }
}

impl CodePolicy {
    /// How often mail of one purpose may go to one address ([`crate::throttle::mail_key`]).
    pub fn mail_throttle(&self) -> crate::ThrottlePolicy {
        crate::ThrottlePolicy {
            min_interval_secs: self.resend_interval_secs,
            max_per_window: self.sends_per_hour,
            window_secs: 60 * 60,
        }
    }

    /// How long a code of `kind` for `purpose` lives.
    pub fn ttl(&self, purpose: Purpose, kind: CodeKind) -> i64 {
        match (kind, purpose) {
            (CodeKind::Typed, _) | (CodeKind::Link, Purpose::SignInCode) => self.typed_code_secs,
            (CodeKind::Link, Purpose::PasswordReset) => self.reset_link_secs,
            (CodeKind::Link, Purpose::Unlock) => self.unlock_link_secs,
            (CodeKind::Link, Purpose::VerifyEmail) => self.verify_email_link_secs,
        }
    }
}

/// A code to store. Only its hash is kept; the secret goes to the citizen and nowhere else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOneTimeCode {
    pub account_id: AccountId,
    pub purpose: Purpose,
    pub kind: CodeKind,
    /// SHA-256 of a link's secret, or HMAC of a typed code ([`CodeKey::hash`]).
    pub code_hash: TokenHash,
    pub created_at: i64,
    /// Redeemable while `now < expires_at`.
    pub expires_at: i64,
}

/// The HMAC key typed codes are stored under. Derive it from the master key so an operator still
/// configures one secret; rotating the master key voids the live typed codes (10 minutes' worth),
/// nothing else. `Debug` prints nothing secret.
pub struct CodeKey(hmac::Key);

impl CodeKey {
    /// The HKDF label of [`from_master`](Self::from_master).
    pub const LABEL: &'static str = "gatehouse identity typed-code hmac v1";

    pub fn new(secret: &[u8; 32]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    pub fn from_master(master: &MasterKey) -> Self {
        Self::new(&master.derive(Self::LABEL))
    }

    /// The stored form of a typed code as presented: HMAC-SHA256 over purpose, account and the
    /// code with whitespace removed (people type "123 456"), lower-case hex like [`TokenHash`].
    pub fn hash(&self, account: &AccountId, purpose: Purpose, presented: &str) -> TokenHash {
        let code: String = presented.chars().filter(|c| !c.is_whitespace()).collect();
        let mut ctx = hmac::Context::with_key(&self.0);
        // NUL separators: no field contains one, so the encoding is unambiguous.
        for part in [purpose.as_str(), account.as_str(), &code] {
            ctx.update(part.as_bytes());
            ctx.update(&[0]);
        }
        let tag = ctx.sign();
        TokenHash::from_stored(tag.as_ref().iter().map(|b| format!("{b:02x}")).collect())
    }
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(..)")
    }
}

/// A freshly drawn typed code: exactly six ASCII digits. `Debug` never prints it.
pub struct TypedCode(String);

impl TypedCode {
    /// The code as mailed to the citizen.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TypedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TypedCode(..)")
    }
}

/// A new link for `account` and `purpose`, live for [`CodePolicy::ttl`] from `now`. Storing it
/// with [`replace_code`](crate::OneTimeCodeStore::replace_code) voids the previous one.
pub fn issue_link(
    account: &AccountId,
    purpose: Purpose,
    policy: &CodePolicy,
    now: i64,
) -> (OpaqueToken, NewOneTimeCode) {
    let token = OpaqueToken::generate();
    let code = new_code(account, purpose, CodeKind::Link, token.hash(), policy, now);
    (token, code)
}

/// A new 6-digit code for `account` and `purpose`, live for
/// [`typed_code_secs`](CodePolicy::typed_code_secs) from `now`, stored as [`CodeKey::hash`].
pub fn issue_typed_code(
    key: &CodeKey,
    account: &AccountId,
    purpose: Purpose,
    policy: &CodePolicy,
    now: i64,
) -> (TypedCode, NewOneTimeCode) {
    let digits = six_digits(os_random_u32);
    let hash = key.hash(account, purpose, &digits);
    (TypedCode(digits), new_code(account, purpose, CodeKind::Typed, hash, policy, now))
}

fn new_code(
    account: &AccountId,
    purpose: Purpose,
    kind: CodeKind,
    code_hash: TokenHash,
    policy: &CodePolicy,
    now: i64,
) -> NewOneTimeCode {
    NewOneTimeCode {
        account_id: account.clone(),
        purpose,
        kind,
        code_hash,
        created_at: now,
        expires_at: now.saturating_add(policy.ttl(purpose, kind)),
    }
}

fn os_random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    #[expect(clippy::expect_used, reason = "the OS random source does not fail in practice")]
    rand::fill(&mut bytes).expect("system random number generator");
    u32::from_le_bytes(bytes)
}

const CODES: u32 = 1_000_000;
/// The largest multiple of 10⁶ that fits in 2³²: draws at or above it are thrown away, so
/// `draw % 10⁶` is uniform (plain `% 10⁶` would favour codes below 967,296 by 1 in 4,294).
const ACCEPT_BELOW: u32 = (u32::MAX / CODES) * CODES;

/// Six digits, leading zeros kept, uniform over 000000–999999 by rejection sampling.
fn six_digits(mut draw: impl FnMut() -> u32) -> String {
    loop {
        let x = draw();
        if x < ACCEPT_BELOW {
            return format!("{:06}", x % CODES);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn betty() -> AccountId {
        AccountId::from_stored("betty".into())
    }

    #[test]
    fn purposes_and_kinds_round_trip_through_their_names() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::PasswordReset.as_str(), "password_reset");
        assert_eq!(Purpose::parse("reset"), None);
        assert_eq!(CodeKind::parse(CodeKind::Typed.as_str()), Some(CodeKind::Typed));
        assert_eq!(CodeKind::parse(CodeKind::Link.as_str()), Some(CodeKind::Link));
    }

    #[test]
    fn default_lifetimes_follow_the_design() {
        let p = CodePolicy::default();
        assert_eq!(p.ttl(Purpose::PasswordReset, CodeKind::Link), 3600);
        assert_eq!(p.ttl(Purpose::Unlock, CodeKind::Link), 86400);
        assert_eq!(p.ttl(Purpose::VerifyEmail, CodeKind::Link), 86400);
        for purpose in Purpose::ALL {
            assert_eq!(p.ttl(purpose, CodeKind::Typed), 600);
        }
        assert_eq!(p.typed_code_max_tries, 5);
        let custom: CodePolicy = serde_json::from_str(r#"{"reset_link_secs": 900}"#).unwrap();
        assert_eq!(custom.ttl(Purpose::PasswordReset, CodeKind::Link), 900);
        assert!(serde_json::from_str::<CodePolicy>(r#"{"reset_secs": 900}"#).is_err());
    }

    #[test]
    fn a_link_is_256_bits_stored_as_its_sha256() {
        let (token, code) = issue_link(&betty(), Purpose::PasswordReset, &CodePolicy::default(), 1000);
        assert_eq!(token.expose().len(), 43);
        assert_eq!(code.code_hash, TokenHash::of(token.expose()));
        assert_eq!(
            (code.kind, code.purpose, code.account_id),
            (CodeKind::Link, Purpose::PasswordReset, betty())
        );
        assert_eq!((code.created_at, code.expires_at), (1000, 1000 + 3600));
    }

    #[test]
    fn a_typed_code_is_six_digits_stored_as_a_keyed_hash() {
        let key = CodeKey::new(&[7; 32]);
        let (typed, code) =
            issue_typed_code(&key, &betty(), Purpose::SignInCode, &CodePolicy::default(), 1000);
        let digits = typed.expose();
        assert!(digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()), "{digits}");
        assert_eq!(code.code_hash, key.hash(&betty(), Purpose::SignInCode, digits));
        assert_ne!(code.code_hash, TokenHash::of(digits), "a bare SHA-256 of 6 digits is brute-forceable");
        assert_eq!((code.kind, code.expires_at), (CodeKind::Typed, 1000 + 600));
        assert_eq!(format!("{typed:?}"), "TypedCode(..)");
    }

    #[test]
    fn the_typed_code_hash_depends_on_key_account_and_purpose() {
        let key = CodeKey::new(&[7; 32]);
        let h = key.hash(&betty(), Purpose::SignInCode, "012345");
        assert_eq!(h, key.hash(&betty(), Purpose::SignInCode, " 012 345 "));
        assert_eq!(h.as_str().len(), 64);
        assert_ne!(h, CodeKey::new(&[8; 32]).hash(&betty(), Purpose::SignInCode, "012345"));
        assert_ne!(h, key.hash(&AccountId::from_stored("barney".into()), Purpose::SignInCode, "012345"));
        assert_ne!(h, key.hash(&betty(), Purpose::VerifyEmail, "012345"));
        let master = MasterKey::generate();
        assert_eq!(
            CodeKey::from_master(&master).hash(&betty(), Purpose::Unlock, "1"),
            CodeKey::new(&master.derive(CodeKey::LABEL)).hash(&betty(), Purpose::Unlock, "1")
        );
        assert_eq!(format!("{key:?}"), "CodeKey(..)");
    }

    #[test]
    fn six_digits_keeps_leading_zeros_and_rejects_the_biased_tail() {
        let mut draws = [ACCEPT_BELOW, u32::MAX, 7].into_iter();
        assert_eq!(six_digits(|| draws.next().unwrap()), "000007");
        assert_eq!(six_digits(|| 0), "000000");
        assert_eq!(six_digits(|| ACCEPT_BELOW - 1), "999999");
        assert_eq!(ACCEPT_BELOW, 4_294_000_000);
    }

    #[test]
    fn os_codes_are_always_six_digits_and_roughly_uniform() {
        const N: usize = 20_000;
        let mut per_position = [[0usize; 10]; 6];
        for _ in 0..N {
            let code = six_digits(os_random_u32);
            assert_eq!(code.len(), 6, "{code}");
            for (pos, b) in code.bytes().enumerate() {
                assert!(b.is_ascii_digit(), "{code}");
                per_position[pos][usize::from(b - b'0')] += 1;
            }
        }
        // Each digit is expected N/10 = 2000 times per position (σ ≈ 42); 1700..2300 is > 7σ.
        for (pos, counts) in per_position.iter().enumerate() {
            for (digit, &n) in counts.iter().enumerate() {
                assert!((1700..2300).contains(&n), "digit {digit} at {pos}: {n}");
            }
        }
    }
}
