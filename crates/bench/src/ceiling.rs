//! The ceilings an endpoint is compared with, measured in one thread on this machine in the same
//! run: JWT signing with a key pair parsed once (what the token endpoint does per token), and an
//! argon2id verification at the server's parameters on a one-thread [`identity::HashPool`].
//!
//! Rates are per second of this process's CPU time, not of wall time, so a core shared with
//! other work lowers neither the ceiling nor the server's requests per CPU-second it is
//! compared with.

use std::time::{Duration, Instant};

use crate::server::cpu_seconds_of;

use identity::{Argon2Params, HashPool};
use tokens::{ACCESS_TOKEN_TYP, AccessTokenClaims, Algorithm, Audience, SigningKey};

/// Operations per CPU-second in one thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ceilings {
    pub es256_per_sec: f64,
    pub rs256_per_sec: f64,
    pub argon2_per_sec: f64,
}

impl Ceilings {
    /// Signing cost of one response that signs `es256` ES256 and `rs256` RS256 JWTs, as a rate.
    pub fn signing(&self, es256: u32, rs256: u32) -> f64 {
        let secs =
            f64::from(es256) / self.es256_per_sec.max(1e-9) + f64::from(rs256) / self.rs256_per_sec.max(1e-9);
        1.0 / secs.max(1e-12)
    }

    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "es256_signatures_per_sec": self.es256_per_sec,
            "rs256_signatures_per_sec": self.rs256_per_sec,
            "argon2id_verifications_per_sec": self.argon2_per_sec,
        })
    }
}

/// Measures each ceiling for about `each` (argon2 at least 10 verifications).
pub async fn measure(params: Argon2Params, each: Duration) -> Result<Ceilings, String> {
    Ok(Ceilings {
        es256_per_sec: signatures_per_sec(Algorithm::Es256, each)?,
        rs256_per_sec: signatures_per_sec(Algorithm::Rs256, each)?,
        argon2_per_sec: verifications_per_sec(params, each).await?,
    })
}

/// Access-token claims of the size the token endpoint signs.
pub fn sample_claims(now: i64) -> AccessTokenClaims {
    AccessTokenClaims {
        iss: "http://127.0.0.1:8080".into(),
        sub: "3b241101-e2bb-4255-8caf-4136c566a962".into(),
        aud: Audience::from("https://permits.example/api"),
        exp: now + 600,
        iat: now,
        jti: "Yq0lQ9mM3QAbhXZ5kSxwYB9Xs6Vq3bq0Yv0Jw3mZC1E".into(),
        client_id: "f1b3c6a0-9d2e-4c7a-8e5f-0a1b2c3d4e5f".into(),
        scope: "openid email profile".into(),
        auth_time: Some(now),
        gid: "0c8d7e2f-5a4b-4c3d-9e8f-7a6b5c4d3e2f".into(),
    }
}

/// Compact JWS signings per second with one key pair, parsed once, in this thread.
pub fn signatures_per_sec(alg: Algorithm, each: Duration) -> Result<f64, String> {
    let key = SigningKey::generate(alg, 1_700_000_000).map_err(|e| format!("{alg} key: {e}"))?;
    let claims = sample_claims(1_700_000_000);
    let sign = || key.sign_jwt(ACCESS_TOKEN_TYP, &claims).map_err(|e| format!("{alg} signing: {e}"));
    for _ in 0..10 {
        sign()?;
    }
    let (started, cpu) = (Instant::now(), own_cpu()?);
    let mut n = 0u64;
    while started.elapsed() < each {
        for _ in 0..10 {
            sign()?;
        }
        n += 10;
    }
    per_cpu_sec(n, cpu)
}

/// argon2id verifications per second on a one-thread pool, one at a time.
pub async fn verifications_per_sec(params: Argon2Params, each: Duration) -> Result<f64, String> {
    let pool = HashPool::new(params, 1).map_err(|e| format!("hash pool: {e}"))?;
    let password = "Correct-Horse-42".to_owned();
    let phc = pool.hash(password.clone()).await.map_err(|e| format!("argon2 hash: {e}"))?;
    let (started, cpu) = (Instant::now(), own_cpu()?);
    let mut n = 0u64;
    while n < 10 || started.elapsed() < each {
        if !pool.verify(password.clone(), Some(phc.clone())).await {
            return Err("argon2 verification of the right password failed".into());
        }
        n += 1;
    }
    per_cpu_sec(n, cpu)
}

fn own_cpu() -> Result<f64, String> {
    cpu_seconds_of("/proc/self/stat")
}

/// `n` operations over the CPU time used since `cpu_before` (10 ms ticks: runs last seconds).
fn per_cpu_sec(n: u64, cpu_before: f64) -> Result<f64, String> {
    let used = own_cpu()? - cpu_before;
    if used <= 0.0 {
        return Err("no CPU time measured".into());
    }
    Ok(n as f64 / used)
}
