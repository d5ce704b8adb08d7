//! One hash-pool thread's argon2id engine: the pool's parameters and a memory buffer it reuses.
//!
//! argon2 needs `m_cost` KiB of working memory per computation (19 MiB at OWASP's parameters).
//! Allocating it per call looks free but is not: glibc serves the first such block with mmap,
//! then raises its mmap threshold to the freed size and keeps every later block in its arenas,
//! so 100 concurrent sign-ins left ~800 MB resident (docs/performance.md). Each worker thread
//! therefore owns one buffer, sized at its first computation to the pool's parameters and kept:
//! memory stays at threads × `m_cost` however many sign-ins arrive, and no call allocates.
//!
//! Verification follows the PHC string's own algorithm, version and parameters (hashes made
//! under older settings keep verifying); a hash that needs more memory than the pool's own
//! parameters gets a buffer of its own for that one call.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// The salt of the stand-in computation made when there is no hash to check (any fixed value:
/// the result is thrown away).
const STAND_IN_SALT: &[u8; 16] = b"gatehouse:nobody";

/// The argon2id engine of one worker thread.
pub(crate) struct Hasher {
    /// New hashes are made with these (argon2id, version 0x13, the pool's parameters).
    argon2: Argon2<'static>,
    /// Working memory, reused; empty until the first computation.
    memory: Vec<Block>,
}

impl Hasher {
    pub(crate) fn new(argon2: Argon2<'static>) -> Self {
        Self { argon2, memory: Vec::new() }
    }

    /// Hashes `password` with a fresh random salt; returns the PHC string (`$argon2id$v=19$…`).
    pub(crate) fn hash(&mut self, password: &[u8]) -> Result<String, argon2::password_hash::Error> {
        let salt = Salt::new(&argon2::password_hash::generate_salt())?;
        let argon2 = self.argon2.clone();
        let output = self.compute(&argon2, password, &salt, Params::DEFAULT_OUTPUT_LEN)?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon2.params())?,
            salt: Some(salt),
            hash: Some(output),
        };
        Ok(hash.to_string())
    }

    /// Whether `password` matches the PHC string `phc`. Anything that is not a well-formed
    /// argon2 hash answers `false` after the same work as a real check ([`Hasher::stand_in`]),
    /// so the time taken does not tell a missing or broken hash from a wrong password.
    pub(crate) fn verify(&mut self, password: &[u8], phc: &str) -> bool {
        let Some((argon2, salt, expected)) = parse(phc) else {
            self.stand_in(password);
            return false;
        };
        match self.compute(&argon2, password, &salt, expected.len()) {
            // `Output`'s equality is constant-time.
            Ok(computed) => computed == expected,
            Err(_) => false,
        }
    }

    /// The work of one verification at the pool's parameters, its result thrown away: what a
    /// sign-in for an unknown account, or an account without a password, costs.
    pub(crate) fn stand_in(&mut self, password: &[u8]) {
        let argon2 = self.argon2.clone();
        let _ = self.compute(&argon2, password, STAND_IN_SALT, Params::DEFAULT_OUTPUT_LEN);
    }

    fn compute(
        &mut self,
        argon2: &Argon2<'_>,
        password: &[u8],
        salt: &[u8],
        output_len: usize,
    ) -> Result<Output, argon2::password_hash::Error> {
        let needed = argon2.params().block_count();
        let own = self.argon2.params().block_count();
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = out.get_mut(..output_len).ok_or(argon2::password_hash::Error::OutputSize)?;
        if needed <= own {
            if self.memory.len() < own {
                self.memory.resize(own, Block::default());
            }
            argon2.hash_password_into_with_memory(password, salt, out, &mut self.memory[..])?;
        } else {
            // Made under larger parameters than the pool's: a one-off buffer, freed at once.
            argon2.hash_password_into(password, salt, out)?;
        }
        Ok(Output::new(out)?)
    }

    /// The working memory held (a test hook: it must stay at the pool's size).
    #[cfg(test)]
    pub(crate) fn memory_blocks(&self) -> usize {
        self.memory.len()
    }
}

/// The engine, salt and expected output a PHC string describes, if it is a complete argon2 hash.
fn parse(phc: &str) -> Option<(Argon2<'static>, Salt, Output)> {
    let hash = PasswordHash::new(phc).ok()?;
    let algorithm = Algorithm::try_from(hash.algorithm.as_str()).ok()?;
    let version = match hash.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&hash).ok()?;
    let (salt, expected) = (hash.salt?, hash.hash?);
    Some((Argon2::new(algorithm, version, params), salt, expected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    fn cheap() -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(64, 1, 1, None).unwrap())
    }

    #[test]
    fn its_hashes_verify_with_the_library_and_the_library_s_with_it() {
        let mut hasher = Hasher::new(cheap());
        let ours = hasher.hash(b"Correct horse 1").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(cheap().verify_password(b"Correct horse 1", &parsed).is_ok());
        assert!(cheap().verify_password(b"correct horse 1", &parsed).is_err());

        let theirs = cheap().hash_password(b"Tr0ub4dor&3").unwrap().to_string();
        assert!(hasher.verify(b"Tr0ub4dor&3", &theirs));
        assert!(!hasher.verify(b"Tr0ub4dor&4", &theirs));
    }

    #[test]
    fn hashes_made_under_other_parameters_and_versions_still_verify() {
        let mut hasher = Hasher::new(cheap());
        let cases = [
            (Algorithm::Argon2id, Version::V0x13, Params::new(32, 3, 2, Some(48)).unwrap()),
            (Algorithm::Argon2i, Version::V0x10, Params::new(128, 1, 1, None).unwrap()),
            (Algorithm::Argon2d, Version::V0x13, Params::new(256, 2, 1, Some(16)).unwrap()),
        ];
        for (algorithm, version, params) in cases {
            let other = Argon2::new(algorithm, version, params);
            let phc = other.hash_password(b"pw").unwrap().to_string();
            assert!(hasher.verify(b"pw", &phc), "{phc}");
            assert!(!hasher.verify(b"pW", &phc), "{phc}");
        }
        // The 128 and 256 KiB hashes needed more than the pool's 64: its buffer did not grow.
        assert_eq!(hasher.memory_blocks(), 64);
    }

    #[test]
    fn the_buffer_is_made_once_at_the_pool_s_size() {
        let mut hasher = Hasher::new(cheap());
        assert_eq!(hasher.memory_blocks(), 0, "nothing is held before the first use");
        let phc = hasher.hash(b"pw").unwrap();
        assert_eq!(hasher.memory_blocks(), 64);
        let smaller = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(16, 1, 1, None).unwrap());
        let small_phc = smaller.hash_password(b"pw").unwrap().to_string();
        for _ in 0..3 {
            assert!(hasher.verify(b"pw", &phc));
            assert!(hasher.verify(b"pw", &small_phc));
        }
        assert_eq!(hasher.memory_blocks(), 64);
    }

    #[test]
    fn broken_or_foreign_hashes_answer_false() {
        let mut hasher = Hasher::new(cheap());
        let good = hasher.hash(b"pw").unwrap();
        let without_output = good.rsplit_once('$').unwrap().0.to_owned();
        let tampered = {
            let (head, output) = good.rsplit_once('$').unwrap();
            let flipped = if output.starts_with('A') { "B" } else { "A" };
            format!("{head}${flipped}{}", &output[1..])
        };
        for phc in [
            "",
            "garbage",
            without_output.as_str(),
            tampered.as_str(),
            "$argon2id$v=19$m=64,t=1,p=1$",
            "$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$2b$12$abcdefghijk",
            "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert!(!hasher.verify(b"pw", phc), "{phc}");
        }
        assert!(hasher.verify(b"pw", &good), "the hasher still works afterwards");
    }
}
